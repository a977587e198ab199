//! Agents: registration, reads and lists ([`list`]). Heartbeats and action counters are written by the
//! hot-path batcher ([`super::hot`]), credit changes by [`credits`](super::agents::apply_credits).

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

mod list;

pub use list::AgentFilter;
pub(super) use list::list;

use super::events::{self, NewEvent};
use super::{Sql, StoreResult, get_agent_id, get_bool, get_opt_agent_id, get_word};
use crate::clock::Millis;
use crate::domain::{AgentId, AgentStatus, Health, Tier, Usdc};

/// An agent's row, as read at some time (health and the status it implies derived). The API's
/// view of it, with the masking of SPEC §3.4, is `api::agents::view`.
#[derive(Debug, Clone)]
pub struct Agent {
    /// Insertion order (the pagination key).
    pub seq: i64,
    /// Agent id.
    pub id: AgentId,
    /// Name.
    pub name: String,
    /// Effective status (a `down` agent stored `active` reads `inactive`).
    pub status: AgentStatus,
    /// Heartbeat health at the time of reading.
    pub health: Health,
    /// Survival tier.
    pub survival_tier: Tier,
    /// Credit balance.
    pub credits: Usdc,
    /// EVM address of the agent's wallet (EIP-55).
    pub wallet_address: String,
    /// True when the server generated the wallet or its owner proved control of it.
    pub wallet_verified: bool,
    /// The agent's genesis prompt.
    pub genesis_prompt: Option<String>,
    /// Model name.
    pub model: String,
    /// Expected seconds between heartbeats.
    pub heartbeat_interval: i64,
    /// Time of the last heartbeat.
    pub last_heartbeat: Option<Millis>,
    /// When the next heartbeat is due.
    pub next_expected: Option<Millis>,
    /// Public IP of the agent's server.
    pub vps_ip: Option<String>,
    /// The key that registered the agent.
    pub api_key_id: String,
    /// Number of actions logged.
    pub total_actions: i64,
    /// Number of child agents.
    pub children_count: i64,
    /// Parent agent, for children.
    pub parent_id: Option<AgentId>,
    /// The status the last heartbeat that sent one reported.
    pub reported_status: Option<String>,
    /// The metrics (JSON text) the last heartbeat that sent some reported.
    pub reported_metrics: Option<String>,
    /// Registration time.
    pub created_at: Millis,
    /// Last change.
    pub updated_at: Millis,
    /// Whether the agent ever held the critical threshold.
    pub funded: bool,
    /// The status as stored (before `down` turns `active` into `inactive`).
    pub stored_status: AgentStatus,
}

impl Agent {
    /// Re-derives `health` and the `status` it implies at `now`.
    pub fn refresh(&mut self, now: Millis) {
        self.health = Health::at(self.last_heartbeat, self.heartbeat_interval, now);
        self.status = self.stored_status.effective(self.health);
    }
}

/// Columns read for an [`Agent`].
pub const AGENT_COLUMNS: &str = "seq, id, name, status, survival_tier, credits, funded, wallet_address, \
    wallet_verified, genesis_prompt, model, heartbeat_interval, last_heartbeat_at, next_expected_at, vps_ip, \
    api_key_id, total_actions, children_count, parent_id, reported_status, reported_metrics, \
    created_at, updated_at";

/// Reads an agent row as seen at `now` (health and the status it implies are derived).
pub fn from_row(row: &AnyRow, now: Millis) -> Result<Agent, sqlx::Error> {
    let mut agent = Agent {
        seq: row.try_get("seq")?,
        id: get_agent_id(row, "id")?,
        name: row.try_get("name")?,
        status: AgentStatus::Active,
        health: Health::Pending,
        survival_tier: get_word(row, "survival_tier")?,
        credits: row.try_get("credits")?,
        wallet_address: row.try_get("wallet_address")?,
        wallet_verified: get_bool(row, "wallet_verified")?,
        genesis_prompt: row.try_get("genesis_prompt")?,
        model: row.try_get("model")?,
        heartbeat_interval: row.try_get("heartbeat_interval")?,
        last_heartbeat: row.try_get("last_heartbeat_at")?,
        next_expected: row.try_get("next_expected_at")?,
        vps_ip: row.try_get("vps_ip")?,
        api_key_id: row.try_get("api_key_id")?,
        total_actions: row.try_get("total_actions")?,
        children_count: row.try_get("children_count")?,
        parent_id: get_opt_agent_id(row, "parent_id")?,
        reported_status: row.try_get("reported_status")?,
        reported_metrics: row.try_get("reported_metrics")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        funded: get_bool(row, "funded")?,
        stored_status: get_word(row, "status")?,
    };
    agent.refresh(now);
    Ok(agent)
}

/// An agent to register.
#[derive(Debug, Clone)]
pub struct NewAgent {
    /// Agent id.
    pub id: AgentId,
    /// Owning key.
    pub api_key_id: String,
    /// Name.
    pub name: String,
    /// Initial tier.
    pub survival_tier: Tier,
    /// Wallet address (EIP-55).
    pub wallet_address: String,
    /// True when the server generated the wallet.
    pub wallet_verified: bool,
    /// Genesis prompt.
    pub genesis_prompt: Option<String>,
    /// Model.
    pub model: String,
    /// Heartbeat interval in seconds.
    pub heartbeat_interval: i64,
    /// Server IP.
    pub vps_ip: Option<String>,
}

