//! A case's state as kept in `cases.state`: its JSON without the messages, compressed on
//! SQLite.
//!
//! The messages, with their receipts, are what grows with a case; they are rows of their own
//! (`case_messages`), and a command rewrites only those it changes, so the state every
//! command rewrites stays about the same size however long the history. States written
//! before that still carry their messages and are read as they are. Compressed (zlib), the
//! state fits in the case's own row on SQLite; PostgreSQL compresses large values itself
//! (TOAST), so there it stays text. Rows written before compression (SQLite TEXT) are read as
//! they are and compressed when next written.

use samverka_domain::case::Case;
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgTypeInfo, PgValueRef, Postgres};
use sqlx::sqlite::{Sqlite, SqliteArgumentsBuffer, SqliteTypeInfo, SqliteValueRef};
use sqlx::{Decode, Encode, Type, TypeInfo, ValueRef};

use crate::{Result, StoreError};

/// Fast compression: the state is written on every command, on the writer's path.
const LEVEL: u8 = 1;
/// A state larger than this when decompressed is corrupt, not a case.
const MAX_STATE_BYTES: usize = 64 << 20;

/// The JSON of a case's state, as written to and read from `cases.state`.
#[derive(Clone)]
pub(crate) struct Snapshot(String);

impl Snapshot {
    /// The case's state without its messages, which are rows of their own (`case_messages`),
    /// so that the state stays small however long the case's history grows.
    pub(crate) fn of(case: &mut Case) -> Result<Snapshot> {
        let messages = std::mem::take(&mut case.messages);
        let json = serde_json::to_string(case);
        case.messages = messages;
        Ok(Snapshot(json.map_err(StoreError::corrupt)?))
    }

    /// The bytes of the JSON.
    pub(crate) fn len(&self) -> u32 {
        self.0.len() as u32
    }

    /// The stored state: without messages, or with them when written before they had rows
    /// of their own.
    pub(crate) fn case(&self) -> Result<Case> {
        serde_json::from_str(&self.0).map_err(StoreError::corrupt)
    }
}

impl Type<Sqlite> for Snapshot {
    fn type_info() -> SqliteTypeInfo {
        <Vec<u8> as Type<Sqlite>>::type_info()
    }

    fn compatible(ty: &SqliteTypeInfo) -> bool {
        <Vec<u8> as Type<Sqlite>>::compatible(ty) || <String as Type<Sqlite>>::compatible(ty)
    }
}

impl Encode<'_, Sqlite> for Snapshot {
    fn encode_by_ref(&self, buf: &mut SqliteArgumentsBuffer) -> Result<IsNull, BoxDynError> {
        <Vec<u8> as Encode<Sqlite>>::encode(miniz_oxide::deflate::compress_to_vec_zlib(self.0.as_bytes(), LEVEL), buf)
    }
}

impl<'r> Decode<'r, Sqlite> for Snapshot {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        if value.type_info().name() != "BLOB" {
            return Ok(Snapshot(<String as Decode<Sqlite>>::decode(value)?));
        }
        let compressed = <&[u8] as Decode<Sqlite>>::decode(value)?;
        let json = miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(compressed, MAX_STATE_BYTES)
            .map_err(|e| format!("the case's stored state cannot be decompressed: {e}"))?;
        Ok(Snapshot(String::from_utf8(json)?))
    }
}

impl Type<Postgres> for Snapshot {
    fn type_info() -> PgTypeInfo {
        <String as Type<Postgres>>::type_info()
    }

    fn compatible(ty: &PgTypeInfo) -> bool {
        <String as Type<Postgres>>::compatible(ty)
    }
}

impl Encode<'_, Postgres> for Snapshot {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <&str as Encode<Postgres>>::encode(self.0.as_str(), buf)
    }
}

impl<'r> Decode<'r, Postgres> for Snapshot {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        Ok(Snapshot(<String as Decode<Postgres>>::decode(value)?))
    }
}
