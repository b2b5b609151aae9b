//! The follow-up page: the indicators of an area and period with their definitions, trends
//! and a comparison drawn as charts, each with its figures in a table beside it.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use samverka_domain::followup::{Indicator, Measure};
use samverka_domain::org::{CareType, OrganisationKind};
use serde::Deserialize;

use crate::charts::{self, format_number};
use crate::page::{Frame, WebCaller, error_text, html};
use samverka_app::AppState;
use samverka_app::followup::{FollowUpQuery, FollowUpView};
use samverka_app::texts::Texts;

#[derive(Deserialize, Default)]
pub struct FollowUpForm {
    pub omrade: Option<String>,
    pub period: Option<String>,
    pub vard: Option<String>,
}

pub struct ScopeOption {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

pub struct ScopeGroup {
    pub label: String,
    pub options: Vec<ScopeOption>,
}

pub struct Figure {
    pub name: String,
    pub value: String,
    pub basis: String,
    pub definition: String,
}

pub struct Trend {
    pub id: String,
    pub title: String,
    pub svg: String,
    pub rows: Vec<(String, String)>,
}

pub struct ComparisonRow {
    pub label: String,
    pub href: String,
    pub values: Vec<String>,
}

pub struct Shown {
    pub scope_label: String,
    pub period_label: String,
    pub figures: Vec<Figure>,
    pub trends: Vec<Trend>,
    pub comparison_title: String,
    pub comparison_svg: String,
    pub comparison_headers: Vec<String>,
    pub comparison: Vec<ComparisonRow>,
}

#[derive(Template)]
#[template(path = "followup.html")]
pub struct FollowUpPage {
    pub frame: Frame,
    pub period: String,
    pub care: String,
    pub groups: Vec<ScopeGroup>,
    pub shown: Option<Shown>,
}

fn name(t: &Texts, i: &Indicator) -> String {
    if t.lang == "en" { i.name_en.to_string() } else { i.name_sv.to_string() }
}

/// A figure with its unit, or a dash when it cannot be computed.
fn value_text(t: &Texts, i: &Indicator) -> String {
    let Some(v) = i.value else { return "–".into() };
    let n = format_number(v);
    match i.measure {
        Measure::Count => n,
        Measure::Days => format!("{n} {}", t.get("followup.days")),
        Measure::Percent => format!("{n}\u{a0}%"),
        Measure::Hours => format!("{n} {}", t.get("followup.hours")),
        Measure::PerThousand => n,
    }
}

fn basis_text(t: &Texts, i: &Indicator) -> String {
    match i.denominator {
        Some(d) => t
            .get("followup.basis")
            .replace("{n}", &format_number(i.numerator as f64))
            .replace("{d}", &format_number(d as f64)),
        None => String::new(),
    }
}

/// The indicators drawn as trends, and the one the comparison shows.
const TRENDED: [&str; 4] = ["average_days_skr", "notices_in_time", "episodes", "ack_hours"];
const COMPARED: &str = "average_days_skr";
const COMPARISON_COLUMNS: [&str; 5] =
    ["episodes", "average_days_skr", "notices_in_time", "sip_called_in_time", "ack_hours"];

fn find<'a>(list: &'a [Indicator], key: &str) -> Option<&'a Indicator> {
    list.iter().find(|i| i.key == key)
}

fn shown(t: &Texts, v: FollowUpView) -> Shown {
    let figures = v
        .indicators
        .iter()
        .map(|i| Figure {
            name: name(t, i),
            value: value_text(t, i),
            basis: basis_text(t, i),
            definition: if t.lang == "en" { i.definition_en.to_string() } else { i.definition_sv.to_string() },
        })
        .collect();
    let trends = TRENDED
        .iter()
        .filter_map(|key| {
            let first = find(&v.indicators, key)?;
            let title = name(t, first);
            let points: Vec<(String, Option<f64>)> =
                v.trend.iter().map(|p| (p.label.clone(), find(&p.indicators, key).and_then(|i| i.value))).collect();
            let rows = v
                .trend
                .iter()
                .map(|p| (p.label.clone(), find(&p.indicators, key).map(|i| value_text(t, i)).unwrap_or_default()))
                .collect();
            let description = t
                .get("followup.trend_desc")
                .replace("{what}", &title)
                .replace("{area}", &v.scope_label)
                .replace("{n}", &v.trend.len().to_string());
            let unit = match first.measure {
                Measure::Percent => "%".to_string(),
                Measure::Days => t.get("followup.days").to_string(),
                Measure::Hours => t.get("followup.hours").to_string(),
                _ => String::new(),
            };
            let id = format!("trend-{key}");
            Some(Trend { svg: charts::trend(&id, &title, &description, &unit, &points), id, title, rows })
        })
        .collect();
    let bars: Vec<(String, f64)> = v
        .comparison
        .iter()
        .filter_map(|a| find(&a.indicators, COMPARED).and_then(|i| i.value).map(|x| (a.label.clone(), x)))
        .collect();
    let compared_name = find(&v.indicators, COMPARED).map(|i| name(t, i)).unwrap_or_default();
    let comparison_svg = if bars.is_empty() {
        String::new()
    } else {
        let description =
            t.get("followup.comparison_desc").replace("{what}", &compared_name).replace("{n}", &bars.len().to_string());
        charts::bars(
            "comparison",
            &format!("{} – {compared_name}", v.comparison_title),
            &description,
            t.get("followup.days"),
            &bars,
        )
    };
    let comparison_headers =
        COMPARISON_COLUMNS.iter().filter_map(|k| find(&v.indicators, k)).map(|i| name(t, i)).collect();
    let comparison = v
        .comparison
        .iter()
        .map(|a| ComparisonRow {
            label: a.label.clone(),
            href: format!(
                "/uppfoljning?{}",
                serde_urlencoded::to_string([("omrade", a.scope.as_str()), ("period", v.period.as_str())])
                    .unwrap_or_default()
            ),
            values: COMPARISON_COLUMNS
                .iter()
                .map(|k| find(&a.indicators, k).map(|i| value_text(t, i)).unwrap_or_default())
                .collect(),
        })
        .collect();
    Shown {
        scope_label: v.scope_label,
        period_label: v.period_label,
        figures,
        trends,
        comparison_title: v.comparison_title,
        comparison_svg,
        comparison_headers,
        comparison,
    }
}