/// Inserts a new agent (status `active`, no credits) and its `agent.registered` event.
#[tracing::instrument(skip_all, fields(agent_id = %agent.id))]
pub async fn insert(conn: &mut AnyConnection, agent: &NewAgent, now: Millis) -> StoreResult<Agent> {
    let mut sql = Sql::insert(
        "agents",
        vec![
            ("id", agent.id.into()),
            ("api_key_id", agent.api_key_id.as_str().into()),
            ("name", agent.name.as_str().into()),
            ("status", AgentStatus::Active.as_str().into()),
            ("survival_tier", agent.survival_tier.as_str().into()),
            ("credits", 0.into()),
            ("funded", false.into()),
            ("wallet_address", agent.wallet_address.as_str().into()),
            ("wallet_verified", agent.wallet_verified.into()),
            ("genesis_prompt", agent.genesis_prompt.clone().into()),
            ("model", agent.model.as_str().into()),
            ("heartbeat_interval", agent.heartbeat_interval.into()),
            ("vps_ip", agent.vps_ip.clone().into()),
            ("created_at", now.into()),
            ("updated_at", now.into()),
        ],
    );
    sql.push(&format!(" RETURNING {AGENT_COLUMNS}"));
    let row = sql.fetch_returned(&mut *conn).await?;
    let stored = from_row(&row, now)?;
    let payload = serde_json::json!({
        "id": stored.id, "name": stored.name, "apiKeyId": stored.api_key_id, "walletAddress": stored.wallet_address,
        "walletVerified": stored.wallet_verified, "model": stored.model, "heartbeatInterval": stored.heartbeat_interval,
        "survivalTier": stored.survival_tier, "status": stored.status, "parentId": stored.parent_id,
    });
    let event =
        NewEvent::new("agent.registered", stored.id, &payload).owned_by(Some(&stored.api_key_id)).for_agent(stored.id);
    events::append(conn, &[event], now).await?;
    Ok(stored)
}

/// One agent's row by id, as stored: heartbeats not yet folded into it are missing. Handlers
/// read agents through [`super::Store::agent`]; this is for reads inside a write's transaction.
pub async fn row(conn: &mut AnyConnection, id: AgentId, now: Millis) -> StoreResult<Option<Agent>> {
    let mut sql = Sql::new(&format!("SELECT {AGENT_COLUMNS} FROM agents WHERE id = "));
    sql.bind(id);
    Ok(sql.fetch_optional(&mut *conn).await?.map(|r| from_row(&r, now)).transpose()?)
}

/// Who owns an agent and whether it is terminated: what access checks need.
#[derive(Debug, Clone)]
pub struct AgentAccess {
    /// Owning key.
    pub api_key_id: String,
    /// Stored status.
    pub status: AgentStatus,
    /// Wallet address.
    pub wallet_address: String,
}

/// Reads the owner and status of an agent.
pub async fn access(conn: &mut AnyConnection, id: AgentId) -> StoreResult<Option<AgentAccess>> {
    let mut sql = Sql::new("SELECT api_key_id, status, wallet_address FROM agents WHERE id = ");
    sql.bind(id);
    let Some(row) = sql.fetch_optional(&mut *conn).await? else {
        return Ok(None);
    };
    Ok(Some(AgentAccess {
        api_key_id: row.try_get("api_key_id")?,
        status: get_word(&row, "status")?,
        wallet_address: row.try_get("wallet_address")?,
    }))
}

/// Marks an agent's wallet verified (its owner proved control of it) and records the
/// `agent.wallet_verified` event. False for no such agent.
#[tracing::instrument(skip_all, fields(agent_id = %id))]
pub async fn verify_wallet(conn: &mut AnyConnection, id: AgentId, now: Millis) -> StoreResult<bool> {
    let mut sql = Sql::new("UPDATE agents SET wallet_verified = TRUE, updated_at = ");
    sql.bind(now).push(" WHERE id = ").bind(id).push(" RETURNING api_key_id, wallet_address");
    let Some(row) = sql.fetch_optional(&mut *conn).await? else {
        return Ok(false);
    };
    let (owner, wallet): (String, String) = (row.try_get("api_key_id")?, row.try_get("wallet_address")?);
    let payload = serde_json::json!({ "agentId": id, "walletAddress": wallet });
    let event = NewEvent::new("agent.wallet_verified", id, &payload).owned_by(Some(&owner)).for_agent(id);
    events::append(conn, &[event], now).await?;
    Ok(true)
}

/// The first agent of `api_key_id` (not terminated, if one is) whose verified wallet is `wallet`:
/// a payer bound to that key by proof of control (SPEC §5.4 b 5), and where a refund to that
/// wallet goes.
pub async fn verified_agent_of(
    conn: &mut AnyConnection,
    api_key_id: &str,
    wallet: &str,
) -> StoreResult<Option<AgentId>> {
    let mut sql = Sql::new("SELECT id FROM agents WHERE wallet_verified = TRUE AND api_key_id = ");
    sql.bind(api_key_id.to_owned()).push(" AND wallet_address = ").bind(wallet.to_owned());
    // A living agent first: a refund to a terminated one would only be books.
    sql.push(" ORDER BY CASE WHEN status = ").bind(AgentStatus::Terminated.as_str());
    sql.push(" THEN 1 ELSE 0 END, seq LIMIT 1");
    Ok(sql.fetch_optional(&mut *conn).await?.map(|r| get_agent_id(&r, "id")).transpose()?)
}
