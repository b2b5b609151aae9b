//! Forums, their meetings, raised items, minutes, action items and attendance.
//!
//! Every write takes the caller's [`Audit`] and writes, in its own transaction, the change,
//! a line of the forum's history where the change is one members should see (schedule,
//! members, meetings) and the access-log entry with the object's id. Minutes once approved
//! are fixed: every change to a meeting is a conditional update on its status, so a change
//! racing the approval is refused, never half applied.

use jiff::Timestamp;
use jiff::civil::{Date, Time};
use samverka_domain::Problem;
use samverka_domain::access::Role;
use samverka_domain::forum::{
    ActionId, ActionSpec, ActionStatus, Attendance, ForumId, ForumKind, ForumSpec, ItemId, ItemKind, ItemProposal,
    MeetingId, MeetingStatus, Member, Schedule,
};
use samverka_domain::org::UnitId;
use sqlx::FromRow;
use uuid::Uuid;

use crate::access_log::{Audit, Outcome, logged_write};
use crate::sql::{changed_or, enum_str, parse_enum, uuid};
use crate::sql::{from_micros, is_unique_violation, micros};
use crate::{Result, Store, StoreError, on_db};

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ForumRecord {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub id: ForumId,
    pub spec: ForumSpec,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub organiser_unit_id: UnitId,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
    pub members: Vec<Member>,
}

/// A line of a forum's history: what changed, who changed it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ForumChange {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub at: Timestamp,
    pub user_name: String,
    pub unit_name: String,
    /// A stable code (`created`, `raised`, `lowered`, `paused`, `resumed`, `member_added`,
    /// `member_removed`, `meeting_planned`, `meeting_cancelled`, `minutes_approved`).
    pub change: String,
    /// What it concerned, e.g. the unit added or the meeting's date.
    pub detail: String,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MeetingRecord {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub id: MeetingId,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub forum_id: ForumId,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub starts_at: Timestamp,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub ends_at: Timestamp,
    pub status: MeetingStatus,
    /// General minutes, beside each item's note and decision.
    pub notes: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub approved_at: Option<Timestamp>,
    pub approved_by_name: Option<String>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ItemRecord {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub id: ItemId,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub forum_id: ForumId,
    /// The meeting whose agenda it is on; none while it waits.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Uuid))]
    pub meeting_id: Option<MeetingId>,
    pub position: i32,
    pub proposal: ItemProposal,
    pub raised_by_name: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub raised_by_unit_id: UnitId,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub raised_at: Timestamp,
    pub note: String,
    pub decision: String,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ActionRecord {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub id: ActionId,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub forum_id: ForumId,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub meeting_id: MeetingId,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Uuid))]
    pub item_id: Option<ItemId>,
    pub spec: ActionSpec,
    pub status: ActionStatus,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub updated_at: Timestamp,
}

/// Minutes for one agenda item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemMinutes {
    pub item_id: ItemId,
    pub note: String,
    pub decision: String,
}

fn not_found(what: &str) -> StoreError {
    StoreError::Problem(Problem::not_found(
        "not_found",
        format!("{what} finns inte, eller så är din enhet inte med i forumet."),
        "Not found, or your unit is not a member of the forum.",
    ))
}

fn approved_meanwhile() -> StoreError {
    StoreError::Problem(Problem::conflict(
        "minutes_approved",
        "Mötet har fastställts eller ställts in under tiden. Ladda om sidan.",
        "The meeting was approved or cancelled meanwhile; reload the page.",
    ))
}

type ForumRow = (String, String, String, String, String, Option<String>, String, i32, i32, i32, bool, i64);
const FORUM_COLUMNS: &str = "id, name, kind, purpose, organiser_unit_id, video_link, first_date, interval_weeks, \
                             start_minute, duration_minutes, paused, created_at";

fn forum_of(r: ForumRow, members: Vec<Member>) -> Result<ForumRecord> {
    let first_date: Date = r.6.parse().map_err(StoreError::corrupt)?;
    let start = Time::new((r.8 / 60) as i8, (r.8 % 60) as i8, 0, 0).map_err(StoreError::corrupt)?;
    Ok(ForumRecord {
        id: uuid(&r.0)?,
        spec: ForumSpec {
            name: r.1,
            kind: parse_enum::<ForumKind>(&r.2)?,
            purpose: r.3,
            video_link: r.5,
            schedule: Schedule {
                first_date,
                interval_weeks: r.7 as u8,
                start,
                duration_minutes: r.9 as u16,
                paused: r.10,
            },
        },
        organiser_unit_id: uuid(&r.4)?,
        created_at: from_micros(r.11)?,
        members,
    })
}

