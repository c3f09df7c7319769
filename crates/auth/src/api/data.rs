//! `request.data` as DRF builds it: the body parsed by content type (JSON, form, multipart), capped
//! in size, with DRF's answers for empty bodies, bad JSON and unsupported media types.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header::{self, HeaderMap};
use actix_web::web::{Bytes, BytesMut};
use actix_web::{FromRequest, HttpRequest};
use futures_util::StreamExt;
use serde_json::{Map, Value};

use super::error::ApiError;

/// The largest body accepted, in bytes (app data; `SERVER.MAX_BODY_SIZE`).
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// The parsed body: a JSON value (any shape: the serializer decides what is acceptable), or the
/// fields of a form, the last value of a repeated key winning (QueryDict's `[]`).
#[derive(Debug, Clone, PartialEq)]
pub struct RequestData(pub Value);

enum Media {
    Json,
    Form,
    Multipart,
}

fn media(content_type: &str) -> Option<Media> {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "application/json" => Some(Media::Json),
        "application/x-www-form-urlencoded" => Some(Media::Form),
        "multipart/form-data" => Some(Media::Multipart),
        _ => None,
    }
}

impl FromRequest for RequestData {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limit = req
            .app_data::<BodyLimit>()
            .copied()
            .unwrap_or(BodyLimit(2_621_440))
            .0;
        let headers = req.headers().clone();
        let payload = payload.take();
        Box::pin(async move {
            let body = read_body(&headers, payload, limit).await?;
            parse(&headers, body).await.map(RequestData)
        })
    }
}

async fn read_body(
    headers: &HeaderMap,
    mut payload: Payload,
    limit: usize,
) -> Result<Bytes, ApiError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::Parse(format!("Could not read the request body: {e}")))?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

async fn parse(headers: &HeaderMap, body: Bytes) -> Result<Value, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    // DRF: no body or no content type means empty data, whatever the content type says.
    let Some(content_type) = content_type.filter(|_| !body.is_empty()) else {
        return Ok(Value::Object(Map::new()));
    };
    match media(&content_type) {
        Some(Media::Json) => parse_json(&body),
        Some(Media::Form) => Ok(Value::Object(form_fields(&body))),
        Some(Media::Multipart) => multipart_fields(headers, body).await.map(Value::Object),
        None => Err(ApiError::UnsupportedMediaType(content_type)),
    }
}

fn parse_json(body: &[u8]) -> Result<Value, ApiError> {
    // serde_json refuses NaN/Infinity (as DRF's strict parser does) and nesting beyond 128 levels,
    // so a deeply nested body is a 400, not a stack overflow.
    serde_json::from_slice(body).map_err(|e| ApiError::Parse(format!("JSON parse error - {e}")))
}

fn form_fields(body: &[u8]) -> Map<String, Value> {
    let mut map = Map::new();
    for (k, v) in url::form_urlencoded::parse(body) {
        map.insert(k.into_owned(), Value::String(v.into_owned()));
    }
    map
}

async fn multipart_fields(
    headers: &HeaderMap,
    body: Bytes,
) -> Result<Map<String, Value>, ApiError> {
    let bad = |e: actix_multipart::MultipartError| {
        ApiError::Parse(format!("Multipart form parse error - {e}"))
    };
    let stream =
        futures_util::stream::once(async move { Ok::<_, actix_web::error::PayloadError>(body) });
    let mut multipart = actix_multipart::Multipart::new(headers, stream);
    let mut map = Map::new();
    while let Some(field) = multipart.next().await {
        let mut field = field.map_err(bad)?;
        let name = field.name().map(str::to_owned);
        let is_file = field
            .content_disposition()
            .and_then(|cd| cd.get_filename())
            .is_some();
        let mut value = BytesMut::new();
        while let Some(chunk) = field.next().await {
            value.extend_from_slice(&chunk.map_err(bad)?);
        }
        // Files are not fields of any serializer here; DRF would put them in request.FILES.
        if let (Some(name), false) = (name, is_file) {
            map.insert(
                name,
                Value::String(String::from_utf8_lossy(&value).into_owned()),
            );
        }
    }
    Ok(map)
}
