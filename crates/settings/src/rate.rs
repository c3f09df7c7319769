//! DRF throttle rates: `"5/min"`, `"100/day"`, `"1000/h"` (requests per period).

use std::fmt;
use std::time::Duration;

/// A number of requests allowed per period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub num_requests: u32,
    pub period: Duration,
}

impl Rate {
    /// DRF's `parse_rate`: `NUM/PERIOD` where only the period's first letter counts
    /// (`s`, `m`, `h`, `d`: "5/min", "5/minute" and "5/m" are the same). The error is a reason.
    pub fn parse(text: &str) -> Result<Rate, String> {
        let bad = || {
            format!(
                "{text:?} is not a rate: write requests/period, e.g. \"5/min\", \"100/hour\", \"1000/day\""
            )
        };
        let (num, period) = text.trim().split_once('/').ok_or_else(bad)?;
        let num_requests: u32 = num.trim().parse().map_err(|_| bad())?;
        let secs = match period.trim().chars().next() {
            Some('s') => 1,
            Some('m') => 60,
            Some('h') => 3600,
            Some('d') => 86_400,
            _ => return Err(bad()),
        };
        Ok(Rate {
            num_requests,
            period: Duration::from_secs(secs),
        })
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = match self.period.as_secs() {
            1 => "sec",
            60 => "min",
            3600 => "hour",
            _ => "day",
        };
        write!(f, "{}/{unit}", self.num_requests)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drf_rates() {
        let r = |n, s| {
            Ok(Rate {
                num_requests: n,
                period: Duration::from_secs(s),
            })
        };
        assert_eq!(Rate::parse("5/min"), r(5, 60));
        assert_eq!(Rate::parse("5/minute"), r(5, 60));
        assert_eq!(Rate::parse("100/day"), r(100, 86_400));
        assert_eq!(Rate::parse("3/s"), r(3, 1));
        assert_eq!(Rate::parse("1000/hour"), r(1000, 3600));
        for bad in ["5", "five/min", "5/week", "5/", "/min", "-1/min"] {
            assert!(Rate::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            Rate::parse("5/m").map(|r| r.to_string()),
            Ok("5/min".into())
        );
    }
}
