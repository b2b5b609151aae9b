//! The discharge case's rules: order of steps, receipts, consent, corrections.

mod common;

use common::{Sim, sip_plan, ts};
use samverka_domain::ProblemKind;
use samverka_domain::action::Action;
use samverka_domain::case::{Command, Phase};
use samverka_domain::consent::{ConsentGiver, ConsentKind};
use samverka_domain::message::{CancelReason, MessageBody, MessageKind};
use samverka_domain::sip::FollowUpOutcome;

#[test]
fn ready_notice_before_admission_notice_is_a_step_out_of_order() {
    let mut sim = Sim::admitted("2026-11-02 08:00");
    let (ward, b) = (sim.world.ward.clone(), sim.world.bistand.clone());
    let err = sim
        .send(
            &ward,
            &[&b],
            MessageBody::Utskrivningsklar { referrals_cancelled: false, sip_needed: None, note: String::new() },
            "2026-11-02 09:00",
        )
        .unwrap_err();
    assert_eq!(err.code, "step_out_of_order");
    assert_eq!(err.kind, ProblemKind::Conflict);
    assert!(err.message_sv.contains("inskrivningsmeddelandet först"), "{}", err.message_sv);
}

#[test]
fn only_the_ward_that_has_the_patient_sends_the_notice() {
    let mut sim = Sim::admitted("2026-11-02 08:00");
    // A nurse in the municipality's home health care has the right role but the wrong unit.
    let (hs, vc) = (sim.world.hemsjukvard.clone(), sim.world.vc.clone());
    let body =
        MessageBody::Inskrivningsmeddelande { estimated_discharge: "2026-11-09".parse().unwrap(), note: String::new() };
    let err = sim.send(&hs, &[&vc], body, "2026-11-02 09:00").unwrap_err();
    assert_eq!(err.code, "not_responsible_ward");
}

#[test]
fn a_second_admission_notice_is_refused_but_a_correction_is_appended() {
    let mut sim = Sim::admitted("2026-11-02 08:00");
    let first = sim.notice("2026-11-02 09:00", "2026-11-09");
    let (ward, b, vc) = (sim.world.ward.clone(), sim.world.bistand.clone(), sim.world.vc.clone());
    let body = MessageBody::Inskrivningsmeddelande {
        estimated_discharge: "2026-11-12".parse().unwrap(),
        note: "Rättat datum".into(),
    };
    assert_eq!(sim.send(&ward, &[&b, &vc], body.clone(), "2026-11-02 10:00").unwrap_err().code, "step_out_of_order");
    let fix = sim.fresh_id();
    sim.run(
        &ward,
        Command::SendMessage { message_id: fix, body, recipients: vec![b, vc], corrects: Some(first) },
        "2026-11-02 10:00",
    )
    .unwrap();
    let case = sim.case();
    // The original is still there, untouched, and points at its correction.
    let original = case.message(first).unwrap();
    assert_eq!(original.corrected_by, vec![fix]);
    assert!(
        matches!(original.message.body, MessageBody::Inskrivningsmeddelande { estimated_discharge, .. } if estimated_discharge.to_string() == "2026-11-09")
    );
    assert_eq!(case.estimated_discharge.unwrap().to_string(), "2026-11-12");
    assert_eq!(case.messages.len(), 2);
    // A corrected message is corrected no further: the latest correction is.
    let again =
        MessageBody::Inskrivningsmeddelande { estimated_discharge: "2026-11-13".parse().unwrap(), note: String::new() };
    let correct = |sim: &mut Sim, of| {
        let (message_id, recipients) = (sim.fresh_id(), vec![sim.world.bistand.clone(), sim.world.vc.clone()]);
        sim.run(
            &ward,
            Command::SendMessage { message_id, body: again.clone(), recipients, corrects: Some(of) },
            "2026-11-02 11:00",
        )
    };
    assert_eq!(correct(&mut sim, first).unwrap_err().code, "already_corrected");
    assert!(correct(&mut sim, fix).is_ok_and(|new_events| new_events > 0));
    assert_eq!(sim.case().estimated_discharge.unwrap().to_string(), "2026-11-13");
}

