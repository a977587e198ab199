//! Applying one batch of heartbeats and actions in one transaction, written once for every
//! backend on top of [`BatchDb`]: read the batch's agents (locked, where rows lock), let
//! [`crate::domain::heartbeat`] decide each write in arrival order, and write the result with a
//! few multi-row statements (in power-of-two sizes, so they stay prepared). Heartbeats of one
//! agent in one batch coalesce into one row write: the latest wins, and every one of them is
//! answered after the commit.

use std::collections::HashMap;

use serde_json::json;

use super::db::{BatchDb, Row};
use super::journal;
use super::overlay::HeartbeatOverlay;
use super::{ActionWrite, HeartbeatApplied, HeartbeatWrite};
use crate::clock::Millis;
use crate::domain::heartbeat::{BeatingAgent, HealthChange, may_write};
use crate::domain::{AgentId, AgentStatus, Caller, Tier, Usdc};
use crate::store::actions::Action;
use crate::store::events::{self, NewEvent};
use crate::store::{Sql, StoreError, StoreResult, new_id, power_of_two_chunks};

/// Results of a batch, in the order of the writes.
pub type BatchResults = (Vec<Option<HeartbeatApplied>>, Vec<Option<Action>>);

/// An agent as a batch reads it.
struct BatchAgent {
    beating: BeatingAgent,
    survival_tier: Tier,
    credits: Usdc,
}

/// The accepted heartbeats of one agent in a batch, merged: the latest time, the latest status
/// and metrics each one sent.
#[derive(Debug, Clone)]
pub(super) struct MergedBeat {
    /// The agent.
    pub agent_id: AgentId,
    /// Its last heartbeat.
    pub at: Millis,
    /// When the next one is due.
    pub next_expected: Millis,
    /// Its heartbeat interval in seconds.
    pub interval_seconds: i64,
    /// The latest self-reported status, if any heartbeat sent one.
    pub status: Option<String>,
    /// The latest self-reported metrics (JSON text), if any heartbeat sent some.
    pub metrics: Option<String>,
}

/// Applies a batch and commits it; on any error nothing of it is committed. With an overlay
/// (SQLite), heartbeats are journaled and recorded in the overlay once committed; without one
/// (PostgreSQL), they update the agent rows directly.
pub async fn apply_batch<D: BatchDb>(
    db: &mut D,
    now: Millis,
    beats: &[&HeartbeatWrite],
    actions: &[&ActionWrite],
    overlay: Option<&HeartbeatOverlay>,
) -> StoreResult<BatchResults> {
    if beats.is_empty() && actions.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    db.begin().await?;
    let outcome = async {
        let mut agents = read_agents(db, beats, actions, overlay).await?;
        let mut events = Vec::new();
        let (beat_results, merged, reactivate) = decide_heartbeats(&mut agents, beats, now, &mut events);
        let committed = match overlay {
            Some(overlay) => journal::append(db, &merged, overlay).await?,
            None => {
                update_rows(db, &merged, now).await?;
                Vec::new()
            }
        };
        reactivate_agents(db, &reactivate).await?;
        let action_results = apply_actions(db, &agents, actions, now, &mut events).await?;
        for sql in events::insert_statements(&events, now) {
            db.execute(sql).await?;
        }
        db.commit().await?;
        Ok((beat_results, action_results, committed))
    }
    .await;
    match outcome {
        Ok((beat_results, action_results, committed)) => {
            if let Some(overlay) = overlay {
                overlay.record(committed);
            }
            Ok((beat_results, action_results))
        }
        Err(error) => {
            db.rollback().await;
            Err(error)
        }
    }
}

