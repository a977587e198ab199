//! Finishing what requests left unfinished (SPEC §5.5): a sweep, run by one replica at a time
//! under a lease, reconciles `settling` orders from the chain and delivers `settled` orders
//! whose client never came back; a delivery that keeps failing is refunded.

use serde_json::json;

use super::flow::reconcile;
use super::{Outcome, Settled, products};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::orders::{self, Order};
use crate::store::transactions::{self, Transaction};
use crate::store::{Sql, leases, new_id};

/// The lease the sweep runs under.
pub const LEASE: &str = "payments-sweep";

/// What a sweep did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SweepReport {
    /// Whether this replica held the lease.
    pub ran: bool,
    /// Orders reconciled.
    pub reconciled: usize,
    /// Orders delivered.
    pub delivered: usize,
}

/// One sweep, if `holder` gets the lease.
pub async fn sweep(state: &AppState, holder: &str, lease_ms: i64) -> ApiResult<SweepReport> {
    let now = state.now();
    let mut tx = state.store.begin().await?;
    let leader = leases::acquire(&mut tx, LEASE, holder, lease_ms, now).await?;
    tx.commit().await?;
    if !leader {
        return Ok(SweepReport::default());
    }
    let mut report = SweepReport { ran: true, ..SweepReport::default() };
    // Leave requests the time to finish their own work: a settling order past the wait of its
    // request plus a sweep, a settled one untouched for two sweeps.
    let interval = state.config.payments.sweep_interval_seconds as i64 * 1000;
    let settling_after = state.payments.terms.settlement_timeout.as_millis() as i64 + interval;
    let settled_after = 2 * interval;
    let settling = orders::stale(&mut *state.store.read().await?, "settling", now - settling_after, 100).await?;
    for order in settling {
        report.reconciled += 1;
        if let Ok(Outcome::Settled(settled)) = reconcile(&state.payments, state, &order).await
            && deliver_or_count(state, &settled).await.is_ok()
        {
            report.delivered += 1;
        }
    }
    let settled = orders::stale(&mut *state.store.read().await?, "settled", now - settled_after, 100).await?;
    for order in settled {
        if deliver_or_count(state, &Settled { order }).await.is_ok() {
            report.delivered += 1;
        }
    }
    Ok(report)
}

/// Delivers a settled order; a failure is counted, and after `payments.deliveryAttempts`
/// failures the order is refunded (and the answer says so: 402 `payment_invalid`,
/// reason `order_refunded`).
pub async fn deliver_or_count(state: &AppState, settled: &Settled) -> ApiResult<axum::response::Response> {
    match products::deliver(state, settled).await {
        Ok(response) => Ok(response),
        Err(error) => {
            let mut tx = state.store.begin().await?;
            let attempts =
                orders::record_delivery_failure(&mut tx, &settled.order.id, &error.to_string(), state.now()).await?;
            tx.commit().await?;
            let allowed = state.payments.terms.delivery_attempts;
            tracing::warn!(order_id = %settled.order.id, attempts, allowed, error = ?error, "delivery of a paid order failed");
            if attempts < allowed {
                return Err(error);
            }
            refund(state, &settled.order).await?;
            Err(ApiError::PaymentInvalid {
                reason: "order_refunded",
                message: format!(
                    "the payment settled but could not be delivered after {attempts} attempts ({error}); \
                     its amount was refunded"
                ),
            })
        }
    }
}

/// Refunds a settled order: the amount goes to the credits of the requester's agent that holds
/// the paying wallet, or is recorded as a refund owed to the payer (a `pending` credit).
pub async fn refund(state: &AppState, order: &Order) -> ApiResult<()> {
    let now = state.now();
    let mut tx = state.store.begin().await?;
    if !orders::mark_refunded(&mut tx, &order.id, now).await? {
        return Ok(());
    }
    let mut sql = Sql::new("SELECT id FROM agents WHERE api_key_id = ");
    sql.bind(&order.api_key_id).push(" AND wallet_address = ").bind(order.payer.clone()).push(" LIMIT 1");
    let agent_id: Option<String> =
        sql.fetch_optional(&mut *tx).await?.map(|r| sqlx::Row::try_get(&r, "id")).transpose()?;
    let transaction = Transaction {
        seq: 0,
        id: new_id(),
        kind: "credit".into(),
        amount: order.amount,
        currency: "USDC".into(),
        description: Some(format!("Refund of order {} ({})", order.id, order.description)),
        status: if agent_id.is_some() { "completed" } else { "pending" }.into(),
        from_address: Some(state.payments.terms.pay_to.to_checksum(None)),
        to_address: order.payer.clone(),
        tx_hash: None,
        agent_id,
        metadata: json!({
            "protocol": "x402",
            "chainId": state.payments.terms.token.chain_id,
            "orderId": order.id,
            "category": "refund",
            "settlementTx": order.tx_hash,
            "refundOwedToPayer": order.payer,
        }),
        api_key_id: Some(order.api_key_id.clone()),
        credits_applied: true,
        origin: transactions::Origin::Payment,
        created_at: now,
    };
    transactions::record(&mut tx, &state.tiers, &transaction, now).await.map_err(ApiError::from)?;
    tx.commit().await?;
    tracing::warn!(order_id = %order.id, "paid order refunded after failed deliveries");
    Ok(())
}
