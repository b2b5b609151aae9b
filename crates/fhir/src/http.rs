//! What every FHIR handler shares: the media type, errors as OperationOutcomes, answers,
//! and the first check of a request body.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use samverka_app::error::AppError;
use samverka_store::StoreError;
use serde_json::{Value, json};

pub const FHIR_JSON: &str = "application/fhir+json; charset=utf-8";

/// An error as an OperationOutcome.
#[derive(Debug)]
pub struct FhirError {
    pub status: StatusCode,
    /// FHIR issue type (http://hl7.org/fhir/issue-type).
    pub code: &'static str,
    pub sv: String,
    pub en: String,
}

impl FhirError {
    pub fn new(status: StatusCode, code: &'static str, sv: impl Into<String>, en: impl Into<String>) -> Self {
        FhirError { status, code, sv: sv.into(), en: en.into() }
    }

    pub fn invalid(sv: impl Into<String>, en: impl Into<String>) -> Self {
        FhirError::new(StatusCode::BAD_REQUEST, "invalid", sv, en)
    }

    pub fn not_found(what_sv: &str, what_en: &str) -> Self {
        FhirError::new(
            StatusCode::NOT_FOUND,
            "not-found",
            format!("{what_sv} finns inte."),
            format!("No such {what_en}."),
        )
    }
}

impl From<AppError> for FhirError {
    fn from(e: AppError) -> Self {
        let code = match e.status {
            StatusCode::FORBIDDEN => "forbidden",
            StatusCode::UNAUTHORIZED => "login",
            StatusCode::NOT_FOUND => "not-found",
            StatusCode::CONFLICT => "conflict",
            s if s.is_client_error() => "invalid",
            _ => "exception",
        };
        FhirError { status: e.status, code, sv: e.sv, en: e.en }
    }
}

impl From<StoreError> for FhirError {
    fn from(e: StoreError) -> Self {
        AppError::from(e).into()
    }
}

impl IntoResponse for FhirError {
    fn into_response(self) -> Response {
        let body = json!({
            "resourceType": "OperationOutcome",
            "issue": [{
                "severity": "error",
                "code": self.code,
                "details": { "text": self.sv },
                "diagnostics": self.en,
            }],
        });
        let mut res = (self.status, body.to_string()).into_response();
        res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(FHIR_JSON));
        if self.status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        res
    }
}

pub type FhirResult = Result<Response, FhirError>;

pub fn fhir(body: &Value) -> Response {
    let mut res = (StatusCode::OK, body.to_string()).into_response();
    res.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(FHIR_JSON));
    res
}

/// A body that reads but cannot be taken (422).
pub fn unprocessable(sv: impl Into<String>, en: impl Into<String>) -> FhirError {
    FhirError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", sv, en)
}

/// The body as JSON of the expected resource type.
pub fn resource_body(body: &str, resource_type: &str) -> Result<Value, FhirError> {
    let v: Value = serde_json::from_str(body).map_err(|e| {
        FhirError::invalid(format!("Kroppen är inte giltig JSON: {e}"), format!("The body is not valid JSON: {e}"))
    })?;
    if v["resourceType"] != resource_type {
        return Err(unprocessable(
            format!("resourceType ska vara {resource_type}."),
            format!("resourceType must be {resource_type}."),
        ));
    }
    Ok(v)
}

/// 201 with the new resource and its address.
pub fn created(resource: &Value, path: String) -> Response {
    let mut res = fhir(resource);
    *res.status_mut() = StatusCode::CREATED;
    res.headers_mut().insert(header::LOCATION, HeaderValue::from_str(&path).expect("a path is a header value"));
    res
}
