//! The municipality's payment liability (kommunens betalningsansvar, LUS 5 kap).
//!
//! Days are local calendar days in Sweden. Day 0 is the day the ready notice was sent; the days
//! of readiness are day 1 up to and including the day the period ended (discharge or
//! withdrawal), and day 0 too where the agreement counts it. A patient discharged on day 0 has
//! 0 days. Each ready period (a notice, possibly withdrawn later) has its own free days: a
//! withdrawn and re-given notice restarts them. Each liable day is priced at its own year's rate.

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::agreement::{Agreement, Hundredths, LiabilityModel, LiabilityRules};
use crate::calendar::local_date;
use crate::case::{Case, CaseId};
use crate::deadlines::{DeadlineKind, DeadlineStatus, all_deadlines};
use crate::ids::Kommunkod;
use crate::org::CareType;

/// Why a case carries no liability even though the patient stayed after being ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Exclusion {
    /// Slutenvården never sent the inskrivningsmeddelande: the municipality was never told.
    NoAdmissionNotice,
    /// No meddelande om utskrivningsklar was sent.
    NoReadyNotice,
    /// The agreement requires a SIP call when one is needed, and it was not made in time.
    NeededSipCallMissing,
}

impl Exclusion {
    pub fn label_sv(self) -> &'static str {
        match self {
            Exclusion::NoAdmissionNotice => "inget inskrivningsmeddelande skickades",
            Exclusion::NoReadyNotice => "inget meddelande om utskrivningsklar skickades",
            Exclusion::NeededSipCallMissing => "kallelse till SIP behövdes men skickades inte i tid",
        }
    }
}

/// The facts of one case that payment liability depends on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiabilityFacts {
    pub case_id: CaseId,
    pub kommun: Kommunkod,
    pub care_type: CareType,
    pub admission_notice_sent: bool,
    /// (ready notice sent, period ended) for each ready period, in order.
    pub ready_periods: Vec<(Timestamp, Option<Timestamp>)>,
    pub discharged_at: Option<Timestamp>,
    pub sip_needed: bool,
    /// Whether a needed SIP call was made by its deadline.
    pub sip_call_in_time: bool,
}

