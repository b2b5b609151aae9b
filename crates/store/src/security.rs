//! Accounts, assignments, sessions, login throttling, emergency grants and the access log.

use jiff::Timestamp;
use samverka_domain::Problem;
use samverka_domain::access::Role;
use samverka_domain::actor::UnitRef;
use samverka_domain::org::{OrganisationId, UnitId};
use serde::Serialize;
use sqlx::FromRow;
use uuid::Uuid;

use crate::reference::unit_ref;
use crate::sql::{enum_str, parse_enum, uuid};
use crate::sql::{from_micros, is_unique_violation, micros};
use crate::{Result, Store, StoreError, on_db};

/// A person's account. Secrets stay in the store layer's callers; `Debug` hides them.
#[derive(Clone)]
pub struct Account {
    pub id: Uuid,
    pub name: String,
    pub hsa_id: Option<String>,
    pub organisation_id: Option<OrganisationId>,
    pub username: Option<String>,
    pub password_hash: Option<String>,
    pub password_must_change: bool,
    pub totp_secret: Option<String>,
    pub totp_confirmed: bool,
    pub oidc_issuer: Option<String>,
    pub oidc_subject: Option<String>,
    pub active: bool,
}

impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Account").field("id", &self.id).field("username", &self.username).finish_non_exhaustive()
    }
}

#[derive(FromRow)]
struct AccountRow {
    id: String,
    name: String,
    hsa_id: Option<String>,
    organisation_id: Option<String>,
    username: Option<String>,
    password_hash: Option<String>,
    password_must_change: bool,
    totp_secret: Option<String>,
    totp_confirmed: bool,
    oidc_issuer: Option<String>,
    oidc_subject: Option<String>,
    active: bool,
}

impl AccountRow {
    fn into_account(self) -> Result<Account> {
        Ok(Account {
            id: uuid(&self.id)?,
            name: self.name,
            hsa_id: self.hsa_id,
            organisation_id: self.organisation_id.map(|o| uuid(&o)).transpose()?,
            username: self.username,
            password_hash: self.password_hash,
            password_must_change: self.password_must_change,
            totp_secret: self.totp_secret,
            totp_confirmed: self.totp_confirmed,
            oidc_issuer: self.oidc_issuer,
            oidc_subject: self.oidc_subject,
            active: self.active,
        })
    }
}

macro_rules! account_columns {
    () => {
        "id, name, hsa_id, organisation_id, username, password_hash, password_must_change, totp_secret, \
         totp_confirmed, oidc_issuer, oidc_subject, active"
    };
}

/// A new account.
#[derive(Clone)]
pub struct NewAccount {
    pub id: Uuid,
    pub name: String,
    pub hsa_id: Option<String>,
    pub organisation_id: OrganisationId,
    pub username: Option<String>,
    pub password_hash: Option<String>,
    pub password_must_change: bool,
    pub totp_secret: Option<String>,
    pub totp_confirmed: bool,
    pub oidc: Option<(String, String)>,
}

impl NewAccount {
    /// An account with a name and nothing to sign in with: a system account (an API client's),
    /// or one whose ways of signing in are added with struct update syntax.
    pub fn without_sign_in(id: Uuid, name: impl Into<String>, organisation_id: OrganisationId) -> NewAccount {
        NewAccount {
            id,
            name: name.into(),
            hsa_id: None,
            organisation_id,
            username: None,
            password_hash: None,
            password_must_change: false,
            totp_secret: None,
            totp_confirmed: false,
            oidc: None,
        }
    }
}

/// An assignment (medarbetaruppdrag): the unit a user acts for and the role there.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Assignment {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub id: Uuid,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub user_id: Uuid,
    pub unit: UnitRef,
    pub role: Role,
    pub active: bool,
}

