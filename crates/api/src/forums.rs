//! Forums over JSON: the unit's forums, a forum with its meetings, raised items, action items,
//! history and attendance; a meeting with its agenda, minutes, decisions and attendance; and
//! every change a page can make, under the same rules and access log (`samverka_app::forums`).
//!
//! A change answers the forum or meeting as it now is; what is created (an item, an action
//! item) is answered on its own with 201.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use jiff::civil::{Date, Time};
use samverka_app::auth::Caller;
use samverka_app::extract::{ApiJson, ApiPath};
use samverka_app::forums::{self, ForumOverview, MeetingOverview, ScheduleChange};
use samverka_app::{AppResult, AppState, ProblemDetails};
use samverka_domain::access::Role;
use samverka_domain::forum::{ActionSpec, ActionStatus, ForumAccess, ForumSpec, ItemProposal, MeetingChange, Member};
use samverka_store::{ActionRecord, ForumChange, ForumRecord, ItemMinutes, ItemRecord, MeetingRecord};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// Attendance over the meetings held.
#[derive(Serialize, ToSchema)]
pub struct AttendanceFigures {
    pub meetings_held: usize,
    pub average_organisations: f64,
    pub average_participants: f64,
    /// Per organisation, most first: how many of the meetings held it attended.
    pub per_organisation: Vec<OrganisationAttendance>,
}

#[derive(Serialize, ToSchema)]
pub struct OrganisationAttendance {
    pub organisation_id: Uuid,
    pub meetings: usize,
}

/// A forum as one of its members sees it.
#[derive(Serialize, ToSchema)]
pub struct ForumDetail {
    pub forum: ForumRecord,
    /// The caller is one of the organiser's leaders and may change the forum and its meetings.
    pub leader: bool,
    pub meetings: Vec<MeetingRecord>,
    /// Raised items not yet on an agenda.
    pub waiting_items: Vec<ItemRecord>,
    pub action_items: Vec<ActionRecord>,
    pub history: Vec<ForumChange>,
    pub attendance: AttendanceFigures,
}

impl From<ForumOverview> for ForumDetail {
    fn from(o: ForumOverview) -> Self {
        let a = o.attendance;
        ForumDetail {
            leader: o.access == ForumAccess::Leader,
            forum: o.forum,
            meetings: o.meetings,
            waiting_items: o.waiting,
            action_items: o.actions,
            history: o.history,
            attendance: AttendanceFigures {
                meetings_held: a.meetings,
                average_organisations: a.average_organisations,
                average_participants: a.average_participants,
                per_organisation: a
                    .per_organisation
                    .into_iter()
                    .map(|(organisation_id, meetings)| OrganisationAttendance { organisation_id, meetings })
                    .collect(),
            },
        }
    }
}

/// What the caller may do to a meeting now.
#[derive(Serialize, ToSchema)]
pub struct MeetingChanges {
    pub agenda: bool,
    pub minutes: bool,
    pub approve: bool,
    pub cancel: bool,
}

#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnitAttendance {
    pub unit_id: Uuid,
    pub participants: u32,
}

/// A meeting as a member of its forum sees it.
#[derive(Serialize, ToSchema)]
pub struct MeetingDetail {
    pub meeting: MeetingRecord,
    pub forum_name: String,
    pub may: MeetingChanges,
    pub agenda: Vec<ItemRecord>,
    /// The forum's raised items not yet on an agenda.
    pub waiting_items: Vec<ItemRecord>,
    /// Action items decided at this meeting.
    pub decided_actions: Vec<ActionRecord>,
    /// Action items of earlier meetings not done when this one ended.
    pub carried_actions: Vec<ActionRecord>,
    pub attendance: Vec<UnitAttendance>,
}

