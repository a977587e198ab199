//! The sweep (SPEC §5.5): run by one replica at a time under a lease, it reconciles `settling`
//! orders from the chain, delivers `settled` orders whose client never came back (refunding
//! those whose delivery keeps failing), and watches released authorizations until they can no
//! longer move money: one that moves money after all settles its order, or is refunded.

use std::time::Duration;

use alloy_primitives::{Address, B256};

use super::flow::{claim, reconcile, record, reread};
use super::refund::give_back;
use super::settle::{ChainReader, Fate, SettleReference, Settlement};
use super::{Outcome, Payments, Terms, deliver};
use crate::error::ApiResult;
use crate::store::claims::{self, Claim, Released};
use crate::store::orders::{self, Order, OrderStatus, Settling};
use crate::store::{StoreResult, leases};

/// The lease the sweep runs under.
pub const LEASE: &str = "payments-sweep";

/// How long the sweep waits for one receipt.
const RECEIPT_WAIT: Duration = Duration::from_secs(2);

/// How long an authorization whose nonce the token says is used, without a trace of the
/// transaction that used it, is still watched (a node's log index may lag its state).
const USED_BEFORE_GRACE_MS: i64 = 600_000;

/// What a sweep did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SweepReport {
    /// Whether this replica held the lease.
    pub ran: bool,
    /// Orders reconciled.
    pub reconciled: usize,
    /// Orders delivered.
    pub delivered: usize,
    /// Released authorizations looked at.
    pub watched: usize,
}

impl Payments {
    /// One sweep, if this replica gets (and keeps) the lease.
    #[tracing::instrument(skip_all)]
    pub async fn sweep(&self) -> StoreResult<SweepReport> {
        if !self.hold_sweep_lease().await? {
            return Ok(SweepReport::default());
        }
        let mut report = SweepReport { ran: true, ..SweepReport::default() };
        let now = self.now();
        let interval = self.sweep_interval.as_millis() as i64;
        // Leave requests the time to finish their own work: a settling order past the wait of
        // its request plus a sweep, a settled one untouched for two sweeps.
        let settling_after = self.terms.settlement_timeout.as_millis() as i64 + interval;
        let mut conn = self.store.read().await?;
        let settling = orders::stale(&mut conn, OrderStatus::Settling, now - settling_after, 100).await?;
        let settled = orders::stale(&mut conn, OrderStatus::Settled, now - 2 * interval, 100).await?;
        drop(conn);
        for order in settling {
            if !self.hold_sweep_lease().await? {
                return Ok(report);
            }
            report.reconciled += 1;
            if let Ok(Outcome::Delivered(_)) = reconcile(self, &order, RECEIPT_WAIT).await {
                report.delivered += 1;
            }
        }
        for order in settled {
            if !self.hold_sweep_lease().await? {
                return Ok(report);
            }
            if let Ok(Outcome::Delivered(_)) = deliver::deliver_or_count(self, &order).await {
                report.delivered += 1;
            }
        }
        let Some(reader) = self.settler.chain() else {
            return Ok(report);
        };
        for released in claims::watched(&mut *self.store.read().await?, 100).await? {
            if !self.hold_sweep_lease().await? {
                return Ok(report);
            }
            report.watched += 1;
            match self.watch(reader, &released).await {
                Ok(true) => report.delivered += 1,
                Ok(false) => {}
                Err(error) => {
                    tracing::warn!(claim = %released.claim_key, error = %error, "watching a released authorization failed");
                    // Back of the queue, so that it never keeps the others from their turn.
                    let _ = self.done_watching(&released, false).await;
                }
            }
        }
        Ok(report)
    }

    /// Takes or renews the sweep's lease; false when another replica holds it.
    async fn hold_sweep_lease(&self) -> StoreResult<bool> {
        let ttl = (2 * self.sweep_interval.as_millis() as i64).max(5_000);
        let mut tx = self.store.begin().await?;
        let held = leases::acquire(&mut tx, LEASE, &self.holder, ttl, self.now()).await?;
        tx.commit().await?;
        Ok(held)
    }

