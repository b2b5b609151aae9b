//! A realistic, fictive region to try Samverka with: three hospitals with wards, twelve
//! municipalities (real SCB kommunkoder of Stockholms län), thirty-six vårdcentraler, and
//! patients with valid test-style personnummer whose cases stand in every state of the
//! lifecycle. Every case is built by running the same commands users run, so its history is
//! as real as the rules make it.

use indicatif::{ProgressBar, ProgressStyle};
use jiff::{SignedDuration, Timestamp, ToSpan};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use samverka_domain::access::Role;
use samverka_domain::actor::{Actor, UnitRef, UserRef};
use samverka_domain::calendar::local_date;
use samverka_domain::case::{Command, OpenCase};
use samverka_domain::consent::{ConsentGiver, ConsentKind};
use samverka_domain::ids::{HsaId, Kommunkod, PatientIdentifier, personnummer_with_check_digit};
use samverka_domain::message::{CancelReason, MessageBody};
use samverka_domain::org::{AddressEntry, CareType, Organisation, OrganisationKind, Principal, Unit, UnitKind};
use samverka_domain::patient::{Address, ProtectedIdentity};
use samverka_domain::sip::{Coordinator, FollowUpOutcome, Insats, OtherMeasure, Participant, ParticipantRole, SipPlan};
use samverka_store::{Audit, NewAccount, NewPatient, Store, StoreError, reference_unit_ref};
use uuid::Uuid;

/// Real kommunkoder of Stockholms län with the municipalities' short names.
const KOMMUNER: [(&str, &str); 12] = [
    ("0114", "Upplands Väsby"),
    ("0123", "Järfälla"),
    ("0125", "Ekerö"),
    ("0126", "Huddinge"),
    ("0127", "Botkyrka"),
    ("0136", "Haninge"),
    ("0160", "Täby"),
    ("0163", "Sollentuna"),
    ("0180", "Stockholm"),
    ("0182", "Nacka"),
    ("0183", "Sundbyberg"),
    ("0184", "Solna"),
];

const HOSPITALS: [&str; 3] = ["Norrviks sjukhus", "Söderby sjukhus", "Västerhamns sjukhus"];
const WARDS: [(&str, CareType); 5] = [
    ("Geriatrik avd 21", CareType::Somatic),
    ("Medicin avd 34", CareType::Somatic),
    ("Ortopedi avd 12", CareType::Somatic),
    ("Kirurgi avd 8", CareType::Somatic),
    ("Psykiatri avd 5", CareType::Psychiatric),
];
const PLACES: [&str; 3] = ["Centrum", "Norra", "Södra"];

const GIVEN: [&str; 24] = [
    "Åsa",
    "Anna",
    "Birgitta",
    "Karin",
    "Margareta",
    "Elisabeth",
    "Ingrid",
    "Kerstin",
    "Marianne",
    "Gunilla",
    "Ulla",
    "Britt",
    "Lars",
    "Karl",
    "Erik",
    "Per",
    "Bengt",
    "Sven",
    "Göran",
    "Åke",
    "Olof",
    "Hans",
    "Jan",
    "Nils",
];
const FAMILY: [&str; 20] = [
    "Öberg",
    "Andersson",
    "Johansson",
    "Karlsson",
    "Nilsson",
    "Eriksson",
    "Larsson",
    "Olsson",
    "Persson",
    "Svensson",
    "Gustafsson",
    "Pettersson",
    "Jönsson",
    "Lindqvist",
    "Lindgren",
    "Berg",
    "Åkesson",
    "Ström",
    "Holm",
    "Söderberg",
];
const STREETS: [&str; 8] =
    ["Storgatan", "Kyrkvägen", "Skolgatan", "Björkvägen", "Ängsvägen", "Parkgatan", "Tallstigen", "Sjövägen"];

/// What the demo created, for the start-up message.
#[derive(Debug, Default)]
pub struct Report {
    pub units: usize,
    pub users: Vec<(String, String, Uuid, Uuid)>,
    pub patients: usize,
    pub cases: usize,
}

/// How far a demo case has come, chosen so that every state of the lifecycle is present.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Target {
    Admitted,
    Notified,
    Planning,
    Ready,
    ReadyWithdrawnAndRegiven,
    TransferredThenReady,
    Discharged,
    DischargedWithoutNotice,
    SipCalled,
    SipDrawnUp,
    FollowedUp,
    Closed,
    Cancelled,
}

const TARGETS: [Target; 13] = [
    Target::Admitted,
    Target::Notified,
    Target::Planning,
    Target::Ready,
    Target::ReadyWithdrawnAndRegiven,
    Target::TransferredThenReady,
    Target::Discharged,
    Target::DischargedWithoutNotice,
    Target::SipCalled,
    Target::SipDrawnUp,
    Target::FollowedUp,
    Target::Closed,
    Target::Cancelled,
];

struct Kommun {
    code: Kommunkod,
    bistand: UnitRef,
    hsl: UnitRef,
    vardcentraler: Vec<UnitRef>,
}

struct World {
    wards: Vec<UnitRef>,
    psych_wards: Vec<UnitRef>,
    kommuner: Vec<Kommun>,
    /// The clinical users of each unit: person, role, assignment.
    users: std::collections::HashMap<Uuid, Vec<(UserRef, Role, Uuid)>>,
}

impl World {
    /// The unit's first user (the role that does the unit's LUS work), as the access log
    /// records them.
    fn actor(&self, unit: &UnitRef) -> Audit {
        let (user, role, assignment) = self.users[&unit.id][0].clone();
        Audit { actor: Actor { user, unit: unit.clone(), role }, assignment_id: Some(assignment), client_address: None }
    }

    /// The unit's user in `role`, if it has one.
    fn actor_in(&self, unit: &UnitRef, role: Role) -> Option<Audit> {
        let (user, role, assignment) = self.users[&unit.id].iter().find(|u| u.1 == role)?.clone();
        Some(Audit {
            actor: Actor { user, unit: unit.clone(), role },
            assignment_id: Some(assignment),
            client_address: None,
        })
    }
}

fn hsa(org_number: &str, suffix: &str) -> HsaId {
    HsaId::parse(&format!("SE{org_number}-{suffix}")).expect("demo HSA-id is valid")
}

fn hours(h: i64) -> SignedDuration {
    SignedDuration::from_hours(h)
}