impl LiabilityFacts {
    pub fn from_case(case: &Case, agreement: &Agreement, now: Timestamp) -> Self {
        // "Missing" only once the deadline has passed without a call, or the call came late;
        // while the deadline runs, nothing is missing yet.
        let sip_call_in_time = all_deadlines(case, agreement, now)
            .iter()
            .find(|d| d.kind == DeadlineKind::SipCall)
            .is_none_or(|d| !matches!(d.status, DeadlineStatus::Overdue | DeadlineStatus::MetLate));
        LiabilityFacts {
            case_id: case.id,
            kommun: case.kommun.clone(),
            care_type: case.ready_periods.last().map(|p| p.care_type).unwrap_or(case.care_type()),
            admission_notice_sent: case.admission_notice_at.is_some(),
            ready_periods: case.ready_periods.iter().map(|p| (p.from, p.until)).collect(),
            discharged_at: case.discharged_at,
            sip_needed: case.sip_needed == Some(true),
            sip_call_in_time,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PeriodDays {
    /// Day 0: the local date the ready notice was sent.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub notice_date: Date,
    /// The last day counted: the day of discharge or withdrawal, or today while still open.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub last_date: Date,
    pub open: bool,
    /// Days of readiness in this period.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
    pub ready_days: Vec<Date>,
    pub free_days: Hundredths,
    /// Days beyond the free days (per-case model).
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
    pub liable_days: Vec<Date>,
}

/// Liability of one case, with every day listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CaseLiability {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub case_id: CaseId,
    pub kommun: Kommunkod,
    pub care_type: CareType,
    pub model: LiabilityModel,
    pub excluded: Option<Exclusion>,
    pub periods: Vec<PeriodDays>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub discharged_on: Option<Date>,
    /// Days as utskrivningsklar over all periods (the follow-up figure).
    pub ready_days: i64,
    /// Per-case model: days the municipality pays for. Average model: 0 (paid via the average).
    pub liable_days: i64,
    /// Per-case model: amount in öre, for the days whose year has an amount.
    pub amount_ore: i64,
    /// Years of liable days the agreement has no amount for: the amount is incomplete.
    pub missing_amount_years: Vec<i16>,
}

impl CaseLiability {
    /// Liable days within one month (per-case model), for the invoice basis.
    pub fn liable_days_in(&self, year: i16, month: i8) -> impl Iterator<Item = Date> + '_ {
        self.periods
            .iter()
            .flat_map(|p| p.liable_days.iter().copied())
            .filter(move |d| d.year() == year && d.month() == month)
    }
}

fn dates(from: Date, to: Date) -> Vec<Date> {
    let mut out = vec![];
    let mut d = from;
    while d <= to {
        out.push(d);
        d = d.tomorrow().expect("date in range");
    }
    out
}

/// Computes the liability of one case as of `now` (open periods count up to today).
pub fn case_liability(f: &LiabilityFacts, agreement: &Agreement, now: Timestamp) -> CaseLiability {
    let rules: &LiabilityRules = agreement.rules(f.care_type);
    let x = &agreement.exclusions;
    let excluded = if f.ready_periods.is_empty() && x.without_ready_notice {
        Some(Exclusion::NoReadyNotice)
    } else if !f.admission_notice_sent && x.without_admission_notice {
        Some(Exclusion::NoAdmissionNotice)
    } else if f.sip_needed && !f.sip_call_in_time && x.when_needed_sip_call_missing {
        Some(Exclusion::NeededSipCallMissing)
    } else {
        None
    };

    let today = local_date(now);
    let periods: Vec<PeriodDays> = f
        .ready_periods
        .iter()
        .map(|(from, until)| {
            let notice_date = local_date(*from);
            let last_date = until.map(local_date).unwrap_or(today);
            let first = if rules.count_day_zero { notice_date } else { notice_date.tomorrow().expect("date in range") };
            let ready_days = dates(first, last_date);
            let free_days = rules.free_days_on(notice_date);
            let liable_days = if excluded.is_none() && rules.model == LiabilityModel::PerCase {
                ready_days.iter().skip(free_days.whole_days().max(0) as usize).copied().collect()
            } else {
                vec![]
            };
            PeriodDays { notice_date, last_date, open: until.is_none(), ready_days, free_days, liable_days }
        })
        .collect();

    let mut amount_ore = 0;
    let mut missing = vec![];
    for d in periods.iter().flat_map(|p| &p.liable_days) {
        match rules.amount_for(d.year()) {
            Some(kr) => amount_ore += kr * 100,
            None if !missing.contains(&d.year()) => missing.push(d.year()),
            None => {}
        }
    }
    CaseLiability {
        case_id: f.case_id,
        kommun: f.kommun.clone(),
        care_type: f.care_type,
        model: rules.model,
        excluded,
        discharged_on: f.discharged_at.map(local_date),
        ready_days: periods.iter().map(|p| p.ready_days.len() as i64).sum(),
        liable_days: periods.iter().map(|p| p.liable_days.len() as i64).sum(),
        amount_ore,
        missing_amount_years: missing,
        periods,
    }
}

/// One case's line in a municipality's monthly invoice basis.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BasisLine {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub case_id: CaseId,
    pub care_type: CareType,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub discharged_on: Option<Date>,
    pub ready_days: i64,
    /// Per-case model: the liable days of this month.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>))]
    pub liable_dates: Vec<Date>,
    pub amount_ore: i64,
    pub excluded: Option<Exclusion>,
    /// Average model: whether the episode counts in this month's figure.
    pub counted_in_month: bool,
}

/// The totals for one kind of care under its model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GroupTotals {
    pub care_type: CareType,
    pub model: LiabilityModel,
    /// Episodes counted in the month.
    pub episodes: i64,
    /// Average model: episodes and ready days over the whole window.
    pub window_episodes: i64,
    pub window_ready_days: i64,
    pub average: Option<Hundredths>,
    pub free_days: Hundredths,
    pub liable_days: Hundredths,
    pub amount_per_day: Option<i64>,
    pub amount_ore: i64,
    /// How the figure was reached, in words.
    pub explanation_sv: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LiabilityBasis {
    pub kommun: Kommunkod,
    pub year: i16,
    pub month: i8,
    pub agreement_id: String,
    pub lines: Vec<BasisLine>,
    pub groups: Vec<GroupTotals>,
    pub total_amount_ore: i64,
}

fn month_index(d: Date) -> i32 {
    d.year() as i32 * 12 + d.month() as i32 - 1
}

