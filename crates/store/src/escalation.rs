//! Escalation rules and escalations made, and units' named contacts with the date their
//! entry was last confirmed.

use jiff::Timestamp;
use samverka_domain::directory::Contact;
use samverka_domain::escalation::{EscalationRule, Level, Waiting};
use samverka_domain::message::MessageId;
use samverka_domain::org::UnitId;
use uuid::Uuid;

use crate::access_log::{Audit, Outcome, logged_write};
use crate::sql::{changed_or, enum_str, parse_enum, uuid};
use crate::sql::{from_micros, micros};
use crate::{Result, Store, StoreError, on_db};

/// An escalation made, as a leader's or backup's list shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EscalationEntry {
    /// The case, which a backup unit (that received the message) may open; a leader's unit
    /// was only told.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub case_id: Uuid,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub message_id: MessageId,
    /// The unit that did not acknowledge in time.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub from_unit: UnitId,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub to_unit: UnitId,
    pub level: Level,
    pub message_kind: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub sender_unit: UnitId,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub sent_at: Timestamp,
    pub after_minutes: u32,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub escalated_at: Timestamp,
    /// When the unit that did not answer (or its backup) has acknowledged since.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub acknowledged_at: Option<Timestamp>,
}

type RuleRow = (String, i32, String, Option<i32>, Option<String>);

fn rule_of(r: RuleRow) -> Result<EscalationRule> {
    Ok(EscalationRule {
        unit: uuid(&r.0)?,
        backup_after_minutes: r.1 as u32,
        backup_unit: uuid(&r.2)?,
        leader_after_minutes: r.3.map(|m| m as u32),
        leader_unit: r.4.map(|u| uuid(&u)).transpose()?,
    })
}

impl Store {
    /// Sets (or replaces) a unit's escalation rule.
    pub async fn set_escalation_rule(&self, rule: &EscalationRule, by: &Audit, now: Timestamp) -> Result<()> {
        let log = by.object_entry("unit.escalation_rule", now, rule.unit, Outcome::Allowed);
        logged_write!(self, &log, |tx| {
            sqlx::query("DELETE FROM escalation_rules WHERE unit_id = $1")
                .bind(rule.unit.to_string())
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO escalation_rules (unit_id, backup_after_minutes, backup_unit_id, leader_after_minutes, \
                 leader_unit_id, updated_at, updated_by_name) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(rule.unit.to_string())
            .bind(rule.backup_after_minutes as i32)
            .bind(rule.backup_unit.to_string())
            .bind(rule.leader_after_minutes.map(|m| m as i32))
            .bind(rule.leader_unit.map(|u| u.to_string()))
            .bind(micros(now))
            .bind(&by.actor.user.name)
            .execute(&mut *tx)
            .await?;
        });
        Ok(())
    }

    pub async fn escalation_rules(&self) -> Result<Vec<EscalationRule>> {
        let rows: Vec<RuleRow> = on_db!(self, read, |pool| sqlx::query_as(
            "SELECT unit_id, backup_after_minutes, backup_unit_id, leader_after_minutes, leader_unit_id \
             FROM escalation_rules ORDER BY unit_id"
        )
        .fetch_all(pool)
        .await?);
        rows.into_iter().map(rule_of).collect()
    }

    pub async fn escalation_rule(&self, unit: UnitId) -> Result<Option<EscalationRule>> {
        let row: Option<RuleRow> = on_db!(self, read, |pool| sqlx::query_as(
            "SELECT unit_id, backup_after_minutes, backup_unit_id, leader_after_minutes, leader_unit_id \
             FROM escalation_rules WHERE unit_id = $1"
        )
        .bind(unit.to_string())
        .fetch_optional(pool)
        .await?);
        row.map(rule_of).transpose()
    }