/// Builds the demo region. `patients` sets the number of patients (each with one case).
pub async fn generate(
    store: &Store,
    patients: usize,
    seed: u64,
    now: Timestamp,
    show_progress: bool,
) -> Result<Report, StoreError> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut report = Report::default();
    let world = build_directory(store, now, &mut rng, &mut report).await?;
    // The start page may show demo accounts' codes only for a database that is demo data.
    store.set_installation_fact("demo_data", "true").await?;

    let bar = if show_progress { ProgressBar::new(patients as u64) } else { ProgressBar::hidden() };
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({eta})").expect("template").progress_chars("=> "),
    );
    bar.set_message("Skapar demopatienter och ärenden");
    for i in 0..patients {
        let target = TARGETS[i % TARGETS.len()];
        make_case(store, &world, target, i, now, &mut rng).await?;
        report.patients += 1;
        report.cases += 1;
        bar.inc(1);
    }
    bar.finish_and_clear();
    report.cases += make_home_coordinations(store, &world, patients, now, &mut rng).await?;
    make_forum(store, &world, now).await?;
    make_round(store, &world, now).await?;
    make_directives(store, &world, now).await?;
    make_representatives(store, &world, now).await?;
    confirm_entries(store, &world, now).await?;
    Ok(report)
}

/// In each municipality, two persons living at home who need care from both principals: one
/// whose vårdcentral started a coordination five weeks ago (the municipality invited, called,
/// the SIP in force), and one whose needs assessor started one yesterday (the call still due).
async fn make_home_coordinations(
    store: &Store,
    w: &World,
    patients: usize,
    now: Timestamp,
    rng: &mut StdRng,
) -> Result<usize, StoreError> {
    use samverka_domain::case::OpenHome;
    let mut made = 0;
    for (n, k) in w.kommuner.iter().enumerate() {
        let vc = k.vardcentraler[0].clone();
        for (j, starter) in [vc.clone(), k.bistand.clone()].into_iter().enumerate() {
            let birth =
                jiff::civil::date(1930 + rng.random_range(0..15), rng.random_range(1..=12), rng.random_range(1..=28));
            let pnr = personnummer_with_check_digit(birth, 980 + ((patients + 2 * n + j) % 20) as u16);
            let actor = w.actor(&starter);
            let patient = NewPatient {
                identifier: PatientIdentifier::Personnummer(pnr),
                given_name: GIVEN[rng.random_range(0..GIVEN.len())].into(),
                family_name: FAMILY[rng.random_range(0..FAMILY.len())].into(),
                kommun: k.code.clone(),
                listed_unit: Some(vc.id),
                protection: ProtectedIdentity::None,
                address: None,
            };
            let started = now - hours(if j == 0 { 35 * 24 } else { 20 });
            let registered = match store.insert_patient(Uuid::now_v7(), patient, &actor, started).await {
                Err(StoreError::Problem(p)) if p.code == "patient_exists" => continue,
                other => other?,
            };
            let case_id = Uuid::now_v7();
            let reason = if j == 0 {
                "Har fallit flera gånger i höst och har svårt med läkemedlen; hemtjänst och hemsjukvård behöver planera tillsammans."
            } else {
                "Ansöker om mer hemtjänst; dottern orkar inte längre och vårdcentralen behöver vara med."
            };
            let open = OpenHome {
                case_id,
                patient_id: registered.id,
                kommun: k.code.clone(),
                listed_unit: Some(vc.id),
                reason: reason.into(),
                born: registered.identifier.birth_date(),
                continues: None,
            };
            store.open_home_case(&open, "demo", &actor, started).await?;
            made += 1;
            if j == 1 {
                continue;
            }
            let mut t = started + hours(1);
            for kind in [ConsentKind::InformationSharing, ConsentKind::SipCall, ConsentKind::Sip] {
                let consent = Command::RecordConsent {
                    consent_id: Uuid::now_v7(),
                    kind,
                    given_by: ConsentGiver::Patient,
                    given_at: t,
                    note: String::new(),
                };
                store.execute(case_id, &actor, consent, t).await?;
            }
            for unit in [&k.bistand, &k.hsl] {
                t += hours(1);
                let invite = Command::AddParty { unit: unit.clone(), reason: "Deltar i planeringen hemma".into() };
                store.execute(case_id, &actor, invite, t).await?;
            }
            t += hours(20);
            let call = Command::SendMessage {
                message_id: Uuid::now_v7(),
                body: MessageBody::KallelseSip {
                    meeting_at: t + hours(72),
                    place: "Hemma hos personen".into(),
                    participants: vec!["Personen".into(), "Dottern".into()],
                    patient_invited: true,
                    relatives_invited: true,
                    note: String::new(),
                },
                recipients: vec![k.bistand.clone(), k.hsl.clone()],
                corrects: None,
            };
            let (record, _) = store.execute(case_id, &actor, call, t).await?;
            let call_id = record.case.messages[0].message.id;
            for unit in [&k.bistand, &k.hsl] {
                t += hours(2);
                store.execute(case_id, &w.actor(unit), Command::AcknowledgeMessage { message_id: call_id }, t).await?;
            }
            t += hours(72);
            let plan = sip_plan(k, &vc, local_date(now) + 20.days(), rng);
            store.execute(case_id, &actor, Command::DrawUpSip { plan }, t).await?;
        }
    }
    Ok(made)
}

/// The latest patient has invited a daughter to follow their pages, and the one before has a
/// god man the ward registered; both may sign in on the demo's person pages.
async fn make_representatives(store: &Store, world: &World, now: Timestamp) -> Result<(), StoreError> {
    use samverka_domain::ids::PatientIdentifier;
    use samverka_domain::representative::{Granter, Kind, Representation, Share};
    use samverka_store::{Outcome, PersonAccess, WriteLog};
    let listed = store.recent_patients_with_cases(2).await?;
    for (i, (name, pnr)) in listed.iter().enumerate() {
        let Ok(identifier) = samverka_domain::ids::Personnummer::parse(pnr, samverka_domain::calendar::local_date(now))
        else {
            continue;
        };
        let Some(patient) = store.patient_by_identifier(&PatientIdentifier::Personnummer(identifier)).await? else {
            continue;
        };
        let (rep_name, rep_pnr, kind, shares) = if i == 0 {
            ("Sara Demodotter", "197505052386", Kind::Narstaende, vec![Share::Overview, Share::Plan])
        } else {
            ("Göran Godeman", "195809091142", Kind::GodMan, vec![Share::Overview, Share::Plan, Share::Consent])
        };
        let mut rep = Representation {
            id: Uuid::now_v7(),
            patient_id: patient.id,
            personnummer: rep_pnr.into(),
            name: rep_name.into(),
            kind,
            shares,
            granted: Granter::Person,
            granted_at: now,
            valid_until: None,
            ended: None,
        };
        if kind == Kind::Narstaende {
            let log = PersonAccess {
                at: now,
                patient_id: Some(patient.id),
                case_id: None,
                reader_name: name.clone(),
                action: "person.invite".into(),
                outcome: Outcome::Allowed,
                client_address: None,
                representation_id: Some(rep.id),
            };
            store.add_representation(&rep, WriteLog::Person(&log)).await?;
        } else {
            let Some(case) = store.cases_for_patient(patient.id).await?.into_iter().next() else { continue };
            let Some(record) = store.case(case.case_id).await? else { continue };
            let staff = world.actor(record.case.ward());
            rep.granted = Granter::Staff {
                name: staff.actor.user.name.clone(),
                unit: staff.actor.unit.id,
                unit_name: staff.actor.unit.name.clone(),
            };
            let log = staff.entry(
                "representation.register",
                now,
                Some(patient.id),
                Some(record.case.id),
                Outcome::Allowed,
                None,
                false,
            );
            store.add_representation(&rep, WriteLog::Staff(&log)).await?;
        }
    }
    Ok(())
}

