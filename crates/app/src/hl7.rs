//! The admission feed's messages, for the region's administrators: what arrived, what became
//! of it, and processing a refused message again once its cause is fixed (say, a ward code
//! mapped). Raw messages hold patient data, so every look is access-logged.

use jiff::Timestamp;
use samverka_domain::access::Permission;
use samverka_domain::hl7::adt;
use samverka_domain::org::OrganisationKind;
use samverka_domain::{Problem, ProblemKind};
use samverka_store::{Hl7Message, Hl7Status};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::AppState;
use crate::audit::{log_read, refuse, require};
use crate::auth::Caller;
use crate::error::{AppError, AppResult};

#[derive(Serialize, ToSchema)]
pub struct Hl7MessageView {
    #[schema(value_type = String, format = Uuid)]
    pub id: Uuid,
    #[schema(value_type = String, format = DateTime)]
    pub received_at: Timestamp,
    /// MSH-3|MSH-4.
    pub sender: String,
    pub control_id: Option<String>,
    pub trigger_event: String,
    /// received, applied, ignored or refused.
    pub status: String,
    pub ack_code: Option<String>,
    pub outcome_sv: Option<String>,
    pub outcome_en: Option<String>,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub patient_id: Option<Uuid>,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub case_id: Option<Uuid>,
    pub attempts: i32,
    /// The message as text (segments on lines), only when one message is asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

impl Hl7MessageView {
    pub fn of(m: &Hl7Message, with_text: bool) -> Self {
        Hl7MessageView {
            id: m.id,
            received_at: m.received_at,
            sender: m.sender.clone(),
            control_id: m.control_id.clone(),
            trigger_event: m.trigger_event.clone(),
            status: m.status.as_str().to_string(),
            ack_code: m.ack_code.clone(),
            outcome_sv: m.outcome_sv.clone(),
            outcome_en: m.outcome_en.clone(),
            patient_id: m.patient_id,
            case_id: m.case_id,
            attempts: m.attempts,
            text: with_text.then(|| {
                let text = match adt::decode(&m.raw) {
                    Ok((t, _)) => t,
                    Err(_) => String::from_utf8_lossy(&m.raw).into_owned(),
                };
                text.replace('\r', "\n")
            }),
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// received, applied, ignored or refused.
    pub status: Option<String>,
    /// At most this many, newest first (default 100, at most 1 000).
    pub limit: Option<i64>,
}

/// Only administrators of a region (the hospitals' principal) see its feed.
pub async fn require_feed_admin(st: &AppState, caller: &Caller, action: &str) -> AppResult<()> {
    require(st, caller, Permission::Administer, action, None, None).await?;
    let kind = st.store.organisation(caller.actor.unit.organisation_id).await?.map(|(o, _)| o.kind);
    if kind != Some(OrganisationKind::Region) {
        let p = Problem::new(
            ProblemKind::Forbidden,
            "region_only",
            "Bara regionens administratörer ser meddelandena från sjukhusens journalsystem.",
            "Only a region's administrators see the hospitals' feed.",
        );
        return Err(refuse(st, caller, action, None, None, p).await);
    }
    Ok(())
}

pub fn parse_status(s: &str) -> AppResult<Hl7Status> {
    Hl7Status::from_name(s).ok_or_else(|| {
        AppError::invalid(
            "status",
            "invalid_status",
            "Status ska vara received, applied, ignored eller refused.",
            "Status must be received, applied, ignored or refused.",
        )
    })
}

pub async fn read_one(st: &AppState, caller: &Caller, id: Uuid) -> AppResult<Hl7Message> {
    require_feed_admin(st, caller, "hl7.read").await?;
    let m = st.store.hl7_message(id).await?.ok_or_else(|| AppError::not_found("Meddelandet"))?;
    log_read(st, caller, "hl7.read", m.patient_id, m.case_id, None, false).await?;
    Ok(m)
}

pub async fn replay_one(st: &AppState, caller: &Caller, id: Uuid) -> AppResult<Hl7Message> {
    require_feed_admin(st, caller, "hl7.replay").await?;
    let Some(feed) = crate::feed::Feed::of(st) else {
        let p = Problem::conflict(
            "feed_off",
            "HL7-flödet är inte påslaget i den här installationen (inställningen mllp_listen).",
            "The HL7 feed is not configured.",
        );
        return Err(refuse(st, caller, "hl7.replay", None, None, p).await);
    };
    let m = feed.replay(id).await?.ok_or_else(|| AppError::not_found("Meddelandet"))?;
    log_read(st, caller, "hl7.replay", m.patient_id, m.case_id, None, false).await?;
    Ok(m)
}

/// The feed's messages (of one status, if given), newest first, for the feed's administrators.
pub async fn list(st: &AppState, caller: &Caller, status: Option<Hl7Status>, limit: i64) -> AppResult<Vec<Hl7Message>> {
    require_feed_admin(st, caller, "hl7.list").await?;
    let messages = st.store.hl7_messages(status, limit).await?;
    log_read(st, caller, "hl7.list", None, None, None, false).await?;
    Ok(messages)
}
