//! The client behind a reverse proxy: address and scheme from `X-Forwarded-For` /
//! `X-Forwarded-Proto`, believed only when the connecting peer is a trusted proxy.
//!
//! Like gunicorn's `forwarded_allow_ips` with Django's `SECURE_PROXY_SSL_HEADER`. Downstream code
//! sees the verdict either way: from an untrusted peer the forwarding headers are removed; from a
//! trusted one they are replaced by the resolved client address and scheme alone. So actix's
//! `ConnectionInfo::realip_remote_addr()` and `scheme()` give the real client to any handler
//! without knowing about proxies, and cannot be spoofed; the throttles get it as
//! `auth::api::request::ClientAddr`.

use std::borrow::Cow;
use std::fmt;
use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::rc::Rc;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::HttpMessage;

use settings::TrustedProxy;

// Header names as constants: `HeaderName::from_static` (or a `&str` name) at run time validates
// and classifies the name on every request.
const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
/// Always removed: the RFC 7239 form, which this server does not read (and which actix's
/// `ConnectionInfo` would prefer over X-Forwarded-For).
const FORWARDED: HeaderName = HeaderName::from_static("forwarded");
const X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");

/// Who made the request, as far as the trusted proxies say; in every request's extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientInfo {
    /// The client's address; `None` for a unix-socket peer that forwarded no address.
    pub addr: Option<IpAddr>,
    /// `https` when a trusted proxy says the client used TLS, else `http`.
    pub scheme: Scheme,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Http,
    Https,
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        })
    }
}

impl ClientInfo {
    /// The address as the access log shows it (`-` when unknown).
    pub fn addr_text(&self) -> String {
        self.addr.map_or_else(|| "-".to_owned(), |a| a.to_string())
    }
}

/// Whether the connecting peer may speak for the client. A unix-socket peer (`None`) is local
/// and only reachable through the socket file's permissions, so it is trusted, as in gunicorn.
pub fn peer_is_trusted(peer: Option<IpAddr>, trusted: &[TrustedProxy]) -> bool {
    peer.is_none_or(|ip| trusted.iter().any(|t| t.contains(ip)))
}

/// Whether `hop`, an address in X-Forwarded-For, is one of our proxies, so that the hop left of
/// it (the address it saw) is believed too. Only a named network says so: an entry that matches
/// every address (`*`, `0.0.0.0/0`, `::/0`) trusts whoever connects, but cannot tell a proxy's
/// hop from one the client wrote; with it the walk stops at the right-most hop, the one the
/// nearest proxy appended. Otherwise `*` would make the left-most hop, which the client writes
/// itself, the client address of the lockouts and throttles.
fn vouches_for(hop: IpAddr, trusted: &[TrustedProxy]) -> bool {
    trusted
        .iter()
        .any(|t| !matches_everything(t) && t.contains(hop))
}

/// `*`, `0.0.0.0/0` or `::/0`.
pub fn matches_everything(proxy: &TrustedProxy) -> bool {
    match *proxy {
        TrustedProxy::Any => true,
        TrustedProxy::Net(net) => net.prefix_len() == 0,
    }
}

/// The client, given the peer and the (comma-joined) forwarding headers.
///
/// The address is the rightmost `X-Forwarded-For` hop that is not itself a trusted proxy: each
/// proxy appends the address it saw, so everything left of that hop was written by the client
/// and may be forged. When every hop is trusted, the leftmost is the client. A hop that is not
/// an address stops the walk (nothing left of it can be believed). A hop counts as a trusted
/// proxy only by a named network ([`vouches_for`]): with `*` the right-most hop is the client.
pub fn resolve(
    peer: Option<IpAddr>,
    forwarded_for: Option<&str>,
    forwarded_proto: Option<&str>,
    trusted: &[TrustedProxy],
) -> ClientInfo {
    let peer = peer.map(|ip| ip.to_canonical());
    if !peer_is_trusted(peer, trusted) {
        return ClientInfo {
            addr: peer,
            scheme: Scheme::Http,
        };
    }
    let mut addr = peer;
    if let Some(chain) = forwarded_for {
        for hop in chain.rsplit(',') {
            let Some(ip) = parse_hop(hop) else { break };
            addr = Some(ip);
            if !vouches_for(ip, trusted) {
                break;
            }
        }
    }
    // The nearest proxy's value is the one it set itself (nginx overwrites it with `$scheme`).
    let scheme = match forwarded_proto
        .and_then(|p| p.rsplit(',').next())
        .map(str::trim)
    {
        Some(p) if p.eq_ignore_ascii_case("https") => Scheme::Https,
        _ => Scheme::Http,
    };
    ClientInfo { addr, scheme }
}

