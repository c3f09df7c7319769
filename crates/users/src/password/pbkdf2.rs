//! Django's PBKDF2 family: `pbkdf2_sha256` and `pbkdf2_sha1`, stored as `<iterations>$<salt>$<base64 key>`.
//!
//! Functions here take what follows Django's `algorithm$` prefix; the prefix is handled in `mod.rs`.
//! Only verification is needed: new hashes are always `bcrypt_sha256`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use sha1::Sha1;
use sha2::Sha256;
use subtle::ConstantTimeEq;

use super::Excess;

/// Above this a stored hash is never computed (see `mod.rs`): each wrong guess would spend that
/// many HMACs, and a made-up 4,000,000,000 about half an hour of a core. 5× what Django 5.2
/// writes (1,000,000, about 0.35 s here): Django raises it by a fifth or so per release, so
/// real hashes stay below for years, and the worst one costs a couple of seconds.
const MAX_ITERATIONS: u32 = 5_000_000;

/// The HMAC hash under PBKDF2; Django's derived key is exactly one digest long.
#[derive(Clone, Copy, Debug)]
enum Prf {
    Sha256,
    Sha1,
}

impl Prf {
    fn key_len(self) -> usize {
        match self {
            Prf::Sha256 => 32,
            Prf::Sha1 => 20,
        }
    }

    fn derive(self, password: &[u8], salt: &[u8], iterations: u32) -> Vec<u8> {
        let mut key = vec![0u8; self.key_len()];
        match self {
            Prf::Sha256 => ::pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, iterations, &mut key),
            Prf::Sha1 => ::pbkdf2::pbkdf2_hmac::<Sha1>(password, salt, iterations, &mut key),
        }
        key
    }
}

/// The parsed fields of a stored PBKDF2 hash.
struct Stored<'a> {
    iterations: u32,
    salt: &'a str,
    key: Vec<u8>,
}

/// Checks `raw` against a `pbkdf2_sha256` hash body; `None` when it is malformed.
pub(super) fn verify_sha256(raw: &str, body: &str) -> Option<bool> {
    verify(Prf::Sha256, raw, body)
}

/// Checks `raw` against a `pbkdf2_sha1` hash body; `None` when it is malformed.
pub(super) fn verify_sha1(raw: &str, body: &str) -> Option<bool> {
    verify(Prf::Sha1, raw, body)
}

fn verify(prf: Prf, raw: &str, body: &str) -> Option<bool> {
    let stored = parse(prf, body)?;
    // Django uses the salt as its literal UTF-8 text, not decoded.
    let derived = prf.derive(raw.as_bytes(), stored.salt.as_bytes(), stored.iterations);
    Some(keys_match(&derived, &stored.key))
}

/// The one place a derived key meets the stored one: subtle's constant-time comparison, which
/// reads every byte whatever differs, so the time taken does not say how much of a guess was
/// right. (bcrypt hashes are compared by the bcrypt crate, also with subtle's `ct_eq`.)
fn keys_match(derived: &[u8], stored: &[u8]) -> bool {
    derived.ct_eq(stored).into()
}

/// Django verifies by re-encoding and comparing whole strings, so anything it would never have
/// written (leading zeros, non-canonical base64, a wrong key length) can never match there;
/// rejecting it here as malformed gives the same answer without the expensive derivation.
fn parse(prf: Prf, body: &str) -> Option<Stored<'_>> {
    let mut fields = body.splitn(3, '$');
    let iterations = parse_iterations(fields.next()?)?;
    let salt = fields.next().filter(|salt| !salt.is_empty())?;
    // STANDARD requires canonical padding and trailing bits; a '$' in the key fails here too.
    let key = STANDARD.decode(fields.next()?).ok()?;
    (key.len() == prf.key_len()).then_some(Stored {
        iterations,
        salt,
        key,
    })
}

/// Decimal digits only, as Django's `%d` writes them: no sign, no leading zero, 1..=MAX_ITERATIONS.
fn parse_iterations(text: &str) -> Option<u32> {
    let iterations = stated_iterations(text)?;
    u32::try_from(iterations)
        .ok()
        .filter(|&n| n <= MAX_ITERATIONS)
}

