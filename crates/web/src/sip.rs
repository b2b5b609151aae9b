//! The SIP: editor (a new version on every save), print view, follow-up.

use askama::Template;
use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::Response;
use samverka_domain::action::Action;
use samverka_domain::case::Command;
use samverka_domain::org::Principal;
use samverka_domain::sip::{Coordinator, FollowUpOutcome, Insats, OtherMeasure, Participant, ParticipantRole, SipPlan};
use uuid::Uuid;

use crate::case::{Pairs, field, parse_date};
use crate::page::{Frame, WebCaller, error_page, error_text, html, see_other};
use samverka_app::AppState;
use samverka_app::cases::{execute, read_case};
use samverka_app::error::{AppError, AppResult};
use samverka_app::extract::ApiPath;
use samverka_app::views::PatientView;

pub const INSATS_ROWS: usize = 6;
pub const OTHER_ROWS: usize = 3;
pub const PARTICIPANT_ROWS: usize = 6;

/// One row of the editor, as text for the form fields.
#[derive(Default, Clone)]
pub struct Row {
    pub a: String,
    pub b: String,
    pub c: String,
    pub d: String,
}

#[derive(Template)]
#[template(path = "sip.html")]
pub struct SipPage {
    pub frame: Frame,
    pub id: String,
    pub patient: PatientView,
    pub version: u32,
    pub needs: String,
    pub insatser: Vec<Row>,
    pub others: Vec<Row>,
    pub overall: String,
    pub own_goals: String,
    /// What the person wrote before the meeting, in their own words (newest first).
    pub person_words: Vec<crate::case::PersonWords>,
    pub participants: Vec<Row>,
    pub coordinator_name: String,
    pub coordinator_unit: String,
    pub follow_up_date: String,
    pub follow_up_how: String,
    pub units: Vec<(String, String)>,
    pub can_edit: bool,
    /// Why the plan cannot be drawn up yet, if so.
    pub missing: String,
    pub can_follow_up: bool,
    pub history: Vec<String>,
    /// The latest screening, as lines.
    pub screening: Vec<String>,
}

#[derive(Template)]
#[template(path = "sip_print.html")]
pub struct PrintPage {
    pub frame: Frame,
    pub patient: PatientView,
    pub version: u32,
    pub drawn_up: String,
    pub plan: SipPlan,
    pub units: Vec<(String, String)>,
    /// The latest screening, as lines.
    pub screening: Vec<String>,
}

impl PrintPage {
    pub fn unit(&self, id: &Option<Uuid>) -> String {
        id.and_then(|u| self.units.iter().find(|(i, _)| *i == u.to_string()).map(|(_, n)| n.clone()))
            .unwrap_or_default()
    }
    pub fn coordinator_unit(&self) -> String {
        self.unit(&Some(self.plan.coordinator.unit))
    }
    pub fn principal(&self, p: &Principal) -> String {
        self.frame.t.get(if *p == Principal::Region { "principal.region" } else { "principal.kommun" }).to_string()
    }
    pub fn role(&self, r: &ParticipantRole) -> String {
        self.frame.t.get(&format!("participant.{}", crate::case::serde_key(r))).to_string()
    }
}

fn pad(mut rows: Vec<Row>, n: usize) -> Vec<Row> {
    while rows.len() < n {
        rows.push(Row::default());
    }
    rows
}

