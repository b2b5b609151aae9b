//! What a caller may do with forums, meetings and action items, checked and logged in one
//! place for the pages, the JSON API and the calendar feed.
//!
//! Need-to-know as for cases: a unit that is not a member of a forum is told it does not
//! exist; a member who is not the organiser's leader is refused changes. Every read, write
//! and refusal is in the access log with the object's id (a write's entry is committed with
//! the write, in the store); a read is logged before it is answered.

use jiff::Timestamp;
use jiff::civil::{Date, Time};
use samverka_domain::Problem;
use samverka_domain::access::{Permission, Role};
use samverka_domain::calendar;
use samverka_domain::forum::{
    ActionId, ActionSpec, ActionStatus, AttendanceSummary, ForumAccess, ForumId, ForumSpec, ItemId, ItemProposal,
    MeetingChange, MeetingId, MeetingStatus, Member, Schedule, attendance_summary, check_meeting_change, forum_access,
};
use samverka_domain::org::{Unit, UnitId};
use samverka_domain::text::{check_planned_date, check_text};
use samverka_store::{ActionRecord, ForumChange, ForumRecord, ItemMinutes, ItemRecord, MeetingRecord, Outcome};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::audit::{log, require};
use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::texts::{Lang, Texts, texts};

/// How many coming occurrences a calendar subscription shows beyond the planned meetings.
const CALENDAR_OCCURRENCES: usize = 8;
/// Most participants one unit can report at one meeting (a typing error beyond).
const MAX_PARTICIPANTS: u32 = 500;

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

fn invalid(field: &str, sv: &str, en: &str) -> AppError {
    AppError::invalid(field, "invalid_form", sv, en)
}

/// "Varannan vecka, fredagar kl. 13.00, 60 min" in `t`'s language.
pub fn schedule_text(t: &Texts, s: &Schedule) -> String {
    let every = t.get(&format!("forum.every_{}", s.interval_weeks)).to_string();
    let day = t.get(&format!("forum.weekday_{}", s.weekday().to_monday_zero_offset())).to_string();
    let time = if t.lang == "sv" {
        format!("kl. {:02}.{:02}", s.start.hour(), s.start.minute())
    } else {
        format!("{:02}:{:02}", s.start.hour(), s.start.minute())
    };
    let text = format!("{every}, {day} {time}, {} min", s.duration_minutes);
    if s.paused { format!("{text} ({})", t.get("forum.paused")) } else { text }
}

// ---- forums ----------------------------------------------------------------------------------

/// The forums the caller's unit organises or is a member of.
pub async fn list(st: &AppState, caller: &Caller) -> AppResult<Vec<ForumRecord>> {
    require(st, caller, Permission::TakePartInForums, "forum.list", None, None).await?;
    let forums = st.store.forums_of_unit(caller.actor.unit.id).await?;
    // Which forums exist is not patient data, but who looked is logged like the rest.
    log_object_read(st, caller, "forum.list", caller.actor.unit.id).await?;
    Ok(forums)
}

/// A new forum organised by the caller's unit, whose leaders run it.
pub async fn create(st: &AppState, caller: &Caller, id: ForumId, spec: &ForumSpec) -> AppResult<()> {
    require(st, caller, Permission::LeadForums, "forum.create", None, None).await?;
    spec.validate()?;
    st.store.create_forum(id, spec, caller.actor.unit.id, &caller.audit(), st.clock.now()).await?;
    caller.mark.set();
    Ok(())
}

/// A forum as a member sees it.
pub struct ForumOverview {
    pub forum: ForumRecord,
    pub access: ForumAccess,
    pub meetings: Vec<MeetingRecord>,
    /// Raised items not yet on an agenda.
    pub waiting: Vec<ItemRecord>,
    pub actions: Vec<ActionRecord>,
    pub history: Vec<ForumChange>,
    pub attendance: AttendanceSummary,
}

