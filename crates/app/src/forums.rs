//! What a caller may do with forums, meetings and action items, checked and logged in one
//! place for the pages (`web/forums.rs`) and the calendar feed.
//!
//! Need-to-know as for cases: a unit that is not a member of a forum is told it does not
//! exist; a member who is not the organiser's leader is refused changes. Every read, write
//! and refusal is in the access log with the object's id (a write's entry is committed with
//! the write, in the store).

use jiff::Timestamp;
use samverka_domain::Problem;
use samverka_domain::forum::{
    ActionId, ForumAccess, ForumId, MeetingChange, MeetingId, check_meeting_change, forum_access,
};
use samverka_store::{ActionRecord, ForumRecord, MeetingRecord, Outcome};
use uuid::Uuid;

use crate::audit::log;
use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::state::AppState;

fn hidden() -> Problem {
    Problem::not_found(
        "forum_not_found",
        "Forumet finns inte, eller så är din enhet inte med i det. Be forumets sammankallande om en inbjudan.",
        "No such forum, or your unit is not a member.",
    )
}

fn not_leader() -> Problem {
    Problem::forbidden(
        "forum_leader_only",
        "Bara forumets sammankallande enhet (enhetschef, MAS eller klusterledare) kan ändra detta.",
        "Only the forum's organising unit's leaders may change this.",
    )
}

/// Logs a refusal concerning `object` and returns the error to answer with.
pub async fn refuse_object(st: &AppState, caller: &Caller, action: &str, object: Uuid, p: Problem) -> AppError {
    let outcome = match p.kind {
        samverka_domain::ProblemKind::Forbidden | samverka_domain::ProblemKind::NotFound => Outcome::Denied,
        _ => Outcome::Refused,
    };
    let entry = caller.audit().object_entry(action, st.clock.now(), object, outcome);
    if let Err(e) = log(st, caller, entry).await {
        return e;
    }
    p.into()
}

/// Logs a read of `object`.
pub async fn log_object_read(st: &AppState, caller: &Caller, action: &str, object: Uuid) -> AppResult<()> {
    log(st, caller, caller.audit().object_entry(action, st.clock.now(), object, Outcome::Allowed)).await
}

/// The forum and how far the caller may go in it, when at least `need`; refused (and logged)
/// otherwise.
pub async fn forum_for(
    st: &AppState,
    caller: &Caller,
    id: ForumId,
    need: ForumAccess,
    action: &str,
) -> AppResult<(ForumRecord, ForumAccess)> {
    forum_of_object(st, caller, id, need, action, id).await
}

/// As [`forum_for`], for something of the forum (`object`: a meeting, an action item), which
/// a refusal is logged against.
async fn forum_of_object(
    st: &AppState,
    caller: &Caller,
    id: ForumId,
    need: ForumAccess,
    action: &str,
    object: Uuid,
) -> AppResult<(ForumRecord, ForumAccess)> {
    let forum = st.store.forum(id).await?;
    let access = forum
        .as_ref()
        .map(|f| forum_access(caller.actor.role, caller.actor.unit.id, f.organiser_unit_id, &f.members))
        .unwrap_or(ForumAccess::None);
    match forum {
        Some(f) if access >= need => Ok((f, access)),
        _ if access == ForumAccess::None => Err(refuse_object(st, caller, action, object, hidden()).await),
        _ => Err(refuse_object(st, caller, action, object, not_leader()).await),
    }
}

/// A meeting, its forum and the caller's access, when at least `need`.
pub async fn meeting_for(
    st: &AppState,
    caller: &Caller,
    id: MeetingId,
    need: ForumAccess,
    action: &str,
) -> AppResult<(MeetingRecord, ForumRecord, ForumAccess)> {
    let Some(meeting) = st.store.meeting(id).await? else {
        return Err(refuse_object(st, caller, action, id, hidden()).await);
    };
    let (forum, access) = forum_of_object(st, caller, meeting.forum_id, need, action, id).await?;
    Ok((meeting, forum, access))
}

/// Checks that `change` may be made to the meeting now; refused (and logged) otherwise.
pub async fn check_change(
    st: &AppState,
    caller: &Caller,
    meeting: &MeetingRecord,
    change: MeetingChange,
    action: &str,
    now: Timestamp,
) -> AppResult<()> {
    match check_meeting_change(meeting.status, meeting.starts_at, change, now) {
        Ok(()) => Ok(()),
        Err(p) => Err(refuse_object(st, caller, action, meeting.id, p).await),
    }
}

/// An action item whose status the caller may report: the organiser's leaders, or the staff
/// of the unit that owns it.
pub async fn action_for(st: &AppState, caller: &Caller, id: ActionId, action: &str) -> AppResult<ActionRecord> {
    let Some(a) = st.store.action(id).await? else {
        return Err(refuse_object(st, caller, action, id, hidden()).await);
    };
    let (_, access) = forum_of_object(st, caller, a.forum_id, ForumAccess::Member, action, id).await?;
    if access == ForumAccess::Leader || a.spec.owner_unit == caller.actor.unit.id {
        Ok(a)
    } else {
        let p = Problem::forbidden(
            "action_owner_only",
            "Bara den ansvariga enheten eller forumets sammankallande kan ändra status på åtgärden.",
            "Only the owning unit or the forum's leaders may change the action's status.",
        );
        Err(refuse_object(st, caller, action, id, p).await)
    }
}

/// The answer to a write the store has done (with its access-log entry) or refused: marks the
/// request as logged, or logs the domain's refusal and turns it into an answer.
pub async fn written<T>(
    st: &AppState,
    caller: &Caller,
    action: &str,
    object: Uuid,
    result: Result<T, samverka_store::StoreError>,
) -> AppResult<T> {
    match result {
        Ok(v) => {
            caller.mark.set();
            Ok(v)
        }
        Err(e) => Err(refused_write(st, caller, action, object, e).await),
    }
}

/// Turns a refused write into an answer, logging the domain's refusals.
pub async fn refused_write(
    st: &AppState,
    caller: &Caller,
    action: &str,
    object: Uuid,
    e: samverka_store::StoreError,
) -> AppError {
    match e {
        samverka_store::StoreError::Problem(p) => refuse_object(st, caller, action, object, p).await,
        other => other.into(),
    }
}
