//! The working day that `samverka-load` runs and the soak test repeats in short: who takes
//! part, what each request is, open- and closed-loop drivers with HDR histograms, and idle
//! live-update connections.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use samverka_domain::access::Role;
use samverka_domain::org::UnitKind;
use samverka_store::Store;
use tokio::sync::Mutex;
use uuid::Uuid;

use crate::{Login, session};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Trivial,
    Inbox,
    Case,
    Search,
    Message,
    Acknowledge,
    FhirPatient,
    FhirSearch,
    FhirEpisodes,
    FhirMessage,
}

impl World {
    /// The `i`th process, round the list.
    pub fn base(&self, i: usize) -> &str {
        &self.bases[i % self.bases.len()]
    }

    /// The process the request numbered `pick` goes to: mixed, since `pick` also chooses the
    /// case and counts up in the closed loops, and every case should meet every process.
    pub fn base_for(&self, pick: usize) -> &str {
        self.base(((pick as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40) as usize)
    }
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Trivial => "trivial `/api/live`",
            Kind::Inbox => "inbox `/`",
            Kind::Case => "case page `/arenden/{id}`",
            Kind::Search => "search `POST /sok`",
            Kind::Message => "write message `POST /api/cases/{id}/messages`",
            Kind::Acknowledge => "acknowledge `POST …/acknowledge`",
            Kind::FhirPatient => "FHIR `GET /fhir/Patient/{id}`",
            Kind::FhirSearch => "FHIR `GET /fhir/Patient?identifier=…`",
            Kind::FhirEpisodes => "FHIR `GET /fhir/EpisodeOfCare?patient=…`",
            Kind::FhirMessage => "FHIR `POST /fhir/Communication`",
        }
    }
}

/// The working day's mix: mostly looking, a quarter writing.
pub const MIXED: &[(Kind, u32)] = &[
    (Kind::Inbox, 30),
    (Kind::Case, 40),
    (Kind::Search, 5),
    (Kind::Message, 12),
    (Kind::Acknowledge, 12),
    (Kind::Trivial, 1),
];
pub const WRITES: &[(Kind, u32)] = &[(Kind::Message, 1), (Kind::Acknowledge, 1)];

/// An open case and who works on it.
pub struct Target {
    pub case_id: Uuid,
    pub patient_id: Uuid,
    pub patient_number: String,
    pub ward: usize,
    pub bistand: usize,
}

pub struct World {
    /// The processes' addresses; requests are spread over them.
    pub bases: Vec<String>,
    pub wards: Vec<Login>,
    pub bistand: Vec<Login>,
    pub cases: Vec<Target>,
    /// Messages sent and not yet acknowledged: (case index, message id).
    pub unacknowledged: Mutex<VecDeque<(usize, Uuid)>>,
    /// A FHIR bearer token per ward (by the ward's index), when the FHIR phases run.
    pub fhir_tokens: Vec<String>,
}

#[derive(Default)]
pub struct Stats {
    pub hist: BTreeMap<Kind, Histogram<u64>>,
    pub errors: BTreeMap<Kind, u64>,
    pub first_errors: Vec<String>,
}

impl Stats {
    fn record(&mut self, kind: Kind, latency: Duration, result: Result<(), String>) {
        let h = self.hist.entry(kind).or_insert_with(|| Histogram::new_with_bounds(1, 120_000_000, 3).unwrap());
        h.saturating_record(latency.as_micros() as u64);
        if let Err(e) = result {
            *self.errors.entry(kind).or_default() += 1;
            if self.first_errors.len() < 5 {
                self.first_errors.push(format!("{}: {e}", kind.name()));
            }
        }
    }
}

async fn expect(res: reqwest::Result<reqwest::Response>, ok: u16) -> Result<reqwest::Response, String> {
    let res = res.map_err(|e| e.to_string())?;
    if res.status().as_u16() == ok {
        Ok(res)
    } else {
        let status = res.status();
        Err(format!("{status}: {}", res.text().await.unwrap_or_default().chars().take(300).collect::<String>()))
    }
}

