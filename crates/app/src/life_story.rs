//! The person's life story (levnadsberättelse), on both sides: the person writes it and
//! chooses whether to share it on their own pages; staff of a unit that takes part in a case
//! of theirs read it while it is shared, and may write it down with the person. What a unit may
//! read is `samverka_domain::life_story::may_read`; every read and write is logged.

use samverka_domain::Problem;
use samverka_domain::access::{Permission, permits};
use samverka_domain::case::CaseId;
use samverka_domain::life_story::{self, Author, Part, Sharing, Story, Version};
use samverka_domain::patient::Patient;
use samverka_store::{LifeStory, Outcome, PersonAccess, WriteLog};

use crate::audit::{refuse, refused_write, require};
use crate::auth::Caller;
use crate::cases::read_case;
use crate::error::AppResult;
use crate::person::Person;
use crate::state::AppState;

/// What a unit sees of the life story of a case's person: the latest version and who wrote
/// which version when. The earlier versions' text stays the person's.
#[derive(Debug, Clone)]
pub struct ForCase {
    pub patient: Patient,
    /// The latest version, only while the person shares it with this unit.
    pub latest: Option<Version>,
    /// Every version newest first, without its text: number, when, by whom (while shared).
    pub history: Vec<(u32, jiff::Timestamp, Author)>,
    /// Why the unit does not see it, when it does not.
    pub withheld: Option<Problem>,
    /// The latest version's number, shared or not: a new version is written on top of it.
    pub version: u32,
    /// Whether the caller may write a version with the person (their role records consent,
    /// their unit takes part, and the person has a number the story can follow).
    pub may_write: bool,
}

/// The life story of a case's person, for a member of staff whose unit may read the case:
/// logged as a read of the case, and shown only while the person shares it and the unit takes
/// part in the case (an emergency grant to the case does not reach the life story).
pub async fn for_case(st: &AppState, caller: &Caller, id: CaseId) -> AppResult<ForCase> {
    let (record, patient) = read_case(st, caller, id, "life_story.read").await?;
    let party = record.case.is_party(caller.actor.unit.id);
    let withheld = |patient, withheld, version, may_write| ForCase {
        patient,
        latest: None,
        history: vec![],
        withheld: Some(withheld),
        version,
        may_write,
    };
    let number = match life_story::person_number(&patient.identifier) {
        Ok(n) => n.to_string(),
        Err(p) => return Ok(withheld(patient, p, 0, false)),
    };
    let kept = st.store.life_story(&number).await?;
    let (version, may_write) = (kept.version(), party && permits(caller.actor.role, Permission::RecordConsent));
    if let Err(p) = life_story::may_read(kept.sharing.as_ref(), party) {
        return Ok(withheld(patient, p, version, may_write));
    }
    let history = kept.versions.iter().rev().map(|v| (v.version, v.written_at, v.written_by.clone())).collect();
    Ok(ForCase { patient, latest: kept.versions.into_iter().last(), history, withheld: None, version, may_write })
}

/// What staff write down with the person: the parts, the version they saw, and whether the
/// person said yes to sharing it (needed when it is not shared already).
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WrittenWithPerson {
    /// Each part's text by its name (`who_i_am`, `family`, `work`, `interests`, `habits`,
    /// `joys`, `worries`, `for_staff`).
    pub parts: std::collections::BTreeMap<String, String>,
    /// The version the writer started from (0 for the first).
    pub seen_version: u32,
    /// The person agrees that the story is shared with the units that take part in their care.
    #[serde(default)]
    pub person_agrees: bool,
}

/// The parts of a form or body by name; a name that is no part is refused.
pub fn parts_of(written: &std::collections::BTreeMap<String, String>) -> Result<Story, Problem> {
    let mut parts = vec![];
    for (name, text) in written {
        let part = Part::parse(name).ok_or_else(|| {
            Problem::invalid_field(
                name,
                "unknown_part",
                "Den delen finns inte i en levnadsberättelse.",
                "A life story has no such part.",
            )
        })?;
        parts.push((part, text.as_str()));
    }
    Story::checked(parts)
}

