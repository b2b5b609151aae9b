//! Follow-up indicators on hand-built cases; each answer is worked out in the comments.

mod common;

use common::{Sim, ts};
use samverka_domain::agreement::Agreement;
use samverka_domain::case::Command;
use samverka_domain::consent::{ConsentGiver, ConsentKind};
use samverka_domain::followup::{AckTotals, CaseFacts, Context, Period, Totals, acknowledgements, indicators};
use samverka_domain::message::{CancelReason, MessageBody};

/// The law's fallback: 24 hours for the notice, 3 calendar days for the SIP call.
const AGREEMENT: &str = include_str!("../../../agreements/lagens-reservregel.toml");

fn agreement() -> Agreement {
    Agreement::from_toml(AGREEMENT).unwrap()
}

fn facts(sim: &Sim) -> Option<CaseFacts> {
    CaseFacts::of(&sim.case(), &agreement(), ts("2026-12-01 12:00"))
}

/// A: notice in time, ready Thu 5 Nov, discharged Sat 7 Nov: 2 days, a weekend discharge,
/// 5 bed-days (2 → 7 Nov); the vårdcentral never named a fast vårdkontakt.
fn case_a() -> Sim {
    let mut s = Sim::admitted("2026-11-02 08:00");
    s.notice("2026-11-02 09:00", "2026-11-09");
    s.ready("2026-11-05 10:00");
    s.discharge("2026-11-07 14:00");
    s
}

/// B: notice 26 hours after admission (late), ready and discharged Wed 4 Nov: day 0.
fn case_b() -> Sim {
    let mut s = Sim::admitted("2026-11-02 08:00");
    s.notice("2026-11-03 10:00", "2026-11-09");
    s.ready("2026-11-04 09:00");
    s.discharge("2026-11-04 15:00");
    s
}

/// C: ready Tue 3 Nov, withdrawn Wed 4 Nov (1 day), ready again Fri 6 Nov, discharged Mon
/// 9 Nov (3 days): 4 days; 7 bed-days.
fn case_c() -> Sim {
    let mut s = Sim::admitted("2026-11-02 08:00");
    s.notice("2026-11-02 09:00", "2026-11-09");
    s.ready("2026-11-03 10:00");
    s.withdraw("2026-11-04 10:00");
    s.ready("2026-11-06 10:00");
    s.discharge("2026-11-09 11:00");
    s
}

/// F: fast vårdkontakt named, SIP needed, called within 3 days and drawn up after the
/// discharge on Fri 6 Nov: 1 day ready, 4 bed-days.
fn case_f() -> Sim {
    let mut s = Sim::admitted("2026-11-02 08:00");
    s.notice("2026-11-02 09:00", "2026-11-09");
    let (ward, vc, b) = (s.world.ward.clone(), s.world.vc.clone(), s.world.bistand.clone());
    let fvk = MessageBody::FastVardkontakt {
        name: "Eva Lund".into(),
        role: "distriktssköterska".into(),
        phone: "08-123 45 67".into(),
        note: String::new(),
    };
    s.send(&vc, &[&ward, &b], fvk, "2026-11-02 13:00").unwrap();
    let ready =
        MessageBody::Utskrivningsklar { referrals_cancelled: true, sip_needed: Some(true), note: String::new() };
    s.send(&ward, &[&b, &vc], ready, "2026-11-05 10:00").unwrap();
    for kind in [ConsentKind::SipCall, ConsentKind::Sip] {
        let consent_id = s.fresh_id();
        let cmd = Command::RecordConsent {
            consent_id,
            kind,
            given_by: ConsentGiver::Patient,
            given_at: ts("2026-11-05 10:30"),
            note: String::new(),
        };
        s.run(&vc, cmd, "2026-11-05 10:30").unwrap();
    }
    let call = MessageBody::KallelseSip {
        meeting_at: ts("2026-11-07 13:00"),
        place: "Hemma".into(),
        participants: vec![],
        patient_invited: true,
        relatives_invited: false,
        note: String::new(),
    };
    s.send(&vc, &[&b], call, "2026-11-05 11:00").unwrap();
    s.discharge("2026-11-06 12:00");
    let plan = common::sip_plan(&s);
    s.run(&vc, Command::DrawUpSip { plan }, "2026-11-07 14:00").unwrap();
    s
}

#[test]
fn each_case_contributes_its_worked_counts() {
    let a = facts(&case_a()).unwrap();
    assert_eq!(a.month, 202611);
    assert_eq!(
        a.totals,
        Totals {
            episodes: 1,
            ready_episodes: 1,
            ready_episodes_with_days: 1,
            ready_days: 2,
            bed_days: 5,
            notices_due: 1,
            notices_in_time: 1,
            fast_contact_due: 1,
            fast_contact_named: 0,
            weekend_discharges: 1,
            ..Totals::default()
        }
    );
    let b = facts(&case_b()).unwrap().totals;
    assert_eq!((b.ready_episodes, b.ready_episodes_with_days, b.ready_days), (1, 0, 0), "day 0");
    assert_eq!((b.notices_due, b.notices_in_time), (1, 0), "26 hours is late");
    assert_eq!((b.bed_days, b.weekend_discharges), (2, 0));
    let c = facts(&case_c()).unwrap().totals;
    assert_eq!((c.ready_days, c.bed_days), (4, 7), "both ready periods count");
    let f = facts(&case_f()).unwrap().totals;
    assert_eq!((f.fast_contact_due, f.fast_contact_named), (1, 1));
    assert_eq!((f.sip_needed, f.sip_called_in_time, f.sip_held), (1, 1, 1));
    assert_eq!((f.ready_days, f.bed_days), (1, 4));
}

