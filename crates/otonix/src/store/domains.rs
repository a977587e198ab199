//! Domains: local records of the domains agents own (SPEC §4.4). Names are unique, enforced
//! by the database.

use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use utoipa::ToSchema;

use super::events::{self, NewEvent};
use super::{Cursor, Page, Sql, StoreResult, get_bool, get_opt_agent_id, get_word};
use crate::clock::Millis;
use crate::domain::{AgentId, DomainStatus};

/// A DNS record kept on a domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DnsRecord {
    /// Record id.
    pub id: String,
    /// `A`, `AAAA`, `CNAME`, `MX`, `TXT`, `NS`, `SRV` or `CAA`.
    #[serde(rename = "type")]
    pub record_type: String,
    /// Name relative to the domain (`@` for the apex).
    pub name: String,
    /// Value.
    pub value: String,
    /// TTL in seconds.
    pub ttl: i64,
    /// Priority (MX, SRV).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub priority: Option<i64>,
}

/// A domain's row. The API's view of it is `api::domains::DomainView`.
#[derive(Debug, Clone)]
pub struct Domain {
    /// Insertion order (the pagination key).
    pub seq: i64,
    /// Domain id.
    pub id: String,
    /// Lowercase fully qualified name, unique.
    pub name: String,
    /// `pending`, `active`, `expired` or `failed`.
    pub status: DomainStatus,
    /// Registration time.
    pub registered_at: Option<Millis>,
    /// Expiry time.
    pub expires_at: Option<Millis>,
    /// Whether the automation renews it.
    pub auto_renew: bool,
    /// DNS records.
    pub dns_records: Vec<DnsRecord>,
    /// Sandbox it points at.
    pub sandbox_id: Option<String>,
    /// Agent that owns it (and pays its renewals).
    pub agent_id: Option<AgentId>,
    /// `vercel` or `manual`.
    pub registrar: String,
    /// Owning key.
    pub api_key_id: String,
    /// Creation time.
    pub created_at: Millis,
    /// Last change.
    pub updated_at: Millis,
}

pub(super) const COLUMNS: &str = "seq, id, name, status, registered_at, expires_at, auto_renew, dns_records, sandbox_id, \
    agent_id, registrar, api_key_id, created_at, updated_at";

