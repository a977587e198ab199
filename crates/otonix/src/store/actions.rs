//! Agent actions: the audit log of what every agent did. API writes arrive in batches through
//! [`super::hot`]; the server's own actions (tier changes, automation) through [`insert_system`].

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::events::{self, NewEvent};
use super::{Cursor, Page, Sql, StoreResult, get_agent_id, get_bool, get_word, new_id};
use crate::clock::Millis;
use crate::domain::{ActionStatus, AgentId};

/// An action's row. The API's view of it is `api::agents::actions::ActionView`.
#[derive(Debug, Clone)]
pub struct Action {
    /// Insertion order (the pagination key).
    pub seq: i64,
    /// Action id.
    pub id: String,
    /// The agent that acted.
    pub agent_id: AgentId,
    /// What it did.
    pub action: String,
    /// Free-text category (`system`, `infra`, `trade`, …).
    pub category: String,
    /// Details.
    pub details: Option<String>,
    /// How it ended.
    pub status: ActionStatus,
    /// Whether the agent acted on its own.
    pub autonomous: bool,
    /// When it was logged.
    pub created_at: Millis,
}

impl Action {
    /// The `action.logged` event of this action, owned by its agent's key.
    pub fn logged_event(&self, owner_key_id: &str) -> NewEvent {
        let payload = serde_json::json!({
            "id": self.id, "agentId": self.agent_id, "action": self.action, "category": self.category,
            "details": self.details, "status": self.status, "autonomous": self.autonomous,
        });
        NewEvent::new("action.logged", &self.id, &payload).owned_by(Some(owner_key_id)).for_agent(self.agent_id)
    }
}

/// Columns read for an [`Action`].
pub const ACTION_COLUMNS: &str = "seq, id, agent_id, action, category, details, status, autonomous, created_at";

/// Reads an action row.
pub fn from_row(row: &AnyRow) -> Result<Action, sqlx::Error> {
    Ok(Action {
        seq: row.try_get("seq")?,
        id: row.try_get("id")?,
        agent_id: get_agent_id(row, "agent_id")?,
        action: row.try_get("action")?,
        category: row.try_get("category")?,
        details: row.try_get("details")?,
        status: get_word(row, "status")?,
        autonomous: get_bool(row, "autonomous")?,
        created_at: row.try_get("created_at")?,
    })
}

/// An action to record.
#[derive(Debug, Clone)]
pub struct NewAction {
    /// The agent.
    pub agent_id: AgentId,
    /// What happened.
    pub action: String,
    /// Category.
    pub category: String,
    /// Details.
    pub details: Option<String>,
    /// Status.
    pub status: ActionStatus,
    /// Autonomous flag.
    pub autonomous: bool,
}

/// Records an action written by the server itself (tier change, automation decision) for an
/// agent owned by `owner_key_id`, with its counter and event, in the caller's transaction.
#[tracing::instrument(skip_all)]
pub async fn insert_system(
    conn: &mut AnyConnection,
    owner_key_id: &str,
    action: &NewAction,
    now: Millis,
) -> StoreResult<Action> {
    let id = new_id();
    let mut sql = Sql::insert(
        "agent_actions",
        vec![
            ("id", id.as_str().into()),
            ("agent_id", action.agent_id.into()),
            ("api_key_id", owner_key_id.into()),
            ("action", action.action.as_str().into()),
            ("category", action.category.as_str().into()),
            ("details", action.details.clone().into()),
            ("status", action.status.as_str().into()),
            ("autonomous", action.autonomous.into()),
            ("created_at", now.into()),
        ],
    );
    sql.push(" RETURNING seq");
    let row = sql.fetch_returned(&mut *conn).await?;
    let seq: i64 = row.try_get("seq")?;
    let mut sql = Sql::new("UPDATE agents SET total_actions = total_actions + 1, updated_at = ");
    sql.bind(now).push(" WHERE id = ").bind(action.agent_id);
    sql.execute(&mut *conn).await?;
    let stored = Action {
        seq,
        id,
        agent_id: action.agent_id,
        action: action.action.clone(),
        category: action.category.clone(),
        details: action.details.clone(),
        status: action.status,
        autonomous: action.autonomous,
        created_at: now,
    };
    let event = stored.logged_event(owner_key_id);
    events::append(conn, &[event], now).await?;
    Ok(stored)
}

/// Filters of the action lists.
#[derive(Debug, Default, Clone)]
pub struct ActionFilter {
    /// Only this agent's actions.
    pub agent_id: Option<AgentId>,
    /// Only actions of agents owned by this key.
    pub owner_key_id: Option<String>,
    /// Category.
    pub category: Option<String>,
    /// Status.
    pub status: Option<ActionStatus>,
    /// Logged at or after.
    pub since: Option<Millis>,
    /// Logged at or before.
    pub until: Option<Millis>,
}

/// A page of actions, newest first.
pub async fn list(
    conn: &mut AnyConnection,
    filter: &ActionFilter,
    cursor: Option<Cursor>,
    limit: usize,
) -> StoreResult<Page<Action>> {
    let mut sql = Sql::new(&format!("SELECT {ACTION_COLUMNS} FROM agent_actions WHERE 1 = 1"));
    sql.and_eq("agent_id", filter.agent_id);
    sql.and_eq("api_key_id", filter.owner_key_id.as_deref());
    sql.and_eq("category", filter.category.as_deref());
    sql.and_eq("status", filter.status.map(|v| v.as_str()));
    sql.and_cmp("created_at", ">=", filter.since);
    sql.and_cmp("created_at", "<=", filter.until);
    sql.page(cursor, limit);
    let rows = sql.fetch_all(&mut *conn).await?;
    let actions = rows.iter().map(from_row).collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_rows(actions, limit, |a| a.seq))
}

/// Counts the stored actions of an agent (for consistency checks).
pub async fn count_for_agent(conn: &mut AnyConnection, agent_id: AgentId) -> StoreResult<i64> {
    let mut sql = Sql::new("SELECT COUNT(*) AS n FROM agent_actions WHERE agent_id = ");
    sql.bind(agent_id);
    let row = sql.fetch_optional(&mut *conn).await?;
    Ok(row.map(|r| r.try_get::<i64, _>("n")).transpose()?.unwrap_or(0))
}