/// Reads every agent the batch writes to, in id order (locked where rows lock, so concurrent
/// batches lock agents in one order and do not deadlock), with its latest unfolded heartbeat.
async fn read_agents<D: BatchDb>(
    db: &mut D,
    beats: &[&HeartbeatWrite],
    actions: &[&ActionWrite],
    overlay: Option<&HeartbeatOverlay>,
) -> StoreResult<HashMap<AgentId, BatchAgent>> {
    let mut ids: Vec<AgentId> = beats.iter().map(|b| b.agent_id).collect();
    ids.extend(actions.iter().map(|a| a.action.agent_id));
    ids.sort_unstable();
    ids.dedup();
    let mut agents = HashMap::with_capacity(ids.len());
    for chunk in power_of_two_chunks(&ids, 128) {
        let mut sql = Sql::new(
            "SELECT id, api_key_id, status, survival_tier, credits, heartbeat_interval, last_heartbeat_at \
             FROM agents WHERE id IN ",
        );
        sql.bind_list(chunk.iter().copied()).push(" ORDER BY id");
        if D::LOCKS_ROWS {
            sql.push(" FOR UPDATE");
        }
        for row in db.query(sql).await? {
            // A row that cannot be read fails its own writes (left out: "not applied", and the
            // handler's read reports it), never the other requests of the batch.
            let Some(id) = AgentId::parse(row.text(0)) else {
                tracing::error!(agent_id = row.text(0), "an agent row has an id that is not a UUID");
                continue;
            };
            let unfolded = overlay.and_then(|o| o.last_at(id));
            match batch_agent(&row, unfolded) {
                Ok(agent) => {
                    agents.insert(id, agent);
                }
                Err(error) => tracing::error!(agent_id = row.text(0), %error, "an agent row cannot be read"),
            }
        }
    }
    Ok(agents)
}

fn batch_agent(row: &Row, unfolded: Option<Millis>) -> StoreResult<BatchAgent> {
    let corrupt = |column: &str| StoreError::Corrupt(format!("agent {}: unknown {column}", row.text(0)));
    Ok(BatchAgent {
        beating: BeatingAgent {
            owner: row.text(1).to_owned(),
            status: AgentStatus::parse(row.text(2)).ok_or_else(|| corrupt("status"))?,
            interval_seconds: row.int(5),
            last_heartbeat: row.opt_int(6).max(unfolded),
        },
        survival_tier: Tier::parse(row.text(3)).ok_or_else(|| corrupt("survival_tier"))?,
        credits: Usdc::from_micros(row.int(4)).ok_or_else(|| corrupt("credits"))?,
    })
}

/// Decides every heartbeat in arrival order; returns the answers, one merged write per agent
/// and the agents to reactivate.
fn decide_heartbeats(
    agents: &mut HashMap<AgentId, BatchAgent>,
    beats: &[&HeartbeatWrite],
    now: Millis,
    events: &mut Vec<NewEvent>,
) -> (Vec<Option<HeartbeatApplied>>, Vec<MergedBeat>, Vec<AgentId>) {
    let mut results = vec![None; beats.len()];
    let mut merged: Vec<MergedBeat> = Vec::new();
    let mut merged_at: HashMap<AgentId, usize> = HashMap::new();
    let mut reactivate = Vec::new();
    for (index, beat) in beats.iter().enumerate() {
        let Some(agent) = agents.get_mut(&beat.agent_id) else { continue };
        let Ok(outcome) = agent.beating.beat(Caller::from_key(beat.key_id.as_deref()), now) else { continue };
        if let Some(change) = outcome.change {
            events.push(health_changed(beat.agent_id, &agent.beating.owner, &change));
            if change.reactivates() {
                reactivate.push(beat.agent_id);
            }
        }
        results[index] = Some(HeartbeatApplied {
            next_expected: outcome.next_expected,
            survival_tier: agent.survival_tier,
            credits: agent.credits,
            health_before: outcome.health_before,
        });
        match merged_at.get(&beat.agent_id) {
            Some(&at) => {
                let write = &mut merged[at];
                write.at = outcome.last_heartbeat;
                write.next_expected = outcome.next_expected;
                if beat.status.is_some() {
                    write.status.clone_from(&beat.status);
                }
                if beat.metrics.is_some() {
                    write.metrics.clone_from(&beat.metrics);
                }
            }
            None => {
                merged_at.insert(beat.agent_id, merged.len());
                merged.push(MergedBeat {
                    agent_id: beat.agent_id,
                    at: outcome.last_heartbeat,
                    next_expected: outcome.next_expected,
                    interval_seconds: agent.beating.interval_seconds,
                    status: beat.status.clone(),
                    metrics: beat.metrics.clone(),
                });
            }
        }
    }
    (results, merged, reactivate)
}