/// Where a session is in the login: each stage admits only the next step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Password accepted; a new password must be chosen first.
    ChangePassword,
    /// Password accepted; the authenticator app must be set up.
    TotpSetup,
    /// Password accepted; the code from the authenticator app is next.
    Totp,
    /// Both factors done; an assignment must be chosen.
    ChooseAssignment,
    /// Logged in, acting in an assignment.
    Active,
}

#[derive(Debug, Clone)]
pub struct Session {
    pub token_hash: String,
    pub user_id: Uuid,
    pub stage: Stage,
    pub assignment_id: Option<Uuid>,
    pub csrf_token: String,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
    pub expires_at: Timestamp,
}

#[derive(FromRow)]
struct SessionRow {
    token_hash: String,
    user_id: String,
    stage: String,
    assignment_id: Option<String>,
    csrf_token: String,
    created_at: i64,
    last_seen_at: i64,
    expires_at: i64,
}

impl SessionRow {
    fn into_session(self) -> Result<Session> {
        Ok(Session {
            token_hash: self.token_hash,
            user_id: uuid(&self.user_id)?,
            stage: parse_enum(&self.stage)?,
            assignment_id: self.assignment_id.map(|a| uuid(&a)).transpose()?,
            csrf_token: self.csrf_token,
            created_at: from_micros(self.created_at)?,
            last_seen_at: from_micros(self.last_seen_at)?,
            expires_at: from_micros(self.expires_at)?,
        })
    }
}

/// A session with its account and the assignment it acts in, read together.
#[derive(FromRow)]
struct SessionActorRow {
    #[sqlx(flatten)]
    session: SessionRow,
    #[sqlx(flatten)]
    account: AccountRow,
    a_unit_id: Option<String>,
    a_role: Option<String>,
    a_active: Option<bool>,
}

impl Store {
    pub async fn create_account(&self, a: &NewAccount, now: Timestamp) -> Result<()> {
        on_db!(self, write, |pool| sqlx::query(
            "INSERT INTO users (id, name, hsa_id, organisation_id, username, password_hash, password_must_change, \
             totp_secret, totp_confirmed, oidc_issuer, oidc_subject, active, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, TRUE, $12)"
        )
        .bind(a.id.to_string())
        .bind(&a.name)
        .bind(&a.hsa_id)
        .bind(a.organisation_id.to_string())
        .bind(&a.username)
        .bind(&a.password_hash)
        .bind(a.password_must_change)
        .bind(&a.totp_secret)
        .bind(a.totp_confirmed)
        .bind(a.oidc.as_ref().map(|(i, _)| i.clone()))
        .bind(a.oidc.as_ref().map(|(_, s)| s.clone()))
        .bind(micros(now))
        .execute(pool)
        .await
        .map(|_| ())
        .map_err(|e| if is_unique_violation(&e) {
            StoreError::Problem(Problem::conflict(
                "account_exists",
                "Det finns redan ett konto med det användarnamnet, HSA-id:t eller den inloggningen.",
                "An account with that username, HSA-id or login already exists.",
            ))
        } else {
            e.into()
        }))?;
        Ok(())
    }

    pub async fn account(&self, id: Uuid) -> Result<Option<Account>> {
        let row: Option<AccountRow> = on_db!(self, read, |pool| sqlx::query_as(concat!(
            "SELECT ",
            account_columns!(),
            " FROM users WHERE id = $1"
        ))
        .bind(id.to_string())
        .fetch_optional(pool)
        .await?);
        row.map(AccountRow::into_account).transpose()
    }

    pub async fn account_by_username(&self, username: &str) -> Result<Option<Account>> {
        let row: Option<AccountRow> = on_db!(self, read, |pool| sqlx::query_as(concat!(
            "SELECT ",
            account_columns!(),
            " FROM users WHERE username = $1"
        ))
        .bind(username)
        .fetch_optional(pool)
        .await?);
        row.map(AccountRow::into_account).transpose()
    }

