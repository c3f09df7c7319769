//! The body schemas of the token views, for the OpenAPI document (`openapi`).
//!
//! The request types here are documentation only: the views parse bodies DRF-style (JSON, form or
//! multipart) through `api::Fields`, so the schema describes what that parser accepts: required
//! CharFields that may not be blank (empty or only whitespace). The error
//! types mirror `api::error::ApiError::body`, the one place error bodies are made. The answer
//! types (`Empty`, `Me`, `Jwks`, and `ErrorDetail` for a `{"detail"}` answer) are what the views
//! serialize; so are `bodies::PairBody` and `bodies::RefreshedBody` and `service::Slid`.

use std::collections::BTreeMap;

use utoipa::openapi::schema::{AnyOfBuilder, Schema};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

/// Credentials for the obtain views.
#[derive(ToSchema)]
#[schema(example = json!({"username": "alice", "password": "correct horse battery staple"}))]
pub struct TokenObtainRequest {
    #[schema(min_length = 1, pattern = r"\S")]
    pub username: String,
    #[schema(min_length = 1, pattern = r"\S")]
    pub password: String,
}

/// A refresh token, for the refresh and blacklist views.
#[derive(ToSchema)]
pub struct RefreshRequest {
    #[schema(min_length = 1, pattern = r"\S")]
    pub refresh: String,
}

/// The logout view's body: the refresh token, unless the refresh cookie carries it.
#[derive(ToSchema)]
pub struct LogoutRequest {
    pub refresh: Option<String>,
}

/// Any token, for the verify and sliding refresh views.
#[derive(ToSchema)]
pub struct TokenRequest {
    #[schema(min_length = 1, pattern = r"\S")]
    pub token: String,
}

/// The password change view's body.
#[derive(ToSchema)]
pub struct PasswordChangeRequest {
    #[schema(min_length = 1, pattern = r"\S")]
    pub old_password: String,
    #[schema(min_length = 1, pattern = r"\S")]
    pub new_password: String,
}

/// An empty object: the answer of verify, blacklist and logout-all.
#[derive(serde::Serialize, ToSchema)]
pub struct Empty {}

/// The authenticated user (from the database, or from the token's claims with
/// JWTStatelessUserAuthentication).
// `views::me` answers with this type itself: JSON values, because a stateless user's fields are
// its token's claims as they are.
#[derive(serde::Serialize, ToSchema)]
pub struct Me {
    #[schema(value_type = i64)]
    pub id: serde_json::Value,
    #[schema(value_type = String)]
    pub username: serde_json::Value,
    #[schema(value_type = String)]
    pub email: serde_json::Value,
}

/// A JSON Web Key Set (RFC 7517); empty for HMAC algorithms.
#[derive(serde::Serialize, ToSchema)]
pub struct Jwks {
    #[schema(value_type = Vec<Object>)]
    pub keys: Vec<serde_json::Value>,
}

impl Jwks {
    /// The token backend's key set, each key as jsonwebtoken writes it.
    pub fn of(set: &jsonwebtoken::jwk::JwkSet) -> Result<Jwks, serde_json::Error> {
        let keys = set
            .keys
            .iter()
            .map(serde_json::to_value)
            .collect::<Result<_, _>>()?;
        Ok(Jwks { keys })
    }
}

/// DRF serializer errors: each field (or `non_field_errors`) with its messages.
#[derive(ToSchema)]
#[schema(example = json!({"username": ["This field is required."]}))]
pub struct FieldErrors(pub BTreeMap<String, Vec<String>>);

/// DRF's `{"detail": ...}`, with simplejwt's (and our) `code` where one applies. Also the answer
/// of logout and of the password change (`{"detail"}` alone).
#[derive(serde::Serialize, ToSchema)]
#[schema(example = json!({"detail": "Token is invalid", "code": "token_not_valid"}))]
pub struct ErrorDetail {
    pub detail: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

impl ErrorDetail {
    /// `{"detail": detail}`.
    pub fn detail(detail: impl Into<String>) -> Self {
        ErrorDetail {
            detail: detail.into(),
            code: None,
        }
    }
}

/// One token class's reason for refusing a token.
#[derive(ToSchema)]
pub struct TokenMessage {
    pub token_class: String,
    pub token_type: String,
    pub message: String,
}

/// simplejwt's InvalidToken from an authentication class: every class's reason.
#[derive(ToSchema)]
pub struct TokenNotValid {
    pub detail: String,
    pub code: String,
    pub messages: Vec<TokenMessage>,
}

/// A 400: field errors, or `{"detail"}` when the body does not parse.
pub struct BadRequest;

impl PartialSchema for BadRequest {
    fn schema() -> RefOr<Schema> {
        any_of(&["FieldErrors", "ErrorDetail"])
    }
}

impl ToSchema for BadRequest {}

/// A 401 from a protected view: no credentials or a bad password (`{"detail"}`), or a token no
/// class accepts (`TokenNotValid`). anyOf, not oneOf: a `TokenNotValid` is also an `ErrorDetail`.
pub struct Unauthorized;

impl PartialSchema for Unauthorized {
    fn schema() -> RefOr<Schema> {
        any_of(&["TokenNotValid", "ErrorDetail"])
    }
}

impl ToSchema for Unauthorized {}

fn any_of(names: &[&str]) -> RefOr<Schema> {
    names
        .iter()
        .fold(AnyOfBuilder::new(), |b, name| {
            b.item(Ref::from_schema_name(*name))
        })
        .into()
}
