//! FHIR search as Samverka answers it, rule by rule against the specification's search page
//! (R4, <https://hl7.org/fhir/R4/search.html>). [`RESOURCES`] says which parameters and
//! modifiers each resource type searches; [`Search::parse`] refuses everything else, and the
//! CapabilityStatement (`capability.rs`) is generated from the same table, so the two cannot
//! disagree.
//!
//! | Rule of the specification                                         | Here |
//! |-------------------------------------------------------------------|------|
//! | An unknown or unsupported parameter or modifier is an error (400, OperationOutcome), unless the client sent `Prefer: handling=lenient` | [`Search::parse`]; lenient: ignored, left out of the `self` link and reported in an OperationOutcome entry (`search.mode = outcome`) |
//! | A repeated parameter is AND, a comma in a value OR                 | [`Search::occurrences`] gives one list of alternatives per occurrence |
//! | token: `code`, `system\|code`, `\|code`, `system\|`; `:not` negates  | [`Token`]; `status:not` |
//! | reference: `Type/id`, `id`, or the absolute URL                    | [`Search::reference`] |
//! | string: starts with, case-insensitive; `:contains`, `:exact`       | [`Search::string_matches`] (å, ä, ö are letters of their own, as in Swedish) |
//! | date: the value's precision defines a range; prefixes `eq ne gt lt ge le sa eb ap` | [`DateParam`]; a date alone is that day in Swedish time; `ap` is ±10 % of the distance to now |
//! | A date-time given to the hour or minute must have a zone           | refused with the reason (a `+` sent unencoded arrives as a space and is read as `+`) |
//! | `_count`: the server may cap it; `0` asks for the total alone      | capped at [`MAX_COUNT`]; `_count=0` has no `next` link and no entries |
//! | Links and `fullUrl` are absolute                                   | from the public base URL ([`crate::http::FhirBase`]) |
//! | A page without matches has no `entry`                              | [`Search::bundle`] |
//!
//! Parameters with a JSON `path` are matched here on the resources a handler built; the others
//! (`patient`, `identifier`, `owner`, `practitioner`) choose what the handler reads, so that
//! nothing outside the search is read or logged.

use axum::http::StatusCode;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::http::{FhirBase, FhirError};
use crate::resources::{ORGANIZATION_PROFILE, PATIENT_PROFILE, PRACTITIONER_PROFILE, PRACTITIONER_ROLE_PROFILE};

pub const DEFAULT_COUNT: usize = 50;
/// The largest page; a larger `_count` is capped to it.
pub const MAX_COUNT: usize = 200;

/// FHIR search parameter types Samverka uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Token,
    Reference,
    Date,
    String,
    Number,
}

impl Kind {
    pub fn code(self) -> &'static str {
        match self {
            Kind::Token => "token",
            Kind::Reference => "reference",
            Kind::Date => "date",
            Kind::String => "string",
            Kind::Number => "number",
        }
    }
}

/// One search parameter of a resource type.
#[derive(Debug)]
pub struct Param {
    pub name: &'static str,
    pub kind: Kind,
    /// The modifiers answered; any other is refused.
    pub modifiers: &'static [&'static str],
    /// Where the value is in the resource (a JSON pointer), when matched here on the built
    /// resources; none when the handler chooses what to read by it.
    pub path: Option<&'static str>,
    /// A search without it is refused.
    pub required: bool,
    pub doc: &'static str,
}

/// A resource type: its interactions and search parameters.
#[derive(Debug)]
pub struct Resource {
    pub ty: &'static str,
    pub interactions: &'static [&'static str],
    pub params: &'static [Param],
    /// The HL7 Sweden base profile its resources claim and meet.
    pub profile: Option<&'static str>,
    pub doc: Option<&'static str>,
}

const fn param(name: &'static str, kind: Kind, path: Option<&'static str>, doc: &'static str) -> Param {
    Param { name, kind, modifiers: &[], path, required: false, doc }
}