#[test]
fn opened_and_acknowledged_are_separate_facts_per_recipient() {
    let mut sim = Sim::admitted("2026-11-02 08:00");
    let notice = sim.notice("2026-11-02 09:00", "2026-11-09");
    let (b, vc) = (sim.world.bistand.clone(), sim.world.vc.clone());
    sim.run(&b, Command::OpenMessage { message_id: notice }, "2026-11-02 09:30").unwrap();
    let case = sim.case();
    let m = case.message(notice).unwrap();
    let rb = m.receipt(b.id).unwrap();
    assert_eq!(rb.delivered_at, Some(ts("2026-11-02 09:00")));
    assert_eq!(rb.opened.as_ref().unwrap().at, ts("2026-11-02 09:30"));
    assert!(rb.acknowledged.is_none(), "opening is not acknowledging");
    assert!(m.receipt(vc.id).unwrap().opened.is_none(), "the vårdcentral has not opened it");

    sim.run(&vc, Command::AcknowledgeMessage { message_id: notice }, "2026-11-02 11:00").unwrap();
    let case = sim.case();
    let rvc = case.message(notice).unwrap().receipt(vc.id).unwrap().clone();
    // Acknowledging without opening first records both, by the same person.
    assert_eq!(rvc.opened.as_ref().unwrap().at, ts("2026-11-02 11:00"));
    assert_eq!(rvc.acknowledged.as_ref().unwrap().by.name, "Användare på Vårdcentralen Råsunda");
    // A repeated acknowledgement changes nothing.
    assert_eq!(sim.run(&vc, Command::AcknowledgeMessage { message_id: notice }, "2026-11-02 12:00").unwrap(), 0);
    // A unit that is not a recipient cannot acknowledge.
    let rehab = sim.world.rehab.clone();
    assert_eq!(
        sim.run(&rehab, Command::AcknowledgeMessage { message_id: notice }, "2026-11-02 12:00").unwrap_err().code,
        "not_a_recipient"
    );
}

#[test]
fn mis_sent_messages_cannot_be_acknowledged_and_forwarding_stays_in_the_organisation() {
    let mut sim = Sim::admitted("2026-11-02 08:00");
    let notice = sim.notice("2026-11-02 09:00", "2026-11-09");
    let (b, vc, hs) = (sim.world.bistand.clone(), sim.world.vc.clone(), sim.world.hemsjukvard.clone());
    // Forward within the municipality: the new unit gets its own receipt and joins the case.
    sim.run(
        &b,
        Command::ForwardMessage { message_id: notice, to: hs.clone(), note: "Gäller er".into() },
        "2026-11-02 09:10",
    )
    .unwrap();
    let case = sim.case();
    assert!(case.is_party(hs.id));
    assert_eq!(case.message(notice).unwrap().receipt(hs.id).unwrap().forwarded_from, Some(b.id));
    // Forwarding to another organisation is refused.
    assert_eq!(
        sim.run(
            &b,
            Command::ForwardMessage { message_id: notice, to: sim.world.rehab.clone(), note: String::new() },
            "2026-11-02 09:11"
        )
        .unwrap_err()
        .code,
        "forward_outside_organisation"
    );
    // The vårdcentral marks it mis-sent; it cannot then acknowledge it.
    sim.run(
        &vc,
        Command::MarkMisSent {
            message_id: notice, reason: "Patienten är listad hos oss sedan i går, inte här".into()
        },
        "2026-11-02 09:20",
    )
    .unwrap();
    assert_eq!(
        sim.run(&vc, Command::AcknowledgeMessage { message_id: notice }, "2026-11-02 09:21").unwrap_err().code,
        "step_out_of_order"
    );
    // Nothing else ties the vårdcentral to the case, so it is no longer part of the care;
    // the biståndsenhet, which forwarded the notice and holds it, still is.
    let case = sim.case();
    assert!(!case.is_party(vc.id), "a unit that only got a mis-sent message leaves the case");
    assert!(case.is_party(b.id));
    // Its receipt and the reason stay in the history.
    assert!(case.message(notice).unwrap().receipt(vc.id).unwrap().mis_sent.is_some());
    // Once the case has ended, the patient's data is forwarded to nobody new.
    let ward = sim.world.ward.clone();
    let end = MessageBody::AvbrottIProcessen { reason: CancelReason::PatientDied, note: String::new() };
    sim.send(&ward, &[&b, &hs], end, "2026-11-02 10:00").unwrap();
    let other = common::unit(13, "Hemtjänsten Solna", samverka_domain::org::UnitKind::KommunalHsl, 2120000000);
    let forward = Command::ForwardMessage { message_id: notice, to: other, note: String::new() };
    assert_eq!(sim.run(&b, forward, "2026-11-02 10:05").unwrap_err().code, "step_out_of_order");
}