fn meeting_detail(o: MeetingOverview, now: jiff::Timestamp) -> MeetingDetail {
    MeetingDetail {
        may: MeetingChanges {
            agenda: o.may(MeetingChange::Agenda, now),
            minutes: o.may(MeetingChange::Minutes, now),
            approve: o.may(MeetingChange::Approve, now),
            cancel: o.may(MeetingChange::Cancel, now),
        },
        decided_actions: o.decided().cloned().collect(),
        carried_actions: o.carried().cloned().collect(),
        attendance: o
            .attendance
            .iter()
            .map(|(unit_id, participants)| UnitAttendance { unit_id: *unit_id, participants: *participants })
            .collect(),
        forum_name: o.forum.spec.name,
        agenda: o.agenda,
        waiting_items: o.waiting,
        meeting: o.meeting,
    }
}

async fn forum_detail(st: &AppState, caller: &Caller, id: Uuid) -> AppResult<Json<ForumDetail>> {
    Ok(Json(forums::overview(st, caller, id, "forum.read").await?.into()))
}

async fn meeting_answer(st: &AppState, caller: &Caller, id: Uuid) -> AppResult<Json<MeetingDetail>> {
    let o = forums::meeting(st, caller, id, "forum.meeting_read").await?;
    Ok(Json(meeting_detail(o, st.clock.now())))
}