const ID: Param = param("_id", Kind::Token, Some("/id"), "The resource's id.");
const LAST_UPDATED: Param = param(
    "_lastUpdated",
    Kind::Date,
    Some("/meta/lastUpdated"),
    "When the resource last changed (a case's resources change together with the case).",
);
const LAST_UPDATED_DIRECTORY: Param = param(
    "_lastUpdated",
    Kind::Date,
    Some("/meta/lastUpdated"),
    "When what the directory shows of it last changed (or it was created).",
);
const PATIENT: Param = param("patient", Kind::Reference, None, "Patient/<id>: the cases of one patient.");
const SUBJECT: Param = param("subject", Kind::Reference, None, "The same as patient.");
const STATUS: Param = Param {
    modifiers: &["not"],
    ..param("status", Kind::Token, Some("/status"), "A comma is OR, a repeated parameter AND; :not negates.")
};

/// Paging, on every search.
pub const COMMON: &[Param] = &[
    param("_count", Kind::Number, None, "Page size, 0 for the total alone; above 200 is taken as 200."),
    param("_offset", Kind::Number, None, "Where the page starts (the Bundle's links carry it)."),
];

/// Every resource type Samverka serves, with what its search answers.
pub const RESOURCES: &[Resource] = &[
    Resource {
        ty: "Patient",
        interactions: &["search-type", "read"],
        params: &[
            ID,
            param(
                "identifier",
                Kind::Token,
                None,
                "Personnummer, samordningsnummer or reservnummer: system|value or the value alone.",
            ),
            LAST_UPDATED,
        ],
        profile: Some(PATIENT_PROFILE),
        doc: Some("Only the patients whose care the client's unit takes part in; others are never hinted at."),
    },
    Resource {
        ty: "Organization",
        interactions: &["search-type", "read"],
        params: &[
            ID,
            param("identifier", Kind::Token, None, "HSA-id: urn:oid:1.2.752.29.4.19|<hsa-id> or the value alone."),
            Param {
                modifiers: &["contains", "exact"],
                ..param("name", Kind::String, Some("/name"), "The name starts with it (any case).")
            },
            LAST_UPDATED_DIRECTORY,
        ],
        profile: Some(ORGANIZATION_PROFILE),
        doc: Some("Organisations (regions, kommuner, private providers) and their units."),
    },
    Resource {
        ty: "EpisodeOfCare",
        interactions: &["search-type", "read"],
        params: &[ID, PATIENT, STATUS, LAST_UPDATED],
        profile: None,
        doc: Some("A LUS case, with what the client may do to it now (extension available-action)."),
    },
    Resource {
        ty: "Encounter",
        interactions: &["search-type", "read"],
        params: &[ID, PATIENT, SUBJECT, STATUS, LAST_UPDATED],
        profile: None,
        doc: Some("The hospital stay of a case."),
    },
    Resource {
        ty: "Communication",
        interactions: &["search-type", "read", "create"],
        params: &[PATIENT, SUBJECT, LAST_UPDATED],
        profile: None,
        doc: Some(
            "create: a typed message carries its content as payload.contentAttachment (application/json, the \
             JSON API's message body); a free message (category allmant) its text in contentString. inResponseTo \
             corrects an earlier message. An identifier urn:uuid:<id> makes a retry safe.",
        ),
    },
    Resource {
        ty: "Task",
        interactions: &["search-type", "read"],
        params: &[
            PATIENT,
            param("owner", Kind::Reference, None, "Organization/<id>: the unit that must act."),
            STATUS,
            LAST_UPDATED,
        ],
        profile: None,
        doc: Some("The deadlines of a case's steps."),
    },
    Resource {
        ty: "CarePlan",
        interactions: &["search-type", "read"],
        params: &[ID, PATIENT, SUBJECT, LAST_UPDATED],
        profile: None,
        doc: Some("The current version of a case's SIP (versionId is the SIP's version)."),
    },
    Resource {
        ty: "Observation",
        interactions: &["search-type", "read"],
        params: &[PATIENT, SUBJECT, LAST_UPDATED],
        profile: None,
        doc: Some(
            "The screenings recorded in a case: frailty (level 1–9) and the need for coordination, as components \
             coded in urn:samverka:CodeSystem:screening. The id is the case's, then -screening-<n>.",
        ),
    },
    Resource {
        ty: "Consent",
        interactions: &["search-type", "read", "create", "update"],
        params: &[PATIENT, LAST_UPDATED],
        profile: None,
        doc: Some(
            "The case is named by the extension urn:samverka:StructureDefinition:episode-of-care. update takes \
             only the withdrawal (status inactive); a consent is never edited otherwise.",
        ),
    },
    Resource {
        ty: "Practitioner",
        interactions: &["read"],
        params: &[],
        profile: Some(PRACTITIONER_PROFILE),
        doc: Some("A user: name and HSA-id."),
    },
    Resource {
        ty: "PractitionerRole",
        interactions: &["search-type", "read"],
        params: &[
            Param {
                required: true,
                ..param("practitioner", Kind::Reference, None, "Practitioner/<id>, required: a user's assignments.")
            },
            ID,
            LAST_UPDATED_DIRECTORY,
        ],
        profile: Some(PRACTITIONER_ROLE_PROFILE),
        doc: Some("An assignment (medarbetaruppdrag): who, at which unit, in which role."),
    },
    Resource {
        ty: "Device",
        interactions: &["read"],
        params: &[],
        profile: None,
        doc: Some("A system that acts in Samverka on its own: the HL7 feed, the escalation of overdue steps."),
    },
    Resource {
        ty: "AuditEvent",
        interactions: &["search-type"],
        params: &[
            Param {
                required: true,
                ..param("patient", Kind::Reference, None, "Patient/<id>, required: that patient's log extract.")
            },
            param("date", Kind::Date, Some("/recorded"), "When the access happened."),
            LAST_UPDATED,
        ],
        profile: None,
        doc: Some("The access log for log review (MAS, enhetschef), within the client's organisation."),
    },
    Resource {
        ty: "Subscription",
        interactions: &["create", "read", "delete"],
        params: &[],
        profile: None,
        doc: Some("rest-hook notifications of a unit's new messages."),
    },
];

