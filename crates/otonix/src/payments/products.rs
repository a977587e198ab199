//! What paid orders buy, and how each is delivered — by its request, or later by the
//! reconciliation sweep for an order whose client went away after paying.

use axum::response::Response;
use serde_json::json;

use super::Settled;
use super::deliver::{self, Booking};
use crate::error::{ApiError, ApiResult};
use crate::money::micros_to_json;
use crate::state::AppState;
use crate::store::{agents, orders};

/// The resource of a credit top-up.
pub const CREDITS: &str = "POST /api/agents/:id/credits";

/// Delivers a settled order: performs what it bought, marks it delivered and books it, in one
/// database transaction. A second delivery of the same order answers the stored response.
pub async fn deliver(state: &AppState, settled: &Settled) -> ApiResult<Response> {
    if state.payments.failpoint == Some(super::Failpoint::FailDelivery) {
        return Err(ApiError::UpstreamUnavailable("delivery failed (OTONIX_FAILPOINT=fail-delivery)".into()));
    }
    match settled.order.resource.as_str() {
        CREDITS => deliver_credits(state, settled).await,
        other => Err(ApiError::internal(anyhow::anyhow!("no delivery for resource {other}"))),
    }
}

/// The agent of a top-up: `/api/agents/{id}/credits`.
fn credits_agent(path: &str) -> Option<&str> {
    path.strip_prefix("/api/agents/")?.strip_suffix("/credits")
}

async fn deliver_credits(state: &AppState, settled: &Settled) -> ApiResult<Response> {
    let order = &settled.order;
    let agent_id = credits_agent(&order.path).ok_or_else(|| ApiError::internal(anyhow::anyhow!("bad top-up path")))?;
    let booking = Booking {
        kind: "credit",
        category: "credits",
        agent_id: Some(agent_id.to_owned()),
        description: format!("Credits bought with USDC (order {})", order.id),
    };
    let mut tx = state.store.begin().await?;
    let Some(transaction) = deliver::complete(state, &mut tx, settled, &booking).await? else {
        drop(tx);
        let order =
            orders::get(&mut *state.store.read().await?, &order.id).await?.ok_or(ApiError::NotFound("order"))?;
        return Ok(deliver::replay(&state.payments.terms, &order));
    };
    let agent = agents::get(&mut tx, agent_id, state.now()).await?.ok_or(ApiError::NotFound("agent"))?;
    let body = json!({
        "success": true,
        "agent": { "id": agent.id, "credits": micros_to_json(agent.credits), "survivalTier": agent.survival_tier },
        "transaction": transaction,
    });
    let response = deliver::respond(state, &mut tx, settled, body).await?;
    tx.commit().await?;
    Ok(response)
}
