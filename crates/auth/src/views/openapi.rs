//! The OpenAPI document of the token views: every `#[utoipa::path]` of `views`, the body schemas
//! of `schema`, `bodies` and `service`, and the answers any operation can give.

use utoipa::openapi::path::Operation;
use utoipa::openapi::response::{ResponseBuilder, ResponsesBuilder};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref};
use utoipa::{Modify, OpenApi};

use crate::views::bodies::{PairBody, RefreshedBody};
use crate::views::schema::{
    BadRequest, Empty, ErrorDetail, FieldErrors, Jwks, Me, TokenMessage, TokenNotValid,
    Unauthorized,
};
use crate::views::service::Slid;

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
        PairBody,
        RefreshedBody,
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