async fn show(
    st: &AppState,
    w: WebCaller,
    id: Uuid,
    error: Option<(StatusCode, String)>,
    form: Option<&Pairs>,
) -> Response {
    let t = w.frame.t;
    let (record, patient) = match read_case(st, &w.caller, id, "case.read_sip").await {
        Ok(x) => x,
        Err(e) => return error_page(t, e.status, error_text(t, &e)),
    };
    let case = &record.case;
    let said = match samverka_app::cases::person_statements(st, &w.caller, &record).await {
        Ok(s) => s,
        Err(e) => return error_page(t, e.status, error_text(t, &e)),
    };
    // Beside the goals: what the person wrote before the meeting.
    let before: Vec<_> = said
        .into_iter()
        .filter(|s| matches!(s.statement, samverka_domain::person::Statement::BeforeMeeting { .. }))
        .collect();
    let person_words = crate::case::person_words(t, &before, w.caller.actor.unit.id, case);
    let current = case.sip.current();
    // A first plan in a discharge case starts from the SIP in force at home, for a unit that
    // takes part in both.
    let at_home = match current {
        Some(_) => None,
        None => match samverka_app::home::plan_at_home(st, &w.caller, case).await {
            Ok(p) => p,
            Err(e) => return error_page(t, e.status, error_text(t, &e)),
        },
    };
    let plan = current.map(|v| &v.plan).or(at_home.as_ref());
    let party = case.is_party(w.caller.actor.unit.id);
    // What the caller may do is the case's to say.
    let available = case.available(&w.caller.actor, st.clock.now());
    let units: Vec<(String, String)> =
        case.parties.iter().map(|p| (p.unit.id.to_string(), p.unit.name.clone())).collect();
    let can_edit = available.contains(&Action::DrawUpSip);
    // What the plan still waits for, said instead of offering a form that cannot be saved.
    let missing = match case.check(&w.caller.actor, &Action::DrawUpSip, st.clock.now()) {
        _ if can_edit || !party => None,
        Err(p) if p.kind == samverka_domain::ProblemKind::ConsentRequired => Some("sip.needs_consent"),
        Err(_) if case.sip_calls.is_empty() && case.sip.versions.is_empty() => Some("sip.needs_call"),
        _ => None,
    };
    let principal = |p: &Principal| if *p == Principal::Region { "region" } else { "kommun" }.to_string();
    let mut page = SipPage {
        id: id.to_string(),
        patient: PatientView::of(&patient),
        version: current.map(|v| v.version).unwrap_or(0),
        needs: plan.map(|p| p.needs.join("\n")).unwrap_or_default(),
        insatser: pad(
            plan.map(|p| {
                p.insatser
                    .iter()
                    .map(|i| Row {
                        a: principal(&i.principal),
                        b: i.unit.map(|u| u.to_string()).unwrap_or_default(),
                        c: i.description.clone(),
                        d: String::new(),
                    })
                    .collect()
            })
            .unwrap_or_default(),
            INSATS_ROWS,
        ),
        others: pad(
            plan.map(|p| {
                p.others_measures
                    .iter()
                    .map(|o| Row { a: o.who.clone(), b: o.description.clone(), ..Row::default() })
                    .collect()
            })
            .unwrap_or_default(),
            OTHER_ROWS,
        ),
        overall: plan.map(|p| principal(&p.overall_responsible)).unwrap_or_else(|| "kommun".into()),
        own_goals: plan.map(|p| p.own_goals.clone()).unwrap_or_default(),
        person_words,
        participants: pad(
            plan.map(|p| {
                p.participants
                    .iter()
                    .map(|x| Row {
                        a: x.name.clone(),
                        b: crate::case::serde_key(&x.role),
                        c: x.title.clone(),
                        d: x.unit.map(|u| u.to_string()).unwrap_or_default(),
                    })
                    .collect()
            })
            .unwrap_or_default(),
            PARTICIPANT_ROWS,
        ),
        coordinator_name: plan.map(|p| p.coordinator.name.clone()).unwrap_or_default(),
        coordinator_unit: plan
            .map(|p| p.coordinator.unit.to_string())
            .unwrap_or_else(|| w.caller.actor.unit.id.to_string()),
        follow_up_date: plan.map(|p| p.follow_up_date.to_string()).unwrap_or_default(),
        follow_up_how: plan.map(|p| p.follow_up_how.clone()).unwrap_or_default(),
        units,
        can_edit,
        missing: missing.map(|k| t.get(k).to_string()).unwrap_or_default(),
        can_follow_up: available.contains(&Action::FollowUpSip),
        screening: crate::screening::latest_lines(t, st, &record.agreement_id, case),
        history: case
            .sip
            .versions
            .iter()
            .map(|v| {
                format!(
                    "{} {} – {}, {}",
                    t.get("case.sip_version"),
                    v.version,
                    v.drawn_up.by.name,
                    t.datetime(&v.drawn_up.at)
                )
            })
            .collect(),
        frame: w.frame,
    };
    // A first plan starts from what the case already says (the needs of the planning
    // messages, who was called to the meeting) with the one drawing it up as coordinator.
    if plan.is_none() && at_home.is_none() {
        let draft = case.sip_draft();
        page.needs = draft.needs.join("\n");
        let mut rows = vec![];
        if draft.patient_invited {
            let name = format!("{} {}", patient.given_name, patient.family_name);
            rows.push(Row { a: name, b: "patient".into(), ..Row::default() });
        }
        rows.extend(draft.invited.into_iter().map(|name| Row { a: name, ..Row::default() }));
        page.participants = pad(rows, PARTICIPANT_ROWS);
        page.coordinator_name = w.caller.actor.user.name.clone();
    }
    // After a refused save, the form shows what was typed.
    if let Some(f) = form {
        page.needs = field(f, "needs").to_string();
        page.own_goals = field(f, "own_goals").to_string();
        page.coordinator_name = field(f, "coordinator_name").to_string();
        page.follow_up_date = field(f, "follow_up_date").to_string();
        page.follow_up_how = field(f, "follow_up_how").to_string();
        for (i, r) in page.insatser.iter_mut().enumerate() {
            *r = Row {
                a: field(f, &format!("i{i}_principal")).into(),
                b: field(f, &format!("i{i}_unit")).into(),
                c: field(f, &format!("i{i}_description")).into(),
                d: String::new(),
            };
        }
        for (i, r) in page.participants.iter_mut().enumerate() {
            *r = Row {
                a: field(f, &format!("p{i}_name")).into(),
                b: field(f, &format!("p{i}_role")).into(),
                c: field(f, &format!("p{i}_title")).into(),
                d: field(f, &format!("p{i}_unit")).into(),
            };
        }
    }
    page.frame.title = format!("{} – {}", t.get("sip.title"), patient.full_name());
    page.frame.live = id.to_string();
    let status = error.as_ref().map(|e| e.0).unwrap_or(StatusCode::OK);
    page.frame.error = error.map(|e| e.1);
    html(status, &page)
}