/// The invoice basis of one municipality for one month, from the liabilities of its cases.
///
/// Per-case model: every liable day that falls in the month. Average model: episodes
/// discharged in the month; the municipality pays (average − free days) × episodes, where the
/// average runs over the agreement's window (1 month, or e.g. a rolling 3 months) and the free
/// days are those in force on the first of the month.
pub fn municipal_basis(
    kommun: &Kommunkod,
    year: i16,
    month: i8,
    cases: &[CaseLiability],
    agreement: &Agreement,
) -> LiabilityBasis {
    let this_month = year as i32 * 12 + month as i32 - 1;
    let first_of_month = Date::new(year, month, 1).expect("valid month");
    let mut lines = vec![];
    let mut groups = vec![];
    for care in [CareType::Somatic, CareType::Psychiatric] {
        let rules = agreement.rules(care);
        let ours = cases.iter().filter(|c| &c.kommun == kommun && c.care_type == care);
        match rules.model {
            LiabilityModel::PerCase => {
                let mut days = 0;
                let mut amount = 0;
                for c in ours {
                    let liable: Vec<Date> = c.liable_days_in(year, month).collect();
                    let in_month =
                        c.periods.iter().flat_map(|p| &p.ready_days).any(|d| d.year() == year && d.month() == month);
                    if liable.is_empty() && !(c.excluded.is_some() && in_month) {
                        continue;
                    }
                    let line_amount: i64 =
                        liable.iter().filter_map(|d| rules.amount_for(d.year())).map(|kr| kr * 100).sum();
                    days += liable.len() as i64;
                    amount += line_amount;
                    lines.push(BasisLine {
                        case_id: c.case_id,
                        care_type: care,
                        discharged_on: c.discharged_on,
                        ready_days: c.ready_days,
                        liable_dates: liable,
                        amount_ore: line_amount,
                        excluded: c.excluded,
                        counted_in_month: true,
                    });
                }
                let free = rules.free_days_on(first_of_month);
                groups.push(GroupTotals {
                    care_type: care,
                    model: LiabilityModel::PerCase,
                    episodes: lines.iter().filter(|l| l.care_type == care && l.excluded.is_none()).count() as i64,
                    window_episodes: 0,
                    window_ready_days: 0,
                    average: None,
                    free_days: free,
                    liable_days: Hundredths::from_days(days),
                    amount_per_day: rules.amount_for(year),
                    amount_ore: amount,
                    explanation_sv: format!(
                        "Per vårdtillfälle: varje dag efter {} fria dagar från meddelandet om utskrivningsklar, {} dagar i månaden.",
                        free.display_sv(),
                        days
                    ),
                });
            }
            LiabilityModel::Average => {
                let window = rules.average_window_months as i32;
                let counts = |c: &CaseLiability| {
                    c.excluded.is_none() && (rules.average_includes_zero_day_episodes || c.ready_days > 0)
                };
                let mut window_n = 0i64;
                let mut window_days = 0i64;
                let mut month_n = 0i64;
                for c in ours {
                    let Some(discharged) = c.discharged_on else {
                        continue;
                    };
                    let idx = month_index(discharged);
                    if idx > this_month || idx <= this_month - window {
                        continue;
                    }
                    let counted = counts(c);
                    if counted {
                        window_n += 1;
                        window_days += c.ready_days;
                    }
                    if idx == this_month {
                        if counted {
                            month_n += 1;
                        }
                        lines.push(BasisLine {
                            case_id: c.case_id,
                            care_type: care,
                            discharged_on: c.discharged_on,
                            ready_days: c.ready_days,
                            liable_dates: vec![],
                            amount_ore: 0,
                            excluded: c.excluded,
                            counted_in_month: counted,
                        });
                    }
                }
                let free = rules.free_days_on(first_of_month);
                // (average − free) × episodes, exactly in hundredths of a day, rounded half up.
                let liable = if window_n == 0 {
                    Hundredths(0)
                } else {
                    let numerator = window_days * 100 * month_n * 2 + window_n;
                    let scaled = numerator / (2 * window_n);
                    Hundredths((scaled - free.0 * month_n).max(0))
                };
                let average = (window_n > 0).then(|| Hundredths((window_days * 200 + window_n) / (2 * window_n)));
                let rate = rules.amount_for(year);
                // Hundredths of a day × kronor per day = öre.
                let amount = rate.map_or(0, |kr| liable.0 * kr);
                groups.push(GroupTotals {
                    care_type: care,
                    model: LiabilityModel::Average,
                    episodes: month_n,
                    window_episodes: window_n,
                    window_ready_days: window_days,
                    average,
                    free_days: free,
                    liable_days: liable,
                    amount_per_day: rate,
                    amount_ore: amount,
                    explanation_sv: format!(
                        "Genomsnitt: {} dagar på {} vårdtillfällen under {} månad(er) ger snittet {} dagar; fria dagar {}; betalningsansvar ({} − {}) × {} = {} dagar.",
                        window_days,
                        window_n,
                        window,
                        average.map_or("–".into(), |a| a.display_sv()),
                        free.display_sv(),
                        average.map_or("–".into(), |a| a.display_sv()),
                        free.display_sv(),
                        month_n,
                        liable.display_sv()
                    ),
                });
            }
        }
    }
    let total_amount_ore = groups.iter().map(|g| g.amount_ore).sum();
    LiabilityBasis {
        kommun: kommun.clone(),
        year,
        month,
        agreement_id: agreement.id.clone(),
        lines,
        groups,
        total_amount_ore,
    }
}
