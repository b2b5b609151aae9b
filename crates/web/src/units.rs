//! Who does what, per unit: the address entry, named contacts and when the unit last
//! confirmed them (kept by the unit's leaders and its organisation's administrators), the
//! unit's escalation rule; and the escalations made to one's own unit.

use askama::Template;
use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::Response;
use samverka_domain::calendar;
use samverka_domain::directory::{Contact, MAX_CONTACTS, is_stale};
use samverka_domain::escalation::{EscalationRule, Level};
use uuid::Uuid;

use crate::case::{Pairs, field};
use crate::page::{Frame, WebCaller, error_page, error_text, html, see_other};
use samverka_app::AppState;
use samverka_app::error::{AppError, AppResult};
use samverka_app::extract::ApiPath;

fn invalid(field: &str, sv: &str, en: &str) -> AppError {
    AppError::invalid(field, "invalid_form", sv, en)
}

#[derive(Template)]
#[template(path = "unit.html")]
pub struct UnitPage {
    pub frame: Frame,
    pub id: String,
    pub name: String,
    pub organisation: String,
    pub kind: String,
    pub phone: String,
    pub mailbox: String,
    pub hours: String,
    pub cover: String,
    pub backup: String,
    pub confirmed: String,
    pub stale: bool,
    /// Named contacts, padded with empty rows for the form when the caller keeps the entry.
    pub contacts: Vec<Contact>,
    pub can_maintain: bool,
    /// The rule in words, or empty.
    pub rule: Vec<String>,
    pub backup_options: Vec<(String, String)>,
    pub leader_options: Vec<(String, String)>,
    pub form: Pairs,
}

impl UnitPage {
    pub fn value(&self, name: &str) -> String {
        field(&self.form, name).to_string()
    }
}

async fn unit_page(st: &AppState, w: WebCaller, id: Uuid, form: Pairs, error: Option<AppError>) -> Response {
    let t = w.frame.t;
    let caller = &w.caller;
    let r: AppResult<Response> = async {
        let units = st.store.units().await?;
        let Some(u) = units.iter().find(|u| u.id == id) else { return Err(AppError::not_found("Enheten")) };
        let orgs = st.store.organisations().await?;
        let contacts = st.store.unit_contacts(id).await?;
        let confirmed = st.store.contacts_confirmed_at(id).await?;
        let rule = st.store.escalation_rule(id).await?;
        let now = st.clock.now();
        let name_of = |x: Uuid| units.iter().find(|u| u.id == x).map(|u| u.name.clone()).unwrap_or_default();
        let can_maintain = samverka_app::units::maintains(caller, u);
        let mut frame = w.frame;
        frame.title = u.name.clone();
        let status = error.as_ref().map(|e| e.status).unwrap_or(StatusCode::OK);
        frame.error = error.as_ref().map(|e| error_text(t, e));
        let mut rows = contacts.clone();
        if can_maintain {
            while rows.len() < (contacts.len() + 2).min(MAX_CONTACTS) {
                rows.push(Contact {
                    name: String::new(),
                    function: String::new(),
                    phone: String::new(),
                    email: String::new(),
                });
            }
        }
        let rule_text = match &rule {
            Some(r) => {
                let mut v = vec![t.fill(
                    "unit.rule_backup",
                    &[("wait", &t.wait(r.backup_after_minutes)), ("unit", &name_of(r.backup_unit))],
                )];
                if let (Some(m), Some(l)) = (r.leader_after_minutes, r.leader_unit) {
                    v.push(t.fill("unit.rule_leader", &[("wait", &t.wait(m)), ("unit", &name_of(l))]));
                }
                v
            }
            None => vec![],
        };
        let mut backup_options: Vec<(String, String)> = units
            .iter()
            .filter(|x| x.organisation_id == u.organisation_id && x.id != u.id)
            .map(|x| (x.id.to_string(), x.name.clone()))
            .collect();
        backup_options.sort_by(|a, b| a.1.cmp(&b.1));
        let mut leader_options: Vec<(String, String)> =
            units.iter().filter(|x| x.id != u.id).map(|x| (x.id.to_string(), x.name.clone())).collect();
        leader_options.sort_by(|a, b| a.1.cmp(&b.1));
        let mut form = form;
        if form.is_empty()
            && let Some(r) = &rule
        {
            form = vec![
                ("backup_unit".into(), r.backup_unit.to_string()),
                ("backup_after_hours".into(), format!("{}", r.backup_after_minutes as f64 / 60.0)),
                ("leader_unit".into(), r.leader_unit.map(|l| l.to_string()).unwrap_or_default()),
                (
                    "leader_after_hours".into(),
                    r.leader_after_minutes.map(|m| format!("{}", m as f64 / 60.0)).unwrap_or_default(),
                ),
            ];
        }
        let page = UnitPage {
            id: id.to_string(),
            name: u.name.clone(),
            organisation: orgs
                .iter()
                .find(|(o, _)| o.id == u.organisation_id)
                .map(|(o, _)| o.name.clone())
                .unwrap_or_default(),
            kind: t.get(&format!("unit_kind.{}", crate::case::serde_key(&u.kind))).to_string(),
            phone: u.address.phone.clone().unwrap_or_default(),
            mailbox: u.address.functional_mailbox.clone().unwrap_or_default(),
            hours: u.address.opening_hours.clone().unwrap_or_default(),
            cover: u.address.evening_weekend_cover.clone().unwrap_or_default(),
            backup: u.address.backup_unit.map(name_of).unwrap_or_default(),
            confirmed: confirmed.map(|c| t.date(&calendar::local_date(c))).unwrap_or_default(),
            stale: is_stale(confirmed, now),
            contacts: rows,
            can_maintain,
            rule: rule_text,
            backup_options: if can_maintain { backup_options } else { vec![] },
            leader_options: if can_maintain { leader_options } else { vec![] },
            form,
            frame,
        };
        Ok(html(status, &page))
    }
    .await;
    r.unwrap_or_else(|e| error_page(t, e.status, error_text(t, &e)))
}

