//! Other systems' credentials for the FHIR API: clients (each with its own account and one
//! assignment) and their short-lived access tokens. Only hashes are stored.

use jiff::Timestamp;
use sqlx::FromRow;
use uuid::Uuid;

use crate::sql::{from_micros, micros};
use crate::{Result, Store, StoreError, on_db};

#[derive(Debug, Clone)]
pub struct ApiClient {
    pub id: Uuid,
    pub user_id: Uuid,
    pub assignment_id: Uuid,
    pub secret_hash: String,
    /// The SMART scopes the client may be granted.
    pub scopes: Vec<String>,
    pub active: bool,
}

#[derive(Debug, Clone)]
pub struct ApiToken {
    pub client_id: Uuid,
    pub scopes: Vec<String>,
    pub expires_at: Timestamp,
}

#[derive(FromRow)]
struct ClientRow {
    id: String,
    user_id: String,
    assignment_id: String,
    secret_hash: String,
    scopes: String,
    active: bool,
}

fn uuid(s: &str) -> Result<Uuid> {
    Uuid::parse_str(s).map_err(StoreError::corrupt)
}

fn split(scopes: &str) -> Vec<String> {
    scopes.split_whitespace().map(str::to_string).collect()
}

impl Store {
    /// Registers a client for an account and assignment already created for it.
    pub async fn create_api_client(&self, client: &ApiClient, created_by: Option<Uuid>, now: Timestamp) -> Result<()> {
        on_db!(self, write, |pool| sqlx::query(
            "INSERT INTO api_clients (id, user_id, assignment_id, secret_hash, scopes, active, created_at, created_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        )
        .bind(client.id.to_string())
        .bind(client.user_id.to_string())
        .bind(client.assignment_id.to_string())
        .bind(&client.secret_hash)
        .bind(client.scopes.join(" "))
        .bind(client.active)
        .bind(micros(now))
        .bind(created_by.map(|u| u.to_string()))
        .execute(pool)
        .await
        .map(|_| ())?);
        Ok(())
    }

    pub async fn api_client(&self, id: Uuid) -> Result<Option<ApiClient>> {
        let row: Option<ClientRow> = on_db!(self, read, |pool| sqlx::query_as(
            "SELECT id, user_id, assignment_id, secret_hash, scopes, active FROM api_clients WHERE id = $1"
        )
        .bind(id.to_string())
        .fetch_optional(pool)
        .await?);
        row.map(|r| {
            Ok(ApiClient {
                id: uuid(&r.id)?,
                user_id: uuid(&r.user_id)?,
                assignment_id: uuid(&r.assignment_id)?,
                secret_hash: r.secret_hash,
                scopes: split(&r.scopes),
                active: r.active,
            })
        })
        .transpose()
    }

    pub async fn insert_api_token(&self, hash: &str, token: &ApiToken, now: Timestamp) -> Result<()> {
        on_db!(self, write, |pool| sqlx::query(
            "INSERT INTO api_tokens (token_hash, client_id, scopes, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)"
        )
        .bind(hash)
        .bind(token.client_id.to_string())
        .bind(token.scopes.join(" "))
        .bind(micros(now))
        .bind(micros(token.expires_at))
        .execute(pool)
        .await
        .map(|_| ())?);
        Ok(())
    }

    /// A token by the hash of its value, if it exists (expired or not: the caller decides).
    pub async fn api_token(&self, hash: &str) -> Result<Option<ApiToken>> {
        let row: Option<(String, String, i64)> = on_db!(self, read, |pool| sqlx::query_as(
            "SELECT client_id, scopes, expires_at FROM api_tokens WHERE token_hash = $1"
        )
        .bind(hash)
        .fetch_optional(pool)
        .await?);
        row.map(|(c, s, e)| Ok(ApiToken { client_id: uuid(&c)?, scopes: split(&s), expires_at: from_micros(e)? }))
            .transpose()
    }
}