fn start_minute(t: Time) -> i32 {
    t.hour() as i32 * 60 + t.minute() as i32
}

#[derive(FromRow)]
struct MeetingRow {
    id: String,
    forum_id: String,
    starts_at: i64,
    ends_at: i64,
    status: String,
    notes: String,
    approved_at: Option<i64>,
    approved_by_name: Option<String>,
}
const MEETING_COLUMNS: &str = "id, forum_id, starts_at, ends_at, status, notes, approved_at, approved_by_name";

impl MeetingRow {
    fn into_record(self) -> Result<MeetingRecord> {
        Ok(MeetingRecord {
            id: uuid(&self.id)?,
            forum_id: uuid(&self.forum_id)?,
            starts_at: from_micros(self.starts_at)?,
            ends_at: from_micros(self.ends_at)?,
            status: parse_enum(&self.status)?,
            notes: self.notes,
            approved_at: self.approved_at.map(from_micros).transpose()?,
            approved_by_name: self.approved_by_name,
        })
    }
}

#[derive(FromRow)]
struct ItemRow {
    id: String,
    forum_id: String,
    meeting_id: Option<String>,
    position: i32,
    kind: String,
    title: String,
    why: String,
    affected: String,
    ask: String,
    raised_by_name: String,
    raised_by_unit_id: String,
    raised_at: i64,
    note: String,
    decision: String,
}
const ITEM_COLUMNS: &str = "id, forum_id, meeting_id, position, kind, title, why, affected, ask, raised_by_name, \
                            raised_by_unit_id, raised_at, note, decision";

impl ItemRow {
    fn into_record(self) -> Result<ItemRecord> {
        Ok(ItemRecord {
            id: uuid(&self.id)?,
            forum_id: uuid(&self.forum_id)?,
            meeting_id: self.meeting_id.map(|m| uuid(&m)).transpose()?,
            position: self.position,
            proposal: ItemProposal {
                kind: parse_enum::<ItemKind>(&self.kind)?,
                title: self.title,
                why: self.why,
                affected: self.affected,
                ask: self.ask,
            },
            raised_by_name: self.raised_by_name,
            raised_by_unit_id: uuid(&self.raised_by_unit_id)?,
            raised_at: from_micros(self.raised_at)?,
            note: self.note,
            decision: self.decision,
        })
    }
}

#[derive(FromRow)]
struct ActionRow {
    id: String,
    forum_id: String,
    meeting_id: String,
    item_id: Option<String>,
    what: String,
    owner_unit_id: String,
    owner_name: String,
    due_date: String,
    status: String,
    created_at: i64,
    updated_at: i64,
}
const ACTION_COLUMNS: &str =
    "id, forum_id, meeting_id, item_id, what, owner_unit_id, owner_name, due_date, status, created_at, updated_at";

impl ActionRow {
    fn into_record(self) -> Result<ActionRecord> {
        Ok(ActionRecord {
            id: uuid(&self.id)?,
            forum_id: uuid(&self.forum_id)?,
            meeting_id: uuid(&self.meeting_id)?,
            item_id: self.item_id.map(|i| uuid(&i)).transpose()?,
            spec: ActionSpec {
                what: self.what,
                owner_unit: uuid(&self.owner_unit_id)?,
                owner_name: self.owner_name,
                due: self.due_date.parse().map_err(StoreError::corrupt)?,
            },
            status: parse_enum(&self.status)?,
            created_at: from_micros(self.created_at)?,
            updated_at: from_micros(self.updated_at)?,
        })
    }
}

/// Locks the forum's row for the transaction (PostgreSQL; SQLite has one writer anyway), so
/// history lines are numbered one at a time. Not found is an error.
macro_rules! lock_forum {
    ($tx:expr, $forum:expr) => {{
        let n = sqlx::query("UPDATE forums SET id = id WHERE id = $1")
            .bind($forum.to_string())
            .execute(&mut *$tx)
            .await?
            .rows_affected();
        changed_or(n, || not_found("Forumet"))?;
    }};
}

