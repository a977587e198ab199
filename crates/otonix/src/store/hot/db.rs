//! What a batch writer needs from a database connection, and the sqlx implementation used for
//! PostgreSQL. (SQLite has its own, on a dedicated thread: [`super::sqlite`].)

use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row as _, ValueRef};

use crate::store::{Sql, StoreError, StoreResult, Tx};

/// One cell of a returned row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// An integer.
    Int(i64),
    /// Text.
    Text(String),
    /// NULL.
    Null,
}

/// A returned row, read by column position.
#[derive(Debug, Clone)]
pub struct Row(pub Vec<Cell>);

impl Row {
    /// The integer in column `i`.
    pub fn int(&self, i: usize) -> i64 {
        match self.0.get(i) {
            Some(Cell::Int(v)) => *v,
            _ => 0,
        }
    }

    /// The integer in column `i`, if not NULL.
    pub fn opt_int(&self, i: usize) -> Option<i64> {
        match self.0.get(i) {
            Some(Cell::Int(v)) => Some(*v),
            _ => None,
        }
    }

    /// The text in column `i`.
    pub fn text(&self, i: usize) -> &str {
        match self.0.get(i) {
            Some(Cell::Text(v)) => v,
            _ => "",
        }
    }
}

/// A connection that runs one batch transaction at a time.
pub trait BatchDb {
    /// True where `SELECT … FOR UPDATE` locks rows (PostgreSQL; SQLite has one writer anyway).
    const LOCKS_ROWS: bool;
    /// Begins the batch transaction.
    async fn begin(&mut self) -> StoreResult<()>;
    /// Runs a statement and returns its rows.
    async fn query(&mut self, sql: Sql) -> StoreResult<Vec<Row>>;
    /// Runs a statement for its effect.
    async fn execute(&mut self, sql: Sql) -> StoreResult<u64>;
    /// Commits the batch.
    async fn commit(&mut self) -> StoreResult<()>;
    /// Abandons the batch.
    async fn rollback(&mut self);
}

/// Batches in sqlx transactions on a pool (PostgreSQL).
pub struct PoolBatchDb {
    pool: AnyPool,
    tx: Option<Tx>,
}

impl PoolBatchDb {
    /// Batches on connections of `pool`.
    pub fn new(pool: AnyPool) -> Self {
        Self { pool, tx: None }
    }

    fn tx(&mut self) -> StoreResult<&mut Tx> {
        self.tx.as_mut().ok_or_else(|| StoreError::Corrupt("batch statement outside a transaction".into()))
    }
}

fn cells(row: &AnyRow) -> Row {
    let cells = (0..row.len())
        .map(|i| match row.try_get_raw(i) {
            Ok(raw) if raw.is_null() => Cell::Null,
            _ => match row.try_get::<i64, _>(i) {
                Ok(v) => Cell::Int(v),
                Err(_) => row.try_get::<String, _>(i).map(Cell::Text).unwrap_or(Cell::Null),
            },
        })
        .collect();
    Row(cells)
}

impl BatchDb for PoolBatchDb {
    const LOCKS_ROWS: bool = true;

    async fn begin(&mut self) -> StoreResult<()> {
        self.tx = Some(self.pool.begin().await?);
        Ok(())
    }

    async fn query(&mut self, sql: Sql) -> StoreResult<Vec<Row>> {
        Ok(sql.fetch_all(&mut **self.tx()?).await?.iter().map(cells).collect())
    }

    async fn execute(&mut self, sql: Sql) -> StoreResult<u64> {
        Ok(sql.execute(&mut **self.tx()?).await?.rows_affected())
    }

    async fn commit(&mut self) -> StoreResult<()> {
        if let Some(tx) = self.tx.take() {
            tx.commit().await?;
        }
        Ok(())
    }

    async fn rollback(&mut self) {
        // Dropping an open sqlx transaction rolls it back.
        self.tx = None;
    }
}
