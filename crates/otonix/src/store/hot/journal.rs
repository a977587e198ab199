//! Heartbeats on SQLite: journaled, folded later (see [`super::overlay`]).

use std::collections::HashMap;

use super::apply::MergedBeat;
use super::db::BatchDb;
use super::overlay::{HeartbeatOverlay, Recent};
use crate::clock::Millis;
use crate::domain::AgentId;
use crate::store::{Sql, StoreError, StoreResult, power_of_two_chunks};

/// Overlay entries to record once the batch is committed.
pub type Committed = Vec<(AgentId, Recent)>;

/// Journals merged heartbeats (one row per agent per batch) and returns the overlay entries to
/// record once the batch is committed.
pub(super) async fn append<D: BatchDb>(
    db: &mut D,
    merged: &[MergedBeat],
    overlay: &HeartbeatOverlay,
) -> StoreResult<Committed> {
    let mut committed = Vec::with_capacity(merged.len());
    for chunk in power_of_two_chunks(merged, 64) {
        let mut sql = Sql::new("INSERT INTO heartbeat_journal (agent_id, at, status, metrics) VALUES ");
        for (i, beat) in chunk.iter().enumerate() {
            sql.push(if i == 0 { "(" } else { ", (" }).bind(beat.agent_id).push(", ").bind(beat.at);
            sql.push(", ").bind(&beat.status).push(", ").bind(&beat.metrics).push(")");
        }
        // RETURNING promises no order: match the rows by agent (one row per agent per batch).
        sql.push(" RETURNING agent_id, seq");
        let rows = db.query(sql).await?;
        let seqs: HashMap<Option<AgentId>, i64> =
            rows.iter().map(|row| (AgentId::parse(row.text(0)), row.int(1))).collect();
        for beat in chunk {
            let seq = *seqs
                .get(&Some(beat.agent_id))
                .ok_or_else(|| StoreError::Corrupt("a journaled heartbeat is missing".into()))?;
            let earlier = overlay.get(beat.agent_id);
            let recent = Recent {
                at: beat.at,
                interval_seconds: beat.interval_seconds,
                status: beat.status.clone().or_else(|| earlier.as_ref().and_then(|e| e.status.clone())),
                metrics: beat.metrics.clone().or_else(|| earlier.as_ref().and_then(|e| e.metrics.clone())),
                first_unfolded: earlier.as_ref().map_or(seq, |e| e.first_unfolded),
                unfolded_since: earlier.as_ref().map_or(beat.at, |e| e.unfolded_since),
                journal_seq: seq,
            };
            committed.push((beat.agent_id, recent));
        }
    }
    Ok(committed)
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
                sql.push(if i == 0 { "(" } else { ", (" }).bind(*agent_id).push(", ").bind(recent.at);
                sql.push(", ").bind(&recent.status).push(", ").bind(&recent.metrics).push(")");
            }
            sql.push(") AS v WHERE agents.id = v.column1");
            sql.push(" AND (agents.last_heartbeat_at IS NULL OR agents.last_heartbeat_at <= v.column2)");
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
    let mut entries: HashMap<AgentId, Recent> = HashMap::new();
    for row in &rows {
        let (seq, at) = (row.int(0), row.int(2));
        let agent_id = AgentId::parse(row.text(1))
            .ok_or_else(|| StoreError::Corrupt(format!("journal row {seq}: agent id {:?}", row.text(1))))?;
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
