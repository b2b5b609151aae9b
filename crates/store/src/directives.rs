//! The information channel's directives: registered, decided (published or sent back) by a
//! validator, read-confirmed, withdrawn. Publication takes the list of recipients in the
//! same transaction, so "who has not read it" is about the people it went to.

use jiff::Timestamp;
use samverka_domain::Problem;
use samverka_domain::access::Role;
use samverka_domain::directive::{Audience, DirectiveId, DirectiveSpec, DirectiveStatus, Source};
use samverka_domain::org::{OrganisationId, UnitId, UnitKind};
use sqlx::FromRow;
use uuid::Uuid;

use crate::access_log::{Audit, Outcome, logged_write};
use crate::sql::{changed_or, enum_str, parse_enum, uuid};
use crate::sql::{from_micros, is_unique_violation, micros};
use crate::{Result, Store, StoreError, on_db};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectiveRecord {
    pub id: DirectiveId,
    /// The organisation whose registrars and validators own it.
    pub organisation_id: OrganisationId,
    pub spec: DirectiveSpec,
    pub status: DirectiveStatus,
    pub registered_by: Uuid,
    pub registered_by_name: String,
    pub registered_unit_id: UnitId,
    pub registered_at: Timestamp,
    pub decided_by_name: Option<String>,
    pub decided_at: Option<Timestamp>,
    /// The validator's reason for sending it back, or note on publishing.
    pub decision_note: String,
    /// Published directives on the same topic the validator confirmed apply alongside.
    pub coexists: Vec<DirectiveId>,
    pub withdrawn_at: Option<Timestamp>,
}

/// A person a directive went to, or who has read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reader {
    pub user_id: Uuid,
    pub name: String,
    pub unit_id: UnitId,
    pub read_at: Option<Timestamp>,
}

#[derive(FromRow)]
struct Row {
    id: String,
    organisation_id: String,
    topic: String,
    title: String,
    source: String,
    source_name: String,
    reference: String,
    body: String,
    valid_from: String,
    valid_until: Option<String>,
    audience: String,
    status: String,
    registered_by: String,
    registered_by_name: String,
    registered_unit_id: String,
    registered_at: i64,
    decided_by_name: Option<String>,
    decided_at: Option<i64>,
    decision_note: String,
    coexists: String,
    withdrawn_at: Option<i64>,
}

const COLUMNS: &str = "id, organisation_id, topic, title, source, source_name, reference, body, valid_from, \
    valid_until, audience, status, registered_by, registered_by_name, registered_unit_id, registered_at, \
    decided_by_name, decided_at, decision_note, coexists, withdrawn_at";

impl Row {
    fn into_record(self, supersedes: Vec<DirectiveId>) -> Result<DirectiveRecord> {
        let date = |s: &str| s.parse().map_err(StoreError::corrupt);
        Ok(DirectiveRecord {
            id: uuid(&self.id)?,
            organisation_id: uuid(&self.organisation_id)?,
            spec: DirectiveSpec {
                topic: self.topic,
                title: self.title,
                source: parse_enum::<Source>(&self.source)?,
                source_name: self.source_name,
                reference: self.reference,
                body: self.body,
                valid_from: date(&self.valid_from)?,
                valid_until: self.valid_until.as_deref().map(date).transpose()?,
                audience: serde_json::from_str::<Audience>(&self.audience).map_err(StoreError::corrupt)?,
                supersedes,
            },
            status: parse_enum(&self.status)?,
            registered_by: uuid(&self.registered_by)?,
            registered_by_name: self.registered_by_name,
            registered_unit_id: uuid(&self.registered_unit_id)?,
            registered_at: from_micros(self.registered_at)?,
            decided_by_name: self.decided_by_name,
            decided_at: self.decided_at.map(from_micros).transpose()?,
            decision_note: self.decision_note,
            coexists: serde_json::from_str(&self.coexists).map_err(StoreError::corrupt)?,
            withdrawn_at: self.withdrawn_at.map(from_micros).transpose()?,
        })
    }
}

fn moved_on() -> StoreError {
    StoreError::Problem(Problem::conflict(
        "directive_not_pending",
        "Direktivet har redan behandlats av någon annan. Ladda om sidan.",
        "The directive was handled by someone else meanwhile; reload the page.",
    ))
}

