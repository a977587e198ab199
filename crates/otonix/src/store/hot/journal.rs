//! Heartbeats on SQLite: journaled, folded later (see [`super::overlay`]).

use std::collections::HashMap;

use serde_json::json;

use super::db::{BatchDb, Row};
use super::overlay::{HeartbeatOverlay, Recent};
use super::{HeartbeatApplied, HeartbeatWrite};
use crate::clock::Millis;
use crate::store::events::NewEvent;
use crate::store::{Sql, StoreResult, power_of_two_chunks};
use crate::survival::Health;

/// Overlay entries to record once the batch is committed.
pub type Committed = Vec<(String, Recent)>;

/// What the journal batch needs to know about an agent, read once per batch.
struct AgentState<'a> {
    row: &'a Row,
    last: Option<Millis>,
}

/// Validates heartbeats against their agents, journals the accepted ones, and returns the
/// results plus the overlay entries to record after commit.
pub async fn journal_heartbeats<D: BatchDb>(
    db: &mut D,
    beats: &[&HeartbeatWrite],
    now: Millis,
    events: &mut Vec<NewEvent>,
    overlay: &HeartbeatOverlay,
) -> StoreResult<(Vec<Option<HeartbeatApplied>>, Committed)> {
    let mut ids: Vec<&str> = beats.iter().map(|b| b.agent_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut rows = Vec::new();
    for chunk in power_of_two_chunks(&ids, 128) {
        let mut sql = Sql::new(
            "SELECT id, api_key_id, status, survival_tier, credits, heartbeat_interval, last_heartbeat_at \
             FROM agents WHERE id IN (",
        );
        for (i, id) in chunk.iter().enumerate() {
            sql.push(if i == 0 { "" } else { ", " }).bind(*id);
        }
        sql.push(")");
        rows.extend(db.query(sql).await?);
    }
    let mut agents: HashMap<&str, AgentState> = rows
        .iter()
        .map(|row| {
            let last = overlay.last_at(row.text(0)).max(row.opt_int(6));
            (row.text(0), AgentState { row, last })
        })
        .collect();

    let mut results = vec![None; beats.len()];
    let mut accepted = Vec::new();
    let mut reactivate = Vec::new();
    for (index, beat) in beats.iter().enumerate() {
        let Some(state) = agents.get_mut(beat.agent_id.as_str()) else { continue };
        let (row, status) = (state.row, state.row.text(2));
        if status == "terminated" || beat.key_id.as_deref().is_some_and(|key| key != row.text(1)) {
            continue;
        }
        let interval = row.int(5);
        let health_before = Health::at(state.last, interval, now);
        if health_before != Health::Up || status == "inactive" {
            let payload = json!({ "agentId": beat.agent_id, "from": health_before, "to": Health::Up,
                                  "statusFrom": status, "statusTo": "active" });
            let event = NewEvent::new("agent.health_changed", &beat.agent_id, &payload);
            events.push(event.owned_by(Some(row.text(1))).for_agent(&beat.agent_id));
            if status == "inactive" {
                reactivate.push(beat.agent_id.clone());
            }
        }
        results[index] = Some(HeartbeatApplied {
            next_expected: now + 1000 * interval,
            survival_tier: row.text(3).to_owned(),
            credits: row.int(4),
            health_before,
        });
        accepted.push(index);
        state.last = Some(now);
    }

    let mut committed: HashMap<String, Recent> = HashMap::new();
    for chunk in power_of_two_chunks(&accepted, 64) {
        let mut sql = Sql::new("INSERT INTO heartbeat_journal (agent_id, at, status, metrics) VALUES ");
        for (i, index) in chunk.iter().enumerate() {
            let beat = beats[*index];
            sql.push(if i == 0 { "(" } else { ", (" }).bind(&beat.agent_id).push(", ").bind(now);
            sql.push(", ").bind(&beat.status).push(", ").bind(&beat.metrics).push(")");
        }
        sql.push(" RETURNING seq");
        let seqs = db.query(sql).await?;
        for (index, seq) in chunk.iter().zip(&seqs) {
            let beat = beats[*index];
            let interval = agents.get(beat.agent_id.as_str()).map_or(60, |s| s.row.int(5));
            let seq = seq.int(0);
            let earlier = committed.remove(&beat.agent_id).or_else(|| overlay.get(&beat.agent_id));
            let recent = Recent {
                at: now,
                interval_seconds: interval,
                status: beat.status.clone().or_else(|| earlier.as_ref().and_then(|e| e.status.clone())),
                metrics: beat.metrics.clone().or_else(|| earlier.as_ref().and_then(|e| e.metrics.clone())),
                first_unfolded: earlier.as_ref().map_or(seq, |e| e.first_unfolded),
                unfolded_since: earlier.as_ref().map_or(now, |e| e.unfolded_since),
                journal_seq: seq,
            };
            committed.insert(beat.agent_id.clone(), recent);
        }
    }
    reactivate.sort();
    reactivate.dedup();
    super::apply::reactivate_agents(db, &reactivate).await?;
    Ok((results, committed.into_iter().collect()))
}

/// Folds up to `limit` agents' latest heartbeats into their rows and deletes the journal rows
/// that no unfolded heartbeat needs any more. Returns how many agents were folded.
pub async fn fold<D: BatchDb>(db: &mut D, overlay: &HeartbeatOverlay, limit: usize, now: Millis) -> StoreResult<usize> {
    let slice = overlay.oldest(limit);
    if slice.is_empty() {
        return Ok(0);
    }
    db.begin().await?;
    let outcome = async {
        for chunk in power_of_two_chunks(&slice, 128) {
            let mut sql = Sql::new(
                "UPDATE agents SET previous_heartbeat_at = last_heartbeat_at, last_heartbeat_at = v.column2, ",
            );
            sql.push("next_expected_at = v.column2 + 1000 * heartbeat_interval, ");
            sql.push("reported_status = COALESCE(v.column3, reported_status), ");
            sql.push("reported_metrics = COALESCE(v.column4, reported_metrics), updated_at = ").bind(now);
            sql.push(" FROM (VALUES ");
            for (i, (agent_id, recent)) in chunk.iter().enumerate() {
                sql.push(if i == 0 { "(" } else { ", (" }).bind(agent_id).push(", ").bind(recent.at);
                sql.push(", ").bind(&recent.status).push(", ").bind(&recent.metrics).push(")");
            }
            sql.push(") AS v WHERE agents.id = v.column1");
            sql.push(" AND (agents.last_heartbeat_at IS NULL OR agents.last_heartbeat_at < v.column2)");
            db.execute(sql).await?;
        }
        let mut sql = Sql::new("DELETE FROM heartbeat_journal");
        if let Some(boundary) = overlay.boundary_after(&slice) {
            sql.push(" WHERE seq < ").bind(boundary);
        }
        db.execute(sql).await?;
        db.commit().await
    }
    .await;
    match outcome {
        Ok(()) => {
            overlay.forget_folded(&slice);
            tracing::debug!(agents = slice.len(), "folded heartbeats");
            Ok(slice.len())
        }
        Err(error) => {
            db.rollback().await;
            Err(error)
        }
    }
}

/// Loads the journal left by a previous run into the overlay (to be folded like new entries).
pub async fn recover<D: BatchDb>(db: &mut D, overlay: &HeartbeatOverlay) -> StoreResult<usize> {
    let sql = Sql::new(
        "SELECT j.seq, j.agent_id, j.at, j.status, j.metrics, a.heartbeat_interval \
         FROM heartbeat_journal j JOIN agents a ON a.id = j.agent_id ORDER BY j.seq",
    );
    let rows = db.query(sql).await?;
    let mut entries: HashMap<String, Recent> = HashMap::new();
    for row in &rows {
        let (seq, agent_id, at) = (row.int(0), row.text(1).to_owned(), row.int(2));
        let earlier = entries.remove(&agent_id);
        let status = (!row.text(3).is_empty()).then(|| row.text(3).to_owned());
        let metrics = (!row.text(4).is_empty()).then(|| row.text(4).to_owned());
        let recent = Recent {
            at,
            interval_seconds: row.int(5),
            status: status.or_else(|| earlier.as_ref().and_then(|e| e.status.clone())),
            metrics: metrics.or_else(|| earlier.as_ref().and_then(|e| e.metrics.clone())),
            first_unfolded: earlier.as_ref().map_or(seq, |e| e.first_unfolded),
            unfolded_since: earlier.as_ref().map_or(at, |e| e.unfolded_since),
            journal_seq: seq,
        };
        entries.insert(agent_id, recent);
    }
    let count = entries.len();
    overlay.record(entries.into_iter().collect());
    Ok(count)
}