/// The table's row for a resource type.
pub fn resource(ty: &str) -> &'static Resource {
    RESOURCES.iter().find(|r| r.ty == ty).expect("every served type is in the table")
}

/// What a search request brings: the query string, the base URL, and whether the client asked
/// for lenient handling.
pub struct SearchRequest {
    pub query: String,
    pub lenient: bool,
    pub base: FhirBase,
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for SearchRequest
where
    FhirBase: axum::extract::FromRequestParts<S, Rejection = FhirError>,
{
    type Rejection = FhirError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, st: &S) -> Result<Self, FhirError> {
        // `Prefer: handling=lenient` (RFC 7240; FHIR: strict is the default).
        let lenient = parts
            .headers
            .get_all("prefer")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| v.split([',', ';']).any(|p| p.trim().eq_ignore_ascii_case("handling=lenient")));
        let base = FhirBase::from_request_parts(parts, st).await?;
        Ok(SearchRequest { query: parts.uri.query().unwrap_or("").to_string(), lenient, base })
    }
}

/// One accepted occurrence of a parameter.
#[derive(Debug, Clone)]
struct Used {
    name: String,
    modifier: Option<String>,
    value: String,
}

/// A parsed search: the parameters the table accepts, checked, and the page asked for.
pub struct Search {
    resource: &'static Resource,
    used: Vec<Used>,
    /// Dates, parsed once: per parameter name, one list of alternatives per occurrence.
    dates: Vec<(String, Vec<DateParam>)>,
    /// What was ignored under lenient handling (Swedish, English), for the outcome entry.
    ignored: Vec<(String, String)>,
    pub count: usize,
    pub offset: usize,
    base: FhirBase,
}

