//! What a system may write through FHIR, where the workflow allows it:
//!
//! - `POST /fhir/Communication`: send a message in a case, typed (its content as the JSON API's
//!   message body, in a `contentAttachment` of `application/json`) or free (`allmant`, the text
//!   in `contentString`); `inResponseTo` makes it a correction of an earlier message.
//! - `POST /fhir/Communication/<id>/$acknowledge`: the unit acknowledges (kvitterar) a message.
//! - `POST /fhir/Consent`: record the person's consent in a case; `PUT /fhir/Consent/<id>` with
//!   `status: inactive` records that it was withdrawn. A consent is never edited otherwise.
//!
//! Each becomes the same domain command a person's form gives, so the same rules, refusals and
//! access log apply. A client names a new resource with an `urn:uuid:` identifier to make a
//! retry safe: the same id again changes nothing.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use base64::Engine as _;
use jiff::Timestamp;
use samverka_domain::case::{Case, Command};
use samverka_domain::consent::{ConsentGiver, ConsentKind};
use samverka_domain::message::{MessageBody, MessageKind};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::auth::FhirCaller;
use crate::http::{FhirError, FhirResult, created, fhir, resource_body, unprocessable};
use crate::reads::read_case;
use crate::resources;
use samverka_app::AppState;
use samverka_app::cases::{execute, send};
use samverka_app::scopes::Access;

/// The id in a Reference `{"reference": "<Type>/<uuid>"}`.
fn reference_id(v: &Value, resource_type: &str, field: &str) -> Result<Uuid, FhirError> {
    let raw = v["reference"].as_str().unwrap_or_default();
    raw.strip_prefix(resource_type)
        .and_then(|r| r.strip_prefix('/'))
        .and_then(|id| Uuid::parse_str(id).ok())
        .ok_or_else(|| {
            unprocessable(
                format!("{field} ska vara en referens till {resource_type}/<id>, inte \"{raw}\"."),
                format!("{field} must reference {resource_type}/<id>."),
            )
        })
}

/// An optional list of references of one type.
fn reference_list(v: &Value, resource_type: &str, field: &str) -> Result<Option<Vec<Uuid>>, FhirError> {
    match v.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, r)| reference_id(r, resource_type, &format!("{field}[{i}]")))
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(unprocessable(format!("{field} ska vara en lista."), format!("{field} must be a list."))),
    }
}

/// The `urn:uuid:` identifier a client chose for a new resource, if any.
fn chosen_id(v: &Value) -> Result<Option<Uuid>, FhirError> {
    let Some(list) = v.get("identifier") else { return Ok(None) };
    let list =
        list.as_array().ok_or_else(|| unprocessable("identifier ska vara en lista.", "identifier must be a list."))?;
    let Some(i) = list.iter().find(|i| i["system"] == resources::URI_SYSTEM) else { return Ok(None) };
    let value = i["value"].as_str().unwrap_or_default();
    value.strip_prefix("urn:uuid:").and_then(|u| Uuid::parse_str(u).ok()).map(Some).ok_or_else(|| {
        unprocessable(
            format!("identifier \"{value}\" ska skrivas urn:uuid:<uuid>."),
            "An identifier in urn:ietf:rfc:3986 must be urn:uuid:<uuid>.",
        )
    })
}

/// The code of the first coding of `system` in a list of CodeableConcepts.
fn code_of<'a>(v: &'a Value, field: &str, system: &str) -> Option<&'a str> {
    v[field]
        .as_array()?
        .iter()
        .flat_map(|c| c["coding"].as_array().into_iter().flatten())
        .find_map(|c| if c["system"] == system { c["code"].as_str() } else { None })
}

// ---- Communication ------------------------------------------------------------------------------

/// What a Communication create asks for, checked.
#[derive(Debug)]
pub struct CommunicationRequest {
    pub case_id: Uuid,
    pub patient_id: Option<Uuid>,
    pub message_id: Option<Uuid>,
    pub body: MessageBody,
    pub recipients: Option<Vec<Uuid>>,
    pub corrects: Option<Uuid>,
}

