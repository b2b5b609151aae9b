//! The pages and what they show: each handler asks `samverka_app::person` and renders.

use std::sync::Arc;

use askama::Template;
use axum::Extension;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use samverka_app::AppState;
use samverka_app::auth::cookie_value;
use samverka_app::auth::login::ClientAddress;
use samverka_app::config::{Audience, OidcProvider};
use samverka_app::error::{AppError, AppResult};
use samverka_app::oidc::{CLEAR_STATE_COOKIE, Callback, OidcState, STATE_COOKIE, unavailable};
use samverka_app::person::{self as app, Person};
use samverka_app::texts::{Texts, lang_of, texts};
use samverka_domain::calendar::local_date;
use samverka_domain::ids::Personnummer;
use samverka_domain::org::{Principal, UnitKind};
use samverka_domain::person::{Next, Standing, overview};
use serde::Deserialize;
use uuid::Uuid;

/// What every person page's frame needs.
pub struct Frame {
    pub t: &'static Texts,
    pub title: String,
    /// The signed-in person's name and the token for their forms.
    pub person: Option<(String, String)>,
}

impl Frame {
    /// The signed-in person's form token, for every form of the page.
    pub fn csrf(&self) -> &str {
        self.person.as_ref().map(|(_, c)| c.as_str()).unwrap_or("")
    }
}

/// Whether a refusal is the form's to show (what was typed comes back beside it) rather than a
/// page of its own: the person's mistake, not an address that leads nowhere.
fn shown_in_form(e: &AppError) -> bool {
    e.status.is_client_error() && e.status != StatusCode::NOT_FOUND
}

fn render<T: Template>(status: StatusCode, page: &T) -> Response {
    match page.render() {
        Ok(body) => {
            let mut res = (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response();
            // A person's own data: never kept by a shared computer's cache.
            res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            res
        }
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "Sidan kunde inte visas.").into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    frame: Frame,
    message: String,
}

/// What went wrong, in the reader's language: the language file's words for the refusal's
/// code (`[person.error]`, by code and field, or by code) when it has them, so a language is
/// added with its file alone; else the Swedish or English the rule gave.
fn error_text(t: &Texts, e: &AppError) -> String {
    let by_field = e.field.as_ref().map(|f| format!("person.error.{}_{f}", e.code));
    let keys = by_field.into_iter().chain(std::iter::once(format!("person.error.{}", e.code)));
    for key in keys {
        if t.has(&key) {
            return t.get(&key).to_string();
        }
    }
    if t.lang == "en" { e.en.clone() } else { e.sv.clone() }
}

/// An error as a page in the person's language.
fn error_page(t: &'static Texts, e: &AppError) -> Response {
    let message = error_text(t, e);
    render(
        e.status,
        &ErrorPage { frame: Frame { t, title: t.get("person.error_title").into(), person: None }, message },
    )
}

fn frame(t: &'static Texts, title: &str, p: &Person) -> Frame {
    Frame { t, title: title.to_string(), person: Some((p.session.name.clone(), p.session.csrf_token.clone())) }
}

// ---- start: sign in, or the person's cases ----------------------------------------------------

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage {
    frame: Frame,
    providers: Vec<(String, String)>,
    demo: Vec<(String, String)>,
}

pub struct CaseLine {
    /// "Du följer Ingrid Lund som närstående", for a case of someone the reader represents.
    pub following: Option<String>,
    pub id: String,
    pub admitted: String,
    pub ward: String,
    pub standing: String,
}

#[derive(Template)]
#[template(path = "start.html")]
struct StartPage {
    frame: Frame,
    cases: Vec<CaseLine>,
    /// The reader is a patient (not only someone's representative).
    own: bool,
    /// E-mail can be sent from this installation, so the person may ask for it.
    notices: bool,
    /// The address in the e-mail form: the one told now, or what was typed.
    email: String,
    /// "Vi skickar e-post till …" while the person is told by e-mail.
    told_at: Option<String>,
    error: String,
}

pub async fn start(State(st): State<AppState>, headers: HeaderMap, person: Result<Person, AppError>) -> Response {
    let t = texts(lang_of(&headers));
    let Ok(p) = person else {
        let providers = st
            .config
            .oidc
            .iter()
            .filter(|p| p.audience == Audience::Person)
            .map(|p| (p.id.clone(), t.fill("person.sign_in_with", &[("name", &p.name)])))
            .collect();
        let demo = match app::demo_persons(&st).await {
            Ok(d) => d,
            Err(e) => return error_page(t, &e),
        };
        let frame = Frame { t, title: t.get("person.sign_in_title").into(), person: None };
        return render(StatusCode::OK, &SignInPage { frame, providers, demo });
    };
    start_page(&st, t, &p, String::new(), None, StatusCode::OK).await
}

/// The person's start page; `error` and `typed` give back a refused e-mail form.
async fn start_page(
    st: &AppState,
    t: &'static Texts,
    p: &Person,
    error: String,
    typed: Option<String>,
    status: StatusCode,
) -> Response {
    let (records, notice) =
        match async { Ok::<_, AppError>((app::my_cases(st, p).await?, app::my_notice(st, p).await?)) }.await {
            Ok(r) => r,
            Err(e) => return error_page(t, &e),
        };
    let cases = records
        .iter()
        .map(|r| CaseLine {
            id: r.record.case.id.to_string(),
            admitted: t.date(&local_date(r.record.case.admitted_at)),
            ward: r.record.case.ward().name.clone(),
            standing: t.get(&format!("person.standing.{}", Standing::of(&r.record.case).as_str())).to_string(),
            following: r.through.as_ref().map(|rep| {
                t.fill(
                    "person.following",
                    &[("name", &r.about), ("part", t.get(&format!("person.rep_kind.{}", rep.kind.as_str())))],
                )
            }),
        })
        .collect();
    let title = t.get("person.title").to_string();
    let page = StartPage {
        frame: frame(t, &title, p),
        cases,
        own: p.session.patient_id.is_some(),
        notices: app::notices_offered(st),
        email: typed.unwrap_or_else(|| notice.clone().unwrap_or_default()),
        told_at: notice.map(|e| t.fill("person.mail_on", &[("email", &e)])),
        error,
    };
    render(status, &page)
}

/// The person asks to be told by e-mail that something new waits, or stops it.
pub async fn notice(
    State(st): State<AppState>,
    headers: HeaderMap,
    person: Result<Person, AppError>,
    Form(f): Form<Fields>,
) -> Response {
    let lang = lang_of(&headers);
    let t = texts(lang);
    let Ok(p) = person else { return sign_in_first() };
    let result = if !p.form_token_ok(field(&f, "csrf_token")) {
        Err(bad_form())
    } else {
        let email = (field(&f, "do") == "ja").then(|| field(&f, "email"));
        app::set_notice(&st, &p, email, t.lang).await
    };
    match result {
        Ok(()) => Redirect::to("/min#e-post").into_response(),
        Err(e) if shown_in_form(&e) => {
            let error = error_text(t, &e);
            start_page(&st, t, &p, error, Some(field(&f, "email").to_string()), e.status).await
        }
        Err(e) => error_page(t, &e),
    }
}

// ---- signing in and out -------------------------------------------------------------------------

fn person_provider<'a>(st: &'a AppState, id: &str) -> AppResult<&'a OidcProvider> {
    samverka_app::oidc::provider(st, id, Audience::Person)
}

