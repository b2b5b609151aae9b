//! The e-mail outbox: a message is stored with what it tells of, then sent (and retried) by a
//! background task; one that was sent is never sent again.

use jiff::Timestamp;
use uuid::Uuid;

use crate::sql::uuid;
use crate::sql::{from_micros, micros};
use crate::{Result, Store, on_db};

/// An e-mail to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub id: Uuid,
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// An e-mail in the outbox, with how it has gone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedMail {
    pub mail: Mail,
    pub attempts: u32,
    pub sent_at: Option<Timestamp>,
    pub last_error: Option<String>,
}

/// Inserts a mail into the outbox inside an open transaction.
macro_rules! queue_mail {
    ($tx:expr, $mail:expr, $now:expr) => {{
        let m: &$crate::mail::Mail = $mail;
        sqlx::query(
            "INSERT INTO mail_outbox (id, to_address, subject, body, created_at, attempts, next_attempt_at) \
             VALUES ($1, $2, $3, $4, $5, 0, $5) ON CONFLICT (id) DO NOTHING",
        )
        .bind(m.id.to_string())
        .bind(&m.to)
        .bind(&m.subject)
        .bind(&m.body)
        .bind($crate::sql::micros($now))
        .execute(&mut *$tx)
        .await
    }};
}
pub(crate) use queue_mail;

type Row = (String, String, String, String, i32, Option<i64>, Option<String>);

fn read(r: Row) -> Result<QueuedMail> {
    Ok(QueuedMail {
        mail: Mail { id: uuid(&r.0)?, to: r.1, subject: r.2, body: r.3 },
        attempts: r.4 as u32,
        sent_at: r.5.map(from_micros).transpose()?,
        last_error: r.6,
    })
}

impl Store {
    /// Unsent mail whose next attempt is due at `now`, oldest first.
    pub async fn due_mail(&self, now: Timestamp, limit: i64) -> Result<Vec<QueuedMail>> {
        let rows: Vec<Row> = on_db!(self, read, |pool| sqlx::query_as(
            "SELECT id, to_address, subject, body, attempts, sent_at, last_error FROM mail_outbox \
             WHERE sent_at IS NULL AND next_attempt_at <= $1 ORDER BY next_attempt_at, id LIMIT $2"
        )
        .bind(micros(now))
        .bind(limit)
        .fetch_all(pool)
        .await?);
        rows.into_iter().map(read).collect()
    }

    /// Every mail in the outbox, newest first (for the administrators and tests).
    pub async fn mail_outbox(&self, limit: i64) -> Result<Vec<QueuedMail>> {
        let rows: Vec<Row> = on_db!(self, read, |pool| sqlx::query_as(
            "SELECT id, to_address, subject, body, attempts, sent_at, last_error FROM mail_outbox \
             ORDER BY created_at DESC, id LIMIT $1"
        )
        .bind(limit)
        .fetch_all(pool)
        .await?);
        rows.into_iter().map(read).collect()
    }

    pub async fn mail_sent(&self, id: Uuid, now: Timestamp) -> Result<()> {
        on_db!(self, write, |pool| {
            sqlx::query(
                "UPDATE mail_outbox SET sent_at = $2, attempts = attempts + 1, last_error = NULL WHERE id = $1",
            )
            .bind(id.to_string())
            .bind(micros(now))
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// A failed attempt; the next is at `next` (none: given up).
    pub async fn mail_failed(&self, id: Uuid, error: &str, next: Option<Timestamp>) -> Result<()> {
        // Given up: the next attempt is put beyond any clock.
        let next = next.map(micros).unwrap_or(i64::MAX);
        on_db!(self, write, |pool| {
            sqlx::query(
                "UPDATE mail_outbox SET attempts = attempts + 1, last_error = $2, next_attempt_at = $3 WHERE id = $1",
            )
            .bind(id.to_string())
            .bind(error)
            .bind(next)
            .execute(pool)
            .await?;
        });
        Ok(())
    }
}
