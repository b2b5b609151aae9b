//! Cases, and their timelines, as this process last read or wrote them, each at its version.
//!
//! A case's state at version v never changes: a command makes v+1; nor do its events up to v.
//! So what a process read or wrote at v may answer the next read of v without reading,
//! inflating and parsing it again. The database still says which version is current, in the
//! statement that would otherwise read the state, so a write by any process (or a restored
//! backup) is never missed: a read of another version goes to the database. A case is kept
//! only once its version is committed, so nothing kept is a version the database never had.

use std::sync::Arc;

use samverka_domain::case::{Case, CaseId, RecordedEvent};

/// What the kept cases and timelines may weigh together unless configured (`case_cache_mb`):
/// the bytes of their stored JSON (in memory they take about as much again). Three quarters
/// for the cases, a quarter for the timelines.
pub const DEFAULT_CAPACITY_BYTES: u64 = 32 << 20;
/// About how many bytes a case weighs (for the cache's sizing, not a limit).
const TYPICAL_CASE_BYTES: u64 = 8 << 10;

/// What a cache holds of one case at one version.
pub(crate) trait Versioned: Send + Sync + 'static {
    fn id(&self) -> CaseId;
    fn version(&self) -> u32;
    /// The bytes of its stored JSON.
    fn bytes(&self) -> u64;
}

/// A case at one version, with the stored size of each of its parts. Cheap to clone: the case
/// is shared.
#[derive(Clone)]
pub(crate) struct Cached {
    pub(crate) case: Arc<Case>,
    pub(crate) agreement_id: String,
    /// The bytes of the stored state (without messages).
    pub(crate) state_bytes: u32,
    /// The bytes of each message's stored JSON, in the case's order.
    pub(crate) message_bytes: Vec<u32>,
    /// The stored state still carries the messages (written before they had rows of their
    /// own): the next write must move them all.
    pub(crate) messages_in_state: bool,
}

impl Versioned for Cached {
    fn id(&self) -> CaseId {
        self.case.id
    }
    fn version(&self) -> u32 {
        self.case.version
    }
    fn bytes(&self) -> u64 {
        u64::from(self.state_bytes) + self.message_bytes.iter().map(|&b| u64::from(b)).sum::<u64>()
    }
}

/// A case's timeline (its events but the deliveries) up to one version.
pub(crate) struct Timeline {
    pub(crate) case_id: CaseId,
    pub(crate) version: u32,
    pub(crate) events: Arc<[RecordedEvent]>,
    pub(crate) bytes: u64,
}

impl Versioned for Timeline {
    fn id(&self) -> CaseId {
        self.case_id
    }
    fn version(&self) -> u32 {
        self.version
    }
    fn bytes(&self) -> u64 {
        self.bytes
    }
}

/// A kept value with its weight, fixed when it was kept (the cache requires that).
pub(crate) struct Held<T> {
    weight: u64,
    value: T,
}

#[derive(Clone)]
struct ByStoredSize;

impl<T> quick_cache::Weighter<CaseId, Arc<Held<T>>> for ByStoredSize {
    fn weight(&self, _: &CaseId, held: &Arc<Held<T>>) -> u64 {
        held.weight.max(1)
    }
}

/// Values by case, each at the version it was kept.
pub(crate) struct VersionCache<T> {
    kept: quick_cache::sync::Cache<CaseId, Arc<Held<T>>, ByStoredSize>,
    capacity: u64,
}

impl<T: Versioned> VersionCache<T> {
    /// A cache of at most `capacity` bytes (0: keeps nothing).
    pub(crate) fn new(capacity: u64) -> Self {
        let estimated = (capacity / TYPICAL_CASE_BYTES).max(16) as usize;
        VersionCache {
            kept: quick_cache::sync::Cache::with_weighter(estimated, capacity.max(1), ByStoredSize),
            capacity,
        }
    }
}

/// The caches of a store: cases and timelines, sharing `capacity` bytes.
pub(crate) fn caches(capacity: u64) -> (Arc<VersionCache<Cached>>, Arc<VersionCache<Timeline>>) {
    (Arc::new(VersionCache::new(capacity / 4 * 3)), Arc::new(VersionCache::new(capacity / 4)))
}

/// A kept value, shared with the cache.
pub(crate) struct Entry<T>(Arc<Held<T>>);

impl<T> std::ops::Deref for Entry<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0.value
    }
}

impl<T: Versioned> VersionCache<T> {
    /// The value as last kept, at whatever version that was.
    pub(crate) fn get(&self, id: CaseId) -> Option<Entry<T>> {
        self.kept.get(&id).map(Entry)
    }

    /// Keeps a committed version, unless a later one is kept already. A value too large to
    /// share the cache with others is not kept. (Checked, then inserted: two writers racing may
    /// leave the older version kept, which costs the next read only a trip to the database.)
    pub(crate) fn keep(&self, value: T) {
        let id = value.id();
        if self.kept.get(&id).is_some_and(|held| held.value.version() > value.version()) {
            return;
        }
        let weight = value.bytes();
        if weight <= self.capacity / 8 {
            self.kept.insert(id, Arc::new(Held { weight, value }));
        }
    }

    /// Forgets everything kept, as a new process would start.
    pub(crate) fn clear(&self) {
        self.kept.clear();
    }
}
