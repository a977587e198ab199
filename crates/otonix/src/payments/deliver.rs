//! Delivery of a settled order (SPEC §5.5): the product's work, its booking and the order marked
//! delivered with its stored answer, all in one database transaction; failed deliveries are
//! counted, and refunded after `payments.deliveryAttempts` (at once when the failure is final).

use serde_json::{Value, json};

use super::flow::reread;
use super::refund::refund;
use super::{Outcome, Paid, Payments, Terms};
use crate::config::Failpoint;
use crate::error::{ApiError, ApiResult};
use crate::store::orders::{self, Order, OrderStatus};

/// Delivers a settled order; a failure is counted, and refunded once it is final or has happened
/// `payments.deliveryAttempts` times.
#[tracing::instrument(skip_all, fields(order_id = %order.id))]
pub async fn deliver_or_count(engine: &Payments, order: &Order) -> ApiResult<Outcome> {
    let error = match deliver(engine, order).await {
        Ok(outcome) => return Ok(outcome),
        Err(error) => error,
    };
    let mut tx = engine.store.begin().await?;
    let attempts =
        orders::record_delivery_failure(&mut tx, &order.id, order.claim(), &error.to_string(), engine.now()).await?;
    tx.commit().await?;
    let allowed = engine.terms.delivery_attempts;
    let is_final = error.status().is_client_error();
    tracing::warn!(order_id = %order.id, attempts, allowed, is_final, error = ?error, "delivery of a paid order failed");
    if attempts == 0 || (!is_final && attempts < allowed) {
        return Err(error);
    }
    if !refund(engine, order).await? {
        // Delivered (or refunded) meanwhile by a concurrent request: answer what it is.
        let current = reread(engine, &order.id).await?;
        return match current.status {
            OrderStatus::Delivered if current.claim_key == order.claim_key => {
                Ok(Outcome::Replayed(stored_answer(&engine.terms, &current)))
            }
            _ => Err(error),
        };
    }
    Ok(Outcome::Refunded {
        message: format!("the payment settled but could not be delivered ({error}); its amount was refunded"),
    })
}

/// Performs the purchase and marks the order delivered with its answer.
async fn deliver(engine: &Payments, order: &Order) -> ApiResult<Outcome> {
    if engine.failpoint == Some(Failpoint::FailDelivery) {
        return Err(ApiError::UpstreamUnavailable("delivery failed (payments.failpoint = fail-delivery)".into()));
    }
    let fulfilled = engine.products.fulfil(engine, order).await?;
    let mut tx = engine.store.begin().await?;
    if !orders::mark_delivered(&mut tx, &order.id, order.claim(), engine.now()).await? {
        // Someone delivered it first: answer theirs.
        drop(tx);
        let current = reread(engine, &order.id).await?;
        return match current.status {
            OrderStatus::Delivered if current.claim_key == order.claim_key => {
                Ok(Outcome::Replayed(stored_answer(&engine.terms, &current)))
            }
            status => Err(ApiError::PaymentInvalid {
                reason: "order_closed",
                message: format!("the payment order is {}", status.as_str()),
            }),
        };
    }
    let mut body = engine.products.record(engine, &mut tx, order, fulfilled).await?;
    body["receipt"] = order.receipt.clone().unwrap_or(Value::Null);
    orders::set_response(&mut tx, &order.id, &body.to_string()).await?;
    tx.commit().await?;
    Ok(Outcome::Delivered(Paid { body, settlement: settlement(&engine.terms, order) }))
}

/// The stored answer of a delivered order.
pub fn stored_answer(terms: &Terms, order: &Order) -> Paid {
    let body = order.response_body.as_deref().and_then(|b| serde_json::from_str(b).ok()).unwrap_or(Value::Null);
    Paid { body, settlement: settlement(terms, order) }
}

/// The x402 settlement response of an order (`PAYMENT-RESPONSE`).
fn settlement(terms: &Terms, order: &Order) -> Value {
    json!({ "success": true, "transaction": order.tx_hash, "network": terms.network, "payer": order.payer })
}
