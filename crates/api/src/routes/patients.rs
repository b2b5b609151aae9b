//! Registering and finding patients.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use samverka_domain::actor::Actor;
use samverka_domain::calendar::local_date;
use samverka_domain::ids::{Kommunkod, PatientIdentifier, ReservnummerRule};
use samverka_domain::org::UnitKind;
use samverka_domain::patient::{Address, ProtectedIdentity, validate_name};
use samverka_store::NewPatient;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::AppState;
use crate::extract::{ApiJson, ApiPath, ApiQuery, CurrentActor};
use crate::problem::{ApiError, ApiResult, ProblemDetails};
use crate::views::PatientView;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPatientRequest {
    /// Chosen by the client to make a retry safe; generated when absent.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub id: Option<Uuid>,
    /// Personnummer or samordningsnummer (10 or 12 digits, with or without separator), or
    /// the region's reservnummer.
    pub identifier: String,
    pub given_name: String,
    pub family_name: String,
    /// Folkbokföringskommun as SCB kommunkod, e.g. "0184".
    pub kommun: String,
    /// The vårdcentral the patient is listed at.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub listed_unit: Option<Uuid>,
    #[serde(default)]
    pub protection: ProtectedIdentity,
    pub address: Option<Address>,
}

#[derive(Deserialize, IntoParams)]
pub struct SearchQuery {
    /// Personnummer, samordningsnummer or reservnummer.
    pub identifier: String,
}

/// The reservnummer pattern of the agreement the caller's organisation follows.
pub(crate) async fn reserv_rule(st: &AppState, actor: &Actor) -> ApiResult<Option<ReservnummerRule>> {
    let agreement_id = st
        .store
        .organisation(actor.unit.organisation_id)
        .await?
        .and_then(|(_, a)| a)
        .unwrap_or_else(|| st.config.default_agreement.clone());
    let pattern = st.store.agreements().get(&agreement_id).and_then(|a| a.reservnummer_pattern.clone());
    Ok(pattern.and_then(|p| ReservnummerRule::new(&p).ok()))
}

fn check_address(a: &Address) -> ApiResult<Address> {
    let street = a.street.trim();
    let city = a.city.trim();
    let postal: String = a.postal_code.chars().filter(|c| !c.is_whitespace()).collect();
    if street.is_empty() || street.chars().count() > 200 || street.chars().any(char::is_control) {
        return Err(ApiError::invalid(
            "address.street",
            "invalid_address",
            "Skriv gatuadressen (högst 200 tecken).",
            "Write the street address.",
        ));
    }
    if postal.len() != 5 || !postal.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::invalid(
            "address.postal_code",
            "invalid_postal_code",
            "Postnumret ska vara fem siffror, t.ex. 171 64.",
            "A postal code is five digits.",
        ));
    }
    if city.is_empty() || city.chars().count() > 100 || city.chars().any(char::is_control) {
        return Err(ApiError::invalid("address.city", "invalid_address", "Skriv postorten.", "Write the city."));
    }
    Ok(Address { street: street.into(), postal_code: format!("{} {}", &postal[..3], &postal[3..]), city: city.into() })
}

/// Registers a patient.
#[utoipa::path(post, path = "/api/patients", tag = "patients", request_body = NewPatientRequest,
    responses(
        (status = 201, body = PatientView),
        (status = 409, description = "Already registered", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, description = "Invalid input", body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn create(
    State(st): State<AppState>,
    CurrentActor(actor): CurrentActor,
    ApiJson(req): ApiJson<NewPatientRequest>,
) -> ApiResult<(StatusCode, Json<PatientView>)> {
    let now = st.clock.now();
    let rule = reserv_rule(&st, &actor).await?;
    let identifier = PatientIdentifier::parse(&req.identifier, local_date(now), rule.as_ref())
        .map_err(|e| e.problem("identifier"))?;
    let given_name = validate_name("given_name", &req.given_name)?;
    let family_name = validate_name("family_name", &req.family_name)?;
    let kommun = Kommunkod::parse(&req.kommun).map_err(|e| e.problem("kommun"))?;
    if let Some(listed) = req.listed_unit {
        match st.store.unit(listed).await? {
            Some(u) if u.kind == UnitKind::Vardcentral => {}
            Some(u) => {
                return Err(ApiError::invalid(
                    "listed_unit",
                    "not_a_vardcentral",
                    format!("{} är ingen vårdcentral. Välj den vårdcentral patienten är listad på.", u.name),
                    "The listed unit must be a vårdcentral.",
                ));
            }
            None => {
                return Err(ApiError::invalid(
                    "listed_unit",
                    "unknown_unit",
                    "Vårdcentralen finns inte i Samverka.",
                    "Unknown unit.",
                ));
            }
        }
    }
    let address = req.address.as_ref().map(check_address).transpose()?;
    let new = NewPatient {
        identifier,
        given_name,
        family_name,
        kommun,
        listed_unit: req.listed_unit,
        protection: req.protection,
        address,
    };
    let patient = st.store.insert_patient(req.id.unwrap_or_else(Uuid::now_v7), new, &actor, now).await?;
    Ok((StatusCode::CREATED, Json(PatientView::of(&patient))))
}

/// Finds a patient by personnummer, samordningsnummer or reservnummer.
#[utoipa::path(get, path = "/api/patients", tag = "patients", params(SearchQuery),
    responses(
        (status = 200, body = Vec<PatientView>),
        (status = 422, description = "Invalid number", body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn search(
    State(st): State<AppState>,
    CurrentActor(actor): CurrentActor,
    ApiQuery(q): ApiQuery<SearchQuery>,
) -> ApiResult<Json<Vec<PatientView>>> {
    let rule = reserv_rule(&st, &actor).await?;
    let identifier = PatientIdentifier::parse(&q.identifier, local_date(st.clock.now()), rule.as_ref())
        .map_err(|e| e.problem("identifier"))?;
    let found = st.store.patient_by_identifier(&identifier).await?;
    Ok(Json(found.iter().map(PatientView::of).collect()))
}

/// One patient.
#[utoipa::path(get, path = "/api/patients/{id}", tag = "patients", params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = PatientView), (status = 404, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn get(
    State(st): State<AppState>,
    CurrentActor(_): CurrentActor,
    ApiPath(id): ApiPath<Uuid>,
) -> ApiResult<Json<PatientView>> {
    let p = st.store.patient(id).await?.ok_or_else(|| ApiError::not_found("Patienten"))?;
    Ok(Json(PatientView::of(&p)))
}
