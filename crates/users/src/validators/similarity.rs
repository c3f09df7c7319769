//! Django's `UserAttributeSimilarityValidator`: refuses a password too much like the username,
//! names or email address (each whole, and each of its word-separated parts).

use std::collections::HashMap;

use settings::UserAttribute;

use super::{python_lower, Failure, UserAttributes};

#[derive(Debug, Clone, PartialEq)]
pub(super) struct UserAttributeSimilarity {
    pub user_attributes: Vec<UserAttribute>,
    /// At least 0.1 (the settings enforce Django's bound).
    pub max_similarity: f64,
}

impl UserAttributeSimilarity {
    /// The first attribute the password is too similar to, in `user_attributes` order. Without a
    /// user there is nothing to compare with (Django skips the check too).
    pub(super) fn validate(
        &self,
        password: &str,
        user: Option<&UserAttributes<'_>>,
    ) -> Result<(), Failure> {
        let Some(user) = user else {
            return Ok(());
        };
        let password = python_lower(password);
        let password: Vec<char> = password.chars().collect();
        for &attribute in &self.user_attributes {
            let value = user.get(attribute);
            if value.is_empty() {
                continue;
            }
            let value = python_lower(value);
            let parts = split_on_non_word(&value)
                .into_iter()
                .chain([value.as_str()]);
            for part in parts {
                let part: Vec<char> = part.chars().collect();
                if exceeds_maximum_length_ratio(&password, self.max_similarity, &part) {
                    continue;
                }
                if quick_ratio(&password, &part) >= self.max_similarity {
                    return Err(Failure {
                        code: "password_too_similar",
                        message: format!(
                            "The password is too similar to the {}.",
                            verbose_name(attribute)
                        ),
                    });
                }
            }
        }
        Ok(())
    }
}

/// The field's `verbose_name` on Django's `User` model, as the message names it.
fn verbose_name(attribute: UserAttribute) -> &'static str {
    match attribute {
        UserAttribute::Username => "username",
        UserAttribute::FirstName => "first name",
        UserAttribute::LastName => "last name",
        UserAttribute::Email => "email address",
    }
}

/// Django's shortcut: a value far shorter than the password can never reach `max_similarity`
/// (quick_ratio is at most 2 * len(value) / (len(password) + len(value))), so it is skipped.
fn exceeds_maximum_length_ratio(password: &[char], max_similarity: f64, value: &[char]) -> bool {
    let pwd_len = password.len();
    let value_len = value.len();
    let length_bound_similarity = max_similarity / 2.0 * pwd_len as f64;
    pwd_len >= 10 * value_len && (value_len as f64) < length_bound_similarity
}

/// Python's `difflib.SequenceMatcher(a=a, b=b).quick_ratio()`: twice the size of the multiset
/// intersection of the characters over the total length; 1.0 for two empty strings. An upper
/// bound of `ratio()` that ignores order, which is what Django compares against.
pub fn quick_ratio(a: &[char], b: &[char]) -> f64 {
    let mut available: HashMap<char, usize> = HashMap::new();
    for &c in b {
        *available.entry(c).or_default() += 1;
    }
    let mut matches = 0usize;
    for c in a {
        if let Some(n) = available.get_mut(c).filter(|n| **n > 0) {
            *n -= 1;
            matches += 1;
        }
    }
    let length = a.len() + b.len();
    if length == 0 {
        1.0
    } else {
        2.0 * matches as f64 / length as f64
    }
}

/// Python's `re.split(r"\W+", text)`: the runs of word characters, with an empty string before
/// a leading and after a trailing separator, as Python gives them.
fn split_on_non_word(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut in_separator = false;
    for (i, c) in text.char_indices() {
        match (is_word(c), in_separator) {
            (true, true) => {
                start = i;
                in_separator = false;
            }
            (false, false) => {
                parts.push(&text[start..i]);
                in_separator = true;
            }
            _ => {}
        }
    }
    parts.push(if in_separator { "" } else { &text[start..] });
    parts
}

/// Python's `\w` on str: `str.isalnum()` or `_`. Rust's alphanumeric differs only for a few
/// combining vowel signs (Other_Alphabetic), which Python counts as separators.
fn is_word(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chars(s: &str) -> Vec<char> {
        s.chars().collect()
    }

    #[test]
    fn quick_ratio_matches_difflib() {
        // Values printed by CPython's difflib.
        assert_eq!(quick_ratio(&chars("abcd"), &chars("bcde")), 0.75);
        assert_eq!(quick_ratio(&chars(""), &chars("")), 1.0);
        assert_eq!(quick_ratio(&chars("a"), &chars("")), 0.0);
        assert_eq!(quick_ratio(&chars("aab"), &chars("abb")), 2.0 * 2.0 / 6.0);
        // Django's docstring table: SequenceMatcher(a='A', b='A' * 10).quick_ratio().
        assert_eq!(
            quick_ratio(&chars("A"), &chars(&"A".repeat(10))),
            0.181_818_181_818_181_82
        );
        assert_eq!(
            quick_ratio(&chars("A"), &chars(&"A".repeat(100))),
            0.019_801_980_198_019_802
        );
    }

    #[test]
    fn splits_like_python_re() {
        assert_eq!(split_on_non_word("-a-"), ["", "a", ""]);
        assert_eq!(split_on_non_word("a--b"), ["a", "b"]);
        assert_eq!(split_on_non_word("--"), ["", ""]);
        assert_eq!(
            split_on_non_word("alice.liddell@wonder.land"),
            ["alice", "liddell", "wonder", "land"]
        );
        assert_eq!(split_on_non_word("jürgen_müller"), ["jürgen_müller"]);
        assert_eq!(split_on_non_word(""), [""]);
    }
}
