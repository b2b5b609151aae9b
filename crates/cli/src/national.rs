//! `demo --scale national`: a data set shaped like all of Sweden over five years, for the
//! follow-up's benchmarks. The 21 regions are real (län codes and names); within them 290
//! fictive municipalities (as many per län as there are real ones, with codes that are not
//! SCB's), about 60 hospitals with wards and beds, about 1 200 vårdcentraler, and discharge
//! cases spread over the five years in proportion to each municipality's residents aged 65+.
//!
//! Each case is built by the domain's own commands (so every rule holds, as in the small demo)
//! and written in batches with its projections, follow-up sums and access-log entries.

use indicatif::{ProgressBar, ProgressStyle};
use jiff::{SignedDuration, Timestamp};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use samverka_domain::access::Role;
use samverka_domain::actor::{Actor, UnitRef, UserRef};
use samverka_domain::case::{Case, Command, OpenCase, RecordedEvent};
use samverka_domain::consent::{ConsentGiver, ConsentKind};
use samverka_domain::ids::{HsaId, Kommunkod, PatientIdentifier, personnummer_with_check_digit};
use samverka_domain::message::MessageBody;
use samverka_domain::org::{AddressEntry, CareType, Organisation, OrganisationKind, Principal, Unit, UnitKind};
use samverka_domain::patient::{Patient, ProtectedIdentity};
use samverka_domain::sip::{Coordinator, FollowUpOutcome, Insats, Participant, ParticipantRole, SipPlan};
use samverka_store::{AccessEntry, Audit, ImportCase, NewAccount, Outcome, Store, StoreError, reference_unit_ref};
use uuid::Uuid;

/// The regions: län code, name, number of municipalities, share of Sweden's residents 65+ (‰).
const REGIONS: [(&str, &str, usize, u32); 21] = [
    ("01", "Region Stockholm", 26, 210),
    ("03", "Region Uppsala", 8, 37),
    ("04", "Region Sörmland", 9, 31),
    ("05", "Region Östergötland", 13, 45),
    ("06", "Region Jönköpings län", 13, 36),
    ("07", "Region Kronoberg", 8, 20),
    ("08", "Region Kalmar län", 12, 28),
    ("09", "Region Gotland", 1, 7),
    ("10", "Region Blekinge", 5, 17),
    ("12", "Region Skåne", 33, 127),
    ("13", "Region Halland", 6, 34),
    ("14", "Västra Götalandsregionen", 49, 165),
    ("17", "Region Värmland", 16, 31),
    ("18", "Region Örebro län", 12, 29),
    ("19", "Region Västmanland", 10, 27),
    ("20", "Region Dalarna", 15, 33),
    ("21", "Region Gävleborg", 10, 32),
    ("22", "Region Västernorrland", 7, 27),
    ("23", "Region Jämtland Härjedalen", 8, 15),
    ("24", "Region Västerbotten", 15, 27),
    ("25", "Region Norrbotten", 14, 28),
];

/// Residents aged 65 and over in Sweden, roughly.
const RESIDENTS_65: i64 = 2_150_000;
const HOSPITALS: usize = 60;
const VARDCENTRALER: usize = 1_200;
const WARDS: [(&str, CareType); 8] = [
    ("Geriatrik", CareType::Somatic),
    ("Medicin 1", CareType::Somatic),
    ("Medicin 2", CareType::Somatic),
    ("Ortopedi", CareType::Somatic),
    ("Kirurgi", CareType::Somatic),
    ("Kardiologi", CareType::Somatic),
    ("Infektion", CareType::Somatic),
    ("Psykiatri", CareType::Psychiatric),
];
const BATCH: usize = 2_000;

struct Kommun {
    code: Kommunkod,
    lan: usize,
    residents: i64,
    bistand: UnitRef,
    vardcentraler: Vec<UnitRef>,
}