/// A forum for one of its members, logged as read under `action`.
pub async fn overview(st: &AppState, caller: &Caller, id: ForumId, action: &str) -> AppResult<ForumOverview> {
    let (forum, access) = forum_for(st, caller, id, ForumAccess::Member, action).await?;
    let (held, rows) = st.store.forum_attendance(id).await?;
    let o = ForumOverview {
        forum,
        access,
        meetings: st.store.meetings_of_forum(id).await?,
        waiting: st.store.forum_items(id, None).await?,
        actions: st.store.forum_actions(id).await?,
        history: st.store.forum_history(id).await?,
        attendance: attendance_summary(&held, &rows),
    };
    log_object_read(st, caller, action, id).await?;
    Ok(o)
}

/// A step of the schedule: meet more or less often, pause or resume.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScheduleChange {
    Raised,
    Lowered,
    Paused,
    Resumed,
}

impl ScheduleChange {
    fn code(self) -> &'static str {
        match self {
            ScheduleChange::Raised => "raised",
            ScheduleChange::Lowered => "lowered",
            ScheduleChange::Paused => "paused",
            ScheduleChange::Resumed => "resumed",
        }
    }
}

/// Changes the forum's schedule (its leaders only).
pub async fn change_schedule(st: &AppState, caller: &Caller, id: ForumId, change: ScheduleChange) -> AppResult<()> {
    const ACTION: &str = "forum.schedule";
    let (forum, _) = forum_for(st, caller, id, ForumAccess::Leader, ACTION).await?;
    let s = forum.spec.schedule;
    let new = match change {
        ScheduleChange::Raised => s.raised(),
        ScheduleChange::Lowered => s.lowered(),
        ScheduleChange::Paused => s.paused(),
        ScheduleChange::Resumed => s.resumed(),
    };
    let new = match new {
        Ok(n) => n,
        Err(p) => return Err(refuse_object(st, caller, ACTION, id, p).await),
    };
    // The history is kept in Swedish, as the rest of the stored record.
    let detail = schedule_text(texts(Lang::SV), &new);
    let now = st.clock.now();
    let done = st.store.set_forum_schedule(id, &new, change.code(), &detail, &caller.audit(), now).await;
    written(st, caller, ACTION, id, done).await
}

fn unit_name(units: &[Unit], id: UnitId) -> String {
    units.iter().find(|u| u.id == id).map(|u| u.name.clone()).unwrap_or_else(|| id.to_string())
}

/// Adds a unit in a role, with its mandate (its leaders only).
pub async fn add_member(st: &AppState, caller: &Caller, id: ForumId, member: &Member) -> AppResult<()> {
    const ACTION: &str = "forum.member_add";
    forum_for(st, caller, id, ForumAccess::Leader, ACTION).await?;
    if member.role == Role::System {
        return Err(invalid("role", "Välj en roll i listan.", "Choose a role from the list."));
    }
    check_text("mandate", &member.mandate, true)?;
    let units = st.store.units().await?;
    let Some(u) = units.iter().find(|u| u.id == member.unit_id) else {
        return Err(invalid("unit", "Välj en enhet i listan.", "Choose a unit from the list."));
    };
    let detail = format!("{} ({})", u.name, member.role.label_sv());
    let done = st.store.add_forum_member(id, member, &detail, &caller.audit(), st.clock.now()).await;
    written(st, caller, ACTION, id, done).await
}

/// Removes a unit's role from the forum (its leaders only).
pub async fn remove_member(st: &AppState, caller: &Caller, id: ForumId, unit: UnitId, role: Role) -> AppResult<()> {
    const ACTION: &str = "forum.member_remove";
    forum_for(st, caller, id, ForumAccess::Leader, ACTION).await?;
    let units = st.store.units().await?;
    let detail = format!("{} ({})", unit_name(&units, unit), role.label_sv());
    let done = st.store.remove_forum_member(id, unit, role, &detail, &caller.audit(), st.clock.now()).await;
    written(st, caller, ACTION, id, done).await
}