    pub async fn account_by_oidc(&self, issuer: &str, subject: &str) -> Result<Option<Account>> {
        let row: Option<AccountRow> = on_db!(self, read, |pool| sqlx::query_as(concat!(
            "SELECT ",
            account_columns!(),
            " FROM users WHERE oidc_issuer = $1 AND oidc_subject = $2"
        ))
        .bind(issuer)
        .bind(subject)
        .fetch_optional(pool)
        .await?);
        row.map(AccountRow::into_account).transpose()
    }

    pub async fn accounts_of_organisation(&self, org: OrganisationId) -> Result<Vec<Account>> {
        let rows: Vec<AccountRow> = on_db!(self, read, |pool| sqlx::query_as(concat!(
            "SELECT ",
            account_columns!(),
            " FROM users WHERE organisation_id = $1 ORDER BY name"
        ))
        .bind(org.to_string())
        .fetch_all(pool)
        .await?);
        rows.into_iter().map(AccountRow::into_account).collect()
    }

    /// Accounts that log in with a username, for the demo's start page.
    pub async fn local_accounts(&self, limit: i64) -> Result<Vec<Account>> {
        let rows: Vec<AccountRow> = on_db!(self, read, |pool| sqlx::query_as(concat!(
            "SELECT ",
            account_columns!(),
            " FROM users WHERE username IS NOT NULL AND active ORDER BY username LIMIT $1"
        ))
        .bind(limit)
        .fetch_all(pool)
        .await?);
        rows.into_iter().map(AccountRow::into_account).collect()
    }

    /// Sets a password hash. `must_change` forces a new one at next login (after a reset).
    pub async fn set_password(&self, user: Uuid, hash: &str, must_change: bool) -> Result<()> {
        on_db!(self, write, |pool| sqlx::query(
            "UPDATE users SET password_hash = $2, password_must_change = $3 WHERE id = $1"
        )
        .bind(user.to_string())
        .bind(hash)
        .bind(must_change)
        .execute(pool)
        .await
        .map(|_| ())?);
        Ok(())
    }

    /// Stores a TOTP secret (unconfirmed until the first valid code), or clears it.
    pub async fn set_totp(&self, user: Uuid, secret: Option<&str>, confirmed: bool) -> Result<()> {
        on_db!(self, write, |pool| sqlx::query(
            "UPDATE users SET totp_secret = $2, totp_confirmed = $3, totp_last_step = 0 WHERE id = $1"
        )
        .bind(user.to_string())
        .bind(secret)
        .bind(confirmed)
        .execute(pool)
        .await
        .map(|_| ())?);
        Ok(())
    }

    /// Records that the TOTP code of time step `step` was used. Returns false when that step (or
    /// a later one) was already used: a replayed code. Atomic, so two racing logins cannot
    /// both use one code.
    pub async fn use_totp_step(&self, user: Uuid, step: i64, confirm: bool) -> Result<bool> {
        let r = on_db!(self, write, |pool| {
            sqlx::query(
            "UPDATE users SET totp_last_step = $2, totp_confirmed = (totp_confirmed OR $3) WHERE id = $1 AND totp_last_step < $2"
        )
        .bind(user.to_string())
        .bind(step)
        .bind(confirm)
        .execute(pool)
        .await?
        .rows_affected()
        });
        Ok(r == 1)
    }

    pub async fn set_account_active(&self, user: Uuid, active: bool, now: Timestamp) -> Result<()> {
        on_db!(self, write, |pool| sqlx::query("UPDATE users SET active = $2, updated_at = $3 WHERE id = $1")
            .bind(user.to_string())
            .bind(active)
            .bind(micros(now))
            .execute(pool)
            .await
            .map(|_| ())?);
        Ok(())
    }

    pub async fn add_assignment(
        &self,
        id: Uuid,
        user: Uuid,
        unit: UnitId,
        role: Role,
        by: Option<Uuid>,
        now: Timestamp,
    ) -> Result<()> {
        on_db!(self, write, |pool| {
            sqlx::query(
            "INSERT INTO assignments (id, user_id, unit_id, role, active, created_at, created_by) VALUES ($1, $2, $3, $4, TRUE, $5, $6)"
        )
        .bind(id.to_string())
        .bind(user.to_string())
        .bind(unit.to_string())
        .bind(enum_str(&role))
        .bind(micros(now))
        .bind(by.map(|b| b.to_string()))
        .execute(pool).await.map(|_| ())?
        });
        Ok(())
    }

