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
use samverka_domain::representative::{Ended, Granter, NewRepresentation, Representation, Share, check_new, may_end};
use samverka_store::{
    AccessEntry, AccessFilter, CaseRecord, Outcome, PersonAccess, PersonSession, StatementRecord, WriteLog,
};
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
            representation_id: None,
        }
    }

    /// An entry for what this person does for the one they represent: in that person's log,
    /// named with their part ("Eva Lund (närstående)").
    fn entry_for(&self, st: &AppState, rep: &Representation, action: &str, case: Option<Uuid>) -> PersonAccess {
        PersonAccess {
            patient_id: Some(rep.patient_id),
            reader_name: self.name_as(rep),
            representation_id: Some(rep.id),
            ..self.entry(st, action, case, Outcome::Allowed)
        }
    }

    /// "Eva Lund (närstående)": how a representative is named to the person and in logs.
    pub fn name_as(&self, rep: &Representation) -> String {
        format!("{} ({})", self.session.name, rep.kind.label_sv())
    }

    /// The entry for reading `viewed`, as the person or as their representative.
    fn read_entry(&self, st: &AppState, action: &str, viewed: &Viewed) -> PersonAccess {
        match &viewed.through {
            None => self.entry(st, action, Some(viewed.record.case.id), Outcome::Allowed),
            Some(rep) => self.entry_for(st, rep, action, Some(viewed.record.case.id)),
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

/// A case read on the person's pages, and through whom: the person themself, or someone they
/// are represented by, who sees only what that representation shares.
#[derive(Debug, Clone)]
pub struct Viewed {
    pub record: CaseRecord,
    pub through: Option<Representation>,
    /// The name of the person the case is about.
    pub about: String,
    /// Places (a meeting at home, the municipality's units) may be shown to this reader: a
    /// protected identity's whereabouts only to the person and to whom they chose themself
    /// (`representative::shows_whereabouts`).
    pub whereabouts: bool,
}

impl Viewed {
    /// Whether this reader may see or do `share` now: the person always, a representative
    /// what their representation shares while it is in force.
    pub fn may(&self, share: Share, now: jiff::Timestamp) -> bool {
        self.through.as_ref().is_none_or(|r| r.may(share, now))
    }
}

/// The representations this signed-in person holds that are in force now.
async fn held(st: &AppState, person: &Person) -> AppResult<Vec<Representation>> {
    let now = st.clock.now();
    Ok(st
        .store
        .representations_held_by(&person.session.personnummer)
        .await?
        .into_iter()
        .filter(|r| r.in_force(now))
        .collect())
}

/// A case as `person` reads it: their own (their session's name; nothing to hide from them,
/// so nothing is read), or through a representation (the patient's name, and whether their
/// whereabouts may be shown, from their record).
async fn viewed(
    st: &AppState,
    person: &Person,
    record: CaseRecord,
    through: Option<Representation>,
) -> AppResult<Viewed> {
    let Some(rep) = &through else {
        return Ok(Viewed { record, through, about: person.session.name.clone(), whereabouts: true });
    };
    let patient = st.store.patient(rep.patient_id).await?;
    let protected = patient.as_ref().is_some_and(|p| p.protection.is_protected());
    let about = patient.map(|p| p.full_name()).unwrap_or_default();
    let whereabouts = samverka_domain::representative::shows_whereabouts(protected, Some(rep));
    Ok(Viewed { record, through, about, whereabouts })
}

/// The person's own cases and those of the people they represent, newest first; each is
/// logged as read (in the log of the one it is about) before it is answered.
pub async fn my_cases(st: &AppState, person: &Person) -> AppResult<Vec<Viewed>> {
    let mut whose: Vec<(Uuid, Option<Representation>)> = vec![];
    if let Some(own) = person.session.patient_id {
        whose.push((own, None));
    }
    whose.extend(held(st, person).await?.into_iter().map(|r| (r.patient_id, Some(r))));
    let mut out = vec![];
    for (patient, through) in whose {
        for s in st.store.cases_for_patient(patient).await? {
            if let Some(record) = st.store.case(s.case_id).await?
                && may_see(patient, &record.case)
            {
                out.push(viewed(st, person, record, through.clone()).await?);
            }
        }
    }
    out.sort_by_key(|v| (v.through.is_some(), std::cmp::Reverse(v.record.case.admitted_at)));
    let entries: Vec<PersonAccess> = out.iter().map(|v| person.read_entry(st, "person.cases", v)).collect();
    st.store.log_person_access(&entries).await?;
    Ok(out)
}

/// One case of the person's, or of someone they represent now. Any other case, or one that
/// does not exist, is the same "not found" (nothing is hinted), and the attempt is logged.
pub async fn my_case(st: &AppState, person: &Person, id: Uuid) -> AppResult<Viewed> {
    let record = st.store.case(id).await?;
    let mut found = None;
    if let Some(record) = record {
        if person.session.patient_id.is_some_and(|p| may_see(p, &record.case)) {
            found = Some(viewed(st, person, record, None).await?);
        } else if let Some(rep) = held(st, person).await?.into_iter().find(|r| may_see(r.patient_id, &record.case)) {
            found = Some(viewed(st, person, record, Some(rep)).await?);
        }
    }
    let Some(viewed) = found else {
        st.store.log_person_access(&[person.entry(st, "person.case", Some(id), Outcome::Denied)]).await?;
        return Err(not_found());
    };
    st.store.log_person_access(&[person.read_entry(st, "person.case", &viewed)]).await?;
    seen(st, person, &viewed).await?;
    Ok(viewed)
}

fn not_found() -> AppError {
    AppError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "Vi hittar inte det du söker. Gå tillbaka till din startsida.",
        "Not found.",
    )
}

/// Refuses what the reader's representation does not share (the person may do everything).
fn require(viewed: &Viewed, share: Share, now: jiff::Timestamp) -> AppResult<()> {
    if viewed.may(share, now) {
        return Ok(());
    }
    Err(AppError::new(
        StatusCode::FORBIDDEN,
        "not_shared",
        "Det här har personen inte delat med dig.",
        "The person has not shared this with you.",
    ))
}

/// The directory's entries of the units a case's person may contact (phone, opening hours).
pub async fn contact_entries(st: &AppState, ids: &[Uuid]) -> AppResult<Vec<Unit>> {
    let units = st.store.units().await?;
    Ok(ids.iter().filter_map(|id| units.iter().find(|u| u.id == *id).cloned()).collect())
}

/// One line of the person's log extract: who read or wrote about them, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadBy {
    pub at: jiff::Timestamp,
    /// The staff member and role, or the representative and their part.
    pub who: String,
    /// The unit; empty for a representative, who reads as themself.
    pub unit: String,
    pub action: String,
}

