//! Django's `scrypt` hashes: `<N>$<salt>$<r>$<p>$<base64 of a 64-byte key>` after the prefix.
//!
//! Django derives the key with `hashlib.scrypt(password, salt=salt.encode(), n, r, p, maxmem=0,
//! dklen=64)` and compares whole encoded strings. Verification only.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use subtle::ConstantTimeEq;

use super::Excess;

/// Django's `dklen`.
const KEY_LEN: usize = 64;
/// OpenSSL's default `maxmem` (Python passes 0, i.e. the default): Django itself cannot check a
/// hash needing more, so such a hash is treated as malformed rather than computed.
const OPENSSL_MAX_MEMORY: u64 = 32 * 1024 * 1024;
/// The most work (N·r·p, which the time follows; the memory is bounded by the limit above) this
/// server computes for one stored hash: 16× Django 5.2's N=16384, r=8, p=5, about 3 s of a core.
/// p alone can reach 2^30 / r within OpenSSL's limits: hours per wrong guess.
const MAX_WORK: u64 = 16 * 16_384 * 8 * 5;

/// The parsed fields of a stored scrypt hash.
struct Stored<'a> {
    params: ::scrypt::Params,
    salt: &'a str,
    key: Vec<u8>,
}

/// Checks `raw` against a `scrypt` hash body; `None` when it is malformed or out of limits.
pub(super) fn verify(raw: &str, body: &str) -> Option<bool> {
    let stored = parse(body)?;
    let mut derived = [0u8; KEY_LEN];
    // Like PBKDF2 here, the salt is used as its literal UTF-8 text, not decoded.
    ::scrypt::scrypt(
        raw.as_bytes(),
        stored.salt.as_bytes(),
        &stored.params,
        &mut derived,
    )
    .ok()?;
    Some(derived.ct_eq(&stored.key).into())
}

/// Django compares re-encoded strings, so a field it would never write (leading zeros,
/// non-canonical base64, a wrong key length) can never match there: rejected here up front.
fn parse(body: &str) -> Option<Stored<'_>> {
    let fields: Vec<&str> = body.split('$').collect();
    let [n, salt, r, p, key] = fields.as_slice() else {
        return None;
    };
    let (n, r, p) = (decimal(n)?, decimal(r)?, decimal(p)?);
    if salt.is_empty() || !within_openssl_limits(n, r, p) || over_cap(n, r, p).is_some() {
        return None;
    }
    let key = STANDARD.decode(key).ok()?;
    if key.len() != KEY_LEN {
        return None;
    }
    // Power of two checked by within_openssl_limits, so log2 is exact (and below 64).
    let log_n = u8::try_from(n.trailing_zeros()).ok()?;
    let params = ::scrypt::Params::new(
        log_n,
        u32::try_from(r).ok()?,
        u32::try_from(p).ok()?,
        KEY_LEN,
    )
    .ok()?;
    Some(Stored { params, salt, key })
}

/// The work of a scrypt hash body when above [`MAX_WORK`]; `None` otherwise (malformed included).
pub(super) fn excess(body: &str) -> Option<Excess> {
    let fields: Vec<&str> = body.split('$').collect();
    let [n, _salt, r, p, _key] = fields.as_slice() else {
        return None;
    };
    over_cap(decimal(n)?, decimal(r)?, decimal(p)?)
}

fn over_cap(n: u64, r: u64, p: u64) -> Option<Excess> {
    let work = n.saturating_mul(r).saturating_mul(p);
    (work > MAX_WORK).then(|| Excess {
        found: format!("work N·r·p of {n}·{r}·{p}"),
        cap: format!("{MAX_WORK}"),
    })
}

/// The checks OpenSSL's `EVP_PBE_scrypt` makes before deriving (what Python's hashlib, and so
/// Django, can compute): N a power of two above 1, r and p positive, p·r < 2^30, N < 2^(16r),
/// and the working memory within the default `maxmem`.
fn within_openssl_limits(n: u64, r: u64, p: u64) -> bool {
    if n < 2 || !n.is_power_of_two() || r == 0 || p == 0 {
        return false;
    }
    if p.saturating_mul(r) >= (1 << 30) || (16 * r <= 63 && n >= 1u64 << (16 * r)) {
        return false;
    }
    // B is p·128·r bytes; V, X and T together 32·r·(N+2) 32-bit words.
    let b_len = p.saturating_mul(128).saturating_mul(r);
    let v_len = r.saturating_mul(128).saturating_mul(n.saturating_add(2));
    b_len.saturating_add(v_len) <= OPENSSL_MAX_MEMORY
}

