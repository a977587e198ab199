//! `POST /api/agents/{id}/wallet/verify` (SPEC §5.4 b 5): the owner proves control of the
//! agent's wallet with the wallet's EIP-191 signature over `otonix wallet <agentId>
//! <walletAddress>`. A verified wallet binds the transfers it sends to the agent's key.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use utoipa::ToSchema;
use x402::parse::PaymentSignature;
use x402::proof::verify_wallet_signature;

use super::AgentView;
use crate::api::extract::{ApiJson, PathId};
use crate::auth::Principal;
use crate::domain::AgentId;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;
use crate::store::agents;

/// Body of `POST /api/agents/{id}/wallet/verify`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct VerifyWalletRequest {
    /// `0x` + 65 bytes: the wallet's EIP-191 (`personal_sign`) signature over the text
    /// `otonix wallet <agentId> <walletAddress>` (the address as the agent object shows it, or
    /// in lowercase).
    pub signature: Option<String>,
}

/// Marks the agent's wallet verified, given the wallet's signature.
#[utoipa::path(post, path = "/api/agents/{id}/wallet/verify", tag = "agents", request_body = VerifyWalletRequest,
    security(("apiKey" = []), ("adminToken" = [])), params(("id" = String, Path, description = "Agent id")),
    responses((status = 200, description = "The agent, with `walletVerified: true`", body = AgentView),
              (status = 400, description = "The signature is missing, malformed or not the wallet's", body = ErrorBody),
              (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn verify_wallet(
    State(state): State<AppState>,
    principal: Principal,
    PathId(id): PathId<AgentId>,
    ApiJson(body): ApiJson<VerifyWalletRequest>,
) -> ApiResult<Json<AgentView>> {
    principal.require_authenticated()?;
    let now = state.now();
    let mut tx = state.store.begin().await?;
    let access = agents::access(&mut tx, id).await?.ok_or(ApiError::NotFound("agent"))?;
    principal.require_owner(&access.api_key_id)?;
    let signature = body.signature.ok_or_else(|| ApiError::field("signature", "is required"))?;
    let signature = PaymentSignature::parse(&signature)
        .map_err(|_| ApiError::field("signature", "must be 0x followed by 65 bytes of hex"))?;
    let wallet = access.wallet_address.parse().map_err(ApiError::internal)?;
    verify_wallet_signature(&id.to_string(), wallet, &signature).map_err(|_| {
        ApiError::field("signature", "is not the wallet's signature over `otonix wallet <agentId> <walletAddress>`")
    })?;
    agents::verify_wallet(&mut tx, id, now).await?;
    tx.commit().await?;
    let agent = state.store.agent(id, state.now()).await?.ok_or(ApiError::NotFound("agent"))?;
    Ok(Json(AgentView::full(agent)))
}
