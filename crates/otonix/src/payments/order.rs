//! Which order a payment is for, and whether it may still be paid (SPEC §5.4 a 2, b 1): it must
//! have been issued for exactly this request (principal, method, path, canonical body), and an
//! open one must still be for sale at its price.

use super::{PaidRequest, Payments, QuoteFn, canonical};
use crate::error::{ApiError, ApiResult};
use crate::store::orders::{self, Order, OrderStatus};

/// What to do with an order past its expiry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Expiry {
    /// It can no longer be paid (EIP-3009: the authorization is signed now).
    Refuse,
    /// It may still be paid by a transfer mined before it expired (judged by block time).
    AllowPaidBefore,
}

/// The order a payment names, checked against the request. The flag tells whether it is past
/// its expiry (only ever true with [`Expiry::AllowPaidBefore`]). With a `quote`, an open order
/// must still be for sale at its price: asked before money moves (an authorization), not after
/// (a transfer already made is taken, and a delivery that then fails is refunded).
pub(super) async fn check_order(
    engine: &Payments,
    request: &PaidRequest,
    order: Option<Order>,
    quote: Option<QuoteFn<'_>>,
    expiry: Expiry,
) -> ApiResult<(Order, bool)> {
    let Some(order) = order else {
        return Err(ApiError::PaymentInvalid {
            reason: "unknown_order",
            message: "no such payment order; send the request without a payment header to get one".into(),
        });
    };
    let mismatch = |what: &str| ApiError::PaymentInvalid {
        reason: "order_mismatch",
        message: format!("the payment order was issued for {what}"),
    };
    if order.api_key_id != request.principal {
        return Err(mismatch("another API key"));
    }
    if order.method != request.method || order.path != request.path {
        return Err(mismatch("another resource"));
    }
    if order.body_hash != canonical::body_hash(&request.canonical_body) {
        return Err(mismatch("a different request body; retry with the same body"));
    }
    if !matches!(order.status, OrderStatus::Open | OrderStatus::Expired) {
        return Ok((order, false));
    }
    let now = engine.now();
    let expired = order.status == OrderStatus::Expired || order.expires_at < now;
    if expired && expiry == Expiry::Refuse {
        if order.status == OrderStatus::Open {
            let mut tx = engine.store().begin().await?;
            orders::expire(&mut tx, &order.id, now).await?;
            tx.commit().await?;
        }
        return Err(ApiError::OrderExpired);
    }
    if let Some(quote) = quote
        && quote().await?.amount != order.amount
    {
        return Err(mismatch("another price; request again to get a new order"));
    }
    Ok((order, expired))
}
