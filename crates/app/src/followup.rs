//! Follow-up indicators for managers, MAS, cluster leaders and the joint bodies: one area
//! (Sweden, a region, a municipality, a hospital, a ward or a vårdcentral) and one period, with
//! the trend over earlier periods and a comparison with neighbouring areas. The figures are
//! sums without patient data, read from the monthly sums the store keeps.

use std::collections::{BTreeMap, HashMap};

use samverka_domain::access::Permission;
use samverka_domain::calendar::local_date;
use samverka_domain::followup::{AckTotals, Context, Indicator, Period, Totals, indicators};
use samverka_domain::ids::Kommunkod;
use samverka_domain::org::{CareType, OrganisationKind, Unit, UnitKind};
use samverka_store::{KeyFilter, MonthTotals};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::AppState;
use crate::audit::{log_read, require};
use crate::auth::Caller;
use crate::error::{AppError, AppResult};

#[derive(Deserialize, IntoParams)]
pub struct FollowUpQuery {
    /// `sverige` (default), `region:<län>`, `kommun:<kommunkod>`, `sjukhus:<name>`,
    /// `avdelning:<unit id>` or `vardcentral:<unit id>`.
    pub scope: Option<String>,
    /// `2026-11`, `2026-Q4` or `2026`; by default the last whole month.
    pub period: Option<String>,
    /// Only one kind of care; both by default.
    pub care_type: Option<CareType>,
}

/// The area figures are for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    Sweden,
    Region(String),
    Kommun(Kommunkod),
    Hospital(String),
    Ward(Uuid),
    Vardcentral(Uuid),
}

impl Scope {
    pub fn parse(s: &str) -> Option<Scope> {
        let s = s.trim();
        if s.is_empty() || s == "sverige" {
            return Some(Scope::Sweden);
        }
        let (kind, value) = s.split_once(':')?;
        match kind {
            "region" if value.len() == 2 && value.bytes().all(|b| b.is_ascii_digit()) => {
                Some(Scope::Region(value.to_string()))
            }
            "kommun" => Kommunkod::parse(value).ok().map(Scope::Kommun),
            "sjukhus" if !value.trim().is_empty() && value.len() <= 200 => Some(Scope::Hospital(value.trim().into())),
            "avdelning" => Uuid::parse_str(value).ok().map(Scope::Ward),
            "vardcentral" => Uuid::parse_str(value).ok().map(Scope::Vardcentral),
            _ => None,
        }
    }

    pub fn code(&self) -> String {
        match self {
            Scope::Sweden => "sverige".into(),
            Scope::Region(l) => format!("region:{l}"),
            Scope::Kommun(k) => format!("kommun:{k}"),
            Scope::Hospital(h) => format!("sjukhus:{h}"),
            Scope::Ward(u) => format!("avdelning:{u}"),
            Scope::Vardcentral(u) => format!("vardcentral:{u}"),
        }
    }

    /// The dimension and keys of the store's monthly sums.
    fn keys(&self) -> (&'static str, KeyFilter) {
        match self {
            Scope::Sweden => ("kommun", KeyFilter::All),
            Scope::Region(l) => ("kommun", KeyFilter::Prefix(l.clone())),
            Scope::Kommun(k) => ("kommun", KeyFilter::Exact(k.as_str().into())),
            Scope::Hospital(h) => ("hospital", KeyFilter::Exact(h.clone())),
            Scope::Ward(u) => ("ward", KeyFilter::Exact(u.to_string())),
            Scope::Vardcentral(u) => ("vardcentral", KeyFilter::Exact(u.to_string())),
        }
    }
}

/// The indicators of one period.
#[derive(Serialize, ToSchema)]
pub struct PeriodFigures {
    pub period: String,
    pub label: String,
    pub indicators: Vec<Indicator>,
}

/// The indicators of one area in the comparison.
#[derive(Serialize, ToSchema)]
pub struct AreaFigures {
    pub scope: String,
    pub label: String,
    pub indicators: Vec<Indicator>,
}

#[derive(Serialize, ToSchema)]
pub struct FollowUpView {
    pub scope: String,
    pub scope_label: String,
    pub period: String,
    pub period_label: String,
    pub care_type: Option<CareType>,
    pub indicators: Vec<Indicator>,
    /// This period and the ones before it (12 months, 8 quarters or 5 years), oldest first.
    pub trend: Vec<PeriodFigures>,
    /// What the comparison shows, e.g. "Kommunerna i länet".
    pub comparison_title: String,
    pub comparison: Vec<AreaFigures>,
}

