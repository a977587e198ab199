//! x402 over HTTP (SPEC §5): `GET /api/x402/config`, and how the payment engine's outcomes are
//! answered — the 402 challenge with its `PAYMENT-REQUIRED` and `X-Payment-Required` headers,
//! the 201 with `PAYMENT-RESPONSE` / `X-PAYMENT-RESPONSE`, replays marked
//! `Idempotent-Replay: true`, and the 402s of pending and refunded payments.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tracing::Instrument;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use x402::encode_header;

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::payments::{Outcome, Paid, PaidRequest, Product};
use crate::state::AppState;

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_x402_config))
}

/// The effective payment configuration: network, asset, payTo, mode, windows, tolerance.
#[utoipa::path(get, path = "/api/x402/config", tag = "payments",
    responses((status = 200, description = "x402Version, network, chainId, asset, assetName, assetVersion, currency, \
        decimals, payTo, schemes, proofs, mode, orderTtlSeconds, maxTimeoutSeconds, amountTolerance, confirmations",
        body = Object)))]
pub async fn get_x402_config(State(state): State<AppState>) -> Json<Value> {
    let t = state.payments.terms();
    Json(json!({
        "x402Version": 2,
        "network": t.network,
        "chainId": t.token.chain_id,
        "asset": t.token.verifying_contract.to_checksum(None),
        "assetName": t.token.name,
        "assetVersion": t.token.version,
        "currency": "USDC",
        "decimals": 6,
        "payTo": t.pay_to.to_checksum(None),
        "schemes": ["exact"],
        "proofs": if t.transfer_proofs { json!(["eip3009", "txHash"]) } else { json!(["eip3009"]) },
        "mode": t.mode.as_str(),
        "orderTtlSeconds": t.order_ttl_ms / 1000,
        "maxTimeoutSeconds": t.max_timeout_seconds,
        "amountTolerance": f64::from(t.tolerance_ppm) / 1_000_000.0,
        "confirmations": t.confirmations,
    }))
}

/// What the payment engine knows of a paid request: who asks, for what, with which body.
pub fn paid_request(
    state: &AppState,
    principal: &Principal,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Value,
) -> PaidRequest {
    PaidRequest {
        principal: principal.key_id().unwrap_or(crate::domain::heartbeat::ADMIN_OWNER).to_owned(),
        method: "POST".into(),
        path: uri.path().to_owned(),
        url: super::public_url(state, headers, uri.path()),
        canonical_body: crate::payments::canonical::canonical_json(body),
    }
}

/// Runs the payment part of a paid request (see [`crate::payments::Payments::process`]) to its
/// end even if the client hangs up — a settlement is never cut off halfway by a dropped
/// connection — and answers its outcome.
pub async fn pay<P: Product>(
    state: &AppState,
    product: P,
    request: PaidRequest,
    params: P::Params,
    headers: &HeaderMap,
) -> ApiResult<Response> {
    let header = payment_header(headers).map(str::to_owned);
    let state = state.clone();
    let task = tokio::spawn(
        async move { state.payments.process(&product, &request, &params, header.as_deref()).await }
            .instrument(tracing::Span::current()),
    );
    respond(task.await.map_err(ApiError::internal)??)
}

/// The payment header of a request: `PAYMENT-SIGNATURE` (v2) or `X-PAYMENT` (v1, v2, proofs).
fn payment_header(headers: &HeaderMap) -> Option<&str> {
    [x402::constants::HEADER_PAYMENT_SIGNATURE, x402::constants::HEADER_X_PAYMENT]
        .into_iter()
        .find_map(|name| headers.get(name))
        .map(|value| value.to_str().unwrap_or(""))
}

/// The HTTP answer to a payment outcome.
fn respond(outcome: Outcome) -> ApiResult<Response> {
    match outcome {
        Outcome::Challenge(challenge) => {
            let mut response = (StatusCode::PAYMENT_REQUIRED, Json(&challenge.body)).into_response();
            let headers = response.headers_mut();
            insert_encoded(headers, "payment-required", &challenge.payment_required);
            insert_encoded(headers, "x-payment-required", &challenge.body);
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            Ok(response)
        }
        Outcome::Delivered(paid) => Ok(paid_response(paid)),
        Outcome::Replayed(paid) => {
            let mut response = paid_response(paid);
            response.headers_mut().insert("idempotent-replay", HeaderValue::from_static("true"));
            Ok(response)
        }
        Outcome::Pending { retry_after, message } => Err(ApiError::PaymentPending { retry_after, message }),
        Outcome::Refunded { message } => Err(ApiError::PaymentInvalid { reason: "order_refunded", message }),
    }
}

fn paid_response(paid: Paid) -> Response {
    let mut response = (StatusCode::CREATED, Json(&paid.body)).into_response();
    let headers = response.headers_mut();
    insert_encoded(headers, "payment-response", &paid.settlement);
    insert_encoded(headers, "x-payment-response", &paid.settlement);
    response
}

/// Sets `name` to base64 of the JSON `value`.
fn insert_encoded(headers: &mut HeaderMap, name: &'static str, value: &Value) {
    if let Ok(value) = HeaderValue::from_str(&encode_header(value)) {
        headers.insert(name, value);
    }
}
