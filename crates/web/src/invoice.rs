//! The invoice basis page: a municipality's month as the cases say now, its approved versions,
//! approval by the region, and downloads as CSV and Excel.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use samverka_domain::access::{Permission, permits};
use samverka_domain::calendar::local_date;
use samverka_domain::liability::LiabilityBasis;
use samverka_domain::org::{CareType, OrganisationKind};
use serde::Deserialize;

use crate::page::{Frame, WebCaller, error_text, html};
use samverka_app::AppState;
use samverka_app::liability::{ApproveRequest, BasisPerson, BasisQuery, VersionsQuery};
use samverka_app::texts::Texts;

#[derive(Deserialize, Default)]
pub struct InvoiceForm {
    pub kommun: Option<String>,
    pub manad: Option<String>,
}

#[derive(Deserialize)]
pub struct ApproveForm {
    pub kommun: String,
    pub manad: String,
    #[serde(default)]
    pub note: String,
}

pub struct KommunOption {
    pub code: String,
    pub name: String,
    pub selected: bool,
}

pub struct Line {
    pub case_id: String,
    /// Who the line is about (never named for a protected identity).
    pub person: String,
    pub identifier: String,
    pub protected: bool,
    pub ward: String,
    pub admitted: String,
    pub care: String,
    pub discharged: String,
    pub ready_days: i64,
    pub liable_days: usize,
    pub dates: String,
    pub amount: String,
    pub excluded: String,
}

pub struct Group {
    pub care: String,
    pub episodes: i64,
    pub liable_days: String,
    pub amount: String,
    pub explanation: String,
}

pub struct Version {
    pub version: u32,
    pub approved: String,
    pub by: String,
    pub note: String,
    pub amount: String,
}

pub struct Shown {
    pub lines: Vec<Line>,
    pub groups: Vec<Group>,
    pub total: String,
    pub versions: Vec<Version>,
    pub export_query: String,
}

#[derive(Template)]
#[template(path = "invoice.html")]
pub struct InvoicePage {
    pub frame: Frame,
    pub kommuner: Vec<KommunOption>,
    pub kommun: String,
    pub month: String,
    pub may_approve: bool,
    pub shown: Option<Shown>,
}

/// Kronor the Swedish way, from öre: "52 500,00 kr".
fn kronor(ore: i64) -> String {
    let whole = crate::charts::format_number((ore.abs() / 100) as f64);
    let sign = if ore < 0 { "-" } else { "" };
    format!("{sign}{whole},{:02}\u{a0}kr", ore.abs() % 100)
}

fn care(t: &Texts, c: CareType) -> String {
    t.get(if c == CareType::Psychiatric { "care.psychiatric" } else { "care.somatic" }).to_string()
}

fn shown(
    t: &Texts,
    basis: &LiabilityBasis,
    versions: Vec<samverka_store::ApprovedBasis>,
    people: &[BasisPerson],
    query: String,
) -> Shown {
    Shown {
        lines: basis
            .lines
            .iter()
            .map(|l| {
                let who = people.iter().find(|p| p.case_id == l.case_id);
                Line {
                    case_id: l.case_id.to_string(),
                    person: who.map(|p| p.name.clone()).unwrap_or_default(),
                    identifier: who.map(|p| p.identifier.clone()).unwrap_or_default(),
                    protected: who.is_some_and(|p| p.protected),
                    ward: who.map(|p| p.ward.clone()).unwrap_or_default(),
                    admitted: who.map(|p| p.admitted_on.to_string()).unwrap_or_default(),
                    care: care(t, l.care_type),
                    discharged: l.discharged_on.map(|d| d.to_string()).unwrap_or_else(|| "–".into()),
                    ready_days: l.ready_days,
                    liable_days: l.liable_dates.len(),
                    dates: l.liable_dates.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", "),
                    amount: kronor(l.amount_ore),
                    excluded: l.excluded.map(|x| x.label_sv().to_string()).unwrap_or_default(),
                }
            })
            .collect(),
        groups: basis
            .groups
            .iter()
            .map(|g| Group {
                care: care(t, g.care_type),
                episodes: g.episodes,
                liable_days: g.liable_days.display_sv(),
                amount: kronor(g.amount_ore),
                explanation: g.explanation_sv.clone(),
            })
            .collect(),
        total: kronor(basis.total_amount_ore),
        versions: versions
            .into_iter()
            .map(|v| Version {
                version: v.version,
                approved: t.datetime(&v.approved_at),
                by: format!("{}, {}", v.approved_by, v.approved_unit),
                note: v.note,
                amount: kronor(v.basis.total_amount_ore),
            })
            .collect(),
        export_query: query,
    }
}

