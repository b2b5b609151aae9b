//! Forums: the standing meetings around the discharge process — the Friday status meeting of
//! the municipality and every provider, a primary-care cluster with its cluster leader, a
//! governance group (styrgrupp, samverkansgrupp), a regional network.
//!
//! A forum has a purpose, members (a unit and a role, each with its mandate: what it may
//! decide for its own organisation) and a schedule that can be raised, lowered, paused and
//! resumed. Anyone in a member unit raises an item with the same template (what, why, who is
//! affected, what is asked of the forum), marked **arbeta** (to work on) or **bra att veta**
//! (good to know); the forum's leader builds each meeting's agenda from the raised items,
//! writes the minutes (minnesanteckningar) with decisions and action items, records who came,
//! and approves the minutes, after which they are fixed. Action items carry over from meeting
//! to meeting until they are done.

use jiff::civil::{Date, Time, Weekday};
use jiff::{Timestamp, ToSpan};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::access::{Permission, Role, permits};
use crate::calendar;
use crate::error::Problem;
use crate::org::{OrganisationId, UnitId};
use crate::text::check_text;

pub type ForumId = Uuid;
pub type MeetingId = Uuid;
pub type ItemId = Uuid;
pub type ActionId = Uuid;

/// Longest name of a forum or title of an item (a heading, not a text).
pub const MAX_TITLE_CHARS: usize = 200;

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ForumKind {
    /// Lägesavstämning: the municipality and every provider hear the same thing at once.
    Statusmote,
    /// A municipality's vårdcentraler with their cluster leader.
    Kluster,
    /// Styrgrupp, operativ styrgrupp or samverkansgrupp.
    Styrgrupp,
    /// A regional network (e.g. of the municipalities' MAS).
    Natverk,
    /// Gemensam rond: a vårdcentral with the municipality's health care and home care of an
    /// area, going through the persons they share (see [`crate::round`]).
    Rond,
}

impl ForumKind {
    pub const ALL: [ForumKind; 5] =
        [ForumKind::Statusmote, ForumKind::Kluster, ForumKind::Styrgrupp, ForumKind::Natverk, ForumKind::Rond];
}

/// What the forum is asked to do with an item.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    /// To work on: the forum discusses and decides.
    Arbeta,
    /// Good to know: told, not discussed.
    BraAttVeta,
}

/// A member of a forum: the people of a unit in a role, and what they may decide.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub unit_id: UnitId,
    pub role: Role,
    /// What the member may decide for its own organisation (its mandate in the forum).
    pub mandate: String,
}

/// How often a forum meets: every `interval_weeks` weeks on the weekday of `first_date`, at
/// `start` local time in Sweden.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub first_date: Date,
    pub interval_weeks: u8,
    /// Local time in Sweden, "HH:MM" or "HH:MM:SS" (no offset).
    #[cfg_attr(feature = "openapi", schema(value_type = String, pattern = r"^\d{2}:\d{2}(:\d{2})?$", example = "13:00"))]
    pub start: Time,
    pub duration_minutes: u16,
    pub paused: bool,
}

/// The frequencies a schedule steps through when raised or lowered.
pub const INTERVALS: [u8; 4] = [1, 2, 4, 8];

impl Schedule {
    pub fn validate(&self) -> Result<(), Problem> {
        if !INTERVALS.contains(&self.interval_weeks) {
            return Err(Problem::invalid_field(
                "interval_weeks",
                "invalid_interval",
                "Välj hur ofta forumet möts: varje vecka, varannan, var fjärde eller var åttonde vecka.",
                "Choose every 1, 2, 4 or 8 weeks.",
            ));
        }
        if !(15..=480).contains(&self.duration_minutes) {
            return Err(Problem::invalid_field(
                "duration_minutes",
                "invalid_duration",
                "Ett möte varar mellan 15 minuter och 8 timmar.",
                "A meeting lasts between 15 minutes and 8 hours.",
            ));
        }
        Ok(())
    }

    /// Meets more often: one step down the ladder of [`INTERVALS`].
    pub fn raised(self) -> Result<Schedule, Problem> {
        let i = INTERVALS.iter().position(|&w| w == self.interval_weeks).unwrap_or(0);
        if i == 0 {
            return Err(Problem::conflict(
                "schedule_most_often",
                "Forumet möts redan varje vecka. Tätare möten planeras som extra möten.",
                "The forum already meets every week; plan extra meetings instead.",
            ));
        }
        Ok(Schedule { interval_weeks: INTERVALS[i - 1], ..self })
    }