pub async fn sign_in_start(
    State(st): State<AppState>,
    Extension(oidc): Extension<Arc<OidcState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let t = texts(lang_of(&headers));
    let started = match person_provider(&st, &id) {
        Ok(p) => samverka_app::oidc::start(&st, &oidc, p).await,
        Err(e) => Err(e),
    };
    match started {
        Ok(s) => {
            let mut res = Redirect::to(&s.authorize_url).into_response();
            if let Ok(v) = HeaderValue::from_str(&s.state_cookie) {
                res.headers_mut().append(header::SET_COOKIE, v);
            }
            res
        }
        Err(e) => error_page(t, &e),
    }
}

/// The personnummer the provider vouched for, from the claim the provider is configured with.
fn personnummer_of(
    st: &AppState,
    p: &OidcProvider,
    identity: &samverka_app::oidc::Identity,
) -> AppResult<Personnummer> {
    let value = identity.claims.get(&p.personnummer_claim).and_then(|v| v.as_str()).unwrap_or_default();
    Personnummer::parse(value, local_date(st.clock.now())).map_err(|_| {
        tracing::warn!(provider = %p.id, claim = %p.personnummer_claim, "no personnummer in the ID token");
        AppError::unauthorized(
            "no_personnummer",
            "Inloggningen gav inget personnummer. Prova en annan e-legitimation.",
            "The login carried no personnummer.",
        )
    })
}

pub async fn sign_in_callback(
    State(st): State<AppState>,
    Extension(oidc): Extension<Arc<OidcState>>,
    Path(id): Path<String>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    Query(q): Query<Callback>,
) -> Response {
    let t = texts(lang_of(&headers));
    let done = async {
        let p = person_provider(&st, &id)?;
        let identity = samverka_app::oidc::finish(&st, &oidc, p, cookie_value(&headers, STATE_COOKIE), q).await?;
        let pnr = personnummer_of(&st, p, &identity)?;
        let name = identity.name.clone().unwrap_or_default();
        app::sign_in(&st, &pnr, &name, &address).await
    }
    .await;
    match done {
        Ok((token, session)) => signed_in(&st, &token, &session, true),
        Err(e) => error_page(t, &e),
    }
}

/// Into the person's pages with a new session.
fn signed_in(st: &AppState, token: &str, session: &samverka_store::PersonSession, clear_state: bool) -> Response {
    let mut res = Redirect::to("/min").into_response();
    let age = samverka_app::auth::seconds_until(session.expires_at, st.clock.now());
    res.headers_mut().append(header::SET_COOKIE, app::session_cookie(token, age));
    if clear_state {
        res.headers_mut().append(header::SET_COOKIE, HeaderValue::from_static(CLEAR_STATE_COOKIE));
    }
    res
}

#[derive(Deserialize)]
pub struct DemoForm {
    personnummer: String,
}

/// In a demo only: sign in as one of the demo's patients without e-legitimation.
pub async fn demo_sign_in(
    State(st): State<AppState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    Form(f): Form<DemoForm>,
) -> Response {
    let t = texts(lang_of(&headers));
    let done = async {
        let listed = app::demo_persons(&st).await?;
        let Some((name, pnr)) = listed.into_iter().find(|(_, pnr)| *pnr == f.personnummer) else {
            return Err(AppError::new(
                StatusCode::FORBIDDEN,
                "demo_only",
                "Det går bara att logga in så här i en demo. Använd e-legitimation.",
                "Only a demo lets you sign in this way.",
            ));
        };
        let pnr =
            Personnummer::parse(&pnr, local_date(st.clock.now())).map_err(|_| unavailable("demo personnummer"))?;
        app::sign_in(&st, &pnr, &name, &address).await
    }
    .await;
    match done {
        Ok((token, session)) => signed_in(&st, &token, &session, false),
        Err(e) => error_page(t, &e),
    }
}

