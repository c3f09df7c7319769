//! Django's bcrypt family: `bcrypt_sha256` (bcrypt over the hex SHA-256 of the password) and plain `bcrypt`.
//!
//! Functions here take the bcrypt string only (`$2b$12$<53 chars>`), i.e. what follows Django's
//! `algorithm$` prefix; the prefix itself is handled in `mod.rs`.

use sha2::{Digest, Sha256};

use super::{Excess, PasswordError};

/// Length of every bcrypt string: `$2b$` + two cost digits + `$` + 22 salt + 31 hash characters.
const BCRYPT_LEN: usize = 60;
/// bcrypt's own minimum cost.
pub(super) const MIN_COST: u32 = 4;
/// The most this server computes, for new hashes and stored ones alike, although bcrypt allows
/// 31. Each step doubles the work: Django's default 12 takes about 0.25 s of a core, 16 about
/// 4 s, 31 about 36 hours, which an imported `$2b$31$` hash would make every wrong guess spend.
pub(super) const MAX_COST: u32 = 16;
/// bcrypt's own maximum: above it a hash is malformed, not merely too costly.
const BCRYPT_MAX_COST: u32 = 31;

/// Hashes `raw` the way Django's `BCryptSHA256PasswordHasher` does and returns the bcrypt string
/// (`$2b$<cost>$...`), always in the `2b` variant that Django writes.
pub(super) fn hash_sha256(raw: &str, cost: u32) -> Result<String, PasswordError> {
    let parts = ::bcrypt::hash_with_result(prehash_sha256(raw), cost)
        .map_err(|e| PasswordError::Hash(e.to_string()))?;
    Ok(parts.format_for_version(::bcrypt::Version::TwoB))
}

/// A bcrypt string at `cost` that no password matches, made without hashing: a random salt and a
/// random digest, each in bcrypt's own base64. Checking a password against it costs exactly what
/// checking against a real hash of that cost does (bcrypt runs in full, then compares), which is
/// all the timing guard needs; a real hash at cost 12 would cost every worker a quarter second of
/// CPU before its first answer (and 4 s at 16). A match would need the random 184-bit digest.
pub(super) fn unmatchable(cost: u32) -> String {
    use base64::Engine as _;
    use rand::RngCore as _;
    let engine = base64::engine::general_purpose::GeneralPurpose::new(
        &base64::alphabet::BCRYPT,
        base64::engine::general_purpose::NO_PAD,
    );
    let mut salt = [0u8; 16];
    let mut digest = [0u8; 23];
    let mut rng = rand::rng();
    rng.fill_bytes(&mut salt);
    rng.fill_bytes(&mut digest);
    format!(
        "$2b${cost:02}${}{}",
        engine.encode(salt),
        engine.encode(digest)
    )
}

/// Checks `raw` against a `bcrypt_sha256` bcrypt string; `None` when the string is malformed.
pub(super) fn verify_sha256(raw: &str, hash: &str) -> Option<bool> {
    verify_bytes(prehash_sha256(raw).as_bytes(), hash)
}

/// Checks `raw` against a plain `bcrypt` string; `None` when the string is malformed.
///
/// bcrypt only reads the first 72 bytes, so longer passwords match on that prefix, as with
/// Django on pyca/bcrypt < 5 (which uses this same Rust crate).
pub(super) fn verify_plain(raw: &str, hash: &str) -> Option<bool> {
    verify_bytes(raw.as_bytes(), hash)
}

/// The cost (work factor) of a bcrypt string, `None` when the string is malformed or the cost
/// is outside what bcrypt allows or above [`MAX_COST`].
pub(super) fn cost(hash: &str) -> Option<u32> {
    let cost = stated_cost(hash)?;
    (MIN_COST..=MAX_COST).contains(&cost).then_some(cost)
}

/// Django feeds bcrypt the lowercase hex SHA-256 digest (64 ASCII bytes) so that passwords
/// longer than bcrypt's 72-byte limit are not silently truncated.
fn prehash_sha256(raw: &str) -> String {
    hex::encode(Sha256::digest(raw.as_bytes()))
}

