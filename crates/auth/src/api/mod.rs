//! DRF's request/response plumbing: the error enum and its one mapping to HTTP, request body
//! parsing (JSON, form, multipart), serializer-style field validation, and what is read off the
//! request besides its body (client address, cookies).

pub mod data;
pub mod error;
pub mod fields;
pub mod request;

pub use data::RequestData;
pub use error::ApiError;
pub use fields::Fields;
