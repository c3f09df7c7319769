//! Django's `argon2` hashes: argon2-cffi's PHC string after the `argon2` prefix, e.g.
//! `argon2id$v=19$m=102400,t=2,p=8$<salt>$<hash>` (salt and hash in unpadded standard base64).
//!
//! Django verifies with `argon2.PasswordHasher().verify("$" + body)`, i.e. the reference C
//! implementation's decoder; this module accepts what that decoder accepts from argon2-cffi's
//! output: the three variants, versions 16 and 19 (a missing `v=` meaning 16, as in the C
//! decoder), any salt and hash length the algorithm allows. Verification only.

use ::argon2::{Algorithm, Argon2, Params, Version};
use base64::engine::general_purpose::STANDARD_NO_PAD;
use base64::Engine as _;
use subtle::ConstantTimeEq;

use super::Excess;

/// Above these a stored hash is never computed (see `mod.rs`), rather than letting one wrong
/// guess allocate gigabytes or run for minutes. Django 5.2 writes m=102400 KiB, t=2, p=8: about
/// 100 MiB and a third of a second here. The memory cap is 5× that, per hash under way (so a
/// few at once still fit a small machine); the work (memory × passes, which the time follows)
/// is capped at 8× Django's, a few seconds of a core.
const MAX_MEMORY_KIB: u32 = 512 * 1024;
const MAX_WORK_KIB_PASSES: u64 = 8 * 102_400 * 2;

/// The parsed fields of a stored argon2 hash.
struct Stored {
    algorithm: Algorithm,
    version: Version,
    params: Params,
    salt: Vec<u8>,
    hash: Vec<u8>,
}

/// Checks `raw` against an `argon2` hash body; `None` when it is malformed or out of limits.
pub(super) fn verify(raw: &str, body: &str) -> Option<bool> {
    let stored = parse(body)?;
    let mut derived = vec![0u8; stored.hash.len()];
    Argon2::new(stored.algorithm, stored.version, stored.params)
        .hash_password_into(raw.as_bytes(), &stored.salt, &mut derived)
        .ok()?;
    Some(derived.ct_eq(&stored.hash).into())
}

fn parse(body: &str) -> Option<Stored> {
    let fields: Vec<&str> = body.split('$').collect();
    let (variant, version, params, salt, hash) = match fields.as_slice() {
        [variant, version, params, salt, hash] => {
            (*variant, parse_version(version)?, *params, *salt, *hash)
        }
        // The C decoder's default when `v=` is left out: hashes from before version 19.
        [variant, params, salt, hash] => (*variant, Version::V0x10, *params, *salt, *hash),
        _ => return None,
    };
    let algorithm = match variant {
        "argon2id" => Algorithm::Argon2id,
        "argon2i" => Algorithm::Argon2i,
        "argon2d" => Algorithm::Argon2d,
        _ => return None,
    };
    let (m, t, p) = parse_costs(params)?;
    if over_caps(m, t).is_some() {
        return None;
    }
    // STANDARD_NO_PAD rejects padding and non-zero trailing bits, as the C decoder does.
    let salt = STANDARD_NO_PAD.decode(salt).ok()?;
    let hash = STANDARD_NO_PAD.decode(hash).ok()?;
    // Params::new enforces the algorithm's own minimums (m >= 8p, t >= 1, hash >= 4 bytes).
    let params = Params::new(m, t, p, Some(hash.len())).ok()?;
    Some(Stored {
        algorithm,
        version,
        params,
        salt,
        hash,
    })
}

/// The memory or work of an argon2 hash body when above the caps; `None` otherwise (malformed
/// included: only the `m=...,t=...,p=...` field is read).
pub(super) fn excess(body: &str) -> Option<Excess> {
    let (m, t, _) = body.split('$').find_map(parse_costs)?;
    over_caps(m, t)
}

fn over_caps(m: u32, t: u32) -> Option<Excess> {
    let work = u64::from(m) * u64::from(t);
    if m > MAX_MEMORY_KIB {
        Some(Excess {
            found: format!("memory of {m} KiB"),
            cap: format!("{MAX_MEMORY_KIB} KiB"),
        })
    } else if work > MAX_WORK_KIB_PASSES {
        Some(Excess {
            found: format!("memory × passes of {m} KiB × {t}"),
            cap: format!("{MAX_WORK_KIB_PASSES} KiB-passes"),
        })
    } else {
        None
    }
}

fn parse_version(field: &str) -> Option<Version> {
    match field.strip_prefix("v=")? {
        "16" => Some(Version::V0x10),
        "19" => Some(Version::V0x13),
        _ => None,
    }
}

/// `m=<KiB>,t=<passes>,p=<lanes>`, in that order, as argon2-cffi writes it.
fn parse_costs(field: &str) -> Option<(u32, u32, u32)> {
    let mut parts = field.split(',');
    let m = decimal(parts.next()?.strip_prefix("m=")?)?;
    let t = decimal(parts.next()?.strip_prefix("t=")?)?;
    let p = decimal(parts.next()?.strip_prefix("p=")?)?;
    parts.next().is_none().then_some((m, t, p))
}