pub async fn page(State(st): State<AppState>, w: WebCaller, ApiPath(id): ApiPath<Uuid>) -> Response {
    unit_page(&st, w, id, vec![], None).await
}

async fn after(st: &AppState, w: WebCaller, id: Uuid, r: AppResult<()>, f: Pairs, anchor: &str) -> Response {
    match r {
        Ok(()) => see_other(&format!("/enheter/{id}{anchor}")),
        Err(e) => unit_page(st, w, id, f, Some(e)).await,
    }
}

pub async fn contacts(
    State(st): State<AppState>,
    w: WebCaller,
    ApiPath(id): ApiPath<Uuid>,
    Form(f): Form<Pairs>,
) -> Response {
    // The form has MAX_CONTACTS rows of fields name_0, phone_0 …; empty rows are left out.
    let mut rows = vec![];
    let mut list = vec![];
    for i in 0..MAX_CONTACTS {
        let get = |k: &str| field(&f, &format!("{k}_{i}")).trim().to_string();
        let c = Contact { name: get("name"), function: get("function"), phone: get("phone"), email: get("email") };
        if [&c.name, &c.function, &c.phone, &c.email].iter().all(|v| v.is_empty()) {
            continue;
        }
        rows.push(i);
        list.push(c);
    }
    let r = samverka_app::units::set_contacts(&st, &w.caller, id, list).await.map_err(|mut e| {
        // `contacts[2].phone` is the third filled-in row's phone field on the page.
        e.field = e.field.map(|f| form_field(&f, &rows));
        e
    });
    let keep = if r.is_err() { f } else { vec![] };
    after(&st, w, id, r, keep, "#kontakter").await
}

/// The page's field for the application's `contacts[n].field`: the n:th filled-in row.
fn form_field(field: &str, rows: &[usize]) -> String {
    let parsed = field.strip_prefix("contacts[").and_then(|rest| rest.split_once("].")).and_then(|(n, name)| {
        let row = rows.get(n.parse::<usize>().ok()?)?;
        Some(format!("{name}_{row}"))
    });
    parsed.unwrap_or_else(|| field.to_string())
}

pub async fn confirm(State(st): State<AppState>, w: WebCaller, ApiPath(id): ApiPath<Uuid>) -> Response {
    let r = samverka_app::units::confirm_contacts(&st, &w.caller, id).await;
    after(&st, w, id, r, vec![], "").await
}

