//! Extractors that turn every malformed request into a problem the client can act on, and the
//! one place where the caller's identity enters the application.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use samverka_domain::actor::{Actor, UnitRef};
use samverka_domain::ids::HsaId;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::AppState;
use crate::problem::ApiError;

/// A JSON body. Malformed JSON, a wrong type or a missing field, a missing content type and
/// an oversized body each get their own problem.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(JsonRejection::JsonSyntaxError(e)) => Err(ApiError::new(
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
                Err(ApiError {
                    field,
                    ..ApiError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "invalid_body",
                        format!("Ett fält saknas eller har fel typ: {detail}"),
                        format!("A field is missing or has the wrong type: {detail}"),
                    )
                })
            }
            Err(JsonRejection::MissingJsonContentType(_)) => Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "json_required",
                "Skicka innehållet som JSON med Content-Type: application/json.",
                "Send the body as JSON with Content-Type: application/json.",
            )),
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                format!(
                    "Innehållet är för stort (högst {} kB). Korta texten eller dela upp den.",
                    crate::MAX_BODY_BYTES / 1024
                ),
                "The body is too large.",
            )),
            Err(e) => Err(ApiError::new(
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
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Path::<T>::from_request_parts(parts, state).await.map(|Path(v)| ApiPath(v)).map_err(|e: PathRejection| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_path",
                format!("Adressen innehåller ett ogiltigt id: {}", e.body_text()),
                e.body_text(),
            )
        })
    }
}

/// Query parameters.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Query::<T>::from_request_parts(parts, state).await.map(|Query(v)| ApiQuery(v)).map_err(|e: QueryRejection| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_query",
                format!("Sökparametrarna är ogiltiga: {}", e.body_text()),
                e.body_text(),
            )
        })
    }
}

/// Header naming the user in the development login.
pub const USER_HEADER: &str = "x-samverka-user";
/// Header naming the unit (id or HSA-id) the user acts for in the development login.
pub const UNIT_HEADER: &str = "x-samverka-unit";

/// The user and the unit they act for.
///
/// This is the seam where authentication plugs in: today a development login names user and
/// unit in two headers (only when `dev_login` is on); real login with assignments replaces
/// this extractor and nothing behind it.
pub struct CurrentActor(pub Actor);

impl FromRequestParts<AppState> for CurrentActor {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if !state.config.dev_login {
            return Err(ApiError::unauthorized(
                "login_required",
                "Du behöver logga in.",
                "Login required; the development login is switched off.",
            ));
        }
        let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
        let (Some(user), Some(unit)) = (header(USER_HEADER), header(UNIT_HEADER)) else {
            return Err(ApiError::unauthorized(
                "login_required",
                "Du behöver logga in och välja enhet (utvecklingsinloggning: rubrikerna X-Samverka-User och X-Samverka-Unit).",
                "Login required: send X-Samverka-User and X-Samverka-Unit.",
            ));
        };
        let unknown_user = || ApiError::unauthorized("unknown_user", "Användaren finns inte.", "Unknown user.");
        let user_id = Uuid::parse_str(user).map_err(|_| unknown_user())?;
        let user = state.store.user(user_id).await?.ok_or_else(unknown_user)?;
        let unit = match Uuid::parse_str(unit) {
            Ok(id) => state.store.unit(id).await?,
            Err(_) => match HsaId::parse(unit) {
                Ok(hsa) => state.store.unit_by_hsa(&hsa).await?,
                Err(_) => None,
            },
        }
        .ok_or_else(|| ApiError::unauthorized("unknown_unit", "Enheten finns inte.", "Unknown unit."))?;
        let unit = UnitRef {
            id: unit.id,
            name: unit.name,
            hsa_id: unit.hsa_id,
            kind: unit.kind,
            organisation_id: unit.organisation_id,
        };
        Ok(CurrentActor(Actor { user, unit }))
    }
}
