//! Django-compatible password hashing: `PasswordHasher` (make, check, must_update), dispatch on
//! Django's `algorithm$...` prefix, and unusable (`!...`) passwords.
//!
//! New hashes are always `bcrypt_sha256` (Django's `BCryptSHA256PasswordHasher`). Hashes imported
//! from Django are checked in whatever supported format they were stored in; `must_update` tells
//! the caller to re-hash after a successful login, as Django does.
//!
//! Every hasher has a cap on its work factor (bcrypt's cost, PBKDF2's iterations, argon2's and
//! scrypt's memory and time), each a few times what Django writes: a stored hash above it is
//! never computed. The work factor is part of the stored hash, so without caps one imported hash
//! (`bcrypt$$2b$31$...`) would make every wrong guess at that user tie up a core for hours, past
//! any request timeout. `check_cost` tells `loaddata` to refuse such a hash up front.

mod argon2;
mod bcrypt;
mod pbkdf2;
mod scrypt;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use rand::distr::{Alphanumeric, SampleString};

/// Marks a password that can never be used to log in (Django's `UNUSABLE_PASSWORD_PREFIX`).
pub const UNUSABLE_PASSWORD_PREFIX: &str = "!";
/// Django's `UNUSABLE_PASSWORD_SUFFIX_LENGTH`: random characters after the prefix.
const UNUSABLE_PASSWORD_SUFFIX_LENGTH: usize = 40;

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("bcrypt rounds must be between 4 and 16, got {0}")]
    InvalidRounds(u32),
    #[error("password hashing failed: {0}")]
    Hash(String),
}

/// A stored hash whose work factor is above what this server computes (see the module doc).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("its {algorithm} {found} is above this server's cap of {cap}")]
pub struct OverCost {
    pub algorithm: &'static str,
    /// The work factor the hash asks for, e.g. "cost 31".
    pub found: String,
    /// The most this server computes, e.g. "cost 16".
    pub cap: String,
}

/// What a hasher module reports of a hash over its cap; `mod.rs` adds the algorithm.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Excess {
    found: String,
    cap: String,
}

/// `Err` when `encoded` is a hash of a known algorithm whose work factor is over this server's
/// cap (such a hash never verifies). Anything else is `Ok`, malformed and unusable hashes
/// included: like Django, a stored hash is not judged otherwise.
pub fn check_cost(encoded: &str) -> Result<(), OverCost> {
    match Algorithm::split(encoded) {
        Some((algorithm, body)) => algorithm.check_cost(body),
        None => Ok(()),
    }
}

/// The hash formats this module knows by name: every hasher Django 5.2 ships except MD5 (meant
/// for tests only). Adding one means a variant, its name, and an arm in `verify`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Algorithm {
    BcryptSha256,
    Bcrypt,
    Pbkdf2Sha256,
    Pbkdf2Sha1,
    Argon2,
    Scrypt,
}

impl Algorithm {
    const ALL: [Algorithm; 6] = [
        Algorithm::BcryptSha256,
        Algorithm::Bcrypt,
        Algorithm::Pbkdf2Sha256,
        Algorithm::Pbkdf2Sha1,
        Algorithm::Argon2,
        Algorithm::Scrypt,
    ];

