//! Django's rules for the fields `manage` writes: `username` (UnicodeUsernameValidator, 150
//! characters), `email` (EmailValidator, 254 characters) and the names (150 characters), with
//! Django's messages.

/// `AbstractUser.username`'s max_length.
const USERNAME_MAX: usize = 150;
/// `AbstractUser.email`'s max_length.
const EMAIL_MAX: usize = 254;
/// `AbstractUser.first_name`'s and `last_name`'s max_length.
const NAME_MAX: usize = 150;

pub fn username(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("This field cannot be blank.".to_owned());
    }
    max_length(name, USERNAME_MAX)?;
    // Django's `^[\w.@+-]+\Z`, \w being Unicode letters, digits and underscore.
    if name
        .chars()
        .all(|c| c.is_alphanumeric() || "_.@+-".contains(c))
    {
        Ok(())
    } else {
        Err("Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters."
            .to_owned())
    }
}

/// `AbstractUser.first_name` and `last_name`: anything up to 150 characters, blank included.
pub fn name(value: &str) -> Result<(), String> {
    max_length(value, NAME_MAX)
}

/// Blank is allowed (Django's email is optional); otherwise a plausible `local@domain`.
pub fn email(address: &str) -> Result<(), String> {
    if address.is_empty() {
        return Ok(());
    }
    max_length(address, EMAIL_MAX)?;
    let valid = address.rsplit_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && !local
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '@')
            && domain_ok(domain)
    });
    if valid {
        Ok(())
    } else {
        Err("Enter a valid email address.".to_owned())
    }
}

/// `localhost`, or dot-separated labels of letters, digits and inner hyphens (at least two).
fn domain_ok(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_alphanumeric() || c == '-')
    };
    labels.iter().all(label_ok) && (labels.len() >= 2 || domain == "localhost")
}

fn max_length(value: &str, max: usize) -> Result<(), String> {
    let len = value.chars().count();
    if len > max {
        Err(format!(
            "Ensure this value has at most {max} characters (it has {len})."
        ))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        for ok in ["alice", "a.b@c+d-e_f", "Zoë", "x".repeat(150).as_str()] {
            assert_eq!(username(ok), Ok(()), "{ok}");
        }
        assert_eq!(username(""), Err("This field cannot be blank.".into()));
        assert!(username("with space")
            .unwrap_err()
            .starts_with("Enter a valid username."));
        assert!(username("semi;colon").is_err());
        assert_eq!(
            username(&"x".repeat(151)),
            Err("Ensure this value has at most 150 characters (it has 151).".into())
        );
    }

    #[test]
    fn emails() {
        for ok in [
            "",
            "a@example.com",
            "first.last+tag@sub.example.org",
            "root@localhost",
        ] {
            assert_eq!(email(ok), Ok(()), "{ok}");
        }
        for bad in [
            "plain",
            "@example.com",
            "a@",
            "a@example",
            "a b@example.com",
            "a@-x.com",
            "a@x..com",
        ] {
            assert_eq!(
                email(bad),
                Err("Enter a valid email address.".into()),
                "{bad}"
            );
        }
    }
}