struct World {
    kommuner: Vec<Kommun>,
    /// Wards per län index.
    wards: Vec<Vec<UnitRef>>,
    psych_wards: Vec<Vec<UnitRef>>,
    agreement_of: Vec<String>,
    actors: std::collections::HashMap<Uuid, Audit>,
    /// Cumulative residents, to pick a municipality in proportion.
    cumulative: Vec<i64>,
}

#[derive(Default)]
pub struct Report {
    pub units: usize,
    pub cases: usize,
    pub events: usize,
}

fn hsa(org: u64, suffix: &str) -> HsaId {
    HsaId::parse(&format!("SE{org:010}-{suffix}")).expect("national demo HSA-id is valid")
}

fn hours(h: f64) -> SignedDuration {
    SignedDuration::from_secs((h * 3600.0) as i64)
}

/// A unit to create, with the person who does its LUS work.
struct NewUnit<'a> {
    org: &'a Organisation,
    org_number: u64,
    suffix: String,
    name: String,
    kind: UnitKind,
    care_type: CareType,
    receives_for: Option<&'a Kommunkod>,
}

async fn unit(
    store: &Store,
    spec: NewUnit<'_>,
    now: Timestamp,
    world_actors: &mut std::collections::HashMap<Uuid, Audit>,
    report: &mut Report,
) -> Result<UnitRef, StoreError> {
    let NewUnit { org, org_number, suffix, name, kind, care_type, receives_for } = spec;
    let u = Unit {
        id: Uuid::now_v7(),
        organisation_id: org.id,
        kind,
        name,
        hsa_id: hsa(org_number, &suffix),
        care_type,
        receives_for_kommun: receives_for.cloned(),
        address: AddressEntry {
            phone: Some(format!("010-{:03} {:02} {:02}", report.units % 1000, report.units % 97, report.units % 89)),
            opening_hours: Some("Vardagar 08.00–16.30".into()),
            evening_weekend_cover: Some("Jourhavande, via växeln".into()),
            ..Default::default()
        },
    };
    store.insert_unit(&u, now).await?;
    report.units += 1;
    let unit_ref = reference_unit_ref(&u);
    // One person per unit does its LUS work in the data set.
    let role = match kind {
        UnitKind::Ward => Role::Vardsamordnare,
        UnitKind::Bistandsenhet => Role::Bistandshandlaggare,
        _ => Role::Sjukskoterska,
    };
    let user = Uuid::now_v7();
    let name = format!("Handläggare {}", report.units);
    store.create_account(&NewAccount::without_sign_in(user, name.clone(), org.id), now).await?;
    let assignment = Uuid::now_v7();
    store.add_assignment(assignment, user, u.id, role, None, now).await?;
    world_actors.insert(
        u.id,
        Audit {
            actor: Actor { user: UserRef { id: user, name }, unit: unit_ref.clone(), role },
            assignment_id: Some(assignment),
            client_address: None,
        },
    );
    Ok(unit_ref)
}

