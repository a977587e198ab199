//! The append-only event log: one row per state change, written in the same transaction as the
//! change it describes. Later the SSE stream reads it.

use serde::Serialize;
use sqlx::AnyConnection;

use super::{Sql, StoreResult, power_of_two_chunks};
use crate::clock::Millis;
use crate::domain::AgentId;

/// A state change to record.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// Dotted type, e.g. `agent.registered`.
    pub kind: &'static str,
    /// The API key owning the record the event is about (`None`: system-wide).
    pub owner_key_id: Option<String>,
    /// The agent concerned, if any.
    pub agent_id: Option<AgentId>,
    /// The record the event is about (agent, action, key, …).
    pub subject_id: String,
    /// The event's JSON payload.
    pub payload: serde_json::Value,
}

impl NewEvent {
    /// An event with a serializable payload.
    pub fn new(kind: &'static str, subject_id: impl std::fmt::Display, payload: &impl Serialize) -> Self {
        Self {
            kind,
            owner_key_id: None,
            agent_id: None,
            subject_id: subject_id.to_string(),
            payload: serde_json::to_value(payload).unwrap_or(serde_json::Value::Null),
        }
    }

    /// Sets the owning key.
    pub fn owned_by(mut self, key_id: Option<&str>) -> Self {
        self.owner_key_id = key_id.map(str::to_owned);
        self
    }

    /// Sets the agent concerned.
    pub fn for_agent(mut self, agent_id: AgentId) -> Self {
        self.agent_id = Some(agent_id);
        self
    }
}

/// The statements that append `events` (multi-row inserts in a few fixed sizes).
pub fn insert_statements(events: &[NewEvent], now: Millis) -> Vec<Sql> {
    power_of_two_chunks(events, 64)
        .into_iter()
        .map(|chunk| {
            let mut sql =
                Sql::new("INSERT INTO events (type, api_key_id, agent_id, subject_id, payload, created_at) VALUES ");
            for (i, event) in chunk.iter().enumerate() {
                sql.push(if i == 0 { "(" } else { ", (" }).bind(event.kind);
                sql.push(", ").bind(&event.owner_key_id).push(", ").bind(event.agent_id);
                sql.push(", ").bind(&event.subject_id).push(", ").bind(event.payload.to_string());
                sql.push(", ").bind(now).push(")");
            }
            sql
        })
        .collect()
}

/// Appends events in the caller's transaction.
pub async fn append(conn: &mut AnyConnection, events: &[NewEvent], now: Millis) -> StoreResult<()> {
    for sql in insert_statements(events, now) {
        sql.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Where a reader of the log stands: the last event it read (or the default, before the first).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct LogPosition {
    /// The writing transaction (PostgreSQL; 0 on SQLite and for events older than the column).
    pub tx: i64,
    /// The event id.
    pub id: i64,
}

/// A stored event.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredEvent {
    /// Monotonically increasing id (in insertion order).
    pub id: i64,
    /// Its place in the order readers follow ([`list_after`]).
    #[serde(skip)]
    pub position: LogPosition,
    /// Dotted type.
    #[serde(rename = "type")]
    pub kind: String,
    /// Owning key.
    pub api_key_id: Option<String>,
    /// Agent concerned.
    pub agent_id: Option<String>,
    /// Record concerned.
    pub subject_id: Option<String>,
    /// Payload.
    pub payload: serde_json::Value,
    /// When it happened.
    pub created_at: Millis,
}

/// Reads the settled events after `after` in commit order: a reader that repeats this from the
/// position of the last event it read sees every event exactly once, however writes interleave
/// (only events of transactions older than every running one are settled, see migration 0005).
pub async fn list_after(conn: &mut AnyConnection, after: LogPosition, limit: i64) -> StoreResult<Vec<StoredEvent>> {
    use sqlx::Row;
    let mut sql = Sql::new(
        "SELECT tx, id, type, api_key_id, agent_id, subject_id, payload, created_at FROM settled_events \
         WHERE (tx, id) > (",
    );
    sql.bind(after.tx).push(", ").bind(after.id).push(") ORDER BY tx, id LIMIT ").bind(limit);
    let rows = sql.fetch_all(&mut *conn).await?;
    rows.iter()
        .map(|row| {
            Ok(StoredEvent {
                id: row.try_get("id")?,
                position: LogPosition { tx: row.try_get("tx")?, id: row.try_get("id")? },
                kind: row.try_get("type")?,
                api_key_id: row.try_get("api_key_id")?,
                agent_id: row.try_get("agent_id")?,
                subject_id: row.try_get("subject_id")?,
                payload: serde_json::from_str(&row.try_get::<String, _>("payload")?).unwrap_or_default(),
                created_at: row.try_get("created_at")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}
