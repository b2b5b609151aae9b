//! Screening in a case: who may record it, when, what it keeps, and how follow-up counts it.

mod common;

use common::{Sim, ts};
use samverka_domain::access::Role;
use samverka_domain::action::Action;
use samverka_domain::agreement::Agreement;
use samverka_domain::case::{CaseEvent, Command};
use samverka_domain::followup::{CaseFacts, age_on};
use samverka_domain::message::CancelReason;
use samverka_domain::screening::{CoordinationNeed, Frailty, Screening};

fn screening(level: Option<u8>) -> Screening {
    Screening {
        frailty: level.map(|l| Frailty::new(l).unwrap()),
        coordination: Some(CoordinationNeed { both_principals: true, ..Default::default() }),
        note: " Hembesök ".into(),
    }
}

fn record(level: Option<u8>) -> Command {
    Command::RecordScreening { screening: screening(level) }
}

#[test]
fn a_party_records_a_screening_with_who_and_when() {
    let mut sim = Sim::admitted("2026-11-02 08:00");
    sim.notice("2026-11-02 09:00", "2026-11-09");
    let vc = sim.world.vc.clone();
    assert!(sim.case().available(&sim.world.actor(&vc), ts("2026-11-03 10:00")).contains(&Action::RecordScreening));
    sim.run(&vc, record(Some(6)), "2026-11-03 10:00").unwrap();
    assert!(matches!(sim.last_event(), CaseEvent::ScreeningRecorded { .. }));
    let case = sim.case();
    let kept = &case.screenings[0];
    assert_eq!(kept.screening.frailty.map(Frailty::level), Some(6));
    assert_eq!(kept.screening.note, "Hembesök", "the note is trimmed");
    assert_eq!(
        (kept.recorded.by.name.as_str(), kept.recorded.at),
        ("Användare på Vårdcentralen Råsunda", ts("2026-11-03 10:00"))
    );
    // Another later: both are kept, oldest first.
    sim.run(&vc, record(Some(7)), "2026-11-10 10:00").unwrap();
    assert_eq!(sim.case().screenings.iter().map(|s| s.screening.frailty.unwrap().level()).collect::<Vec<_>>(), [6, 7]);
}

#[test]
fn a_screening_is_refused_outside_the_case_without_the_role_in_an_ended_case_or_empty() {
    let mut sim = Sim::admitted("2026-11-02 08:00");
    sim.notice("2026-11-02 09:00", "2026-11-09");
    let (ward, vc, rehab) = (sim.world.ward.clone(), sim.world.vc.clone(), sim.world.rehab.clone());
    let at = "2026-11-03 10:00";
    let outsider = sim.world.actor(&rehab);
    assert_eq!(sim.run_as(outsider.clone(), record(Some(4)), at).unwrap_err().code, "not_a_party");
    assert!(!sim.case().available(&outsider, ts(at)).contains(&Action::RecordScreening));
    // A manager of a unit in the case reads it but does not screen.
    let manager = sim.world.actor_as(&vc, Role::Enhetschef);
    assert_eq!(sim.run_as(manager.clone(), record(Some(4)), at).unwrap_err().code, "role_not_permitted");
    assert!(!sim.case().available(&manager, ts(at)).contains(&Action::RecordScreening));
    let nothing =
        Command::RecordScreening { screening: Screening { frailty: None, coordination: None, note: String::new() } };
    assert_eq!(sim.run(&vc, nothing, at).unwrap_err().code, "nothing_screened");
    // Once the case has ended, nothing more is recorded in it.
    let end = samverka_domain::message::MessageBody::AvbrottIProcessen {
        reason: CancelReason::PatientDied,
        note: String::new(),
    };
    let bistand = sim.world.bistand.clone();
    sim.send(&ward, &[&bistand, &vc], end, "2026-11-03 11:00").unwrap();
    assert_eq!(sim.run(&vc, record(Some(4)), "2026-11-03 12:00").unwrap_err().code, "step_out_of_order");
    assert!(sim.case().screenings.is_empty());
}

/// A discharged case where a SIP was needed, for a person born on `born`.
fn in_coordination(born: Option<jiff::civil::Date>) -> Sim {
    let mut sim = Sim::admitted("2026-11-02 08:00");
    if let CaseEvent::CaseOpened { born: b, .. } = &mut sim.events[0].event {
        *b = born;
    }
    sim.notice("2026-11-02 09:00", "2026-11-09");
    let (ward, vc, b) = (sim.world.ward.clone(), sim.world.vc.clone(), sim.world.bistand.clone());
    let ready = samverka_domain::message::MessageBody::Utskrivningsklar {
        referrals_cancelled: true,
        sip_needed: Some(true),
        note: String::new(),
    };
    sim.send(&ward, &[&b, &vc], ready, "2026-11-05 10:00").unwrap();
    sim.discharge("2026-11-06 12:00");
    sim
}

#[test]
fn follow_up_counts_persons_65_and_older_in_coordination_and_those_screened_for_frailty() {
    let agreement = Agreement::from_toml(include_str!("../../../agreements/lagens-reservregel.toml")).unwrap();
    let counts = |sim: &Sim| {
        let t = CaseFacts::of(&sim.case(), &agreement, ts("2026-12-01 12:00")).unwrap().totals;
        (t.older_in_coordination, t.older_screened)
    };
    let date = jiff::civil::date;
    // 88 at admission, not screened; then screened for frailty after discharge, at home.
    let mut old = in_coordination(Some(date(1938, 3, 1)));
    assert_eq!(counts(&old), (1, 0));
    let vc = old.world.vc.clone();
    let only_coordination = Command::RecordScreening { screening: Screening { frailty: None, ..screening(None) } };
    old.run(&vc, only_coordination, "2026-11-10 10:00").unwrap();
    assert_eq!(counts(&old), (1, 0), "the need for coordination alone is no frailty screening");
    old.run(&vc, record(Some(6)), "2026-11-11 10:00").unwrap();
    assert_eq!(counts(&old), (1, 1));
    // 65 the day after admission is 64 at it; 65 on the day is counted; no birth date, not counted.
    assert_eq!(counts(&in_coordination(Some(date(1961, 11, 3)))), (0, 0));
    assert_eq!(counts(&in_coordination(Some(date(1961, 11, 2)))), (1, 0));
    assert_eq!(counts(&in_coordination(None)), (0, 0));
    // Without a needed SIP the person is not in coordination.
    let mut alone = Sim::admitted("2026-11-02 08:00");
    alone.notice("2026-11-02 09:00", "2026-11-09");
    alone.discharge("2026-11-06 12:00");
    assert_eq!(counts(&alone), (0, 0));
}

#[test]
fn age_is_whole_years_at_the_date() {
    let date = jiff::civil::date;
    assert_eq!(age_on(date(1938, 3, 1), date(2026, 2, 28)), 87);
    assert_eq!(age_on(date(1938, 3, 1), date(2026, 3, 1)), 88);
    assert_eq!(age_on(date(1940, 2, 29), date(2026, 2, 28)), 85);
    assert_eq!(age_on(date(1940, 2, 29), date(2026, 3, 1)), 86);
}
