//! Other systems' credentials for the FHIR API: clients (each with its own account and one
//! assignment) and their short-lived access tokens. Only hashes are stored.

use jiff::Timestamp;
use samverka_domain::actor::{Actor, UserRef};
use sqlx::FromRow;
use uuid::Uuid;

use crate::reference::unit_ref;
use crate::security::Assignment;
use crate::sql::{from_micros, micros, parse_enum};
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

/// What a bearer token stands for: the token, its client, the client's account name and
/// whether it is active, and the assignment the client works in (when it still exists).
#[derive(Debug, Clone)]
pub struct TokenHolder {
    pub token: ApiToken,
    pub client: ApiClient,
    pub account_name: String,
    pub account_active: bool,
    pub assignment: Option<Assignment>,
}

impl TokenHolder {
    /// Who the token acts as at `now`, and in which assignment: none once the token has
    /// expired or its client, account or assignment has ended.
    pub fn actor(&self, now: Timestamp) -> Option<(Actor, Uuid)> {
        let a = self.assignment.as_ref().filter(|a| a.active && a.user_id == self.client.user_id)?;
        if self.token.expires_at <= now || !self.client.active || !self.account_active {
            return None;
        }
        let user = UserRef { id: self.client.user_id, name: self.account_name.clone() };
        Some((Actor { user, unit: a.unit.clone(), role: a.role }, a.id))
    }
}

#[derive(FromRow)]
struct TokenHolderRow {
    t_scopes: String,
    t_expires_at: i64,
    #[sqlx(flatten)]
    client: ClientRow,
    u_name: String,
    u_active: bool,
    a_unit_id: Option<String>,
    a_role: Option<String>,
    a_active: Option<bool>,
}

impl ClientRow {
    fn into_client(self) -> Result<ApiClient> {
        Ok(ApiClient {
            id: uuid(&self.id)?,
            user_id: uuid(&self.user_id)?,
            assignment_id: uuid(&self.assignment_id)?,
            secret_hash: self.secret_hash,
            scopes: split(&self.scopes),
            active: self.active,
        })
    }
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
        row.map(ClientRow::into_client).transpose()
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

    /// A token with its client, account and assignment, in one read: every FHIR request asks
    /// this. Whether each is still valid (expiry, active flags) is the caller's to judge.
    pub async fn token_holder(&self, hash: &str) -> Result<Option<TokenHolder>> {
        let row: Option<TokenHolderRow> = on_db!(self, read, |pool| sqlx::query_as(
            "SELECT t.scopes AS t_scopes, t.expires_at AS t_expires_at, \
                    c.id, c.user_id, c.assignment_id, c.secret_hash, c.scopes, c.active, \
                    u.name AS u_name, u.active AS u_active, \
                    a.unit_id AS a_unit_id, a.role AS a_role, a.active AS a_active \
             FROM api_tokens t JOIN api_clients c ON c.id = t.client_id JOIN users u ON u.id = c.user_id \
             LEFT JOIN assignments a ON a.id = c.assignment_id AND a.user_id = c.user_id \
             WHERE t.token_hash = $1"
        )
        .bind(hash)
        .fetch_optional(pool)
        .await?);
        let Some(row) = row else { return Ok(None) };
        let client = row.client.into_client()?;
        let assignment = match (row.a_unit_id, row.a_role, row.a_active) {
            (Some(unit), Some(role), Some(active)) => {
                let unit = self
                    .known_unit(uuid(&unit)?)
                    .await?
                    .ok_or_else(|| StoreError::corrupt("assignment to a missing unit"))?;
                Some(Assignment {
                    id: client.assignment_id,
                    user_id: client.user_id,
                    unit: unit_ref(&unit),
                    role: parse_enum(&role)?,
                    active,
                })
            }
            _ => None,
        };
        Ok(Some(TokenHolder {
            token: ApiToken {
                client_id: client.id,
                scopes: split(&row.t_scopes),
                expires_at: from_micros(row.t_expires_at)?,
            },
            client,
            account_name: row.u_name,
            account_active: row.u_active,
            assignment,
        }))
    }
}