/// Every unit's directory entry confirmed some time in the last four months, so some are stale
/// (over 90 days); the first municipality's biståndsenhet names its contacts.
async fn confirm_entries(store: &Store, world: &World, now: Timestamp) -> Result<(), StoreError> {
    use samverka_domain::directory::Contact;
    let units = store.units().await?;
    let mut n = 0i64;
    // In the directory's order, so the same seed gives the same dates.
    for unit in units.iter() {
        let Some((user, role, assignment)) = world.users.get(&unit.id).and_then(|p| p.first()).cloned() else {
            continue;
        };
        let unit = reference_unit_ref(unit);
        let by = Audit {
            actor: Actor { user, unit: unit.clone(), role },
            assignment_id: Some(assignment),
            client_address: None,
        };
        n += 1;
        // Spread over 0–119 days back.
        let days = (n * 37) % 120;
        let at = now.checked_sub(hours(24 * days)).expect("in range");
        let solna = world.kommuner.iter().find(|k| k.code.as_str() == "0184").map(|k| k.bistand.id);
        if Some(unit.id) == solna {
            let contacts = [
                Contact {
                    name: "Lena Ek".into(),
                    function: "Enhetschef".into(),
                    phone: "08-123 087 80".into(),
                    email: String::new(),
                },
                Contact {
                    name: "Helgjouren".into(),
                    function: "Biståndshandläggare kvällar och helger".into(),
                    phone: "08-123 999 00".into(),
                    email: String::new(),
                },
            ];
            store
                .set_unit_contacts(unit.id, &contacts, &by, now.checked_sub(hours(24 * 10)).expect("in range"))
                .await?;
        } else {
            store.confirm_unit_contacts(unit.id, &by, at).await?;
        }
    }
    Ok(())
}

/// Two versions of an infection-control directive for Solna: the first superseded by the
/// second, which is in force and partly read; and a new one waiting for MAS.
async fn make_directives(store: &Store, world: &World, now: Timestamp) -> Result<(), StoreError> {
    use samverka_domain::directive::{Audience, DirectiveSpec, Source};
    let Some(k) = world.kommuner.iter().find(|k| k.code.as_str() == "0184").or(world.kommuner.first()) else {
        return Ok(());
    };
    let (Some(chief), Some(mas)) = (world.actor_in(&k.bistand, Role::Enhetschef), world.actor_in(&k.hsl, Role::Mas))
    else {
        return Ok(());
    };
    let organisation = k.bistand.organisation_id;
    let today = local_date(now);
    let day = |n: i64| today.checked_sub(n.days()).expect("in range");
    let at = |n: i64| now.checked_sub(hours(24 * n)).expect("in range");
    let first = DirectiveSpec {
        topic: "Besöksrestriktioner".into(),
        title: "Munskydd vid hembesök".into(),
        source: Source::Vardhygien,
        source_name: "Vårdhygien Region Demo".into(),
        reference: "VH 2026:3".into(),
        body: "Bär munskydd vid hembesök hos personer med luftvägssymtom.".into(),
        valid_from: day(30),
        valid_until: None,
        audience: Audience { organisations: vec![organisation], unit_kinds: vec![] },
        supersedes: vec![],
    };
    let v1 = Uuid::now_v7();
    store.register_directive(v1, organisation, &first, &chief, at(31)).await?;
    store.decide_directive(v1, true, "", &[], &mas, at(30)).await?;
    let second = DirectiveSpec {
        reference: "VH 2026:5".into(),
        body: "Bär munskydd vid alla hembesök till och med månadens slut. Handsprit före och efter varje besök.".into(),
        valid_from: day(7),
        supersedes: vec![v1],
        ..first.clone()
    };
    let v2 = Uuid::now_v7();
    store.register_directive(v2, organisation, &second, &chief, at(8)).await?;
    store.decide_directive(v2, true, "", &[], &mas, at(7)).await?;
    store.confirm_directive_read(v2, &chief, at(6)).await?;
    store.confirm_directive_read(v2, &mas, at(6)).await?;
    let waiting = DirectiveSpec {
        topic: "Läkemedelsgenomgång".into(),
        title: "Läkemedelslista med vid utskrivning".into(),
        source: Source::Region,
        source_name: "Region Demo".into(),
        reference: "RD 2026:12".into(),
        body: "Hemsjukvården får en aktuell läkemedelslista senast på utskrivningsdagen.".into(),
        valid_from: today,
        valid_until: None,
        audience: Audience { organisations: vec![organisation], unit_kinds: vec![UnitKind::KommunalHsl] },
        supersedes: vec![],
    };
    store.register_directive(Uuid::now_v7(), organisation, &waiting, &chief, now).await?;
    Ok(())
}

/// A municipality's Friday status meeting, as it stands after a month: two meetings
/// held with approved minutes, attendance and an action item still open, an item waiting
/// and the next meeting planned. Made by the same store calls the pages use.
/// Solna, where the demo's journeys take place (the first municipality otherwise).
fn journeys_kommun(world: &World) -> Option<&Kommun> {
    world.kommuner.iter().find(|k| k.code.as_str() == "0184").or(world.kommuner.first())
}

