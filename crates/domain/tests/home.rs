//! A coordination at home: a SIP without a hospital stay, its deadline, what it refuses, and
//! its links with discharge cases both ways.

mod common;

use common::{Sim, sip_plan, ts};
use samverka_domain::access::Role;
use samverka_domain::action::Action;
use samverka_domain::agreement::Agreement;
use samverka_domain::case::{
    Case, CaseEvent, CaseKind, Command, OpenCase, OpenHome, Phase, RecordedEvent, sip_in_force_at_home,
};
use samverka_domain::consent::{ConsentGiver, ConsentKind};
use samverka_domain::deadlines::{DeadlineKind, all_deadlines};
use samverka_domain::ids::Kommunkod;
use samverka_domain::message::MessageBody;
use samverka_domain::org::CareType;
use samverka_domain::sip::FollowUpOutcome;
use uuid::Uuid;

fn agreement() -> Agreement {
    Agreement::from_toml(include_str!("../../../agreements/lagens-reservregel.toml")).unwrap()
}

fn consent(sim: &mut Sim, kind: ConsentKind, at: &str) -> Command {
    Command::RecordConsent {
        consent_id: sim.fresh_id(),
        kind,
        given_by: ConsentGiver::Patient,
        given_at: ts(at),
        note: String::new(),
    }
}

fn call(meeting: &str) -> MessageBody {
    MessageBody::KallelseSip {
        meeting_at: ts(meeting),
        place: "Hemma hos personen".into(),
        participants: vec![],
        patient_invited: true,
        relatives_invited: true,
        note: String::new(),
    }
}

/// Started by the vårdcentral, the biståndsenhet invited, called and the SIP drawn up.
fn with_sip_in_force() -> Sim {
    let mut sim = Sim::at_home("2026-11-02 10:00", |w| w.vc.clone(), None);
    let (vc, b) = (sim.world.vc.clone(), sim.world.bistand.clone());
    for kind in [ConsentKind::InformationSharing, ConsentKind::SipCall, ConsentKind::Sip] {
        let c = consent(&mut sim, kind, "2026-11-02 10:05");
        sim.run(&vc, c, "2026-11-02 10:05").unwrap();
    }
    sim.run(&vc, Command::AddParty { unit: b.clone(), reason: "Hemtjänst behövs".into() }, "2026-11-02 10:10").unwrap();
    sim.send(&vc, &[&b], call("2026-11-06 13:00"), "2026-11-03 09:00").unwrap();
    let plan = sip_plan(&sim);
    sim.run(&vc, Command::DrawUpSip { plan }, "2026-11-06 14:00").unwrap();
    sim
}

