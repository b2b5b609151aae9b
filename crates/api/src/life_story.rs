//! The life story (levnadsberättelse) of a case's person in the JSON API: read while the
//! person shares it with the caller's unit, and written with the person, with the same rules
//! and log as the page.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use samverka_app::auth::Caller;
use samverka_app::extract::{ApiJson, ApiPath};
use samverka_app::life_story::{self, WrittenWithPerson};
use samverka_app::{AppResult, AppState, ProblemDetails};
use samverka_domain::life_story::Author;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// One version: who wrote it and when.
#[derive(Serialize, ToSchema)]
pub struct VersionInfo {
    pub version: u32,
    #[schema(value_type = String, format = DateTime)]
    pub written_at: jiff::Timestamp,
    #[schema(value_type = Object)]
    pub written_by: Author,
}

/// What the caller's unit sees of the person's life story.
#[derive(Serialize, ToSchema)]
pub struct LifeStoryView {
    /// Whether the story is shown: the person shares it and the unit takes part in the case.
    pub shared: bool,
    /// Why it is not shown (`not_shared`, `not_in_care`, `reservnummer`), when it is not.
    pub withheld: Option<&'static str>,
    /// The latest version's number (0: nothing written); a new version is written on top of it.
    pub version: u32,
    /// The latest version's parts by name, while shared.
    pub parts: BTreeMap<&'static str, String>,
    /// Every version, newest first, while shared: who wrote it and when (the text of the
    /// earlier ones stays the person's).
    pub versions: Vec<VersionInfo>,
}

/// The life story of the case's person, as the caller's unit may see it.
#[utoipa::path(get, path = "/api/cases/{id}/life-story", tag = "life_story",
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = LifeStoryView),
        (status = 403, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 404, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn get(
    State(st): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<LifeStoryView>> {
    let seen = life_story::for_case(&st, &caller, id).await?;
    Ok(Json(LifeStoryView {
        shared: seen.withheld.is_none(),
        withheld: seen.withheld.as_ref().map(|p| p.code),
        version: seen.version,
        parts: seen.latest.map(|v| v.story.0.into_iter().map(|(p, t)| (p.as_str(), t)).collect()).unwrap_or_default(),
        versions: seen
            .history
            .into_iter()
            .map(|(version, written_at, written_by)| VersionInfo { version, written_at, written_by })
            .collect(),
    }))
}

/// The number of the version written.
#[derive(Serialize, ToSchema)]
pub struct Written {
    pub version: u32,
}

/// Writes a new version with the person, on top of `seen_version`; when the story is not
/// shared yet, `person_agrees` records the person's word that it may be.
#[utoipa::path(post, path = "/api/cases/{id}/life-story", tag = "life_story",
    params(("id" = String, Path, format = Uuid)), request_body = WrittenWithPerson,
    responses((status = 201, body = Written),
        (status = 403, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn write(
    State(st): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(req): ApiJson<WrittenWithPerson>,
) -> AppResult<(StatusCode, Json<Written>)> {
    let version = life_story::write_with_person(&st, &caller, id, req).await?;
    Ok((StatusCode::CREATED, Json(Written { version })))
}
