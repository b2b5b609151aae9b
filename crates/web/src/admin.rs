//! Administration of the organisation's units (with their address entries) and users (with
//! their assignments), through the same rules as `/api/admin`. The overview lists; each user
//! and each unit has its own page with its forms, so a region with hundreds of units and
//! users still gets small pages.

use askama::Template;
use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use samverka_domain::access::{Permission, Role, permits};
use samverka_domain::org::{AddressEntry, CareType, OrganisationId, Unit, UnitKind};
use serde::Deserialize;
use uuid::Uuid;

use crate::case::{Pairs, field, serde_key};
use crate::page::{Frame, WebCaller, error_page, error_text, html, role_key, see_other};
use samverka_app::AppState;
use samverka_app::admin;
use samverka_app::error::{AppError, AppResult};
use samverka_app::extract::ApiPath;
use samverka_app::texts::Texts;

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
    /// A region's administrators also see the hospitals' admission feed.
    pub feed: bool,
    pub units: Vec<UnitRow>,
    pub users: Vec<UserRow>,
    pub kinds: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "admin_user.html")]
pub struct UserPage {
    pub frame: Frame,
    pub user: UserRow,
    pub units: Vec<(String, String)>,
    pub roles: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "admin_unit.html")]
pub struct UnitPage {
    pub frame: Frame,
    pub unit: UnitRow,
    pub others: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "admin_password.html")]
pub struct PasswordPage {
    pub frame: Frame,
    pub who: String,
    pub password: String,
}

/// `?klart=<key>`: the notice after a form that went well (only keys of admin notices).
#[derive(Deserialize)]
pub struct Done {
    klart: Option<String>,
}

fn notice(frame: &mut Frame, done: &Done) {
    if let Some(key) = done.klart.as_deref().filter(|k| k.starts_with("admin.") && frame.t.has(k)) {
        frame.notice = Some(frame.t.get(key).to_string());
    }
}

fn unit_row(t: &Texts, u: &Unit) -> UnitRow {
    UnitRow {
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
    }
}

fn user_row(t: &Texts, a: samverka_store::Account, assignments: Vec<samverka_store::Assignment>) -> UserRow {
    let status = if !a.active {
        t.get("admin.inactive")
    } else if a.password_must_change {
        t.get("admin.must_change")
    } else if !a.totp_confirmed && a.oidc_subject.is_none() {
        t.get("admin.no_totp")
    } else {
        t.get("admin.active")
    };
    UserRow {
        id: a.id.to_string(),
        name: a.name,
        username: a.username.unwrap_or_default(),
        status: status.to_string(),
        active: a.active,
        assignments: assignments
            .into_iter()
            .map(|x| AssignmentRow {
                id: x.id.to_string(),
                text: format!("{} – {}", t.get(&format!("role.{}", role_key(x.role))), x.unit.name),
                active: x.active,
            })
            .collect(),
    }
}

async fn overview(st: &AppState, mut frame: Frame, org: OrganisationId, status: StatusCode) -> AppResult<Response> {
    let t = frame.t;
    frame.title = t.get("admin.title").to_string();
    let (organisation, feed) = st
        .store
        .organisation(org)
        .await?
        .map(|(o, _)| (o.name, o.kind == samverka_domain::org::OrganisationKind::Region))
        .unwrap_or_default();
    let units = st.store.units().await?.iter().filter(|u| u.organisation_id == org).map(|u| unit_row(t, u)).collect();
    let accounts = st.store.accounts_of_organisation(org).await?;
    let mut all = st.store.assignments_of_users(&accounts.iter().map(|a| a.id).collect::<Vec<_>>()).await?;
    let users = accounts
        .into_iter()
        .map(|a| {
            let assignments = all.remove(&a.id).unwrap_or_default();
            user_row(t, a, assignments)
        })
        .collect();
    let kinds = UnitKind::ALL
        .into_iter()
        .map(|k| (serde_key(&k), t.get(&format!("unit_kind.{}", serde_key(&k))).to_string()))
        .collect();
    Ok(html(status, &AdminPage { frame, organisation, feed, units, users, kinds }))
}

async fn user_page(
    st: &AppState,
    mut frame: Frame,
    org: OrganisationId,
    id: Uuid,
    status: StatusCode,
) -> AppResult<Response> {
    let t = frame.t;
    let account = st
        .store
        .account(id)
        .await?
        .filter(|a| a.organisation_id == Some(org))
        .ok_or_else(|| AppError::not_found("Användaren"))?;
    let assignments = st.store.assignments_of(id).await?;
    let user = user_row(t, account, assignments);
    frame.title = format!("{} – {}", user.name, t.get("admin.title"));
    let units = st
        .store
        .units()
        .await?
        .iter()
        .filter(|u| u.organisation_id == org)
        .map(|u| (u.id.to_string(), u.name.clone()))
        .collect();
    let roles = Role::ALL
        .into_iter()
        .filter(|r| r.for_assignments())
        .map(|r| (role_key(r), t.get(&format!("role.{}", role_key(r))).to_string()))
        .collect();
    Ok(html(status, &UserPage { frame, user, units, roles }))
}

