//! Over JSON: payment liability: per case, and the municipality's monthly invoice basis.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use samverka_domain::liability::{CaseLiability, LiabilityBasis, LiabilityFacts, case_liability};
use samverka_store::ApprovedBasis;
use uuid::Uuid;

use samverka_app::AppState;
use samverka_app::audit::log_read;
use samverka_app::auth::Caller;
use samverka_app::cases::read_case;
use samverka_app::error::{AppError, AppResult, ProblemDetails};
use samverka_app::extract::{ApiJson, ApiPath, ApiQuery};
use samverka_app::liability;
use samverka_app::liability::*;
use samverka_domain::access::Permission;

/// The liability of one case as of now, with every day listed.
#[utoipa::path(get, path = "/api/cases/{id}/liability", tag = "liability", params(("id" = String, Path, format = Uuid)),
    responses((status = 200, body = CaseLiability), (status = 403, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 404, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn case(
    State(st): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> AppResult<Json<CaseLiability>> {
    let (record, _) = read_case(&st, &caller, id, "case.read_liability").await?;
    let agreement =
        st.store.agreements().get(&record.agreement_id).ok_or_else(|| AppError::not_found("Överenskommelsen"))?;
    let now = st.clock.now();
    let facts = LiabilityFacts::from_case(&record.case, &agreement, now);
    Ok(Json(case_liability(&facts, &agreement, now)))
}

/// The invoice basis (betalningsunderlag) of a municipality for a month, as the cases say now.
/// Approved versions are read with `/api/liability/versions`.
#[utoipa::path(get, path = "/api/liability", tag = "liability", params(BasisQuery),
    responses((status = 200, body = LiabilityBasis), (status = 422, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn municipal(
    State(st): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<BasisQuery>,
) -> AppResult<Json<LiabilityBasis>> {
    Ok(Json(liability::municipal(&st, &caller, q).await?))
}

/// Approves the basis as the cases say now: it is stored as the next version and never
/// changes again. A later correction is approved as a new version beside it.
#[utoipa::path(post, path = "/api/liability/approve", tag = "liability", request_body = ApproveRequest,
    responses((status = 201, body = ApprovedBasis), (status = 403, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, description = "Nothing changed since the latest version", body = ProblemDetails, content_type = "application/problem+json"),
        (status = 422, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn approve(
    State(st): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<ApproveRequest>,
) -> AppResult<(StatusCode, Json<ApprovedBasis>)> {
    Ok((StatusCode::CREATED, Json(liability::approve(&st, &caller, req).await?)))
}

/// The approved versions of a municipality's basis for a month, oldest first.
#[utoipa::path(get, path = "/api/liability/versions", tag = "liability", params(VersionsQuery),
    responses((status = 200, body = Vec<ApprovedBasis>), (status = 403, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn versions(
    State(st): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<VersionsQuery>,
) -> AppResult<Json<Vec<ApprovedBasis>>> {
    Ok(Json(liability::versions(&st, &caller, q).await?))
}

/// The basis as a file: CSV (semicolons, as Swedish spreadsheets read it) or an Excel workbook.
#[utoipa::path(get, path = "/api/liability/export", tag = "liability", params(ExportQuery),
    responses((status = 200, description = "text/csv or an xlsx workbook"), (status = 403, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 404, body = ProblemDetails, content_type = "application/problem+json")))]
pub async fn export(
    State(st): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ExportQuery>,
) -> AppResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let action = "liability.export";
    let (kommun, first, _) = scope(&st, &caller, Permission::ReadLiability, action, &q.kommun, &q.month).await?;
    let format = match q.format.as_str() {
        "csv" => samverka_app::export::FileFormat::Csv,
        "xlsx" => samverka_app::export::FileFormat::Xlsx,
        _ => {
            return Err(AppError::invalid(
                "format",
                "invalid_format",
                "Välj format csv eller xlsx.",
                "Choose csv or xlsx.",
            ));
        }
    };
    let (basis, approved) = match q.version {
        Some(v) => {
            let found = st
                .store
                .approved_bases(&kommun, month_key(first))
                .await?
                .into_iter()
                .find(|a| a.version == v)
                .ok_or_else(|| AppError::not_found("Versionen"))?;
            (found.basis.clone(), Some(found))
        }
        None => (compute(&st, &kommun, first, None).await?, None),
    };
    // The file names the people, each read logged.
    let people = samverka_app::liability::people(&st, &caller, &basis, action).await?;
    let file = samverka_app::export::basis_file(&basis, approved.as_ref(), &people, format)?;
    log_read(&st, &caller, action, None, None, None, false).await?;
    let name = format!(
        "betalningsunderlag-{kommun}-{}{}.{}",
        q.month,
        approved.as_ref().map(|a| format!("-v{}", a.version)).unwrap_or_else(|| "-preliminart".into()),
        q.format
    );
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, format.content_type().to_string()),
            (axum::http::header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        file,
    )
        .into_response())
}
