//! `samverka backup` and `samverka restore`: a consistent copy of the database, taken while
//! the server runs, and putting it back.
//!
//! SQLite: `VACUUM INTO` writes a snapshot of one read transaction to a new file (writers go
//! on); restore checks the file (`PRAGMA integrity_check`) and puts it in place of an absent
//! or empty database. PostgreSQL: `pg_dump --format=custom` (one snapshot transaction) and
//! `pg_restore` into an empty database, so the file works with PostgreSQL's own tools too.

use std::path::{Path, PathBuf};
use std::process::Command;

use samverka_store::Store;

use crate::config::Checked;

fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

fn sqlite_path(url: &str) -> PathBuf {
    PathBuf::from(url.strip_prefix("sqlite://").unwrap_or(url))
}

fn run(cmd: &mut Command, what: &str) -> Result<(), String> {
    let out = cmd.output().map_err(|e| {
        format!("{what} kan inte startas ({e}). Installera PostgreSQL-klienten (paketet postgresql-client).")
    })?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!("{what} misslyckades: {}", String::from_utf8_lossy(&out.stderr).trim()))
    }
}

/// Takes a backup into `to`, which must not exist.
pub async fn backup(checked: &Checked, to: &Path) -> Result<String, String> {
    if to.exists() {
        return Err(format!(
            "{} finns redan. Välj ett nytt filnamn; en säkerhetskopia skriver aldrig över en annan.",
            to.display()
        ));
    }
    let url = &checked.database_url;
    if is_postgres(url) {
        run(Command::new("pg_dump").args(["--format=custom", "--no-owner", "--file"]).arg(to).arg(url), "pg_dump")?;
    } else {
        let store = Store::connect(url, checked.agreements.clone())
            .await
            .map_err(|e| format!("Databasen kan inte öppnas: {e}"))?;
        // A running server's access-log entries not yet folded into the table: read before the
        // snapshot, so that an entry folded meanwhile is in the one or the other.
        let unfolded = Store::unfolded_access_journal(url).map_err(|e| format!("Åtkomstloggens journal: {e}"))?;
        store.snapshot_sqlite(to).await.map_err(|e| format!("Säkerhetskopian kunde inte skrivas: {e}"))?;
        store.close().await;
        // The copy is complete and consistent; check it before saying so.
        let copy = Store::connect(&to.to_string_lossy(), checked.agreements.clone())
            .await
            .map_err(|e| format!("Säkerhetskopian kan inte öppnas: {e}"))?;
        copy.add_unfolded_access_journal(unfolded)
            .await
            .map_err(|e| format!("Åtkomstloggens journal kunde inte läggas till i kopian: {e}"))?;
        let check = copy.integrity_check().await.map_err(|e| e.to_string())?;
        copy.close().await;
        if check != "ok" {
            return Err(format!("Säkerhetskopian klarar inte kontrollen: {check}"));
        }
    }
    let size = std::fs::metadata(to).map(|m| m.len()).unwrap_or(0);
    Ok(format!("Säkerhetskopian är sparad i {} ({:.1} MB).", to.display(), size as f64 / 1e6))
}

/// Restores `from` into the configured database, which must be empty (or absent).
pub async fn restore(checked: &Checked, from: &Path) -> Result<String, String> {
    if !from.is_file() {
        return Err(format!("Filen {} finns inte.", from.display()));
    }
    let url = &checked.database_url;
    let occupied = || {
        "Databasen innehåller redan data. Återställ till en tom databas (flytta undan den gamla först), så skrivs inget över.".to_string()
    };
    if is_postgres(url) {
        // An empty database has no organisations table yet, or no organisations in it.
        if let Ok(store) = Store::connect(url, checked.agreements.clone()).await {
            let empty = store.is_empty().await.unwrap_or(true);
            store.close().await;
            if !empty {
                return Err(occupied());
            }
        }
        run(
            Command::new("pg_restore")
                .args(["--no-owner", "--clean", "--if-exists", "--exit-on-error", "--dbname"])
                .arg(url)
                .arg(from),
            "pg_restore",
        )?;
    } else {
        let target = sqlite_path(url);
        if target.exists() {
            let store = Store::connect(url, checked.agreements.clone())
                .await
                .map_err(|e| format!("Databasen kan inte öppnas: {e}"))?;
            let empty = store.is_empty().await.unwrap_or(true);
            store.close().await;
            if !empty {
                return Err(occupied());
            }
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", target.display()));
            }
        }
        let copy = Store::connect(&from.to_string_lossy(), checked.agreements.clone())
            .await
            .map_err(|e| format!("{} är ingen Samverka-databas: {e}", from.display()))?;
        let check = copy.integrity_check().await.map_err(|e| format!("{} kan inte läsas: {e}", from.display()))?;
        copy.close().await;
        if check != "ok" {
            return Err(format!("Säkerhetskopian klarar inte kontrollen: {check}"));
        }
        if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| format!("{} kan inte skapas: {e}", dir.display()))?;
        }
        std::fs::copy(from, &target).map_err(|e| format!("Filen kunde inte kopieras: {e}"))?;
        std::fs::File::open(&target).and_then(|f| f.sync_all()).map_err(|e| e.to_string())?;
    }
    // Bring an older backup's schema up to date and check the result.
    let store =
        Store::connect(url, checked.agreements.clone()).await.map_err(|e| format!("Databasen kan inte öppnas: {e}"))?;
    store.migrate().await.map_err(|e| format!("Schemat kunde inte uppdateras: {e}"))?;
    let check = store.integrity_check().await.map_err(|e| e.to_string())?;
    let cases = store.count_cases().await.map_err(|e| e.to_string())?;
    store.close().await;
    if check != "ok" {
        return Err(format!("Den återställda databasen klarar inte kontrollen: {check}"));
    }
    Ok(format!("Databasen är återställd från {}: {cases} ärenden.", from.display()))
}
