//! Finding the user a token names, and the rule for whether that user may authenticate: written
//! once for authentication and for refresh.

use serde_json::Value;

use settings::{SimpleJwt, UserClaim, UserIdField};
use users::{DbConnection, User};

/// The user id claim could not name a user: absent, or of a type/shape no user id has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unrecognizable;

/// Looks up the user named by a user id claim value (`"1"` or `1` for USER_ID_FIELD = id).
/// `Ok(None)` when no such user exists; a value that cannot be an id of that field finds nobody.
pub fn user_for_claim(
    conn: &mut DbConnection,
    settings: &SimpleJwt,
    claim: &Value,
) -> diesel::QueryResult<Option<User>> {
    match settings.user_id_field {
        UserIdField::Id => match id_from_claim(claim) {
            Some(id) => users::queries::by_id(conn, id),
            None => Ok(None),
        },
        UserIdField::Username => match claim {
            Value::String(name) => users::queries::by_username(conn, name),
            _ => Ok(None),
        },
    }
}

/// `"1"` and `1` both name user 1 (simplejwt 5.5.1 writes strings, older versions integers).
pub fn id_from_claim(claim: &Value) -> Option<i32> {
    match claim {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_i64().and_then(|n| i32::try_from(n).ok()),
        _ => None,
    }
}

/// The user id as it goes into a token: always a string (simplejwt 5.5.1).
pub fn claim_for_user(settings: &SimpleJwt, user: &User) -> String {
    match settings.user_id_field {
        UserIdField::Id => user.id.to_string(),
        UserIdField::Username => user.username.clone(),
    }
}

/// A TOKEN_USER_CLAIMS field of the user, as the JSON value that goes into the token.
pub fn user_field(user: &User, field: UserClaim) -> Value {
    match field {
        UserClaim::Username => user.username.clone().into(),
        UserClaim::Email => user.email.clone().into(),
        UserClaim::FirstName => user.first_name.clone().into(),
        UserClaim::LastName => user.last_name.clone().into(),
        UserClaim::IsStaff => user.is_staff.into(),
        UserClaim::IsSuperuser => user.is_superuser.into(),
        UserClaim::IsActive => user.is_active.into(),
    }
}

/// simplejwt's default USER_AUTHENTICATION_RULE: active, unless CHECK_USER_IS_ACTIVE is off.
pub fn may_authenticate(settings: &SimpleJwt, user: &User) -> bool {
    user.is_active || !settings.check_user_is_active
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn user_id_claims_as_string_or_number() {
        assert_eq!(id_from_claim(&json!("1")), Some(1));
        assert_eq!(id_from_claim(&json!(1)), Some(1));
        for bad in [
            json!("abc"),
            json!(1.5),
            json!(true),
            json!(null),
            json!([1]),
            json!(1u64 << 40),
            json!(""),
        ] {
            assert_eq!(id_from_claim(&bad), None, "{bad}");
        }
    }
}
