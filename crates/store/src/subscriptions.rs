//! FHIR Subscriptions and their deliveries (a durable outbox): which messages to tell which
//! client about, and whether each notification has arrived.

use jiff::{Timestamp, ToSpan};
use sqlx::FromRow;
use uuid::Uuid;

use crate::sql::{from_micros, micros};
use crate::{Result, Store, StoreError, on_db};

/// A subscription's state: `active`, `error` (deliveries given up), or `off` (deleted).
#[derive(Debug, Clone)]
pub struct Subscription {
    pub id: Uuid,
    pub client_id: Uuid,
    pub unit_id: Uuid,
    pub criteria: String,
    pub kind: String,
    pub endpoint: String,
    pub headers: Vec<String>,
    pub secret: String,
    pub status: String,
    pub error: Option<String>,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone)]
pub struct Delivery {
    pub id: Uuid,
    pub subscription_id: Uuid,
    pub case_id: Uuid,
    pub message_id: Uuid,
    pub attempts: i32,
}

#[derive(FromRow)]
struct SubRow {
    id: String,
    client_id: String,
    unit_id: String,
    criteria: String,
    kind: String,
    endpoint: String,
    headers: String,
    secret: String,
    status: String,
    error: Option<String>,
    created_at: i64,
}

fn uuid(s: &str) -> Result<Uuid> {
    Uuid::parse_str(s).map_err(StoreError::corrupt)
}

impl SubRow {
    fn into_domain(self) -> Result<Subscription> {
        Ok(Subscription {
            id: uuid(&self.id)?,
            client_id: uuid(&self.client_id)?,
            unit_id: uuid(&self.unit_id)?,
            criteria: self.criteria,
            kind: self.kind,
            endpoint: self.endpoint,
            headers: serde_json::from_str(&self.headers).map_err(StoreError::corrupt)?,
            secret: self.secret,
            status: self.status,
            error: self.error,
            created_at: from_micros(self.created_at)?,
        })
    }
}

const SUB_COLUMNS: &str =
    "id, client_id, unit_id, criteria, kind, endpoint, headers, secret, status, error, created_at";

/// Rows are re-read this far behind the cursor, so a message whose transaction committed a
/// moment after a later one is still found (the unique key keeps it from being sent twice).
const REREAD_SECONDS: i64 = 120;

impl Store {
    /// Stores a new subscription; it covers messages from `now` on.
    pub async fn create_subscription(&self, s: &Subscription, now: Timestamp) -> Result<()> {
        let headers = serde_json::to_string(&s.headers).map_err(StoreError::corrupt)?;
        on_db!(self, write, |pool| {
            sqlx::query(
            "INSERT INTO fhir_subscriptions (id, client_id, unit_id, criteria, kind, endpoint, headers, secret, status, \
             error, cursor_at, cursor_message, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, $10, '', $10)"
        )
        .bind(s.id.to_string())
        .bind(s.client_id.to_string())
        .bind(s.unit_id.to_string())
        .bind(&s.criteria)
        .bind(&s.kind)
        .bind(&s.endpoint)
        .bind(&headers)
        .bind(&s.secret)
        .bind(&s.status)
        .bind(micros(now))
        .execute(pool)
        .await
        .map(|_| ())?
        });
        Ok(())
    }

    pub async fn subscription(&self, id: Uuid) -> Result<Option<Subscription>> {
        let sql = format!("SELECT {SUB_COLUMNS} FROM fhir_subscriptions WHERE id = $1");
        let row: Option<SubRow> = on_db!(self, read, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(id.to_string())
            .fetch_optional(pool)
            .await?);
        row.map(SubRow::into_domain).transpose()
    }

