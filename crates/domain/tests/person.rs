//! The person's view of their case (`person::overview`): where it stands, what comes next and
//! when, the meeting they are called to, and whom to contact, through a whole discharge.

mod common;

use common::{Sim, ts};
use samverka_domain::case::Command;
use samverka_domain::consent::{ConsentGiver, ConsentKind};
use samverka_domain::message::MessageBody;
use samverka_domain::person::{Next, Standing, may_see, overview};
use uuid::Uuid;

#[test]
fn the_person_follows_their_discharge_step_by_step() {
    let mut sim = Sim::admitted("2026-11-02 08:00");
    let now = ts("2026-11-02 09:00");
    let case = sim.case();
    let view = overview(&case, now);
    assert_eq!(view.standing, Standing::InHospital);
    assert_eq!(view.next, Next::Planning { expected_home: None });
    assert_eq!(view.contacts.first().map(|u| u.name.as_str()), Some(view.ward.name.as_str()));

    sim.notice("2026-11-02 10:00", "2026-11-09");
    let case = sim.case();
    let view = overview(&case, ts("2026-11-02 11:00"));
    assert_eq!(view.standing, Standing::Told);
    assert_eq!(view.next, Next::Planning { expected_home: Some("2026-11-09".parse().unwrap()) });
    // The ward first, then the vårdcentral, then the municipality's biståndsenhet.
    let kinds: Vec<&str> = view.contacts.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(kinds, ["Avdelning 12, Norrviks sjukhus", "Vårdcentralen Råsunda", "Biståndsenheten Solna"]);

    // A SIP meeting set by the vårdcentral (with the person's consent): it is what comes next,
    // with its video link.
    let (vc, b, ward) = (sim.world.vc.clone(), sim.world.bistand.clone(), sim.ward_now());
    for kind in [ConsentKind::SipCall, ConsentKind::Sip] {
        let consent = Command::RecordConsent {
            consent_id: sim.fresh_id(),
            kind,
            given_by: ConsentGiver::Patient,
            given_at: ts("2026-11-03 08:00"),
            note: String::new(),
        };
        sim.run(&vc, consent, "2026-11-03 08:00").unwrap();
    }
    sim.send(
        &vc,
        &[&b, &ward],
        MessageBody::KallelseSip {
            meeting_at: ts("2026-11-05 13:00"),
            place: "Video: https://mote.region.example/abc".into(),
            participants: vec!["Dottern Eva".into()],
            patient_invited: true,
            relatives_invited: true,
            note: String::new(),
        },
        "2026-11-03 09:00",
    )
    .unwrap();
    let case = sim.case();
    let view = overview(&case, ts("2026-11-03 10:00"));
    assert_eq!(view.next, Next::Meeting { at: ts("2026-11-05 13:00") });
    let meeting = view.meeting.clone().unwrap();
    assert!(meeting.you_are_invited && meeting.relatives_invited);
    assert_eq!(meeting.video_link(), Some("https://mote.region.example/abc"));
    // Once the meeting has passed it is no longer what comes next.
    let view = overview(&case, ts("2026-11-06 10:00"));
    assert_eq!(view.next, Next::Planning { expected_home: Some("2026-11-09".parse().unwrap()) });

    sim.ready("2026-11-08 09:00");
    assert_eq!(overview(&sim.case(), ts("2026-11-08 10:00")).standing, Standing::Ready);
    sim.discharge("2026-11-09 11:00");
    let case = sim.case();
    let view = overview(&case, ts("2026-11-09 12:00"));
    assert_eq!(view.standing, Standing::Home);
    assert_eq!(view.next, Next::Nothing, "no plan drawn up: nothing is promised");
}

#[test]
fn a_person_sees_only_their_own_case() {
    let sim = Sim::admitted("2026-11-02 08:00");
    let case = sim.case();
    assert!(may_see(case.patient_id, &case));
    assert!(!may_see(Uuid::now_v7(), &case));
}

#[test]
fn what_a_person_writes_is_checked() {
    use samverka_domain::person::{MAX_TEXT, Statement};
    let empty = Statement::BeforeMeeting { what_matters: " ".into(), goals: String::new(), who_present: String::new() };
    assert_eq!(empty.check().unwrap_err().field.as_deref(), Some("what_matters"));
    let one = Statement::BeforeMeeting {
        what_matters: String::new(),
        goals: "Gå till affären".into(),
        who_present: String::new(),
    };
    assert!(one.check().is_ok());
    let long = Statement::Question { text: "a".repeat(MAX_TEXT + 1) };
    assert_eq!(long.check().unwrap_err().field.as_deref(), Some("text"));
    assert!(Statement::Question { text: String::new() }.check().is_err());
    assert!(Statement::Attendance { attending: false }.check().is_ok());
}

#[test]
fn news_is_what_the_persons_page_shows_changing_not_every_receipt() {
    use samverka_domain::person::news_key;
    let mut sim = Sim::admitted("2026-11-02 08:00");
    let before = news_key(&sim.case());
    let notice = sim.notice("2026-11-02 10:00", "2026-11-09");
    let told = news_key(&sim.case());
    assert_ne!(before, told, "the municipality was told");
    let b = sim.world.bistand.clone();
    sim.run(&b, Command::AcknowledgeMessage { message_id: notice }, "2026-11-02 11:00").unwrap();
    assert_eq!(news_key(&sim.case()), told, "a receipt is not news to the person");
    sim.ready("2026-11-08 09:00");
    assert_ne!(news_key(&sim.case()), told, "ready for discharge is");
}
