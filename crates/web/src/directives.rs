//! The information channel on the web: the directives for one's unit (unread first, read
//! confirmed with one button), the history of superseded, withdrawn and expired ones, and for
//! registrars and validators the register form, what waits for validation and who has read
//! what.

use askama::Template;
use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::Response;
use jiff::civil::Date;
use samverka_domain::access::{Permission, permits};
use samverka_domain::calendar;
use samverka_domain::directive::{Audience, DirectiveSpec, DirectiveStatus, Source, conflicts};
use samverka_domain::org::UnitKind;
use samverka_store::DirectiveRecord;
use uuid::Uuid;

use crate::case::{Pairs, field, parse_date, serde_key};
use crate::page::{Frame, WebCaller, error_page, error_text, html, see_other};
use samverka_app::AppState;
use samverka_app::directives::{DirectiveView, directive_for, in_force, is_for, successor};
use samverka_app::error::{AppError, AppResult};
use samverka_app::extract::ApiPath;
use samverka_app::forums::log_object_read;

fn invalid(field: &str, sv: &str, en: &str) -> AppError {
    AppError::invalid(field, "invalid_form", sv, en)
}

/// A directive in a list.
pub struct Row {
    pub id: String,
    pub title: String,
    pub topic: String,
    pub source: String,
    pub validity: String,
    pub status: String,
    pub status_key: String,
    pub read: String,
    /// Read figures for the owners: "12 av 30".
    pub figures: String,
    pub superseded_by: String,
}

fn validity(frame: &Frame, d: &DirectiveSpec) -> String {
    let t = frame.t;
    match d.valid_until {
        Some(u) => format!("{} – {}", t.date(&d.valid_from), t.date(&u)),
        None => format!("{} {}", t.get("directive.from"), t.date(&d.valid_from)),
    }
}

fn status_text(frame: &Frame, d: &DirectiveRecord, published: &[DirectiveRecord], today: Date) -> (String, String) {
    let t = frame.t;
    let key = if d.status == DirectiveStatus::Published && successor(published, d.id).is_some() {
        "superseded".to_string()
    } else if d.status == DirectiveStatus::Published && d.spec.valid_until.is_some_and(|u| u < today) {
        "expired".to_string()
    } else if d.status == DirectiveStatus::Published && d.spec.valid_from > today {
        "coming".to_string()
    } else {
        serde_key(&d.status)
    };
    (t.get(&format!("directive.status_{key}")).to_string(), key)
}

fn row(
    frame: &Frame,
    d: &DirectiveRecord,
    published: &[DirectiveRecord],
    today: Date,
    read: String,
    figures: String,
) -> Row {
    let t = frame.t;
    let (status, status_key) = status_text(frame, d, published, today);
    Row {
        id: d.id.to_string(),
        title: d.spec.title.clone(),
        topic: d.spec.topic.clone(),
        source: format!(
            "{} ({})",
            d.spec.source_name,
            t.get(&format!("directive.source_{}", serde_key(&d.spec.source)))
        ),
        validity: validity(frame, &d.spec),
        status,
        status_key,
        read,
        figures,
        superseded_by: successor(published, d.id).map(|s| s.spec.title.clone()).unwrap_or_default(),
    }
}

#[derive(Template)]
#[template(path = "directives.html")]
pub struct ListPage {
    pub frame: Frame,
    /// For the caller's unit, in force: unread first.
    pub current: Vec<Row>,
    /// For the caller's unit, no longer in force (superseded, withdrawn, expired).
    pub history: Vec<Row>,
    pub can_register: bool,
    pub can_validate: bool,
    pub pending: Vec<Row>,
    pub own: Vec<Row>,
    pub sources: Vec<(String, String)>,
    pub organisations: Vec<(String, String)>,
    pub kinds: Vec<(String, String)>,
    pub supersedable: Vec<(String, String)>,
    pub form: Pairs,
}

impl ListPage {
    pub fn value(&self, name: &str) -> String {
        field(&self.form, name).to_string()
    }
    pub fn checked(&self, name: &str, value: &str) -> bool {
        self.form.iter().any(|(k, v)| k == name && v == value)
    }
}