/// Reads and checks the body of `POST /fhir/Communication`.
pub fn read_communication_request(body: &str) -> Result<CommunicationRequest, FhirError> {
    let v = resource_body(body, "Communication")?;
    if v["status"] != "completed" {
        return Err(unprocessable(
            "status ska vara completed: meddelandet skickas när det tas emot.",
            "status must be completed: the message is sent when it is received.",
        ));
    }
    if v.get("encounter").is_none() {
        return Err(unprocessable(
            "encounter saknas: ange vårdtillfället (Encounter/<id>) som meddelandet gäller.",
            "encounter is missing: give the Encounter the message is about.",
        ));
    }
    let case_id = reference_id(&v["encounter"], "Encounter", "encounter")?;
    let patient_id = match v.get("subject") {
        Some(s) => Some(reference_id(s, "Patient", "subject")?),
        None => None,
    };
    let all_kinds = || MessageKind::ALL.map(|k| k.as_str()).join(", ");
    let code = code_of(&v, "category", resources::MESSAGE_KIND).ok_or_else(|| {
        unprocessable(
            format!("category saknar meddelandetyp ({}). Möjliga koder: {}.", resources::MESSAGE_KIND, all_kinds()),
            "category must carry a message kind.",
        )
    })?;
    let kind: MessageKind = serde_json::from_value(json!(code)).map_err(|_| {
        unprocessable(
            format!("Okänd meddelandetyp \"{code}\". Möjliga koder: {}.", all_kinds()),
            format!("Unknown message kind \"{code}\"."),
        )
    })?;
    let payload = v["payload"].as_array().cloned().unwrap_or_default();
    let attachment = payload
        .iter()
        .map(|p| &p["contentAttachment"])
        .find(|a| a["contentType"].as_str().is_some_and(|t| t.split(';').next() == Some(resources::MESSAGE_BODY_TYPE)));
    let body = match attachment {
        Some(a) => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(a["data"].as_str().unwrap_or_default())
                .map_err(|_| {
                    unprocessable(
                        "payload.contentAttachment.data är inte base64.",
                        "contentAttachment.data is not base64.",
                    )
                })?;
            let body: MessageBody = serde_json::from_slice(&bytes).map_err(|e| {
                unprocessable(
                    format!("Meddelandets innehåll (payload.contentAttachment) kan inte läsas: {e}"),
                    format!("The message content cannot be read: {e}"),
                )
            })?;
            if body.kind() != kind {
                return Err(unprocessable(
                    format!(
                        "Innehållet är ett {} men category säger {}.",
                        body.kind().label_sv().to_lowercase(),
                        kind.label_sv().to_lowercase()
                    ),
                    "The content's kind differs from category.",
                ));
            }
            body
        }
        None if kind == MessageKind::Allmant => {
            let text = payload.iter().find_map(|p| p["contentString"].as_str()).unwrap_or_default();
            MessageBody::Allmant { text: text.to_string() }
        }
        None => {
            return Err(unprocessable(
                format!(
                    "Ett {} har egna fält: skicka dem som payload.contentAttachment med contentType {} (samma innehåll som i Samverkas JSON-API).",
                    kind.label_sv().to_lowercase(),
                    resources::MESSAGE_BODY_TYPE
                ),
                "A typed message needs its content as an application/json contentAttachment.",
            ));
        }
    };
    let corrects = match reference_list(&v, "Communication", "inResponseTo")?.as_deref() {
        None | Some([]) => None,
        Some([one]) => Some(*one),
        Some(_) => {
            return Err(unprocessable(
                "inResponseTo kan bara peka på ett meddelande (det som rättas).",
                "inResponseTo can name one message only (the one corrected).",
            ));
        }
    };
    Ok(CommunicationRequest {
        case_id,
        patient_id,
        message_id: chosen_id(&v)?,
        body,
        recipients: reference_list(&v, "Organization", "recipient")?,
        corrects,
    })
}

/// A subject that names another patient than the case's is a mistake worth stopping.
fn check_patient(case: &Case, patient: Option<Uuid>, field: &str) -> Result<(), FhirError> {
    match patient {
        Some(p) if p != case.patient_id => Err(unprocessable(
            format!("{field} pekar på en annan patient än vårdtillfällets."),
            format!("{field} names another patient than the episode's."),
        )),
        _ => Ok(()),
    }
}

/// `POST /fhir/Communication`: sends a message in a case.
pub(super) async fn create_communication(State(st): State<AppState>, c: FhirCaller, body: String) -> FhirResult {
    c.require("Communication", Access::Write)?;
    let req = read_communication_request(&body)?;
    // The subject is compared only for a party, so the check tells an outsider nothing.
    if let Some(r) = st.store.case(req.case_id).await?
        && r.case.is_party(c.caller.actor.unit.id)
    {
        check_patient(&r.case, req.patient_id, "subject")?;
    }
    let message_id = req.message_id.unwrap_or_else(Uuid::now_v7);
    let record =
        send(&st, &c.caller, req.case_id, message_id, req.body, req.recipients.as_deref(), req.corrects).await?;
    let m = record.case.message(message_id).ok_or_else(|| FhirError::not_found("Meddelandet", "Communication"))?;
    let resource = resources::communication(&record.case, m, m.message.body.kind().label_sv());
    Ok(created(&resource, format!("/fhir/Communication/{message_id}")))
}

