//! Value types of `[SERVER]` that are more than numbers: trusted proxy networks, log destinations.

use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;

/// One `TRUSTED_PROXIES` entry: an address, a network in CIDR form, or `*` (any peer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrustedProxy {
    /// `*`: every peer is trusted (only right when nothing but the proxy can reach the server);
    /// only the right-most X-Forwarded-For hop is then believed (see `server::proxy`).
    Any,
    /// `10.0.0.0/8`, `::1` (a bare address is a /32 or /128 network).
    Net { addr: IpAddr, prefix: u8 },
}

impl TrustedProxy {
    /// Parses `*`, `ADDR` or `ADDR/PREFIX` (IPv4 or IPv6); the error is a reason to show.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text == "*" {
            return Ok(TrustedProxy::Any);
        }
        let (addr_text, prefix_text) = match text.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (text, None),
        };
        let addr: IpAddr = addr_text.parse().map_err(|_| {
            format!("{text:?} is not an IP address or network, e.g. \"127.0.0.1\", \"10.0.0.0/8\", \"::1\" or \"*\"")
        })?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix_text {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{text:?} has an invalid prefix length (0 to {max})"))?,
        };
        // An IPv4-mapped IPv6 network (`::ffff:10.0.0.0/104`) is the IPv4 network it names.
        Ok(match addr {
            IpAddr::V6(v6) if prefix >= 96 => match v6.to_ipv4_mapped() {
                Some(v4) => TrustedProxy::Net {
                    addr: IpAddr::V4(v4),
                    prefix: prefix - 96,
                },
                None => TrustedProxy::Net { addr, prefix },
            },
            _ => TrustedProxy::Net { addr, prefix },
        })
    }

    /// Whether `peer` is in this network. IPv4-mapped IPv6 peers (a dual-stack socket's view of
    /// an IPv4 client) match IPv4 networks.
    pub fn contains(&self, peer: IpAddr) -> bool {
        let TrustedProxy::Net { addr, prefix } = *self else {
            return true;
        };
        match (addr, peer.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl fmt::Display for TrustedProxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrustedProxy::Any => f.write_str("*"),
            TrustedProxy::Net { addr, prefix } => write!(f, "{addr}/{prefix}"),
        }
    }
}

/// gunicorn's default `forwarded_allow_ips`: only a proxy on the same machine is trusted.
pub(crate) fn default_trusted_proxies() -> Vec<TrustedProxy> {
    vec![
        TrustedProxy::Net {
            addr: IpAddr::from([127, 0, 0, 1]),
            prefix: 32,
        },
        TrustedProxy::Net {
            addr: IpAddr::from([0u16, 0, 0, 0, 0, 0, 0, 1]),
            prefix: 128,
        },
    ]
}

/// Where a log goes: `ACCESS_LOG` / `ERROR_LOG` (gunicorn's `--access-logfile` / `--error-logfile`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogDestination {
    /// `""`: not written at all.
    Off,
    /// `"-"`: standard output for the access log, standard error for the error log.
    Std,
    /// A file path, appended to (opened by every worker process, one write per line).
    File(PathBuf),
}

impl LogDestination {
    /// `""` is off, `"-"` is the standard stream, anything else a path.
    pub fn parse(text: &str) -> Self {
        match text.trim() {
            "" => LogDestination::Off,
            "-" => LogDestination::Std,
            path => LogDestination::File(PathBuf::from(path)),
        }
    }
}

impl fmt::Display for LogDestination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LogDestination::Off => f.write_str("off"),
            LogDestination::Std => f.write_str("-"),
            LogDestination::File(path) => write!(f, "{}", path.display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn networks_contain_their_addresses() {
        let net = TrustedProxy::parse("10.0.0.0/8").unwrap();
        assert!(net.contains(ip("10.1.2.3")));
        assert!(!net.contains(ip("11.0.0.1")));
        assert!(net.contains(ip("::ffff:10.9.9.9")), "IPv4-mapped peer");
        let one = TrustedProxy::parse("127.0.0.1").unwrap();
        assert!(one.contains(ip("127.0.0.1")));
        assert!(!one.contains(ip("127.0.0.2")));
        let v6 = TrustedProxy::parse("fd00::/8").unwrap();
        assert!(v6.contains(ip("fd12:3456::1")));
        assert!(!v6.contains(ip("fe80::1")));
        assert!(!v6.contains(ip("10.0.0.1")));
        let all = TrustedProxy::parse("0.0.0.0/0").unwrap();
        assert!(all.contains(ip("203.0.113.9")));
        assert!(TrustedProxy::parse("*")
            .unwrap()
            .contains(ip("2001:db8::1")));
        let mapped = TrustedProxy::parse("::ffff:192.168.0.0/112").unwrap();
        assert_eq!(mapped.to_string(), "192.168.0.0/16");
    }

    #[test]
    fn bad_networks() {
        for bad in [
            "",
            "localhost",
            "10.0.0.0/33",
            "::1/129",
            "10.0.0.0/x",
            "1.2.3",
        ] {
            assert!(TrustedProxy::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn log_destinations() {
        assert_eq!(LogDestination::parse(""), LogDestination::Off);
        assert_eq!(LogDestination::parse("-"), LogDestination::Std);
        assert_eq!(
            LogDestination::parse("/var/log/app.log"),
            LogDestination::File("/var/log/app.log".into())
        );
    }
}
