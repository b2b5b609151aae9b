//! Deadlines of the discharge process, computed from a case's facts and the region's agreement.

use jiff::civil::Date;
use jiff::{Timestamp, ToSpan};
use serde::{Deserialize, Serialize};

use crate::agreement::{Agreement, DayKind};
use crate::calendar::{add_working_days, end_of_day, local_date};
use crate::case::{Case, Step};
use crate::org::{UnitId, UnitKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeadlineKind {
    AdmissionNotice,
    FastVardkontakt,
    SipCall,
    DischargeInformation,
    SipFollowUp,
}

impl DeadlineKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DeadlineKind::AdmissionNotice => "admission_notice",
            DeadlineKind::FastVardkontakt => "fast_vardkontakt",
            DeadlineKind::SipCall => "sip_call",
            DeadlineKind::DischargeInformation => "discharge_information",
            DeadlineKind::SipFollowUp => "sip_follow_up",
        }
    }

    pub fn step(self) -> Step {
        match self {
            DeadlineKind::AdmissionNotice => Step::Inskrivningsmeddelande,
            DeadlineKind::FastVardkontakt => Step::FastVardkontakt,
            DeadlineKind::SipCall => Step::KallelseSip,
            DeadlineKind::DischargeInformation => Step::InformationVidUtskrivning,
            DeadlineKind::SipFollowUp => Step::FoljaUppSip,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeadlineStatus {
    /// Not yet done, still time.
    Open,
    /// Not done and the time has passed.
    Overdue,
    Met,
    /// Done, but after the deadline.
    MetLate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Deadline {
    pub kind: DeadlineKind,
    pub step: u8,
    /// The unit that must act, when the case says which.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Uuid))]
    pub owner: Option<UnitId>,
    /// Strictly before this instant.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub due: Timestamp,
    /// True when the deadline rests on an estimate (e.g. the estimated discharge date).
    pub estimated: bool,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub met_at: Option<Timestamp>,
    pub status: DeadlineStatus,
    /// The rule in words, shown beside the deadline.
    pub rule_sv: String,
}

fn status(due: Timestamp, met_at: Option<Timestamp>, now: Timestamp) -> DeadlineStatus {
    match met_at {
        Some(m) if m < due => DeadlineStatus::Met,
        Some(_) => DeadlineStatus::MetLate,
        None if now >= due => DeadlineStatus::Overdue,
        None => DeadlineStatus::Open,
    }
}

/// The end of the day `n` days (calendar or working) after `from`.
pub fn days_after(from: Date, n: u32, kind: DayKind) -> Timestamp {
    let d = match kind {
        DayKind::Calendar => from + (n as i32).days(),
        DayKind::Working => add_working_days(from, n),
    };
    end_of_day(d)
}

/// Every deadline that applies to the case now, met or not. Unmet deadlines of a closed or
/// cancelled case are left out: nobody owes them any more.
pub fn deadlines(case: &Case, agreement: &Agreement, now: Timestamp) -> Vec<Deadline> {
    let mut out = all_deadlines(case, agreement, now);
    if !case.phase().is_open() {
        out.retain(|d| d.met_at.is_some());
    }
    out
}

/// Every deadline, including unmet ones of a closed or cancelled case (payment liability
/// still asks whether a needed SIP call was made in time).
pub fn all_deadlines(case: &Case, agreement: &Agreement, now: Timestamp) -> Vec<Deadline> {
    let rules = &agreement.deadlines;
    let mut out = Vec::new();
    let mut push = |kind: DeadlineKind,
                    owner: Option<UnitId>,
                    due: Timestamp,
                    estimated: bool,
                    met_at: Option<Timestamp>,
                    rule_sv: String| {
        out.push(Deadline {
            kind,
            step: kind.step().number(),
            owner,
            due,
            estimated,
            met_at,
            status: status(due, met_at, now),
            rule_sv,
        });
    };

    let day_kind = match rules.sip_call_day_kind {
        DayKind::Calendar => "kalenderdagar",
        DayKind::Working => "arbetsdagar",
    };

    // At home there is no stay: the call to the first SIP meeting is due the agreement's days
    // after the coordination started, owned by the unit that started it. A plan brought from a
    // discharge is already drawn up.
    if let Some(home) = &case.home {
        if home.continues_from.is_none() {
            push(
                DeadlineKind::SipCall,
                Some(home.unit.id),
                days_after(local_date(case.admitted_at), rules.sip_call_days, rules.sip_call_day_kind),
                false,
                case.sip_calls.first().map(|c| c.sent_at),
                format!("Kallelse till SIP inom {} {day_kind} efter att samordningen påbörjades.", rules.sip_call_days),
            );
        }
        push_sip_follow_up(case, &mut push);
        return out;
    }

    // LUS 4 kap 1 §: within 24 h of admission, or of the doctor's judgement if that came later.
    // A draft from the admission feed has no judgement yet, so no clock runs.
    if !case.awaiting_assessment {
        push(
            DeadlineKind::AdmissionNotice,
            Some(case.wards[0].ward.id),
            case.needs_assessed_at + (rules.admission_notice_hours as i64).hours(),
            false,
            case.admission_notice_at,
            format!(
                "Inskrivningsmeddelande inom {} timmar från inskrivning eller bedömning.",
                rules.admission_notice_hours
            ),
        );
    }

    let vardcentral = case
        .listed_unit
        .or_else(|| case.parties.iter().find(|p| p.unit.kind == UnitKind::Vardcentral).map(|p| p.unit.id));

    if let (Some(n), Some(notice)) = (rules.fast_vardkontakt_days, case.admission_notice_at) {
        push(
            DeadlineKind::FastVardkontakt,
            vardcentral,
            days_after(local_date(notice), n, DayKind::Calendar),
            false,
            case.fast_vardkontakt.as_ref().map(|f| f.appointed_at),
            format!("Fast vårdkontakt utses senast {n} kalenderdagar efter inskrivningsmeddelandet."),
        );
    }

    if case.sip_needed == Some(true) {
        let first_call = case.sip_calls.first().map(|c| c.sent_at);
        // A withdrawn and re-given ready notice restarts the clock: count from the latest notice
        // sent before the call (or the latest of all while no call has been made).
        let ready = case
            .ready_periods
            .iter()
            .rev()
            .find(|p| first_call.is_none_or(|c| p.from <= c))
            .or(case.ready_periods.first());
        if let Some(ready) = ready {
            push(
                DeadlineKind::SipCall,
                case.fast_vardkontakt.as_ref().map(|f| f.unit.id).or(vardcentral),
                days_after(local_date(ready.from), rules.sip_call_days, rules.sip_call_day_kind),
                false,
                first_call,
                format!(
                    "Kallelse till SIP inom {} {day_kind} efter meddelande om utskrivningsklar.",
                    rules.sip_call_days
                ),
            );
        }
    }

    // "No later than the day of discharge": before the end of that local day.
    let discharge_day =
        case.discharged_at.map(|t| (local_date(t), false)).or(case.estimated_discharge.map(|d| (d, true)));
    if let Some((day, estimated)) = discharge_day {
        push(
            DeadlineKind::DischargeInformation,
            Some(case.ward().id),
            end_of_day(day),
            estimated,
            case.discharge_information_at,
            if estimated {
                "Information vid utskrivning senast på utskrivningsdagen (beräknat datum).".into()
            } else {
                "Information vid utskrivning senast på utskrivningsdagen.".into()
            },
        );
    }

    push_sip_follow_up(case, &mut push);
    out
}

fn push_sip_follow_up(
    case: &Case,
    push: &mut impl FnMut(DeadlineKind, Option<UnitId>, Timestamp, bool, Option<Timestamp>, String),
) {
    if let (Some(date), Some(current)) = (case.sip.next_follow_up(), case.sip.current()) {
        push(
            DeadlineKind::SipFollowUp,
            Some(current.plan.coordinator.unit),
            end_of_day(date),
            false,
            None,
            "SIP följs upp på det datum planen anger.".into(),
        );
    }
}

/// The time left (or past) in plain Swedish: "om 3 timmar", "försenad 2 dygn".
pub fn countdown_sv(due: Timestamp, now: Timestamp) -> String {
    let secs = due.as_second() - now.as_second();
    let abs = secs.unsigned_abs();
    let amount = if abs < 3600 {
        let m = (abs / 60).max(1);
        format!("{m} {}", if m == 1 { "minut" } else { "minuter" })
    } else if abs < 48 * 3600 {
        let h = abs / 3600;
        format!("{h} {}", if h == 1 { "timme" } else { "timmar" })
    } else {
        format!("{} dygn", abs / 86400)
    };
    if secs > 0 { format!("om {amount}") } else { format!("försenad {amount}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn countdown_reads_naturally() {
        let now = Timestamp::from_second(1_800_000_000).unwrap();
        let at = |s: i64| Timestamp::from_second(1_800_000_000 + s).unwrap();
        assert_eq!(countdown_sv(at(30), now), "om 1 minut");
        assert_eq!(countdown_sv(at(45 * 60), now), "om 45 minuter");
        assert_eq!(countdown_sv(at(3 * 3600 + 59), now), "om 3 timmar");
        assert_eq!(countdown_sv(at(47 * 3600), now), "om 47 timmar");
        assert_eq!(countdown_sv(at(3 * 86400), now), "om 3 dygn");
        assert_eq!(countdown_sv(at(-3600), now), "försenad 1 timme");
        assert_eq!(countdown_sv(at(-5 * 86400), now), "försenad 5 dygn");
    }
}
