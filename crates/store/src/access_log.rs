//! The access log: what every read and write of patient data leaves behind (HSLF-FS 2016:40),
//! and the one way a logged write goes in ([`logged_write!`]).

use jiff::Timestamp;
use samverka_domain::access::Role;
use samverka_domain::org::{OrganisationId, UnitId};
use serde::Serialize;
use sqlx::FromRow;
use uuid::Uuid;

use crate::sql::{from_micros, micros, parse_enum, uuid};
use crate::{Result, Store, on_db};

/// Outcome of an access attempt, as logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Allowed,
    /// Refused by an access rule (need-to-know, role, consent).
    Denied,
    /// Refused because the request itself was wrong (validation, a step out of order).
    Refused,
}

/// One access to patient data.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccessEntry {
    pub id: i64,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub at: Timestamp,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub user_id: Uuid,
    pub user_name: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Uuid))]
    pub assignment_id: Option<Uuid>,
    pub role: Option<Role>,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub unit_id: UnitId,
    pub unit_name: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub organisation_id: OrganisationId,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Uuid))]
    pub patient_id: Option<Uuid>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Uuid))]
    pub case_id: Option<Uuid>,
    /// What was done, e.g. `case.read`, `case.send_message`, `patient.search`.
    pub action: String,
    pub outcome: Outcome,
    /// Access outside need-to-know (nödåtkomst).
    pub emergency: bool,
    /// The stated reason of an emergency access.
    pub reason: Option<String>,
    /// The patient had protected identity at the time.
    pub protected_identity: bool,
    pub client_address: Option<String>,
    /// What else was accessed, when it is not a case: a forum, a meeting, an action item.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Uuid))]
    pub object_id: Option<Uuid>,
}

#[derive(FromRow)]
struct AccessRow {
    id: i64,
    at: i64,
    user_id: String,
    user_name: String,
    assignment_id: Option<String>,
    role: Option<String>,
    unit_id: String,
    unit_name: String,
    organisation_id: String,
    patient_id: Option<String>,
    case_id: Option<String>,
    action: String,
    outcome: String,
    emergency: bool,
    reason: Option<String>,
    protected_identity: bool,
    client_address: Option<String>,
    object_id: Option<String>,
}

impl AccessRow {
    fn into_entry(self) -> Result<AccessEntry> {
        Ok(AccessEntry {
            id: self.id,
            at: from_micros(self.at)?,
            user_id: uuid(&self.user_id)?,
            user_name: self.user_name,
            assignment_id: self.assignment_id.map(|a| uuid(&a)).transpose()?,
            role: self.role.map(|r| parse_enum(&r)).transpose()?,
            unit_id: uuid(&self.unit_id)?,
            unit_name: self.unit_name,
            organisation_id: uuid(&self.organisation_id)?,
            patient_id: self.patient_id.map(|p| uuid(&p)).transpose()?,
            case_id: self.case_id.map(|c| uuid(&c)).transpose()?,
            action: self.action,
            outcome: parse_enum(&self.outcome)?,
            emergency: self.emergency,
            reason: self.reason,
            protected_identity: self.protected_identity,
            client_address: self.client_address,
            object_id: self.object_id.map(|o| uuid(&o)).transpose()?,
        })
    }
}

/// Which entries a log review asks for. All conditions must hold.
#[derive(Debug, Clone, Default)]
pub struct AccessFilter {
    pub organisation_id: Option<OrganisationId>,
    pub patient_id: Option<Uuid>,
    pub user_id: Option<Uuid>,
    pub unit_id: Option<UnitId>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    pub emergency_only: bool,
    pub protected_only: bool,
    pub limit: i64,
}

/// Appends access-log entries (`&[AccessEntry]`) in one statement; `insert_access!` for one.
/// Expanded once per database driver.
macro_rules! insert_access_rows {
    ($exec:expr, $entries:expr) => {{
        let entries: &[$crate::access_log::AccessEntry] = $entries;
        let mut q = sqlx::QueryBuilder::new(
            "INSERT INTO access_log (at, user_id, user_name, assignment_id, role, unit_id, unit_name, organisation_id, \
             patient_id, case_id, action, outcome, emergency, reason, protected_identity, client_address, object_id) ",
        );
        q.push_values(entries, |mut row, e| {
            row.push_bind($crate::sql::micros(e.at))
                .push_bind(e.user_id.to_string())
                .push_bind(&e.user_name)
                .push_bind(e.assignment_id.map(|a| a.to_string()))
                .push_bind(e.role.as_ref().map($crate::sql::enum_str))
                .push_bind(e.unit_id.to_string())
                .push_bind(&e.unit_name)
                .push_bind(e.organisation_id.to_string())
                .push_bind(e.patient_id.map(|p| p.to_string()))
                .push_bind(e.case_id.map(|c| c.to_string()))
                .push_bind(&e.action)
                .push_bind($crate::sql::enum_str(&e.outcome))
                .push_bind(e.emergency)
                .push_bind(&e.reason)
                .push_bind(e.protected_identity)
                .push_bind(&e.client_address)
                .push_bind(e.object_id.map(|o| o.to_string()));
        });
        q.build().execute($exec).await
    }};
}
pub(crate) use insert_access_rows;

