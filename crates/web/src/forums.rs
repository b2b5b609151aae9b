//! Forums on the web: the unit's forums, a forum's page (purpose, members and mandates,
//! schedule, meetings, raised items, open action items, attendance, history), a meeting's
//! page (agenda, minutes, decisions, action items, attendance, approval), the minutes as a
//! document to send to one's own unit, and iCalendar files and subscriptions.

use askama::Template;
use axum::extract::{Form, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::civil::{Date, Time};
use samverka_domain::access::{Permission, Role, permits};
use samverka_domain::calendar;
use samverka_domain::forum::{
    ActionSpec, ActionStatus, ForumAccess, ForumKind, ForumSpec, ItemKind, ItemProposal, MeetingChange, MeetingStatus,
    Member, Schedule, forum_access,
};
use samverka_store::{ActionRecord, ItemMinutes, ItemRecord, MeetingRecord};
use uuid::Uuid;

use crate::case::{Pairs, field, parse_date, serde_key};
use crate::page::{Frame, WebCaller, error_page, error_text, html, see_other};
use samverka_app::AppState;
use samverka_app::auth::Caller;
use samverka_app::error::{AppError, AppResult};
use samverka_app::extract::ApiPath;
use samverka_app::forums::{self, ForumOverview, ScheduleChange, schedule_text};

/// How many of the schedule's coming meetings a forum's page offers to plan.
const NEXT_OCCURRENCES: usize = 4;

pub fn kind_key(k: ForumKind) -> String {
    format!("forum.kind_{}", serde_key(&k))
}

fn status_key(s: MeetingStatus) -> String {
    serde_key(&s)
}

fn invalid(field: &str, sv: &str, en: &str) -> AppError {
    AppError::invalid(field, "invalid_form", sv, en)
}

fn parse_uuid(f: &Pairs, name: &str) -> AppResult<Uuid> {
    field(f, name).trim().parse().map_err(|_| invalid(name, "Välj i listan.", "Choose from the list."))
}

fn parse_time(f: &Pairs, name: &str) -> AppResult<Time> {
    field(f, name).trim().parse().map_err(|_| invalid(name, "Ange ett klockslag (TT:MM).", "Enter a time (HH:MM)."))
}

fn parse_number<T: std::str::FromStr>(f: &Pairs, name: &str, sv: &str, en: &str) -> AppResult<T> {
    field(f, name).trim().parse().map_err(|_| invalid(name, sv, en))
}

fn parse_role(s: &str) -> AppResult<Role> {
    serde_json::from_value(serde_json::Value::String(s.to_string()))
        .ok()
        .filter(|r| *r != Role::System)
        .ok_or_else(|| invalid("role", "Välj en roll i listan.", "Choose a role from the list."))
}

fn spec_of(f: &Pairs) -> AppResult<ForumSpec> {
    let kind = ForumKind::ALL
        .into_iter()
        .find(|k| serde_key(k) == field(f, "kind"))
        .ok_or_else(|| invalid("kind", "Välj vilket slags forum det är.", "Choose the kind of forum."))?;
    let video = field(f, "video_link").trim();
    let spec = ForumSpec {
        name: field(f, "name").trim().to_string(),
        kind,
        purpose: field(f, "purpose").trim().to_string(),
        video_link: (!video.is_empty()).then(|| video.to_string()),
        schedule: Schedule {
            first_date: parse_date(f, "first_date")?,
            interval_weeks: parse_number(f, "interval_weeks", "Välj hur ofta forumet möts.", "Choose how often.")?,
            start: parse_time(f, "start")?,
            duration_minutes: parse_number(
                f,
                "duration_minutes",
                "Ange mötets längd i minuter.",
                "Enter the length in minutes.",
            )?,
            paused: false,
        },
    };
    spec.validate()?;
    Ok(spec)
}

fn unit_name(units: &[samverka_domain::org::Unit], id: Uuid) -> String {
    units.iter().find(|u| u.id == id).map(|u| u.name.clone()).unwrap_or_else(|| id.to_string())
}

// ---- the unit's forums --------------------------------------------------------------------

pub struct ForumListRow {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub leads: bool,
    pub schedule: String,
    pub next: String,
}

#[derive(Template)]
#[template(path = "forums.html")]
pub struct ForumListPage {
    pub frame: Frame,
    pub forums: Vec<ForumListRow>,
    pub can_create: bool,
    pub kinds: Vec<(String, String)>,
    pub form: Pairs,
}

impl ForumListPage {
    pub fn value(&self, name: &str) -> String {
        field(&self.form, name).to_string()
    }
}

async fn list_page(st: &AppState, w: WebCaller, form: Pairs, error: Option<AppError>) -> Response {
    let t = w.frame.t;
    let caller = &w.caller;
    let r: AppResult<Response> = async {
        let forums = forums::list(st, caller).await?;
        let now = st.clock.now();
        let mut frame = w.frame;
        frame.title = t.get("forum.title").to_string();
        let status = error.as_ref().map(|e| e.status).unwrap_or(StatusCode::OK);
        frame.error = error.as_ref().map(|e| error_text(t, e));
        let rows = forums
            .iter()
            .map(|f| ForumListRow {
                id: f.id.to_string(),
                name: f.spec.name.clone(),
                kind: t.get(&kind_key(f.spec.kind)).to_string(),
                leads: forum_access(caller.actor.role, caller.actor.unit.id, f.organiser_unit_id, &f.members)
                    == ForumAccess::Leader,
                schedule: schedule_text(t, &f.spec.schedule),
                next: f.spec.schedule.next(now, 1).first().map(|(s, _)| t.datetime(s)).unwrap_or_default(),
            })
            .collect();
        let page = ForumListPage {
            forums: rows,
            can_create: permits(caller.actor.role, Permission::LeadForums),
            kinds: ForumKind::ALL.iter().map(|k| (serde_key(k), t.get(&kind_key(*k)).to_string())).collect(),
            form,
            frame,
        };
        Ok(html(status, &page))
    }
    .await;
    r.unwrap_or_else(|e| error_page(t, e.status, error_text(t, &e)))
}

pub async fn list(State(st): State<AppState>, w: WebCaller) -> Response {
    list_page(&st, w, vec![], None).await
}

pub async fn create(State(st): State<AppState>, w: WebCaller, Form(f): Form<Pairs>) -> Response {
    let id = Uuid::now_v7();
    let r = match spec_of(&f) {
        Ok(spec) => forums::create(&st, &w.caller, id, &spec).await,
        Err(e) => Err(e),
    };
    match r {
        Ok(()) => see_other(&format!("/forum/{id}")),
        Err(e) => list_page(&st, w, f, Some(e)).await,
    }
}

// ---- a forum -------------------------------------------------------------------------------

pub struct MemberRow {
    pub unit_id: String,
    pub unit: String,
    pub role_key: String,
    pub role: String,
    pub mandate: String,
}

pub struct MeetingRow {
    pub id: String,
    pub when: String,
    pub status: String,
    pub status_key: String,
}

pub struct ItemView {
    pub id: String,
    pub kind: String,
    pub kind_key: String,
    pub title: String,
    pub why: String,
    pub affected: String,
    pub ask: String,
    pub raised: String,
    pub note: String,
    pub decision: String,
}

pub struct ActionView {
    pub id: String,
    pub what: String,
    pub owner: String,
    pub due: String,
    pub overdue: bool,
    pub status: String,
    pub status_key: String,
    /// The caller may report its status.
    pub can_report: bool,
    pub from_meeting: String,
}

pub struct Occurrence {
    pub date: String,
    pub label: String,
    pub planned: bool,
}

pub struct AttendanceFigures {
    pub meetings: usize,
    pub average_organisations: String,
    pub average_participants: String,
    /// Per meeting: date, organisations, participants.
    pub per_meeting: Vec<(String, usize, u32)>,
    /// Per organisation: name, meetings attended of those held.
    pub per_organisation: Vec<(String, usize)>,
}

#[derive(Template)]
#[template(path = "forum.html")]
pub struct ForumPage {
    pub frame: Frame,
    pub id: String,
    pub name: String,
    pub kind: String,
    pub purpose: String,
    pub video_link: String,
    pub organiser: String,
    pub schedule: String,
    pub paused: bool,
    pub interval_weeks: u8,
    pub leader: bool,
    pub members: Vec<MemberRow>,
    pub next: Vec<Occurrence>,
    pub upcoming: Vec<MeetingRow>,
    pub past: Vec<MeetingRow>,
    pub waiting: Vec<ItemView>,
    pub actions: Vec<ActionView>,
    pub history: Vec<(String, String, String)>,
    pub attendance: AttendanceFigures,
    pub unit_options: Vec<(String, String)>,
    pub role_options: Vec<(String, String)>,
    pub form: Pairs,
    /// A new calendar address, shown once right after it was made.
    pub calendar_url: String,
}

impl ForumPage {
    pub fn value(&self, name: &str) -> String {
        field(&self.form, name).to_string()
    }
}

fn item_view(frame: &Frame, i: &ItemRecord, units: &[samverka_domain::org::Unit]) -> ItemView {
    let t = frame.t;
    let kind_key = serde_key(&i.proposal.kind);
    ItemView {
        id: i.id.to_string(),
        kind: t.get(&format!("forum.item_{kind_key}")).to_string(),
        kind_key,
        title: i.proposal.title.clone(),
        why: i.proposal.why.clone(),
        affected: i.proposal.affected.clone(),
        ask: i.proposal.ask.clone(),
        raised: format!(
            "{}, {} ({})",
            i.raised_by_name,
            unit_name(units, i.raised_by_unit_id),
            t.datetime(&i.raised_at)
        ),
        note: i.note.clone(),
        decision: i.decision.clone(),
    }
}

fn action_view(
    frame: &Frame,
    a: &ActionRecord,
    units: &[samverka_domain::org::Unit],
    caller: &Caller,
    leader: bool,
    meetings: &[MeetingRecord],
    today: Date,
) -> ActionView {
    let t = frame.t;
    let status_key = serde_key(&a.status);
    ActionView {
        id: a.id.to_string(),
        what: a.spec.what.clone(),
        owner: format!("{}, {}", a.spec.owner_name, unit_name(units, a.spec.owner_unit)),
        due: t.date(&a.spec.due),
        overdue: a.status != ActionStatus::Done && a.spec.due < today,
        status: t.get(&format!("forum.action_{status_key}")).to_string(),
        status_key,
        can_report: leader || a.spec.owner_unit == caller.actor.unit.id,
        from_meeting: meetings
            .iter()
            .find(|m| m.id == a.meeting_id)
            .map(|m| t.date(&calendar::local_date(m.starts_at)))
            .unwrap_or_default(),
    }
}

fn meeting_row(frame: &Frame, m: &MeetingRecord) -> MeetingRow {
    let key = status_key(m.status);
    MeetingRow {
        id: m.id.to_string(),
        when: frame.t.datetime(&m.starts_at),
        status: frame.t.get(&format!("forum.meeting_{key}")).to_string(),
        status_key: key,
    }
}

async fn forum_page(
    st: &AppState,
    w: WebCaller,
    id: Uuid,
    form: Pairs,
    error: Option<AppError>,
    notice: Option<String>,
    calendar_url: String,
) -> Response {
    let t = w.frame.t;
    let caller = &w.caller;
    let r: AppResult<Response> = async {
        let ForumOverview { forum, access, meetings, waiting, actions, history, attendance: sum } =
            forums::overview(st, caller, id, "forum.read").await?;
        let leader = access == ForumAccess::Leader;
        let units = st.store.units().await?;
        let orgs = st.store.organisations().await?;
        let now = st.clock.now();
        let today = calendar::local_date(now);
        let mut frame = w.frame;
        frame.title = forum.spec.name.clone();
        let status = error.as_ref().map(|e| e.status).unwrap_or(StatusCode::OK);
        frame.error = error.as_ref().map(|e| error_text(t, e));
        frame.notice = notice;
        let org_name = |o: Uuid| {
            orgs.iter().find(|(x, _)| x.id == o).map(|(x, _)| x.name.clone()).unwrap_or_else(|| o.to_string())
        };
        let next = forum
            .spec
            .schedule
            .next(now, NEXT_OCCURRENCES)
            .into_iter()
            .map(|(start, _)| Occurrence {
                date: calendar::local_date(start).to_string(),
                label: t.datetime(&start),
                planned: meetings.iter().any(|m| m.starts_at == start && m.status != MeetingStatus::Cancelled),
            })
            .collect();
        let (past, upcoming): (Vec<&MeetingRecord>, Vec<&MeetingRecord>) =
            meetings.iter().partition(|m| m.ends_at < now || m.status == MeetingStatus::Approved);
        let page = ForumPage {
            id: id.to_string(),
            name: forum.spec.name.clone(),
            kind: t.get(&kind_key(forum.spec.kind)).to_string(),
            purpose: forum.spec.purpose.clone(),
            video_link: forum.spec.video_link.clone().unwrap_or_default(),
            organiser: unit_name(&units, forum.organiser_unit_id),
            schedule: schedule_text(t, &forum.spec.schedule),
            paused: forum.spec.schedule.paused,
            interval_weeks: forum.spec.schedule.interval_weeks,
            leader,
            members: forum
                .members
                .iter()
                .map(|m| {
                    let key = crate::page::role_key(m.role);
                    MemberRow {
                        unit_id: m.unit_id.to_string(),
                        unit: unit_name(&units, m.unit_id),
                        role: t.get(&format!("role.{key}")).to_string(),
                        role_key: key,
                        mandate: m.mandate.clone(),
                    }
                })
                .collect(),
            next,
            upcoming: upcoming.iter().map(|m| meeting_row(&frame, m)).collect(),
            past: past.iter().rev().map(|m| meeting_row(&frame, m)).collect(),
            waiting: waiting.iter().map(|i| item_view(&frame, i, &units)).collect(),
            actions: actions
                .iter()
                .filter(|a| a.status != ActionStatus::Done)
                .map(|a| action_view(&frame, a, &units, caller, leader, &meetings, today))
                .collect(),
            history: history
                .iter()
                .map(|h| {
                    (
                        t.datetime(&h.at),
                        format!("{}, {}", h.user_name, h.unit_name),
                        format!("{}: {}", t.get(&format!("forum.change_{}", h.change)), h.detail),
                    )
                })
                .collect(),
            attendance: AttendanceFigures {
                meetings: sum.meetings,
                average_organisations: t.decimal(sum.average_organisations),
                average_participants: t.decimal(sum.average_participants),
                per_meeting: sum
                    .per_meeting
                    .iter()
                    .map(|(at, o, p)| (t.date(&calendar::local_date(*at)), *o, *p))
                    .collect(),
                per_organisation: sum.per_organisation.iter().map(|(o, n)| (org_name(*o), *n)).collect(),
            },
            unit_options: if leader {
                let mut v: Vec<(String, String)> = units.iter().map(|u| (u.id.to_string(), u.name.clone())).collect();
                v.sort_by(|a, b| a.1.cmp(&b.1));
                v
            } else {
                vec![]
            },
            role_options: Role::ALL
                .iter()
                .filter(|r| permits(**r, Permission::TakePartInForums))
                .map(|r| {
                    let key = crate::page::role_key(*r);
                    (key.clone(), t.get(&format!("role.{key}")).to_string())
                })
                .collect(),
            form,
            calendar_url,
            frame,
        };
        Ok(html(status, &page))
    }
    .await;
    r.unwrap_or_else(|e| error_page(t, e.status, error_text(t, &e)))
}

pub async fn page(State(st): State<AppState>, w: WebCaller, ApiPath(id): ApiPath<Uuid>) -> Response {
    forum_page(&st, w, id, vec![], None, None, String::new()).await
}

/// After a form on the forum's page: back to it, or the page again with the error and what
/// was typed.
async fn after_forum(st: &AppState, w: WebCaller, id: Uuid, r: AppResult<()>, f: Pairs, anchor: &str) -> Response {
    match r {
        Ok(()) => see_other(&format!("/forum/{id}{anchor}")),
        // Not theirs to see: no page to show it on (and no second logged denial).
        Err(e) if e.status == StatusCode::NOT_FOUND => error_page(w.frame.t, e.status, error_text(w.frame.t, &e)),
        Err(e) => forum_page(st, w, id, f, Some(e), None, String::new()).await,
    }
}

pub async fn schedule(
    State(st): State<AppState>,
    w: WebCaller,
    ApiPath(id): ApiPath<Uuid>,
    Form(f): Form<Pairs>,
) -> Response {
    let r = match field(&f, "change") {
        "raised" => Ok(ScheduleChange::Raised),
        "lowered" => Ok(ScheduleChange::Lowered),
        "paused" => Ok(ScheduleChange::Paused),
        "resumed" => Ok(ScheduleChange::Resumed),
        _ => Err(invalid("change", "Välj en ändring av schemat.", "Choose a change.")),
    };
    let r = match r {
        Ok(change) => forums::change_schedule(&st, &w.caller, id, change).await,
        Err(e) => Err(e),
    };
    after_forum(&st, w, id, r, vec![], "#schema").await
}

pub async fn add_member(
    State(st): State<AppState>,
    w: WebCaller,
    ApiPath(id): ApiPath<Uuid>,
    Form(f): Form<Pairs>,
) -> Response {
    let member = || -> AppResult<Member> {
        Ok(Member {
            unit_id: parse_uuid(&f, "unit")?,
            role: parse_role(field(&f, "role"))?,
            mandate: field(&f, "mandate").trim().to_string(),
        })
    };
    let r = match member() {
        Ok(m) => forums::add_member(&st, &w.caller, id, &m).await,
        Err(e) => Err(e),
    };
    let keep = if r.is_err() { f } else { vec![] };
    after_forum(&st, w, id, r, keep, "#medlemmar").await
}

pub async fn remove_member(
    State(st): State<AppState>,
    w: WebCaller,
    ApiPath(id): ApiPath<Uuid>,
    Form(f): Form<Pairs>,
) -> Response {
    let r = match (parse_uuid(&f, "unit"), parse_role(field(&f, "role"))) {
        (Ok(unit), Ok(role)) => forums::remove_member(&st, &w.caller, id, unit, role).await,
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    after_forum(&st, w, id, r, vec![], "#medlemmar").await
}

fn proposal_of(f: &Pairs) -> AppResult<ItemProposal> {
    let kind = match field(f, "kind") {
        "arbeta" => ItemKind::Arbeta,
        "bra_att_veta" => ItemKind::BraAttVeta,
        _ => return Err(invalid("kind", "Välj \"arbeta\" eller \"bra att veta\".", "Choose work on or good to know.")),
    };
    let p = ItemProposal {
        kind,
        title: field(f, "title").trim().to_string(),
        why: field(f, "why").trim().to_string(),
        affected: field(f, "affected").trim().to_string(),
        ask: field(f, "ask").trim().to_string(),
    };
    p.validate()?;
    Ok(p)
}

pub async fn raise_item(
    State(st): State<AppState>,
    w: WebCaller,
    ApiPath(id): ApiPath<Uuid>,
    Form(f): Form<Pairs>,
) -> Response {
    let r = match proposal_of(&f) {
        Ok(p) => forums::raise_item(&st, &w.caller, id, Uuid::now_v7(), &p).await.map(|_| ()),
        Err(e) => Err(e),
    };
    let keep = if r.is_err() { f } else { vec![] };
    after_forum(&st, w, id, r, keep, "#punkter").await
}

pub async fn plan_meeting(
    State(st): State<AppState>,
    w: WebCaller,
    ApiPath(id): ApiPath<Uuid>,
    Form(f): Form<Pairs>,
) -> Response {
    let meeting = Uuid::now_v7();
    let when = || -> AppResult<(Date, Option<Time>)> {
        let start = if field(&f, "start").is_empty() { None } else { Some(parse_time(&f, "start")?) };
        Ok((parse_date(&f, "date")?, start))
    };
    let r = match when() {
        Ok((day, start)) => forums::plan_meeting(&st, &w.caller, id, meeting, day, start).await,
        Err(e) => Err(e),
    };
    match r {
        Ok(()) => see_other(&format!("/moten/{meeting}")),
        Err(e) => forum_page(&st, w, id, f, Some(e), None, String::new()).await,
    }
}

/// This server's address as the browser reached it, for links that leave the browser (a
/// calendar address, links inside calendar entries).
fn base_url(st: &AppState, headers: &axum::http::HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c)))
        .unwrap_or("localhost");
    format!("{}://{host}", if st.config.hsts { "https" } else { "http" })
}

