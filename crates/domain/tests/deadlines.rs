//! Deadlines of the eight steps, with the answer worked out in each test.

mod common;

use common::{Sim, ts};
use samverka_domain::agreement::Agreement;
use samverka_domain::case::Command;
use samverka_domain::consent::{ConsentGiver, ConsentKind};
use samverka_domain::deadlines::{Deadline, DeadlineKind, DeadlineStatus, deadlines};
use samverka_domain::message::MessageBody;
use samverka_domain::org::CareType;

fn agreement(kind: &str) -> Agreement {
    Agreement::from_toml(&format!(
        r#"
id = "t"
name = "t"
[deadlines]
admission_notice_hours = 24
sip_call_days = 3
sip_call_day_kind = "{kind}"
fast_vardkontakt_days = 1
[liability]
model = "per_case"
count_day_zero = false
free_days = [{{ from = 2018-01-01, days = 3 }}]
[liability.amount_per_day]
2026 = 10000
[liability.psychiatry]
model = "per_case"
free_days = [{{ from = 2018-01-01, days = 30 }}]
[liability.exclusions]
without_admission_notice = true
without_ready_notice = true
when_needed_sip_call_missing = false
"#
    ))
    .unwrap()
}

fn find(sim: &Sim, kind: DeadlineKind, agr: &Agreement, now: &str) -> Deadline {
    deadlines(&sim.case(), agr, ts(now))
        .into_iter()
        .find(|d| d.kind == kind)
        .unwrap_or_else(|| panic!("no {kind:?} deadline"))
}

#[test]
fn admission_notice_is_due_24_hours_after_admission() {
    let sim = Sim::admitted("2026-11-02 14:30");
    let agr = agreement("calendar");
    let d = find(&sim, DeadlineKind::AdmissionNotice, &agr, "2026-11-02 15:00");
    assert_eq!(d.due, ts("2026-11-03 14:30"));
    assert_eq!(d.status, DeadlineStatus::Open);
    assert_eq!(d.owner, Some(sim.world.ward.id));
    // One minute after the 24 hours, nothing sent: overdue.
    assert_eq!(find(&sim, DeadlineKind::AdmissionNotice, &agr, "2026-11-03 14:31").status, DeadlineStatus::Overdue);
}

#[test]
fn admission_notice_counts_from_a_later_judgement() {
    let sim = Sim::admitted_with("2026-11-02 14:30", Some("2026-11-04 09:00"), CareType::Somatic);
    let d = find(&sim, DeadlineKind::AdmissionNotice, &agreement("calendar"), "2026-11-04 10:00");
    assert_eq!(d.due, ts("2026-11-05 09:00"));
}

#[test]
fn admission_notice_24_hours_are_real_hours_across_dst() {
    // Admitted the evening before clocks go forward: 24 real hours end at 11:00 local.
    let sim = Sim::admitted("2026-03-28 10:00");
    let d = find(&sim, DeadlineKind::AdmissionNotice, &agreement("calendar"), "2026-03-28 11:00");
    assert_eq!(d.due, ts("2026-03-29 11:00"));
}

#[test]
fn notice_sent_late_is_met_late() {
    let mut sim = Sim::admitted("2026-11-02 08:00");
    sim.notice("2026-11-03 08:00", "2026-11-10");
    // Exactly at the deadline is too late: "within 24 h" means strictly before.
    assert_eq!(
        find(&sim, DeadlineKind::AdmissionNotice, &agreement("calendar"), "2026-11-03 09:00").status,
        DeadlineStatus::MetLate
    );
    let mut sim = Sim::admitted("2026-11-02 08:00");
    sim.notice("2026-11-03 07:59", "2026-11-10");
    assert_eq!(
        find(&sim, DeadlineKind::AdmissionNotice, &agreement("calendar"), "2026-11-03 09:00").status,
        DeadlineStatus::Met
    );
}

#[test]
fn a_case_with_no_admission_notice_shows_it_overdue() {
    let mut sim = Sim::admitted("2026-11-02 08:00");
    sim.discharge("2026-11-06 10:00");
    let all = deadlines(&sim.case(), &agreement("calendar"), ts("2026-11-06 11:00"));
    let notice = all.iter().find(|d| d.kind == DeadlineKind::AdmissionNotice).unwrap();
    assert_eq!(notice.status, DeadlineStatus::Overdue);
    assert_eq!(notice.met_at, None);
}

/// A case whose patient needs a SIP, ready on Friday 20 November 2026 at 14:00.
fn ready_on_friday() -> Sim {
    let mut sim = Sim::admitted("2026-11-16 08:00");
    sim.notice("2026-11-16 09:00", "2026-11-20");
    let (ward, b, vc) = (sim.world.ward.clone(), sim.world.bistand.clone(), sim.world.vc.clone());
    sim.send(
        &ward,
        &[&b, &vc],
        MessageBody::Utskrivningsklar { referrals_cancelled: true, sip_needed: Some(true), note: String::new() },
        "2026-11-20 14:00",
    )
    .unwrap();
    sim
}

#[test]
fn sip_call_within_three_calendar_days() {
    // Friday + 3 calendar days = Monday 23 Nov; due before Tuesday 00:00.
    let sim = ready_on_friday();
    let d = find(&sim, DeadlineKind::SipCall, &agreement("calendar"), "2026-11-21 10:00");
    assert_eq!(d.due, ts("2026-11-24 00:00"));
    assert_eq!(d.owner, Some(sim.world.vc.id));
}

