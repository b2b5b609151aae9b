//! Follow-up figures: each case's contribution, kept beside the case, and the monthly sums the
//! indicators are read from. A case's write subtracts its old contribution from the sums and
//! adds its new one in the same transaction, so the sums always equal the cases.

use std::collections::BTreeMap;

use samverka_domain::case::Case;
use samverka_domain::followup::{AckTotals, CaseFacts, Totals, acknowledgements};
use samverka_domain::ids::Kommunkod;
use samverka_domain::org::CareType;
use serde::{Deserialize, Serialize};

use crate::sql::enum_str;
use crate::{Result, Store, StoreError, on_db};

/// A case's contribution as kept in `case_followup`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StoredFacts {
    #[serde(flatten)]
    pub facts: CaseFacts,
    /// The discharging ward's hospital when the contribution was made, so it is taken back
    /// from the same hospital's sums.
    pub hospital: Option<String>,
}

/// Acknowledgement counts of a case by "unit/month".
pub(crate) type AckMap = BTreeMap<String, [i64; 4]>;

pub(crate) fn ack_map(case: &Case) -> AckMap {
    let mut out = AckMap::new();
    for a in acknowledgements(case) {
        let t = AckTotals::of(&a);
        let e = out.entry(format!("{}/{}", a.unit, a.month)).or_default();
        e[0] += t.notices;
        e[1] += t.acknowledged;
        e[2] += t.minutes;
        e[3] += t.within_day;
    }
    out
}

/// One change to a monthly sum.
pub(crate) struct MonthDelta {
    pub dim: &'static str,
    pub key: String,
    pub month: i32,
    pub care_type: String,
    pub values: [i64; Totals::COUNT],
}

/// One change to a unit's acknowledgement sums.
pub(crate) struct AckDelta {
    pub unit: String,
    pub month: i32,
    pub values: [i64; 4],
}

/// What a case write changes in the follow-up tables; `None` when nothing does.
pub(crate) struct FollowupChange {
    pub facts_json: Option<String>,
    pub acks_json: String,
    pub months: Vec<MonthDelta>,
    pub acks: Vec<AckDelta>,
}

pub(crate) fn month_deltas(f: &StoredFacts, sign: i64, out: &mut Vec<MonthDelta>) {
    let values = f.facts.totals.to_array().map(|v| v * sign);
    let care_type = enum_str(&f.facts.care_type);
    let mut keys = vec![("kommun", f.facts.kommun.as_str().to_string())];
    if let Some(ward) = f.facts.ward {
        keys.push(("ward", ward.to_string()));
    }
    if let Some(h) = &f.hospital {
        keys.push(("hospital", h.clone()));
    }
    if let Some(vc) = f.facts.vardcentral {
        keys.push(("vardcentral", vc.to_string()));
    }
    for (dim, key) in keys {
        out.push(MonthDelta { dim, key, month: f.facts.month, care_type: care_type.clone(), values });
    }
}

/// Compares what is stored for a case with what it contributes now.
pub(crate) fn change(
    old: Option<(Option<String>, String)>,
    new_facts: Option<StoredFacts>,
    new_acks: &AckMap,
) -> Result<Option<FollowupChange>> {
    let facts_json = new_facts.as_ref().map(serde_json::to_string).transpose().map_err(StoreError::corrupt)?;
    let acks_json = serde_json::to_string(new_acks).map_err(StoreError::corrupt)?;
    let (old_facts, old_acks) = match &old {
        Some((f, a)) if *f == facts_json && *a == acks_json => return Ok(None),
        Some((f, a)) => (
            f.as_deref().map(serde_json::from_str::<StoredFacts>).transpose().map_err(StoreError::corrupt)?,
            serde_json::from_str::<AckMap>(a).map_err(StoreError::corrupt)?,
        ),
        None => (None, AckMap::new()),
    };
    let mut months = vec![];
    if old_facts != new_facts {
        if let Some(f) = &old_facts {
            month_deltas(f, -1, &mut months);
        }
        if let Some(f) = &new_facts {
            month_deltas(f, 1, &mut months);
        }
    }
    let mut acks = vec![];
    let keys: std::collections::BTreeSet<&String> = old_acks.keys().chain(new_acks.keys()).collect();
    for k in keys {
        let (a, b) = (old_acks.get(k).copied().unwrap_or_default(), new_acks.get(k).copied().unwrap_or_default());
        if a == b {
            continue;
        }
        let (unit, month) = k.split_once('/').ok_or_else(|| StoreError::corrupt("acknowledgement key"))?;
        let month = month.parse().map_err(StoreError::corrupt)?;
        acks.push(AckDelta { unit: unit.to_string(), month, values: [0, 1, 2, 3].map(|i| b[i] - a[i]) });
    }
    Ok(Some(FollowupChange { facts_json, acks_json, months, acks }))
}

