//! `POST /api/agents/register`: an agent announces itself from its server.

use std::net::SocketAddr;

use alloy_signer_local::PrivateKeySigner;
use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::AgentView;
use crate::api::client_ip::client_ip;
use crate::api::extract::ApiJson;
use crate::api::validate::Check;
use crate::auth::Principal;
use crate::domain::{AgentId, Usdc};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;
use crate::store::agents::{self, NewAgent};
use crate::store::keys;

/// Body of `POST /api/agents/register`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RegisterAgentRequest {
    /// Name, 1–128 characters.
    pub name: Option<String>,
    /// Model, at most 64 characters (default `claude-opus-4-6`).
    pub model: Option<String>,
    /// Public IP of the agent's server (default: the caller's address).
    pub vps_ip: Option<String>,
    /// The agent's wallet; when absent or null a key pair is generated and returned once.
    pub wallet_address: Option<String>,
    /// The agent's genesis prompt, at most 32 KiB.
    pub genesis_prompt: Option<String>,
    /// Seconds between heartbeats, 10–86,400 (default 60).
    pub heartbeat_interval: Option<i64>,
    /// Owning key, required when the admin registers an agent (an API key owns what it registers).
    pub api_key_id: Option<String>,
}

/// A wallet generated for the agent: returned once, never stored.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GeneratedWallet {
    /// EIP-55 address.
    pub address: String,
    /// Private key, 0x-hex. Store it now: the server keeps no copy.
    pub private_key: String,
}

/// Where the agent reports.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Monitoring {
    /// `POST /api/agents/<id>/heartbeat`.
    pub heartbeat_endpoint: String,
    /// `POST /api/agents/<id>/actions`.
    pub actions_endpoint: String,
    /// `GET /api/agents/<id>`.
    pub status_endpoint: String,
}

/// Response of a registration.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RegisteredAgent {
    /// Always true.
    pub success: bool,
    /// The agent.
    pub agent: AgentView,
    /// Present only when the server generated the wallet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wallet: Option<GeneratedWallet>,
    /// Reporting endpoints.
    pub monitoring: Monitoring,
    /// `Agent registered`.
    pub message: String,
}

/// Registers an agent owned by the calling key.
#[utoipa::path(post, path = "/api/agents/register", tag = "agents", request_body = RegisterAgentRequest,
    security(("apiKey" = []), ("adminToken" = [])),
    responses((status = 201, body = RegisteredAgent), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn register_agent(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    principal: Principal,
    ApiJson(body): ApiJson<RegisterAgentRequest>,
) -> ApiResult<Response> {
    principal.require_authenticated()?;
    let mut check = Check::new();
    let name = check.required_text("name", body.name, 128);
    let model = check.text("model", body.model, 64).unwrap_or_else(|| "claude-opus-4-6".to_owned());
    let vps_ip = check.ip("vpsIp", body.vps_ip);
    let wallet_address = check.address("walletAddress", body.wallet_address.clone());
    let genesis_prompt = check.text_bytes("genesisPrompt", body.genesis_prompt, 32 * 1024);
    let heartbeat_interval = check.int_range("heartbeatInterval", body.heartbeat_interval, 10, 86_400).unwrap_or(60);
    let owner = match (&principal, check.uuid("apiKeyId", body.api_key_id)) {
        (Principal::Key(key), _) => key.id.clone(),
        (_, Some(key_id)) => key_id,
        (_, None) => {
            check.fail("apiKeyId", "is required when the admin registers an agent");
            String::new()
        }
    };
    check.finish()?;

    let (wallet_address, wallet) = match wallet_address {
        Some(address) => (address, None),
        None if body.wallet_address.is_some() => return Err(ApiError::field("walletAddress", "is not an address")),
        None => {
            let signer = PrivateKeySigner::random();
            let address = signer.address().to_checksum(None);
            let private_key = format!("0x{}", hex::encode(signer.to_bytes()));
            (address.clone(), Some(GeneratedWallet { address, private_key }))
        }
    };
    let new_agent = NewAgent {
        id: AgentId::generate(),
        api_key_id: owner,
        name,
        survival_tier: state.tiers.tier(Usdc::ZERO, false),
        wallet_verified: wallet.is_some(),
        wallet_address,
        genesis_prompt,
        model,
        heartbeat_interval,
        vps_ip: vps_ip.or_else(|| Some(client_ip(&headers, peer.ip(), &state.config.auth.trusted_proxies).to_string())),
    };

    let now = state.now();
    let mut tx = state.store.begin().await?;
    // The owning key must be active now (not only when it was cached): an agent registered under
    // a key being revoked would escape its revocation.
    if !keys::lock_active(&mut tx, &new_agent.api_key_id).await? {
        return Err(match principal {
            Principal::Key(_) => ApiError::KeyRevoked,
            _ => ApiError::field("apiKeyId", "is not an active API key"),
        });
    }
    let agent = agents::insert(&mut tx, &new_agent, now).await?;
    keys::count_agent(&mut tx, &agent.api_key_id).await?;
    tx.commit().await?;

    let id = agent.id;
    let body = RegisteredAgent {
        success: true,
        agent: AgentView::full(agent),
        wallet,
        monitoring: Monitoring {
            heartbeat_endpoint: format!("POST /api/agents/{id}/heartbeat"),
            actions_endpoint: format!("POST /api/agents/{id}/actions"),
            status_endpoint: format!("GET /api/agents/{id}"),
        },
        message: "Agent registered".to_owned(),
    };
    Ok((StatusCode::CREATED, [(header::CACHE_CONTROL, "no-store")], Json(body)).into_response())
}
