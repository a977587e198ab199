//! Group commit for the two hottest writes: heartbeats and actions (SPEC §9.1).
//!
//! [`super::Store::heartbeat`] and [`super::Store::action`] hand their write to a [`HotWriter`]
//! and wait. A writer takes everything queued (up to `batching.maxBatch`), applies it with a few
//! multi-row statements in one transaction ([`apply`]), commits, and only then answers each
//! waiter — so every acknowledged write is durable, and one commit (one fsync on SQLite) serves
//! many requests. Each action and its agent's `totalActions` increment commit together. A write
//! that does not apply (unknown agent, another key's agent, terminated agent) is answered `None`.
//!
//! Writes are sharded by agent: all writes to one agent go through one writer, so heartbeats of
//! one agent in a batch coalesce into one row write and writers never wait on each other's row
//! locks. On SQLite one writer runs on its own thread with its own connection ([`sqlite`]) and
//! journals heartbeats, folding them into the agent rows in the background ([`overlay`]); on
//! PostgreSQL several writers run as tasks on pooled connections ([`db::PoolBatchDb`]) and
//! update the agent rows directly.

mod apply;
mod db;
mod journal;
pub mod overlay;
mod read;
pub mod sqlite;
mod writer;

use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::actions::{Action, NewAction};
use super::{StoreError, StoreResult};
use crate::clock::{Millis, SharedClock};
use crate::domain::{AgentId, Health, Tier, Usdc};
use db::PoolBatchDb;
use overlay::HeartbeatOverlay;
use writer::{Deliver, Writer, spawn_on_own_thread};

/// A heartbeat to record. `key_id` is the caller's key (`None` for the admin).
#[derive(Debug, Clone)]
pub struct HeartbeatWrite {
    /// The agent.
    pub agent_id: AgentId,
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
    pub survival_tier: Tier,
    /// Current credits.
    pub credits: Usdc,
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
    /// Fold every unfolded heartbeat, then answer.
    Settle(oneshot::Sender<()>),
    /// Finish what was queued before, fold everything, and stop.
    Stop,
}

/// Queues of hot-path writes in front of the batch writers, one per writer.
#[derive(Debug, Clone)]
pub struct HotWriter {
    shards: Arc<[mpsc::UnboundedSender<Job>]>,
    journaled: bool,
}

/// Where a batch writer writes.
pub(super) enum Target<'a> {
    /// The SQLite file, journaling heartbeats into the overlay.
    Sqlite(&'a sqlite::SqliteFile, &'a Arc<HeartbeatOverlay>),
    /// A PostgreSQL pool, with this many writers.
    Pool(&'a sqlx::AnyPool, usize),
}

impl HotWriter {
    /// Starts the batch writers (on SQLite after replaying the heartbeat journal a previous run
    /// left). They stop after [`HotWriter::stop`] once everything queued before is committed;
    /// await the handles to know that.
    pub(super) async fn spawn(
        target: Target<'_>,
        clock: SharedClock,
        max_batch: usize,
    ) -> StoreResult<(Self, Vec<JoinHandle<()>>)> {
        // Unbounded: every queued job has a handler waiting on it, so a queue is bounded by the
        // number of requests in flight.
        let (shards, handles) = match target {
            Target::Sqlite(file, overlay) => {
                let mut db = sqlite::SqliteBatchDb::open(file)?;
                let recovered = journal::recover(&mut db, overlay).await?;
                if recovered > 0 {
                    tracing::info!(agents = recovered, "replayed heartbeats journaled before the last stop");
                }
                let (sender, queue) = mpsc::unbounded_channel();
                let deliver = Deliver::OnRuntime(tokio::runtime::Handle::current());
                let writer = Writer { clock, queue, max_batch, deliver, overlay: Some(overlay.clone()) };
                (vec![sender], vec![spawn_on_own_thread(db, writer)])
            }
            Target::Pool(pool, writers) => (0..writers.max(1))
                .map(|_| {
                    let (sender, queue) = mpsc::unbounded_channel();
                    let writer =
                        Writer { clock: clock.clone(), queue, max_batch, deliver: Deliver::Here, overlay: None };
                    (sender, tokio::spawn(writer.run(PoolBatchDb::new(pool.clone()))))
                })
                .unzip(),
        };
        let journaled = matches!(target, Target::Sqlite(..));
        Ok((Self { shards: shards.into(), journaled }, handles))
    }