    /// Meets less often: one step up the ladder of [`INTERVALS`].
    pub fn lowered(self) -> Result<Schedule, Problem> {
        let i = INTERVALS.iter().position(|&w| w == self.interval_weeks).unwrap_or(INTERVALS.len() - 1);
        if i + 1 >= INTERVALS.len() {
            return Err(Problem::conflict(
                "schedule_least_often",
                "Forumet möts redan bara var åttonde vecka. Pausa det om det inte behövs just nu.",
                "The forum already meets only every eighth week; pause it instead.",
            ));
        }
        Ok(Schedule { interval_weeks: INTERVALS[i + 1], ..self })
    }

    pub fn paused(self) -> Result<Schedule, Problem> {
        if self.paused {
            return Err(Problem::conflict("schedule_paused", "Forumet är redan pausat.", "Already paused."));
        }
        Ok(Schedule { paused: true, ..self })
    }

    pub fn resumed(self) -> Result<Schedule, Problem> {
        if !self.paused {
            return Err(Problem::conflict("schedule_running", "Forumet är inte pausat.", "Not paused."));
        }
        Ok(Schedule { paused: false, ..self })
    }

    pub fn weekday(&self) -> Weekday {
        self.first_date.weekday()
    }

    /// The start and end of the next `count` meetings starting at or after `from` (none while
    /// paused). Times are Swedish local time, so a meeting stays at 13.00 across DST.
    pub fn next(&self, from: Timestamp, count: usize) -> Vec<(Timestamp, Timestamp)> {
        if self.paused || count == 0 {
            return vec![];
        }
        let step = (7 * self.interval_weeks as i64).days();
        let mut day = self.first_date;
        let today = calendar::local_date(from);
        // Jump close to today without walking every week since the first meeting.
        if day < today {
            let weeks = calendar::days_between(day, today) / 7;
            let steps = weeks / self.interval_weeks as i64;
            day = day.checked_add((steps * 7 * self.interval_weeks as i64).days()).unwrap_or(day);
        }
        let mut out = vec![];
        while out.len() < count {
            let (start, end) = self.meeting_at(day);
            if start >= from {
                out.push((start, end));
            }
            match day.checked_add(step) {
                Ok(d) => day = d,
                Err(_) => break,
            }
        }
        out
    }

    /// Start and end of a meeting held on the local date `day` at the schedule's time.
    pub fn meeting_at(&self, day: Date) -> (Timestamp, Timestamp) {
        let start = day
            .to_datetime(self.start)
            .to_zoned_datetime(calendar::STOCKHOLM.clone())
            .map(|z| z.timestamp())
            .unwrap_or_else(|_| calendar::start_of_day(day));
        let end = start.checked_add((self.duration_minutes as i64).minutes()).unwrap_or(start);
        (start, end)
    }
}

/// A new forum as its leader describes it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForumSpec {
    pub name: String,
    pub kind: ForumKind,
    pub purpose: String,
    /// Where the meetings are held online (https only), shown in the calendar too.
    pub video_link: Option<String>,
    pub schedule: Schedule,
}

impl ForumSpec {
    pub fn validate(&self) -> Result<(), Problem> {
        check_title("name", &self.name)?;
        check_text("purpose", &self.purpose, true)?;
        if let Some(link) = &self.video_link {
            check_video_link(link)?;
        }
        self.schedule.validate()
    }
}

/// A title or name: required, one line, at most [`MAX_TITLE_CHARS`].
pub fn check_title(field: &str, value: &str) -> Result<(), Problem> {
    check_text(field, value, true)?;
    if value.chars().count() > MAX_TITLE_CHARS || value.contains('\n') {
        return Err(Problem::invalid_field(
            field,
            "title_too_long",
            format!("Skriv en rubrik på en rad, högst {MAX_TITLE_CHARS} tecken. Det utförliga hör hemma i texten."),
            format!("One line of at most {MAX_TITLE_CHARS} characters."),
        ));
    }
    Ok(())
}

