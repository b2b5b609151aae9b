//! Follow-up indicators (SKR, Vårdanalys, audits): what one case contributes, and the figures
//! that sums of those contributions give.
//!
//! A case contributes once it is discharged, to the month of its discharge (SKR counts care
//! episodes by the month they end). Cancelled cases (mis-sent, died, moved to other inpatient
//! care) and drafts never confirmed contribute nothing. Every contribution is a count, so the
//! figures of a region, a quarter or a year are sums of those of its months and units, and a
//! store can keep the sums up to date by subtracting a case's old contribution and adding its
//! new one.

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::agreement::Agreement;
use crate::calendar::{days_between, is_weekend_or_holiday, local_date};
use crate::case::{Case, CaseId};
use crate::deadlines::{DeadlineKind, DeadlineStatus, all_deadlines};
use crate::ids::Kommunkod;
use crate::message::MessageKind;
use crate::org::{CareType, UnitId};

/// What one discharged case contributes, with the keys it is counted under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseFacts {
    pub case_id: CaseId,
    /// The month of discharge, as `year * 100 + month` (e.g. 202611).
    pub month: i32,
    pub kommun: Kommunkod,
    /// The ward the patient was discharged from; none for a coordination at home.
    pub ward: Option<UnitId>,
    /// The vårdcentral the patient is listed at.
    pub vardcentral: Option<UnitId>,
    pub care_type: CareType,
    pub totals: Totals,
}

/// Additive counts behind the indicators.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// Care episodes (vårdtillfällen) ended by discharge.
    pub episodes: i64,
    /// Episodes with a meddelande om utskrivningsklar.
    pub ready_episodes: i64,
    /// Of those, episodes with at least one day as utskrivningsklar (SKR's count).
    pub ready_episodes_with_days: i64,
    /// Days as utskrivningsklar: calendar days from each ready notice to the discharge or
    /// withdrawal; a discharge on the day of the notice (day 0) counts 0.
    pub ready_days: i64,
    /// Vårddygn: calendar days from admission to discharge.
    pub bed_days: i64,
    /// Episodes where an inskrivningsmeddelande was due.
    pub notices_due: i64,
    /// Of those, sent within its 24 hours.
    pub notices_in_time: i64,
    /// Episodes where the patient's vårdcentral was sent an inskrivningsmeddelande, and so was
    /// to name a fast vårdkontakt.
    pub fast_contact_due: i64,
    pub fast_contact_named: i64,
    /// Episodes where a SIP was needed.
    pub sip_needed: i64,
    /// Of those, called within the agreed days.
    pub sip_called_in_time: i64,
    /// Of those, a SIP was drawn up (held).
    pub sip_held: i64,
    /// Discharges on a Saturday, Sunday or public holiday.
    pub weekend_discharges: i64,
    /// Episodes of persons 65 or older (at admission) who needed a SIP: in coordination.
    #[serde(default)]
    pub older_in_coordination: i64,
    /// Of those, a frailty screening was recorded in the case.
    #[serde(default)]
    pub older_screened: i64,
    /// Coordinations at home (a SIP without a hospital stay).
    #[serde(default)]
    pub home_coordinations: i64,
    /// Of those, a SIP drawn up in the coordination (a plan brought from a discharge is counted
    /// there).
    #[serde(default)]
    pub home_sips: i64,
    /// SIPs at home followed up at least once.
    #[serde(default)]
    pub home_followed_up: i64,
    /// Of those, the first follow-up on or before the date the plan set.
    #[serde(default)]
    pub home_followed_up_in_time: i64,
}

impl Totals {
    pub fn add(&mut self, o: &Totals) {
        self.combine(o, 1);
    }

    pub fn subtract(&mut self, o: &Totals) {
        self.combine(o, -1);
    }

