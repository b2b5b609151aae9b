//! One validated information channel: directives (from an agency, the region, infection
//! control, the municipality) registered once, validated by a designated validator (e.g.
//! MAS) and published to everyone in their audience at the same time, with read
//! confirmations. A new version is a new directive that supersedes the old; a superseded or
//! conflicting directive is shown as such, never silently replaced.
//!
//! The source reports counted 36 contradictory directives in eight weeks: here every
//! directive has a topic, and two valid directives on the same topic for overlapping
//! audiences are a conflict the validator must see and settle (supersede, or confirm that
//! both apply) before publishing.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::access::{Permission, Role, permits};
use crate::error::Problem;
use crate::forum::check_title;
use crate::org::{OrganisationId, UnitKind};
use crate::text::check_text;

pub type DirectiveId = Uuid;

/// Who issued the directive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// A national agency (Folkhälsomyndigheten, Socialstyrelsen, IVO …).
    Myndighet,
    Region,
    /// Vårdhygien: the region's infection control.
    Vardhygien,
    Kommun,
    Annan,
}

impl Source {
    pub const ALL: [Source; 5] = [Source::Myndighet, Source::Region, Source::Vardhygien, Source::Kommun, Source::Annan];
}

/// Who a directive is for: the units of these organisations, of these kinds (all kinds when
/// empty), e.g. every home-care unit of one municipality.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Audience {
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>, format = Uuid))]
    pub organisations: Vec<OrganisationId>,
    pub unit_kinds: Vec<UnitKind>,
}

impl Audience {
    pub fn includes(&self, organisation: OrganisationId, kind: UnitKind) -> bool {
        self.organisations.contains(&organisation) && (self.unit_kinds.is_empty() || self.unit_kinds.contains(&kind))
    }

    /// Whether some unit could be in both audiences.
    pub fn overlaps(&self, other: &Audience) -> bool {
        let orgs = self.organisations.iter().any(|o| other.organisations.contains(o));
        let kinds = self.unit_kinds.is_empty()
            || other.unit_kinds.is_empty()
            || self.unit_kinds.iter().any(|k| other.unit_kinds.contains(k));
        orgs && kinds
    }
}

/// A directive as it is registered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DirectiveSpec {
    /// What it is about, the same words for every version (e.g. "Besöksrestriktioner").
    pub topic: String,
    pub title: String,
    pub source: Source,
    /// The issuer's name, e.g. "Folkhälsomyndigheten".
    pub source_name: String,
    /// The issuer's own reference or version, e.g. "FoHM 2026:3, version 2".
    pub reference: String,
    pub body: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub valid_from: Date,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Date))]
    pub valid_until: Option<Date>,
    pub audience: Audience,
    /// Earlier directives this one replaces.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<String>, format = Uuid))]
    pub supersedes: Vec<DirectiveId>,
}

impl DirectiveSpec {
    pub fn validate(&self) -> Result<(), Problem> {
        check_title("topic", &self.topic)?;
        check_title("title", &self.title)?;
        check_title("source_name", &self.source_name)?;
        check_text("reference", &self.reference, false)?;
        check_text("body", &self.body, true)?;
        if let Some(until) = self.valid_until
            && until < self.valid_from
        {
            return Err(Problem::invalid_field(
                "valid_until",
                "invalid_period",
                "Giltigheten kan inte sluta innan den börjar. Rätta datumen.",
                "The validity cannot end before it begins.",
            ));
        }
        if self.audience.organisations.is_empty() {
            return Err(Problem::invalid_field(
                "audience",
                "audience_required",
                "Välj minst en organisation som direktivet gäller för.",
                "Choose at least one organisation the directive is for.",
            ));
        }
        Ok(())
    }

    /// Whether it applies on `day`.
    pub fn valid_on(&self, day: Date) -> bool {
        self.valid_from <= day && self.valid_until.is_none_or(|u| day <= u)
    }

    fn overlaps_in_time(&self, other: &DirectiveSpec) -> bool {
        let ends_before = |a: &DirectiveSpec, b: &DirectiveSpec| a.valid_until.is_some_and(|u| u < b.valid_from);
        !ends_before(self, other) && !ends_before(other, self)
    }
}

/// Where a directive is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DirectiveStatus {
    /// Registered, waiting for the validator.
    Pending,
    /// Validated and sent to its audience.
    Published,
    /// Sent back by the validator, with a reason.
    Rejected,
    /// Taken back after publication; still shown as withdrawn.
    Withdrawn,
}

/// A published directive as others see it, for finding conflicts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    pub id: DirectiveId,
    pub spec: DirectiveSpec,
}