    /// Django's `algorithm` attribute, the text before the first `$` of an encoded hash.
    fn name(self) -> &'static str {
        match self {
            Algorithm::BcryptSha256 => "bcrypt_sha256",
            Algorithm::Bcrypt => "bcrypt",
            Algorithm::Pbkdf2Sha256 => "pbkdf2_sha256",
            Algorithm::Pbkdf2Sha1 => "pbkdf2_sha1",
            Algorithm::Argon2 => "argon2",
            Algorithm::Scrypt => "scrypt",
        }
    }

    /// Splits an encoded hash at its first `$`, as Django's `identify_hasher` does, into the
    /// algorithm and the algorithm-specific body. `None` for unusable or unknown hashes.
    fn split(encoded: &str) -> Option<(Algorithm, &str)> {
        if !is_password_usable(encoded) {
            return None;
        }
        let (name, body) = encoded.split_once('$')?;
        let algorithm = Self::ALL.into_iter().find(|a| a.name() == name)?;
        Some((algorithm, body))
    }

    fn check_cost(self, body: &str) -> Result<(), OverCost> {
        let excess = match self {
            Algorithm::BcryptSha256 | Algorithm::Bcrypt => bcrypt::excess(body),
            Algorithm::Pbkdf2Sha256 | Algorithm::Pbkdf2Sha1 => pbkdf2::excess(body),
            Algorithm::Argon2 => argon2::excess(body),
            Algorithm::Scrypt => scrypt::excess(body),
        };
        match excess {
            None => Ok(()),
            Some(Excess { found, cap }) => Err(OverCost {
                algorithm: self.name(),
                found,
                cap,
            }),
        }
    }

    /// `Ok(matches)`, or why the body could not be checked at all.
    fn verify(self, raw: &str, body: &str) -> Result<bool, Unverifiable> {
        // The modules refuse over-cap hashes too; this names the reason.
        self.check_cost(body).map_err(Unverifiable::OverCost)?;
        let checked = match self {
            Algorithm::BcryptSha256 => bcrypt::verify_sha256(raw, body),
            Algorithm::Bcrypt => bcrypt::verify_plain(raw, body),
            Algorithm::Pbkdf2Sha256 => pbkdf2::verify_sha256(raw, body),
            Algorithm::Pbkdf2Sha1 => pbkdf2::verify_sha1(raw, body),
            Algorithm::Argon2 => argon2::verify(raw, body),
            Algorithm::Scrypt => scrypt::verify(raw, body),
        };
        checked.ok_or(Unverifiable::Malformed(self))
    }
}

/// Why `check_password` could not run a real verification.
#[derive(Debug, PartialEq, Eq)]
enum Unverifiable {
    /// No hash, an empty one, or an unusable (`!...`) one: normal, e.g. unknown user.
    NoPassword,
    UnknownAlgorithm,
    /// Malformed, or with parameters Django itself could not compute.
    Malformed(Algorithm),
    /// Well-formed, but its work factor is over this server's cap: never computed.
    OverCost(OverCost),
}

impl Unverifiable {
    /// Only data problems are worth an operator's attention; the hash itself is never logged.
    /// An over-cost hash is logged as a warning once per hasher (`warned`), then at debug level:
    /// every wrong guess at its user would log it again.
    fn log(&self, warned: &AtomicBool) {
        match self {
            Unverifiable::NoPassword => {}
            Unverifiable::UnknownAlgorithm => log::warn!("password hash has an unknown algorithm"),
            Unverifiable::Malformed(a) => log::warn!("malformed {} password hash", a.name()),
            Unverifiable::OverCost(over) => {
                let level = if warned.swap(true, Ordering::Relaxed) {
                    log::Level::Debug
                } else {
                    log::Level::Warn
                };
                log::log!(
                    level,
                    "a stored password hash was not checked (the login fails): {over}. Its user cannot log in until the password is set again (`manage changepassword`). Logged once as a warning."
                );
            }
        }
    }
}

/// Hashes and checks passwords in Django's formats. Built once at startup and shared; cloning
/// copies a number and an `Arc`.
#[derive(Clone, Debug)]
pub struct PasswordHasher {
    rounds: u32,
    /// A `bcrypt_sha256` bcrypt string at `rounds`, checked when there is nothing real to check
    /// so that such logins cost the same time as real ones.
    dummy: Arc<str>,
    /// Whether an over-cost hash has been logged as a warning yet (see `Unverifiable::log`).
    warned_over_cost: Arc<AtomicBool>,
}

impl PasswordHasher {
    /// `rounds` is the bcrypt cost (4..=16, the cap of stored hashes too) for new hashes. Makes a
    /// dummy hash at this cost (checked to spend the same time when there is no user / unusable
    /// password: login must take the same time whether the user exists or not), without hashing:
    /// see `bcrypt::unmatchable`, so a worker answers its first request without first spending a
    /// whole hash of CPU.
    pub fn new(rounds: u32) -> Result<Self, PasswordError> {
        if !(bcrypt::MIN_COST..=bcrypt::MAX_COST).contains(&rounds) {
            return Err(PasswordError::InvalidRounds(rounds));
        }
        let dummy = bcrypt::unmatchable(rounds);
        Ok(Self {
            rounds,
            dummy: dummy.into(),
            warned_over_cost: Arc::new(AtomicBool::new(false)),
        })
    }