    fn combine(&mut self, o: &Totals, sign: i64) {
        self.episodes += sign * o.episodes;
        self.ready_episodes += sign * o.ready_episodes;
        self.ready_episodes_with_days += sign * o.ready_episodes_with_days;
        self.ready_days += sign * o.ready_days;
        self.bed_days += sign * o.bed_days;
        self.notices_due += sign * o.notices_due;
        self.notices_in_time += sign * o.notices_in_time;
        self.fast_contact_due += sign * o.fast_contact_due;
        self.fast_contact_named += sign * o.fast_contact_named;
        self.sip_needed += sign * o.sip_needed;
        self.sip_called_in_time += sign * o.sip_called_in_time;
        self.sip_held += sign * o.sip_held;
        self.weekend_discharges += sign * o.weekend_discharges;
        self.older_in_coordination += sign * o.older_in_coordination;
        self.older_screened += sign * o.older_screened;
        self.home_coordinations += sign * o.home_coordinations;
        self.home_sips += sign * o.home_sips;
        self.home_followed_up += sign * o.home_followed_up;
        self.home_followed_up_in_time += sign * o.home_followed_up_in_time;
    }

    /// How many counts there are (the length of [`Totals::to_array`]).
    pub const COUNT: usize = 19;

    /// The counts in a fixed order, as the store keeps them.
    pub fn to_array(&self) -> [i64; Totals::COUNT] {
        [
            self.episodes,
            self.ready_episodes,
            self.ready_episodes_with_days,
            self.ready_days,
            self.bed_days,
            self.notices_due,
            self.notices_in_time,
            self.fast_contact_due,
            self.fast_contact_named,
            self.sip_needed,
            self.sip_called_in_time,
            self.sip_held,
            self.weekend_discharges,
            self.older_in_coordination,
            self.older_screened,
            self.home_coordinations,
            self.home_sips,
            self.home_followed_up,
            self.home_followed_up_in_time,
        ]
    }

    pub fn from_array(a: [i64; Totals::COUNT]) -> Totals {
        Totals {
            episodes: a[0],
            ready_episodes: a[1],
            ready_episodes_with_days: a[2],
            ready_days: a[3],
            bed_days: a[4],
            notices_due: a[5],
            notices_in_time: a[6],
            fast_contact_due: a[7],
            fast_contact_named: a[8],
            sip_needed: a[9],
            sip_called_in_time: a[10],
            sip_held: a[11],
            weekend_discharges: a[12],
            older_in_coordination: a[13],
            older_screened: a[14],
            home_coordinations: a[15],
            home_sips: a[16],
            home_followed_up: a[17],
            home_followed_up_in_time: a[18],
        }
    }

    /// Column names for [`Totals::to_array`], in order.
    pub const COLUMNS: [&'static str; Totals::COUNT] = [
        "episodes",
        "ready_episodes",
        "ready_episodes_with_days",
        "ready_days",
        "bed_days",
        "notices_due",
        "notices_in_time",
        "fast_contact_due",
        "fast_contact_named",
        "sip_needed",
        "sip_called_in_time",
        "sip_held",
        "weekend_discharges",
        "older_in_coordination",
        "older_screened",
        "home_coordinations",
        "home_sips",
        "home_followed_up",
        "home_followed_up_in_time",
    ];
}

/// Whole years from `born` to `on`.
pub fn age_on(born: Date, on: Date) -> i32 {
    let before_birthday = (on.month(), on.day()) < (born.month(), born.day());
    on.year() as i32 - born.year() as i32 - i32::from(before_birthday)
}

/// `year * 100 + month` of a date.
pub fn month_key(d: Date) -> i32 {
    d.year() as i32 * 100 + d.month() as i32
}