impl Search {
    /// Reads a query string for a resource type, by the table.
    pub fn parse(ty: &str, req: &SearchRequest, now: Timestamp) -> Result<Search, FhirError> {
        let resource = resource(ty);
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(&req.query)
            .map_err(|_| FhirError::invalid("Sökfrågan kan inte läsas.", "The query string cannot be read."))?;
        let mut used = vec![];
        let mut ignored = vec![];
        let known = |name: &str| resource.params.iter().chain(COMMON).find(|p| p.name == name);
        for (key, value) in pairs {
            let (name, modifier) = match key.split_once(':') {
                Some((n, m)) => (n, Some(m)),
                None => (key.as_str(), None),
            };
            // `_format` is answered by content negotiation (json only), before any handler.
            if name == "_format" && modifier.is_none() {
                continue;
            }
            let refusal = match (known(name), modifier) {
                (None, _) => Some((
                    format!(
                        "Sökparametern \"{key}\" stöds inte för {ty}. Möjliga: {}.",
                        resource.params.iter().chain(COMMON).map(|p| p.name).collect::<Vec<_>>().join(", ")
                    ),
                    format!("The search parameter \"{key}\" is not supported for {ty}."),
                )),
                (Some(p), Some(m)) if !p.modifiers.contains(&m) => Some((
                    format!("Modifieraren \":{m}\" i \"{key}\" stöds inte.{}", modifiers_sv(p)),
                    format!("The modifier \":{m}\" in \"{key}\" is not supported."),
                )),
                _ => None,
            };
            match refusal {
                Some(reason) if req.lenient => ignored.push(reason),
                Some((sv, en)) => return Err(FhirError::invalid(sv, en)),
                None => used.push(Used { name: name.to_string(), modifier: modifier.map(str::to_string), value }),
            }
        }
        if let Some(p) = resource.params.iter().find(|p| p.required && !used.iter().any(|u| u.name == p.name)) {
            return Err(FhirError::invalid(
                format!("Sökparametern {} krävs här: {}", p.name, p.doc),
                format!("The search parameter {} is required: {}", p.name, p.doc),
            ));
        }
        let mut dates = vec![];
        for u in used.iter().filter(|u| known(&u.name).is_some_and(|p| p.kind == Kind::Date)) {
            let alternatives = u
                .value
                .split(',')
                .map(|v| DateParam::parse(v, now))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|(sv, en)| FhirError::invalid(format!("{}: {sv}", u.name), format!("{}: {en}", u.name)))?;
            dates.push((u.name.clone(), alternatives));
        }
        let number = |name: &str, default: usize| -> Result<usize, FhirError> {
            match used.iter().find(|u| u.name == name) {
                None => Ok(default),
                Some(u) => u.value.parse::<usize>().map_err(|_| {
                    FhirError::invalid(
                        format!("{name} ska vara ett heltal, 0 eller större: \"{}\".", u.value),
                        format!("{name} must be a whole number, 0 or more."),
                    )
                }),
            }
        };
        let count = number("_count", DEFAULT_COUNT)?.min(MAX_COUNT);
        let offset = number("_offset", 0)?;
        Ok(Search { resource, used, dates, ignored, count, offset, base: req.base.clone() })
    }

    /// Each occurrence of a parameter: its modifier and its comma-separated alternatives.
    pub fn occurrences<'a>(&'a self, name: &'a str) -> impl Iterator<Item = (Option<&'a str>, Vec<&'a str>)> + 'a {
        self.used.iter().filter(move |u| u.name == name).map(|u| (u.modifier.as_deref(), u.value.split(',').collect()))
    }

    /// The ids a reference parameter names (`Type/id`, `id` or the absolute URL): one list of
    /// alternatives per occurrence.
    pub fn reference(&self, name: &str, ty: &str) -> Result<Vec<Vec<Uuid>>, FhirError> {
        let absolute = format!("{}/{ty}/", self.base.0);
        self.occurrences(name)
            .map(|(_, values)| {
                values
                    .into_iter()
                    .map(|v| {
                        let id = v.strip_prefix(&absolute).or_else(|| v.strip_prefix(&format!("{ty}/"))).unwrap_or(v);
                        Uuid::parse_str(id).map_err(|_| {
                            FhirError::invalid(
                                format!("\"{v}\" är ingen {ty}-referens. Skriv {ty}/<id>."),
                                format!("\"{v}\" is not a {ty} reference."),
                            )
                        })
                    })
                    .collect()
            })
            .collect()
    }

    /// The ids a reference parameter allows: none when it is not given, else those named in
    /// every occurrence (AND) by any of its alternatives (OR).
    pub fn reference_set(&self, name: &str, ty: &str) -> Result<Option<Vec<Uuid>>, FhirError> {
        let mut occurrences = self.reference(name, ty)?.into_iter();
        let Some(mut set) = occurrences.next() else { return Ok(None) };
        for other in occurrences {
            set.retain(|id| other.contains(id));
        }
        set.dedup();
        Ok(Some(set))
    }

    /// Whether an instant meets every occurrence of a date parameter.
    pub fn date_matches(&self, name: &str, at: Timestamp) -> bool {
        let at = crate::resources::to_second(at);
        self.dates.iter().filter(|(n, _)| n == name).all(|(_, alternatives)| alternatives.iter().any(|d| d.matches(at)))
    }

    /// Whether `_id` (when given) names this id.
    pub fn id_matches(&self, id: Uuid) -> bool {
        let id = id.to_string();
        self.occurrences("_id").all(|(_, values)| values.contains(&id.as_str()))
    }

    fn string_matches(modifier: Option<&str>, have: &str, wanted: &str) -> bool {
        let (have_l, wanted_l) = (have.to_lowercase(), wanted.to_lowercase());
        match modifier {
            Some("exact") => have == wanted,
            Some("contains") => have_l.contains(&wanted_l),
            _ => have_l.starts_with(&wanted_l),
        }
    }

    /// Whether a built resource meets every parameter matched by its JSON path.
    fn keeps(&self, r: &Value) -> bool {
        self.resource.params.iter().filter_map(|p| p.path.map(|path| (p, path))).all(|(p, path)| {
            let have = r.pointer(path).and_then(Value::as_str);
            match p.kind {
                Kind::Date => {
                    self.dates.iter().all(|(n, _)| n != p.name) || {
                        have.and_then(|h| h.parse::<Timestamp>().ok()).is_some_and(|t| self.date_matches(p.name, t))
                    }
                }
                Kind::String => self
                    .occurrences(p.name)
                    .all(|(m, values)| have.is_some_and(|h| values.iter().any(|v| Search::string_matches(m, h, v)))),
                _ => self.occurrences(p.name).all(|(m, values)| {
                    let hit = have.is_some_and(|h| values.contains(&h));
                    if m == Some("not") { !hit } else { hit }
                }),
            }
        })
    }

    /// A searchset Bundle of one page of the resources that match, with absolute links that
    /// keep the parameters used.
    pub fn bundle(&self, all: Vec<Value>) -> Value {
        let all: Vec<Value> = all.into_iter().filter(|r| self.keeps(r)).collect();
        let total = all.len();
        let page: Vec<Value> = all.into_iter().skip(self.offset).take(self.count).collect();
        let base = &self.base.0;
        let ty = self.resource.ty;
        let link_for = |offset: usize| {
            let mut q: Vec<(String, String)> = self
                .used
                .iter()
                .filter(|u| u.name != "_offset" && u.name != "_count")
                .map(|u| match &u.modifier {
                    Some(m) => (format!("{}:{m}", u.name), u.value.clone()),
                    None => (u.name.clone(), u.value.clone()),
                })
                .collect();
            q.push(("_count".into(), self.count.to_string()));
            q.push(("_offset".into(), offset.to_string()));
            format!("{base}/{ty}?{}", serde_urlencoded::to_string(&q).unwrap_or_default())
        };
        let mut links = vec![json!({ "relation": "self", "url": link_for(self.offset) })];
        // `_count=0` asks for the total alone: there are no pages to go to.
        if self.count > 0 && self.offset + self.count < total {
            links.push(json!({ "relation": "next", "url": link_for(self.offset + self.count) }));
        }
        if self.count > 0 && self.offset > 0 {
            links.push(json!({ "relation": "previous", "url": link_for(self.offset.saturating_sub(self.count)) }));
        }
        let mut entries: Vec<Value> = page
            .into_iter()
            .map(|r| {
                let full =
                    format!("{base}/{}/{}", r["resourceType"].as_str().unwrap_or(""), r["id"].as_str().unwrap_or(""));
                json!({ "fullUrl": full, "resource": r, "search": { "mode": "match" } })
            })
            .collect();
        if !self.ignored.is_empty() {
            let issues: Vec<Value> = self
                .ignored
                .iter()
                .map(|(sv, en)| {
                    json!({
                        "severity": "warning",
                        "code": "not-supported",
                        "details": { "text": format!("{sv} Den togs inte med i sökningen (Prefer: handling=lenient).") },
                        "diagnostics": format!("{en} It was ignored (Prefer: handling=lenient)."),
                    })
                })
                .collect();
            entries.push(json!({
                "resource": { "resourceType": "OperationOutcome", "issue": issues },
                "search": { "mode": "outcome" },
            }));
        }
        let mut bundle = json!({ "resourceType": "Bundle", "type": "searchset", "total": total, "link": links });
        // FHIR's JSON has no empty arrays.
        if !entries.is_empty() {
            bundle["entry"] = json!(entries);
        }
        bundle
    }
}