#[test]
fn a_unit_at_home_starts_a_coordination_invites_with_consent_and_calls_within_the_agreements_days() {
    let mut sim = Sim::at_home("2026-11-02 10:00", |w| w.vc.clone(), None);
    let (vc, b, hsv) = (sim.world.vc.clone(), sim.world.bistand.clone(), sim.world.hemsjukvard.clone());
    let case = sim.case();
    assert_eq!((case.kind(), case.phase()), (CaseKind::Home, Phase::Coordinating));
    assert_eq!(case.parties.iter().map(|p| p.unit.id).collect::<Vec<_>>(), [vc.id]);
    assert_eq!(case.home.as_ref().unwrap().reason, "Behöver både hemsjukvård och hemtjänst");
    // The call is due three calendar days after the start (the fallback rule), owned by the starter.
    let deadlines = all_deadlines(&case, &agreement(), ts("2026-11-03 12:00"));
    assert_eq!(deadlines.iter().map(|d| (d.kind, d.owner)).collect::<Vec<_>>(), [(DeadlineKind::SipCall, Some(vc.id))]);
    assert!(deadlines[0].due > ts("2026-11-05 00:00") && deadlines[0].due <= ts("2026-11-06 00:00"));

    // Inviting another unit shares the person's data: only with their consent.
    let invite =
        |unit: &samverka_domain::actor::UnitRef| Command::AddParty { unit: unit.clone(), reason: "SIP".into() };
    assert_eq!(sim.run(&vc, invite(&b), "2026-11-02 10:10").unwrap_err().code, "consent_required");
    assert!(!sim.case().available(&sim.world.actor(&vc), ts("2026-11-02 10:10")).contains(&Action::AddParty));
    let sharing = consent(&mut sim, ConsentKind::InformationSharing, "2026-11-02 10:11");
    sim.run(&vc, sharing, "2026-11-02 10:11").unwrap();
    sim.run(&vc, invite(&b), "2026-11-02 10:12").unwrap();
    assert!(sim.case().is_party(b.id));

    // The call needs its consent, then reaches the invited unit and one more, with receipts.
    assert_eq!(
        sim.send(&vc, &[&b, &hsv], call("2026-11-06 13:00"), "2026-11-03 09:00").unwrap_err().code,
        "consent_required"
    );
    let c = consent(&mut sim, ConsentKind::SipCall, "2026-11-03 08:55");
    sim.run(&vc, c, "2026-11-03 08:56").unwrap();
    let call_id = sim.send(&vc, &[&b, &hsv], call("2026-11-06 13:00"), "2026-11-03 09:00").unwrap();
    let case = sim.case();
    assert_eq!(case.phase(), Phase::SipCalled);
    assert_eq!(case.message(call_id).unwrap().receipts.len(), 2);
    let met = all_deadlines(&case, &agreement(), ts("2026-11-03 12:00"));
    assert_eq!(met[0].met_at, Some(ts("2026-11-03 09:00")), "the first call meets the deadline");
    // The municipality acknowledges as at discharge.
    sim.run(&b, Command::AcknowledgeMessage { message_id: call_id }, "2026-11-03 10:00").unwrap();
    assert!(sim.case().message(call_id).unwrap().receipt(b.id).unwrap().acknowledged.is_some());

    // Drawn up with the same editor's plan, followed up and closed by the coordinator.
    let plan = sip_plan(&sim);
    assert_eq!(
        sim.run(&b, Command::DrawUpSip { plan: plan.clone() }, "2026-11-06 14:00").unwrap_err().code,
        "consent_required"
    );
    let c = consent(&mut sim, ConsentKind::Sip, "2026-11-06 13:30");
    sim.run(&vc, c, "2026-11-06 13:30").unwrap();
    sim.run(&b, Command::DrawUpSip { plan }, "2026-11-06 14:00").unwrap();
    assert_eq!(sim.case().phase(), Phase::SipDrawnUp);
    let due = all_deadlines(&sim.case(), &agreement(), ts("2026-11-07 12:00"));
    assert_eq!(due.iter().map(|d| d.kind).collect::<Vec<_>>(), [DeadlineKind::SipCall, DeadlineKind::SipFollowUp]);
    // A plan in force is closed at follow-up, not by closing the coordination.
    assert_eq!(
        sim.run(&vc, Command::CloseCase { note: String::new() }, "2026-11-10 10:00").unwrap_err().code,
        "step_out_of_order"
    );
    let close = Command::FollowUpSip { evaluation: "Målen nådda".into(), outcome: FollowUpOutcome::Close };
    sim.run(&vc, close, "2026-12-15 10:00").unwrap();
    assert_eq!(sim.case().phase(), Phase::Closed);
    assert!(matches!(sim.last_event(), CaseEvent::CaseClosed { .. }));
}