/// Raises an item to the forum (any member); answers the item as stored.
pub async fn raise_item(
    st: &AppState,
    caller: &Caller,
    forum: ForumId,
    item: ItemId,
    proposal: &ItemProposal,
) -> AppResult<ItemRecord> {
    const ACTION: &str = "forum.item_raise";
    forum_for(st, caller, forum, ForumAccess::Member, ACTION).await?;
    proposal.validate()?;
    let done = st.store.raise_item(item, forum, proposal, &caller.audit(), st.clock.now()).await;
    written(st, caller, ACTION, forum, done).await?;
    let waiting = st.store.forum_items(forum, None).await?;
    waiting.into_iter().find(|i| i.id == item).ok_or_else(|| AppError::not_found("Punkten"))
}

/// Plans a meeting on `day`, at the schedule's time unless `start` is given (its leaders only).
pub async fn plan_meeting(
    st: &AppState,
    caller: &Caller,
    forum: ForumId,
    meeting: MeetingId,
    day: Date,
    start: Option<Time>,
) -> AppResult<()> {
    const ACTION: &str = "forum.meeting_plan";
    let (f, _) = forum_for(st, caller, forum, ForumAccess::Leader, ACTION).await?;
    let now = st.clock.now();
    let today = calendar::local_date(now);
    check_planned_date("date", day, today, today)?;
    let s = f.spec.schedule;
    let (starts, ends) = Schedule { start: start.unwrap_or(s.start), ..s }.meeting_at(day);
    let existing = st.store.meetings_of_forum(forum).await?;
    if existing.iter().any(|m| m.starts_at == starts && m.status != MeetingStatus::Cancelled) {
        let p = Problem::conflict(
            "meeting_exists",
            "Det finns redan ett möte den tiden. Öppna det i listan över möten.",
            "There is already a meeting at that time.",
        );
        return Err(refuse_object(st, caller, ACTION, forum, p).await);
    }
    let detail = calendar::local(starts).strftime("%Y-%m-%d %H:%M").to_string();
    let done = st.store.plan_meeting(meeting, forum, starts, ends, &detail, &caller.audit(), now).await;
    written(st, caller, ACTION, forum, done).await
}

/// A new secret calendar address for the caller and the forum: the token, shown once (only
/// its hash is kept).
pub async fn new_calendar_feed(st: &AppState, caller: &Caller, forum: ForumId) -> AppResult<String> {
    const ACTION: &str = "forum.calendar_feed";
    forum_for(st, caller, forum, ForumAccess::Member, ACTION).await?;
    let token = crate::auth::random_token();
    let hash = crate::auth::token_hash(&token);
    let made = st.store.create_calendar_feed(&hash, caller.actor.user.id, forum, &caller.audit(), st.clock.now()).await;
    written(st, caller, ACTION, forum, made).await?;
    Ok(token)
}

/// A calendar application's subscription: the forum's meetings, planned and coming, by the
/// secret token alone (calendar applications carry no session), with links under `base`.
/// The person behind it must still be active with an assignment at a unit of the forum; every
/// fetch is logged as theirs. `None` when the token leads nowhere a subscription may see.
pub async fn subscribed_calendar(st: &AppState, token: &str, base: &str) -> AppResult<Option<icalendar::Calendar>> {
    let Some((user, forum_id)) = st.store.calendar_feed(&crate::auth::token_hash(token)).await? else {
        return Ok(None);
    };
    let Some(forum) = st.store.forum(forum_id).await? else { return Ok(None) };
    let Some(account) = st.store.account(user).await?.filter(|a| a.active) else { return Ok(None) };
    let assignments = st.store.assignments_of(user).await?;
    let member = assignments.iter().find(|a| {
        a.active && forum_access(a.role, a.unit.id, forum.organiser_unit_id, &forum.members) != ForumAccess::None
    });
    let Some(assignment) = member else { return Ok(None) };
    let audit = samverka_store::Audit {
        actor: samverka_domain::actor::Actor {
            user: samverka_domain::actor::UserRef { id: user, name: account.name.clone() },
            unit: assignment.unit.clone(),
            role: assignment.role,
        },
        assignment_id: Some(assignment.id),
        client_address: None,
    };
    let meetings = st.store.meetings_of_forum(forum_id).await?;
    let now = st.clock.now();
    let coming = forum.spec.schedule.next(now, CALENDAR_OCCURRENCES);
    let cal = crate::calendar::meetings_calendar(&forum, &meetings, &coming, base);
    st.store.log_access(&audit.object_entry("forum.calendar_read", now, forum_id, Outcome::Allowed)).await?;
    Ok(Some(cal))
}