fn modifiers_sv(p: &Param) -> String {
    if p.modifiers.is_empty() {
        format!(" {} tar ingen modifierare.", p.name)
    } else {
        format!(
            " Möjliga för {}: {}.",
            p.name,
            p.modifiers.iter().map(|m| format!(":{m}")).collect::<Vec<_>>().join(", ")
        )
    }
}

/// A date search value: its prefix and the range its precision covers, `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateParam {
    pub prefix: Prefix,
    pub start: Timestamp,
    pub end: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prefix {
    Eq,
    Ne,
    Gt,
    Lt,
    Ge,
    Le,
    Sa,
    Eb,
    Ap,
}

impl DateParam {
    /// Reads `[prefix]value`, where the value is `YYYY`, `YYYY-MM`, `YYYY-MM-DD` (a period of
    /// Swedish local time) or a date-time with a zone, to the minute, second or fraction.
    pub fn parse(raw: &str, now: Timestamp) -> Result<DateParam, (String, String)> {
        let bad = |why_sv: &str, why_en: &str| {
            (
                format!(
                    "\"{raw}\" {why_sv} Skriv t.ex. 2026-12, 2026-12-06, ge2026-12-06 eller 2026-12-06T08:00:00+01:00."
                ),
                format!("\"{raw}\" {why_en}"),
            )
        };
        let prefixes = [
            ("eq", Prefix::Eq),
            ("ne", Prefix::Ne),
            ("gt", Prefix::Gt),
            ("lt", Prefix::Lt),
            ("ge", Prefix::Ge),
            ("le", Prefix::Le),
            ("sa", Prefix::Sa),
            ("eb", Prefix::Eb),
            ("ap", Prefix::Ap),
        ];
        let (prefix, value) = match prefixes.iter().find(|(p, _)| raw.starts_with(p)) {
            Some((p, prefix)) => (*prefix, &raw[p.len()..]),
            None => (Prefix::Eq, raw),
        };
        // An unencoded `+` in a zone arrives as a space.
        let value = value.replace(' ', "+");
        let day = |y: i16, m: i8, d: i8| jiff::civil::Date::new(y, m, d).ok();
        let (start, end) = if let Some((date, time)) = value.split_once('T') {
            let has_zone = time.ends_with('Z') || time.contains('+') || time.contains('-');
            if !has_zone {
                return Err(bad(
                    "har en tid men ingen tidszon (Z eller +01:00).",
                    "has a time but no zone (Z or +01:00); FHIR requires one.",
                ));
            }
            let clock = time.split(['Z', '+', '-']).next().unwrap_or("");
            let step = match clock.split_once('.') {
                Some((_, fraction)) if fraction.chars().all(|c| c.is_ascii_digit()) && !fraction.is_empty() => {
                    SignedDuration::from_nanos(10i64.pow(9u32.saturating_sub(fraction.len().min(9) as u32)))
                }
                Some(_) => return Err(bad("är ingen tidpunkt.", "is not a date-time.")),
                None if clock.len() == 5 => SignedDuration::from_mins(1),
                None => SignedDuration::from_secs(1),
            };
            let full =
                if clock.len() == 5 { format!("{date}T{clock}:00{}", &time[5..]) } else { format!("{date}T{time}") };
            let t: Timestamp = full.parse().map_err(|_| bad("är ingen tidpunkt.", "is not a date-time."))?;
            (t, t + step)
        } else {
            let parts: Vec<&str> = value.split('-').collect();
            let num = |s: &str, len: usize| {
                (s.len() == len && s.chars().all(|c| c.is_ascii_digit())).then(|| s.parse::<i16>().ok()).flatten()
            };
            let (from, to) = match parts.as_slice() {
                [y] => {
                    let y = num(y, 4).ok_or_else(|| bad("är inget datum.", "is not a date."))?;
                    (day(y, 1, 1), day(y + 1, 1, 1))
                }
                [y, m] => {
                    let (y, m) = num(y, 4).zip(num(m, 2)).ok_or_else(|| bad("är inget datum.", "is not a date."))?;
                    let first = day(y, m as i8, 1);
                    (first, first.and_then(|d| d.checked_add(jiff::Span::new().months(1)).ok()))
                }
                [_, _, _] => {
                    let d: jiff::civil::Date = value.parse().map_err(|_| bad("är inget datum.", "is not a date."))?;
                    (Some(d), d.tomorrow().ok())
                }
                _ => return Err(bad("är inget datum.", "is not a date.")),
            };
            let (from, to) = from.zip(to).ok_or_else(|| bad("är inget datum.", "is not a date."))?;
            (samverka_domain::calendar::start_of_day(from), samverka_domain::calendar::start_of_day(to))
        };
        let (start, end) = if prefix == Prefix::Ap {
            // About: 10 % of the distance between now and the value, each way.
            let gap = SignedDuration::from_secs((now.as_second() - start.as_second()).abs() / 10);
            (start - gap, end + gap)
        } else {
            (start, end)
        };
        Ok(DateParam { prefix, start, end })
    }

