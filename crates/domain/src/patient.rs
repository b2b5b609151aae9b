//! The patient (brukare in social care) as Samverka knows them.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::Problem;
use crate::ids::{Kommunkod, PatientIdentifier};
use crate::org::UnitId;

pub type PatientId = Uuid;

/// Navet's codes for protected identity. Both hide the address and restrict search.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ProtectedIdentity {
    #[default]
    None,
    /// 01003 sekretessmarkering.
    Sekretessmarkering,
    /// 01020 skyddad folkbokföring.
    SkyddadFolkbokforing,
}

impl ProtectedIdentity {
    pub fn is_protected(self) -> bool {
        self != ProtectedIdentity::None
    }
    pub fn navet_code(self) -> Option<&'static str> {
        match self {
            ProtectedIdentity::None => None,
            ProtectedIdentity::Sekretessmarkering => Some("01003"),
            ProtectedIdentity::SkyddadFolkbokforing => Some("01020"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Address {
    pub street: String,
    pub postal_code: String,
    pub city: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Patient {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub id: PatientId,
    pub identifier: PatientIdentifier,
    pub given_name: String,
    pub family_name: String,
    /// Folkbokföringskommun: decides which municipality receives the notices.
    pub kommun: Kommunkod,
    /// The vårdcentral the patient is listed at (listning), if any.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Uuid))]
    pub listed_unit: Option<UnitId>,
    pub protection: ProtectedIdentity,
    /// Registered address. Never shown when the identity is protected.
    pub address: Option<Address>,
}

impl Patient {
    pub fn full_name(&self) -> String {
        format!("{} {}", self.given_name, self.family_name)
    }

    /// The address as it may be shown: none at all for a protected identity.
    pub fn visible_address(&self) -> Option<&Address> {
        if self.protection.is_protected() { None } else { self.address.as_ref() }
    }
}

/// Checks a person's name as typed: not empty, no control characters, a sane length.
pub fn validate_name(field: &str, value: &str) -> Result<String, Problem> {
    let v = value.trim();
    if v.is_empty() {
        return Err(Problem::invalid_field(field, "required", "Namnet saknas. Fyll i namnet.", "The name is missing."));
    }
    if v.chars().count() > 100 || v.chars().any(char::is_control) {
        return Err(Problem::invalid_field(
            field,
            "invalid_name",
            "Namnet får vara högst 100 tecken och får inte innehålla radbrytningar eller styrtecken.",
            "A name may be at most 100 characters without line breaks or control characters.",
        ));
    }
    Ok(v.to_string())
}