pub async fn editor(State(st): State<AppState>, w: WebCaller, ApiPath(id): ApiPath<Uuid>) -> Response {
    show(&st, w, id, None, None).await
}

fn plan_of(f: &Pairs) -> AppResult<SipPlan> {
    let s = |n: String| field(f, &n).trim().to_string();
    let principal = |v: &str| if v == "region" { Principal::Region } else { Principal::Kommun };
    let unit = |v: String| v.parse::<Uuid>().ok();
    let insatser = (0..INSATS_ROWS)
        .filter(|i| !s(format!("i{i}_description")).is_empty())
        .map(|i| Insats {
            principal: principal(field(f, &format!("i{i}_principal"))),
            unit: unit(s(format!("i{i}_unit"))),
            description: s(format!("i{i}_description")),
        })
        .collect();
    let others_measures = (0..OTHER_ROWS)
        .filter(|i| !s(format!("o{i}_who")).is_empty() || !s(format!("o{i}_description")).is_empty())
        .map(|i| OtherMeasure { who: s(format!("o{i}_who")), description: s(format!("o{i}_description")) })
        .collect();
    let participants = (0..PARTICIPANT_ROWS)
        .filter(|i| !s(format!("p{i}_name")).is_empty())
        .map(|i| Participant {
            name: s(format!("p{i}_name")),
            role: match field(f, &format!("p{i}_role")) {
                "patient" => ParticipantRole::Patient,
                "narstaende" => ParticipantRole::Narstaende,
                "representative" => ParticipantRole::Representative,
                _ => ParticipantRole::Staff,
            },
            unit: unit(s(format!("p{i}_unit"))),
            title: s(format!("p{i}_title")),
        })
        .collect();
    let coordinator_unit = field(f, "coordinator_unit").parse().map_err(|_| {
        AppError::invalid(
            "coordinator_unit",
            "invalid_form",
            "Välj samordnarens enhet.",
            "Choose the coordinator's unit.",
        )
    })?;
    Ok(SipPlan {
        needs: field(f, "needs").lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string).collect(),
        insatser,
        others_measures,
        overall_responsible: principal(field(f, "overall")),
        own_goals: field(f, "own_goals").trim().to_string(),
        participants,
        coordinator: Coordinator { name: field(f, "coordinator_name").trim().to_string(), unit: coordinator_unit },
        follow_up_date: parse_date(f, "follow_up_date")?,
        follow_up_how: field(f, "follow_up_how").trim().to_string(),
    })
}