#[derive(Deserialize)]
pub struct TokenForm {
    csrf_token: String,
}

pub async fn sign_out(
    State(st): State<AppState>,
    headers: HeaderMap,
    person: Result<Person, AppError>,
    Form(f): Form<TokenForm>,
) -> Response {
    let t = texts(lang_of(&headers));
    if let Ok(p) = &person
        && !p.form_token_ok(&f.csrf_token)
    {
        return error_page(t, &bad_form());
    }
    if let Err(e) = app::sign_out(&st, &headers).await {
        return error_page(t, &e);
    }
    let mut res = Redirect::to("/min").into_response();
    res.headers_mut().append(header::SET_COOKIE, app::clear_cookie());
    res
}

fn bad_form() -> AppError {
    AppError::new(
        StatusCode::FORBIDDEN,
        "csrf_failed",
        "Sidan var för gammal. Ladda om den och försök igen.",
        "The page was too old. Reload it and try again.",
    )
}

/// Not signed in: to the sign-in.
fn sign_in_first() -> Response {
    Redirect::to("/min").into_response()
}

// ---- one case: "Min utskrivning" ------------------------------------------------------------------

pub struct Step {
    pub label: String,
    /// done, now or later.
    pub state: &'static str,
}

pub struct Contact {
    pub name: String,
    pub what: String,
    pub phone: Option<String>,
    pub hours: Option<String>,
}

pub struct MeetingView {
    pub when: String,
    pub place: String,
    pub video: Option<String>,
    pub invited: bool,
    pub relatives: bool,
    pub others: Vec<String>,
    pub ics: String,
}

pub struct PlanView {
    pub goals: String,
    pub needs: Vec<String>,
    pub region: Vec<String>,
    pub kommun: Vec<String>,
    pub others: Vec<String>,
    pub follow_up: String,
    pub coordinator: String,
}

/// What the person has written in the case, and who has read it.
pub struct SaidLine {
    pub kind: String,
    pub text: Vec<String>,
    pub at: String,
    pub read: Vec<String>,
}

/// One kind of consent as the person sees it: whether it is given now, and since when.
pub struct ConsentLine {
    pub kind: &'static str,
    pub what: String,
    pub given: Option<String>,
}

/// A form the page refused, drawn again with what was typed and why.
pub struct Typed {
    pub form: &'static str,
    pub fields: Vec<(String, String)>,
    pub error: String,
}

/// What the latest joint round said, in the person's words.
struct RoundView {
    when: String,
    changed: String,
    who_does: Vec<String>,
    actions: Vec<String>,
    next_review: String,
}

#[derive(Template)]
#[template(path = "case.html")]
struct CasePage {
    frame: Frame,
    id: String,
    standing: String,
    steps: Vec<Step>,
    next: Vec<String>,
    meeting: Option<MeetingView>,
    plan: Option<PlanView>,
    round: Option<RoundView>,
    contacts: Vec<Contact>,
    may_speak: bool,
    /// "Du ser Ingrid Lunds sida som närstående": the reader represents the person.
    representing: Option<String>,
    /// The person themself reads (only they see who has read about them).
    own: bool,
    shows_plan: bool,
    shows_words: bool,
    shows_consent: bool,
    consents: Vec<ConsentLine>,
    said: Vec<SaidLine>,
    typed: Option<Typed>,
    /// A notice after a form was taken.
    notice: Option<String>,
}

