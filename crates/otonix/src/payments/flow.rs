//! The parts both ways to pay share: picking up an order already being paid (a retry, a
//! concurrent request, a request after a crash), the atomic claim, and recording how a
//! settlement ended — which is where a claim is kept or released. A released claim stays pinned
//! to its order (no other order may use the payment), and an authorization is watched by the
//! sweep until it can no longer move money:
//!
//! | settlement | the claim | the order | the answer |
//! |---|---|---|---|
//! | settled | kept, and its transaction claimed too | `settled`, then delivered | 201 |
//! | settled by a transaction that paid another order | kept | `failed` | 402 `payment_already_used` |
//! | failed (money certainly did not move) | released: pinned, watched | `open` again | 402 `payment_invalid` |
//! | unavailable (nothing was sent) | released: pinned, watched | `open` again | 503 |
//! | pending (something may be on chain) | kept | `settling`, reference stored | 402 `payment_pending` |
//! | superseded (the order is no longer ours; nothing was sent) | — | untouched | what the order is now |

use std::time::Duration;

use super::deliver::{deliver_or_count, stored_answer};
use super::settle::{SettleReference, Settlement, Settler, dev_transaction};
use super::{ABANDONED_AFTER_MS, Outcome, Payments};
use crate::clock::format_rfc3339;
use crate::error::{ApiError, ApiResult};
use crate::store::Tx;
use crate::store::claims;
use crate::store::claims::Claim;
use crate::store::orders::{self, Order, OrderStatus, Settling};
use alloy_primitives::B256;

/// What to do with `order`, which a payment with `claim_key` wants to pay: `None` when it is
/// open (or expired, for the caller to judge) and the payment should go on; otherwise the
/// answer, after finishing what this payment left unfinished.
#[tracing::instrument(skip_all, fields(order_id = %order.id))]
pub async fn resume(engine: &Payments, order: &Order, claim_key: &str, wait: Duration) -> ApiResult<Option<Outcome>> {
    let ours = order.claim_key.as_deref() == Some(claim_key);
    match order.status {
        OrderStatus::Open | OrderStatus::Expired => Ok(None),
        OrderStatus::Settling if ours => reconcile(engine, order, wait).await.map(Some),
        OrderStatus::Settled | OrderStatus::Delivered | OrderStatus::Failed | OrderStatus::Refunded if ours => {
            answer_for(engine, order).await.map(Some)
        }
        OrderStatus::Settling | OrderStatus::Settled | OrderStatus::Delivered => Err(ApiError::PaymentInvalid {
            reason: "order_paid",
            message: "this order is already paid by another payment".into(),
        }),
        OrderStatus::Failed | OrderStatus::Refunded => Err(closed(order)),
    }
}

/// The answer for an order this payment holds that is past settlement.
async fn answer_for(engine: &Payments, order: &Order) -> ApiResult<Outcome> {
    match order.status {
        OrderStatus::Settled => deliver_or_count(engine, order).await,
        OrderStatus::Delivered => Ok(Outcome::Replayed(stored_answer(engine.terms(), order))),
        // Its payment settled in a transaction that had already paid another order.
        OrderStatus::Failed => Err(ApiError::PaymentAlreadyUsed),
        _ => Err(closed(order)),
    }
}

/// The answer for `order` as it is after this payment (`claim_key`) recorded its settlement.
async fn after_settlement(engine: &Payments, order: &Order, claim_key: &str) -> ApiResult<Outcome> {
    let ours = order.claim_key.as_deref() == Some(claim_key);
    match order.status {
        OrderStatus::Settling if ours => Ok(pending("the payment is being settled; retry")),
        OrderStatus::Settled | OrderStatus::Delivered | OrderStatus::Failed | OrderStatus::Refunded if ours => {
            answer_for(engine, order).await
        }
        OrderStatus::Open | OrderStatus::Expired => Err(ApiError::PaymentInvalid {
            reason: "order_reopened",
            message: "the order was reopened meanwhile and this payment was not used; pay it again".into(),
        }),
        _ => Err(ApiError::PaymentInvalid {
            reason: "order_paid",
            message: "this order is already paid by another payment".into(),
        }),
    }
}

fn closed(order: &Order) -> ApiError {
    ApiError::PaymentInvalid {
        reason: "order_closed",
        message: format!("the payment order is {}; request again to get a new one", order.status.as_str()),
    }
}