/// A video link must be an https address a participant can click (no script or data URLs).
pub fn check_video_link(link: &str) -> Result<(), Problem> {
    let ok = link.len() <= 500
        && link.strip_prefix("https://").is_some_and(|rest| {
            !rest.is_empty() && !rest.starts_with('/') && !rest.chars().any(|c| c.is_whitespace() || c.is_control())
        });
    if ok {
        Ok(())
    } else {
        Err(Problem::invalid_field(
            "video_link",
            "invalid_video_link",
            "Möteslänken ska vara en webbadress som börjar med https://, till exempel https://mote.example.se/abc.",
            "The video link must be an https:// address.",
        ))
    }
}

/// An item raised to a forum, in the template participants asked for.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemProposal {
    pub kind: ItemKind,
    /// What it is about (the heading).
    pub title: String,
    /// Why it matters.
    pub why: String,
    /// Who is affected.
    pub affected: String,
    /// What is asked of the forum (a decision, views, a mandate); required for "arbeta".
    pub ask: String,
}

impl ItemProposal {
    pub fn validate(&self) -> Result<(), Problem> {
        check_title("title", &self.title)?;
        check_text("why", &self.why, true)?;
        check_text("affected", &self.affected, false)?;
        check_text("ask", &self.ask, self.kind == ItemKind::Arbeta).map_err(|p| {
            if p.code == "required" {
                Problem::invalid_field(
                    "ask",
                    "required",
                    "Skriv vad forumet ska göra med punkten: fatta beslut, tycka till eller ge mandat. \
                     Är det bara för kännedom, välj \"bra att veta\".",
                    "Say what is asked of the forum, or mark the item as good to know.",
                )
            } else {
                p
            }
        })
    }
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MeetingStatus {
    /// On the calendar; the agenda is being built.
    Planned,
    /// Held: minutes and attendance being written.
    Held,
    /// Minutes approved (fastställda): fixed from now on.
    Approved,
    Cancelled,
}

/// What someone wants to do to a meeting; checked against its status and the time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MeetingChange {
    /// Put an item on the agenda or take it off.
    Agenda,
    /// Write minutes, decisions, action items or attendance.
    Minutes,
    /// Approve the minutes.
    Approve,
    Cancel,
}

/// Whether `change` may be made to a meeting in `status` that starts at `starts_at`.
pub fn check_meeting_change(
    status: MeetingStatus,
    starts_at: Timestamp,
    change: MeetingChange,
    now: Timestamp,
) -> Result<(), Problem> {
    use MeetingChange::*;
    use MeetingStatus::*;
    match (status, change) {
        (Approved, _) => Err(Problem::conflict(
            "minutes_approved",
            "Minnesanteckningarna är fastställda och kan inte ändras. Ta upp en rättelse som en ny punkt till nästa möte.",
            "The minutes are approved and fixed; raise a correction at the next meeting.",
        )),
        (Cancelled, _) => Err(Problem::conflict(
            "meeting_cancelled",
            "Mötet är inställt. Planera ett nytt möte.",
            "The meeting is cancelled; plan a new one.",
        )),
        (Planned | Held, Minutes) if now < starts_at => Err(Problem::conflict(
            "meeting_not_started",
            "Mötet har inte börjat än. Minnesanteckningar och närvaro skrivs när mötet hålls.",
            "The meeting has not started yet.",
        )),
        (Planned, Approve) => Err(Problem::conflict(
            "minutes_missing",
            "Det finns inga minnesanteckningar att fastställa. Skriv dem först.",
            "There are no minutes to approve yet.",
        )),
        (Held, Cancel) => Err(Problem::conflict(
            "meeting_held",
            "Mötet är redan hållet och kan inte ställas in.",
            "The meeting has been held.",
        )),
        _ => Ok(()),
    }
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionStatus {
    Open,
    Started,
    Done,
}

/// An action item decided at a meeting.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionSpec {
    pub what: String,
    /// The unit that answers for it.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub owner_unit: UnitId,
    /// Who at that unit (a name or a function).
    pub owner_name: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub due: Date,
}

impl ActionSpec {
    pub fn validate(&self, today: Date) -> Result<(), Problem> {
        check_text("what", &self.what, true)?;
        check_title("owner_name", &self.owner_name)?;
        crate::text::check_planned_date("due", self.due, today, today)
    }
}