async fn directory(store: &Store, now: Timestamp, rng: &mut StdRng, report: &mut Report) -> Result<World, StoreError> {
    let mut actors = std::collections::HashMap::new();
    let mut kommuner = vec![];
    let mut wards = vec![];
    let mut psych_wards = vec![];
    let mut agreement_of = vec![];
    let total_share: u32 = REGIONS.iter().map(|r| r.3).sum();
    let mut population = vec![];
    for (li, (lan, name, n_kommuner, share)) in REGIONS.iter().enumerate() {
        let agreement = match *lan {
            "01" => "stockholm",
            "14" => "vastra-gotaland",
            _ => "lagens-reservregel",
        };
        agreement_of.push(agreement.to_string());
        let region_number = 2_321_000_000 + li as u64 * 100;
        let region = Organisation {
            id: Uuid::now_v7(),
            kind: OrganisationKind::Region,
            name: (*name).into(),
            region_code: Some((*lan).into()),
            kommunkod: None,
            hsa_id: Some(hsa(region_number, "0001")),
            acts_for: None,
        };
        store.insert_organisation(&region, Some(agreement), now).await?;
        let lan_residents = RESIDENTS_65 * *share as i64 / total_share as i64;
        // Hospitals in proportion to the residents, at least one per region.
        let n_hospitals = ((HOSPITALS as u32 * share).div_ceil(total_share)).max(1) as usize;
        let mut region_wards = vec![];
        let mut region_psych = vec![];
        for h in 0..n_hospitals {
            let hospital = format!("{} sjukhus {}", name.trim_start_matches("Region "), h + 1);
            for (w, (ward, care)) in WARDS.iter().enumerate() {
                let u = unit(
                    store,
                    NewUnit {
                        org: &region,
                        org_number: region_number,
                        suffix: format!("AVD{h}{w}"),
                        name: format!("{hospital}, {ward}"),
                        kind: UnitKind::Ward,
                        care_type: *care,
                        receives_for: None,
                    },
                    now,
                    &mut actors,
                    report,
                )
                .await?;
                store.set_ward_capacity(u.id, Some(&hospital), Some(rng.random_range(14..32))).await?;
                if *care == CareType::Psychiatric { region_psych.push(u) } else { region_wards.push(u) }
            }
        }
        wards.push(region_wards);
        psych_wards.push(region_psych);
        // Municipalities: a few large, many small (Zipf-like).
        let weights: Vec<f64> = (1..=*n_kommuner).map(|r| 1.0 / (r as f64).powf(0.9)).collect();
        let weight_sum: f64 = weights.iter().sum();
        for (ki, wgt) in weights.iter().enumerate() {
            let code = Kommunkod::parse(&format!("{lan}{:02}", ki + 1)).expect("fictive kommunkod");
            let residents = ((lan_residents as f64) * wgt / weight_sum).round() as i64;
            let org_number = 2_120_000_000 + (li * 100 + ki) as u64;
            let kommun = Organisation {
                id: Uuid::now_v7(),
                kind: OrganisationKind::Kommun,
                name: format!("Kommun {code} ({})", name.trim_start_matches("Region ")),
                region_code: None,
                kommunkod: Some(code.clone()),
                hsa_id: Some(hsa(org_number, "0001")),
                acts_for: None,
            };
            store.insert_organisation(&kommun, None, now).await?;
            let bistand = unit(
                store,
                NewUnit {
                    org: &kommun,
                    org_number,
                    suffix: "BIST".into(),
                    name: format!("Biståndsenheten, kommun {code}"),
                    kind: UnitKind::Bistandsenhet,
                    care_type: CareType::Somatic,
                    receives_for: Some(&code),
                },
                now,
                &mut actors,
                report,
            )
            .await?;
            let n_vc = ((VARDCENTRALER as f64 * residents as f64 / RESIDENTS_65 as f64).round() as usize).max(1);
            let mut vardcentraler = vec![];
            for v in 0..n_vc {
                vardcentraler.push(
                    unit(
                        store,
                        NewUnit {
                            org: &region,
                            org_number: region_number,
                            suffix: format!("VC{code}{v}"),
                            name: format!("Vårdcentralen {code}-{}", v + 1),
                            kind: UnitKind::Vardcentral,
                            care_type: CareType::Somatic,
                            receives_for: None,
                        },
                        now,
                        &mut actors,
                        report,
                    )
                    .await?,
                );
            }
            population.push(code.clone());
            kommuner.push(Kommun { code, lan: li, residents, bistand, vardcentraler });
        }
    }
    let year = samverka_domain::calendar::local_date(now).year();
    let rows: Vec<_> = kommuner
        .iter()
        .flat_map(|k| {
            (year - 5..=year).map(move |y| (k.code.clone(), y, k.residents - (year - y) as i64 * k.residents / 60))
        })
        .collect();
    store.set_population(&rows).await?;
    let mut cumulative = vec![];
    let mut acc = 0;
    for k in &kommuner {
        acc += k.residents;
        cumulative.push(acc);
    }
    Ok(World { kommuner, wards, psych_wards, agreement_of, actors, cumulative })
}

