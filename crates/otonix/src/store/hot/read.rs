//! The only readers of agents that handlers use: rows with their latest acknowledged heartbeat,
//! whether or not it is folded into the row yet.

use super::super::agents::{self, Agent, AgentFilter};
use super::super::{Cursor, Page, Store, StoreResult};
use crate::clock::Millis;
use crate::domain::AgentId;

impl Store {
    /// One agent as it is at `now`.
    pub async fn agent(&self, id: AgentId, now: Millis) -> StoreResult<Option<Agent>> {
        let mut conn = self.read().await?;
        loop {
            let generation = self.fold_generation();
            let Some(mut agent) = agents::row(&mut conn, id, now).await? else {
                return Ok(None);
            };
            if self.freshen(std::slice::from_mut(&mut agent), generation, now) {
                return Ok(Some(agent));
            }
        }
    }

    /// A page of agents as they are at `now`, newest first.
    pub async fn agents(
        &self,
        filter: &AgentFilter,
        cursor: Option<Cursor>,
        limit: usize,
        now: Millis,
    ) -> StoreResult<Page<Agent>> {
        if filter.health.is_some() || filter.status.is_some() {
            // The filter runs in SQL: fold journaled heartbeats into the rows first.
            self.settle_heartbeats().await?;
        }
        let mut conn = self.read().await?;
        loop {
            let generation = self.fold_generation();
            let mut page = agents::list(&mut conn, filter, cursor, limit, now).await?;
            if self.freshen(&mut page.items, generation, now) {
                return Ok(page);
            }
        }
    }

    /// Take before reading agent rows, and pass to [`Store::freshen`].
    fn fold_generation(&self) -> u64 {
        self.overlay.as_ref().map_or(0, |o| o.generation())
    }

    /// Makes agents read from their rows show their latest acknowledged heartbeats. False when
    /// heartbeats were folded into the rows since `generation`: read the rows again.
    fn freshen(&self, agents: &mut [Agent], generation: u64, now: Millis) -> bool {
        self.overlay.as_ref().is_none_or(|overlay| overlay.apply(agents, generation, now))
    }
}