pub(super) fn from_row(row: &AnyRow) -> Result<Domain, sqlx::Error> {
    let records: String = row.try_get("dns_records")?;
    Ok(Domain {
        seq: row.try_get("seq")?,
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        status: get_word(row, "status")?,
        registered_at: row.try_get("registered_at")?,
        expires_at: row.try_get("expires_at")?,
        auto_renew: get_bool(row, "auto_renew")?,
        dns_records: serde_json::from_str(&records).unwrap_or_default(),
        sandbox_id: row.try_get("sandbox_id")?,
        agent_id: get_opt_agent_id(row, "agent_id")?,
        registrar: row.try_get("registrar")?,
        api_key_id: row.try_get("api_key_id")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn records_json(records: &[DnsRecord]) -> String {
    serde_json::to_string(records).unwrap_or_else(|_| "[]".into())
}

/// The record that holds a name, if any (one whose registration failed holds none).
pub async fn by_name(conn: &mut AnyConnection, name: &str) -> StoreResult<Option<Domain>> {
    let mut sql = Sql::new(&format!("SELECT {COLUMNS} FROM domains WHERE status <> 'failed' AND name = "));
    sql.bind(name);
    Ok(sql.fetch_optional(&mut *conn).await?.map(|r| from_row(&r)).transpose()?)
}

/// Inserts a domain record and its `domain.created` event. A taken name violates
/// [`super::Unique::DomainName`].
#[tracing::instrument(skip_all)]
pub async fn insert(conn: &mut AnyConnection, domain: &Domain, now: Millis) -> StoreResult<Domain> {
    let d = domain;
    let mut sql = Sql::insert(
        "domains",
        vec![
            ("id", d.id.as_str().into()),
            ("api_key_id", d.api_key_id.as_str().into()),
            ("name", d.name.as_str().into()),
            ("status", d.status.as_str().into()),
            ("registered_at", d.registered_at.into()),
            ("expires_at", d.expires_at.into()),
            ("auto_renew", d.auto_renew.into()),
            ("dns_records", records_json(&d.dns_records).into()),
            ("sandbox_id", d.sandbox_id.clone().into()),
            ("agent_id", d.agent_id.into()),
            ("registrar", d.registrar.as_str().into()),
            ("created_at", now.into()),
            ("updated_at", now.into()),
        ],
    );
    sql.push(&format!(" RETURNING {COLUMNS}"));
    let row = sql.fetch_returned(&mut *conn).await?;
    let stored = from_row(&row)?;
    events::append(conn, &[domain_event("domain.created", &stored)], now).await?;
    Ok(stored)
}

pub(super) fn domain_event(kind: &'static str, domain: &Domain) -> NewEvent {
    let payload = serde_json::json!({
        "id": domain.id, "name": domain.name, "status": domain.status, "autoRenew": domain.auto_renew,
        "expiresAt": domain.expires_at.map(crate::clock::format_rfc3339), "agentId": domain.agent_id, "sandboxId": domain.sandbox_id,
        "registrar": domain.registrar,
    });
    let event = NewEvent::new(kind, &domain.id, &payload).owned_by(Some(&domain.api_key_id));
    match &domain.agent_id {
        Some(agent_id) => event.for_agent(*agent_id),
        None => event,
    }
}

/// One domain by id.
pub async fn get(conn: &mut AnyConnection, id: &str) -> StoreResult<Option<Domain>> {
    let mut sql = Sql::new(&format!("SELECT {COLUMNS} FROM domains WHERE id = "));
    sql.bind(id.to_owned());
    Ok(sql.fetch_optional(&mut *conn).await?.as_ref().map(from_row).transpose()?)
}

/// A partial update: `None` leaves a field alone; `Some(None)` clears a nullable one.
#[derive(Debug, Default, Clone)]
pub struct DomainPatch {
    /// New status.
    pub status: Option<DomainStatus>,
    /// New expiry.
    pub expires_at: Option<Option<Millis>>,
    /// New auto-renew flag.
    pub auto_renew: Option<bool>,
    /// New DNS records.
    pub dns_records: Option<Vec<DnsRecord>>,
    /// New sandbox link.
    pub sandbox_id: Option<Option<String>>,
    /// New agent link.
    pub agent_id: Option<Option<AgentId>>,
}

/// Applies a patch, records its `domain.updated` event and returns the updated domain.
#[tracing::instrument(skip_all)]
pub async fn update(
    conn: &mut AnyConnection,
    id: &str,
    patch: &DomainPatch,
    now: Millis,
) -> StoreResult<Option<Domain>> {
    let mut sql = Sql::new("UPDATE domains SET updated_at = ");
    sql.bind(now);
    if let Some(status) = patch.status {
        sql.push(", status = ").bind(status.as_str());
    }
    if let Some(expires_at) = patch.expires_at {
        sql.push(", expires_at = ").bind(expires_at);
    }
    if let Some(auto_renew) = patch.auto_renew {
        sql.push(", auto_renew = ").bind(auto_renew);
    }
    if let Some(records) = &patch.dns_records {
        sql.push(", dns_records = ").bind(records_json(records));
    }
    if let Some(sandbox_id) = &patch.sandbox_id {
        sql.push(", sandbox_id = ").bind(sandbox_id.clone());
    }
    if let Some(agent_id) = &patch.agent_id {
        sql.push(", agent_id = ").bind(*agent_id);
    }
    sql.push(" WHERE id = ").bind(id.to_owned()).push(&format!(" RETURNING {COLUMNS}"));
    let Some(updated) = sql.fetch_optional(&mut *conn).await?.as_ref().map(from_row).transpose()? else {
        return Ok(None);
    };
    events::append(conn, &[domain_event("domain.updated", &updated)], now).await?;
    Ok(Some(updated))
}

/// Filters of `GET /api/domains`.
#[derive(Debug, Default, Clone)]
pub struct DomainFilter {
    /// Only domains of this agent.
    pub agent_id: Option<AgentId>,
    /// Only this status.
    pub status: Option<DomainStatus>,
}

/// A page of domains, newest first.
pub async fn list(
    conn: &mut AnyConnection,
    filter: &DomainFilter,
    cursor: Option<Cursor>,
    limit: usize,
) -> StoreResult<Page<Domain>> {
    let mut sql = Sql::new(&format!("SELECT {COLUMNS} FROM domains WHERE 1 = 1"));
    sql.and_eq("agent_id", filter.agent_id);
    sql.and_eq("status", filter.status.map(|v| v.as_str()));
    sql.page(cursor, limit);
    let rows = sql.fetch_all(&mut *conn).await?;
    let items = rows.iter().map(from_row).collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_rows(items, limit, |d| d.seq))
}