macro_rules! insert_access {
    ($exec:expr, $e:expr) => {
        $crate::access_log::insert_access_rows!($exec, std::slice::from_ref($e))
    };
}
pub(crate) use insert_access;

/// The one way a write that must be access-logged goes in: begins a transaction on the
/// writer, runs `body` (which may read, check, and make conditional updates; a `?` or an early
/// `return` leaves nothing behind, since the transaction rolls back when dropped), appends the
/// access-log entry `log`, and commits. The write and its entry become durable together or not
/// at all. The block's value is the value of the whole.
macro_rules! logged_write {
    ($store:expr, $log:expr, |$tx:ident| $body:block) => {
        $crate::on_db!($store, write, |pool| {
            let mut $tx = pool.begin().await?;
            let value = $body;
            $crate::access_log::insert_access!(&mut *$tx, $log)?;
            $tx.commit().await?;
            value
        })
    };
}
pub(crate) use logged_write;

impl Store {
    pub async fn access_log(&self, f: &AccessFilter) -> Result<Vec<AccessEntry>> {
        self.fold_access_journal().await?;
        let rows: Vec<AccessRow> = on_db!(self, read, |pool| {
            sqlx::query_as(
            "SELECT id, at, user_id, user_name, assignment_id, role, unit_id, unit_name, organisation_id, patient_id, case_id, \
                    action, outcome, emergency, reason, protected_identity, client_address, object_id \
             FROM access_log \
             WHERE ($1 IS NULL OR organisation_id = $1) AND ($2 IS NULL OR patient_id = $2) AND ($3 IS NULL OR user_id = $3) \
               AND ($4 IS NULL OR unit_id = $4) AND ($5 IS NULL OR at >= $5) AND ($6 IS NULL OR at < $6) \
               AND (NOT $7 OR emergency) AND (NOT $8 OR protected_identity) \
             ORDER BY at DESC, id DESC LIMIT $9"
        )
        .bind(f.organisation_id.map(|o| o.to_string()))
        .bind(f.patient_id.map(|p| p.to_string()))
        .bind(f.user_id.map(|u| u.to_string()))
        .bind(f.unit_id.map(|u| u.to_string()))
        .bind(f.from.map(micros))
        .bind(f.to.map(micros))
        .bind(f.emergency_only)
        .bind(f.protected_only)
        .bind(f.limit)
        .fetch_all(pool)
        .await?
        });
        rows.into_iter().map(AccessRow::into_entry).collect()
    }

    /// Number of entries, for tests and the health of the log.
    pub async fn access_log_count(&self) -> Result<i64> {
        self.fold_access_journal().await?;
        Ok(on_db!(self, read, |pool| sqlx::query_scalar("SELECT COUNT(*) FROM access_log").fetch_one(pool).await?))
    }

    /// Deletes entries older than `cutoff`, recording the cut-off first. The database refuses
    /// to delete anything newer.
    pub async fn purge_access_log(&self, cutoff: Timestamp, now: Timestamp) -> Result<u64> {
        self.fold_access_journal().await?;
        let n = on_db!(self, write, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query("INSERT INTO access_log_purges (cutoff, purged_at) VALUES ($1, $2)")
                .bind(micros(cutoff))
                .bind(micros(now))
                .execute(&mut *tx)
                .await?;
            let n = sqlx::query("DELETE FROM access_log WHERE at < $1")
                .bind(micros(cutoff))
                .execute(&mut *tx)
                .await?
                .rows_affected();
            // The person's pages keep their own log under the same retention.
            let m = sqlx::query("DELETE FROM person_access_log WHERE at < $1")
                .bind(micros(cutoff))
                .execute(&mut *tx)
                .await?
                .rows_affected();
            tx.commit().await?;
            n + m
        });
        Ok(n)
    }
}

/// Who is accessing, for the access log: the actor in their assignment, from an address.
#[derive(Debug, Clone)]
pub struct Audit {
    pub actor: samverka_domain::actor::Actor,
    pub assignment_id: Option<Uuid>,
    pub client_address: Option<String>,
}

impl Audit {
    /// An access-log entry for this caller.
    #[allow(clippy::too_many_arguments)]
    pub fn entry(
        &self,
        action: &str,
        at: Timestamp,
        patient_id: Option<Uuid>,
        case_id: Option<Uuid>,
        outcome: Outcome,
        emergency: Option<&str>,
        protected_identity: bool,
    ) -> AccessEntry {
        AccessEntry {
            id: 0,
            at,
            user_id: self.actor.user.id,
            user_name: self.actor.user.name.clone(),
            assignment_id: self.assignment_id,
            role: Some(self.actor.role),
            unit_id: self.actor.unit.id,
            unit_name: self.actor.unit.name.clone(),
            organisation_id: self.actor.unit.organisation_id,
            patient_id,
            case_id,
            action: action.to_string(),
            outcome,
            emergency: emergency.is_some(),
            reason: emergency.map(str::to_string),
            protected_identity,
            client_address: self.client_address.clone(),
            object_id: None,
        }
    }

    /// An access-log entry for something that is not patient data (a forum, a meeting).
    pub fn object_entry(&self, action: &str, at: Timestamp, object: Uuid, outcome: Outcome) -> AccessEntry {
        AccessEntry { object_id: Some(object), ..self.entry(action, at, None, None, outcome, None, false) }
    }
}