fn same_topic(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
}

/// The published directives that `spec` (with id `id`) contradicts: the same topic, valid at
/// the same time, for overlapping audiences, and neither replacing the other.
pub fn conflicts(id: DirectiveId, spec: &DirectiveSpec, published: &[Published]) -> Vec<DirectiveId> {
    published
        .iter()
        .filter(|p| {
            p.id != id
                && same_topic(&p.spec.topic, &spec.topic)
                && p.spec.overlaps_in_time(spec)
                && p.spec.audience.overlaps(&spec.audience)
                && !spec.supersedes.contains(&p.id)
                && !p.spec.supersedes.contains(&id)
        })
        .map(|p| p.id)
        .collect()
}

/// What someone may do with directives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DirectiveAct {
    Register,
    /// Approve or reject: the validator.
    Validate,
    Withdraw,
}

/// Whether a person in `role` at an organisation may do `act` with a directive owned by
/// `owner` and registered by `registrar`. Validation needs a second person: the one who
/// registered a directive never validates it.
pub fn check_directive_act(
    act: DirectiveAct,
    role: Role,
    user: Uuid,
    organisation: OrganisationId,
    owner: OrganisationId,
    registrar: Uuid,
) -> Result<(), Problem> {
    let (permission, what) = match act {
        DirectiveAct::Register => (Permission::RegisterDirectives, "registrera direktiv"),
        DirectiveAct::Validate => (Permission::ValidateDirectives, "validera direktiv"),
        DirectiveAct::Withdraw => (Permission::RegisterDirectives, "återkalla direktiv"),
    };
    if !permits(role, permission) {
        return Err(Problem::forbidden(
            "directive_role",
            format!("Din roll får inte {what}. Be MAS eller enhetschefen i din organisation."),
            "Your role may not do this.",
        ));
    }
    if organisation != owner {
        return Err(Problem::forbidden(
            "directive_other_organisation",
            "Direktivet hör till en annan organisation. Bara dess egna registrerare och validerare kan ändra det.",
            "The directive belongs to another organisation.",
        ));
    }
    if act == DirectiveAct::Validate && user == registrar {
        return Err(Problem::forbidden(
            "directive_four_eyes",
            "Den som registrerade direktivet kan inte validera det själv. Be en annan validerare (till exempel MAS).",
            "The person who registered a directive cannot validate it.",
        ));
    }
    Ok(())
}

