//! Over JSON: organisations and units: who takes part, and how to reach them.

use axum::Json;
use axum::extract::State;
use samverka_domain::actor::Actor;
use samverka_domain::org::Unit;
use uuid::Uuid;

use samverka_app::AppState;
use samverka_app::auth::Caller;
use samverka_app::directory::*;
use samverka_app::error::{AppError, AppResult, ProblemDetails};
use samverka_app::extract::ApiPath;

/// The logged-in user and the unit they act for.
#[utoipa::path(get, path = "/api/me", tag = "directory",
    responses((status = 200, body = Actor), (status = 401, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn me(caller: Caller) -> Json<Actor> {
    Json(caller.actor)
}

/// All organisations.
#[utoipa::path(get, path = "/api/organisations", tag = "directory",
    responses((status = 200, body = Vec<OrganisationView>), (status = 401, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn organisations(State(st): State<AppState>, _caller: Caller) -> AppResult<Json<Vec<OrganisationView>>> {
    let orgs = st.store.organisations().await?;
    Ok(Json(
        orgs.iter()
            .map(|(organisation, agreement_id)| OrganisationView {
                organisation: organisation.clone(),
                agreement_id: agreement_id.clone(),
            })
            .collect(),
    ))
}

/// All units with their address entries (phone, hours, evening and weekend cover).
#[utoipa::path(get, path = "/api/units", tag = "directory",
    responses((status = 200, body = Vec<Unit>), (status = 401, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn units(State(st): State<AppState>, _caller: Caller) -> AppResult<Json<Vec<Unit>>> {
    Ok(Json(st.store.units().await?.as_ref().clone()))
}

/// One unit.
#[utoipa::path(get, path = "/api/units/{id}", tag = "directory", params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = Unit), (status = 404, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn unit(State(st): State<AppState>, _caller: Caller, ApiPath(id): ApiPath<Uuid>) -> AppResult<Json<Unit>> {
    st.store.unit(id).await?.map(Json).ok_or_else(|| AppError::not_found("Enheten"))
}
