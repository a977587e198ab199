//! Group commit for the two hottest writes: heartbeats and actions (SPEC §9.1).
//!
//! Handlers hand their write to a [`HotWriter`] and wait. Writer tasks take everything queued
//! (up to `maxBatch`), apply it with a few multi-row statements in one transaction, commit, and
//! only then answer each waiter — so every acknowledged write is durable, and one commit (one
//! fsync on SQLite) serves many requests. Each action and its agent's `totalActions` increment
//! commit together. A write that does not apply (unknown agent, another key's agent, terminated
//! agent) is answered `None`, and the handler finds out which.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde_json::json;
use sqlx::{AnyConnection, Row};
use tokio::sync::{Mutex, mpsc, oneshot};
use tokio::task::JoinHandle;

use super::actions::{Action, NewAction};
use super::events::{self, NewEvent};
use super::{Sql, Store, StoreError, StoreResult, new_id, power_of_two_chunks};
use crate::clock::{Millis, SharedClock};
use crate::survival::Health;

/// A heartbeat to record. `key_id` is the caller's key (`None` for the admin).
#[derive(Debug, Clone)]
pub struct HeartbeatWrite {
    /// The agent.
    pub agent_id: String,
    /// The calling key; the agent must be its own.
    pub key_id: Option<String>,
    /// Optional self-reported status.
    pub status: Option<String>,
    /// Optional self-reported metrics (JSON text).
    pub metrics: Option<String>,
}

/// What a recorded heartbeat tells the agent.
#[derive(Debug, Clone)]
pub struct HeartbeatApplied {
    /// When the next heartbeat is due.
    pub next_expected: Millis,
    /// Current tier.
    pub survival_tier: String,
    /// Current credits, micro-units.
    pub credits: i64,
    /// Health just before this heartbeat.
    pub health_before: Health,
}

/// An action to record. `key_id` is the caller's key (`None` for the admin).
#[derive(Debug, Clone)]
pub struct ActionWrite {
    /// The calling key; the agent must be its own.
    pub key_id: Option<String>,
    /// The action.
    pub action: NewAction,
}

type Reply<T> = oneshot::Sender<StoreResult<Option<T>>>;

enum Job {
    Heartbeat(HeartbeatWrite, Reply<HeartbeatApplied>),
    Action(ActionWrite, Reply<Action>),
}

/// Queue of hot-path writes in front of the batch writers.
#[derive(Debug, Clone)]
pub struct HotWriter {
    sender: mpsc::Sender<Job>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Heartbeat(..) => "Job::Heartbeat",
            Self::Action(..) => "Job::Action",
        })
    }
}

impl HotWriter {
    /// Starts `writers` batch writers. They stop once every `HotWriter` clone is dropped and the
    /// queue is drained; await the handles to know that everything queued was committed.
    pub fn spawn(store: Store, clock: SharedClock, writers: usize, max_batch: usize) -> (Self, Vec<JoinHandle<()>>) {
        let (sender, receiver) = mpsc::channel(16 * 1024);
        let receiver = Arc::new(Mutex::new(receiver));
        let handles = (0..writers.max(1))
            .map(|_| {
                let (store, clock, receiver) = (store.clone(), clock.clone(), receiver.clone());
                tokio::spawn(async move {
                    while let Some(batch) = next_batch(&receiver, max_batch).await {
                        write_batch(&store, clock.now_ms(), batch).await;
                    }
                })
            })
            .collect();
        (Self { sender }, handles)
    }

    /// Records a heartbeat; `None` if it did not apply.
    pub async fn heartbeat(&self, write: HeartbeatWrite) -> StoreResult<Option<HeartbeatApplied>> {
        let (reply, answer) = oneshot::channel();
        self.submit(Job::Heartbeat(write, reply), answer).await
    }

    /// Records an action; `None` if it did not apply.
    pub async fn action(&self, write: ActionWrite) -> StoreResult<Option<Action>> {
        let (reply, answer) = oneshot::channel();
        self.submit(Job::Action(write, reply), answer).await
    }

    async fn submit<T>(&self, job: Job, answer: oneshot::Receiver<StoreResult<Option<T>>>) -> StoreResult<Option<T>> {
        self.sender.send(job).await.map_err(|_| StoreError::Unavailable(sqlx::Error::PoolClosed))?;
        answer.await.map_err(|_| StoreError::Unavailable(sqlx::Error::PoolClosed))?
    }
}

async fn next_batch(receiver: &Mutex<mpsc::Receiver<Job>>, max_batch: usize) -> Option<Vec<Job>> {
    let mut receiver = receiver.lock().await;
    let first = receiver.recv().await?;
    let mut batch = vec![first];
    while batch.len() < max_batch {
        match receiver.try_recv() {
            Ok(job) => batch.push(job),
            Err(_) => break,
        }
    }
    Some(batch)
}