/// A new secret calendar address for the caller and the forum, shown once.
pub async fn new_calendar(
    State(st): State<AppState>,
    w: WebCaller,
    headers: axum::http::HeaderMap,
    ApiPath(id): ApiPath<Uuid>,
) -> Response {
    let t = w.frame.t;
    match forums::new_calendar_feed(&st, &w.caller, id).await {
        Ok(token) => {
            let url = format!("{}/kalender/{token}.ics", base_url(&st, &headers));
            forum_page(&st, w, id, vec![], None, Some(t.get("forum.calendar_made").to_string()), url).await
        }
        Err(e) => forum_page(&st, w, id, vec![], Some(e), None, String::new()).await,
    }
}

// ---- a meeting -----------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "meeting.html")]
pub struct MeetingPage {
    pub frame: Frame,
    pub id: String,
    pub forum_id: String,
    pub forum_name: String,
    pub when: String,
    pub status: String,
    pub status_key: String,
    pub video_link: String,
    /// A joint round: the page links to the persons on it.
    pub is_round: bool,
    pub can_agenda: bool,
    pub can_minutes: bool,
    pub can_approve: bool,
    pub can_cancel: bool,
    pub agenda: Vec<ItemView>,
    pub waiting: Vec<ItemView>,
    /// Action items of earlier meetings not yet done.
    pub carried: Vec<ActionView>,
    /// Action items decided at this meeting.
    pub decided: Vec<ActionView>,
    pub notes: String,
    /// Every member unit and the organiser: id, name, participants recorded.
    pub attendance: Vec<(String, String, u32)>,
    pub approved: String,
    pub owner_options: Vec<(String, String)>,
    pub form: Pairs,
}