async fn unit_page(
    st: &AppState,
    mut frame: Frame,
    org: OrganisationId,
    id: Uuid,
    status: StatusCode,
) -> AppResult<Response> {
    let t = frame.t;
    let units = st.store.units().await?;
    let unit =
        units.iter().find(|u| u.id == id && u.organisation_id == org).ok_or_else(|| AppError::not_found("Enheten"))?;
    let unit = unit_row(t, unit);
    frame.title = format!("{} – {}", unit.name, t.get("admin.title"));
    let others = units
        .iter()
        .filter(|u| u.organisation_id == org && u.id != id)
        .map(|u| (u.id.to_string(), u.name.clone()))
        .collect();
    Ok(html(status, &UnitPage { frame, unit, others }))
}

fn shown(t: &'static Texts, r: AppResult<Response>) -> Response {
    r.unwrap_or_else(|e| error_page(t, e.status, error_text(t, &e)))
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

macro_rules! admin_or_return {
    ($w:expr) => {
        match admin_of(&$w) {
            Ok(o) => o,
            Err(r) => return *r,
        }
    };
}

pub async fn page(State(st): State<AppState>, w: WebCaller, Query(done): Query<Done>) -> Response {
    let org = admin_or_return!(w);
    let t = w.frame.t;
    let mut frame = w.frame;
    notice(&mut frame, &done);
    shown(t, overview(&st, frame, org, StatusCode::OK).await)
}

pub async fn user(
    State(st): State<AppState>,
    w: WebCaller,
    ApiPath(id): ApiPath<Uuid>,
    Query(done): Query<Done>,
) -> Response {
    let org = admin_or_return!(w);
    let t = w.frame.t;
    let mut frame = w.frame;
    notice(&mut frame, &done);
    shown(t, user_page(&st, frame, org, id, StatusCode::OK).await)
}

pub async fn unit(
    State(st): State<AppState>,
    w: WebCaller,
    ApiPath(id): ApiPath<Uuid>,
    Query(done): Query<Done>,
) -> Response {
    let org = admin_or_return!(w);
    let t = w.frame.t;
    let mut frame = w.frame;
    notice(&mut frame, &done);
    shown(t, unit_page(&st, frame, org, id, StatusCode::OK).await)
}

/// Where an action's result is shown: the overview, or one user's or unit's page.
enum Back {
    Overview,
    User(Uuid),
    Unit(Uuid),
}

/// After an action: to the page with a notice when it went well (post/redirect/get), or the
/// page again with the refusal.
async fn answer<T>(
    st: &AppState,
    mut frame: Frame,
    org: OrganisationId,
    result: AppResult<T>,
    back: Back,
    done: &str,
) -> Response {
    let t = frame.t;
    match result {
        Ok(_) => see_other(&match back {
            Back::Overview => format!("/admin?klart={done}"),
            Back::User(id) => format!("/admin/anvandare/{id}?klart={done}"),
            Back::Unit(id) => format!("/admin/enheter/{id}?klart={done}"),
        }),
        Err(e) => {
            let text = error_text(t, &e);
            frame.error = Some(text.clone());
            let page = match back {
                Back::Overview => overview(st, frame, org, e.status).await,
                Back::User(id) => user_page(st, frame, org, id, e.status).await,
                Back::Unit(id) => unit_page(st, frame, org, id, e.status).await,
            };
            // Someone else's user or unit has no page here: the refusal stands on its own.
            page.unwrap_or_else(|_| error_page(t, e.status, text))
        }
    }
}

fn text(f: &Pairs, name: &str) -> Option<String> {
    Some(field(f, name).trim().to_string()).filter(|s| !s.is_empty())
}

/// Shows a temporary password to hand over, once (never in an address or a log).
fn temporary_page(mut frame: Frame, notice_key: &str, who: String, password: String) -> Response {
    let t = frame.t;
    frame.title = t.get("admin.title").to_string();
    frame.notice = Some(t.get(notice_key).to_string());
    html(StatusCode::OK, &PasswordPage { frame, who, password })
}

pub async fn create_user(State(st): State<AppState>, w: WebCaller, Form(f): Form<Pairs>) -> Response {
    let org = admin_or_return!(w);
    let req = admin::NewUserRequest {
        name: field(&f, "name").to_string(),
        username: text(&f, "username"),
        hsa_id: text(&f, "hsa_id"),
        oidc_provider: None,
        oidc_subject: None,
    };
    let WebCaller { caller, frame, .. } = w;
    match admin::create_user(&st, &caller, req).await {
        Ok(created) => match created.temporary_password {
            Some(p) => temporary_page(frame, "admin.user_created", created.user.name, p),
            None => answer(&st, frame, org, Ok(()), Back::User(created.user.id), "admin.user_created").await,
        },
        Err(e) => answer::<()>(&st, frame, org, Err(e), Back::Overview, "").await,
    }
}

pub async fn add_assignment(
    State(st): State<AppState>,
    w: WebCaller,
    ApiPath(id): ApiPath<Uuid>,
    Form(f): Form<Pairs>,
) -> Response {
    let org = admin_or_return!(w);
    let WebCaller { caller, frame, .. } = w;
    let r = async {
        let unit = field(&f, "unit")
            .parse()
            .map_err(|_| AppError::invalid("unit", "invalid_form", "Välj enhet.", "Choose a unit."))?;
        let role: Role = serde_json::from_value(serde_json::Value::String(field(&f, "role").to_string()))
            .map_err(|_| AppError::invalid("role", "invalid_form", "Välj roll.", "Choose a role."))?;
        admin::add_assignment(&st, &caller, id, admin::NewAssignmentRequest { unit, role }).await
    }
    .await;
    answer(&st, frame, org, r, Back::User(id), "admin.assignment_added").await
}

pub async fn reset_password(State(st): State<AppState>, w: WebCaller, ApiPath(id): ApiPath<Uuid>) -> Response {
    let org = admin_or_return!(w);
    let WebCaller { caller, frame, .. } = w;
    let who = st.store.account(id).await.ok().flatten().map(|a| a.name).unwrap_or_default();
    match admin::reset_password(&st, &caller, id).await {
        Ok(p) => temporary_page(frame, "admin.password_created", who, p.temporary_password),
        Err(e) => answer::<()>(&st, frame, org, Err(e), Back::User(id), "").await,
    }
}

pub async fn reset_totp(State(st): State<AppState>, w: WebCaller, ApiPath(id): ApiPath<Uuid>) -> Response {
    let org = admin_or_return!(w);
    let WebCaller { caller, frame, .. } = w;
    let r = admin::reset_totp(&st, &caller, id).await;
    answer(&st, frame, org, r, Back::User(id), "admin.totp_reset").await
}

pub async fn unlock(State(st): State<AppState>, w: WebCaller, ApiPath(id): ApiPath<Uuid>) -> Response {
    let org = admin_or_return!(w);
    let WebCaller { caller, frame, .. } = w;
    let r = admin::unlock(&st, &caller, id).await;
    answer(&st, frame, org, r, Back::User(id), "admin.unlocked").await
}

pub async fn deactivate(State(st): State<AppState>, w: WebCaller, ApiPath(id): ApiPath<Uuid>) -> Response {
    let org = admin_or_return!(w);
    let WebCaller { caller, frame, .. } = w;
    let r = admin::deactivate(&st, &caller, id).await;
    answer(&st, frame, org, r, Back::User(id), "admin.deactivated").await
}

pub async fn end_assignment(State(st): State<AppState>, w: WebCaller, ApiPath(id): ApiPath<Uuid>) -> Response {
    let org = admin_or_return!(w);
    let WebCaller { caller, frame, .. } = w;
    let user = st.store.assignment(id).await.ok().flatten().map(|a| a.user_id);
    let r = admin::deactivate_assignment(&st, &caller, id).await;
    let back = user.map(Back::User).unwrap_or(Back::Overview);
    answer(&st, frame, org, r, back, "admin.assignment_ended").await
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
    let org = admin_or_return!(w);
    let WebCaller { caller, frame, .. } = w;
    let r = async {
        let kind: UnitKind = serde_json::from_value(serde_json::Value::String(field(&f, "kind").to_string()))
            .map_err(|_| AppError::invalid("kind", "invalid_form", "Välj typ av enhet.", "Choose the kind of unit."))?;
        let req = admin::NewUnitRequest {
            name: field(&f, "name").to_string(),
            kind,
            hsa_id: field(&f, "hsa_id").trim().to_string(),
            care_type: if field(&f, "care_type") == "psychiatric" { CareType::Psychiatric } else { CareType::Somatic },
            receives_for_kommun: text(&f, "receives_for_kommun"),
            address: address_of(&f),
        };
        admin::create_unit(&st, &caller, req).await
    }
    .await;
    match r {
        Ok(unit) => answer(&st, frame, org, Ok(()), Back::Unit(unit.id), "admin.unit_created").await,
        Err(e) => answer::<()>(&st, frame, org, Err(e), Back::Overview, "").await,
    }
}

pub async fn update_address(
    State(st): State<AppState>,
    w: WebCaller,
    ApiPath(id): ApiPath<Uuid>,
    Form(f): Form<Pairs>,
) -> Response {
    let org = admin_or_return!(w);
    let WebCaller { caller, frame, .. } = w;
    let r = admin::update_address(&st, &caller, id, address_of(&f)).await;
    answer(&st, frame, org, r, Back::Unit(id), "admin.address_saved").await
}