/// The reference data the figures need: names, wards' hospitals and beds, units' owners.
struct Reference {
    units: HashMap<Uuid, Unit>,
    /// Organisation id → (kind, län code, kommunkod).
    orgs: HashMap<Uuid, (OrganisationKind, Option<String>, Option<String>, String)>,
    hospital_of: HashMap<Uuid, String>,
    beds: HashMap<Uuid, i64>,
}

impl Reference {
    async fn load(st: &AppState) -> AppResult<Reference> {
        let units = st.store.units().await?.iter().map(|u| (u.id, u.clone())).collect();
        let orgs = st
            .store
            .organisations()
            .await?
            .iter()
            .map(|(o, _)| {
                (
                    o.id,
                    (
                        o.kind,
                        o.region_code.clone(),
                        o.kommunkod.as_ref().map(|k| k.as_str().to_string()),
                        o.name.clone(),
                    ),
                )
            })
            .collect();
        let mut hospital_of = HashMap::new();
        let mut beds = HashMap::new();
        for w in st.store.ward_capacities().await? {
            if let Some(h) = w.hospital {
                hospital_of.insert(w.unit_id, h);
            }
            if let Some(b) = w.beds {
                beds.insert(w.unit_id, b);
            }
        }
        Ok(Reference { units, orgs, hospital_of, beds })
    }

    fn region_label(&self, lan: &str) -> String {
        self.orgs
            .values()
            .find(|o| o.0 == OrganisationKind::Region && o.1.as_deref() == Some(lan))
            .map(|o| o.3.clone())
            .unwrap_or_else(|| format!("Län {lan}"))
    }

    fn kommun_label(&self, kommun: &str) -> String {
        self.orgs
            .values()
            .find(|o| o.0 == OrganisationKind::Kommun && o.2.as_deref() == Some(kommun))
            .map(|o| o.3.clone())
            .unwrap_or_else(|| format!("Kommun {kommun}"))
    }

    fn unit_label(&self, id: &Uuid) -> String {
        self.units.get(id).map(|u| u.name.clone()).unwrap_or_else(|| id.to_string())
    }

    fn label(&self, scope: &Scope) -> String {
        match scope {
            Scope::Sweden => "Hela Sverige".into(),
            Scope::Region(l) => self.region_label(l),
            Scope::Kommun(k) => self.kommun_label(k.as_str()),
            Scope::Hospital(h) => h.clone(),
            Scope::Ward(u) | Scope::Vardcentral(u) => self.unit_label(u),
        }
    }

    /// The län a unit's organisation lies in.
    fn lan_of_unit(&self, u: &Unit) -> Option<String> {
        let o = self.orgs.get(&u.organisation_id)?;
        o.1.clone().or_else(|| o.2.as_ref().map(|k| k[..2].to_string()))
    }

    /// Wards in an area, for beds.
    fn wards_in(&self, scope: &Scope, care: Option<CareType>) -> Option<Vec<Uuid>> {
        let wards = self.units.values().filter(|u| u.kind == UnitKind::Ward && care.is_none_or(|c| u.care_type == c));
        let ids: Vec<Uuid> = match scope {
            Scope::Sweden => wards.map(|u| u.id).collect(),
            Scope::Region(l) => wards.filter(|u| self.lan_of_unit(u).as_deref() == Some(l)).map(|u| u.id).collect(),
            Scope::Hospital(h) => wards.filter(|u| self.hospital_of.get(&u.id) == Some(h)).map(|u| u.id).collect(),
            Scope::Ward(id) => wards.filter(|u| u.id == *id).map(|u| u.id).collect(),
            // A municipality or a vårdcentral has no beds of its own.
            Scope::Kommun(_) | Scope::Vardcentral(_) => return None,
        };
        Some(ids)
    }

