//! The parts of the payment flow both ways to pay share: picking up an order that is already
//! being paid (a retry, a concurrent request, a request after a crash), and recording how a
//! settlement ended.

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::orders::{self, Claim, Order, Settling};

use super::settle::{SettleReference, Settlement};
use super::{Outcome, Payments, Settled, deliver};

/// After this long, a `settling` order that never recorded an attempt was abandoned (a crash
/// between the claim and the settlement): nothing reached the chain, so it can be reopened.
const ABANDONED_AFTER_MS: i64 = 120_000;

/// What to do with an order that a payment with `claim_key` wants to pay: `None` when the
/// order is open and the payment should go on; otherwise the answer.
pub async fn resume(
    payments: &Payments,
    state: &AppState,
    order: &Order,
    claim_key: &str,
) -> ApiResult<Option<Outcome>> {
    let ours = order.claim_key.as_deref() == Some(claim_key);
    let already_paid = || ApiError::PaymentInvalid {
        reason: "order_paid",
        message: "this order is already paid by another payment".into(),
    };
    match order.status.as_str() {
        "open" => Ok(None),
        "delivered" if ours => Ok(Some(Outcome::Replay(deliver::replay(&payments.terms, order)))),
        "settled" if ours => Ok(Some(Outcome::Settled(Box::new(Settled { order: order.clone() })))),
        "settling" if ours => reconcile(payments, state, order).await.map(Some),
        "settling" | "settled" | "delivered" => Err(already_paid()),
        _ => {
            Err(ApiError::PaymentInvalid { reason: "order_closed", message: format!("the order is {}", order.status) })
        }
    }
}

/// Finds out how the settlement of a `settling` order ended and records it.
pub async fn reconcile(payments: &Payments, state: &AppState, order: &Order) -> ApiResult<Outcome> {
    let now = state.now();
    let reference: Option<SettleReference> =
        order.settle_reference.as_deref().and_then(|r| serde_json::from_str(r).ok());
    let settlement = match reference {
        Some(reference) => payments.settler.reconcile(&reference, (now / 1000) as u64).await,
        // Dev mode settles in one step: redo it.
        None if payments.settler.rpc().is_none() && payments.terms.mode == crate::config::PaymentMode::Dev => {
            Settlement::Settled {
                tx_hash: super::settle::dev_transaction(order.claim_key.as_deref().unwrap_or_default()),
            }
        }
        None if now - order.updated_at > ABANDONED_AFTER_MS => {
            Settlement::Unavailable { reason: "the previous attempt was interrupted before anything was sent".into() }
        }
        None => Settlement::Pending { reference: SettleReference::default() },
    };
    record(payments, state, order, settlement).await
}

/// Step 6 of both ways to pay: claims the payment under its unique key and marks the order
/// `settling`, in one database transaction. `None` when this request is now the one to settle;
/// `Some` with the outcome when a concurrent request with the same payment got there first.
pub async fn claim(
    payments: &Payments,
    state: &AppState,
    order: &Order,
    settling: &Settling,
) -> ApiResult<Option<Outcome>> {
    let now = state.now();
    let mut tx = state.store.begin().await?;
    match orders::claim(&mut tx, &settling.claim_key, &order.id, now).await? {
        Claim::Claimed => {}
        Claim::Taken => return Err(ApiError::PaymentAlreadyUsed),
        Claim::Ours => {
            // A concurrent request with the same payment claimed it first: follow its progress.
            drop(tx);
            let current =
                orders::get(&mut *state.store.read().await?, &order.id).await?.ok_or(ApiError::NotFound("order"))?;
            return match resume(payments, state, &current, &settling.claim_key).await? {
                Some(outcome) => Ok(Some(outcome)),
                None => Err(ApiError::PaymentPending {
                    retry_after: 1,
                    message: "the payment is being settled; retry".into(),
                }),
            };
        }
    }
    if !orders::mark_settling(&mut tx, &order.id, settling, now).await? {
        return Err(ApiError::PaymentInvalid {
            reason: "order_paid",
            message: "this order is already being paid".into(),
        });
    }
    tx.commit().await?;
    Ok(None)
}