/// One X-Forwarded-For entry: `1.2.3.4`, `2001:db8::1`, `[2001:db8::1]:443`, `1.2.3.4:5678`,
/// optionally quoted.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim().trim_matches('"');
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    hop.parse::<SocketAddr>()
        .ok()
        .map(|a| a.ip().to_canonical())
}

/// All values of a header joined as one list (a proxy may add a second header line); borrowed
/// when there is one.
fn joined<'a>(headers: &'a HeaderMap, name: &HeaderName) -> Option<Cow<'a, str>> {
    let mut values = headers.get_all(name).filter_map(|v| v.to_str().ok());
    let first = values.next()?;
    let Some(second) = values.next() else {
        return Some(Cow::Borrowed(first));
    };
    let mut list = [first, second].join(",");
    for value in values {
        list.push(',');
        list.push_str(value);
    }
    Some(Cow::Owned(list))
}

/// Resolves the client of `req` and leaves only the verdict in the forwarding headers (see the
/// module documentation); puts the address the throttles count by in the request's extensions.
///
/// Headers are only touched when there is something to change: a request that came without
/// forwarding headers (the direct case) costs no header edit, and actix's `ConnectionInfo` then
/// falls back to the peer, which is the resolved client (an IPv4-mapped peer is the exception: it
/// is written as the canonical IPv4 address, as before).
pub fn apply(req: &mut ServiceRequest, trusted: &[TrustedProxy]) -> ClientInfo {
    let raw_peer = req.peer_addr().map(|a| a.ip());
    let trusted_peer = peer_is_trusted(raw_peer, trusted);
    let headers = req.headers();
    let has_forwarded_for = headers.contains_key(X_FORWARDED_FOR);
    let has_forwarded_proto = headers.contains_key(X_FORWARDED_PROTO);
    let info = if trusted_peer && (has_forwarded_for || has_forwarded_proto) {
        resolve(
            raw_peer,
            joined(headers, &X_FORWARDED_FOR).as_deref(),
            joined(headers, &X_FORWARDED_PROTO).as_deref(),
            trusted,
        )
    } else {
        resolve(raw_peer, None, None, trusted)
    };
    let headers = req.headers_mut();
    headers.remove(FORWARDED);
    if trusted_peer {
        // `insert` replaces every value the client or a proxy sent.
        match info.addr {
            Some(addr) if has_forwarded_for || Some(addr) != raw_peer => {
                let mut text = String::with_capacity(40);
                push_addr(&mut text, Some(addr));
                if let Ok(value) = HeaderValue::from_str(&text) {
                    headers.insert(X_FORWARDED_FOR, value);
                }
            }
            None if has_forwarded_for => {
                headers.remove(X_FORWARDED_FOR);
            }
            _ => {}
        }
        if has_forwarded_proto {
            let scheme = HeaderValue::from_static(match info.scheme {
                Scheme::Http => "http",
                Scheme::Https => "https",
            });
            headers.insert(X_FORWARDED_PROTO, scheme);
        }
    } else {
        headers.remove(X_FORWARDED_FOR);
        headers.remove(X_FORWARDED_PROTO);
        headers.remove(X_FORWARDED_HOST);
    }
    if let Some(addr) = info.addr {
        // The address DRF-style throttles count requests by (`auth::api::request::client_address`).
        req.extensions_mut()
            .insert(auth::api::request::ClientAddr(addr));
    }
    info
}

/// Middleware of [`apply`] alone (the app runs it inside `crate::middleware::stack`).
pub async fn middleware(
    trusted: Rc<[TrustedProxy]>,
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let info = apply(&mut req, &trusted);
    req.extensions_mut().insert(info);
    next.call(req).await
}