/// The forums the caller's unit organises or is a member of.
#[utoipa::path(get, path = "/api/forums", tag = "forums",
    responses((status = 200, body = Vec<ForumRecord>), (status = 403, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn list(State(st): State<AppState>, caller: Caller) -> AppResult<Json<Vec<ForumRecord>>> {
    Ok(Json(forums::list(&st, &caller).await?))
}

/// A new forum organised by the caller's unit (its leaders: enhetschef, MAS, klusterledare).
#[utoipa::path(post, path = "/api/forums", tag = "forums", request_body = ForumSpec,
    responses((status = 201, body = ForumDetail), (status = 403, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn create(
    State(st): State<AppState>,
    caller: Caller,
    ApiJson(spec): ApiJson<ForumSpec>,
) -> AppResult<(StatusCode, Json<ForumDetail>)> {
    let id = Uuid::now_v7();
    forums::create(&st, &caller, id, &spec).await?;
    Ok((StatusCode::CREATED, forum_detail(&st, &caller, id).await?))
}

/// One forum, for its members; to others it does not exist.
#[utoipa::path(get, path = "/api/forums/{id}", tag = "forums", params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = ForumDetail), (status = 404, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn get(
    State(st): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<ForumDetail>> {
    forum_detail(&st, &caller, id).await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSchedule {
    pub change: ScheduleChange,
}

/// Meets more or less often, pauses or resumes (the forum's leaders).
#[utoipa::path(post, path = "/api/forums/{id}/schedule", tag = "forums", params(("id" = String, Path, format = Uuid)),
    request_body = NewSchedule,
    responses((status = 200, body = ForumDetail), (status = 403, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 404, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn schedule(
    State(st): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(s): ApiJson<NewSchedule>,
) -> AppResult<Json<ForumDetail>> {
    forums::change_schedule(&st, &caller, id, s.change).await?;
    forum_detail(&st, &caller, id).await
}

/// Adds a unit in a role with its mandate (the forum's leaders).
#[utoipa::path(post, path = "/api/forums/{id}/members", tag = "forums", params(("id" = String, Path, format = Uuid)),
    request_body = Member,
    responses((status = 200, body = ForumDetail), (status = 403, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 404, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn add_member(
    State(st): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(m): ApiJson<Member>,
) -> AppResult<Json<ForumDetail>> {
    forums::add_member(&st, &caller, id, &m).await?;
    forum_detail(&st, &caller, id).await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberRef {
    pub unit_id: Uuid,
    pub role: Role,
}

/// Removes a unit's role from the forum (the forum's leaders).
#[utoipa::path(post, path = "/api/forums/{id}/members/remove", tag = "forums", params(("id" = String, Path, format = Uuid)),
    request_body = MemberRef,
    responses((status = 200, body = ForumDetail), (status = 403, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 404, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn remove_member(
    State(st): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(m): ApiJson<MemberRef>,
) -> AppResult<Json<ForumDetail>> {
    forums::remove_member(&st, &caller, id, m.unit_id, m.role).await?;
    forum_detail(&st, &caller, id).await
}

/// Raises an item to the forum (any member): "arbeta" must say what is asked of the forum.
#[utoipa::path(post, path = "/api/forums/{id}/items", tag = "forums", params(("id" = String, Path, format = Uuid)),
    request_body = ItemProposal,
    responses((status = 201, body = ItemRecord), (status = 404, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn raise_item(
    State(st): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(p): ApiJson<ItemProposal>,
) -> AppResult<(StatusCode, Json<ItemRecord>)> {
    let raised = forums::raise_item(&st, &caller, id, Uuid::now_v7(), &p).await?;
    Ok((StatusCode::CREATED, Json(raised)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMeeting {
    #[schema(value_type = String, format = Date)]
    pub date: Date,
    /// Local time in Sweden; the schedule's when left out.
    #[serde(default)]
    #[schema(value_type = Option<String>, pattern = r"^\d{2}:\d{2}(:\d{2})?$", example = "13:00")]
    pub start: Option<Time>,
}

/// Plans a meeting (the forum's leaders); one meeting per time.
#[utoipa::path(post, path = "/api/forums/{id}/meetings", tag = "forums", params(("id" = String, Path, format = Uuid)),
    request_body = NewMeeting,
    responses((status = 201, body = MeetingDetail), (status = 403, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 404, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn plan_meeting(
    State(st): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(m): ApiJson<NewMeeting>,
) -> AppResult<(StatusCode, Json<MeetingDetail>)> {
    let meeting = Uuid::now_v7();
    forums::plan_meeting(&st, &caller, id, meeting, m.date, m.start).await?;
    Ok((StatusCode::CREATED, meeting_answer(&st, &caller, meeting).await?))
}

/// One meeting, for the members of its forum.
#[utoipa::path(get, path = "/api/meetings/{id}", tag = "forums", params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = MeetingDetail), (status = 404, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn meeting(
    State(st): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<MeetingDetail>> {
    meeting_answer(&st, &caller, id).await
}

/// Puts a raised item on the agenda (the forum's leaders, before the minutes are approved).
#[utoipa::path(put, path = "/api/meetings/{id}/agenda/{item}", tag = "forums",
    params(("id" = String, Path, format = Uuid), ("item" = String, Path, format = Uuid)),
    responses((status = 200, body = MeetingDetail), (status = 403, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 404, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn put_on_agenda(
    State(st): State<AppState>,
    caller: Caller,
    ApiPath((id, item)): ApiPath<(Uuid, Uuid)>,
) -> AppResult<Json<MeetingDetail>> {
    forums::place_item(&st, &caller, id, item, true).await?;
    meeting_answer(&st, &caller, id).await
}

/// Takes an item off the agenda; it waits for another meeting.
#[utoipa::path(delete, path = "/api/meetings/{id}/agenda/{item}", tag = "forums",
    params(("id" = String, Path, format = Uuid), ("item" = String, Path, format = Uuid)),
    responses((status = 200, body = MeetingDetail), (status = 403, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 404, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn take_off_agenda(
    State(st): State<AppState>,
    caller: Caller,
    ApiPath((id, item)): ApiPath<(Uuid, Uuid)>,
) -> AppResult<Json<MeetingDetail>> {
    forums::place_item(&st, &caller, id, item, false).await?;
    meeting_answer(&st, &caller, id).await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItemNote {
    pub item_id: Uuid,
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub decision: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Minutes {
    #[serde(default)]
    pub notes: String,
    /// Per agenda item; an item left out gets no note and no decision.
    #[serde(default)]
    pub items: Vec<ItemNote>,
}

/// Writes the minutes, replacing what was written (the forum's leaders, once the meeting has
/// started and until the minutes are approved).
#[utoipa::path(put, path = "/api/meetings/{id}/minutes", tag = "forums", params(("id" = String, Path, format = Uuid)),
    request_body = Minutes,
    responses((status = 200, body = MeetingDetail), (status = 403, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 404, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn write_minutes(
    State(st): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(m): ApiJson<Minutes>,
) -> AppResult<Json<MeetingDetail>> {
    let items: Vec<ItemMinutes> =
        m.items.into_iter().map(|i| ItemMinutes { item_id: i.item_id, note: i.note, decision: i.decision }).collect();
    forums::write_minutes(&st, &caller, id, &m.notes, &items).await?;
    meeting_answer(&st, &caller, id).await
}

/// Records how many came from each of the forum's units; a unit left out came with none.
#[utoipa::path(put, path = "/api/meetings/{id}/attendance", tag = "forums", params(("id" = String, Path, format = Uuid)),
    request_body = Vec<UnitAttendance>,
    responses((status = 200, body = MeetingDetail), (status = 403, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 404, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn record_attendance(
    State(st): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(rows): ApiJson<Vec<UnitAttendance>>,
) -> AppResult<Json<MeetingDetail>> {
    let present: Vec<(Uuid, u32)> = rows.iter().map(|r| (r.unit_id, r.participants)).collect();
    forums::record_attendance(&st, &caller, id, &present).await?;
    meeting_answer(&st, &caller, id).await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAction {
    pub what: String,
    /// The unit that answers for it: one of the forum's.
    pub owner_unit: Uuid,
    /// Who at that unit (a name or a function).
    pub owner_name: String,
    #[schema(value_type = String, format = Date)]
    pub due: Date,
    /// The agenda item it was decided under, if any.
    #[serde(default)]
    pub item_id: Option<Uuid>,
}

/// Decides an action item at the meeting, owned by one of the forum's units.
#[utoipa::path(post, path = "/api/meetings/{id}/actions", tag = "forums", params(("id" = String, Path, format = Uuid)),
    request_body = NewAction,
    responses((status = 201, body = ActionRecord), (status = 403, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 404, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn add_action(
    State(st): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(a): ApiJson<NewAction>,
) -> AppResult<(StatusCode, Json<ActionRecord>)> {
    let spec = ActionSpec { what: a.what, owner_unit: a.owner_unit, owner_name: a.owner_name, due: a.due };
    let added = forums::add_action(&st, &caller, id, Uuid::now_v7(), a.item_id, &spec).await?;
    Ok((StatusCode::CREATED, Json(added)))
}

/// Approves the minutes; from then on they are fixed.
#[utoipa::path(post, path = "/api/meetings/{id}/approve", tag = "forums", params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = MeetingDetail), (status = 403, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 404, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn approve(
    State(st): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<MeetingDetail>> {
    forums::approve_minutes(&st, &caller, id).await?;
    meeting_answer(&st, &caller, id).await
}

/// Cancels a planned meeting; it stays, marked cancelled.
#[utoipa::path(post, path = "/api/meetings/{id}/cancel", tag = "forums", params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = MeetingDetail), (status = 403, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 404, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn cancel(
    State(st): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<MeetingDetail>> {
    forums::cancel_meeting(&st, &caller, id).await?;
    meeting_answer(&st, &caller, id).await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewActionStatus {
    pub status: ActionStatus,
}

/// Reports an action item's status: its unit or the forum's leaders.
#[utoipa::path(post, path = "/api/action-items/{id}/status", tag = "forums", params(("id" = String, Path, format = Uuid)),
    request_body = NewActionStatus,
    responses((status = 200, body = ActionRecord), (status = 403, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 404, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn action_status(
    State(st): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(s): ApiJson<NewActionStatus>,
) -> AppResult<Json<ActionRecord>> {
    Ok(Json(forums::set_action_status(&st, &caller, id, s.status).await?))
}