    /// Whether an instant (a resource's time, a range of no width) meets this value.
    pub fn matches(&self, t: Timestamp) -> bool {
        let within = self.start <= t && t < self.end;
        match self.prefix {
            Prefix::Eq | Prefix::Ap => within,
            Prefix::Ne => !within,
            Prefix::Gt | Prefix::Sa => t >= self.end,
            Prefix::Lt | Prefix::Eb => t < self.start,
            Prefix::Ge => t >= self.start,
            Prefix::Le => t < self.end,
        }
    }
}

/// A token value: `code`, `system|code`, `|code` (no system) or `system|` (any code).
#[derive(Debug, PartialEq, Eq)]
pub struct Token<'a> {
    /// None: any system; `Some("")`: no system.
    pub system: Option<&'a str>,
    /// Empty: any code in the system.
    pub code: &'a str,
}

impl<'a> Token<'a> {
    pub fn parse(v: &'a str) -> Token<'a> {
        match v.split_once('|') {
            Some((system, code)) => Token { system: Some(system), code },
            None => Token { system: None, code: v },
        }
    }

    /// Whether a resource's Identifier (JSON) is the one this token names.
    pub fn names(&self, identifier: &Value) -> bool {
        let system = identifier["system"].as_str();
        let system_ok = match self.system {
            None => true,
            Some("") => system.is_none(),
            Some(s) => system == Some(s),
        };
        system_ok && (self.code.is_empty() || identifier["value"].as_str() == Some(self.code))
    }
}

/// Whether a resource's `identifier` list meets every occurrence of an `identifier` search.
pub fn identifiers_match(search: &Search, r: &Value) -> bool {
    let ids = r["identifier"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    search
        .occurrences("identifier")
        .all(|(_, values)| values.iter().any(|v| ids.iter().any(|i| Token::parse(v).names(i))))
}

/// 400 for a value that does not fit its parameter.
pub fn bad_value(name: &str, value: &str, sv: &str, en: &str) -> FhirError {
    FhirError::new(
        StatusCode::BAD_REQUEST,
        "invalid",
        format!("{name}=\"{value}\": {sv}"),
        format!("{name}=\"{value}\": {en}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2026-12-07T12:00:00Z".parse().unwrap()
    }

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn a_dates_precision_is_its_range() {
        let day = DateParam::parse("2026-12-06", now()).unwrap();
        // Swedish time: the day starts at 23:00 UTC the evening before.
        assert_eq!((day.start, day.end), (t("2026-12-05T23:00:00Z"), t("2026-12-06T23:00:00Z")));
        assert!(day.matches(t("2026-12-06T22:59:59Z")) && !day.matches(t("2026-12-06T23:00:00Z")));
        let month = DateParam::parse("ge2026-12", now()).unwrap();
        assert_eq!((month.prefix, month.start), (Prefix::Ge, t("2026-11-30T23:00:00Z")));
        assert!(month.matches(t("2027-01-05T00:00:00Z")) && !month.matches(t("2026-11-30T22:59:59Z")));
        let year = DateParam::parse("lt2026", now()).unwrap();
        assert!(year.matches(t("2025-12-31T22:59:59Z")) && !year.matches(t("2025-12-31T23:00:00Z")));
        let minute = DateParam::parse("2026-12-06T10:15+01:00", now()).unwrap();
        assert_eq!((minute.start, minute.end), (t("2026-12-06T09:15:00Z"), t("2026-12-06T09:16:00Z")));
        let second = DateParam::parse("gt2026-12-06T10:15:00Z", now()).unwrap();
        assert!(!second.matches(t("2026-12-06T10:15:00Z")) && second.matches(t("2026-12-06T10:15:01Z")));
        let plus_as_space = DateParam::parse("le2026-12-06T10:15:00 01:00", now()).unwrap();
        assert_eq!(plus_as_space.end, t("2026-12-06T09:15:01Z"));
    }

    #[test]
    fn each_prefix_follows_the_specification() {
        let day = |p: &str| DateParam::parse(&format!("{p}2026-12-06"), now()).unwrap();
        let (before, inside, after) = (t("2026-12-05T12:00:00Z"), t("2026-12-06T12:00:00Z"), t("2026-12-07T00:00:00Z"));
        let table = [
            ("eq", [false, true, false]),
            ("ne", [true, false, true]),
            ("gt", [false, false, true]),
            ("sa", [false, false, true]),
            ("ge", [false, true, true]),
            ("lt", [true, false, false]),
            ("eb", [true, false, false]),
            ("le", [true, true, false]),
        ];
        for (p, expected) in table {
            assert_eq!([before, inside, after].map(|x| day(p).matches(x)), expected, "{p}");
        }
        // ap widens by a tenth of the distance to now: 2026-11-27 is 10 days away, ±1 day.
        let ap = DateParam::parse("ap2026-11-27", now()).unwrap();
        assert!(ap.matches(t("2026-11-26T00:30:00Z")) && !ap.matches(t("2026-11-25T12:00:00Z")));
    }

    #[test]
    fn bad_dates_are_refused_with_the_reason() {
        for bad in [
            "2026-12-06T10:15:00",
            "2026-13",
            "26-12-06",
            "ge",
            "2026-12-06T25:00:00Z",
            "xx2026",
            "2026-12-06T10:15:00.Z",
        ] {
            assert!(DateParam::parse(bad, now()).is_err(), "{bad}");
        }
        let (sv, _) = DateParam::parse("2026-12-06T10:15:00", now()).unwrap_err();
        assert!(sv.contains("ingen tidszon"), "{sv}");
    }

    #[test]
    fn tokens_read_system_and_code() {
        assert_eq!(Token::parse("a|b"), Token { system: Some("a"), code: "b" });
        assert_eq!(Token::parse("|b"), Token { system: Some(""), code: "b" });
        assert_eq!(Token::parse("a|"), Token { system: Some("a"), code: "" });
        assert_eq!(Token::parse("b"), Token { system: None, code: "b" });
    }

    #[test]
    fn the_table_names_each_type_once_and_only_known_modifiers() {
        for (i, r) in RESOURCES.iter().enumerate() {
            assert!(RESOURCES[i + 1..].iter().all(|o| o.ty != r.ty), "{}", r.ty);
            assert_eq!(r.params.is_empty(), !r.interactions.contains(&"search-type"), "{}", r.ty);
            for p in r.params {
                let allowed: &[&str] = match p.kind {
                    Kind::Token => &["not", "text", "in", "not-in", "below", "above", "of-type", "missing"],
                    Kind::String => &["contains", "exact", "missing"],
                    _ => &["missing"],
                };
                assert!(p.modifiers.iter().all(|m| allowed.contains(m)), "{}.{}", r.ty, p.name);
            }
        }
    }
}
