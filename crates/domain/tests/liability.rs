//! Payment liability, pinned with worked examples. Each row states the facts and the answer
//! worked out by hand in its comment.

mod common;

use common::{Sim, ts};
use samverka_domain::agreement::{Agreement, Hundredths, LiabilityModel};
use samverka_domain::case::Command;
use samverka_domain::ids::Kommunkod;
use samverka_domain::liability::{CaseLiability, Exclusion, LiabilityFacts, case_liability, municipal_basis};
use samverka_domain::message::MessageBody;
use samverka_domain::org::CareType;

/// Per case; 3 free days (2 from 2027); 10 000 kr/day in 2026, 11 000 kr in 2027.
const PER_CASE: &str = r#"
id = "test-per-case"
name = "Test per vårdtillfälle"
[deadlines]
admission_notice_hours = 24
sip_call_days = 3
sip_call_day_kind = "calendar"
[liability]
model = "per_case"
count_day_zero = false
free_days = [{ from = 2018-01-01, days = 3 }, { from = 2027-01-01, days = 2 }]
[liability.amount_per_day]
2026 = 10000
2027 = 11000
[liability.psychiatry]
model = "per_case"
free_days = [{ from = 2018-01-01, days = 30 }]
[liability.exclusions]
without_admission_notice = true
without_ready_notice = true
when_needed_sip_call_missing = true
"#;

fn agreement(text: &str) -> Agreement {
    Agreement::from_toml(text).expect("test agreement is valid")
}

fn liability(sim: &Sim, agreement: &Agreement, now: &str) -> CaseLiability {
    let case = sim.case();
    case_liability(&LiabilityFacts::from_case(&case, agreement, ts(now)), agreement, ts(now))
}

struct Row {
    name: &'static str,
    run: fn(&mut Sim),
    ready_days: i64,
    liable_days: i64,
    amount_kr: i64,
    excluded: Option<Exclusion>,
}

/// Admitted 1 Nov 2026 08:00, notice sent 09:00; then the row's own steps.
fn noticed() -> Sim {
    let mut sim = Sim::admitted("2026-11-01 08:00");
    sim.notice("2026-11-01 09:00", "2026-11-10");
    sim
}

