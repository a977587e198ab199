//! The action log: `POST /api/agents/{id}/actions` (group-committed with the agent's counter),
//! the per-agent timeline and the global feed.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::explain_refusal;
use crate::api::extract::{ApiJson, PathId};
use crate::api::list::ListQuery;
use crate::api::validate::Check;
use crate::auth::Principal;
use crate::clock::Millis;
use crate::domain::{ActionStatus, AgentId};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;
use crate::store::actions::{self, Action, ActionFilter, NewAction};
use crate::store::agents;
use crate::store::hot::ActionWrite;
use crate::wire;

/// Body of `POST /api/agents/{id}/actions`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LogActionRequest {
    /// What the agent did, 1–2,000 characters.
    pub action: Option<String>,
    /// Category, 1–32 characters of `[a-z_-]` (`system`, `infra`, `trade`, …).
    pub category: Option<String>,
    /// Details, at most 16 KiB.
    pub details: Option<String>,
    /// Whether the agent acted on its own (default true).
    pub autonomous: Option<bool>,
    /// `completed` (default), `failed` or `pending`.
    pub status: Option<String>,
}

/// An action object (SPEC §4.2) as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Action)]
pub struct ActionView {
    /// Action id.
    pub id: String,
    /// The agent that acted.
    #[schema(value_type = String)]
    pub agent_id: AgentId,
    /// What it did.
    pub action: String,
    /// Free-text category (`system`, `infra`, `trade`, …).
    pub category: String,
    /// Details.
    pub details: Option<String>,
    /// `completed`, `failed` or `pending`.
    pub status: ActionStatus,
    /// Whether the agent acted on its own.
    pub autonomous: bool,
    /// When it was logged.
    #[serde(serialize_with = "wire::timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Millis,
}

impl From<Action> for ActionView {
    fn from(action: Action) -> Self {
        Self {
            id: action.id,
            agent_id: action.agent_id,
            action: action.action,
            category: action.category,
            details: action.details,
            status: action.status,
            autonomous: action.autonomous,
            created_at: action.created_at,
        }
    }
}

/// A logged action with the fields older clients read.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoggedAction {
    /// The action.
    #[serde(flatten)]
    pub action: ActionView,
    /// Always true.
    pub success: bool,
    /// Same as `id`.
    #[serde(rename = "action_id")]
    pub action_id: String,
    /// Same as `createdAt`.
    #[serde(serialize_with = "wire::timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub timestamp: i64,
}

fn valid_category(category: &str) -> bool {
    category.bytes().all(|b| b.is_ascii_lowercase() || b == b'_' || b == b'-')
}

/// Logs an action of an agent owned by the caller.
#[utoipa::path(post, path = "/api/agents/{id}/actions", tag = "actions", request_body = LogActionRequest,
    security(("apiKey" = []), ("adminToken" = [])), params(("id" = String, Path, description = "Agent id")),
    responses((status = 201, body = LoggedAction), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn log_action(
    State(state): State<AppState>,
    principal: Principal,
    PathId(agent_id): PathId<AgentId>,
    ApiJson(body): ApiJson<LogActionRequest>,
) -> ApiResult<Response> {
    principal.require_authenticated()?;
    let mut check = Check::new();
    let action = check.required_text("action", body.action, 2000);
    let category = check.required_text("category", body.category, 32);
    if !category.is_empty() && !valid_category(&category) {
        check.fail("category", "must contain only lowercase letters, '_' and '-'");
    }
    let details = check.text_bytes("details", body.details, 16 * 1024);
    let status = check.word("status", body.status).unwrap_or(ActionStatus::Completed);
    check.finish()?;
    let write = ActionWrite {
        key_id: principal.key_id().map(str::to_owned),
        action: NewAction { agent_id, action, category, details, status, autonomous: body.autonomous.unwrap_or(true) },
    };
    for _ in 0..2 {
        if let Some(action) = state.store.action(write.clone()).await? {
            let logged = LoggedAction {
                success: true,
                action_id: action.id.clone(),
                timestamp: action.created_at,
                action: action.into(),
            };
            return Ok((StatusCode::CREATED, Json(logged)).into_response());
        }
        explain_refusal(&state, &principal, agent_id).await?;
    }
    Err(ApiError::Conflict("the agent changed while logging; retry".into()))
}

fn action_filter(query: &mut ListQuery) -> ActionFilter {
    ActionFilter {
        category: query.text("category"),
        status: query.word("status"),
        since: query.timestamp("since"),
        until: query.timestamp("until"),
        ..ActionFilter::default()
    }
}

/// One agent's actions, newest first (its owner or the admin).
#[utoipa::path(get, path = "/api/agents/{id}/actions", tag = "actions", security(("apiKey" = []), ("adminToken" = [])),
    params(("id" = String, Path, description = "Agent id"), ("category" = Option<String>, Query, description = "Category"),
           ("status" = Option<ActionStatus>, Query, description = "How the action ended"),
           ("since" = Option<String>, Query, description = "RFC 3339, inclusive"), ("until" = Option<String>, Query, description = "RFC 3339, inclusive"),
           ("limit" = Option<usize>, Query, description = "Page size, 1–1000 (default 100)"), ("cursor" = Option<String>, Query, description = "Next page")),
    responses((status = 200, body = Vec<ActionView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_agent_actions(
    State(state): State<AppState>,
    principal: Principal,
    PathId(agent_id): PathId<AgentId>,
    mut query: ListQuery,
) -> ApiResult<Response> {
    principal.require_authenticated()?;
    let mut filter = action_filter(&mut query);
    query.finish()?;
    let mut conn = state.store.read().await?;
    let access = agents::access(&mut conn, agent_id).await?.ok_or(ApiError::NotFound("agent"))?;
    principal.require_owner(&access.api_key_id)?;
    filter.agent_id = Some(agent_id);
    let page = actions::list(&mut conn, &filter, query.cursor, query.limit).await?;
    Ok(query.respond(page.map(ActionView::from)))
}

/// The global feed: the caller's agents' actions (every agent's for the admin), newest first.
#[utoipa::path(get, path = "/api/agent-actions", tag = "actions", security(("apiKey" = []), ("adminToken" = [])),
    params(("agentId" = Option<String>, Query, description = "Agent id"), ("category" = Option<String>, Query, description = "Category"),
           ("status" = Option<ActionStatus>, Query, description = "How the action ended"),
           ("since" = Option<String>, Query, description = "RFC 3339, inclusive"), ("until" = Option<String>, Query, description = "RFC 3339, inclusive"),
           ("limit" = Option<usize>, Query, description = "Page size, 1–1000 (default 100)"), ("cursor" = Option<String>, Query, description = "Next page")),
    responses((status = 200, body = Vec<ActionView>), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list_all_actions(
    State(state): State<AppState>,
    principal: Principal,
    mut query: ListQuery,
) -> ApiResult<Response> {
    principal.require_authenticated()?;
    let mut filter = action_filter(&mut query);
    filter.agent_id = query.agent_id("agentId");
    filter.owner_key_id = principal.key_id().map(str::to_owned);
    query.finish()?;
    let mut conn = state.store.read().await?;
    let page = actions::list(&mut conn, &filter, query.cursor, query.limit).await?;
    Ok(query.respond(page.map(ActionView::from)))
}