    pub async fn set_assignment_active(&self, id: Uuid, active: bool, now: Timestamp) -> Result<()> {
        on_db!(self, write, |pool| sqlx::query("UPDATE assignments SET active = $2, updated_at = $3 WHERE id = $1")
            .bind(id.to_string())
            .bind(active)
            .bind(micros(now))
            .execute(pool)
            .await
            .map(|_| ())?);
        Ok(())
    }

    /// When each of these organisations, units, users or assignments last changed in what the
    /// directory shows of them (their ids are all distinct UUIDs, so one map holds them).
    pub async fn directory_times(&self, ids: &[Uuid]) -> Result<std::collections::HashMap<Uuid, Timestamp>> {
        let mut out = std::collections::HashMap::new();
        for chunk in ids.chunks(200) {
            let list = crate::sql::placeholders(1, chunk.len());
            let sql = ["organisations", "units", "users", "assignments"]
                .map(|t| format!("SELECT id, COALESCE(updated_at, created_at) FROM {t} WHERE id IN ({list})"))
                .join(" UNION ALL ");
            let rows: Vec<(String, i64)> = on_db!(self, read, |pool| {
                // Only table names and numbered placeholders are formatted into the text.
                let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()));
                for id in chunk {
                    q = q.bind(id.to_string());
                }
                q.fetch_all(pool).await?
            });
            for (id, at) in rows {
                out.insert(uuid(&id)?, from_micros(at)?);
            }
        }
        Ok(out)
    }

    /// A user's assignments with their units, active ones first.
    pub async fn assignments_of(&self, user: Uuid) -> Result<Vec<Assignment>> {
        let rows: Vec<(String, String, String, String, bool)> = on_db!(self, read, |pool| {
            sqlx::query_as(
            "SELECT id, user_id, unit_id, role, active FROM assignments WHERE user_id = $1 ORDER BY active DESC, created_at"
        )
        .bind(user.to_string())
        .fetch_all(pool)
        .await?
        });
        let mut out = Vec::with_capacity(rows.len());
        for (id, user_id, unit_id, role, active) in rows {
            let unit = self
                .known_unit(uuid(&unit_id)?)
                .await?
                .ok_or_else(|| StoreError::corrupt("assignment to a missing unit"))?;
            out.push(Assignment {
                id: uuid(&id)?,
                user_id: uuid(&user_id)?,
                unit: unit_ref(&unit),
                role: parse_enum(&role)?,
                active,
            });
        }
        Ok(out)
    }

    /// The assignments of many users at once (for lists of users), active ones first.
    pub async fn assignments_of_users(
        &self,
        users: &[Uuid],
    ) -> Result<std::collections::HashMap<Uuid, Vec<Assignment>>> {
        let mut out: std::collections::HashMap<Uuid, Vec<Assignment>> = Default::default();
        if users.is_empty() {
            return Ok(out);
        }
        let units: std::collections::HashMap<Uuid, UnitRef> =
            self.units().await?.iter().map(|u| (u.id, unit_ref(u))).collect();
        for chunk in users.chunks(500) {
            let sql = format!(
                "SELECT id, user_id, unit_id, role, active FROM assignments WHERE user_id IN ({}) \
                 ORDER BY active DESC, created_at",
                crate::sql::placeholders(1, chunk.len())
            );
            let rows: Vec<(String, String, String, String, bool)> = on_db!(self, read, |pool| {
                // Only numbered placeholders are formatted into the text; the ids are bound.
                let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()));
                for u in chunk {
                    q = q.bind(u.to_string());
                }
                q.fetch_all(pool).await?
            });
            for (id, user_id, unit_id, role, active) in rows {
                let unit = units
                    .get(&uuid(&unit_id)?)
                    .cloned()
                    .ok_or_else(|| StoreError::corrupt("assignment to a missing unit"))?;
                let user_id = uuid(&user_id)?;
                out.entry(user_id).or_default().push(Assignment {
                    id: uuid(&id)?,
                    user_id,
                    unit,
                    role: parse_enum(&role)?,
                    active,
                });
            }
        }
        Ok(out)
    }

    pub async fn assignment(&self, id: Uuid) -> Result<Option<Assignment>> {
        let row: Option<(String, String, String, bool)> = on_db!(self, read, |pool| sqlx::query_as(
            "SELECT user_id, unit_id, role, active FROM assignments WHERE id = $1"
        )
        .bind(id.to_string())
        .fetch_optional(pool)
        .await?);
        let Some((user_id, unit_id, role, active)) = row else { return Ok(None) };
        let unit = self
            .known_unit(uuid(&unit_id)?)
            .await?
            .ok_or_else(|| StoreError::corrupt("assignment to a missing unit"))?;
        Ok(Some(Assignment { id, user_id: uuid(&user_id)?, unit: unit_ref(&unit), role: parse_enum(&role)?, active }))
    }

    // ---- sessions ------------------------------------------------------------------------

    pub async fn create_session(&self, s: &Session, client_address: &str) -> Result<()> {
        on_db!(self, write, |pool| {
            sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, stage, assignment_id, csrf_token, created_at, last_seen_at, expires_at, client_address) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        )
        .bind(&s.token_hash)
        .bind(s.user_id.to_string())
        .bind(enum_str(&s.stage))
        .bind(s.assignment_id.map(|a| a.to_string()))
        .bind(&s.csrf_token)
        .bind(micros(s.created_at))
        .bind(micros(s.last_seen_at))
        .bind(micros(s.expires_at))
        .bind(client_address)
        .execute(pool).await.map(|_| ())?
        });
        Ok(())
    }

    pub async fn session(&self, token_hash: &str) -> Result<Option<Session>> {
        let row: Option<SessionRow> = on_db!(self, read, |pool| sqlx::query_as(
            "SELECT token_hash, user_id, stage, assignment_id, csrf_token, created_at, last_seen_at, expires_at \
             FROM sessions WHERE token_hash = $1"
        )
        .bind(token_hash)
        .fetch_optional(pool)
        .await?);
        row.map(SessionRow::into_session).transpose()
    }

    /// A session with its account and the assignment it acts in (if it has chosen one), in one
    /// read: every request of a logged-in user asks this.
    pub async fn session_actor(&self, token_hash: &str) -> Result<Option<(Session, Account, Option<Assignment>)>> {
        let row: Option<SessionActorRow> = on_db!(self, read, |pool| sqlx::query_as(
            "SELECT s.token_hash, s.user_id, s.stage, s.assignment_id, s.csrf_token, s.created_at, s.last_seen_at, \
                    s.expires_at, u.id, u.name, u.hsa_id, u.organisation_id, u.username, u.password_hash, \
                    u.password_must_change, u.totp_secret, u.totp_confirmed, u.oidc_issuer, u.oidc_subject, u.active, \
                    a.unit_id AS a_unit_id, a.role AS a_role, a.active AS a_active \
             FROM sessions s JOIN users u ON u.id = s.user_id \
             LEFT JOIN assignments a ON a.id = s.assignment_id AND a.user_id = s.user_id \
             WHERE s.token_hash = $1"
        )
        .bind(token_hash)
        .fetch_optional(pool)
        .await?);
        let Some(row) = row else { return Ok(None) };
        let session = row.session.into_session()?;
        let account = row.account.into_account()?;
        let assignment = match (session.assignment_id, row.a_unit_id, row.a_role, row.a_active) {
            (Some(id), Some(unit), Some(role), Some(active)) => {
                let unit = self
                    .known_unit(uuid(&unit)?)
                    .await?
                    .ok_or_else(|| StoreError::corrupt("assignment to a missing unit"))?;
                Some(Assignment { id, user_id: account.id, unit: unit_ref(&unit), role: parse_enum(&role)?, active })
            }
            _ => None,
        };
        Ok(Some((session, account, assignment)))
    }

    pub async fn touch_session(&self, token_hash: &str, now: Timestamp) -> Result<()> {
        on_db!(self, write, |pool| sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE token_hash = $1")
            .bind(token_hash)
            .bind(micros(now))
            .execute(pool)
            .await
            .map(|_| ())?);
        Ok(())
    }

    /// Replaces a session by a new token (at every step up in privilege), so a token known
    /// before the step is worthless after it.
    pub async fn rotate_session(&self, old_hash: &str, new: &Session, client_address: &str) -> Result<()> {
        on_db!(self, write, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(old_hash).execute(&mut *tx).await?;
            sqlx::query(
                "INSERT INTO sessions (token_hash, user_id, stage, assignment_id, csrf_token, created_at, last_seen_at, expires_at, client_address) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(&new.token_hash)
            .bind(new.user_id.to_string())
            .bind(enum_str(&new.stage))
            .bind(new.assignment_id.map(|a| a.to_string()))
            .bind(&new.csrf_token)
            .bind(micros(new.created_at))
            .bind(micros(new.last_seen_at))
            .bind(micros(new.expires_at))
            .bind(client_address)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Moves every session's times by `by`: when a demo server's clock moves forward, nobody is
    /// logged out by the jump.
    pub async fn shift_sessions(&self, by: jiff::SignedDuration) -> Result<()> {
        let us = by.as_micros() as i64;
        on_db!(self, write, |pool| {
            sqlx::query(
                "UPDATE sessions SET created_at = created_at + $1, last_seen_at = last_seen_at + $1, expires_at = expires_at + $1",
            )
            .bind(us)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    pub async fn delete_session(&self, token_hash: &str) -> Result<()> {
        on_db!(self, write, |pool| sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(pool)
            .await
            .map(|_| ())?);
        Ok(())
    }

    /// Ends every session of a user (after a password reset or deactivation).
    pub async fn delete_sessions_of(&self, user: Uuid) -> Result<()> {
        on_db!(self, write, |pool| sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user.to_string())
            .execute(pool)
            .await
            .map(|_| ())?);
        Ok(())
    }

    pub async fn delete_expired_sessions(&self, now: Timestamp) -> Result<()> {
        on_db!(self, write, |pool| sqlx::query("DELETE FROM sessions WHERE expires_at < $1")
            .bind(micros(now))
            .execute(pool)
            .await
            .map(|_| ())?);
        Ok(())
    }

    // ---- login throttling -------------------------------------------------------------------

    pub async fn record_login_failure(&self, username: &str, client_address: &str, now: Timestamp) -> Result<()> {
        on_db!(self, write, |pool| sqlx::query(
            "INSERT INTO login_failures (username, client_address, at) VALUES ($1, $2, $3)"
        )
        .bind(username)
        .bind(client_address)
        .bind(micros(now))
        .execute(pool)
        .await
        .map(|_| ())?);
        Ok(())
    }

    /// Failed logins since `since`: (for this account from this address, from this address
    /// for any account, for this account from any address).
    pub async fn login_failures(
        &self,
        username: &str,
        client_address: &str,
        since: Timestamp,
    ) -> Result<(i64, i64, i64)> {
        let counts: (i64, i64, i64) = on_db!(self, read, |pool| sqlx::query_as(
            "SELECT \
               COALESCE(SUM(CASE WHEN username = $1 AND client_address = $2 THEN 1 ELSE 0 END), 0), \
               COALESCE(SUM(CASE WHEN client_address = $2 THEN 1 ELSE 0 END), 0), \
               COALESCE(SUM(CASE WHEN username = $1 THEN 1 ELSE 0 END), 0) \
             FROM login_failures WHERE at >= $3 AND (username = $1 OR client_address = $2)"
        )
        .bind(username)
        .bind(client_address)
        .bind(micros(since))
        .fetch_one(pool)
        .await?);
        Ok(counts)
    }

    /// Forgets failures: of one account from one address after a good login, or of the whole
    /// account when an administrator unlocks it.
    pub async fn clear_login_failures(&self, username: &str, client_address: Option<&str>) -> Result<()> {
        on_db!(self, write, |pool| sqlx::query(
            "DELETE FROM login_failures WHERE username = $1 AND ($2 IS NULL OR client_address = $2)"
        )
        .bind(username)
        .bind(client_address)
        .execute(pool)
        .await
        .map(|_| ())?);
        Ok(())
    }

    // ---- emergency access ---------------------------------------------------------------------

    #[allow(clippy::too_many_arguments)]
    pub async fn grant_emergency(
        &self,
        id: Uuid,
        user: Uuid,
        unit: UnitId,
        case: Uuid,
        reason: &str,
        now: Timestamp,
        expires: Timestamp,
    ) -> Result<()> {
        on_db!(self, write, |pool| {
            sqlx::query(
            "INSERT INTO emergency_grants (id, user_id, unit_id, case_id, reason, granted_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        )
        .bind(id.to_string())
        .bind(user.to_string())
        .bind(unit.to_string())
        .bind(case.to_string())
        .bind(reason)
        .bind(micros(now))
        .bind(micros(expires))
        .execute(pool).await.map(|_| ())?
        });
        Ok(())
    }

    /// The reason of a live emergency grant the user holds for the case, acting for the unit.
    pub async fn emergency_grant(
        &self,
        user: Uuid,
        unit: UnitId,
        case: Uuid,
        now: Timestamp,
    ) -> Result<Option<String>> {
        let row: Option<(String,)> = on_db!(self, read, |pool| {
            sqlx::query_as(
            "SELECT reason FROM emergency_grants WHERE user_id = $1 AND unit_id = $2 AND case_id = $3 AND expires_at > $4 \
             ORDER BY granted_at DESC LIMIT 1"
        )
        .bind(user.to_string())
        .bind(unit.to_string())
        .bind(case.to_string())
        .bind(micros(now))
        .fetch_optional(pool)
        .await?
        });
        Ok(row.map(|(r,)| r))
    }

    // ---- the access log -------------------------------------------------------------------------
}

/// A login under way with an identity provider, as the callback needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcPending {
    pub provider: String,
    pub nonce: String,
    pub verifier: String,
    pub started_at: Timestamp,
}

impl Store {
    /// Keeps a login under way, keyed by the hash of its state; logins begun before
    /// `forget_before` are dropped in the same commit.
    pub async fn begin_oidc_login(&self, state_hash: &str, p: &OidcPending, forget_before: Timestamp) -> Result<()> {
        on_db!(self, write, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query("DELETE FROM oidc_pending WHERE started_at < $1")
                .bind(micros(forget_before))
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO oidc_pending (state_hash, provider, nonce, verifier, started_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(state_hash)
            .bind(&p.provider)
            .bind(&p.nonce)
            .bind(&p.verifier)
            .bind(micros(p.started_at))
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// Takes a login under way: it is gone once read, so a callback is used at most once.
    pub async fn take_oidc_login(&self, state_hash: &str) -> Result<Option<OidcPending>> {
        let row: Option<(String, String, String, i64)> = on_db!(self, write, |pool| sqlx::query_as(
            "DELETE FROM oidc_pending WHERE state_hash = $1 RETURNING provider, nonce, verifier, started_at"
        )
        .bind(state_hash)
        .fetch_optional(pool)
        .await?);
        row.map(|(provider, nonce, verifier, started_at)| {
            Ok(OidcPending { provider, nonce, verifier, started_at: from_micros(started_at)? })
        })
        .transpose()
    }
}