/// Builds one case's history with the domain's commands, from admission to as far as it has
/// come by `now`; returns the events and the access-log entries of the reads.
struct Builder<'a> {
    world: &'a World,
    case: Case,
    events: Vec<RecordedEvent>,
    access: Vec<AccessEntry>,
    now: Timestamp,
    next: u128,
}

impl Builder<'_> {
    /// Runs a command at `at` if that is before now; a refusal leaves the case as it was.
    fn run(&mut self, unit: &UnitRef, cmd: Command, at: Timestamp) -> bool {
        if at >= self.now {
            return false;
        }
        let actor = &self.world.actors[&unit.id].actor;
        let Ok(new) = self.case.decide(actor, cmd, at) else { return false };
        for event in new {
            let e = RecordedEvent { seq: self.events.len() as u32 + 1, at, actor: actor.clone(), event };
            self.case.apply(&e);
            self.events.push(e);
        }
        true
    }

    fn id(&mut self) -> Uuid {
        self.next += 1;
        Uuid::from_u64_pair(self.case.id.as_u64_pair().0, self.next as u64)
    }

    fn send(&mut self, from: &UnitRef, to: &[&UnitRef], body: MessageBody, at: Timestamp) -> Option<Uuid> {
        let message_id = self.id();
        let recipients = to.iter().map(|u| (*u).clone()).collect();
        self.run(from, Command::SendMessage { message_id, body, recipients, corrects: None }, at).then_some(message_id)
    }

    /// A unit opens the case (logged as a read) and the message in it.
    fn read(&mut self, unit: &UnitRef, message_id: Uuid, at: Timestamp, acknowledge: bool) {
        if at >= self.now {
            return;
        }
        let audit = &self.world.actors[&unit.id];
        self.access.push(audit.entry(
            "case.read",
            at,
            Some(self.case.patient_id),
            Some(self.case.id),
            Outcome::Allowed,
            None,
            false,
        ));
        self.run(unit, Command::OpenMessage { message_id }, at);
        if acknowledge {
            self.run(unit, Command::AcknowledgeMessage { message_id }, at + SignedDuration::from_mins(2));
        }
    }
}

fn plan(vc: &UnitRef, k: &Kommun, follow_up: jiff::civil::Date) -> SipPlan {
    SipPlan {
        needs: vec!["Stöd med personlig hygien och måltider".into()],
        insatser: vec![
            Insats { principal: Principal::Kommun, unit: Some(k.bistand.id), description: "Hemtjänst".into() },
            Insats { principal: Principal::Region, unit: Some(vc.id), description: "Läkemedelsgenomgång".into() },
        ],
        others_measures: vec![],
        overall_responsible: Principal::Kommun,
        own_goals: "Klara mig hemma.".into(),
        participants: vec![Participant {
            name: "Patienten".into(),
            role: ParticipantRole::Patient,
            unit: None,
            title: String::new(),
        }],
        coordinator: Coordinator { name: "Fast vårdkontakt".into(), unit: vc.id },
        follow_up_date: follow_up,
        follow_up_how: "Möte hemma".into(),
    }
}

