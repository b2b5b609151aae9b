//! The directory: who does what, how to reach each unit.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use crate::page::{Frame, WebCaller, error_page, error_text, html};
use samverka_app::AppState;

pub struct DirectoryUnit {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub hsa_id: String,
    pub phone: String,
    pub mailbox: String,
    pub hours: String,
    pub cover: String,
    pub backup: String,
    /// When the unit last confirmed its entry ("" when never), and whether that is too long ago.
    pub confirmed: String,
    pub stale: bool,
}

pub struct DirectoryOrg {
    pub name: String,
    pub units: Vec<DirectoryUnit>,
}

#[derive(Template)]
#[template(path = "directory.html")]
pub struct DirectoryPage {
    pub frame: Frame,
    pub query: String,
    pub organisations: Vec<DirectoryOrg>,
}

#[derive(Deserialize)]
pub struct DirectoryForm {
    q: Option<String>,
}

pub async fn directory(State(st): State<AppState>, w: WebCaller, Query(f): Query<DirectoryForm>) -> Response {
    let WebCaller { mut frame, .. } = w;
    let t = frame.t;
    frame.title = t.get("directory.title").to_string();
    let (orgs, units, confirmations) =
        match tokio::try_join!(st.store.organisations(), st.store.units(), st.store.contacts_confirmations()) {
            Ok(x) => x,
            Err(e) => {
                let e = samverka_app::error::AppError::from(e);
                return error_page(t, e.status, error_text(t, &e));
            }
        };
    let now = st.clock.now();
    let confirmed_of = |id: uuid::Uuid| confirmations.iter().find(|c| c.0 == id).and_then(|c| c.1);
    let query = f.q.unwrap_or_default().trim().to_string();
    let needle = query.to_lowercase();
    let name_of = |id: uuid::Uuid| units.iter().find(|u| u.id == id).map(|u| u.name.clone()).unwrap_or_default();
    let mut organisations: Vec<DirectoryOrg> = orgs
        .iter()
        .map(|(o, _)| DirectoryOrg {
            name: o.name.clone(),
            units: units
                .iter()
                .filter(|u| u.organisation_id == o.id)
                .filter(|u| {
                    needle.is_empty()
                        || u.name.to_lowercase().contains(&needle)
                        || o.name.to_lowercase().contains(&needle)
                })
                .map(|u| DirectoryUnit {
                    id: u.id.to_string(),
                    name: u.name.clone(),
                    kind: t.get(&format!("unit_kind.{}", crate::case::serde_key(&u.kind))).to_string(),
                    hsa_id: u.hsa_id.as_str().to_string(),
                    phone: u.address.phone.clone().unwrap_or_default(),
                    mailbox: u.address.functional_mailbox.clone().unwrap_or_default(),
                    hours: u.address.opening_hours.clone().unwrap_or_default(),
                    cover: u.address.evening_weekend_cover.clone().unwrap_or_default(),
                    backup: u.address.backup_unit.map(name_of).unwrap_or_default(),
                    confirmed: confirmed_of(u.id)
                        .map(|c| t.date(&samverka_domain::calendar::local_date(c)))
                        .unwrap_or_default(),
                    stale: samverka_domain::directory::is_stale(confirmed_of(u.id), now),
                })
                .collect(),
        })
        .filter(|o| !o.units.is_empty())
        .collect();
    organisations.sort_by(|a, b| a.name.cmp(&b.name));
    html(StatusCode::OK, &DirectoryPage { frame, query, organisations })
}