/// The `agent.health_changed` event of a heartbeat.
fn health_changed(agent_id: AgentId, owner: &str, change: &HealthChange) -> NewEvent {
    let payload = json!({ "agentId": agent_id, "from": change.from, "to": change.to,
                          "statusFrom": change.status_from, "statusTo": change.status_to });
    NewEvent::new("agent.health_changed", agent_id, &payload).owned_by(Some(owner)).for_agent(agent_id)
}

/// Writes merged heartbeats into their agent rows (PostgreSQL: the rows are locked).
async fn update_rows<D: BatchDb>(db: &mut D, merged: &[MergedBeat], now: Millis) -> StoreResult<()> {
    for chunk in power_of_two_chunks(merged, 128) {
        let mut sql = Sql::new("UPDATE agents SET previous_heartbeat_at = last_heartbeat_at, ");
        sql.push("last_heartbeat_at = v.column2, next_expected_at = v.column3, ");
        sql.push("reported_status = COALESCE(v.column4, reported_status), ");
        sql.push("reported_metrics = COALESCE(v.column5, reported_metrics), updated_at = ").bind(now);
        sql.push(" FROM (VALUES ");
        for (i, beat) in chunk.iter().enumerate() {
            sql.push(if i == 0 { "(" } else { ", (" }).bind(beat.agent_id).push(", ").bind(beat.at);
            sql.push(", ").bind(beat.next_expected).push(", ").bind(&beat.status).push(", ").bind(&beat.metrics);
            sql.push(")");
        }
        sql.push(") AS v WHERE agents.id = v.column1");
        db.execute(sql).await?;
    }
    Ok(())
}

/// A heartbeat brings an inactive agent back (SPEC §4.2). Rare, so it is its own small
/// statement, which keeps the common path from rewriting the status column and its indexes.
async fn reactivate_agents<D: BatchDb>(db: &mut D, agent_ids: &[AgentId]) -> StoreResult<()> {
    for chunk in power_of_two_chunks(agent_ids, 64) {
        let mut sql = Sql::new("UPDATE agents SET status = ");
        sql.bind(AgentStatus::Active.as_str()).push(" WHERE status = ").bind(AgentStatus::Inactive.as_str());
        sql.push(" AND id IN ").bind_list(chunk.iter().copied());
        db.execute(sql).await?;
    }
    Ok(())
}

