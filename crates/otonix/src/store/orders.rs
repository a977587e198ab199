//! Payment orders (SPEC §5.3, §5.5): one per 402 challenge, moving
//! `open → settling → settled → delivered`, or to `expired`, `failed` or `refunded`. The
//! payment claims that guard them are in [`super::claims`].
//!
//! Every transition is a conditional update, so concurrent requests (and replicas) agree on one
//! outcome; every transition after the claim also names the claim it acts for, so an attempt
//! that lost its claim (taken for abandoned, released, re-claimed by another payment) can no
//! longer move the order.

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

pub use crate::domain::{OrderStatus, Usdc};

use super::{Sql, StoreError, StoreResult};
use crate::clock::Millis;

/// A payment order.
#[derive(Debug, Clone)]
pub struct Order {
    /// 32 lowercase hex characters.
    pub id: String,
    /// The principal it was issued to: a key id, or `admin`.
    pub api_key_id: String,
    /// HTTP method of the paid request.
    pub method: String,
    /// Path of the paid request.
    pub path: String,
    /// SHA-256 of the canonical JSON body.
    pub body_hash: String,
    /// The canonical JSON body.
    pub request_body: String,
    /// What is bought: the name of a payment product (`credits`).
    pub product: String,
    /// What the request buys, parsed when it was quoted (the product's parameters, JSON).
    pub params: String,
    /// What is paid for, as `METHOD /route` (for receipts).
    pub resource: String,
    /// Human description.
    pub description: String,
    /// Price in atomic units (micro-USDC).
    pub amount: Usdc,
    /// Where the order is.
    pub status: OrderStatus,
    /// `exact` or `txHash`, once paid.
    pub scheme: Option<String>,
    /// The paying address, once known.
    pub payer: Option<String>,
    /// The settling transaction, once known.
    pub tx_hash: Option<String>,
    /// The payment claim that pays for it.
    pub claim_key: Option<String>,
    /// What an unfinished settlement waits for (JSON), stored before anything is broadcast.
    pub settle_reference: Option<String>,
    /// Failed deliveries so far.
    pub delivery_attempts: i64,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// The receipt (JSON), once settled.
    pub receipt: Option<serde_json::Value>,
    /// The stored success response, once delivered.
    pub response_body: Option<String>,
    /// Created.
    pub created_at: Millis,
    /// Payable until.
    pub expires_at: Millis,
    /// Last change.
    pub updated_at: Millis,
}

impl Order {
    /// The claim key, or an empty string for an order nobody claimed.
    pub fn claim(&self) -> &str {
        self.claim_key.as_deref().unwrap_or_default()
    }
}

const COLUMNS: &str = "id, api_key_id, method, path, body_hash, request_body, product, params, resource, description, \
    amount, status, scheme, payer, tx_hash, claim_key, settle_reference, delivery_attempts, last_error, receipt, \
    response_body, created_at, expires_at, updated_at";