    /// What `unit` has yet to acknowledge in open cases, with whether `backup` has
    /// acknowledged each and which escalations were made already.
    pub async fn waiting_messages(&self, unit: UnitId, backup: UnitId) -> Result<Vec<Waiting>> {
        let rows: Vec<(String, String, i64, bool)> = on_db!(self, read, |pool| sqlx::query_as(
            "SELECT i.case_id, i.message_id, i.sent_at, \
                    EXISTS (SELECT 1 FROM inbox b WHERE b.unit_id = $2 AND b.case_id = i.case_id \
                            AND b.message_id = i.message_id AND b.acknowledged_at IS NOT NULL) \
             FROM inbox i WHERE i.unit_id = $1 AND i.acknowledged_at IS NULL AND NOT i.mis_sent AND i.case_open \
             ORDER BY i.sent_at"
        )
        .bind(unit.to_string())
        .bind(backup.to_string())
        .fetch_all(pool)
        .await?);
        let done: Vec<(String, String)> = on_db!(self, read, |pool| sqlx::query_as(
            "SELECT message_id, level FROM escalations WHERE from_unit_id = $1"
        )
        .bind(unit.to_string())
        .fetch_all(pool)
        .await?);
        rows.into_iter()
            .map(|(case, message, sent, backup_acknowledged)| {
                let levels = done
                    .iter()
                    .filter(|(m, _)| *m == message)
                    .map(|(_, l)| parse_enum::<Level>(l))
                    .collect::<Result<_>>()?;
                Ok(Waiting {
                    case_id: uuid(&case)?,
                    message_id: uuid(&message)?,
                    unit,
                    sent_at: from_micros(sent)?,
                    backup_acknowledged,
                    done: levels,
                })
            })
            .collect()
    }

