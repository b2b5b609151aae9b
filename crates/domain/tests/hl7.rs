//! The admission feed's rules: reading real and Swedish ADT messages, and what each means
//! for a case.

mod common;

use common::{Sim, ts};
use jiff::civil::date;
use samverka_domain::case::{Command, Phase};
use samverka_domain::deadlines::{DeadlineKind, deadlines};
use samverka_domain::hl7::adt::{self, AckCode, AdtEvent, Charset, FieldPath, FlagRule, error_code};
use samverka_domain::hl7::plan::{DraftPolicy, Plan, Settings, Situation, plan};
use samverka_domain::ids::personnummer_with_check_digit;
use samverka_domain::message::{CancelReason, MessageBody};
use samverka_domain::org::CareType;

fn read(raw: &[u8], flag: Option<&FlagRule>) -> Result<adt::AdtMessage, adt::Refusal> {
    let (text, cs) = adt::decode(raw)?;
    let msg = adt::parse_text(&text)?;
    adt::read(&msg, cs, flag, None, date(2026, 11, 23))
}

fn pnr() -> String {
    personnummer_with_check_digit(date(1938, 3, 14), 982).as_str().to_string()
}

/// A Swedish-style ADT message: personnummer in PID-3 with the Swedish OID, kommunkod in
/// PID-11.9, ward code in PV1-3.
fn swedish(trigger: &str, control: &str, extra_pv1: &str) -> String {
    format!(
        "MSH|^~\\&|Cosmic|KS|Samverka|Region|20261123083000+0100||ADT^{trigger}^ADT_A01|{control}|P|2.5|||||SWE|UNICODE UTF-8\r\
         EVN|{trigger}|20261123083000+0100\r\
         PID|1||{}^^^&1.2.752.129.2.1.3.1&ISO^PN||Öberg^Åsa||19380314|F|||Storgatan 1^^Solna^^16970^SWE^H^^0184\r\
         PV1|1|I|AVD12^^^KS|||{extra_pv1}\r",
        pnr()
    )
}

#[test]
fn every_public_sample_message_is_read_or_refused_with_a_reason() {
    let dir = samverka_testkit::testdata_dir().join("hl7v2");
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let raw = std::fs::read(&path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let (text, _) = adt::decode(&raw).unwrap_or_else(|r| panic!("{name}: {r:?}"));
        let msg = adt::parse_text(&text).unwrap_or_else(|r| panic!("{name}: {r:?}"));
        let header = adt::header(&msg);
        assert_eq!(header.message_type, "ADT", "{name}");
        assert!(!header.control_id.is_empty(), "{name}");
        // The samples are American: no Swedish identity number, so they cannot be applied.
        let refusal = adt::read(&msg, Charset::Utf8, None, None, date(2026, 11, 23)).unwrap_err();
        if header.trigger == "A40" {
            assert_eq!(refusal.code, error_code::UNSUPPORTED_EVENT, "{name}");
            assert_eq!(refusal.ack, AckCode::AR);
        } else {
            assert_eq!((refusal.code, refusal.location), (error_code::UNKNOWN_KEY, Some("PID-3")), "{name}");
            assert_eq!(refusal.ack, AckCode::AE);
        }
        seen += 1;
    }
    assert_eq!(seen, 9);
}

#[test]
fn a_swedish_admission_is_read_whole() {
    let m = read(swedish("A01", "K-1", "").as_bytes(), None).unwrap();
    assert_eq!(m.event, AdtEvent::Admit);
    assert_eq!(m.header.control_id, "K-1");
    assert_eq!(m.patient.identifier.value(), pnr());
    assert_eq!((m.patient.given_name.as_str(), m.patient.family_name.as_str()), ("Åsa", "Öberg"));
    assert_eq!(m.patient.kommun.as_ref().map(|k| k.as_str()), Some("0184"));
    assert_eq!(m.visit.location, "AVD12");
    assert_eq!(m.visit.patient_class, "I");
    assert_eq!(m.occurred_at, ts("2026-11-23 08:30"));
    assert!(!m.flagged);
}

#[test]
fn the_same_message_in_latin1_reads_the_same() {
    let utf8 = swedish("A01", "K-1", "");
    let latin: Vec<u8> = utf8.replace("UNICODE UTF-8", "8859/1").chars().map(|c| c as u8).collect();
    let a = read(utf8.as_bytes(), None).unwrap();
    let b = read(&latin, None).unwrap();
    assert_eq!(b.charset, Charset::Latin1);
    assert_eq!((a.patient, a.visit, a.occurred_at), (b.patient, b.visit, b.occurred_at));
}