async fn make_forum(store: &Store, world: &World, now: Timestamp) -> Result<(), StoreError> {
    use samverka_domain::forum::{ActionSpec, ForumKind, ForumSpec, ItemKind, ItemProposal, Member, Schedule};
    let (Some(k), Some(ward)) = (journeys_kommun(world), world.wards.first()) else { return Ok(()) };
    let Some(chair) = world.actor_in(&k.bistand, Role::Enhetschef) else { return Ok(()) };
    let today = local_date(now);
    // The Friday four weeks back is the first meeting.
    let back = (today.weekday().to_monday_zero_offset() as i64 - 4).rem_euclid(7) + 28;
    let first = today.checked_sub(back.days()).expect("date in range");
    let schedule = Schedule {
        first_date: first,
        interval_weeks: 1,
        start: jiff::civil::time(13, 0, 0, 0),
        duration_minutes: 60,
        paused: false,
    };
    let spec = ForumSpec {
        name: format!("Fredagsavstämning {}", k.bistand.name.trim_start_matches("Biståndsenheten ")),
        kind: ForumKind::Statusmote,
        purpose:
            "Kommunen, sjukhuset, vårdcentralerna och hemsjukvården hör samma lägesbild och samma besked samtidigt, \
                  och tar med sig beslut och åtgärder hem till sina enheter."
                .into(),
        video_link: Some("https://mote.example.se/fredagsavstamning".into()),
        schedule,
    };
    let forum = Uuid::now_v7();
    let at = |d: jiff::civil::Date, h: i8| schedule.meeting_at(d).0.checked_add((h as i64).hours()).expect("in range");
    store.create_forum(forum, &spec, k.bistand.id, &chair, at(first, -72)).await?;
    let mut members =
        vec![(ward, Role::Vardsamordnare, "Beslut om avdelningens planering och rutiner vid utskrivning")];
    if let Some(vc) = k.vardcentraler.first() {
        members.push((vc, Role::Sjukskoterska, "Beslut om vårdcentralens fasta vårdkontakter och hembesök"));
    }
    members.push((&k.hsl, Role::Mas, "Beslut om kommunens hälso- och sjukvård och delegeringar"));
    for (unit, role, mandate) in &members {
        let member = Member { unit_id: unit.id, role: *role, mandate: mandate.to_string() };
        store.add_forum_member(forum, &member, &unit.name, &chair, at(first, -71)).await?;
    }
    let raise = |title: &str, why: &str, kind: ItemKind, ask: &str| ItemProposal {
        kind,
        title: title.into(),
        why: why.into(),
        affected: "Avdelningarna, hemtjänsten och vårdcentralerna".into(),
        ask: ask.into(),
    };
    let ward_actor = world.actor(ward);
    for week in 0..2 {
        let day = first.checked_add((7 * (week + 2)).days()).expect("in range");
        let meeting = Uuid::now_v7();
        let (starts, ends) = schedule.meeting_at(day);
        store.plan_meeting(meeting, forum, starts, ends, &day.to_string(), &chair, at(day, -96)).await?;
        let item = Uuid::now_v7();
        let proposal = if week == 0 {
            raise(
                "Hjälpmedel vid helgutskrivning",
                "Patienter skrivs ut på fredagar utan att rullator och toalettförhöjning finns hemma.",
                ItemKind::Arbeta,
                "Beslut om en gemensam rutin för beställning av hjälpmedel före helgen.",
            )
        } else {
            raise(
                "Nya telefontider på biståndsenheten",
                "Biståndsenheten svarar 8–16 även på fredagar från nästa månad.",
                ItemKind::BraAttVeta,
                "",
            )
        };
        store.raise_item(item, forum, &proposal, &ward_actor, at(day, -48)).await?;
        store.place_item(item, Some(meeting), None, &chair, at(day, -24)).await?;
        let minutes = [samverka_store::ItemMinutes {
            item_id: item,
            note: "Alla parter beskrev läget.".into(),
            decision: if week == 0 {
                "Avdelningen tar fram en rutin tillsammans med hemtjänsten.".into()
            } else {
                String::new()
            },
        }];
        store
            .write_minutes(
                meeting,
                "Lägesbild: beläggningen är hög, sex patienter väntar på korttidsplats.",
                &minutes,
                &chair,
                at(day, 2),
            )
            .await?;
        let mut present = vec![(k.bistand.id, 2), (ward.id, 1), (k.hsl.id, 1)];
        if let Some(vc) = k.vardcentraler.first() {
            present.push((vc.id, 1 + week as u32));
        }
        store.record_attendance(meeting, &present, &chair, at(day, 2)).await?;
        if week == 0 {
            let action = ActionSpec {
                what: "Ta fram en rutin för hjälpmedel vid helgutskrivning".into(),
                owner_unit: ward.id,
                owner_name: "Vårdsamordnaren".into(),
                due: day.checked_add(21.days()).expect("in range"),
            };
            store.add_action(Uuid::now_v7(), meeting, Some(item), &action, &chair, at(day, 2)).await?;
        }
        store.approve_minutes(meeting, &day.to_string(), &chair, at(day, 4)).await?;
    }
    store
        .raise_item(
            Uuid::now_v7(),
            forum,
            &raise(
                "Patienter som kommer hem utan besked",
                "Två gånger i veckan kommer patienter hem utan att hemtjänsten fått information vid utskrivning.",
                ItemKind::Arbeta,
                "Beslut om vem som ringer hemtjänsten när informationen inte skickats.",
            ),
            &ward_actor,
            now,
        )
        .await?;
    if let Some((starts, ends)) = schedule.next(now, 1).first().copied() {
        let detail = local_date(starts).to_string();
        store.plan_meeting(Uuid::now_v7(), forum, starts, ends, &detail, &chair, now).await?;
    }
    Ok(())
}

