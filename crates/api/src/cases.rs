//! Over JSON: the discharge case: open it, read it, and every step of the process.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use samverka_domain::case::{CaseId, Command, RecordedEvent};
use samverka_domain::message::CancelReason;
use samverka_domain::org::UnitKind;
use samverka_domain::screening::Screening;
use samverka_domain::sip::SipPlan;
use samverka_store::CaseSummary;
use uuid::Uuid;

use samverka_app::AppState;
use samverka_app::auth::Caller;
use samverka_app::cases::*;
use samverka_app::error::{AppError, AppResult, ProblemDetails};
use samverka_app::extract::{ApiJson, ApiPath, ApiQuery};
use samverka_app::views::CaseView;

/// Runs a command and answers with the case as it is afterwards.
async fn run(st: &AppState, caller: &Caller, id: CaseId, cmd: Command) -> AppResult<Json<CaseView>> {
    let record = execute(st, caller, id, cmd).await?;
    let patient = patient_of(st, &record).await?;
    Ok(Json(view(st, caller, record, &patient, st.clock.now())?))
}

// ---- handlers ------------------------------------------------------------------------------------

/// Registers an admission: the caller's ward opens a case for a patient who will need care
/// from the municipality or primary care after discharge.
#[utoipa::path(post, path = "/api/cases", tag = "cases", request_body = OpenCaseRequest,
    responses(
        (status = 201, body = CaseView),
        (status = 403, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn open(
    State(st): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<OpenCaseRequest>,
) -> AppResult<(StatusCode, Json<CaseView>)> {
    let (record, patient) = open_case(&st, &caller, req).await?;
    Ok((StatusCode::CREATED, Json(view(&st, &caller, record, &patient, st.clock.now())?)))
}

/// Starts a coordination at home at the caller's unit (a vårdcentral or a municipal unit): a
/// SIP for a person living at home who needs care from both principals.
#[utoipa::path(post, path = "/api/home-coordinations", tag = "sip", request_body = samverka_app::home::OpenHomeRequest,
    responses(
        (status = 201, body = CaseView),
        (status = 403, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn open_home(
    State(st): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<samverka_app::home::OpenHomeRequest>,
) -> AppResult<(StatusCode, Json<CaseView>)> {
    let (record, patient) = samverka_app::home::open(&st, &caller, req).await?;
    Ok((StatusCode::CREATED, Json(view(&st, &caller, record, &patient, st.clock.now())?)))
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContinueAtHomeRequest {
    /// The new coordination's id, chosen by the client to make a retry safe.
    #[schema(value_type = Option<String>, format = Uuid)]
    #[serde(default)]
    pub id: Option<Uuid>,
}

/// After discharge, the SIP goes on in a coordination at home held by the caller's unit; the
/// discharge case closes. Answers the new coordination.
#[utoipa::path(post, path = "/api/cases/{id}/continue-at-home", tag = "sip", params(("id" = String, Path, format = Uuid)),
    request_body = ContinueAtHomeRequest,
    responses((status = 201, body = CaseView), (status = 403, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn continue_at_home(
    State(st): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<ContinueAtHomeRequest>,
) -> AppResult<(StatusCode, Json<CaseView>)> {
    let (record, patient) = samverka_app::home::continue_from(&st, &caller, id, req.id).await?;
    Ok((StatusCode::CREATED, Json(view(&st, &caller, record, &patient, st.clock.now())?)))
}

/// The caller's unit's cases, with their open deadlines.
#[utoipa::path(get, path = "/api/cases", tag = "cases", params(ListQuery),
    responses((status = 200, body = Vec<CaseSummary>), (status = 401, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn list(
    State(st): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> AppResult<Json<Vec<CaseSummary>>> {
    Ok(Json(samverka_app::cases::list(&st, &caller, q.include_closed, 500).await?))
}

/// One case: state, the eight steps, deadlines, messages with receipts, SIP and consents.
#[utoipa::path(get, path = "/api/cases/{id}", tag = "cases", params(("id" = String, Path, format = Uuid)),
    responses(
        (status = 200, body = CaseView),
        (status = 403, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 404, body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn get(State(st): State<AppState>, caller: Caller, ApiPath(id): ApiPath<Uuid>) -> AppResult<Json<CaseView>> {
    let (record, patient) = read_case(&st, &caller, id, "case.read").await?;
    Ok(Json(view(&st, &caller, record, &patient, st.clock.now())?))
}

/// The full history of a case: every event with who, unit and when.
#[utoipa::path(get, path = "/api/cases/{id}/events", tag = "cases", params(("id" = String, Path, format = Uuid)),
    responses(
        (status = 200, body = Vec<RecordedEvent>),
        (status = 403, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 404, body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn events(
    State(st): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<Vec<RecordedEvent>>> {
    Ok(Json(samverka_app::cases::events(&st, &caller, id).await?))
}

/// Sends a typed LUS message or a free message.
#[utoipa::path(post, path = "/api/cases/{id}/messages", tag = "messages", params(("id" = String, Path, format = Uuid)),
    request_body = SendMessageRequest,
    responses(
        (status = 201, body = CaseView),
        (status = 403, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 404, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, description = "A step out of order", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, body = ProblemDetails, content_type = "application/problem+json"),
    ))]
pub async fn send_message(
    State(st): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<SendMessageRequest>,
) -> AppResult<(StatusCode, Json<CaseView>)> {
    let message_id = req.id.unwrap_or_else(Uuid::now_v7);
    let record = send(&st, &caller, id, message_id, req.body, req.recipients.as_deref(), req.corrects).await?;
    let patient = patient_of(&st, &record).await?;
    Ok((StatusCode::CREATED, Json(view(&st, &caller, record, &patient, st.clock.now())?)))
}

/// Acknowledges every message in the case that the caller's unit has yet to acknowledge.
#[utoipa::path(post, path = "/api/cases/{id}/acknowledge-all", tag = "messages", params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = CaseView), (status = 403, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 404, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn acknowledge_all(
    State(st): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<CaseView>> {
    let record = samverka_app::cases::acknowledge_all(&st, &caller, id).await?;
    let patient = patient_of(&st, &record).await?;
    Ok(Json(view(&st, &caller, record, &patient, st.clock.now())?))
}

/// Records that the caller's unit has opened a message.
#[utoipa::path(post, path = "/api/cases/{id}/messages/{message_id}/open", tag = "messages",
    params(("id" = String, Path, format = Uuid), ("message_id" = String, Path, format = Uuid)),
    responses((status = 200, body = CaseView), (status = 403, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 404, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn open_message(
    State(st): State<AppState>,
    caller: Caller,
    ApiPath((id, message_id)): ApiPath<(Uuid, Uuid)>,
) -> AppResult<Json<CaseView>> {
    run(&st, &caller, id, Command::OpenMessage { message_id }).await
}

/// Acknowledges (kvitterar) a message: "we have taken this on".
#[utoipa::path(post, path = "/api/cases/{id}/messages/{message_id}/acknowledge", tag = "messages",
    params(("id" = String, Path, format = Uuid), ("message_id" = String, Path, format = Uuid)),
    responses((status = 200, body = CaseView), (status = 403, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 404, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn acknowledge(
    State(st): State<AppState>,
    caller: Caller,
    ApiPath((id, message_id)): ApiPath<(Uuid, Uuid)>,
) -> AppResult<Json<CaseView>> {
    run(&st, &caller, id, Command::AcknowledgeMessage { message_id }).await
}

/// Marks a message as felskickat (sent to the wrong unit).
#[utoipa::path(post, path = "/api/cases/{id}/messages/{message_id}/mis-sent", tag = "messages",
    params(("id" = String, Path, format = Uuid), ("message_id" = String, Path, format = Uuid)), request_body = MisSentRequest,
    responses((status = 200, body = CaseView), (status = 403, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn mark_mis_sent(
    State(st): State<AppState>,
    caller: Caller,
    ApiPath((id, message_id)): ApiPath<(Uuid, Uuid)>,
    ApiJson(req): ApiJson<MisSentRequest>,
) -> AppResult<Json<CaseView>> {
    run(&st, &caller, id, Command::MarkMisSent { message_id, reason: req.reason }).await
}

/// Forwards a message to another unit of the caller's own organisation.
#[utoipa::path(post, path = "/api/cases/{id}/messages/{message_id}/forward", tag = "messages",
    params(("id" = String, Path, format = Uuid), ("message_id" = String, Path, format = Uuid)), request_body = ForwardRequest,
    responses((status = 200, body = CaseView), (status = 403, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn forward(
    State(st): State<AppState>,
    caller: Caller,
    ApiPath((id, message_id)): ApiPath<(Uuid, Uuid)>,
    ApiJson(req): ApiJson<ForwardRequest>,
) -> AppResult<Json<CaseView>> {
    let to = resolve_unit(&st, req.to_unit, "to_unit").await?;
    run(&st, &caller, id, Command::ForwardMessage { message_id, to, note: req.note }).await
}

/// Moves the patient to another ward; the case follows.
#[utoipa::path(post, path = "/api/cases/{id}/transfer", tag = "cases", params(("id" = String, Path, format = Uuid)),
    request_body = TransferRequest,
    responses((status = 200, body = CaseView), (status = 403, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn transfer(
    State(st): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<TransferRequest>,
) -> AppResult<Json<CaseView>> {
    let ward = st.store.unit(req.to_ward).await?.ok_or_else(|| {
        AppError::invalid("to_ward", "unknown_unit", "Avdelningen finns inte i Samverka.", "Unknown unit.")
    })?;
    if ward.kind != UnitKind::Ward {
        return Err(AppError::invalid(
            "to_ward",
            "not_a_ward",
            format!("{} är ingen vårdavdelning.", ward.name),
            "Not a ward.",
        ));
    }
    let care_type = req.care_type.unwrap_or(ward.care_type);
    let to_ward = samverka_store::reference_unit_ref(&ward);
    run(&st, &caller, id, Command::TransferPatient { to_ward, care_type, at: req.at }).await
}

/// Records the time of discharge (when the discharge information is sent separately).
#[utoipa::path(post, path = "/api/cases/{id}/discharge", tag = "cases", params(("id" = String, Path, format = Uuid)),
    request_body = DischargeRequest,
    responses((status = 200, body = CaseView), (status = 403, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn discharge(
    State(st): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<DischargeRequest>,
) -> AppResult<Json<CaseView>> {
    run(&st, &caller, id, Command::RecordDischarge { at: req.at }).await
}

/// Confirms a draft from the admission feed: the doctor has judged that the patient will need
/// care after discharge. The 24-hour clock for the admission notice starts at `assessed_at`.
#[utoipa::path(post, path = "/api/cases/{id}/confirm-needs", tag = "cases", params(("id" = String, Path, format = Uuid)),
    request_body = ConfirmNeedsRequest,
    responses((status = 200, body = CaseView), (status = 403, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn confirm_needs(
    State(st): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<ConfirmNeedsRequest>,
) -> AppResult<Json<CaseView>> {
    run(&st, &caller, id, Command::ConfirmNeeds { assessed_at: req.assessed_at }).await
}

/// Closes a draft from the admission feed without a case.
#[utoipa::path(post, path = "/api/cases/{id}/dismiss", tag = "cases", params(("id" = String, Path, format = Uuid)),
    request_body = DismissDraftRequest,
    responses((status = 200, body = CaseView), (status = 403, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn dismiss(
    State(st): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<DismissDraftRequest>,
) -> AppResult<Json<CaseView>> {
    let reason = match req.reason {
        DismissReason::NoLongerNeeded => CancelReason::NoLongerNeeded,
        DismissReason::AdmissionCancelled => CancelReason::AdmissionCancelled,
    };
    run(&st, &caller, id, Command::DismissDraft { reason, note: req.note }).await
}

/// Takes back a discharge recorded in error (before discharge information or a SIP call).
#[utoipa::path(post, path = "/api/cases/{id}/cancel-discharge", tag = "cases", params(("id" = String, Path, format = Uuid)),
    request_body = CancelDischargeRequest,
    responses((status = 200, body = CaseView), (status = 403, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn cancel_discharge(
    State(st): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<CancelDischargeRequest>,
) -> AppResult<Json<CaseView>> {
    run(&st, &caller, id, Command::CancelDischarge { note: req.note }).await
}

/// Invites another unit into the case (needs consent to share information).
#[utoipa::path(post, path = "/api/cases/{id}/parties", tag = "cases", params(("id" = String, Path, format = Uuid)),
    request_body = AddPartyRequest,
    responses((status = 200, body = CaseView), (status = 403, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn add_party(
    State(st): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<AddPartyRequest>,
) -> AppResult<Json<CaseView>> {
    let unit = resolve_unit(&st, req.unit, "unit").await?;
    run(&st, &caller, id, Command::AddParty { unit, reason: req.reason }).await
}

/// Records the patient's consent.
#[utoipa::path(post, path = "/api/cases/{id}/consents", tag = "consent", params(("id" = String, Path, format = Uuid)),
    request_body = ConsentRequest,
    responses((status = 201, body = CaseView), (status = 403, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn record_consent(
    State(st): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<ConsentRequest>,
) -> AppResult<(StatusCode, Json<CaseView>)> {
    let cmd = Command::RecordConsent {
        consent_id: req.id.unwrap_or_else(Uuid::now_v7),
        kind: req.kind,
        given_by: req.given_by,
        given_at: req.given_at,
        note: req.note,
    };
    Ok((StatusCode::CREATED, run(&st, &caller, id, cmd).await?))
}

/// Records that consent was withdrawn; it takes effect at once.
#[utoipa::path(post, path = "/api/cases/{id}/consents/{consent_id}/withdraw", tag = "consent",
    params(("id" = String, Path, format = Uuid), ("consent_id" = String, Path, format = Uuid)),
    responses((status = 200, body = CaseView), (status = 403, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 404, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn withdraw_consent(
    State(st): State<AppState>,
    caller: Caller,
    ApiPath((id, consent_id)): ApiPath<(Uuid, Uuid)>,
) -> AppResult<Json<CaseView>> {
    run(&st, &caller, id, Command::WithdrawConsent { consent_id }).await
}

/// Draws up the SIP, or a new version of it.
#[utoipa::path(post, path = "/api/cases/{id}/sip", tag = "sip", params(("id" = String, Path, format = Uuid)), request_body = SipPlan,
    responses((status = 201, body = CaseView), (status = 403, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn draw_up_sip(
    State(st): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(plan): ApiJson<SipPlan>,
) -> AppResult<(StatusCode, Json<CaseView>)> {
    Ok((StatusCode::CREATED, run(&st, &caller, id, Command::DrawUpSip { plan }).await?))
}

/// Records a screening: frailty (level 1–9), the need for coordination, or both.
#[utoipa::path(post, path = "/api/cases/{id}/screenings", tag = "sip", params(("id" = String, Path, format = Uuid)),
    request_body = Screening,
    responses((status = 201, body = CaseView), (status = 403, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn record_screening(
    State(st): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(screening): ApiJson<Screening>,
) -> AppResult<(StatusCode, Json<CaseView>)> {
    Ok((StatusCode::CREATED, run(&st, &caller, id, Command::RecordScreening { screening }).await?))
}

/// Follows up the SIP: continue, new plan, or close.
#[utoipa::path(post, path = "/api/cases/{id}/sip/follow-up", tag = "sip", params(("id" = String, Path, format = Uuid)),
    request_body = FollowUpRequest,
    responses((status = 200, body = CaseView), (status = 403, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn follow_up_sip(
    State(st): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<FollowUpRequest>,
) -> AppResult<Json<CaseView>> {
    run(&st, &caller, id, Command::FollowUpSip { evaluation: req.evaluation, outcome: req.outcome }).await
}

/// Closes a case that needs nothing more after discharge.
#[utoipa::path(post, path = "/api/cases/{id}/close", tag = "cases", params(("id" = String, Path, format = Uuid)),
    request_body = CloseRequest,
    responses((status = 200, body = CaseView), (status = 403, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn close(
    State(st): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<CloseRequest>,
) -> AppResult<Json<CaseView>> {
    run(&st, &caller, id, Command::CloseCase { note: req.note }).await
}

/// Nödåtkomst: opens a case outside need-to-know for a limited time, with a stated reason.
/// Every read under it is flagged in the access log and shows up in log review.
#[utoipa::path(post, path = "/api/cases/{id}/emergency-access", tag = "cases", params(("id" = String, Path, format = Uuid)),
    request_body = EmergencyRequest,
    responses((status = 200, body = CaseView), (status = 403, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn emergency_access(
    State(st): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<EmergencyRequest>,
) -> AppResult<Json<CaseView>> {
    let (record, patient) = grant_emergency(&st, &caller, id, req).await?;
    Ok(Json(view(&st, &caller, record, &patient, st.clock.now())?))
}
