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

/// The FHIR base as clients reach it (`https://samverka.region.example/fhir`), for absolute
/// `fullUrl`s and links: the configured public URL, or else the request's host (as the trusted
/// proxy forwarded it, when there is one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FhirBase(pub String);

impl axum::extract::FromRequestParts<samverka_app::AppState> for FhirBase {
    type Rejection = FhirError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        st: &samverka_app::AppState,
    ) -> Result<Self, FhirError> {
        if let Some(url) = &st.config.public_url {
            return Ok(FhirBase(format!("{}/fhir", url.trim_end_matches('/'))));
        }
        let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
        let via_proxy = samverka_app::auth::from_trusted_proxy(parts);
        let forwarded = |name: &str| {
            if via_proxy { header(name).and_then(|v| v.split(',').next().map(|s| s.trim().to_string())) } else { None }
        };
        let host =
            forwarded("x-forwarded-host").or_else(|| header("host")).filter(|h| valid_host(h)).ok_or_else(|| {
                FhirError::invalid(
                    "Anropet saknar en giltig Host. Ange den, eller ställ in public_url.",
                    "The request has no valid Host header; send one or configure public_url.",
                )
            })?;
        let scheme = match forwarded("x-forwarded-proto").as_deref() {
            Some("https") => "https",
            Some("http") => "http",
            _ if st.config.hsts => "https",
            _ => "http",
        };
        Ok(FhirBase(format!("{scheme}://{host}/fhir")))
    }
}

/// A host name or address with an optional port, nothing that could end a URL's authority.
fn valid_host(h: &str) -> bool {
    !h.is_empty() && h.len() <= 255 && h.chars().all(|c| c.is_ascii_alphanumeric() || "-.:[]".contains(c))
}

/// What every answer under `/fhir` passes through (the server puts it outside every other
/// layer, so that a timeout or a refusal at the door is answered the same way): a client that accepts only another format
/// (XML) is answered 406 before anything is done, and every error, wherever it arose (an
/// unknown path, a method not allowed, a body too large), is an OperationOutcome.
pub async fn negotiate(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let path = req.uri().path();
    // OAuth and SMART discovery speak plain JSON with their own errors.
    let fhir =
        path.starts_with("/fhir/") && !path.starts_with("/fhir/auth/") && !path.starts_with("/fhir/.well-known/");
    if !fhir {
        return next.run(req).await;
    }
    if let Some(wanted) = unacceptable_format(&req) {
        return FhirError::new(
            StatusCode::NOT_ACCEPTABLE,
            "not-supported",
            format!("Samverka svarar bara med FHIR JSON (application/fhir+json), inte {wanted}."),
            format!("Samverka answers in FHIR JSON (application/fhir+json) only, not {wanted}."),
        )
        .into_response();
    }
    let res = next.run(req).await;
    let is_fhir =
        res.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/fhir+json"));
    let status = res.status();
    if status.as_u16() < 400 || is_fhir {
        return res;
    }
    let (code, sv, en) = match status {
        StatusCode::NOT_FOUND => ("not-found", "Det finns ingen sådan FHIR-adress.", "No such FHIR endpoint."),
        StatusCode::METHOD_NOT_ALLOWED => (
            "not-supported",
            "Metoden stöds inte för den här FHIR-adressen (se Allow och CapabilityStatement).",
            "The method is not supported here (see Allow and the CapabilityStatement).",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => ("too-costly", "Kroppen är för stor.", "The body is too large."),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ("not-supported", "Skicka kroppen som application/fhir+json.", "Send the body as application/fhir+json.")
        }
        StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => {
            ("throttled", "Servern är upptagen. Försök igen om en stund.", "The server is busy; try again shortly.")
        }
        s if s.is_client_error() => ("invalid", "Anropet kan inte tas emot.", "The request cannot be taken."),
        _ => ("exception", "Ett fel uppstod i Samverka.", "An error occurred in Samverka."),
    };
    // The body is replaced; every other header (Allow, Retry-After, the security headers) stays.
    let (mut parts, _) = res.into_parts();
    let (_, body) = FhirError::new(status, code, sv, en).into_response().into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(FHIR_JSON));
    Response::from_parts(parts, body)
}

/// The format asked for when it is one Samverka does not serve: `_format` other than JSON, or
/// an Accept header that admits no JSON.
fn unacceptable_format(req: &axum::extract::Request) -> Option<String> {
    let json = |t: &str| {
        let t = t.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        matches!(t.as_str(), "json" | "application/json" | "application/fhir+json" | "*/*" | "application/*" | "")
    };
    let query = req.uri().query().unwrap_or("");
    let format = serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .unwrap_or_default()
        .into_iter()
        .find(|(k, _)| k == "_format")
        .map(|(_, v)| v);
    if let Some(f) = format {
        return (!json(&f)).then_some(f);
    }
    let accept = req.headers().get(header::ACCEPT).and_then(|v| v.to_str().ok())?;
    (!accept.split(',').any(json)).then(|| accept.to_string())
}
