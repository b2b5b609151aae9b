//! What the tests that run the `samverka` binary share: a demo ward coordinator's session
//! written straight into the store, and `samverka serve` on a free port.
// Each test binary compiles this module and uses a part of it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use samverka_domain::access::Role;
use samverka_domain::case::Phase;
use samverka_store::{Agreements, Store};
use uuid::Uuid;

/// A logged-in vårdsamordnare of a demo ward, and an open case at that ward whose admission
/// notice has gone out (when one was asked for).
pub struct WardSession {
    pub cookie: String,
    pub csrf: String,
    pub case: Option<Uuid>,
}

pub async fn ward_session(url: &str, with_case: bool) -> WardSession {
    let store = Store::connect(url, Agreements::built_in()).await.unwrap();
    let mut found = None;
    'outer: for a in store.local_accounts(1000).await.unwrap() {
        for x in store.assignments_of(a.id).await.unwrap().into_iter().filter(|x| x.role == Role::Vardsamordnare) {
            let open = |c: &samverka_store::CaseSummary| {
                c.ward_id == x.unit.id && c.phase >= Phase::Notified && c.phase.is_open()
            };
            let case = store.cases_for_unit(x.unit.id, false, 50).await.unwrap().into_iter().find(open);
            if !with_case || case.is_some() {
                found = Some((a.id, x.id, case.map(|c| c.case_id)));
                break 'outer;
            }
        }
    }
    let (user, assignment, case) = found.expect("a demo ward coordinator (with an open case)");
    let (token, session) = samverka_app::auth::session_at(
        user,
        samverka_store::Stage::Active,
        Some(assignment),
        jiff::Timestamp::now(),
        2,
    );
    store.create_session(&session, "127.0.0.1").await.unwrap();
    store.close().await;
    WardSession { cookie: format!("{}={token}", samverka_app::auth::SESSION_COOKIE), csrf: session.csrf_token, case }
}

/// `samverka serve`, killed when dropped (also when the test fails).
pub struct Serve {
    pub child: Child,
    pub base: String,
}

impl Serve {
    pub fn start(dir: &Path, env: &[(&str, &str)]) -> Serve {
        let mut child = Command::new(env!("CARGO_BIN_EXE_samverka"))
            .current_dir(dir)
            .arg("serve")
            .env("SAMVERKA_LISTEN", "127.0.0.1:0")
            .env("SAMVERKA_LOG", "error")
            .env_remove("SAMVERKA_DATABASE_URL")
            .env_remove("SAMVERKA_DATA_DIR")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let base = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("no address in {line:?}"))
            .trim_end_matches('/')
            .to_string();
        Serve { child, base }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
