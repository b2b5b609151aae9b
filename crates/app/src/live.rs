//! Live updates for open pages, by unit.
//!
//! Every open page of a unit holds one server-sent-events stream (`/handelser`). When a case
//! changes, only the streams of the units taking part in it hear of it, and the unit's unread
//! count is read once for all of them, not once per open page. Changes to one unit that come
//! close together (a busy ward) are gathered for [`GATHER`] and told together, and a unit is
//! told at most once per [`TELL_INTERVAL`], so a busy hour costs a count per unit a second,
//! not one per write.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use samverka_store::{CaseChange, Store};
use tokio::sync::broadcast;
use uuid::Uuid;

/// How long changes to one unit are gathered before its pages hear of them.
pub const GATHER: Duration = Duration::from_millis(100);

/// The shortest time between two tellings to one unit. With thousands of pages open and
/// hundreds of writes a second, a telling per unit every [`GATHER`] made the unread counts
/// alone crowd the database's connections.
pub const TELL_INTERVAL: Duration = Duration::from_secs(1);

/// What an open page of a unit hears: a case changed, and how many messages the unit has yet
/// to acknowledge. `case_id` is nil when changes were missed and the page should look again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveChange {
    pub case_id: Uuid,
    pub unread: i64,
}

/// How long one check that a session is still valid serves every open page of that session.
pub const SESSION_CHECK_TTL: Duration = Duration::from_secs(25);

#[derive(Default)]
pub struct LiveUpdates {
    units: Mutex<HashMap<Uuid, UnitChannel>>,
    /// Session checks of open pages, by session: when made and what they found. A person
    /// with ten tabs open costs one check, not ten.
    sessions: Mutex<HashMap<String, (std::time::Instant, bool)>>,
}

struct UnitChannel {
    sender: broadcast::Sender<LiveChange>,
    /// Cases changed since the unit's pages were last told; a telling is on its way when
    /// this is not empty.
    pending: Vec<Uuid>,
    /// When the unit's pages were last told.
    told_at: Option<Instant>,
}

impl LiveUpdates {
    /// A stream of the unit's changes, for one open page.
    pub fn subscribe(&self, unit: Uuid) -> broadcast::Receiver<LiveChange> {
        let mut units = self.units.lock().unwrap_or_else(|p| p.into_inner());
        // Units whose pages have all closed are forgotten here, when the map is touched anyway.
        units.retain(|_, c| c.sender.receiver_count() > 0 || !c.pending.is_empty());
        units
            .entry(unit)
            .or_insert_with(|| UnitChannel { sender: broadcast::channel(256).0, pending: vec![], told_at: None })
            .sender
            .subscribe()
    }

    /// Whether the session `key` is still valid: `check` is run only when no page of the
    /// session has checked within [`SESSION_CHECK_TTL`].
    pub async fn session_valid(&self, key: &str, check: impl std::future::Future<Output = bool>) -> bool {
        self.session_valid_at(key, std::time::Instant::now(), check).await
    }

    async fn session_valid_at(
        &self,
        key: &str,
        now: std::time::Instant,
        check: impl std::future::Future<Output = bool>,
    ) -> bool {
        {
            let mut map = self.sessions.lock().unwrap_or_else(|p| p.into_inner());
            map.retain(|_, (at, _)| now.duration_since(*at) < SESSION_CHECK_TTL);
            if let Some((_, ok)) = map.get(key) {
                return *ok;
            }
        }
        let ok = check.await;
        self.sessions.lock().unwrap_or_else(|p| p.into_inner()).insert(key.to_string(), (now, ok));
        ok
    }

    /// Case `case_id` changed; tells the open pages of `units` (nobody listening is fine).
    pub fn changed(self: &Arc<Self>, store: &Store, case_id: Uuid, units: impl IntoIterator<Item = Uuid>) {
        let mut map = self.units.lock().unwrap_or_else(|p| p.into_inner());
        for unit in units {
            let Some(channel) = map.get_mut(&unit) else { continue };
            if channel.sender.receiver_count() == 0 {
                continue;
            }
            if !channel.pending.contains(&case_id) {
                channel.pending.push(case_id);
            }
            if channel.pending.len() == 1 {
                let next_allowed =
                    channel.told_at.map(|t| (t + TELL_INTERVAL).saturating_duration_since(Instant::now()));
                let wait = GATHER.max(next_allowed.unwrap_or_default());
                let (hub, store) = (self.clone(), store.clone());
                tokio::spawn(async move {
                    tokio::time::sleep(wait).await;
                    hub.tell(&store, unit).await;
                });
            }
        }
    }

    /// Tells every open page to look again (changes may have been missed: the process lost
    /// its ear for the other processes for a while).
    pub fn look_again(self: &Arc<Self>, store: &Store) {
        let units: Vec<Uuid> = self.units.lock().unwrap_or_else(|p| p.into_inner()).keys().copied().collect();
        for unit in units {
            self.changed(store, Uuid::nil(), [unit]);
        }
    }

    async fn tell(&self, store: &Store, unit: Uuid) {
        // Counted before the pending cases are taken: a change that lands meanwhile is told
        // again with a count that includes it.
        let unread = store.unread_count(unit).await.unwrap_or(0);
        let mut map = self.units.lock().unwrap_or_else(|p| p.into_inner());
        let Some(channel) = map.get_mut(&unit) else { return };
        channel.told_at = Some(Instant::now());
        for case_id in std::mem::take(&mut channel.pending) {
            let _ = channel.sender.send(LiveChange { case_id, unread });
        }
    }
}