    /// Records a heartbeat; `None` if it did not apply.
    pub async fn heartbeat(&self, write: HeartbeatWrite) -> StoreResult<Option<HeartbeatApplied>> {
        let (reply, answer) = oneshot::channel();
        let shard = self.shard(write.agent_id);
        Self::submit(shard, Job::Heartbeat(write, reply), answer).await
    }

    /// Records an action; `None` if it did not apply.
    pub async fn action(&self, write: ActionWrite) -> StoreResult<Option<Action>> {
        let (reply, answer) = oneshot::channel();
        let shard = self.shard(write.action.agent_id);
        Self::submit(shard, Job::Action(write, reply), answer).await
    }

    /// Waits until every acknowledged heartbeat is folded into its agent row, so that SQL sees
    /// it (before filtering agents by health). Immediate where heartbeats are not journaled.
    pub async fn settle(&self) -> StoreResult<()> {
        if !self.journaled {
            return Ok(());
        }
        let (reply, answer) = oneshot::channel();
        self.shards[0].send(Job::Settle(reply)).map_err(|_| closed())?;
        answer.await.map_err(|_| closed())
    }

    /// Asks every writer to stop once what is queued before is committed.
    pub fn stop(&self) {
        for shard in self.shards.iter() {
            let _ = shard.send(Job::Stop);
        }
    }

    /// The queue of the writer that owns `agent_id`.
    fn shard(&self, agent_id: AgentId) -> &mpsc::UnboundedSender<Job> {
        let hash = BuildHasherDefault::<DefaultHasher>::default().hash_one(agent_id);
        &self.shards[(hash % self.shards.len() as u64) as usize]
    }

    async fn submit<T>(
        shard: &mpsc::UnboundedSender<Job>,
        job: Job,
        answer: oneshot::Receiver<StoreResult<Option<T>>>,
    ) -> StoreResult<Option<T>> {
        shard.send(job).map_err(|_| closed())?;
        answer.await.map_err(|_| closed())?
    }
}

fn closed() -> StoreError {
    StoreError::Unavailable(sqlx::Error::PoolClosed)
}

impl super::Store {
    /// Starts the batch writers of heartbeats and actions: one on SQLite, `postgres_writers` on
    /// PostgreSQL. Await the handles after [`super::Store::stop_writers`].
    pub async fn start_writers(
        &mut self,
        clock: SharedClock,
        postgres_writers: usize,
        max_batch: usize,
    ) -> StoreResult<Vec<JoinHandle<()>>> {
        let target = match (&self.sqlite, &self.overlay) {
            (Some(file), Some(overlay)) => Target::Sqlite(file, overlay),
            _ => Target::Pool(&self.writer, postgres_writers),
        };
        let (hot, handles) = HotWriter::spawn(target, clock, max_batch).await?;
        self.hot = Some(hot);
        Ok(handles)
    }

    /// Asks the batch writers to stop once everything queued is committed.
    pub fn stop_writers(&self) {
        if let Some(hot) = &self.hot {
            hot.stop();
        }
    }

    /// Records a heartbeat through the group commit; `None` if it did not apply (unknown agent,
    /// another key's, terminated: [`super::agents::refusal`] tells which).
    pub async fn heartbeat(&self, write: HeartbeatWrite) -> StoreResult<Option<HeartbeatApplied>> {
        self.hot()?.heartbeat(write).await
    }

    /// Records an action through the group commit; `None` if it did not apply.
    pub async fn action(&self, write: ActionWrite) -> StoreResult<Option<Action>> {
        self.hot()?.action(write).await
    }

    /// Waits until every acknowledged heartbeat is in its agent row (see [`HotWriter::settle`]).
    pub(super) async fn settle_heartbeats(&self) -> StoreResult<()> {
        match &self.hot {
            Some(hot) => hot.settle().await,
            None => Ok(()),
        }
    }

    fn hot(&self) -> StoreResult<&HotWriter> {
        self.hot.as_ref().ok_or_else(closed)
    }
}