/// Records how a settlement ended and answers accordingly.
pub async fn record(
    payments: &Payments,
    state: &AppState,
    order: &Order,
    settlement: Settlement,
) -> ApiResult<Outcome> {
    let now = state.now();
    let claim_key = order.claim_key.clone().unwrap_or_default();
    match settlement {
        Settlement::Settled { tx_hash } => {
            let payer = order.payer.clone().unwrap_or_default();
            let scheme = order.scheme.clone().unwrap_or_else(|| "exact".into());
            let receipt = deliver::receipt(&payments.terms, order, &scheme, &payer, &tx_hash, now);
            let mut tx = state.store.begin().await?;
            let moved = orders::mark_settled(&mut tx, &order.id, &tx_hash, &receipt, now).await?;
            tx.commit().await?;
            if moved {
                tracing::info!(order_id = %order.id, tx_hash = %tx_hash, "payment settled");
                if payments.failpoint == Some(super::Failpoint::AfterSettlement) {
                    tracing::error!("OTONIX_FAILPOINT=after-settlement: stopping now, between settlement and delivery");
                    std::process::abort();
                }
            }
            let mut conn = state.store.read().await?;
            let current = orders::get(&mut conn, &order.id).await?.ok_or(ApiError::NotFound("order"))?;
            match current.status.as_str() {
                "settled" => Ok(Outcome::Settled(Box::new(Settled { order: current }))),
                "delivered" => Ok(Outcome::Replay(deliver::replay(&payments.terms, &current))),
                other => {
                    Err(ApiError::PaymentInvalid { reason: "order_closed", message: format!("the order is {other}") })
                }
            }
        }
        Settlement::Failed { reason } => {
            reopen(state, order, &claim_key, &reason).await?;
            Err(ApiError::PaymentInvalid {
                reason: "settlement_failed",
                message: format!("the payment did not settle: {reason}"),
            })
        }
        Settlement::Unavailable { reason } => {
            reopen(state, order, &claim_key, &reason).await?;
            Err(ApiError::UpstreamUnavailable(format!("the payment could not be settled now ({reason}); retry")))
        }
        Settlement::Pending { reference } => {
            if reference != SettleReference::default() {
                store_reference(state, &order.id, &reference).await?;
            }
            Err(ApiError::PaymentPending {
                retry_after: 5,
                message: "the payment is not settled yet; retry the same request with the same payment".into(),
            })
        }
    }
}

/// Releases the claim and reopens the order: the payer was not charged and may pay again.
async fn reopen(state: &AppState, order: &Order, claim_key: &str, reason: &str) -> ApiResult<()> {
    let mut tx = state.store.begin().await?;
    orders::release(&mut tx, claim_key, &order.id).await?;
    orders::reopen(&mut tx, &order.id, reason, state.now()).await?;
    tx.commit().await?;
    Ok(())
}

/// Where a settlement stores its reference before doing anything irrevocable.
pub struct ReferenceSink {
    state: AppState,
    order_id: String,
}

impl ReferenceSink {
    /// A sink for `order_id`.
    pub fn new(state: &AppState, order_id: &str) -> Self {
        Self { state: state.clone(), order_id: order_id.to_owned() }
    }

    /// Stores the reference (a failure is logged: the claim still protects the payment).
    pub async fn store(&self, reference: &SettleReference) {
        if let Err(error) = store_reference(&self.state, &self.order_id, reference).await {
            tracing::error!(order_id = %self.order_id, error = %error, "could not store a settlement reference");
        }
    }
}

/// Stores what an unfinished settlement is waiting for.
pub async fn store_reference(state: &AppState, order_id: &str, reference: &SettleReference) -> ApiResult<()> {
    let text = serde_json::to_string(reference).map_err(ApiError::internal)?;
    let mut tx = state.store.begin().await?;
    orders::set_settle_reference(&mut tx, order_id, &text, state.now()).await?;
    tx.commit().await?;
    Ok(())
}
