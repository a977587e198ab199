//! The SQLite batch writer: its own connection on its own thread, driving SQLite directly
//! (rusqlite, prepared-statement cache) so a batch costs no thread hand-offs beyond the queue.
//! It shares the database file with the sqlx pools; `BEGIN IMMEDIATE` on every writer makes
//! them take turns instead of failing.
//!
//! Its commits flush the WAL as configured (`database.sqliteSynchronous`, `FULL` by default),
//! and answers go out only after the commit: the flush is what paces the batches, and what
//! arrives while one flush runs forms the next batch.

use std::path::PathBuf;
use std::time::Duration;

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};

use super::db::{BatchDb, Cell, Row};
use crate::store::{Param, Sql, StoreError, StoreResult};

/// How to open the database file.
#[derive(Debug, Clone)]
pub struct SqliteFile {
    /// The file.
    pub path: PathBuf,
    /// `FULL` or `NORMAL`.
    pub synchronous: &'static str,
}

/// The writer's connection.
pub struct SqliteBatchDb {
    conn: Connection,
}

/// While another writer holds the lock: wait in 100 µs steps, for up to 10 s.
fn wait_for_lock(attempt: i32) -> bool {
    std::thread::sleep(Duration::from_micros(100));
    attempt < 100_000
}

fn failed(error: rusqlite::Error) -> StoreError {
    StoreError::Embedded(error)
}

impl SqliteBatchDb {
    /// Opens the file (which must exist and be migrated).
    pub fn open(file: &SqliteFile) -> StoreResult<Self> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&file.path, flags).map_err(failed)?;
        conn.execute_batch(&format!(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = {}; PRAGMA temp_store = MEMORY; PRAGMA cache_size = -16000;",
            file.synchronous
        ))
        .map_err(failed)?;
        conn.busy_handler(Some(wait_for_lock)).map_err(failed)?;
        conn.set_prepared_statement_cache_capacity(128);
        Ok(Self { conn })
    }

    fn prepare(&self, sql: &Sql) -> StoreResult<rusqlite::CachedStatement<'_>> {
        let mut statement = self.conn.prepare_cached(sql.text()).map_err(failed)?;
        // `$n` placeholders are numbered in order of appearance, so `$n` is parameter n.
        for (index, param) in sql.params().iter().enumerate() {
            let position = index + 1;
            let bound = match param {
                Param::Int(v) => statement.raw_bind_parameter(position, v),
                Param::Text(v) => statement.raw_bind_parameter(position, v),
                Param::Bool(v) => statement.raw_bind_parameter(position, i64::from(*v)),
                Param::NullInt | Param::NullText => statement.raw_bind_parameter(position, rusqlite::types::Null),
            };
            bound.map_err(failed)?;
        }
        Ok(statement)
    }
}

impl BatchDb for SqliteBatchDb {
    const LOCKS_ROWS: bool = false;

    async fn begin(&mut self) -> StoreResult<()> {
        self.conn.execute_batch("BEGIN IMMEDIATE").map_err(failed)
    }

    async fn query(&mut self, sql: Sql) -> StoreResult<Vec<Row>> {
        let mut statement = self.prepare(&sql)?;
        let columns = statement.column_count();
        let mut rows = statement.raw_query();
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(failed)? {
            let cells = (0..columns)
                .map(|i| match row.get_ref(i) {
                    Ok(ValueRef::Integer(v)) => Cell::Int(v),
                    Ok(ValueRef::Text(t)) => Cell::Text(String::from_utf8_lossy(t).into_owned()),
                    _ => Cell::Null,
                })
                .collect();
            out.push(Row(cells));
        }
        Ok(out)
    }

    async fn execute(&mut self, sql: Sql) -> StoreResult<u64> {
        let mut statement = self.prepare(&sql)?;
        Ok(statement.raw_execute().map_err(failed)? as u64)
    }

    async fn commit(&mut self) -> StoreResult<()> {
        self.conn.execute_batch("COMMIT").map_err(failed)
    }

    async fn rollback(&mut self) {
        let _ = self.conn.execute_batch("ROLLBACK");
    }
}
