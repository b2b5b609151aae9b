//! Pages about Samverka itself: the glossary, the accessibility statement, the language choice.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;

use crate::page::{Frame, LANG_COOKIE, html, lang_of, see_other};
use samverka_app::AppState;
use samverka_app::texts::{Lang, texts};

pub struct Term {
    pub sv: String,
    pub en: String,
    pub meaning: String,
}

/// The glossary's table rows (`docs/glossary.md`, the one place the terms are explained).
fn glossary_terms() -> &'static [Term] {
    static TERMS: std::sync::OnceLock<Vec<Term>> = std::sync::OnceLock::new();
    TERMS.get_or_init(|| {
        include_str!("../../../docs/glossary.md")
            .lines()
            .filter(|l| l.starts_with('|'))
            .skip(2) // header and separator
            .filter_map(|l| {
                let cells: Vec<&str> = l.trim_matches('|').split('|').map(str::trim).collect();
                match cells.as_slice() {
                    [sv, en, meaning_sv, meaning_en] => Some(Term {
                        sv: sv.to_string(),
                        en: en.to_string(),
                        meaning: format!("{meaning_sv}\u{1f}{meaning_en}"),
                    }),
                    _ => None,
                }
            })
            .collect()
    })
}

pub struct TermRow {
    pub term: String,
    pub other: String,
    pub meaning: String,
}

#[derive(Template)]
#[template(path = "glossary.html")]
pub struct GlossaryPage {
    pub frame: Frame,
    pub terms: Vec<TermRow>,
}

/// Pages anyone may read, logged in or not.
fn public_frame(st: &AppState, headers: &HeaderMap, title_key: &str) -> Frame {
    let _ = st;
    let t = texts(lang_of(headers));
    Frame::bare(t, t.get(title_key))
}

pub async fn glossary(State(st): State<AppState>, headers: HeaderMap) -> Response {
    let frame = public_frame(&st, &headers, "glossary.title");
    let sv = frame.t.lang == "sv";
    let terms = glossary_terms()
        .iter()
        .map(|x| {
            let (meaning_sv, meaning_en) = x.meaning.split_once('\u{1f}').unwrap_or((&x.meaning, ""));
            TermRow {
                term: x.sv.clone(),
                other: x.en.clone(),
                meaning: if sv { meaning_sv.to_string() } else { meaning_en.to_string() },
            }
        })
        .collect();
    html(StatusCode::OK, &GlossaryPage { frame, terms })
}

#[derive(Template)]
#[template(path = "accessibility.html")]
pub struct AccessibilityPage {
    pub frame: Frame,
}

pub async fn accessibility(State(st): State<AppState>, headers: HeaderMap) -> Response {
    html(StatusCode::OK, &AccessibilityPage { frame: public_frame(&st, &headers, "a11y.title") })
}

/// Sets the language and goes back to the page the user came from (on this site only).
pub async fn language(axum::extract::Path(lang): axum::extract::Path<String>, headers: HeaderMap) -> Response {
    let code = Lang::parse(&lang).unwrap_or(Lang::SV).code();
    // Back only to a page of this site: the referrer's host must be ours, and the path plain.
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let back = headers
        .get(header::REFERER)
        .and_then(|r| r.to_str().ok())
        .and_then(|r| r.parse::<axum::http::Uri>().ok())
        .filter(|u| u.authority().map(|a| a.as_str()) == host)
        .map(|u| u.path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| "/".into()))
        .filter(|p| p.starts_with('/') && !p.starts_with("//") && !p.contains('\\') && !p.starts_with("/sprak/"))
        .unwrap_or_else(|| "/".into());
    let cookie =
        HeaderValue::from_str(&format!("{LANG_COOKIE}={code}; Path=/; Secure; SameSite=Lax; Max-Age=31536000"))
            .expect("ASCII cookie");
    crate::page::with_cookie(see_other(&back), cookie)
}
