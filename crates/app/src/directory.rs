//! Organisations and units: who takes part, and how to reach them.

use samverka_domain::org::Organisation;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct OrganisationView {
    #[serde(flatten)]
    pub organisation: Organisation,
    /// For a region: the agreement its wards' cases follow.
    pub agreement_id: Option<String>,
}