/// The areas to choose from: Sweden, the regions, the municipalities and the hospitals.
async fn groups(st: &AppState, t: &Texts, current: &str) -> Vec<ScopeGroup> {
    let opt = |value: String, label: String| ScopeOption { selected: value == current, value, label };
    let mut sweden = vec![opt("sverige".into(), t.get("followup.sweden").to_string())];
    let mut regions = vec![];
    let mut kommuner = vec![];
    for (o, _) in st.store.organisations().await.unwrap_or_default().iter() {
        match (o.kind, &o.region_code, &o.kommunkod) {
            (OrganisationKind::Region, Some(code), _) => regions.push(opt(format!("region:{code}"), o.name.clone())),
            (OrganisationKind::Kommun, _, Some(k)) => kommuner.push(opt(format!("kommun:{k}"), o.name.clone())),
            _ => {}
        }
    }
    let mut hospitals: Vec<String> =
        st.store.ward_capacities().await.unwrap_or_default().into_iter().filter_map(|w| w.hospital).collect();
    hospitals.sort();
    hospitals.dedup();
    let hospitals: Vec<ScopeOption> = hospitals.into_iter().map(|h| opt(format!("sjukhus:{h}"), h)).collect();
    regions.sort_by(|a, b| a.label.cmp(&b.label));
    kommuner.sort_by(|a, b| a.label.cmp(&b.label));
    // A ward or vårdcentral reached from a comparison stays selectable.
    let known = |list: &[ScopeOption]| list.iter().any(|o| o.selected);
    if !current.is_empty() && ![&sweden, &regions, &kommuner, &hospitals].iter().any(|l| known(l)) {
        sweden.push(opt(current.to_string(), t.get("followup.chosen").to_string()));
    }
    vec![
        ScopeGroup { label: t.get("followup.country").into(), options: sweden },
        ScopeGroup { label: t.get("followup.regions").into(), options: regions },
        ScopeGroup { label: t.get("followup.municipalities").into(), options: kommuner },
        ScopeGroup { label: t.get("followup.hospitals").into(), options: hospitals },
    ]
    .into_iter()
    .filter(|g| !g.options.is_empty())
    .collect()
}

pub async fn page(State(st): State<AppState>, w: WebCaller, Query(f): Query<FollowUpForm>) -> Response {
    let WebCaller { caller, mut frame, .. } = w;
    let t = frame.t;
    frame.title = t.get("followup.title").to_string();
    let care_type = match f.vard.as_deref() {
        Some("somatic") => Some(CareType::Somatic),
        Some("psychiatric") => Some(CareType::Psychiatric),
        _ => None,
    };
    let scope = f.omrade.clone().unwrap_or_else(|| "sverige".into());
    let q = FollowUpQuery { scope: Some(scope.clone()), period: f.period.clone(), care_type };
    let result = samverka_app::followup::get(&st, &caller, q).await;
    let mut page = FollowUpPage {
        frame,
        period: f.period.clone().unwrap_or_default(),
        care: f.vard.clone().unwrap_or_default(),
        groups: groups(&st, t, &scope).await,
        shown: None,
    };
    match result {
        Ok(v) => {
            page.period = v.period.clone();
            page.shown = Some(shown(t, v));
            html(StatusCode::OK, &page)
        }
        Err(e) => {
            let status = e.status;
            page.frame.error = Some(error_text(t, &e));
            html(status, &page)
        }
    }
}
