//! Domains bought through the registrar: the registrar order and the payment order behind a
//! `pending` domain, and how it ends (`active` with its dates, or `failed`), each with its
//! event and, when an agent owns the domain, a `domain` action of that agent.

use sqlx::{AnyConnection, Row};

use super::actions::{self, NewAction};
use super::domains::{COLUMNS, Domain, domain_event, from_row};
use super::{Sql, StoreResult, events};
use crate::clock::Millis;
use crate::domain::{ActionStatus, DomainStatus};

/// A pending domain and the orders behind it.
#[derive(Debug, Clone)]
pub struct PendingRegistration {
    /// The local domain record.
    pub domain: Domain,
    /// The registrar's order.
    pub registrar_order_id: String,
    /// The payment order that paid for it.
    pub payment_order_id: String,
}

/// Reserves a name for a paid order before it is bought: a `pending` domain record (the name is
/// unique, so a name recorded meanwhile violates [`super::Unique::DomainName`]) tied to the
/// payment order.
pub async fn reserve(
    conn: &mut AnyConnection,
    domain: &Domain,
    payment_order_id: &str,
    now: Millis,
) -> StoreResult<Domain> {
    let stored = super::domains::insert(conn, domain, now).await?;
    let mut sql = Sql::new("UPDATE domains SET payment_order_id = ");
    sql.bind(payment_order_id).push(" WHERE id = ").bind(stored.id.as_str());
    sql.execute(&mut *conn).await?;
    Ok(stored)
}

/// A name reserved for a paid order.
#[derive(Debug, Clone)]
pub struct Reservation {
    /// The local domain record.
    pub domain: Domain,
    /// The registrar's order, once known.
    pub registrar_order_id: Option<String>,
    /// Whether the registrar was ever asked to buy it (its outcome may be unknown).
    pub buy_started: bool,
}

/// The domain reserved for a payment order.
pub async fn reserved_by(conn: &mut AnyConnection, payment_order_id: &str) -> StoreResult<Option<Reservation>> {
    let mut sql = Sql::new(&format!(
        "SELECT {COLUMNS}, registrar_order_id, buy_started_at FROM domains WHERE payment_order_id = "
    ));
    sql.bind(payment_order_id);
    let Some(row) = sql.fetch_optional(&mut *conn).await? else { return Ok(None) };
    let started: Option<Millis> = row.try_get("buy_started_at")?;
    Ok(Some(Reservation {
        domain: from_row(&row)?,
        registrar_order_id: row.try_get("registrar_order_id")?,
        buy_started: started.is_some(),
    }))
}

/// Notes, before the registrar is asked, that a reserved name's purchase may happen.
pub async fn mark_buy_started(conn: &mut AnyConnection, domain_id: &str, now: Millis) -> StoreResult<()> {
    let mut sql = Sql::new("UPDATE domains SET buy_started_at = ");
    sql.bind(now).push(" WHERE buy_started_at IS NULL AND id = ").bind(domain_id);
    sql.execute(&mut *conn).await?;
    Ok(())
}

/// Records the registrar's order behind a pending reservation (from then on it is followed);
/// the first one recorded stays.
pub async fn set_registrar_order(
    conn: &mut AnyConnection,
    domain_id: &str,
    registrar_order_id: &str,
) -> StoreResult<()> {
    let mut sql = Sql::new("UPDATE domains SET registrar_order_id = ");
    sql.bind(registrar_order_id).push(" WHERE registrar_order_id IS NULL AND status = 'pending' AND id = ");
    sql.bind(domain_id);
    sql.execute(&mut *conn).await?;
    Ok(())
}

/// Whether a domain record is one the server bought through the registrar (its status is the
/// server's to change).
pub async fn is_bought(conn: &mut AnyConnection, domain_id: &str) -> StoreResult<bool> {
    let mut sql = Sql::new("SELECT 1 AS bought FROM domains WHERE payment_order_id IS NOT NULL AND id = ");
    sql.bind(domain_id);
    Ok(sql.fetch_optional(&mut *conn).await?.is_some())
}

/// The record of a name the server bought and holds (`active` or `expired`), if any.
pub async fn bought(conn: &mut AnyConnection, name: &str) -> StoreResult<Option<Domain>> {
    let mut sql = Sql::new(&format!(
        "SELECT {COLUMNS} FROM domains WHERE payment_order_id IS NOT NULL AND status IN ('active', 'expired') \
         AND name = "
    ));
    sql.bind(name);
    Ok(sql.fetch_optional(&mut *conn).await?.map(|row| from_row(&row)).transpose()?)
}

/// Up to `limit` pending domains with a registrar order, oldest first.
pub async fn pending(conn: &mut AnyConnection, limit: i64) -> StoreResult<Vec<PendingRegistration>> {
    let mut sql = Sql::new(&format!(
        "SELECT {COLUMNS}, registrar_order_id, payment_order_id FROM domains WHERE status = 'pending' \
         AND registrar_order_id IS NOT NULL ORDER BY seq LIMIT "
    ));
    sql.bind(limit);
    let rows = sql.fetch_all(&mut *conn).await?;
    let mut pending = Vec::with_capacity(rows.len());
    for row in rows {
        pending.push(PendingRegistration {
            domain: from_row(&row)?,
            registrar_order_id: row.try_get("registrar_order_id")?,
            payment_order_id: row.try_get("payment_order_id")?,
        });
    }
    Ok(pending)
}

/// `pending → active` with the registrar's dates; `None` when it is no longer pending.
pub async fn complete(
    conn: &mut AnyConnection,
    domain_id: &str,
    registered_at: Millis,
    expires_at: Option<Millis>,
    now: Millis,
) -> StoreResult<Option<Domain>> {
    let mut sql = Sql::new("UPDATE domains SET status = ");
    sql.bind(DomainStatus::Active.as_str()).push(", registered_at = ").bind(registered_at);
    sql.push(", expires_at = ").bind(expires_at).push(", updated_at = ").bind(now);
    end(conn, sql, domain_id, "domain.registered", "registered", now).await
}

/// `pending → failed`; `None` when it is no longer pending.
pub async fn fail(conn: &mut AnyConnection, domain_id: &str, reason: &str, now: Millis) -> StoreResult<Option<Domain>> {
    let mut sql = Sql::new("UPDATE domains SET status = ");
    sql.bind(DomainStatus::Failed.as_str()).push(", updated_at = ").bind(now);
    end(conn, sql, domain_id, "domain.registration_failed", reason, now).await
}

async fn end(
    conn: &mut AnyConnection,
    mut sql: Sql,
    domain_id: &str,
    event: &'static str,
    outcome: &str,
    now: Millis,
) -> StoreResult<Option<Domain>> {
    sql.push(" WHERE status = 'pending' AND id = ").bind(domain_id).push(&format!(" RETURNING {COLUMNS}"));
    let Some(row) = sql.fetch_optional(&mut *conn).await? else { return Ok(None) };
    let domain = from_row(&row)?;
    events::append(conn, &[domain_event(event, &domain)], now).await?;
    if let Some(agent_id) = domain.agent_id {
        let failed = domain.status == DomainStatus::Failed;
        let action = NewAction {
            agent_id,
            action: format!("domain {} {outcome}", domain.name),
            category: "domain".to_owned(),
            details: None,
            status: if failed { ActionStatus::Failed } else { ActionStatus::Completed },
            autonomous: true,
        };
        actions::insert_system(conn, &domain.api_key_id, &action, now).await?;
    }
    Ok(Some(domain))
}