impl MeetingPage {
    pub fn value(&self, name: &str) -> String {
        field(&self.form, name).to_string()
    }
}

async fn meeting_page(st: &AppState, w: WebCaller, id: Uuid, form: Pairs, error: Option<AppError>) -> Response {
    let t = w.frame.t;
    let caller = &w.caller;
    let r: AppResult<Response> = async {
        let d = forums::meeting(st, caller, id, "forum.meeting_read").await?;
        let now = st.clock.now();
        let today = calendar::local_date(now);
        let leader = d.access == ForumAccess::Leader;
        let m = &d.meeting;
        let mut frame = w.frame;
        frame.title = format!("{} {}", d.forum.spec.name, t.date(&calendar::local_date(m.starts_at)));
        let status = error.as_ref().map(|e| e.status).unwrap_or(StatusCode::OK);
        frame.error = error.as_ref().map(|e| error_text(t, e));
        let key = status_key(m.status);
        let units = d.forum_units();
        let page = MeetingPage {
            id: id.to_string(),
            forum_id: d.forum.id.to_string(),
            forum_name: d.forum.spec.name.clone(),
            when: format!("{} – {}", t.datetime(&m.starts_at), t.datetime_near(&m.ends_at, &m.starts_at)),
            status: t.get(&format!("forum.meeting_{key}")).to_string(),
            status_key: key,
            video_link: d.forum.spec.video_link.clone().unwrap_or_default(),
            is_round: d.forum.spec.kind == samverka_domain::forum::ForumKind::Rond,
            can_agenda: d.may(MeetingChange::Agenda, now),
            can_minutes: d.may(MeetingChange::Minutes, now),
            can_approve: d.may(MeetingChange::Approve, now),
            can_cancel: d.may(MeetingChange::Cancel, now),
            agenda: d.agenda.iter().map(|i| item_view(&frame, i, &d.units)).collect(),
            waiting: d.waiting.iter().map(|i| item_view(&frame, i, &d.units)).collect(),
            carried: d
                .carried()
                .map(|a| action_view(&frame, a, &d.units, caller, leader, &d.meetings, today))
                .collect(),
            decided: d
                .decided()
                .map(|a| action_view(&frame, a, &d.units, caller, leader, &d.meetings, today))
                .collect(),
            notes: m.notes.clone(),
            attendance: units
                .iter()
                .map(|(u, name)| {
                    let n = d.attendance.iter().find(|(x, _)| x == u).map(|(_, n)| *n).unwrap_or(0);
                    (u.to_string(), name.clone(), n)
                })
                .collect(),
            approved: match (&m.approved_at, &m.approved_by_name) {
                (Some(at), Some(by)) => format!("{} ({by})", t.datetime(at)),
                _ => String::new(),
            },
            owner_options: units.iter().map(|(u, n)| (u.to_string(), n.clone())).collect(),
            form,
            frame,
        };
        Ok(html(status, &page))
    }
    .await;
    r.unwrap_or_else(|e| error_page(t, e.status, error_text(t, &e)))
}