/// Adds a delta to a monthly sum, creating the row if needed.
pub(crate) const MONTH_UPSERT: &str = concat!(
    "INSERT INTO followup_months (dim, key, month, care_type, episodes, ready_episodes, ready_episodes_with_days, \
     ready_days, bed_days, notices_due, notices_in_time, fast_contact_due, fast_contact_named, sip_needed, \
     sip_called_in_time, sip_held, weekend_discharges, older_in_coordination, older_screened, home_coordinations, \
     home_sips, home_followed_up, home_followed_up_in_time) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)",
    month_upsert_tail!()
);

/// The ON CONFLICT clause that adds a delta to a monthly sum.
pub(crate) const MONTH_UPSERT_TAIL: &str = month_upsert_tail!();

macro_rules! month_upsert_tail {
    () => {
        " ON CONFLICT (dim, key, month, care_type) DO UPDATE SET \
         episodes = followup_months.episodes + excluded.episodes, \
         ready_episodes = followup_months.ready_episodes + excluded.ready_episodes, \
         ready_episodes_with_days = followup_months.ready_episodes_with_days + excluded.ready_episodes_with_days, \
         ready_days = followup_months.ready_days + excluded.ready_days, \
         bed_days = followup_months.bed_days + excluded.bed_days, \
         notices_due = followup_months.notices_due + excluded.notices_due, \
         notices_in_time = followup_months.notices_in_time + excluded.notices_in_time, \
         fast_contact_due = followup_months.fast_contact_due + excluded.fast_contact_due, \
         fast_contact_named = followup_months.fast_contact_named + excluded.fast_contact_named, \
         sip_needed = followup_months.sip_needed + excluded.sip_needed, \
         sip_called_in_time = followup_months.sip_called_in_time + excluded.sip_called_in_time, \
         sip_held = followup_months.sip_held + excluded.sip_held, \
         weekend_discharges = followup_months.weekend_discharges + excluded.weekend_discharges, \
         older_in_coordination = followup_months.older_in_coordination + excluded.older_in_coordination, \
         older_screened = followup_months.older_screened + excluded.older_screened, \
         home_coordinations = followup_months.home_coordinations + excluded.home_coordinations, \
         home_sips = followup_months.home_sips + excluded.home_sips, \
         home_followed_up = followup_months.home_followed_up + excluded.home_followed_up, \
         home_followed_up_in_time = followup_months.home_followed_up_in_time + excluded.home_followed_up_in_time"
    };
}
use month_upsert_tail;

pub(crate) const ACK_UPSERT: &str = concat!(
    "INSERT INTO ack_months (unit_id, month, notices, acknowledged, minutes, within_day) VALUES ($1, $2, $3, $4, $5, $6)",
    ack_upsert_tail!()
);

pub(crate) const ACK_UPSERT_TAIL: &str = ack_upsert_tail!();

macro_rules! ack_upsert_tail {
    () => {
        " ON CONFLICT (unit_id, month) DO UPDATE SET \
         notices = ack_months.notices + excluded.notices, acknowledged = ack_months.acknowledged + excluded.acknowledged, \
         minutes = ack_months.minutes + excluded.minutes, within_day = ack_months.within_day + excluded.within_day"
    };
}
use ack_upsert_tail;

