//! Approved invoice bases: each approval is the next version of a municipality's month, stored
//! as it stood and never changed (the table refuses UPDATE and DELETE).

use jiff::Timestamp;
use samverka_domain::ids::Kommunkod;
use samverka_domain::liability::LiabilityBasis;
use serde::Serialize;

use crate::access_log::Audit;
use crate::sql::{from_micros, is_unique_violation, micros};
use crate::{Result, Store, StoreError, on_db};

/// One approved version of a basis.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApprovedBasis {
    pub version: u32,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub approved_at: Timestamp,
    pub approved_by: String,
    pub approved_unit: String,
    /// What this version corrects (empty for the first).
    pub note: String,
    pub basis: LiabilityBasis,
}

type Row = (i32, String, i64, String, String, i64, String);

fn read(r: Row) -> Result<ApprovedBasis> {
    Ok(ApprovedBasis {
        version: r.0 as u32,
        basis: serde_json::from_str(&r.1).map_err(StoreError::corrupt)?,
        approved_at: from_micros(r.2)?,
        approved_by: r.3,
        approved_unit: r.4,
        note: r.6,
    })
}

impl Store {
    /// Stores `basis` as the next version of its municipality and `month` (`year * 100 + month`).
    pub async fn approve_basis(
        &self,
        basis: &LiabilityBasis,
        month: i32,
        by: &Audit,
        note: &str,
        now: Timestamp,
    ) -> Result<ApprovedBasis> {
        let json = serde_json::to_string(basis).map_err(StoreError::corrupt)?;
        let kommun = basis.kommun.as_str().to_string();
        let version: i32 = on_db!(self, write, |pool| {
            let mut tx = pool.begin().await?;
            let latest: Option<i32> =
                sqlx::query_scalar("SELECT MAX(version) FROM liability_bases WHERE kommun = $1 AND month = $2")
                    .bind(&kommun)
                    .bind(month)
                    .fetch_one(&mut *tx)
                    .await?;
            let version = latest.unwrap_or(0) + 1;
            let inserted = sqlx::query(
                "INSERT INTO liability_bases (kommun, month, version, agreement_id, basis, total_ore, approved_by, \
                 approved_by_name, approved_unit, approved_at, note) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(&kommun)
            .bind(month)
            .bind(version)
            .bind(&basis.agreement_id)
            .bind(&json)
            .bind(basis.total_amount_ore)
            .bind(by.actor.user.id.to_string())
            .bind(&by.actor.user.name)
            .bind(&by.actor.unit.name)
            .bind(micros(now))
            .bind(note)
            .execute(&mut *tx)
            .await;
            match inserted {
                Err(e) if is_unique_violation(&e) => {
                    return Err(StoreError::Problem(samverka_domain::Problem::conflict(
                        "approved_meanwhile",
                        "Någon annan godkände underlaget samtidigt. Ladda om sidan och se den senaste versionen.",
                        "Someone else approved the basis at the same time.",
                    )));
                }
                other => other?,
            };
            tx.commit().await?;
            version
        });
        Ok(ApprovedBasis {
            version: version as u32,
            approved_at: now,
            approved_by: by.actor.user.name.clone(),
            approved_unit: by.actor.unit.name.clone(),
            note: note.to_string(),
            basis: basis.clone(),
        })
    }

    /// The approved versions of a municipality's month, oldest first.
    pub async fn approved_bases(&self, kommun: &Kommunkod, month: i32) -> Result<Vec<ApprovedBasis>> {
        let rows: Vec<Row> = on_db!(self, read, |pool| {
            sqlx::query_as(
            "SELECT version, basis, approved_at, approved_by_name, approved_unit, total_ore, note FROM liability_bases \
             WHERE kommun = $1 AND month = $2 ORDER BY version"
        )
        .bind(kommun.as_str())
        .bind(month)
        .fetch_all(pool)
        .await?
        });
        rows.into_iter().map(read).collect()
    }
}