/// Who has read the person's data, newest first: the staff access log's allowed entries and
/// the reads of the person's representatives (patientdatalagen gives the person the right to
/// this extract). Asking is logged. Only the person themself sees it.
pub async fn who_read_my_data(st: &AppState, person: &Person) -> AppResult<Vec<ReadBy>> {
    let Some(patient) = person.session.patient_id else { return Ok(vec![]) };
    let filter = AccessFilter { patient_id: Some(patient), limit: 500, ..Default::default() };
    // What the person did themself (their consents) is not someone reading about them.
    let mut lines: Vec<ReadBy> = st
        .store
        .access_log(&filter)
        .await?
        .into_iter()
        .filter(|e| e.outcome == Outcome::Allowed && e.role != Some(samverka_domain::access::Role::Person))
        .map(|e: AccessEntry| ReadBy {
            at: e.at,
            who: match e.role {
                Some(r) => format!("{}, {}", e.user_name, r.label_sv()),
                None => e.user_name,
            },
            unit: e.unit_name,
            action: e.action,
        })
        .collect();
    lines.extend(
        st.store
            .person_access_of(patient, 500)
            .await?
            .into_iter()
            .filter(|e| e.representation_id.is_some() && e.outcome == Outcome::Allowed)
            .map(|e| ReadBy { at: e.at, who: e.reader_name, unit: String::new(), action: e.action }),
    );
    lines.sort_by_key(|l| std::cmp::Reverse(l.at));
    st.store.log_person_access(&[person.entry(st, "person.log_extract", None, Outcome::Allowed)]).await?;
    Ok(lines)
}

