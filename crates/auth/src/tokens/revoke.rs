//! CHECK_REVOKE_TOKEN: tokens carry an MD5 of the user's password hash (simplejwt's
//! `get_md5_hash_password`), so changing the password ends every token issued before.

use md5::{Digest, Md5};
use serde_json::Value;
use subtle::ConstantTimeEq;

use settings::SimpleJwt;
use users::User;

use crate::tokens::backend::Claims;

/// simplejwt's message when a token outlived a password change.
pub const PASSWORD_CHANGED: &str = "The user's password has been changed.";

/// `hashlib.md5(user.password.encode()).hexdigest().upper()`: of the stored hash, not the password.
pub fn password_hash_claim(encoded_password: &str) -> String {
    hex::encode_upper(Md5::digest(encoded_password.as_bytes()))
}

/// Whether a token's `claims` still match the user's password (always, when CHECK_REVOKE_TOKEN is
/// off). A missing or non-string claim does not match, as in simplejwt (`None != "..."`).
pub fn still_valid(settings: &SimpleJwt, claims: &Claims, user: &User) -> bool {
    if !settings.check_revoke_token {
        return true;
    }
    let expected = password_hash_claim(&user.password);
    match claims.get(&settings.revoke_token_claim) {
        Some(Value::String(claim)) => bool::from(claim.as_bytes().ct_eq(expected.as_bytes())),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_pythons_md5_hexdigest_upper() {
        // Python: hashlib.md5(text.encode()).hexdigest().upper()
        assert_eq!(password_hash_claim(""), "D41D8CD98F00B204E9800998ECF8427E");
        assert_eq!(
            password_hash_claim("The quick brown fox jumps over the lazy dog"),
            "9E107D9D372BB6826BD81D3542A419D6"
        );
    }
}