impl CaseFacts {
    /// The contribution of a case as of `now`, or `None` while it contributes nothing (not yet
    /// discharged, cancelled, or a draft).
    pub fn of(case: &Case, agreement: &Agreement, now: Timestamp) -> Option<CaseFacts> {
        if case.home.is_some() {
            return CaseFacts::at_home(case);
        }
        let discharged_at = case.discharged_at?;
        if case.cancelled.is_some() || case.awaiting_assessment {
            return None;
        }
        let discharged_on = local_date(discharged_at);
        let deadlines = all_deadlines(case, agreement, now);
        let deadline = |kind| deadlines.iter().find(|d| d.kind == kind);
        let met = |kind| deadline(kind).map(|d| d.status == DeadlineStatus::Met);

        let ready_days: i64 = case
            .ready_periods
            .iter()
            .map(|p| {
                let last = p.until.map(local_date).unwrap_or(discharged_on);
                days_between(local_date(p.from), last).max(0)
            })
            .sum();
        let ready = !case.ready_periods.is_empty();
        let notice = met(DeadlineKind::AdmissionNotice);
        // The vårdcentral names one once told of the admission (whatever the agreement's deadline).
        let fast_contact_due = case.admission_notice_at.is_some() && case.listed_unit.is_some();
        let sip_needed = case.sip_needed == Some(true);
        let sip_call = met(DeadlineKind::SipCall);
        let older = case.born.is_some_and(|born| age_on(born, local_date(case.admitted_at)) >= 65);
        let one = |b: bool| i64::from(b);
        let totals = Totals {
            episodes: 1,
            ready_episodes: one(ready),
            ready_episodes_with_days: one(ready && ready_days > 0),
            ready_days,
            bed_days: days_between(local_date(case.admitted_at), discharged_on).max(0),
            notices_due: one(notice.is_some()),
            notices_in_time: one(notice == Some(true)),
            fast_contact_due: one(fast_contact_due),
            fast_contact_named: one(fast_contact_due && case.fast_vardkontakt.is_some()),
            sip_needed: one(sip_needed),
            // A call made before the deadline existed (before the ready notice) is in time.
            sip_called_in_time: one(
                sip_needed && (sip_call == Some(true) || (sip_call.is_none() && !case.sip_calls.is_empty()))
            ),
            sip_held: one(sip_needed && case.sip.current().is_some()),
            weekend_discharges: one(is_weekend_or_holiday(discharged_on)),
            older_in_coordination: one(sip_needed && older),
            older_screened: one(sip_needed && older && case.screenings.iter().any(|s| s.screening.frailty.is_some())),
            ..Totals::default()
        };
        Some(CaseFacts {
            case_id: case.id,
            month: month_key(discharged_on),
            kommun: case.kommun.clone(),
            ward: Some(case.ward().id),
            vardcentral: case.listed_unit,
            care_type: case.care_type(),
            totals,
        })
    }

    /// A coordination at home counts from the start, to the month its first plan was drawn
    /// up (or, before that, the month it started): the coordination, its SIP, whether the SIP
    /// was followed up by the date it set, and the person 65+ in coordination and screened.
    fn at_home(case: &Case) -> Option<CaseFacts> {
        let home = case.home.as_ref()?;
        if case.cancelled.is_some() {
            return None;
        }
        let started_on = local_date(case.admitted_at);
        // A plan brought from a discharge was drawn up (and is counted) there.
        let brought = usize::from(home.continues_from.is_some());
        let own_plan = case.sip.versions.get(brought);
        let month = own_plan.map_or(started_on, |v| local_date(v.drawn_up.at));
        let first_plan = case.sip.versions.first();
        let first_follow_up = case.sip.follow_ups.first();
        let in_time = match (first_plan, first_follow_up) {
            (Some(plan), Some(f)) => local_date(f.stamp.at) <= plan.plan.follow_up_date,
            _ => false,
        };
        let older = case.born.is_some_and(|born| age_on(born, started_on) >= 65);
        let one = |b: bool| i64::from(b);
        let totals = Totals {
            home_coordinations: 1,
            home_sips: one(own_plan.is_some()),
            home_followed_up: one(first_follow_up.is_some()),
            home_followed_up_in_time: one(in_time),
            older_in_coordination: one(older),
            older_screened: one(older && case.screenings.iter().any(|s| s.screening.frailty.is_some())),
            ..Totals::default()
        };
        Some(CaseFacts {
            case_id: case.id,
            month: month_key(month),
            kommun: case.kommun.clone(),
            ward: None,
            vardcentral: case.listed_unit,
            care_type: case.care_type(),
            totals,
        })
    }
}

/// The time from a notice reaching a unit to the unit acknowledging it: for the notices that
/// must be acknowledged (inskrivningsmeddelande, utskrivningsklar), per receiving unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acknowledgement {
    pub unit: UnitId,
    /// The month the notice was sent, `year * 100 + month`.
    pub month: i32,
    pub sent_at: Timestamp,
    pub acknowledged_at: Option<Timestamp>,
}

/// The acknowledgements a case's notices ask for (mis-sent receipts left out).
pub fn acknowledgements(case: &Case) -> Vec<Acknowledgement> {
    case.messages
        .iter()
        .filter(|m| {
            matches!(m.message.body.kind(), MessageKind::Inskrivningsmeddelande | MessageKind::Utskrivningsklar)
        })
        .flat_map(|m| {
            m.receipts.iter().filter(|r| r.mis_sent.is_none()).map(move |r| Acknowledgement {
                unit: r.unit.id,
                month: month_key(local_date(m.sent.at)),
                sent_at: m.sent.at,
                acknowledged_at: r.acknowledged.as_ref().map(|a| a.at),
            })
        })
        .collect()
}

