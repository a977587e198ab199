//! Applying one batch of heartbeats and actions in one transaction, with a few multi-row
//! statements (in power-of-two sizes, so they stay prepared). Written once for every backend
//! on top of [`BatchDb`].

use std::collections::{HashMap, HashSet};

use serde_json::json;

use super::db::BatchDb;
use super::journal::journal_heartbeats;
use super::overlay::HeartbeatOverlay;
use super::{ActionWrite, HeartbeatApplied, HeartbeatWrite};
use crate::clock::Millis;
use crate::store::actions::Action;
use crate::store::events::{self, NewEvent};
use crate::store::{Sql, StoreResult, new_id, power_of_two_chunks};
use crate::survival::Health;

/// Results of a batch, in the order of the writes.
pub type BatchResults = (Vec<Option<HeartbeatApplied>>, Vec<Option<Action>>);

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
        let mut events = Vec::new();
        let (beat_results, committed) = match overlay {
            Some(overlay) => journal_heartbeats(db, beats, now, &mut events, overlay).await?,
            None => (update_heartbeats(db, beats, now, &mut events).await?, Vec::new()),
        };
        let action_results = apply_actions(db, actions, now, &mut events).await?;
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

/// The caller as the SQL compares it: the key id, or `*` for the admin.
fn caller(key_id: &Option<String>) -> &str {
    key_id.as_deref().unwrap_or("*")
}

async fn update_heartbeats<D: BatchDb>(
    db: &mut D,
    beats: &[&HeartbeatWrite],
    now: Millis,
    events: &mut Vec<NewEvent>,
) -> StoreResult<Vec<Option<HeartbeatApplied>>> {
    let mut results = vec![None; beats.len()];
    let mut reactivate = Vec::new();
    for mut round in rounds(beats, |b| &b.agent_id) {
        // Rows in one order everywhere, so concurrent batches lock agents in the same order.
        round.sort_by(|a, b| beats[*a].agent_id.cmp(&beats[*b].agent_id));
        for chunk in power_of_two_chunks(&round, 128) {
            // Concurrent writers (or replicas) may commit heartbeats out of order: keep the latest.
            let mut sql = Sql::new("UPDATE agents SET previous_heartbeat_at = last_heartbeat_at, last_heartbeat_at = ");
            sql.push("CASE WHEN last_heartbeat_at > ").bind(now).push(" THEN last_heartbeat_at ELSE ").bind(now);
            sql.push(" END, next_expected_at = CASE WHEN last_heartbeat_at > ").bind(now);
            sql.push(" THEN next_expected_at ELSE ").bind(now).push(" + 1000 * heartbeat_interval END, ");
            sql.push("reported_status = COALESCE(v.column3, reported_status), ");
            sql.push("reported_metrics = COALESCE(v.column4, reported_metrics), updated_at = ").bind(now);
            sql.push(" FROM (VALUES ");
            for (i, &index) in chunk.iter().enumerate() {
                let beat = beats[index];
                sql.push(if i == 0 { "(" } else { ", (" }).bind(&beat.agent_id).push(", ").bind(caller(&beat.key_id));
                sql.push(", ").bind(&beat.status).push(", ").bind(&beat.metrics).push(")");
            }
            sql.push(") AS v WHERE agents.id = v.column1 AND (v.column2 = '*' OR agents.api_key_id = v.column2)");
            sql.push(" AND agents.status <> 'terminated' RETURNING id, api_key_id, status, previous_heartbeat_at, ");
            sql.push("next_expected_at, heartbeat_interval, survival_tier, credits");
            let rows = db.query(sql).await?;
            let by_agent: HashMap<&str, _> = rows.iter().map(|row| (row.text(0), row)).collect();
            for &index in chunk.iter() {
                let agent_id = &beats[index].agent_id;
                let Some(row) = by_agent.get(agent_id.as_str()) else { continue };
                let health_before = Health::at(row.opt_int(3), row.int(5), now);
                let status = row.text(2);
                if health_before != Health::Up || status == "inactive" {
                    let payload = json!({ "agentId": agent_id, "from": health_before, "to": Health::Up,
                                          "statusFrom": status, "statusTo": "active" });
                    let event = NewEvent::new("agent.health_changed", agent_id, &payload);
                    events.push(event.owned_by(Some(row.text(1))).for_agent(agent_id));
                    if status == "inactive" {
                        reactivate.push(agent_id.clone());
                    }
                }
                results[index] = Some(HeartbeatApplied {
                    next_expected: row.int(4),
                    survival_tier: row.text(6).to_owned(),
                    credits: row.int(7),
                    health_before,
                });
            }
        }
    }
    reactivate.sort();
    reactivate.dedup();
    reactivate_agents(db, &reactivate).await?;
    Ok(results)
}

