//! Named leases (`store::leases`) for background work that must run on exactly one replica:
//! contenders race on their own connections to the server's database; explicit times, no sleeping.

use std::sync::Arc;

use otonix::clock::Millis;
use otonix::store::{Store, leases};
use tokio::sync::Barrier;

use crate::helpers::{TestApp, spawn_app};

const TTL_MS: i64 = 10_000;
const T0: Millis = 1_700_000_000_000;

/// Tries to take or renew `name` for `holder` at `now` in a write transaction of its own.
async fn acquire(store: &Store, name: &str, holder: &str, now: Millis) -> bool {
    let mut tx = store.begin().await.expect("a write transaction");
    let won = leases::acquire(&mut tx, name, holder, TTL_MS, now).await.expect("acquire runs");
    tx.commit().await.expect("commit");
    won
}

async fn release(store: &Store, name: &str, holder: &str) {
    let mut tx = store.begin().await.expect("a write transaction");
    leases::release(&mut tx, name, holder).await.expect("release runs");
    tx.commit().await.expect("commit");
}

async fn holder(store: &Store, name: &str, now: Millis) -> Option<String> {
    let mut conn = store.read().await.expect("a read connection");
    leases::holder(&mut conn, name, now).await.expect("holder runs")
}

/// Contenders, each with a store (and so connections) of its own on the server's database.
struct Contenders {
    stores: Vec<(String, Store)>,
}

impl Contenders {
    async fn new(app: &TestApp, count: usize) -> Self {
        let mut stores = Vec::new();
        for i in 0..count {
            stores.push((format!("replica-{i}"), app.store().await));
        }
        Self { stores }
    }

    fn store(&self, name: &str) -> &Store {
        &self.stores.iter().find(|(holder, _)| holder == name).expect("a contender").1
    }