pub async fn meeting(State(st): State<AppState>, w: WebCaller, ApiPath(id): ApiPath<Uuid>) -> Response {
    meeting_page(&st, w, id, vec![], None).await
}

async fn after_meeting(st: &AppState, w: WebCaller, id: Uuid, r: AppResult<()>, f: Pairs, anchor: &str) -> Response {
    match r {
        Ok(()) => see_other(&format!("/moten/{id}{anchor}")),
        // Not theirs to see: no page to show it on (and no second logged denial).
        Err(e) if e.status == StatusCode::NOT_FOUND => error_page(w.frame.t, e.status, error_text(w.frame.t, &e)),
        Err(e) => meeting_page(st, w, id, f, Some(e)).await,
    }
}

pub async fn agenda(
    State(st): State<AppState>,
    w: WebCaller,
    ApiPath(id): ApiPath<Uuid>,
    Form(f): Form<Pairs>,
) -> Response {
    let r = match parse_uuid(&f, "item") {
        Ok(item) => forums::place_item(&st, &w.caller, id, item, field(&f, "remove").is_empty()).await,
        Err(e) => Err(e),
    };
    after_meeting(&st, w, id, r, vec![], "#dagordning").await
}

pub async fn minutes(
    State(st): State<AppState>,
    w: WebCaller,
    ApiPath(id): ApiPath<Uuid>,
    Form(f): Form<Pairs>,
) -> Response {
    // Each agenda item's fields are named `note_<item>` and `decision_<item>`.
    let mut items: Vec<ItemMinutes> = vec![];
    for (name, value) in &f {
        let (item, is_note) = match (name.strip_prefix("note_"), name.strip_prefix("decision_")) {
            (Some(i), _) => (i, true),
            (_, Some(i)) => (i, false),
            _ => continue,
        };
        let Ok(item_id) = item.parse::<Uuid>() else { continue };
        let at = match items.iter().position(|m| m.item_id == item_id) {
            Some(at) => at,
            None => {
                items.push(ItemMinutes { item_id, note: String::new(), decision: String::new() });
                items.len() - 1
            }
        };
        if is_note {
            items[at].note = value.clone();
        } else {
            items[at].decision = value.clone();
        }
    }
    let r = forums::write_minutes(&st, &w.caller, id, field(&f, "notes"), &items).await;
    let keep = if r.is_err() { f } else { vec![] };
    after_meeting(&st, w, id, r, keep, "#anteckningar").await
}