#[test]
fn a_message_id_belongs_to_the_unit_that_used_it_first() {
    let mut sim = Sim::admitted("2026-11-02 08:00");
    let notice = sim.notice("2026-11-02 09:00", "2026-11-09");
    let (ward, b) = (sim.world.ward.clone(), sim.world.bistand.clone());
    // The ward retrying its own request: already done, nothing new.
    let again =
        MessageBody::Inskrivningsmeddelande { estimated_discharge: "2026-11-09".parse().unwrap(), note: String::new() };
    let retry = Command::SendMessage { message_id: notice, body: again, recipients: vec![b.clone()], corrects: None };
    assert_eq!(sim.run(&ward, retry, "2026-11-02 09:01").unwrap(), 0);
    // Another unit that knows the id gets a conflict, not the message.
    let other = Command::SendMessage {
        message_id: notice,
        body: MessageBody::Allmant { text: "Hej".into() },
        recipients: vec![ward],
        corrects: None,
    };
    assert_eq!(sim.run(&b, other, "2026-11-02 09:02").unwrap_err().code, "message_id_in_use");
}

#[test]
fn sip_call_needs_consent_and_withdrawal_takes_effect_at_once() {
    let mut sim = Sim::admitted("2026-11-02 08:00");
    sim.notice("2026-11-02 09:00", "2026-11-09");
    sim.ready("2026-11-05 10:00");
    let (vc, b) = (sim.world.vc.clone(), sim.world.bistand.clone());
    let call = || MessageBody::KallelseSip {
        meeting_at: ts("2026-11-07 13:00"),
        place: "Video".into(),
        participants: vec![],
        patient_invited: true,
        relatives_invited: false,
        note: String::new(),
    };
    let err = sim.send(&vc, &[&b], call(), "2026-11-05 11:00").unwrap_err();
    assert_eq!((err.kind, err.code), (ProblemKind::ConsentRequired, "consent_required"));
    assert!(err.message_sv.contains("samtycke till kallelse till SIP"), "{}", err.message_sv);

    let consent = sim.fresh_id();
    sim.run(
        &vc,
        Command::RecordConsent {
            consent_id: consent,
            kind: ConsentKind::SipCall,
            given_by: ConsentGiver::Patient,
            given_at: ts("2026-11-05 11:00"),
            note: String::new(),
        },
        "2026-11-05 11:01",
    )
    .unwrap();
    sim.run(&vc, Command::WithdrawConsent { consent_id: consent }, "2026-11-05 11:02").unwrap();
    let err = sim.send(&vc, &[&b], call(), "2026-11-05 11:03").unwrap_err();
    assert!(err.message_sv.contains("har återkallats"), "{}", err.message_sv);

    let again = sim.fresh_id();
    sim.run(
        &vc,
        Command::RecordConsent {
            consent_id: again,
            kind: ConsentKind::SipCall,
            given_by: ConsentGiver::Representative { name: "Karin Berg".into(), relation: "god man".into() },
            given_at: ts("2026-11-05 11:10"),
            note: String::new(),
        },
        "2026-11-05 11:11",
    )
    .unwrap();
    sim.send(&vc, &[&b], call(), "2026-11-05 11:12").unwrap();
    let case = sim.case();
    assert_eq!(case.consents.0.len(), 2, "withdrawn consent stays on record");
    assert!(case.consents.get(consent).unwrap().withdrawn.is_some());
}

