//! Named leases for background work: at most one holder per name until its lease expires.
//! Works the same on both backends (an upsert guarded by holder/expiry), so with several
//! replicas exactly one runs a given job. Replicas' clocks must agree to well within the TTL.

use sqlx::{AnyConnection, Row};

use super::{Sql, StoreResult};
use crate::clock::Millis;

/// Takes or renews the lease `name` for `holder` until `now + ttl_ms`. True when `holder` now
/// holds it; false when someone else holds an unexpired lease.
pub async fn acquire(
    conn: &mut AnyConnection,
    name: &str,
    holder: &str,
    ttl_ms: i64,
    now: Millis,
) -> StoreResult<bool> {
    let mut sql = Sql::new("INSERT INTO leases (name, holder, expires_at) VALUES (");
    sql.bind(name.to_owned()).push(", ").bind(holder.to_owned()).push(", ").bind(now + ttl_ms);
    sql.push(") ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at");
    sql.push(" WHERE leases.holder = excluded.holder OR leases.expires_at <= ").bind(now);
    sql.push(" RETURNING holder");
    let row = sql.fetch_optional(&mut *conn).await?;
    Ok(match row {
        Some(row) => row.try_get::<String, _>("holder")? == holder,
        None => false,
    })
}

/// Gives the lease up, if `holder` has it.
pub async fn release(conn: &mut AnyConnection, name: &str, holder: &str) -> StoreResult<()> {
    let mut sql = Sql::new("DELETE FROM leases WHERE name = ");
    sql.bind(name.to_owned()).push(" AND holder = ").bind(holder.to_owned());
    sql.execute(&mut *conn).await?;
    Ok(())
}

/// The current unexpired holder of a lease, if any.
pub async fn holder(conn: &mut AnyConnection, name: &str, now: Millis) -> StoreResult<Option<String>> {
    let mut sql = Sql::new("SELECT holder FROM leases WHERE name = ");
    sql.bind(name.to_owned()).push(" AND expires_at > ").bind(now);
    Ok(sql.fetch_optional(&mut *conn).await?.map(|r| r.try_get("holder")).transpose()?)
}