fn make_case(w: &World, i: usize, now: Timestamp, start: Timestamp, rng: &mut StdRng) -> ImportCase {
    let pick = rng.random_range(0..*w.cumulative.last().expect("municipalities"));
    let k = &w.kommuner[w.cumulative.partition_point(|c| *c <= pick)];
    let psych = rng.random_range(0..100) < 6;
    let pool = if psych { &w.psych_wards[k.lan] } else { &w.wards[k.lan] };
    let ward = pool[rng.random_range(0..pool.len())].clone();
    let vc = k.vardcentraler[rng.random_range(0..k.vardcentraler.len())].clone();
    let bistand = k.bistand.clone();

    // A unique personnummer per case: 33 years of birth days times serial numbers.
    let birth = jiff::civil::date(1928, 1, 1) + jiff::Span::new().days((i % 12_000) as i64);
    let pnr = personnummer_with_check_digit(birth, 100 + (i / 12_000) as u16);
    let patient = Patient {
        id: Uuid::now_v7(),
        identifier: PatientIdentifier::Personnummer(pnr),
        given_name: "Testperson".into(),
        family_name: format!("Nummer {i}"),
        kommun: k.code.clone(),
        listed_unit: Some(vc.id),
        protection: if i % 211 == 7 { ProtectedIdentity::Sekretessmarkering } else { ProtectedIdentity::None },
        address: None,
    };
    let span = (now.as_second() - start.as_second()).max(1);
    let t0 = Timestamp::from_second(start.as_second() + rng.random_range(0..span)).expect("in range");
    let open = OpenCase {
        case_id: Uuid::now_v7(),
        patient_id: patient.id,
        kommun: k.code.clone(),
        listed_unit: Some(vc.id),
        care_type: if psych { CareType::Psychiatric } else { CareType::Somatic },
        admitted_at: t0,
        needs_assessed_at: None,
        born: patient.identifier.birth_date(),
        sip_at_home: None,
    };
    let ward_actor = &w.actors[&ward.id].actor;
    let opened = Case::open(&open, ward_actor, t0).expect("a new case opens");
    let first = RecordedEvent { seq: 1, at: t0, actor: ward_actor.clone(), event: opened };
    let case = Case::from_events(std::slice::from_ref(&first)).expect("one event replays");
    let mut b = Builder { world: w, case, events: vec![first], access: vec![], now, next: 0 };

    let r = |rng: &mut StdRng, a: f64, z: f64| rng.random_range(a..z);
    // Step 1: the notice, mostly in time.
    let late = rng.random_range(0..100) < 9;
    let t_notice = t0 + hours(if late { r(rng, 25.0, 60.0) } else { r(rng, 0.5, 20.0) });
    let estimate = samverka_domain::calendar::local_date(t0 + hours(24.0 * 6.0));
    let notice = MessageBody::Inskrivningsmeddelande { estimated_discharge: estimate, note: String::new() };
    let Some(notice_id) = b.send(&ward, &[&bistand, &vc], notice, t_notice) else {
        return finish(b, patient, w, k);
    };
    let bist_ack = rng.random_range(0..100) < 88;
    b.read(&bistand, notice_id, t_notice + hours(r(rng, 0.2, 30.0)), bist_ack);
    let vc_ack = rng.random_range(0..100) < 72;
    b.read(&vc, notice_id, t_notice + hours(r(rng, 0.5, 48.0)), vc_ack);
    // Step 2: the fast vårdkontakt.
    if rng.random_range(0..100) < 65 {
        let fvk = MessageBody::FastVardkontakt {
            name: "Distriktssköterska".into(),
            role: "distriktssköterska".into(),
            phone: "010-000 00 00".into(),
            note: String::new(),
        };
        b.send(&vc, &[&ward, &bistand], fvk, t_notice + hours(r(rng, 2.0, 60.0)));
    }
    // Step 5: ready for discharge, now and then withdrawn and given again.
    let sip_needed = rng.random_range(0..100) < 25;
    let ready = |sip: bool| MessageBody::Utskrivningsklar {
        referrals_cancelled: true,
        sip_needed: Some(sip),
        note: String::new(),
    };
    let mut t_ready = t0 + hours(24.0 * r(rng, 1.0, 12.0));
    let Some(ready_id) = b.send(&ward, &[&bistand, &vc], ready(sip_needed), t_ready) else {
        return finish(b, patient, w, k);
    };
    b.read(&bistand, ready_id, t_ready + hours(r(rng, 0.2, 20.0)), rng.random_range(0..100) < 90);
    if rng.random_range(0..100) < 3 {
        let back = MessageBody::AtertagenUtskrivningsklar { reason: "Ny infektion".into() };
        b.send(&ward, &[&bistand, &vc], back, t_ready + hours(20.0));
        t_ready += hours(24.0 * r(rng, 2.0, 5.0));
        b.send(&ward, &[&bistand, &vc], ready(sip_needed), t_ready);
    }
    // Step 4: the SIP call, with consent.
    let called = sip_needed && rng.random_range(0..100) < 85;
    if called {
        let t_call = t_ready + hours(24.0 * r(rng, 0.1, 5.0));
        for kind in [ConsentKind::SipCall, ConsentKind::Sip] {
            let consent_id = b.id();
            let cmd = Command::RecordConsent {
                consent_id,
                kind,
                given_by: ConsentGiver::Patient,
                given_at: t_call - hours(1.0),
                note: String::new(),
            };
            b.run(&vc, cmd, t_call - hours(1.0));
        }
        let call = MessageBody::KallelseSip {
            meeting_at: t_call + hours(48.0),
            place: "Hemma".into(),
            participants: vec![],
            patient_invited: true,
            relatives_invited: true,
            note: String::new(),
        };
        b.send(&vc, &[&bistand], call, t_call);
    }
    // Step 6: discharge; a quarter leave the day they are ready (day 0).
    let wait = if rng.random_range(0..100) < 25 { r(rng, 1.0, 8.0) } else { 24.0 * r(rng, 1.0, 9.0) };
    let t_out = t_ready + hours(wait);
    let info = MessageBody::InformationVidUtskrivning {
        discharged_at: t_out,
        medication: "Enligt läkemedelslista".into(),
        aids: String::new(),
        information_to_patient: "Muntligt och skriftligt".into(),
        note: String::new(),
    };
    if b.send(&ward, &[&bistand, &vc], info, t_out).is_none() {
        return finish(b, patient, w, k);
    }
    if called {
        // Step 7: the SIP, mostly drawn up at the meeting after discharge, now and then weeks
        // later; step 8: it is followed up a month on and, as a rule, closed with the case.
        let days = if rng.random_range(0..100) < 70 { r(rng, 1.0, 6.0) } else { r(rng, 10.0, 40.0) };
        let t_sip = t_out + hours(24.0 * days);
        let follow = samverka_domain::calendar::local_date(t_sip + hours(24.0 * 30.0));
        if b.run(&vc, Command::DrawUpSip { plan: plan(&vc, k, follow) }, t_sip) && rng.random_range(0..100) < 85 {
            let evaluation = "Planen har fungerat; insatserna fortsätter utan SIP.".to_string();
            let cmd = Command::FollowUpSip { evaluation, outcome: FollowUpOutcome::Close };
            b.run(&vc, cmd, t_sip + hours(24.0 * 30.0));
        }
    } else if !sip_needed && rng.random_range(0..100) < 90 {
        // Without a SIP, the municipality closes the case once its services are in place.
        let note = "Insatserna är på plats.".to_string();
        b.run(&bistand, Command::CloseCase { note }, t_out + hours(24.0 * r(rng, 7.0, 21.0)));
    }
    finish(b, patient, w, k)
}