#[test]
fn open_cancelled_and_draft_cases_contribute_nothing() {
    let mut open = Sim::admitted("2026-11-02 08:00");
    open.notice("2026-11-02 09:00", "2026-11-09");
    open.ready("2026-11-05 10:00");
    assert_eq!(facts(&open), None, "not yet discharged");

    // A case cancelled before discharge (the patient died) never reaches the figures.
    let mut died = Sim::admitted("2026-11-02 08:00");
    died.notice("2026-11-02 09:00", "2026-11-09");
    let (ward, b) = (died.world.ward.clone(), died.world.bistand.clone());
    let stop = MessageBody::AvbrottIProcessen { reason: CancelReason::PatientDied, note: String::new() };
    died.send(&ward, &[&b], stop, "2026-11-03 09:00").unwrap();
    assert!(died.case().cancelled.is_some());
    assert_eq!(facts(&died), None);
}

#[test]
fn the_indicators_of_four_cases_are_worked_out_by_hand() {
    let mut t = Totals::default();
    for s in [case_a(), case_b(), case_c(), case_f()] {
        t.add(&facts(&s).unwrap().totals);
    }
    // Ready days 2 + 0 + 4 + 1 = 7 over 4 episodes (1.75); SKR leaves out B's day 0: 7 / 3.
    let mut acks = AckTotals::default();
    let mut a = case_a();
    let notice = a.case().messages[0].message.id;
    let b = a.world.bistand.clone();
    a.run(&b, Command::AcknowledgeMessage { message_id: notice }, "2026-11-02 11:30").unwrap();
    // A's notice went to two units (bistånd acknowledged after 2.5 hours, the vårdcentral
    // never), its ready notice to the same two (neither acknowledged).
    for x in acknowledgements(&a.case()) {
        acks.add(&AckTotals::of(&x));
    }
    assert_eq!(acks, AckTotals { notices: 4, acknowledged: 1, minutes: 150, within_day: 1 });

    let ctx = Context { residents_65_plus: Some(14_000), available_bed_days: Some(20 * 30) };
    let ind = indicators(&t, &acks, &ctx);
    let value = |key: &str| ind.iter().find(|i| i.key == key).unwrap().value;
    let close = |key: &str, want: f64| {
        let got = value(key).unwrap();
        assert!((got - want).abs() < 1e-9, "{key}: {got} != {want}");
    };
    close("episodes", 4.0);
    close("ready_days", 7.0);
    close("average_days", 1.75);
    close("average_days_skr", 7.0 / 3.0);
    close("notices_in_time", 75.0);
    close("fast_contact", 25.0);
    close("sip_called_in_time", 100.0);
    close("sip_held", 100.0);
    close("weekend_discharges", 25.0);
    // 7 ready days on 20 beds × 30 days of November.
    close("bed_share", 7.0 * 100.0 / 600.0);
    close("days_per_thousand", 7.0 * 1000.0 / 14_000.0);
    close("ack_hours", 2.5);
    close("ack_within_day", 25.0);
    assert!(
        ind.iter().all(|i| i.definition_sv.len() > 40 && i.definition_en.len() > 40),
        "every figure has its definition"
    );

    // Without population or beds, those figures are unknown rather than zero.
    let bare = indicators(&t, &acks, &Context::default());
    assert!(bare.iter().find(|i| i.key == "bed_share").unwrap().value.is_none());
    assert!(bare.iter().find(|i| i.key == "days_per_thousand").unwrap().value.is_none());

    // Subtracting a case's contribution takes it out again.
    t.subtract(&facts(&case_b()).unwrap().totals);
    assert_eq!((t.episodes, t.ready_episodes_with_days, t.ready_days), (3, 3, 7));
    assert_eq!(Totals::from_array(t.to_array()), t);
}

#[test]
fn periods_read_and_count_their_days() {
    assert_eq!(Period::parse("2026-11"), Some(Period::Month { year: 2026, month: 11 }));
    assert_eq!(Period::parse("2026-Q1").unwrap().months(), (202601, 202603));
    assert_eq!(Period::parse("2024").unwrap().days(), 366);
    assert_eq!(Period::parse("2026-02").unwrap().days(), 28);
    for bad in ["2026-13", "2026-Q5", "1999", "nov", ""] {
        assert_eq!(Period::parse(bad), None, "{bad}");
    }
    let trail = Period::parse("2026-02").unwrap().trail(3);
    assert_eq!(trail.iter().map(|p| p.code()).collect::<Vec<_>>(), ["2025-12", "2026-01", "2026-02"]);
    assert_eq!(Period::parse("2026-Q4").unwrap().label_sv(), "kv4 2026");
}
