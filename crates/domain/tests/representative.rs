//! Representatives and närstående: who may set them up, what they may share, and when their
//! access ends.

mod common;

use common::ts;
use samverka_domain::representative::{
    Ended, Granter, Kind, NewRepresentation, Representation, Share, check_new, may_end, shows_whereabouts,
};
use uuid::Uuid;

const PERSON: &str = "194107086995";
const DAUGHTER: &str = "197001022388";

fn new(kind: Kind, shares: &[Share]) -> NewRepresentation {
    NewRepresentation {
        name: "Eva Lund".into(),
        personnummer: DAUGHTER.into(),
        kind,
        shares: shares.to_vec(),
        valid_until: None,
    }
}

fn rep(kind: Kind, granted: Granter, shares: &[Share]) -> Representation {
    Representation {
        id: Uuid::nil(),
        patient_id: Uuid::nil(),
        personnummer: DAUGHTER.into(),
        name: "Eva Lund".into(),
        kind,
        shares: shares.to_vec(),
        granted,
        granted_at: ts("2026-11-02 08:00"),
        valid_until: None,
        ended: None,
    }
}

fn staff() -> Granter {
    Granter::Staff { name: "Bo Berg".into(), unit: Uuid::nil(), unit_name: "Biståndsenheten Solna".into() }
}

#[test]
fn the_person_invites_a_narstaende_and_staff_register_mandates() {
    let now = ts("2026-11-02 09:00");
    let checked = check_new(&new(Kind::Narstaende, &[Share::Plan]), true, PERSON, &[], now).unwrap();
    assert_eq!(checked.shares, [Share::Overview, Share::Plan], "the overview is always shared, once, in order");
    let mut typed = new(Kind::Narstaende, &[]);
    typed.personnummer = " 19700102-2388".into();
    assert_eq!(check_new(&typed, true, PERSON, &[], now).unwrap().personnummer, DAUGHTER, "kept in twelve digits");
    typed.personnummer = "19700102-2385".into();
    assert_eq!(check_new(&typed, true, PERSON, &[], now).unwrap_err().code, "invalid_personnummer");
    assert_eq!(
        check_new(&new(Kind::GodMan, &[]), true, PERSON, &[], now).unwrap_err().code,
        "person_invites_narstaende"
    );
    assert_eq!(
        check_new(&new(Kind::Narstaende, &[]), false, PERSON, &[], now).unwrap_err().code,
        "staff_register_mandates"
    );
    for kind in [Kind::GodMan, Kind::Forvaltare, Kind::Fullmakt] {
        let checked = check_new(&new(kind, &[Share::Consent, Share::Overview]), false, PERSON, &[], now).unwrap();
        assert_eq!(checked.shares, [Share::Overview, Share::Consent]);
    }
}

#[test]
fn a_narstaende_cannot_consent_and_nobody_represents_themself() {
    let now = ts("2026-11-02 09:00");
    let err = check_new(&new(Kind::Narstaende, &[Share::Consent]), true, PERSON, &[], now).unwrap_err();
    assert_eq!((err.code, err.field.as_deref()), ("consent_needs_mandate", Some("shares")));
    let mut own = new(Kind::Narstaende, &[]);
    own.personnummer = PERSON.into();
    assert_eq!(check_new(&own, true, PERSON, &[], now).unwrap_err().code, "self");
    let mut unnamed = new(Kind::Narstaende, &[]);
    unnamed.name = "  ".into();
    assert_eq!(check_new(&unnamed, true, PERSON, &[], now).unwrap_err().code, "name_missing");
    let mut past = new(Kind::GodMan, &[]);
    past.valid_until = Some("2026-11-01".parse().unwrap());
    assert_eq!(check_new(&past, false, PERSON, &[], now).unwrap_err().code, "in_the_past");
}

#[test]
fn access_ends_with_the_mandates_last_day_or_when_ended() {
    let mut r = rep(Kind::GodMan, staff(), &[Share::Overview, Share::Plan]);
    r.valid_until = Some("2026-11-30".parse().unwrap());
    assert!(r.may(Share::Plan, ts("2026-11-30 23:59")), "the whole last day");
    assert!(!r.may(Share::Plan, ts("2026-12-01 00:00")));
    assert!(!r.may(Share::Overview, ts("2026-12-01 00:00")));
    assert!(!r.may(Share::Words, ts("2026-11-10 10:00")), "only what is shared");

    let mut invited = rep(Kind::Narstaende, Granter::Person, &[Share::Overview]);
    assert!(invited.in_force(ts("2027-06-01 10:00")), "no last day: until ended");
    may_end(&invited, true).unwrap();
    invited.ended = Some(Ended { at: ts("2026-11-05 10:00"), by: "personen".into(), reason: String::new() });
    assert!(!invited.in_force(ts("2026-11-05 10:01")));
    assert_eq!(may_end(&invited, true).unwrap_err().code, "already_ended");
}

#[test]
fn the_person_ends_what_they_chose_and_an_appointment_ends_by_decision() {
    let god_man = rep(Kind::GodMan, staff(), &[Share::Overview]);
    assert_eq!(may_end(&god_man, true).unwrap_err().code, "ended_by_decision");
    may_end(&god_man, false).unwrap();
    assert!(!god_man.chosen_by_person(), "protected identity is kept from a god man");
    let fullmakt = rep(Kind::Fullmakt, staff(), &[Share::Overview]);
    assert!(fullmakt.chosen_by_person(), "the person chose whom to give a fullmakt");
    may_end(&fullmakt, true).unwrap();
}

#[test]
fn nobody_is_there_twice_in_the_same_part_while_it_is_in_force() {
    let now = ts("2026-11-02 09:00");
    let mut invited = rep(Kind::Narstaende, Granter::Person, &[Share::Overview]);
    let again = new(Kind::Narstaende, &[Share::Plan]);
    let err = check_new(&again, true, PERSON, std::slice::from_ref(&invited), now).unwrap_err();
    assert_eq!(err.code, "already_there");
    // The same one in another part (a god man who is also family) is another representation.
    check_new(&new(Kind::GodMan, &[]), false, PERSON, std::slice::from_ref(&invited), now).unwrap();
    invited.ended = Some(Ended { at: now, by: "personen".into(), reason: String::new() });
    check_new(&again, true, PERSON, &[invited], now).unwrap();
}

#[test]
fn a_protected_identitys_whereabouts_only_to_the_person_and_whom_they_chose() {
    let god_man = rep(Kind::GodMan, staff(), &[Share::Overview]);
    let invited = rep(Kind::Narstaende, Granter::Person, &[Share::Overview]);
    assert!(shows_whereabouts(false, Some(&god_man)), "nothing to hide without protection");
    assert!(shows_whereabouts(true, None), "the person themself");
    assert!(shows_whereabouts(true, Some(&invited)), "whom the person chose");
    assert!(!shows_whereabouts(true, Some(&god_man)), "not whom the person did not choose");
}
