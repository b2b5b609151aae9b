//! A full disk under SQLite: writes are refused with a clear answer and nothing half-written,
//! reads go on (each still access-logged), and writes are accepted again once space is freed,
//! without a restart. The database lives on a small tmpfs of its own, so the disk really
//! fills. Mounting needs root (as in CI) or a user namespace: `unshare -rm cargo test`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use samverka_store::{AccessFilter, Agreements, Store};
use serde_json::json;
use uuid::Uuid;

mod support;

/// A tmpfs mounted for the test, unmounted when dropped.
struct SmallDisk(PathBuf);

impl SmallDisk {
    fn mount(at: &Path, megabytes: u32) -> SmallDisk {
        std::fs::create_dir_all(at).unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs"])
            .arg(at)
            .output()
            .expect("run mount");
        assert!(
            out.status.success(),
            "cannot mount a tmpfs for the full disk ({}); run as root or under `unshare -rm`",
            String::from_utf8_lossy(&out.stderr).trim()
        );
        SmallDisk(at.to_path_buf())
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Fills the disk with one file until the operating system says it is full.
fn fill(path: &Path) {
    let mut f = std::fs::File::create(path).unwrap();
    let block = vec![1u8; 256 * 1024];
    loop {
        if f.write_all(&block).is_err() {
            break;
        }
    }
    let _ = f.sync_all();
    // The last partial block may have gone in: make sure not even a small write fits.
    let small = vec![1u8; 4096];
    while f.write_all(&small).is_ok() {}
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_refuses_writes_keeps_reads_and_recovers() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let _disk = SmallDisk::mount(&data, 64);
    let bin = env!("CARGO_BIN_EXE_samverka");
    let out = Command::new(bin)
        .current_dir(dir.path())
        .args(["demo", "--patients", "10"])
        .env("SAMVERKA_DATA_DIR", "data")
        .env_remove("SAMVERKA_DATABASE_URL")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let db = data.join("samverka.db");
    assert!(data.join("samverka.db-reserve").exists(), "the reserve is made beside the database");

    // A ward coordinator's session and an open case, written straight into the store.
    let ward = support::ward_session(db.to_str().unwrap(), true).await;
    let case = ward.case.unwrap();
    let server = support::Serve::start(dir.path(), &[("SAMVERKA_DATA_DIR", "data")]);
    let base = server.base.clone();
    let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
    let cookie = &ward.cookie;
    let write = |id: Uuid| {
        client
            .post(format!("{base}/api/cases/{case}/messages"))
            .header("cookie", cookie)
            .header("x-csrf-token", &ward.csrf)
            .json(&json!({ "id": id, "body": { "kind": "allmant", "text": "Ring anhörig före hemgång." } }))
            .send()
    };
    let read = || client.get(format!("{base}/api/cases/{case}")).header("cookie", cookie).send();
    let mut saved = vec![];
    for _ in 0..5 {
        let id = Uuid::now_v7();
        assert_eq!(write(id).await.unwrap().status(), 201);
        saved.push(id);
    }

    fill(&data.join("filler"));
    // Writes go on into space the database already holds, until none is left; then each is
    // refused with a Swedish reason that says nothing was saved. Never a 5xx of another kind,
    // never a 2xx that was not written.
    let mut refused = vec![];
    let mut check = |res_status: u16, body: serde_json::Value, id: Uuid, saved: &mut Vec<Uuid>| match res_status {
        201 => saved.push(id),
        507 => {
            assert_eq!(body["code"], "disk_full", "{body}");
            assert!(body["detail"].as_str().unwrap().contains("Ingenting av det du skickade har sparats"), "{body}");
            refused.push(id);
        }
        other => panic!("a write on a full disk answered {other}: {body}"),
    };
    for _ in 0..5_000 {
        let id = Uuid::now_v7();
        let res = write(id).await.unwrap();
        let status = res.status().as_u16();
        check(status, res.json().await.unwrap(), id, &mut saved);
        if status == 507 {
            break;
        }
    }
    // Reads go on, each logged (the first to find the disk full gives up the reserve).
    let reads_from = jiff::Timestamp::now();
    for _ in 0..50 {
        let res = read().await.unwrap();
        assert_eq!(res.status(), 200, "reads go on: {}", res.text().await.unwrap());
    }
    let reads_to = jiff::Timestamp::now();
    // And from then on every write is refused at once.
    for _ in 0..30 {
        let id = Uuid::now_v7();
        let res = write(id).await.unwrap();
        let status = res.status().as_u16();
        assert_eq!(status, 507, "refused while the disk is full");
        check(status, res.json().await.unwrap(), id, &mut saved);
    }
    let refused = refused;
    assert_eq!(refused.len(), 31);
    let health: serde_json::Value =
        client.get(format!("{base}/api/health")).send().await.unwrap().json().await.unwrap();
    assert_eq!(health["status"], "disk_full", "the health check tells operations");

    // Space is freed: writes are accepted again by the same process.
    std::fs::remove_file(data.join("filler")).unwrap();
    let mut recovered = false;
    for _ in 0..100 {
        let id = Uuid::now_v7();
        match write(id).await.unwrap().status().as_u16() {
            201 => {
                saved.push(id);
                recovered = true;
                break;
            }
            507 => tokio::time::sleep(Duration::from_millis(200)).await,
            other => panic!("answered {other} while recovering"),
        }
    }
    assert!(recovered, "writes are accepted again once space is freed, without a restart");
    // Committed, not only answered: the server's readers see it.
    let seen = read().await.unwrap().text().await.unwrap();
    assert!(seen.contains(&saved.last().unwrap().to_string()), "the write after recovery is committed");
    let mut server = server;
    assert!(server.child.try_wait().unwrap().is_none(), "the server never stopped");
    drop(server);

    // Nothing half-written, nothing acknowledged lost, nothing refused stored; the reads on
    // the full disk are in the access log.
    let store = Store::connect(db.to_str().unwrap(), Agreements::built_in()).await.unwrap();
    assert_eq!(store.integrity_check().await.unwrap(), "ok");
    let record = store.case(case).await.unwrap().unwrap();
    for (i, id) in saved.iter().enumerate() {
        assert!(record.case.message(*id).is_some(), "acknowledged message {id} ({i} of {}) is stored", saved.len());
    }
    for id in &refused {
        assert!(record.case.message(*id).is_none(), "refused message {id} is not stored");
    }
    let events = store.case_events(case).await.unwrap();
    assert_eq!(samverka_domain::case::Case::from_events(&events).unwrap(), *record.case);
    // The demo's own history may hold reads of the case too: count those of the test's stretch.
    let filter = AccessFilter {
        patient_id: Some(record.case.patient_id),
        from: Some(reads_from),
        to: Some(reads_to),
        limit: 10_000,
        ..Default::default()
    };
    let reads = store
        .access_log(&filter)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "case.read" && e.case_id == Some(case))
        .count();
    assert_eq!(reads, 50, "every read on the full disk was logged");
    store.close().await;
}