/// Solna's joint round: the biståndsenhet's enhetschef calls the vårdcentral and the
/// municipality's nurses every Tuesday; last week's round wrote a note on the person whose
/// SIP at home is in force, with an action for the municipality's nurses still open.
async fn make_round(store: &Store, world: &World, now: Timestamp) -> Result<(), StoreError> {
    use samverka_domain::forum::{ForumKind, ForumSpec, Member, Schedule};
    use samverka_domain::round::{Profession, ProfessionPart, RoundAction, RoundNote, on_round};
    let Some(k) = journeys_kommun(world) else { return Ok(()) };
    let (Some(chair), Some(vc)) = (world.actor_in(&k.bistand, Role::Enhetschef), k.vardcentraler.first()) else {
        return Ok(());
    };
    let area = k.bistand.name.trim_start_matches("Biståndsenheten ");
    let today = local_date(now);
    // The Tuesday three weeks back is the first round.
    let back = (today.weekday().to_monday_zero_offset() as i64 - 1).rem_euclid(7) + 21;
    let first = today.checked_sub(back.days()).expect("date in range");
    let schedule = Schedule {
        first_date: first,
        interval_weeks: 1,
        start: jiff::civil::time(9, 0, 0, 0),
        duration_minutes: 90,
        paused: false,
    };
    let spec = ForumSpec {
        name: format!("Gemensam rond {area}"),
        kind: ForumKind::Rond,
        purpose: "Vårdcentralen, kommunens sjuksköterskor och biståndsenheten går igenom de personer de delar: \
                  vad som har ändrats, vem som gör vad och när vi ses igen."
            .into(),
        video_link: None,
        schedule,
    };
    let forum = Uuid::now_v7();
    let before_first = schedule.meeting_at(first).0 - hours(72);
    store.create_forum(forum, &spec, k.bistand.id, &chair, before_first).await?;
    // The area's vårdcentraler and the municipality's nurses.
    let members = k
        .vardcentraler
        .iter()
        .map(|v| (v, Role::Lakare, "Vårdcentralens läkare och distriktssköterskor: läkemedel, hembesök, remisser"));
    let hsl = (&k.hsl, Role::Sjukskoterska, "Kommunens sjuksköterskor och rehab: insatser i hemmet och delegeringar");
    for (unit, role, mandate) in members.chain([hsl]) {
        let member = Member { unit_id: unit.id, role, mandate: mandate.into() };
        store.add_forum_member(forum, &member, &unit.name, &chair, before_first).await?;
    }
    let last_week = first.checked_add(14.days()).expect("in range");
    let (held, held_end) = schedule.meeting_at(last_week);
    let held_id = Uuid::now_v7();
    store.plan_meeting(held_id, forum, held, held_end, &last_week.to_string(), &chair, held - hours(96)).await?;
    if let Some((starts, ends)) = schedule.next(now, 1).first().copied() {
        store.plan_meeting(Uuid::now_v7(), forum, starts, ends, &local_date(starts).to_string(), &chair, now).await?;
    }
    // The person at home with a SIP in force, shared with the municipality's nurses.
    let mut units: Vec<_> = k.vardcentraler.iter().map(|v| v.id).collect();
    units.extend([k.bistand.id, k.hsl.id]);
    for (case_id, listed) in store.round_candidates(forum, vc.id).await? {
        let Some(record) = store.case(case_id).await? else { continue };
        let case = &record.case;
        let parties: Vec<_> = case.parties.iter().map(|p| p.unit.id).collect();
        if case.home.is_none() || !on_round(vc.id, &parties, &units, case.sip_in_force(), listed) {
            continue;
        }
        let note = RoundNote {
            forum_id: forum,
            meeting_id: held_id,
            changed: "Har fallit en gång i badrummet. Äter sämre sedan dottern flyttade.".into(),
            professions: vec![
                ProfessionPart { profession: Profession::Lakare, what: "Ser över läkemedlen mot yrsel.".into() },
                ProfessionPart {
                    profession: Profession::Sjukskoterska,
                    what: "Väger personen varje vecka och följer upp nutritionen.".into(),
                },
                ProfessionPart {
                    profession: Profession::Hemtjanst,
                    what: "Lagar lunch tillsammans med personen.".into(),
                },
            ],
            next_review: today.checked_add(14.days()).expect("in range"),
            actions: vec![RoundAction {
                id: Uuid::now_v7(),
                what: "Bedöm badrummet och beställ stödhandtag".into(),
                owner_unit: k.hsl.id,
                owner_name: "Arbetsterapeuten".into(),
                due: today.checked_add(7.days()).expect("in range"),
            }],
        };
        store.execute(case_id, &world.actor(vc), Command::RecordRoundNote { note }, held + hours(1)).await?;
        break;
    }
    Ok(())
}

/// A unit to create in the demo directory.
struct UnitSpec<'a> {
    org: &'a Organisation,
    org_number: &'a str,
    suffix: String,
    name: String,
    kind: UnitKind,
    care_type: CareType,
    receives_for: Option<&'a Kommunkod>,
}

async fn add_unit(
    store: &Store,
    spec: UnitSpec<'_>,
    now: Timestamp,
    report: &mut Report,
) -> Result<UnitRef, StoreError> {
    let UnitSpec { org, org_number, suffix, name, kind, care_type, receives_for } = spec;
    let suffix = suffix.as_str();
    let n = report.units + 1;
    let unit = Unit {
        id: Uuid::now_v7(),
        organisation_id: org.id,
        kind,
        name,
        hsa_id: hsa(org_number, suffix),
        care_type,
        receives_for_kommun: receives_for.cloned(),
        address: AddressEntry {
            phone: Some(format!("08-123 {:03} {:02}", n % 1000, n % 100)),
            functional_mailbox: Some(format!("{}@demo.samverka.invalid", suffix.to_lowercase())),
            opening_hours: Some("Vardagar 08.00–16.30".into()),
            evening_weekend_cover: Some(match kind {
                UnitKind::Ward => "Dygnet runt: avdelningens expedition".into(),
                UnitKind::Bistandsenhet => "Jourhavande biståndshandläggare, 08-123 999 00".into(),
                UnitKind::Vardcentral => "Närakuten, 1177".into(),
                _ => "Sjuksköterska i beredskap, 08-123 999 10".into(),
            }),
            backup_unit: None,
        },
    };
    store.insert_unit(&unit, now).await?;
    report.units += 1;
    Ok(reference_unit_ref(&unit))
}