/// Sums of acknowledgements for one unit and period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AckTotals {
    pub notices: i64,
    pub acknowledged: i64,
    /// Minutes from sending to acknowledging, summed over those acknowledged.
    pub minutes: i64,
    /// Acknowledged within 24 hours.
    pub within_day: i64,
}

impl AckTotals {
    pub fn of(a: &Acknowledgement) -> AckTotals {
        let minutes = a.acknowledged_at.map(|t| (t.as_second() - a.sent_at.as_second()).max(0) / 60);
        AckTotals {
            notices: 1,
            acknowledged: i64::from(minutes.is_some()),
            minutes: minutes.unwrap_or(0),
            within_day: i64::from(minutes.is_some_and(|m| m < 24 * 60)),
        }
    }

    pub fn add(&mut self, o: &AckTotals) {
        self.notices += o.notices;
        self.acknowledged += o.acknowledged;
        self.minutes += o.minutes;
        self.within_day += o.within_day;
    }
}

/// How a figure is expressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    Count,
    Days,
    Percent,
    Hours,
    PerThousand,
}

/// One indicator: its value and what it means.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Indicator {
    pub key: &'static str,
    pub name_sv: &'static str,
    pub definition_sv: &'static str,
    pub name_en: &'static str,
    pub definition_en: &'static str,
    pub measure: Measure,
    /// `None` when the denominator is zero or unknown (e.g. no population figures).
    pub value: Option<f64>,
    pub numerator: i64,
    pub denominator: Option<i64>,
}

/// What the indicators need besides the counts.
#[derive(Debug, Clone, Copy, Default)]
pub struct Context {
    /// Residents aged 65 and over in the area (kommun or region), if known.
    pub residents_65_plus: Option<i64>,
    /// Bed-days available in the period (beds × days), if the wards' beds are known.
    pub available_bed_days: Option<i64>,
}

fn ratio(n: i64, d: i64, scale: f64) -> Option<f64> {
    (d > 0).then(|| n as f64 * scale / d as f64)
}

/// Name and definition of each indicator, in Swedish and English.
struct Definition {
    key: &'static str,
    name_sv: &'static str,
    definition_sv: &'static str,
    name_en: &'static str,
    definition_en: &'static str,
    measure: Measure,
}