impl CasePage {
    /// What was typed in `name` of the refused `form`, or nothing.
    fn typed(&self, form: &str, name: &str) -> String {
        self.typed
            .as_ref()
            .filter(|t| t.form == form)
            .and_then(|t| t.fields.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
            .unwrap_or_default()
    }

    /// The token the page's forms carry.
    /// Why the `form` was refused, or nothing.
    fn error(&self, form: &str) -> String {
        self.typed.as_ref().filter(|t| t.form == form).map(|t| t.error.clone()).unwrap_or_default()
    }
}

#[derive(Deserialize)]
pub struct CaseId {
    id: String,
}

fn case_id(raw: &str) -> AppResult<Uuid> {
    Uuid::parse_str(raw)
        .map_err(|_| AppError::new(StatusCode::NOT_FOUND, "not_found", "Vi hittar inte det du söker.", "Not found."))
}

#[derive(Deserialize)]
pub struct CaseQuery {
    klart: Option<String>,
}

pub async fn my_case(
    State(st): State<AppState>,
    headers: HeaderMap,
    person: Result<Person, AppError>,
    Path(CaseId { id }): Path<CaseId>,
    Query(q): Query<CaseQuery>,
) -> Response {
    let t = texts(lang_of(&headers));
    let Ok(p) = person else { return sign_in_first() };
    let notice = q.klart.filter(|k| k == "tack").map(|_| t.get("person.thanks").to_string());
    case_page(&st, t, &p, &id, None, notice, StatusCode::OK).await
}

async fn case_page(
    st: &AppState,
    t: &'static Texts,
    p: &Person,
    id: &str,
    typed: Option<Typed>,
    notice: Option<String>,
    status: StatusCode,
) -> Response {
    let (record, statements) = match async {
        let id = case_id(id)?;
        let mine = app::my_case(st, p, id).await?;
        let said = app::my_statements(st, &mine).await?;
        Ok::<_, AppError>((mine, said))
    }
    .await
    {
        Ok(r) => r,
        Err(e) => return error_page(t, &e),
    };
    let now = st.clock.now();
    use samverka_domain::representative::Share;
    let (shows_plan, shows_words, shows_consent) =
        (record.may(Share::Plan, now), record.may(Share::Words, now), record.may(Share::Consent, now));
    let whereabouts = record.whereabouts;
    let representing = record.through.as_ref().map(|r| {
        t.fill(
            "person.representing",
            &[("name", &record.about), ("part", t.get(&format!("person.rep_kind.{}", r.kind.as_str())))],
        )
    });
    let case = &record.record.case;
    let view = overview(case, now);
    let steps = if view.standing == Standing::Ended {
        vec![]
    } else {
        Standing::path(case)
            .iter()
            .map(|s| Step {
                label: t.get(&format!("person.path.{}", s.as_str())).to_string(),
                state: match s.cmp(&view.standing) {
                    std::cmp::Ordering::Less => "done",
                    std::cmp::Ordering::Equal => "now",
                    std::cmp::Ordering::Greater => "later",
                },
            })
            .collect()
    };
    let date = |d: &jiff::civil::Date| t.date(d);
    let mut next = vec![];
    match &view.next {
        Next::Planning { expected_home } => {
            next.push(t.get("person.next.planning").to_string());
            if let Some(d) = expected_home {
                next.push(t.fill("person.next.expected_home", &[("date", &date(d))]));
            }
        }
        Next::Meeting { at } => next.push(t.fill("person.next.meeting", &[("when", &t.datetime(at))])),
        Next::GoingHome { expected_home } => {
            next.push(t.get("person.next.going_home").to_string());
            if let Some(d) = expected_home {
                next.push(t.fill("person.next.expected_home", &[("date", &date(d))]));
            }
        }
        Next::FollowUp { on } => next.push(t.fill("person.next.follow_up", &[("date", &date(on))])),
        Next::Nothing => next.push(t.get("person.next.nothing").to_string()),
    }
    let meeting = view.meeting.as_ref().filter(|m| m.at >= now).map(|m| MeetingView {
        when: t.datetime(&m.at),
        // A protected identity's meeting may be at home: its place only to whom the person chose.
        place: if whereabouts { m.place.clone() } else { t.get("person.place_hidden").to_string() },
        video: m.video_link().map(str::to_string),
        invited: m.you_are_invited,
        relatives: m.relatives_invited,
        others: m.participants.clone(),
        ics: format!("/min/utskrivning/{}/mote.ics", case.id),
    });
    let plan = view.plan.filter(|_| shows_plan).map(|plan| {
        let by = |who: Principal| {
            plan.insatser.iter().filter(|i| i.principal == who).map(|i| i.description.clone()).collect()
        };
        PlanView {
            goals: plan.own_goals.clone(),
            needs: plan.needs.clone(),
            region: by(Principal::Region),
            kommun: by(Principal::Kommun),
            others: plan.others_measures.iter().map(|o| format!("{}: {}", o.who, o.description)).collect(),
            follow_up: t
                .fill("person.plan_follow_up", &[("date", &date(&plan.follow_up_date)), ("how", &plan.follow_up_how)]),
            coordinator: t.fill("person.plan_coordinator", &[("name", &plan.coordinator.name)]),
        }
    });
    // What the joint round said, under the same share as the plan.
    let round = view.round.filter(|_| shows_plan).map(|n| RoundView {
        when: date(&samverka_domain::calendar::local_date(n.recorded.at)),
        changed: n.note.changed.clone(),
        who_does: n
            .note
            .professions
            .iter()
            .map(|p| format!("{}: {}", t.get(&format!("round.profession_{}", p.profession.as_str())), p.what))
            .collect(),
        actions: view
            .round_actions
            .iter()
            .map(|a| t.fill("person.round_action", &[("what", &a.what), ("date", &date(&a.due))]))
            .collect(),
        next_review: t.fill("person.round_next", &[("date", &date(&n.note.next_review))]),
    });
    let ids: Vec<Uuid> = view.contacts.iter().map(|u| u.id).collect();
    let entries = match app::contact_entries(st, &ids).await {
        Ok(e) => e,
        Err(e) => return error_page(t, &e),
    };
    let mut contacts = vec![];
    if let Some(f) = view.fast_vardkontakt {
        contacts.push(Contact {
            name: f.name.clone(),
            what: t.fill("person.fast_vardkontakt", &[("unit", &f.unit.name)]),
            phone: Some(f.phone.clone()).filter(|p| !p.is_empty()),
            hours: None,
        });
    }
    for u in view.contacts.iter().filter(|u| whereabouts || u.kind == UnitKind::Ward) {
        let entry = entries.iter().find(|e| e.id == u.id);
        let what = match u.kind {
            UnitKind::Ward => "person.contact.ward",
            UnitKind::Vardcentral => "person.contact.vardcentral",
            UnitKind::Bistandsenhet => "person.contact.bistand",
            _ => "person.contact.other",
        };
        contacts.push(Contact {
            name: u.name.clone(),
            what: t.get(what).to_string(),
            phone: entry.and_then(|e| e.address.phone.clone()),
            hours: entry.and_then(|e| e.address.opening_hours.clone()),
        });
    }
    use samverka_domain::person::Statement;
    let said = statements
        .iter()
        .rev()
        .map(|s| SaidLine {
            kind: t.get(&format!("person.said.{}", s.statement.kind())).to_string(),
            text: match &s.statement {
                Statement::BeforeMeeting { what_matters, goals, who_present } => {
                    [what_matters, goals, who_present].into_iter().filter(|x| !x.trim().is_empty()).cloned().collect()
                }
                Statement::Attendance { attending } => {
                    vec![t.get(if *attending { "person.attending_yes" } else { "person.attending_no" }).to_string()]
                }
                Statement::Question { text } => vec![text.clone()],
            },
            at: t.datetime(&s.at),
            read: receipts(t, s),
        })
        .collect();
    let title = t.get("person.case_title").to_string();
    let standing = t.get(&format!("person.standing.{}", view.standing.as_str())).to_string();
    let page = CasePage {
        frame: frame(t, &title, p),
        id: case.id.to_string(),
        standing,
        steps,
        next,
        meeting,
        plan,
        round,
        contacts,
        may_speak: samverka_domain::person::may_speak(case),
        representing,
        own: record.through.is_none(),
        shows_plan,
        shows_words,
        shows_consent,
        consents: CONSENT_KINDS
            .iter()
            .map(|(code, kind)| ConsentLine {
                kind: code,
                what: t.get(&format!("person.consent.{code}")).to_string(),
                given: case
                    .consents
                    .active(*kind)
                    .map(|c| t.fill("person.consent_given", &[("when", &t.date(&local_date(c.given_at)))])),
            })
            .collect(),
        said,
        typed,
        notice,
    };
    render(status, &page)
}

/// Where the person's words are, unit by unit, as a staff message's sender sees it: received,
/// opened (and when), or read (and when).
fn receipts(t: &Texts, s: &samverka_store::StatementRecord) -> Vec<String> {
    let mut units = s.delivered.clone();
    for r in s.reads.iter().chain(&s.opens) {
        if !units.iter().any(|(u, _)| *u == r.unit_id) {
            units.push((r.unit_id, r.unit_name.clone()));
        }
    }
    units
        .iter()
        .map(|(id, name)| {
            let at = |list: &[samverka_store::StatementRead]| list.iter().find(|r| r.unit_id == *id).map(|r| r.at);
            match (at(&s.reads), at(&s.opens)) {
                (Some(when), _) => t.fill("person.receipt_read", &[("unit", name), ("when", &t.datetime(&when))]),
                (None, Some(when)) => t.fill("person.receipt_opened", &[("unit", name), ("when", &t.datetime(&when))]),
                (None, None) => t.fill("person.receipt_delivered", &[("unit", name)]),
            }
        })
        .collect()
}

// ---- the person's consent ------------------------------------------------------------------------------

/// The consents a person gives or takes back on their pages, by their form value.
const CONSENT_KINDS: [(&str, samverka_domain::consent::ConsentKind); 3] = [
    ("information_sharing", samverka_domain::consent::ConsentKind::InformationSharing),
    ("sip_call", samverka_domain::consent::ConsentKind::SipCall),
    ("sip", samverka_domain::consent::ConsentKind::Sip),
];

pub async fn consent(
    State(st): State<AppState>,
    headers: HeaderMap,
    person: Result<Person, AppError>,
    Path(CaseId { id }): Path<CaseId>,
    Form(f): Form<Fields>,
) -> Response {
    let t = texts(lang_of(&headers));
    let Ok(p) = person else { return sign_in_first() };
    let done = async {
        if !p.form_token_ok(field(&f, "csrf_token")) {
            return Err(bad_form());
        }
        let case = case_id(&id)?;
        let Some((_, kind)) = CONSENT_KINDS.iter().find(|(code, _)| *code == field(&f, "kind")) else {
            return Err(AppError::invalid("kind", "unknown_consent", "Välj ett samtycke.", "Choose a consent."));
        };
        match field(&f, "do") {
            "ge" => app::give_consent(&st, &p, case, *kind).await,
            _ => app::withdraw_consent(&st, &p, case, *kind).await,
        }
    }
    .await;
    match done {
        Ok(_) => Redirect::to(&format!("/min/utskrivning/{id}?klart=tack#samtycke")).into_response(),
        Err(e) => error_page(t, &e),
    }
}

// ---- the person's own voice -------------------------------------------------------------------------

/// A form on the person's case page: its fields as sent.
type Fields = Vec<(String, String)>;

fn field<'a>(f: &'a Fields, name: &str) -> &'a str {
    f.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str()).unwrap_or("")
}