/// The client address as gunicorn prints it (`-` when unknown); IPv4 by hand, its `Display`
/// being the costlier part of the line.
pub(crate) fn push_addr(out: &mut String, addr: Option<IpAddr>) {
    match addr {
        None => out.push('-'),
        Some(IpAddr::V4(v4)) => {
            for (i, octet) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    out.push('.');
                }
                if octet >= 100 {
                    out.push(char::from(b'0' + octet / 100));
                }
                if octet >= 10 {
                    out.push(char::from(b'0' + octet / 10 % 10));
                }
                out.push(char::from(b'0' + octet % 10));
            }
        }
        Some(ip @ IpAddr::V6(_)) => {
            let _ = write!(out, "{ip}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_as_display_prints_them() {
        for text in [
            "0.0.0.0",
            "9.10.99.100",
            "255.255.255.255",
            "203.0.113.7",
            "2001:db8::1",
        ] {
            let mut out = String::new();
            push_addr(&mut out, Some(text.parse().unwrap()));
            assert_eq!(out, text);
        }
        let mut out = String::new();
        push_addr(&mut out, None);
        assert_eq!(out, "-");
    }

    fn nets(list: &[&str]) -> Vec<TrustedProxy> {
        list.iter()
            .map(|t| TrustedProxy::parse(t).unwrap())
            .collect()
    }

    fn ip(text: &str) -> Option<IpAddr> {
        Some(text.parse().unwrap())
    }

    fn client(peer: &str, xff: Option<&str>, trusted: &[&str]) -> Option<IpAddr> {
        resolve(ip(peer), xff, None, &nets(trusted)).addr
    }

    #[test]
    fn untrusted_peers_cannot_claim_an_address_or_https() {
        let info = resolve(
            ip("203.0.113.5"),
            Some("1.1.1.1"),
            Some("https"),
            &nets(&["127.0.0.1"]),
        );
        assert_eq!(
            info,
            ClientInfo {
                addr: ip("203.0.113.5"),
                scheme: Scheme::Http
            }
        );
    }

    #[test]
    fn a_trusted_proxy_names_the_client() {
        let info = resolve(
            ip("127.0.0.1"),
            Some("198.51.100.7"),
            Some("https"),
            &nets(&["127.0.0.1"]),
        );
        assert_eq!(
            info,
            ClientInfo {
                addr: ip("198.51.100.7"),
                scheme: Scheme::Https
            }
        );
        assert_eq!(client("127.0.0.1", None, &["127.0.0.1"]), ip("127.0.0.1"));
    }

    #[test]
    fn spoofed_hops_left_of_the_first_untrusted_are_ignored() {
        // The client sent "X-Forwarded-For: 6.6.6.6"; nginx appended what it saw.
        assert_eq!(
            client("127.0.0.1", Some("6.6.6.6, 198.51.100.7"), &["127.0.0.1"]),
            ip("198.51.100.7")
        );
        // Two trusted proxies (CDN 10.0.0.2, then nginx on 127.0.0.1) in front of the client.
        assert_eq!(
            client(
                "127.0.0.1",
                Some("6.6.6.6, 198.51.100.7, 10.0.0.2"),
                &["127.0.0.1", "10.0.0.0/8"]
            ),
            ip("198.51.100.7")
        );
        // Every hop trusted: the leftmost is the client.
        assert_eq!(
            client("10.0.0.1", Some("10.0.0.9, 10.0.0.8"), &["10.0.0.0/8"]),
            ip("10.0.0.9")
        );
        // Garbage stops the walk at the last believable hop.
        assert_eq!(
            client(
                "127.0.0.1",
                Some("198.51.100.7, not-an-ip, 10.0.0.2"),
                &["127.0.0.1", "10.0.0.0/8"]
            ),
            ip("10.0.0.2")
        );
        assert_eq!(
            client("127.0.0.1", Some("unknown"), &["127.0.0.1"]),
            ip("127.0.0.1")
        );
        assert_eq!(
            client("127.0.0.1", Some(""), &["127.0.0.1"]),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn ipv6_and_port_forms() {
        assert_eq!(
            client("::1", Some("2001:db8::7"), &["::1"]),
            ip("2001:db8::7")
        );
        assert_eq!(
            client("::1", Some("\"[2001:db8::7]:4711\""), &["::1"]),
            ip("2001:db8::7")
        );
        assert_eq!(
            client("127.0.0.1", Some("198.51.100.7:5000"), &["127.0.0.1"]),
            ip("198.51.100.7")
        );
        // A dual-stack socket shows IPv4 peers as IPv4-mapped IPv6.
        assert_eq!(
            client("::ffff:127.0.0.1", Some("198.51.100.7"), &["127.0.0.1"]),
            ip("198.51.100.7")
        );
        assert_eq!(
            client(
                "::ffff:127.0.0.1",
                Some("::ffff:198.51.100.7"),
                &["127.0.0.1"]
            ),
            ip("198.51.100.7")
        );
        assert_eq!(
            client("fd00::1", Some("2001:db8::1, fd00::2"), &["fd00::/8"]),
            ip("2001:db8::1")
        );
    }

    #[test]
    fn unix_socket_peers_are_trusted() {
        let info = resolve(
            None,
            Some("198.51.100.7"),
            Some("https"),
            &nets(&["127.0.0.1"]),
        );
        assert_eq!(
            info,
            ClientInfo {
                addr: ip("198.51.100.7"),
                scheme: Scheme::Https
            }
        );
        assert_eq!(resolve(None, None, None, &[]).addr_text(), "-");
    }

    #[test]
    fn the_nearest_proxy_sets_the_scheme() {
        let t = nets(&["127.0.0.1"]);
        assert_eq!(
            resolve(ip("127.0.0.1"), None, Some("HTTPS"), &t).scheme,
            Scheme::Https
        );
        assert_eq!(
            resolve(ip("127.0.0.1"), None, Some("https, http"), &t).scheme,
            Scheme::Http
        );
        assert_eq!(
            resolve(ip("127.0.0.1"), None, Some("ftp"), &t).scheme,
            Scheme::Http
        );
        assert_eq!(
            resolve(ip("127.0.0.1"), None, None, &t).scheme,
            Scheme::Http
        );
    }

    /// What a handler downstream sees through actix's own `ConnectionInfo` and the throttles.
    async fn seen_by_handler(peer: &str, headers: &[(&str, &str)], trusted: &[&str]) -> String {
        use actix_web::{middleware::from_fn, test, web, App, HttpRequest, HttpResponse};
        let trusted: Rc<[TrustedProxy]> = nets(trusted).into();
        let app = test::init_service(
            App::new()
                .wrap(from_fn(move |req, next| {
                    middleware(Rc::clone(&trusted), req, next)
                }))
                .default_service(web::to(|req: HttpRequest| async move {
                    let info = req.connection_info();
                    let forwarded = req.headers().contains_key(FORWARDED);
                    let throttled_as = auth::api::request::client_address(&req);
                    HttpResponse::Ok().body(format!(
                        "{} {} {forwarded} {throttled_as}",
                        info.realip_remote_addr().unwrap_or("-"),
                        info.scheme()
                    ))
                })),
        )
        .await;
        let mut req = test::TestRequest::get().peer_addr(peer.parse().unwrap());
        for &header in headers {
            req = req.insert_header(header);
        }
        let body = test::call_and_read_body(&app, req.to_request()).await;
        String::from_utf8(body.to_vec()).unwrap()
    }

    #[actix_web::test]
    async fn handlers_see_only_the_verdict() {
        let headers = [
            ("X-Forwarded-For", "6.6.6.6, 198.51.100.7"),
            ("X-Forwarded-Proto", "https"),
            ("Forwarded", "for=1.1.1.1;proto=https"),
        ];
        assert_eq!(
            seen_by_handler("127.0.0.1:5000", &headers, &["127.0.0.1"]).await,
            "198.51.100.7 https false 198.51.100.7"
        );
        assert_eq!(
            seen_by_handler("203.0.113.5:5000", &headers, &["127.0.0.1"]).await,
            "203.0.113.5 http false 203.0.113.5"
        );
    }

    #[test]
    fn any_trusts_everyone() {
        assert_eq!(
            client("203.0.113.5", Some("198.51.100.7"), &["*"]),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn with_any_only_the_right_most_hop_is_believed() {
        // The client wrote 1.2.3.4; the proxy appended 5.6.7.8, the address it saw.
        for any in [&["*"][..], &["0.0.0.0/0", "::/0"], &["::/0", "0.0.0.0/0"]] {
            assert_eq!(
                client("10.0.0.1", Some("1.2.3.4, 5.6.7.8"), any),
                ip("5.6.7.8"),
                "{any:?}"
            );
        }
        // Named networks beside `*` still let the walk pass their own hops.
        assert_eq!(
            client(
                "10.0.0.1",
                Some("1.2.3.4, 5.6.7.8, 10.0.0.2"),
                &["*", "10.0.0.0/8"]
            ),
            ip("5.6.7.8")
        );
        assert!(matches_everything(&TrustedProxy::parse("*").unwrap()));
        assert!(!matches_everything(
            &TrustedProxy::parse("10.0.0.0/8").unwrap()
        ));
    }
}