fn minutes_of(f: &Pairs, name: &str) -> AppResult<Option<u32>> {
    let raw = field(f, name).trim().replace(',', ".");
    if raw.is_empty() {
        return Ok(None);
    }
    let hours: f64 = raw.parse().map_err(|_| {
        invalid(name, "Ange väntetiden i timmar, till exempel 4 eller 0,5.", "Enter the wait in hours.")
    })?;
    if !hours.is_finite() || hours <= 0.0 {
        return Err(invalid(name, "Ange en väntetid större än noll.", "Enter a wait above zero."));
    }
    Ok(Some((hours * 60.0).round().min(u32::MAX as f64) as u32))
}

pub async fn escalation_rule(
    State(st): State<AppState>,
    w: WebCaller,
    ApiPath(id): ApiPath<Uuid>,
    Form(f): Form<Pairs>,
) -> Response {
    let r: AppResult<()> = async {
        let uuid_of = |name: &str| -> AppResult<Option<Uuid>> {
            match field(&f, name).trim() {
                "" => Ok(None),
                v => v.parse().map(Some).map_err(|_| invalid(name, "Välj en enhet i listan.", "Choose a unit.")),
            }
        };
        let backup_unit = uuid_of("backup_unit")?
            .ok_or_else(|| invalid("backup_unit", "Välj ersättande enhet.", "Choose the backup unit."))?;
        let backup_after_minutes = minutes_of(&f, "backup_after_hours")?.ok_or_else(|| {
            invalid("backup_after_hours", "Ange efter hur många timmar.", "Enter after how many hours.")
        })?;
        let rule = EscalationRule {
            unit: id,
            backup_after_minutes,
            backup_unit,
            leader_after_minutes: minutes_of(&f, "leader_after_hours")?,
            leader_unit: uuid_of("leader_unit")?,
        };
        samverka_app::units::set_escalation_rule(&st, &w.caller, &rule).await
    }
    .await;
    let keep = if r.is_err() { f } else { vec![] };
    after(&st, w, id, r, keep, "#eskalering").await
}

// ---- escalations to one's unit -------------------------------------------------------------

pub struct EscalationRow {
    pub case_id: String,
    /// The unit received the message (and may open the case), or was only told.
    pub received: bool,
    pub text: String,
    pub from_unit: String,
    pub from_phone: String,
    pub escalated: String,
    pub answered: String,
}

#[derive(Template)]
#[template(path = "escalations.html")]
pub struct EscalationsPage {
    pub frame: Frame,
    pub rows: Vec<EscalationRow>,
}

pub async fn escalations(State(st): State<AppState>, w: WebCaller) -> Response {
    let t = w.frame.t;
    let caller = &w.caller;
    let r: AppResult<Response> = async {
        let list = samverka_app::units::escalations_to_my_unit(&st, caller).await?;
        let units = st.store.units().await?;
        let name_of = |x: Uuid| units.iter().find(|u| u.id == x).map(|u| u.name.clone()).unwrap_or_default();
        let phone_of =
            |x: Uuid| units.iter().find(|u| u.id == x).and_then(|u| u.address.phone.clone()).unwrap_or_default();
        let mut frame = w.frame;
        frame.title = t.get("escalation.title").to_string();
        let rows = list
            .iter()
            .map(|e| EscalationRow {
                case_id: e.case_id.to_string(),
                received: e.level == Level::Backup,
                text: t.fill(
                    "escalation.row",
                    &[
                        ("kind", t.get(&format!("message.{}", e.message_kind))),
                        ("sender", &name_of(e.sender_unit)),
                        ("sent", &t.datetime(&e.sent_at)),
                        ("wait", &t.wait(e.after_minutes)),
                    ],
                ),
                from_unit: name_of(e.from_unit),
                from_phone: phone_of(e.from_unit),
                escalated: t.datetime(&e.escalated_at),
                answered: e.acknowledged_at.map(|a| t.datetime(&a)).unwrap_or_default(),
            })
            .collect();
        Ok(html(StatusCode::OK, &EscalationsPage { frame, rows }))
    }
    .await;
    r.unwrap_or_else(|e| error_page(t, e.status, error_text(t, &e)))
}
