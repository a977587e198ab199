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
use crate::store::orders::{self, Claim, Order, OrderStatus, Released, Settling};
use crate::store::{StoreResult, leases};

/// How long an authorization that the token says is used, without a trace in recent blocks, is
/// still watched (a node's log index may lag its state).
const USED_BEFORE_GRACE_MS: i64 = 600_000;

/// The lease the sweep runs under.
pub const LEASE: &str = "payments-sweep";

/// How long the sweep waits for one receipt.
const RECEIPT_WAIT: Duration = Duration::from_secs(2);

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
    /// One sweep, if this replica gets the lease.
    pub async fn sweep(&self) -> StoreResult<SweepReport> {
        let now = self.now();
        let interval = self.sweep_interval.as_millis() as i64;
        let mut tx = self.store.begin().await?;
        let leader = leases::acquire(&mut tx, LEASE, &self.holder, (2 * interval).max(5_000), now).await?;
        tx.commit().await?;
        if !leader {
            return Ok(SweepReport::default());
        }
        let mut report = SweepReport { ran: true, ..SweepReport::default() };
        // Leave requests the time to finish their own work: a settling order past the wait of
        // its request plus a sweep, a settled one untouched for two sweeps.
        let settling_after = self.terms.settlement_timeout.as_millis() as i64 + interval;
        let settling =
            orders::stale(&mut *self.store.read().await?, OrderStatus::Settling, now - settling_after, 100).await?;
        for order in settling {
            report.reconciled += 1;
            if let Ok(Outcome::Delivered(_)) = reconcile(self, &order, RECEIPT_WAIT).await {
                report.delivered += 1;
            }
        }
        let settled =
            orders::stale(&mut *self.store.read().await?, OrderStatus::Settled, now - 2 * interval, 100).await?;
        for order in settled {
            if let Ok(Outcome::Delivered(_)) = deliver::deliver_or_count(self, &order).await {
                report.delivered += 1;
            }
        }
        if let Some(reader) = self.settler.chain() {
            for released in orders::watched(&mut *self.store.read().await?, 100).await? {
                report.watched += 1;
                match self.watch(reader, &released).await {
                    Ok(true) => report.delivered += 1,
                    Ok(false) => {}
                    Err(error) => {
                        tracing::warn!(claim = %released.claim_key, error = %error, "watching a released authorization failed");
                    }
                }
            }
        }
        Ok(report)
    }

    /// Looks at a released authorization: true when it turned out to pay its order.
    async fn watch(&self, reader: &ChainReader, released: &Released) -> ApiResult<bool> {
        let now = self.now();
        let Some((from, nonce)) = Terms::parse_authorization_claim(&released.claim_key) else {
            return self.done_watching(released, true).await.map(|()| false);
        };
        let reference = SettleReference {
            from: Some(from),
            nonce: Some(nonce),
            valid_before: u64::try_from(released.valid_before).unwrap_or(0),
            tx_hash: None,
            from_block: 0,
        };
        let resolved = match reader.fate(&reference).await {
            Fate::Used { tx, confirmed: true } => return self.used_after_release(released, from, tx).await,
            Fate::Canceled | Fate::Unused { expired: true } => true,
            // Used, but not found among recent blocks: long ago, unless the node's logs lag.
            Fate::UsedBefore => now - released.released_at > USED_BEFORE_GRACE_MS,
            Fate::Used { confirmed: false, .. } | Fate::Unused { expired: false } | Fate::Unknown => false,
        };
        self.done_watching(released, resolved).await.map(|()| false)
    }

    /// A released authorization moved money in `tx` after all: it settles its order if nobody
    /// paid that meanwhile, else the amount goes back to the payer.
    async fn used_after_release(&self, released: &Released, from: Address, tx: B256) -> ApiResult<bool> {
        let order = reread(self, &released.order_id).await?;
        if matches!(order.status, OrderStatus::Open | OrderStatus::Expired) {
            let settling =
                Settling { scheme: "exact", payer: from.to_checksum(None), claim_key: released.claim_key.clone() };
            let valid_before = u64::try_from(released.valid_before).ok();
            if claim(self, &order, &settling, valid_before, true).await?.is_some() {
                return Ok(false); // a request with the same payment is on it
            }
            let order = Order {
                claim_key: Some(settling.claim_key),
                payer: Some(settling.payer),
                scheme: Some("exact".into()),
                settle_reference: None,
                ..order
            };
            let outcome = record(self, &order, Settlement::Settled { tx_hash: tx }).await?;
            return Ok(matches!(outcome, Outcome::Delivered(_)));
        }
        let mut db = self.store.begin().await?;
        let key = self.terms.transaction_claim(&tx, from);
        if !matches!(orders::claim(&mut db, &key, &order.id, None, self.now()).await?, Claim::Taken(_)) {
            let payer = from.to_checksum(None);
            let description = format!(
                "Refund: an authorization for order {} moved money after the order was {}",
                order.id,
                order.status.as_str()
            );
            give_back(self, &mut db, &order, &payer, description, Some(&format!("{tx:#x}"))).await?;
            tracing::warn!(order_id = %order.id, tx_hash = %tx, "a released authorization moved money; refunded");
        }
        orders::watched_done(&mut db, &released.claim_key, true, self.now()).await?;
        db.commit().await?;
        Ok(false)
    }

    async fn done_watching(&self, released: &Released, resolved: bool) -> ApiResult<()> {
        let mut tx = self.store.begin().await?;
        orders::watched_done(&mut tx, &released.claim_key, resolved, self.now()).await?;
        tx.commit().await?;
        Ok(())
    }
}