/// How far a caller may go in a forum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ForumAccess {
    /// Not a member: the forum is not shown at all.
    None,
    /// A member unit's staff: read, raise items, confirm their own unit's action items.
    Member,
    /// The organising unit's leaders: schedule, members, agenda, minutes, attendance.
    Leader,
}

/// The need-to-know rule of forums: only the member units (and the organiser) see a forum, and
/// only the organiser's leaders run it.
pub fn forum_access(role: Role, unit: UnitId, organiser: UnitId, members: &[Member]) -> ForumAccess {
    if !permits(role, Permission::TakePartInForums) {
        return ForumAccess::None;
    }
    if unit == organiser && permits(role, Permission::LeadForums) {
        ForumAccess::Leader
    } else if unit == organiser || members.iter().any(|m| m.unit_id == unit) {
        ForumAccess::Member
    } else {
        ForumAccess::None
    }
}

/// One unit's attendance at one meeting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attendance {
    pub meeting_id: MeetingId,
    pub starts_at: Timestamp,
    pub unit_id: UnitId,
    pub organisation_id: OrganisationId,
    pub participants: u32,
}

/// Attendance over the meetings held, as the network reported it ("on average 11
/// municipalities and 22 participants").
#[derive(Debug, Clone, PartialEq)]
pub struct AttendanceSummary {
    pub meetings: usize,
    pub average_organisations: f64,
    pub average_participants: f64,
    /// Per meeting, oldest first: start, organisations present, participants.
    pub per_meeting: Vec<(Timestamp, usize, u32)>,
    /// Per organisation: meetings it attended, most first.
    pub per_organisation: Vec<(OrganisationId, usize)>,
}