fn finish(b: Builder<'_>, patient: Patient, w: &World, k: &Kommun) -> ImportCase {
    ImportCase {
        patient: Some(patient),
        events: b.events,
        agreement_id: w.agreement_of[k.lan].clone(),
        access: b.access,
    }
}

/// Builds the national data set: the directory, then `cases` cases over `years` years.
pub async fn generate(
    store: &Store,
    cases: usize,
    years: i64,
    seed: u64,
    now: Timestamp,
    show_progress: bool,
) -> Result<Report, StoreError> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut report = Report::default();
    let world = directory(store, now, &mut rng, &mut report).await?;
    store.set_installation_fact("demo_data", "true").await?;
    let start = now - SignedDuration::from_hours(24 * 365 * years);
    let bar = if show_progress { ProgressBar::new(cases as u64) } else { ProgressBar::hidden() };
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({per_sec}, {eta})")
            .expect("template")
            .progress_chars("=> "),
    );
    bar.set_message("Skapar ärenden för hela landet");
    let mut done = 0;
    while done < cases {
        let n = BATCH.min(cases - done);
        let batch: Vec<ImportCase> = (done..done + n).map(|i| make_case(&world, i, now, start, &mut rng)).collect();
        report.events += batch.iter().map(|c| c.events.len()).sum::<usize>();
        store.import_cases(&batch, now).await?;
        done += n;
        report.cases = done;
        bar.inc(n as u64);
    }
    bar.finish_and_clear();
    Ok(report)
}