pub async fn attendance(
    State(st): State<AppState>,
    w: WebCaller,
    ApiPath(id): ApiPath<Uuid>,
    Form(f): Form<Pairs>,
) -> Response {
    // One field per unit, `present_<unit>`; empty is none.
    let present = || -> AppResult<Vec<(Uuid, u32)>> {
        let mut rows = vec![];
        for (name, value) in &f {
            let Some(unit) = name.strip_prefix("present_").and_then(|u| u.parse::<Uuid>().ok()) else { continue };
            let raw = value.trim();
            let n = if raw.is_empty() {
                0
            } else {
                raw.parse().map_err(|_| {
                    invalid(name, "Ange antal deltagare som ett heltal (0–500).", "Enter a whole number 0–500.")
                })?
            };
            rows.push((unit, n));
        }
        Ok(rows)
    };
    let r = match present() {
        Ok(rows) => forums::record_attendance(&st, &w.caller, id, &rows).await,
        Err(e) => Err(e),
    };
    let keep = if r.is_err() { f } else { vec![] };
    after_meeting(&st, w, id, r, keep, "#narvaro").await
}

pub async fn add_action(
    State(st): State<AppState>,
    w: WebCaller,
    ApiPath(id): ApiPath<Uuid>,
    Form(f): Form<Pairs>,
) -> Response {
    let parsed = || -> AppResult<(Option<Uuid>, ActionSpec)> {
        let item = match field(&f, "item") {
            "" => None,
            _ => Some(parse_uuid(&f, "item")?),
        };
        let spec = ActionSpec {
            what: field(&f, "what").trim().to_string(),
            owner_unit: parse_uuid(&f, "owner_unit")?,
            owner_name: field(&f, "owner_name").trim().to_string(),
            due: parse_date(&f, "due")?,
        };
        Ok((item, spec))
    };
    let r = match parsed() {
        Ok((item, spec)) => forums::add_action(&st, &w.caller, id, Uuid::now_v7(), item, &spec).await.map(|_| ()),
        Err(e) => Err(e),
    };
    let keep = if r.is_err() { f } else { vec![] };
    after_meeting(&st, w, id, r, keep, "#atgarder").await
}