#[test]
fn a_withdrawn_consent_to_sharing_stops_every_message_but_the_end_of_the_process() {
    let mut sim = Sim::admitted("2026-11-02 08:00");
    sim.notice("2026-11-02 09:00", "2026-11-09");
    let (ward, vc, b) = (sim.ward_now(), sim.world.vc.clone(), sim.world.bistand.clone());
    let consent = sim.fresh_id();
    let record = |id| Command::RecordConsent {
        consent_id: id,
        kind: ConsentKind::InformationSharing,
        given_by: ConsentGiver::Patient,
        given_at: ts("2026-11-02 10:00"),
        note: String::new(),
    };
    sim.run(&vc, record(consent), "2026-11-02 10:00").unwrap();
    let planning = || MessageBody::Planeringsunderlag {
        needs: "Hemtjänst".into(),
        function: String::new(),
        current_insatser: String::new(),
        assessments: String::new(),
        sip_needed: None,
    };
    sim.send(&ward, &[&b], planning(), "2026-11-02 11:00").unwrap();

    sim.run(&ward, Command::WithdrawConsent { consent_id: consent }, "2026-11-03 08:00").unwrap();
    // Neither the planning nor the statutory notices go on, from the ward or to it.
    let err = sim.send(&ward, &[&b], planning(), "2026-11-03 09:00").unwrap_err();
    assert_eq!((err.kind, err.code), (ProblemKind::ConsentRequired, "consent_withdrawn"));
    assert!(err.message_sv.contains("återkallade sitt samtycke till informationsöverföring 2026-11-03 08:00"));
    let ready = MessageBody::Utskrivningsklar { referrals_cancelled: true, sip_needed: None, note: String::new() };
    assert_eq!(sim.send(&ward, &[&b, &vc], ready.clone(), "2026-11-03 09:00").unwrap_err().code, "consent_withdrawn");
    let question = MessageBody::Allmant { text: "Hur går det?".into() };
    assert_eq!(sim.send(&b, &[&ward], question, "2026-11-03 09:00").unwrap_err().code, "consent_withdrawn");
    let case = sim.case();
    let offered = case.available(&sim.world.actor(&ward), ts("2026-11-03 09:00"));
    assert!(
        !offered.iter().any(|a| matches!(a, Action::Send { kind, .. } if *kind != MessageKind::AvbrottIProcessen)),
        "nothing but the end of the process is offered: {offered:?}"
    );
    // The process can still be ended, which tells the others to stop.
    assert!(offered.contains(&Action::Send { kind: MessageKind::AvbrottIProcessen, corrects: None }));

    // A new consent, given by the person again, opens the way.
    let again = sim.fresh_id();
    sim.run(&vc, record(again), "2026-11-03 10:00").unwrap();
    sim.send(&ward, &[&b, &vc], ready, "2026-11-03 10:05").unwrap();
}

#[test]
fn sip_is_drawn_up_only_after_a_call_and_with_consent_and_then_versions() {
    let mut sim = Sim::admitted("2026-11-02 08:00");
    sim.notice("2026-11-02 09:00", "2026-11-09");
    let (vc, b) = (sim.world.vc.clone(), sim.world.bistand.clone());
    let plan = sip_plan(&sim);
    assert_eq!(
        sim.run(&vc, Command::DrawUpSip { plan: plan.clone() }, "2026-11-05 10:00").unwrap_err().code,
        "step_out_of_order"
    );
    for kind in [ConsentKind::SipCall, ConsentKind::Sip] {
        let id = sim.fresh_id();
        sim.run(
            &vc,
            Command::RecordConsent {
                consent_id: id,
                kind,
                given_by: ConsentGiver::Patient,
                given_at: ts("2026-11-05 09:00"),
                note: String::new(),
            },
            "2026-11-05 09:00",
        )
        .unwrap();
    }
    sim.send(
        &vc,
        &[&b],
        MessageBody::KallelseSip {
            meeting_at: ts("2026-11-06 13:00"),
            place: "Hemma".into(),
            participants: vec![],
            patient_invited: true,
            relatives_invited: true,
            note: String::new(),
        },
        "2026-11-05 09:30",
    )
    .unwrap();
    // A plan without the person's own goals is refused with a message that says what to write.
    let mut no_goals = plan.clone();
    no_goals.own_goals = "  ".into();
    let err = sim.run(&vc, Command::DrawUpSip { plan: no_goals }, "2026-11-06 14:00").unwrap_err();
    assert_eq!(err.field.as_deref(), Some("own_goals"));
    sim.run(&vc, Command::DrawUpSip { plan: plan.clone() }, "2026-11-06 14:00").unwrap();
    let mut v2 = plan;
    v2.needs.push("Trygghetslarm".into());
    sim.run(&b, Command::DrawUpSip { plan: v2 }, "2026-11-07 10:00").unwrap();
    let case = sim.case();
    assert_eq!(case.sip.versions.len(), 2);
    assert_eq!(case.sip.versions[0].plan.needs.len(), 1, "version 1 is kept as it was");
    // Only the coordinating unit follows up.
    let ev = Command::FollowUpSip { evaluation: "Fungerar".into(), outcome: FollowUpOutcome::Close };
    assert_eq!(sim.run(&b, ev.clone(), "2026-12-15 10:00").unwrap_err().code, "not_coordinator");
}

