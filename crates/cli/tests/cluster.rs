//! Three `samverka serve` processes on one PostgreSQL database behind HAProxy (Debian's package,
//! with the configuration shipped in `deploy/haproxy/`), all started here: live receipts
//! across processes, a process killed under write load, a rolling restart under load, and
//! background work done once.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use samverka_domain::access::Role;
use samverka_domain::case::Phase;
use samverka_store::{Agreements, Store};
use serde_json::json;
use uuid::Uuid;

const PROCESSES: usize = 3;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Three processes and HAProxy in front, on one fresh PostgreSQL database with demo data.
struct Cluster {
    dir: tempfile::TempDir,
    url: String,
    ports: Vec<u16>,
    processes: Vec<Option<Child>>,
    env: Vec<(String, String)>,
    haproxy: Child,
    /// Where HAProxy takes requests.
    front: String,
}

impl Cluster {
    fn start(extra_env: &[(&str, &str)]) -> Cluster {
        let mut cluster = Cluster::prepare(extra_env);
        cluster.start_together();
        cluster
    }

    /// The database with demo data and HAProxy, but no process yet.
    fn prepare(extra_env: &[(&str, &str)]) -> Cluster {
        let dir = tempfile::tempdir().unwrap();
        let url = samverka_testkit::PgServer::get().fresh_database();
        let out = Command::new(env!("CARGO_BIN_EXE_samverka"))
            .current_dir(dir.path())
            .args(["demo", "--patients", "26"])
            .env("SAMVERKA_DATABASE_URL", &url)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let ports: Vec<u16> = (0..PROCESSES).map(|_| free_port()).collect();
        let mut env: Vec<(String, String)> = vec![
            ("SAMVERKA_DATABASE_URL".into(), url.clone()),
            // Above HAProxy's fall × inter (2 × 1 s): out of rotation before it stops taking connections.
            ("SAMVERKA_SHUTDOWN_DRAIN_MS".into(), "3000".into()),
            ("SAMVERKA_LOG".into(), "error".into()),
        ];
        env.extend(extra_env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let front_port = free_port();
        let global = dir.path().join("global.cfg");
        std::fs::write(&global, "global\n    maxconn 4000\n").unwrap();
        let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/haproxy/samverka.cfg");
        let mut haproxy = Command::new("haproxy");
        haproxy.args(["-db", "-f"]).arg(&global).arg("-f").arg(&shipped);
        haproxy.env("SAMVERKA_FRONT", format!("127.0.0.1:{front_port}"));
        for (i, port) in ports.iter().enumerate() {
            haproxy.env(format!("SAMVERKA_{}", i + 1), format!("127.0.0.1:{port}"));
        }
        let haproxy = haproxy
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("HAProxy (Debian's package haproxy; scripts/test installs it)");
        Cluster {
            dir,
            url,
            ports,
            processes: (0..PROCESSES).map(|_| None).collect(),
            env,
            haproxy,
            front: format!("http://127.0.0.1:{front_port}"),
        }
    }

    fn base(&self, i: usize) -> String {
        format!("http://127.0.0.1:{}", self.ports[i])
    }

    fn start_process(&mut self, i: usize) {
        let child = self.spawn(i);
        self.processes[i] = Some(started(child, i));
    }

    /// All processes at once, so that they start their background rounds together.
    fn start_together(&mut self) {
        let children: Vec<Child> = (0..PROCESSES).map(|i| self.spawn(i)).collect();
        for (i, child) in children.into_iter().enumerate() {
            self.processes[i] = Some(started(child, i));
        }
    }

    fn spawn(&self, i: usize) -> Child {
        Command::new(env!("CARGO_BIN_EXE_samverka"))
            .current_dir(self.dir.path())
            .arg("serve")
            .env_remove("SAMVERKA_DATA_DIR")
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .env("SAMVERKA_LISTEN", format!("127.0.0.1:{}", self.ports[i]))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    }

    /// Waits until HAProxy sends requests to every running process (its checks pass twice).
    async fn in_rotation(&self) {
        let client = reqwest::Client::new();
        for i in 0..PROCESSES {
            if self.processes[i].is_none() {
                continue;
            }
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                let ok =
                    client.get(format!("{}/api/health", self.base(i))).send().await.is_ok_and(|r| r.status() == 200);
                if ok {
                    break;
                }
                assert!(Instant::now() < deadline, "process {i} never became ready");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        // rise 2 × inter 1 s, and a margin.
        tokio::time::sleep(Duration::from_millis(2500)).await;
    }

    fn signal(&mut self, i: usize, signal: &str) -> Child {
        let child = self.processes[i].take().expect("the process runs");
        let ok = Command::new("kill").args([signal, &child.id().to_string()]).status().unwrap().success();
        assert!(ok);
        child
    }

    /// SIGTERM: the process leaves in order; returns how long it took.
    fn terminate(&mut self, i: usize) -> Duration {
        let started = Instant::now();
        let mut child = self.signal(i, "-TERM");
        let status = child.wait().unwrap();
        assert!(status.success(), "process {i} ended with {status}");
        started.elapsed()
    }

    fn kill(&mut self, i: usize) {
        let mut child = self.signal(i, "-KILL");
        let _ = child.wait();
    }

    async fn store(&self) -> Store {
        Store::connect(&self.url, Agreements::built_in()).await.unwrap()
    }
}

/// Waits for the process to say it is up.
fn started(mut child: Child, i: usize) -> Child {
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while !line.contains("Samverka är igång") {
        line.clear();
        assert!(stdout.read_line(&mut line).unwrap() > 0, "process {i} did not start");
    }
    child
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for child in self.processes.iter_mut().flatten() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = self.haproxy.kill();
        let _ = self.haproxy.wait();
    }
}

/// A session (cookie, CSRF token) of someone working at `unit`, written into the store.
async fn session_at(store: &Store, unit: Uuid) -> (String, String) {
    for account in store.local_accounts(1000).await.unwrap() {
        for a in store.assignments_of(account.id).await.unwrap() {
            if a.unit.id == unit && a.active && a.role != Role::Administrator {
                let (token, session) = samverka_app::auth::session_at(
                    account.id,
                    samverka_store::Stage::Active,
                    Some(a.id),
                    jiff::Timestamp::now(),
                    2,
                );
                store.create_session(&session, "127.0.0.1").await.unwrap();
                return (format!("{}={token}", samverka_app::auth::SESSION_COOKIE), session.csrf_token);
            }
        }
    }
    panic!("nobody works at unit {unit}");
}

/// An open case of the demo with a ward, a vårdcentral and a municipal unit, and a session at each.
struct ThreeUnits {
    case: Uuid,
    kommun_unit: Uuid,
    ward: (String, String),
    vc: (String, String),
    kommun: (String, String),
}

async fn three_units(store: &Store) -> ThreeUnits {
    use samverka_domain::org::UnitKind;
    let units = store.units().await.unwrap();
    let kind = |id: Uuid| units.iter().find(|u| u.id == id).map(|u| u.kind);
    for unit in units.iter().filter(|u| u.kind == UnitKind::Ward) {
        for c in store.cases_for_unit(unit.id, false, 100).await.unwrap() {
            if c.ward_id != unit.id || c.phase < Phase::Notified || !c.phase.is_open() {
                continue;
            }
            let case = store.case(c.case_id).await.unwrap().unwrap().case;
            let party = |k: &[UnitKind]| {
                case.parties.iter().map(|p| p.unit.id).find(|id| kind(*id).is_some_and(|x| k.contains(&x)))
            };
            let (Some(vc), Some(kommun)) =
                (party(&[UnitKind::Vardcentral]), party(&[UnitKind::Bistandsenhet, UnitKind::KommunalHsl]))
            else {
                continue;
            };
            return ThreeUnits {
                case: case.id,
                kommun_unit: kommun,
                ward: session_at(store, unit.id).await,
                vc: session_at(store, vc).await,
                kommun: session_at(store, kommun).await,
            };
        }
    }
    panic!("the demo has an open case with a ward, a vårdcentral and a municipal unit");
}

/// An open live stream (`/handelser`) of one process, read as it arrives.
struct Stream {
    res: reqwest::Response,
    seen: String,
}

impl Stream {
    async fn open(client: &reqwest::Client, base: &str, cookie: &str) -> Stream {
        let res = client.get(format!("{base}/handelser")).header("cookie", cookie).send().await.unwrap();
        assert_eq!(res.status(), 200);
        Stream { res, seen: String::new() }
    }

