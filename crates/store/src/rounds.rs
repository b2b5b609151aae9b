//! Joint rounds: which cases a unit meets on a round, and the list units put persons on. What
//! a round says about a person is an event in the person's case (see `samverka_domain::round`).

use jiff::Timestamp;
use samverka_domain::case::CaseId;
use samverka_domain::forum::ForumId;

use crate::access_log::{AccessEntry, logged_write};
use crate::sql::micros;
use crate::{Result, Store, on_db};

impl Store {
    /// The open cases `unit` takes part in together with another of the round's units (its
    /// organiser or a member), each with whether a unit put it on the round's list. Whether
    /// the person is on the round is the domain's to say (`round::on_round`).
    pub async fn round_candidates(&self, forum: ForumId, unit: uuid::Uuid) -> Result<Vec<(CaseId, bool)>> {
        let rows: Vec<(String, bool)> = on_db!(self, read, |pool| sqlx::query_as(
            "SELECT DISTINCT c.id, (rp.case_id IS NOT NULL) \
             FROM case_parties me \
             JOIN cases c ON c.id = me.case_id \
             JOIN case_parties other ON other.case_id = me.case_id AND other.unit_id <> me.unit_id \
             LEFT JOIN round_patients rp ON rp.forum_id = $2 AND rp.case_id = c.id \
             WHERE me.unit_id = $1 AND c.phase NOT IN ('closed', 'cancelled') \
               AND (other.unit_id IN (SELECT unit_id FROM forum_members WHERE forum_id = $2) \
                    OR other.unit_id = (SELECT organiser_unit_id FROM forums WHERE id = $2)) \
             ORDER BY c.id"
        )
        .bind(unit.to_string())
        .bind(forum.to_string())
        .fetch_all(pool)
        .await?);
        rows.into_iter().map(|(id, listed)| Ok((crate::sql::uuid(&id)?, listed))).collect()
    }

    /// Puts a case on a round's list, with the access-log entry in the same commit; listing it
    /// again changes nothing.
    pub async fn list_on_round(
        &self,
        forum: ForumId,
        case: CaseId,
        unit: uuid::Uuid,
        name: &str,
        log: &AccessEntry,
        now: Timestamp,
    ) -> Result<()> {
        logged_write!(self, log, |tx| {
            sqlx::query(
                "INSERT INTO round_patients (forum_id, case_id, listed_by_unit_id, listed_by_name, listed_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (forum_id, case_id) DO NOTHING",
            )
            .bind(forum.to_string())
            .bind(case.to_string())
            .bind(unit.to_string())
            .bind(name)
            .bind(micros(now))
            .execute(&mut *tx)
            .await?;
        });
        Ok(())
    }
}