/// Writes a case's follow-up contribution inside a transaction; expanded once per driver.
/// `$old` is the case's stored contribution (`case_followup`'s facts and acks, read by the
/// caller with the case), `$ward_hospital` the hospital of a ward the caller has read with it,
/// `(ward id, hospital)`: the hospital is read here only for another ward.
macro_rules! write_followup {
    ($tx:ident, $case_id:expr, $facts:expr, $acks:expr, $old:expr, $ward_hospital:expr) => {{
        let case_id: &String = $case_id;
        let facts: Option<&samverka_domain::followup::CaseFacts> = $facts;
        let old: Option<(Option<String>, String)> = $old;
        let ward_hospital: Option<(&str, Option<String>)> = $ward_hospital;
        let stored = match facts {
            Some(f) => {
                let ward = f.ward.map(|w| w.to_string());
                let hospital = match (ward, ward_hospital) {
                    (None, _) => None,
                    (Some(ward), Some((w, hospital))) if w == ward => hospital,
                    (Some(ward), _) => {
                        sqlx::query_scalar::<_, Option<String>>("SELECT hospital FROM units WHERE id = $1")
                            .bind(&ward)
                            .fetch_optional(&mut *$tx)
                            .await?
                            .flatten()
                    }
                };
                Some($crate::followup::StoredFacts { facts: f.clone(), hospital })
            }
            None => None,
        };
        if let Some(ch) = $crate::followup::change(old, stored, $acks)? {
            for d in &ch.months {
                let mut q = sqlx::query($crate::followup::MONTH_UPSERT)
                    .bind(d.dim)
                    .bind(&d.key)
                    .bind(d.month)
                    .bind(&d.care_type);
                for v in d.values {
                    q = q.bind(v);
                }
                q.execute(&mut *$tx).await?;
            }
            for d in &ch.acks {
                sqlx::query($crate::followup::ACK_UPSERT)
                    .bind(&d.unit)
                    .bind(d.month)
                    .bind(d.values[0])
                    .bind(d.values[1])
                    .bind(d.values[2])
                    .bind(d.values[3])
                    .execute(&mut *$tx)
                    .await?;
            }
            sqlx::query(
                "INSERT INTO case_followup (case_id, facts, acks) VALUES ($1, $2, $3) \
                 ON CONFLICT (case_id) DO UPDATE SET facts = excluded.facts, acks = excluded.acks",
            )
            .bind(case_id)
            .bind(&ch.facts_json)
            .bind(&ch.acks_json)
            .execute(&mut *$tx)
            .await?;
        }
    }};
}
pub(crate) use write_followup;

/// Which keys of a dimension to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyFilter {
    All,
    Exact(String),
    /// Keys starting with this, e.g. a län's two digits for its municipalities.
    Prefix(String),
}

/// The sums of one key and month.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthTotals {
    pub key: String,
    pub month: i32,
    pub totals: Totals,
}

/// The acknowledgement sums of one unit and month.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitAcks {
    pub unit_id: uuid::Uuid,
    pub month: i32,
    pub totals: AckTotals,
}

/// A month's sums of the follow-up figures, as `followup_sums` selects them.
#[derive(sqlx::FromRow)]
struct MonthSumsRow {
    key: String,
    month: i32,
    episodes: i64,
    ready_episodes: i64,
    ready_episodes_with_days: i64,
    ready_days: i64,
    bed_days: i64,
    notices_due: i64,
    notices_in_time: i64,
    fast_contact_due: i64,
    fast_contact_named: i64,
    sip_needed: i64,
    sip_called_in_time: i64,
    sip_held: i64,
    weekend_discharges: i64,
    older_in_coordination: i64,
    older_screened: i64,
    home_coordinations: i64,
    home_sips: i64,
    home_followed_up: i64,
    home_followed_up_in_time: i64,
}

/// A unit's (or all units') acknowledgement sums for a month.
#[derive(sqlx::FromRow)]
struct AckSumsRow {
    unit_id: String,
    month: i32,
    notices: i64,
    acknowledged: i64,
    minutes: i64,
    within_day: i64,
}

impl Store {
    /// The monthly sums of a dimension (`kommun`, `hospital`, `ward`, `vardcentral`) for
    /// months `from..=to` (`year * 100 + month`), per key and month; both kinds of care unless
    /// one is named.
    pub async fn followup_months(
        &self,
        dim: &str,
        keys: &KeyFilter,
        from: i32,
        to: i32,
        care: Option<CareType>,
    ) -> Result<Vec<MonthTotals>> {
        self.followup_sums(dim, keys, from, to, care, true).await
    }

    /// As [`Store::followup_months`], but summed over the keys: one row per month (key "").
    pub async fn followup_trend(
        &self,
        dim: &str,
        keys: &KeyFilter,
        from: i32,
        to: i32,
        care: Option<CareType>,
    ) -> Result<Vec<MonthTotals>> {
        self.followup_sums(dim, keys, from, to, care, false).await
    }