#[test]
fn bad_content_is_refused_with_the_field_named() {
    let cases = [
        (swedish("A01", "K-1", "").replace(&pnr(), "193803149999"), "PID-3", error_code::DATA_TYPE),
        (swedish("A01", "K-1", "").replace("^0184", "^9999"), "PID-11", error_code::TABLE_VALUE_NOT_FOUND),
        (
            swedish("A01", "K-1", "").replace("EVN|A01|20261123083000+0100", "EVN|A01|2026112"),
            "EVN-2",
            error_code::DATA_TYPE,
        ),
        (swedish("A01", "", ""), "MSH-10", error_code::REQUIRED_FIELD_MISSING),
        (swedish("A01", "K-1", "").replace("ADT^A01", "ORU^R01"), "MSH-9", error_code::UNSUPPORTED_MESSAGE_TYPE),
        (swedish("A01", "K-1", "").replace("UNICODE UTF-8", "8859/5"), "MSH-18", error_code::TABLE_VALUE_NOT_FOUND),
    ];
    for (text, location, code) in cases {
        let r = read(text.as_bytes(), None).unwrap_err();
        assert_eq!((r.location, r.code), (Some(location), code), "{text}");
        assert!(!r.sv.is_empty());
    }
    assert!(read(b"not hl7 at all", None).is_err());
}

#[test]
fn a_configured_flag_field_marks_the_patient_for_follow_up() {
    let rule = FlagRule { field: FieldPath::parse("ZSV-1").unwrap(), values: vec!["J".into(), "Y".into()] };
    let flagged = swedish("A01", "K-1", "") + "ZSV|J\r";
    assert!(read(flagged.as_bytes(), Some(&rule)).unwrap().flagged);
    let not = swedish("A01", "K-1", "") + "ZSV|N\r";
    assert!(!read(not.as_bytes(), Some(&rule)).unwrap().flagged);
    assert!(!read(flagged.as_bytes(), None).unwrap().flagged, "without a rule nothing is a flag");
}

fn situation<'a>(
    sim_case: Option<&'a samverka_domain::case::Case>,
    ward: Option<&'a samverka_domain::actor::UnitRef>,
) -> Situation<'a> {
    Situation {
        patient_known: true,
        in_joint_care: false,
        open_case: sim_case,
        ward: ward.map(|w| (w, CareType::Somatic)),
    }
}

#[test]
fn an_admission_opens_a_draft_only_for_a_flagged_inpatient_on_a_known_ward() {
    let sim = Sim::admitted("2026-11-20 08:00");
    let ward = &sim.world.ward;
    let settings = Settings::default();
    let msg = read(swedish("A01", "K-1", "").as_bytes(), None).unwrap();

    let not_flagged = plan(&msg, &situation(None, Some(ward)), &settings).unwrap();
    assert!(matches!(not_flagged, Plan::Nothing { .. }));

    let in_sip = Situation { in_joint_care: true, ..situation(None, Some(ward)) };
    match plan(&msg, &in_sip, &settings).unwrap() {
        Plan::OpenDraft { ward: w, admitted_at, .. } => {
            assert_eq!(w.id, ward.id);
            assert_eq!(admitted_at, ts("2026-11-23 08:30"));
        }
        other => panic!("{other:?}"),
    }
    let all = Settings { drafts: DraftPolicy::AllInpatients, ..Settings::default() };
    assert!(matches!(plan(&msg, &situation(None, Some(ward)), &all).unwrap(), Plan::OpenDraft { .. }));

    let unknown_ward = plan(&msg, &situation(None, None), &all).unwrap_err();
    assert_eq!((unknown_ward.location, unknown_ward.ack), (Some("PV1-3"), AckCode::AE));
    assert!(unknown_ward.sv.contains("AVD12"));

    let outpatient = read(swedish("A01", "K-1", "").replace("PV1|1|I|", "PV1|1|O|").as_bytes(), None).unwrap();
    assert!(matches!(plan(&outpatient, &situation(None, Some(ward)), &all).unwrap(), Plan::Nothing { .. }));

    let a04 = read(swedish("A04", "K-1", "").as_bytes(), None).unwrap();
    assert!(matches!(plan(&a04, &situation(None, Some(ward)), &all).unwrap(), Plan::Nothing { .. }));
    let a04_counts = Settings { admission_events: vec![AdtEvent::Admit, AdtEvent::Register], ..all.clone() };
    assert!(matches!(plan(&a04, &situation(None, Some(ward)), &a04_counts).unwrap(), Plan::OpenDraft { .. }));

    // An unknown patient is registered from the message, which must then say where they live.
    let stranger = Situation { patient_known: false, ..situation(None, Some(ward)) };
    assert!(matches!(plan(&msg, &stranger, &all).unwrap(), Plan::OpenDraft { .. }));
    let homeless = read(swedish("A01", "K-1", "").replace("^H^^0184", "^H").as_bytes(), None).unwrap();
    assert_eq!(plan(&homeless, &stranger, &all).unwrap_err().location, Some("PID-11"));
}