#[test]
fn a_coordination_at_home_refuses_what_only_a_hospital_stay_has() {
    let mut sim = Sim::at_home("2026-11-02 10:00", |w| w.bistand.clone(), None);
    let (ward, vc, b) = (sim.world.ward.clone(), sim.world.vc.clone(), sim.world.bistand.clone());
    let c = consent(&mut sim, ConsentKind::InformationSharing, "2026-11-02 10:01");
    sim.run(&b, c, "2026-11-02 10:01").unwrap();
    sim.run(&b, Command::AddParty { unit: vc.clone(), reason: "Läkemedel".into() }, "2026-11-02 10:02").unwrap();
    let notice =
        MessageBody::Inskrivningsmeddelande { estimated_discharge: "2026-11-09".parse().unwrap(), note: String::new() };
    // Not even in the hospital's own role.
    let as_ward = sim.world.actor_as(&b, Role::Vardsamordnare);
    let send =
        Command::SendMessage { message_id: sim.fresh_id(), body: notice, recipients: vec![vc.clone()], corrects: None };
    let err = sim.run_as(as_ward.clone(), send, "2026-11-02 11:00").unwrap_err();
    assert_eq!(err.code, "step_out_of_order");
    assert!(err.message_sv.contains("samordning i hemmet"), "{}", err.message_sv);
    let planning = MessageBody::Planeringsunderlag {
        needs: "Hemtjänst".into(),
        function: String::new(),
        current_insatser: String::new(),
        assessments: String::new(),
        sip_needed: Some(true),
    };
    assert_eq!(sim.send(&vc, &[&b], planning, "2026-11-02 11:00").unwrap_err().code, "step_out_of_order");
    assert_eq!(
        sim.run_as(as_ward, Command::RecordDischarge { at: ts("2026-11-02 11:00") }, "2026-11-02 11:00")
            .unwrap_err()
            .code,
        "step_out_of_order"
    );
    let offered = sim.case().available(&sim.world.actor(&b), ts("2026-11-02 11:00"));
    assert!(offered.contains(&Action::send(samverka_domain::message::MessageKind::Allmant)));
    for never in [Action::Transfer, Action::RecordDischarge, Action::ConfirmNeeds, Action::ContinueAtHome] {
        assert!(!offered.contains(&never), "{never:?} offered at home");
    }
    // A coordination with no plan drawn up may be closed (the need passed).
    sim.run(&b, Command::CloseCase { note: "Flyttade till annan kommun".into() }, "2026-11-20 10:00").unwrap();
    assert_eq!(sim.case().phase(), Phase::Closed);

    // Who may start one: a unit outside hospital, in a role that works with SIPs, with a reason.
    let open = |reason: &str| OpenHome {
        case_id: Uuid::from_u128(77),
        patient_id: Uuid::from_u128(9001),
        kommun: Kommunkod::parse("0184").unwrap(),
        listed_unit: None,
        reason: reason.into(),
        born: None,
        continues: None,
    };
    let now = ts("2026-11-02 10:00");
    assert_eq!(Case::open_home(&open("Behov"), &sim.world.actor(&ward), now).unwrap_err().code, "not_at_home");
    let manager = sim.world.actor_as(&vc, Role::Enhetschef);
    assert_eq!(Case::open_home(&open("Behov"), &manager, now).unwrap_err().code, "role_not_permitted");
    assert_eq!(Case::open_home(&open("  "), &sim.world.actor(&vc), now).unwrap_err().code, "required");
}

#[test]
fn a_sip_in_force_at_home_joins_a_new_discharge_case() {
    let home = with_sip_in_force();
    let home_case = home.case();
    assert!(home_case.sip_in_force());
    assert_eq!(sip_in_force_at_home([&home_case]), Some(home_case.id));
    // Only called, not drawn up: no plan in force yet.
    let mut called = Sim::at_home("2026-11-02 10:00", |w| w.vc.clone(), None);
    called.events.truncate(1);
    assert_eq!(sip_in_force_at_home([&called.case()]), None);
    // A discharge case's own SIP after discharge is not a coordination at home.
    let mut discharged = Sim::admitted("2026-11-02 08:00");
    discharged.notice("2026-11-02 09:00", "2026-11-09");
    assert_eq!(sip_in_force_at_home([&discharged.case(), &home_case]), Some(home_case.id));
    assert_eq!(sip_in_force_at_home([&discharged.case()]), None);

    // The new discharge case carries the link, and the feed's rule sees the person in joint care.
    let world = &home.world;
    let open = OpenCase {
        case_id: Uuid::from_u128(9200),
        patient_id: home_case.patient_id,
        kommun: home_case.kommun.clone(),
        listed_unit: Some(world.vc.id),
        care_type: CareType::Somatic,
        admitted_at: ts("2026-11-20 08:00"),
        needs_assessed_at: None,
        born: home_case.born,
        sip_at_home: sip_in_force_at_home([&home_case]),
    };
    let actor = world.actor(&world.ward);
    let event = Case::open(&open, &actor, ts("2026-11-20 08:00")).unwrap();
    let admitted = Case::from_events(&[RecordedEvent { seq: 1, at: ts("2026-11-20 08:00"), actor, event }]).unwrap();
    assert_eq!((admitted.kind(), admitted.sip_at_home), (CaseKind::Discharge, Some(home_case.id)));

    // Closed at follow-up, the plan is no longer in force.
    let mut closed = with_sip_in_force();
    let vc = closed.world.vc.clone();
    let close = Command::FollowUpSip { evaluation: "Klart".into(), outcome: FollowUpOutcome::Close };
    closed.run(&vc, close, "2026-12-15 10:00").unwrap();
    assert_eq!(sip_in_force_at_home([&closed.case()]), None);
}

