//! Who receives the notices: the municipality is found from the patient's
//! folkbokföringskommun, the vårdcentral from the patient's listing.

use crate::actor::UnitRef;
use crate::error::Problem;
use crate::ids::Kommunkod;
use crate::org::UnitId;

/// A unit as routing sees it: the reference plus the municipality it receives notices for.
#[derive(Debug, Clone)]
pub struct RoutableUnit {
    pub unit: UnitRef,
    pub receives_for_kommun: Option<Kommunkod>,
}

/// The recipients of an inskrivningsmeddelande: every unit that receives LUS notices for the
/// patient's municipality, and the vårdcentral the patient is listed at.
pub fn notice_recipients(
    kommun: &Kommunkod,
    listed_unit: Option<UnitId>,
    units: &[RoutableUnit],
) -> Result<Vec<UnitRef>, Problem> {
    let mut out: Vec<UnitRef> =
        units.iter().filter(|u| u.receives_for_kommun.as_ref() == Some(kommun)).map(|u| u.unit.clone()).collect();
    if out.is_empty() {
        return Err(Problem::conflict(
            "no_municipal_recipient",
            format!(
                "Ingen enhet tar emot meddelanden för kommun {kommun} i Samverka. Kontakta kommunen per telefon och be administratören lägga upp en mottagare."
            ),
            format!("No unit receives notices for kommun {kommun}."),
        ));
    }
    if let Some(listed) = listed_unit {
        match units.iter().find(|u| u.unit.id == listed) {
            Some(u) if !out.iter().any(|o| o.id == listed) => out.push(u.unit.clone()),
            Some(_) => {}
            None => {
                return Err(Problem::conflict(
                    "listed_unit_unknown",
                    "Patientens vårdcentral finns inte i Samverka. Kontrollera patientens listning.",
                    "The patient's listed vårdcentral is unknown.",
                ));
            }
        }
    }
    Ok(out)
}
