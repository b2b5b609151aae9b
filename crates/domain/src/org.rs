//! Organisations (region, kommun, private provider) and their units.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::ids::{HsaId, Kommunkod};

pub type OrganisationId = Uuid;
pub type UnitId = Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OrganisationKind {
    /// A region (the health-care principal). Carries the län code.
    Region,
    /// A municipality (kommun), identified by its SCB kommunkod.
    Kommun,
    /// A private provider acting for a principal under LOV or contract.
    PrivateProvider,
}

/// The two principals (huvudmän) of Swedish health and social care.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Principal {
    Region,
    Kommun,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Organisation {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub id: OrganisationId,
    pub kind: OrganisationKind,
    pub name: String,
    /// Län code for a region (e.g. "01"), none otherwise.
    pub region_code: Option<String>,
    /// SCB kommunkod for a kommun.
    pub kommunkod: Option<Kommunkod>,
    pub hsa_id: Option<HsaId>,
    /// For a private provider: the principal it acts for.
    pub acts_for: Option<Principal>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum UnitKind {
    /// Vårdavdelning: slutenvård, the sending party of the discharge process.
    Ward,
    /// Vårdcentral / husläkarmottagning: assigns the fast vårdkontakt.
    Vardcentral,
    /// Biståndsenhet: the municipality's needs assessors (biståndshandläggare).
    Bistandsenhet,
    /// Hemsjukvård (the region's in Stockholm, the municipality's elsewhere).
    Hemsjukvard,
    Primarvardsrehab,
    /// Avancerad sjukvård i hemmet.
    Asih,
    /// Särskilt boende or korttidsboende.
    SaboKorttid,
    /// Kommunal hälso- och sjukvård under MAS.
    KommunalHsl,
    /// Hemtjänst: the municipality's (or a contracted provider's) home care.
    Hemtjanst,
    /// Psykiatrisk öppenvård: the region's outpatient psychiatry.
    Psykiatri,
}

impl UnitKind {
    pub const ALL: [UnitKind; 10] = [
        UnitKind::Ward,
        UnitKind::Vardcentral,
        UnitKind::Bistandsenhet,
        UnitKind::Hemsjukvard,
        UnitKind::Primarvardsrehab,
        UnitKind::Asih,
        UnitKind::SaboKorttid,
        UnitKind::KommunalHsl,
        UnitKind::Hemtjanst,
        UnitKind::Psykiatri,
    ];

    pub fn label_sv(self) -> &'static str {
        match self {
            UnitKind::Ward => "vårdavdelning",
            UnitKind::Vardcentral => "vårdcentral",
            UnitKind::Bistandsenhet => "biståndsenhet",
            UnitKind::Hemsjukvard => "hemsjukvård",
            UnitKind::Primarvardsrehab => "primärvårdsrehab",
            UnitKind::Asih => "ASIH",
            UnitKind::SaboKorttid => "SÄBO/korttidsboende",
            UnitKind::KommunalHsl => "kommunal hälso- och sjukvård",
            UnitKind::Hemtjanst => "hemtjänst",
            UnitKind::Psykiatri => "psykiatrisk öppenvård",
        }
    }
}

/// Somatic or psychiatric inpatient care: payment liability has separate rules for psychiatry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum CareType {
    #[default]
    Somatic,
    Psychiatric,
}

/// A unit's address entry: how and when it can be reached (users asked above all for who
/// covers evenings and weekends).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AddressEntry {
    pub phone: Option<String>,
    pub functional_mailbox: Option<String>,
    pub opening_hours: Option<String>,
    pub evening_weekend_cover: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = Uuid))]
    pub backup_unit: Option<UnitId>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Unit {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub id: UnitId,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Uuid))]
    pub organisation_id: OrganisationId,
    pub kind: UnitKind,
    pub name: String,
    pub hsa_id: HsaId,
    /// For wards: somatic or psychiatric care.
    pub care_type: CareType,
    /// The municipality whose residents this unit receives LUS notices for (biståndsenhet,
    /// kommunal HSL): routing finds the municipality's recipients from folkbokföringskommun.
    pub receives_for_kommun: Option<Kommunkod>,
    pub address: AddressEntry,
}

impl Organisation {
    /// Whether the organisation's units may receive LUS notices for residents of `kommun`:
    /// the municipality itself, or the region of its län (e.g. the region's hemsjukvård in
    /// Stockholm). A private provider never does on its own say-so, or it could redirect a
    /// municipality's notices to itself. Routing (store) applies the same rule.
    pub fn may_receive_for(&self, kommun: &Kommunkod) -> bool {
        match self.kind {
            OrganisationKind::Kommun => self.kommunkod.as_ref() == Some(kommun),
            OrganisationKind::Region => self.region_code.as_deref() == Some(kommun.lan()),
            OrganisationKind::PrivateProvider => false,
        }
    }
}

impl Unit {
    /// Which principal the unit's work belongs to, for the SIP's "insatser per huvudman".
    pub fn principal(&self, org: &Organisation) -> Principal {
        match (org.kind, org.acts_for) {
            (OrganisationKind::Kommun, _) => Principal::Kommun,
            (OrganisationKind::Region, _) => Principal::Region,
            (OrganisationKind::PrivateProvider, Some(p)) => p,
            (OrganisationKind::PrivateProvider, None) => match self.kind {
                UnitKind::Bistandsenhet | UnitKind::SaboKorttid | UnitKind::KommunalHsl => Principal::Kommun,
                _ => Principal::Region,
            },
        }
    }
}