    /// Units whose acknowledgements count for an area: its organisations' units (and units
    /// receiving for its municipality); a ward or hospital is judged on what it sends.
    fn ack_units(&self, scope: &Scope) -> Option<Vec<Uuid>> {
        let pick = |f: &dyn Fn(&Unit) -> bool| Some(self.units.values().filter(|u| f(u)).map(|u| u.id).collect());
        match scope {
            Scope::Sweden => pick(&|u| u.kind != UnitKind::Ward),
            Scope::Region(l) => pick(&|u| u.kind != UnitKind::Ward && self.lan_of_unit(u).as_deref() == Some(l)),
            Scope::Kommun(k) => pick(&|u| {
                u.receives_for_kommun.as_ref() == Some(k)
                    || self.orgs.get(&u.organisation_id).and_then(|o| o.2.as_deref()) == Some(k.as_str())
            }),
            Scope::Vardcentral(id) => Some(vec![*id]),
            Scope::Hospital(_) | Scope::Ward(_) => None,
        }
    }
}

fn sum_rows<'a>(rows: impl Iterator<Item = &'a MonthTotals>) -> Totals {
    let mut t = Totals::default();
    for r in rows {
        t.add(&r.totals);
    }
    t
}

fn in_period(month: i32, p: Period) -> bool {
    let (a, b) = p.months();
    (a..=b).contains(&month)
}

/// The figures of an area and period, with trend and comparison.
pub async fn figures(st: &AppState, scope: &Scope, period: Period, care: Option<CareType>) -> AppResult<FollowUpView> {
    let reference = Reference::load(st).await?;
    let trail = period.trail(match period {
        Period::Month { .. } => 12,
        Period::Quarter { .. } => 8,
        Period::Year { .. } => 5,
    });
    let (from, _) = trail[0].months();
    let (_, to) = period.months();
    let (dim, keys) = scope.keys();
    let rows = st.store.followup_trend(dim, &keys, from, to, care).await?;
    // Sweden's acknowledgements are everyone's: summed in the database, not unit by unit.
    let acks = match (scope, reference.ack_units(scope)) {
        (Scope::Sweden, _) => st.store.ack_trend(None, from, to).await?,
        (_, Some(units)) => st.store.ack_trend(Some(&units), from, to).await?,
        (_, None) => vec![],
    };
    let year = match period {
        Period::Month { year, .. } | Period::Quarter { year, .. } | Period::Year { year } => year,
    };
    let population = st.store.population(year).await?;
    let residents = |scope: &Scope| -> Option<i64> {
        let sum = |f: &dyn Fn(&str) -> bool| {
            let n: i64 = population.iter().filter(|(k, _)| f(k)).map(|(_, n)| *n).sum();
            (n > 0).then_some(n)
        };
        match scope {
            Scope::Sweden => sum(&|_| true),
            Scope::Region(l) => sum(&|k| k.starts_with(l.as_str())),
            Scope::Kommun(k) => population.get(k.as_str()).copied(),
            _ => None,
        }
    };
    let bed_days = |scope: &Scope, p: Period| -> Option<i64> {
        let wards = reference.wards_in(scope, care)?;
        let beds: i64 = wards.iter().filter_map(|w| reference.beds.get(w)).sum();
        (beds > 0).then(|| beds * p.days())
    };
    let figures_of = |scope: &Scope, p: Period, rows: &[&MonthTotals]| -> Vec<Indicator> {
        let totals = sum_rows(rows.iter().copied());
        let mut a = AckTotals::default();
        for x in acks.iter().filter(|x| in_period(x.month, p)) {
            a.add(&x.totals);
        }
        let ctx = Context { residents_65_plus: residents(scope), available_bed_days: bed_days(scope, p) };
        indicators(&totals, &a, &ctx)
    };

    let trend = trail
        .iter()
        .map(|p| {
            let here: Vec<&MonthTotals> = rows.iter().filter(|r| in_period(r.month, *p)).collect();
            PeriodFigures { period: p.code(), label: p.label_sv(), indicators: figures_of(scope, *p, &here) }
        })
        .collect::<Vec<_>>();
    let current = trend.last().map(|t| t.indicators.clone()).unwrap_or_default();

    // The comparison: the areas within this one, or its peers.
    let (from_p, to_p) = period.months();
    let (title, dim, keys) = match scope {
        Scope::Sweden => ("Regionerna (länen)", "kommun", KeyFilter::All),
        Scope::Region(l) => ("Kommunerna i länet", "kommun", KeyFilter::Prefix(l.clone())),
        Scope::Kommun(k) => ("Kommunerna i samma län", "kommun", KeyFilter::Prefix(k.lan().to_string())),
        Scope::Hospital(_) | Scope::Ward(_) => ("Avdelningarna på sjukhuset", "ward", KeyFilter::All),
        Scope::Vardcentral(_) => ("Vårdcentralerna i samma organisation", "vardcentral", KeyFilter::All),
    };
    let all_acks = st.store.ack_months(None, from_p, to_p).await?;
    let mut comparison = vec![];
    {
        let rows = st.store.followup_months(dim, &keys, from_p, to_p, care).await?;
        let mut groups: BTreeMap<String, Vec<&MonthTotals>> = BTreeMap::new();
        for r in &rows {
            let group = match scope {
                Scope::Sweden => r.key.get(..2).unwrap_or("").to_string(),
                _ => r.key.clone(),
            };
            groups.entry(group).or_default().push(r);
        }
        let hospital = match scope {
            Scope::Hospital(h) => Some(h.clone()),
            Scope::Ward(w) => reference.hospital_of.get(w).cloned(),
            _ => None,
        };
        let organisation = match scope {
            Scope::Vardcentral(u) => reference.units.get(u).map(|u| u.organisation_id),
            _ => None,
        };
        for (key, rows) in groups {
            let child = match (scope, dim) {
                (Scope::Sweden, _) => Scope::Region(key.clone()),
                (_, "kommun") => match Kommunkod::parse(&key) {
                    Ok(k) => Scope::Kommun(k),
                    Err(_) => continue,
                },
                (_, "ward") => {
                    let Ok(id) = Uuid::parse_str(&key) else { continue };
                    if hospital.is_none() || reference.hospital_of.get(&id) != hospital.as_ref() {
                        continue;
                    }
                    Scope::Ward(id)
                }
                _ => {
                    let Ok(id) = Uuid::parse_str(&key) else { continue };
                    if reference.units.get(&id).map(|u| u.organisation_id) != organisation {
                        continue;
                    }
                    Scope::Vardcentral(id)
                }
            };
            // Acknowledgements of the child's own units (none for wards: they send the notices).
            let mut a = AckTotals::default();
            if let Some(units) = reference.ack_units(&child) {
                let units: std::collections::HashSet<Uuid> = units.into_iter().collect();
                for x in all_acks.iter().filter(|x| units.contains(&x.unit_id)) {
                    a.add(&x.totals);
                }
            }
            let ctx = Context { residents_65_plus: residents(&child), available_bed_days: bed_days(&child, period) };
            let figures = indicators(&sum_rows(rows.iter().copied()), &a, &ctx);
            comparison.push(AreaFigures { scope: child.code(), label: reference.label(&child), indicators: figures });
        }
    }
    comparison.sort_by(|a, b| a.label.cmp(&b.label));

    Ok(FollowUpView {
        scope: scope.code(),
        scope_label: reference.label(scope),
        period: period.code(),
        period_label: period.label_sv(),
        care_type: care,
        indicators: current,
        trend,
        comparison_title: title.into(),
        comparison,
    })
}