#[test]
fn admission_and_transfer_of_a_patient_with_an_open_case_move_it() {
    let sim = Sim::admitted("2026-11-20 08:00");
    let case = sim.case();
    let msg = read(swedish("A02", "K-2", "").as_bytes(), None).unwrap();
    let same = plan(&msg, &situation(Some(&case), Some(&sim.world.ward)), &Settings::default()).unwrap();
    assert!(matches!(same, Plan::Nothing { .. }));
    match plan(&msg, &situation(Some(&case), Some(&sim.world.ward2)), &Settings::default()).unwrap() {
        Plan::Execute(Command::TransferPatient { to_ward, at, .. }) => {
            assert_eq!(to_ward.id, sim.world.ward2.id);
            assert_eq!(at, ts("2026-11-23 08:30"));
        }
        other => panic!("{other:?}"),
    }
    let none = plan(&msg, &situation(None, Some(&sim.world.ward2)), &Settings::default()).unwrap();
    assert!(matches!(none, Plan::Nothing { .. }));
}

#[test]
fn a_readmission_after_discharge_opens_a_new_draft() {
    let mut sim = Sim::admitted("2026-11-10 08:00");
    let ward = sim.world.ward.clone();
    sim.run(&ward, Command::RecordDischarge { at: ts("2026-11-15 10:00") }, "2026-11-15 10:05").unwrap();
    let case = sim.case();
    let a01 = read(swedish("A01", "K-9", "").as_bytes(), None).unwrap();
    // Not flagged by the message: the open case after discharge is flag enough.
    let p = plan(&a01, &situation(Some(&case), Some(&ward)), &Settings::default()).unwrap();
    assert!(matches!(p, Plan::OpenDraft { .. }), "{p:?}");
}

#[test]
fn the_draft_case_runs_no_clock_until_the_ward_confirms_the_needs() {
    let mut sim = Sim::admitted("2026-11-20 08:00");
    // Rebuild the first event as a draft from the feed.
    let first = &sim.events[0];
    let open = samverka_domain::case::OpenCase {
        case_id: sim.case().id,
        patient_id: sim.case().patient_id,
        kommun: sim.case().kommun.clone(),
        listed_unit: sim.case().listed_unit,
        care_type: CareType::Somatic,
        admitted_at: ts("2026-11-20 08:00"),
        needs_assessed_at: Some(ts("2026-11-20 09:00")),
        born: sim.case().born,
        sip_at_home: None,
    };
    let event = samverka_domain::case::Case::open_draft(&open, &first.actor, ts("2026-11-20 08:01")).unwrap();
    sim.events[0].event = event;
    let agreement =
        samverka_domain::agreement::Agreement::from_toml(include_str!("../../../agreements/lagens-reservregel.toml"))
            .unwrap();
    let case = sim.case();
    assert_eq!(case.phase(), Phase::AwaitingAssessment);
    assert!(
        deadlines(&case, &agreement, ts("2026-11-22 08:00")).iter().all(|d| d.kind != DeadlineKind::AdmissionNotice),
        "no notice deadline before anyone judged the needs"
    );
    let ward = sim.world.ward.clone();
    let bistand = sim.world.bistand.clone();
    let notice = MessageBody::Inskrivningsmeddelande { estimated_discharge: date(2026, 11, 28), note: String::new() };
    let refused = sim.send(&ward, &[&bistand], notice.clone(), "2026-11-22 09:00").unwrap_err();
    assert_eq!(refused.code, "step_out_of_order");
    // Another unit cannot confirm.
    let err = sim
        .run(
            &sim.world.ward2.clone(),
            Command::ConfirmNeeds { assessed_at: ts("2026-11-22 09:00") },
            "2026-11-22 09:05",
        )
        .unwrap_err();
    assert_eq!(err.code, "not_responsible_ward");
    sim.run(&ward, Command::ConfirmNeeds { assessed_at: ts("2026-11-22 09:00") }, "2026-11-22 09:05").unwrap();
    let case = sim.case();
    assert_eq!(case.phase(), Phase::Admitted);
    let notice_deadline = deadlines(&case, &agreement, ts("2026-11-22 10:00"))
        .into_iter()
        .find(|d| d.kind == DeadlineKind::AdmissionNotice)
        .unwrap();
    assert_eq!(notice_deadline.due, ts("2026-11-23 09:00"), "24 hours from the judgement, not the admission");
    sim.send(&ward, &[&bistand], notice, "2026-11-22 10:00").unwrap();
    // A confirmed case is no longer a draft to dismiss.
    let err = sim
        .run(
            &ward,
            Command::DismissDraft { reason: CancelReason::AdmissionCancelled, note: String::new() },
            "2026-11-22 11:00",
        )
        .unwrap_err();
    assert_eq!(err.code, "step_out_of_order");
}

