//! A unit's directory entry over JSON: its contacts and escalation rule, read by anyone signed
//! in and changed by those who keep it; and the escalations that reached one's own unit.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use samverka_app::auth::Caller;
use samverka_app::extract::{ApiJson, ApiPath};
use samverka_app::units::{self, Contacts};
use samverka_app::{AppResult, AppState, ProblemDetails};
use samverka_domain::directory::Contact;
use samverka_domain::escalation::EscalationRule;
use samverka_store::EscalationEntry;
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// The unit's named contacts, when they were last confirmed, and whether the caller keeps them.
#[utoipa::path(get, path = "/api/units/{id}/contacts", tag = "directory", params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = Contacts), (status = 404, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn contacts(
    State(st): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<Contacts>> {
    Ok(Json(units::contacts(&st, &caller, id).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactList {
    pub contacts: Vec<Contact>,
}

/// Replaces the unit's contacts (the unit's leaders and the organisation's administrators).
#[utoipa::path(put, path = "/api/units/{id}/contacts", tag = "directory", params(("id" = String, Path, format = Uuid)),
    request_body = ContactList,
    responses((status = 200, body = Contacts), (status = 403, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn set_contacts(
    State(st): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(list): ApiJson<ContactList>,
) -> AppResult<Json<Contacts>> {
    units::set_contacts(&st, &caller, id, list.contacts).await?;
    Ok(Json(units::contacts(&st, &caller, id).await?))
}

/// The contacts are right as they stand (confirmed now).
#[utoipa::path(post, path = "/api/units/{id}/contacts/confirm", tag = "directory", params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = Contacts), (status = 403, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn confirm_contacts(
    State(st): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<Contacts>> {
    units::confirm_contacts(&st, &caller, id).await?;
    Ok(Json(units::contacts(&st, &caller, id).await?))
}

/// The unit's escalation rule; 404 when it has none.
#[utoipa::path(get, path = "/api/units/{id}/escalation-rule", tag = "directory", params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = EscalationRule), (status = 404, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn escalation_rule(
    State(st): State<AppState>,
    _caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<EscalationRule>> {
    let rule = units::escalation_rule(&st, id).await?;
    Ok(Json(rule.ok_or_else(|| samverka_app::AppError::not_found("Eskaleringsregeln"))?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RuleRequest {
    /// After how many minutes without acknowledgement the backup unit receives the message.
    pub backup_after_minutes: u32,
    #[schema(value_type = String, format = Uuid)]
    pub backup_unit: Uuid,
    /// After how many minutes a leader's unit is told (without the patient).
    pub leader_after_minutes: Option<u32>,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub leader_unit: Option<Uuid>,
}

/// Sets the unit's escalation rule (the unit's leaders and the organisation's administrators).
#[utoipa::path(put, path = "/api/units/{id}/escalation-rule", tag = "directory", params(("id" = String, Path, format = Uuid)),
    request_body = RuleRequest,
    responses((status = 200, body = EscalationRule), (status = 403, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn set_escalation_rule(
    State(st): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(r): ApiJson<RuleRequest>,
) -> AppResult<(StatusCode, Json<EscalationRule>)> {
    let rule = EscalationRule {
        unit: id,
        backup_after_minutes: r.backup_after_minutes,
        backup_unit: r.backup_unit,
        leader_after_minutes: r.leader_after_minutes,
        leader_unit: r.leader_unit,
    };
    units::set_escalation_rule(&st, &caller, &rule).await?;
    Ok((StatusCode::OK, Json(rule)))
}

/// The escalations that reached the caller's unit, newest first.
#[utoipa::path(get, path = "/api/escalations", tag = "directory",
    responses((status = 200, body = Vec<EscalationEntry>)))]
pub async fn escalations(State(st): State<AppState>, caller: Caller) -> AppResult<Json<Vec<EscalationEntry>>> {
    Ok(Json(units::escalations_to_my_unit(&st, &caller).await?))
}