fn from_row(row: &AnyRow) -> Result<Order, StoreError> {
    let receipt: Option<String> = row.try_get("receipt")?;
    let status: String = row.try_get("status")?;
    Ok(Order {
        id: row.try_get("id")?,
        api_key_id: row.try_get("api_key_id")?,
        method: row.try_get("method")?,
        path: row.try_get("path")?,
        body_hash: row.try_get("body_hash")?,
        request_body: row.try_get("request_body")?,
        product: row.try_get("product")?,
        params: row.try_get("params")?,
        resource: row.try_get("resource")?,
        description: row.try_get("description")?,
        amount: row.try_get("amount")?,
        status: OrderStatus::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("order status {status}")))?,
        scheme: row.try_get("scheme")?,
        payer: row.try_get("payer")?,
        tx_hash: row.try_get("tx_hash")?,
        claim_key: row.try_get("claim_key")?,
        settle_reference: row.try_get("settle_reference")?,
        delivery_attempts: row.try_get("delivery_attempts")?,
        last_error: row.try_get("last_error")?,
        receipt: receipt.and_then(|r| serde_json::from_str(&r).ok()),
        response_body: row.try_get("response_body")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// A new order, as quoted.
#[derive(Debug, Clone)]
pub struct NewOrder {
    /// 32 lowercase hex characters.
    pub id: String,
    /// The principal.
    pub api_key_id: String,
    /// HTTP method.
    pub method: String,
    /// Request path.
    pub path: String,
    /// SHA-256 of the canonical body.
    pub body_hash: String,
    /// The canonical body.
    pub request_body: String,
    /// Product name.
    pub product: String,
    /// Product parameters (JSON).
    pub params: String,
    /// `METHOD /route`.
    pub resource: String,
    /// Description.
    pub description: String,
    /// Price in micro-USDC.
    pub amount: Usdc,
    /// Payable until.
    pub expires_at: Millis,
}

/// Inserts a new open order and returns it.
#[tracing::instrument(skip_all)]
pub async fn insert(conn: &mut AnyConnection, order: &NewOrder, now: Millis) -> StoreResult<Order> {
    let mut sql = Sql::insert(
        "payment_orders",
        vec![
            ("id", order.id.as_str().into()),
            ("api_key_id", order.api_key_id.as_str().into()),
            ("method", order.method.as_str().into()),
            ("path", order.path.as_str().into()),
            ("body_hash", order.body_hash.as_str().into()),
            ("request_body", order.request_body.as_str().into()),
            ("product", order.product.as_str().into()),
            ("params", order.params.as_str().into()),
            ("resource", order.resource.as_str().into()),
            ("description", order.description.as_str().into()),
            ("amount", order.amount.into()),
            ("status", OrderStatus::Open.as_str().into()),
            ("created_at", now.into()),
            ("expires_at", order.expires_at.into()),
            ("updated_at", now.into()),
        ],
    );
    sql.push(&format!(" RETURNING {COLUMNS}"));
    let row = sql.fetch_returned(&mut *conn).await?;
    from_row(&row)
}

/// One order by id.
pub async fn get(conn: &mut AnyConnection, id: &str) -> StoreResult<Option<Order>> {
    let mut sql = Sql::new(&format!("SELECT {COLUMNS} FROM payment_orders WHERE id = "));
    sql.bind(id);
    sql.fetch_optional(&mut *conn).await?.as_ref().map(from_row).transpose()
}

/// The newest order for exactly this request (principal, method, path, body) that is not
/// finished (v1 payments name no order).
pub async fn latest_for_request(
    conn: &mut AnyConnection,
    api_key_id: &str,
    method: &str,
    path: &str,
    body_hash: &str,
) -> StoreResult<Option<Order>> {
    let mut sql = Sql::new(&format!("SELECT {COLUMNS} FROM payment_orders WHERE api_key_id = "));
    sql.bind(api_key_id).push(" AND method = ").bind(method).push(" AND path = ").bind(path);
    sql.push(" AND body_hash = ").bind(body_hash).push(" AND status IN ('open', 'settling', 'settled', 'delivered')");
    sql.push(" ORDER BY seq DESC LIMIT 1");
    sql.fetch_optional(&mut *conn).await?.as_ref().map(from_row).transpose()
}

/// How a payment is about to settle an order.
#[derive(Debug, Clone)]
pub struct Settling {
    /// `exact` or `txHash`.
    pub scheme: &'static str,
    /// The paying address.
    pub payer: String,
    /// The claim that pays for the order.
    pub claim_key: String,
}

/// `open → settling` (also `expired → settling` when `expired_too`: a transfer mined before the
/// order expired pays it). False when the order was in another state.
#[tracing::instrument(skip_all, fields(order_id = %id))]
pub async fn mark_settling(
    conn: &mut AnyConnection,
    id: &str,
    settling: &Settling,
    expired_too: bool,
    now: Millis,
) -> StoreResult<bool> {
    let mut sql = Sql::new("UPDATE payment_orders SET status = 'settling', scheme = ");
    sql.bind(settling.scheme).push(", payer = ").bind(&settling.payer).push(", claim_key = ").bind(&settling.claim_key);
    sql.push(", settle_reference = NULL, last_error = NULL, updated_at = ").bind(now);
    sql.push(if expired_too { " WHERE status IN ('open', 'expired')" } else { " WHERE status = 'open'" });
    sql.push(" AND id = ").bind(id);
    Ok(sql.execute(&mut *conn).await?.rows_affected() == 1)
}

/// Appends the condition that the order is in `status` and held by `claim_key`.
fn held(sql: &mut Sql, id: &str, status: OrderStatus, claim_key: &str) {
    sql.push(" WHERE status = ").bind(status.as_str()).push(" AND id = ").bind(id);
    sql.push(" AND claim_key = ").bind(claim_key);
}

/// Stores what an unfinished settlement waits for, while `claim_key` still holds the settling
/// order. False when it no longer does: then nothing may be broadcast.
#[tracing::instrument(skip_all, fields(order_id = %id))]
pub async fn set_settle_reference(
    conn: &mut AnyConnection,
    id: &str,
    claim_key: &str,
    reference: &str,
    now: Millis,
) -> StoreResult<bool> {
    let mut sql = Sql::new("UPDATE payment_orders SET settle_reference = ");
    sql.bind(reference).push(", updated_at = ").bind(now);
    held(&mut sql, id, OrderStatus::Settling, claim_key);
    Ok(sql.execute(&mut *conn).await?.rows_affected() == 1)
}

/// `settling → settled` by `claim_key`, with the transaction and receipt.
#[tracing::instrument(skip_all, fields(order_id = %id))]
pub async fn mark_settled(
    conn: &mut AnyConnection,
    id: &str,
    claim_key: &str,
    tx_hash: &str,
    receipt: &serde_json::Value,
    now: Millis,
) -> StoreResult<bool> {
    let mut sql = Sql::new("UPDATE payment_orders SET status = 'settled', tx_hash = ");
    sql.bind(tx_hash).push(", receipt = ").bind(receipt.to_string()).push(", settled_at = ").bind(now);
    sql.push(", updated_at = ").bind(now);
    held(&mut sql, id, OrderStatus::Settling, claim_key);
    Ok(sql.execute(&mut *conn).await?.rows_affected() == 1)
}

/// `settling → open` after a settlement by `claim_key` that certainly moved no money (the
/// payer may pay again) — only while its reference is still `seen_reference`, the one the
/// decision was made on (an attempt that stored a reference since may have broadcast).
#[tracing::instrument(skip_all, fields(order_id = %id))]
pub async fn reopen(
    conn: &mut AnyConnection,
    id: &str,
    claim_key: &str,
    seen_reference: Option<&str>,
    error: &str,
    now: Millis,
) -> StoreResult<bool> {
    let mut sql =
        Sql::new("UPDATE payment_orders SET status = 'open', scheme = NULL, payer = NULL, claim_key = NULL, ");
    sql.push("settle_reference = NULL, last_error = ").bind(error).push(", updated_at = ").bind(now);
    held(&mut sql, id, OrderStatus::Settling, claim_key);
    match seen_reference {
        Some(reference) => sql.push(" AND settle_reference = ").bind(reference),
        None => sql.push(" AND settle_reference IS NULL"),
    };
    Ok(sql.execute(&mut *conn).await?.rows_affected() == 1)
}

/// `settling → failed`: the payment of `claim_key` settled in a transaction that already paid
/// another order. The claim stays: that money moved.
#[tracing::instrument(skip_all, fields(order_id = %id))]
pub async fn mark_failed(
    conn: &mut AnyConnection,
    id: &str,
    claim_key: &str,
    error: &str,
    now: Millis,
) -> StoreResult<bool> {
    let mut sql = Sql::new("UPDATE payment_orders SET status = 'failed', last_error = ");
    sql.bind(error).push(", updated_at = ").bind(now);
    held(&mut sql, id, OrderStatus::Settling, claim_key);
    Ok(sql.execute(&mut *conn).await?.rows_affected() == 1)
}

/// `settled → delivered` by `claim_key`, first thing in the delivery's transaction (so a
/// concurrent delivery waits, then finds it delivered). False when someone else delivered it.
#[tracing::instrument(skip_all, fields(order_id = %id))]
pub async fn mark_delivered(conn: &mut AnyConnection, id: &str, claim_key: &str, now: Millis) -> StoreResult<bool> {
    let mut sql = Sql::new("UPDATE payment_orders SET status = 'delivered', response_status = 201, delivered_at = ");
    sql.bind(now).push(", updated_at = ").bind(now);
    held(&mut sql, id, OrderStatus::Settled, claim_key);
    Ok(sql.execute(&mut *conn).await?.rows_affected() == 1)
}

/// Stores the answer of a delivered order for idempotent replays (in its delivery's transaction).
pub async fn set_response(conn: &mut AnyConnection, id: &str, response_body: &str) -> StoreResult<()> {
    let mut sql = Sql::new("UPDATE payment_orders SET response_body = ");
    sql.bind(response_body).push(" WHERE id = ").bind(id);
    sql.execute(&mut *conn).await?;
    Ok(())
}

/// Counts a failed delivery of a settled order; returns the attempts so far (0 when the order is
/// no longer settled by `claim_key`).
#[tracing::instrument(skip_all, fields(order_id = %id))]
pub async fn record_delivery_failure(
    conn: &mut AnyConnection,
    id: &str,
    claim_key: &str,
    error: &str,
    now: Millis,
) -> StoreResult<i64> {
    let mut sql = Sql::new("UPDATE payment_orders SET delivery_attempts = delivery_attempts + 1, last_error = ");
    sql.bind(error).push(", updated_at = ").bind(now);
    held(&mut sql, id, OrderStatus::Settled, claim_key);
    sql.push(" RETURNING delivery_attempts");
    let row = sql.fetch_optional(&mut *conn).await?;
    Ok(row.map(|r| r.try_get::<i64, _>("delivery_attempts")).transpose()?.unwrap_or(0))
}

/// `settled → refunded` by `claim_key`. False when it was not settled by it.
#[tracing::instrument(skip_all, fields(order_id = %id))]
pub async fn mark_refunded(conn: &mut AnyConnection, id: &str, claim_key: &str, now: Millis) -> StoreResult<bool> {
    let mut sql = Sql::new("UPDATE payment_orders SET status = 'refunded', updated_at = ");
    sql.bind(now);
    held(&mut sql, id, OrderStatus::Settled, claim_key);
    Ok(sql.execute(&mut *conn).await?.rows_affected() == 1)
}

/// `delivered → refunded`, for a purchase that failed upstream after it was delivered (a
/// registrar order that failed). False when it was not delivered (refunded already).
#[tracing::instrument(skip_all, fields(order_id = %id))]
pub async fn mark_refunded_after_delivery(conn: &mut AnyConnection, id: &str, now: Millis) -> StoreResult<bool> {
    let mut sql = Sql::new("UPDATE payment_orders SET status = 'refunded', updated_at = ");
    sql.bind(now).push(" WHERE status = 'delivered' AND id = ").bind(id);
    Ok(sql.execute(&mut *conn).await?.rows_affected() == 1)
}

/// `open → expired` for an open order past its expiry.
#[tracing::instrument(skip_all, fields(order_id = %id))]
pub async fn expire(conn: &mut AnyConnection, id: &str, now: Millis) -> StoreResult<()> {
    let mut sql = Sql::new("UPDATE payment_orders SET status = 'expired', updated_at = ");
    sql.bind(now).push(" WHERE status = 'open' AND id = ").bind(id).push(" AND expires_at < ").bind(now);
    sql.execute(&mut *conn).await?;
    Ok(())
}

/// Orders in `status` untouched since `before`, oldest first (for background reconciliation).
pub async fn stale(
    conn: &mut AnyConnection,
    status: OrderStatus,
    before: Millis,
    limit: i64,
) -> StoreResult<Vec<Order>> {
    let mut sql = Sql::new(&format!("SELECT {COLUMNS} FROM payment_orders WHERE status = "));
    sql.bind(status.as_str()).push(" AND updated_at < ").bind(before).push(" ORDER BY updated_at LIMIT ").bind(limit);
    sql.fetch_all(&mut *conn).await?.iter().map(from_row).collect()
}
