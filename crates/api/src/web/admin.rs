//! Administration of the organisation's units (with their address entries) and users (with
//! their assignments), through the same rules as `/api/admin`.

use askama::Template;
use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::Response;
use samverka_domain::access::{Permission, Role, permits};
use samverka_domain::org::{AddressEntry, CareType, OrganisationId, UnitKind};
use uuid::Uuid;

use super::case::{Pairs, field, serde_key};
use super::{Frame, WebCaller, error_page, error_text, html, role_key};
use crate::AppState;
use crate::extract::{ApiJson, ApiPath};
use crate::problem::{ApiError, ApiResult};
use crate::routes::admin as api;

pub struct AssignmentRow {
    pub id: String,
    pub text: String,
    pub active: bool,
}

pub struct UserRow {
    pub id: String,
    pub name: String,
    pub username: String,
    pub status: String,
    pub active: bool,
    pub assignments: Vec<AssignmentRow>,
}

pub struct UnitRow {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub hsa_id: String,
    pub receives_for: String,
    pub phone: String,
    pub mailbox: String,
    pub hours: String,
    pub cover: String,
    pub backup: String,
}

#[derive(Template)]
#[template(path = "admin.html")]
pub struct AdminPage {
    pub frame: Frame,
    pub organisation: String,
    pub units: Vec<UnitRow>,
    pub users: Vec<UserRow>,
    pub roles: Vec<(String, String)>,
    pub kinds: Vec<(String, String)>,
}

async fn render(st: &AppState, mut frame: Frame, org: OrganisationId, status: StatusCode) -> ApiResult<Response> {
    let t = frame.t;
    frame.title = t.get("admin.title").to_string();
    let organisation = st.store.organisation(org).await?.map(|(o, _)| o.name).unwrap_or_default();
    let all_units = st.store.units().await?;
    let name_of = |id: Uuid| all_units.iter().find(|u| u.id == id).map(|u| u.name.clone()).unwrap_or_default();
    let units = all_units
        .iter()
        .filter(|u| u.organisation_id == org)
        .map(|u| UnitRow {
            id: u.id.to_string(),
            name: u.name.clone(),
            kind: t.get(&format!("unit_kind.{}", serde_key(&u.kind))).to_string(),
            hsa_id: u.hsa_id.as_str().to_string(),
            receives_for: u.receives_for_kommun.as_ref().map(|k| k.as_str().to_string()).unwrap_or_default(),
            phone: u.address.phone.clone().unwrap_or_default(),
            mailbox: u.address.functional_mailbox.clone().unwrap_or_default(),
            hours: u.address.opening_hours.clone().unwrap_or_default(),
            cover: u.address.evening_weekend_cover.clone().unwrap_or_default(),
            backup: u.address.backup_unit.map(|b| b.to_string()).unwrap_or_default(),
        })
        .collect();
    let mut users = vec![];
    let accounts = st.store.accounts_of_organisation(org).await?;
    let mut all = st.store.assignments_of_users(&accounts.iter().map(|a| a.id).collect::<Vec<_>>()).await?;
    for a in accounts {
        let assignments = all.remove(&a.id).unwrap_or_default();
        let status = if !a.active {
            t.get("admin.inactive")
        } else if a.password_must_change {
            t.get("admin.must_change")
        } else if !a.totp_confirmed && a.oidc_subject.is_none() {
            t.get("admin.no_totp")
        } else {
            t.get("admin.active")
        };
        users.push(UserRow {
            id: a.id.to_string(),
            name: a.name,
            username: a.username.unwrap_or_default(),
            status: status.to_string(),
            active: a.active,
            assignments: assignments
                .into_iter()
                .map(|x| AssignmentRow {
                    id: x.id.to_string(),
                    text: format!("{} – {}", t.get(&format!("role.{}", role_key(x.role))), name_of(x.unit.id)),
                    active: x.active,
                })
                .collect(),
        });
    }
    let roles = Role::ALL
        .into_iter()
        .filter(|r| *r != Role::System)
        .map(|r| (role_key(r), t.get(&format!("role.{}", role_key(r))).to_string()))
        .collect();
    let kinds = UnitKind::ALL
        .into_iter()
        .map(|k| (serde_key(&k), t.get(&format!("unit_kind.{}", serde_key(&k))).to_string()))
        .collect();
    Ok(html(status, &AdminPage { frame, organisation, units, users, roles, kinds }))
}