/// ASCII digits as `%d` writes them: no sign, no leading zero.
fn decimal(text: &str) -> Option<u64> {
    let canonical =
        !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) && !text.starts_with('0');
    canonical.then(|| text.parse().ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWORD: &str = "pässwörd";

    /// Django 5.2's `ScryptPasswordHasher().encode(PASSWORD, "abcdefghijklmnopqrstuv", n, r, p)`
    /// with small costs.
    const SMALL_VECTORS: [&str; 2] = [
        "1024$abcdefghijklmnopqrstuv$8$1$JaUvFPzSaw8L71wETR4cBRhIg+y3IXmx1B9pDT5GujL1Y3XRiSZEWZXfhKazoKTonMJT5U3kJVI7I7jv632ODg==",
        "16$abcdefghijklmnopqrstuv$1$2$tcw4QoPc5GYPRazMXf4+M0BUs9e13o5QOgD1iINrBuEC3BPOaxuSqb0kEYUPIgGwNQspqjNWSXdeWE4LHAaEDg==",
    ];

    #[test]
    fn django_vectors_with_small_costs() {
        for body in SMALL_VECTORS {
            assert_eq!(verify(PASSWORD, body), Some(true), "{body}");
            assert_eq!(verify("passwörd", body), Some(false), "{body}");
            assert_eq!(verify("", body), Some(false), "{body}");
        }
    }

    #[test]
    fn every_parameter_is_part_of_the_hash() {
        let good = SMALL_VECTORS[0];
        for changed in [
            good.replacen("1024$", "2048$", 1),
            good.replacen("$8$", "$7$", 1),
            good.replacen("$1$", "$2$", 1),
            good.replacen("abcdefghijklmnopqrstuv", "abcdefghijklmnopqrstuw", 1),
        ] {
            assert_eq!(verify(PASSWORD, &changed), Some(false), "{changed}");
        }
    }

    #[test]
    fn malformed_bodies_are_none() {
        let good = SMALL_VECTORS[0];
        let key = good.rsplit('$').next().unwrap_or_default();
        let cases = [
            String::new(),
            "1024".to_string(),
            "1024$salt$8$1".to_string(),
            format!("1024$salt$8$1${key}$"),
            format!("1024$$8$1${key}"),
            format!("01024$salt$8$1${key}"),
            format!("+1024$salt$8$1${key}"),
            format!("1000$salt$8$1${key}"),
            format!("1$salt$8$1${key}"),
            format!("0$salt$8$1${key}"),
            format!("1024$salt$0$1${key}"),
            format!("1024$salt$8$0${key}"),
            // More memory than OpenSSL (so Django) allows: N=32768, r=8 is just over 32 MiB.
            format!("32768$salt$8$1${key}"),
            format!("1048576$salt$1$1${key}"),
            // N must stay below 2^(16r).
            format!("65536$salt$1$1${key}"),
            format!("99999999999999999999999$salt$8$1${key}"),
            format!("1024$salt$8$1${}", key.trim_end_matches('=')),
            format!("1024$salt$8$1${}", STANDARD.encode([0u8; 63])),
            format!("1024$salt$8$1${}", STANDARD.encode([0u8; 65])),
            "1024$salt$8$1$not base64!".to_string(),
        ];
        for case in &cases {
            assert_eq!(verify(PASSWORD, case), None, "{case:?}");
        }
    }

    #[test]
    fn work_over_the_cap_is_named_not_computed() {
        let key = SMALL_VECTORS[0].rsplit('$').next().unwrap_or_default();
        // Django's default and the cap itself are computed.
        for fine in ["16384$salt$8$5", "16384$salt$8$80", "1024$salt$8$1280"] {
            assert!(excess(&format!("{fine}${key}")).is_none(), "{fine}");
        }
        for (costs, found) in [
            ("16384$salt$8$81", "work N·r·p of 16384·8·81"),
            ("2$salt$1$1073741823", "work N·r·p of 2·1·1073741823"),
        ] {
            let body = format!("{costs}${key}");
            assert_eq!(verify(PASSWORD, &body), None, "{costs}");
            let excess = excess(&body).unwrap();
            assert_eq!(excess.found, found);
            assert_eq!(excess.cap, "10485760");
        }
        assert!(excess("16384$salt$8$x$k").is_none());
    }

    #[test]
    fn openssl_limits() {
        // Django's default: 16 MiB.
        assert!(within_openssl_limits(16_384, 8, 5));
        assert!(!within_openssl_limits(32_768, 8, 1));
        assert!(within_openssl_limits(32_768, 7, 1));
        assert!(!within_openssl_limits(3, 8, 1));
        assert!(!within_openssl_limits(1 << 20, 1 << 20, 1 << 20));
    }
}