const DEFINITIONS: [Definition; 16] = [
    Definition {
        key: "episodes",
        name_sv: "Vårdtillfällen",
        definition_sv: "Vårdtillfällen som avslutats med utskrivning under perioden, i ärenden enligt LUS. Makulerade ärenden (felskickade, avlidna, flyttade till annan slutenvård) räknas inte.",
        name_en: "Care episodes",
        definition_en: "Care episodes ended by discharge in the period, in LUS cases. Cancelled cases (mis-sent, died, moved to other inpatient care) are not counted.",
        measure: Measure::Count,
    },
    Definition {
        key: "ready_days",
        name_sv: "Dagar som utskrivningsklar",
        definition_sv: "Summan av kalenderdagar från meddelandet om utskrivningsklar till utskrivningen (eller till ett återtagande). Utskrivning samma dag (dag 0) ger 0 dagar.",
        name_en: "Days ready for discharge",
        definition_en: "Calendar days from the ready-for-discharge notice to the discharge (or a withdrawal), summed. A discharge the same day (day 0) counts 0 days.",
        measure: Measure::Days,
    },
    Definition {
        key: "average_days",
        name_sv: "Medelantal dagar som utskrivningsklar, alla",
        definition_sv: "Dagar som utskrivningsklar delat med antalet vårdtillfällen med meddelande om utskrivningsklar, även de som skrevs ut samma dag (dag 0).",
        name_en: "Average days ready for discharge, all",
        definition_en: "Days ready for discharge divided by the episodes with a ready notice, including those discharged the same day (day 0).",
        measure: Measure::Days,
    },
    Definition {
        key: "average_days_skr",
        name_sv: "Medelantal dagar som utskrivningsklar, minst en dag (SKR)",
        definition_sv: "Som ovan, men bara vårdtillfällen med minst en dag som utskrivningsklar, så som SKR redovisar.",
        name_en: "Average days ready for discharge, at least one day (SKR)",
        definition_en: "As above, but only episodes with at least one day ready for discharge, as SKR reports it.",
        measure: Measure::Days,
    },
    Definition {
        key: "bed_share",
        name_sv: "Andel vårdplatser med utskrivningsklara patienter",
        definition_sv: "Dagar som utskrivningsklar delat med tillgängliga vårddygn (vårdplatser × dagar i perioden) på avdelningarna. Dagarna räknas till utskrivningsmånaden.",
        name_en: "Share of beds occupied by patients ready for discharge",
        definition_en: "Days ready for discharge divided by the available bed-days (beds × days in the period) of the wards. Days count to the month of discharge.",
        measure: Measure::Percent,
    },
    Definition {
        key: "days_per_thousand",
        name_sv: "Dagar som utskrivningsklar per 1 000 invånare 65 år och äldre",
        definition_sv: "Dagar som utskrivningsklar delat med antalet invånare 65 år och äldre i kommunen eller regionen (inläst befolkning för året), gånger 1 000.",
        name_en: "Days ready for discharge per 1,000 residents aged 65+",
        definition_en: "Days ready for discharge divided by the residents aged 65 and over in the municipality or region (population loaded for the year), times 1,000.",
        measure: Measure::PerThousand,
    },
    Definition {
        key: "notices_in_time",
        name_sv: "Inskrivningsmeddelanden inom 24 timmar",
        definition_sv: "Andel av vårdtillfällena med inskrivningsmeddelande där meddelandet skickades inom 24 timmar från inskrivningen (eller från läkarens bedömning om den kom senare).",
        name_en: "Admission notices within 24 hours",
        definition_en: "Share of episodes with an admission notice where it was sent within 24 hours of admission (or of the doctor's judgement, if later).",
        measure: Measure::Percent,
    },
    Definition {
        key: "fast_contact",
        name_sv: "Fast vårdkontakt utsedd",
        definition_sv: "Andel av vårdtillfällena med inskrivningsmeddelande till patientens vårdcentral där vårdcentralen utsåg en fast vårdkontakt.",
        name_en: "Named fast vårdkontakt",
        definition_en: "Share of episodes with an admission notice to the patient's vårdcentral where it named a fast vårdkontakt.",
        measure: Measure::Percent,
    },
    Definition {
        key: "sip_called_in_time",
        name_sv: "SIP kallad i tid",
        definition_sv: "Andel av vårdtillfällena med behov av SIP där kallelsen skickades inom överenskommelsens dagar efter meddelandet om utskrivningsklar.",
        name_en: "SIP called in time",
        definition_en: "Share of episodes needing a SIP where the call was sent within the agreement's days after the ready notice.",
        measure: Measure::Percent,
    },
    Definition {
        key: "sip_held",
        name_sv: "SIP upprättad",
        definition_sv: "Andel av vårdtillfällena med behov av SIP där en SIP har upprättats.",
        name_en: "SIP drawn up",
        definition_en: "Share of episodes needing a SIP where a SIP was drawn up.",
        measure: Measure::Percent,
    },
    Definition {
        key: "weekend_discharges",
        name_sv: "Utskrivningar under helg",
        definition_sv: "Andel av utskrivningarna som skedde en lördag, söndag eller helgdag.",
        name_en: "Weekend discharges",
        definition_en: "Share of discharges on a Saturday, Sunday or public holiday.",
        measure: Measure::Percent,
    },
    Definition {
        key: "older_screened",
        name_sv: "Personer 65+ i samordning som screenats för skörhet",
        definition_sv: "Andel av personerna 65 år och äldre i samordning – vårdtillfällen med behov av SIP (ålder vid inskrivningen) och samordningar i hemmet (ålder vid starten) – där en bedömning av skörhet finns registrerad i ärendet.",
        name_en: "Persons 65+ in coordination screened for frailty",
        definition_en: "Share of persons aged 65 and over in coordination – episodes needing a SIP (age at admission) and coordinations at home (age at the start) – where a frailty screening is recorded in the case.",
        measure: Measure::Percent,
    },
    Definition {
        key: "home_sips",
        name_sv: "SIP upprättade i hemmet",
        definition_sv: "Antal samordningar i hemmet (SIP utan sjukhusvistelse) där en SIP har upprättats, räknat till månaden då den första planen upprättades. En plan som fortsätter från en utskrivning räknas vid utskrivningen.",
        name_en: "SIPs drawn up at home",
        definition_en: "Coordinations at home (a SIP without a hospital stay) where a SIP was drawn up, counted to the month the first plan was drawn up. A plan continued from a discharge is counted at the discharge.",
        measure: Measure::Count,
    },
    Definition {
        key: "home_followed_up_in_time",
        name_sv: "SIP i hemmet uppföljda i tid",
        definition_sv: "Andel av de SIP i hemmet som har följts upp där den första uppföljningen gjordes senast det datum planen angav.",
        name_en: "SIPs at home followed up in time",
        definition_en: "Share of the SIPs at home that have been followed up where the first follow-up was made no later than the date the plan set.",
        measure: Measure::Percent,
    },
    Definition {
        key: "ack_hours",
        name_sv: "Tid till kvittens",
        definition_sv: "Medeltid i timmar från att ett inskrivningsmeddelande eller meddelande om utskrivningsklar skickades till att den mottagande enheten kvitterade det. Bara kvitterade meddelanden räknas; perioden är sändningsmånaden.",
        name_en: "Time to acknowledge",
        definition_en: "Mean hours from an admission or ready notice being sent to the receiving unit acknowledging it. Only acknowledged notices count; the period is the month sent.",
        measure: Measure::Hours,
    },
    Definition {
        key: "ack_within_day",
        name_sv: "Kvitterade inom ett dygn",
        definition_sv: "Andel av inskrivningsmeddelanden och meddelanden om utskrivningsklar som den mottagande enheten kvitterade inom 24 timmar.",
        name_en: "Acknowledged within a day",
        definition_en: "Share of admission and ready notices the receiving unit acknowledged within 24 hours.",
        measure: Measure::Percent,
    },
];