pub async fn approve(State(st): State<AppState>, w: WebCaller, ApiPath(id): ApiPath<Uuid>) -> Response {
    let r = forums::approve_minutes(&st, &w.caller, id).await;
    after_meeting(&st, w, id, r, vec![], "").await
}

pub async fn cancel(State(st): State<AppState>, w: WebCaller, ApiPath(id): ApiPath<Uuid>) -> Response {
    let r = forums::cancel_meeting(&st, &w.caller, id).await;
    after_meeting(&st, w, id, r, vec![], "").await
}

/// An action item's status, reported by its unit or the forum's leader; back to where the
/// form was.
pub async fn action_status(
    State(st): State<AppState>,
    w: WebCaller,
    ApiPath(id): ApiPath<Uuid>,
    Form(f): Form<Pairs>,
) -> Response {
    let t = w.frame.t;
    let r = match field(&f, "status") {
        "open" => Ok(ActionStatus::Open),
        "started" => Ok(ActionStatus::Started),
        "done" => Ok(ActionStatus::Done),
        _ => Err(invalid("status", "Välj en status i listan.", "Choose a status.")),
    };
    let r = match r {
        Ok(status) => forums::set_action_status(&st, &w.caller, id, status).await,
        Err(e) => Err(e),
    };
    match r {
        Ok(a) => {
            let back = field(&f, "back");
            // Only back to one of our own pages.
            if back.starts_with("/moten/") || back.starts_with("/forum/") {
                see_other(back)
            } else {
                see_other(&format!("/forum/{}#atgarder", a.forum_id))
            }
        }
        Err(e) => error_page(t, e.status, error_text(t, &e)),
    }
}