#[test]
fn the_whole_lifecycle_in_order() {
    let mut sim = Sim::admitted("2026-11-02 08:00");
    assert_eq!(sim.case().phase(), Phase::Admitted);
    sim.notice("2026-11-02 09:00", "2026-11-09");
    assert_eq!(sim.case().phase(), Phase::Notified);
    let (vc, b, ward) = (sim.world.vc.clone(), sim.world.bistand.clone(), sim.world.ward.clone());
    sim.send(
        &vc,
        &[&ward, &b],
        MessageBody::FastVardkontakt {
            name: "Eva Lund".into(),
            role: "distriktssköterska".into(),
            phone: "08-123 45 67".into(),
            note: String::new(),
        },
        "2026-11-02 13:00",
    )
    .unwrap();
    assert_eq!(sim.case().phase(), Phase::Planning);
    sim.send(
        &b,
        &[&ward, &vc],
        MessageBody::Planeringsunderlag {
            needs: "Hemtjänst".into(),
            function: String::new(),
            current_insatser: String::new(),
            assessments: String::new(),
            sip_needed: Some(true),
        },
        "2026-11-03 10:00",
    )
    .unwrap();
    sim.ready("2026-11-06 10:00");
    assert_eq!(sim.case().phase(), Phase::ReadyForDischarge);
    sim.withdraw("2026-11-06 18:00");
    assert_eq!(sim.case().phase(), Phase::Planning);
    sim.ready("2026-11-07 10:00");
    for kind in [ConsentKind::SipCall, ConsentKind::Sip] {
        let id = sim.fresh_id();
        sim.run(
            &vc,
            Command::RecordConsent {
                consent_id: id,
                kind,
                given_by: ConsentGiver::Patient,
                given_at: ts("2026-11-07 11:00"),
                note: String::new(),
            },
            "2026-11-07 11:00",
        )
        .unwrap();
    }
    sim.send(
        &vc,
        &[&b, &ward],
        MessageBody::KallelseSip {
            meeting_at: ts("2026-11-10 13:00"),
            place: "Hemma".into(),
            participants: vec![],
            patient_invited: true,
            relatives_invited: true,
            note: String::new(),
        },
        "2026-11-08 10:00",
    )
    .unwrap();
    sim.discharge("2026-11-09 11:00");
    assert_eq!(sim.case().phase(), Phase::SipCalled);
    let plan = sip_plan(&sim);
    sim.run(&vc, Command::DrawUpSip { plan }, "2026-11-10 14:00").unwrap();
    assert_eq!(sim.case().phase(), Phase::SipDrawnUp);
    // Closing the case directly is refused while the SIP is open.
    assert_eq!(
        sim.run(&vc, Command::CloseCase { note: String::new() }, "2026-11-11 10:00").unwrap_err().code,
        "step_out_of_order"
    );
    sim.run(
        &vc,
        Command::FollowUpSip { evaluation: "Målen nådda".into(), outcome: FollowUpOutcome::Close },
        "2026-12-15 10:00",
    )
    .unwrap();
    let case = sim.case();
    assert_eq!(case.phase(), Phase::Closed);
    assert!(case.steps().iter().all(|s| s.done_at.is_some()), "all eight steps done: {:?}", case.steps());
    // Nothing more can happen to a closed case.
    assert_eq!(
        sim.send(&vc, &[&b], MessageBody::Allmant { text: "Hej".into() }, "2026-12-16 10:00").unwrap_err().code,
        "step_out_of_order"
    );
    // Nor is a message in it acknowledged any more (the ward never acknowledged the SIP call),
    // and nothing offers it.
    let call = case.messages.iter().find(|m| matches!(m.message.body, MessageBody::KallelseSip { .. })).unwrap();
    assert!(call.receipt(ward.id).is_some_and(|r| r.acknowledged.is_none()));
    let ack = Command::AcknowledgeMessage { message_id: call.message.id };
    assert_eq!(sim.run(&ward, ack, "2026-12-16 10:00").unwrap_err().code, "step_out_of_order");
    let offered = case.available(&sim.world.actor(&ward), ts("2026-12-16 10:00"));
    assert!(!offered.iter().any(|a| matches!(a, samverka_domain::action::Action::Acknowledge { .. })), "{offered:?}");
}

