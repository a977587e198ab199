//! Heartbeats not yet folded into their agent rows (SQLite).
//!
//! On SQLite a heartbeat is made durable by appending it to `heartbeat_journal` (one page per
//! batch, instead of one page per agent) and remembered here; the writer folds the latest
//! heartbeat of each agent into `agents` in the background, at most once per agent per second,
//! and then drops the journal rows it covered. Reads of agents apply this overlay, so they
//! always see the latest acknowledged heartbeat. After a crash the journal is replayed at start.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::RwLock;

use crate::clock::Millis;
use crate::domain::AgentId;
use crate::store::agents::Agent;

/// The latest acknowledged heartbeat of an agent.
#[derive(Debug, Clone, PartialEq)]
pub struct Recent {
    /// When it arrived.
    pub at: Millis,
    /// The agent's heartbeat interval in seconds.
    pub interval_seconds: i64,
    /// Latest self-reported status.
    pub status: Option<String>,
    /// Latest self-reported metrics (JSON text).
    pub metrics: Option<String>,
    /// Journal position of the first heartbeat not yet folded into the agent row.
    pub first_unfolded: i64,
    /// When that first unfolded heartbeat arrived.
    pub unfolded_since: Millis,
    /// Journal position of this heartbeat.
    pub journal_seq: i64,
}

impl Recent {
    /// When the next heartbeat is due.
    pub fn next_expected(&self) -> Millis {
        self.at + 1000 * self.interval_seconds
    }
}

/// Unfolded heartbeats by agent id.
#[derive(Debug, Default)]
pub struct HeartbeatOverlay {
    entries: RwLock<HashMap<AgentId, Recent>>,
    /// Counts folds. A reader that read agent rows before a fold committed, and looks here only
    /// after the fold dropped its entries, would miss those heartbeats: it compares this number
    /// before and after and reads again (see [`HeartbeatOverlay::apply`]).
    generation: AtomicU64,
}

impl HeartbeatOverlay {
    /// The unfolded heartbeat of an agent, if any.
    pub fn get(&self, agent_id: AgentId) -> Option<Recent> {
        self.entries.read().get(&agent_id).cloned()
    }

    /// When the agent's unfolded heartbeat arrived, if it has one.
    pub fn last_at(&self, agent_id: AgentId) -> Option<Millis> {
        self.entries.read().get(&agent_id).map(|r| r.at)
    }

    /// The fold generation, to take before reading agent rows.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Makes agents read from their rows show their latest heartbeats. False (and nothing
    /// changed) when a fold completed since `generation` was taken: read the rows again.
    pub fn apply(&self, agents: &mut [Agent], generation: u64, now: Millis) -> bool {
        let entries = self.entries.read();
        // Folds bump the generation under the write lock, so none can complete while we look.
        if self.generation.load(Ordering::Acquire) != generation {
            return false;
        }
        for agent in agents {
            let Some(recent) = entries.get(&agent.id) else { continue };
            if agent.last_heartbeat.is_some_and(|folded| folded > recent.at) {
                continue;
            }
            agent.last_heartbeat = Some(recent.at);
            agent.next_expected = Some(recent.next_expected());
            // As the fold will write them: a heartbeat without a status keeps the last one.
            if recent.status.is_some() {
                agent.reported_status.clone_from(&recent.status);
            }
            if recent.metrics.is_some() {
                agent.reported_metrics.clone_from(&recent.metrics);
            }
            agent.refresh(now);
        }
        true
    }

    /// Records committed heartbeats (keeping the earliest unfolded position of each agent).
    pub fn record(&self, committed: Vec<(AgentId, Recent)>) {
        let mut entries = self.entries.write();
        for (agent_id, mut recent) in committed {
            if let Some(existing) = entries.get(&agent_id) {
                recent.first_unfolded = existing.first_unfolded;
                recent.unfolded_since = existing.unfolded_since;
            }
            entries.insert(agent_id, recent);
        }
    }