// ---- documents -----------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "minutes_doc.html")]
pub struct MinutesDocument {
    pub frame: Frame,
    pub forum_name: String,
    pub purpose: String,
    pub when: String,
    pub status: String,
    pub approved: String,
    pub notes: String,
    pub agenda: Vec<ItemView>,
    pub decided: Vec<ActionView>,
    pub carried: Vec<ActionView>,
    pub present: Vec<(String, u32)>,
}

/// The minutes as one self-contained HTML document (styles inline), to print, save as PDF or
/// send to one's own unit; `?ladda-ner=1` offers it as a file.
pub async fn minutes_document(
    State(st): State<AppState>,
    w: WebCaller,
    ApiPath(id): ApiPath<Uuid>,
    axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Response {
    let t = w.frame.t;
    let caller = &w.caller;
    let r: AppResult<Response> = async {
        let d = forums::meeting(&st, caller, id, "forum.minutes_export").await?;
        let now = st.clock.now();
        let today = calendar::local_date(now);
        let m = &d.meeting;
        let mut frame = w.frame;
        frame.title = format!("{} {}", t.get("forum.minutes"), d.forum.spec.name);
        let key = status_key(m.status);
        let download = q.contains_key("ladda-ner");
        let doc = MinutesDocument {
            forum_name: d.forum.spec.name.clone(),
            purpose: d.forum.spec.purpose.clone(),
            when: t.datetime(&m.starts_at),
            status: t.get(&format!("forum.meeting_{key}")).to_string(),
            approved: match (&m.approved_at, &m.approved_by_name) {
                (Some(at), Some(by)) => format!("{} ({by})", t.datetime(at)),
                _ => String::new(),
            },
            notes: m.notes.clone(),
            agenda: d.agenda.iter().map(|i| item_view(&frame, i, &d.units)).collect(),
            decided: d.decided().map(|a| action_view(&frame, a, &d.units, caller, false, &d.meetings, today)).collect(),
            carried: d.carried().map(|a| action_view(&frame, a, &d.units, caller, false, &d.meetings, today)).collect(),
            present: d.attendance.iter().map(|(u, n)| (d.unit_name(*u), *n)).collect(),
            frame,
        };
        let mut res = html(StatusCode::OK, &doc);
        if download {
            let name =
                format!("attachment; filename=\"minnesanteckningar-{}.html\"", calendar::local_date(m.starts_at));
            if let Ok(v) = HeaderValue::from_str(&name) {
                res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
            }
        }
        Ok(res)
    }
    .await;
    r.unwrap_or_else(|e| error_page(t, e.status, error_text(t, &e)))
}

/// One meeting as an iCalendar file.
pub async fn meeting_ics(
    State(st): State<AppState>,
    w: WebCaller,
    headers: axum::http::HeaderMap,
    ApiPath(id): ApiPath<Uuid>,
) -> Response {
    let t = w.frame.t;
    match forums::meeting_calendar(&st, &w.caller, id, &base_url(&st, &headers)).await {
        Ok(cal) => samverka_app::calendar::ics_response(cal, &format!("mote-{id}.ics")),
        Err(e) => error_page(t, e.status, error_text(t, &e)),
    }
}

/// A calendar application's subscription, by the secret address alone (see
/// [`forums::subscribed_calendar`]).
pub async fn calendar_feed(
    State(st): State<AppState>,
    headers: axum::http::HeaderMap,
    ApiPath(file): ApiPath<String>,
) -> Response {
    let gone = || (StatusCode::NOT_FOUND, "Kalenderadressen finns inte eller har återkallats.").into_response();
    let Some(token) = file.strip_suffix(".ics") else { return gone() };
    match forums::subscribed_calendar(&st, token, &base_url(&st, &headers)).await {
        Ok(Some(cal)) => samverka_app::calendar::ics_response(cal, "samverka.ics"),
        Ok(None) => gone(),
        Err(e) => e.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use samverka_app::texts::{Lang, texts};

    /// Keys made at run time from enums and codes: every one has a text in both languages.
    #[test]
    fn every_text_made_from_a_value_exists() {
        let mut keys: Vec<String> = ForumKind::ALL.iter().map(|k| kind_key(*k)).collect();
        for k in [ItemKind::Arbeta, ItemKind::BraAttVeta] {
            keys.push(format!("forum.item_{}", serde_key(&k)));
        }
        for s in [ActionStatus::Open, ActionStatus::Started, ActionStatus::Done] {
            keys.push(format!("forum.action_{}", serde_key(&s)));
        }
        for s in [MeetingStatus::Planned, MeetingStatus::Held, MeetingStatus::Approved, MeetingStatus::Cancelled] {
            keys.push(format!("forum.meeting_{}", status_key(s)));
        }
        keys.extend(samverka_domain::forum::INTERVALS.iter().map(|w| format!("forum.every_{w}")));
        keys.extend((0..7).map(|d| format!("forum.weekday_{d}")));
        for c in [
            "created",
            "raised",
            "lowered",
            "paused",
            "resumed",
            "member_added",
            "member_removed",
            "meeting_planned",
            "meeting_cancelled",
            "minutes_approved",
        ] {
            keys.push(format!("forum.change_{c}"));
        }
        for lang in [Lang::SV, Lang::EN] {
            for k in &keys {
                assert!(texts(lang).has(k), "{lang:?}: no text for {k}");
            }
        }
    }
}