    /// Looks at a released authorization: true when it turned out to pay its order.
    async fn watch(&self, reader: &ChainReader, released: &Released) -> ApiResult<bool> {
        let Some((from, nonce)) = Terms::parse_authorization_claim(&released.claim_key) else {
            return self.done_watching(released, true).await.map(|_| false);
        };
        let order = reread(self, &released.order_id).await?;
        let reference = SettleReference {
            from: Some(from),
            nonce: Some(nonce),
            value: Some(order.amount.atomic_units()),
            valid_before: u64::try_from(released.valid_before).unwrap_or(0),
            tx_hash: None,
            from_block: 0,
        };
        let resolved = match reader.fate(&reference).await {
            Fate::Used { tx, confirmed: true } => return self.used_after_release(released, &order, from, tx).await,
            Fate::Canceled | Fate::SpentOtherwise | Fate::Unused { expired: true } => true,
            // Used, but not found among recent blocks: long ago, unless the node's logs lag.
            Fate::UsedBefore => {
                let mut tx = self.store.begin().await?;
                let first_seen = claims::used_seen(&mut tx, &released.claim_key, self.now()).await?;
                tx.commit().await?;
                self.now() - first_seen > USED_BEFORE_GRACE_MS
            }
            Fate::Used { confirmed: false, .. } | Fate::Unused { expired: false } | Fate::Unknown => false,
        };
        self.done_watching(released, resolved).await.map(|_| false)
    }

    /// A released authorization paid `payTo` in `tx` after all: it settles its order if nobody
    /// paid that meanwhile, else its amount goes back to the payer — unless a transfer proof of
    /// the same transaction counted it for an order already.
    async fn used_after_release(&self, released: &Released, order: &Order, from: Address, tx: B256) -> ApiResult<bool> {
        if matches!(order.status, OrderStatus::Open | OrderStatus::Expired) {
            let settling =
                Settling { scheme: "exact", payer: from.to_checksum(None), claim_key: released.claim_key.clone() };
            let valid_before = u64::try_from(released.valid_before).ok();
            if claim(self, order, &settling, valid_before, true).await?.is_some() {
                return Ok(false); // a request with the same payment is on it
            }
            let order = Order {
                claim_key: Some(settling.claim_key),
                payer: Some(settling.payer),
                scheme: Some("exact".into()),
                settle_reference: None,
                ..order.clone()
            };
            let outcome = record(self, &order, Settlement::Settled { tx_hash: tx }).await?;
            return Ok(matches!(outcome, Outcome::Delivered(_)));
        }
        let mut db = self.store.begin().await?;
        // This look is the one that acts: it stops watching first, atomically.
        if !claims::watched_done(&mut db, &released.claim_key, true, self.now()).await? {
            return Ok(false);
        }
        // The payer's transfers in `tx` are now this refund's: no proof may count them later.
        let transfers = self.terms.transaction_claim(&tx, from);
        let refunded_as = claims::refund_holder(&released.claim_key);
        let refund = match claims::claim(&mut db, &transfers, &refunded_as, None, self.now()).await? {
            Claim::Claimed => true,
            Claim::Ours => false,
            // Another authorization of the batch holds them, for its order or its refund (its own
            // money); or a proof of this very transaction does (it counted this money for its
            // order: nothing to give back).
            Claim::Taken(holder) => {
                orders::get(&mut db, &holder).await?.is_none_or(|h| h.claim_key.as_deref() != Some(&transfers))
            }
        };
        if refund {
            let payer = from.to_checksum(None);
            let description = format!(
                "Refund: an authorization for order {} moved money after the order was {}",
                order.id,
                order.status.as_str()
            );
            give_back(self, &mut db, order, &payer, description, Some(&format!("{tx:#x}"))).await?;
            claims::mark_claim_refunded(&mut db, &released.claim_key, self.now()).await?;
            tracing::warn!(order_id = %order.id, tx_hash = %tx, "a released authorization moved money; refunded");
        }
        db.commit().await?;
        Ok(false)
    }

    async fn done_watching(&self, released: &Released, resolved: bool) -> ApiResult<bool> {
        let mut tx = self.store.begin().await?;
        let done = claims::watched_done(&mut tx, &released.claim_key, resolved, self.now()).await?;
        tx.commit().await?;
        Ok(done)
    }
}