/// Whether a directive in `status` may go to `next`.
pub fn check_transition(status: DirectiveStatus, next: DirectiveStatus) -> Result<(), Problem> {
    use DirectiveStatus::*;
    match (status, next) {
        (Pending, Published | Rejected) | (Published, Withdrawn) => Ok(()),
        (Published, _) => Err(Problem::conflict(
            "directive_published",
            "Direktivet är redan publicerat. En ändring registreras som en ny version som ersätter det.",
            "Already published; register a new version that supersedes it.",
        )),
        _ => Err(Problem::conflict(
            "directive_not_pending",
            "Direktivet väntar inte på validering längre. Ladda om sidan.",
            "The directive is no longer waiting for validation.",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn spec(topic: &str, org: Uuid, kinds: Vec<UnitKind>, from: Date, until: Option<Date>) -> DirectiveSpec {
        DirectiveSpec {
            topic: topic.into(),
            title: "Besök på särskilda boenden".into(),
            source: Source::Myndighet,
            source_name: "Folkhälsomyndigheten".into(),
            reference: "FoHM 2026:3".into(),
            body: "Besökare bär munskydd.".into(),
            valid_from: from,
            valid_until: until,
            audience: Audience { organisations: vec![org], unit_kinds: kinds },
            supersedes: vec![],
        }
    }

    #[test]
    fn a_directive_needs_a_topic_an_audience_and_a_period_in_order() {
        let org = Uuid::now_v7();
        let s = spec("Besök", org, vec![], date(2026, 3, 1), Some(date(2026, 4, 1)));
        assert!(s.validate().is_ok());
        let backwards = DirectiveSpec { valid_until: Some(date(2026, 2, 1)), ..s.clone() };
        assert_eq!(backwards.validate().unwrap_err().code, "invalid_period");
        let nobody = DirectiveSpec { audience: Audience::default(), ..s.clone() };
        assert_eq!(nobody.validate().unwrap_err().code, "audience_required");
        assert_eq!(
            DirectiveSpec { body: " ".into(), ..s.clone() }.validate().unwrap_err().field.as_deref(),
            Some("body")
        );
        assert!(s.valid_on(date(2026, 4, 1)) && !s.valid_on(date(2026, 4, 2)) && !s.valid_on(date(2026, 2, 28)));
    }

    #[test]
    fn an_audience_is_organisations_and_kinds_of_unit() {
        let (solna, nacka) = (Uuid::now_v7(), Uuid::now_v7());
        let home_care = Audience { organisations: vec![solna], unit_kinds: vec![UnitKind::Hemsjukvard] };
        assert!(home_care.includes(solna, UnitKind::Hemsjukvard));
        assert!(!home_care.includes(solna, UnitKind::Bistandsenhet));
        assert!(!home_care.includes(nacka, UnitKind::Hemsjukvard));
        let all_solna = Audience { organisations: vec![solna], unit_kinds: vec![] };
        assert!(all_solna.includes(solna, UnitKind::Ward));
        assert!(home_care.overlaps(&all_solna));
        let sabo = Audience { organisations: vec![solna], unit_kinds: vec![UnitKind::SaboKorttid] };
        assert!(!home_care.overlaps(&sabo));
        assert!(!home_care.overlaps(&Audience { organisations: vec![nacka], unit_kinds: vec![] }));
    }

    #[test]
    fn same_topic_same_time_same_people_is_a_conflict_unless_one_replaces_the_other() {
        let org = Uuid::now_v7();
        let old_id = Uuid::now_v7();
        let old = spec("Besöksrestriktioner", org, vec![], date(2026, 3, 1), None);
        let published = [Published { id: old_id, spec: old }];
        let new_id = Uuid::now_v7();
        let new = spec(" besöksrestriktioner ", org, vec![UnitKind::SaboKorttid], date(2026, 3, 15), None);
        assert_eq!(conflicts(new_id, &new, &published), vec![old_id], "the same topic in other words of case");
        let replacing = DirectiveSpec { supersedes: vec![old_id], ..new.clone() };
        assert!(conflicts(new_id, &replacing, &published).is_empty());
        let other_topic = DirectiveSpec { topic: "Skyddsutrustning".into(), ..new.clone() };
        assert!(conflicts(new_id, &other_topic, &published).is_empty());
        let later = published[0].clone();
        let ended = Published { spec: DirectiveSpec { valid_until: Some(date(2026, 3, 10)), ..later.spec }, ..later };
        assert!(conflicts(new_id, &new, &[ended]).is_empty(), "the old one ended before");
        let elsewhere =
            DirectiveSpec { audience: Audience { organisations: vec![Uuid::now_v7()], unit_kinds: vec![] }, ..new };
        assert!(conflicts(new_id, &elsewhere, &published).is_empty());
    }

    #[test]
    fn a_second_person_of_the_same_organisation_validates() {
        let (org, other) = (Uuid::now_v7(), Uuid::now_v7());
        let (registrar, mas) = (Uuid::now_v7(), Uuid::now_v7());
        use DirectiveAct::*;
        assert!(check_directive_act(Register, Role::Enhetschef, registrar, org, org, registrar).is_ok());
        assert_eq!(
            check_directive_act(Register, Role::Sjukskoterska, registrar, org, org, registrar).unwrap_err().code,
            "directive_role"
        );
        assert!(check_directive_act(Validate, Role::Mas, mas, org, org, registrar).is_ok());
        assert_eq!(
            check_directive_act(Validate, Role::Mas, registrar, org, org, registrar).unwrap_err().code,
            "directive_four_eyes"
        );
        assert_eq!(
            check_directive_act(Validate, Role::Mas, mas, other, org, registrar).unwrap_err().code,
            "directive_other_organisation"
        );
        assert_eq!(
            check_directive_act(Validate, Role::Vardsamordnare, mas, org, org, registrar).unwrap_err().code,
            "directive_role"
        );
        assert!(check_directive_act(Withdraw, Role::Mas, mas, org, org, registrar).is_ok());
    }

    #[test]
    fn a_directive_moves_from_pending_to_published_or_rejected_and_only_a_published_one_is_withdrawn() {
        use DirectiveStatus::*;
        assert!(check_transition(Pending, Published).is_ok());
        assert!(check_transition(Pending, Rejected).is_ok());
        assert!(check_transition(Published, Withdrawn).is_ok());
        assert_eq!(check_transition(Published, Rejected).unwrap_err().code, "directive_published");
        assert_eq!(check_transition(Rejected, Published).unwrap_err().code, "directive_not_pending");
        assert_eq!(check_transition(Pending, Withdrawn).unwrap_err().code, "directive_not_pending");
        assert_eq!(check_transition(Withdrawn, Published).unwrap_err().code, "directive_not_pending");
    }
}