#[test]
fn a_sip_from_discharge_continues_at_home() {
    let mut sim = Sim::admitted("2026-11-02 08:00");
    sim.notice("2026-11-02 09:00", "2026-11-09");
    let (ward, vc, b) = (sim.world.ward.clone(), sim.world.vc.clone(), sim.world.bistand.clone());
    sim.ready("2026-11-05 10:00");
    for kind in [ConsentKind::SipCall, ConsentKind::Sip] {
        let c = consent(&mut sim, kind, "2026-11-05 10:30");
        sim.run(&vc, c, "2026-11-05 10:30").unwrap();
    }
    sim.send(&vc, &[&b, &ward], call("2026-11-06 13:00"), "2026-11-05 11:00").unwrap();
    let home_id = Uuid::from_u128(9300);
    let go_on = || Command::ContinueAtHome { home_case: home_id };
    // Not before discharge, not before a plan, not by the ward.
    assert_eq!(sim.run(&vc, go_on(), "2026-11-05 12:00").unwrap_err().code, "step_out_of_order");
    sim.discharge("2026-11-06 12:00");
    assert_eq!(sim.run(&vc, go_on(), "2026-11-06 12:30").unwrap_err().code, "step_out_of_order");
    let plan = sip_plan(&sim);
    sim.run(&vc, Command::DrawUpSip { plan }, "2026-11-06 14:00").unwrap();
    assert_eq!(sim.run(&ward, go_on(), "2026-11-06 15:00").unwrap_err().code, "not_at_home");
    assert!(sim.case().available(&sim.world.actor(&vc), ts("2026-11-06 15:00")).contains(&Action::ContinueAtHome));

    // What goes on: the plan in force, the units outside hospital, the consents under new ids.
    let discharge = sim.case();
    let mut next = 0;
    let carried = discharge
        .continuation(|| {
            next += 1;
            Uuid::from_u128(70_000 + next)
        })
        .unwrap();
    assert_eq!(carried.from, discharge.id);
    assert_eq!(carried.plan.plan, discharge.sip.current().unwrap().plan);
    assert!(carried.parties.iter().all(|u| u.id != ward.id), "the ward stays with the stay");
    assert!(carried.parties.iter().any(|u| u.id == b.id) && carried.parties.iter().any(|u| u.id == vc.id));
    assert_eq!(carried.consents.len(), 2);
    assert!(carried.consents.iter().all(|c| discharge.consents.get(c.id).is_none()));

    sim.run(&vc, go_on(), "2026-11-06 15:00").unwrap();
    let closed = sim.case();
    assert_eq!((closed.phase(), closed.continued_at_home), (Phase::Closed, Some(home_id)));
    assert_eq!(sim.run(&vc, go_on(), "2026-11-06 15:01").unwrap_err().code, "step_out_of_order");

    let mut home = Sim::at_home("2026-11-06 15:00", |w| w.vc.clone(), Some(carried.clone()));
    let case = home.case();
    assert_eq!(case.phase(), Phase::SipDrawnUp);
    assert_eq!(case.home.as_ref().unwrap().continues_from, Some(discharge.id));
    assert_eq!(case.sip.current().unwrap().plan, carried.plan.plan);
    assert!(case.is_party(b.id) && !case.is_party(ward.id));
    // No new call is due: the plan exists. Its follow-up is, owned by the coordinator.
    let due = all_deadlines(&case, &agreement(), ts("2026-11-07 12:00"));
    assert_eq!(due.iter().map(|d| (d.kind, d.owner)).collect::<Vec<_>>(), [(DeadlineKind::SipFollowUp, Some(vc.id))]);
    // A new version needs no new call, and the consent came along.
    let mut revised = sip_plan(&home);
    revised.own_goals = "Klara trappan".into();
    let home_sips = |case: &Case| {
        samverka_domain::followup::CaseFacts::of(case, &agreement(), ts("2026-11-21 10:00")).unwrap().totals.home_sips
    };
    assert_eq!(home_sips(&home.case()), 0, "the plan brought along is counted at the discharge");
    home.run(&b, Command::DrawUpSip { plan: revised }, "2026-11-20 10:00").unwrap();
    assert_eq!(home.case().sip.versions.len(), 2);
    assert_eq!(home_sips(&home.case()), 1, "a plan drawn up at home is");
}