    pub async fn active_subscriptions(&self) -> Result<Vec<Subscription>> {
        let sql = format!("SELECT {SUB_COLUMNS} FROM fhir_subscriptions WHERE status = 'active' ORDER BY created_at");
        let rows: Vec<SubRow> =
            on_db!(self, read, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).fetch_all(pool).await?);
        rows.into_iter().map(SubRow::into_domain).collect()
    }

    pub async fn set_subscription_status(&self, id: Uuid, status: &str, error: Option<&str>) -> Result<()> {
        on_db!(self, write, |pool| sqlx::query("UPDATE fhir_subscriptions SET status = $2, error = $3 WHERE id = $1")
            .bind(id.to_string())
            .bind(status)
            .bind(error)
            .execute(pool)
            .await
            .map(|_| ())?);
        Ok(())
    }

    /// Turns the unit's new inbox entries into pending deliveries and moves the cursor, in
    /// one transaction. Returns how many deliveries were added.
    pub async fn enqueue_deliveries(&self, s: &Subscription, now: Timestamp) -> Result<u64> {
        let id = s.id.to_string();
        on_db!(self, write, |pool| {
            let mut tx = pool.begin().await?;
            let cursor: i64 = sqlx::query_scalar("SELECT cursor_at FROM fhir_subscriptions WHERE id = $1")
                .bind(&id)
                .fetch_one(&mut *tx)
                .await?;
            let rows: Vec<(String, String, i64)> = sqlx::query_as(
                "SELECT case_id, message_id, sent_at FROM inbox WHERE unit_id = $1 AND sent_at > $2 \
                 AND ($3 = '' OR kind = $3) ORDER BY sent_at LIMIT 500",
            )
            .bind(s.unit_id.to_string())
            .bind(cursor - REREAD_SECONDS * 1_000_000)
            .bind(&s.kind)
            .fetch_all(&mut *tx)
            .await?;
            let mut added = 0;
            let mut newest = cursor;
            for (case_id, message_id, sent_at) in &rows {
                if *sent_at < micros(s.created_at) {
                    continue;
                }
                newest = newest.max(*sent_at);
                let r = sqlx::query(
                    "INSERT INTO fhir_deliveries (id, subscription_id, case_id, message_id, status, attempts, next_at, \
                     last_error, delivered_at, created_at) VALUES ($1, $2, $3, $4, 'pending', 0, $5, NULL, NULL, $5) \
                     ON CONFLICT (subscription_id, case_id, message_id) DO NOTHING",
                )
                .bind(Uuid::now_v7().to_string())
                .bind(&id)
                .bind(case_id)
                .bind(message_id)
                .bind(micros(now))
                .execute(&mut *tx)
                .await?;
                added += r.rows_affected();
            }
            sqlx::query("UPDATE fhir_subscriptions SET cursor_at = $2 WHERE id = $1")
                .bind(&id)
                .bind(newest)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(added)
        })
    }

    /// Pending deliveries whose time has come, oldest first.
    pub async fn due_deliveries(&self, now: Timestamp, limit: i64) -> Result<Vec<Delivery>> {
        let rows: Vec<(String, String, String, String, i32)> = on_db!(self, read, |pool| sqlx::query_as(
            "SELECT d.id, d.subscription_id, d.case_id, d.message_id, d.attempts FROM fhir_deliveries d \
             JOIN fhir_subscriptions s ON s.id = d.subscription_id \
             WHERE d.status = 'pending' AND d.next_at <= $1 AND s.status = 'active' ORDER BY d.next_at LIMIT $2"
        )
        .bind(micros(now))
        .bind(limit)
        .fetch_all(pool)
        .await?);
        rows.into_iter()
            .map(|(id, s, c, m, attempts)| {
                Ok(Delivery {
                    id: uuid(&id)?,
                    subscription_id: uuid(&s)?,
                    case_id: uuid(&c)?,
                    message_id: uuid(&m)?,
                    attempts,
                })
            })
            .collect()
    }

    pub async fn delivery_done(&self, id: Uuid, now: Timestamp) -> Result<()> {
        on_db!(self, write, |pool| {
            sqlx::query(
            "UPDATE fhir_deliveries SET status = 'delivered', attempts = attempts + 1, delivered_at = $2, last_error = NULL \
             WHERE id = $1"
        )
        .bind(id.to_string())
        .bind(micros(now))
        .execute(pool)
        .await
        .map(|_| ())?
        });
        Ok(())
    }

    /// Records a failed attempt: tried again after `retry_in` seconds, or given up.
    pub async fn delivery_failed(&self, id: Uuid, error: &str, retry_in: Option<i64>, now: Timestamp) -> Result<()> {
        let (status, next) = match retry_in {
            Some(s) => ("pending", now + s.seconds()),
            None => ("failed", now),
        };
        on_db!(self, write, |pool| {
            sqlx::query(
            "UPDATE fhir_deliveries SET status = $2, attempts = attempts + 1, next_at = $3, last_error = $4 WHERE id = $1"
        )
        .bind(id.to_string())
        .bind(status)
        .bind(micros(next))
        .bind(error)
        .execute(pool)
        .await
        .map(|_| ())?
        });
        Ok(())
    }

    /// (delivered, pending, failed) deliveries of a subscription.
    pub async fn delivery_counts(&self, subscription: Uuid) -> Result<(i64, i64, i64)> {
        let rows: Vec<(String, i64)> = on_db!(self, read, |pool| sqlx::query_as(
            "SELECT status, COUNT(*) FROM fhir_deliveries WHERE subscription_id = $1 GROUP BY status"
        )
        .bind(subscription.to_string())
        .fetch_all(pool)
        .await?);
        let get = |s: &str| rows.iter().find(|(k, _)| k == s).map(|(_, n)| *n).unwrap_or(0);
        Ok((get("delivered"), get("pending"), get("failed")))
    }
}
