//! Sandboxes: records of the servers agents live on (SPEC §4.3).

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::events::{self, NewEvent};
use super::{Cursor, Page, Sql, StoreResult, get_opt_agent_id, get_word};
use crate::clock::Millis;
use crate::domain::{AgentId, SandboxStatus};

/// A sandbox's row. The API's view of it, with the masking of SPEC §3.4, is
/// `api::sandboxes::SandboxView`.
#[derive(Debug, Clone)]
pub struct Sandbox {
    /// Insertion order (the pagination key).
    pub seq: i64,
    /// Sandbox id.
    pub id: String,
    /// Name.
    pub name: String,
    /// `running`, `stopped`, `deploying`, `error` or `deleted`.
    pub status: SandboxStatus,
    /// Operating system.
    pub os: Option<String>,
    /// vCPUs.
    pub cpu: Option<i64>,
    /// Memory in MB.
    pub memory: Option<i64>,
    /// Disk in GB.
    pub disk: Option<i64>,
    /// Region.
    pub region: Option<String>,
    /// Public IP address.
    pub ip_address: Option<String>,
    /// Open ports.
    pub ports: Vec<i64>,
    /// SSH user.
    pub ssh_user: Option<String>,
    /// SSH password.
    pub ssh_password: Option<String>,
    /// Agent living on it.
    pub agent_id: Option<AgentId>,
    /// `cherry` or `manual`.
    pub provider: String,
    /// The provider's server id.
    pub provider_server_id: Option<String>,
    /// Owning key.
    pub api_key_id: String,
    /// Creation time.
    pub created_at: Millis,
    /// Last change.
    pub updated_at: Millis,
}

const COLUMNS: &str = "seq, id, name, status, os, cpu, memory, disk, region, ip_address, ports, ssh_user, \
    ssh_password, agent_id, provider, provider_server_id, api_key_id, created_at, updated_at";

fn from_row(row: &AnyRow) -> Result<Sandbox, sqlx::Error> {
    let ports: String = row.try_get("ports")?;
    Ok(Sandbox {
        seq: row.try_get("seq")?,
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        status: get_word(row, "status")?,
        os: row.try_get("os")?,
        cpu: row.try_get("cpu")?,
        memory: row.try_get("memory")?,
        disk: row.try_get("disk")?,
        region: row.try_get("region")?,
        ip_address: row.try_get("ip_address")?,
        ports: serde_json::from_str(&ports).unwrap_or_default(),
        ssh_user: row.try_get("ssh_user")?,
        ssh_password: row.try_get("ssh_password")?,
        agent_id: get_opt_agent_id(row, "agent_id")?,
        provider: row.try_get("provider")?,
        provider_server_id: row.try_get("provider_server_id")?,
        api_key_id: row.try_get("api_key_id")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// Inserts a sandbox record (all fields of `sandbox` except `seq` and the timestamps are used)
/// and its `sandbox.created` event (without the SSH password).
#[tracing::instrument(skip_all)]
pub async fn insert(conn: &mut AnyConnection, sandbox: &Sandbox, now: Millis) -> StoreResult<Sandbox> {
    let s = sandbox;
    let mut sql = Sql::insert(
        "sandboxes",
        vec![
            ("id", s.id.as_str().into()),
            ("api_key_id", s.api_key_id.as_str().into()),
            ("name", s.name.as_str().into()),
            ("status", s.status.as_str().into()),
            ("os", s.os.clone().into()),
            ("cpu", s.cpu.into()),
            ("memory", s.memory.into()),
            ("disk", s.disk.into()),
            ("region", s.region.clone().into()),
            ("ip_address", s.ip_address.clone().into()),
            ("ports", serde_json::to_string(&s.ports).unwrap_or_else(|_| "[]".into()).into()),
            ("ssh_user", s.ssh_user.clone().into()),
            ("ssh_password", s.ssh_password.clone().into()),
            ("agent_id", s.agent_id.into()),
            ("provider", s.provider.as_str().into()),
            ("provider_server_id", s.provider_server_id.clone().into()),
            ("created_at", now.into()),
            ("updated_at", now.into()),
        ],
    );
    sql.push(&format!(" RETURNING {COLUMNS}"));
    let row = sql.fetch_returned(&mut *conn).await?;
    let stored = from_row(&row)?;
    let payload = serde_json::json!({
        "id": stored.id, "name": stored.name, "status": stored.status, "agentId": stored.agent_id,
        "provider": stored.provider, "providerServerId": stored.provider_server_id, "region": stored.region,
    });
    let mut event = NewEvent::new("sandbox.created", &stored.id, &payload).owned_by(Some(&stored.api_key_id));
    if let Some(agent_id) = &stored.agent_id {
        event = event.for_agent(*agent_id);
    }
    events::append(conn, &[event], now).await?;
    Ok(stored)
}

/// One sandbox by id.
pub async fn get(conn: &mut AnyConnection, id: &str) -> StoreResult<Option<Sandbox>> {
    let mut sql = Sql::new(&format!("SELECT {COLUMNS} FROM sandboxes WHERE id = "));
    sql.bind(id.to_owned());
    Ok(sql.fetch_optional(&mut *conn).await?.as_ref().map(from_row).transpose()?)
}

/// Filters of `GET /api/sandboxes`.
#[derive(Debug, Default, Clone)]
pub struct SandboxFilter {
    /// Only sandboxes of this agent.
    pub agent_id: Option<AgentId>,
    /// Only this status.
    pub status: Option<SandboxStatus>,
}

/// A page of sandboxes, newest first.
pub async fn list(
    conn: &mut AnyConnection,
    filter: &SandboxFilter,
    cursor: Option<Cursor>,
    limit: usize,
) -> StoreResult<Page<Sandbox>> {
    let mut sql = Sql::new(&format!("SELECT {COLUMNS} FROM sandboxes WHERE 1 = 1"));
    sql.and_eq("agent_id", filter.agent_id);
    sql.and_eq("status", filter.status.map(|v| v.as_str()));
    sql.page(cursor, limit);
    let rows = sql.fetch_all(&mut *conn).await?;
    let items = rows.iter().map(from_row).collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_rows(items, limit, |s| s.seq))
}