// ---- meetings --------------------------------------------------------------------------------

/// A meeting with what its page, its minutes and the JSON API show.
pub struct MeetingOverview {
    pub meeting: MeetingRecord,
    pub forum: ForumRecord,
    pub access: ForumAccess,
    pub agenda: Vec<ItemRecord>,
    /// Raised items of the forum not yet on an agenda.
    pub waiting: Vec<ItemRecord>,
    /// Every action item of the forum (see [`MeetingOverview::decided`] and [`MeetingOverview::carried`]).
    pub actions: Vec<ActionRecord>,
    /// Every meeting of the forum.
    pub meetings: Vec<MeetingRecord>,
    /// Participants per unit, as recorded.
    pub attendance: Vec<(UnitId, u32)>,
    pub units: Arc<Vec<Unit>>,
}

impl MeetingOverview {
    /// Whether the caller may make `change` now: the forum's leader, and the meeting's status
    /// and time allow it (cancelling only while planned).
    pub fn may(&self, change: MeetingChange, now: Timestamp) -> bool {
        let m = &self.meeting;
        self.access == ForumAccess::Leader
            && check_meeting_change(m.status, m.starts_at, change, now).is_ok()
            && (change != MeetingChange::Cancel || m.status == MeetingStatus::Planned)
    }

    /// Action items decided at this meeting.
    pub fn decided(&self) -> impl Iterator<Item = &ActionRecord> {
        self.actions.iter().filter(|a| a.meeting_id == self.meeting.id)
    }

    /// Action items of earlier meetings that were not done when this one ended.
    pub fn carried(&self) -> impl Iterator<Item = &ActionRecord> {
        let m = &self.meeting;
        self.actions
            .iter()
            .filter(move |a| a.meeting_id != m.id && a.status != ActionStatus::Done && a.created_at < m.ends_at)
    }

    /// The organiser and the member units, once each: who can attend and own action items.
    pub fn forum_units(&self) -> Vec<(UnitId, String)> {
        forum_unit_ids(&self.forum).into_iter().map(|u| (u, unit_name(&self.units, u))).collect()
    }

    pub fn unit_name(&self, id: UnitId) -> String {
        unit_name(&self.units, id)
    }
}

/// The organiser and the member units of a forum, once each.
pub fn forum_unit_ids(forum: &ForumRecord) -> Vec<UnitId> {
    let mut ids = vec![forum.organiser_unit_id];
    for m in &forum.members {
        if !ids.contains(&m.unit_id) {
            ids.push(m.unit_id);
        }
    }
    ids
}

/// A meeting for a member of its forum, logged as read under `action`.
pub async fn meeting(st: &AppState, caller: &Caller, id: MeetingId, action: &str) -> AppResult<MeetingOverview> {
    let (meeting, forum, access) = meeting_for(st, caller, id, ForumAccess::Member, action).await?;
    let o = MeetingOverview {
        agenda: st.store.forum_items(forum.id, Some(id)).await?,
        waiting: st.store.forum_items(forum.id, None).await?,
        actions: st.store.forum_actions(forum.id).await?,
        meetings: st.store.meetings_of_forum(forum.id).await?,
        attendance: st.store.meeting_attendance(id).await?,
        units: st.store.units().await?,
        meeting,
        forum,
        access,
    };
    log_object_read(st, caller, action, id).await?;
    Ok(o)
}

