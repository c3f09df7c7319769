//! Human-readable durations: seconds as a number (`300`, `1.5`) or humantime text (`"5m"`, `"1d"`).

use std::time::Duration;

const FORMS: &str =
    "use seconds as a number (300, 1.5) or text like \"30s\", \"5m\", \"1h 30m\", \"1d\"";

/// A duration from a TOML number or string; the error is a reason to show after the key.
pub(crate) fn from_value(value: &toml::Value) -> Result<Duration, String> {
    match value {
        toml::Value::Integer(secs) => u64::try_from(*secs)
            .map(Duration::from_secs)
            .map_err(|_| format!("must not be negative, got {secs}")),
        toml::Value::Float(secs) => from_seconds(*secs),
        toml::Value::String(text) => parse(text),
        _ => Err(format!("not a duration: {FORMS}")),
    }
}

/// `"300"`, `"1.5"`, `"5m"`, `"1h 30m"`, `"1d"`.
pub(crate) fn parse(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    // A bare number in a string counts as seconds, as it would unquoted.
    if let Ok(secs) = text.parse::<f64>() {
        return from_seconds(secs);
    }
    humantime::parse_duration(text)
        .map_err(|e| format!("{text:?} is not a duration ({e}): {FORMS}"))
}

fn from_seconds(secs: f64) -> Result<Duration, String> {
    if secs < 0.0 {
        return Err(format!("must not be negative, got {secs}"));
    }
    Duration::try_from_secs_f64(secs)
        .map_err(|_| format!("{secs} is not a usable number of seconds"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_forms() {
        assert_eq!(parse("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse("1d"), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse("1h 30m"), Ok(Duration::from_secs(5_400)));
        assert_eq!(parse("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse(" 300 "), Ok(Duration::from_secs(300)));
        assert_eq!(parse("1.5"), Ok(Duration::from_millis(1_500)));
        assert_eq!(parse("0"), Ok(Duration::ZERO));
    }

    #[test]
    fn numbers_are_seconds() {
        assert_eq!(
            from_value(&toml::Value::Integer(300)),
            Ok(Duration::from_secs(300))
        );
        assert_eq!(
            from_value(&toml::Value::Float(1.5)),
            Ok(Duration::from_millis(1_500))
        );
    }

    #[test]
    fn bad_durations() {
        assert!(parse("five minutes").unwrap_err().contains("\"5m\""));
        assert!(parse("").is_err());
        assert!(parse("5 parsecs").is_err());
        assert!(parse("-5").unwrap_err().contains("negative"));
        assert!(from_value(&toml::Value::Integer(-1))
            .unwrap_err()
            .contains("negative"));
        assert!(from_value(&toml::Value::Float(f64::NAN)).is_err());
        assert!(from_value(&toml::Value::Float(f64::INFINITY)).is_err());
        assert!(from_value(&toml::Value::Boolean(true)).is_err());
    }
}