async fn apply_actions<D: BatchDb>(
    db: &mut D,
    agents: &HashMap<AgentId, BatchAgent>,
    writes: &[&ActionWrite],
    now: Millis,
    events: &mut Vec<NewEvent>,
) -> StoreResult<Vec<Option<Action>>> {
    let mut results: Vec<Option<Action>> = vec![None; writes.len()];
    let accepted: Vec<(usize, &str)> = writes
        .iter()
        .enumerate()
        .filter_map(|(index, write)| {
            let agent = agents.get(&write.action.agent_id)?;
            let caller = Caller::from_key(write.key_id.as_deref());
            may_write(caller, &agent.beating.owner, agent.beating.status).ok()?;
            Some((index, agent.beating.owner.as_str()))
        })
        .collect();
    let mut per_agent: HashMap<AgentId, i64> = HashMap::new();
    for chunk in power_of_two_chunks(&accepted, 64) {
        let mut sql = Sql::new(
            "INSERT INTO agent_actions (id, agent_id, api_key_id, action, category, details, status, autonomous, \
             created_at) VALUES ",
        );
        let mut inserted = Vec::with_capacity(chunk.len());
        for (i, &(index, owner)) in chunk.iter().enumerate() {
            let (id, a) = (new_id(), &writes[index].action);
            sql.push(if i == 0 { "(" } else { ", (" }).bind(&id).push(", ").bind(a.agent_id);
            sql.push(", ").bind(owner).push(", ").bind(&a.action).push(", ").bind(&a.category);
            sql.push(", ").bind(&a.details).push(", ").bind(a.status.as_str()).push(", ").bind(a.autonomous);
            sql.push(", ").bind(now).push(")");
            inserted.push((index, owner, id));
        }
        // RETURNING promises no order: match the rows by id.
        sql.push(" RETURNING id, seq");
        let rows = db.query(sql).await?;
        let seqs: HashMap<&str, i64> = rows.iter().map(|row| (row.text(0), row.int(1))).collect();
        for (index, owner, id) in inserted {
            let a = &writes[index].action;
            let seq =
                *seqs.get(id.as_str()).ok_or_else(|| StoreError::Corrupt("an inserted action is missing".into()))?;
            let action = Action {
                seq,
                id,
                agent_id: a.agent_id,
                action: a.action.clone(),
                category: a.category.clone(),
                details: a.details.clone(),
                status: a.status,
                autonomous: a.autonomous,
                created_at: now,
            };
            *per_agent.entry(a.agent_id).or_default() += 1;
            events.push(action.logged_event(owner));
            results[index] = Some(action);
        }
    }
    let mut counts: Vec<(AgentId, i64)> = per_agent.into_iter().collect();
    counts.sort_unstable();
    for chunk in power_of_two_chunks(&counts, 128) {
        let mut sql = Sql::new("UPDATE agents SET total_actions = total_actions + v.column2, updated_at = ");
        sql.bind(now).push(" FROM (VALUES ");
        for (i, (agent_id, count)) in chunk.iter().enumerate() {
            sql.push(if i == 0 { "(" } else { ", (" }).bind(*agent_id).push(", ").bind(*count).push(")");
        }
        sql.push(") AS v WHERE agents.id = v.column1");
        db.execute(sql).await?;
    }
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Health;

    fn id(name: &str) -> AgentId {
        AgentId::numbered(name.bytes().map(u128::from).sum())
    }

    fn beat(agent: &str, key: Option<&str>, status: Option<&str>, metrics: Option<&str>) -> HeartbeatWrite {
        HeartbeatWrite {
            agent_id: id(agent),
            key_id: key.map(str::to_owned),
            status: status.map(str::to_owned),
            metrics: metrics.map(str::to_owned),
        }
    }

    #[test]
    fn heartbeats_of_one_agent_coalesce_into_one_write_and_each_is_answered() {
        let inactive = BeatingAgent {
            owner: "k1".into(),
            status: AgentStatus::Inactive,
            interval_seconds: 60,
            last_heartbeat: Some(0),
        };
        let mut agents = HashMap::from([(
            id("a"),
            BatchAgent { beating: inactive, survival_tier: Tier::Full, credits: Usdc::MICRO },
        )]);
        let writes = [
            beat("a", Some("k1"), Some("booting"), None),
            beat("a", Some("k2"), Some("hijacked"), Some("{\"x\":1}")),
            beat("a", None, None, Some("{\"cpu\":1}")),
            beat("b", Some("k1"), Some("nobody"), None),
            beat("a", Some("k1"), Some("ready"), None),
        ];
        let beats: Vec<&HeartbeatWrite> = writes.iter().collect();
        let mut events = Vec::new();
        let now = 10_000_000;
        let (results, merged, reactivate) = decide_heartbeats(&mut agents, &beats, now, &mut events);

        let answered: Vec<bool> = results.iter().map(Option::is_some).collect();
        assert_eq!(answered, [true, false, true, false, true], "another key's and an unknown agent's are refused");
        let first = results[0].as_ref().unwrap();
        assert_eq!((first.health_before, first.credits, first.survival_tier), (Health::Down, Usdc::MICRO, Tier::Full));
        assert_eq!(results[4].as_ref().unwrap().health_before, Health::Up, "the second sees the first");
        assert_eq!(merged.len(), 1, "one row write for the agent");
        let write = &merged[0];
        assert_eq!((write.at, write.next_expected), (now, now + 60_000));
        assert_eq!(write.status.as_deref(), Some("ready"), "the latest status");
        assert_eq!(write.metrics.as_deref(), Some("{\"cpu\":1}"), "the latest metrics, never a refused write's");
        assert_eq!(reactivate, [id("a")]);
        assert_eq!(events.len(), 1, "one health change: down and inactive to up and active");
        assert_eq!(events[0].payload["from"], "down");
    }
}