async fn build_directory(
    store: &Store,
    now: Timestamp,
    rng: &mut StdRng,
    report: &mut Report,
) -> Result<World, StoreError> {
    let region_number = "2321009990";
    let region = Organisation {
        id: Uuid::now_v7(),
        kind: OrganisationKind::Region,
        name: "Region Demo".into(),
        region_code: Some("01".into()),
        kommunkod: None,
        hsa_id: Some(hsa(region_number, "0001")),
        acts_for: None,
    };
    store.insert_organisation(&region, Some("demo"), now).await?;

    let mut wards = vec![];
    let mut psych_wards = vec![];
    for (h, hospital) in HOSPITALS.iter().enumerate() {
        for (w, (ward, care)) in WARDS.iter().enumerate() {
            let unit = add_unit(
                store,
                UnitSpec {
                    org: &region,
                    org_number: region_number,
                    suffix: format!("AVD{h}{w}"),
                    name: format!("{hospital}, {ward}"),
                    kind: UnitKind::Ward,
                    care_type: *care,
                    receives_for: None,
                },
                now,
                report,
            )
            .await?;
            // Beds vary by ward so the follow-up's bed share differs between them.
            store.set_ward_capacity(unit.id, Some(hospital), Some(16 + ((h * 5 + w * 3) % 12) as i64)).await?;
            if *care == CareType::Psychiatric { psych_wards.push(unit) } else { wards.push(unit) }
        }
    }
    for (i, (kind, name)) in [
        (UnitKind::Asih, "ASIH Norr"),
        (UnitKind::Asih, "ASIH Syd"),
        (UnitKind::Hemsjukvard, "Hemsjukvården Norr"),
        (UnitKind::Primarvardsrehab, "Primärvårdsrehab Norr"),
        (UnitKind::Primarvardsrehab, "Primärvårdsrehab Syd"),
    ]
    .into_iter()
    .enumerate()
    {
        add_unit(
            store,
            UnitSpec {
                org: &region,
                org_number: region_number,
                suffix: format!("R{i}"),
                name: name.into(),
                kind,
                care_type: CareType::Somatic,
                receives_for: None,
            },
            now,
            report,
        )
        .await?;
    }

    // The "Södra" vårdcentraler are run by a private provider for the region (vårdval), so
    // a discharge involves three organisations: the region, the municipality, the provider.
    let provider_number = "5590009990";
    let provider = Organisation {
        id: Uuid::now_v7(),
        kind: OrganisationKind::PrivateProvider,
        name: "Vårdbolaget Demo AB".into(),
        region_code: None,
        kommunkod: None,
        hsa_id: Some(hsa(provider_number, "0001")),
        acts_for: Some(Principal::Region),
    };
    store.insert_organisation(&provider, None, now).await?;

    let mut kommuner = vec![];
    for (i, (code, name)) in KOMMUNER.iter().enumerate() {
        let code = Kommunkod::parse(code).expect("real kommunkod");
        let number = format!("21200099{i:02}");
        let org = Organisation {
            id: Uuid::now_v7(),
            kind: OrganisationKind::Kommun,
            name: format!("{name} kommun"),
            region_code: None,
            kommunkod: Some(code.clone()),
            hsa_id: Some(hsa(&number, "0001")),
            acts_for: None,
        };
        store.insert_organisation(&org, None, now).await?;
        let bistand = add_unit(
            store,
            UnitSpec {
                org: &org,
                org_number: &number,
                suffix: "BIST".into(),
                name: format!("Biståndsenheten {name}"),
                kind: UnitKind::Bistandsenhet,
                care_type: CareType::Somatic,
                receives_for: Some(&code),
            },
            now,
            report,
        )
        .await?;
        let hsl = add_unit(
            store,
            UnitSpec {
                org: &org,
                org_number: &number,
                suffix: "HSL".into(),
                name: format!("Kommunal hälso- och sjukvård {name}"),
                kind: UnitKind::KommunalHsl,
                care_type: CareType::Somatic,
                receives_for: None,
            },
            now,
            report,
        )
        .await?;
        add_unit(
            store,
            UnitSpec {
                org: &org,
                org_number: &number,
                suffix: "KORT".into(),
                name: format!("Korttidsboendet {name}"),
                kind: UnitKind::SaboKorttid,
                care_type: CareType::Somatic,
                receives_for: None,
            },
            now,
            report,
        )
        .await?;
        let mut vardcentraler = vec![];
        for (p, place) in PLACES.iter().enumerate() {
            vardcentraler.push(
                add_unit(
                    store,
                    UnitSpec {
                        org: if *place == "Södra" { &provider } else { &region },
                        org_number: if *place == "Södra" { provider_number } else { region_number },
                        suffix: format!("VC{i:02}{p}"),
                        name: format!("Vårdcentralen {name} {place}"),
                        kind: UnitKind::Vardcentral,
                        care_type: CareType::Somatic,
                        receives_for: None,
                    },
                    now,
                    report,
                )
                .await?,
            );
        }
        kommuner.push(Kommun { code, bistand, hsl, vardcentraler });
    }

    // Two people per unit, each with an assignment there, and an administrator for every
    // organisation. All share the demo password (hashed once: argon2 is slow on purpose) and
    // have their authenticator already set up; the start page shows their current codes.
    let password_hash = samverka_app::auth::password::hash(samverka_app::config::DEMO_PASSWORD.to_string())
        .await
        .map_err(|_| StoreError::Unavailable("password hashing failed".into()))?;
    let mut users = std::collections::HashMap::new();
    let mut counts: std::collections::HashMap<&'static str, usize> = std::collections::HashMap::new();
    let mut admins_done = std::collections::HashSet::new();
    let all_units = store.units().await?;
    for (n, unit) in all_units.iter().enumerate() {
        let roles = match unit.kind {
            UnitKind::Ward => [Role::Vardsamordnare, Role::Lakare],
            UnitKind::Vardcentral => [Role::Sjukskoterska, Role::Lakare],
            UnitKind::Bistandsenhet => [Role::Bistandshandlaggare, Role::Enhetschef],
            UnitKind::KommunalHsl => [Role::Mas, Role::Sjukskoterska],
            _ => [Role::Sjukskoterska, Role::Arbetsterapeut],
        };
        let mut list = vec![];
        let first_of_org = admins_done.insert(unit.organisation_id);
        let people = roles.iter().copied().chain(first_of_org.then_some(Role::Administrator));
        for (k, role) in people.enumerate() {
            let slug = role_slug(role);
            let count = counts.entry(slug).or_default();
            *count += 1;
            let username = format!("{slug}{count}");
            let name =
                format!("{} {}", GIVEN[rng.random_range(0..GIVEN.len())], FAMILY[rng.random_range(0..FAMILY.len())]);
            let id = Uuid::now_v7();
            let org_number = unit.hsa_id.organisation_number().to_string();
            let account = NewAccount {
                id,
                name: name.clone(),
                hsa_id: Some(hsa(&org_number, &format!("P{n}{k}")).as_str().to_string()),
                organisation_id: unit.organisation_id,
                username: Some(username.clone()),
                password_hash: Some(password_hash.clone()),
                password_must_change: false,
                totp_secret: Some(samverka_app::auth::totp::new_secret()),
                totp_confirmed: true,
                oidc: None,
            };
            store.create_account(&account, now).await?;
            let assignment = Uuid::now_v7();
            store.add_assignment(assignment, id, unit.id, role, None, now).await?;
            report.users.push((username, unit.name.clone(), id, unit.id));
            if role != Role::Administrator {
                list.push((UserRef { id, name }, role, assignment));
            }
        }
        users.insert(unit.id, list);
    }
    // Fictive residents aged 65+ (the real figures come from SCB by `import-population`).
    let year = samverka_domain::calendar::local_date(now).year();
    let population: Vec<_> = kommuner
        .iter()
        .flat_map(|k| {
            let base = 6_000 + (k.code.as_str().parse::<i64>().unwrap_or(0) * 733) % 24_000;
            (year - 5..=year).map(move |y| (k.code.clone(), y, base + (y as i64 - 2020) * 150))
        })
        .collect();
    store.set_population(&population).await?;
    Ok(World { wards, psych_wards, kommuner, users })
}

