//! The life story (levnadsberättelse) of a case's person, as a unit in the care reads it while
//! the person shares it, and the form to write it down with the person.

use askama::Template;
use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::Response;
use samverka_app::AppState;
use samverka_app::extract::ApiPath;
use samverka_app::life_story::{WrittenWithPerson, for_case, write_with_person};
use samverka_app::views::PatientView;
use samverka_domain::life_story::Part;
use uuid::Uuid;

use crate::case::{Pairs, checked, field};
use crate::page::{Frame, WebCaller, error_page, error_text, html, see_other};

/// One part of the story: its heading, its text, and the form field's name.
pub struct PartRow {
    pub name: &'static str,
    pub heading: String,
    pub text: String,
}

#[derive(Template)]
#[template(path = "life_story.html")]
pub struct LifeStoryPage {
    pub frame: Frame,
    pub id: String,
    pub patient: PatientView,
    /// Shared with this unit: the latest version's parts (only those written).
    pub shown: Vec<PartRow>,
    /// "Version 3, skriven av … den …".
    pub written: String,
    /// Earlier versions: who and when (their text is not shown).
    pub history: Vec<String>,
    /// Why the story is not shown, when it is not.
    pub withheld: String,
    pub shared: bool,
    pub may_write: bool,
    /// The form: every part, filled in with the latest shared version or what was typed.
    pub form: Vec<PartRow>,
    pub version: u32,
    pub person_agrees: bool,
}

#[derive(serde::Deserialize)]
pub struct Saved {
    klart: Option<String>,
}

pub async fn page(
    State(st): State<AppState>,
    mut w: WebCaller,
    ApiPath(id): ApiPath<Uuid>,
    axum::extract::Query(q): axum::extract::Query<Saved>,
) -> Response {
    if q.klart.is_some() {
        w.frame.notice = Some(w.frame.t.get("life_story.saved").to_string());
    }
    show(&st, w, id, None).await
}

async fn show(st: &AppState, w: WebCaller, id: Uuid, refused: Option<(StatusCode, String, &Pairs)>) -> Response {
    let t = w.frame.t;
    let seen = match for_case(st, &w.caller, id).await {
        Ok(s) => s,
        Err(e) => return error_page(t, e.status, error_text(t, &e)),
    };
    let latest = seen.latest.as_ref();
    let row = |p: Part, text: String| PartRow {
        name: p.as_str(),
        heading: t.get(&format!("life_story.part.{}", p.as_str())).to_string(),
        text,
    };
    let shown = latest
        .map(|v| {
            Part::ALL
                .into_iter()
                .filter(|p| !v.story.get(*p).is_empty())
                .map(|p| row(p, v.story.get(p).into()))
                .collect()
        })
        .unwrap_or_default();
    let by = |a: &samverka_domain::life_story::Author| match a {
        samverka_domain::life_story::Author::Person { name } => t.fill("life_story.by_person", &[("name", name)]),
        samverka_domain::life_story::Author::Staff { name, unit_name, .. } => {
            t.fill("life_story.by_staff", &[("name", name), ("unit", unit_name)])
        }
    };
    let describe = |version: u32, at: &jiff::Timestamp, author: &samverka_domain::life_story::Author| {
        t.fill(
            "life_story.version_line",
            &[("version", &version.to_string()), ("by", &by(author)), ("when", &t.datetime(at))],
        )
    };
    let form = Part::ALL
        .into_iter()
        .map(|p| {
            let text = match &refused {
                Some((_, _, f)) => field(f, p.as_str()).to_string(),
                None => latest.map(|v| v.story.get(p).to_string()).unwrap_or_default(),
            };
            row(p, text)
        })
        .collect();
    let mut page = LifeStoryPage {
        id: id.to_string(),
        patient: PatientView::of(&seen.patient),
        shown,
        written: latest.map(|v| describe(v.version, &v.written_at, &v.written_by)).unwrap_or_default(),
        history: seen.history.iter().skip(1).map(|(n, at, by)| describe(*n, at, by)).collect(),
        withheld: seen
            .withheld
            .as_ref()
            .map(|p| if t.lang == "en" { &p.message_en } else { &p.message_sv })
            .cloned()
            .unwrap_or_default(),
        shared: seen.withheld.is_none(),
        may_write: seen.may_write,
        form,
        version: seen.version,
        person_agrees: refused.as_ref().is_some_and(|(_, _, f)| checked(f, "person_agrees")),
        frame: w.frame,
    };
    page.frame.title = format!("{} – {}", t.get("life_story.title"), seen.patient.full_name());
    let status = match refused {
        Some((status, text, _)) => {
            page.frame.error = Some(text);
            status
        }
        None => StatusCode::OK,
    };
    html(status, &page)
}

pub async fn save(
    State(st): State<AppState>,
    w: WebCaller,
    ApiPath(id): ApiPath<Uuid>,
    Form(f): Form<Pairs>,
) -> Response {
    let written = WrittenWithPerson {
        parts: Part::ALL.into_iter().map(|p| (p.as_str().to_string(), field(&f, p.as_str()).to_string())).collect(),
        seen_version: field(&f, "seen_version").parse().unwrap_or(0),
        person_agrees: checked(&f, "person_agrees"),
    };
    match write_with_person(&st, &w.caller, id, written).await {
        Ok(_) => see_other(&format!("/arenden/{id}/levnadsberattelse?klart=1")),
        Err(e) => {
            let text = error_text(w.frame.t, &e);
            show(&st, w, id, Some((e.status, text, &f))).await
        }
    }
}
