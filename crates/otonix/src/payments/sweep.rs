//! The sweep (SPEC §5.5): run by one replica at a time under a lease, it reconciles `settling`
//! orders from the chain and delivers `settled` orders whose client never came back (refunding
//! those whose delivery keeps failing).

use std::time::Duration;

use super::flow::reconcile;
use super::{Outcome, Payments, deliver};
use crate::store::orders::{self, OrderStatus};
use crate::store::{StoreResult, leases};

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
        Ok(report)
    }
}
