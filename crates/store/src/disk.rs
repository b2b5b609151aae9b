//! A full disk, on SQLite.
//!
//! Every read of patient data writes an access-log entry before it answers, so a full disk
//! would stop reads too. Beside the database lies a reserve file of [`RESERVE_BYTES`]. When a
//! write finds the disk full, the reserve is given up and the store goes into *disk-full*
//! mode: every write other than the access log is refused at once with a clear error, and the
//! access log writes into the space the reserve left, so people can go on reading while the
//! operator frees space. Every few seconds a refused write tries to take the reserve back;
//! when that succeeds, writes are accepted again. SQLite rolls back a transaction that cannot
//! be written, so nothing half-written is left behind.
//!
//! (PostgreSQL manages its own disk: its "disk full" error gets the same answer, without the
//! reserve.)

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::{Result, StoreError};

/// Space kept free for the access log (and the write-ahead log's checkpoints) of reads made
/// while the disk is full.
pub const RESERVE_BYTES: u64 = 16 * 1024 * 1024;

/// How often a refused write tries to take the reserve back.
pub const RETRY_EVERY: Duration = Duration::from_secs(3);

#[derive(Default)]
pub(crate) struct DiskGuard {
    /// The reserve file (SQLite only).
    reserve: Option<PathBuf>,
    full: AtomicBool,
    last_try: Mutex<Option<Instant>>,
}

impl DiskGuard {
    /// The guard of the SQLite database at `db`: its reserve is made now if missing; a disk
    /// already too full for it starts in disk-full mode.
    pub(crate) fn for_sqlite(db: &Path) -> DiskGuard {
        let mut name = db.as_os_str().to_owned();
        name.push("-reserve");
        let guard = DiskGuard { reserve: Some(PathBuf::from(name)), ..Default::default() };
        if let Err(e) = guard.make_reserve() {
            tracing::error!(error = %e, "the disk is full: writes are refused until space is freed");
            guard.full.store(true, Ordering::Release);
        }
        guard
    }

    pub(crate) fn is_full(&self) -> bool {
        self.full.load(Ordering::Acquire)
    }

    /// Before a write: refused while the disk is full, unless the reserve can be taken back.
    pub(crate) fn check_writable(&self) -> Result<()> {
        if !self.is_full() {
            return Ok(());
        }
        {
            let mut last = self.last_try.lock().unwrap_or_else(|p| p.into_inner());
            if last.is_some_and(|t| t.elapsed() < RETRY_EVERY) {
                return Err(StoreError::DiskFull);
            }
            *last = Some(Instant::now());
        }
        match self.make_reserve() {
            Ok(()) => {
                tracing::warn!("space was freed: writes are accepted again");
                self.full.store(false, Ordering::Release);
                Ok(())
            }
            Err(_) => Err(StoreError::DiskFull),
        }
    }

    /// A write found the disk full: give up the reserve so the access log can go on. True if
    /// space was freed now (the failed write may be tried once more).
    pub(crate) fn hit(&self) -> bool {
        // PostgreSQL keeps its own disk: nothing to give up, no mode to enter.
        if self.reserve.is_none() {
            return false;
        }
        let first = !self.full.swap(true, Ordering::AcqRel);
        if first {
            tracing::error!("the disk is full: writes are refused, reads go on; free space on the database's disk");
            *self.last_try.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
        }
        self.reserve.as_ref().is_some_and(|path| std::fs::remove_file(path).is_ok())
    }

    fn make_reserve(&self) -> std::io::Result<()> {
        let Some(path) = &self.reserve else { return Ok(()) };
        if std::fs::metadata(path).is_ok_and(|m| m.len() >= RESERVE_BYTES) {
            return Ok(());
        }
        let result = (|| {
            let mut f = std::fs::File::create(path)?;
            // Written, not just sized: a sparse file would hold no space at all.
            let block = vec![0u8; 1024 * 1024];
            for _ in 0..RESERVE_BYTES / block.len() as u64 {
                f.write_all(&block)?;
            }
            f.sync_all()
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(path);
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reserve_is_given_up_once_and_taken_back_when_space_returns() {
        let dir = tempfile::tempdir().unwrap();
        let guard = DiskGuard::for_sqlite(&dir.path().join("s.db"));
        let reserve = dir.path().join("s.db-reserve");
        assert_eq!(std::fs::metadata(&reserve).unwrap().len(), RESERVE_BYTES);
        assert!(!guard.is_full());
        assert!(guard.hit(), "space is freed for the access log");
        assert!(!reserve.exists());
        assert!(guard.is_full());
        assert!(!guard.hit(), "nothing more to give up");
        assert!(matches!(guard.check_writable(), Err(StoreError::DiskFull)), "refused until the retry time");
        *guard.last_try.lock().unwrap() = Some(Instant::now() - RETRY_EVERY);
        assert!(guard.check_writable().is_ok(), "the disk has room again: the reserve is back");
        assert!(reserve.exists() && !guard.is_full());
    }

    #[test]
    fn postgresql_has_no_reserve_and_no_disk_full_mode() {
        let guard = DiskGuard::default();
        assert!(!guard.hit());
        assert!(!guard.is_full());
        assert!(guard.check_writable().is_ok());
    }
}
