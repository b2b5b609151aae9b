//! A unit's entry in the who-does-what directory: its named contacts (confirmed now and then,
//! so nobody calls a number that went out of use) and its escalation rule, kept by the unit's
//! leaders and its organisation's administrators; and the escalations that reached the
//! caller's unit.

use jiff::Timestamp;
use samverka_domain::directory::{Contact, MAX_CONTACTS, is_stale, may_maintain};
use samverka_domain::escalation::EscalationRule;
use samverka_domain::org::{Unit, UnitId};
use samverka_store::EscalationEntry;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::forums::{log_object_read, refuse_object, written};
use crate::state::AppState;

/// Whether the caller keeps the unit's entry (the domain's rule).
pub fn maintains(caller: &Caller, u: &Unit) -> bool {
    may_maintain(caller.actor.role, caller.actor.unit.id, caller.actor.unit.organisation_id, u.id, u.organisation_id)
}

/// The unit, when the caller keeps its entry; refused and logged otherwise.
pub async fn maintained(st: &AppState, caller: &Caller, id: UnitId, action: &str) -> AppResult<Unit> {
    let units = st.store.units().await?;
    let Some(u) = units.iter().find(|u| u.id == id) else { return Err(AppError::not_found("Enheten")) };
    if maintains(caller, u) {
        Ok(u.clone())
    } else {
        let p = samverka_domain::Problem::forbidden(
            "unit_maintainers_only",
            "Bara enhetens enhetschef, MAS eller klusterledare och organisationens administratörer kan ändra enhetens uppgifter.",
            "Only the unit's leaders and its organisation's administrators may change its entry.",
        );
        Err(refuse_object(st, caller, action, id, p).await)
    }
}

/// A unit's contacts as the directory shows them.
#[derive(Debug, Serialize, ToSchema)]
pub struct Contacts {
    pub contacts: Vec<Contact>,
    /// When someone at the unit last said the list is right.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub confirmed_at: Option<Timestamp>,
    /// Not confirmed for so long that it may be out of date.
    pub stale: bool,
    /// The caller may change the list and the escalation rule.
    pub maintainable: bool,
}

/// The unit's contacts. The directory is for everyone signed in, as its page is.
pub async fn contacts(st: &AppState, caller: &Caller, id: UnitId) -> AppResult<Contacts> {
    let unit = st.store.unit(id).await?.ok_or_else(|| AppError::not_found("Enheten"))?;
    let confirmed_at = st.store.contacts_confirmed_at(id).await?;
    let list = st.store.unit_contacts(id).await?;
    Ok(Contacts {
        contacts: list,
        confirmed_at,
        stale: is_stale(confirmed_at, st.clock.now()),
        maintainable: maintains(caller, &unit),
    })
}

/// Replaces the unit's contacts (at most [`MAX_CONTACTS`]); each is checked, and a refusal
/// names the contact's place in the list (`contacts[2].phone`).
pub async fn set_contacts(st: &AppState, caller: &Caller, id: UnitId, list: Vec<Contact>) -> AppResult<()> {
    maintained(st, caller, id, "unit.contacts").await?;
    if list.len() > MAX_CONTACTS {
        return Err(AppError::invalid(
            "contacts",
            "too_many_contacts",
            format!("Högst {MAX_CONTACTS} kontakter per enhet."),
            format!("At most {MAX_CONTACTS} contacts per unit."),
        ));
    }
    for (i, c) in list.iter().enumerate() {
        c.validate().map_err(|p| {
            let mut e = AppError::from(p);
            e.field = e.field.map(|f| format!("contacts[{i}].{f}"));
            e
        })?;
    }
    let set = st.store.set_unit_contacts(id, &list, &caller.audit(), st.clock.now()).await;
    written(st, caller, "unit.contacts", id, set).await
}

/// Someone who keeps the entry says the contacts are right as they stand.
pub async fn confirm_contacts(st: &AppState, caller: &Caller, id: UnitId) -> AppResult<()> {
    maintained(st, caller, id, "unit.contacts_confirm").await?;
    let confirmed = st.store.confirm_unit_contacts(id, &caller.audit(), st.clock.now()).await;
    written(st, caller, "unit.contacts_confirm", id, confirmed).await
}

/// The unit's escalation rule, if it has one (part of the directory, as its page shows it).
pub async fn escalation_rule(st: &AppState, id: UnitId) -> AppResult<Option<EscalationRule>> {
    st.store.unit(id).await?.ok_or_else(|| AppError::not_found("Enheten"))?;
    Ok(st.store.escalation_rule(id).await?)
}

/// Sets the unit's escalation rule: who receives what it leaves unacknowledged, and after
/// how long; a leader's unit is only told.
pub async fn set_escalation_rule(st: &AppState, caller: &Caller, rule: &EscalationRule) -> AppResult<()> {
    maintained(st, caller, rule.unit, "unit.escalation_rule").await?;
    let units = st.store.units().await?;
    rule.validate(|u| units.iter().find(|x| x.id == u).map(|x| x.organisation_id))?;
    let set = st.store.set_escalation_rule(rule, &caller.audit(), st.clock.now()).await;
    written(st, caller, "unit.escalation_rule", rule.unit, set).await
}

/// The escalations that reached the caller's unit, newest first (logged).
pub async fn escalations_to_my_unit(st: &AppState, caller: &Caller) -> AppResult<Vec<EscalationEntry>> {
    let unit = caller.actor.unit.id;
    let list = st.store.escalations_to(unit, 200).await?;
    log_object_read(st, caller, "escalation.list", unit).await?;
    Ok(list)
}