/// One meeting as iCalendar, with links under `base`.
pub async fn meeting_calendar(
    st: &AppState,
    caller: &Caller,
    id: MeetingId,
    base: &str,
) -> AppResult<icalendar::Calendar> {
    const ACTION: &str = "forum.meeting_ics";
    let (meeting, forum, _) = meeting_for(st, caller, id, ForumAccess::Member, ACTION).await?;
    let cal = crate::calendar::meetings_calendar(&forum, &[meeting], &[], base);
    log_object_read(st, caller, ACTION, id).await?;
    Ok(cal)
}

/// The leader's check before changing a meeting: access, and that the change fits its status.
async fn leader_change(
    st: &AppState,
    caller: &Caller,
    id: MeetingId,
    change: MeetingChange,
    action: &str,
) -> AppResult<(MeetingRecord, ForumRecord)> {
    let (meeting, forum, _) = meeting_for(st, caller, id, ForumAccess::Leader, action).await?;
    check_change(st, caller, &meeting, change, action, st.clock.now()).await?;
    Ok((meeting, forum))
}

/// Puts a raised item on the meeting's agenda, or takes it off (back to waiting).
pub async fn place_item(st: &AppState, caller: &Caller, id: MeetingId, item: ItemId, on_agenda: bool) -> AppResult<()> {
    const ACTION: &str = "forum.agenda";
    leader_change(st, caller, id, MeetingChange::Agenda, ACTION).await?;
    let (to, from) = if on_agenda { (Some(id), None) } else { (None, Some(id)) };
    let done = st.store.place_item(item, to, from, &caller.audit(), st.clock.now()).await;
    written(st, caller, ACTION, id, done).await
}

/// Writes the minutes: general notes and, per agenda item, a note and a decision. An agenda
/// item left out gets neither; an item not on the agenda is refused.
pub async fn write_minutes(
    st: &AppState,
    caller: &Caller,
    id: MeetingId,
    notes: &str,
    items: &[ItemMinutes],
) -> AppResult<()> {
    const ACTION: &str = "forum.minutes_write";
    let (_, forum) = leader_change(st, caller, id, MeetingChange::Minutes, ACTION).await?;
    check_text("notes", notes, false)?;
    let agenda = st.store.forum_items(forum.id, Some(id)).await?;
    if let Some(stray) = items.iter().find(|i| !agenda.iter().any(|a| a.id == i.item_id)) {
        return Err(invalid(
            &format!("note_{}", stray.item_id),
            "Punkten finns inte på mötets dagordning.",
            "The item is not on the meeting's agenda.",
        ));
    }
    let mut minutes = vec![];
    for a in &agenda {
        let given = items.iter().find(|i| i.item_id == a.id);
        let note = given.map(|i| i.note.trim()).unwrap_or_default().to_string();
        let decision = given.map(|i| i.decision.trim()).unwrap_or_default().to_string();
        check_text(&format!("note_{}", a.id), &note, false)?;
        check_text(&format!("decision_{}", a.id), &decision, false)?;
        minutes.push(ItemMinutes { item_id: a.id, note, decision });
    }
    let done = st.store.write_minutes(id, notes.trim(), &minutes, &caller.audit(), st.clock.now()).await;
    written(st, caller, ACTION, id, done).await
}

/// Records how many came from each of the forum's units; a unit left out came with none.
pub async fn record_attendance(
    st: &AppState,
    caller: &Caller,
    id: MeetingId,
    present: &[(UnitId, u32)],
) -> AppResult<()> {
    const ACTION: &str = "forum.attendance";
    let (_, forum) = leader_change(st, caller, id, MeetingChange::Minutes, ACTION).await?;
    let units = forum_unit_ids(&forum);
    for (u, n) in present {
        let field = format!("present_{u}");
        if !units.contains(u) {
            return Err(invalid(&field, "Enheten är inte med i forumet.", "The unit is not part of the forum."));
        }
        if *n > MAX_PARTICIPANTS {
            return Err(invalid(&field, "Ange antal deltagare som ett heltal (0–500).", "Enter a whole number 0–500."));
        }
    }
    let rows: Vec<(UnitId, u32)> =
        units.into_iter().map(|u| (u, present.iter().find(|(x, _)| *x == u).map(|(_, n)| *n).unwrap_or(0))).collect();
    let done = st.store.record_attendance(id, &rows, &caller.audit(), st.clock.now()).await;
    written(st, caller, ACTION, id, done).await
}

