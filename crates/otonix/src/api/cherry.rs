//! Cherry Servers, the compute provider (SPEC §6.2): its status and catalog (public: regions,
//! plans with a `monthlyCost` in US dollars, a plan's images) and the account's teams and
//! projects (any key, or the admin). Upstream objects are answered as the upstream sends them.

use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::list::ListQuery;
use super::provider_errors::provider_error;
use super::vercel::ProviderStatus;
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::providers::cherry::monthly_cost_usd;
use crate::providers::{ComputeProvider, ProviderError};
use crate::state::AppState;

const PROVIDER: &str = "cherry";

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(cherry_status))
        .routes(routes!(list_regions))
        .routes(routes!(list_plans))
        .routes(routes!(list_images))
        .routes(routes!(list_teams))
        .routes(routes!(list_projects))
}

fn compute(state: &AppState) -> ApiResult<&dyn ComputeProvider> {
    state.providers.compute().map_err(|e| provider_error(PROVIDER, e))
}

/// An upstream 404 about what the client named (a plan, a team) is the client's 404.
fn named(what: &'static str) -> impl Fn(ProviderError) -> ApiError {
    move |error| match error {
        ProviderError::Upstream { status: 404, .. } => ApiError::NotFound(what),
        other => provider_error(PROVIDER, other),
    }
}

/// Whether the compute provider is configured and answers.
#[utoipa::path(get, path = "/api/cherry/status", tag = "cherry", responses((status = 200, body = ProviderStatus)))]
pub async fn cherry_status(State(state): State<AppState>) -> Json<ProviderStatus> {
    Json(ProviderStatus {
        configured: state.providers.cherry.is_some(),
        mode: state.config.providers.cherry.mode.as_str(),
        reachable: state.providers.cherry_reachable().await,
    })
}

/// The regions.
#[utoipa::path(get, path = "/api/cherry/regions", tag = "cherry",
    responses((status = 200, description = "The upstream's region objects", body = Vec<Object>),
        (status = 502, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn list_regions(State(state): State<AppState>) -> ApiResult<Json<Vec<Value>>> {
    Ok(Json(compute(&state)?.regions().await.map_err(|e| provider_error(PROVIDER, e))?))
}

/// The plans with their pricing (optionally those of one region), each with `monthlyCost` in
/// US dollars (`null` for a plan without a monthly or hourly price).
#[utoipa::path(get, path = "/api/cherry/plans", tag = "cherry",
    params(("region" = Option<String>, Query, description = "Region slug")),
    responses((status = 200, description = "The upstream's plan objects, each with monthlyCost", body = Vec<Object>),
        (status = 400, body = ErrorBody), (status = 502, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn list_plans(State(state): State<AppState>, mut query: ListQuery) -> ApiResult<Json<Vec<Value>>> {
    let region = query.text("region");
    query.finish()?;
    let mut plans = compute(&state)?.plans(region.as_deref()).await.map_err(|e| provider_error(PROVIDER, e))?;
    let rate = state.config.providers.cherry.usd_per_eur;
    for plan in &mut plans {
        let cost = monthly_cost_usd(plan, rate);
        if let Some(object) = plan.as_object_mut() {
            object.insert("monthlyCost".into(), json!(cost));
        }
    }
    Ok(Json(plans))
}

/// The images a plan can run (`providers.cherry.defaultPlan` without `?plan=`).
#[utoipa::path(get, path = "/api/cherry/images", tag = "cherry",
    params(("plan" = Option<String>, Query, description = "Plan slug or id")),
    responses((status = 200, description = "The upstream's image objects", body = Vec<Object>),
        (status = 400, body = ErrorBody), (status = 404, description = "no such plan", body = ErrorBody),
        (status = 502, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn list_images(State(state): State<AppState>, mut query: ListQuery) -> ApiResult<Json<Vec<Value>>> {
    let plan = query.text("plan");
    query.finish()?;
    let plan = plan.unwrap_or_else(|| state.config.providers.cherry.default_plan.clone());
    Ok(Json(compute(&state)?.images(&plan).await.map_err(named("plan"))?))
}

/// The account's teams (any key, or the admin).
#[utoipa::path(get, path = "/api/cherry/teams", tag = "cherry", security(("apiKey" = []), ("adminToken" = [])),
    responses((status = 200, description = "The upstream's team objects", body = Vec<Object>),
        (status = 401, body = ErrorBody), (status = 502, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn list_teams(State(state): State<AppState>, principal: Principal) -> ApiResult<Json<Vec<Value>>> {
    principal.require_authenticated()?;
    Ok(Json(compute(&state)?.teams().await.map_err(|e| provider_error(PROVIDER, e))?))
}

/// A team's projects (any key, or the admin).
#[utoipa::path(get, path = "/api/cherry/projects/{teamId}", tag = "cherry", security(("apiKey" = []), ("adminToken" = [])),
    params(("teamId" = u64, Path, description = "Team id")),
    responses((status = 200, description = "The upstream's project objects", body = Vec<Object>),
        (status = 401, body = ErrorBody), (status = 404, description = "no such team", body = ErrorBody),
        (status = 502, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn list_projects(
    State(state): State<AppState>,
    principal: Principal,
    Path(team_id): Path<String>,
) -> ApiResult<Json<Vec<Value>>> {
    principal.require_authenticated()?;
    let team_id: u64 = team_id.parse().map_err(|_| ApiError::NotFound("team"))?;
    Ok(Json(compute(&state)?.projects(team_id).await.map_err(named("team"))?))
}
