//! `GET /api/x402/config`: how this server takes payments (SPEC §5.1).

use axum::Json;
use axum::extract::State;
use serde_json::Value;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

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
    Json(state.payments.public_config())
}