/// The page after an action: a notice on success, the refusal otherwise.
async fn answer<T>(
    st: &AppState,
    mut frame: Frame,
    org: OrganisationId,
    result: ApiResult<T>,
    done_key: &str,
) -> Response {
    let t = frame.t;
    let status = match &result {
        Ok(_) => {
            frame.notice = Some(t.get(done_key).to_string());
            StatusCode::OK
        }
        Err(e) => {
            frame.error = Some(error_text(t, e));
            e.status
        }
    };
    render(st, frame, org, status).await.unwrap_or_else(|e| error_page(t, e.status, error_text(t, &e)))
}

/// The administrator's organisation, or the page that says the role cannot administer.
fn admin_of(w: &WebCaller) -> Result<OrganisationId, Box<Response>> {
    if permits(w.caller.actor.role, Permission::Administer) {
        Ok(w.caller.actor.unit.organisation_id)
    } else {
        let t = w.frame.t;
        Err(Box::new(error_page(t, StatusCode::FORBIDDEN, t.get("admin.not_admin").to_string())))
    }
}

pub async fn page(State(st): State<AppState>, w: WebCaller) -> Response {
    let org = match admin_of(&w) {
        Ok(o) => o,
        Err(r) => return *r,
    };
    let t = w.frame.t;
    render(&st, w.frame, org, StatusCode::OK).await.unwrap_or_else(|e| error_page(t, e.status, error_text(t, &e)))
}

fn text(f: &Pairs, name: &str) -> Option<String> {
    Some(field(f, name).trim().to_string()).filter(|s| !s.is_empty())
}

#[derive(Template)]
#[template(path = "admin_password.html")]
pub struct PasswordPage {
    pub frame: Frame,
    pub who: String,
    pub password: String,
}

/// Shows a temporary password to hand over, once (never in an address or a log).
fn temporary_page(mut frame: Frame, notice_key: &str, who: String, password: String) -> Response {
    let t = frame.t;
    frame.title = t.get("admin.title").to_string();
    frame.notice = Some(t.get(notice_key).to_string());
    html(StatusCode::OK, &PasswordPage { frame, who, password })
}

pub async fn create_user(State(st): State<AppState>, w: WebCaller, Form(f): Form<Pairs>) -> Response {
    let org = match admin_of(&w) {
        Ok(o) => o,
        Err(r) => return *r,
    };
    let req = api::NewUserRequest {
        name: field(&f, "name").to_string(),
        username: text(&f, "username"),
        hsa_id: text(&f, "hsa_id"),
        oidc_provider: None,
        oidc_subject: None,
    };
    let WebCaller { caller, frame, .. } = w;
    match api::create_user(State(st.clone()), caller, ApiJson(req)).await {
        Ok((_, axum::Json(created))) => match created.temporary_password {
            Some(p) => temporary_page(frame, "admin.user_created", created.user.name, p),
            None => answer(&st, frame, org, Ok(()), "admin.user_created").await,
        },
        Err(e) => answer::<()>(&st, frame, org, Err(e), "").await,
    }
}

pub async fn add_assignment(
    State(st): State<AppState>,
    w: WebCaller,
    ApiPath(id): ApiPath<Uuid>,
    Form(f): Form<Pairs>,
) -> Response {
    let org = match admin_of(&w) {
        Ok(o) => o,
        Err(r) => return *r,
    };
    let WebCaller { caller, frame, .. } = w;
    let r = async {
        let unit = field(&f, "unit")
            .parse()
            .map_err(|_| ApiError::invalid("unit", "invalid_form", "Välj enhet.", "Choose a unit."))?;
        let role: Role = serde_json::from_value(serde_json::Value::String(field(&f, "role").to_string()))
            .map_err(|_| ApiError::invalid("role", "invalid_form", "Välj roll.", "Choose a role."))?;
        api::add_assignment(State(st.clone()), caller, ApiPath(id), ApiJson(api::NewAssignmentRequest { unit, role }))
            .await
    }
    .await;
    answer(&st, frame, org, r, "admin.assignment_added").await
}