#[test]
fn per_case_liability_worked_examples() {
    let rows = [
        Row {
            // Ready and discharged the same day: day 0 only, which does not count.
            name: "discharged on day 0",
            run: |s| {
                s.ready("2026-11-02 10:00");
                s.discharge("2026-11-02 16:00");
            },
            ready_days: 0,
            liable_days: 0,
            amount_kr: 0,
            excluded: None,
        },
        Row {
            // Days 3, 4, 5 Nov are all free.
            name: "discharged within the free days",
            run: |s| {
                s.ready("2026-11-02 10:00");
                s.discharge("2026-11-05 11:00");
            },
            ready_days: 3,
            liable_days: 0,
            amount_kr: 0,
            excluded: None,
        },
        Row {
            // Days 3..9 Nov = 7; 3 free; 6, 7, 8, 9 Nov liable = 4 × 10 000.
            name: "four days beyond the free days",
            run: |s| {
                s.ready("2026-11-02 10:00");
                s.discharge("2026-11-09 11:00");
            },
            ready_days: 7,
            liable_days: 4,
            amount_kr: 40_000,
            excluded: None,
        },
        Row {
            // Notice one minute before midnight: 2 Nov is day 0, 3-6 Nov are days 1-4; 6 Nov liable.
            name: "notice at 23:59 counts from that date",
            run: |s| {
                s.ready("2026-11-02 23:59");
                s.discharge("2026-11-06 00:01");
            },
            ready_days: 4,
            liable_days: 1,
            amount_kr: 10_000,
            excluded: None,
        },
        Row {
            // Two minutes later the notice falls on 3 Nov: days 4, 5, 6 Nov, all free.
            name: "notice at 00:01 counts from the new date",
            run: |s| {
                s.ready("2026-11-03 00:01");
                s.discharge("2026-11-06 00:01");
            },
            ready_days: 3,
            liable_days: 0,
            amount_kr: 0,
            excluded: None,
        },
        Row {
            // Ready 3-4 Nov (both free), withdrawn 4 Nov; re-given 6 Nov: 7..12 Nov = 6 days with
            // 3 new free days; 10, 11, 12 Nov liable.
            name: "withdrawn and re-given ready notice restarts the free days",
            run: |s| {
                s.ready("2026-11-02 10:00");
                s.withdraw("2026-11-04 09:00");
                s.ready("2026-11-06 10:00");
                s.discharge("2026-11-12 12:00");
            },
            ready_days: 8,
            liable_days: 3,
            amount_kr: 30_000,
            excluded: None,
        },
        Row {
            // The ready period runs on across a move between wards: 3..8 Nov = 6, liable 6-8 Nov.
            name: "patient moved between wards keeps counting",
            run: |s| {
                s.ready("2026-11-02 10:00");
                let (from, to) = (s.world.ward.clone(), s.world.ward2.clone());
                s.run(
                    &from,
                    Command::TransferPatient { to_ward: to, care_type: CareType::Somatic, at: ts("2026-11-04 13:00") },
                    "2026-11-04 13:05",
                )
                .unwrap();
                s.discharge("2026-11-08 10:00");
            },
            ready_days: 6,
            liable_days: 3,
            amount_kr: 30_000,
            excluded: None,
        },
        Row {
            // Ready 28 Dec 2026 (3 free days under the 2026 step): 29, 30, 31 Dec free;
            // 1-4 Jan 2027 liable at the 2027 rate: 4 × 11 000.
            name: "each day is priced at its own year's rate",
            run: |s| {
                s.ready("2026-12-28 10:00");
                s.discharge("2027-01-04 10:00");
            },
            ready_days: 7,
            liable_days: 4,
            amount_kr: 44_000,
            excluded: None,
        },
        Row {
            // Notice on 1 Jan 2027, when the 2-day step is in force: 2, 3 Jan free, 4-5 Jan liable.
            name: "free days follow the step in force on the notice date",
            run: |s| {
                s.ready("2027-01-01 10:00");
                s.discharge("2027-01-05 10:00");
            },
            ready_days: 4,
            liable_days: 2,
            amount_kr: 22_000,
            excluded: None,
        },
        Row {
            // A SIP was needed; no call by 5 Nov (3 days after the 2 Nov notice): excluded.
            name: "a needed SIP call that was never made excludes the case",
            run: |s| {
                let (ward, b, vc) = (s.world.ward.clone(), s.world.bistand.clone(), s.world.vc.clone());
                s.send(
                    &ward,
                    &[&b, &vc],
                    MessageBody::Utskrivningsklar {
                        referrals_cancelled: true,
                        sip_needed: Some(true),
                        note: String::new(),
                    },
                    "2026-11-02 10:00",
                )
                .unwrap();
                s.discharge("2026-11-12 10:00");
            },
            ready_days: 10,
            liable_days: 0,
            amount_kr: 0,
            excluded: Some(Exclusion::NeededSipCallMissing),
        },
        Row {
            // A correction of the ready notice fixes its content; readiness still runs from the
            // original 2 Nov notice, exactly as "four days beyond the free days".
            name: "a corrected ready notice keeps the original start",
            run: |s| {
                let first = s.ready("2026-11-02 10:00");
                let (ward, b, vc) = (s.world.ward.clone(), s.world.bistand.clone(), s.world.vc.clone());
                let fix = s.fresh_id();
                let body = MessageBody::Utskrivningsklar {
                    referrals_cancelled: true,
                    sip_needed: Some(false),
                    note: "Rättelse: ingen SIP behövs".into(),
                };
                s.run(
                    &ward,
                    Command::SendMessage { message_id: fix, body, recipients: vec![b, vc], corrects: Some(first) },
                    "2026-11-04 10:00",
                )
                .unwrap();
                s.discharge("2026-11-09 11:00");
            },
            ready_days: 7,
            liable_days: 4,
            amount_kr: 40_000,
            excluded: None,
        },
        Row {
            // Discharge recorded for 9 Nov, then corrected to 7 Nov: 3..7 Nov = 5 days; 6, 7 liable.
            name: "a corrected discharge time moves the end of the period",
            run: |s| {
                s.ready("2026-11-02 10:00");
                s.discharge("2026-11-09 11:00");
                let first = s.case().messages.last().unwrap().message.id;
                let (ward, b, vc) = (s.world.ward.clone(), s.world.bistand.clone(), s.world.vc.clone());
                let fix = s.fresh_id();
                let body = MessageBody::InformationVidUtskrivning {
                    discharged_at: ts("2026-11-07 11:00"),
                    medication: "Enligt läkemedelslista".into(),
                    aids: String::new(),
                    information_to_patient: String::new(),
                    note: "Rättat utskrivningsdatum".into(),
                };
                s.run(
                    &ward,
                    Command::SendMessage { message_id: fix, body, recipients: vec![b, vc], corrects: Some(first) },
                    "2026-11-10 09:00",
                )
                .unwrap();
            },
            ready_days: 5,
            liable_days: 2,
            amount_kr: 20_000,
            excluded: None,
        },
    ];
    let agr = agreement(PER_CASE);
    for row in rows {
        let mut sim = noticed();
        (row.run)(&mut sim);
        let l = liability(&sim, &agr, "2027-02-01 12:00");
        assert_eq!(l.ready_days, row.ready_days, "{}: ready days", row.name);
        assert_eq!(l.liable_days, row.liable_days, "{}: liable days", row.name);
        assert_eq!(l.amount_ore, row.amount_kr * 100, "{}: amount", row.name);
        assert_eq!(l.excluded, row.excluded, "{}: exclusion", row.name);
    }
}