/// One request of `kind`, as one of the people in `world`; `pick` is a random number.
pub async fn request(world: &World, client: &reqwest::Client, kind: Kind, pick: usize) -> Result<(), String> {
    let base = world.base_for(pick);
    let target = &world.cases[pick % world.cases.len()];
    // Half the reads are the ward's, half the municipality's.
    let reader = if pick.is_multiple_of(2) { &world.wards[target.ward] } else { &world.bistand[target.bistand] };
    let res = match kind {
        Kind::Trivial => expect(client.get(format!("{base}/api/live")).send().await, 200).await?,
        Kind::Inbox => {
            expect(client.get(format!("{base}/")).header("cookie", &reader.cookie).send().await, 200).await?
        }
        Kind::Case => {
            let url = format!("{base}/arenden/{}", target.case_id);
            expect(client.get(url).header("cookie", &reader.cookie).send().await, 200).await?
        }
        Kind::Search => {
            let ward = &world.wards[target.ward];
            let form = serde_urlencoded::to_string([("csrf_token", &ward.csrf), ("nummer", &target.patient_number)])
                .map_err(|e| e.to_string())?;
            let req = client
                .post(format!("{base}/sok"))
                .header("cookie", &ward.cookie)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form);
            expect(req.send().await, 200).await?
        }
        Kind::FhirPatient | Kind::FhirSearch | Kind::FhirEpisodes => {
            let token = world.fhir_tokens.get(target.ward).ok_or("no FHIR token: run with the FHIR phases")?;
            let url = match kind {
                Kind::FhirPatient => format!("{base}/fhir/Patient/{}", target.patient_id),
                Kind::FhirSearch => format!("{base}/fhir/Patient?identifier={}", target.patient_number),
                _ => format!("{base}/fhir/EpisodeOfCare?patient={}", target.patient_id),
            };
            expect(client.get(url).bearer_auth(token).send().await, 200).await?
        }
        Kind::FhirMessage => {
            // The ward's system sends the biståndsenhet a free message in the case.
            let token = world.fhir_tokens.get(target.ward).ok_or("no FHIR token: run with the FHIR phases")?;
            let body = serde_json::json!({
                "resourceType": "Communication",
                "status": "completed",
                "category": [{ "coding": [{ "system": "urn:samverka:CodeSystem:message-kind", "code": "allmant" }] }],
                "subject": { "reference": format!("Patient/{}", target.patient_id) },
                "encounter": { "reference": format!("Encounter/{}", target.case_id) },
                "recipient": [{ "reference": format!("Organization/{}", world.bistand[target.bistand].unit) }],
                "payload": [{ "contentString": "Patienten behöver hjälp med läkemedel morgon och kväll." }],
            });
            let req = client
                .post(format!("{base}/fhir/Communication"))
                .bearer_auth(token)
                .header("content-type", "application/fhir+json")
                .body(body.to_string());
            expect(req.send().await, 201).await?
        }
        Kind::Message => return message(world, client, pick).await,
        Kind::Acknowledge => {
            let Some((case, message_id)) = world.unacknowledged.lock().await.pop_front() else {
                // Nothing to acknowledge yet: the ward writes instead.
                return message(world, client, pick).await;
            };
            let target = &world.cases[case];
            let who = &world.bistand[target.bistand];
            let url = format!("{base}/api/cases/{}/messages/{message_id}/acknowledge", target.case_id);
            let req = client.post(url).header("cookie", &who.cookie).header("x-csrf-token", &who.csrf);
            expect(req.send().await, 200).await?
        }
    };
    res.bytes().await.map(|_| ()).map_err(|e| e.to_string())
}

async fn message(world: &World, client: &reqwest::Client, pick: usize) -> Result<(), String> {
    let case = pick % world.cases.len();
    let target = &world.cases[case];
    let ward = &world.wards[target.ward];
    let id = Uuid::now_v7();
    let body = serde_json::json!({
        "id": id,
        "body": { "kind": "allmant", "text": "Patienten behöver hjälp med läkemedel morgon och kväll." },
    });
    let url = format!("{}/api/cases/{}/messages", world.base_for(pick), target.case_id);
    let req = client.post(url).header("cookie", &ward.cookie).header("x-csrf-token", &ward.csrf).json(&body);
    expect(req.send().await, 201).await?.bytes().await.map_err(|e| e.to_string())?;
    world.unacknowledged.lock().await.push_back((case, id));
    Ok(())
}

