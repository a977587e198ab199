//! Group commit for the two hottest writes: heartbeats and actions (SPEC §9.1).
//!
//! Handlers hand their write to a [`HotWriter`] and wait. A writer takes everything queued (up
//! to `batching.maxBatch`), applies it with a few multi-row statements in one transaction
//! ([`apply`]), commits, and only then answers each waiter — so every acknowledged write is
//! durable, and one commit (one fsync on SQLite) serves many requests. Each action and its
//! agent's `totalActions` increment commit together. A write that does not apply (unknown
//! agent, another key's agent, terminated agent) is answered `None`; the handler finds out why.
//!
//! On SQLite one writer runs on its own thread with its own connection ([`sqlite`]) and
//! journals heartbeats, folding them into the agent rows in the background ([`overlay`]); on
//! PostgreSQL several writers run as tasks on pooled connections ([`db::PoolBatchDb`]) and
//! update the agent rows directly.

mod apply;
mod db;
mod journal;
pub mod overlay;
pub mod sqlite;

use std::sync::Arc;

use tokio::sync::{Mutex, mpsc, oneshot};
use tokio::task::JoinHandle;

use super::actions::{Action, NewAction};
use super::{Store, StoreError, StoreResult};
use crate::clock::{Millis, SharedClock};
use crate::survival::Health;
use apply::apply_batch;
use db::{BatchDb, PoolBatchDb};
use overlay::HeartbeatOverlay;

/// Fold heartbeats that have waited this long even while requests keep coming: each agent row is
/// then written at most about once per second, however often the agent beats.
const FOLD_AFTER_MS: i64 = 1000;
/// How often the writer looks for heartbeats that have waited too long.
const DUE_CHECK_EVERY: std::time::Duration = std::time::Duration::from_millis(20);
/// With nothing queued for this long, fold whatever is waiting.
const IDLE_FOLD: std::time::Duration = std::time::Duration::from_millis(50);
/// Agents folded per fold transaction (small, so a fold never holds up a batch for long).
const FOLD_SLICE: usize = 256;

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
    /// Fold every unfolded heartbeat, then answer.
    Settle(oneshot::Sender<()>),
}

type Queue = Arc<Mutex<mpsc::UnboundedReceiver<Job>>>;

/// Queue of hot-path writes in front of the batch writers.
#[derive(Debug, Clone)]
pub struct HotWriter {
    sender: mpsc::UnboundedSender<Job>,
    journaled: bool,
}

