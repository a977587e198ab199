//! `GET /api/agents`: filters by effective status, health and tier, in SQL written from the
//! same rules as [`Health::at`] and [`AgentStatus::effective`] (property-tested against them).

use sqlx::AnyConnection;

use super::{AGENT_COLUMNS, Agent, from_row};
use crate::clock::Millis;
use crate::domain::survival::{DOWN_AFTER_INTERVALS, LATE_AFTER_INTERVALS};
use crate::domain::{AgentStatus, Health, Tier};
use crate::store::{Cursor, Page, Sql, StoreResult};

/// Filters of `GET /api/agents`.
#[derive(Debug, Default, Clone)]
pub struct AgentFilter {
    /// Effective status.
    pub status: Option<AgentStatus>,
    /// Health at the time of the request.
    pub health: Option<Health>,
    /// Survival tier.
    pub survival_tier: Option<Tier>,
}

/// Appends the condition "the agent's health at `now` is `health`": [`Health::at`] in SQL, from
/// the same thresholds. The condition is never NULL, so it may be negated.
fn push_health(sql: &mut Sql, health: Health, now: Millis) {
    let past = |sql: &mut Sql, intervals: i64| {
        sql.push(&format!("last_heartbeat_at + {} * heartbeat_interval < ", 1000 * intervals)).bind(now);
    };
    match health {
        Health::Pending => {
            sql.push("(last_heartbeat_at IS NULL)");
        }
        Health::Up => {
            sql.push("(last_heartbeat_at IS NOT NULL AND NOT (");
            past(sql, LATE_AFTER_INTERVALS);
            sql.push("))");
        }
        Health::Late => {
            sql.push("(last_heartbeat_at IS NOT NULL AND ");
            past(sql, LATE_AFTER_INTERVALS);
            sql.push(" AND NOT (");
            past(sql, DOWN_AFTER_INTERVALS);
            sql.push("))");
        }
        Health::Down => {
            sql.push("(last_heartbeat_at IS NOT NULL AND ");
            past(sql, DOWN_AFTER_INTERVALS);
            sql.push(")");
        }
    }
}

/// Appends the condition "the agent's effective status at `now` is `status`": an agent stored
/// `active` reads `inactive` while `down` ([`AgentStatus::effective`]).
fn push_status(sql: &mut Sql, status: AgentStatus, now: Millis) {
    let stored = |sql: &mut Sql, status: AgentStatus| {
        sql.push("status = ").bind(status.as_str());
    };
    match status {
        AgentStatus::Active => {
            stored(sql, AgentStatus::Active);
            sql.push(" AND NOT ");
            push_health(sql, Health::Down, now);
        }
        AgentStatus::Inactive => {
            sql.push("(");
            stored(sql, AgentStatus::Inactive);
            sql.push(" OR (");
            stored(sql, AgentStatus::Active);
            sql.push(" AND ");
            push_health(sql, Health::Down, now);
            sql.push("))");
        }
        AgentStatus::Terminated => stored(sql, AgentStatus::Terminated),
    }
}

/// A page of agents' rows, newest first (handlers use [`super::Store::agents`]).
pub(in crate::store) async fn list(
    conn: &mut AnyConnection,
    filter: &AgentFilter,
    cursor: Option<Cursor>,
    limit: usize,
    now: Millis,
) -> StoreResult<Page<Agent>> {
    let mut sql = Sql::new(&format!("SELECT {AGENT_COLUMNS} FROM agents WHERE 1 = 1"));
    if let Some(health) = filter.health {
        sql.push(" AND ");
        push_health(&mut sql, health, now);
    }
    if let Some(status) = filter.status {
        sql.push(" AND ");
        push_status(&mut sql, status, now);
    }
    if let Some(tier) = filter.survival_tier {
        sql.push(" AND survival_tier = ").bind(tier.as_str());
    }
    sql.page(cursor, limit);
    let rows = sql.fetch_all(&mut *conn).await?;
    let agents = rows.iter().map(|r| from_row(r, now)).collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_rows(agents, limit, |a| a.seq))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Vocabulary;
    use proptest::prelude::*;

    /// Evaluates a condition built by `push` on one agent row in an in-memory SQLite database.
    fn holds(last: Option<i64>, interval: i64, status: AgentStatus, push: impl FnOnce(&mut Sql)) -> bool {
        let db = rusqlite::Connection::open_in_memory().unwrap();
        db.execute_batch("CREATE TABLE agents (last_heartbeat_at INTEGER, heartbeat_interval INTEGER, status TEXT)")
            .unwrap();
        db.execute("INSERT INTO agents VALUES (?1, ?2, ?3)", rusqlite::params![last, interval, status.as_str()])
            .unwrap();
        let mut sql = Sql::new("SELECT COUNT(*) FROM agents WHERE ");
        push(&mut sql);
        let mut statement = db.prepare(sql.text()).unwrap();
        for (i, param) in sql.params().iter().enumerate() {
            match param {
                crate::store::Param::Int(v) => statement.raw_bind_parameter(i + 1, v).unwrap(),
                crate::store::Param::Text(v) => statement.raw_bind_parameter(i + 1, v).unwrap(),
                other => panic!("unexpected parameter {other:?}"),
            }
        }
        let mut rows = statement.raw_query();
        rows.next().unwrap().unwrap().get::<_, i64>(0).unwrap() == 1
    }

    proptest! {
        /// The SQL filters of `GET /api/agents` agree with [`Health::at`] and
        /// [`AgentStatus::effective`]: one rule, two languages.
        #[test]
        fn sql_filters_agree_with_the_rules(
            last in prop::option::of(0i64..1 << 40),
            interval in 1i64..86_400,
            after in -1_000i64..400_000_000,
            status in prop::sample::select(AgentStatus::ALL),
        ) {
            let now = last.unwrap_or(1 << 40) + after;
            let health = Health::at(last, interval, now);
            for candidate in Health::ALL {
                let sql_says = holds(last, interval, status, |sql| push_health(sql, *candidate, now));
                prop_assert_eq!(sql_says, *candidate == health, "health {:?}", candidate);
            }
            for candidate in AgentStatus::ALL {
                let sql_says = holds(last, interval, status, |sql| push_status(sql, *candidate, now));
                prop_assert_eq!(sql_says, *candidate == status.effective(health), "status {:?}", candidate);
            }
        }
    }
}