/// Decides an action item at the meeting, owned by one of the forum's units, perhaps under
/// one of its agenda items; answers the item as stored.
pub async fn add_action(
    st: &AppState,
    caller: &Caller,
    id: MeetingId,
    action: ActionId,
    item: Option<ItemId>,
    spec: &ActionSpec,
) -> AppResult<ActionRecord> {
    const ACTION: &str = "forum.action_add";
    let (_, forum) = leader_change(st, caller, id, MeetingChange::Minutes, ACTION).await?;
    if !forum_unit_ids(&forum).contains(&spec.owner_unit) {
        return Err(invalid("owner_unit", "Välj en av forumets enheter.", "Choose one of the forum's units."));
    }
    spec.validate(calendar::local_date(st.clock.now()))?;
    let done = st.store.add_action(action, id, item, spec, &caller.audit(), st.clock.now()).await;
    written(st, caller, ACTION, id, done).await?;
    st.store.action(action).await?.ok_or_else(|| AppError::not_found("Åtgärden"))
}

/// Approves the minutes; from now on they are fixed.
pub async fn approve_minutes(st: &AppState, caller: &Caller, id: MeetingId) -> AppResult<()> {
    const ACTION: &str = "forum.minutes_approve";
    let (m, _) = leader_change(st, caller, id, MeetingChange::Approve, ACTION).await?;
    let detail = calendar::local_date(m.starts_at).to_string();
    let done = st.store.approve_minutes(id, &detail, &caller.audit(), st.clock.now()).await;
    written(st, caller, ACTION, id, done).await
}

/// Cancels a planned meeting; it stays, marked cancelled (and so in the calendars).
pub async fn cancel_meeting(st: &AppState, caller: &Caller, id: MeetingId) -> AppResult<()> {
    const ACTION: &str = "forum.meeting_cancel";
    let (m, _) = leader_change(st, caller, id, MeetingChange::Cancel, ACTION).await?;
    let detail = calendar::local(m.starts_at).strftime("%Y-%m-%d %H:%M").to_string();
    let done = st.store.cancel_meeting(id, &detail, &caller.audit(), st.clock.now()).await;
    written(st, caller, ACTION, id, done).await
}

/// Reports an action item's status (its unit or the forum's leaders); answers the item as it
/// now is.
pub async fn set_action_status(
    st: &AppState,
    caller: &Caller,
    id: ActionId,
    status: ActionStatus,
) -> AppResult<ActionRecord> {
    const ACTION: &str = "forum.action_status";
    let a = action_for(st, caller, id, ACTION).await?;
    let done = st.store.set_action_status(id, status, &caller.audit(), st.clock.now()).await;
    written(st, caller, ACTION, id, done).await?;
    Ok(st.store.action(id).await?.unwrap_or(ActionRecord { status, ..a }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_schedule_reads_as_a_sentence() {
        let s = Schedule {
            first_date: jiff::civil::date(2026, 1, 9),
            interval_weeks: 2,
            start: Time::constant(13, 0, 0, 0),
            duration_minutes: 60,
            paused: false,
        };
        assert_eq!(schedule_text(texts(Lang::SV), &s), "Varannan vecka, fredagar kl. 13.00, 60 min");
        assert_eq!(
            schedule_text(texts(Lang::EN), &Schedule { paused: true, ..s }),
            "Every other week, Fridays 13:00, 60 min (paused)"
        );
    }
}
