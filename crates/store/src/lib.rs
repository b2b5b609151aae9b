//! Storage for Samverka on SQLite (the embedded default) or PostgreSQL (production).
//!
//! Architecture invariant: this crate knows SQL and nothing of HTTP. Every query is written
//! once, with `$1`-style parameters that both databases understand, and run through
//! [`on_db!`], which expands the same code for each driver so both are type-checked.
//! Schema migrations live in `migrations/sqlite` and `migrations/postgres`.

mod access_log;
mod bases;
mod batch;
mod bulk;
mod case_cache;
mod cases;
mod clients;
mod cluster;
mod directives;
mod disk;
mod escalation;
mod followup;
mod forums;
mod group_commit;
mod hl7;
mod journal;
mod life_stories;
mod mail;
mod persons;
mod reference;
mod rounds;
mod security;
mod snapshot;
mod sql;
mod stats;
mod subscriptions;

use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use samverka_domain::Problem;
use samverka_domain::agreement::Agreement;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};

pub use access_log::{AccessEntry, AccessFilter, Audit, Outcome};
pub use bases::ApprovedBasis;
pub use bulk::ImportCase;
pub use cases::{CaseRecord, CaseSummary, DueDeadline, DueForPatient, InboxItem, command_name};
pub use clients::{ApiClient, ApiToken, TokenHolder};
pub use cluster::{CaseChange, FeedTurn, Heard, Job, Listener};
pub use directives::{DirectiveRecord, Reader};
pub use escalation::EscalationEntry;
pub use followup::{KeyFilter, MonthTotals, UnitAcks, WardCapacity};
pub use forums::{ActionRecord, ForumChange, ForumRecord, ItemMinutes, ItemRecord, MeetingRecord};
pub use hl7::{Hl7Message, Hl7Outcome, Hl7Status, NewHl7Message, Stored};
pub use life_stories::LifeStory;
pub use mail::{Mail, QueuedMail};
pub use persons::{PersonAccess, PersonNotice, PersonSession, StatementRead, StatementRecord, WriteLog};
pub use reference::{DIRECTORY_TTL, NewPatient, PatientSummary, unit_ref as reference_unit_ref};
pub use security::{Account, Assignment, NewAccount, OidcPending, Session, Stage};
pub use stats::{Backlog, GroupCommits, PoolUse};
pub use subscriptions::{Delivery, Subscription};

/// Runs the same block against whichever database the store uses. Inside, `$pool` is a
/// `&SqlitePool` or a `&PgPool`; the block is compiled once for each.
macro_rules! on_db {
    ($store:expr, write, |$pool:ident| $body:expr) => {{
        // While the disk is full only the access log is written (see `disk`).
        $store.disk.check_writable()?;
        match &$store.db {
            $crate::Db::Sqlite { writer, .. } => {
                let $pool = writer;
                $body
            }
            $crate::Db::Postgres(pg) => {
                let $pool = pg;
                $body
            }
        }
    }};
    // SQLite in WAL mode: every statement outside a transaction reads the latest commit, so
    // reads (sessions included) go to the pool of readers and never queue behind the writer.
    ($store:expr, read, |$pool:ident| $body:expr) => {
        match &$store.db {
            $crate::Db::Sqlite { reader, .. } => {
                let $pool = reader;
                $body
            }
            $crate::Db::Postgres(pg) => {
                let $pool = pg;
                $body
            }
        }
    };
}
pub(crate) use on_db;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A domain rule refused the change; shown to the user as is.
    #[error(transparent)]
    Problem(#[from] Problem),
    /// The database is unreachable or failed; the caller should answer 503.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Db(sqlx::Error),
    #[error("stored data cannot be read: {0}")]
    Corrupt(String),
    /// The database's disk is full: nothing was written; reads go on.
    #[error("the database's disk is full")]
    DiskFull,
}