    /// Waits for a `change` of `case` (at most `limit`); returns when it came.
    async fn change_of(&mut self, case: Uuid, limit: Duration) -> Instant {
        let wanted = format!("\"case\":\"{case}\"");
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            if let Some(at) = self.seen.find(&wanted) {
                self.seen.drain(..at + wanted.len());
                return Instant::now();
            }
            let chunk = tokio::time::timeout_at(deadline, self.res.chunk())
                .await
                .unwrap_or_else(|_| panic!("no change of {case} within {limit:?}; heard {:?}", self.seen))
                .unwrap()
                .expect("the stream stays open");
            self.seen.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
}

async fn post(
    client: &reqwest::Client,
    base: &str,
    who: &(String, String),
    path: &str,
    body: serde_json::Value,
) -> reqwest::Response {
    client
        .post(format!("{base}{path}"))
        .header("cookie", &who.0)
        .header("x-csrf-token", &who.1)
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_organisation_on_its_own_process_sees_the_others_receipts_live() {
    let cluster = Cluster::start(&[]);
    let store = cluster.store().await;
    let t = three_units(&store).await;
    let client = reqwest::Client::new();
    let (ward_at, vc_at, kommun_at) = (cluster.base(0), cluster.base(1), cluster.base(2));
    let mut ward_page = Stream::open(&client, &ward_at, &t.ward.0).await;
    let mut vc_page = Stream::open(&client, &vc_at, &t.vc.0).await;
    let mut kommun_page = Stream::open(&client, &kommun_at, &t.kommun.0).await;

    // The ward writes on process 1; the vårdcentral (process 2) and the municipality
    // (process 3) see it on their open pages.
    let res = post(
        &client,
        &ward_at,
        &t.ward,
        &format!("/api/cases/{}/messages", t.case),
        json!({ "body": { "kind": "allmant", "text": "Patienten behöver rollator hemma." } }),
    )
    .await;
    assert_eq!(res.status(), 201);
    let sent_at = Instant::now();
    let body: serde_json::Value = res.json().await.unwrap();
    let message = body["state"]["messages"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|m| m["message"]["body"]["text"] == "Patienten behöver rollator hemma.")
        .unwrap()["message"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let limit = Duration::from_secs(10);
    let vc_heard = vc_page.change_of(t.case, limit).await;
    let kommun_heard = kommun_page.change_of(t.case, limit).await;
    // The ward's own page hears it from its own process.
    ward_page.change_of(t.case, limit).await;

    // The municipality acknowledges on process 3: the ward's page on process 1 hears the receipt.
    let res = post(
        &client,
        &kommun_at,
        &t.kommun,
        &format!("/api/cases/{}/messages/{message}/acknowledge", t.case),
        json!({}),
    )
    .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let acked_at = Instant::now();
    let ward_heard = ward_page.change_of(t.case, limit).await;
    vc_page.change_of(t.case, limit).await;
    eprintln!(
        "across processes: vårdcentral {:?}, kommun {:?} after the message; the ward {:?} after the receipt",
        vc_heard - sent_at,
        kommun_heard - sent_at,
        ward_heard - acked_at
    );
    // And the receipt is there, whichever process is asked.
    let res =
        client.get(format!("{}/api/cases/{}", cluster.front, t.case)).header("cookie", &t.ward.0).send().await.unwrap();
    let case: serde_json::Value = res.json().await.unwrap();
    let sent = case["state"]["messages"].as_array().unwrap().iter().find(|m| m["message"]["id"] == message).unwrap();
    let receipt = sent["receipts"].as_array().unwrap().iter().find(|r| r["unit"]["id"] == t.kommun_unit.to_string());
    assert!(receipt.unwrap()["acknowledged"].is_object(), "{sent}");
}

/// Writers posting messages to one case through HAProxy until told to stop; each returns the
/// ids answered 201 and what failed.
fn writers(
    n: usize,
    front: &str,
    who: &(String, String),
    case: Uuid,
    stop: &Arc<AtomicBool>,
    answered: &Arc<AtomicUsize>,
) -> Vec<tokio::task::JoinHandle<(Vec<Uuid>, Vec<String>)>> {
    (0..n)
        .map(|w| {
            let (front, who, stop, answered) = (front.to_string(), who.clone(), stop.clone(), answered.clone());
            tokio::spawn(async move {
                let client = reqwest::Client::new();
                let (mut ok, mut failed) = (vec![], vec![]);
                let mut i = 0;
                while !stop.load(Ordering::SeqCst) {
                    let id = Uuid::now_v7();
                    i += 1;
                    let res = client
                        .post(format!("{front}/api/cases/{case}/messages"))
                        .header("cookie", &who.0)
                        .header("x-csrf-token", &who.1)
                        .json(&json!({ "id": id, "body": { "kind": "allmant", "text": format!("Skribent {w}, nr {i}") } }))
                        .timeout(Duration::from_secs(30))
                        .send()
                        .await;
                    match res {
                        Ok(r) if r.status() == 201 => {
                            ok.push(id);
                            answered.fetch_add(1, Ordering::SeqCst);
                        }
                        Ok(r) => failed.push(format!("{}: {}", r.status(), r.text().await.unwrap_or_default())),
                        Err(e) => failed.push(e.to_string()),
                    }
                }
                (ok, failed)
            })
        })
        .collect()
}

/// Readers of the case through HAProxy; each returns how many reads succeeded and what failed.
fn readers(
    n: usize,
    front: &str,
    who: &(String, String),
    case: Uuid,
    stop: &Arc<AtomicBool>,
) -> Vec<tokio::task::JoinHandle<(usize, Vec<String>)>> {
    (0..n)
        .map(|_| {
            let (front, who, stop) = (front.to_string(), who.clone(), stop.clone());
            tokio::spawn(async move {
                let client = reqwest::Client::new();
                let (mut ok, mut failed) = (0, vec![]);
                while !stop.load(Ordering::SeqCst) {
                    let res = client
                        .get(format!("{front}/api/cases/{case}"))
                        .header("cookie", &who.0)
                        .timeout(Duration::from_secs(30))
                        .send()
                        .await;
                    match res {
                        Ok(r) if r.status() == 200 => ok += 1,
                        Ok(r) => failed.push(r.status().to_string()),
                        Err(e) => failed.push(e.to_string()),
                    }
                }
                (ok, failed)
            })
        })
        .collect()
}

async fn all_present(store: &Store, case: Uuid, ids: &[Uuid]) {
    let case = store.case(case).await.unwrap().unwrap().case;
    let lost: Vec<&Uuid> = ids.iter().filter(|id| case.message(**id).is_none()).collect();
    assert!(lost.is_empty(), "{} of {} acknowledged writes lost: {lost:?}", lost.len(), ids.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_killed_under_write_load_loses_no_acknowledged_write() {
    let mut cluster = Cluster::start(&[]);
    let store = cluster.store().await;
    let t = three_units(&store).await;
    cluster.in_rotation().await;
    let (stop, answered) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicUsize::new(0)));
    const WRITERS: usize = 4;
    let running = writers(WRITERS, &cluster.front, &t.ward, t.case, &stop, &answered);
    while answered.load(Ordering::SeqCst) < 50 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    cluster.kill(1);
    let at_kill = answered.load(Ordering::SeqCst);
    // The others go on: HAProxy finds the process gone and sends the rest elsewhere.
    while answered.load(Ordering::SeqCst) < at_kill + 100 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.store(true, Ordering::SeqCst);
    let (mut ok, mut failed) = (vec![], vec![]);
    for w in running {
        let (o, f) = w.await.unwrap();
        ok.extend(o);
        failed.extend(f);
    }
    eprintln!("{} writes acknowledged, {} failed with the killed process: {failed:?}", ok.len(), failed.len());
    // Only a request under way on the killed process may fail: at most one per writer.
    assert!(failed.len() <= WRITERS, "more failures than requests in flight: {failed:?}");
    all_present(&store, t.case, &ok).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolling_restart_under_load_fails_no_request() {
    let mut cluster = Cluster::start(&[]);
    let store = cluster.store().await;
    let t = three_units(&store).await;
    cluster.in_rotation().await;
    let (stop, answered) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicUsize::new(0)));
    let writing = writers(3, &cluster.front, &t.ward, t.case, &stop, &answered);
    let reading = readers(3, &cluster.front, &t.vc, t.case, &stop);
    // A page's live stream on the first process: closed when that process leaves.
    let client = reqwest::Client::new();
    let mut page = Stream::open(&client, &cluster.base(0), &t.kommun.0).await;
    for i in 0..PROCESSES {
        let before = answered.load(Ordering::SeqCst);
        if i == 0 {
            // On its way out a process tells the balancer it is not ready, while it still answers.
            let started = Instant::now();
            let mut leaving = cluster.signal(0, "-TERM");
            tokio::time::sleep(Duration::from_millis(300)).await;
            let res = client.get(format!("{}/api/health", cluster.base(0))).send().await.unwrap();
            assert_eq!(res.status(), 503);
            assert_eq!(res.json::<serde_json::Value>().await.unwrap()["status"], "stopping");
            assert!(leaving.wait().unwrap().success());
            eprintln!("process 1 left in order in {:?}", started.elapsed());
        } else {
            let took = cluster.terminate(i);
            eprintln!("process {} left in order in {took:?}", i + 1);
        }
        if i == 0 {
            // Whatever it was still telling, the stream then ends.
            let ended = tokio::time::timeout(Duration::from_secs(5), async {
                while let Ok(Some(_)) = page.res.chunk().await {}
            })
            .await;
            assert!(ended.is_ok(), "the live stream was closed by the leaving process");
        }
        assert!(answered.load(Ordering::SeqCst) > before, "requests were answered while process {i} left");
        cluster.start_process(i);
        cluster.in_rotation().await;
    }
    stop.store(true, Ordering::SeqCst);
    let (mut ok, mut failed) = (vec![], vec![]);
    for w in writing {
        let (o, f) = w.await.unwrap();
        ok.extend(o);
        failed.extend(f);
    }
    let mut reads = 0;
    for r in reading {
        let (n, f) = r.await.unwrap();
        reads += n;
        failed.extend(f);
    }
    eprintln!("rolling restart: {} writes and {reads} reads answered", ok.len());
    assert!(failed.is_empty(), "requests failed during the rolling restart: {failed:?}");
    assert!(ok.len() > 100 && reads > 100);
    all_present(&store, t.case, &ok).await;
}

/// A FHIR subscriber's endpoint: answers 200 to every POST and keeps the delivery ids.
async fn subscriber() -> (u16, Arc<std::sync::Mutex<Vec<String>>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let got = Arc::new(std::sync::Mutex::new(vec![]));
    let kept = got.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else { return };
            let kept = kept.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 8192];
                // Headers, then as much body as they announce.
                loop {
                    let Ok(n) = socket.read(&mut chunk).await else { return };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&buf).to_string();
                    let Some(end) = text.find("\r\n\r\n") else { continue };
                    let head = text[..end].to_ascii_lowercase();
                    let length = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    if buf.len() < end + 4 + length {
                        continue;
                    }
                    if let Some(id) = head.lines().find_map(|l| l.strip_prefix("x-samverka-delivery:")) {
                        kept.lock().unwrap().push(id.trim().to_string());
                    }
                    let _ =
                        socket.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").await;
                    return;
                }
            });
        }
    });
    (port, got)
}