/// A member of staff writes a new version with the person, in a case their unit takes part
/// in; the person's word that it may be shared is recorded with it when needed. Returns the
/// new version's number.
pub async fn write_with_person(
    st: &AppState,
    caller: &Caller,
    id: CaseId,
    written: WrittenWithPerson,
) -> AppResult<u32> {
    const ACTION: &str = "life_story.write";
    require(st, caller, Permission::RecordConsent, ACTION, None, Some(id)).await?;
    let (record, patient) = read_case(st, caller, id, ACTION).await?;
    let refused = |p| refuse(st, caller, ACTION, Some(patient.id), Some(id), p);
    let number = match life_story::person_number(&patient.identifier) {
        Ok(n) => n,
        Err(p) => return Err(refused(p).await),
    };
    let story = match parts_of(&written.parts) {
        Ok(s) => s,
        Err(p) => return Err(refused(p).await),
    };
    // A unit outside the care (an emergency grant reaches the case) is refused unread.
    let party = record.case.is_party(caller.actor.unit.id);
    let kept = if party { st.store.life_story(number).await? } else { LifeStory::default() };
    if let Err(p) = life_story::staff_may_write(kept.sharing.as_ref(), party, written.person_agrees) {
        return Err(refused(p).await);
    }
    let now = st.clock.now();
    let by = Author::Staff {
        name: caller.actor.user.name.clone(),
        unit_id: caller.actor.unit.id,
        unit_name: caller.actor.unit.name.clone(),
    };
    let share = (!kept.shared()).then(|| Sharing { shared: true, at: now, by: by.clone() });
    let version = Version { version: 0, story, written_at: now, written_by: by };
    let log = caller.audit().entry(
        ACTION,
        now,
        Some(patient.id),
        Some(id),
        Outcome::Allowed,
        None,
        patient.protection.is_protected(),
    );
    match st.store.write_life_story(number, written.seen_version, &version, share.as_ref(), WriteLog::Staff(&log)).await
    {
        Ok(n) => Ok(n),
        Err(e) => Err(refused_write(st, caller, ACTION, Some(patient.id), Some(id), e).await),
    }
}

// ---- the person's side ----------------------------------------------------------------------

fn own_entry(st: &AppState, person: &Person, action: &str) -> PersonAccess {
    PersonAccess {
        at: st.clock.now(),
        patient_id: person.session.patient_id,
        case_id: None,
        reader_name: person.session.name.clone(),
        action: action.to_string(),
        outcome: Outcome::Allowed,
        client_address: Some(person.client_address.clone()),
        representation_id: None,
    }
}

/// The signed-in person's own life story (logged in their own log as read).
pub async fn mine(st: &AppState, person: &Person) -> AppResult<LifeStory> {
    let story = st.store.life_story(&person.session.personnummer).await?;
    st.store.log_person_access(&[own_entry(st, person, "person.life_story")]).await?;
    Ok(story)
}

/// The person writes a new version on top of `seen`. Returns its number.
pub async fn write_mine(
    st: &AppState,
    person: &Person,
    written: &std::collections::BTreeMap<String, String>,
    seen: u32,
) -> AppResult<u32> {
    let story = parts_of(written)?;
    let version = Version {
        version: 0,
        story,
        written_at: st.clock.now(),
        written_by: Author::Person { name: person.session.name.clone() },
    };
    let log = own_entry(st, person, "person.life_story.write");
    Ok(st.store.write_life_story(&person.session.personnummer, seen, &version, None, WriteLog::Person(&log)).await?)
}

/// The person shares their story with the units that take part in their care, or stops.
pub async fn share_mine(st: &AppState, person: &Person, shared: bool) -> AppResult<()> {
    let sharing = Sharing { shared, at: st.clock.now(), by: Author::Person { name: person.session.name.clone() } };
    let action = if shared { "person.life_story.share" } else { "person.life_story.unshare" };
    let log = own_entry(st, person, action);
    Ok(st.store.share_life_story(&person.session.personnummer, &sharing, WriteLog::Person(&log)).await?)
}