impl Store {
    /// Registers a directive; it waits for a validator.
    pub async fn register_directive(
        &self,
        id: DirectiveId,
        organisation: OrganisationId,
        spec: &DirectiveSpec,
        by: &Audit,
        now: Timestamp,
    ) -> Result<()> {
        let log = by.object_entry("directive.register", now, id, Outcome::Allowed);
        let audience = serde_json::to_string(&spec.audience).map_err(StoreError::corrupt)?;
        logged_write!(self, &log, |tx| {
            let inserted = sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO directives ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'pending', \
                 $12, $13, $14, $15, NULL, NULL, '', '[]', NULL)"
            )))
            .bind(id.to_string())
            .bind(organisation.to_string())
            .bind(spec.topic.trim())
            .bind(&spec.title)
            .bind(enum_str(&spec.source))
            .bind(&spec.source_name)
            .bind(&spec.reference)
            .bind(&spec.body)
            .bind(spec.valid_from.to_string())
            .bind(spec.valid_until.map(|d| d.to_string()))
            .bind(&audience)
            .bind(by.actor.user.id.to_string())
            .bind(&by.actor.user.name)
            .bind(by.actor.unit.id.to_string())
            .bind(micros(now))
            .execute(&mut *tx)
            .await;
            match inserted {
                Err(e) if is_unique_violation(&e) => return Ok(()),
                other => other?,
            };
            for old in &spec.supersedes {
                sqlx::query("INSERT INTO directive_supersedes (directive_id, superseded_id) VALUES ($1, $2)")
                    .bind(id.to_string())
                    .bind(old.to_string())
                    .execute(&mut *tx)
                    .await?;
            }
        });
        Ok(())
    }

    /// The supersedes links of these directives: of one by its id, of a list by reading the
    /// (small) table once rather than once per directive.
    async fn supersedes_of(&self, ids: &[String]) -> Result<Vec<(String, DirectiveId)>> {
        let rows: Vec<(String, String)> = match ids {
            [] => return Ok(vec![]),
            [one] => on_db!(self, read, |pool| sqlx::query_as(
                "SELECT directive_id, superseded_id FROM directive_supersedes WHERE directive_id = $1 \
                 ORDER BY superseded_id"
            )
            .bind(one)
            .fetch_all(pool)
            .await?),
            _ => on_db!(self, read, |pool| sqlx::query_as(
                "SELECT directive_id, superseded_id FROM directive_supersedes ORDER BY directive_id, superseded_id"
            )
            .fetch_all(pool)
            .await?),
        };
        rows.into_iter().filter(|(d, _)| ids.contains(d)).map(|(d, s)| Ok((d, uuid(&s)?))).collect()
    }

    async fn records(&self, rows: Vec<Row>) -> Result<Vec<DirectiveRecord>> {
        let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
        let links = self.supersedes_of(&ids).await?;
        rows.into_iter()
            .map(|r| {
                let sup = links.iter().filter(|(d, _)| *d == r.id).map(|(_, s)| *s).collect();
                r.into_record(sup)
            })
            .collect()
    }

    pub async fn directive(&self, id: DirectiveId) -> Result<Option<DirectiveRecord>> {
        let rows: Vec<Row> = on_db!(self, read, |pool| sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM directives WHERE id = $1"
        )))
        .bind(id.to_string())
        .fetch_all(pool)
        .await?);
        Ok(self.records(rows).await?.pop())
    }

    /// Every directive that is or was published (withdrawn ones too), newest first: what
    /// readers see, and what a new directive may conflict with or replace.
    pub async fn published_directives(&self) -> Result<Vec<DirectiveRecord>> {
        let rows: Vec<Row> = on_db!(self, read, |pool| {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM directives WHERE status IN ('published', 'withdrawn') ORDER BY decided_at DESC, id"
        )))
        .fetch_all(pool)
        .await?
        });
        self.records(rows).await
    }

    /// The directives an organisation registered, newest first.
    pub async fn directives_of_organisation(&self, organisation: OrganisationId) -> Result<Vec<DirectiveRecord>> {
        let rows: Vec<Row> = on_db!(self, read, |pool| sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM directives WHERE organisation_id = $1 ORDER BY registered_at DESC, id"
        )))
        .bind(organisation.to_string())
        .fetch_all(pool)
        .await?);
        self.records(rows).await
    }

    /// Publishes a pending directive to the people who now have an assignment at a unit of
    /// its audience, or (with `publish` false) sends it back with `note` as the reason.
    /// `coexists`: published directives on the same topic the validator confirmed apply
    /// alongside it.
    pub async fn decide_directive(
        &self,
        id: DirectiveId,
        publish: bool,
        note: &str,
        coexists: &[DirectiveId],
        by: &Audit,
        now: Timestamp,
    ) -> Result<usize> {
        let action = if publish { "directive.publish" } else { "directive.reject" };
        let log = by.object_entry(action, now, id, Outcome::Allowed);
        let coexists = serde_json::to_string(coexists).map_err(StoreError::corrupt)?;
        let recipients = logged_write!(self, &log, |tx| {
            let audience: Option<String> =
                sqlx::query_scalar("SELECT audience FROM directives WHERE id = $1 AND status = 'pending'")
                    .bind(id.to_string())
                    .fetch_optional(&mut *tx)
                    .await?;
            let Some(audience) = audience else { return Err(moved_on()) };
            let audience: Audience = serde_json::from_str(&audience).map_err(StoreError::corrupt)?;
            let n = sqlx::query(
                "UPDATE directives SET status = $2, decided_by_name = $3, decided_at = $4, decision_note = $5, \
                 coexists = $6 WHERE id = $1 AND status = 'pending'",
            )
            .bind(id.to_string())
            .bind(if publish { "published" } else { "rejected" })
            .bind(&by.actor.user.name)
            .bind(micros(now))
            .bind(note)
            .bind(&coexists)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            changed_or(n, moved_on)?;
            let mut sent = 0;
            if publish {
                let people: Vec<(String, String, String, String, String, String)> = sqlx::query_as(
                    "SELECT a.user_id, us.name, a.unit_id, un.organisation_id, un.kind, a.role FROM assignments a \
                     JOIN users us ON us.id = a.user_id JOIN units un ON un.id = a.unit_id \
                     WHERE a.active AND us.active ORDER BY a.user_id, a.created_at",
                )
                .fetch_all(&mut *tx)
                .await?;
                let mut seen = std::collections::HashSet::new();
                for (user, name, unit, org, kind, role) in people {
                    let (org, kind, role) = (uuid(&org)?, parse_enum::<UnitKind>(&kind)?, parse_enum::<Role>(&role)?);
                    if matches!(role, Role::System | Role::Administrator) || !audience.includes(org, kind) {
                        continue;
                    }
                    if !seen.insert(user.clone()) {
                        continue;
                    }
                    sqlx::query(
                        "INSERT INTO directive_recipients (directive_id, user_id, user_name, unit_id) VALUES ($1, $2, $3, $4)",
                    )
                    .bind(id.to_string())
                    .bind(&user)
                    .bind(&name)
                    .bind(&unit)
                    .execute(&mut *tx)
                    .await?;
                    sent += 1;
                }
            }
            sent
        });
        Ok(recipients)
    }

    /// Withdraws a published directive; it stays, marked withdrawn.
    pub async fn withdraw_directive(&self, id: DirectiveId, note: &str, by: &Audit, now: Timestamp) -> Result<()> {
        let log = by.object_entry("directive.withdraw", now, id, Outcome::Allowed);
        logged_write!(self, &log, |tx| {
            let n = sqlx::query(
                "UPDATE directives SET status = 'withdrawn', withdrawn_at = $2, decision_note = $3 \
                 WHERE id = $1 AND status = 'published'",
            )
            .bind(id.to_string())
            .bind(micros(now))
            .bind(note)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            changed_or(n, moved_on)?;
        });
        Ok(())
    }

    /// The caller has read the directive (again is fine: the first time counts).
    pub async fn confirm_directive_read(&self, id: DirectiveId, by: &Audit, now: Timestamp) -> Result<()> {
        let log = by.object_entry("directive.confirm_read", now, id, Outcome::Allowed);
        logged_write!(self, &log, |tx| {
            sqlx::query(
                "INSERT INTO directive_reads (directive_id, user_id, user_name, unit_id, read_at) VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (directive_id, user_id) DO NOTHING",
            )
            .bind(id.to_string())
            .bind(by.actor.user.id.to_string())
            .bind(&by.actor.user.name)
            .bind(by.actor.unit.id.to_string())
            .bind(micros(now))
            .execute(&mut *tx)
            .await?;
        });
        Ok(())
    }

    /// What every page's header shows, in one read: how many messages the unit has yet to
    /// acknowledge (as `Store::unread_count`), and how many directives sent to the user are in
    /// force on `today` (not superseded) and not yet read (the number beside "Direktiv" in the
    /// menu). A count not asked for (`None`) is 0.
    pub async fn header_counts(
        &self,
        unit: Option<UnitId>,
        user: Option<Uuid>,
        today: jiff::civil::Date,
    ) -> Result<(i64, i64)> {
        Ok(on_db!(self, read, |pool| {
            sqlx::query_as(
                "SELECT (SELECT COUNT(*) FROM inbox WHERE unit_id = $3 AND acknowledged_at IS NULL AND NOT mis_sent \
                         AND case_open), \
                        (SELECT COUNT(*) FROM directive_recipients rc JOIN directives d ON d.id = rc.directive_id \
                         WHERE rc.user_id = $1 AND d.status = 'published' AND d.valid_from <= $2 \
                           AND (d.valid_until IS NULL OR d.valid_until >= $2) \
                           AND NOT EXISTS (SELECT 1 FROM directive_reads r \
                                           WHERE r.directive_id = rc.directive_id AND r.user_id = rc.user_id) \
                           AND NOT EXISTS (SELECT 1 FROM directive_supersedes s JOIN directives n ON n.id = s.directive_id \
                                           WHERE s.superseded_id = d.id AND n.status = 'published'))",
            )
            .bind(user.map(|u| u.to_string()))
            .bind(today.to_string())
            .bind(unit.map(|u| u.to_string()))
            .fetch_one(pool)
            .await?
        }))
    }

    /// When `user` confirmed each directive they have read.
    pub async fn directive_reads_of(&self, user: Uuid) -> Result<Vec<(DirectiveId, Timestamp)>> {
        let rows: Vec<(String, i64)> = on_db!(self, read, |pool| sqlx::query_as(
            "SELECT directive_id, read_at FROM directive_reads WHERE user_id = $1"
        )
        .bind(user.to_string())
        .fetch_all(pool)
        .await?);
        rows.into_iter().map(|(d, at)| Ok((uuid(&d)?, from_micros(at)?))).collect()
    }

    /// Everyone the directive went to, and anyone else who has read it, with when they read it.
    pub async fn directive_readers(&self, id: DirectiveId) -> Result<Vec<Reader>> {
        let sent: Vec<(String, String, String)> = on_db!(self, read, |pool| {
            sqlx::query_as(
            "SELECT user_id, user_name, unit_id FROM directive_recipients WHERE directive_id = $1 ORDER BY user_name, user_id"
        )
        .bind(id.to_string())
        .fetch_all(pool)
        .await?
        });
        let reads: Vec<(String, String, String, i64)> = on_db!(self, read, |pool| {
            sqlx::query_as(
            "SELECT user_id, user_name, unit_id, read_at FROM directive_reads WHERE directive_id = $1 ORDER BY read_at"
        )
        .bind(id.to_string())
        .fetch_all(pool)
        .await?
        });
        let mut out = vec![];
        for (user, name, unit) in &sent {
            let read_at = reads.iter().find(|r| r.0 == *user).map(|r| from_micros(r.3)).transpose()?;
            out.push(Reader { user_id: uuid(user)?, name: name.clone(), unit_id: uuid(unit)?, read_at });
        }
        for (user, name, unit, at) in reads.iter().filter(|r| !sent.iter().any(|s| s.0 == r.0)) {
            out.push(Reader {
                user_id: uuid(user)?,
                name: name.clone(),
                unit_id: uuid(unit)?,
                read_at: Some(from_micros(*at)?),
            });
        }
        Ok(out)
    }
}