#[cfg(test)]
mod tests {
    use samverka_domain::followup::{AckTotals, CaseFacts, Totals};
    use samverka_store::{Agreements, KeyFilter};

    use super::*;

    /// The shape of the country, and sums that equal the cases they come from.
    async fn check(store: Store) {
        store.migrate().await.unwrap();
        let now = Timestamp::now();
        let report = generate(&store, 300, 5, 7, now, false).await.unwrap();
        assert_eq!(report.cases, 300);
        let orgs = store.organisations().await.unwrap();
        let regions = orgs.iter().filter(|(o, _)| o.kind == OrganisationKind::Region).count();
        let kommuner = orgs.iter().filter(|(o, _)| o.kind == OrganisationKind::Kommun).count();
        assert_eq!((regions, kommuner), (21, 290));
        let units = store.units().await.unwrap();
        let hospitals: std::collections::BTreeSet<String> =
            store.ward_capacities().await.unwrap().into_iter().filter_map(|w| w.hospital).collect();
        assert!((55..=70).contains(&hospitals.len()), "{} hospitals", hospitals.len());
        let vcs = units.iter().filter(|u| u.kind == UnitKind::Vardcentral).count();
        assert!((1_100..=1_400).contains(&vcs), "{vcs} vårdcentraler");

        // Every case replays to its stored state, and the monthly sums are the cases' facts.
        let mut expected = Totals::default();
        let mut acks = AckTotals::default();
        let (mut seen, mut old, mut old_closed) = (0, 0, 0);
        for ward in units.iter().filter(|u| u.kind == UnitKind::Ward) {
            for s in store.cases_for_unit(ward.id, true, 10_000).await.unwrap() {
                let record = store.case(s.case_id).await.unwrap().unwrap();
                let events = store.case_events(s.case_id).await.unwrap();
                assert_eq!(Case::from_events(&events).unwrap(), *record.case, "history and state agree");
                let agreement = store.agreements().get(&record.agreement_id).unwrap();
                if let Some(f) = CaseFacts::of(&record.case, &agreement, now) {
                    expected.add(&f.totals);
                }
                for a in samverka_domain::followup::acknowledgements(&record.case) {
                    acks.add(&AckTotals::of(&a));
                }
                seen += 1;
                if now.duration_since(record.case.admitted_at) > SignedDuration::from_hours(24 * 120) {
                    old += 1;
                    old_closed += usize::from(record.case.phase() == samverka_domain::case::Phase::Closed);
                }
            }
        }
        assert_eq!(seen, 300);
        // As in life, cases end: of those admitted over four months ago, most are closed.
        assert!(old_closed * 100 > old * 75, "{old_closed} of {old} old cases closed");
        assert!(expected.episodes > 200, "most cases are discharged: {expected:?}");
        let mut stored = Totals::default();
        for r in store.followup_months("kommun", &KeyFilter::All, 0, 999_999, None).await.unwrap() {
            stored.add(&r.totals);
        }
        assert_eq!(stored, expected);
        let mut stored_acks = AckTotals::default();
        for r in store.ack_months(None, 0, 999_999).await.unwrap() {
            stored_acks.add(&r.totals);
        }
        assert_eq!(stored_acks, acks);
        assert!(store.population(samverka_domain::calendar::local_date(now).year()).await.unwrap().len() == 290);
    }

    #[tokio::test]
    async fn national_data_set_on_sqlite() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("n.db");
        check(Store::connect(path.to_str().unwrap(), Agreements::built_in()).await.unwrap()).await;
    }

    #[tokio::test]
    async fn national_data_set_on_postgres() {
        let url = samverka_testkit::PgServer::get().fresh_database();
        check(Store::connect(&url, Agreements::built_in()).await.unwrap()).await;
    }
}