impl HotWriter {
    /// Starts the batch writers (on SQLite after replaying the heartbeat journal a previous run
    /// left). They stop once every `HotWriter` clone is dropped and the queue is drained; await
    /// the handles to know that everything queued was committed.
    pub async fn spawn(
        store: &Store,
        clock: SharedClock,
        writers: usize,
        max_batch: usize,
    ) -> StoreResult<(Self, Vec<JoinHandle<()>>)> {
        // Unbounded: every queued job has a handler waiting on it, so the queue is bounded by the
        // number of requests in flight.
        let (sender, receiver) = mpsc::unbounded_channel();
        let queue: Queue = Arc::new(Mutex::new(receiver));
        let handles = match (store.sqlite_file(), store.overlay()) {
            (Some(file), Some(overlay)) => {
                let mut db = sqlite::SqliteBatchDb::open(file)?;
                let recovered = journal::recover(&mut db, overlay).await?;
                if recovered > 0 {
                    tracing::info!(agents = recovered, "replayed heartbeats journaled before the last stop");
                }
                let deliver = Deliver::OnRuntime(tokio::runtime::Handle::current());
                let writer = Writer { clock, queue, max_batch, deliver, overlay: Some(overlay.clone()) };
                vec![spawn_on_own_thread(db, writer)]
            }
            _ => (0..writers.max(1))
                .map(|_| {
                    let db = PoolBatchDb::new(store.writer_pool().clone());
                    let writer = Writer {
                        clock: clock.clone(),
                        queue: queue.clone(),
                        max_batch,
                        deliver: Deliver::Here,
                        overlay: None,
                    };
                    tokio::spawn(writer.run(db))
                })
                .collect(),
        };
        Ok((Self { sender, journaled: store.overlay().is_some() }, handles))
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

    /// Waits until every acknowledged heartbeat is folded into its agent row, so that SQL sees
    /// it (before filtering agents by health). Immediate where heartbeats are not journaled.
    pub async fn settle(&self) -> StoreResult<()> {
        if !self.journaled {
            return Ok(());
        }
        let (reply, answer) = oneshot::channel();
        let closed = || StoreError::Unavailable(sqlx::Error::PoolClosed);
        self.sender.send(Job::Settle(reply)).map_err(|_| closed())?;
        answer.await.map_err(|_| closed())
    }

    async fn submit<T>(&self, job: Job, answer: oneshot::Receiver<StoreResult<Option<T>>>) -> StoreResult<Option<T>> {
        let closed = || StoreError::Unavailable(sqlx::Error::PoolClosed);
        self.sender.send(job).map_err(|_| closed())?;
        answer.await.map_err(|_| closed())?
    }
}

/// A batch writer's settings.
struct Writer {
    clock: SharedClock,
    queue: Queue,
    max_batch: usize,
    /// How answers reach the waiting handlers.
    deliver: Deliver,
    /// Unfolded heartbeats (SQLite).
    overlay: Option<Arc<HeartbeatOverlay>>,
}

/// How a writer's answers reach the waiting handlers.
enum Deliver {
    /// Directly (the writer runs on the handlers' runtime).
    Here,
    /// From one task on the handlers' runtime: cheap local wake-ups instead of one cross-thread
    /// wake-up per handler.
    OnRuntime(tokio::runtime::Handle),
}

impl Deliver {
    fn answer(&self, answers: Answers) {
        match self {
            Self::Here => answers.send(),
            Self::OnRuntime(runtime) => {
                runtime.spawn(async move { answers.send() });
            }
        }
    }
}

/// What the queue holds right now.
enum Next {
    Batch(Vec<Job>),
    Empty,
    Closed,
}

/// Runs a writer on a thread of its own (with a small runtime for the queue), so its work never
/// waits behind request handling on the main runtime.
fn spawn_on_own_thread<D: BatchDb + Send + 'static>(db: D, writer: Writer) -> JoinHandle<()> {
    let (done, finished) = oneshot::channel::<()>();
    std::thread::Builder::new()
        .name("otonix-writer".into())
        .spawn(move || {
            match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                Ok(runtime) => runtime.block_on(writer.run(db)),
                Err(error) => tracing::error!(%error, "cannot start the batch writer"),
            }
            let _ = done.send(());
        })
        .expect("spawning the writer thread");
    tokio::spawn(async move {
        let _ = finished.await;
    })
}

impl Writer {
    /// Takes batches off the queue until it closes; on SQLite folds heartbeats when idle or
    /// when they have waited long enough, and folds everything before stopping.
    async fn run<D: BatchDb>(self, mut db: D) {
        let mut last_due_check = std::time::Instant::now();
        loop {
            let idle_after = self.overlay.as_ref().is_some_and(|o| !o.is_empty()).then_some(IDLE_FOLD);
            let next = self.next_batch(idle_after).await;
            let batch = match next {
                Next::Batch(batch) => batch,
                Next::Empty => {
                    self.fold(&mut db).await;
                    continue;
                }
                Next::Closed => break,
            };
            let (size, started) = (batch.len(), std::time::Instant::now());
            let (answers, settles) = write_batch(&mut db, self.clock.now_ms(), batch, self.overlay.as_deref()).await;
            tracing::debug!(size, micros = started.elapsed().as_micros() as u64, "batch committed");
            self.deliver.answer(answers);
            if !settles.is_empty() {
                self.fold_all(&mut db).await;
                for settled in settles {
                    let _ = settled.send(());
                }
                continue;
            }
            // Checking is a scan of the overlay: do it every few milliseconds, not every batch.
            if last_due_check.elapsed() >= DUE_CHECK_EVERY {
                last_due_check = std::time::Instant::now();
                let now = self.clock.now_ms();
                if self
                    .overlay
                    .as_ref()
                    .and_then(|o| o.waiting_since())
                    .is_some_and(|since| now - since >= FOLD_AFTER_MS)
                {
                    self.fold(&mut db).await;
                }
            }
        }
        self.fold_all(&mut db).await;
    }