/// The people a demo installation lets anyone sign in as (the demo's patients with cases);
/// none outside demo mode.
pub async fn demo_persons(st: &AppState) -> AppResult<Vec<(String, String)>> {
    if !st.config.demo_logins {
        return Ok(vec![]);
    }
    let mut listed = st.store.recent_patients_with_cases(6).await?;
    listed.extend(st.store.representatives_in_demo(st.clock.now(), 4).await?);
    Ok(listed)
}

/// The person says something in their own case: checked, kept with its log entry, and the
/// open pages of the case's units are told at once.
pub async fn speak(
    st: &AppState,
    person: &Person,
    case_id: Uuid,
    statement: samverka_domain::person::Statement,
) -> AppResult<StatementRecord> {
    let viewed = my_case(st, person, case_id).await?;
    let now = st.clock.now();
    require(&viewed, Share::Words, now)?;
    let record = &viewed.record;
    if !samverka_domain::person::may_speak(&record.case) {
        return Err(AppError::new(
            StatusCode::CONFLICT,
            "case_closed",
            "Planeringen är avslutad. Ring din vårdcentral om du vill något.",
            "The planning is closed; call your health centre.",
        ));
    }
    statement.check()?;
    let said = StatementRecord {
        id: Uuid::now_v7(),
        case_id,
        patient_id: record.case.patient_id,
        statement,
        by_name: match &viewed.through {
            None => person.session.name.clone(),
            Some(rep) => person.name_as(rep),
        },
        at: now,
        delivered: record.case.parties.iter().map(|p| (p.unit.id, p.unit.name.clone())).collect(),
        opens: vec![],
        reads: vec![],
    };
    let log = person.read_entry(st, &format!("person.statement.{}", said.statement.kind()), &viewed);
    st.store.add_person_statement(&said, &log).await?;
    st.changed(&record.case);
    Ok(said)
}

/// What the person has said in one of their cases (`mine`, just read through [`my_case`],
/// which logged the read), with who has read it; nothing for a representative the words are
/// not shared with.
pub async fn my_statements(st: &AppState, mine: &Viewed) -> AppResult<Vec<StatementRecord>> {
    if !mine.may(Share::Words, st.clock.now()) {
        return Ok(vec![]);
    }
    Ok(st.store.person_statements(mine.record.case.id).await?)
}