/// Finds out how the settlement of a `settling` order ended, and records it.
#[tracing::instrument(skip_all, fields(order_id = %order.id))]
pub async fn reconcile(engine: &Payments, order: &Order, wait: Duration) -> ApiResult<Outcome> {
    let reference: Option<SettleReference> =
        order.settle_reference.as_deref().and_then(|r| serde_json::from_str(r).ok());
    let settlement = match reference {
        Some(mut reference) => {
            reference.value.get_or_insert(order.amount.atomic_units());
            engine.settler.reconcile(&reference, wait).await
        }
        // A transfer proof was checked on chain before its claim: its money moved, in its hash.
        None if order.scheme.as_deref() == Some("txHash") => match proven_transaction(order.claim()) {
            Some(tx_hash) => Settlement::Settled { tx_hash },
            None => Settlement::Pending { reference: None },
        },
        // Dev mode settles in one step: do it again.
        None if matches!(engine.settler, Settler::Dev) => {
            Settlement::Settled { tx_hash: dev_transaction(order.claim()) }
        }
        // No reference: nothing was broadcast. Past a while, the attempt is dead.
        None if engine.now() - order.updated_at > ABANDONED_AFTER_MS => {
            Settlement::Unavailable { reason: "the previous attempt ended before anything was sent".into() }
        }
        None => Settlement::Pending { reference: None },
    };
    record(engine, order, settlement).await
}

/// The transaction of a transfer proof's claim key (`tx:<chain>:<hash>:<payer>`).
fn proven_transaction(claim_key: &str) -> Option<B256> {
    claim_key.strip_prefix("tx:")?.split(':').nth(1)?.parse().ok()
}

/// Claims the payment under its unique key and marks the order `settling`, in one database
/// transaction (`expired_too`: an expired order may be paid, by a transfer mined in time;
/// `valid_before`: an authorization's, to watch it until then should it be released). `None`
/// when this request is now the one to settle; otherwise the answer.
///
/// A claim is pinned to its order for good: the same payment presented again for that order
/// (after a release, once the payer is funded) claims it again; for any other order it is
/// `payment_already_used`.
#[tracing::instrument(skip_all)]
pub async fn claim(
    engine: &Payments,
    order: &Order,
    settling: &Settling,
    valid_before: Option<u64>,
    expired_too: bool,
) -> ApiResult<Option<Outcome>> {
    let now = engine.now();
    let mut tx = engine.store.begin().await?;
    let claimed = claims::claim(&mut tx, &settling.claim_key, &order.id, valid_before, now).await?;
    if let Claim::Taken(_) = claimed {
        return Err(ApiError::PaymentAlreadyUsed);
    }
    if orders::mark_settling(&mut tx, &order.id, settling, expired_too, now).await? {
        // Its money may have been refunded since the claim was read: then it pays nothing.
        if !claims::hold(&mut tx, &settling.claim_key).await? {
            return Err(ApiError::PaymentAlreadyUsed);
        }
        tx.commit().await?;
        return Ok(None);
    }
    drop(tx);
    if claimed == Claim::Claimed {
        return Err(ApiError::PaymentInvalid {
            reason: "order_paid",
            message: "this order is already being paid".into(),
        });
    }
    // A concurrent request with the same payment got there first: follow its progress.
    let current = reread(engine, &order.id).await?;
    match resume(engine, &current, &settling.claim_key, engine.terms.settlement_timeout).await? {
        Some(outcome) => Ok(Some(outcome)),
        None => Ok(Some(pending("the payment is being settled; retry"))),
    }
}

