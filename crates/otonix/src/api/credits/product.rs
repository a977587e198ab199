//! Credits bought with USDC (`POST /api/agents/{id}/credits`, SPEC §4.6): the amount goes to the
//! agent's credits with a `credit` transaction. Anyone with a key may fund any agent.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::api::transactions::TransactionView;
use crate::domain::{AgentId, AgentStatus, TransactionType, Usdc};
use crate::error::{ApiError, ApiResult};
use crate::payments::{Booking, Payments, Product, Quote};
use crate::store::orders::Order;
use crate::store::{Tx, agents};

/// The credit top-up.
#[derive(Debug, Clone, Copy, Default)]
pub struct Credits;

/// What a top-up buys.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreditsParams {
    /// The agent funded (its id as stored: lowercase).
    pub agent_id: AgentId,
    /// Micro-USDC to add.
    pub amount: Usdc,
}

impl Product for Credits {
    const NAME: &'static str = "credits";
    const RESOURCE: &'static str = "POST /api/agents/:id/credits";
    type Params = CreditsParams;

    async fn quote(&self, engine: &Payments, params: &CreditsParams) -> ApiResult<Quote> {
        let mut conn = engine.store().read().await?;
        let agent = agents::row(&mut conn, params.agent_id, engine.now()).await?.ok_or(ApiError::NotFound("agent"))?;
        if agent.stored_status == AgentStatus::Terminated {
            return Err(ApiError::AgentTerminated);
        }
        if agent.credits.checked_add(params.amount).is_none() {
            return Err(ApiError::field("amount", Usdc::BEYOND_BOUND));
        }
        let description = format!("Credits: {} USDC for agent {}", params.amount, agent.name);
        Ok(Quote { amount: params.amount, description })
    }

    async fn record(
        &self,
        engine: &Payments,
        tx: &mut Tx,
        order: &Order,
        params: &CreditsParams,
        _fulfilled: Value,
    ) -> ApiResult<Value> {
        let booking = Booking {
            kind: TransactionType::Credit,
            category: "credits",
            agent_id: Some(params.agent_id),
            description: format!("Credits bought with USDC (order {})", order.id),
            moves_credits: true,
        };
        let transaction = engine.book(tx, order, &booking).await?;
        let agent = agents::row(tx, params.agent_id, engine.now()).await?.ok_or(ApiError::NotFound("agent"))?;
        Ok(json!({
            "success": true,
            "agent": { "id": agent.id, "credits": agent.credits, "survivalTier": agent.survival_tier },
            "transaction": TransactionView::full(transaction),
        }))
    }
}
