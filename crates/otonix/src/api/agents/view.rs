//! The agent as the API shows it (SPEC §4.2), built from its row: the money in USDC, times in
//! RFC 3339, `actionsCount` beside `totalActions` (both names are used by existing clients),
//! `lastReport` from the last self-report, and the masking of SPEC §3.4 for other keys.

use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::clock::Millis;
use crate::domain::{AgentId, AgentStatus, Health, Tier, Usdc};
use crate::sanitize::{mask_address, mask_ip};
use crate::store::agents::Agent;
use crate::wire;

/// The agent object (SPEC §4.2) as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Agent)]
pub struct AgentView {
    /// Agent id.
    #[schema(value_type = String)]
    pub id: AgentId,
    /// Name.
    pub name: String,
    /// `active`, `inactive` or `terminated` (a `down` agent reads `inactive`).
    pub status: AgentStatus,
    /// Heartbeat health at the time of reading.
    pub health: Health,
    /// `full`, `conservation`, `critical` or `terminated`.
    pub survival_tier: Tier,
    /// Credit balance in USDC.
    #[schema(value_type = f64)]
    pub credits: Usdc,
    /// EVM address of the agent's wallet (EIP-55).
    pub wallet_address: String,
    /// True when the server generated the wallet or its owner proved control of it.
    pub wallet_verified: bool,
    /// The agent's genesis prompt; omitted from sanitized views.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub genesis_prompt: Option<Option<String>>,
    /// Model name.
    pub model: String,
    /// Expected seconds between heartbeats.
    pub heartbeat_interval: i64,
    /// Time of the last heartbeat.
    #[serde(serialize_with = "wire::opt_timestamp")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_heartbeat: Option<Millis>,
    /// When the next heartbeat is due.
    #[serde(serialize_with = "wire::opt_timestamp")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub next_expected: Option<Millis>,
    /// Public IP of the agent's server.
    pub vps_ip: Option<String>,
    /// The key that registered the agent.
    pub api_key_id: String,
    /// Number of actions logged.
    pub total_actions: i64,
    /// Same as `totalActions` (both names are used by existing clients).
    pub actions_count: i64,
    /// Number of child agents.
    pub children_count: i64,
    /// Parent agent, for children.
    #[schema(value_type = Option<String>)]
    pub parent_id: Option<AgentId>,
    /// The agent's last self-report from a heartbeat body; omitted from sanitized views.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_report: Option<serde_json::Value>,
    /// Registration time.
    #[serde(serialize_with = "wire::timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Millis,
    /// Last change.
    #[serde(serialize_with = "wire::timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Millis,
}

impl AgentView {
    /// The full view (the agent's owner, the admin).
    pub fn full(agent: Agent) -> Self {
        let last_report = last_report(agent.reported_status, agent.reported_metrics.as_deref());
        Self {
            id: agent.id,
            name: agent.name,
            status: agent.status,
            health: agent.health,
            survival_tier: agent.survival_tier,
            credits: agent.credits,
            wallet_address: agent.wallet_address,
            wallet_verified: agent.wallet_verified,
            genesis_prompt: Some(agent.genesis_prompt),
            model: agent.model,
            heartbeat_interval: agent.heartbeat_interval,
            last_heartbeat: agent.last_heartbeat,
            next_expected: agent.next_expected,
            vps_ip: agent.vps_ip,
            api_key_id: agent.api_key_id,
            total_actions: agent.total_actions,
            actions_count: agent.total_actions,
            children_count: agent.children_count,
            parent_id: agent.parent_id,
            last_report,
            created_at: agent.created_at,
            updated_at: agent.updated_at,
        }
    }

    /// The view for `principal`: full for the agent's owner and the admin; for other keys the
    /// wallet and IP masked, the genesis prompt and the self-report left out (SPEC §3.4).
    pub fn for_principal(agent: Agent, principal: &Principal) -> Self {
        let owned = principal.owns(&agent.api_key_id);
        let mut view = Self::full(agent);
        if !owned {
            view.wallet_address = mask_address(&view.wallet_address);
            view.vps_ip = view.vps_ip.as_deref().map(mask_ip);
            view.genesis_prompt = None;
            view.last_report = None;
        }
        view
    }
}

/// The `lastReport` object: the last self-reported status and metrics, if any were sent.
fn last_report(status: Option<String>, metrics: Option<&str>) -> Option<serde_json::Value> {
    (status.is_some() || metrics.is_some()).then(|| {
        serde_json::json!({
            "status": status,
            "metrics": metrics.and_then(|m| serde_json::from_str::<serde_json::Value>(m).ok()),
        })
    })
}