/// Appends a line to the forum's history.
macro_rules! history {
    ($tx:expr, $forum:expr, $by:expr, $now:expr, $change:expr, $detail:expr) => {{
        let seq: Option<i32> = sqlx::query_scalar("SELECT MAX(seq) FROM forum_history WHERE forum_id = $1")
            .bind($forum.to_string())
            .fetch_one(&mut *$tx)
            .await?;
        sqlx::query(
            "INSERT INTO forum_history (forum_id, seq, at, user_name, unit_name, change, detail) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind($forum.to_string())
        .bind(seq.unwrap_or(0) + 1)
        .bind(micros($now))
        .bind(&$by.actor.user.name)
        .bind(&$by.actor.unit.name)
        .bind($change)
        .bind($detail)
        .execute(&mut *$tx)
        .await?;
    }};
}

/// The meeting's forum, and that the meeting may still change (planned or held), in the
/// transaction; refused otherwise.
macro_rules! open_meeting {
    ($tx:expr, $meeting:expr) => {{
        let row: Option<(String, String)> = sqlx::query_as("SELECT forum_id, status FROM forum_meetings WHERE id = $1")
            .bind($meeting.to_string())
            .fetch_optional(&mut *$tx)
            .await?;
        let Some((forum, status)) = row else { return Err(not_found("Mötet")) };
        if status != "planned" && status != "held" {
            return Err(approved_meanwhile());
        }
        uuid(&forum)?
    }};
}

impl Store {
    pub async fn create_forum(
        &self,
        id: ForumId,
        spec: &ForumSpec,
        organiser: UnitId,
        by: &Audit,
        now: Timestamp,
    ) -> Result<()> {
        let log = by.object_entry("forum.create", now, id, Outcome::Allowed);
        let s = &spec.schedule;
        logged_write!(self, &log, |tx| {
            let inserted = sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO forums ({FORUM_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
            )))
            .bind(id.to_string())
            .bind(&spec.name)
            .bind(enum_str(&spec.kind))
            .bind(&spec.purpose)
            .bind(organiser.to_string())
            .bind(&spec.video_link)
            .bind(s.first_date.to_string())
            .bind(s.interval_weeks as i32)
            .bind(start_minute(s.start))
            .bind(s.duration_minutes as i32)
            .bind(s.paused)
            .bind(micros(now))
            .execute(&mut *tx)
            .await;
            match inserted {
                // The same id again: a repeated request, already done.
                Err(e) if is_unique_violation(&e) => return Ok(()),
                other => other?,
            };
            history!(tx, id, by, now, "created", &spec.name);
        });
        Ok(())
    }

    pub async fn forum(&self, id: ForumId) -> Result<Option<ForumRecord>> {
        let row: Option<ForumRow> = on_db!(self, read, |pool| sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {FORUM_COLUMNS} FROM forums WHERE id = $1"
        )))
        .bind(id.to_string())
        .fetch_optional(pool)
        .await?);
        match row {
            Some(r) => {
                let members = self.forum_members(id).await?;
                Ok(Some(forum_of(r, members)?))
            }
            None => Ok(None),
        }
    }

    async fn forum_members(&self, id: ForumId) -> Result<Vec<Member>> {
        let rows: Vec<(String, String, String)> = on_db!(self, read, |pool| sqlx::query_as(
            "SELECT unit_id, role, mandate FROM forum_members WHERE forum_id = $1 ORDER BY added_at, unit_id, role"
        )
        .bind(id.to_string())
        .fetch_all(pool)
        .await?);
        rows.into_iter()
            .map(|(u, r, m)| Ok(Member { unit_id: uuid(&u)?, role: parse_enum::<Role>(&r)?, mandate: m }))
            .collect()
    }

    /// The forums a unit organises or is a member of, by name.
    pub async fn forums_of_unit(&self, unit: UnitId) -> Result<Vec<ForumRecord>> {
        let rows: Vec<ForumRow> = on_db!(self, read, |pool| sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {FORUM_COLUMNS} FROM forums WHERE organiser_unit_id = $1 \
             OR id IN (SELECT forum_id FROM forum_members WHERE unit_id = $1) ORDER BY name, id"
        )))
        .bind(unit.to_string())
        .fetch_all(pool)
        .await?);
        let mut out = vec![];
        for r in rows {
            let members = self.forum_members(uuid(&r.0)?).await?;
            out.push(forum_of(r, members)?);
        }
        Ok(out)
    }

    /// A new schedule (raised, lowered, paused, resumed): `change` names it in the history.
    pub async fn set_forum_schedule(
        &self,
        forum: ForumId,
        schedule: &Schedule,
        change: &str,
        detail: &str,
        by: &Audit,
        now: Timestamp,
    ) -> Result<()> {
        let log = by.object_entry("forum.schedule", now, forum, Outcome::Allowed);
        logged_write!(self, &log, |tx| {
            lock_forum!(tx, forum);
            sqlx::query(
                "UPDATE forums SET first_date = $2, interval_weeks = $3, start_minute = $4, duration_minutes = $5, \
                 paused = $6 WHERE id = $1",
            )
            .bind(forum.to_string())
            .bind(schedule.first_date.to_string())
            .bind(schedule.interval_weeks as i32)
            .bind(start_minute(schedule.start))
            .bind(schedule.duration_minutes as i32)
            .bind(schedule.paused)
            .execute(&mut *tx)
            .await?;
            history!(tx, forum, by, now, change, detail);
        });
        Ok(())
    }

    /// Adds a member; `detail` (the unit's name and role) goes to the history.
    pub async fn add_forum_member(
        &self,
        forum: ForumId,
        member: &Member,
        detail: &str,
        by: &Audit,
        now: Timestamp,
    ) -> Result<()> {
        let log = by.object_entry("forum.member_add", now, forum, Outcome::Allowed);
        logged_write!(self, &log, |tx| {
            lock_forum!(tx, forum);
            let inserted = sqlx::query(
                "INSERT INTO forum_members (forum_id, unit_id, role, mandate, added_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(forum.to_string())
            .bind(member.unit_id.to_string())
            .bind(enum_str(&member.role))
            .bind(&member.mandate)
            .bind(micros(now))
            .execute(&mut *tx)
            .await;
            match inserted {
                Err(e) if is_unique_violation(&e) => {
                    return Err(StoreError::Problem(Problem::conflict(
                        "member_exists",
                        "Enheten är redan med i forumet i den rollen. Ta bort den först om mandatet ska ändras.",
                        "The unit is already a member in that role.",
                    )));
                }
                other => other?,
            };
            history!(tx, forum, by, now, "member_added", detail);
        });
        Ok(())
    }

    pub async fn remove_forum_member(
        &self,
        forum: ForumId,
        unit: UnitId,
        role: Role,
        detail: &str,
        by: &Audit,
        now: Timestamp,
    ) -> Result<()> {
        let log = by.object_entry("forum.member_remove", now, forum, Outcome::Allowed);
        logged_write!(self, &log, |tx| {
            lock_forum!(tx, forum);
            let n = sqlx::query("DELETE FROM forum_members WHERE forum_id = $1 AND unit_id = $2 AND role = $3")
                .bind(forum.to_string())
                .bind(unit.to_string())
                .bind(enum_str(&role))
                .execute(&mut *tx)
                .await?
                .rows_affected();
            changed_or(n, || not_found("Medlemmen"))?;
            history!(tx, forum, by, now, "member_removed", detail);
        });
        Ok(())
    }

    pub async fn forum_history(&self, forum: ForumId) -> Result<Vec<ForumChange>> {
        let rows: Vec<(i64, String, String, String, String)> = on_db!(self, read, |pool| {
            sqlx::query_as(
            "SELECT at, user_name, unit_name, change, detail FROM forum_history WHERE forum_id = $1 ORDER BY seq DESC"
        )
        .bind(forum.to_string())
        .fetch_all(pool)
        .await?
        });
        rows.into_iter()
            .map(|r| {
                Ok(ForumChange { at: from_micros(r.0)?, user_name: r.1, unit_name: r.2, change: r.3, detail: r.4 })
            })
            .collect()
    }

    /// Puts a meeting on the forum's calendar; `detail` (its date) goes to the history.
    #[allow(clippy::too_many_arguments)]
    pub async fn plan_meeting(
        &self,
        id: MeetingId,
        forum: ForumId,
        starts_at: Timestamp,
        ends_at: Timestamp,
        detail: &str,
        by: &Audit,
        now: Timestamp,
    ) -> Result<()> {
        let log = by.object_entry("forum.meeting_plan", now, id, Outcome::Allowed);
        logged_write!(self, &log, |tx| {
            lock_forum!(tx, forum);
            let inserted = sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO forum_meetings ({MEETING_COLUMNS}, created_at) VALUES ($1, $2, $3, $4, 'planned', '', NULL, NULL, $5)"
            )))
            .bind(id.to_string())
            .bind(forum.to_string())
            .bind(micros(starts_at))
            .bind(micros(ends_at))
            .bind(micros(now))
            .execute(&mut *tx)
            .await;
            match inserted {
                Err(e) if is_unique_violation(&e) => return Ok(()),
                other => other?,
            };
            history!(tx, forum, by, now, "meeting_planned", detail);
        });
        Ok(())
    }

    pub async fn meetings_of_forum(&self, forum: ForumId) -> Result<Vec<MeetingRecord>> {
        let rows: Vec<MeetingRow> = on_db!(self, read, |pool| sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {MEETING_COLUMNS} FROM forum_meetings WHERE forum_id = $1 ORDER BY starts_at, id"
        )))
        .bind(forum.to_string())
        .fetch_all(pool)
        .await?);
        rows.into_iter().map(MeetingRow::into_record).collect()
    }

    pub async fn meeting(&self, id: MeetingId) -> Result<Option<MeetingRecord>> {
        let row: Option<MeetingRow> = on_db!(self, read, |pool| sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {MEETING_COLUMNS} FROM forum_meetings WHERE id = $1"
        )))
        .bind(id.to_string())
        .fetch_optional(pool)
        .await?);
        row.map(MeetingRow::into_record).transpose()
    }

    /// Cancels a planned meeting; its agenda's items wait for the next one again.
    pub async fn cancel_meeting(&self, id: MeetingId, detail: &str, by: &Audit, now: Timestamp) -> Result<()> {
        let log = by.object_entry("forum.meeting_cancel", now, id, Outcome::Allowed);
        logged_write!(self, &log, |tx| {
            let forum = open_meeting!(tx, id);
            lock_forum!(tx, forum);
            let n = sqlx::query("UPDATE forum_meetings SET status = 'cancelled' WHERE id = $1 AND status = 'planned'")
                .bind(id.to_string())
                .execute(&mut *tx)
                .await?
                .rows_affected();
            changed_or(n, approved_meanwhile)?;
            sqlx::query("UPDATE forum_items SET meeting_id = NULL WHERE meeting_id = $1")
                .bind(id.to_string())
                .execute(&mut *tx)
                .await?;
            history!(tx, forum, by, now, "meeting_cancelled", detail);
        });
        Ok(())
    }

    pub async fn raise_item(
        &self,
        id: ItemId,
        forum: ForumId,
        proposal: &ItemProposal,
        by: &Audit,
        now: Timestamp,
    ) -> Result<()> {
        let log = by.object_entry("forum.item_raise", now, id, Outcome::Allowed);
        logged_write!(self, &log, |tx| {
            lock_forum!(tx, forum);
            let inserted = sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO forum_items ({ITEM_COLUMNS}, raised_by) \
                 VALUES ($1, $2, NULL, 0, $3, $4, $5, $6, $7, $8, $9, $10, '', '', $11)"
            )))
            .bind(id.to_string())
            .bind(forum.to_string())
            .bind(enum_str(&proposal.kind))
            .bind(&proposal.title)
            .bind(&proposal.why)
            .bind(&proposal.affected)
            .bind(&proposal.ask)
            .bind(&by.actor.user.name)
            .bind(by.actor.unit.id.to_string())
            .bind(micros(now))
            .bind(by.actor.user.id.to_string())
            .execute(&mut *tx)
            .await;
            match inserted {
                Err(e) if is_unique_violation(&e) => return Ok(()),
                other => other?,
            };
        });
        Ok(())
    }

    /// The forum's items: those waiting for a meeting (`None`) or on a meeting's agenda.
    pub async fn forum_items(&self, forum: ForumId, meeting: Option<MeetingId>) -> Result<Vec<ItemRecord>> {
        let rows: Vec<ItemRow> = on_db!(self, read, |pool| sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {ITEM_COLUMNS} FROM forum_items WHERE forum_id = $1 \
             AND (($2 IS NULL AND meeting_id IS NULL) OR meeting_id = $2) ORDER BY position, raised_at, id"
        )))
        .bind(forum.to_string())
        .bind(meeting.map(|m| m.to_string()))
        .fetch_all(pool)
        .await?);
        rows.into_iter().map(ItemRow::into_record).collect()
    }

    /// Puts a waiting item last on a meeting's agenda, or (with `None`) takes it off the
    /// agenda of `from` to wait again. Both meetings must still be open.
    pub async fn place_item(
        &self,
        item: ItemId,
        to: Option<MeetingId>,
        from: Option<MeetingId>,
        by: &Audit,
        now: Timestamp,
    ) -> Result<()> {
        let log = by.object_entry("forum.agenda", now, item, Outcome::Allowed);
        logged_write!(self, &log, |tx| {
            let meeting = to.or(from).ok_or_else(|| not_found("Mötet"))?;
            let forum = open_meeting!(tx, meeting);
            lock_forum!(tx, forum);
            let position: Option<i32> =
                sqlx::query_scalar("SELECT MAX(position) FROM forum_items WHERE meeting_id = $1")
                    .bind(meeting.to_string())
                    .fetch_one(&mut *tx)
                    .await?;
            let n = sqlx::query(
                "UPDATE forum_items SET meeting_id = $2, position = $3 WHERE id = $1 AND forum_id = $4 \
                 AND (($5 IS NULL AND meeting_id IS NULL) OR meeting_id = $5)",
            )
            .bind(item.to_string())
            .bind(to.map(|m| m.to_string()))
            .bind(if to.is_some() { position.unwrap_or(0) + 1 } else { 0 })
            .bind(forum.to_string())
            .bind(from.map(|m| m.to_string()))
            .execute(&mut *tx)
            .await?
            .rows_affected();
            changed_or(n, || {
                StoreError::Problem(Problem::conflict(
                    "item_moved",
                    "Punkten ligger inte där längre (någon annan har flyttat den). Ladda om sidan.",
                    "The item has been moved meanwhile; reload the page.",
                ))
            })?;
        });
        Ok(())
    }

    /// Writes the minutes: the general notes and each agenda item's note and decision. The
    /// meeting counts as held from now on.
    pub async fn write_minutes(
        &self,
        meeting: MeetingId,
        notes: &str,
        items: &[ItemMinutes],
        by: &Audit,
        now: Timestamp,
    ) -> Result<()> {
        let log = by.object_entry("forum.minutes_write", now, meeting, Outcome::Allowed);
        logged_write!(self, &log, |tx| {
            let _forum = open_meeting!(tx, meeting);
            sqlx::query(
                "UPDATE forum_meetings SET notes = $2, status = 'held' WHERE id = $1 AND status IN ('planned', 'held')",
            )
            .bind(meeting.to_string())
            .bind(notes)
            .execute(&mut *tx)
            .await?;
            for m in items {
                let n =
                    sqlx::query("UPDATE forum_items SET note = $3, decision = $4 WHERE id = $1 AND meeting_id = $2")
                        .bind(m.item_id.to_string())
                        .bind(meeting.to_string())
                        .bind(&m.note)
                        .bind(&m.decision)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                changed_or(n, || {
                    StoreError::Problem(Problem::conflict(
                        "item_not_on_agenda",
                        "En av punkterna finns inte längre på dagordningen. Ladda om sidan; inget har sparats.",
                        "An item is no longer on the agenda; nothing was saved.",
                    ))
                })?;
            }
        });
        Ok(())
    }

    /// Who came: the number of participants per unit, replacing what was recorded before.
    pub async fn record_attendance(
        &self,
        meeting: MeetingId,
        rows: &[(UnitId, u32)],
        by: &Audit,
        now: Timestamp,
    ) -> Result<()> {
        let log = by.object_entry("forum.attendance", now, meeting, Outcome::Allowed);
        logged_write!(self, &log, |tx| {
            let _forum = open_meeting!(tx, meeting);
            sqlx::query("UPDATE forum_meetings SET status = 'held' WHERE id = $1")
                .bind(meeting.to_string())
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM forum_attendance WHERE meeting_id = $1")
                .bind(meeting.to_string())
                .execute(&mut *tx)
                .await?;
            for (unit, participants) in rows.iter().filter(|r| r.1 > 0) {
                sqlx::query("INSERT INTO forum_attendance (meeting_id, unit_id, participants) VALUES ($1, $2, $3)")
                    .bind(meeting.to_string())
                    .bind(unit.to_string())
                    .bind(*participants as i32)
                    .execute(&mut *tx)
                    .await?;
            }
        });
        Ok(())
    }

    pub async fn meeting_attendance(&self, meeting: MeetingId) -> Result<Vec<(UnitId, u32)>> {
        let rows: Vec<(String, i32)> = on_db!(self, read, |pool| sqlx::query_as(
            "SELECT unit_id, participants FROM forum_attendance WHERE meeting_id = $1 ORDER BY unit_id"
        )
        .bind(meeting.to_string())
        .fetch_all(pool)
        .await?);
        rows.into_iter().map(|(u, p)| Ok((uuid(&u)?, p as u32))).collect()
    }

    /// The forum's held meetings (start) and every unit's attendance at them, with the unit's
    /// organisation, for [`samverka_domain::forum::attendance_summary`].
    pub async fn forum_attendance(&self, forum: ForumId) -> Result<(Vec<(MeetingId, Timestamp)>, Vec<Attendance>)> {
        let held: Vec<(String, i64)> = on_db!(self, read, |pool| {
            sqlx::query_as(
            "SELECT id, starts_at FROM forum_meetings WHERE forum_id = $1 AND status IN ('held', 'approved') ORDER BY starts_at"
        )
        .bind(forum.to_string())
        .fetch_all(pool)
        .await?
        });
        let rows: Vec<(String, i64, String, String, i32)> = on_db!(self, read, |pool| sqlx::query_as(
            "SELECT m.id, m.starts_at, a.unit_id, u.organisation_id, a.participants FROM forum_attendance a \
             JOIN forum_meetings m ON m.id = a.meeting_id JOIN units u ON u.id = a.unit_id \
             WHERE m.forum_id = $1 AND m.status IN ('held', 'approved')"
        )
        .bind(forum.to_string())
        .fetch_all(pool)
        .await?);
        let held = held.into_iter().map(|(m, at)| Ok((uuid(&m)?, from_micros(at)?))).collect::<Result<_>>()?;
        let rows = rows
            .into_iter()
            .map(|r| {
                Ok(Attendance {
                    meeting_id: uuid(&r.0)?,
                    starts_at: from_micros(r.1)?,
                    unit_id: uuid(&r.2)?,
                    organisation_id: uuid(&r.3)?,
                    participants: r.4 as u32,
                })
            })
            .collect::<Result<_>>()?;
        Ok((held, rows))
    }

    /// Fixes the minutes: from now on the meeting, its items and its attendance do not change.
    pub async fn approve_minutes(&self, meeting: MeetingId, detail: &str, by: &Audit, now: Timestamp) -> Result<()> {
        let log = by.object_entry("forum.minutes_approve", now, meeting, Outcome::Allowed);
        logged_write!(self, &log, |tx| {
            let forum = open_meeting!(tx, meeting);
            lock_forum!(tx, forum);
            let n = sqlx::query(
                "UPDATE forum_meetings SET status = 'approved', approved_at = $2, approved_by_name = $3 \
                 WHERE id = $1 AND status = 'held'",
            )
            .bind(meeting.to_string())
            .bind(micros(now))
            .bind(&by.actor.user.name)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            changed_or(n, || {
                StoreError::Problem(Problem::conflict(
                    "minutes_missing",
                    "Det finns inga minnesanteckningar att fastställa. Skriv dem först.",
                    "There are no minutes to approve yet.",
                ))
            })?;
            history!(tx, forum, by, now, "minutes_approved", detail);
        });
        Ok(())
    }

    /// An action item decided at an open meeting.
    #[allow(clippy::too_many_arguments)]
    pub async fn add_action(
        &self,
        id: ActionId,
        meeting: MeetingId,
        item: Option<ItemId>,
        spec: &ActionSpec,
        by: &Audit,
        now: Timestamp,
    ) -> Result<()> {
        let log = by.object_entry("forum.action_add", now, id, Outcome::Allowed);
        logged_write!(self, &log, |tx| {
            let forum = open_meeting!(tx, meeting);
            if let Some(item) = item {
                let on_agenda: Option<String> =
                    sqlx::query_scalar("SELECT id FROM forum_items WHERE id = $1 AND meeting_id = $2")
                        .bind(item.to_string())
                        .bind(meeting.to_string())
                        .fetch_optional(&mut *tx)
                        .await?;
                if on_agenda.is_none() {
                    return Err(not_found("Punkten"));
                }
            }
            let inserted = sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO forum_actions ({ACTION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'open', $9, $9)"
            )))
            .bind(id.to_string())
            .bind(forum.to_string())
            .bind(meeting.to_string())
            .bind(item.map(|i| i.to_string()))
            .bind(&spec.what)
            .bind(spec.owner_unit.to_string())
            .bind(&spec.owner_name)
            .bind(spec.due.to_string())
            .bind(micros(now))
            .execute(&mut *tx)
            .await;
            match inserted {
                Err(e) if is_unique_violation(&e) => return Ok(()),
                other => other?,
            };
        });
        Ok(())
    }

    pub async fn set_action_status(
        &self,
        id: ActionId,
        status: ActionStatus,
        by: &Audit,
        now: Timestamp,
    ) -> Result<()> {
        let log = by.object_entry("forum.action_status", now, id, Outcome::Allowed);
        logged_write!(self, &log, |tx| {
            let n = sqlx::query("UPDATE forum_actions SET status = $2, updated_at = $3 WHERE id = $1")
                .bind(id.to_string())
                .bind(enum_str(&status))
                .bind(micros(now))
                .execute(&mut *tx)
                .await?
                .rows_affected();
            changed_or(n, || not_found("Åtgärden"))?;
        });
        Ok(())
    }

    pub async fn action(&self, id: ActionId) -> Result<Option<ActionRecord>> {
        let row: Option<ActionRow> = on_db!(self, read, |pool| sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {ACTION_COLUMNS} FROM forum_actions WHERE id = $1"
        )))
        .bind(id.to_string())
        .fetch_optional(pool)
        .await?);
        row.map(ActionRow::into_record).transpose()
    }

    /// The forum's action items, by due date: those not done carry over to every meeting.
    pub async fn forum_actions(&self, forum: ForumId) -> Result<Vec<ActionRecord>> {
        let rows: Vec<ActionRow> = on_db!(self, read, |pool| sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {ACTION_COLUMNS} FROM forum_actions WHERE forum_id = $1 ORDER BY due_date, created_at, id"
        )))
        .bind(forum.to_string())
        .fetch_all(pool)
        .await?);
        rows.into_iter().map(ActionRow::into_record).collect()
    }

    /// A calendar application's secret address for a person and forum (only its hash is kept).
    pub async fn create_calendar_feed(
        &self,
        token_hash: &str,
        user: Uuid,
        forum: ForumId,
        by: &Audit,
        now: Timestamp,
    ) -> Result<()> {
        let log = by.object_entry("forum.calendar_feed", now, forum, Outcome::Allowed);
        logged_write!(self, &log, |tx| {
            sqlx::query(
                "UPDATE calendar_feeds SET revoked_at = $3 WHERE user_id = $1 AND forum_id = $2 AND revoked_at IS NULL",
            )
            .bind(user.to_string())
            .bind(forum.to_string())
            .bind(micros(now))
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO calendar_feeds (token_hash, user_id, forum_id, created_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(token_hash)
            .bind(user.to_string())
            .bind(forum.to_string())
            .bind(micros(now))
            .execute(&mut *tx)
            .await?;
        });
        Ok(())
    }

    /// The person and forum of a calendar address not revoked.
    pub async fn calendar_feed(&self, token_hash: &str) -> Result<Option<(Uuid, ForumId)>> {
        let row: Option<(String, String)> = on_db!(self, read, |pool| sqlx::query_as(
            "SELECT user_id, forum_id FROM calendar_feeds WHERE token_hash = $1 AND revoked_at IS NULL"
        )
        .bind(token_hash)
        .fetch_optional(pool)
        .await?);
        row.map(|(u, f)| Ok((uuid(&u)?, uuid(&f)?))).transpose()
    }
}