#[test]
fn history_replays_to_the_same_state_from_stored_json() {
    let mut sim = Sim::admitted("2026-11-02 08:00");
    sim.notice("2026-11-02 09:00", "2026-11-09");
    sim.ready("2026-11-05 10:00");
    let json = serde_json::to_string(&sim.events).unwrap();
    let back: Vec<samverka_domain::case::RecordedEvent> = serde_json::from_str(&json).unwrap();
    assert_eq!(samverka_domain::case::Case::from_events(&back).unwrap(), sim.case());
}

#[test]
fn messages_to_units_outside_the_case_need_consent_to_share() {
    let mut sim = Sim::admitted("2026-11-02 08:00");
    sim.notice("2026-11-02 09:00", "2026-11-09");
    let (b, rehab) = (sim.world.bistand.clone(), sim.world.rehab.clone());
    let err = sim
        .send(&b, &[&rehab], MessageBody::Allmant { text: "Kan ni bedöma?".into() }, "2026-11-03 10:00")
        .unwrap_err();
    assert_eq!(err.kind, ProblemKind::ConsentRequired);
    let id = sim.fresh_id();
    sim.run(
        &b,
        Command::RecordConsent {
            consent_id: id,
            kind: ConsentKind::InformationSharing,
            given_by: ConsentGiver::Patient,
            given_at: ts("2026-11-03 10:00"),
            note: String::new(),
        },
        "2026-11-03 10:00",
    )
    .unwrap();
    sim.send(&b, &[&rehab], MessageBody::Allmant { text: "Kan ni bedöma?".into() }, "2026-11-03 10:05").unwrap();
    assert!(sim.case().is_party(rehab.id));
}

#[test]
fn roles_decide_what_a_party_may_do() {
    use samverka_domain::access::Role;
    let mut sim = Sim::admitted("2026-11-02 08:00");
    sim.notice("2026-11-02 09:00", "2026-11-09");
    let (ward, b, vc) = (sim.world.ward.clone(), sim.world.bistand.clone(), sim.world.vc.clone());
    let ready = || Command::SendMessage {
        message_id: uuid::Uuid::now_v7(),
        body: MessageBody::Utskrivningsklar { referrals_cancelled: true, sip_needed: None, note: String::new() },
        recipients: vec![b.clone(), vc.clone()],
        corrects: None,
    };
    // (role at the ward, may send the ready notice)
    for (role, allowed) in [
        (Role::Vardsamordnare, true),
        (Role::Lakare, true),
        (Role::Sjukskoterska, true),
        (Role::Arbetsterapeut, false),
        (Role::Enhetschef, false),
        (Role::Administrator, false),
        (Role::Mas, false),
    ] {
        let actor = sim.world.actor_as(&ward, role);
        let got = sim.case().decide(&actor, ready(), ts("2026-11-03 10:00"));
        if allowed {
            assert!(got.is_ok_and(|events| !events.is_empty()), "{role:?} may send the ready notice");
        } else {
            assert_eq!(got.unwrap_err().code, "role_not_permitted", "{role:?}");
        }
    }
    // A biståndshandläggare may not name the fast vårdkontakt, even at a party unit.
    let fvk =
        MessageBody::FastVardkontakt { name: "X".into(), role: "Y".into(), phone: "1".into(), note: String::new() };
    let actor = sim.world.actor_as(&vc, Role::Bistandshandlaggare);
    let cmd = Command::SendMessage {
        message_id: uuid::Uuid::now_v7(),
        body: fvk,
        recipients: vec![b.clone()],
        corrects: None,
    };
    assert_eq!(sim.run_as(actor, cmd, "2026-11-03 10:00").unwrap_err().code, "role_not_permitted");
    // An administrator cannot even open a message addressed to the unit.
    let notice = sim.case().messages[0].message.id;
    let actor = sim.world.actor_as(&b, Role::Administrator);
    assert_eq!(
        sim.run_as(actor, Command::OpenMessage { message_id: notice }, "2026-11-03 10:00").unwrap_err().code,
        "role_not_permitted"
    );
}

