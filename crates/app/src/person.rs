//! The person's side of Samverka: the older person signs in with e-legitimation and sees their
//! own discharge. A person's session is apart from staff sessions (its own cookie and table),
//! reaches only the person's own pages, and every read there is logged before it is answered;
//! whom a person may see is `samverka_domain::person::may_see`.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use jiff::SignedDuration;
use samverka_domain::ids::{PatientIdentifier, Personnummer};
use samverka_domain::org::Unit;
use samverka_domain::person::may_see;
use samverka_store::{AccessEntry, AccessFilter, CaseRecord, Outcome, PersonAccess, PersonSession, StatementRecord};
use uuid::Uuid;

use crate::auth::{client_address, cookie_value, random_token, same_secret, token_hash};
use crate::error::{AppError, AppResult};
use crate::state::AppState;

/// The person's session cookie; a staff session's cookie is another.
pub const PERSON_COOKIE: &str = "__Host-samverka-person";

/// A person's session lasts at most this long, however busy.
const SESSION_HOURS: i64 = 4;

/// The `Set-Cookie` value for a person's session token.
pub fn session_cookie(token: &str, max_age_secs: i64) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{PERSON_COOKIE}={token}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age={max_age_secs}"
    ))
    .expect("token is ASCII")
}

pub fn clear_cookie() -> HeaderValue {
    HeaderValue::from_static("__Host-samverka-person=; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=0")
}

fn sign_in_needed() -> AppError {
    AppError::unauthorized(
        "person_login_required",
        "Du behöver logga in med e-legitimation.",
        "Sign in with e-legitimation.",
    )
}

/// A person signed in to their own pages.
#[derive(Debug, Clone)]
pub struct Person {
    pub session: PersonSession,
    pub client_address: String,
}

impl FromRequestParts<AppState> for Person {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, AppError> {
        let token = cookie_value(&parts.headers, PERSON_COOKIE).ok_or_else(sign_in_needed)?;
        let hash = token_hash(&token);
        let session = st.store.person_session(&hash).await?.ok_or_else(sign_in_needed)?;
        let now = st.clock.now();
        let idle = SignedDuration::from_mins(st.config.session_idle_minutes);
        if now >= session.expires_at || now.duration_since(session.last_seen_at) > idle {
            st.store.delete_person_session(&hash).await?;
            return Err(sign_in_needed());
        }
        if now.duration_since(session.last_seen_at) > SignedDuration::from_mins(1) {
            match st.store.touch_person_session(&hash, now).await {
                // On a full disk the session is not kept alive, but reading goes on (as staff's).
                Ok(()) | Err(samverka_store::StoreError::DiskFull) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(Person { session, client_address: client_address(parts) })
    }
}

impl Person {
    /// Whether a form's token is this session's.
    pub fn form_token_ok(&self, sent: &str) -> bool {
        same_secret(sent, &self.session.csrf_token)
    }