#[derive(Template)]
#[template(path = "expired.html")]
struct ExpiredPage {
    frame: Frame,
    typed: Vec<String>,
}

/// The session ended while the person was writing: nothing they typed is lost, it is shown
/// back to copy before they sign in again.
fn expired_with(t: &'static Texts, f: &Fields) -> Response {
    let typed = ["what_matters", "goals", "who_present", "text"]
        .iter()
        .map(|k| field(f, k).to_string())
        .filter(|v| !v.trim().is_empty())
        .collect();
    let frame = Frame { t, title: t.get("person.expired_title").into(), person: None };
    render(StatusCode::UNAUTHORIZED, &ExpiredPage { frame, typed })
}

/// Takes what the person said from a form; on a refusal the page is drawn again with what was
/// typed, so nothing is lost.
async fn say(
    st: &AppState,
    headers: &HeaderMap,
    person: Result<Person, AppError>,
    id: &str,
    form: &'static str,
    f: Fields,
    statement: samverka_domain::person::Statement,
) -> Response {
    let t = texts(lang_of(headers));
    let Ok(p) = person else { return expired_with(t, &f) };
    let result = if !p.form_token_ok(field(&f, "csrf_token")) {
        Err(bad_form())
    } else {
        match case_id(id) {
            Ok(case) => app::speak(st, &p, case, statement).await.map(|_| ()),
            Err(e) => Err(e),
        }
    };
    match result {
        Ok(()) => Redirect::to(&format!("/min/utskrivning/{id}?klart=tack#skrivet")).into_response(),
        Err(e) if shown_in_form(&e) => {
            let error = error_text(t, &e);
            let typed = Typed { form, fields: f, error };
            case_page(st, t, &p, id, Some(typed), None, e.status).await
        }
        Err(e) => error_page(t, &e),
    }
}