async fn list_page(st: &AppState, w: WebCaller, form: Pairs, error: Option<AppError>) -> Response {
    let t = w.frame.t;
    let caller = &w.caller;
    let r: AppResult<Response> = async {
        samverka_app::audit::require(st, caller, Permission::TakePartInForums, "directive.list", None, None).await?;
        let published = st.store.published_directives().await?;
        let reads = st.store.directive_reads_of(caller.actor.user.id).await?;
        let today = calendar::local_date(st.clock.now());
        let mut frame = w.frame;
        frame.title = t.get("directive.title").to_string();
        let status = error.as_ref().map(|e| e.status).unwrap_or(StatusCode::OK);
        frame.error = error.as_ref().map(|e| error_text(t, e));
        let read_text = |id: Uuid| match reads.iter().find(|(r, _)| *r == id) {
            Some((_, at)) => format!("{} {}", t.get("directive.read_at"), t.datetime(at)),
            None => String::new(),
        };
        let mine: Vec<&DirectiveRecord> = published.iter().filter(|d| is_for(caller, d)).collect();
        let in_force = |d: &DirectiveRecord| {
            d.status == DirectiveStatus::Published
                && d.spec.valid_until.is_none_or(|u| u >= today)
                && successor(&published, d.id).is_none()
        };
        let mut current: Vec<(bool, Row)> = mine
            .iter()
            .filter(|d| in_force(d))
            .map(|d| (!read_text(d.id).is_empty(), row(&frame, d, &published, today, read_text(d.id), String::new())))
            .collect();
        current.sort_by_key(|(read, _)| *read);
        let history = mine
            .iter()
            .filter(|d| !in_force(d))
            .map(|d| row(&frame, d, &published, today, read_text(d.id), String::new()))
            .collect();
        let can_register = permits(caller.actor.role, Permission::RegisterDirectives);
        let can_validate = permits(caller.actor.role, Permission::ValidateDirectives);
        let (mut pending, mut own) = (vec![], vec![]);
        if can_register || can_validate {
            for d in st.store.directives_of_organisation(caller.actor.unit.organisation_id).await? {
                let figures = if matches!(d.status, DirectiveStatus::Published | DirectiveStatus::Withdrawn) {
                    let readers = st.store.directive_readers(d.id).await?;
                    let n = readers.iter().filter(|r| r.read_at.is_some()).count();
                    t.fill("directive.figures", &[("read", &n.to_string()), ("sent", &readers.len().to_string())])
                } else {
                    String::new()
                };
                let r = row(&frame, &d, &published, today, String::new(), figures);
                if d.status == DirectiveStatus::Pending {
                    pending.push(r);
                } else {
                    own.push(r);
                }
            }
        }
        let orgs = st.store.organisations().await?;
        let mut organisations: Vec<(String, String)> =
            orgs.iter().map(|(o, _)| (o.id.to_string(), o.name.clone())).collect();
        organisations.sort_by(|a, b| a.1.cmp(&b.1));
        let page = ListPage {
            current: current.into_iter().map(|(_, r)| r).collect(),
            history,
            can_register,
            can_validate,
            pending,
            own,
            sources: Source::ALL
                .iter()
                .map(|s| (serde_key(s), t.get(&format!("directive.source_{}", serde_key(s))).to_string()))
                .collect(),
            organisations,
            kinds: UnitKind::ALL
                .iter()
                .map(|k| (serde_key(k), t.get(&format!("unit_kind.{}", serde_key(k))).to_string()))
                .collect(),
            supersedable: published
                .iter()
                .filter(|d| d.status == DirectiveStatus::Published && successor(&published, d.id).is_none())
                .map(|d| (d.id.to_string(), format!("{} – {} ({})", d.spec.topic, d.spec.title, d.spec.reference)))
                .collect(),
            form,
            frame,
        };
        log_object_read(st, caller, "directive.list", caller.actor.unit.id).await?;
        Ok(html(status, &page))
    }
    .await;
    r.unwrap_or_else(|e| error_page(t, e.status, error_text(t, &e)))
}

pub async fn list(State(st): State<AppState>, w: WebCaller) -> Response {
    list_page(&st, w, vec![], None).await
}

fn spec_of(f: &Pairs) -> AppResult<DirectiveSpec> {
    let source = Source::ALL
        .into_iter()
        .find(|s| serde_key(s) == field(f, "source"))
        .ok_or_else(|| invalid("source", "Välj vem som har utfärdat direktivet.", "Choose the issuer."))?;
    let uuids = |name: &str| -> AppResult<Vec<Uuid>> {
        f.iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.parse().map_err(|_| invalid(name, "Välj i listan.", "Choose from the list.")))
            .collect()
    };
    let unit_kinds = f
        .iter()
        .filter(|(k, _)| k == "unit_kind")
        .map(|(_, v)| {
            UnitKind::ALL
                .into_iter()
                .find(|k| serde_key(k) == *v)
                .ok_or_else(|| invalid("unit_kind", "Välj slag av enhet i listan.", "Choose from the list."))
        })
        .collect::<AppResult<Vec<_>>>()?;
    let until = field(f, "valid_until").trim();
    let spec = DirectiveSpec {
        topic: field(f, "topic").trim().to_string(),
        title: field(f, "title").trim().to_string(),
        source,
        source_name: field(f, "source_name").trim().to_string(),
        reference: field(f, "reference").trim().to_string(),
        body: field(f, "body").trim().to_string(),
        valid_from: parse_date(f, "valid_from")?,
        valid_until: if until.is_empty() { None } else { Some(parse_date(f, "valid_until")?) },
        audience: Audience { organisations: uuids("organisation")?, unit_kinds },
        supersedes: uuids("supersedes")?,
    };
    spec.validate()?;
    Ok(spec)
}