/// The indicators of a period and area from its sums, each with its definition.
pub fn indicators(t: &Totals, acks: &AckTotals, ctx: &Context) -> Vec<Indicator> {
    DEFINITIONS
        .iter()
        .map(|d| {
            let (value, numerator, denominator) = match d.key {
                "episodes" => (Some(t.episodes as f64), t.episodes, None),
                "ready_days" => (Some(t.ready_days as f64), t.ready_days, None),
                "average_days" => (ratio(t.ready_days, t.ready_episodes, 1.0), t.ready_days, Some(t.ready_episodes)),
                "average_days_skr" => (
                    ratio(t.ready_days, t.ready_episodes_with_days, 1.0),
                    t.ready_days,
                    Some(t.ready_episodes_with_days),
                ),
                "bed_share" => (
                    ctx.available_bed_days.and_then(|d| ratio(t.ready_days, d, 100.0)),
                    t.ready_days,
                    ctx.available_bed_days,
                ),
                "days_per_thousand" => (
                    ctx.residents_65_plus.and_then(|p| ratio(t.ready_days, p, 1000.0)),
                    t.ready_days,
                    ctx.residents_65_plus,
                ),
                "notices_in_time" => {
                    (ratio(t.notices_in_time, t.notices_due, 100.0), t.notices_in_time, Some(t.notices_due))
                }
                "fast_contact" => (
                    ratio(t.fast_contact_named, t.fast_contact_due, 100.0),
                    t.fast_contact_named,
                    Some(t.fast_contact_due),
                ),
                "sip_called_in_time" => {
                    (ratio(t.sip_called_in_time, t.sip_needed, 100.0), t.sip_called_in_time, Some(t.sip_needed))
                }
                "sip_held" => (ratio(t.sip_held, t.sip_needed, 100.0), t.sip_held, Some(t.sip_needed)),
                "weekend_discharges" => {
                    (ratio(t.weekend_discharges, t.episodes, 100.0), t.weekend_discharges, Some(t.episodes))
                }
                "older_screened" => (
                    ratio(t.older_screened, t.older_in_coordination, 100.0),
                    t.older_screened,
                    Some(t.older_in_coordination),
                ),
                "home_sips" => (Some(t.home_sips as f64), t.home_sips, None),
                "home_followed_up_in_time" => (
                    ratio(t.home_followed_up_in_time, t.home_followed_up, 100.0),
                    t.home_followed_up_in_time,
                    Some(t.home_followed_up),
                ),
                "ack_hours" => {
                    (ratio(acks.minutes, acks.acknowledged, 1.0 / 60.0), acks.minutes, Some(acks.acknowledged))
                }
                _ => (ratio(acks.within_day, acks.notices, 100.0), acks.within_day, Some(acks.notices)),
            };
            Indicator {
                key: d.key,
                name_sv: d.name_sv,
                definition_sv: d.definition_sv,
                name_en: d.name_en,
                definition_en: d.definition_en,
                measure: d.measure,
                value,
                numerator,
                denominator,
            }
        })
        .collect()
}