fn sip_plan(k: &Kommun, vc: &UnitRef, follow_up: jiff::civil::Date, rng: &mut StdRng) -> SipPlan {
    let goals = [
        "Jag vill klara mig hemma och kunna gå ut på promenad varje dag.",
        "Jag vill kunna laga min egen frukost igen.",
        "Jag vill inte ramla mer och vill känna mig trygg på nätterna.",
        "Jag vill kunna träffa mina barnbarn på söndagarna.",
    ];
    SipPlan {
        needs: vec![
            "Stöd med personlig hygien morgon och kväll".into(),
            "Läkemedelshantering".into(),
            "Trygghet nattetid".into(),
        ],
        insatser: vec![
            Insats {
                principal: Principal::Kommun,
                unit: Some(k.bistand.id),
                description: "Hemtjänst två gånger per dag".into(),
            },
            Insats { principal: Principal::Kommun, unit: Some(k.hsl.id), description: "Trygghetslarm".into() },
            Insats {
                principal: Principal::Region,
                unit: Some(vc.id),
                description: "Läkemedelsgenomgång och uppföljande hembesök".into(),
            },
        ],
        others_measures: vec![OtherMeasure { who: "Dottern".into(), description: "Handlar varje fredag".into() }],
        overall_responsible: Principal::Kommun,
        own_goals: goals[rng.random_range(0..goals.len())].into(),
        participants: vec![
            Participant { name: "Patienten".into(), role: ParticipantRole::Patient, unit: None, title: String::new() },
            Participant {
                name: "Dottern".into(),
                role: ParticipantRole::Narstaende,
                unit: None,
                title: "dotter".into(),
            },
            Participant {
                name: "Distriktssköterskan".into(),
                role: ParticipantRole::Staff,
                unit: Some(vc.id),
                title: "fast vårdkontakt".into(),
            },
            Participant {
                name: "Biståndshandläggaren".into(),
                role: ParticipantRole::Staff,
                unit: Some(k.bistand.id),
                title: "biståndshandläggare".into(),
            },
        ],
        coordinator: Coordinator { name: "Distriktssköterskan".into(), unit: vc.id },
        follow_up_date: follow_up,
        follow_up_how: "Uppföljning hemma hos patienten med alla deltagare".into(),
    }
}