/// `POST /fhir/Communication/<id>/$acknowledge`: "we have taken this on".
pub(super) async fn acknowledge_communication(
    State(st): State<AppState>,
    c: FhirCaller,
    Path((id, operation)): Path<(String, String)>,
) -> FhirResult {
    if operation != "$acknowledge" {
        return Err(FhirError::new(
            StatusCode::NOT_FOUND,
            "not-supported",
            format!("Operationen \"{operation}\" finns inte. Meddelanden kvitteras med $acknowledge."),
            format!("No operation \"{operation}\"."),
        ));
    }
    c.require("Communication", Access::Write)?;
    let message = crate::reads::parse_id(&id, "Meddelandet")?;
    let case_id = crate::reads::case_of_message(&st, &c, message).await?;
    let record = execute(&st, &c.caller, case_id, Command::AcknowledgeMessage { message_id: message }).await?;
    let m = record.case.message(message).ok_or_else(|| FhirError::not_found("Meddelandet", "Communication"))?;
    Ok(fhir(&resources::communication(&record.case, m, m.message.body.kind().label_sv())))
}

// ---- Consent ------------------------------------------------------------------------------------

/// What a Consent create or update says, checked.
#[derive(Debug)]
pub struct ConsentRequest {
    pub case_id: Uuid,
    pub patient_id: Uuid,
    pub consent_id: Option<Uuid>,
    pub active: bool,
    pub kind: ConsentKind,
    pub given_by: ConsentGiver,
    pub given_at: Timestamp,
}

/// Reads and checks a Consent as `POST /fhir/Consent` and `PUT /fhir/Consent/<id>` take it:
/// in the shape Samverka writes it (see [`resources::consent`]).
pub fn read_consent_request(body: &str) -> Result<ConsentRequest, FhirError> {
    let v = resource_body(body, "Consent")?;
    let active = match v["status"].as_str() {
        Some("active") => true,
        Some("inactive") => false,
        _ => {
            return Err(unprocessable(
                "status ska vara active (samtycket är givet) eller inactive (det är återkallat).",
                "status must be active or inactive.",
            ));
        }
    };
    let episode = v["extension"]
        .as_array()
        .and_then(|list| list.iter().find(|e| e["url"] == resources::EPISODE_EXTENSION))
        .ok_or_else(|| {
            unprocessable(
                format!(
                    "Ange ärendet samtycket gäller: extension {} med valueReference EpisodeOfCare/<id>.",
                    resources::EPISODE_EXTENSION
                ),
                "Name the episode of care the consent belongs to.",
            )
        })?;
    let case_id = reference_id(&episode["valueReference"], "EpisodeOfCare", "extension.valueReference")?;
    let patient_id = reference_id(&v["patient"], "Patient", "patient")?;
    let codes = [ConsentKind::InformationSharing, ConsentKind::SipCall, ConsentKind::Sip];
    let code = code_of(&v, "category", resources::CONSENT_KIND).unwrap_or_default();
    let kind = codes.into_iter().find(|k| resources::consent_kind_code(*k).0 == code).ok_or_else(|| {
        unprocessable(
            format!("category ska ha en kod ur {}: information-sharing, sip-call eller sip.", resources::CONSENT_KIND),
            "category must carry a consent kind.",
        )
    })?;
    let given_at = v["dateTime"].as_str().and_then(|t| t.parse::<Timestamp>().ok()).ok_or_else(|| {
        unprocessable(
            "dateTime ska vara tidpunkten då samtycket gavs, med tidszon (t.ex. 2026-11-02T08:30:00+01:00).",
            "dateTime must be the instant consent was given, with a zone.",
        )
    })?;
    if v["provision"].get("type").is_some_and(|t| t != "permit") {
        return Err(unprocessable(
            "Bara samtycken (provision.type permit) registreras; ett nej dokumenteras i journalen.",
            "Only permits are recorded.",
        ));
    }
    let performer = v["performer"].as_array().and_then(|p| p.first()).cloned().unwrap_or(Value::Null);
    let given_by = match performer["reference"].as_str() {
        Some("#representative") => {
            let rep = v["contained"]
                .as_array()
                .and_then(|c| c.iter().find(|r| r["id"] == "representative" && r["resourceType"] == "RelatedPerson"))
                .cloned()
                .unwrap_or(Value::Null);
            let name = rep["name"][0]["text"].as_str().unwrap_or_default().trim().to_string();
            let relation = rep["relationship"][0]["text"].as_str().unwrap_or_default().trim().to_string();
            if name.is_empty() || relation.is_empty() {
                return Err(unprocessable(
                    "En företrädare (contained RelatedPerson \"representative\") behöver name.text och relationship.text, t.ex. god man.",
                    "A representative needs a name and a relationship.",
                ));
            }
            ConsentGiver::Representative { name, relation }
        }
        None if performer.is_null() => ConsentGiver::Patient,
        _ => {
            if reference_id(&performer, "Patient", "performer[0]")? != patient_id {
                return Err(unprocessable(
                    "performer ska vara patienten själv eller en företrädare (#representative).",
                    "performer must be the patient or the contained representative.",
                ));
            }
            ConsentGiver::Patient
        }
    };
    Ok(ConsentRequest { case_id, patient_id, consent_id: chosen_id(&v)?, active, kind, given_by, given_at })
}

