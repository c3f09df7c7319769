//! Django's `CommonPasswordValidator`: refuses the 20,000 most common passwords (Django's own
//! list, embedded), or the passwords of a configured list file.

use std::collections::HashSet;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use flate2::read::GzDecoder;

use super::{python_lower, python_strip, Failure, ValidatorError};

/// Django 5.2's `django/contrib/auth/common-passwords.txt.gz` (BSD-3-Clause, Django Software
/// Foundation; see data/README.md): lower-cased, one per line.
static DJANGO_LIST: &[u8] = include_bytes!("../../data/common-passwords.txt.gz");

/// The list, shared between clones (it is about 20,000 strings).
#[derive(Debug, Clone)]
pub(super) struct CommonPasswords {
    passwords: Arc<HashSet<String>>,
}

impl CommonPasswords {
    /// Django's list.
    pub(super) fn django() -> Result<Self, ValidatorError> {
        let text = gunzip(DJANGO_LIST).map_err(ValidatorError::EmbeddedList)?;
        Ok(Self::from_text(&text))
    }

    /// `password_list_path`: gzip-compressed or plain UTF-8, one password per line, already
    /// lower-cased (Django compares the lower-cased password against the lines as they are).
    pub(super) fn from_file(path: &Path) -> Result<Self, ValidatorError> {
        let read_error = |source| ValidatorError::PasswordList {
            path: path.to_owned(),
            source,
        };
        let bytes = std::fs::read(path).map_err(read_error)?;
        // Django tries gzip first and falls back to plain text, whatever the file is called.
        let text = match gunzip(&bytes) {
            Ok(text) => text,
            Err(_) => String::from_utf8(bytes)
                .map_err(|e| read_error(std::io::Error::new(std::io::ErrorKind::InvalidData, e)))?,
        };
        Ok(Self::from_text(&text))
    }

    fn from_text(text: &str) -> Self {
        let passwords = text.lines().map(|l| python_strip(l).to_owned()).collect();
        Self {
            passwords: Arc::new(passwords),
        }
    }

    pub(super) fn validate(&self, password: &str) -> Result<(), Failure> {
        let lower = python_lower(password);
        if self.passwords.contains(python_strip(&lower)) {
            Err(Failure {
                code: "password_too_common",
                message: "This password is too common.".to_owned(),
            })
        } else {
            Ok(())
        }
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.passwords.len()
    }
}

fn gunzip(bytes: &[u8]) -> std::io::Result<String> {
    let mut text = String::new();
    GzDecoder::new(bytes).read_to_string(&mut text)?;
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn djangos_list_is_embedded() {
        let list = CommonPasswords::django().unwrap();
        // Django's file has 20,000 lines before de-duplication by strip().
        assert!(list.len() > 19_000, "{}", list.len());
        for common in [
            "password",
            "PassWord",
            " password ",
            "123456",
            "qwerty",
            "iloveyou",
        ] {
            assert!(list.validate(common).is_err(), "{common}");
        }
        assert!(list.validate("x7#k2!pQ9@vL").is_ok());
    }

    #[test]
    fn list_file_plain_or_gzip() {
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("list.txt");
        std::fs::write(&plain, "hunter2\nopen sesame\n").unwrap();
        let list = CommonPasswords::from_file(&plain).unwrap();
        assert!(list.validate("Hunter2").is_err());
        assert!(
            list.validate("password").is_ok(),
            "only the file's passwords"
        );

        let gz = dir.path().join("list.txt.gz");
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut encoder, b"swordfish\n").unwrap();
        std::fs::write(&gz, encoder.finish().unwrap()).unwrap();
        assert!(CommonPasswords::from_file(&gz)
            .unwrap()
            .validate("SWORDFISH")
            .is_err());

        let missing = dir.path().join("missing.txt");
        let err = CommonPasswords::from_file(&missing)
            .unwrap_err()
            .to_string();
        assert!(err.contains("missing.txt"), "{err}");
    }
}