pub async fn reset_password(State(st): State<AppState>, w: WebCaller, ApiPath(id): ApiPath<Uuid>) -> Response {
    let org = match admin_of(&w) {
        Ok(o) => o,
        Err(r) => return *r,
    };
    let WebCaller { caller, frame, .. } = w;
    let who = st.store.account(id).await.ok().flatten().map(|a| a.name).unwrap_or_default();
    match api::reset_password(State(st.clone()), caller, ApiPath(id)).await {
        Ok(axum::Json(p)) => temporary_page(frame, "admin.password_created", who, p.temporary_password),
        Err(e) => answer::<()>(&st, frame, org, Err(e), "").await,
    }
}

pub async fn reset_totp(State(st): State<AppState>, w: WebCaller, ApiPath(id): ApiPath<Uuid>) -> Response {
    let org = match admin_of(&w) {
        Ok(o) => o,
        Err(r) => return *r,
    };
    let WebCaller { caller, frame, .. } = w;
    let r = api::reset_totp(State(st.clone()), caller, ApiPath(id)).await;
    answer(&st, frame, org, r, "admin.totp_reset").await
}

pub async fn unlock(State(st): State<AppState>, w: WebCaller, ApiPath(id): ApiPath<Uuid>) -> Response {
    let org = match admin_of(&w) {
        Ok(o) => o,
        Err(r) => return *r,
    };
    let WebCaller { caller, frame, .. } = w;
    let r = api::unlock(State(st.clone()), caller, ApiPath(id)).await;
    answer(&st, frame, org, r, "admin.unlocked").await
}

pub async fn deactivate(State(st): State<AppState>, w: WebCaller, ApiPath(id): ApiPath<Uuid>) -> Response {
    let org = match admin_of(&w) {
        Ok(o) => o,
        Err(r) => return *r,
    };
    let WebCaller { caller, frame, .. } = w;
    let r = api::deactivate(State(st.clone()), caller, ApiPath(id)).await;
    answer(&st, frame, org, r, "admin.deactivated").await
}

pub async fn end_assignment(State(st): State<AppState>, w: WebCaller, ApiPath(id): ApiPath<Uuid>) -> Response {
    let org = match admin_of(&w) {
        Ok(o) => o,
        Err(r) => return *r,
    };
    let WebCaller { caller, frame, .. } = w;
    let r = api::deactivate_assignment(State(st.clone()), caller, ApiPath(id)).await;
    answer(&st, frame, org, r, "admin.assignment_ended").await
}

fn address_of(f: &Pairs) -> AddressEntry {
    AddressEntry {
        phone: text(f, "phone"),
        functional_mailbox: text(f, "mailbox"),
        opening_hours: text(f, "hours"),
        evening_weekend_cover: text(f, "cover"),
        backup_unit: field(f, "backup").parse().ok(),
    }
}

pub async fn create_unit(State(st): State<AppState>, w: WebCaller, Form(f): Form<Pairs>) -> Response {
    let org = match admin_of(&w) {
        Ok(o) => o,
        Err(r) => return *r,
    };
    let WebCaller { caller, frame, .. } = w;
    let r = async {
        let kind: UnitKind = serde_json::from_value(serde_json::Value::String(field(&f, "kind").to_string()))
            .map_err(|_| ApiError::invalid("kind", "invalid_form", "Välj typ av enhet.", "Choose the kind of unit."))?;
        let req = api::NewUnitRequest {
            name: field(&f, "name").to_string(),
            kind,
            hsa_id: field(&f, "hsa_id").trim().to_string(),
            care_type: if field(&f, "care_type") == "psychiatric" { CareType::Psychiatric } else { CareType::Somatic },
            receives_for_kommun: text(&f, "receives_for_kommun"),
            address: address_of(&f),
        };
        api::create_unit(State(st.clone()), caller, ApiJson(req)).await
    }
    .await;
    answer(&st, frame, org, r, "admin.unit_created").await
}

pub async fn update_address(
    State(st): State<AppState>,
    w: WebCaller,
    ApiPath(id): ApiPath<Uuid>,
    Form(f): Form<Pairs>,
) -> Response {
    let org = match admin_of(&w) {
        Ok(o) => o,
        Err(r) => return *r,
    };
    let WebCaller { caller, frame, .. } = w;
    let r = api::update_address(State(st.clone()), caller, ApiPath(id), ApiJson(address_of(&f))).await;
    answer(&st, frame, org, r, "admin.address_saved").await
}