/// Samverka itself, for what the test sets up as an administrator would.
fn system(unit: &samverka_domain::org::Unit) -> samverka_store::Audit {
    samverka_store::Audit {
        actor: samverka_domain::actor::Actor {
            user: samverka_domain::actor::UserRef { id: Uuid::nil(), name: "Test".into() },
            unit: samverka_store::reference_unit_ref(unit),
            role: Role::System,
        },
        assignment_id: None,
        client_address: None,
    }
}

fn count(cluster: &Cluster, sql: &str) -> usize {
    samverka_testkit::PgServer::get().psql(&cluster.url, sql).trim().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn escalations_mail_and_subscription_deliveries_are_done_once_by_three_processes() {
    use samverka_domain::escalation::EscalationRule;
    let smtp_port = free_port();
    let smtp = samverka_testkit::SmtpServer::start(smtp_port);
    let (hook_port, delivered) = subscriber().await;
    let smtp_port_text = smtp_port.to_string();
    // The rules and the subscription are set before any process runs, so that all three find
    // the same work when they start together: without the rounds' locks all three would do it.
    let mut cluster = Cluster::prepare(&[
        ("SAMVERKA_SMTP_HOST", "127.0.0.1"),
        ("SAMVERKA_SMTP_PORT", &smtp_port_text),
        ("SAMVERKA_SMTP_SECURITY", "none"),
        ("SAMVERKA_SMTP_FROM", "Samverka <samverka@region.example>"),
    ]);
    let store = cluster.store().await;
    let t = three_units(&store).await;
    let now = jiff::Timestamp::now();
    let units = store.units().await.unwrap();
    // Every unit with messages waiting escalates them at once to another unit of its organisation.
    let mut rules = 0;
    for unit in units.iter() {
        let Some(backup) = units.iter().find(|u| u.organisation_id == unit.organisation_id && u.id != unit.id) else {
            continue;
        };
        if store.waiting_messages(unit.id, backup.id).await.unwrap().is_empty() {
            continue;
        }
        let rule = EscalationRule {
            unit: unit.id,
            backup_after_minutes: 0,
            backup_unit: backup.id,
            leader_after_minutes: None,
            leader_unit: None,
        };
        store.set_escalation_rule(&rule, &system(unit), now).await.unwrap();
        rules += 1;
    }
    assert!(rules > 0, "the demo has messages waiting");
    // A FHIR client of the municipality subscribes to its messages.
    let kommun_unit = t.kommun_unit;
    let (user, assignment) = {
        let mut found = None;
        'outer: for account in store.local_accounts(1000).await.unwrap() {
            for a in store.assignments_of(account.id).await.unwrap() {
                if a.unit.id == kommun_unit && a.active && a.role != Role::Administrator {
                    found = Some((account.id, a.id));
                    break 'outer;
                }
            }
        }
        found.unwrap()
    };
    let (client_id, subscription_id) = (Uuid::now_v7(), Uuid::now_v7());
    store
        .create_api_client(
            &samverka_store::ApiClient {
                id: client_id,
                user_id: user,
                assignment_id: assignment,
                secret_hash: "unused".into(),
                scopes: vec!["system/Communication.read".into()],
                active: true,
            },
            None,
            now,
        )
        .await
        .unwrap();
    store
        .create_subscription(
            &samverka_store::Subscription {
                id: subscription_id,
                client_id,
                unit_id: kommun_unit,
                criteria: "Communication".into(),
                // Every kind of message.
                kind: String::new(),
                endpoint: format!("http://127.0.0.1:{hook_port}/hook"),
                headers: vec![],
                secret: "hemlig".into(),
                status: "active".into(),
                error: None,
                created_at: now,
            },
            now,
        )
        .await
        .unwrap();
    cluster.start_together();
    // Messages to the municipality while three processes run, each written on another.
    let client = reqwest::Client::new();
    for i in 0..6 {
        let res = post(
            &client,
            &cluster.base(i % PROCESSES),
            &t.ward,
            &format!("/api/cases/{}/messages", t.case),
            json!({ "body": { "kind": "allmant", "text": format!("Meddelande {i}") } }),
        )
        .await;
        assert_eq!(res.status(), 201);
    }
    // Until the queues are empty and a few more rounds have passed.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let backlog = store.backlog(jiff::Timestamp::now()).await.unwrap();
        let escalations = count(&cluster, "SELECT count(*) FROM escalations");
        if backlog.mail == 0
            && backlog.subscription_deliveries == 0
            && escalations > 0
            && delivered.lock().unwrap().len() >= 6
        {
            break;
        }
        assert!(Instant::now() < deadline, "the background work was not done: {backlog:?}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    tokio::time::sleep(Duration::from_secs(8)).await;

    let escalations = count(&cluster, "SELECT count(*) FROM escalations");
    let queued = store.mail_outbox(10_000).await.unwrap();
    let received = smtp.received();
    eprintln!("{rules} rules: {escalations} escalations, {} mails queued, {} received", queued.len(), received.len());
    assert!(escalations > 0 && !queued.is_empty());
    assert!(queued.iter().all(|m| m.sent_at.is_some()), "the outbox is empty");
    assert_eq!(received.len(), queued.len(), "every mail sent once, none twice");
    let delivered = delivered.lock().unwrap().clone();
    let mut unique = delivered.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), delivered.len(), "no delivery twice: {delivered:?}");
    let (done, pending, failed) = store.delivery_counts(subscription_id).await.unwrap();
    assert_eq!((pending, failed), (0, 0));
    assert_eq!(delivered.len() as i64, done, "every delivery made once");
}