pub async fn before_meeting(
    State(st): State<AppState>,
    headers: HeaderMap,
    person: Result<Person, AppError>,
    Path(CaseId { id }): Path<CaseId>,
    Form(f): Form<Fields>,
) -> Response {
    let statement = samverka_domain::person::Statement::BeforeMeeting {
        what_matters: field(&f, "what_matters").trim().to_string(),
        goals: field(&f, "goals").trim().to_string(),
        who_present: field(&f, "who_present").trim().to_string(),
    };
    say(&st, &headers, person, &id, "mina-ord", f, statement).await
}

pub async fn attendance(
    State(st): State<AppState>,
    headers: HeaderMap,
    person: Result<Person, AppError>,
    Path(CaseId { id }): Path<CaseId>,
    Form(f): Form<Fields>,
) -> Response {
    let statement = samverka_domain::person::Statement::Attendance { attending: field(&f, "attending") == "ja" };
    say(&st, &headers, person, &id, "svar", f, statement).await
}

pub async fn question(
    State(st): State<AppState>,
    headers: HeaderMap,
    person: Result<Person, AppError>,
    Path(CaseId { id }): Path<CaseId>,
    Form(f): Form<Fields>,
) -> Response {
    let statement = samverka_domain::person::Statement::Question { text: field(&f, "text").trim().to_string() };
    say(&st, &headers, person, &id, "fraga", f, statement).await
}

/// The SIP meeting for the person's own calendar.
pub async fn meeting_ics(
    State(st): State<AppState>,
    headers: HeaderMap,
    person: Result<Person, AppError>,
    Path(CaseId { id }): Path<CaseId>,
) -> Response {
    let t = texts(lang_of(&headers));
    let Ok(p) = person else { return sign_in_first() };
    let record = match async { app::my_case(&st, &p, case_id(&id)?).await }.await {
        Ok(r) => r,
        Err(e) => return error_page(t, &e),
    };
    let view = overview(&record.record.case, st.clock.now());
    let Some(mut m) = view.meeting else {
        return error_page(t, &AppError::not_found("Mötet"));
    };
    if !record.whereabouts {
        m.place = t.get("person.place_hidden").to_string();
    }
    let cal = samverka_app::calendar::sip_meeting_calendar(
        record.record.case.id,
        &m,
        t.get("person.meeting_heading"),
        &t.fill("person.meeting_called_by", &[("unit", &m.called_by.name)]),
    );
    samverka_app::calendar::ics_response(cal, "mote.ics")
}

// ---- who has read my data ---------------------------------------------------------------------------

pub struct ReadLine {
    pub when: String,
    pub who: String,
    pub unit: String,
    pub what: String,
}

#[derive(Template)]
#[template(path = "who_read.html")]
struct WhoReadPage {
    frame: Frame,
    lines: Vec<ReadLine>,
}

pub async fn who_read(State(st): State<AppState>, headers: HeaderMap, person: Result<Person, AppError>) -> Response {
    let t = texts(lang_of(&headers));
    let Ok(p) = person else { return sign_in_first() };
    let entries = match app::who_read_my_data(&st, &p).await {
        Ok(e) => e,
        Err(e) => return error_page(t, &e),
    };
    let lines = entries
        .iter()
        .map(|e| {
            let reads = ["read", "search", "list", "open", "view", "export", "extract", "person.case"]
                .iter()
                .any(|w| e.action.contains(w));
            ReadLine {
                when: t.datetime(&e.at),
                who: e.who.clone(),
                unit: e.unit.clone(),
                what: t.get(if reads { "person.log_read" } else { "person.log_wrote" }).to_string(),
            }
        })
        .collect();
    let title = t.get("person.log_heading").to_string();
    render(StatusCode::OK, &WhoReadPage { frame: frame(t, &title, &p), lines })
}

#[derive(Template)]
#[template(path = "accessibility.html")]
struct AccessibilityPage {
    frame: Frame,
}

/// The accessibility statement of the person's pages, in plain language; open to all.
pub async fn accessibility(headers: HeaderMap, person: Result<Person, AppError>) -> Response {
    let t = texts(lang_of(&headers));
    let title = t.get("person.a11y.title").to_string();
    let frame = match &person {
        Ok(p) => frame(t, &title, p),
        Err(_) => Frame { t, title, person: None },
    };
    render(StatusCode::OK, &AccessibilityPage { frame })
}

/// A method an address under `/min` does not take (a form sent to a page, say).
pub async fn method_not_allowed(headers: HeaderMap) -> Response {
    let t = texts(lang_of(&headers));
    let e = AppError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "Det gick inte att göra så här. Gå tillbaka till din startsida.",
        "That cannot be done here.",
    );
    error_page(t, &e)
}

/// Any other address under `/min`: the person's own "not found" page.
pub async fn not_found(headers: HeaderMap) -> Response {
    let t = texts(lang_of(&headers));
    let e = AppError::new(
        StatusCode::NOT_FOUND,
        "page_not_found",
        "Vi hittar inte den sidan.",
        "We cannot find that page.",
    );
    error_page(t, &e)
}

pub async fn stylesheet() -> Response {
    let mut res =
        ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], include_str!("../static/min.css")).into_response();
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("max-age=3600"));
    res
}

// ---- whom the person lets follow them -------------------------------------------------------------

