//! Extractors that turn every malformed request into a problem the client can act on. The
//! caller's identity enters through `auth::Caller`.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::AppError;

/// A JSON body. Malformed JSON, a wrong type or a missing field, a missing content type and
/// an oversized body each get their own problem.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(JsonRejection::JsonSyntaxError(e)) => Err(AppError::new(
                StatusCode::BAD_REQUEST,
                "malformed_json",
                format!("Innehållet är inte giltig JSON: {}", e.body_text()),
                format!("The body is not valid JSON: {}", e.body_text()),
            )),
            Err(JsonRejection::JsonDataError(e)) => {
                let text = e.body_text();
                let detail =
                    text.strip_prefix("Failed to deserialize the JSON body into the target type: ").unwrap_or(&text);
                let field = detail.split(':').next().filter(|f| !f.contains(' ')).map(str::to_string);
                Err(AppError {
                    field,
                    ..AppError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "invalid_body",
                        format!("Ett fält saknas eller har fel typ: {detail}"),
                        format!("A field is missing or has the wrong type: {detail}"),
                    )
                })
            }
            Err(JsonRejection::MissingJsonContentType(_)) => Err(AppError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "json_required",
                "Skicka innehållet som JSON med Content-Type: application/json.",
                "Send the body as JSON with Content-Type: application/json.",
            )),
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(AppError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                format!(
                    "Innehållet är för stort (högst {} kB). Korta texten eller dela upp den.",
                    crate::config::MAX_BODY_BYTES / 1024
                ),
                "The body is too large.",
            )),
            Err(e) => Err(AppError::new(
                StatusCode::BAD_REQUEST,
                "unreadable_body",
                "Innehållet kunde inte läsas.",
                e.body_text(),
            )),
        }
    }
}

/// Path parameters; a malformed id is a 400 that names the parameter.
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        Path::<T>::from_request_parts(parts, state).await.map(|Path(v)| ApiPath(v)).map_err(|e: PathRejection| {
            AppError::new(
                StatusCode::BAD_REQUEST,
                "invalid_path",
                "Adressen innehåller ett id som inte finns. Kontrollera länken, eller sök upp ärendet eller sidan igen.",
                format!("The address holds an invalid id: {}", e.body_text()),
            )
        })
    }
}

/// Query parameters.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        Query::<T>::from_request_parts(parts, state).await.map(|Query(v)| ApiQuery(v)).map_err(|e: QueryRejection| {
            AppError::new(
                StatusCode::BAD_REQUEST,
                "invalid_query",
                format!("Sökparametrarna är ogiltiga: {}", e.body_text()),
                e.body_text(),
            )
        })
    }
}