/// Changes made here, on their way to the other processes (sent on by `cluster::start`).
pub struct Announcements {
    /// This process, so that it does not hear its own announcements back.
    pub origin: Uuid,
    tx: tokio::sync::mpsc::UnboundedSender<CaseChange>,
    pub(crate) rx: Mutex<Option<tokio::sync::mpsc::UnboundedReceiver<CaseChange>>>,
    /// Set once something sends the queue on; until then nothing is queued.
    pub(crate) running: std::sync::atomic::AtomicBool,
}

impl Default for Announcements {
    fn default() -> Self {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        Announcements {
            origin: Uuid::now_v7(),
            tx,
            rx: Mutex::new(Some(rx)),
            running: std::sync::atomic::AtomicBool::new(false),
        }
    }
}

impl Announcements {
    pub(crate) fn push(&self, change: CaseChange) {
        if self.running.load(std::sync::atomic::Ordering::Relaxed) {
            let _ = self.tx.send(change);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use samverka_store::Agreements;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn the_pages_of_one_session_share_one_check_for_a_while() {
        let hub = LiveUpdates::default();
        let runs = AtomicUsize::new(0);
        let check = |ok: bool| {
            let runs = &runs;
            async move {
                runs.fetch_add(1, Ordering::SeqCst);
                ok
            }
        };
        let t0 = std::time::Instant::now();
        let soon = t0 + SESSION_CHECK_TTL / 2;
        let later = t0 + SESSION_CHECK_TTL;
        assert!(hub.session_valid_at("a", t0, check(true)).await);
        assert!(hub.session_valid_at("a", soon, check(false)).await, "the first answer serves the others");
        assert_eq!(runs.load(Ordering::SeqCst), 1, "checked once");
        assert!(!hub.session_valid_at("b", soon, check(false)).await, "another session is checked on its own");
        assert!(!hub.session_valid_at("a", later, check(false)).await, "checked again once the answer is old");
        assert_eq!(runs.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn a_change_reaches_the_pages_of_its_units_only_gathered_and_counted_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::connect(dir.path().join("t.db").to_str().unwrap(), Agreements::built_in()).await.unwrap();
        store.migrate().await.unwrap();
        let hub = Arc::new(LiveUpdates::default());
        let (ward, kommun, elsewhere) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let (mut ward_page, mut ward_page_2) = (hub.subscribe(ward), hub.subscribe(ward));
        let mut kommun_page = hub.subscribe(kommun);
        let mut other_page = hub.subscribe(elsewhere);
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        hub.changed(&store, a, [ward, kommun]);
        hub.changed(&store, a, [ward, kommun]);
        hub.changed(&store, b, [ward]);
        let next = |r: &mut broadcast::Receiver<LiveChange>| r.try_recv();
        assert!(next(&mut ward_page).is_err(), "told only after the gathering time");
        tokio::time::sleep(GATHER * 3).await;
        for page in [&mut ward_page, &mut ward_page_2] {
            assert_eq!(next(page).unwrap(), LiveChange { case_id: a, unread: 0 });
            assert_eq!(next(page).unwrap(), LiveChange { case_id: b, unread: 0 });
            assert!(next(page).is_err(), "the same case twice in a burst is told once");
        }
        assert_eq!(next(&mut kommun_page).unwrap().case_id, a);
        assert!(next(&mut kommun_page).is_err());
        assert!(next(&mut other_page).is_err(), "a unit outside the case hears nothing");
        // Told a moment ago: the next change waits for the interval to pass.
        let c = Uuid::now_v7();
        hub.changed(&store, c, [ward]);
        tokio::time::sleep(GATHER * 3).await;
        assert!(next(&mut ward_page).is_err(), "not told again within the interval");
        let change = tokio::time::timeout(TELL_INTERVAL * 2, ward_page.recv()).await.unwrap().unwrap();
        assert_eq!(change.case_id, c, "told once the interval has passed");
        // Changes missed (the process lost its ear for the others): every open page looks again.
        tokio::time::sleep(TELL_INTERVAL).await;
        hub.look_again(&store);
        let again = tokio::time::timeout(TELL_INTERVAL * 2, kommun_page.recv()).await.unwrap().unwrap();
        assert_eq!(again.case_id, Uuid::nil(), "the nil case: look again");
        let again = tokio::time::timeout(TELL_INTERVAL * 2, other_page.recv()).await.unwrap().unwrap();
        assert_eq!(again.case_id, Uuid::nil(), "every unit's pages, not only those of recent changes");
        // The ward was told a moment ago, so its look-again waits for the interval; once told,
        // nothing is pending for it.
        let again = tokio::time::timeout(TELL_INTERVAL * 2, ward_page.recv()).await.unwrap().unwrap();
        assert_eq!(again.case_id, Uuid::nil());
        // Closed pages are forgotten.
        drop((ward_page, ward_page_2, kommun_page, other_page));
        let _ = hub.subscribe(Uuid::now_v7());
        assert_eq!(hub.units.lock().unwrap().len(), 1);
    }
}