/// Records how the settlement of `order` (claimed by its `claim_key`) ended, and answers.
#[tracing::instrument(skip_all, fields(order_id = %order.id))]
pub async fn record(engine: &Payments, order: &Order, settlement: Settlement) -> ApiResult<Outcome> {
    let now = engine.now();
    let claim_key = order.claim();
    match settlement {
        Settlement::Settled { tx_hash: hash } => {
            let tx_hash = format!("{hash:#x}");
            let receipt = receipt(engine, order, &tx_hash, now);
            let mut tx = engine.store.begin().await?;
            // A payer's money in a transaction pays one order, whichever way it was presented.
            if let Some(holder) = claim_transaction(engine, &mut tx, order, &hash).await? {
                orders::mark_failed(&mut tx, &order.id, claim_key, "its transaction already paid another order", now)
                    .await?;
                tx.commit().await?;
                tracing::warn!(order_id = %order.id, %holder, %tx_hash, "a settlement's transfer already paid another order");
                return Err(ApiError::PaymentAlreadyUsed);
            }
            let moved = orders::mark_settled(&mut tx, &order.id, claim_key, &tx_hash, &receipt, now).await?;
            tx.commit().await?;
            if moved {
                tracing::info!(order_id = %order.id, tx_hash = %tx_hash, "payment settled");
                if engine.failpoint == Some(crate::config::Failpoint::AfterSettlement) {
                    tracing::error!("payments.failpoint = after-settlement: stopping between settlement and delivery");
                    std::process::abort();
                }
            }
            after_settlement(engine, &reread(engine, &order.id).await?, claim_key).await
        }
        Settlement::Failed { reason } => {
            release(engine, order, &reason).await?;
            Err(ApiError::PaymentInvalid {
                reason: "settlement_failed",
                message: format!("the payment did not settle: {reason}"),
            })
        }
        Settlement::Unavailable { reason } => {
            tracing::warn!(order_id = %order.id, reason, "the payment could not be settled now");
            release(engine, order, &reason).await?;
            Err(ApiError::UpstreamUnavailable("the payment could not be settled now; retry".into()))
        }
        Settlement::Pending { reference } => {
            // Stored again even when unchanged: that moves the order to the back of the sweep's
            // queue, so orders that stay pending never keep the others from their turn.
            if let Some(reference) = reference {
                let text = serde_json::to_string(&reference).map_err(ApiError::internal)?;
                let mut tx = engine.store.begin().await?;
                orders::set_settle_reference(&mut tx, &order.id, claim_key, &text, now).await?;
                tx.commit().await?;
            }
            Ok(pending("the payment is not settled yet; retry the same request with the same payment"))
        }
        Settlement::Superseded => after_settlement(engine, &reread(engine, &order.id).await?, claim_key).await,
    }
}

/// Claims the payer's transfers in `hash` for `order`, settled by it. `Some(holder)` when a
/// transfer proof of the same payer and transaction already counted them for another order, or
/// when they were refunded as this very authorization's late payment.
/// Another authorization of the same payer in the same transaction (a batch) may hold the claim
/// rightly — for its order, or for its refund: each authorization is its own money.
async fn claim_transaction(engine: &Payments, tx: &mut Tx, order: &Order, hash: &B256) -> ApiResult<Option<String>> {
    let Some(Ok(payer)) = order.payer.as_deref().map(str::parse::<alloy_primitives::Address>) else {
        return Err(ApiError::internal(anyhow::anyhow!("order {} settled without a payer", order.id)));
    };
    let key = engine.terms.transaction_claim(hash, payer);
    match claims::claim(tx, &key, &order.id, None, engine.now()).await? {
        Claim::Claimed | Claim::Ours => Ok(None),
        Claim::Taken(holder) => {
            // Refunded already (this authorization's own refund), or counted by a proof.
            let own_refund = holder == claims::refund_holder(order.claim());
            let counted_by_a_proof =
                orders::get(tx, &holder).await?.is_some_and(|h| h.claim_key.as_deref() == Some(&key));
            Ok((own_refund || counted_by_a_proof).then_some(holder))
        }
    }
}

/// Releases the claim and reopens the order: the money did not move, and the payer may pay again.
/// Only while the order is as the decision saw it (`order.settle_reference`).
#[tracing::instrument(skip_all, fields(order_id = %order.id, reason))]
async fn release(engine: &Payments, order: &Order, reason: &str) -> ApiResult<()> {
    let mut tx = engine.store.begin().await?;
    let seen = order.settle_reference.as_deref();
    if orders::reopen(&mut tx, &order.id, order.claim(), seen, reason, engine.now()).await? {
        claims::release(&mut tx, order.claim(), &order.id, engine.now()).await?;
    }
    tx.commit().await?;
    Ok(())
}

fn pending(message: &str) -> Outcome {
    Outcome::Pending { retry_after: 5, message: message.to_owned() }
}

/// The order as stored now.
pub async fn reread(engine: &Payments, order_id: &str) -> ApiResult<Order> {
    orders::get(&mut *engine.store.read().await?, order_id).await?.ok_or(ApiError::NotFound("order"))
}

/// The receipt of a settlement (SPEC §5.5).
fn receipt(engine: &Payments, order: &Order, tx_hash: &str, settled_at: crate::clock::Millis) -> serde_json::Value {
    let terms = &engine.terms;
    serde_json::json!({
        "id": crate::store::new_id(),
        "orderId": order.id,
        "txHash": tx_hash,
        "payer": order.payer,
        "amount": order.amount.atomic_units().to_string(),
        "amountUSDC": order.amount,
        "network": terms.network,
        "asset": terms.token.verifying_contract.to_checksum(None),
        "payTo": terms.pay_to.to_checksum(None),
        "resource": order.resource,
        "scheme": order.scheme,
        "settledAt": format_rfc3339(settled_at),
    })
}
