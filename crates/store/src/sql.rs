//! Generic SQL helpers every module's queries share: how times, ids and enums are stored,
//! placeholder lists, and what a unique violation or an unchanged row means.

use jiff::Timestamp;
use serde::Serialize;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use crate::{Result, StoreError};

/// Microseconds since the epoch, as stored.
pub(crate) fn micros(t: Timestamp) -> i64 {
    t.as_microsecond()
}

pub(crate) fn from_micros(v: i64) -> Result<Timestamp> {
    Timestamp::from_microsecond(v).map_err(StoreError::corrupt)
}

/// A unit-like enum as its snake_case name, the same text the JSON API uses.
pub(crate) fn enum_str<T: Serialize>(v: &T) -> String {
    match serde_json::to_value(v) {
        Ok(serde_json::Value::String(s)) => s,
        other => panic!("not a unit enum: {other:?}"),
    }
}

pub(crate) fn parse_enum<T: DeserializeOwned>(s: &str) -> Result<T> {
    serde_json::from_value(serde_json::Value::String(s.to_string()))
        .map_err(|e| StoreError::corrupt(format!("{s}: {e}")))
}

pub(crate) fn uuid(s: &str) -> Result<Uuid> {
    Uuid::parse_str(s).map_err(StoreError::corrupt)
}

/// `$from, $from+1, …` for `n` parameters of a multi-row or `IN (…)` statement.
pub(crate) fn placeholders(from: usize, n: usize) -> String {
    (from..from + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// Whether an error is a unique-key violation (e.g. two writers appending the same event).
pub(crate) fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.kind() == sqlx::error::ErrorKind::UniqueViolation)
}

/// A conditional UPDATE or DELETE found no row in the state it required: someone else changed
/// it first (or it is gone). `rows` is what the statement reported; `refusal` says what to do.
pub(crate) fn changed_or(rows: u64, refusal: impl FnOnce() -> StoreError) -> Result<()> {
    if rows == 0 { Err(refusal()) } else { Ok(()) }
}
