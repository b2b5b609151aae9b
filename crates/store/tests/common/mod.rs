//! What the storage tests share: a store on a fresh SQLite file or a fresh PostgreSQL
//! database, local Swedish times, and `on_both!`, which runs a test body on each.
// Each test binary compiles this module and uses a part of it.
#![allow(dead_code, unused_macros, unused_imports)]

use jiff::Timestamp;
use jiff::civil::DateTime;
use samverka_domain::access::Role;
use samverka_domain::actor::{Actor, UnitRef, UserRef};
use samverka_domain::calendar::STOCKHOLM;
use samverka_store::{Agreements, Audit, NewAccount, Store};
use samverka_testkit::PgServer;
use uuid::Uuid;

mod world;
pub use world::*;

pub fn ts(local: &str) -> Timestamp {
    let dt: DateTime = local.replace(' ', "T").parse().unwrap();
    dt.to_zoned_datetime(STOCKHOLM.clone()).unwrap().timestamp()
}

/// A new account with one assignment, `role` at `unit`, acting there.
pub async fn person(store: &Store, unit: &UnitRef, org: Uuid, role: Role, name: &str) -> Audit {
    let now = ts("2026-01-01 00:00");
    let id = Uuid::now_v7();
    let account = NewAccount::without_sign_in(id, name, org);
    store.create_account(&account, now).await.unwrap();
    let assignment = Uuid::now_v7();
    store.add_assignment(assignment, id, unit.id, role, None, now).await.unwrap();
    Audit {
        actor: Actor { user: UserRef { id, name: name.into() }, unit: unit.clone(), role },
        assignment_id: Some(assignment),
        client_address: None,
    }
}

pub async fn sqlite() -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::connect(dir.path().join("samverka.db").to_str().unwrap(), Agreements::built_in()).await.unwrap();
    store.migrate().await.unwrap();
    (store, dir)
}

pub async fn postgres() -> (Store, String) {
    let url = PgServer::get().fresh_database();
    let store = Store::connect(&url, Agreements::built_in()).await.unwrap();
    store.migrate().await.unwrap();
    (store, url)
}

/// Runs a test body on both databases.
macro_rules! on_both {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                let (store, _dir) = super::sqlite().await;
                ($body)(store).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                let (store, _url) = super::postgres().await;
                ($body)(store).await;
            }
        }
    };
}