/// ASCII digits without sign or leading zero, fitting a u32.
fn decimal(text: &str) -> Option<u32> {
    let canonical = !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    canonical.then(|| text.parse().ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWORD: &str = "pässwörd";

    /// Written by argon2-cffi 25.1 (Django 5.2's `Argon2PasswordHasher` and `hash_secret`) with
    /// small costs, so that every variant and version is checked quickly.
    const SMALL_VECTORS: [&str; 6] = [
        // Django's hasher with time_cost=1, memory_cost=64, parallelism=2, salt "abcdefghijklmnopqrstuv".
        "argon2id$v=19$m=64,t=1,p=2$YWJjZGVmZ2hpamtsbW5vcHFyc3R1dg$eiec+lNlgSUfC+n+pSlh52ezP9a8mtJqNZMoCdWHBLs",
        "argon2i$v=19$m=32,t=1,p=1$c2FsdHNhbHRzYWx0$MzF3NSYOgpdQLMJ3Q3Vqfz4BQi0FMcPXL7K1aOvgp3Y",
        "argon2d$v=19$m=32,t=1,p=1$c2FsdHNhbHRzYWx0$FBh/+Ahmi3D/fYayqhUancrYHklCuyG93exMcfc5T8c",
        "argon2i$v=16$m=32,t=1,p=1$c2FsdHNhbHRzYWx0$jS1Cgn6JjkjKAsbypvQvRySBf7iZMHpFDkjVmWkV4nY",
        // The same without `v=`: argon2-cffi reads it as version 16 too.
        "argon2i$m=32,t=1,p=1$c2FsdHNhbHRzYWx0$jS1Cgn6JjkjKAsbypvQvRySBf7iZMHpFDkjVmWkV4nY",
        // hash_len=16.
        "argon2id$v=19$m=32,t=1,p=1$c2FsdHNhbHRzYWx0$RjEjGKnIAl68jBEeJbsZlQ",
    ];

    #[test]
    fn argon2_cffi_vectors_of_every_variant_and_version() {
        for body in SMALL_VECTORS {
            assert_eq!(verify(PASSWORD, body), Some(true), "{body}");
            assert_eq!(verify("passwörd", body), Some(false), "{body}");
            assert_eq!(verify("", body), Some(false), "{body}");
        }
    }

    #[test]
    fn variant_and_version_are_part_of_the_hash() {
        let i19 = SMALL_VECTORS[1];
        for changed in [
            i19.replacen("argon2i$", "argon2d$", 1),
            i19.replacen("argon2i$", "argon2id$", 1),
            i19.replacen("v=19", "v=16", 1),
        ] {
            assert_eq!(verify(PASSWORD, &changed), Some(false), "{changed}");
        }
    }

    #[test]
    fn malformed_bodies_are_none() {
        let good = SMALL_VECTORS[1];
        let cases = [
            String::new(),
            "argon2i".to_string(),
            good.replacen("argon2i$", "argon2x$", 1),
            good.replacen("argon2i$", "Argon2i$", 1),
            good.replacen("v=19", "v=18", 1),
            good.replacen("v=19", "v=019", 1),
            good.replacen("v=19", "19", 1),
            good.replacen("m=32", "m=032", 1),
            good.replacen("m=32", "m=+32", 1),
            good.replacen("m=32", "m=", 1),
            good.replacen("m=32,t=1,p=1", "t=1,m=32,p=1", 1),
            good.replacen("p=1", "p=1,x=2", 1),
            good.replacen("t=1", "t=0", 1),
            good.replacen("p=1", "p=0", 1),
            // Below the algorithm's minimum of 8 KiB per lane.
            good.replacen("m=32,t=1,p=1", "m=8,t=1,p=2", 1),
            good.replacen("m=32", "m=99999999999", 1),
            good.replacen("m=32", &format!("m={}", MAX_MEMORY_KIB + 1), 1),
            good.replacen("t=1", "t=51201", 1),
            // Padding, bad alphabet, a salt under 8 bytes, a hash under 4 bytes.
            format!("{good}="),
            good.replacen("c2FsdHNhbHRzYWx0", "c2FsdHNhbHRzYWx0=", 1),
            good.replacen("c2FsdHNhbHRzYWx0", "c2Fs!HNhbHRzYWx0", 1),
            good.replacen("c2FsdHNhbHRzYWx0", "c2FsdA", 1),
            format!("{}$AAA", &good[..good.rfind('$').unwrap_or(0)]),
            format!("{good}$"),
            format!("{good}é"),
        ];
        for case in &cases {
            assert_eq!(verify(PASSWORD, case), None, "{case:?}");
        }
    }

    #[test]
    fn costs_over_the_caps_are_named_not_computed() {
        let good = SMALL_VECTORS[1];
        let with = |costs: &str| good.replacen("m=32,t=1,p=1", costs, 1);
        // Django's default is well within; the caps themselves too.
        for fine in ["m=102400,t=2,p=8", "m=524288,t=3,p=8", "m=32,t=51200,p=1"] {
            assert!(excess(&with(fine)).is_none(), "{fine}");
        }
        let cases = [
            ("m=524289,t=1,p=1", "memory of 524289 KiB", "524288 KiB"),
            ("m=4194304,t=2,p=8", "memory of 4194304 KiB", "524288 KiB"),
            (
                "m=102400,t=17,p=8",
                "memory × passes of 102400 KiB × 17",
                "1638400 KiB-passes",
            ),
            (
                "m=32,t=51201,p=1",
                "memory × passes of 32 KiB × 51201",
                "1638400 KiB-passes",
            ),
        ];
        for (costs, found, cap) in cases {
            let body = with(costs);
            assert_eq!(verify(PASSWORD, &body), None, "{costs}");
            let excess = excess(&body).unwrap();
            assert_eq!((excess.found.as_str(), excess.cap.as_str()), (found, cap));
        }
        assert!(excess("argon2id$v=19$m=x,t=1,p=1$c2FsdA$c2FsdA").is_none());
    }

    #[test]
    fn decimal_is_canonical() {
        assert_eq!(decimal("0"), Some(0));
        assert_eq!(decimal("102400"), Some(102_400));
        assert_eq!(decimal("4294967295"), Some(u32::MAX));
        for bad in ["", "00", "01", "+1", "-1", "1 ", "4294967296", "١"] {
            assert_eq!(decimal(bad), None, "{bad:?}");
        }
    }
}