impl StoreError {
    pub(crate) fn corrupt(e: impl std::fmt::Display) -> Self {
        StoreError::Corrupt(e.to_string())
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

#[derive(Clone)]
pub(crate) enum Db {
    /// One writer connection (SQLite allows one writer at a time) and a pool of readers.
    Sqlite {
        writer: SqlitePool,
        reader: SqlitePool,
        /// The file, beside which the access log's journal lives.
        path: std::path::PathBuf,
    },
    Postgres(PgPool),
}

/// The agreements a store can apply, by id. Shared, not copied, by every clone of the store
/// (a request clones the state several times).
#[derive(Debug, Clone, Default)]
pub struct Agreements(Arc<HashMap<String, Arc<Agreement>>>);

impl Agreements {
    pub fn new(list: impl IntoIterator<Item = Agreement>) -> Self {
        Agreements(Arc::new(list.into_iter().map(|a| (a.id.clone(), Arc::new(a))).collect()))
    }
    /// The agreements shipped in the repository's `agreements/` folder.
    pub fn built_in() -> Self {
        Self::new(
            samverka_domain::agreement::BUILT_IN.iter().map(|(id, text)| {
                Agreement::from_toml(text).unwrap_or_else(|e| panic!("built-in agreement {id}: {e}"))
            }),
        )
    }
    pub fn insert(&mut self, a: Agreement) {
        Arc::make_mut(&mut self.0).insert(a.id.clone(), Arc::new(a));
    }
    pub fn get(&self, id: &str) -> Option<Arc<Agreement>> {
        self.0.get(id).cloned()
    }
    pub fn ids(&self) -> Vec<String> {
        let mut v: Vec<String> = self.0.keys().cloned().collect();
        v.sort();
        v
    }
}

#[derive(Clone)]
pub struct Store {
    pub(crate) db: Db,
    pub(crate) agreements: Agreements,
    /// Writes concurrent requests' access-log entries in one commit.
    pub(crate) access_log: Arc<group_commit::AccessLogWriter>,
    /// Writes the case commands waiting for SQLite's writer in one commit.
    pub(crate) commands: Arc<batch::CommandBatcher>,
    pub(crate) directory: Arc<reference::DirectoryCache>,
    /// Cases, and their timelines, as last read or written, by version.
    pub(crate) cases: Arc<case_cache::VersionCache<case_cache::Cached>>,
    pub(crate) timelines: Arc<case_cache::VersionCache<case_cache::Timeline>>,
    pub(crate) disk: Arc<disk::DiskGuard>,
}

/// Folds the journal files an earlier owner of the SQLite file at `path` left, each generation
/// once, and removes them; answers how many entries were not folded before.
async fn fold_left_behind(db: &Db, disk: &disk::DiskGuard, path: &Path) -> Result<usize> {
    let mut folded = 0;
    for g in journal::left_behind(path)? {
        if group_commit::fold_generation(db, disk, g.number, &g.entries).await? {
            folded += g.entries.len();
        }
        journal::remove(&g.path);
    }
    Ok(folded)
}

/// The access-log journal files of a server, as read at one moment (see
/// [`Store::unfolded_access_journal`]).
pub struct UnfoldedJournal(Vec<journal::Generation>);

impl UnfoldedJournal {
    pub fn entries(&self) -> usize {
        self.0.iter().map(|g| g.entries.len()).sum()
    }
}

/// Which database a URL or path names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseKind {
    Sqlite,
    Postgres,
}

impl Store {
    /// Opens `postgres://…` with PostgreSQL, and anything else (`sqlite://path` or a plain
    /// path) as an SQLite file, created if missing.
    pub async fn connect(url: &str, agreements: Agreements) -> Result<Store> {
        let mut disk = disk::DiskGuard::default();
        let db = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let opts = PgConnectOptions::from_str(url).map_err(|e| StoreError::Unavailable(e.to_string()))?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                // While the server is away, a request waits at most this long for a connection.
                .acquire_timeout(Duration::from_secs(2))
                .connect_with(opts)
                .await
                .map_err(|e| StoreError::Unavailable(e.to_string()))?;
            Db::Postgres(pool)
        } else {
            let path = url.strip_prefix("sqlite://").unwrap_or(url);
            let db = Self::open_sqlite(Path::new(path)).await?;
            disk = disk::DiskGuard::for_sqlite(Path::new(path));
            // No server owns the file (it stopped, or was killed): fold what its access-log
            // journal holds, so that whoever opens the file sees every answered read.
            if let Ok(Some(_claim)) = Self::claim_sqlite_file(url) {
                fold_left_behind(&db, &disk, Path::new(path)).await?;
            }
            db
        };
        let (cases, timelines) = case_cache::caches(case_cache::DEFAULT_CAPACITY_BYTES);
        Ok(Store {
            db,
            agreements,
            access_log: Arc::default(),
            commands: Arc::default(),
            directory: Arc::default(),
            cases,
            timelines,
            disk: Arc::new(disk),
        })
    }

