//! A case's state as kept in `cases.state`: its JSON, compressed on SQLite.
//!
//! The state carries every message with its receipts, so it grows with the case (10–80 kB on
//! the national data set) and every command rewrites it. Uncompressed, SQLite keeps it on a
//! chain of overflow pages, and those pages were a large share of what each write changes and
//! each case page reads. Compressed (zlib, about a tenth of the size) most states fit in the
//! case's own row. PostgreSQL compresses large values itself (TOAST), so there it stays text.
//! Rows written before compression (SQLite TEXT) are read as they are and compressed when next
//! written.

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
    pub(crate) fn of(case: &Case) -> Result<Snapshot> {
        Ok(Snapshot(serde_json::to_string(case).map_err(StoreError::corrupt)?))
    }

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