pub struct RepLine {
    pub id: String,
    pub name: String,
    pub part: String,
    pub sees: Vec<String>,
    /// "Gäller till och med 31 jan 2027", "Avslutat 3 nov", or nothing.
    pub state: Option<String>,
    /// The person may end it here (they chose it).
    pub may_end: bool,
}

#[derive(Template)]
#[template(path = "representatives.html")]
struct RepresentativesPage {
    frame: Frame,
    lines: Vec<RepLine>,
    /// A refused invitation: the reason and what was typed.
    error: String,
    typed: Fields,
    notice: Option<String>,
}

impl RepresentativesPage {
    fn typed(&self, name: &str) -> &str {
        field(&self.typed, name)
    }

    fn ticked(&self, share: &str) -> bool {
        self.typed.iter().any(|(k, v)| k == "share" && v == share)
    }
}

/// What the person may let a närstående see, by form value (the overview is always seen).
const INVITE_SHARES: [&str; 2] = ["plan", "words"];

async fn representatives_page(
    st: &AppState,
    t: &'static Texts,
    p: &Person,
    error: String,
    typed: Fields,
    notice: Option<String>,
    status: StatusCode,
) -> Response {
    let reps = match app::my_representatives(st, p).await {
        Ok(r) => r,
        Err(e) => return error_page(t, &e),
    };
    let now = st.clock.now();
    let lines = reps
        .iter()
        .rev()
        .map(|r| RepLine {
            id: r.id.to_string(),
            name: r.name.clone(),
            part: t.get(&format!("person.rep_kind.{}", r.kind.as_str())).to_string(),
            sees: r.shares.iter().map(|s| t.get(&format!("person.share.{}", s.as_str())).to_string()).collect(),
            state: match (&r.ended, r.valid_until) {
                (Some(e), _) => Some(t.fill("person.rep_ended", &[("when", &t.datetime(&e.at))])),
                (None, Some(last)) if r.in_force(now) => Some(t.fill("person.rep_until", &[("date", &t.date(&last))])),
                (None, Some(last)) => Some(t.fill("person.rep_lapsed", &[("date", &t.date(&last))])),
                (None, None) => None,
            },
            may_end: r.in_force(now) && samverka_domain::representative::may_end(r, true).is_ok(),
        })
        .collect();
    let title = t.get("person.reps_title").to_string();
    render(status, &RepresentativesPage { frame: frame(t, &title, p), lines, error, typed, notice })
}

#[derive(Deserialize)]
pub struct RepsQuery {
    klart: Option<String>,
}

pub async fn representatives(
    State(st): State<AppState>,
    headers: HeaderMap,
    person: Result<Person, AppError>,
    Query(q): Query<RepsQuery>,
) -> Response {
    let t = texts(lang_of(&headers));
    let Ok(p) = person else { return sign_in_first() };
    let notice = match q.klart.as_deref() {
        Some("inbjuden") => Some(t.get("person.rep_invited").to_string()),
        Some("avslutad") => Some(t.get("person.rep_ended_now").to_string()),
        _ => None,
    };
    representatives_page(&st, t, &p, String::new(), vec![], notice, StatusCode::OK).await
}

/// The person invites a närstående; a refused invitation comes back with what was typed.
pub async fn invite(
    State(st): State<AppState>,
    headers: HeaderMap,
    person: Result<Person, AppError>,
    Form(f): Form<Fields>,
) -> Response {
    let t = texts(lang_of(&headers));
    let Ok(p) = person else { return sign_in_first() };
    let result = async {
        if !p.form_token_ok(field(&f, "csrf_token")) {
            return Err(bad_form());
        }
        let shares = f
            .iter()
            .filter(|(k, v)| k == "share" && INVITE_SHARES.contains(&v.as_str()))
            .filter_map(|(_, v)| samverka_domain::representative::Share::parse(v))
            .collect();
        let new = samverka_domain::representative::NewRepresentation {
            name: field(&f, "name").to_string(),
            personnummer: field(&f, "personnummer").to_string(),
            kind: samverka_domain::representative::Kind::Narstaende,
            shares,
            valid_until: None,
        };
        app::invite(&st, &p, new).await
    }
    .await;
    match result {
        Ok(_) => Redirect::to("/min/narstaende?klart=inbjuden").into_response(),
        Err(e) if shown_in_form(&e) => {
            let error = error_text(t, &e);
            representatives_page(&st, t, &p, error, f, None, e.status).await
        }
        Err(e) => error_page(t, &e),
    }
}

#[derive(Deserialize)]
pub struct RepId {
    rep: String,
}

/// The person ends a representation they chose.
pub async fn end_representative(
    State(st): State<AppState>,
    headers: HeaderMap,
    person: Result<Person, AppError>,
    Path(RepId { rep }): Path<RepId>,
    Form(f): Form<TokenForm>,
) -> Response {
    let t = texts(lang_of(&headers));
    let Ok(p) = person else { return sign_in_first() };
    let done = async {
        if !p.form_token_ok(&f.csrf_token) {
            return Err(bad_form());
        }
        app::end_representation(&st, &p, case_id(&rep)?).await
    }
    .await;
    match done {
        Ok(()) => Redirect::to("/min/narstaende?klart=avslutad").into_response(),
        Err(e) => error_page(t, &e),
    }
}

#[cfg(test)]
mod tests {
    use samverka_app::texts::Lang;

    use super::*;