    /// The same store keeping at most `bytes` of cases and their timelines in memory (see
    /// `case_cache`; 0 keeps none), instead of the default 32 MB.
    pub fn with_case_cache(mut self, bytes: u64) -> Store {
        (self.cases, self.timelines) = case_cache::caches(bytes);
        self
    }

    /// For a server on an SQLite file: claims the file for this process alone, for as long as
    /// the returned lock lives (the operating system lets go when the process ends, also by
    /// SIGKILL). A second server on the same file is refused with what to do instead; SQLite
    /// has one writer, and two processes would each believe they were it. `None` for
    /// PostgreSQL, where several processes are the way to grow.
    pub fn claim_sqlite_file(url: &str) -> std::result::Result<Option<std::fs::File>, String> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(None);
        }
        let path = Path::new(url.strip_prefix("sqlite://").unwrap_or(url));
        let lock_path = path.with_file_name(format!(
            "{}.serve-lock",
            path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "samverka".into())
        ));
        if let Some(parent) = lock_path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| format!("{}: {e}", lock_path.display()))?;
        match file.try_lock() {
            Ok(()) => Ok(Some(file)),
            Err(std::fs::TryLockError::WouldBlock) => Err(format!(
                "Databasfilen {} används redan av en annan Samverka-process. En SQLite-fil kan bara ha en \
                 process: stoppa den andra först, eller använd PostgreSQL (database_url = \"postgres://…\") \
                 för att köra flera processer.",
                path.display()
            )),
            Err(std::fs::TryLockError::Error(e)) => Err(format!("{}: {e}", lock_path.display())),
        }
    }

    async fn open_sqlite(path: &Path) -> Result<Db> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|e| StoreError::Unavailable(format!("cannot create {}: {e}", parent.display())))?;
        }
        // WAL lets readers go on while one writer commits; synchronous=FULL makes every commit
        // durable before we answer, so a crash after a 2xx loses nothing.
        let base = SqliteConnectOptions::new()
            .filename(path)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true)
            // sqlx hands rows from the connection's thread over a channel of this size; at the
            // default 50 a longer result (a case's history, an inbox page) stalls that thread
            // each time the channel fills, a thread switch per 50 rows.
            .row_buffer_size(1024);
        // The writer keeps 64 MB of pages in memory (SQLite's default is 2 MB): the indexes it
        // updates on every write stay cached instead of being read back from the file.
        // A file does not drop connections the way a network does: no ping before each use
        // (it is a round trip to the connection's thread, as costly as a query).
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
            // The writer must come out of the pool outside any transaction. When a commit
            // fails (a full disk), SQLite may keep the transaction open while the driver
            // believes it ended, and the next write would be nested inside it and never
            // committed. Such a connection is closed (which rolls it back) and replaced.
            .before_acquire(|conn, _| {
                Box::pin(async move {
                    use sqlx::Executor;
                    if conn.execute("BEGIN").await.is_err() {
                        tracing::warn!("the database writer was left inside a transaction; it is replaced");
                        return Ok(false);
                    }
                    conn.execute("ROLLBACK").await?;
                    Ok(true)
                })
            })
            .connect_with(base.clone().create_if_missing(true).pragma("cache_size", "-65536"))
            .await
            .map_err(|e| StoreError::Unavailable(format!("{}: {e}", path.display())))?;
        // Readers keep SQLite's small default page cache: every commit (and every read writes
        // its access-log entry) makes a reader drop its cache before its next read, so a large
        // one only costs the time to empty it; the operating system's file cache serves them.
        let reader = SqlitePoolOptions::new()
            .max_connections(8)
            .test_before_acquire(false)
            .connect_with(base.read_only(true))
            .await
            .map_err(|e| StoreError::Unavailable(format!("{}: {e}", path.display())))?;
        Ok(Db::Sqlite { writer, reader, path: path.to_path_buf() })
    }

    pub fn kind(&self) -> DatabaseKind {
        match self.db {
            Db::Sqlite { .. } => DatabaseKind::Sqlite,
            Db::Postgres(_) => DatabaseKind::Postgres,
        }
    }

    pub fn agreements(&self) -> &Agreements {
        &self.agreements
    }

    /// Brings the schema up to date. Safe to run at every start.
    pub async fn migrate(&self) -> Result<()> {
        match &self.db {
            Db::Sqlite { writer, .. } => sqlx::migrate!("./migrations/sqlite").run(writer).await,
            Db::Postgres(pg) => sqlx::migrate!("./migrations/postgres").run(pg).await,
        }
        .map_err(|e| StoreError::Unavailable(format!("migration failed: {e}")))
    }

    /// For the server that owns its SQLite file (`claim` is the proof, from
    /// [`Store::claim_sqlite_file`]): folds what an earlier run left in the access log's journal
    /// into the table, then makes reads' entries durable in a journal of its own (see
    /// `journal`). Answers how many entries an earlier run left unfolded. Nothing to do on
    /// PostgreSQL.
    pub async fn use_access_journal(&self, _claim: &std::fs::File) -> Result<usize> {
        let Db::Sqlite { path, writer, .. } = &self.db else { return Ok(0) };
        // Its files are the journal's own from here on: a second start would fold and remove
        // the file being appended to.
        if self.access_log.journal.get().is_some() {
            return Err(StoreError::Unavailable("the access-log journal is already in use".into()));
        }
        let recovered = fold_left_behind(&self.db, &self.disk, path).await?;
        // Numbered on from every generation folded, here or by an earlier run.
        let last: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(generation), 0) FROM access_journal_folds")
            .fetch_one(writer)
            .await?;
        let last = last as u64;
        let started = journal::Journal::start(path, last + 1)?;
        if self.access_log.journal.set(std::sync::Mutex::new(started)).is_err() {
            return Err(StoreError::Unavailable("the access-log journal is already in use".into()));
        }
        Ok(recovered)
    }

    /// Folds the access log's journal into the table, so that a review sees every entry
    /// (nothing to do without a journal).
    pub async fn fold_access_journal(&self) -> Result<()> {
        self.access_log.fold(&self.db, &self.disk).await
    }

    /// What the server on the SQLite file at `url` holds in its access log's journal and has
    /// not folded yet: read before a backup's snapshot, added to the copy after it.
    pub fn unfolded_access_journal(url: &str) -> Result<UnfoldedJournal> {
        let path = Path::new(url.strip_prefix("sqlite://").unwrap_or(url));
        Ok(UnfoldedJournal(journal::left_behind(path)?))
    }

    /// Adds to this database (a backup's copy) the generations of a journal it does not hold yet.
    pub async fn add_unfolded_access_journal(&self, unfolded: UnfoldedJournal) -> Result<usize> {
        let mut added = 0;
        for g in &unfolded.0 {
            if group_commit::fold_generation(&self.db, &self.disk, g.number, &g.entries).await? {
                added += g.entries.len();
            }
        }
        Ok(added)
    }

    /// True while the database's disk is full (SQLite): writes are refused, reads go on.
    pub fn disk_full(&self) -> bool {
        self.disk.is_full()
    }

    /// True when the database answers.
    pub async fn ping(&self) -> bool {
        on_db!(self, read, |pool| sqlx::query("SELECT 1").execute(pool).await.is_ok())
    }

    /// Whether the database holds no organisations yet (a fresh install).
    pub async fn is_empty(&self) -> Result<bool> {
        let n: i64 =
            on_db!(self, read, |pool| sqlx::query_scalar("SELECT COUNT(*) FROM organisations").fetch_one(pool).await?);
        Ok(n == 0)
    }

    /// How many cases the database holds.
    pub async fn count_cases(&self) -> Result<i64> {
        Ok(on_db!(self, read, |pool| sqlx::query_scalar("SELECT COUNT(*) FROM cases").fetch_one(pool).await?))
    }

    /// Checks the SQLite file (`PRAGMA integrity_check`) or PostgreSQL's view of the tables.
    pub async fn integrity_check(&self) -> Result<String> {
        match &self.db {
            Db::Sqlite { writer, .. } => Ok(sqlx::query_scalar("PRAGMA integrity_check").fetch_one(writer).await?),
            Db::Postgres(pg) => {
                let n: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM case_events e LEFT JOIN cases c ON c.id = e.case_id WHERE c.id IS NULL",
                )
                .fetch_one(pg)
                .await?;
                Ok(if n == 0 { "ok".into() } else { format!("{n} events without a case") })
            }
        }
    }

    /// SQLite only: writes a consistent snapshot of the database to a new file (`VACUUM INTO`,
    /// one read transaction, so writers go on meanwhile). The file must not exist.
    pub async fn snapshot_sqlite(&self, to: &Path) -> Result<()> {
        self.fold_access_journal().await?;
        match &self.db {
            Db::Sqlite { writer, .. } => {
                sqlx::query("VACUUM INTO $1").bind(to.to_string_lossy().to_string()).execute(writer).await?;
                Ok(())
            }
            Db::Postgres(_) => Err(StoreError::Unavailable("a snapshot file is for SQLite; use pg_dump".into())),
        }
    }

    /// Runs one statement as the application would (used by tests that prove the history
    /// cannot be changed, and by the administrator's SQL checks).
    pub async fn raw_execute_for_tests(&self, sql: &str) -> Result<()> {
        on_db!(self, write, |pool| sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
            .execute(pool)
            .await
            .map(|_| ())?);
        Ok(())
    }

    /// Reads one text value with a statement of the test's own (used by tests that look at how
    /// a value is stored).
    pub async fn raw_text_for_tests(&self, sql: &str) -> Result<Option<String>> {
        Ok(on_db!(self, read, |pool| sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string()))
            .fetch_optional(pool)
            .await?))
    }

    /// A fact about the installation (e.g. `demo_data`).
    pub async fn installation_fact(&self, key: &str) -> Result<Option<String>> {
        Ok(on_db!(self, read, |pool| sqlx::query_scalar("SELECT value FROM installation WHERE key = $1")
            .bind(key)
            .fetch_optional(pool)
            .await?))
    }

    pub async fn set_installation_fact(&self, key: &str, value: &str) -> Result<()> {
        on_db!(self, write, |pool| {
            sqlx::query(
            "INSERT INTO installation (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value"
        )
        .bind(key)
        .bind(value)
        .execute(pool)
        .await
        .map(|_| ())?
        });
        Ok(())
    }

    pub async fn close(&self) {
        if let Err(e) = self.fold_access_journal().await {
            tracing::warn!("the access-log journal is folded at the next start instead: {e}");
        }
        match &self.db {
            Db::Sqlite { writer, reader, .. } => {
                reader.close().await;
                writer.close().await;
            }
            Db::Postgres(pg) => pg.close().await,
        }
    }
}

/// Errors that mean "the database is not there" become [`StoreError::Unavailable`], so the
/// HTTP layer can answer 503 quickly instead of 500.
impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            // The operating system's "no space left on device".
            sqlx::Error::Io(ref io) if io.raw_os_error() == Some(28) => StoreError::DiskFull,
            sqlx::Error::Io(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed
            | sqlx::Error::BeginFailed => StoreError::Unavailable(e.to_string()),
            // The server is shutting down or the connection broke (SQLSTATE classes 57 and 08):
            // the database is away, not the request wrong.
            sqlx::Error::Database(ref d) if d.code().is_some_and(|c| c.starts_with("57P") || c.starts_with("08")) => {
                StoreError::Unavailable(e.to_string())
            }
            // SQLITE_FULL (13) or PostgreSQL's disk_full (53100).
            sqlx::Error::Database(ref d) if d.code().is_some_and(|c| c == "13" || c == "53100") => StoreError::DiskFull,
            other => StoreError::Db(other),
        }
    }
}