fn choose(mix: &[(Kind, u32)], rng: &mut StdRng) -> Kind {
    let total: u32 = mix.iter().map(|(_, w)| w).sum();
    let mut x = rng.random_range(0..total);
    for (kind, w) in mix {
        if x < *w {
            return *kind;
        }
        x -= w;
    }
    unreachable!()
}

/// What a phase measured.
pub struct Phase {
    pub name: String,
    pub elapsed: Duration,
    pub stats: Stats,
    pub server_cpu: Duration,
    pub server_rss_kib: u64,
}

/// Requests on a fixed schedule at `rate` per second for `seconds`; latency from the
/// scheduled start.
pub async fn open_loop(
    world: &Arc<World>,
    client: &reqwest::Client,
    mix: &[(Kind, u32)],
    rate: f64,
    seconds: u64,
) -> Stats {
    let stats = Arc::new(std::sync::Mutex::new(Stats::default()));
    let mut rng = StdRng::seed_from_u64(7);
    let total = (rate * seconds as f64) as u64;
    let start = tokio::time::Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..total {
        let scheduled = start + Duration::from_secs_f64(i as f64 / rate);
        tokio::time::sleep_until(scheduled).await;
        let (kind, pick) = (choose(mix, &mut rng), rng.random_range(0..usize::MAX / 2));
        let (world, client, stats) = (world.clone(), client.clone(), stats.clone());
        tasks.spawn(async move {
            let result = request(&world, &client, kind, pick).await;
            stats.lock().unwrap().record(kind, scheduled.elapsed(), result);
        });
        while tasks.try_join_next().is_some() {}
    }
    while tasks.join_next().await.is_some() {}
    Arc::try_unwrap(stats).ok().unwrap().into_inner().unwrap()
}

