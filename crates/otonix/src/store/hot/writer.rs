//! A batch writer: takes batches off its queue, applies and commits them, answers the waiting
//! handlers, and on SQLite folds journaled heartbeats into the agent rows when idle or when they
//! have waited long enough.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::apply::apply_batch;
use super::db::BatchDb;
use super::overlay::HeartbeatOverlay;
use super::{ActionWrite, HeartbeatApplied, HeartbeatWrite, Job, Reply, journal};
use crate::clock::{Millis, SharedClock};
use crate::store::actions::Action;
use crate::store::{StoreError, StoreResult};

/// Fold heartbeats that have waited this long even while requests keep coming: each agent row is
/// then written at most about once per second, however often the agent beats.
const FOLD_AFTER_MS: i64 = 1000;
/// How often the writer looks for heartbeats that have waited too long.
const DUE_CHECK_EVERY: std::time::Duration = std::time::Duration::from_millis(20);
/// With nothing queued for this long, fold whatever is waiting.
const IDLE_FOLD: std::time::Duration = std::time::Duration::from_millis(50);
/// Agents folded per fold transaction (small, so a fold never holds up a batch for long).
const FOLD_SLICE: usize = 256;

/// A batch writer's settings.
pub(super) struct Writer {
    pub clock: SharedClock,
    /// This writer's own queue.
    pub queue: mpsc::UnboundedReceiver<Job>,
    pub max_batch: usize,
    /// How answers reach the waiting handlers.
    pub deliver: Deliver,
    /// Unfolded heartbeats (SQLite).
    pub overlay: Option<Arc<HeartbeatOverlay>>,
}

/// How a writer's answers reach the waiting handlers.
pub(super) enum Deliver {
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
pub(super) fn spawn_on_own_thread<D: BatchDb + Send + 'static>(db: D, writer: Writer) -> JoinHandle<()> {
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
    /// Takes batches off the queue until it closes or says stop; on SQLite folds heartbeats when idle or
    /// when they have waited long enough, and folds everything before stopping.
    pub async fn run<D: BatchDb>(mut self, mut db: D) {
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
            let (answers, settles, stop) =
                write_batch(&mut db, self.clock.now_ms(), batch, self.overlay.as_deref()).await;
            tracing::debug!(size, micros = started.elapsed().as_micros() as u64, "batch committed");
            self.deliver.answer(answers);
            if !settles.is_empty() || stop {
                self.fold_all(&mut db).await;
                for settled in settles {
                    let _ = settled.send(());
                }
                if stop {
                    return;
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
    async fn next_batch(&mut self, idle_after: Option<std::time::Duration>) -> Next {
        let first = match idle_after {
            Some(wait) => match tokio::time::timeout(wait, self.queue.recv()).await {
                Ok(first) => first,
                Err(_) => return Next::Empty,
            },
            None => self.queue.recv().await,
        };
        match first {
            Some(first) => Next::Batch(Self::fill(&mut self.queue, first, self.max_batch)),
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

/// Writes a batch; returns its answers, the settle requests it carried and whether it said stop.
async fn write_batch<D: BatchDb>(
    db: &mut D,
    now: Millis,
    batch: Vec<Job>,
    overlay: Option<&HeartbeatOverlay>,
) -> (Answers, Vec<oneshot::Sender<()>>, bool) {
    let mut heartbeats = Vec::new();
    let mut actions = Vec::new();
    let mut settles = Vec::new();
    let mut stop = false;
    for job in batch {
        match job {
            Job::Heartbeat(write, reply) => heartbeats.push((write, reply)),
            Job::Action(write, reply) => actions.push((write, reply)),
            Job::Settle(reply) => settles.push(reply),
            Job::Stop => stop = true,
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
    (answers, settles, stop)
}