/// A heartbeat brings an inactive agent back (SPEC §4.2). Rare, so it is its own small
/// statement, which keeps the common path from rewriting the status column and its indexes.
pub(super) async fn reactivate_agents<D: BatchDb>(db: &mut D, agent_ids: &[String]) -> StoreResult<()> {
    for chunk in power_of_two_chunks(agent_ids, 64) {
        let mut sql = Sql::new("UPDATE agents SET status = 'active' WHERE status = 'inactive' AND id IN (");
        for (i, id) in chunk.iter().enumerate() {
            sql.push(if i == 0 { "" } else { ", " }).bind(id);
        }
        sql.push(")");
        db.execute(sql).await?;
    }
    Ok(())
}

async fn apply_actions<D: BatchDb>(
    db: &mut D,
    writes: &[&ActionWrite],
    now: Millis,
    events: &mut Vec<NewEvent>,
) -> StoreResult<Vec<Option<Action>>> {
    let mut results: Vec<Option<Action>> = vec![None; writes.len()];
    let mut per_agent: HashMap<&str, i64> = HashMap::new();
    let indices: Vec<usize> = (0..writes.len()).collect();
    for chunk in power_of_two_chunks(&indices, 64) {
        let ids: Vec<String> = chunk.iter().map(|_| new_id()).collect();
        let mut sql = Sql::new(
            "INSERT INTO agent_actions (id, agent_id, api_key_id, action, category, details, status, autonomous, \
             created_at) SELECT v.column1, agents.id, agents.api_key_id, v.column4, v.column5, v.column6, v.column7, \
             v.column8, ",
        );
        sql.bind(now).push(" FROM (VALUES ");
        for (i, (&index, id)) in chunk.iter().zip(&ids).enumerate() {
            let (write, a) = (writes[index], &writes[index].action);
            sql.push(if i == 0 { "(" } else { ", (" }).bind(id).push(", ").bind(&a.agent_id);
            sql.push(", ").bind(caller(&write.key_id)).push(", ").bind(&a.action).push(", ").bind(&a.category);
            sql.push(", ").bind(&a.details).push(", ").bind(&a.status).push(", ").bind(a.autonomous).push(")");
        }
        sql.push(
            ") AS v JOIN agents ON agents.id = v.column2 WHERE (v.column3 = '*' OR agents.api_key_id = v.column3)",
        );
        sql.push(" AND agents.status <> 'terminated' RETURNING seq, id, api_key_id");
        let rows = db.query(sql).await?;
        let inserted: HashMap<&str, _> = rows.iter().map(|row| (row.text(1), row)).collect();
        for (&index, id) in chunk.iter().zip(ids) {
            let Some(row) = inserted.get(id.as_str()) else { continue };
            let a = &writes[index].action;
            let action = Action {
                seq: row.int(0),
                id,
                agent_id: a.agent_id.clone(),
                action: a.action.clone(),
                category: a.category.clone(),
                details: a.details.clone(),
                status: a.status.clone(),
                autonomous: a.autonomous,
                created_at: now,
            };
            *per_agent.entry(&a.agent_id).or_default() += 1;
            events.push(
                NewEvent::new("action.logged", &action.id, &action).owned_by(Some(row.text(2))).for_agent(&a.agent_id),
            );
            results[index] = Some(action);
        }
    }
    let mut counts: Vec<(&str, i64)> = per_agent.into_iter().collect();
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