    /// Every contender (but `except`) tries `name` at the same `now`, released together by a
    /// barrier; returns the winners.
    async fn race(&self, name: &str, now: Millis, except: Option<&str>) -> Vec<String> {
        let racing: Vec<_> = self.stores.iter().filter(|(holder, _)| Some(holder.as_str()) != except).collect();
        let barrier = Arc::new(Barrier::new(racing.len()));
        let mut tasks = Vec::new();
        for (holder, store) in racing {
            let (holder, store, barrier, name) = (holder.clone(), store.clone(), barrier.clone(), name.to_owned());
            tasks.push(tokio::spawn(async move {
                barrier.wait().await;
                acquire(&store, &name, &holder, now).await.then_some(holder)
            }));
        }
        let mut winners = Vec::new();
        for task in tasks {
            winners.extend(task.await.expect("the contender ran"));
        }
        winners
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exactly_one_of_concurrent_contenders_wins_and_the_holder_keeps_it_while_renewing() {
    let app = spawn_app().await;
    let contenders = Contenders::new(&app, 8).await;

    let winners = contenders.race("sweeper", T0, None).await;
    assert_eq!(winners.len(), 1, "exactly one contender takes a free lease: {winners:?}");
    let winner = winners[0].clone();
    assert_eq!(holder(contenders.store(&winner), "sweeper", T0).await.as_deref(), Some(winner.as_str()));

    // Every round is less than a TTL after the previous one: the holder renews, the rest lose.
    for round in 1..=10 {
        let now = T0 + round * (TTL_MS - 1);
        let winners = contenders.race("sweeper", now, None).await;
        assert_eq!(winners, vec![winner.clone()], "round {round}: only the holder renews");
        // Seen from every contender's connection, the holder is the same.
        for (_, store) in &contenders.stores {
            assert_eq!(holder(store, "sweeper", now).await.as_deref(), Some(winner.as_str()));
        }
    }
    // The renewals moved the expiry: one TTL after the first acquisition it is still held.
    let last_renewal = T0 + 10 * (TTL_MS - 1);
    assert_eq!(
        holder(contenders.store(&winner), "sweeper", last_renewal + TTL_MS - 1).await.as_deref(),
        Some(winner.as_str())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_holder_that_stops_renewing_loses_the_lease_at_expiry() {
    let app = spawn_app().await;
    let contenders = Contenders::new(&app, 8).await;
    let winners = contenders.race("reaper", T0, None).await;
    assert_eq!(winners.len(), 1, "{winners:?}");
    let first = winners[0].clone();

    // The holder goes quiet. Until its expiry nobody else gets in.
    let expiry = T0 + TTL_MS;
    assert!(contenders.race("reaper", expiry - 1, Some(&first)).await.is_empty(), "the lease has not expired yet");
    assert_eq!(holder(contenders.store(&first), "reaper", expiry - 1).await.as_deref(), Some(first.as_str()));

    // At expiry the lease is free: no holder, and exactly one of the others takes it.
    assert_eq!(holder(contenders.store(&first), "reaper", expiry).await, None, "an expired lease has no holder");
    let winners = contenders.race("reaper", expiry, Some(&first)).await;
    assert_eq!(winners.len(), 1, "exactly one contender takes the expired lease: {winners:?}");
    let second = winners[0].clone();
    assert_ne!(second, first);

    // The old holder comes back: it no longer holds the lease and cannot take it back.
    assert!(!acquire(contenders.store(&first), "reaper", &first, expiry + 1).await);
    assert_eq!(holder(contenders.store(&first), "reaper", expiry + 1).await.as_deref(), Some(second.as_str()));
    // Its release is a no-op: the lease is not its to give up.
    release(contenders.store(&first), "reaper", &first).await;
    assert_eq!(holder(contenders.store(&second), "reaper", expiry + 1).await.as_deref(), Some(second.as_str()));
    assert!(acquire(contenders.store(&second), "reaper", &second, expiry + 2).await, "the new holder renews");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_released_lease_can_be_taken_at_once() {
    let app = spawn_app().await;
    let contenders = Contenders::new(&app, 8).await;
    let winners = contenders.race("mailer", T0, None).await;
    assert_eq!(winners.len(), 1, "{winners:?}");
    let first = winners[0].clone();

    let now = T0 + 1;
    release(contenders.store(&first), "mailer", &first).await;
    assert_eq!(holder(contenders.store(&first), "mailer", now).await, None, "a released lease has no holder");
    let winners = contenders.race("mailer", now, Some(&first)).await;
    assert_eq!(winners.len(), 1, "long before the old expiry, exactly one other contender takes it: {winners:?}");
    assert_ne!(winners[0], first);
    assert_eq!(holder(contenders.store(&first), "mailer", now).await.as_deref(), Some(winners[0].as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leases_with_different_names_are_independent() {
    let app = spawn_app().await;
    let store = app.store().await;

    assert!(acquire(&store, "billing", "replica-a", T0).await);
    assert!(acquire(&store, "cleanup", "replica-b", T0).await, "another name is free while the first is held");
    assert!(!acquire(&store, "billing", "replica-b", T0).await);
    assert!(!acquire(&store, "cleanup", "replica-a", T0).await);
    assert_eq!(holder(&store, "billing", T0).await.as_deref(), Some("replica-a"));
    assert_eq!(holder(&store, "cleanup", T0).await.as_deref(), Some("replica-b"));

    // Releasing one leaves the other alone.
    release(&store, "billing", "replica-a").await;
    assert_eq!(holder(&store, "billing", T0).await, None);
    assert_eq!(holder(&store, "cleanup", T0).await.as_deref(), Some("replica-b"));

    // Renewing one does not renew the other: at the old expiry only the renewed one is held.
    assert!(acquire(&store, "billing", "replica-a", T0 + 1).await);
    assert!(acquire(&store, "cleanup", "replica-b", T0 + TTL_MS / 2).await);
    let later = T0 + 1 + TTL_MS;
    assert_eq!(holder(&store, "billing", later).await, None, "billing expired");
    assert_eq!(holder(&store, "cleanup", later).await.as_deref(), Some("replica-b"), "cleanup was renewed");
    assert!(acquire(&store, "billing", "replica-c", later).await);
    assert!(!acquire(&store, "cleanup", "replica-c", later).await);
}