    /// Up to `limit` agents, oldest unfolded first, to fold next.
    pub fn oldest(&self, limit: usize) -> Vec<(AgentId, Recent)> {
        let entries = self.entries.read();
        let mut all: Vec<(&AgentId, &Recent)> = entries.iter().collect();
        if all.len() > limit {
            all.select_nth_unstable_by_key(limit, |(_, r)| r.first_unfolded);
            all.truncate(limit);
        }
        all.into_iter().map(|(id, r)| (*id, r.clone())).collect()
    }

    /// The journal position below which every row is folded once `slice` is (`None`: all).
    pub fn boundary_after(&self, slice: &[(AgentId, Recent)]) -> Option<i64> {
        let folded: HashMap<AgentId, i64> = slice.iter().map(|(id, r)| (*id, r.journal_seq)).collect();
        let entries = self.entries.read();
        entries
            .iter()
            .filter_map(|(id, recent)| match folded.get(id) {
                // Folded as it stands: it needs no journal row any more.
                Some(&seq) if seq == recent.journal_seq => None,
                // A newer heartbeat arrived while folding: only rows after the folded one count.
                Some(&seq) => Some(seq + 1),
                None => Some(recent.first_unfolded),
            })
            .min()
    }

    /// Forgets folded heartbeats; an agent with a newer heartbeat stays, needing only the
    /// journal rows after the one that was folded.
    pub fn forget_folded(&self, slice: &[(AgentId, Recent)]) {
        let mut entries = self.entries.write();
        self.generation.fetch_add(1, Ordering::AcqRel);
        for (agent_id, folded) in slice {
            match entries.get_mut(agent_id) {
                Some(current) if current.journal_seq == folded.journal_seq => {
                    entries.remove(agent_id);
                }
                Some(current) => {
                    current.first_unfolded = folded.journal_seq + 1;
                    current.unfolded_since = current.at;
                }
                None => {}
            }
        }
    }

    /// How many agents have unfolded heartbeats.
    pub fn len(&self) -> usize {
        self.entries.read().len()
    }

    /// True when everything is folded.
    pub fn is_empty(&self) -> bool {
        self.entries.read().is_empty()
    }

    /// Since when the longest-waiting unfolded heartbeat has waited.
    pub fn waiting_since(&self) -> Option<Millis> {
        self.entries.read().values().map(|r| r.unfolded_since).min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recent(at: Millis, first_unfolded: i64, journal_seq: i64) -> Recent {
        Recent {
            at,
            interval_seconds: 60,
            status: None,
            metrics: None,
            first_unfolded,
            unfolded_since: at,
            journal_seq,
        }
    }

    #[test]
    fn journal_rows_are_kept_until_every_heartbeat_they_hold_is_folded() {
        let overlay = HeartbeatOverlay::default();
        let (a, b) = (AgentId::numbered(1), AgentId::numbered(2));
        overlay.record(vec![(a, recent(10, 1, 3)), (b, recent(11, 2, 2))]);
        // A second heartbeat of `a` keeps its first unfolded position.
        overlay.record(vec![(a, recent(12, 4, 4))]);
        assert_eq!(overlay.get(a).unwrap().first_unfolded, 1);

        let slice = overlay.oldest(1);
        assert_eq!(slice[0].0, a);
        // Folding `a` leaves `b`, whose rows start at 2.
        assert_eq!(overlay.boundary_after(&slice), Some(2));
        // A heartbeat of `a` arriving during the fold keeps `a`, needing rows after 4 only.
        overlay.record(vec![(a, recent(13, 5, 5))]);
        overlay.forget_folded(&slice);
        assert_eq!(overlay.get(a).unwrap().first_unfolded, 5);
        assert_eq!(overlay.len(), 2);

        let everything = overlay.oldest(10);
        assert_eq!(overlay.boundary_after(&everything), None);
        let generation = overlay.generation();
        overlay.forget_folded(&everything);
        assert!(overlay.is_empty());
        assert_ne!(overlay.generation(), generation, "a fold makes readers read again");
    }
}
