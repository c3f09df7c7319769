//! Checking a username and password, as Django's `authenticate()` with ModelBackend does: the
//! password is hashed even for unknown users (same time either way), inactive users are refused,
//! and a hash in an outdated format or cost is upgraded after a successful check; every check runs
//! behind the brute-force guard (`limits::brute_force`).

use users::User;

use crate::api::ApiError;
use crate::state::AuthState;

/// The credentials check behind the brute-force guard: 429 while the username or the client
/// address is locked (without looking the user up or hashing), else the check, counted.
pub async fn authenticate(
    state: &AuthState,
    client: &str,
    username: String,
    password: String,
) -> Result<Option<User>, ApiError> {
    let attempt = state
        .brute_force
        .begin(&state.metrics, &username, client)
        .await?;
    match check(state, username, password).await {
        Ok(Some(user)) => {
            attempt.succeeded().await;
            Ok(Some(user))
        }
        Ok(None) => {
            attempt.failed(&state.metrics).await;
            Ok(None)
        }
        // A database outage is not the client's failure.
        Err(e) => {
            attempt.abandoned().await;
            Err(e)
        }
    }
}

/// The active user these credentials belong to, or `None` (unknown, wrong password, inactive).
async fn check(
    state: &AuthState,
    username: String,
    password: String,
) -> Result<Option<User>, ApiError> {
    let user = state
        .with_conn(move |conn| Ok(users::queries::by_username(conn, &username)?))
        .await?;
    let encoded = user.as_ref().map(|u| u.password.clone());
    let matches = state.check_password(password.clone(), encoded).await?;
    let user = match user {
        Some(u) if matches && u.is_active => u,
        _ => return Ok(None),
    };
    if !state.hasher.must_update(&user.password) {
        return Ok(Some(user));
    }
    let encoded = state
        .hash(move |hasher| hasher.make_password(&password))
        .await?
        .map_err(ApiError::internal)?;
    let id = user.id;
    let stored = encoded.clone();
    state
        .with_conn(move |conn| Ok(users::queries::set_password(conn, id, &stored)?))
        .await?;
    // The stored hash is what CHECK_REVOKE_TOKEN compares against: no cached copy may outlive it.
    state.users.forget(id, &user.username);
    Ok(Some(User {
        password: encoded,
        ..user
    }))
}
