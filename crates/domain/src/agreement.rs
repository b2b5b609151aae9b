//! A region's agreement (överenskommelse) with its municipalities: the deadlines and the
//! payment-liability rules. Everything a region may decide is here, read from a TOML file;
//! nothing of it is hard-coded elsewhere.

use std::collections::BTreeMap;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::org::CareType;

/// Days with two decimals (hundredths), so averages such as 2.5 days stay exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct Hundredths(pub i64);

impl Hundredths {
    pub fn from_days(days: i64) -> Self {
        Self(days * 100)
    }
    /// "2,50" in Swedish notation.
    pub fn to_string_sv(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        format!("{sign}{},{:02}", self.0.abs() / 100, self.0.abs() % 100)
    }
    /// For people: "4" for whole days, "2,5" or "2,25" otherwise (no trailing zeros).
    pub fn display_sv(self) -> String {
        self.to_string_sv().trim_end_matches('0').trim_end_matches(',').to_string()
    }
    pub fn is_whole(self) -> bool {
        self.0 % 100 == 0
    }
    pub fn whole_days(self) -> i64 {
        self.0 / 100
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DayKind {
    Calendar,
    /// Monday to Friday except public and de facto holidays.
    Working,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum LiabilityModel {
    /// Each case pays for its own days beyond the free days.
    PerCase,
    /// The municipality pays when its average days as ready exceed the free days.
    Average,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FreeDays {
    pub from: Date,
    pub days: Hundredths,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeadlineRules {
    /// LUS 4 kap 1 §: inskrivningsmeddelande within 24 hours of admission (or of the judgement).
    pub admission_notice_hours: u32,
    /// SIP call within this many days of the ready notice.
    pub sip_call_days: u32,
    pub sip_call_day_kind: DayKind,
    /// Days for the vårdcentral to name a fast vårdkontakt, where the agreement sets one.
    pub fast_vardkontakt_days: Option<u32>,
}

/// Payment-liability rules for one kind of care.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LiabilityRules {
    pub model: LiabilityModel,
    /// For the average model: months in the window (1 = the month itself, 3 = rolling quarter).
    pub average_window_months: u8,
    /// Whether the day the ready notice is sent ("day 0") counts as a day.
    pub count_day_zero: bool,
    /// For the average model: whether episodes with 0 days count in the average's denominator.
    pub average_includes_zero_day_episodes: bool,
    /// Free days, stepwise with the dates they take effect (by the date of the ready notice).
    pub free_days: Vec<FreeDays>,
    /// Kronor per day, by calendar year of the day (Socialstyrelsen sets it yearly).
    pub amount_per_day: BTreeMap<i16, i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Exclusions {
    /// LUS: no liability when slutenvården never sent the inskrivningsmeddelande.
    pub without_admission_notice: bool,
    /// No liability when the ready notice was never sent (always true in law; kept explicit).
    pub without_ready_notice: bool,
    /// Some agreements (VGR): no liability when a needed SIP call was not made in time.
    pub when_needed_sip_call_missing: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Agreement {
    pub id: String,
    pub name: String,
    /// The län the agreement is written for; none for the law's fallback rule.
    pub region_code: Option<String>,
    /// The region's reservnummer pattern, compiled once (a patient search uses it).
    pub reservnummer_pattern: Option<crate::ids::ReservnummerRule>,
    pub deadlines: DeadlineRules,
    pub somatic: LiabilityRules,
    pub psychiatric: LiabilityRules,
    pub exclusions: Exclusions,
    /// The region's licensed wording of the frailty scale's nine levels, when it has one
    /// (`[screening] frailty_levels`); Samverka's neutral wording otherwise.
    pub frailty_levels: Option<Vec<String>>,
}

impl Agreement {
    pub fn rules(&self, care: CareType) -> &LiabilityRules {
        match care {
            CareType::Somatic => &self.somatic,
            CareType::Psychiatric => &self.psychiatric,
        }
    }
}

impl LiabilityRules {
    /// Free days in force on the date of the ready notice.
    pub fn free_days_on(&self, d: Date) -> Hundredths {
        self.free_days.iter().rev().find(|f| f.from <= d).map(|f| f.days).unwrap_or(Hundredths(0))
    }

    /// Amount per day for a calendar year, if the agreement states it.
    pub fn amount_for(&self, year: i16) -> Option<i64> {
        self.amount_per_day.get(&year).copied()
    }
}

// ---- reading the TOML file -------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAgreement {
    id: String,
    name: String,
    region_code: Option<String>,
    reservnummer_pattern: Option<String>,
    deadlines: RawDeadlines,
    liability: RawLiability,
    #[serde(default)]
    screening: RawScreening,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawScreening {
    frailty_levels: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDeadlines {
    admission_notice_hours: u32,
    sip_call_days: u32,
    sip_call_day_kind: DayKind,
    fast_vardkontakt_days: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLiability {
    model: LiabilityModel,
    #[serde(default = "one")]
    average_window_months: u8,
    count_day_zero: bool,
    #[serde(default = "yes")]
    average_includes_zero_day_episodes: bool,
    free_days: Vec<RawFreeDays>,
    amount_per_day: BTreeMap<String, i64>,
    psychiatry: RawPsychiatry,
    exclusions: RawExclusions,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPsychiatry {
    model: LiabilityModel,
    #[serde(default = "one")]
    average_window_months: u8,
    count_day_zero: Option<bool>,
    free_days: Vec<RawFreeDays>,
    amount_per_day: Option<BTreeMap<String, i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExclusions {
    without_admission_notice: bool,
    without_ready_notice: bool,
    when_needed_sip_call_missing: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFreeDays {
    from: toml::value::Datetime,
    days: f64,
}

fn one() -> u8 {
    1
}
fn yes() -> bool {
    true
}

/// A problem in an agreement file, naming the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {message}")]
pub struct AgreementError {
    pub key: String,
    pub message: String,
}

fn err(key: &str, message: impl Into<String>) -> AgreementError {
    AgreementError { key: key.to_string(), message: message.into() }
}

fn free_days(key: &str, raw: &[RawFreeDays], model: LiabilityModel) -> Result<Vec<FreeDays>, AgreementError> {
    if raw.is_empty() {
        return Err(err(key, "at least one step of free days is needed"));
    }
    let mut out: Vec<FreeDays> = Vec::with_capacity(raw.len());
    for (i, f) in raw.iter().enumerate() {
        let k = format!("{key}[{i}]");
        let from: Date = match f.from.date {
            Some(d) if f.from.time.is_none() => Date::new(d.year as i16, d.month as i8, d.day as i8)
                .map_err(|_| err(&format!("{k}.from"), "not a real date"))?,
            _ => return Err(err(&format!("{k}.from"), "must be a date like 2026-01-01")),
        };
        let h = (f.days * 100.0).round();
        if !(0.0..=36500.0).contains(&f.days) || (h - f.days * 100.0).abs() > 1e-6 {
            return Err(err(&format!("{k}.days"), "must be between 0 and 365 with at most two decimals"));
        }
        let days = Hundredths(h as i64);
        if model == LiabilityModel::PerCase && !days.is_whole() {
            return Err(err(&format!("{k}.days"), "per-case free days must be whole days"));
        }
        if let Some(prev) = out.last()
            && prev.from >= from
        {
            return Err(err(&format!("{k}.from"), "dates must increase from one step to the next"));
        }
        out.push(FreeDays { from, days });
    }
    Ok(out)
}

fn amounts(key: &str, raw: &BTreeMap<String, i64>) -> Result<BTreeMap<i16, i64>, AgreementError> {
    raw.iter()
        .map(|(y, a)| {
            let year: i16 = y
                .parse()
                .ok()
                .filter(|y| (2000..=2100).contains(y))
                .ok_or_else(|| err(&format!("{key}.{y}"), "the key must be a year, e.g. 2026"))?;
            if *a <= 0 || *a > 1_000_000 {
                return Err(err(&format!("{key}.{y}"), "the amount must be whole kronor between 1 and 1 000 000"));
            }
            Ok((year, *a))
        })
        .collect()
}

fn window(key: &str, months: u8) -> Result<u8, AgreementError> {
    if (1..=12).contains(&months) { Ok(months) } else { Err(err(key, "must be 1 to 12 months")) }
}

impl Agreement {
    /// Reads and checks an agreement file. Every error names the key to fix.
    pub fn from_toml(text: &str) -> Result<Agreement, AgreementError> {
        let raw: RawAgreement = toml::from_str(text).map_err(|e| {
            // Name the line and the key written on it, so the reader finds the place.
            let key = e.span().map(|s| {
                let line_no = text[..s.start].matches('\n').count() + 1;
                let line = text.lines().nth(line_no - 1).unwrap_or("");
                let name = line.split('=').next().unwrap_or("").trim();
                if name.is_empty() { format!("line {line_no}") } else { format!("line {line_no} ({name})") }
            });
            err(&key.unwrap_or_else(|| "file".into()), e.message().to_string())
        })?;
        if raw.id.trim().is_empty() || !raw.id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(err("id", "must be letters, digits and '-', e.g. \"stockholm\""));
        }
        if let Some(code) = &raw.region_code
            && !crate::ids::LAN_CODES.contains(&code.as_str())
        {
            return Err(err("region_code", "must be a län code such as \"01\""));
        }
        let reservnummer_pattern = match &raw.reservnummer_pattern {
            Some(p) => {
                Some(crate::ids::ReservnummerRule::new(p).map_err(|e| err("reservnummer_pattern", e.to_string()))?)
            }
            None => None,
        };
        let d = &raw.deadlines;
        if d.admission_notice_hours == 0 || d.admission_notice_hours > 24 * 14 {
            return Err(err("deadlines.admission_notice_hours", "must be between 1 and 336 hours"));
        }
        if d.sip_call_days > 60 {
            return Err(err("deadlines.sip_call_days", "must be at most 60 days"));
        }
        let s = &raw.liability;
        let somatic_amounts = amounts("liability.amount_per_day", &s.amount_per_day)?;
        let somatic = LiabilityRules {
            model: s.model,
            average_window_months: window("liability.average_window_months", s.average_window_months)?,
            count_day_zero: s.count_day_zero,
            average_includes_zero_day_episodes: s.average_includes_zero_day_episodes,
            free_days: free_days("liability.free_days", &s.free_days, s.model)?,
            amount_per_day: somatic_amounts.clone(),
        };
        let p = &raw.liability.psychiatry;
        let psychiatric = LiabilityRules {
            model: p.model,
            average_window_months: window("liability.psychiatry.average_window_months", p.average_window_months)?,
            count_day_zero: p.count_day_zero.unwrap_or(s.count_day_zero),
            average_includes_zero_day_episodes: s.average_includes_zero_day_episodes,
            free_days: free_days("liability.psychiatry.free_days", &p.free_days, p.model)?,
            amount_per_day: match &p.amount_per_day {
                Some(a) => amounts("liability.psychiatry.amount_per_day", a)?,
                None => somatic_amounts,
            },
        };
        if let Some(levels) = &raw.screening.frailty_levels {
            crate::screening::check_frailty_levels(levels).map_err(|m| err("screening.frailty_levels", m))?;
        }
        let x = &raw.liability.exclusions;
        Ok(Agreement {
            id: raw.id,
            name: raw.name,
            region_code: raw.region_code,
            reservnummer_pattern,
            deadlines: DeadlineRules {
                admission_notice_hours: d.admission_notice_hours,
                sip_call_days: d.sip_call_days,
                sip_call_day_kind: d.sip_call_day_kind,
                fast_vardkontakt_days: d.fast_vardkontakt_days,
            },
            somatic,
            psychiatric,
            exclusions: Exclusions {
                without_admission_notice: x.without_admission_notice,
                without_ready_notice: x.without_ready_notice,
                when_needed_sip_call_missing: x.when_needed_sip_call_missing,
            },
            frailty_levels: raw.screening.frailty_levels,
        })
    }
}

/// The agreement files shipped with Samverka (the `agreements/` folder), by id.
pub const BUILT_IN: [(&str, &str); 4] = [
    ("stockholm", include_str!("../../../agreements/stockholm.toml")),
    ("vastra-gotaland", include_str!("../../../agreements/vastra-gotaland.toml")),
    ("lagens-reservregel", include_str!("../../../agreements/lagens-reservregel.toml")),
    ("demo", include_str!("../../../agreements/demo.toml")),
];

#[cfg(test)]
mod days_tests {
    use super::Hundredths;

    #[test]
    fn days_read_without_trailing_zeros() {
        let shown: Vec<String> = [400, 250, 225, 0, 1000, 10000, -150].map(|h| Hundredths(h).display_sv()).to_vec();
        assert_eq!(shown, ["4", "2,5", "2,25", "0", "10", "100", "-1,5"]);
        assert_eq!(Hundredths(400).to_string_sv(), "4,00", "files keep two decimals");
    }
}
