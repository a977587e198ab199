//! The 402 challenge (SPEC §5.3): a new order, and the answer that asks for its payment — the
//! JSON body (read by Otonix clients and by x402 v1 clients), `PAYMENT-REQUIRED` (x402 v2) and
//! `X-Payment-Required` (the whole body) headers.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rand::RngCore;
use serde_json::{Value, json};
use x402::encode_header;

use super::{PaidRequest, Terms, canonical};
use crate::clock::format_rfc3339;
use crate::error::ApiResult;
use crate::money::micros_to_json;
use crate::state::AppState;
use crate::store::orders::{self, Order};

/// A new order id: 16 random bytes as 32 lowercase hex characters.
pub fn new_order_id() -> String {
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Creates an order for `request` and answers 402 asking for its payment.
pub async fn issue(state: &AppState, request: &PaidRequest) -> ApiResult<Response> {
    let now = state.now();
    let terms = &state.payments.terms;
    let order = Order {
        id: new_order_id(),
        api_key_id: request.principal.clone(),
        method: request.method.clone(),
        path: request.path.clone(),
        body_hash: canonical::body_hash(&request.canonical_body),
        request_body: request.canonical_body.clone(),
        resource: request.resource.clone(),
        description: request.description.clone(),
        amount: request.amount,
        status: "open".into(),
        scheme: None,
        payer: None,
        tx_hash: None,
        claim_key: None,
        settle_reference: None,
        delivery_attempts: 0,
        last_error: None,
        receipt: None,
        response_body: None,
        created_at: now,
        expires_at: now + terms.order_ttl_ms,
        updated_at: now,
    };
    let mut tx = state.store.begin().await?;
    orders::insert(&mut tx, &order, now).await?;
    tx.commit().await?;
    Ok(respond(terms, request, &order))
}

/// The 402 answer for an open order.
pub fn respond(terms: &Terms, request: &PaidRequest, order: &Order) -> Response {
    let offer = terms.offer(order.amount);
    let requirements = serde_json::to_value(offer.requirements_v2(Some(&order.id))).unwrap_or(Value::Null);
    let resource = json!({
        "url": request.url,
        "method": request.method,
        "description": order.description,
        "mimeType": "application/json",
    });
    let message =
        format!("Payment required: {} USDC for {}", crate::money::micros_to_decimal(order.amount), order.description);
    let body = json!({
        "x402Version": 2,
        "error": "payment_required",
        "message": message,
        "orderId": order.id,
        "amountUSDC": micros_to_json(order.amount),
        "maxAmountRequired": order.amount.to_string(),
        "amount": order.amount.to_string(),
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
    let mut response = (StatusCode::PAYMENT_REQUIRED, Json(&body)).into_response();
    let headers = response.headers_mut();
    for (name, value) in
        [("payment-required", encode_header(&payment_required)), ("x-payment-required", encode_header(&body))]
    {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