#[test]
fn the_person_sees_a_coordination_at_home_without_a_hospital_path() {
    use samverka_domain::person::{Standing, overview};
    let home = with_sip_in_force();
    let case = home.case();
    assert_eq!(Standing::of(&case), Standing::Home);
    assert_eq!(Standing::path(&case), [Standing::Home, Standing::Done]);
    let view = overview(&case, ts("2026-11-07 10:00"));
    assert_eq!(view.ward.id, home.world.vc.id, "whom to ask is the unit that started it");
    assert!(view.plan.is_some());
    // A discharge case keeps the whole path.
    assert_eq!(Standing::path(&Sim::admitted("2026-11-02 08:00").case()).len(), 6);
}

#[test]
fn a_coordination_at_home_counts_its_sip_and_whether_it_was_followed_up_in_time() {
    use samverka_domain::followup::CaseFacts;
    let facts = |sim: &Sim| CaseFacts::of(&sim.case(), &agreement(), ts("2026-12-20 12:00")).unwrap();
    // Started, no plan yet: counted to the month it started, under no ward.
    let started = Sim::at_home("2026-10-30 10:00", |w| w.vc.clone(), None);
    let f = facts(&started);
    assert_eq!((f.month, f.ward, f.totals.home_coordinations, f.totals.home_sips), (202610, None, 1, 0));
    assert_eq!((f.totals.episodes, f.totals.older_in_coordination), (0, 1), "88 at the start, no hospital episode");
    // The plan drawn up on 6 November moves it to November.
    let mut home = with_sip_in_force();
    let f = facts(&home);
    assert_eq!((f.month, f.totals.home_sips, f.totals.home_followed_up), (202611, 1, 0));
    // Followed up by the plan's date (15 December), and screened.
    let vc = home.world.vc.clone();
    home.run(
        &vc,
        Command::FollowUpSip {
            evaluation: "Fungerar".into(),
            outcome: FollowUpOutcome::Continue { next_follow_up: "2027-03-01".parse().unwrap() },
        },
        "2026-12-15 16:00",
    )
    .unwrap();
    let screening = samverka_domain::screening::Screening {
        frailty: Some(samverka_domain::screening::Frailty::new(5).unwrap()),
        coordination: None,
        note: String::new(),
    };
    home.run(&vc, Command::RecordScreening { screening }, "2026-12-15 16:05").unwrap();
    let t = facts(&home).totals;
    assert_eq!((t.home_followed_up, t.home_followed_up_in_time, t.older_screened), (1, 1, 1));
    // A day late is not in time.
    let mut late = with_sip_in_force();
    let vc = late.world.vc.clone();
    late.run(
        &vc,
        Command::FollowUpSip { evaluation: "Sent".into(), outcome: FollowUpOutcome::NewPlan },
        "2026-12-16 09:00",
    )
    .unwrap();
    let t = facts(&late).totals;
    assert_eq!((t.home_followed_up, t.home_followed_up_in_time), (1, 0));
}