    async fn followup_sums(
        &self,
        dim: &str,
        keys: &KeyFilter,
        from: i32,
        to: i32,
        care: Option<CareType>,
        per_key: bool,
    ) -> Result<Vec<MonthTotals>> {
        let (key_sql, key_arg) = match keys {
            KeyFilter::All => ("$5 = ''", String::new()),
            KeyFilter::Exact(k) => ("key = $5", k.clone()),
            KeyFilter::Prefix(p) => ("substr(key, 1, length($5)) = $5", p.clone()),
        };
        let (key_column, group) = if per_key { ("key", "key, month") } else { ("''", "month") };
        let care_arg = care.map(|c| enum_str(&c)).unwrap_or_default();
        let sums = Totals::COLUMNS.map(|c| format!("CAST(SUM({c}) AS BIGINT) AS {c}")).join(", ");
        let sql = format!(
            "SELECT {key_column} AS key, month, {sums} FROM followup_months \
             WHERE dim = $1 AND month >= $2 AND month <= $3 AND ($4 = '' OR care_type = $4) AND {key_sql} \
             GROUP BY {group} ORDER BY month"
        );
        let rows: Vec<MonthSumsRow> = on_db!(self, read, |pool| sqlx::query_as(sqlx::AssertSqlSafe(sql.clone()))
            .bind(dim)
            .bind(from)
            .bind(to)
            .bind(&care_arg)
            .bind(&key_arg)
            .fetch_all(pool)
            .await?);
        Ok(rows
            .into_iter()
            .map(|r| MonthTotals {
                key: r.key,
                month: r.month,
                totals: Totals {
                    episodes: r.episodes,
                    ready_episodes: r.ready_episodes,
                    ready_episodes_with_days: r.ready_episodes_with_days,
                    ready_days: r.ready_days,
                    bed_days: r.bed_days,
                    notices_due: r.notices_due,
                    notices_in_time: r.notices_in_time,
                    fast_contact_due: r.fast_contact_due,
                    fast_contact_named: r.fast_contact_named,
                    sip_needed: r.sip_needed,
                    sip_called_in_time: r.sip_called_in_time,
                    sip_held: r.sip_held,
                    weekend_discharges: r.weekend_discharges,
                    older_in_coordination: r.older_in_coordination,
                    older_screened: r.older_screened,
                    home_coordinations: r.home_coordinations,
                    home_sips: r.home_sips,
                    home_followed_up: r.home_followed_up,
                    home_followed_up_in_time: r.home_followed_up_in_time,
                },
            })
            .collect())
    }

    /// Acknowledgement sums for months `from..=to` of all units or those named, per unit and
    /// month (`by_unit`), or summed over the units per month (unit id nil).
    pub async fn ack_months(&self, units: Option<&[uuid::Uuid]>, from: i32, to: i32) -> Result<Vec<UnitAcks>> {
        self.ack_sums(units, from, to, true).await
    }

    /// As [`Store::ack_months`], summed over the units: one row per month (unit id nil).
    pub async fn ack_trend(&self, units: Option<&[uuid::Uuid]>, from: i32, to: i32) -> Result<Vec<UnitAcks>> {
        self.ack_sums(units, from, to, false).await
    }

