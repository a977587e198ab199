//! The simulated registrar's state (`providers.vercel.mode = "simulated"`): its orders and the
//! names it sold, in the server's database so that they survive a restart.

use sqlx::{AnyConnection, Row};

use super::{Sql, StoreResult, get_bool};
use crate::clock::Millis;
use crate::domain::Usdc;

/// A registrar order of the simulator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimOrder {
    /// The registrar's order id.
    pub id: String,
    /// The name bought.
    pub domain: String,
    /// Years bought.
    pub years: i64,
    /// Whether the name renews itself.
    pub auto_renew: bool,
    /// What was paid.
    pub price: Usdc,
    /// `purchasing`, `completed` or `failed`.
    pub status: String,
    /// Why it failed.
    pub error_code: Option<String>,
    /// When it was placed.
    pub created_at: Millis,
}

const ORDER_COLUMNS: &str = "id, domain, years, auto_renew, price, status, error_code, created_at";

fn order_from_row(row: &sqlx::any::AnyRow) -> Result<SimOrder, sqlx::Error> {
    Ok(SimOrder {
        id: row.try_get("id")?,
        domain: row.try_get("domain")?,
        years: row.try_get("years")?,
        auto_renew: get_bool(row, "auto_renew")?,
        price: row.try_get("price")?,
        status: row.try_get("status")?,
        error_code: row.try_get("error_code")?,
        created_at: row.try_get("created_at")?,
    })
}

/// The order placed for `reference`, if any (a retried buy finds it instead of buying twice).
pub async fn order_for(conn: &mut AnyConnection, reference: &str) -> StoreResult<Option<SimOrder>> {
    let mut sql = Sql::new(&format!("SELECT {ORDER_COLUMNS} FROM sim_registrar_orders WHERE reference = "));
    sql.bind(reference);
    Ok(sql.fetch_optional(&mut *conn).await?.map(|row| order_from_row(&row)).transpose()?)
}

/// Places an order for `reference`. A name with an order under way or sold already violates
/// the index `sim_registrar_orders_live_domain`.
pub async fn place_order(conn: &mut AnyConnection, reference: &str, order: &SimOrder, now: Millis) -> StoreResult<()> {
    let sql = Sql::insert(
        "sim_registrar_orders",
        vec![
            ("id", order.id.as_str().into()),
            ("reference", reference.into()),
            ("domain", order.domain.as_str().into()),
            ("years", order.years.into()),
            ("auto_renew", order.auto_renew.into()),
            ("price", order.price.into()),
            ("status", order.status.as_str().into()),
            ("created_at", now.into()),
            ("updated_at", now.into()),
        ],
    );
    sql.execute(&mut *conn).await?;
    Ok(())
}

/// One order by id.
pub async fn order(conn: &mut AnyConnection, id: &str) -> StoreResult<Option<SimOrder>> {
    let mut sql = Sql::new(&format!("SELECT {ORDER_COLUMNS} FROM sim_registrar_orders WHERE id = "));
    sql.bind(id);
    Ok(sql.fetch_optional(&mut *conn).await?.map(|row| order_from_row(&row)).transpose()?)
}