async fn write_batch(store: &Store, now: Millis, batch: Vec<Job>) {
    let mut heartbeats = Vec::new();
    let mut actions = Vec::new();
    for job in batch {
        match job {
            Job::Heartbeat(write, reply) => heartbeats.push((write, reply)),
            Job::Action(write, reply) => actions.push((write, reply)),
        }
    }
    let outcome = async {
        let mut tx = store.begin().await?;
        let beats: Vec<&HeartbeatWrite> = heartbeats.iter().map(|(w, _)| w).collect();
        let beat_results = apply_heartbeats(&mut tx, &beats, now).await?;
        let writes: Vec<&ActionWrite> = actions.iter().map(|(w, _)| w).collect();
        let action_results = apply_actions(&mut tx, &writes, now).await?;
        tx.commit().await?;
        Ok::<_, StoreError>((beat_results, action_results))
    }
    .await;
    match outcome {
        Ok((beat_results, action_results)) => {
            for ((_, reply), result) in heartbeats.into_iter().zip(beat_results) {
                let _ = reply.send(Ok(result));
            }
            for ((_, reply), result) in actions.into_iter().zip(action_results) {
                let _ = reply.send(Ok(result));
            }
        }
        Err(error) => {
            let shared = Arc::new(error);
            for (_, reply) in heartbeats {
                let _ = reply.send(Err(StoreError::Batch(shared.clone())));
            }
            for (_, reply) in actions {
                let _ = reply.send(Err(StoreError::Batch(shared.clone())));
            }
        }
    }
}

/// Splits writes into rounds in which every agent appears once (a multi-row UPDATE applies one
/// source row per target row), keeping each write's index.
fn rounds<T>(items: &[T], agent: impl Fn(&T) -> &str) -> Vec<Vec<usize>> {
    let mut rounds: Vec<(HashSet<&str>, Vec<usize>)> = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let id = agent(item);
        match rounds.iter_mut().find(|(seen, _)| !seen.contains(id)) {
            Some((seen, members)) => {
                seen.insert(id);
                members.push(index);
            }
            None => rounds.push((HashSet::from([id]), vec![index])),
        }
    }
    rounds.into_iter().map(|(_, members)| members).collect()
}

fn caller(key_id: &Option<String>) -> String {
    key_id.clone().unwrap_or_else(|| "*".to_owned())
}

async fn apply_heartbeats(
    conn: &mut AnyConnection,
    beats: &[&HeartbeatWrite],
    now: Millis,
) -> StoreResult<Vec<Option<HeartbeatApplied>>> {
    let mut results = vec![None; beats.len()];
    let mut events = Vec::new();
    let mut reactivate = Vec::new();
    for round in rounds(beats, |b| &b.agent_id) {
        for chunk in power_of_two_chunks(&round, 128) {
            let mut sql = Sql::new("UPDATE agents SET previous_heartbeat_at = last_heartbeat_at, last_heartbeat_at = ");
            sql.bind(now).push(", next_expected_at = ").bind(now).push(" + 1000 * heartbeat_interval, ");
            sql.push("reported_status = COALESCE(v.column3, reported_status), ");
            sql.push("reported_metrics = COALESCE(v.column4, reported_metrics), updated_at = ").bind(now);
            sql.push(" FROM (VALUES ");
            for (i, &index) in chunk.iter().enumerate() {
                let beat = beats[index];
                sql.push(if i == 0 { "(" } else { ", (" });
                sql.bind(beat.agent_id.clone()).push(", ").bind(caller(&beat.key_id));
                sql.push(", ").bind(beat.status.clone()).push(", ").bind(beat.metrics.clone()).push(")");
            }
            sql.push(") AS v WHERE agents.id = v.column1 AND (v.column2 = '*' OR agents.api_key_id = v.column2)");
            sql.push(" AND agents.status <> 'terminated' RETURNING id, api_key_id, status, previous_heartbeat_at, ");
            sql.push("next_expected_at, heartbeat_interval, survival_tier, credits");
            let rows = sql.fetch_all(&mut *conn).await?;
            let mut by_agent = HashMap::with_capacity(rows.len());
            for row in &rows {
                by_agent.insert(row.try_get::<String, _>("id")?, row);
            }
            for &index in chunk.iter() {
                let Some(row) = by_agent.get(beats[index].agent_id.as_str()) else { continue };
                let health_before =
                    Health::at(row.try_get("previous_heartbeat_at")?, row.try_get("heartbeat_interval")?, now);
                let status: String = row.try_get("status")?;
                if health_before != Health::Up || status == "inactive" {
                    let agent_id = &beats[index].agent_id;
                    let owner: String = row.try_get("api_key_id")?;
                    let payload = json!({ "agentId": agent_id, "from": health_before, "to": Health::Up, "statusFrom": status, "statusTo": "active" });
                    events.push(
                        NewEvent::new("agent.health_changed", agent_id, &payload)
                            .owned_by(Some(&owner))
                            .for_agent(agent_id),
                    );
                    if status == "inactive" {
                        reactivate.push(agent_id.clone());
                    }
                }
                results[index] = Some(HeartbeatApplied {
                    next_expected: row.try_get("next_expected_at")?,
                    survival_tier: row.try_get("survival_tier")?,
                    credits: row.try_get("credits")?,
                    health_before,
                });
            }
        }
    }
    // A heartbeat brings an inactive agent back (SPEC §4.2); rare, so its own small statement
    // keeps the common path from rewriting the status column and its indexes.
    reactivate.sort();
    reactivate.dedup();
    for chunk in power_of_two_chunks(&reactivate, 64) {
        let mut sql = Sql::new("UPDATE agents SET status = 'active' WHERE status = 'inactive' AND id IN (");
        for (i, id) in chunk.iter().enumerate() {
            sql.push(if i == 0 { "" } else { ", " }).bind(id.clone());
        }
        sql.push(")");
        sql.execute(&mut *conn).await?;
    }
    events::append(conn, &events, now).await?;
    Ok(results)
}

