//! `generatesecretkey`: a random SECRET_KEY, like Django's `get_random_secret_key()`.

use std::io::Write;

use rand::Rng;

use super::error::CommandError;

/// Django's alphabet without `!@#$%^&*()`: those break an unquoted value in a shell, and dotenv
/// (which `.env` is read with) substitutes `$name`, silently changing the key.
pub const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789-_=+";

/// Longer than Django's 50 so that the key is long enough for every HMAC algorithm (HS512 needs
/// 64 bytes); 64 characters of this alphabet carry 340 bits.
pub const DEFAULT_LENGTH: u16 = 64;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Number of characters (at least 50).
    #[arg(long, default_value_t = DEFAULT_LENGTH, value_parser = clap::value_parser!(u16).range(50..))]
    length: u16,
}

pub fn run(args: Args, out: &mut dyn Write) -> Result<(), CommandError> {
    writeln!(out, "{}", random_string(usize::from(args.length)))?;
    Ok(())
}

/// A new key of the default length (also the stand-in key of the commands that sign nothing).
pub fn random_secret_key() -> String {
    random_string(usize::from(DEFAULT_LENGTH))
}

fn random_string(length: usize) -> String {
    // rand's thread RNG is a CSPRNG seeded from the OS.
    let mut rng = rand::rng();
    (0..length)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_long_random_and_from_the_alphabet() {
        let a = random_secret_key();
        let b = random_secret_key();
        assert_ne!(a, b);
        assert_eq!(a.len(), usize::from(DEFAULT_LENGTH));
        assert!(a.bytes().all(|c| ALPHABET.contains(&c)), "{a}");
        // A generated key passes the settings' own checks for the strictest HMAC algorithm.
        let env = [
            ("SECRET_KEY".to_owned(), a),
            ("SIMPLE_JWT__ALGORITHM".to_owned(), "HS512".to_owned()),
        ];
        assert!(settings::Settings::from_sources(None, &env).is_ok());
    }
}
