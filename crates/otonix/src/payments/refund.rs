//! Refunds (SPEC §5.5): a settled order that could not be delivered gives its amount back — to
//! the credits of the requester's agent whose *verified* wallet paid, or, when there is none (or
//! its balance is at its bound), as a refund owed to the payer (a `pending` credit). So does an
//! authorization that moved money after it was released, when its order was paid otherwise.

use serde_json::json;

use super::Payments;
use crate::domain::{TransactionStatus, TransactionType};
use crate::error::ApiResult;
use crate::store::orders::{self, Order};
use crate::store::transactions::{self, Origin, Transaction};
use crate::store::{Tx, agents, new_id};

/// Refunds a settled order held by its claim; false (and nothing done) when it is no longer
/// settled, for instance delivered by a concurrent request.
#[tracing::instrument(skip_all, fields(order_id = %order.id))]
pub async fn refund(engine: &Payments, order: &Order) -> ApiResult<bool> {
    let mut tx = engine.store.begin().await?;
    if !orders::mark_refunded(&mut tx, &order.id, order.claim(), engine.now()).await? {
        return Ok(false);
    }
    engine.products.refund(engine, &mut tx, order).await?;
    let payer = order.payer.clone().unwrap_or_default();
    let description = format!("Refund of order {} ({})", order.id, order.description);
    give_back(engine, &mut tx, order, &payer, description, order.tx_hash.as_deref()).await?;
    tx.commit().await?;
    tracing::warn!(order_id = %order.id, "paid order refunded after failed deliveries");
    Ok(true)
}

/// Refunds, in `tx`, a delivered order whose purchase then failed upstream (a registrar order
/// that failed): once, whoever asks. False when it was not delivered (or is refunded already).
#[tracing::instrument(skip_all, fields(order_id = %order_id))]
pub async fn refund_delivered(engine: &Payments, tx: &mut Tx, order_id: &str, why: &str) -> ApiResult<bool> {
    let Some(order) = orders::get(tx, order_id).await? else { return Ok(false) };
    if !orders::mark_refunded_after_delivery(tx, order_id, engine.now()).await? {
        return Ok(false);
    }
    let payer = order.payer.clone().unwrap_or_default();
    let description = format!("Refund of order {} ({}): {why}", order.id, order.description);
    give_back(engine, tx, &order, &payer, description, order.tx_hash.as_deref()).await?;
    tracing::warn!(order_id, why, "delivered order refunded after its purchase failed upstream");
    Ok(true)
}

/// Books the return of `order.amount` paid by `payer` (in `settlement_tx`), in `tx`: a credit to
/// the order's key's agent whose verified wallet is the payer's (a living one first, with room
/// in its balance), else a `pending` credit owed to the payer.
#[tracing::instrument(skip_all)]
pub(super) async fn give_back(
    engine: &Payments,
    tx: &mut Tx,
    order: &Order,
    payer: &str,
    description: String,
    settlement_tx: Option<&str>,
) -> ApiResult<()> {
    let now = engine.now();
    let agent = match agents::verified_agent_of(tx, &order.api_key_id, payer).await? {
        Some(id) => agents::row(tx, id, now).await?.filter(|a| a.credits.checked_add(order.amount).is_some()),
        None => None,
    };
    let terms = &engine.terms;
    let transaction = Transaction {
        seq: 0,
        id: new_id(),
        kind: TransactionType::Credit,
        amount: order.amount,
        currency: "USDC".into(),
        description: Some(description),
        status: if agent.is_some() { TransactionStatus::Completed } else { TransactionStatus::Pending },
        from_address: Some(terms.pay_to.to_checksum(None)),
        to_address: Some(payer.to_owned()),
        tx_hash: None,
        agent_id: agent.map(|a| a.id),
        metadata: json!({
            "protocol": "x402",
            "chainId": terms.token.chain_id,
            "orderId": order.id,
            "category": "refund",
            "settlementTx": settlement_tx,
            "refundOwedToPayer": payer,
        }),
        api_key_id: Some(order.api_key_id.clone()),
        credits_applied: true,
        origin: Origin::Payment,
        created_at: now,
    };
    transactions::record(tx, &engine.tiers, &transaction, now).await?;
    Ok(())
}