#[test]
fn across_the_spring_dst_change_days_are_calendar_days() {
    // 28 Mar 2026 23:30 to 30 Mar 00:30 is 24 hours on the clock that lost an hour, but two
    // calendar days (29 and 30 March).
    let mut sim = Sim::admitted("2026-03-27 08:00");
    sim.notice("2026-03-27 09:00", "2026-03-31");
    sim.ready("2026-03-28 23:30");
    sim.discharge("2026-03-30 00:30");
    assert_eq!(ts("2026-03-30 00:30").duration_since(ts("2026-03-28 23:30")).as_hours(), 24);
    let l = liability(&sim, &agreement(PER_CASE), "2026-04-01 12:00");
    assert_eq!(l.ready_days, 2);
}

#[test]
fn across_the_autumn_dst_change_days_are_calendar_days() {
    // 24 Oct 23:30 to 26 Oct 00:30 is 26 hours but two calendar days.
    let mut sim = Sim::admitted("2026-10-23 08:00");
    sim.notice("2026-10-23 09:00", "2026-10-27");
    sim.ready("2026-10-24 23:30");
    sim.discharge("2026-10-26 00:30");
    assert_eq!(ts("2026-10-26 00:30").duration_since(ts("2026-10-24 23:30")).as_hours(), 26);
    let l = liability(&sim, &agreement(PER_CASE), "2026-11-01 12:00");
    assert_eq!(l.ready_days, 2);
}

#[test]
fn a_case_with_no_admission_notice_carries_no_liability() {
    // The ward discharged the patient without ever notifying: excluded, whatever the days.
    let mut sim = Sim::admitted("2026-11-01 08:00");
    sim.discharge("2026-11-20 10:00");
    let agr = agreement(PER_CASE);
    let l = liability(&sim, &agr, "2026-12-01 12:00");
    assert_eq!(l.excluded, Some(Exclusion::NoReadyNotice));
    // And were a ready period on record without a notice (e.g. imported), the notice rule bites:
    let mut facts = LiabilityFacts::from_case(&sim.case(), &agr, ts("2026-12-01 12:00"));
    facts.ready_periods = vec![(ts("2026-11-02 10:00"), Some(ts("2026-11-20 10:00")))];
    let l = case_liability(&facts, &agr, ts("2026-12-01 12:00"));
    assert_eq!(l.excluded, Some(Exclusion::NoAdmissionNotice));
    assert_eq!(l.liable_days, 0);
    assert_eq!(l.amount_ore, 0);
}

#[test]
fn day_zero_counts_where_the_agreement_says_so() {
    let agr = agreement(&PER_CASE.replace("count_day_zero = false", "count_day_zero = true"));
    let mut sim = noticed();
    sim.ready("2026-11-02 10:00");
    sim.discharge("2026-11-02 16:00");
    assert_eq!(liability(&sim, &agr, "2026-11-03 12:00").ready_days, 1);
    // 2..9 Nov = 8 days with day 0; 3 free; 5 liable.
    let mut sim = noticed();
    sim.ready("2026-11-02 10:00");
    sim.discharge("2026-11-09 11:00");
    let l = liability(&sim, &agr, "2026-11-10 12:00");
    assert_eq!((l.ready_days, l.liable_days), (8, 5));
}