pub fn attendance_summary(held: &[(MeetingId, Timestamp)], rows: &[Attendance]) -> AttendanceSummary {
    let mut per_meeting = vec![];
    let mut per_org: std::collections::HashMap<OrganisationId, usize> = std::collections::HashMap::new();
    for (meeting, at) in held {
        let here: Vec<&Attendance> = rows.iter().filter(|r| r.meeting_id == *meeting).collect();
        let mut orgs: Vec<OrganisationId> = here.iter().map(|r| r.organisation_id).collect();
        orgs.sort();
        orgs.dedup();
        for o in &orgs {
            *per_org.entry(*o).or_default() += 1;
        }
        per_meeting.push((*at, orgs.len(), here.iter().map(|r| r.participants).sum::<u32>()));
    }
    per_meeting.sort_by_key(|m| m.0);
    let n = per_meeting.len();
    let avg = |f: &dyn Fn(&(Timestamp, usize, u32)) -> f64| {
        if n == 0 { 0.0 } else { per_meeting.iter().map(f).sum::<f64>() / n as f64 }
    };
    let average_organisations = avg(&|m| m.1 as f64);
    let average_participants = avg(&|m| m.2 as f64);
    let mut per_organisation: Vec<_> = per_org.into_iter().collect();
    per_organisation.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    AttendanceSummary { meetings: n, average_organisations, average_participants, per_meeting, per_organisation }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::{date, time};

    fn friday_one_pm(interval_weeks: u8) -> Schedule {
        Schedule {
            first_date: date(2026, 1, 9),
            interval_weeks,
            start: time(13, 0, 0, 0),
            duration_minutes: 60,
            paused: false,
        }
    }

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn meetings_fall_on_the_schedule_in_swedish_time_across_dst() {
        let s = friday_one_pm(1);
        // Friday 2026-03-27 is before the change to summer time, 2026-04-03 after it.
        let next = s.next(at("2026-03-25T00:00:00Z"), 3);
        let local: Vec<String> =
            next.iter().map(|(a, _)| calendar::local(*a).strftime("%F %H:%M").to_string()).collect();
        assert_eq!(local, ["2026-03-27 13:00", "2026-04-03 13:00", "2026-04-10 13:00"]);
        assert_eq!(next[0].0, at("2026-03-27T12:00:00Z"));
        assert_eq!(next[1].0, at("2026-04-03T11:00:00Z"));
        assert_eq!(next[0].1, at("2026-03-27T13:00:00Z"), "an hour long");
    }

    #[test]
    fn a_meeting_under_way_is_not_next_and_the_interval_counts_from_the_first_date() {
        let s = friday_one_pm(2);
        // 2026-01-09, -23, 02-06 …: the fortnight counts from the first meeting.
        let next = s.next(at("2026-01-23T12:30:00Z"), 2);
        assert_eq!(calendar::local_date(next[0].0), date(2026, 2, 6));
        assert_eq!(calendar::local_date(next[1].0), date(2026, 2, 20));
        // Before the first meeting, the first meeting is next.
        assert_eq!(calendar::local_date(s.next(at("2025-12-01T00:00:00Z"), 1)[0].0), date(2026, 1, 9));
    }

    #[test]
    fn raising_lowering_pausing_and_resuming() {
        let s = friday_one_pm(4);
        assert_eq!(s.raised().unwrap().interval_weeks, 2);
        assert_eq!(s.raised().unwrap().raised().unwrap().interval_weeks, 1);
        assert_eq!(s.raised().unwrap().raised().unwrap().raised().unwrap_err().code, "schedule_most_often");
        assert_eq!(s.lowered().unwrap().interval_weeks, 8);
        assert_eq!(s.lowered().unwrap().lowered().unwrap_err().code, "schedule_least_often");
        let paused = s.paused().unwrap();
        assert!(paused.next(at("2026-02-01T00:00:00Z"), 5).is_empty(), "a paused forum has no next meeting");
        assert_eq!(paused.paused().unwrap_err().code, "schedule_paused");
        assert_eq!(paused.resumed().unwrap(), s);
        assert_eq!(s.resumed().unwrap_err().code, "schedule_running");
    }

    #[test]
    fn a_schedule_and_a_forum_are_validated_with_swedish_reasons() {
        assert_eq!(Schedule { interval_weeks: 3, ..friday_one_pm(1) }.validate().unwrap_err().code, "invalid_interval");
        assert_eq!(
            Schedule { duration_minutes: 5, ..friday_one_pm(1) }.validate().unwrap_err().code,
            "invalid_duration"
        );
        let spec = ForumSpec {
            name: "Fredagsavstämning".into(),
            kind: ForumKind::Statusmote,
            purpose: "Samma besked till alla utförare samtidigt.".into(),
            video_link: Some("https://mote.example.se/fredag".into()),
            schedule: friday_one_pm(1),
        };
        assert!(spec.validate().is_ok());
        for bad in ["javascript:alert(1)", "http://mote.example.se", "https://", "https:///x", "https://a b"] {
            let e = ForumSpec { video_link: Some(bad.into()), ..spec.clone() }.validate().unwrap_err();
            assert_eq!(e.code, "invalid_video_link", "{bad}");
            assert!(e.message_sv.contains("https://"));
        }
        assert_eq!(ForumSpec { name: " ".into(), ..spec.clone() }.validate().unwrap_err().field.unwrap(), "name");
        assert_eq!(ForumSpec { name: "a\nb".into(), ..spec.clone() }.validate().unwrap_err().code, "title_too_long");
    }

    #[test]
    fn an_item_to_work_on_must_say_what_is_asked_and_one_good_to_know_need_not() {
        let item = ItemProposal {
            kind: ItemKind::Arbeta,
            title: "Hjälpmedel vid helgutskrivning".into(),
            why: "Patienter kommer hem utan rullator på lördagar.".into(),
            affected: "Hemtjänsten, avdelningarna".into(),
            ask: String::new(),
        };
        let e = item.validate().unwrap_err();
        assert_eq!((e.code, e.field.as_deref()), ("required", Some("ask")));
        assert!(e.message_sv.contains("bra att veta"));
        assert!(ItemProposal { kind: ItemKind::BraAttVeta, ..item.clone() }.validate().is_ok());
        assert!(ItemProposal { ask: "Beslut om rutin".into(), ..item.clone() }.validate().is_ok());
        assert_eq!(ItemProposal { why: String::new(), ..item }.validate().unwrap_err().field.as_deref(), Some("why"));
    }

    #[test]
    fn meetings_change_only_in_order() {
        let start = at("2026-03-27T12:00:00Z");
        let before = at("2026-03-27T11:00:00Z");
        let after = at("2026-03-27T13:30:00Z");
        use MeetingChange::*;
        use MeetingStatus::*;
        assert!(check_meeting_change(Planned, start, Agenda, before).is_ok());
        assert_eq!(check_meeting_change(Planned, start, Minutes, before).unwrap_err().code, "meeting_not_started");
        assert!(check_meeting_change(Planned, start, Minutes, after).is_ok());
        assert_eq!(check_meeting_change(Planned, start, Approve, after).unwrap_err().code, "minutes_missing");
        assert!(check_meeting_change(Held, start, Approve, after).is_ok());
        assert_eq!(check_meeting_change(Held, start, Cancel, after).unwrap_err().code, "meeting_held");
        for change in [Agenda, Minutes, Approve, Cancel] {
            assert_eq!(check_meeting_change(Approved, start, change, after).unwrap_err().code, "minutes_approved");
            assert_eq!(check_meeting_change(Cancelled, start, change, after).unwrap_err().code, "meeting_cancelled");
        }
    }

    #[test]
    fn only_member_units_see_a_forum_and_only_the_organisers_leaders_run_it() {
        let (organiser, member, outsider) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let members = [Member { unit_id: member, role: Role::Enhetschef, mandate: "Beslut om bemanning".into() }];
        assert_eq!(forum_access(Role::Enhetschef, organiser, organiser, &members), ForumAccess::Leader);
        assert_eq!(forum_access(Role::Mas, organiser, organiser, &members), ForumAccess::Leader);
        assert_eq!(forum_access(Role::Klusterledare, organiser, organiser, &members), ForumAccess::Leader);
        assert_eq!(forum_access(Role::Sjukskoterska, organiser, organiser, &members), ForumAccess::Member);
        assert_eq!(forum_access(Role::Enhetschef, member, organiser, &members), ForumAccess::Member);
        assert_eq!(forum_access(Role::Bistandshandlaggare, member, organiser, &members), ForumAccess::Member);
        assert_eq!(forum_access(Role::Enhetschef, outsider, organiser, &members), ForumAccess::None);
        assert_eq!(forum_access(Role::System, organiser, organiser, &members), ForumAccess::None);
        assert_eq!(forum_access(Role::Administrator, organiser, organiser, &members), ForumAccess::None);
    }

    #[test]
    fn an_action_is_due_from_today_on() {
        let today = date(2026, 3, 27);
        let a = ActionSpec {
            what: "Ta fram rutin".into(),
            owner_unit: Uuid::now_v7(),
            owner_name: "MAS".into(),
            due: today,
        };
        assert!(a.validate(today).is_ok());
        let late = ActionSpec { due: date(2026, 3, 26), ..a.clone() };
        assert_eq!(late.validate(today).unwrap_err().code, "date_too_early");
        assert_eq!(
            ActionSpec { owner_name: String::new(), ..a }.validate(today).unwrap_err().field.as_deref(),
            Some("owner_name")
        );
    }

    #[test]
    fn attendance_is_summed_per_meeting_and_per_organisation() {
        let (m1, m2, m3) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let (k1, k2) = (Uuid::now_v7(), Uuid::now_v7());
        let (t1, t2, t3) = (at("2026-01-09T12:00:00Z"), at("2026-01-16T12:00:00Z"), at("2026-01-23T12:00:00Z"));
        let row = |meeting_id, starts_at, organisation_id, participants| Attendance {
            meeting_id,
            starts_at,
            unit_id: Uuid::now_v7(),
            organisation_id,
            participants,
        };
        // Two units of k1 at the first meeting count as one organisation, three people.
        let rows = [row(m1, t1, k1, 2), row(m1, t1, k1, 1), row(m1, t1, k2, 1), row(m2, t2, k1, 4)];
        let s = attendance_summary(&[(m2, t2), (m1, t1), (m3, t3)], &rows);
        assert_eq!(s.meetings, 3);
        assert_eq!(s.per_meeting, vec![(t1, 2, 4), (t2, 1, 4), (t3, 0, 0)]);
        assert_eq!(s.average_organisations, 1.0);
        assert!((s.average_participants - 8.0 / 3.0).abs() < 1e-9);
        assert_eq!(s.per_organisation, vec![(k1, 2), (k2, 1)]);
        assert_eq!(attendance_summary(&[], &[]).average_participants, 0.0);
    }
}
