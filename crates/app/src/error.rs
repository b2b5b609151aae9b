//! Every error the API returns is `application/problem+json` (RFC 9457) with a Swedish
//! `detail` a user can act on, the English beside it, and a stable `code` for machines.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use samverka_domain::{Problem, ProblemKind};
use samverka_store::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemDetails {
    /// `urn:samverka:problem:<code>`.
    #[serde(rename = "type")]
    pub type_uri: String,
    pub title: String,
    pub status: u16,
    /// What went wrong and what to do, in Swedish.
    pub detail: String,
    /// The same in English.
    pub detail_en: String,
    /// Stable machine-readable code, e.g. `step_out_of_order`.
    pub code: String,
    /// The input field the problem is about, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The case to use instead, when the problem is that one already exists.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub existing_case: Option<uuid::Uuid>,
}

#[derive(Debug)]
pub struct AppError {
    pub status: StatusCode,
    pub code: String,
    pub field: Option<String>,
    pub sv: String,
    pub en: String,
    /// The case to use instead (see [`ProblemDetails::existing_case`]).
    pub existing_case: Option<uuid::Uuid>,
}

impl AppError {
    pub fn new(status: StatusCode, code: &str, sv: impl Into<String>, en: impl Into<String>) -> Self {
        AppError { status, code: code.to_string(), field: None, sv: sv.into(), en: en.into(), existing_case: None }
    }

    pub fn invalid(field: &str, code: &str, sv: impl Into<String>, en: impl Into<String>) -> Self {
        AppError { field: Some(field.to_string()), ..Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, sv, en) }
    }

    pub fn not_found(what_sv: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", format!("{what_sv} finns inte."), "Not found.")
    }

    pub fn unauthorized(code: &str, sv: impl Into<String>, en: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, sv, en)
    }

    fn title(&self) -> &'static str {
        self.status.canonical_reason().unwrap_or("Error")
    }
}

impl From<Problem> for AppError {
    fn from(p: Problem) -> Self {
        let status = match p.kind {
            ProblemKind::Invalid => StatusCode::UNPROCESSABLE_ENTITY,
            ProblemKind::NotFound => StatusCode::NOT_FOUND,
            ProblemKind::Conflict => StatusCode::CONFLICT,
            ProblemKind::Forbidden | ProblemKind::ConsentRequired => StatusCode::FORBIDDEN,
        };
        AppError {
            status,
            code: p.code.to_string(),
            field: p.field,
            sv: p.message_sv,
            en: p.message_en,
            existing_case: None,
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Problem(p) => p.into(),
            StoreError::Unavailable(cause) => {
                tracing::warn!(%cause, "database unavailable");
                AppError::database_unavailable()
            }
            StoreError::DiskFull => AppError::new(
                StatusCode::INSUFFICIENT_STORAGE,
                "disk_full",
                "Samverkas disk är full, så inget kan sparas just nu. Ingenting av det du skickade har sparats. \
                 Du kan fortsätta läsa ärenden; driften behöver frigöra utrymme.",
                "The server's disk is full: nothing was saved. Reading goes on; operations must free space.",
            ),
            other => {
                tracing::error!(error = %other, "internal error");
                AppError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal_error",
                    "Ett oväntat fel inträffade. Inget har sparats. Kontakta support om det upprepas.",
                    "An unexpected error occurred. Nothing was saved.",
                )
            }
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let body = ProblemDetails {
            type_uri: format!("urn:samverka:problem:{}", self.code),
            title: self.title().to_string(),
            status: self.status.as_u16(),
            detail: self.sv,
            detail_en: self.en,
            code: self.code,
            field: self.field,
            existing_case: self.existing_case,
        };
        let unavailable = body.code == "database_unavailable";
        let mut res = (self.status, axum::Json(body)).into_response();
        res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if unavailable {
            res.extensions_mut().insert(DatabaseUnavailable);
        }
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            res.headers_mut().insert(header::RETRY_AFTER, RETRY_AFTER);
        }
        res
    }
}

pub type AppResult<T> = Result<T, AppError>;

/// When a client answered 503 may try again, in seconds.
pub const RETRY_AFTER: HeaderValue = HeaderValue::from_static("5");

/// Marks a response that failed because the database could not be reached.
#[derive(Debug, Clone, Copy)]
pub struct DatabaseUnavailable;

impl AppError {
    /// The answer while the database is away.
    pub fn database_unavailable() -> Self {
        AppError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "database_unavailable",
            "Samverka når inte sin databas just nu. Inget har sparats; försök igen om en stund.",
            "The database is unavailable. Nothing was saved; try again shortly.",
        )
    }

    /// The answer to a request turned away because the server is at capacity.
    pub fn busy() -> Self {
        AppError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "busy",
            "Samverka har fler anrop än det hinner med just nu. Inget har sparats; försök igen om en stund.",
            "Samverka is at capacity. Nothing was saved; try again shortly.",
        )
    }
}