    /// Folds until nothing is left (or folding fails).
    async fn fold_all<D: BatchDb>(&self, db: &mut D) {
        while self.overlay.as_ref().is_some_and(|o| !o.is_empty()) {
            if !self.fold(db).await {
                break;
            }
        }
    }

    /// Folds one slice of unfolded heartbeats; false if it failed.
    async fn fold<D: BatchDb>(&self, db: &mut D) -> bool {
        let Some(overlay) = &self.overlay else { return true };
        match journal::fold(db, overlay, FOLD_SLICE, self.clock.now_ms()).await {
            Ok(_) => true,
            Err(error) => {
                tracing::warn!(error = %format!("{error:#}"), "folding heartbeats failed; will retry");
                false
            }
        }
    }

    /// The next batch; with `idle_after`, `Empty` when nothing arrives for that long.
    async fn next_batch(&self, idle_after: Option<std::time::Duration>) -> Next {
        let mut receiver = self.queue.lock().await;
        let first = match idle_after {
            Some(wait) => match tokio::time::timeout(wait, receiver.recv()).await {
                Ok(first) => first,
                Err(_) => return Next::Empty,
            },
            None => receiver.recv().await,
        };
        match first {
            Some(first) => Next::Batch(Self::fill(&mut receiver, first, self.max_batch)),
            None => Next::Closed,
        }
    }

    fn fill(receiver: &mut mpsc::UnboundedReceiver<Job>, first: Job, max_batch: usize) -> Vec<Job> {
        let mut batch = vec![first];
        while batch.len() < max_batch {
            match receiver.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        batch
    }
}

/// The replies of a written batch, ready to send.
struct Answers {
    heartbeats: Vec<(Reply<HeartbeatApplied>, StoreResult<Option<HeartbeatApplied>>)>,
    actions: Vec<(Reply<Action>, StoreResult<Option<Action>>)>,
}

impl Answers {
    /// Sends every reply.
    fn send(self) {
        for (reply, result) in self.heartbeats {
            let _ = reply.send(result);
        }
        for (reply, result) in self.actions {
            let _ = reply.send(result);
        }
    }
}

fn batch_error<T>(error: &Arc<StoreError>) -> StoreResult<T> {
    Err(StoreError::Batch(error.clone()))
}

/// Writes a batch; returns its answers and the settle requests it carried.
async fn write_batch<D: BatchDb>(
    db: &mut D,
    now: Millis,
    batch: Vec<Job>,
    overlay: Option<&HeartbeatOverlay>,
) -> (Answers, Vec<oneshot::Sender<()>>) {
    let mut heartbeats = Vec::new();
    let mut actions = Vec::new();
    let mut settles = Vec::new();
    for job in batch {
        match job {
            Job::Heartbeat(write, reply) => heartbeats.push((write, reply)),
            Job::Action(write, reply) => actions.push((write, reply)),
            Job::Settle(reply) => settles.push(reply),
        }
    }
    let beats: Vec<&HeartbeatWrite> = heartbeats.iter().map(|(w, _)| w).collect();
    let writes: Vec<&ActionWrite> = actions.iter().map(|(w, _)| w).collect();
    // Concurrent batches (other writers, other replicas) can deadlock on agent rows on
    // PostgreSQL; the loser rolled back entirely, so it simply runs again.
    let mut result = apply_batch(db, now, &beats, &writes, overlay).await;
    for _ in 0..4 {
        match &result {
            Err(error) if error.is_transient_conflict() => {
                result = apply_batch(db, now, &beats, &writes, overlay).await
            }
            _ => break,
        }
    }
    let answers = match result {
        Ok((beat_results, action_results)) => Answers {
            heartbeats: heartbeats.into_iter().zip(beat_results).map(|((_, reply), r)| (reply, Ok(r))).collect(),
            actions: actions.into_iter().zip(action_results).map(|((_, reply), r)| (reply, Ok(r))).collect(),
        },
        Err(error) => {
            let shared = Arc::new(error);
            Answers {
                heartbeats: heartbeats.into_iter().map(|(_, reply)| (reply, batch_error(&shared))).collect(),
                actions: actions.into_iter().map(|(_, reply)| (reply, batch_error(&shared))).collect(),
            }
        }
    };
    (answers, settles)
}