    async fn ack_sums(&self, units: Option<&[uuid::Uuid]>, from: i32, to: i32, by_unit: bool) -> Result<Vec<UnitAcks>> {
        let ids: Vec<String> = units.unwrap_or_default().iter().map(|u| u.to_string()).collect();
        if units.is_some() && ids.is_empty() {
            return Ok(vec![]);
        }
        // The unit list as bound parameters after the two months.
        let filter = if units.is_some() {
            let marks: Vec<String> = (0..ids.len()).map(|i| format!("${}", i + 3)).collect();
            format!(" AND unit_id IN ({})", marks.join(", "))
        } else {
            String::new()
        };
        let (unit_column, group) = if by_unit { ("unit_id", "unit_id, month") } else { ("''", "month") };
        let sql = format!(
            "SELECT {unit_column} AS unit_id, month, CAST(SUM(notices) AS BIGINT) AS notices, \
             CAST(SUM(acknowledged) AS BIGINT) AS acknowledged, CAST(SUM(minutes) AS BIGINT) AS minutes, \
             CAST(SUM(within_day) AS BIGINT) AS within_day FROM ack_months \
             WHERE month >= $1 AND month <= $2{filter} GROUP BY {group} ORDER BY month"
        );
        let rows: Vec<AckSumsRow> = on_db!(self, read, |pool| {
            let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql.clone())).bind(from).bind(to);
            for id in &ids {
                q = q.bind(id);
            }
            q.fetch_all(pool).await?
        });
        rows.into_iter()
            .map(|r| {
                Ok(UnitAcks {
                    unit_id: if r.unit_id.is_empty() { uuid::Uuid::nil() } else { crate::sql::uuid(&r.unit_id)? },
                    month: r.month,
                    totals: AckTotals {
                        notices: r.notices,
                        acknowledged: r.acknowledged,
                        minutes: r.minutes,
                        within_day: r.within_day,
                    },
                })
            })
            .collect()
    }

    /// Replaces the population figures of the years given.
    pub async fn set_population(&self, rows: &[(Kommunkod, i16, i64)]) -> Result<()> {
        let years: std::collections::BTreeSet<i16> = rows.iter().map(|r| r.1).collect();
        on_db!(self, write, |pool| {
            let mut tx = pool.begin().await?;
            for y in &years {
                sqlx::query("DELETE FROM population WHERE year = $1").bind(*y as i32).execute(&mut *tx).await?;
            }
            for (k, y, n) in rows {
                sqlx::query("INSERT INTO population (kommun, year, residents_65_plus) VALUES ($1, $2, $3)")
                    .bind(k.as_str())
                    .bind(*y as i32)
                    .bind(*n)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// Residents 65+ per municipality for a year (the latest year loaded up to it).
    pub async fn population(&self, year: i16) -> Result<BTreeMap<String, i64>> {
        let rows: Vec<(String, i32, i64)> = on_db!(self, read, |pool| sqlx::query_as(
            "SELECT kommun, year, residents_65_plus FROM population WHERE year <= $1 ORDER BY year"
        )
        .bind(year as i32)
        .fetch_all(pool)
        .await?);
        // Later years overwrite earlier ones.
        Ok(rows.into_iter().map(|(k, _, n)| (k, n)).collect())
    }

    /// Writes the follow-up contribution of cases that have none yet (a database from before
    /// follow-up existed); returns how many.
    pub async fn backfill_followup(&self, now: jiff::Timestamp) -> Result<usize> {
        let ids: Vec<String> = on_db!(self, read, |pool| sqlx::query_scalar(
            "SELECT c.id FROM cases c LEFT JOIN case_followup f ON f.case_id = c.id WHERE f.case_id IS NULL"
        )
        .fetch_all(pool)
        .await?);
        for id in &ids {
            let Some(record) = self.case(crate::sql::uuid(id)?).await? else { continue };
            let agreement = self
                .agreements()
                .get(&record.agreement_id)
                .ok_or_else(|| StoreError::corrupt(format!("unknown agreement {}", record.agreement_id)))?;
            let facts = CaseFacts::of(&record.case, &agreement, now);
            let acks = ack_map(&record.case);
            on_db!(self, write, |pool| {
                let mut tx = pool.begin().await?;
                let old: Option<(Option<String>, String)> =
                    sqlx::query_as("SELECT facts, acks FROM case_followup WHERE case_id = $1")
                        .bind(id)
                        .fetch_optional(&mut *tx)
                        .await?;
                write_followup!(tx, id, facts.as_ref(), &acks, old, None);
                tx.commit().await?;
            });
        }
        Ok(ids.len())
    }
}

/// A ward's hospital and beds, for the follow-up's hospital figures and bed share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WardCapacity {
    pub unit_id: uuid::Uuid,
    pub hospital: Option<String>,
    pub beds: Option<i64>,
}

impl Store {
    /// Sets the hospital a ward belongs to and its beds (vårdplatser). The hospital applies to
    /// discharges from then on.
    pub async fn set_ward_capacity(&self, unit: uuid::Uuid, hospital: Option<&str>, beds: Option<i64>) -> Result<()> {
        on_db!(self, write, |pool| sqlx::query("UPDATE units SET hospital = $2, beds = $3 WHERE id = $1")
            .bind(unit.to_string())
            .bind(hospital)
            .bind(beds)
            .execute(pool)
            .await
            .map(|_| ())?);
        self.directory.changed();
        Ok(())
    }

    /// Every ward's hospital and beds.
    pub async fn ward_capacities(&self) -> Result<Vec<WardCapacity>> {
        let rows: Vec<(String, Option<String>, Option<i64>)> = on_db!(self, read, |pool| sqlx::query_as(
            "SELECT id, hospital, beds FROM units WHERE kind = 'ward' ORDER BY name"
        )
        .fetch_all(pool)
        .await?);
        rows.into_iter()
            .map(|(id, hospital, beds)| Ok(WardCapacity { unit_id: crate::sql::uuid(&id)?, hospital, beds }))
            .collect()
    }
}