/// The iteration count as written, without the cap (`None` when not canonical digits).
fn stated_iterations(text: &str) -> Option<u64> {
    let canonical =
        !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) && !text.starts_with('0');
    canonical.then(|| text.parse().ok()).flatten()
}

/// The iterations of a PBKDF2 hash body when above [`MAX_ITERATIONS`]; `None` otherwise.
pub(super) fn excess(body: &str) -> Option<Excess> {
    let stated = body.split('$').next().and_then(stated_iterations);
    stated
        .filter(|&n| n > u64::from(MAX_ITERATIONS))
        .map(|n| Excess {
            found: format!("{n} iterations"),
            cap: format!("{MAX_ITERATIONS} iterations"),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a Django-format body for a low iteration count, so tests stay fast.
    fn body(prf: Prf, raw: &str, salt: &str, iterations: u32) -> String {
        let key = prf.derive(raw.as_bytes(), salt.as_bytes(), iterations);
        format!("{iterations}${salt}${}", STANDARD.encode(key))
    }

    #[test]
    fn known_answers() {
        // RFC 6070 (PBKDF2-HMAC-SHA1) and the matching widely published PBKDF2-HMAC-SHA256 values.
        let sha1 = Prf::Sha1.derive(b"password", b"salt", 2);
        assert_eq!(
            hex::encode(sha1),
            "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957"
        );
        let sha256 = Prf::Sha256.derive(b"password", b"salt", 2);
        assert_eq!(
            hex::encode(sha256),
            "ae4d0c95af6b46d32d0adff928f06dd02a303f8ef3c251dfd6e2d85a95474c43"
        );
    }

    #[test]
    fn verifies_django_format_at_low_iterations() {
        for prf in [Prf::Sha256, Prf::Sha1] {
            let stored = body(prf, "pässwörd", "someSalt123", 3);
            assert_eq!(verify(prf, "pässwörd", &stored), Some(true), "{prf:?}");
            assert_eq!(verify(prf, "passwörd", &stored), Some(false), "{prf:?}");
            assert_eq!(verify(prf, "", &stored), Some(false), "{prf:?}");
        }
        let stored = body(Prf::Sha1, "pw", "s", 1);
        assert_eq!(verify_sha1("pw", &stored), Some(true));
        assert_eq!(
            verify_sha256("pw", &stored),
            None,
            "20-byte key is not sha256"
        );
    }

    #[test]
    fn no_truncation_of_long_passwords() {
        let long = "x".repeat(100);
        let stored = body(Prf::Sha256, &long, "salt", 2);
        let mut last_differs = "x".repeat(99);
        last_differs.push('y');
        assert_eq!(verify_sha256(&long, &stored), Some(true));
        assert_eq!(verify_sha256(&last_differs, &stored), Some(false));
    }

    #[test]
    fn malformed_bodies_are_none() {
        let good = body(Prf::Sha256, "pw", "salt", 2);
        let key = good.rsplit('$').next().unwrap().to_string();
        let cases = [
            String::new(),
            "2".to_string(),
            "2$salt".to_string(),
            format!("0$salt${key}"),
            format!("02$salt${key}"),
            format!("+2$salt${key}"),
            format!("-2$salt${key}"),
            format!(" 2$salt${key}"),
            format!("x$salt${key}"),
            format!("{}$salt${key}", MAX_ITERATIONS + 1),
            format!("99999999999999999999$salt${key}"),
            format!("2$${key}"),
            "2$salt$".to_string(),
            "2$salt$not base64!".to_string(),
            format!("2$salt${}", key.trim_end_matches('=')),
            format!("2$salt${key}$"),
            format!("2$salt${key} "),
            format!("2$salt${}", STANDARD.encode([0u8; 31])),
            format!("2$salt${}", STANDARD.encode([0u8; 33])),
        ];
        for case in &cases {
            assert_eq!(verify_sha256("pw", case), None, "{case:?}");
            assert_eq!(verify_sha1("pw", case), None, "{case:?}");
        }
    }

    #[test]
    fn keys_match_compares_whole_keys() {
        let key = [7u8; 32];
        assert!(keys_match(&key, &key));
        let mut first = key;
        first[0] ^= 1;
        let mut last = key;
        last[31] ^= 0x80;
        assert!(!keys_match(&first, &key));
        assert!(!keys_match(&last, &key));
        assert!(!keys_match(&key[..31], &key), "a prefix is not a match");
        assert!(!keys_match(&[], &key));
    }

    /// The structural guarantee: the comparison is subtle's `ConstantTimeEq`, and `verify`
    /// compares through it, not with `==` (which stops at the first differing byte).
    #[test]
    fn comparison_is_subtles_constant_time_eq() {
        let source = include_str!("pbkdf2.rs");
        let body = source
            .split("fn keys_match(")
            .nth(1)
            .and_then(|rest| rest.split("\n}").next())
            .unwrap();
        assert!(body.contains(".ct_eq("), "{body}");
        let verify = source
            .split("fn verify(prf")
            .nth(1)
            .and_then(|rest| rest.split("\n}").next())
            .unwrap();
        assert!(
            verify.contains("keys_match(&derived, &stored.key)"),
            "{verify}"
        );
        assert!(!verify.contains("=="), "{verify}");
        // And the type-level fact the source relies on.
        fn is_constant_time_eq<T: ConstantTimeEq + ?Sized>(_: &T) {}
        is_constant_time_eq(&[0u8; 32][..]);
    }

    /// A timing check of the same property, kept deliberately weak. A test cannot prove constant
    /// time: 32-byte comparisons take nanoseconds, below the timer's and the scheduler's noise,
    /// and the optimiser may change the code it measures. It can only fail to see a difference:
    /// an early-exit comparison would make "differs at the first byte" markedly faster than
    /// "differs at the last byte", which this would catch if the difference were large. The
    /// guarantee itself rests on subtle's implementation and the structural test above.
    #[test]
    fn first_and_last_byte_differences_take_about_the_same_time() {
        use std::hint::black_box;
        use std::time::{Duration, Instant};
        const KEY_LEN: usize = 256;
        const ITERATIONS: usize = 20_000;
        let stored = vec![0x5au8; KEY_LEN];
        let mut first = stored.clone();
        first[0] ^= 1;
        let mut last = stored.clone();
        last[KEY_LEN - 1] ^= 1;
        let time = |candidate: &[u8]| {
            let start = Instant::now();
            for _ in 0..ITERATIONS {
                black_box(keys_match(black_box(candidate), black_box(&stored)));
            }
            start.elapsed()
        };
        // Minimum over interleaved batches: load on the machine only ever adds time.
        let (mut first_best, mut last_best) = (Duration::MAX, Duration::MAX);
        for _ in 0..15 {
            first_best = first_best.min(time(&first));
            last_best = last_best.min(time(&last));
        }
        let ratio = first_best.as_secs_f64() / last_best.as_secs_f64();
        assert!(
            ratio > 0.5,
            "first-byte difference {first_best:?} vs last-byte {last_best:?}: early exit?"
        );
    }

    #[test]
    fn iterations_over_the_cap_are_named_not_computed() {
        let key = STANDARD.encode([0u8; 32]);
        for over in ["5000001", "10000000", "4294967296"] {
            let stored = format!("{over}$salt${key}");
            assert_eq!(verify_sha256("pw", &stored), None, "{stored}");
            let excess = excess(&stored).unwrap();
            assert_eq!(excess.found, format!("{over} iterations"));
            assert_eq!(excess.cap, "5000000 iterations");
        }
        for fine in ["1000000$salt$x", "5000000$s$k", "0$salt$k", "x$salt$k", ""] {
            assert!(excess(fine).is_none(), "{fine}");
        }
    }

    #[test]
    fn iteration_limits() {
        assert_eq!(parse_iterations("1"), Some(1));
        assert_eq!(parse_iterations("1000000"), Some(1_000_000));
        assert_eq!(parse_iterations("5000000"), Some(MAX_ITERATIONS));
        assert_eq!(parse_iterations("5000001"), None);
        assert_eq!(parse_iterations("4294967296"), None);
        assert_eq!(parse_iterations("1_000"), None);
        assert_eq!(parse_iterations("١٢"), None, "non-ASCII digits");
    }
}
