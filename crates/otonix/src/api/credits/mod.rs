//! `POST /api/agents/{id}/credits` (SPEC §4.6): credits bought with USDC through x402 — the
//! first paid endpoint. Anyone with a key may fund any agent; the receipt names the payer.

mod product;

use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{ApiJson, PathId, typed};
use super::validate::Check;
use super::x402::{paid_request, pay};
use crate::auth::Principal;
use crate::domain::{AgentId, Usdc};
use crate::error::{ApiResult, ErrorBody};
use crate::state::AppState;
pub use product::{Credits, CreditsParams};

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(buy_credits))
}

/// Body of `POST /api/agents/{id}/credits`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct BuyCreditsRequest {
    /// USDC to add, 0.01–100,000, at most 6 decimals.
    pub amount: Option<f64>,
}

/// Buys credits for an agent. Without a payment header: 402 with the order to pay. With
/// `PAYMENT-SIGNATURE` / `X-PAYMENT` (an EIP-3009 authorization) or `X-Payment` (a transfer
/// proof): 201 with the new balance and a receipt.
#[utoipa::path(post, path = "/api/agents/{id}/credits", tag = "payments", request_body = BuyCreditsRequest,
    security(("apiKey" = []), ("adminToken" = [])), params(("id" = String, Path, description = "Agent id")),
    responses(
        (status = 201, description = "Paid and delivered: `success`, `agent`, `transaction`, `receipt`; headers \
            PAYMENT-RESPONSE and X-PAYMENT-RESPONSE", body = Object),
        (status = 402, description = "payment_required (the challenge: orderId, amount, payTo, accepts, …; headers \
            PAYMENT-REQUIRED and X-Payment-Required), payment_invalid, payment_pending (Retry-After), \
            payment_already_used or order_expired; payment_invalid with reason order_refunded when a paid \
            delivery failed payments.deliveryAttempts times", body = Object),
        (status = 503, description = "unavailable: the chain or facilitator cannot be reached now, or a paid \
            delivery failed; retry the same request with the same payment", body = ErrorBody),
        (status = 400, description = "validation_failed (also when the amount would take the agent's balance \
            beyond 10^12 USDC) or invalid_payment_header", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "agent_terminated", body = ErrorBody)))]
pub async fn buy_credits(
    State(state): State<AppState>,
    principal: Principal,
    PathId(agent_id): PathId<AgentId>,
    uri: Uri,
    headers: HeaderMap,
    ApiJson(raw): ApiJson<Value>,
) -> ApiResult<Response> {
    principal.require_authenticated()?;
    let body: BuyCreditsRequest = typed(raw.clone())?;
    let mut check = Check::new();
    let amount = check.required("amount", body.amount);
    let amount = check.money("amount", amount, Usdc::CENT, Usdc::whole(100_000));
    let (amount,) = check.finish_with((amount,))?;
    let request = paid_request(&state, &principal, &uri, &headers, &raw);
    let params = CreditsParams { agent_id, amount };
    pay(&state, Credits, request, params, &headers).await
}
