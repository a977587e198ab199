//! Compute logs (SPEC §4.5): inference calls agents report; a call with a cost debits the
//! agent's credits with a `compute` transaction in the same database transaction.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::ApiJson;
use super::list::ListQuery;
use super::references::owned_agent;
use super::validate::Check;
use crate::auth::Principal;
use crate::clock::Millis;
use crate::domain::{AgentId, TransactionStatus, TransactionType, Usdc};
use crate::error::{ApiResult, ErrorBody};
use crate::state::AppState;
use crate::store::compute_logs::{self, ComputeLog, ComputeLogFilter, ComputeSummary};
use crate::store::new_id;
use crate::store::transactions::{Origin, Transaction};
use crate::wire;

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create_compute_log, list_compute_logs))
}

/// Body of `POST /api/compute-logs`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateComputeLogRequest {
    /// The agent that made the call (must be the caller's).
    pub agent_id: Option<String>,
    /// Inference provider, at most 64 characters.
    pub provider: Option<String>,
    /// Model, 1–64 characters.
    pub model: Option<String>,
    /// Input tokens, 0–10⁹.
    pub input_tokens: Option<i64>,
    /// Output tokens, 0–10⁹.
    pub output_tokens: Option<i64>,
    /// Cost in USD, 0–1,000,000, at most 6 decimals.
    pub cost_usd: Option<f64>,
    /// Latency in milliseconds, 0–86,400,000.
    pub latency_ms: Option<i64>,
    /// Kind of task, at most 64 characters.
    pub task_type: Option<String>,
    /// `auto` or `manual`.
    pub routed_by: Option<String>,
}

/// The compute log object as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ComputeLog)]
pub struct ComputeLogView {
    /// Log id.
    pub id: String,
    /// The agent that made the call.
    #[schema(value_type = String)]
    pub agent_id: AgentId,
    /// Inference provider (`anthropic`, …).
    pub provider: Option<String>,
    /// Model.
    pub model: String,
    /// Input tokens.
    pub input_tokens: i64,
    /// Output tokens.
    pub output_tokens: i64,
    /// Cost in USD.
    #[schema(value_type = f64)]
    pub cost_usd: Usdc,
    /// Latency in milliseconds.
    pub latency_ms: Option<i64>,
    /// Kind of task.
    pub task_type: Option<String>,
    /// `auto` or `manual`.
    pub routed_by: Option<String>,
    /// Owning key.
    pub api_key_id: String,
    /// When it was logged.
    #[serde(serialize_with = "wire::timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Millis,
}

impl From<ComputeLog> for ComputeLogView {
    fn from(log: ComputeLog) -> Self {
        Self {
            id: log.id,
            agent_id: log.agent_id,
            provider: log.provider,
            model: log.model,
            input_tokens: log.input_tokens,
            output_tokens: log.output_tokens,
            cost_usd: log.cost_usd,
            latency_ms: log.latency_ms,
            task_type: log.task_type,
            routed_by: log.routed_by,
            api_key_id: log.api_key_id,
            created_at: log.created_at,
        }
    }
}

/// Records an inference call and debits its cost.
#[utoipa::path(post, path = "/api/compute-logs", tag = "compute", request_body = CreateComputeLogRequest,
    security(("apiKey" = []), ("adminToken" = [])),
    responses((status = 201, body = ComputeLogView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create_compute_log(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<CreateComputeLogRequest>,
) -> ApiResult<(StatusCode, Json<ComputeLogView>)> {
    principal.require_authenticated()?;
    let mut check = Check::new();
    let agent_id = check.required("agentId", body.agent_id);
    let agent_id = check.agent_id("agentId", agent_id);
    let provider = check.text("provider", body.provider, 64);
    let model = check.required_text("model", body.model, 64);
    let input_tokens = check.int_range("inputTokens", body.input_tokens, 0, 1_000_000_000).unwrap_or(0);
    let output_tokens = check.int_range("outputTokens", body.output_tokens, 0, 1_000_000_000).unwrap_or(0);
    let cost = check.required("costUsd", body.cost_usd);
    let cost = check.money("costUsd", cost, Usdc::ZERO, Usdc::whole(1_000_000));
    let latency_ms = check.int_range("latencyMs", body.latency_ms, 0, 86_400_000);
    let task_type = check.text("taskType", body.task_type, 64);
    let routed_by = check.one_of("routedBy", body.routed_by, &["auto", "manual"]);
    let (agent_id, cost) = check.finish_with((agent_id, cost))?;

    let now = state.now();
    let mut tx = state.store.begin().await?;
    let agent = owned_agent(&mut tx, &principal, "agentId", agent_id).await?;
    let log = ComputeLog {
        seq: 0,
        id: new_id(),
        agent_id,
        provider,
        model,
        input_tokens,
        output_tokens,
        cost_usd: cost,
        latency_ms,
        task_type,
        routed_by,
        api_key_id: agent.api_key_id.clone(),
        created_at: now,
    };
    let stored = compute_logs::insert(&mut tx, &log, now).await?;
    if cost.is_positive() {
        let debit = Transaction {
            seq: 0,
            id: new_id(),
            kind: TransactionType::Debit,
            amount: cost,
            currency: "USDC".into(),
            description: Some(format!("Compute: {}", stored.model)),
            status: TransactionStatus::Completed,
            from_address: Some(agent.wallet_address.clone()),
            to_address: None,
            tx_hash: None,
            agent_id: Some(agent_id),
            metadata: json!({ "category": "compute", "computeLogId": stored.id, "model": stored.model }),
            api_key_id: Some(agent.api_key_id),
            credits_applied: true,
            origin: Origin::Api,
            created_at: now,
        };
        super::transactions::record(&state, &mut tx, &debit, "costUsd").await?;
    }
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(ComputeLogView::from(stored))))
}

/// Lists the caller's compute logs (everyone's for the admin), or with `summary=true` their
/// totals per model.
#[utoipa::path(get, path = "/api/compute-logs", tag = "compute", security(("apiKey" = []), ("adminToken" = [])),
    params(("agentId" = Option<String>, Query, description = "Agent id"), ("model" = Option<String>, Query, description = "Model"),
           ("since" = Option<String>, Query, description = "RFC 3339, inclusive"), ("until" = Option<String>, Query, description = "RFC 3339, inclusive"),
           ("summary" = Option<bool>, Query, description = "Return totals instead of records"),
           ("limit" = Option<usize>, Query, description = "Page size, 1–1000 (default 100)"), ("cursor" = Option<String>, Query, description = "Next page")),
    responses((status = 200, description = "Records (or a ComputeSummary with summary=true)", body = Vec<ComputeLogView>),
              (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn list_compute_logs(
    State(state): State<AppState>,
    principal: Principal,
    mut query: ListQuery,
) -> ApiResult<Response> {
    principal.require_authenticated()?;
    let filter = ComputeLogFilter {
        owner_key_id: principal.key_id().map(str::to_owned),
        agent_id: query.agent_id("agentId"),
        model: query.text("model"),
        since: query.timestamp("since"),
        until: query.timestamp("until"),
    };
    let summary = query.flag("summary");
    query.finish()?;
    let mut conn = state.store.read().await?;
    if summary {
        let totals: ComputeSummary = compute_logs::summary(&mut conn, &filter).await?;
        return Ok(Json(totals).into_response());
    }
    let page = compute_logs::list(&mut conn, &filter, query.cursor, query.limit).await?;
    Ok(query.respond(page.map(ComputeLogView::from)))
}
