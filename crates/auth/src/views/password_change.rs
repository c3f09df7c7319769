//! `POST /api/users/me/password/`: Django's PasswordChangeForm over DRF. The old password must be
//! right, the new one passes AUTH_PASSWORD_VALIDATORS, and then every session of the user ends.

use actix_web::web;
use serde_json::{Map, Value};
use users::validators::UserAttributes;

use crate::api::{ApiError, Fields, RequestData};
use crate::authn::AuthUser;
use crate::state::AuthState;
use crate::store::sessions;
use crate::tokens::now;
use crate::views::schema::ErrorDetail;
use crate::views::service;

/// Django's PasswordChangeForm message for a wrong old password.
pub const INCORRECT_OLD: &str = "Your old password was entered incorrectly. Please enter it again.";

/// dj-rest-auth's PasswordChangeView answer (the anchor for this endpoint's shape).
pub const SAVED: &str = "New password has been saved.";

fn field_error(field: &str, messages: Vec<String>) -> ApiError {
    let mut map = Map::new();
    map.insert(
        field.to_owned(),
        Value::Array(messages.into_iter().map(Value::String).collect()),
    );
    ApiError::Fields(map)
}

/// The two fields, DRF's CharField rules. Passwords are trimmed as the token view trims them, so
/// a password set here is the one that logs in.
pub fn parse(data: &RequestData) -> Result<(String, String), ApiError> {
    let mut fields = Fields::new(&data.0)?;
    let old = fields.char_field("old_password");
    let new = fields.char_field("new_password");
    fields.finish()?;
    match (old, new) {
        (Some(old), Some(new)) => Ok((old, new)),
        _ => Err(ApiError::internal("validated fields missing")),
    }
}

/// Checks the old password, validates and stores the new one, and ends every session. With
/// CHECK_REVOKE_TOKEN the access tokens die too: their claim is a hash of the stored hash.
/// The old-password check counts against the user's brute-force counter as a login would (a
/// stolen access token must not be a way to guess the password), from `client`'s address.
pub async fn change(
    state: &web::Data<AuthState>,
    client: &str,
    user: AuthUser,
    old: String,
    new: String,
) -> Result<ErrorDetail, ApiError> {
    let settings = state.settings.clone();
    let user = state
        .with_conn(move |conn| service::database_user(conn, &settings.simple_jwt, &user))
        .await?;
    let attempt = state
        .brute_force
        .begin(&state.metrics, &user.username, client)
        .await?;
    match state.check_password(old, Some(user.password.clone())).await {
        Ok(true) => attempt.succeeded().await,
        Ok(false) => {
            attempt.failed(&state.metrics).await;
            return Err(field_error("old_password", vec![INCORRECT_OLD.to_owned()]));
        }
        Err(e) => {
            attempt.abandoned().await;
            return Err(e);
        }
    }
    let state_ref = state.clone();
    let candidate = user.clone();
    // Validation and bcrypt are CPU work: both on the blocking pool.
    let encoded = web::block(move || {
        state_ref
            .password_validators()?
            .validate(&new, Some(&UserAttributes::from(&candidate)))
            .map_err(|rejected| {
                field_error(
                    "new_password",
                    rejected.failures.into_iter().map(|f| f.message).collect(),
                )
            })?;
        state_ref
            .hasher
            .make_password(&new)
            .map_err(ApiError::internal)
    })
    .await??;
    let (id, at) = (user.id, now());
    let ended = state
        .with_conn(move |conn| {
            // One write transaction: a new password with the old sessions still live is what an
            // attacker who knew the old password would want. Its UPDATE holds the user's row, so
            // a rotation racing it waits and then finds its token blacklisted; a failed COMMIT is
            // an error here, never "saved".
            users::tx::write(conn, |conn| {
                if users::queries::set_password(conn, id, &encoded)? == 0 {
                    return Err(ApiError::NotFound);
                }
                Ok(sessions::end_all(conn, id, at)?)
            })
        })
        .await?;
    // This process's authentications see the new password (and its end of old tokens) at once.
    state.users.forget(id, &user.username);
    log::info!("password changed: user {id}, {ended} token(s) blacklisted");
    Ok(ErrorDetail::detail(SAVED))
}