/// The cost of a well-formed bcrypt string when it is above [`MAX_COST`]; `None` otherwise.
pub(super) fn excess(hash: &str) -> Option<Excess> {
    let cost = stated_cost(hash)?;
    (MAX_COST < cost && cost <= BCRYPT_MAX_COST).then(|| Excess {
        found: format!("cost {cost}"),
        cap: format!("cost {MAX_COST}"),
    })
}

/// The two cost digits of a well-formed bcrypt string, whatever their value.
fn stated_cost(hash: &str) -> Option<u32> {
    if !is_well_formed(hash) {
        return None;
    }
    hash.get(4..6)?.parse().ok()
}

fn verify_bytes(password: &[u8], hash: &str) -> Option<bool> {
    // Over the cap is never computed (`mod.rs` reports it apart from malformed hashes).
    if stated_cost(hash)? > MAX_COST {
        return None;
    }
    // The crate compares the 23-byte digests in constant time.
    ::bcrypt::verify(password, hash).ok()
}

/// Stricter than the bcrypt crate's own parser in two ways: the cost must be exactly two ASCII
/// digits (Rust's `u32` parser would accept `+4`), and `$2x$` is refused because the crate does
/// not reproduce that variant's historic sign-extension bug, so it could give wrong answers.
/// Salt/hash base64 and the cost range are left to the crate, which rejects bad ones.
fn is_well_formed(hash: &str) -> bool {
    let bytes = hash.as_bytes();
    bytes.len() == BCRYPT_LEN
        && hash.is_ascii()
        && matches!(&bytes[..4], b"$2a$" | b"$2b$" | b"$2y$")
        && bytes[4].is_ascii_digit()
        && bytes[5].is_ascii_digit()
        && bytes[6] == b'$'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unmatchable_hash_is_well_formed_and_checked_in_full() {
        for cost in [MIN_COST, 5, 12, MAX_COST] {
            let dummy = unmatchable(cost);
            assert_eq!(dummy.len(), BCRYPT_LEN, "{dummy}");
            assert_eq!(self::cost(&dummy), Some(cost), "{dummy}");
        }
        let dummy = unmatchable(MIN_COST);
        // Parsed and computed (Some), never matching: not refused as malformed (None), which
        // would skip the work the timing guard relies on.
        for raw in ["", "password", "correct horse battery staple"] {
            assert_eq!(verify_sha256(raw, &dummy), Some(false));
        }
        assert_ne!(unmatchable(MIN_COST), unmatchable(MIN_COST));
    }

    /// A plain-bcrypt string as Django (pyca/bcrypt, cost 4) would store it after `bcrypt$`.
    fn plain_hash(raw: &str) -> String {
        ::bcrypt::hash_with_result(raw, 4)
            .unwrap()
            .format_for_version(::bcrypt::Version::TwoB)
    }

    #[test]
    fn prehash_is_lowercase_hex_sha256() {
        assert_eq!(
            prehash_sha256(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            prehash_sha256("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn hash_sha256_writes_2b_with_requested_cost() {
        let hash = hash_sha256("secret", 4).unwrap();
        assert!(hash.starts_with("$2b$04$"), "{hash}");
        assert_eq!(hash.len(), BCRYPT_LEN);
        assert_eq!(cost(&hash), Some(4));
        assert_eq!(verify_sha256("secret", &hash), Some(true));
        assert_eq!(verify_sha256("secreT", &hash), Some(false));
    }

    #[test]
    fn hash_sha256_rejects_bad_cost() {
        assert!(matches!(hash_sha256("x", 3), Err(PasswordError::Hash(_))));
        assert!(matches!(hash_sha256("x", 32), Err(PasswordError::Hash(_))));
    }

    #[test]
    fn sha256_variant_is_not_plain_bcrypt() {
        let hash = hash_sha256("secret", 4).unwrap();
        assert_eq!(verify_plain("secret", &hash), Some(false));
        assert_eq!(verify_sha256("secret", &plain_hash("secret")), Some(false));
    }

    #[test]
    fn plain_bcrypt_truncates_at_72_bytes_like_django() {
        let long = "x".repeat(100);
        let hash = plain_hash(&long);
        assert_eq!(verify_plain(&long, &hash), Some(true));
        // Differs only after byte 72: bcrypt never sees the difference.
        let mut past_limit = "x".repeat(99);
        past_limit.push('y');
        assert_eq!(verify_plain(&past_limit, &hash), Some(true));
        assert_eq!(verify_plain(&"x".repeat(72), &hash), Some(true));
        assert_eq!(verify_plain(&"x".repeat(71), &hash), Some(false));
    }

    #[test]
    fn accepts_2a_and_2y_spellings() {
        let hash = plain_hash("pw");
        for prefix in ["$2a$", "$2y$"] {
            let respelled = format!("{prefix}{}", &hash[4..]);
            assert_eq!(verify_plain("pw", &respelled), Some(true), "{prefix}");
        }
    }

    #[test]
    fn malformed_strings_are_none() {
        let good = hash_sha256("pw", 4).unwrap();
        let cases = [
            String::new(),
            "$2b$04$".to_string(),
            good[..59].to_string(),
            format!("{good}x"),
            format!("$2x${}", &good[4..]),
            format!("$2c${}", &good[4..]),
            format!("$2b$+4{}", &good[6..]),
            format!("$2b$03{}", &good[6..]),
            format!("$2b$32{}", &good[6..]),
            format!("$2b$04x{}", &good[7..]),
            // Multi-byte character straddling the slicing points must not panic.
            format!("$2b$0é{}", &good[7..]),
            format!("{}é", &good[..58]),
            // '!' is outside bcrypt's base64 alphabet.
            format!("{}!", &good[..59]),
        ];
        for case in &cases {
            assert_eq!(verify_sha256("pw", case), None, "{case:?}");
            assert_eq!(verify_plain("pw", case), None, "{case:?}");
        }
        for case in &cases[..10] {
            assert_eq!(cost(case), None, "{case:?}");
        }
    }

    #[test]
    fn costs_over_the_cap_are_never_computed() {
        // Real cost-4 hashes respelled at other costs: only the digits are read, nothing runs.
        let sha256 = hash_sha256("pw", 4).unwrap();
        let plain = plain_hash("pw");
        for over in [MAX_COST + 1, 20, 31] {
            let respelled = |hash: &str| format!("$2b${over:02}{}", &hash[6..]);
            assert_eq!(verify_sha256("pw", &respelled(&sha256)), None, "{over}");
            assert_eq!(verify_plain("pw", &respelled(&plain)), None, "{over}");
            assert_eq!(cost(&respelled(&sha256)), None, "{over}");
            let excess = excess(&respelled(&sha256)).unwrap();
            assert_eq!(excess.found, format!("cost {over}"));
            assert_eq!(excess.cap, "cost 16");
        }
        for within in [MIN_COST, 12, MAX_COST] {
            let hash = format!("$2b${within:02}{}", &sha256[6..]);
            assert!(excess(&hash).is_none(), "{hash}");
        }
        assert!(
            excess("$2b$99$short").is_none(),
            "malformed is not over cost"
        );
        let beyond_bcrypt = format!("$2b$32{}", &sha256[6..]);
        assert!(
            excess(&beyond_bcrypt).is_none(),
            "no bcrypt can compute it: malformed"
        );
        assert_eq!(verify_sha256("pw", &beyond_bcrypt), None);
    }

    #[test]
    fn cost_reads_two_digits() {
        let hash = hash_sha256("pw", 5).unwrap();
        assert_eq!(cost(&hash), Some(5));
        assert_eq!(cost(&format!("$2b$12{}", &hash[6..])), Some(12));
    }
}