    /// Remembers an escalation made (again is fine), with the e-mail that tells of it, queued
    /// only the first time.
    #[allow(clippy::too_many_arguments)]
    pub async fn record_escalation(
        &self,
        case_id: Uuid,
        message_id: MessageId,
        from_unit: UnitId,
        to_unit: UnitId,
        level: Level,
        after_minutes: u32,
        mail: Option<&crate::mail::Mail>,
        now: Timestamp,
    ) -> Result<()> {
        on_db!(self, write, |pool| {
            let mut tx = pool.begin().await?;
            let n = sqlx::query(
                "INSERT INTO escalations (message_id, from_unit_id, level, case_id, to_unit_id, message_kind, \
                 sender_unit_id, sent_at, after_minutes, escalated_at) \
                 SELECT message_id, unit_id, $3, case_id, $4, kind, sender_unit_id, sent_at, $5, $6 FROM inbox \
                 WHERE unit_id = $2 AND message_id = $1 AND case_id = $7 \
                 ON CONFLICT (message_id, from_unit_id, level) DO NOTHING",
            )
            .bind(message_id.to_string())
            .bind(from_unit.to_string())
            .bind(enum_str(&level))
            .bind(to_unit.to_string())
            .bind(after_minutes as i32)
            .bind(micros(now))
            .bind(case_id.to_string())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if let Some(m) = mail.filter(|_| n == 1) {
                crate::mail::queue_mail!(tx, m, now)?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// The escalations made to a unit, newest first, with whether the message has been
    /// acknowledged since (by the unit that did not answer or by its backup).
    pub async fn escalations_to(&self, unit: UnitId, limit: i64) -> Result<Vec<EscalationEntry>> {
        type Row = (String, String, String, String, String, String, String, i64, i32, i64, Option<i64>);
        let rows: Vec<Row> = on_db!(self, read, |pool| {
            sqlx::query_as(
            "SELECT e.case_id, e.message_id, e.from_unit_id, e.to_unit_id, e.level, e.message_kind, e.sender_unit_id, \
                    e.sent_at, e.after_minutes, e.escalated_at, \
                    (SELECT MIN(i.acknowledged_at) FROM inbox i WHERE i.case_id = e.case_id AND i.message_id = e.message_id \
                       AND (i.unit_id = e.from_unit_id OR i.unit_id IN \
                            (SELECT r.backup_unit_id FROM escalation_rules r WHERE r.unit_id = e.from_unit_id))) \
             FROM escalations e WHERE e.to_unit_id = $1 ORDER BY e.escalated_at DESC LIMIT $2"
        )
        .bind(unit.to_string())
        .bind(limit)
        .fetch_all(pool)
        .await?
        });
        rows.into_iter()
            .map(|r| {
                Ok(EscalationEntry {
                    case_id: uuid(&r.0)?,
                    message_id: uuid(&r.1)?,
                    from_unit: uuid(&r.2)?,
                    to_unit: uuid(&r.3)?,
                    level: parse_enum(&r.4)?,
                    message_kind: r.5,
                    sender_unit: uuid(&r.6)?,
                    sent_at: from_micros(r.7)?,
                    after_minutes: r.8 as u32,
                    escalated_at: from_micros(r.9)?,
                    acknowledged_at: r.10.map(from_micros).transpose()?,
                })
            })
            .collect()
    }

    // ---- who does what --------------------------------------------------------------------

    pub async fn unit_contacts(&self, unit: UnitId) -> Result<Vec<Contact>> {
        let rows: Vec<(String, String, String, String)> = on_db!(self, read, |pool| sqlx::query_as(
            "SELECT name, function, phone, email FROM unit_contacts WHERE unit_id = $1 ORDER BY position"
        )
        .bind(unit.to_string())
        .fetch_all(pool)
        .await?);
        Ok(rows.into_iter().map(|(name, function, phone, email)| Contact { name, function, phone, email }).collect())
    }

    /// Replaces the unit's named contacts; saving them confirms the entry.
    pub async fn set_unit_contacts(
        &self,
        unit: UnitId,
        contacts: &[Contact],
        by: &Audit,
        now: Timestamp,
    ) -> Result<()> {
        let log = by.object_entry("unit.contacts", now, unit, Outcome::Allowed);
        logged_write!(self, &log, |tx| {
            sqlx::query("DELETE FROM unit_contacts WHERE unit_id = $1")
                .bind(unit.to_string())
                .execute(&mut *tx)
                .await?;
            for (i, c) in contacts.iter().enumerate() {
                sqlx::query(
                    "INSERT INTO unit_contacts (unit_id, position, name, function, phone, email) VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(unit.to_string())
                .bind(i as i32)
                .bind(&c.name)
                .bind(&c.function)
                .bind(&c.phone)
                .bind(&c.email)
                .execute(&mut *tx)
                .await?;
            }
            sqlx::query("UPDATE units SET contacts_confirmed_at = $2, contacts_confirmed_by = $3 WHERE id = $1")
                .bind(unit.to_string())
                .bind(micros(now))
                .bind(&by.actor.user.name)
                .execute(&mut *tx)
                .await?;
        });
        Ok(())
    }

    /// The unit's entry is right as it stands.
    pub async fn confirm_unit_contacts(&self, unit: UnitId, by: &Audit, now: Timestamp) -> Result<()> {
        let log = by.object_entry("unit.contacts_confirm", now, unit, Outcome::Allowed);
        logged_write!(self, &log, |tx| {
            let n =
                sqlx::query("UPDATE units SET contacts_confirmed_at = $2, contacts_confirmed_by = $3 WHERE id = $1")
                    .bind(unit.to_string())
                    .bind(micros(now))
                    .bind(&by.actor.user.name)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            changed_or(n, || {
                StoreError::Problem(samverka_domain::Problem::not_found(
                    "unit_not_found",
                    "Enheten finns inte.",
                    "No such unit.",
                ))
            })?;
        });
        Ok(())
    }

    /// When the unit last confirmed its entry (none: never, or no such unit).
    pub async fn contacts_confirmed_at(&self, unit: UnitId) -> Result<Option<Timestamp>> {
        let at: Option<Option<i64>> =
            on_db!(self, read, |pool| sqlx::query_scalar("SELECT contacts_confirmed_at FROM units WHERE id = $1")
                .bind(unit.to_string())
                .fetch_optional(pool)
                .await?);
        at.flatten().map(from_micros).transpose()
    }

    /// When each unit last confirmed its entry, and who did.
    pub async fn contacts_confirmations(&self) -> Result<Vec<(UnitId, Option<Timestamp>, Option<String>)>> {
        let rows: Vec<(String, Option<i64>, Option<String>)> = on_db!(self, read, |pool| sqlx::query_as(
            "SELECT id, contacts_confirmed_at, contacts_confirmed_by FROM units"
        )
        .fetch_all(pool)
        .await?);
        rows.into_iter().map(|(u, at, by)| Ok((uuid(&u)?, at.map(from_micros).transpose()?, by))).collect()
    }
}