/// Ends a `purchasing` order: `completed` (the name is then sold until `expires_at`) or
/// `failed` with `error_code`. An order already ended is left as it is.
pub async fn finish_order(
    conn: &mut AnyConnection,
    order: &SimOrder,
    outcome: Result<Millis, &str>,
    now: Millis,
) -> StoreResult<()> {
    let mut sql = Sql::new("UPDATE sim_registrar_orders SET status = ");
    match outcome {
        Ok(_) => sql.bind("completed"),
        Err(code) => sql.bind("failed").push(", error_code = ").bind(code),
    };
    sql.push(", updated_at = ").bind(now).push(" WHERE status = 'purchasing' AND id = ").bind(order.id.as_str());
    if sql.execute(&mut *conn).await?.rows_affected() == 1
        && let Ok(expires_at) = outcome
    {
        let sql = Sql::insert(
            "sim_registrar_domains",
            vec![
                ("name", order.domain.as_str().into()),
                ("order_id", order.id.as_str().into()),
                ("auto_renew", order.auto_renew.into()),
                ("bought_at", now.into()),
                ("expires_at", expires_at.into()),
            ],
        );
        sql.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Whether the simulator sold `name`, or has an order for it under way.
pub async fn is_taken(conn: &mut AnyConnection, name: &str) -> StoreResult<bool> {
    let mut sql = Sql::new("SELECT 1 AS taken FROM sim_registrar_domains WHERE name = ");
    sql.bind(name)
        .push(" UNION ALL SELECT 1 AS taken FROM sim_registrar_orders WHERE status = 'purchasing' AND domain = ");
    sql.bind(name);
    Ok(sql.fetch_optional(&mut *conn).await?.is_some())
}

/// A name the simulator sold: `(bought_at, expires_at, auto_renew)`.
pub async fn sold(conn: &mut AnyConnection, name: &str) -> StoreResult<Option<(Millis, Millis, bool)>> {
    let mut sql = Sql::new("SELECT bought_at, expires_at, auto_renew FROM sim_registrar_domains WHERE name = ");
    sql.bind(name);
    let Some(row) = sql.fetch_optional(&mut *conn).await? else { return Ok(None) };
    Ok(Some((row.try_get("bought_at")?, row.try_get("expires_at")?, get_bool(&row, "auto_renew")?)))
}

/// A DNS record at the simulated registrar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimRecord {
    /// `rec_…`.
    pub id: String,
    /// Name relative to the domain (`""` for the apex).
    pub name: String,
    /// `A`, `MX`, …
    pub record_type: String,
    /// Value.
    pub value: String,
    /// TTL in seconds.
    pub ttl: i64,
    /// Priority (MX, SRV).
    pub priority: Option<i64>,
    /// When it was made.
    pub created_at: Millis,
}

/// The records of `domain`, oldest first.
pub async fn records(conn: &mut AnyConnection, domain: &str) -> StoreResult<Vec<SimRecord>> {
    let mut sql =
        Sql::new("SELECT id, name, type, value, ttl, priority, created_at FROM sim_registrar_records WHERE domain = ");
    sql.bind(domain).push(" ORDER BY seq");
    let mut records = Vec::new();
    for row in sql.fetch_all(&mut *conn).await? {
        records.push(SimRecord {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            record_type: row.try_get("type")?,
            value: row.try_get("value")?,
            ttl: row.try_get("ttl")?,
            priority: row.try_get("priority")?,
            created_at: row.try_get("created_at")?,
        });
    }
    Ok(records)
}

/// Adds a record to `domain`.
pub async fn add_record(conn: &mut AnyConnection, domain: &str, record: &SimRecord) -> StoreResult<()> {
    let sql = Sql::insert(
        "sim_registrar_records",
        vec![
            ("id", record.id.as_str().into()),
            ("domain", domain.into()),
            ("name", record.name.as_str().into()),
            ("type", record.record_type.as_str().into()),
            ("value", record.value.as_str().into()),
            ("ttl", record.ttl.into()),
            ("priority", record.priority.into()),
            ("created_at", record.created_at.into()),
        ],
    );
    sql.execute(&mut *conn).await?;
    Ok(())
}

/// Deletes a record of `domain`; false when it has no such record.
pub async fn delete_record(conn: &mut AnyConnection, domain: &str, id: &str) -> StoreResult<bool> {
    let mut sql = Sql::new("DELETE FROM sim_registrar_records WHERE domain = ");
    sql.bind(domain).push(" AND id = ").bind(id);
    Ok(sql.execute(&mut *conn).await?.rows_affected() == 1)
}

/// The names the simulator sold: `(name, bought_at, expires_at, auto_renew)`, oldest first.
pub async fn sold_names(conn: &mut AnyConnection) -> StoreResult<Vec<(String, Millis, Millis, bool)>> {
    let sql =
        Sql::new("SELECT name, bought_at, expires_at, auto_renew FROM sim_registrar_domains ORDER BY bought_at, name");
    let mut names = Vec::new();
    for row in sql.fetch_all(&mut *conn).await? {
        names.push((
            row.try_get("name")?,
            row.try_get("bought_at")?,
            row.try_get("expires_at")?,
            get_bool(&row, "auto_renew")?,
        ));
    }
    Ok(names)
}