#[test]
fn psychiatric_care_has_its_own_free_days() {
    // 30 free days: ready 1 Oct, discharged 5 Nov = 35 days; liable 31 Oct .. 5 Nov = 5 days.
    let mut sim = Sim::admitted_with("2026-09-20 08:00", None, CareType::Psychiatric);
    sim.notice("2026-09-20 09:00", "2026-10-15");
    sim.ready("2026-10-01 10:00");
    sim.discharge("2026-11-05 10:00");
    let l = liability(&sim, &agreement(PER_CASE), "2026-11-06 12:00");
    assert_eq!(l.care_type, CareType::Psychiatric);
    assert_eq!((l.ready_days, l.liable_days, l.amount_ore), (35, 5, 50_000 * 100));
}

#[test]
fn an_open_period_counts_up_to_today() {
    let mut sim = noticed();
    sim.ready("2026-11-02 10:00");
    let l = liability(&sim, &agreement(PER_CASE), "2026-11-07 08:00");
    assert!(l.periods[0].open);
    // 3..7 Nov = 5 days, 2 liable so far.
    assert_eq!((l.ready_days, l.liable_days), (5, 2));
}

#[test]
fn a_year_without_an_amount_is_reported_not_guessed() {
    let mut sim = Sim::admitted("2028-03-01 08:00");
    sim.notice("2028-03-01 09:00", "2028-03-05");
    sim.ready("2028-03-02 10:00");
    sim.discharge("2028-03-10 10:00");
    let l = liability(&sim, &agreement(PER_CASE), "2028-03-11 12:00");
    assert_eq!(l.liable_days, 6);
    assert_eq!(l.amount_ore, 0);
    assert_eq!(l.missing_amount_years, vec![2028]);
}

// ---- the average model ---------------------------------------------------------------------

/// Average per month; 2.5 free days; 10 000 kr/day in 2026.
const AVERAGE: &str = r#"
id = "test-average"
name = "Test genomsnitt"
[deadlines]
admission_notice_hours = 24
sip_call_days = 3
sip_call_day_kind = "calendar"
[liability]
model = "average"
average_window_months = 1
count_day_zero = false
average_includes_zero_day_episodes = true
free_days = [{ from = 2018-01-01, days = 2.5 }]
[liability.amount_per_day]
2026 = 10000
[liability.psychiatry]
model = "per_case"
free_days = [{ from = 2018-01-01, days = 30 }]
[liability.exclusions]
without_admission_notice = true
without_ready_notice = true
when_needed_sip_call_missing = false
"#;

/// A discharged case of `kommun` with `days` ready days ending on `discharged` (a date).
fn episode(kommun: &str, days: i64, discharged: &str, agr: &Agreement, notice: bool) -> CaseLiability {
    let end = ts(&format!("{discharged} 12:00"));
    let start = end.checked_sub(jiff::SignedDuration::from_hours(24 * days)).unwrap();
    let facts = LiabilityFacts {
        case_id: uuid::Uuid::now_v7(),
        kommun: Kommunkod::parse(kommun).unwrap(),
        care_type: CareType::Somatic,
        admission_notice_sent: notice,
        ready_periods: vec![(start, Some(end))],
        discharged_at: Some(end),
        sip_needed: false,
        sip_call_in_time: true,
    };
    case_liability(&facts, agr, ts("2027-01-01 00:00"))
}