    /// New hash in the preferred format: `bcrypt_sha256$$2b$<rounds>$...`.
    pub fn make_password(&self, raw: &str) -> Result<String, PasswordError> {
        let hash = bcrypt::hash_sha256(raw, self.rounds)?;
        Ok(format!("{}${hash}", Algorithm::BcryptSha256.name()))
    }

    /// True when `raw` matches `encoded`. With `encoded` None, unusable (`!...`), empty,
    /// malformed, over the cost cap or of an unsupported algorithm it returns false AFTER
    /// verifying against the dummy hash, so the time spent does not reveal which case it was.
    pub fn check_password(&self, raw: &str, encoded: Option<&str>) -> bool {
        match verify_encoded(raw, encoded) {
            Ok(matches) => matches,
            Err(reason) => {
                reason.log(&self.warned_over_cost);
                self.spend_dummy_time(raw);
                false
            }
        }
    }

    /// True when `encoded` is not in the preferred format with the configured rounds (Django's
    /// `must_update`): a successful login then re-hashes. Like Django, a `bcrypt_sha256` hash
    /// is judged by its cost only (a `$2a$` spelling is left alone).
    pub fn must_update(&self, encoded: &str) -> bool {
        match Algorithm::split(encoded) {
            Some((Algorithm::BcryptSha256, body)) => bcrypt::cost(body) != Some(self.rounds),
            _ => true,
        }
    }

    pub fn rounds(&self) -> u32 {
        self.rounds
    }

    fn spend_dummy_time(&self, raw: &str) {
        // black_box: the result is unused, and the work must not be optimised away.
        std::hint::black_box(bcrypt::verify_sha256(
            std::hint::black_box(raw),
            &self.dummy,
        ));
    }
}

fn verify_encoded(raw: &str, encoded: Option<&str>) -> Result<bool, Unverifiable> {
    let encoded = encoded
        .filter(|e| !e.is_empty() && is_password_usable(e))
        .ok_or(Unverifiable::NoPassword)?;
    let (algorithm, body) = Algorithm::split(encoded).ok_or(Unverifiable::UnknownAlgorithm)?;
    algorithm.verify(raw, body)
}

/// `!` + 40 random alphanumeric characters, as Django's `make_password(None)`.
pub fn make_unusable_password() -> String {
    let suffix = Alphanumeric.sample_string(&mut rand::rng(), UNUSABLE_PASSWORD_SUFFIX_LENGTH);
    format!("{UNUSABLE_PASSWORD_PREFIX}{suffix}")
}

/// False for `!...`; true otherwise (Django semantics: any other string, even a malformed one,
/// counts as usable).
pub fn is_password_usable(encoded: &str) -> bool {
    !encoded.starts_with(UNUSABLE_PASSWORD_PREFIX)
}

