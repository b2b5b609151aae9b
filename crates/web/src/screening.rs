//! Screening as the pages show it: frailty and the need for coordination, in the case, the SIP
//! and its print view (the form that records one is the case page's).

use samverka_app::AppState;
use samverka_app::texts::Texts;
use samverka_domain::agreement::Agreement;
use samverka_domain::case::Case;
use samverka_domain::screening::{CoordinationNeed, Screening, ScreeningRecord};

/// The nine levels for the form.
pub fn levels(t: &Texts, agreement: &Agreement) -> Vec<(u8, String)> {
    (1..=9).map(|l| (l, t.frailty_level(Some(agreement), l))).collect()
}

/// One screening as the page shows it.
pub struct ScreeningRow {
    /// "Skörhet nivå 6 av 9: …", or empty when frailty was not judged.
    pub frailty: String,
    /// "Samordningsbehov: ja (…)", or empty when not judged.
    pub coordination: String,
    pub note: String,
    /// Who recorded it and when: "Anna Andersson, mån 7 dec 2026 kl. 10.00".
    pub by: String,
}

/// "Samordningsbehov: ja" or "…: inget tydligt", as the domain's rule judges the facts.
fn verdict<'t>(t: &'t Texts, c: &CoordinationNeed) -> &'t str {
    t.get(if c.needed() { "screening.needed" } else { "screening.not_needed" })
}

fn coordination_line(t: &Texts, c: &CoordinationNeed) -> String {
    let facts: Vec<&str> = [
        (c.both_principals, "screening.fact.both_principals"),
        (c.many_providers, "screening.fact.many_providers"),
        (c.repeated_admissions, "screening.fact.repeated_admissions"),
        (c.cognitive_impairment, "screening.fact.cognitive_impairment"),
        (c.carer_strain, "screening.fact.carer_strain"),
    ]
    .into_iter()
    .filter(|(yes, _)| *yes)
    .map(|(_, key)| t.get(key))
    .collect();
    if facts.is_empty() { verdict(t, c).to_string() } else { format!("{} ({})", verdict(t, c), facts.join("; ")) }
}

fn row(t: &Texts, agreement: &Agreement, r: &ScreeningRecord) -> ScreeningRow {
    ScreeningRow {
        frailty: r
            .screening
            .frailty
            .map(|f| {
                t.fill(
                    "screening.frailty_line",
                    &[("level", &f.level().to_string()), ("text", &t.frailty_level(Some(agreement), f.level()))],
                )
            })
            .unwrap_or_default(),
        coordination: r.screening.coordination.as_ref().map(|c| coordination_line(t, c)).unwrap_or_default(),
        note: r.screening.note.clone(),
        by: format!("{}, {}", r.recorded.by.name, t.datetime(&r.recorded.at)),
    }
}

/// The case's screenings, newest first.
pub fn rows(t: &Texts, agreement: &Agreement, case: &Case) -> Vec<ScreeningRow> {
    case.screenings.iter().rev().map(|r| row(t, agreement, r)).collect()
}

/// The latest screening as lines for the SIP and its print view (empty when there is none).
pub fn latest_lines(t: &Texts, st: &AppState, agreement_id: &str, case: &Case) -> Vec<String> {
    let (Some(agreement), Some(latest)) = (st.store.agreements().get(agreement_id), case.screenings.last()) else {
        return vec![];
    };
    let r = row(t, &agreement, latest);
    [r.frailty, r.coordination, r.note, r.by].into_iter().filter(|l| !l.is_empty()).collect()
}

/// A screening in a few words, for the history and the SIP: "skörhet 6 av 9; samordningsbehov: ja".
pub fn summary(t: &Texts, s: &Screening) -> String {
    let mut parts = vec![];
    if let Some(f) = s.frailty {
        parts.push(t.fill("screening.frailty_short", &[("level", &f.level().to_string())]));
    }
    if let Some(c) = &s.coordination {
        parts.push(verdict(t, c).to_lowercase());
    }
    parts.join("; ")
}