#[test]
fn a_ready_notice_says_the_referrals_are_cancelled_or_which_remain() {
    let mut sim = Sim::admitted("2026-11-02 08:00");
    sim.notice("2026-11-02 09:00", "2026-11-09");
    let (ward, b) = (sim.world.ward.clone(), sim.world.bistand.clone());
    let ready = |note: &str| MessageBody::Utskrivningsklar {
        referrals_cancelled: false,
        sip_needed: None,
        note: note.to_string(),
    };
    let err = sim.send(&ward, &[&b], ready(" "), "2026-11-05 10:00").unwrap_err();
    assert_eq!((err.code, err.field.as_deref()), ("referrals_open", Some("referrals_cancelled")));
    assert!(err.message_sv.contains("vilka som ligger kvar"), "{}", err.message_sv);
    sim.send(
        &ward,
        &[&b],
        ready("Remissen till minnesmottagningen ligger kvar på patientens begäran."),
        "2026-11-05 10:00",
    )
    .unwrap();
    assert_eq!(sim.case().phase(), Phase::ReadyForDischarge);
}

#[test]
fn a_first_sip_starts_from_what_the_case_says() {
    let mut sim = Sim::admitted("2026-11-02 08:00");
    sim.notice("2026-11-02 09:00", "2026-11-09");
    let (ward, b, vc) = (sim.world.ward.clone(), sim.world.bistand.clone(), sim.world.vc.clone());
    let planning = |needs: &str| MessageBody::Planeringsunderlag {
        needs: needs.into(),
        function: String::new(),
        current_insatser: String::new(),
        assessments: String::new(),
        sip_needed: Some(true),
    };
    assert_eq!(sim.case().sip_draft(), samverka_domain::sip::SipDraft::default(), "nothing known yet");
    sim.send(&ward, &[&b, &vc], planning("Hemtjänst morgon och kväll\n\n  Trygghetslarm "), "2026-11-03 10:00")
        .unwrap();
    sim.send(&ward, &[&b, &vc], planning("Trygghetslarm\nMatdistribution"), "2026-11-04 10:00").unwrap();
    for kind in [ConsentKind::SipCall, ConsentKind::Sip] {
        let consent_id = sim.fresh_id();
        let cmd = Command::RecordConsent {
            consent_id,
            kind,
            given_by: ConsentGiver::Patient,
            given_at: ts("2026-11-04 11:00"),
            note: String::new(),
        };
        sim.run(&vc, cmd, "2026-11-04 11:00").unwrap();
    }
    let call = MessageBody::KallelseSip {
        meeting_at: ts("2026-11-10 13:00"),
        place: "Hemma".into(),
        participants: vec!["Dottern Eva".into(), "Hemtjänstens samordnare".into()],
        patient_invited: true,
        relatives_invited: true,
        note: String::new(),
    };
    sim.send(&b, &[&ward, &vc], call, "2026-11-05 10:00").unwrap();
    let draft = sim.case().sip_draft();
    assert_eq!(draft.needs, ["Hemtjänst morgon och kväll", "Trygghetslarm", "Matdistribution"], "each need once");
    assert_eq!(draft.invited, ["Dottern Eva", "Hemtjänstens samordnare"]);
    assert!(draft.patient_invited);
}