async fn make_case(
    store: &Store,
    w: &World,
    target: Target,
    i: usize,
    now: Timestamp,
    rng: &mut StdRng,
) -> Result<(), StoreError> {
    let k = &w.kommuner[i % w.kommuner.len()];
    let vc = k.vardcentraler[rng.random_range(0..k.vardcentraler.len())].clone();
    let psych = i % 17 == 5;
    let ward = if psych { &w.psych_wards[i % w.psych_wards.len()] } else { &w.wards[i % w.wards.len()] };

    // A person born 1925-1950 with a birth number in Skatteverket's test range 980-999.
    let birth = jiff::civil::date(1925 + rng.random_range(0..26), rng.random_range(1..=12), rng.random_range(1..=28));
    let pnr = personnummer_with_check_digit(birth, 980 + (i % 20) as u16);
    let protection = match i % 41 {
        7 => ProtectedIdentity::Sekretessmarkering,
        19 => ProtectedIdentity::SkyddadFolkbokforing,
        _ => ProtectedIdentity::None,
    };
    let patient_id = Uuid::now_v7();
    let ward_actor = w.actor(ward);
    let patient = NewPatient {
        identifier: PatientIdentifier::Personnummer(pnr),
        given_name: GIVEN[rng.random_range(0..GIVEN.len())].into(),
        family_name: FAMILY[rng.random_range(0..FAMILY.len())].into(),
        kommun: k.code.clone(),
        listed_unit: Some(vc.id),
        protection,
        address: Some(Address {
            street: format!("{} {}", STREETS[rng.random_range(0..STREETS.len())], rng.random_range(1..80)),
            postal_code: format!(
                "1{}{} {:02}",
                rng.random_range(0..9),
                rng.random_range(0..9),
                rng.random_range(10..99)
            ),
            city: KOMMUNER[i % KOMMUNER.len()].1.into(),
        }),
    };
    let registered = match store.insert_patient(patient_id, patient, &ward_actor, now).await {
        // Two demo patients may draw the same personnummer; take the next one.
        Err(StoreError::Problem(p)) if p.code == "patient_exists" => return Ok(()),
        other => other?,
    };

    // When the admission happened, by how far the case is to come.
    let back_days = match target {
        Target::Admitted => 0,
        Target::Notified => 1,
        Target::Planning => 3,
        Target::Ready | Target::ReadyWithdrawnAndRegiven | Target::TransferredThenReady => 9,
        Target::Discharged | Target::DischargedWithoutNotice | Target::Cancelled => 14,
        Target::SipCalled => 16,
        Target::SipDrawnUp => 25,
        Target::FollowedUp | Target::Closed => 75,
    };
    let jitter = rng.random_range(2..20);
    let t0 = now - hours(back_days * 24 + jitter);
    let case_id = Uuid::now_v7();
    let open = OpenCase {
        case_id,
        patient_id: registered.id,
        kommun: k.code.clone(),
        listed_unit: Some(vc.id),
        care_type: if psych { CareType::Psychiatric } else { CareType::Somatic },
        admitted_at: t0,
        needs_assessed_at: None,
        born: registered.identifier.birth_date(),
        sip_at_home: None,
    };
    store.open_case(&open, "demo", &ward_actor, t0).await?;
    if target == Target::Admitted {
        return Ok(());
    }

    let mut current_ward = ward.clone();
    let exec = |actor: Audit, cmd: Command, at: Timestamp| async move {
        store.execute(case_id, &actor, cmd, at).await.map(|_| ())
    };
    let send = |unit: &UnitRef, to: Vec<UnitRef>, body: MessageBody, at: Timestamp| {
        let actor = w.actor(unit);
        let cmd = Command::SendMessage { message_id: Uuid::now_v7(), body, recipients: to, corrects: None };
        exec(actor, cmd, at)
    };
    let both = vec![k.bistand.clone(), vc.clone()];
    let estimate = local_date(t0) + rng.random_range(3..9).days();

    // Step 1, usually within a few hours, sometimes late.
    let mut t = t0 + hours(if i % 9 == 4 { 30 } else { rng.random_range(1..10) });
    if target != Target::DischargedWithoutNotice {
        send(
            &current_ward,
            both.clone(),
            MessageBody::Inskrivningsmeddelande { estimated_discharge: estimate, note: String::new() },
            t,
        )
        .await?;
        let notice_id = store.case(case_id).await?.expect("case").case.messages[0].message.id;
        if target != Target::Notified {
            for unit in [&k.bistand, &vc] {
                t += hours(rng.random_range(1..4));
                exec(w.actor(unit), Command::AcknowledgeMessage { message_id: notice_id }, t).await?;
            }
        } else {
            exec(w.actor(&k.bistand), Command::OpenMessage { message_id: notice_id }, t + hours(1)).await?;
        }
    }
    if target == Target::Notified {
        return Ok(());
    }

    let mut ready_at = t0 + hours(24 * rng.random_range(2..5));
    if target != Target::DischargedWithoutNotice {
        // Steps 2 and 3.
        t += hours(rng.random_range(6..20));
        let fvk = MessageBody::FastVardkontakt {
            name: format!("{} {}", GIVEN[rng.random_range(0..GIVEN.len())], FAMILY[rng.random_range(0..FAMILY.len())]),
            role: "distriktssköterska".into(),
            phone: "08-123 456 78".into(),
            note: String::new(),
        };
        send(&vc, vec![current_ward.clone(), k.bistand.clone()], fvk, t).await?;
        let sip_needed = !matches!(target, Target::Discharged | Target::Closed) || i.is_multiple_of(2);
        let planning = MessageBody::Planeringsunderlag {
            needs: "Behöver hjälp med personlig hygien och påklädning.".into(),
            function: "Går med rollator, behöver tillsyn vid förflyttning.".into(),
            current_insatser: "Hemtjänst en gång per dag sedan 2024.".into(),
            assessments: String::new(),
            sip_needed: Some(sip_needed),
        };
        t += hours(rng.random_range(2..10));
        send(&k.bistand, vec![current_ward.clone(), vc.clone()], planning, t).await?;
        ready_at = ready_at.max(t + hours(6));
        if target == Target::Planning {
            return Ok(());
        }
        if target == Target::TransferredThenReady {
            let to = w.wards.iter().find(|u| u.id != current_ward.id).expect("another ward").clone();
            let at = ready_at - hours(5);
            exec(
                w.actor(&current_ward),
                Command::TransferPatient { to_ward: to.clone(), care_type: CareType::Somatic, at },
                at,
            )
            .await?;
            current_ward = to;
        }
        // Step 5.
        let ready_body =
            || MessageBody::Utskrivningsklar { referrals_cancelled: true, sip_needed: None, note: String::new() };
        send(&current_ward, both.clone(), ready_body(), ready_at).await?;
        if target == Target::ReadyWithdrawnAndRegiven {
            send(
                &current_ward,
                both.clone(),
                MessageBody::AtertagenUtskrivningsklar { reason: "Nytillkommen feber, ny bedömning krävs.".into() },
                ready_at + hours(20),
            )
            .await?;
            send(&current_ward, both.clone(), ready_body(), ready_at + hours(50)).await?;
        }
        if matches!(target, Target::Ready | Target::ReadyWithdrawnAndRegiven | Target::TransferredThenReady) {
            return Ok(());
        }
        if target == Target::Cancelled {
            send(
                &current_ward,
                both.clone(),
                MessageBody::AvbrottIProcessen {
                    reason: CancelReason::OtherInpatientCare,
                    note: "Flyttad till annan region.".into(),
                },
                ready_at + hours(20),
            )
            .await?;
            return Ok(());
        }
        // Step 4, with consent first.
        if sip_needed {
            let call_at = ready_at + hours(rng.random_range(3..40));
            for kind in [ConsentKind::SipCall, ConsentKind::Sip] {
                let cmd = Command::RecordConsent {
                    consent_id: Uuid::now_v7(),
                    kind,
                    given_by: ConsentGiver::Patient,
                    given_at: call_at - hours(1),
                    note: String::new(),
                };
                exec(w.actor(&vc), cmd, call_at - hours(1)).await?;
            }
            let call = MessageBody::KallelseSip {
                meeting_at: call_at + hours(50),
                place: "Hemma hos patienten".into(),
                participants: vec!["Patienten".into(), "Dottern".into(), "Biståndshandläggare".into()],
                patient_invited: true,
                relatives_invited: true,
                note: String::new(),
            };
            send(&vc, vec![current_ward.clone(), k.bistand.clone()], call, call_at).await?;
            t = call_at;
        }
    }
    // Step 6.
    let discharged = (ready_at + hours(24 * rng.random_range(0..5) + rng.random_range(1..6))).max(t + hours(1));
    let info = MessageBody::InformationVidUtskrivning {
        discharged_at: discharged,
        medication: "Läkemedelslista bifogad; dosdispensering startar måndag.".into(),
        aids: "Rollator, duschpall".into(),
        information_to_patient: "Muntlig och skriftlig information om läkemedel och uppföljning.".into(),
        note: String::new(),
    };
    let recipients =
        if target == Target::DischargedWithoutNotice { both.clone() } else { vec![k.bistand.clone(), vc.clone()] };
    send(&current_ward, recipients, info, discharged).await?;
    if matches!(target, Target::Discharged | Target::DischargedWithoutNotice | Target::SipCalled) {
        return Ok(());
    }
    if target == Target::Closed && store.case(case_id).await?.expect("case").case.sip_needed != Some(true) {
        exec(
            w.actor(&vc),
            Command::CloseCase { note: "Inga fortsatta insatser behövs.".into() },
            discharged + hours(48),
        )
        .await?;
        return Ok(());
    }
    // Step 7.
    let drawn = discharged + hours(72);
    let follow_up = local_date(drawn) + 28.days();
    // Most are screened at the SIP meeting (follow-up counts the share).
    if rng.random_range(0..4) > 0 {
        let screening = samverka_domain::screening::Screening {
            frailty: samverka_domain::screening::Frailty::new(rng.random_range(4..=7)).ok(),
            coordination: Some(samverka_domain::screening::CoordinationNeed {
                both_principals: true,
                many_providers: rng.random_bool(0.5),
                ..Default::default()
            }),
            note: "Bedömt vid SIP-mötet".into(),
        };
        exec(w.actor(&vc), Command::RecordScreening { screening }, drawn - hours(1)).await?;
    }
    exec(w.actor(&vc), Command::DrawUpSip { plan: sip_plan(k, &vc, follow_up, rng) }, drawn).await?;
    if target == Target::SipDrawnUp {
        return Ok(());
    }
    // Step 8.
    let at = drawn + hours(28 * 24);
    let outcome = if target == Target::Closed {
        FollowUpOutcome::Close
    } else {
        FollowUpOutcome::Continue { next_follow_up: local_date(at) + 42.days() }
    };
    exec(
        w.actor(&vc),
        Command::FollowUpSip { evaluation: "Hemtjänsten fungerar; patienten känner sig trygg.".into(), outcome },
        at,
    )
    .await?;
    Ok(())
}

fn role_slug(role: Role) -> &'static str {
    match role {
        Role::Vardsamordnare => "vardsamordnare",
        Role::Bistandshandlaggare => "bistand",
        Role::Sjukskoterska => "sjukskoterska",
        Role::Lakare => "lakare",
        Role::Arbetsterapeut => "arbetsterapeut",
        Role::Fysioterapeut => "fysioterapeut",
        Role::Enhetschef => "enhetschef",
        Role::Mas => "mas",
        Role::Administrator => "admin",
        Role::Klusterledare => "klusterledare",
        Role::System => "system",
        Role::Person => "person",
    }
}
