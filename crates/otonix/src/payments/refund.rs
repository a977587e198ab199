//! Refunds (SPEC §5.5): a settled order that could not be delivered gives its amount back — to
//! the credits of the requester's agent whose *verified* wallet paid, or, when there is none (or
//! its balance is at its bound), as a refund owed to the payer (a `pending` credit).

use serde_json::json;

use super::Payments;
use crate::error::ApiResult;
use crate::money::MAX_BALANCE;
use crate::store::orders::{self, Order};
use crate::store::transactions::{self, Origin, Transaction};
use crate::store::{agents, new_id};

/// Refunds a settled order held by its claim; does nothing when it is no longer settled.
pub async fn refund(engine: &Payments, order: &Order) -> ApiResult<()> {
    let now = engine.now();
    let mut tx = engine.store.begin().await?;
    if !orders::mark_refunded(&mut tx, &order.id, order.claim(), now).await? {
        return Ok(());
    }
    engine.products.refund(engine, &mut tx, order).await?;
    let payer = order.payer.clone().unwrap_or_default();
    let agent = match agents::verified_agent_of(&mut tx, &order.api_key_id, &payer).await? {
        Some(id) => agents::get(&mut tx, &id, now).await?.filter(|a| a.credits + order.amount <= MAX_BALANCE),
        None => None,
    };
    let terms = &engine.terms;
    let transaction = Transaction {
        seq: 0,
        id: new_id(),
        kind: "credit".into(),
        amount: order.amount,
        currency: "USDC".into(),
        description: Some(format!("Refund of order {} ({})", order.id, order.description)),
        status: if agent.is_some() { "completed" } else { "pending" }.into(),
        from_address: Some(terms.pay_to.to_checksum(None)),
        to_address: order.payer.clone(),
        tx_hash: None,
        agent_id: agent.map(|a| a.id),
        metadata: json!({
            "protocol": "x402",
            "chainId": terms.token.chain_id,
            "orderId": order.id,
            "category": "refund",
            "settlementTx": order.tx_hash,
            "refundOwedToPayer": order.payer,
        }),
        api_key_id: Some(order.api_key_id.clone()),
        credits_applied: true,
        origin: Origin::Payment,
        created_at: now,
    };
    transactions::record(&mut tx, &engine.tiers, &transaction, now).await?;
    tx.commit().await?;
    tracing::warn!(order_id = %order.id, "paid order refunded after failed deliveries");
    Ok(())
}
