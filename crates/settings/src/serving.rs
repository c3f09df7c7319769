//! Value types of `[SERVER]` that are more than numbers: trusted proxy networks, log destinations.

use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;

use ipnet::{IpNet, Ipv4Net};
use serde::{Deserialize, Deserializer};

/// One `TRUSTED_PROXIES` entry: an address, a network in CIDR form, or `*` (any peer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrustedProxy {
    /// `*`: every peer is trusted (only right when nothing but the proxy can reach the server);
    /// only the right-most X-Forwarded-For hop is then believed (see `server::proxy`).
    Any,
    /// `10.0.0.0/8`, `::1` (a bare address is a /32 or /128 network). The address is kept as
    /// written (`10.1.2.3/8` stays so, as ipnet does); `contains` masks it.
    Net(IpNet),
}

impl TrustedProxy {
    /// Parses `*`, `ADDR` or `ADDR/PREFIX` (IPv4 or IPv6); the error is a reason to show.
    ///
    /// The address and prefix are read here rather than by `IpNet`'s `FromStr`, whose parser is
    /// an older copy of std's: it accepts what std refuses (`010.0.0.1`) and refuses what this
    /// has always accepted (`10.0.0.0/008`), and its one error cannot say which part is wrong.
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
        let net = match prefix_text {
            None => IpNet::from(addr),
            Some(p) => p
                .parse::<u8>()
                .ok()
                .and_then(|p| IpNet::new(addr, p).ok())
                .ok_or_else(|| {
                    let max = IpNet::from(addr).max_prefix_len();
                    format!("{text:?} has an invalid prefix length (0 to {max})")
                })?,
        };
        // An IPv4-mapped IPv6 network (`::ffff:10.0.0.0/104`) is the IPv4 network it names.
        let net = match net {
            IpNet::V6(v6) if v6.prefix_len() >= 96 => match v6.addr().to_ipv4_mapped() {
                Some(v4) => Ipv4Net::new(v4, v6.prefix_len() - 96).map_or(net, IpNet::V4),
                None => net,
            },
            _ => net,
        };
        Ok(TrustedProxy::Net(net))
    }

    /// Whether `peer` is in this network. IPv4-mapped IPv6 peers (a dual-stack socket's view of
    /// an IPv4 client) match IPv4 networks.
    pub fn contains(&self, peer: IpAddr) -> bool {
        match self {
            TrustedProxy::Any => true,
            TrustedProxy::Net(net) => net.contains(&peer.to_canonical()),
        }
    }
}

impl fmt::Display for TrustedProxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrustedProxy::Any => f.write_str("*"),
            // `ADDR/PREFIX`, the address as written.
            TrustedProxy::Net(net) => fmt::Display::fmt(net, f),
        }
    }
}

/// gunicorn's default `forwarded_allow_ips`: only a proxy on the same machine is trusted.
pub(crate) fn default_trusted_proxies() -> Vec<TrustedProxy> {
    [
        IpAddr::from([127, 0, 0, 1]),
        IpAddr::from([0u16, 0, 0, 0, 0, 0, 0, 1]),
    ]
    .into_iter()
    .map(|addr| TrustedProxy::Net(IpNet::from(addr)))
    .collect()
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

impl<'de> Deserialize<'de> for LogDestination {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(|text| LogDestination::parse(&text))
    }
}

/// A list of addresses or networks; a string may also hold several separated by commas, as
/// gunicorn's FORWARDED_ALLOW_IPS does (`SERVER__TRUSTED_PROXIES=10.0.0.1,10.0.0.2`).
pub(crate) fn trusted_proxies<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Vec<TrustedProxy>, D::Error> {
    Vec::<String>::deserialize(d)?
        .iter()
        .flat_map(|item| item.split(','))
        .filter(|item| !item.trim().is_empty())
        .map(|item| TrustedProxy::parse(item).map_err(serde::de::Error::custom))
        .collect()
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
        assert!(mapped.contains(ip("192.168.7.7")));
        let host_bits = TrustedProxy::parse("10.1.2.3/8").unwrap();
        assert_eq!(host_bits.to_string(), "10.1.2.3/8", "shown as written");
        assert!(host_bits.contains(ip("10.200.0.1")));
        assert!(TrustedProxy::parse("::/0").unwrap().contains(ip("::1")));
        assert!(!TrustedProxy::parse("::/0")
            .unwrap()
            .contains(ip("10.0.0.1")));
        // std's reading of the prefix (leading zeros), not ipnet's FromStr (at most 2 digits).
        assert_eq!(
            TrustedProxy::parse("10.0.0.0/008").unwrap(),
            TrustedProxy::parse("10.0.0.0/8").unwrap()
        );
    }

    #[test]
    fn bad_networks() {
        for bad in [
            "",
            "localhost",
            "10.0.0.0/33",
            "::1/129",
            "10.0.0.0/x",
            "10.0.0.0/-1",
            "1.2.3",
            // std refuses octal-looking octets (ipnet's own parser would take it as 10.0.0.1).
            "010.0.0.1",
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
