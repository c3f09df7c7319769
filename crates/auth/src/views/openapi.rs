//! The OpenAPI description of the token views: request and error body schemas, and the document
//! that gathers every `#[utoipa::path]` of `views`.
//!
//! The request types here are documentation only: the views parse bodies DRF-style (JSON, form or
//! multipart) through `api::Fields`, so the schema describes what that parser accepts: required
//! CharFields that may not be blank (empty or only whitespace). The error
//! types mirror `api::error::ApiError::body`, the one place error bodies are made.

use std::collections::BTreeMap;

use utoipa::openapi::path::Operation;
use utoipa::openapi::response::{ResponseBuilder, ResponsesBuilder};
use utoipa::openapi::schema::{AnyOfBuilder, Schema};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr};
use utoipa::{Modify, OpenApi, PartialSchema, ToSchema};

use crate::views::service::{Pair, Refreshed, Slid};

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
#[derive(ToSchema)]
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
#[derive(ToSchema)]
pub struct Jwks {
    #[schema(value_type = Vec<Object>)]
    pub keys: Vec<serde_json::Value>,
}

/// DRF serializer errors: each field (or `non_field_errors`) with its messages.
#[derive(ToSchema)]
#[schema(example = json!({"username": ["This field is required."]}))]
pub struct FieldErrors(pub BTreeMap<String, Vec<String>>);

/// DRF's `{"detail": ...}`, with simplejwt's (and our) `code` where one applies.
#[derive(ToSchema)]
#[schema(example = json!({"detail": "Token is invalid", "code": "token_not_valid"}))]
pub struct ErrorDetail {
    pub detail: String,
    pub code: Option<String>,
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

/// The answers any operation can give, whatever its view: defined once under
/// `components/responses` and referenced from every operation by [`CommonResponses`].
const COMMON: [(&str, &str, &str); 8] = [
    (
        "405",
        "MethodNotAllowed",
        "Method not allowed (the `Allow` header lists the methods).",
    ),
    (
        "413",
        "PayloadTooLarge",
        "The body is larger than SERVER.MAX_BODY_SIZE (code `request_too_large`).",
    ),
    (
        "414",
        "RequestLineTooLarge",
        "The request line is longer than SERVER.LIMIT_REQUEST_LINE (code `request_line_too_large`).",
    ),
    (
        "415",
        "UnsupportedMediaType",
        "The body is not JSON, form or multipart, or has no Content-Type.",
    ),
    (
        "431",
        "RequestHeaderFieldsTooLarge",
        "More header fields than SERVER.LIMIT_REQUEST_FIELDS, or one longer than SERVER.LIMIT_REQUEST_FIELD_SIZE (code `request_header_fields_too_large`).",
    ),
    (
        "429",
        "Throttled",
        "Throttled; `Retry-After` says when to come back.",
    ),
    (
        "500",
        "ServerError",
        "An unexpected error (code `error`); the cause is logged, never shown.",
    ),
    (
        "503",
        "ServiceUnavailable",
        "The database is unreachable or the request timed out (code `service_unavailable`).",
    ),
];

/// Adds the shared error answers and the security schemes.
struct CommonResponses;

impl Modify for CommonResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        for (_, name, description) in COMMON {
            let response = ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("ErrorDetail")))
                        .build(),
                )
                .build();
            components
                .responses
                .insert(name.to_owned(), response.into());
        }
        components.add_security_scheme(
            "jwt",
            SecurityScheme::Http(
                Http::builder()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        components.add_security_scheme(
            "basic",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Basic)),
        );
        for item in openapi.paths.paths.values_mut() {
            for op in [&mut item.get, &mut item.post].into_iter().flatten() {
                add_common(op);
            }
        }
    }
}

fn add_common(op: &mut Operation) {
    let common = COMMON
        .iter()
        .fold(ResponsesBuilder::new(), |b, (status, name, _)| {
            b.response(*status, Ref::new(format!("#/components/responses/{name}")))
        });
    for (status, response) in common.build().responses {
        op.responses.responses.entry(status).or_insert(response);
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "JWT auth server",
        description = "djangorestframework-simplejwt's token views, served by a Rust server. \
                       Bodies may be JSON, form-encoded or multipart; errors are DRF-shaped."
    ),
    paths(
        crate::views::obtain_pair,
        crate::views::refresh,
        crate::views::verify,
        crate::views::blacklist,
        crate::views::logout,
        crate::views::obtain_sliding,
        crate::views::refresh_sliding,
        crate::views::jwks,
        crate::views::logout_all,
        crate::views::change_password,
        crate::views::me,
    ),
    components(schemas(
        Pair,
        Refreshed,
        Slid,
        Empty,
        Me,
        Jwks,
        FieldErrors,
        ErrorDetail,
        TokenMessage,
        TokenNotValid,
        BadRequest,
        Unauthorized,
    )),
    modifiers(&CommonResponses),
    tags(
        (name = "token", description = "simplejwt's token views"),
        (name = "user", description = "Views of the authenticated user"),
    )
)]
pub struct ApiDoc;
