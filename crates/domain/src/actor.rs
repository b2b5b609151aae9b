//! Who did something: a user acting for a unit. Names and HSA-ids are copied into every event
//! so the history still reads right after a unit is renamed or a user leaves.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::access::Role;
use crate::ids::HsaId;
use crate::org::{OrganisationId, UnitId, UnitKind};

pub type UserId = Uuid;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UnitRef {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub id: UnitId,
    pub name: String,
    pub hsa_id: HsaId,
    pub kind: UnitKind,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub organisation_id: OrganisationId,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserRef {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub id: UserId,
    pub name: String,
}

/// The user, the unit they act for and their role there: their assignment (medarbetaruppdrag).
/// Integrations such as the HL7 feed act with the role `system` and a user id of their own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Actor {
    pub user: UserRef,
    pub unit: UnitRef,
    /// The role of the assignment the user acts in.
    pub role: Role,
}

/// Who did something, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Stamp {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub at: Timestamp,
    pub by: UserRef,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub unit: UnitId,
}

impl Actor {
    pub fn stamp(&self, at: Timestamp) -> Stamp {
        Stamp { at, by: self.user.clone(), unit: self.unit.id }
    }
}
