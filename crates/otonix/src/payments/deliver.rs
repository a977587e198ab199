//! Delivery of a settled order (SPEC §5.5): the receipt, the `transactions` row written in the
//! same database transaction that marks the order delivered, the stored response for
//! idempotent replays, and the `PAYMENT-RESPONSE` headers.

use axum::Json;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::Terms;
use crate::clock::{Millis, format_rfc3339};
use crate::error::ApiResult;
use crate::money::micros_to_json;
use crate::state::AppState;
use crate::store::orders::{self, Order};
use crate::store::transactions::{self, Transaction};
use crate::store::{Tx, new_id};

/// A settled order, ready to be delivered.
#[derive(Debug, Clone)]
pub struct Settled {
    /// The order (status `settled`).
    pub order: Order,
}

impl Settled {
    /// The receipt stored with the order.
    pub fn receipt(&self) -> Value {
        self.order.receipt.clone().unwrap_or(Value::Null)
    }

    /// The paying address.
    pub fn payer(&self) -> &str {
        self.order.payer.as_deref().unwrap_or_default()
    }
}

/// The receipt of a settlement (SPEC §5.5).
pub fn receipt(terms: &Terms, order: &Order, scheme: &str, payer: &str, tx_hash: &str, settled_at: Millis) -> Value {
    json!({
        "id": new_id(),
        "orderId": order.id,
        "txHash": tx_hash,
        "payer": payer,
        "amount": order.amount.to_string(),
        "amountUSDC": micros_to_json(order.amount),
        "network": terms.network,
        "asset": terms.token.verifying_contract.to_checksum(None),
        "payTo": terms.pay_to.to_checksum(None),
        "resource": order.resource,
        "scheme": scheme,
        "settledAt": format_rfc3339(settled_at),
    })
}

/// What the books record for a delivered order.
#[derive(Debug, Clone)]
pub struct Booking {
    /// `credit` (credits bought) or `debit` (something bought).
    pub kind: &'static str,
    /// `credits`, `domain`, `vps` or `compute`.
    pub category: &'static str,
    /// The agent whose credits move (for `credit`), or who the purchase is for.
    pub agent_id: Option<String>,
    /// Description.
    pub description: String,
}

/// Claims the delivery of `settled` and writes its transaction, in the caller's database
/// transaction. `None` when someone else delivered it first: roll back and answer [`replay`].
pub async fn complete(
    state: &AppState,
    tx: &mut Tx,
    settled: &Settled,
    booking: &Booking,
) -> ApiResult<Option<Transaction>> {
    let terms = &state.payments.terms;
    let order = &settled.order;
    let now = state.now();
    if !orders::mark_delivered(tx, &order.id, "null", now).await? {
        return Ok(None);
    }
    // Hashes are unique in the books, and anyone may book a transaction under a hash seen on
    // chain before its payment is delivered: the payment is then booked with the hash in its
    // metadata only, rather than failing a delivery that was paid for.
    let mut tx_hash = order.tx_hash.clone();
    if let Some(hash) = &tx_hash
        && transactions::hash_taken(tx, hash).await?
    {
        tracing::warn!(order_id = %order.id, tx_hash = %hash, "settlement hash already booked by another transaction");
        tx_hash = None;
    }
    let transaction = Transaction {
        seq: 0,
        id: new_id(),
        kind: booking.kind.into(),
        amount: order.amount,
        currency: "USDC".into(),
        description: Some(booking.description.clone()),
        status: "completed".into(),
        from_address: order.payer.clone(),
        to_address: Some(terms.pay_to.to_checksum(None)),
        tx_hash,
        agent_id: booking.agent_id.clone(),
        metadata: json!({
            "protocol": "x402",
            "chainId": terms.token.chain_id,
            "orderId": order.id,
            "settlementTx": order.tx_hash,
            "category": booking.category,
            "scheme": order.scheme,
            "mode": terms.mode.as_str(),
        }),
        api_key_id: Some(order.api_key_id.clone()),
        credits_applied: true,
        origin: transactions::Origin::Payment,
        created_at: now,
    };
    Ok(Some(transactions::record(tx, &state.tiers, &transaction, now).await?))
}

/// Stores `body` (with the receipt added) as the order's answer for replays, and returns it as
/// the 201 with the payment headers. Same database transaction as [`complete`].
pub async fn respond(state: &AppState, tx: &mut Tx, settled: &Settled, mut body: Value) -> ApiResult<Response> {
    body["receipt"] = settled.receipt();
    orders::set_response(tx, &settled.order.id, &body.to_string()).await?;
    let response = (StatusCode::CREATED, Json(body)).into_response();
    Ok(with_payment_headers(&state.payments.terms, &settled.order, response))
}

/// The stored 201 of a delivered order, again, marked `Idempotent-Replay: true`.
pub fn replay(terms: &Terms, order: &Order) -> Response {
    let body: Value = order.response_body.as_deref().and_then(|b| serde_json::from_str(b).ok()).unwrap_or(Value::Null);
    let mut response = with_payment_headers(terms, order, (StatusCode::CREATED, Json(body)).into_response());
    response.headers_mut().insert("idempotent-replay", HeaderValue::from_static("true"));
    response
}

/// Adds `PAYMENT-RESPONSE` and `X-PAYMENT-RESPONSE`: base64 of the settlement result.
fn with_payment_headers(terms: &Terms, order: &Order, mut response: Response) -> Response {
    let settlement = json!({
        "success": true,
        "transaction": order.tx_hash,
        "network": terms.network,
        "payer": order.payer,
    });
    if let Ok(value) = HeaderValue::from_str(&x402::encode_header(&settlement)) {
        response.headers_mut().insert("payment-response", value.clone());
        response.headers_mut().insert("x-payment-response", value);
    }
    response
}