pub async fn register(State(st): State<AppState>, w: WebCaller, Form(f): Form<Pairs>) -> Response {
    let id = Uuid::now_v7();
    let r = match spec_of(&f) {
        Ok(spec) => samverka_app::directives::register(&st, &w.caller, id, &spec).await,
        Err(e) => Err(e),
    };
    match r {
        Ok(()) => see_other(&format!("/direktiv/{id}")),
        Err(e) => list_page(&st, w, f, Some(e)).await,
    }
}

// ---- one directive -------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "directive.html")]
pub struct DirectivePage {
    pub frame: Frame,
    pub id: String,
    pub row: Row,
    pub body: String,
    pub reference: String,
    pub audience: String,
    pub registered: String,
    pub decided: String,
    pub decision_note: String,
    /// What it replaces, and what replaced it: (id, title).
    pub supersedes: Vec<(String, String)>,
    pub superseded_by: Option<(String, String)>,
    /// Valid directives on the same topic for the same people: (id, title, confirmed by the validator).
    pub conflicts: Vec<(String, String, bool)>,
    pub owner: bool,
    pub can_confirm: bool,
    pub read_at: String,
    pub can_validate: bool,
    pub can_withdraw: bool,
    /// Per unit: name, read, sent; and who has not read.
    pub figures: Vec<(String, usize, usize)>,
    pub not_read: Vec<(String, String)>,
    pub form: Pairs,
}

impl DirectivePage {
    pub fn value(&self, name: &str) -> String {
        field(&self.form, name).to_string()
    }
}

async fn directive_page(st: &AppState, w: WebCaller, id: Uuid, form: Pairs, error: Option<AppError>) -> Response {
    let t = w.frame.t;
    let caller = &w.caller;
    let r: AppResult<Response> = async {
        let (d, view) = directive_for(st, caller, id, "directive.read").await?;
        let published = st.store.published_directives().await?;
        let units = st.store.units().await?;
        let orgs = st.store.organisations().await?;
        let now = st.clock.now();
        let today = calendar::local_date(now);
        let owner = view == DirectiveView::Owner;
        let mut frame = w.frame;
        frame.title = d.spec.title.clone();
        let status = error.as_ref().map(|e| e.status).unwrap_or(StatusCode::OK);
        frame.error = error.as_ref().map(|e| error_text(t, e));
        let readers = st.store.directive_readers(id).await?;
        let mine = readers.iter().find(|r| r.user_id == caller.actor.user.id).and_then(|r| r.read_at);
        let title_of = |x: Uuid| {
            published.iter().find(|p| p.id == x).map(|p| p.spec.title.clone()).unwrap_or_else(|| x.to_string())
        };
        let in_force = in_force(&published);
        let conflicts = if matches!(d.status, DirectiveStatus::Pending | DirectiveStatus::Published) {
            conflicts(id, &d.spec, &in_force)
                .into_iter()
                .map(|c| {
                    let confirmed =
                        d.coexists.contains(&c) || published.iter().any(|p| p.id == c && p.coexists.contains(&id));
                    (c.to_string(), title_of(c), confirmed)
                })
                .collect()
        } else {
            vec![]
        };
        let unit_name = |u: Uuid| units.iter().find(|x| x.id == u).map(|x| x.name.clone()).unwrap_or_default();
        let mut figures: Vec<(String, usize, usize)> = vec![];
        if owner {
            for r in &readers {
                let name = unit_name(r.unit_id);
                match figures.iter_mut().find(|f| f.0 == name) {
                    Some(f) => {
                        f.2 += 1;
                        f.1 += r.read_at.is_some() as usize;
                    }
                    None => figures.push((name, r.read_at.is_some() as usize, 1)),
                }
            }
            figures.sort();
        }
        let audience = {
            let names: Vec<String> = d
                .spec
                .audience
                .organisations
                .iter()
                .map(|o| orgs.iter().find(|(x, _)| x.id == *o).map(|(x, _)| x.name.clone()).unwrap_or_default())
                .collect();
            let kinds: Vec<String> = d
                .spec
                .audience
                .unit_kinds
                .iter()
                .map(|k| t.get(&format!("unit_kind.{}", serde_key(k))).to_string())
                .collect();
            if kinds.is_empty() {
                format!("{} ({})", names.join(", "), t.get("directive.all_units"))
            } else {
                format!("{} ({})", names.join(", "), kinds.join(", "))
            }
        };
        let page = DirectivePage {
            id: id.to_string(),
            row: row(&frame, &d, &published, today, String::new(), String::new()),
            body: d.spec.body.clone(),
            reference: d.spec.reference.clone(),
            audience,
            registered: format!("{}, {}", d.registered_by_name, t.datetime(&d.registered_at)),
            decided: match (&d.decided_by_name, &d.decided_at) {
                (Some(by), Some(at)) => format!("{by}, {}", t.datetime(at)),
                _ => String::new(),
            },
            decision_note: d.decision_note.clone(),
            supersedes: d.spec.supersedes.iter().map(|s| (s.to_string(), title_of(*s))).collect(),
            superseded_by: successor(&published, id).map(|s| (s.id.to_string(), s.spec.title.clone())),
            conflicts,
            can_confirm: d.status == DirectiveStatus::Published && mine.is_none() && is_for(caller, &d),
            read_at: mine.map(|at| t.datetime(&at)).unwrap_or_default(),
            can_validate: owner
                && d.status == DirectiveStatus::Pending
                && permits(caller.actor.role, Permission::ValidateDirectives)
                && d.registered_by != caller.actor.user.id,
            can_withdraw: owner
                && d.status == DirectiveStatus::Published
                && permits(caller.actor.role, Permission::RegisterDirectives),
            figures,
            not_read: if owner {
                readers.iter().filter(|r| r.read_at.is_none()).map(|r| (r.name.clone(), unit_name(r.unit_id))).collect()
            } else {
                vec![]
            },
            owner,
            form,
            frame,
        };
        log_object_read(st, caller, "directive.read", id).await?;
        Ok(html(status, &page))
    }
    .await;
    r.unwrap_or_else(|e| error_page(t, e.status, error_text(t, &e)))
}

