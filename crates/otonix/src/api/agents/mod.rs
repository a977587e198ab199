//! Agents (SPEC §4.2): registration, reads, heartbeats and the action log.

mod actions;
mod heartbeat;
mod register;
mod view;
mod wallet;

pub use view::AgentView;

use axum::Json;
use axum::extract::State;
use axum::response::Response;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::PathId;
use super::list::ListQuery;
use crate::auth::Principal;
use crate::domain::heartbeat::may_write;
use crate::domain::{AgentId, AgentStatus, Health, Tier, WriteRefusal};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;
use crate::store::agents::{self, AgentFilter};

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

/// Lists agents, newest first; other keys' agents sanitized.
#[utoipa::path(get, path = "/api/agents", tag = "agents",
    params(("status" = Option<AgentStatus>, Query, description = "Effective status"),
           ("health" = Option<Health>, Query, description = "Health at the time of the request"),
           ("survivalTier" = Option<Tier>, Query, description = "Survival tier"),
           ("limit" = Option<usize>, Query, description = "Page size, 1–1000 (default 100)"),
           ("cursor" = Option<String>, Query, description = "From X-Next-Cursor of the previous page")),
    responses((status = 200, body = Vec<AgentView>), (status = 400, body = ErrorBody)))]
pub async fn list_agents(
    State(state): State<AppState>,
    principal: Principal,
    mut query: ListQuery,
) -> ApiResult<Response> {
    let filter = AgentFilter {
        status: query.word("status"),
        health: query.word("health"),
        survival_tier: query.word("survivalTier"),
    };
    query.finish()?;
    let page = state.store.agents(&filter, query.cursor, query.limit, state.now()).await?;
    Ok(query.respond(page.map(|agent| AgentView::for_principal(agent, &principal))))
}

/// One agent (its owner or the admin).
#[utoipa::path(get, path = "/api/agents/{id}", tag = "agents", security(("apiKey" = []), ("adminToken" = [])),
    params(("id" = String, Path, description = "Agent id")),
    responses((status = 200, body = AgentView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn get_agent(
    State(state): State<AppState>,
    principal: Principal,
    PathId(id): PathId<AgentId>,
) -> ApiResult<Json<AgentView>> {
    principal.require_authenticated()?;
    let agent = state.store.agent(id, state.now()).await?.ok_or(ApiError::NotFound("agent"))?;
    principal.require_owner(&agent.api_key_id)?;
    Ok(Json(AgentView::full(agent)))
}

/// Finds why a write to an agent did not apply: unknown (404), another key's (403) or
/// terminated (409). `Ok(())` when none holds (the agent changed meanwhile; retry).
pub(crate) async fn explain_refusal(state: &AppState, principal: &Principal, agent_id: AgentId) -> ApiResult<()> {
    let caller = principal.caller().ok_or(ApiError::Unauthenticated("authentication required: send X-API-Key"))?;
    let mut conn = state.store.read().await?;
    let access = agents::access(&mut conn, agent_id).await?.ok_or(ApiError::NotFound("agent"))?;
    match may_write(caller, &access.api_key_id, access.status) {
        Ok(()) => Ok(()),
        Err(WriteRefusal::NotOwner) => Err(ApiError::Forbidden("this resource belongs to another API key")),
        Err(WriteRefusal::Terminated) => Err(ApiError::AgentTerminated),
    }
}