/// The algorithm name of an encoded hash ("bcrypt_sha256", "pbkdf2_sha256", ...), for `manage`
/// to display. None when unknown/unusable. Like Django, only the prefix is looked at: a
/// malformed body still has a name.
pub fn identify(encoded: &str) -> Option<&'static str> {
    Algorithm::split(encoded).map(|(algorithm, _)| algorithm.name())
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use serde_json::Value;

    use super::*;

    const VECTORS_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/");

    fn read_json(name: &str) -> Value {
        let path = format!("{VECTORS_DIR}{name}");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        serde_json::from_str(&text).unwrap()
    }

    #[derive(Debug)]
    struct Vector {
        hasher: String,
        password: String,
        encoded: String,
        wrong_password_matches: bool,
    }

    fn vectors() -> Vec<Vector> {
        let file = read_json("django_password_hashes.json");
        let hashes = file["hashes"].as_array().unwrap();
        hashes
            .iter()
            .map(|v| Vector {
                hasher: v["hasher"].as_str().unwrap().to_string(),
                password: v["password"].as_str().unwrap().to_string(),
                encoded: v["encoded"].as_str().unwrap().to_string(),
                wrong_password_matches: v["wrong_password_matches"].as_bool().unwrap(),
            })
            .collect()
    }

    fn vectors_for(hasher: &str) -> Vec<Vector> {
        vectors()
            .into_iter()
            .filter(|v| v.hasher == hasher)
            .collect()
    }

    /// Same length, last character changed: for plain bcrypt past 72 bytes this still matches.
    fn wrong_password(password: &str) -> String {
        let mut wrong = password.to_string();
        match wrong.pop() {
            None => wrong.push('x'),
            Some(last) => wrong.push(if last == 'y' { 'z' } else { 'y' }),
        }
        wrong
    }

    fn hasher() -> PasswordHasher {
        PasswordHasher::new(4).unwrap()
    }

    /// Each vector once with its password and once with a wrong one (the PBKDF2 ones run
    /// 1,000,000 iterations, so nothing more).
    fn check_vectors(hasher_name: &str) {
        let h = hasher();
        for v in vectors_for(hasher_name) {
            assert_eq!(identify(&v.encoded), Some(hasher_name), "{v:?}");
            assert!(h.check_password(&v.password, Some(&v.encoded)), "{v:?}");
            let wrong = wrong_password(&v.password);
            let matches = h.check_password(&wrong, Some(&v.encoded));
            assert_eq!(
                matches, v.wrong_password_matches,
                "wrong {wrong:?} for {v:?}"
            );
        }
    }

    /// The algorithm families with a vector test below; a new hasher in the file must get one.
    const TESTED_HASHERS: [&str; 6] = [
        "bcrypt_sha256",
        "bcrypt",
        "pbkdf2_sha256",
        "pbkdf2_sha1",
        "argon2",
        "scrypt",
    ];

    #[test]
    fn vectors_file_has_only_tested_hashers() {
        let all = vectors();
        assert_eq!(all.len(), 20);
        for v in &all {
            assert!(TESTED_HASHERS.contains(&v.hasher.as_str()), "{v:?}");
        }
    }

    #[test]
    fn vectors_bcrypt_sha256() {
        check_vectors("bcrypt_sha256");
    }

    #[test]
    fn vectors_plain_bcrypt() {
        // The file has none today (see plain_bcrypt_via_public_api); checked if any are added.
        check_vectors("bcrypt");
    }

    #[test]
    fn vectors_pbkdf2_sha256() {
        check_vectors("pbkdf2_sha256");
    }

    #[test]
    fn vectors_pbkdf2_sha1() {
        check_vectors("pbkdf2_sha1");
    }

    #[test]
    fn vectors_argon2() {
        // m=100 MiB, t=2, p=8 each: about a third of a second optimised.
        check_vectors("argon2");
    }

    #[test]
    fn vectors_scrypt() {
        check_vectors("scrypt");
    }

    #[test]
    fn vectors_unusable_example() {
        let file = read_json("django_password_hashes.json");
        let unusable = file["unusable_example"].as_str().unwrap();
        assert!(!is_password_usable(unusable));
        assert_eq!(identify(unusable), None);
        assert_eq!(unusable.len(), 1 + UNUSABLE_PASSWORD_SUFFIX_LENGTH);
        assert!(!hasher().check_password("", Some(unusable)));
        assert!(!hasher().check_password(&unusable[1..], Some(unusable)));
    }

    #[test]
    fn dumpdata_users_all_verify() {
        let users = read_json("django_dumpdata_auth_user.json");
        let passwords = read_json("django_dumpdata_auth_user.passwords.json");
        let h = hasher();
        let mut verified = 0;
        for user in users.as_array().unwrap() {
            let username = user["fields"]["username"].as_str().unwrap();
            let encoded = user["fields"]["password"].as_str().unwrap();
            match passwords[username].as_str() {
                None => {
                    assert!(!is_password_usable(encoded), "{username}");
                    assert!(!h.check_password("", Some(encoded)), "{username}");
                }
                Some(raw) => {
                    assert!(h.check_password(raw, Some(encoded)), "{username}");
                    assert!(h.must_update(encoded), "{username}");
                    verified += 1;
                }
            }
        }
        assert_eq!(
            verified, 4,
            "alice (pbkdf2_sha256), bob (bcrypt_sha256), admin (argon2), carol (pbkdf2_sha1)"
        );
    }

    #[test]
    fn make_password_round_trip() {
        let h = hasher();
        let encoded = h.make_password("correct horse").unwrap();
        assert!(encoded.starts_with("bcrypt_sha256$$2b$04$"), "{encoded}");
        assert_eq!(encoded.len(), "bcrypt_sha256$".len() + 60);
        assert!(h.check_password("correct horse", Some(&encoded)));
        assert!(!h.check_password("correct horsE", Some(&encoded)));
        assert!(!h.check_password("", Some(&encoded)));
        assert_eq!(identify(&encoded), Some("bcrypt_sha256"));
        assert!(!h.must_update(&encoded));
        // Fresh salt every time.
        assert_ne!(encoded, h.make_password("correct horse").unwrap());
    }

    #[test]
    fn make_password_of_empty_password() {
        let h = hasher();
        let encoded = h.make_password("").unwrap();
        assert!(h.check_password("", Some(&encoded)));
        assert!(!h.check_password(" ", Some(&encoded)));
    }

    #[test]
    fn long_passwords_are_not_truncated() {
        let h = hasher();
        let long = "x".repeat(100);
        let encoded = h.make_password(&long).unwrap();
        assert!(h.check_password(&long, Some(&encoded)));
        assert!(!h.check_password(&wrong_password(&long), Some(&encoded)));
        assert!(!h.check_password(&"x".repeat(72), Some(&encoded)));
        assert!(!h.check_password(&"x".repeat(101), Some(&encoded)));
    }

    #[test]
    fn plain_bcrypt_via_public_api() {
        // What Django's BCryptPasswordHasher stores: `bcrypt$` + bcrypt of the raw password.
        let long = "x".repeat(100);
        let bcrypt_string = ::bcrypt::hash_with_result(&long, 4)
            .unwrap()
            .format_for_version(::bcrypt::Version::TwoB);
        let encoded = format!("bcrypt${bcrypt_string}");
        let h = hasher();
        assert_eq!(identify(&encoded), Some("bcrypt"));
        assert!(h.check_password(&long, Some(&encoded)));
        // Django reports the same: bcrypt ignores everything past byte 72.
        assert!(h.check_password(&wrong_password(&long), Some(&encoded)));
        assert!(!h.check_password(&"x".repeat(71), Some(&encoded)));
        assert!(h.must_update(&encoded));
        // The same bcrypt string under the other prefix is a different (non-matching) hash.
        let as_sha256 = format!("bcrypt_sha256${bcrypt_string}");
        assert!(!h.check_password(&long, Some(&as_sha256)));
    }

    #[test]
    fn unicode_passwords() {
        let h = hasher();
        for raw in [
            "pässwörd-ünicode",
            "密码🔑",
            "Ωμέγα",
            "tab\tnewline\n",
            "nul\0byte",
        ] {
            let encoded = h.make_password(raw).unwrap();
            assert!(h.check_password(raw, Some(&encoded)), "{raw:?}");
            assert!(
                !h.check_password(&wrong_password(raw), Some(&encoded)),
                "{raw:?}"
            );
        }
        // Django does not normalise: precomposed é and e + combining accent differ.
        let encoded = h.make_password("caf\u{e9}").unwrap();
        assert!(!h.check_password("cafe\u{301}", Some(&encoded)));
    }

    #[test]
    fn nothing_to_check_is_false() {
        let h = hasher();
        let real = h.make_password("pw").unwrap();
        let unusable = make_unusable_password();
        let cases = [
            None,
            Some(""),
            Some("!"),
            Some(unusable.as_str()),
            Some(&*format!("!{real}")),
        ];
        for encoded in cases {
            assert!(!h.check_password("pw", encoded), "{encoded:?}");
            assert!(!h.check_password("", encoded), "{encoded:?}");
            assert_eq!(verify_encoded("pw", encoded), Err(Unverifiable::NoPassword));
        }
    }

    #[test]
    fn unknown_algorithms_are_false() {
        let h = hasher();
        let real = h.make_password("pw").unwrap();
        let body = real.strip_prefix("bcrypt_sha256$").unwrap();
        let cases = [
            "pw".to_string(),
            "bcrypt_sha256".to_string(),
            format!("BCRYPT_SHA256${body}"),
            format!(" {real}"),
            format!("bcrypt_sha256x${body}"),
            "md5$salt$0123456789abcdef0123456789abcdef".to_string(),
            "0123456789abcdef0123456789abcdef".to_string(),
            "sha1$$0123456789abcdef0123456789abcdef01234567".to_string(),
            "$".to_string(),
            "$$$".to_string(),
        ];
        for encoded in &cases {
            assert!(!h.check_password("pw", Some(encoded)), "{encoded:?}");
            assert_eq!(identify(encoded), None, "{encoded:?}");
            assert_eq!(
                verify_encoded("pw", Some(encoded)),
                Err(Unverifiable::UnknownAlgorithm),
                "{encoded:?}"
            );
        }
    }

    #[test]
    fn malformed_hashes_are_false_without_panic() {
        let h = hasher();
        let real = h.make_password("pw").unwrap();
        let cases = [
            "bcrypt_sha256$".to_string(),
            "bcrypt_sha256$$".to_string(),
            "bcrypt_sha256$$2b$04$short".to_string(),
            format!("{real}$"),
            format!("{real}é"),
            real.replacen("$$2b$04$", "$$2b$99$", 1),
            real.replacen("$$2b$04$", "$2b$04$", 1),
            "bcrypt$".to_string(),
            "pbkdf2_sha256$".to_string(),
            "pbkdf2_sha256$1000$salt".to_string(),
            "pbkdf2_sha256$abc$salt$aGVsbG8=".to_string(),
            "pbkdf2_sha256$0$salt$icRwgDa55wq80Zz4eV/xnfO880h0iWD9i2xTDdvob2o=".to_string(),
            "pbkdf2_sha256$1000$salt$%%%".to_string(),
            "pbkdf2_sha1$1000$salt$icRwgDa55wq80Zz4eV/xnfO880h0iWD9i2xTDdvob2o=".to_string(),
            "pbkdf2_sha1$1000$$HXIx5pHWFTyim35LZ0wW747vYAA=".to_string(),
            "argon2$".to_string(),
            "argon2$argon2id$v=19$m=102400,t=2,p=8$c2FsdHNhbHQ".to_string(),
            "scrypt$".to_string(),
            "scrypt$16384$salt$8$5$aGVsbG8=".to_string(),
        ];
        for encoded in &cases {
            assert!(!h.check_password("pw", Some(encoded)), "{encoded:?}");
            assert!(
                matches!(
                    verify_encoded("pw", Some(encoded)),
                    Err(Unverifiable::Malformed(_))
                ),
                "{encoded:?}"
            );
            assert!(h.must_update(encoded), "{encoded:?}");
        }
    }

    /// Over-cost hashes of every family: each well-formed apart from its work factor, which
    /// would take hours (or gigabytes) if computed. The test finishing at all shows they are not.
    const OVER_COST: [(&str, &str); 7] = [
        (
            "bcrypt_sha256$$2b$31$cAMpXvskydqaQ0nHa.JRxOlvKRZ0DdYgL2DU/PXYmVDIuyNazqrUS",
            "its bcrypt_sha256 cost 31 is above this server's cap of cost 16",
        ),
        (
            "bcrypt$$2b$17$cAMpXvskydqaQ0nHa.JRxOlvKRZ0DdYgL2DU/PXYmVDIuyNazqrUS",
            "its bcrypt cost 17 is above this server's cap of cost 16",
        ),
        (
            "pbkdf2_sha256$99999999999$salt$icRwgDa55wq80Zz4eV/xnfO880h0iWD9i2xTDdvob2o=",
            "its pbkdf2_sha256 99999999999 iterations is above this server's cap of 5000000 iterations",
        ),
        (
            "pbkdf2_sha1$4000000000$salt$HXIx5pHWFTyim35LZ0wW747vYAA=",
            "its pbkdf2_sha1 4000000000 iterations is above this server's cap of 5000000 iterations",
        ),
        (
            // One login would allocate 4 GiB.
            "argon2$argon2id$v=19$m=4194304,t=2,p=8$c2FsdHNhbHRzYWx0$c2FsdHNhbHRzYWx0",
            "its argon2 memory of 4194304 KiB is above this server's cap of 524288 KiB",
        ),
        (
            "argon2$argon2id$v=19$m=65536,t=4096,p=1$c2FsdHNhbHRzYWx0$c2FsdHNhbHRzYWx0",
            "its argon2 memory × passes of 65536 KiB × 4096 is above this server's cap of 1638400 KiB-passes",
        ),
        (
            "scrypt$16384$salt$8$65536$JaUvFPzSaw8L71wETR4cBRhIg+y3IXmx1B9pDT5GujL1Y3XRiSZEWZXfhKazoKTonMJT5U3kJVI7I7jv632ODg==",
            "its scrypt work N·r·p of 16384·8·65536 is above this server's cap of 10485760",
        ),
    ];

    #[test]
    fn over_cost_hashes_are_false_and_never_computed() {
        let h = hasher();
        for (encoded, message) in OVER_COST {
            assert!(!h.check_password("pw", Some(encoded)), "{encoded}");
            match verify_encoded("pw", Some(encoded)) {
                Err(Unverifiable::OverCost(over)) => assert_eq!(over.to_string(), message),
                other => panic!("{encoded}: {other:?}"),
            }
            assert_eq!(
                check_cost(encoded).map_err(|e| e.to_string()),
                Err(message.into())
            );
            assert!(h.must_update(encoded), "{encoded}");
        }
        // The flag is shared by clones: the warning is logged once per process.
        assert!(h.warned_over_cost.load(Ordering::Relaxed));
        assert!(h.clone().warned_over_cost.load(Ordering::Relaxed));
    }

    #[test]
    fn check_cost_passes_everything_else() {
        let h = hasher();
        let mut fine: Vec<String> = vectors().into_iter().map(|v| v.encoded).collect();
        fine.push(h.make_password("pw").unwrap());
        fine.push(
            "bcrypt_sha256$$2b$16$cAMpXvskydqaQ0nHa.JRxOlvKRZ0DdYgL2DU/PXYmVDIuyNazqrUS".to_owned(),
        );
        // Malformed, unusable and unknown hashes are not judged here (Django loads them too).
        for other in [
            "",
            "!",
            "garbage",
            "md5$salt$hash",
            "bcrypt_sha256$$2b$99$short",
            "bcrypt_sha256$$2b$32$cAMpXvskydqaQ0nHa.JRxOlvKRZ0DdYgL2DU/PXYmVDIuyNazqrUS",
            "pbkdf2_sha256$x$salt$key",
            "scrypt$16384$salt$8$x$key",
        ] {
            fine.push(other.to_owned());
        }
        for encoded in &fine {
            assert_eq!(check_cost(encoded), Ok(()), "{encoded}");
        }
    }

    #[test]
    fn identify_names() {
        for v in vectors() {
            assert_eq!(identify(&v.encoded), Some(v.hasher.as_str()));
        }
        assert_eq!(identify("bcrypt$$2b$12$whatever"), Some("bcrypt"));
        assert_eq!(identify("pbkdf2_sha1$"), Some("pbkdf2_sha1"));
        assert_eq!(identify("scrypt$x"), Some("scrypt"));
        assert_eq!(identify("argon2$x"), Some("argon2"));
        assert_eq!(identify(""), None);
        assert_eq!(identify("!"), None);
        assert_eq!(identify("!bcrypt_sha256$$2b$12$x"), None);
        assert_eq!(identify("unknown$x"), None);
        assert_eq!(identify("bcrypt_sha256"), None);
    }

    #[test]
    fn must_update_cases() {
        let h4 = hasher();
        let h5 = PasswordHasher::new(5).unwrap();
        let at4 = h4.make_password("pw").unwrap();
        let at5 = h5.make_password("pw").unwrap();
        assert!(!h4.must_update(&at4));
        assert!(h4.must_update(&at5));
        assert!(h5.must_update(&at4));
        assert!(!h5.must_update(&at5));
        // Django judges bcrypt_sha256 by cost alone, not by the 2a/2b/2y spelling.
        assert!(!h4.must_update(&at4.replacen("$$2b$", "$$2a$", 1)));
        for v in vectors() {
            // Every vector is either another algorithm or bcrypt_sha256 at cost 12.
            assert!(h4.must_update(&v.encoded), "{v:?}");
        }
        let h12 = PasswordHasher::new(12).unwrap();
        for v in vectors() {
            assert_eq!(
                h12.must_update(&v.encoded),
                v.hasher != "bcrypt_sha256",
                "{v:?}"
            );
        }
        for other in ["", "!", "garbage", "bcrypt_sha256$$2b$04$short"] {
            assert!(h4.must_update(other), "{other:?}");
        }
    }

    #[test]
    fn make_unusable_password_shape() {
        let a = make_unusable_password();
        let b = make_unusable_password();
        assert_ne!(a, b);
        for p in [&a, &b] {
            let suffix = p.strip_prefix(UNUSABLE_PASSWORD_PREFIX).unwrap();
            assert_eq!(suffix.len(), 40);
            assert!(suffix.bytes().all(|c| c.is_ascii_alphanumeric()), "{p}");
            assert!(!is_password_usable(p));
            assert_eq!(identify(p), None);
        }
    }

    #[test]
    fn is_password_usable_follows_django() {
        assert!(!is_password_usable("!"));
        assert!(!is_password_usable("!anything"));
        assert!(is_password_usable(""));
        assert!(is_password_usable("garbage"));
        assert!(is_password_usable("bcrypt_sha256$$2b$12$x"));
    }

    #[test]
    fn new_validates_rounds() {
        assert!(matches!(
            PasswordHasher::new(3),
            Err(PasswordError::InvalidRounds(3))
        ));
        assert!(matches!(
            PasswordHasher::new(17),
            Err(PasswordError::InvalidRounds(17))
        ));
        assert!(matches!(
            PasswordHasher::new(32),
            Err(PasswordError::InvalidRounds(32))
        ));
        assert!(matches!(
            PasswordHasher::new(0),
            Err(PasswordError::InvalidRounds(0))
        ));
        assert_eq!(hasher().rounds(), 4);
        assert_eq!(
            PasswordError::InvalidRounds(3).to_string(),
            "bcrypt rounds must be between 4 and 16, got 3"
        );
    }

    #[test]
    fn hasher_is_clone_send_sync() {
        fn assert_traits<T: Clone + Send + Sync + 'static>() {}
        assert_traits::<PasswordHasher>();
        let h = hasher();
        let clone = h.clone();
        assert!(Arc::ptr_eq(&h.dummy, &clone.dummy));
        assert_eq!(clone.rounds(), 4);
    }

    #[test]
    fn no_real_hash_costs_about_as_much_as_a_real_check() {
        // Minimum of several interleaved runs, so machine load can only make the test more lenient.
        let h = PasswordHasher::new(8).unwrap();
        let real = h.make_password("pw").unwrap();
        let time = |encoded: Option<&str>| {
            let start = Instant::now();
            h.check_password("wrong", encoded);
            start.elapsed()
        };
        let (mut real_min, mut dummy_min) = (Duration::MAX, Duration::MAX);
        for _ in 0..5 {
            real_min = real_min.min(time(Some(&real)));
            for encoded in [None, Some("!x"), Some("garbage"), Some("argon2$x")] {
                dummy_min = dummy_min.min(time(encoded));
            }
        }
        assert!(
            dummy_min * 2 >= real_min,
            "dummy {dummy_min:?} vs real {real_min:?}"
        );
    }
}