#[test]
fn a_rounds_note_is_the_cases_and_its_actions_stay_open_until_their_unit_marks_them_done() {
    use samverka_domain::round::{Profession, ProfessionPart, RoundAction, RoundNote};
    let mut sim = with_sip_in_force();
    let (vc, b, hsv) = (sim.world.vc.clone(), sim.world.bistand.clone(), sim.world.hemsjukvard.clone());
    let action = Uuid::now_v7();
    let note = |meeting: Uuid, actions: Vec<RoundAction>| RoundNote {
        forum_id: Uuid::from_u128(1),
        meeting_id: meeting,
        changed: "Har fallit i badrummet".into(),
        professions: vec![ProfessionPart { profession: Profession::Hemtjanst, what: "Tillsyn på kvällen".into() }],
        next_review: jiff::civil::date(2026, 11, 20),
        actions,
    };
    let owned_by_bistand = RoundAction {
        id: action,
        what: "Pröva trygghetslarm".into(),
        owner_unit: b.id,
        owner_name: "Handläggaren".into(),
        due: jiff::civil::date(2026, 11, 13),
    };
    // Only a unit that takes part records a note, and an action is owned by a party.
    let e = sim
        .run(&hsv, Command::RecordRoundNote { note: note(Uuid::from_u128(2), vec![]) }, "2026-11-06 15:00")
        .unwrap_err();
    assert_eq!(e.code, "not_a_party");
    let outside = RoundAction { owner_unit: hsv.id, ..owned_by_bistand.clone() };
    let e = sim
        .run(&vc, Command::RecordRoundNote { note: note(Uuid::from_u128(2), vec![outside]) }, "2026-11-06 15:00")
        .unwrap_err();
    assert_eq!(e.code, "owner_not_a_party");
    sim.run(
        &vc,
        Command::RecordRoundNote { note: note(Uuid::from_u128(2), vec![owned_by_bistand]) },
        "2026-11-06 15:00",
    )
    .unwrap();
    // The next round finds the note before it and the action still open.
    let case = sim.case();
    assert_eq!(case.rounds.before(Uuid::from_u128(3)).unwrap().note.changed, "Har fallit i badrummet");
    assert_eq!(case.rounds.open_actions().map(|a| a.id).collect::<Vec<_>>(), [action]);
    // Only its unit marks it done; offered to that unit alone.
    let done = Command::CompleteRoundAction { action_id: action };
    let at = ts("2026-11-07 09:00");
    assert!(!case.available(&sim.world.actor(&vc), at).contains(&Action::CompleteRoundAction { action_id: action }));
    assert!(case.available(&sim.world.actor(&b), at).contains(&Action::CompleteRoundAction { action_id: action }));
    assert_eq!(sim.run(&vc, done.clone(), "2026-11-07 09:00").unwrap_err().code, "not_action_owner");
    assert_eq!(sim.run(&b, done.clone(), "2026-11-07 09:00").unwrap(), 1);
    assert_eq!(sim.run(&b, done, "2026-11-07 09:05").unwrap(), 0, "done twice changes nothing");
    assert_eq!(sim.case().rounds.open_actions().count(), 0);
    assert!(matches!(sim.last_event(), CaseEvent::RoundActionDone { .. }));
}

#[test]
fn outpatient_psychiatry_starts_a_coordination_and_home_care_takes_part() {
    use samverka_domain::org::UnitKind;
    let psychiatry = common::unit(40, "Psykiatriska öppenvården Solna", UnitKind::Psykiatri, 2321000016);
    let home_care = common::unit(41, "Hemtjänsten Solna norra", UnitKind::Hemtjanst, 2120000000);
    let p = psychiatry.clone();
    let mut sim = Sim::at_home("2026-11-02 10:00", move |_| p.clone(), None);
    assert_eq!(sim.case().kind(), CaseKind::Home);
    let sharing = consent(&mut sim, ConsentKind::InformationSharing, "2026-11-02 10:05");
    sim.run(&psychiatry, sharing, "2026-11-02 10:05").unwrap();
    let invite = Command::AddParty { unit: home_care.clone(), reason: "Hemtjänst varje dag".into() };
    sim.run(&psychiatry, invite, "2026-11-02 10:10").unwrap();
    assert!(sim.case().is_party(home_care.id));
    // Home care's staff see what they may do in it, as any party does.
    let offered = sim.case().available(&sim.world.actor(&home_care), ts("2026-11-02 10:15"));
    assert!(offered.contains(&Action::RecordScreening), "{offered:?}");
}
