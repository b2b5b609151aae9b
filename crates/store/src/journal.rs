//! The access log's journal, for a server on an SQLite file.
//!
//! A read of patient data is answered only once its access-log entry is durable. Committing the
//! entries to the database made every commit empty every reader's page cache (SQLite drops a
//! connection's cache whenever another connection commits), so a read paid for the next read's
//! misses. Instead, the server that owns the file appends each group of entries to a journal
//! beside it — one line of JSON per entry, made durable with one `fdatasync` per group — and
//! folds them into the `access_log` table in batches: a fold is one commit per batch, and it
//! records the journal's generation in `access_journal_folds` in the same commit, so a fold is
//! done exactly once even if the process dies before the folded file is removed.
//!
//! Files are `<database>.access-journal.<generation>`. At start the owner folds whatever an
//! earlier run left (entries it answered for but had not folded). A review of the log (or a
//! backup) folds first, so it sees every entry.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::access_log::AccessEntry;
use crate::{Result, StoreError};

/// Fold once this many entries wait, or once the oldest has waited this long.
pub(crate) const FOLD_ENTRIES: usize = 1024;
pub(crate) const FOLD_AFTER: Duration = Duration::from_millis(100);

/// The journal being appended to.
pub(crate) struct Journal {
    database: PathBuf,
    generation: u64,
    file: File,
    /// Bytes written whole: a write that fails is cut back to here, so that a later line is
    /// never glued to half of an earlier one.
    len: u64,
    /// What the current file holds, to be folded.
    pending: Vec<AccessEntry>,
    since: Instant,
}

/// A file's entries, ready to be folded.
pub(crate) struct Generation {
    pub(crate) number: u64,
    pub(crate) entries: Vec<AccessEntry>,
    pub(crate) path: PathBuf,
}

fn io(path: &Path, e: std::io::Error) -> StoreError {
    if e.raw_os_error() == Some(28) {
        return StoreError::DiskFull;
    }
    StoreError::Unavailable(format!("access-log journal {}: {e}", path.display()))
}

fn file_name(database: &Path, generation: u64) -> PathBuf {
    let name = database.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "samverka".into());
    database.with_file_name(format!("{name}.access-journal.{generation}"))
}

/// Makes a new file's name durable in its directory.
fn sync_dir(path: &Path) -> Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    File::open(dir).and_then(|d| d.sync_all()).map_err(|e| io(dir, e))
}

impl Journal {
    /// Starts generation `generation` (a new, empty file).
    pub(crate) fn start(database: &Path, generation: u64) -> Result<Journal> {
        let path = file_name(database, generation);
        let file = OpenOptions::new().create(true).append(true).open(&path).map_err(|e| io(&path, e))?;
        sync_dir(&path)?;
        Ok(Journal {
            database: database.to_path_buf(),
            generation,
            file,
            len: 0,
            pending: vec![],
            since: Instant::now(),
        })
    }

    /// Appends the entries and returns once they are on disk.
    pub(crate) fn append(&mut self, entries: &[AccessEntry]) -> Result<()> {
        let mut text = Vec::with_capacity(entries.len() * 320);
        for e in entries {
            serde_json::to_writer(&mut text, e).map_err(|e| StoreError::Unavailable(e.to_string()))?;
            text.push(b'\n');
        }
        let path = file_name(&self.database, self.generation);
        if let Err(e) = self.file.write_all(&text).and_then(|()| self.file.sync_data()) {
            let _ = self.file.set_len(self.len);
            return Err(io(&path, e));
        }
        self.len += text.len() as u64;
        if self.pending.is_empty() {
            self.since = Instant::now();
        }
        self.pending.extend_from_slice(entries);
        Ok(())
    }

    /// Whether enough waits, or has waited long enough, to fold.
    pub(crate) fn due(&self) -> bool {
        self.pending.len() >= FOLD_ENTRIES || (!self.pending.is_empty() && self.since.elapsed() >= FOLD_AFTER)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// Starts the next generation and hands over the current one's entries to be folded.
    pub(crate) fn rotate(&mut self) -> Result<Generation> {
        let next = Journal::start(&self.database, self.generation + 1)?;
        let old = std::mem::replace(self, next);
        Ok(Generation { number: old.generation, path: file_name(&old.database, old.generation), entries: old.pending })
    }
}

/// The journal files an earlier run left beside `database`, oldest first, with their entries.
/// A last line cut short (the process died while writing it, so it was never answered for) is
/// left out.
pub(crate) fn left_behind(database: &Path) -> Result<Vec<Generation>> {
    let dir = database.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = database.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let prefix = format!("{name}.access-journal.");
    let mut found = vec![];
    let listing = match std::fs::read_dir(dir) {
        Ok(l) => l,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
        Err(e) => return Err(io(dir, e)),
    };
    for item in listing {
        let item = item.map_err(|e| io(dir, e))?;
        let file = item.file_name().to_string_lossy().into_owned();
        let Some(number) = file.strip_prefix(&prefix).and_then(|n| n.parse::<u64>().ok()) else { continue };
        found.push((number, item.path()));
    }
    found.sort();
    let mut out = vec![];
    for (number, path) in found {
        let reader = BufReader::new(File::open(&path).map_err(|e| io(&path, e))?);
        let mut entries = vec![];
        for line in reader.split(b'\n') {
            let line = line.map_err(|e| io(&path, e))?;
            if line.is_empty() {
                continue;
            }
            match serde_json::from_slice::<AccessEntry>(&line) {
                Ok(e) => entries.push(e),
                // Only an unfinished last write can be unreadable; it was never answered for.
                Err(e) => {
                    tracing::warn!(file = %path.display(), "an access-log journal line cut short is left out: {e}")
                }
            }
        }
        out.push(Generation { number, entries, path });
    }
    Ok(out)
}

/// Removes a folded file.
pub(crate) fn remove(path: &Path) {
    if let Err(e) = std::fs::remove_file(path)
        && e.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!(file = %path.display(), "a folded access-log journal could not be removed: {e}");
    }
}
