//! Heartbeats not yet folded into their agent rows (SQLite).
//!
//! On SQLite a heartbeat is made durable by appending it to `heartbeat_journal` (one page per
//! batch, instead of one page per agent) and remembered here; the writer folds the latest
//! heartbeat of each agent into `agents` in the background, at most once per agent per second,
//! and then drops the journal rows it covered. Reads of agents apply this overlay, so they
//! always see the latest acknowledged heartbeat. After a crash the journal is replayed at start.

use std::collections::HashMap;

use parking_lot::RwLock;

use crate::clock::Millis;
use crate::store::agents::{Agent, self_report};

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
    entries: RwLock<HashMap<String, Recent>>,
}

impl HeartbeatOverlay {
    /// The unfolded heartbeat of an agent, if any.
    pub fn get(&self, agent_id: &str) -> Option<Recent> {
        self.entries.read().get(agent_id).cloned()
    }

    /// When the agent's unfolded heartbeat arrived, if it has one.
    pub fn last_at(&self, agent_id: &str) -> Option<Millis> {
        self.entries.read().get(agent_id).map(|r| r.at)
    }

    /// Makes `agent` (read from its row) show its latest heartbeat.
    pub fn apply(&self, agent: &mut Agent, now: Millis) {
        let entries = self.entries.read();
        let Some(recent) = entries.get(&agent.id) else { return };
        if agent.last_heartbeat.is_some_and(|folded| folded >= recent.at) {
            return;
        }
        agent.last_heartbeat = Some(recent.at);
        agent.next_expected = Some(recent.next_expected());
        if recent.status.is_some() || recent.metrics.is_some() {
            agent.last_report = self_report(recent.status.clone(), recent.metrics.as_deref());
        }
        agent.refresh(now);
    }

    /// Records committed heartbeats (keeping the earliest unfolded position of each agent).
    pub fn record(&self, committed: Vec<(String, Recent)>) {
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
    pub fn oldest(&self, limit: usize) -> Vec<(String, Recent)> {
        let entries = self.entries.read();
        let mut all: Vec<(&String, &Recent)> = entries.iter().collect();
        if all.len() > limit {
            all.select_nth_unstable_by_key(limit, |(_, r)| r.first_unfolded);
            all.truncate(limit);
        }
        all.into_iter().map(|(id, r)| (id.clone(), r.clone())).collect()
    }

    /// The journal position below which every row is folded once `slice` is (`None`: all).
    pub fn boundary_after(&self, slice: &[(String, Recent)]) -> Option<i64> {
        let folded: HashMap<&str, i64> = slice.iter().map(|(id, r)| (id.as_str(), r.journal_seq)).collect();
        let entries = self.entries.read();
        entries
            .iter()
            .filter_map(|(id, recent)| match folded.get(id.as_str()) {
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
    pub fn forget_folded(&self, slice: &[(String, Recent)]) {
        let mut entries = self.entries.write();
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
