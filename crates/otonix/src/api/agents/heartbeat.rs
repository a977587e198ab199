//! `POST /api/agents/{id}/heartbeat`: the hottest path. Authentication comes from the key cache
//! and the write goes through the group-commit writer; the answer waits for the commit.

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::explain_refusal;
use crate::api::extract::{OptionalJson, PathId};
use crate::api::validate::Check;
use crate::auth::Principal;
use crate::domain::survival::{Health, Tier};
use crate::domain::{AgentId, Usdc};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;
use crate::store::hot::HeartbeatWrite;
use crate::wire;

/// Optional body of a heartbeat: the agent's self-report.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HeartbeatRequest {
    /// Free-text status, at most 64 characters.
    pub status: Option<String>,
    /// Metrics object, at most 4 KiB as JSON.
    #[schema(value_type = Option<Object>)]
    pub metrics: Option<serde_json::Value>,
}

/// Answer to a heartbeat.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HeartbeatReceipt {
    /// Always true.
    pub received: bool,
    /// The agent.
    #[schema(value_type = String)]
    pub agent_id: AgentId,
    /// When the next heartbeat is due.
    #[serde(serialize_with = "wire::timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub next_expected: i64,
    /// Health after this heartbeat (`up`).
    pub health: Health,
    /// Current tier.
    pub survival_tier: Tier,
    /// Current credits.
    #[schema(value_type = f64)]
    pub credits: Usdc,
    /// Heartbeat interval recommended for the agent's tier, in seconds.
    pub recommended_heartbeat_interval: i64,
}

/// Records a heartbeat of an agent owned by the caller.
#[utoipa::path(post, path = "/api/agents/{id}/heartbeat", tag = "agents", request_body(content = Option<HeartbeatRequest>),
    security(("apiKey" = []), ("adminToken" = [])), params(("id" = String, Path, description = "Agent id")),
    responses((status = 200, body = HeartbeatReceipt), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, description = "agent_terminated", body = ErrorBody)))]
pub async fn send_heartbeat(
    State(state): State<AppState>,
    principal: Principal,
    PathId(agent_id): PathId<AgentId>,
    OptionalJson(body): OptionalJson<HeartbeatRequest>,
) -> ApiResult<Json<HeartbeatReceipt>> {
    principal.require_authenticated()?;
    let body = body.unwrap_or_default();
    let mut check = Check::new();
    let status = check.text("status", body.status, 64);
    let metrics = match body.metrics {
        None | Some(serde_json::Value::Null) => None,
        Some(value @ serde_json::Value::Object(_)) => {
            let text = value.to_string();
            if text.len() > 4096 {
                check.fail("metrics", "must be at most 4096 bytes of JSON");
            }
            Some(text)
        }
        Some(_) => {
            check.fail("metrics", "must be an object");
            None
        }
    };
    check.finish()?;
    let write = HeartbeatWrite { agent_id, key_id: principal.key_id().map(str::to_owned), status, metrics };
    // A write that did not apply is explained (404/403/409); if nothing explains it, the agent
    // changed between the two reads, and one retry settles it.
    for _ in 0..2 {
        if let Some(applied) = state.store.heartbeat(write.clone()).await? {
            return Ok(Json(HeartbeatReceipt {
                received: true,
                agent_id,
                next_expected: applied.next_expected,
                health: Health::Up,
                survival_tier: applied.survival_tier,
                credits: applied.credits,
                recommended_heartbeat_interval: state.tiers.recommended_heartbeat(applied.survival_tier),
            }));
        }
        explain_refusal(&state, &principal, agent_id).await?;
    }
    Err(ApiError::Conflict("the agent changed during the heartbeat; retry".into()))
}
