//! Administration of an organisation's own units, users and assignments. An administrator
//! reaches nothing outside their organisation, and no patient data at all.

use axum::http::StatusCode;
use samverka_domain::access::{self, Permission, Role};
use samverka_domain::ids::{HsaId, Kommunkod};
use samverka_domain::org::{AddressEntry, CareType, OrganisationId, Unit, UnitKind};
use samverka_domain::patient::validate_name;
use samverka_store::{Account, Assignment, NewAccount};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::AppState;
use crate::auth::{Caller, password};
use crate::error::{AppError, AppResult};

fn other_organisation() -> AppError {
    AppError::new(
        StatusCode::FORBIDDEN,
        "other_organisation",
        "Det hör till en annan organisation. Administratörer hanterar bara sin egen organisations enheter och användare.",
        "That belongs to another organisation.",
    )
}

/// The administrator's own organisation; refuses callers without the permission.
fn admin_org(caller: &Caller) -> AppResult<OrganisationId> {
    access::require(caller.actor.role, Permission::Administer)?;
    Ok(caller.actor.unit.organisation_id)
}

async fn own_account(st: &AppState, org: OrganisationId, id: Uuid) -> AppResult<Account> {
    let account = st.store.account(id).await?.ok_or_else(|| AppError::not_found("Användaren"))?;
    if account.organisation_id != Some(org) {
        return Err(other_organisation());
    }
    Ok(account)
}

async fn own_unit(st: &AppState, org: OrganisationId, id: Uuid, field: &str) -> AppResult<Unit> {
    let unit =
        st.store.unit(id).await?.ok_or_else(|| {
            AppError::invalid(field, "unknown_unit", "Enheten finns inte i Samverka.", "Unknown unit.")
        })?;
    if unit.organisation_id != org {
        return Err(other_organisation());
    }
    Ok(unit)
}

#[derive(Serialize, ToSchema)]
pub struct UserView {
    #[schema(value_type = String, format = Uuid)]
    pub id: Uuid,
    pub name: String,
    pub username: Option<String>,
    pub hsa_id: Option<String>,
    pub active: bool,
    /// The authenticator app is set up.
    pub totp_configured: bool,
    /// Logs in through the region's identity provider.
    pub oidc_linked: bool,
    pub password_must_change: bool,
    pub assignments: Vec<Assignment>,
}

async fn user_view(st: &AppState, a: Account) -> AppResult<UserView> {
    Ok(UserView {
        assignments: st.store.assignments_of(a.id).await?,
        id: a.id,
        name: a.name,
        username: a.username,
        hsa_id: a.hsa_id,
        active: a.active,
        totp_configured: a.totp_confirmed,
        oidc_linked: a.oidc_subject.is_some(),
        password_must_change: a.password_must_change,
    })
}

