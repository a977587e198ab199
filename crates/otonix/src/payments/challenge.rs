//! The 402 challenge (SPEC §5.3): a new order, and what asks for its payment — the JSON body
//! (read by Otonix clients and x402 v1 clients) and the x402 v2 `PaymentRequired` that `api/`
//! sends in the `PAYMENT-REQUIRED` header.

use rand::RngCore;
use serde_json::{Value, json};

use super::{PaidRequest, Payments, Quote, Terms, canonical};
use crate::clock::format_rfc3339;
use crate::error::ApiResult;
use crate::store::orders::{self, NewOrder, Order};

/// A new order's challenge.
#[derive(Debug, Clone)]
pub struct Challenge {
    /// The 402 body (also sent whole, base64, as `X-Payment-Required`).
    pub body: Value,
    /// The x402 v2 `PaymentRequired` (`PAYMENT-REQUIRED`).
    pub payment_required: Value,
}

/// A new order id: 16 random bytes as 32 lowercase hex characters.
fn new_order_id() -> String {
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Creates the order for `request` and its challenge.
#[tracing::instrument(skip_all)]
pub(super) async fn issue(
    engine: &Payments,
    request: &PaidRequest,
    product: &str,
    resource: &str,
    quote: &Quote,
    params: String,
) -> ApiResult<Challenge> {
    let now = engine.now();
    let new = NewOrder {
        id: new_order_id(),
        api_key_id: request.principal.clone(),
        method: request.method.clone(),
        path: request.path.clone(),
        body_hash: canonical::body_hash(&request.canonical_body),
        request_body: request.canonical_body.clone(),
        product: product.to_owned(),
        params,
        resource: resource.to_owned(),
        description: quote.description.clone(),
        amount: quote.amount,
        expires_at: now + engine.terms().order_ttl_ms,
    };
    let mut tx = engine.store().begin().await?;
    let order = orders::insert(&mut tx, &new, now).await?;
    tx.commit().await?;
    Ok(challenge(engine.terms(), request, &order))
}

/// The challenge of an open order.
fn challenge(terms: &Terms, request: &PaidRequest, order: &Order) -> Challenge {
    let offer = terms.offer(order.amount);
    let requirements = serde_json::to_value(offer.requirements_v2(Some(&order.id))).unwrap_or(Value::Null);
    let resource = json!({
        "url": request.url,
        "method": request.method,
        "description": order.description,
        "mimeType": "application/json",
    });
    let message = format!("Payment required: {} USDC for {}", order.amount, order.description);
    let body = json!({
        "x402Version": 2,
        "error": "payment_required",
        "message": message,
        "orderId": order.id,
        "amountUSDC": order.amount,
        "maxAmountRequired": order.amount.atomic_units().to_string(),
        "amount": order.amount.atomic_units().to_string(),
        "currency": "USDC",
        "network": terms.network,
        "chainId": terms.token.chain_id,
        "asset": terms.token.verifying_contract.to_checksum(None),
        "payTo": terms.pay_to.to_checksum(None),
        "maxTimeoutSeconds": terms.max_timeout_seconds,
        "expiresAt": format_rfc3339(order.expires_at),
        "resource": resource,
        "accepts": [requirements],
    });
    let payment_required = json!({
        "x402Version": 2,
        "error": "payment_required",
        "resource": body["resource"],
        "accepts": body["accepts"],
        "extensions": {},
    });
    Challenge { body, payment_required }
}
