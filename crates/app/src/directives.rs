//! Who may see and do what with a directive, checked and logged in one place for the pages.
//!
//! A published directive is seen by its audience (the units of its organisations and kinds)
//! and by whoever it was sent to or has read it; a pending or sent-back one only by the
//! owning organisation's registrars and validators, who also see who has read what.

use samverka_domain::Problem;
use samverka_domain::access::{Permission, permits};
use samverka_domain::directive::{DirectiveAct, DirectiveId, DirectiveStatus, check_directive_act};
use samverka_store::DirectiveRecord;

use crate::auth::Caller;
use crate::error::AppResult;
use crate::forums::refuse_object;
use crate::state::AppState;

/// How the caller sees a directive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirectiveView {
    /// In its audience: reads it and confirms.
    Reader,
    /// The owning organisation's registrars and validators: everything, with read figures.
    Owner,
}

fn hidden() -> Problem {
    Problem::not_found(
        "directive_not_found",
        "Direktivet finns inte, eller så gäller det inte din enhet.",
        "No such directive, or it is not for your unit.",
    )
}

/// Whether the caller belongs to the directive's owners (may see it whatever its status).
pub fn is_owner(caller: &Caller, d: &DirectiveRecord) -> bool {
    caller.actor.unit.organisation_id == d.organisation_id
        && (permits(caller.actor.role, Permission::RegisterDirectives)
            || permits(caller.actor.role, Permission::ValidateDirectives))
}

/// Whether the directive is for the caller's unit.
pub fn is_for(caller: &Caller, d: &DirectiveRecord) -> bool {
    matches!(d.status, DirectiveStatus::Published | DirectiveStatus::Withdrawn)
        && permits(caller.actor.role, Permission::TakePartInForums)
        && d.spec.audience.includes(caller.actor.unit.organisation_id, caller.actor.unit.kind)
}

/// The directive and how the caller sees it; refused (and logged) when neither.
pub async fn directive_for(
    st: &AppState,
    caller: &Caller,
    id: DirectiveId,
    action: &str,
) -> AppResult<(DirectiveRecord, DirectiveView)> {
    let Some(d) = st.store.directive(id).await? else {
        return Err(refuse_object(st, caller, action, id, hidden()).await);
    };
    if is_owner(caller, &d) {
        return Ok((d, DirectiveView::Owner));
    }
    if is_for(caller, &d) {
        return Ok((d, DirectiveView::Reader));
    }
    // Sent to the caller's person earlier (a unit since changed) still counts.
    if matches!(d.status, DirectiveStatus::Published | DirectiveStatus::Withdrawn)
        && st.store.directive_readers(id).await?.iter().any(|r| r.user_id == caller.actor.user.id)
    {
        return Ok((d, DirectiveView::Reader));
    }
    Err(refuse_object(st, caller, action, id, hidden()).await)
}

/// Refuses (and logs) `act` on a directive when the caller may not.
pub async fn check_act(
    st: &AppState,
    caller: &Caller,
    d: &DirectiveRecord,
    act: DirectiveAct,
    action: &str,
) -> AppResult<()> {
    let checked = check_directive_act(
        act,
        caller.actor.role,
        caller.actor.user.id,
        caller.actor.unit.organisation_id,
        d.organisation_id,
        d.registered_by,
    );
    match checked {
        Ok(()) => Ok(()),
        Err(p) => Err(refuse_object(st, caller, action, d.id, p).await),
    }
}