/// The person as the actor of a command in their own case: the patient themself, at the
/// case's ward (the unit that runs the case), named so every history and log says it was them.
fn actor_in(person: &Person, viewed: &Viewed) -> samverka_store::Audit {
    let case = &viewed.record.case;
    let (id, name) = match &viewed.through {
        None => (case.patient_id, format!("{} (själv, med e-legitimation)", person.session.name)),
        Some(rep) => {
            (rep.id, format!("{} ({} för patienten, med e-legitimation)", person.session.name, rep.kind.label_sv()))
        }
    };
    samverka_store::Audit {
        actor: samverka_domain::actor::Actor {
            user: samverka_domain::actor::UserRef { id, name },
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
    cmd: impl FnOnce(&Viewed) -> Option<samverka_domain::case::Command>,
) -> AppResult<CaseRecord> {
    let viewed = my_case(st, person, case_id).await?;
    require(&viewed, Share::Consent, st.clock.now())?;
    let Some(cmd) = cmd(&viewed) else { return Ok(viewed.record) };
    let (done, _) = st.store.execute(case_id, &actor_in(person, &viewed), cmd, st.clock.now()).await?;
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
    act(st, person, case_id, |viewed| {
        use samverka_domain::consent::ConsentGiver;
        let (given_by, note) = match &viewed.through {
            None => (ConsentGiver::Patient, "Givet av patienten själv med e-legitimation i Samverka."),
            Some(rep) => (
                ConsentGiver::Representative {
                    name: person.session.name.clone(),
                    relation: rep.kind.label_sv().into(),
                },
                "Givet av patientens företrädare med e-legitimation i Samverka.",
            ),
        };
        Some(samverka_domain::case::Command::RecordConsent {
            consent_id: Uuid::now_v7(),
            kind,
            given_by,
            given_at: now,
            note: note.into(),
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
    act(st, person, case_id, |viewed| {
        let consent = viewed.record.case.consents.active(kind)?;
        Some(samverka_domain::case::Command::WithdrawConsent { consent_id: consent.id })
    })
    .await
}

// ---- representatives: whom the person lets follow them -----------------------------------------

/// Those who represent the person (in force or ended), for the person's own page. Only the
/// person themself sees whom they are represented by; asking is logged.
pub async fn my_representatives(st: &AppState, person: &Person) -> AppResult<Vec<Representation>> {
    let Some(patient) = person.session.patient_id else { return Ok(vec![]) };
    let all = st.store.representations_of(patient).await?;
    st.store.log_person_access(&[person.entry(st, "person.representatives", None, Outcome::Allowed)]).await?;
    Ok(all)
}

/// The person invites a närstående by their personnummer, choosing what they see; the
/// närstående signs in with their own e-legitimation and sees only that.
pub async fn invite(st: &AppState, person: &Person, new: NewRepresentation) -> AppResult<Representation> {
    let Some(patient) = person.session.patient_id else { return Err(not_found()) };
    let now = st.clock.now();
    let existing = st.store.representations_of(patient).await?;
    let checked = check_new(&new, true, &person.session.personnummer, &existing, now)?;
    let rep = Representation {
        id: Uuid::now_v7(),
        patient_id: patient,
        personnummer: checked.personnummer,
        name: new.name.trim().to_string(),
        kind: new.kind,
        shares: checked.shares,
        granted: Granter::Person,
        granted_at: now,
        valid_until: new.valid_until,
        ended: None,
    };
    let log =
        PersonAccess { representation_id: Some(rep.id), ..person.entry(st, "person.invite", None, Outcome::Allowed) };
    st.store.add_representation(&rep, WriteLog::Person(&log)).await?;
    Ok(rep)
}

/// The person ends a representation they chose; from that moment it sees nothing.
pub async fn end_representation(st: &AppState, person: &Person, id: Uuid) -> AppResult<()> {
    let Some(patient) = person.session.patient_id else { return Err(not_found()) };
    let rep = st.store.representations_of(patient).await?.into_iter().find(|r| r.id == id).ok_or_else(not_found)?;
    may_end(&rep, true)?;
    let ended = Ended { at: st.clock.now(), by: person.session.name.clone(), reason: String::new() };
    let log = PersonAccess {
        representation_id: Some(id),
        ..person.entry(st, "person.end_representation", None, Outcome::Allowed)
    };
    st.store.end_representation(id, &ended, WriteLog::Person(&log)).await?;
    Ok(())
}

// ---- told by e-mail -----------------------------------------------------------------------------------

/// At least this long between two mails to one person: news in between waits for the next.
const NOTICE_GAP_HOURS: i64 = 12;

/// How often the sweep looks for news to tell.
const NOTICE_TICK: std::time::Duration = std::time::Duration::from_secs(60);

/// Whether this installation can send e-mail at all; without it, nobody is offered notices.
pub fn notices_offered(st: &AppState) -> bool {
    st.config.mail.is_some()
}

/// The address the person is told at, if they asked to be.
pub async fn my_notice(st: &AppState, person: &Person) -> AppResult<Option<String>> {
    let Some(patient) = person.session.patient_id else { return Ok(None) };
    Ok(st.store.person_notice(patient).await?.map(|n| n.email))
}

/// The news key of each of the patient's cases now (see `person::news_key`).
async fn news_keys(st: &AppState, patient: Uuid) -> AppResult<Vec<(Uuid, String)>> {
    let mut keys = vec![];
    for s in st.store.cases_for_patient(patient).await? {
        if let Some(record) = st.store.case(s.case_id).await? {
            keys.push((record.case.id, samverka_domain::person::news_key(&record.case)));
        }
    }
    Ok(keys)
}

/// The person asks to be told by e-mail that something new waits (`Some(address)`), in the
/// language they read now, or stops (`None`, and the address is removed). What is there
/// already is not news.
pub async fn set_notice(st: &AppState, person: &Person, email: Option<&str>, lang: &str) -> AppResult<()> {
    let Some(patient) = person.session.patient_id else { return Err(not_found()) };
    if !notices_offered(st) {
        return Err(AppError::new(
            StatusCode::CONFLICT,
            "notices_unavailable",
            "Här kan vi inte skicka e-post.",
            "E-mail cannot be sent from here.",
        ));
    }
    let email = match email.map(str::trim) {
        Some(e) if e.parse::<lettre::Address>().is_ok() && e.len() <= 254 => Some(e),
        Some(_) => {
            return Err(AppError::invalid(
                "email",
                "invalid_email",
                "Skriv en e-postadress, till exempel namn@exempel.se.",
                "Write an e-mail address, for example name@example.se.",
            ));
        }
        None => None,
    };
    let seen = news_keys(st, patient).await?;
    let action = if email.is_some() { "person.notice_on" } else { "person.notice_off" };
    let log = person.entry(st, action, None, Outcome::Allowed);
    st.store.set_person_notice(patient, email.map(|e| (e, lang)), &seen, st.clock.now(), &log).await?;
    Ok(())
}

/// The person has just read their own case: what it shows is no longer news. Only kept for a
/// person who asked to be told; on a full disk reading goes on.
pub async fn seen(st: &AppState, person: &Person, viewed: &Viewed) -> AppResult<()> {
    let Some(patient) = person.session.patient_id.filter(|_| viewed.through.is_none()) else { return Ok(()) };
    if !notices_offered(st) || st.store.person_notice(patient).await?.is_none() {
        return Ok(());
    }
    let key = samverka_domain::person::news_key(&viewed.record.case);
    match st.store.mark_person_seen(patient, &[(viewed.record.case.id, key)]).await {
        Ok(()) | Err(samverka_store::StoreError::DiskFull) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Queues one mail for each person who asked to be told and has something new they have not
/// seen, at most one per person in [`NOTICE_GAP_HOURS`]. The mail says only that something
/// new waits, and where to sign in: never what, nor which care. Returns how many were told.
pub async fn notify_news(st: &AppState) -> AppResult<usize> {
    let now = st.clock.now();
    let mut told = 0;
    for n in st.store.person_notices().await? {
        if n.last_mailed_at.is_some_and(|t| now.duration_since(t) < SignedDuration::from_hours(NOTICE_GAP_HOURS)) {
            continue;
        }
        let seen = st.store.person_seen(n.patient_id).await?;
        let keys = news_keys(st, n.patient_id).await?;
        if keys.iter().all(|k| seen.contains(k)) {
            continue;
        }
        let t = crate::texts::texts(crate::texts::Lang::parse(&n.lang).unwrap_or(crate::texts::Lang::SV));
        let link = match &st.config.public_url {
            Some(url) => format!("{}/min", url.trim_end_matches('/')),
            None => t.get("person.mail_where").to_string(),
        };
        let mail = samverka_store::Mail {
            id: Uuid::now_v7(),
            to: n.email.clone(),
            subject: t.get("person.mail_subject").to_string(),
            body: t.fill("person.mail_body", &[("link", &link)]),
        };
        st.store.queue_person_notice(n.patient_id, &mail, &keys, now).await?;
        told += 1;
    }
    Ok(told)
}

/// Tells people of news, every minute, for as long as the server runs, from one process at a
/// time.
pub async fn run_notices(st: AppState) {
    let poll = NOTICE_TICK / 6;
    crate::cluster::repeat(st, samverka_store::Job::PersonNotices, NOTICE_TICK, poll, |st| async move {
        if let Err(e) = notify_news(&st).await {
            tracing::warn!(error = %e.en, "person notices failed; trying again");
        }
        Ok(())
    })
    .await
}
