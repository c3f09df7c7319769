//! Django's `MinimumLengthValidator`: at least `min_length` characters (Unicode scalar values, as
//! Python's `len`).

use super::Failure;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct MinimumLength {
    pub min_length: usize,
}

impl MinimumLength {
    pub(super) fn validate(&self, password: &str) -> Result<(), Failure> {
        if password.chars().count() >= self.min_length {
            return Ok(());
        }
        // Django's ngettext: English has the singular for exactly one, the plural otherwise.
        let unit = if self.min_length == 1 {
            "character"
        } else {
            "characters"
        };
        Err(Failure {
            code: "password_too_short",
            message: format!(
                "This password is too short. It must contain at least {} {unit}.",
                self.min_length
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_characters_not_bytes() {
        let v = MinimumLength { min_length: 8 };
        assert!(v.validate("12345678").is_ok());
        assert!(v.validate("ééééééé").is_err(), "7 characters, 14 bytes");
        assert!(v.validate("éééééééé").is_ok());
        assert_eq!(
            v.validate("1234567").unwrap_err().message,
            "This password is too short. It must contain at least 8 characters."
        );
        assert_eq!(
            MinimumLength { min_length: 1 }
                .validate("")
                .unwrap_err()
                .message,
            "This password is too short. It must contain at least 1 character."
        );
        assert!(MinimumLength { min_length: 0 }.validate("").is_ok());
    }
}