/// The organisation's users with their assignments.
pub async fn users(st: &AppState, caller: &Caller) -> AppResult<Vec<UserView>> {
    let org = admin_org(caller)?;
    let mut out = vec![];
    for a in st.store.accounts_of_organisation(org).await? {
        out.push(user_view(st, a).await?);
    }
    Ok(out)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserRequest {
    pub name: String,
    /// For password login: letters, digits, '.', '-', '_' (3-64).
    pub username: Option<String>,
    pub hsa_id: Option<String>,
    /// For login through an identity provider: the provider's id and the user's `sub` there.
    pub oidc_provider: Option<String>,
    pub oidc_subject: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedUser {
    pub user: UserView,
    /// Shown once: hand it to the user, who must change it at first login.
    pub temporary_password: Option<String>,
}

fn valid_username(u: &str) -> bool {
    (3..=64).contains(&u.len())
        && u.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
}

/// Creates a user in the administrator's organisation.
pub async fn create_user(st: &AppState, caller: &Caller, req: NewUserRequest) -> AppResult<CreatedUser> {
    let org = admin_org(caller)?;
    let name = validate_name("name", &req.name)?;
    let username = req.username.map(|u| u.trim().to_lowercase());
    if let Some(u) = &username
        && !valid_username(u)
    {
        return Err(AppError::invalid(
            "username",
            "invalid_username",
            "Användarnamnet ska vara 3–64 tecken: små bokstäver a–z, siffror, punkt, bindestreck eller understreck.",
            "Invalid username.",
        ));
    }
    let hsa_id = req.hsa_id.as_deref().map(HsaId::parse).transpose().map_err(|e| e.problem("hsa_id"))?;
    let oidc = match (&req.oidc_provider, &req.oidc_subject) {
        (Some(p), Some(sub)) if !sub.trim().is_empty() => {
            let provider = st.config.oidc.iter().find(|x| &x.id == p).ok_or_else(|| {
                AppError::invalid(
                    "oidc_provider",
                    "unknown_provider",
                    "Inloggningstjänsten finns inte i inställningarna.",
                    "Unknown provider.",
                )
            })?;
            Some((provider.issuer.clone(), sub.trim().to_string()))
        }
        (None, None) => None,
        _ => {
            return Err(AppError::invalid(
                "oidc_subject",
                "incomplete_oidc",
                "Ange både inloggningstjänst och användarens id där.",
                "Give both provider and subject.",
            ));
        }
    };
    if username.is_none() && oidc.is_none() {
        return Err(AppError::invalid(
            "username",
            "required",
            "Ange ett användarnamn eller en koppling till inloggningstjänsten.",
            "Give a username or an identity-provider link.",
        ));
    }
    let temporary = username.as_ref().map(|_| password::temporary());
    let password_hash = match &temporary {
        Some(t) => Some(password::hash(t.clone()).await?),
        None => None,
    };
    let account = NewAccount {
        id: Uuid::now_v7(),
        name,
        hsa_id: hsa_id.map(|h| h.as_str().to_string()),
        organisation_id: org,
        username,
        password_hash,
        password_must_change: true,
        totp_secret: None,
        totp_confirmed: false,
        oidc,
    };
    st.store.create_account(&account, st.clock.now()).await?;
    tracing::info!(target: "audit", admin = %caller.actor.user.id, user = %account.id, "user created");
    let created = st.store.account(account.id).await?.ok_or_else(|| AppError::not_found("Användaren"))?;
    Ok(CreatedUser { user: user_view(st, created).await?, temporary_password: temporary })
}

#[derive(Serialize, ToSchema)]
pub struct TemporaryPassword {
    /// Shown once: the user must change it at the next login.
    pub temporary_password: String,
}

/// Gives the user a temporary password (to change at next login) and ends their sessions.
pub async fn reset_password(st: &AppState, caller: &Caller, id: Uuid) -> AppResult<TemporaryPassword> {
    let org = admin_org(caller)?;
    let account = own_account(st, org, id).await?;
    if account.username.is_none() {
        return Err(AppError::invalid(
            "id",
            "no_password_login",
            "Användaren loggar inte in med lösenord.",
            "No password login.",
        ));
    }
    let temporary = password::temporary();
    st.store.set_password(id, &password::hash(temporary.clone()).await?, true).await?;
    st.store.delete_sessions_of(id).await?;
    tracing::info!(target: "audit", admin = %caller.actor.user.id, user = %id, "password reset");
    Ok(TemporaryPassword { temporary_password: temporary })
}

/// Clears the authenticator app (lost phone); the user sets up a new one at next login.
pub async fn reset_totp(st: &AppState, caller: &Caller, id: Uuid) -> AppResult<()> {
    let org = admin_org(caller)?;
    own_account(st, org, id).await?;
    st.store.set_totp(id, None, false).await?;
    st.store.delete_sessions_of(id).await?;
    tracing::info!(target: "audit", admin = %caller.actor.user.id, user = %id, "TOTP reset");
    Ok(())
}

/// Lifts a temporary lock-out after failed logins.
pub async fn unlock(st: &AppState, caller: &Caller, id: Uuid) -> AppResult<()> {
    let org = admin_org(caller)?;
    let account = own_account(st, org, id).await?;
    if let Some(u) = &account.username {
        st.store.clear_login_failures(u, None).await?;
    }
    Ok(())
}

/// Deactivates a user and ends their sessions. Nothing is deleted.
pub async fn deactivate(st: &AppState, caller: &Caller, id: Uuid) -> AppResult<()> {
    let org = admin_org(caller)?;
    own_account(st, org, id).await?;
    st.store.set_account_active(id, false, st.clock.now()).await?;
    st.store.delete_sessions_of(id).await?;
    tracing::info!(target: "audit", admin = %caller.actor.user.id, user = %id, "user deactivated");
    Ok(())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAssignmentRequest {
    #[schema(value_type = String, format = Uuid)]
    pub unit: Uuid,
    pub role: Role,
}

/// Gives a user an assignment (unit and role) in the organisation.
pub async fn add_assignment(
    st: &AppState,
    caller: &Caller,
    id: Uuid,
    req: NewAssignmentRequest,
) -> AppResult<Assignment> {
    let org = admin_org(caller)?;
    own_account(st, org, id).await?;
    own_unit(st, org, req.unit, "unit").await?;
    if !req.role.for_assignments() {
        return Err(AppError::invalid(
            "role",
            "system_role",
            format!("Rollen {} ges inte i ett uppdrag.", req.role.label_sv()),
            "Not a role for an assignment.",
        ));
    }
    let assignment = Uuid::now_v7();
    st.store.add_assignment(assignment, id, req.unit, req.role, Some(caller.actor.user.id), st.clock.now()).await?;
    tracing::info!(target: "audit", admin = %caller.actor.user.id, user = %id, unit = %req.unit, role = ?req.role, "assignment added");
    let a = st.store.assignment(assignment).await?.ok_or_else(|| AppError::not_found("Uppdraget"))?;
    Ok(a)
}

/// Ends an assignment; sessions acting in it are refused from their next request.
pub async fn deactivate_assignment(st: &AppState, caller: &Caller, id: Uuid) -> AppResult<()> {
    let org = admin_org(caller)?;
    let a = st.store.assignment(id).await?.ok_or_else(|| AppError::not_found("Uppdraget"))?;
    if a.unit.organisation_id != org {
        return Err(other_organisation());
    }
    st.store.set_assignment_active(id, false, st.clock.now()).await?;
    tracing::info!(target: "audit", admin = %caller.actor.user.id, assignment = %id, "assignment ended");
    Ok(())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUnitRequest {
    pub name: String,
    pub kind: UnitKind,
    pub hsa_id: String,
    #[serde(default)]
    pub care_type: CareType,
    /// The municipality whose LUS notices this unit receives (biståndsenhet).
    pub receives_for_kommun: Option<String>,
    #[serde(default)]
    pub address: AddressEntry,
}

fn check_address_entry(st_units: &[Unit], org: OrganisationId, a: &AddressEntry) -> AppResult<()> {
    for (field, v) in [
        ("address.phone", &a.phone),
        ("address.functional_mailbox", &a.functional_mailbox),
        ("address.opening_hours", &a.opening_hours),
        ("address.evening_weekend_cover", &a.evening_weekend_cover),
    ] {
        if let Some(v) = v {
            samverka_domain::text::check_text(field, v, false)?;
            if v.chars().count() > 500 {
                return Err(AppError::invalid(field, "text_too_long", "Högst 500 tecken.", "At most 500 characters."));
            }
        }
    }
    if let Some(b) = a.backup_unit
        && !st_units.iter().any(|u| u.id == b && u.organisation_id == org)
    {
        return Err(AppError::invalid(
            "address.backup_unit",
            "unknown_unit",
            "Reservenheten måste vara en enhet i den egna organisationen.",
            "The backup unit must be one of the organisation's units.",
        ));
    }
    Ok(())
}

/// Creates a unit in the administrator's organisation.
pub async fn create_unit(st: &AppState, caller: &Caller, req: NewUnitRequest) -> AppResult<Unit> {
    let org = admin_org(caller)?;
    let name = validate_name("name", &req.name)?;
    let hsa_id = HsaId::parse(&req.hsa_id).map_err(|e| e.problem("hsa_id"))?;
    let receives_for_kommun = req
        .receives_for_kommun
        .as_deref()
        .map(Kommunkod::parse)
        .transpose()
        .map_err(|e| e.problem("receives_for_kommun"))?;
    if let Some(kommun) = &receives_for_kommun {
        let own =
            st.store.organisation(org).await?.map(|(o, _)| o).ok_or_else(|| AppError::not_found("Organisationen"))?;
        if !own.may_receive_for(kommun) {
            return Err(AppError::from(samverka_domain::Problem::invalid_field(
                "receives_for_kommun",
                "not_your_municipality",
                format!(
                    "{} kan inte ta emot meddelanden för kommun {}: bara kommunen själv eller regionen i länet kan det.",
                    own.name,
                    kommun.as_str()
                ),
                "Only the municipality itself or the region of its county can receive its notices.",
            )));
        }
    }
    check_address_entry(&st.store.units().await?, org, &req.address)?;
    let unit = Unit {
        id: Uuid::now_v7(),
        organisation_id: org,
        kind: req.kind,
        name,
        hsa_id,
        care_type: req.care_type,
        receives_for_kommun,
        address: req.address,
    };
    st.store.insert_unit(&unit, st.clock.now()).await?;
    tracing::info!(target: "audit", admin = %caller.actor.user.id, unit = %unit.id, "unit created");
    Ok(unit)
}

/// Updates a unit's address entry: phone, mailbox, hours, who covers evenings and weekends.
pub async fn update_address(st: &AppState, caller: &Caller, id: Uuid, a: AddressEntry) -> AppResult<Unit> {
    let org = admin_org(caller)?;
    own_unit(st, org, id, "id").await?;
    check_address_entry(&st.store.units().await?, org, &a)?;
    st.store.update_unit_address(id, &a, st.clock.now()).await?;
    tracing::info!(target: "audit", admin = %caller.actor.user.id, unit = %id, "address entry updated");
    st.store.unit(id).await?.ok_or_else(|| AppError::not_found("Enheten"))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewClientRequest {
    /// The system's name as it will appear in case histories and the access log, e.g.
    /// "Solna stads verksamhetssystem".
    pub name: String,
    /// The unit the system acts for.
    #[schema(value_type = String, format = Uuid)]
    pub unit: Uuid,
    /// The role it acts in there, as a person in that role would.
    pub role: Role,
    /// SMART scopes, e.g. `system/*.read`, `system/Communication.write`.
    pub scopes: Vec<String>,
}

/// The new client's credentials. The secret is shown this once; only its hash is kept.
#[derive(Serialize, ToSchema)]
pub struct NewClientView {
    #[schema(value_type = String, format = Uuid)]
    pub client_id: Uuid,
    pub client_secret: String,
    pub scopes: Vec<String>,
    #[schema(value_type = String, format = Uuid)]
    pub user_id: Uuid,
    #[schema(value_type = String, format = Uuid)]
    pub assignment_id: Uuid,
}

/// Registers another system as a client of the FHIR API, acting for a unit of the
/// organisation in a role. It gets its own account (without password) and assignment, so its
/// access follows the same rules as a person's, and the administrator can end it the same way.
pub async fn create_client(st: &AppState, caller: &Caller, req: NewClientRequest) -> AppResult<NewClientView> {
    let org = admin_org(caller)?;
    let name = validate_name("name", &req.name)?;
    own_unit(st, org, req.unit, "unit").await?;
    if req.role == Role::Administrator || !req.role.for_assignments() {
        return Err(AppError::invalid(
            "role",
            "role_not_for_clients",
            "Ett annat system kan inte administrera Samverka eller vara journalsystemets flöde. Välj den roll systemets användare har.",
            "Choose the role the system's users have.",
        ));
    }
    if req.scopes.is_empty() {
        return Err(AppError::invalid(
            "scopes",
            "scopes_required",
            "Ange minst en behörighet, till exempel system/*.read.",
            "Give at least one scope.",
        ));
    }
    if let Some(bad) = req.scopes.iter().find(|s| !crate::scopes::valid_scope(s)) {
        return Err(AppError::invalid(
            "scopes",
            "invalid_scope",
            format!(
                "\"{bad}\" är ingen behörighet Samverka känner. Skriv system/<Resurs>.read eller .write, t.ex. system/Patient.read."
            ),
            format!("\"{bad}\" is not a known scope."),
        ));
    }
    let now = st.clock.now();
    let user_id = Uuid::now_v7();
    st.store.create_account(&NewAccount::without_sign_in(user_id, name, org), now).await?;
    let assignment_id = Uuid::now_v7();
    st.store.add_assignment(assignment_id, user_id, req.unit, req.role, Some(caller.actor.user.id), now).await?;
    let secret = crate::auth::random_token();
    let client = samverka_store::ApiClient {
        id: Uuid::now_v7(),
        user_id,
        assignment_id,
        secret_hash: crate::auth::token_hash(&secret),
        scopes: req.scopes.clone(),
        active: true,
    };
    st.store.create_api_client(&client, Some(caller.actor.user.id), now).await?;
    tracing::info!(target: "audit", admin = %caller.actor.user.id, client = %client.id, unit = %req.unit, "API client registered");
    Ok(NewClientView { client_id: client.id, client_secret: secret, scopes: req.scopes, user_id, assignment_id })
}