    fn entry(&self, st: &AppState, action: &str, case: Option<Uuid>, outcome: Outcome) -> PersonAccess {
        PersonAccess {
            at: st.clock.now(),
            patient_id: self.session.patient_id,
            case_id: case,
            reader_name: self.session.name.clone(),
            action: action.to_string(),
            outcome,
            client_address: Some(self.client_address.clone()),
        }
    }
}

/// Signs a person in as the identity provider vouched for them: a new session (and its
/// token), linked to their patient record when Samverka has one.
pub async fn sign_in(
    st: &AppState,
    personnummer: &Personnummer,
    name: &str,
    address: &str,
) -> AppResult<(String, PersonSession)> {
    let identifier = PatientIdentifier::Personnummer(personnummer.clone());
    let patient = st.store.patient_by_identifier(&identifier).await?;
    let now = st.clock.now();
    let token = random_token();
    let name = match (&patient, name.trim()) {
        (_, n) if !n.is_empty() => n.to_string(),
        (Some(p), _) => p.full_name(),
        (None, _) => String::new(),
    };
    let session = PersonSession {
        token_hash: token_hash(&token),
        personnummer: personnummer.as_str().to_string(),
        name,
        patient_id: patient.map(|p| p.id),
        csrf_token: random_token(),
        created_at: now,
        last_seen_at: now,
        expires_at: now + SignedDuration::from_hours(SESSION_HOURS),
    };
    st.store.create_person_session(&session, address).await?;
    tracing::info!(target: "audit", person_session = %&session.token_hash[..12], "person signed in");
    Ok((token, session))
}

pub async fn sign_out(st: &AppState, headers: &HeaderMap) -> AppResult<()> {
    if let Some(token) = cookie_value(headers, PERSON_COOKIE) {
        st.store.delete_person_session(&token_hash(&token)).await?;
    }
    Ok(())
}

/// The person's own cases, newest first; each is logged as read before it is answered.
pub async fn my_cases(st: &AppState, person: &Person) -> AppResult<Vec<CaseRecord>> {
    let Some(patient) = person.session.patient_id else { return Ok(vec![]) };
    let mut out = vec![];
    for s in st.store.cases_for_patient(patient).await? {
        if let Some(record) = st.store.case(s.case_id).await?
            && may_see(patient, &record.case)
        {
            out.push(record);
        }
    }
    out.sort_by_key(|r| std::cmp::Reverse(r.case.admitted_at));
    let entries: Vec<PersonAccess> =
        out.iter().map(|r| person.entry(st, "person.cases", Some(r.case.id), Outcome::Allowed)).collect();
    st.store.log_person_access(&entries).await?;
    Ok(out)
}

/// One of the person's cases. Another person's case, or one that does not exist, is the same
/// "not found" (nothing is hinted), and the attempt is logged.
pub async fn my_case(st: &AppState, person: &Person, id: Uuid) -> AppResult<CaseRecord> {
    let record = st.store.case(id).await?;
    let mine = person.session.patient_id.zip(record.as_ref()).is_some_and(|(p, r)| may_see(p, &r.case));
    let Some(record) = record.filter(|_| mine) else {
        st.store.log_person_access(&[person.entry(st, "person.case", Some(id), Outcome::Denied)]).await?;
        return Err(AppError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "Vi hittar inte det du söker. Gå tillbaka till din startsida.",
            "Not found.",
        ));
    };
    st.store.log_person_access(&[person.entry(st, "person.case", Some(id), Outcome::Allowed)]).await?;
    Ok(record)
}

/// The directory's entries of the units a case's person may contact (phone, opening hours).
pub async fn contact_entries(st: &AppState, ids: &[Uuid]) -> AppResult<Vec<Unit>> {
    let units = st.store.units().await?;
    Ok(ids.iter().filter_map(|id| units.iter().find(|u| u.id == *id).cloned()).collect())
}

/// Who has read the person's data: the staff access log's entries of reads allowed, newest
/// first (patientdatalagen gives the person the right to this extract). Asking is logged.
pub async fn who_read_my_data(st: &AppState, person: &Person) -> AppResult<Vec<AccessEntry>> {
    let Some(patient) = person.session.patient_id else { return Ok(vec![]) };
    let filter = AccessFilter { patient_id: Some(patient), limit: 500, ..Default::default() };
    // What the person did themself (their consents) is not someone reading about them.
    let entries: Vec<AccessEntry> = st
        .store
        .access_log(&filter)
        .await?
        .into_iter()
        .filter(|e| e.outcome == Outcome::Allowed && e.role != Some(samverka_domain::access::Role::Person))
        .collect();
    st.store.log_person_access(&[person.entry(st, "person.log_extract", None, Outcome::Allowed)]).await?;
    Ok(entries)
}

/// The people a demo installation lets anyone sign in as (the demo's patients with cases);
/// none outside demo mode.
pub async fn demo_persons(st: &AppState) -> AppResult<Vec<(String, String)>> {
    if !st.config.demo_logins {
        return Ok(vec![]);
    }
    Ok(st.store.recent_patients_with_cases(6).await?)
}

/// The person says something in their own case: checked, kept with its log entry, and the
/// open pages of the case's units are told at once.
pub async fn speak(
    st: &AppState,
    person: &Person,
    case_id: Uuid,
    statement: samverka_domain::person::Statement,
) -> AppResult<StatementRecord> {
    let record = my_case(st, person, case_id).await?;
    if !samverka_domain::person::may_speak(&record.case) {
        return Err(AppError::new(
            StatusCode::CONFLICT,
            "case_closed",
            "Planeringen är avslutad. Ring din vårdcentral om du vill något.",
            "The planning is closed; call your health centre.",
        ));
    }
    statement.check()?;
    let now = st.clock.now();
    let said = StatementRecord {
        id: Uuid::now_v7(),
        case_id,
        patient_id: record.case.patient_id,
        statement,
        by_name: person.session.name.clone(),
        at: now,
        reads: vec![],
    };
    let log = person.entry(st, &format!("person.statement.{}", said.statement.kind()), Some(case_id), Outcome::Allowed);
    st.store.add_person_statement(&said, &log).await?;
    st.changed(&record.case);
    Ok(said)
}

/// What the person has said in one of their cases (`mine`, just read through [`my_case`],
/// which logged the read), with who has read it.
pub async fn my_statements(st: &AppState, mine: &CaseRecord) -> AppResult<Vec<StatementRecord>> {
    Ok(st.store.person_statements(mine.case.id).await?)
}

/// The person as the actor of a command in their own case: the patient themself, at the
/// case's ward (the unit that runs the case), named so every history and log says it was them.
fn actor_in(person: &Person, case: &samverka_domain::case::Case) -> samverka_store::Audit {
    let name = format!("{} (själv, med e-legitimation)", person.session.name);
    samverka_store::Audit {
        actor: samverka_domain::actor::Actor {
            user: samverka_domain::actor::UserRef { id: case.patient_id, name },
            unit: case.ward().clone(),
            role: samverka_domain::access::Role::Person,
        },
        assignment_id: None,
        client_address: Some(person.client_address.clone()),
    }
}

/// Carries out the person's command in one of their own cases (`cmd` from the case as it
/// stands; none: nothing to do), as the patient themself, and tells the case's open pages.
async fn act(
    st: &AppState,
    person: &Person,
    case_id: Uuid,
    cmd: impl FnOnce(&samverka_domain::case::Case) -> Option<samverka_domain::case::Command>,
) -> AppResult<CaseRecord> {
    let record = my_case(st, person, case_id).await?;
    let Some(cmd) = cmd(&record.case) else { return Ok(record) };
    let (done, _) = st.store.execute(case_id, &actor_in(person, &record.case), cmd, st.clock.now()).await?;
    st.changed(&done.case);
    Ok(done)
}

/// The person gives a consent themselves: recorded as given by the patient, digitally, with
/// the same effect as one staff record.
pub async fn give_consent(
    st: &AppState,
    person: &Person,
    case_id: Uuid,
    kind: samverka_domain::consent::ConsentKind,
) -> AppResult<CaseRecord> {
    let now = st.clock.now();
    act(st, person, case_id, |_| {
        Some(samverka_domain::case::Command::RecordConsent {
            consent_id: Uuid::now_v7(),
            kind,
            given_by: samverka_domain::consent::ConsentGiver::Patient,
            given_at: now,
            note: "Givet av patienten själv med e-legitimation i Samverka.".into(),
        })
    })
    .await
}

/// The person takes back a consent of theirs; sharing that needs it stops at once.
pub async fn withdraw_consent(
    st: &AppState,
    person: &Person,
    case_id: Uuid,
    kind: samverka_domain::consent::ConsentKind,
) -> AppResult<CaseRecord> {
    act(st, person, case_id, |case| {
        let consent = case.consents.active(kind)?;
        Some(samverka_domain::case::Command::WithdrawConsent { consent_id: consent.id })
    })
    .await
}