#[test]
fn average_model_month_worked_example() {
    let agr = agreement(AVERAGE);
    let k = "0184";
    let cases = vec![
        // November: 0, 2, 5 and 9 days: Σ 16, n 4, average 4,00; (4,00 − 2,50) × 4 = 6,00 days.
        episode(k, 0, "2026-11-03", &agr, true),
        episode(k, 2, "2026-11-10", &agr, true),
        episode(k, 5, "2026-11-17", &agr, true),
        episode(k, 9, "2026-11-30", &agr, true),
        // Not counted: no admission notice; another month; another municipality.
        episode(k, 30, "2026-11-20", &agr, false),
        episode(k, 12, "2026-10-31", &agr, true),
        episode("0180", 12, "2026-11-15", &agr, true),
    ];
    let basis = municipal_basis(&Kommunkod::parse(k).unwrap(), 2026, 11, &cases, &agr);
    let g = &basis.groups[0];
    assert_eq!(g.model, LiabilityModel::Average);
    assert_eq!((g.episodes, g.window_ready_days), (4, 16));
    assert_eq!(g.average, Some(Hundredths(400)));
    assert_eq!(g.liable_days, Hundredths(600));
    assert_eq!(basis.total_amount_ore, 60_000 * 100);
    // Every case of the month is traceable, the excluded one with its reason.
    assert_eq!(basis.lines.len(), 5);
    assert_eq!(basis.lines.iter().filter(|l| l.excluded == Some(Exclusion::NoAdmissionNotice)).count(), 1);
}

#[test]
fn average_without_zero_day_episodes_as_skr_counts() {
    // Same November without the 0-day episode in the denominator: Σ 16, n 3;
    // liable = 16 − 2,5 × 3 = 8,50 days = 85 000 kr.
    let agr = agreement(
        &AVERAGE.replace("average_includes_zero_day_episodes = true", "average_includes_zero_day_episodes = false"),
    );
    let k = "0184";
    let cases = vec![
        episode(k, 0, "2026-11-03", &agr, true),
        episode(k, 2, "2026-11-10", &agr, true),
        episode(k, 5, "2026-11-17", &agr, true),
        episode(k, 9, "2026-11-30", &agr, true),
    ];
    let basis = municipal_basis(&Kommunkod::parse(k).unwrap(), 2026, 11, &cases, &agr);
    assert_eq!(basis.groups[0].episodes, 3);
    assert_eq!(basis.groups[0].liable_days, Hundredths(850));
    assert_eq!(basis.total_amount_ore, 85_000 * 100);
}

#[test]
fn rolling_three_month_average() {
    // Window Sep-Nov: Sep 3; Oct 6, 2; Nov 0, 2, 5, 9 → Σ 27 over n 7.
    // Nov pays (27/7 − 2,5) × 4 = 15,428… − 10 = 5,43 days (hundredths rounded half up).
    let agr = agreement(&AVERAGE.replace("average_window_months = 1", "average_window_months = 3"));
    let k = "0184";
    let cases = vec![
        episode(k, 3, "2026-09-15", &agr, true),
        episode(k, 6, "2026-10-05", &agr, true),
        episode(k, 2, "2026-10-25", &agr, true),
        episode(k, 0, "2026-11-03", &agr, true),
        episode(k, 2, "2026-11-10", &agr, true),
        episode(k, 5, "2026-11-17", &agr, true),
        episode(k, 9, "2026-11-30", &agr, true),
        // August is outside the window.
        episode(k, 40, "2026-08-31", &agr, true),
    ];
    let basis = municipal_basis(&Kommunkod::parse(k).unwrap(), 2026, 11, &cases, &agr);
    let g = &basis.groups[0];
    assert_eq!((g.window_episodes, g.window_ready_days, g.episodes), (7, 27, 4));
    assert_eq!(g.liable_days, Hundredths(543));
    assert_eq!(basis.total_amount_ore, 543 * 10_000);
}

#[test]
fn average_below_the_free_days_costs_nothing() {
    let agr = agreement(AVERAGE);
    let cases = vec![episode("0184", 1, "2026-11-03", &agr, true), episode("0184", 3, "2026-11-04", &agr, true)];
    let basis = municipal_basis(&Kommunkod::parse("0184").unwrap(), 2026, 11, &cases, &agr);
    assert_eq!(basis.groups[0].average, Some(Hundredths(200)));
    assert_eq!(basis.groups[0].liable_days, Hundredths(0));
    assert_eq!(basis.total_amount_ore, 0);
}

