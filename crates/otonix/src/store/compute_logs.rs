//! Compute logs: one record per inference call an agent reports (SPEC §4.5).

use std::collections::BTreeMap;

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use utoipa::ToSchema;

use super::events::{self, NewEvent};
use super::{Cursor, Page, Sql, StoreResult, get_agent_id};
use crate::clock::Millis;
use crate::domain::{AgentId, Usdc};

/// A compute log's row (cost in micro-USD). The API's view is `api::compute::ComputeLogView`.
#[derive(Debug, Clone)]
pub struct ComputeLog {
    /// Insertion order (the pagination key).
    pub seq: i64,
    /// Log id.
    pub id: String,
    /// The agent that made the call.
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
    pub created_at: Millis,
}

const COLUMNS: &str = "seq, id, agent_id, provider, model, input_tokens, output_tokens, cost, latency_ms, task_type, \
    routed_by, api_key_id, created_at";

fn from_row(row: &AnyRow) -> Result<ComputeLog, sqlx::Error> {
    Ok(ComputeLog {
        seq: row.try_get("seq")?,
        id: row.try_get("id")?,
        agent_id: get_agent_id(row, "agent_id")?,
        provider: row.try_get("provider")?,
        model: row.try_get("model")?,
        input_tokens: row.try_get("input_tokens")?,
        output_tokens: row.try_get("output_tokens")?,
        cost_usd: row.try_get("cost")?,
        latency_ms: row.try_get("latency_ms")?,
        task_type: row.try_get("task_type")?,
        routed_by: row.try_get("routed_by")?,
        api_key_id: row.try_get("api_key_id")?,
        created_at: row.try_get("created_at")?,
    })
}

/// Inserts a compute log and its `compute_log.created` event.
#[tracing::instrument(skip_all)]
pub async fn insert(conn: &mut AnyConnection, log: &ComputeLog, now: Millis) -> StoreResult<ComputeLog> {
    let mut sql = Sql::insert(
        "compute_logs",
        vec![
            ("id", log.id.as_str().into()),
            ("api_key_id", log.api_key_id.as_str().into()),
            ("agent_id", log.agent_id.into()),
            ("provider", log.provider.clone().into()),
            ("model", log.model.as_str().into()),
            ("input_tokens", log.input_tokens.into()),
            ("output_tokens", log.output_tokens.into()),
            ("cost", log.cost_usd.into()),
            ("latency_ms", log.latency_ms.into()),
            ("task_type", log.task_type.clone().into()),
            ("routed_by", log.routed_by.clone().into()),
            ("created_at", now.into()),
        ],
    );
    sql.push(&format!(" RETURNING {COLUMNS}"));
    let row = sql.fetch_returned(&mut *conn).await?;
    let stored = from_row(&row)?;
    let payload = serde_json::json!({
        "id": stored.id, "agentId": stored.agent_id, "provider": stored.provider, "model": stored.model,
        "inputTokens": stored.input_tokens, "outputTokens": stored.output_tokens,
        "costUsd": stored.cost_usd, "taskType": stored.task_type,
    });
    let event = NewEvent::new("compute_log.created", &stored.id, &payload)
        .owned_by(Some(&stored.api_key_id))
        .for_agent(stored.agent_id);
    events::append(conn, &[event], now).await?;
    Ok(stored)
}

/// Filters of `GET /api/compute-logs`.
#[derive(Debug, Default, Clone)]
pub struct ComputeLogFilter {
    /// Only logs of agents owned by this key (`None`: all, for the admin).
    pub owner_key_id: Option<String>,
    /// Only this agent.
    pub agent_id: Option<AgentId>,
    /// Only this model.
    pub model: Option<String>,
    /// Logged at or after.
    pub since: Option<Millis>,
    /// Logged at or before.
    pub until: Option<Millis>,
}

fn filtered(select: &str, filter: &ComputeLogFilter) -> Sql {
    let mut sql = Sql::new(&format!("SELECT {select} FROM compute_logs WHERE 1 = 1"));
    sql.and_eq("api_key_id", filter.owner_key_id.as_deref());
    sql.and_eq("agent_id", filter.agent_id);
    sql.and_eq("model", filter.model.as_deref());
    sql.and_cmp("created_at", ">=", filter.since);
    sql.and_cmp("created_at", "<=", filter.until);
    sql
}

/// A page of compute logs, newest first.
pub async fn list(
    conn: &mut AnyConnection,
    filter: &ComputeLogFilter,
    cursor: Option<Cursor>,
    limit: usize,
) -> StoreResult<Page<ComputeLog>> {
    let mut sql = filtered(COLUMNS, filter);
    sql.page(cursor, limit);
    let rows = sql.fetch_all(&mut *conn).await?;
    let items = rows.iter().map(from_row).collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_rows(items, limit, |l| l.seq))
}

/// Per-model totals.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ModelUsage {
    /// Number of calls.
    pub calls: i64,
    /// Total cost in USD.
    #[schema(value_type = f64)]
    pub cost_usd: Usdc,
    /// Total input tokens.
    pub input_tokens: i64,
    /// Total output tokens.
    pub output_tokens: i64,
}

/// Totals over a filtered range (`?summary=true`).
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ComputeSummary {
    /// Total cost in USD.
    #[schema(value_type = f64)]
    pub total_cost_usd: Usdc,
    /// Total calls.
    pub calls: i64,
    /// Totals per model.
    pub by_model: BTreeMap<String, ModelUsage>,
}

/// Sums the filtered logs per model.
pub async fn summary(conn: &mut AnyConnection, filter: &ComputeLogFilter) -> StoreResult<ComputeSummary> {
    let mut sql = filtered(
        "model, COUNT(*) AS calls, CAST(SUM(cost) AS BIGINT) AS cost, CAST(SUM(input_tokens) AS BIGINT) AS input_tokens, \
         CAST(SUM(output_tokens) AS BIGINT) AS output_tokens",
        filter,
    );
    sql.push(" GROUP BY model");
    let mut summary = ComputeSummary::default();
    for row in sql.fetch_all(&mut *conn).await? {
        let usage = ModelUsage {
            calls: row.try_get("calls")?,
            cost_usd: row.try_get("cost")?,
            input_tokens: row.try_get("input_tokens")?,
            output_tokens: row.try_get("output_tokens")?,
        };
        summary.calls += usage.calls;
        summary.total_cost_usd = summary.total_cost_usd.saturating_add(usage.cost_usd);
        summary.by_model.insert(row.try_get("model")?, usage);
    }
    Ok(summary)
}
