//! Payment claims (SPEC §5.5): a payment (an authorization, a transaction) belongs to at most
//! one order, for ever. Claims are never deleted: a released one stays pinned to its order and
//! an authorization's is watched until its `validBefore`.

use sqlx::{AnyConnection, Row};

use super::{Sql, StoreError, StoreResult};
use crate::clock::Millis;

/// What a claim attempt found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The payment is now this order's.
    Claimed,
    /// The payment already pays for this order (a retry).
    Ours,
    /// The payment pays for another order (its id).
    Taken(String),
}

/// Claims a payment (`claim_key`) for an order, atomically across replicas. `valid_before`
/// (unix seconds) is an authorization's: until then a released claim is watched.
#[tracing::instrument(skip_all, fields(claim = %claim_key))]
pub async fn claim(
    conn: &mut AnyConnection,
    claim_key: &str,
    order_id: &str,
    valid_before: Option<u64>,
    now: Millis,
) -> StoreResult<Claim> {
    let mut sql = Sql::new("INSERT INTO payment_claims (claim_key, order_id, valid_before, created_at) VALUES (");
    sql.bind(claim_key).push(", ").bind(order_id).push(", ");
    sql.bind(valid_before.map(|v| i64::try_from(v).unwrap_or(i64::MAX))).push(", ").bind(now);
    sql.push(") ON CONFLICT (claim_key) DO NOTHING RETURNING order_id");
    if sql.fetch_optional(&mut *conn).await?.is_some() {
        return Ok(Claim::Claimed);
    }
    let mut sql = Sql::new("SELECT order_id, refunded_at FROM payment_claims WHERE claim_key = ");
    sql.bind(claim_key);
    let row = sql
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::Corrupt(format!("claim {claim_key} vanished")))?;
    let holder: String = row.try_get("order_id")?;
    let refunded: Option<i64> = row.try_get("refunded_at")?;
    Ok(match (holder == order_id, refunded) {
        // Its money was given back: it pays nothing any more, not even its own order.
        (_, Some(_)) => Claim::Taken(refund_holder(claim_key)),
        (true, None) => Claim::Ours,
        (false, None) => Claim::Taken(holder),
    })
}

/// Who holds the transfers of a released authorization whose late payment was refunded.
pub fn refund_holder(claim_key: &str) -> String {
    format!("refund:{claim_key}")
}

/// Marks a released authorization refunded (with its refund): it may never pay again.
#[tracing::instrument(skip_all, fields(claim = %claim_key))]
pub async fn mark_claim_refunded(conn: &mut AnyConnection, claim_key: &str, now: Millis) -> StoreResult<()> {
    let mut sql = Sql::new("UPDATE payment_claims SET refunded_at = ");
    sql.bind(now).push(" WHERE claim_key = ").bind(claim_key);
    sql.execute(&mut *conn).await?;
    Ok(())
}

/// Releases a claim after a settlement that moved no money: it stays pinned to its order (no
/// other order may use the payment), and an authorization is watched until its `valid_before`.
#[tracing::instrument(skip_all, fields(claim = %claim_key, order_id = %order_id))]
pub async fn release(conn: &mut AnyConnection, claim_key: &str, order_id: &str, now: Millis) -> StoreResult<()> {
    let mut sql = Sql::new("UPDATE payment_claims SET released_at = ");
    sql.bind(now).push(", watched_at = ").bind(now).push(", used_seen_at = NULL");
    sql.push(", resolved_at = CASE WHEN valid_before IS NULL THEN ").bind(now).push(" ELSE NULL END");
    sql.push(" WHERE claim_key = ").bind(claim_key).push(" AND order_id = ").bind(order_id);
    sql.execute(&mut *conn).await?;
    Ok(())
}

/// Holds a claim (again: its payment is presented again for its order). False when its money
/// was refunded meanwhile: then it pays nothing.
#[tracing::instrument(skip_all, fields(claim = %claim_key))]
pub async fn hold(conn: &mut AnyConnection, claim_key: &str) -> StoreResult<bool> {
    let mut sql = Sql::new("UPDATE payment_claims SET released_at = NULL, resolved_at = NULL WHERE claim_key = ");
    sql.bind(claim_key).push(" AND refunded_at IS NULL");
    Ok(sql.execute(&mut *conn).await?.rows_affected() == 1)
}

/// A released authorization still watched.
#[derive(Debug, Clone)]
pub struct Released {
    /// `eip3009:<chain>:<asset>:<from>:<nonce>`.
    pub claim_key: String,
    /// The order it is pinned to.
    pub order_id: String,
    /// Until when (unix seconds) it may move money.
    pub valid_before: i64,
    /// When the sweep last looked at it (or when it was released).
    pub watched_at: Millis,
    /// When its nonce was first seen used without a trace of the transaction that used it.
    pub used_seen_at: Option<Millis>,
}

/// The released authorizations still watched, least recently looked at first.
pub async fn watched(conn: &mut AnyConnection, limit: i64) -> StoreResult<Vec<Released>> {
    let mut sql = Sql::new(
        "SELECT claim_key, order_id, valid_before, watched_at, used_seen_at FROM payment_claims \
         WHERE released_at IS NOT NULL AND resolved_at IS NULL ORDER BY watched_at LIMIT ",
    );
    sql.bind(limit);
    let rows = sql.fetch_all(&mut *conn).await?;
    rows.iter()
        .map(|r| {
            Ok(Released {
                claim_key: r.try_get("claim_key")?,
                order_id: r.try_get("order_id")?,
                valid_before: r.try_get::<Option<i64>, _>("valid_before")?.unwrap_or(0),
                watched_at: r.try_get::<Option<i64>, _>("watched_at")?.unwrap_or(0),
                used_seen_at: r.try_get("used_seen_at")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(StoreError::from)
}

/// Done looking at a released claim for now: stops watching it (`resolved`) or puts it at the
/// back of the queue. False when it is no longer watched (held again, or resolved meanwhile):
/// then nothing may be done on the strength of this look.
pub async fn watched_done(conn: &mut AnyConnection, claim_key: &str, resolved: bool, now: Millis) -> StoreResult<bool> {
    let mut sql = Sql::new(if resolved {
        "UPDATE payment_claims SET resolved_at = "
    } else {
        "UPDATE payment_claims SET watched_at = "
    });
    sql.bind(now).push(" WHERE released_at IS NOT NULL AND resolved_at IS NULL AND claim_key = ").bind(claim_key);
    Ok(sql.execute(&mut *conn).await?.rows_affected() == 1)
}

/// Notes that a watched claim's nonce is used without a trace; returns when that was first seen.
pub async fn used_seen(conn: &mut AnyConnection, claim_key: &str, now: Millis) -> StoreResult<Millis> {
    let mut sql = Sql::new("UPDATE payment_claims SET used_seen_at = COALESCE(used_seen_at, ");
    sql.bind(now).push(") WHERE claim_key = ").bind(claim_key).push(" RETURNING used_seen_at");
    let row = sql.fetch_optional(&mut *conn).await?;
    Ok(row.map(|r| r.try_get::<i64, _>("used_seen_at")).transpose()?.unwrap_or(now))
}