pub async fn save(
    State(st): State<AppState>,
    w: WebCaller,
    ApiPath(id): ApiPath<Uuid>,
    Form(f): Form<Pairs>,
) -> Response {
    let r = match plan_of(&f) {
        Ok(plan) => execute(&st, &w.caller, id, Command::DrawUpSip { plan }).await,
        Err(e) => Err(e),
    };
    match r {
        Ok(_) => see_other(&format!("/arenden/{id}#sip")),
        Err(e) => {
            let text = error_text(w.frame.t, &e);
            show(&st, w, id, Some((e.status, text)), Some(&f)).await
        }
    }
}

pub async fn follow_up(
    State(st): State<AppState>,
    w: WebCaller,
    ApiPath(id): ApiPath<Uuid>,
    Form(f): Form<Pairs>,
) -> Response {
    let r = async {
        let outcome = match field(&f, "outcome") {
            "close" => FollowUpOutcome::Close,
            "new_plan" => FollowUpOutcome::NewPlan,
            _ => FollowUpOutcome::Continue { next_follow_up: parse_date(&f, "next_follow_up")? },
        };
        execute(&st, &w.caller, id, Command::FollowUpSip { evaluation: field(&f, "evaluation").to_string(), outcome })
            .await
    }
    .await;
    match r {
        Ok(_) => see_other(&format!("/arenden/{id}#sip")),
        Err(e) => {
            let text = error_text(w.frame.t, &e);
            show(&st, w, id, Some((e.status, text)), None).await
        }
    }
}

pub async fn print(State(st): State<AppState>, w: WebCaller, ApiPath(id): ApiPath<Uuid>) -> Response {
    let t = w.frame.t;
    let (record, patient) = match read_case(&st, &w.caller, id, "case.print_sip").await {
        Ok(x) => x,
        Err(e) => return error_page(t, e.status, error_text(t, &e)),
    };
    let Some(current) = record.case.sip.current().cloned() else {
        return error_page(t, StatusCode::NOT_FOUND, t.get("sip.none").to_string());
    };
    let mut frame = w.frame;
    frame.title = format!("{} – {}", t.get("sip.title"), patient.full_name());
    let units = record.case.parties.iter().map(|p| (p.unit.id.to_string(), p.unit.name.clone())).collect();
    html(
        StatusCode::OK,
        &PrintPage {
            patient: PatientView::of(&patient),
            version: current.version,
            drawn_up: t.datetime(&current.drawn_up.at),
            plan: current.plan,
            units,
            screening: crate::screening::latest_lines(t, &st, &record.agreement_id, &record.case),
            frame,
        },
    )
}