/// The municipalities the caller's organisation may see the basis of.
async fn kommuner(st: &AppState, w: &WebCaller, chosen: &str) -> Vec<KommunOption> {
    let orgs = st.store.organisations().await.unwrap_or_default();
    let own = orgs.iter().find(|(o, _)| o.id == w.caller.actor.unit.organisation_id).map(|(o, _)| o.clone());
    let mut list: Vec<KommunOption> = orgs
        .iter()
        .filter_map(|(o, _)| {
            let k = o.kommunkod.as_ref()?;
            let visible = match own.as_ref().map(|x| (x.kind, x.region_code.as_deref(), x.kommunkod.as_ref())) {
                Some((OrganisationKind::Kommun, _, Some(mine))) => mine == k,
                Some((OrganisationKind::Region, Some(lan), _)) => k.lan() == lan,
                _ => false,
            };
            visible.then(|| KommunOption { code: k.to_string(), name: o.name.clone(), selected: k.as_str() == chosen })
        })
        .collect();
    list.sort_by(|a, b| a.name.cmp(&b.name));
    list
}

async fn render(st: AppState, w: WebCaller, kommun: Option<String>, month: Option<String>) -> Response {
    let options = kommuner(&st, &w, kommun.as_deref().unwrap_or("")).await;
    let WebCaller { caller, mut frame, .. } = w;
    let t = frame.t;
    frame.title = t.get("invoice.title").to_string();
    let today = local_date(st.clock.now());
    let last_month = today.first_of_month().yesterday().unwrap_or(today);
    let kommun = kommun.or_else(|| options.first().map(|o| o.code.clone())).unwrap_or_default();
    let month = month.filter(|m| !m.trim().is_empty()).unwrap_or_else(|| last_month.strftime("%Y-%m").to_string());
    let may_approve = permits(caller.actor.role, Permission::ApproveLiability)
        && st
            .store
            .organisation(caller.actor.unit.organisation_id)
            .await
            .ok()
            .flatten()
            .is_some_and(|(o, _)| o.kind == OrganisationKind::Region);
    let mut page = InvoicePage {
        frame,
        kommuner: options.into_iter().map(|o| KommunOption { selected: o.code == kommun, ..o }).collect(),
        kommun: kommun.clone(),
        month: month.clone(),
        may_approve,
        shown: None,
    };
    let q = BasisQuery { kommun: kommun.clone(), month: month.clone(), agreement: None };
    let basis = samverka_app::liability::municipal(&st, &caller, q).await;
    let versions =
        samverka_app::liability::versions(&st, &caller, VersionsQuery { kommun: kommun.clone(), month: month.clone() })
            .await;
    let people = match &basis {
        Ok(b) => samverka_app::liability::people(&st, &caller, b, "liability.basis").await,
        Err(_) => Ok(vec![]),
    };
    match (basis, versions, people) {
        (Ok(b), Ok(v), Ok(p)) => {
            let query = serde_urlencoded::to_string([("kommun", kommun.as_str()), ("month", month.as_str())])
                .unwrap_or_default();
            page.shown = Some(shown(t, &b, v, &p, query));
            html(StatusCode::OK, &page)
        }
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
            let status = e.status;
            page.frame.error = Some(error_text(t, &e));
            html(status, &page)
        }
    }
}

pub async fn page(State(st): State<AppState>, w: WebCaller, Query(f): Query<InvoiceForm>) -> Response {
    render(st, w, f.kommun, f.manad).await
}

pub async fn approve(State(st): State<AppState>, w: WebCaller, Form(f): Form<ApproveForm>) -> Response {
    let req = ApproveRequest { kommun: f.kommun.clone(), month: f.manad.clone(), agreement: None, note: f.note };
    let result = samverka_app::liability::approve(&st, &w.caller, req).await;
    let t = w.frame.t;
    let mut w = w;
    match result {
        Ok(a) => {
            w.frame.notice = Some(t.get("invoice.approved").replace("{version}", &a.version.to_string()));
        }
        Err(e) => w.frame.error = Some(error_text(t, &e)),
    }
    render(st, w, Some(f.kommun), Some(f.manad)).await
}
