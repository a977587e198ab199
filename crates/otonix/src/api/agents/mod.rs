//! Agents (SPEC §4.2): registration, reads, heartbeats and the action log.

mod actions;
mod heartbeat;
mod register;
mod wallet;

use axum::Json;
use axum::extract::State;
use axum::response::Response;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::PathId;
use super::list::ListQuery;
use crate::auth::Principal;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::sanitize::{mask_address, mask_ip};
use crate::state::AppState;
use crate::store::agents::{self, Agent, AgentFilter};
use crate::survival::Health;

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register::register_agent))
        .routes(routes!(list_agents))
        .routes(routes!(get_agent))
        .routes(routes!(heartbeat::send_heartbeat))
        .routes(routes!(actions::log_action, actions::list_agent_actions))
        .routes(routes!(actions::list_all_actions))
        .routes(routes!(wallet::verify_wallet))
}

/// The view of an agent for `principal`: full for its owner and the admin, sanitized otherwise.
pub fn view(mut agent: Agent, principal: &Principal) -> Agent {
    if !principal.owns(&agent.api_key_id) {
        agent.wallet_address = mask_address(&agent.wallet_address);
        agent.vps_ip = agent.vps_ip.as_deref().map(mask_ip);
        agent.genesis_prompt = None;
        agent.last_report = None;
    }
    agent
}

/// Lists agents, newest first; other keys' agents sanitized.
#[utoipa::path(get, path = "/api/agents", tag = "agents",
    params(("status" = Option<String>, Query, description = "active | inactive | terminated"),
           ("health" = Option<String>, Query, description = "pending | up | late | down"),
           ("survivalTier" = Option<String>, Query, description = "full | conservation | critical | terminated"),
           ("limit" = Option<usize>, Query, description = "Page size, 1–1000 (default 100)"),
           ("cursor" = Option<String>, Query, description = "From X-Next-Cursor of the previous page")),
    responses((status = 200, body = Vec<Agent>), (status = 400, body = ErrorBody)))]
pub async fn list_agents(
    State(state): State<AppState>,
    principal: Principal,
    mut query: ListQuery,
) -> ApiResult<Response> {
    let filter = AgentFilter {
        status: query.one_of("status", &["active", "inactive", "terminated"]),
        health: query.one_of("health", &["pending", "up", "late", "down"]).and_then(|h| Health::parse(&h)),
        survival_tier: query.one_of("survivalTier", &["full", "conservation", "critical", "terminated"]),
    };
    query.finish()?;
    if filter.health.is_some() || filter.status.is_some() {
        // The filter runs in SQL: fold journaled heartbeats into the rows first.
        state.hot.settle().await?;
    }
    let now = state.now();
    let mut conn = state.store.read().await?;
    let page = loop {
        let generation = state.store.fold_generation();
        let mut page = agents::list(&mut conn, &filter, query.cursor, query.limit, now).await?;
        if state.store.freshen(&mut page.items, generation, now) {
            break page;
        }
    };
    Ok(query.respond(page.map(|agent| view(agent, &principal))))
}

/// One agent (its owner or the admin).
#[utoipa::path(get, path = "/api/agents/{id}", tag = "agents", security(("apiKey" = []), ("adminToken" = [])),
    params(("id" = String, Path, description = "Agent id")),
    responses((status = 200, body = Agent), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn get_agent(
    State(state): State<AppState>,
    principal: Principal,
    PathId(id): PathId,
) -> ApiResult<Json<Agent>> {
    principal.require_authenticated()?;
    let agent = read_agent(&state, &id).await?.ok_or(ApiError::NotFound("agent"))?;
    principal.require_owner(&agent.api_key_id)?;
    Ok(Json(agent))
}

/// One agent as it is now, with its latest acknowledged heartbeat.
pub(crate) async fn read_agent(state: &AppState, id: &str) -> ApiResult<Option<Agent>> {
    let now = state.now();
    let mut conn = state.store.read().await?;
    loop {
        let generation = state.store.fold_generation();
        let Some(mut agent) = agents::get(&mut conn, id, now).await? else {
            return Ok(None);
        };
        if state.store.freshen(std::slice::from_mut(&mut agent), generation, now) {
            return Ok(Some(agent));
        }
    }
}

/// Finds why a write to an agent did not apply: unknown (404), another key's (403) or
/// terminated (409). `Ok(())` when none holds (the agent changed meanwhile; retry).
pub(crate) async fn explain_refusal(state: &AppState, principal: &Principal, agent_id: &str) -> ApiResult<()> {
    let mut conn = state.store.read().await?;
    let access = agents::access(&mut conn, agent_id).await?.ok_or(ApiError::NotFound("agent"))?;
    principal.require_owner(&access.api_key_id)?;
    if access.status == "terminated" {
        return Err(ApiError::AgentTerminated);
    }
    Ok(())
}