/// `POST /fhir/Consent`: records the person's consent in a case.
pub(super) async fn create_consent(State(st): State<AppState>, c: FhirCaller, body: String) -> FhirResult {
    c.require("Consent", Access::Write)?;
    let req = read_consent_request(&body)?;
    if !req.active {
        return Err(unprocessable(
            "Ett nytt samtycke har status active. Ett återkallande registreras med PUT på det givna samtycket.",
            "A new consent is active; withdraw one with PUT.",
        ));
    }
    let case = read_case(&st, &c, &req.case_id.to_string(), "fhir.consent.create").await?;
    check_patient(&case, Some(req.patient_id), "patient")?;
    let consent_id = req.consent_id.unwrap_or_else(Uuid::now_v7);
    let cmd = Command::RecordConsent {
        consent_id,
        kind: req.kind,
        given_by: req.given_by,
        given_at: req.given_at,
        note: String::new(),
    };
    let record = execute(&st, &c.caller, req.case_id, cmd).await?;
    let x = record
        .case
        .consents
        .0
        .iter()
        .find(|x| x.id == consent_id)
        .ok_or_else(|| FhirError::not_found("Samtycket", "Consent"))?;
    Ok(created(&resources::consent(&record.case, x), format!("/fhir/Consent/{consent_id}")))
}

/// `PUT /fhir/Consent/<id>`: the only change a consent takes is its withdrawal.
pub(super) async fn update_consent(
    State(st): State<AppState>,
    c: FhirCaller,
    Path(id): Path<String>,
    body: String,
) -> FhirResult {
    c.require("Consent", Access::Write)?;
    let consent_id = crate::reads::parse_id(&id, "Samtycket")?;
    let req = read_consent_request(&body)?;
    if req.consent_id.is_some_and(|x| x != consent_id) {
        return Err(unprocessable("identifier och id i adressen skiljer sig åt.", "identifier differs from the id."));
    }
    let case = read_case(&st, &c, &req.case_id.to_string(), "fhir.consent.update").await?;
    let Some(current) = case.consents.0.iter().find(|x| x.id == consent_id) else {
        return Err(FhirError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "not-supported",
            "Samtycket finns inte i ärendet. Nya samtycken registreras med POST /fhir/Consent.",
            "No such consent in the episode; create consents with POST.",
        ));
    };
    let same = current.kind == req.kind && current.given_by == req.given_by && current.given_at == req.given_at;
    if !same || req.patient_id != case.patient_id {
        return Err(unprocessable(
            "Ett samtycke ändras inte i efterhand: bara status kan sättas till inactive (återkallat). Registrera ett nytt samtycke för annat innehåll.",
            "A consent is never edited; only its withdrawal (status inactive) is taken.",
        ));
    }
    let record = match (req.active, current.withdrawn.is_some()) {
        (false, false) => execute(&st, &c.caller, case.id, Command::WithdrawConsent { consent_id }).await?,
        (true, true) => {
            return Err(unprocessable(
                "Ett återkallat samtycke kan inte bli giltigt igen. Registrera ett nytt samtycke.",
                "A withdrawn consent cannot become active again.",
            ));
        }
        // Nothing changes; the read above is logged.
        _ => crate::reads::read_record(&st, &c, &case.id.to_string(), "fhir.consent.read").await?,
    };
    let x = record
        .case
        .consents
        .0
        .iter()
        .find(|x| x.id == consent_id)
        .ok_or_else(|| FhirError::not_found("Samtycket", "Consent"))?;
    Ok(fhir(&resources::consent(&record.case, x)))
}

/// `GET /fhir/Consent/<id>`.
pub(super) async fn read_consent(State(st): State<AppState>, c: FhirCaller, Path(id): Path<String>) -> FhirResult {
    c.require("Consent", Access::Read)?;
    let consent_id = crate::reads::parse_id(&id, "Samtycket")?;
    let case_id = samverka_app::cases::case_of_consent(&st, &c.caller, consent_id)
        .await?
        .ok_or_else(|| FhirError::not_found("Samtycket", "Consent"))?;
    let case = read_case(&st, &c, &case_id.to_string(), "fhir.consent.read").await?;
    let x = case
        .consents
        .0
        .iter()
        .find(|x| x.id == consent_id)
        .ok_or_else(|| FhirError::not_found("Samtycket", "Consent"))?;
    Ok(fhir(&resources::consent(&case, x)))
}
