//! Who does what: a unit's named contacts beside its address entry, and how fresh the entry
//! is. Users asked above all for contact lists that are current; an entry nobody has
//! confirmed for [`STALE_AFTER_DAYS`] is shown as stale and its unit is reminded.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::error::Problem;
use crate::forum::check_title;
use crate::text::check_text;

/// After this many days without a confirmation a unit's entry counts as stale.
pub const STALE_AFTER_DAYS: i64 = 90;

/// Most named contacts per unit.
pub const MAX_CONTACTS: usize = 12;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Contact {
    pub name: String,
    /// What they do for others: "enhetschef", "biståndshandläggare helg", "MAS".
    pub function: String,
    pub phone: String,
    pub email: String,
}

impl Contact {
    pub fn validate(&self) -> Result<(), Problem> {
        check_title("name", &self.name)?;
        check_title("function", &self.function)?;
        check_text("phone", &self.phone, false)?;
        check_text("email", &self.email, false)?;
        if self.phone.trim().is_empty() && self.email.trim().is_empty() {
            return Err(Problem::invalid_field(
                "phone",
                "contact_unreachable",
                format!("Ange telefon eller e-post för {}, annars går personen inte att nå.", self.name),
                "Give a phone number or an e-mail address.",
            ));
        }
        Ok(())
    }
}

/// Who keeps a unit's entry (contacts, confirmation, escalation rule): the unit's own leaders
/// (enhetschef, MAS, klusterledare) and its organisation's administrators.
pub fn may_maintain(
    role: crate::access::Role,
    caller_unit: crate::org::UnitId,
    caller_organisation: crate::org::OrganisationId,
    unit: crate::org::UnitId,
    unit_organisation: crate::org::OrganisationId,
) -> bool {
    use crate::access::Role::*;
    match role {
        Administrator => caller_organisation == unit_organisation,
        Enhetschef | Mas | Klusterledare => caller_unit == unit,
        _ => false,
    }
}

/// Whether an entry last confirmed at `confirmed` (never: `None`) is stale at `now`.
pub fn is_stale(confirmed: Option<Timestamp>, now: Timestamp) -> bool {
    confirmed.is_none_or(|c| now.duration_since(c) > SignedDuration::from_hours(24 * STALE_AFTER_DAYS))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_goes_stale_after_ninety_days_and_one_never_confirmed_is_stale() {
        let confirmed: Timestamp = "2026-01-01T08:00:00Z".parse().unwrap();
        assert!(!is_stale(Some(confirmed), "2026-04-01T08:00:00Z".parse().unwrap()));
        assert!(is_stale(Some(confirmed), "2026-04-01T08:00:01Z".parse().unwrap()));
        assert!(is_stale(None, confirmed));
    }

    #[test]
    fn a_units_leaders_and_its_organisations_administrators_keep_its_entry() {
        use crate::access::Role;
        let (unit, other, org, other_org) =
            (uuid::Uuid::now_v7(), uuid::Uuid::now_v7(), uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
        assert!(may_maintain(Role::Enhetschef, unit, org, unit, org));
        assert!(!may_maintain(Role::Enhetschef, other, org, unit, org), "another unit's chief");
        assert!(!may_maintain(Role::Bistandshandlaggare, unit, org, unit, org));
        assert!(may_maintain(Role::Administrator, other, org, unit, org));
        assert!(!may_maintain(Role::Administrator, other, other_org, unit, org), "another organisation's admin");
    }

    #[test]
    fn a_contact_has_a_name_a_function_and_a_way_to_reach_them() {
        let c = Contact {
            name: "Anna Berg".into(),
            function: "Enhetschef".into(),
            phone: "08-123 45".into(),
            email: String::new(),
        };
        assert!(c.validate().is_ok());
        let unreachable = Contact { phone: " ".into(), ..c.clone() };
        assert_eq!(unreachable.validate().unwrap_err().code, "contact_unreachable");
        assert_eq!(Contact { function: String::new(), ..c }.validate().unwrap_err().field.as_deref(), Some("function"));
    }
}