#[test]
fn sip_call_within_three_working_days() {
    // Friday + 3 working days = Wednesday 25 Nov; due before Thursday 00:00.
    let sim = ready_on_friday();
    let d = find(&sim, DeadlineKind::SipCall, &agreement("working"), "2026-11-21 10:00");
    assert_eq!(d.due, ts("2026-11-26 00:00"));
}

#[test]
fn sip_call_made_in_time_is_met() {
    let mut sim = ready_on_friday();
    let (vc, b, ward) = (sim.world.vc.clone(), sim.world.bistand.clone(), sim.world.ward.clone());
    let consent = sim.fresh_id();
    sim.run(
        &vc,
        Command::RecordConsent {
            consent_id: consent,
            kind: ConsentKind::SipCall,
            given_by: ConsentGiver::Patient,
            given_at: ts("2026-11-23 09:00"),
            note: String::new(),
        },
        "2026-11-23 09:05",
    )
    .unwrap();
    sim.send(
        &vc,
        &[&b, &ward],
        MessageBody::KallelseSip {
            meeting_at: ts("2026-11-26 13:00"),
            place: "Avdelning 12, samtalsrummet".into(),
            participants: vec![],
            patient_invited: true,
            relatives_invited: true,
            note: String::new(),
        },
        "2026-11-23 10:00",
    )
    .unwrap();
    let d = find(&sim, DeadlineKind::SipCall, &agreement("calendar"), "2026-11-23 11:00");
    assert_eq!(d.status, DeadlineStatus::Met);
    assert_eq!(d.met_at, Some(ts("2026-11-23 10:00")));
}

#[test]
fn withdrawn_and_regiven_ready_notice_restarts_the_sip_clock() {
    let mut sim = ready_on_friday();
    sim.withdraw("2026-11-21 09:00");
    sim.ready("2026-11-25 10:00");
    let d = find(&sim, DeadlineKind::SipCall, &agreement("calendar"), "2026-11-25 11:00");
    assert_eq!(d.due, ts("2026-11-29 00:00"));
}

#[test]
fn discharge_information_is_due_by_the_end_of_the_discharge_day() {
    let mut sim = Sim::admitted("2026-11-02 08:00");
    sim.notice("2026-11-02 09:00", "2026-11-06");
    // Before discharge: due by the end of the estimated day, marked as an estimate.
    let d = find(&sim, DeadlineKind::DischargeInformation, &agreement("calendar"), "2026-11-03 10:00");
    assert_eq!((d.due, d.estimated), (ts("2026-11-07 00:00"), true));
    // A discharge recorded at 23:50 on 9 Nov leaves ten minutes.
    let ward = sim.world.ward.clone();
    sim.run(&ward, Command::RecordDischarge { at: ts("2026-11-09 23:50") }, "2026-11-09 23:51").unwrap();
    let d = find(&sim, DeadlineKind::DischargeInformation, &agreement("calendar"), "2026-11-09 23:55");
    assert_eq!((d.due, d.estimated, d.status), (ts("2026-11-10 00:00"), false, DeadlineStatus::Open));
    assert_eq!(
        find(&sim, DeadlineKind::DischargeInformation, &agreement("calendar"), "2026-11-10 00:00").status,
        DeadlineStatus::Overdue
    );
}

#[test]
fn after_a_move_the_new_ward_owns_the_discharge_information() {
    let mut sim = Sim::admitted("2026-11-02 08:00");
    sim.notice("2026-11-02 09:00", "2026-11-06");
    let (w1, w2) = (sim.world.ward.clone(), sim.world.ward2.clone());
    sim.run(
        &w1,
        Command::TransferPatient { to_ward: w2.clone(), care_type: CareType::Somatic, at: ts("2026-11-03 12:00") },
        "2026-11-03 12:01",
    )
    .unwrap();
    let agr = agreement("calendar");
    assert_eq!(find(&sim, DeadlineKind::DischargeInformation, &agr, "2026-11-03 13:00").owner, Some(w2.id));
    assert_eq!(find(&sim, DeadlineKind::AdmissionNotice, &agr, "2026-11-03 13:00").owner, Some(w1.id));
    // The old ward can no longer act for the patient; the new one can.
    let refused =
        sim.run(&w1, Command::RecordDischarge { at: ts("2026-11-04 10:00") }, "2026-11-04 10:00").unwrap_err();
    assert_eq!(refused.code, "not_responsible_ward", "{refused:?}");
    assert_eq!(sim.run(&w2, Command::RecordDischarge { at: ts("2026-11-04 10:00") }, "2026-11-04 10:00"), Ok(1));
}

#[test]
fn fast_vardkontakt_is_due_the_day_after_the_notice() {
    let mut sim = Sim::admitted("2026-11-02 08:00");
    sim.notice("2026-11-02 09:00", "2026-11-06");
    let d = find(&sim, DeadlineKind::FastVardkontakt, &agreement("calendar"), "2026-11-02 10:00");
    assert_eq!(d.due, ts("2026-11-04 00:00"));
    assert_eq!(d.owner, Some(sim.world.vc.id));
}

#[test]
fn unmet_deadlines_of_a_cancelled_case_are_dropped() {
    let mut sim = Sim::admitted("2026-11-02 08:00");
    let (ward, b) = (sim.world.ward.clone(), sim.world.bistand.clone());
    sim.send(
        &ward,
        &[&b],
        MessageBody::AvbrottIProcessen {
            reason: samverka_domain::message::CancelReason::PatientDied,
            note: String::new(),
        },
        "2026-11-02 10:00",
    )
    .unwrap();
    assert!(deadlines(&sim.case(), &agreement("calendar"), ts("2026-11-05 10:00")).is_empty());
}