#[test]
fn a_cancelled_admission_dismisses_a_draft_but_not_a_started_case() {
    let mut sim = Sim::admitted("2026-11-20 08:00");
    let first_actor = sim.events[0].actor.clone();
    let open = samverka_domain::case::OpenCase {
        case_id: sim.case().id,
        patient_id: sim.case().patient_id,
        kommun: sim.case().kommun.clone(),
        listed_unit: None,
        care_type: CareType::Somatic,
        admitted_at: ts("2026-11-20 08:00"),
        needs_assessed_at: None,
        born: None,
        sip_at_home: None,
    };
    sim.events[0].event = samverka_domain::case::Case::open_draft(&open, &first_actor, ts("2026-11-20 08:01")).unwrap();
    let a11 = read(swedish("A11", "K-3", "").as_bytes(), None).unwrap();
    let case = sim.case();
    let Plan::Execute(cmd) = plan(&a11, &situation(Some(&case), Some(&sim.world.ward)), &Settings::default()).unwrap()
    else {
        panic!("a draft is dismissed")
    };
    let ward = sim.world.ward.clone();
    sim.run(&ward, cmd, "2026-11-20 10:00").unwrap();
    assert_eq!(sim.case().phase(), Phase::Cancelled);

    let started = Sim::admitted("2026-11-20 08:00").case();
    let p = plan(&a11, &situation(Some(&started), Some(&sim.world.ward)), &Settings::default()).unwrap();
    assert!(matches!(p, Plan::Nothing { .. }));
}

#[test]
fn discharge_and_its_cancellation_come_from_the_feed() {
    let mut sim = Sim::admitted("2026-11-20 08:00");
    let ward = sim.world.ward.clone();
    let a03 = read(
        swedish("A03", "K-4", "")
            .replace(
                "PV1|1|I|AVD12^^^KS|||",
                &format!("PV1|1|I|AVD12^^^KS|||{}", "|".repeat(38) + "202611230800|202611231015"),
            )
            .as_bytes(),
        None,
    )
    .unwrap();
    assert_eq!(a03.visit.discharged_at, Some(ts("2026-11-23 10:15")));
    let case = sim.case();
    let Plan::Execute(cmd) = plan(&a03, &situation(Some(&case), Some(&ward)), &Settings::default()).unwrap() else {
        panic!("discharge")
    };
    sim.run(&ward, cmd, "2026-11-23 10:30").unwrap();
    assert_eq!(sim.case().discharged_at, Some(ts("2026-11-23 10:15")));
    // The same message again changes nothing.
    let case = sim.case();
    assert!(matches!(
        plan(&a03, &situation(Some(&case), Some(&ward)), &Settings::default()).unwrap(),
        Plan::Nothing { .. }
    ));

    let a13 = read(swedish("A13", "K-5", "").as_bytes(), None).unwrap();
    let Plan::Execute(cmd) = plan(&a13, &situation(Some(&case), Some(&ward)), &Settings::default()).unwrap() else {
        panic!("cancel discharge")
    };
    sim.run(&ward, cmd, "2026-11-23 11:00").unwrap();
    let case = sim.case();
    assert_eq!(case.discharged_at, None);
    assert!(case.phase() < Phase::Discharged);
    assert!(matches!(
        plan(&a13, &situation(Some(&case), Some(&ward)), &Settings::default()).unwrap(),
        Plan::Nothing { .. }
    ));
}

#[test]
fn a_name_change_updates_a_known_patient_only() {
    let msg = read(swedish("A08", "K-6", "").as_bytes(), None).unwrap();
    let known = Situation { patient_known: true, in_joint_care: false, open_case: None, ward: None };
    match plan(&msg, &known, &Settings::default()).unwrap() {
        Plan::UpdateNames { given_name, family_name } => {
            assert_eq!((given_name.as_str(), family_name.as_str()), ("Åsa", "Öberg"))
        }
        other => panic!("{other:?}"),
    }
    let unknown = Situation { patient_known: false, ..known };
    assert!(matches!(plan(&msg, &unknown, &Settings::default()).unwrap(), Plan::Nothing { .. }));
}