    #[test]
    fn an_error_speaks_the_language_files_words_for_its_code() {
        let refusal = |code: &str, field: Option<&str>| AppError {
            field: field.map(String::from),
            ..AppError::new(StatusCode::FORBIDDEN, code, "på svenska i koden", "in English in the code")
        };
        let (sv, en) = (texts(Lang::SV), texts(Lang::EN));
        assert_eq!(error_text(sv, &refusal("not_shared", None)), "Det här har personen inte delat med dig.");
        assert_eq!(error_text(en, &refusal("not_shared", None)), "The person has not shared this with you.");
        // By code and field first, where one code has several sentences.
        assert_eq!(error_text(en, &refusal("nothing_written", Some("text"))), "Write your question in the box.");
        // A code the file has no words for keeps the rule's own.
        assert_eq!(error_text(sv, &refusal("no_such_code", None)), "på svenska i koden");
        assert_eq!(error_text(en, &refusal("no_such_code", Some("x"))), "in English in the code");
    }
}

// ---- my life story ----------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "life_story.html")]
struct LifeStoryPage {
    frame: Frame,
    /// Every part: its field name, heading, help and text (the latest version, or what was typed).
    parts: Vec<(&'static str, String, String, String)>,
    version: u32,
    shared: bool,
    /// "Version 2, skriven av dig den …", newest first.
    versions: Vec<String>,
    error: String,
    notice: Option<String>,
}

#[derive(Deserialize)]
pub struct LifeStoryQuery {
    klart: Option<String>,
}

async fn life_story_page(
    st: &AppState,
    t: &'static Texts,
    p: &Person,
    typed: Option<&Fields>,
    error: String,
    notice: Option<String>,
    status: StatusCode,
) -> Response {
    let kept = match samverka_app::life_story::mine(st, p).await {
        Ok(k) => k,
        Err(e) => return error_page(t, &e),
    };
    use samverka_domain::life_story::{Author, Part};
    let latest = kept.latest();
    let parts = Part::ALL
        .into_iter()
        .map(|part| {
            let name = part.as_str();
            let text = match typed {
                Some(f) => field(f, name).to_string(),
                None => latest.map(|v| v.story.get(part).to_string()).unwrap_or_default(),
            };
            (
                name,
                t.get(&format!("person.story.part.{name}")).to_string(),
                t.get(&format!("person.story.help.{name}")).to_string(),
                text,
            )
        })
        .collect();
    let versions = kept
        .versions
        .iter()
        .rev()
        .map(|v| {
            let by = match &v.written_by {
                Author::Person { .. } => t.get("person.story.by_you").to_string(),
                Author::Staff { name, unit_name, .. } => {
                    t.fill("person.story.by_staff", &[("name", name), ("unit", unit_name)])
                }
            };
            t.fill("person.story.version", &[("by", &by), ("when", &t.datetime(&v.written_at))])
        })
        .collect();
    let title = t.get("person.story.title").to_string();
    render(
        status,
        &LifeStoryPage {
            frame: frame(t, &title, p),
            parts,
            version: kept.version(),
            shared: kept.shared(),
            versions,
            error,
            notice,
        },
    )
}

pub async fn life_story(
    State(st): State<AppState>,
    headers: HeaderMap,
    person: Result<Person, AppError>,
    Query(q): Query<LifeStoryQuery>,
) -> Response {
    let t = texts(lang_of(&headers));
    let Ok(p) = person else { return sign_in_first() };
    let notice = match q.klart.as_deref() {
        Some("sparad") => Some(t.get("person.story.saved").to_string()),
        Some("delad") => Some(t.get("person.story.shared_now").to_string()),
        Some("inte-delad") => Some(t.get("person.story.unshared_now").to_string()),
        _ => None,
    };
    life_story_page(&st, t, &p, None, String::new(), notice, StatusCode::OK).await
}

/// The person saves a new version; a refused one comes back with what was typed.
pub async fn write_life_story(
    State(st): State<AppState>,
    headers: HeaderMap,
    person: Result<Person, AppError>,
    Form(f): Form<Fields>,
) -> Response {
    let t = texts(lang_of(&headers));
    let Ok(p) = person else { return sign_in_first() };
    let result = async {
        if !p.form_token_ok(field(&f, "csrf_token")) {
            return Err(bad_form());
        }
        let written = samverka_domain::life_story::Part::ALL
            .into_iter()
            .map(|part| (part.as_str().to_string(), field(&f, part.as_str()).to_string()))
            .collect();
        let seen = field(&f, "seen_version").parse().unwrap_or(0);
        samverka_app::life_story::write_mine(&st, &p, &written, seen).await
    }
    .await;
    match result {
        Ok(_) => Redirect::to("/min/levnadsberattelse?klart=sparad").into_response(),
        Err(e) if shown_in_form(&e) => {
            let error = error_text(t, &e);
            life_story_page(&st, t, &p, Some(&f), error, None, e.status).await
        }
        Err(e) => error_page(t, &e),
    }
}

/// The person shares the story with those who care for them, or stops sharing it.
pub async fn share_life_story(
    State(st): State<AppState>,
    headers: HeaderMap,
    person: Result<Person, AppError>,
    Form(f): Form<Fields>,
) -> Response {
    let t = texts(lang_of(&headers));
    let Ok(p) = person else { return sign_in_first() };
    if !p.form_token_ok(field(&f, "csrf_token")) {
        return error_page(t, &bad_form());
    }
    let shared = field(&f, "do") == "dela";
    match samverka_app::life_story::share_mine(&st, &p, shared).await {
        Ok(()) => Redirect::to(if shared {
            "/min/levnadsberattelse?klart=delad"
        } else {
            "/min/levnadsberattelse?klart=inte-delad"
        })
        .into_response(),
        Err(e) => error_page(t, &e),
    }
}