/// Reads scope and period from a query, refusing what cannot be read with a message that
/// says what to write.
pub fn read_query(st: &AppState, q: &FollowUpQuery) -> AppResult<(Scope, Period)> {
    let scope = Scope::parse(q.scope.as_deref().unwrap_or("")).ok_or_else(|| {
        AppError::invalid(
            "scope",
            "invalid_scope",
            "Ange området som sverige, region:01, kommun:0184, sjukhus:<namn>, avdelning:<id> eller vardcentral:<id>.",
            "Unknown scope.",
        )
    })?;
    let period = match q.period.as_deref().filter(|p| !p.trim().is_empty()) {
        Some(p) => Period::parse(p).ok_or_else(|| {
            AppError::invalid(
                "period",
                "invalid_period",
                "Ange perioden som månad (2026-11), kvartal (2026-Q4) eller år (2026).",
                "Write the period as 2026-11, 2026-Q4 or 2026.",
            )
        })?,
        None => {
            let today = local_date(st.clock.now());
            Period::Month { year: today.year(), month: today.month() }.previous()
        }
    };
    Ok((scope, period))
}

/// Follow-up indicators for an area and period, with definitions, trend and comparison.
pub async fn get(st: &AppState, caller: &Caller, q: FollowUpQuery) -> AppResult<FollowUpView> {
    let action = "followup.read";
    require(st, caller, Permission::ReadFollowUp, action, None, None).await?;
    let (scope, period) = read_query(st, &q)?;
    let view = figures(st, &scope, period, q.care_type).await?;
    log_read(st, caller, action, None, None, None, false).await?;
    Ok(view)
}