pub async fn page(State(st): State<AppState>, w: WebCaller, ApiPath(id): ApiPath<Uuid>) -> Response {
    directive_page(&st, w, id, vec![], None).await
}

async fn after(st: &AppState, w: WebCaller, id: Uuid, r: AppResult<()>, f: Pairs) -> Response {
    match r {
        Ok(()) => see_other(&format!("/direktiv/{id}")),
        // Not theirs to see: no page to show it on (and no second logged denial).
        Err(e) if e.status == StatusCode::NOT_FOUND => error_page(w.frame.t, e.status, error_text(w.frame.t, &e)),
        Err(e) => directive_page(st, w, id, f, Some(e)).await,
    }
}

pub async fn confirm_read(State(st): State<AppState>, w: WebCaller, ApiPath(id): ApiPath<Uuid>) -> Response {
    let r = samverka_app::directives::confirm_read(&st, &w.caller, id).await;
    after(&st, w, id, r, vec![]).await
}

pub async fn decide(
    State(st): State<AppState>,
    w: WebCaller,
    ApiPath(id): ApiPath<Uuid>,
    Form(f): Form<Pairs>,
) -> Response {
    let r = match field(&f, "decision") {
        "publish" | "reject" => {
            let publish = field(&f, "decision") == "publish";
            let both_apply = field(&f, "coexist") == "ja";
            samverka_app::directives::decide(&st, &w.caller, id, publish, field(&f, "note"), both_apply).await
        }
        _ => Err(invalid("decision", "Välj att publicera eller skicka tillbaka.", "Choose publish or send back.")),
    };
    let keep = if r.is_err() { f } else { vec![] };
    after(&st, w, id, r, keep).await
}

pub async fn withdraw(
    State(st): State<AppState>,
    w: WebCaller,
    ApiPath(id): ApiPath<Uuid>,
    Form(f): Form<Pairs>,
) -> Response {
    let r = samverka_app::directives::withdraw(&st, &w.caller, id, field(&f, "note")).await;
    let keep = if r.is_err() { f } else { vec![] };
    after(&st, w, id, r, keep).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use samverka_app::texts::{Lang, texts};

    #[test]
    fn every_text_made_from_a_value_exists() {
        let mut keys: Vec<String> = Source::ALL.iter().map(|s| format!("directive.source_{}", serde_key(s))).collect();
        for s in [
            DirectiveStatus::Pending,
            DirectiveStatus::Published,
            DirectiveStatus::Rejected,
            DirectiveStatus::Withdrawn,
        ] {
            keys.push(format!("directive.status_{}", serde_key(&s)));
        }
        keys.extend(["superseded", "expired", "coming"].iter().map(|k| format!("directive.status_{k}")));
        keys.extend(UnitKind::ALL.iter().map(|k| format!("unit_kind.{}", serde_key(k))));
        for lang in [Lang::SV, Lang::EN] {
            for k in &keys {
                assert!(texts(lang).has(k), "{lang:?}: no text for {k}");
            }
        }
    }
}