/// A reporting period: a month, a quarter or a year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    Month { year: i16, month: i8 },
    Quarter { year: i16, quarter: i8 },
    Year { year: i16 },
}

impl Period {
    /// Reads "2026-11", "2026-Q4" or "2026".
    pub fn parse(s: &str) -> Option<Period> {
        let s = s.trim();
        let year = |y: &str| y.parse::<i16>().ok().filter(|y| (2000..=2100).contains(y));
        if let Some((y, q)) = s.split_once("-Q").or_else(|| s.split_once("-q")) {
            let quarter = q.parse::<i8>().ok().filter(|q| (1..=4).contains(q))?;
            return Some(Period::Quarter { year: year(y)?, quarter });
        }
        if let Some((y, m)) = s.split_once('-') {
            let month = m.parse::<i8>().ok().filter(|m| (1..=12).contains(m))?;
            return Some(Period::Month { year: year(y)?, month });
        }
        Some(Period::Year { year: year(s)? })
    }

    /// First and last month, as month keys.
    pub fn months(self) -> (i32, i32) {
        match self {
            Period::Month { year, month } => {
                let k = year as i32 * 100 + month as i32;
                (k, k)
            }
            Period::Quarter { year, quarter } => {
                let first = (quarter as i32 - 1) * 3 + 1;
                (year as i32 * 100 + first, year as i32 * 100 + first + 2)
            }
            Period::Year { year } => (year as i32 * 100 + 1, year as i32 * 100 + 12),
        }
    }

    /// The first and last day.
    pub fn dates(self) -> (Date, Date) {
        let (a, b) = self.months();
        let first = Date::new((a / 100) as i16, (a % 100) as i8, 1).expect("valid month");
        let last_first = Date::new((b / 100) as i16, (b % 100) as i8, 1).expect("valid month");
        (first, last_first.last_of_month())
    }

    pub fn days(self) -> i64 {
        let (a, b) = self.dates();
        days_between(a, b) + 1
    }

    pub fn label_sv(self) -> String {
        const MONTHS: [&str; 12] = ["jan", "feb", "mar", "apr", "maj", "jun", "jul", "aug", "sep", "okt", "nov", "dec"];
        match self {
            Period::Month { year, month } => format!("{} {year}", MONTHS[(month - 1) as usize]),
            Period::Quarter { year, quarter } => format!("kv{quarter} {year}"),
            Period::Year { year } => year.to_string(),
        }
    }

    /// The canonical text form, as [`Period::parse`] reads it.
    pub fn code(self) -> String {
        match self {
            Period::Month { year, month } => format!("{year}-{month:02}"),
            Period::Quarter { year, quarter } => format!("{year}-Q{quarter}"),
            Period::Year { year } => year.to_string(),
        }
    }

    /// The periods of the same length before this one, oldest first, ending with this one.
    pub fn trail(self, n: usize) -> Vec<Period> {
        let mut out = vec![self];
        let mut p = self;
        for _ in 1..n {
            p = p.previous();
            out.push(p);
        }
        out.reverse();
        out
    }

    pub fn previous(self) -> Period {
        match self {
            Period::Month { year, month: 1 } => Period::Month { year: year - 1, month: 12 },
            Period::Month { year, month } => Period::Month { year, month: month - 1 },
            Period::Quarter { year, quarter: 1 } => Period::Quarter { year: year - 1, quarter: 4 },
            Period::Quarter { year, quarter } => Period::Quarter { year, quarter: quarter - 1 },
            Period::Year { year } => Period::Year { year: year - 1 },
        }
    }
}