/// `connections` clients each sending `kind` back to back for `seconds`.
pub async fn closed_loop(
    world: &Arc<World>,
    client: &reqwest::Client,
    kind: Kind,
    connections: usize,
    seconds: u64,
) -> Stats {
    let stats = Arc::new(std::sync::Mutex::new(Stats::default()));
    let end = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = tokio::task::JoinSet::new();
    for c in 0..connections {
        let (world, client, stats) = (world.clone(), client.clone(), stats.clone());
        tasks.spawn(async move {
            let mut pick = c * 7919;
            while Instant::now() < end {
                let t = Instant::now();
                let result = request(&world, &client, kind, pick).await;
                stats.lock().unwrap().record(kind, t.elapsed(), result);
                pick += 1;
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    Arc::try_unwrap(stats).ok().unwrap().into_inner().unwrap()
}

/// Idle live-update connections: each holds `/handelser` open and counts what arrives.
pub struct Streams {
    pub open: Arc<AtomicUsize>,
    pub failed: Arc<AtomicUsize>,
    pub events: Arc<AtomicU64>,
    pub tasks: tokio::task::JoinSet<()>,
}

pub async fn open_streams(world: &Arc<World>, n: usize) -> Streams {
    // Their own client, so their connections are never borrowed for requests.
    let client = reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap();
    let (open, failed, events) =
        (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)), Arc::new(AtomicU64::new(0)));
    let mut tasks = tokio::task::JoinSet::new();
    let people: Vec<Login> = world.wards.iter().chain(&world.bistand).cloned().collect();
    for i in 0..n {
        let who = people[i % people.len()].clone();
        let url = format!("{}/handelser", world.base(i));
        let (client, open, failed, events) = (client.clone(), open.clone(), failed.clone(), events.clone());
        tasks.spawn(async move {
            let mut res = match client.get(url).header("cookie", &who.cookie).send().await {
                Ok(r) if r.status().is_success() => r,
                _ => {
                    failed.fetch_add(1, Ordering::Relaxed);
                    return;
                }
            };
            open.fetch_add(1, Ordering::Relaxed);
            while let Ok(Some(chunk)) = res.chunk().await {
                let n = chunk.windows(12).filter(|w| w == b"event: chang").count();
                events.fetch_add(n as u64, Ordering::Relaxed);
            }
            open.fetch_sub(1, Ordering::Relaxed);
            failed.fetch_add(1, Ordering::Relaxed);
        });
        // Browsers do not all open at once either; this also keeps the accept queue short.
        if i % 200 == 199 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    while open.load(Ordering::Relaxed) + failed.load(Ordering::Relaxed) < n && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Streams { open, failed, events, tasks }
}

/// How long a change made on one process takes to reach an open page on another: every
/// `every`, the ward of `target` (a case the load does not touch, so that no other change of
/// it is mistaken for the probe's) writes on the first process, and the time until the
/// municipality's page on the second process hears of the case is recorded (in microseconds).
/// Ends when the returned task is aborted.
pub fn probe_across(
    world: &Arc<World>,
    target: Arc<Target>,
    every: Duration,
) -> (Arc<std::sync::Mutex<Histogram<u64>>>, tokio::task::JoinHandle<()>) {
    let hist = Arc::new(std::sync::Mutex::new(Histogram::new_with_bounds(1, 120_000_000, 3).unwrap()));
    let (world, out) = (world.clone(), hist.clone());
    let task = tokio::spawn(async move {
        let client = reqwest::Client::new();
        let target = &*target;
        let (ward, bistand) = (&world.wards[target.ward], &world.bistand[target.bistand]);
        let Ok(mut page) =
            client.get(format!("{}/handelser", world.base(1))).header("cookie", &bistand.cookie).send().await
        else {
            return;
        };
        let wanted = format!("\"case\":\"{}\"", target.case_id);
        let mut seen = String::new();
        loop {
            tokio::time::sleep(every).await;
            let body = serde_json::json!({ "body": { "kind": "allmant", "text": "Mätprov." } });
            let url = format!("{}/api/cases/{}/messages", world.base(0), target.case_id);
            let req = client.post(url).header("cookie", &ward.cookie).header("x-csrf-token", &ward.csrf).json(&body);
            if !matches!(req.send().await, Ok(r) if r.status() == 201) {
                continue;
            }
            let sent = Instant::now();
            seen.clear();
            while !seen.contains(&wanted) {
                match tokio::time::timeout(Duration::from_secs(10), page.chunk()).await {
                    Ok(Ok(Some(chunk))) => seen.push_str(&String::from_utf8_lossy(&chunk)),
                    _ => return,
                }
            }
            out.lock().unwrap().saturating_record(sent.elapsed().as_micros() as u64);
        }
    });
    (hist, task)
}

pub async fn setup(store: &Store, wards_wanted: usize) -> (Vec<Login>, Vec<Login>, Vec<Target>) {
    let units = store.units().await.unwrap();
    let mut rng = StdRng::seed_from_u64(11);
    let mut wards: Vec<_> = units.iter().filter(|u| u.kind == UnitKind::Ward).collect();
    // A fixed shuffle, so runs are comparable.
    for i in (1..wards.len()).rev() {
        wards.swap(i, rng.random_range(0..=i));
    }
    let (mut ward_logins, mut bistand_logins, mut targets) = (vec![], vec![], vec![]);
    let mut bistand_index: BTreeMap<Uuid, usize> = BTreeMap::new();
    for ward in wards {
        if ward_logins.len() >= wards_wanted {
            break;
        }
        let open: Vec<_> = store
            .cases_for_unit(ward.id, false, 40)
            .await
            .unwrap()
            .into_iter()
            .filter(|c| c.phase != samverka_domain::case::Phase::AwaitingAssessment)
            .collect();
        if open.is_empty() {
            continue;
        }
        let w = ward_logins.len();
        ward_logins.push(session(store, ward.id, ward.organisation_id, Role::Vardsamordnare, "Last Avdelning").await);
        for c in open {
            let record = store.case(c.case_id).await.unwrap().unwrap();
            let Some(b) = record.case.parties.iter().find(|p| p.unit.kind == UnitKind::Bistandsenhet) else { continue };
            let b = match bistand_index.get(&b.unit.id) {
                Some(i) => *i,
                None => {
                    let unit = units.iter().find(|u| u.id == b.unit.id).unwrap();
                    let login =
                        session(store, unit.id, unit.organisation_id, Role::Bistandshandlaggare, "Last Bistånd").await;
                    bistand_logins.push(login);
                    bistand_index.insert(unit.id, bistand_logins.len() - 1);
                    bistand_logins.len() - 1
                }
            };
            targets.push(Target {
                case_id: c.case_id,
                patient_id: c.patient_id,
                patient_number: c.patient_identifier.clone(),
                ward: w,
                bistand: b,
            });
        }
    }
    (ward_logins, bistand_logins, targets)
}