#[test]
fn per_case_basis_takes_only_the_months_days() {
    // Ready 27 Nov, discharged 6 Dec: 28 Nov..6 Dec = 9 days; 28-30 Nov free; 1-6 Dec liable.
    let agr = agreement(PER_CASE);
    let mut sim = noticed();
    sim.ready("2026-11-27 10:00");
    sim.discharge("2026-12-06 10:00");
    let l = liability(&sim, &agr, "2026-12-07 12:00");
    let k = Kommunkod::parse("0184").unwrap();
    let nov = municipal_basis(&k, 2026, 11, std::slice::from_ref(&l), &agr);
    let dec = municipal_basis(&k, 2026, 12, std::slice::from_ref(&l), &agr);
    assert_eq!(nov.total_amount_ore, 0);
    assert_eq!(dec.total_amount_ore, 6 * 10_000 * 100);
    assert_eq!(dec.lines[0].liable_dates.len(), 6);
}

#[test]
fn shipped_agreements_read_and_differ() {
    let all: Vec<Agreement> = samverka_domain::agreement::BUILT_IN.iter().map(|(_, t)| agreement(t)).collect();
    let stockholm = all.iter().find(|a| a.id == "stockholm").unwrap();
    let vgr = all.iter().find(|a| a.id == "vastra-gotaland").unwrap();
    let law = all.iter().find(|a| a.id == "lagens-reservregel").unwrap();
    assert_eq!(stockholm.somatic.model, LiabilityModel::Average);
    assert_eq!(vgr.somatic.average_window_months, 3);
    assert!(vgr.exclusions.when_needed_sip_call_missing);
    assert_eq!(law.somatic.model, LiabilityModel::PerCase);
    assert_eq!(law.somatic.free_days_on(jiff::civil::date(2026, 1, 1)), Hundredths(300));
    assert_eq!(law.psychiatric.free_days_on(jiff::civil::date(2026, 1, 1)), Hundredths(3000));
    assert_eq!(stockholm.somatic.amount_for(2022), Some(9300));
}

#[test]
fn agreement_errors_name_the_key() {
    let e = Agreement::from_toml(&PER_CASE.replace("days = 3 }", "days = 3.5 }")).unwrap_err();
    assert_eq!(e.key, "liability.free_days[0].days");
    let e = Agreement::from_toml(&PER_CASE.replace("2027 = 11000", "20x7 = 11000")).unwrap_err();
    assert_eq!(e.key, "liability.amount_per_day.20x7");
    let e = Agreement::from_toml(&PER_CASE.replace("{ from = 2027-01-01", "{ from = 2017-01-01")).unwrap_err();
    assert_eq!(e.key, "liability.free_days[1].from");
    let e = Agreement::from_toml(&PER_CASE.replace("sip_call_days = 3", "sip_call_dayz = 3")).unwrap_err();
    assert!(e.message.contains("sip_call_dayz"), "{e}");
}

#[test]
fn a_region_may_load_its_own_wording_of_the_frailty_scale() {
    assert_eq!(agreement(PER_CASE).frailty_levels, None, "none given: Samverka's neutral wording");
    let levels: Vec<String> = (1..=9).map(|i| format!("\"Nivå {i} enligt regionens licens\"")).collect();
    let with = format!("{PER_CASE}\n[screening]\nfrailty_levels = [{}]\n", levels.join(", "));
    let own = agreement(&with).frailty_levels.expect("the region's wording");
    assert_eq!((own.len(), own[8].as_str()), (9, "Nivå 9 enligt regionens licens"));
    let eight = format!("{PER_CASE}\n[screening]\nfrailty_levels = [{}]\n", levels[..8].join(", "));
    let e = Agreement::from_toml(&eight).unwrap_err();
    assert_eq!(e.key, "screening.frailty_levels");
    assert!(e.message.contains("nine levels"), "{e}");
}

#[test]
fn a_needed_sip_call_excludes_only_once_its_deadline_has_passed() {
    let agr = agreement(PER_CASE);
    let mut sim = noticed();
    let (ward, b, vc) = (sim.world.ward.clone(), sim.world.bistand.clone(), sim.world.vc.clone());
    sim.send(
        &ward,
        &[&b, &vc],
        MessageBody::Utskrivningsklar { referrals_cancelled: true, sip_needed: Some(true), note: String::new() },
        "2026-11-02 10:00",
    )
    .unwrap();
    // The call is due by 5 Nov; on 3 Nov there is still time, so the case is not excluded.
    assert_eq!(liability(&sim, &agr, "2026-11-03 12:00").excluded, None);
    assert_eq!(liability(&sim, &agr, "2026-11-06 12:00").excluded, Some(Exclusion::NeededSipCallMissing));
}
