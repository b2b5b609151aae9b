//! The person's life story (`samverka_domain::life_story`): its versions and the person's
//! choices to share it, kept by personnummer or samordningsnummer and never changed. Every
//! write goes in with its log entry, in the staff's log or the person's own.

use samverka_domain::life_story::{Author, Sharing, Story, Version, changed_meanwhile, check_on_top_of};

use crate::persons::{WriteLog, insert_person_access, insert_write_log, logged_write_in};
use crate::sql::{from_micros, micros};
use crate::{Result, Store, StoreError, on_db};

/// What is kept of one person's life story.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LifeStory {
    /// Every version, oldest first.
    pub versions: Vec<Version>,
    /// The last choice to share it or not; none made yet means not shared.
    pub sharing: Option<Sharing>,
}

impl LifeStory {
    pub fn latest(&self) -> Option<&Version> {
        self.versions.last()
    }

    /// The number of the latest version (0 when nothing is written).
    pub fn version(&self) -> u32 {
        self.latest().map_or(0, |v| v.version)
    }

    pub fn shared(&self) -> bool {
        self.sharing.as_ref().is_some_and(|s| s.shared)
    }
}

fn json<T: serde::Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(StoreError::corrupt)
}

fn parse<T: serde::de::DeserializeOwned>(s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(StoreError::corrupt)
}

/// Two writers chose the same version number at once (PostgreSQL): the later one is told
/// the story changed, as if it had seen the other.
fn conflict_as_changed_meanwhile(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Problem(changed_meanwhile()),
        _ => e.into(),
    }
}

/// Appends a sharing choice, in the open transaction; the newest row counts.
macro_rules! insert_sharing {
    ($tx:expr, $person:expr, $s:expr, $by:expr) => {{
        let s: &Sharing = $s;
        sqlx::query("INSERT INTO life_story_sharing (person_number, shared, at, by_whom) VALUES ($1, $2, $3, $4)")
            .bind($person)
            .bind(s.shared)
            .bind(micros(s.at))
            .bind($by)
            .execute($tx)
            .await?;
    }};
}

impl Store {
    /// The person's life story: every version and the last choice to share it.
    pub async fn life_story(&self, person_number: &str) -> Result<LifeStory> {
        let versions: Vec<(i64, String, i64, String)> = on_db!(self, read, |pool| sqlx::query_as(
            "SELECT version, story, written_at, written_by FROM life_story_versions \
             WHERE person_number = $1 ORDER BY version"
        )
        .bind(person_number)
        .fetch_all(pool)
        .await?);
        let sharing: Option<(bool, i64, String)> = on_db!(self, read, |pool| sqlx::query_as(
            "SELECT shared, at, by_whom FROM life_story_sharing WHERE person_number = $1 ORDER BY id DESC LIMIT 1"
        )
        .bind(person_number)
        .fetch_optional(pool)
        .await?);
        Ok(LifeStory {
            versions: versions
                .into_iter()
                .map(|(version, story, at, by)| {
                    Ok(Version {
                        version: u32::try_from(version).map_err(StoreError::corrupt)?,
                        story: parse::<Story>(&story)?,
                        written_at: from_micros(at)?,
                        written_by: parse::<Author>(&by)?,
                    })
                })
                .collect::<Result<_>>()?,
            sharing: sharing
                .map(|(shared, at, by)| Ok::<_, StoreError>(Sharing { shared, at: from_micros(at)?, by: parse(&by)? }))
                .transpose()?,
        })
    }

    /// Writes a new version on top of version `seen` (refused as changed meanwhile when
    /// another was written since), with the sharing choice `share` made with it, if any, and
    /// the log entry, all in one transaction. Returns the new version's number, which is the
    /// store's to give: `version.version` is not read.
    pub async fn write_life_story(
        &self,
        person_number: &str,
        seen: u32,
        version: &Version,
        share: Option<&Sharing>,
        log: WriteLog<'_>,
    ) -> Result<u32> {
        let (story, by) = (json(&version.story)?, json(&version.written_by)?);
        let share = share.map(|s| Ok::<_, StoreError>((s, json(&s.by)?))).transpose()?;
        Ok(logged_write_in!(self, log, |tx| {
            let latest: Option<i64> =
                sqlx::query_scalar("SELECT MAX(version) FROM life_story_versions WHERE person_number = $1")
                    .bind(person_number)
                    .fetch_one(&mut *tx)
                    .await?;
            let next = check_on_top_of(latest.unwrap_or(0) as u32, seen)?;
            sqlx::query(
                "INSERT INTO life_story_versions (person_number, version, story, written_at, written_by) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(person_number)
            .bind(i64::from(next))
            .bind(&story)
            .bind(micros(version.written_at))
            .bind(&by)
            .execute(&mut *tx)
            .await
            .map_err(conflict_as_changed_meanwhile)?;
            if let Some((s, by)) = &share {
                insert_sharing!(&mut *tx, person_number, s, by);
            }
            next
        }))
    }

    /// Records the person's choice to share the story or stop sharing it, with its log entry.
    pub async fn share_life_story(&self, person_number: &str, sharing: &Sharing, log: WriteLog<'_>) -> Result<()> {
        let by = json(&sharing.by)?;
        logged_write_in!(self, log, |tx| {
            insert_sharing!(&mut *tx, person_number, sharing, &by);
        });
        Ok(())
    }
}