async fn apply_actions(
    conn: &mut AnyConnection,
    writes: &[&ActionWrite],
    now: Millis,
) -> StoreResult<Vec<Option<Action>>> {
    let mut results: Vec<Option<Action>> = vec![None; writes.len()];
    let mut events = Vec::new();
    let mut per_agent: HashMap<String, i64> = HashMap::new();
    let indices: Vec<usize> = (0..writes.len()).collect();
    for chunk in power_of_two_chunks(&indices, 64) {
        let ids: Vec<String> = chunk.iter().map(|_| new_id()).collect();
        let mut sql = Sql::new(
            "INSERT INTO agent_actions (id, agent_id, api_key_id, action, category, details, status, autonomous, created_at) \
             SELECT v.column1, agents.id, agents.api_key_id, v.column4, v.column5, v.column6, v.column7, v.column8, ",
        );
        sql.bind(now).push(" FROM (VALUES ");
        for (i, (&index, id)) in chunk.iter().zip(&ids).enumerate() {
            let write = writes[index];
            let a = &write.action;
            sql.push(if i == 0 { "(" } else { ", (" });
            sql.bind(id.clone()).push(", ").bind(a.agent_id.clone()).push(", ").bind(caller(&write.key_id));
            sql.push(", ")
                .bind(a.action.clone())
                .push(", ")
                .bind(a.category.clone())
                .push(", ")
                .bind(a.details.clone());
            sql.push(", ").bind(a.status.clone()).push(", ").bind(a.autonomous).push(")");
        }
        sql.push(
            ") AS v JOIN agents ON agents.id = v.column2 WHERE (v.column3 = '*' OR agents.api_key_id = v.column3)",
        );
        sql.push(" AND agents.status <> 'terminated' RETURNING seq, id, api_key_id");
        let rows = sql.fetch_all(&mut *conn).await?;
        let mut inserted = HashMap::with_capacity(rows.len());
        for row in &rows {
            inserted.insert(
                row.try_get::<String, _>("id")?,
                (row.try_get::<i64, _>("seq")?, row.try_get::<String, _>("api_key_id")?),
            );
        }
        for (&index, id) in chunk.iter().zip(ids) {
            let Some((seq, owner)) = inserted.remove(&id) else { continue };
            let a = &writes[index].action;
            let action = Action {
                seq,
                id,
                agent_id: a.agent_id.clone(),
                action: a.action.clone(),
                category: a.category.clone(),
                details: a.details.clone(),
                status: a.status.clone(),
                autonomous: a.autonomous,
                created_at: now,
            };
            *per_agent.entry(a.agent_id.clone()).or_default() += 1;
            events.push(
                NewEvent::new("action.logged", &action.id, &action).owned_by(Some(&owner)).for_agent(&a.agent_id),
            );
            results[index] = Some(action);
        }
    }
    let counts: Vec<(String, i64)> = per_agent.into_iter().collect();
    for chunk in power_of_two_chunks(&counts, 128) {
        let mut sql = Sql::new("UPDATE agents SET total_actions = total_actions + v.column2, updated_at = ");
        sql.bind(now).push(" FROM (VALUES ");
        for (i, (agent_id, count)) in chunk.iter().enumerate() {
            sql.push(if i == 0 { "(" } else { ", (" });
            sql.bind(agent_id.clone()).push(", ").bind(*count).push(")");
        }
        sql.push(") AS v WHERE agents.id = v.column1");
        sql.execute(&mut *conn).await?;
    }
    events::append(conn, &events, now).await?;
    Ok(results)
}
