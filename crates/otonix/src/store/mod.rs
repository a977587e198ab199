//! Database access for both backends: the embedded SQLite file (default) and PostgreSQL.
//!
//! Handlers never know which backend they run on. Every query is portable SQL run through
//! sqlx's `Any` driver with `$n` placeholders; the only per-backend pieces are the migration
//! folders and the connection settings below. Timestamps are stored as milliseconds, money as
//! integer micro-USDC, JSON as text.
//!
//! On SQLite all writes go through one connection (SQLite has a single writer anyway, and this
//! way a writer never meets `SQLITE_BUSY`) while reads use a pool of read-only connections in
//! WAL mode. On PostgreSQL both are the same pool.

pub mod actions;
pub mod agents;
pub mod claims;
pub mod compute_logs;
pub mod credits;
pub mod domains;
mod error;
pub mod events;
pub mod hot;
pub mod keys;
pub mod leases;
pub mod orders;
pub mod registrations;
pub mod sandboxes;
pub mod sim_registrar;
mod sql;
pub mod transactions;

use std::path::{Path, PathBuf};
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::migrate::Migrator;
use sqlx::{Any, AnyPool, Executor, Row};

use crate::config::{DatabaseConfig, SqliteSynchronous};
use crate::domain::AgentId;
use crate::private_files::{private_dir, private_file, tighten};

pub use error::{StoreError, Unique};
pub use sql::{Cursor, Page, Param, Sql, power_of_two_chunks};

/// A database transaction, owned by the handler that began it.
pub type Tx = sqlx::Transaction<'static, Any>;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

/// Which database the store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The embedded SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

impl Backend {
    /// Lowercase name, as reported by `/readyz`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

/// Result of store functions.
pub type StoreResult<T> = Result<T, StoreError>;

/// The database handle shared by the whole server.
#[derive(Debug, Clone)]
pub struct Store {
    reader: AnyPool,
    writer: AnyPool,
    backend: Backend,
    sqlite: Option<hot::sqlite::SqliteFile>,
    overlay: Option<std::sync::Arc<hot::overlay::HeartbeatOverlay>>,
    /// The group-commit writer, once started.
    hot: Option<hot::HotWriter>,
}

impl Store {
    /// Connects to the configured database (creating the SQLite file in `data_dir` if needed).
    pub async fn connect(config: &DatabaseConfig, data_dir: &Path) -> StoreResult<Self> {
        sqlx::any::install_default_drivers();
        match config.url.as_ref().map(|u| u.expose().to_owned()) {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Self::connect_postgres(config, &url).await
            }
            Some(url) if url.starts_with("sqlite:") => {
                let path = url.trim_start_matches("sqlite:").trim_start_matches("//");
                let path = PathBuf::from(path.split('?').next().unwrap_or(path));
                if path.as_os_str() != ":memory:" {
                    private_file(&path)
                        .map_err(|e| StoreError::Config(format!("cannot create {}: {e}", path.display())))?;
                }
                Self::connect_sqlite(config, &url, path).await
            }
            Some(_) => {
                Err(StoreError::Config("database.url must start with postgres://, postgresql:// or sqlite:".into()))
            }
            None => {
                private_dir(data_dir).map_err(|e| {
                    StoreError::Config(format!("cannot create data directory {}: {e}", data_dir.display()))
                })?;
                let path =
                    std::path::absolute(data_dir.join("otonix.db")).map_err(|e| StoreError::Config(e.to_string()))?;
                // Born 0600: SQLite gives its -wal and -shm files the database file's permissions.
                private_file(&path)
                    .map_err(|e| StoreError::Config(format!("cannot create {}: {e}", path.display())))?;
                Self::connect_sqlite(config, &sqlite_url(&path), path).await
            }
        }
    }

    async fn connect_sqlite(config: &DatabaseConfig, url: &str, path: PathBuf) -> StoreResult<Self> {
        let synchronous = match config.sqlite_synchronous {
            SqliteSynchronous::Full => "FULL",
            SqliteSynchronous::Normal => "NORMAL",
        };
        let pragmas = format!(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = {synchronous}; \
             PRAGMA busy_timeout = {}; PRAGMA temp_store = MEMORY; PRAGMA cache_size = -16000;",
            config.statement_timeout_ms
        );
        let open = |max: u32, read_only: bool| {
            let pragmas = pragmas.clone();
            AnyPoolOptions::new()
                .max_connections(max)
                .min_connections(1)
                .acquire_timeout(Duration::from_secs(config.connect_timeout_seconds))
                .after_connect(move |conn, _| {
                    let mut sql = pragmas.clone();
                    if read_only {
                        sql.push_str(" PRAGMA query_only = ON;");
                    }
                    Box::pin(async move {
                        conn.execute(sqlx::raw_sql(&sql)).await?;
                        Ok(())
                    })
                })
        };
        // The writer first: it creates the file and switches it to WAL before readers open it.
        let writer = open(1, false).connect(url).await?;
        for suffix in ["-wal", "-shm", "-journal"] {
            let mut name = path.clone().into_os_string();
            name.push(suffix);
            tighten(Path::new(&name))
                .map_err(|e| StoreError::Config(format!("cannot protect {}: {e}", path.display())))?;
        }
        let reader = open(config.pool_size.max(1), true).connect(url).await?;
        Ok(Self {
            reader,
            writer,
            backend: Backend::Sqlite,
            sqlite: Some(hot::sqlite::SqliteFile { path, synchronous }),
            overlay: Some(Default::default()),
            hot: None,
        })
    }

    async fn connect_postgres(config: &DatabaseConfig, url: &str) -> StoreResult<Self> {
        let schema = match &config.schema {
            Some(s) if is_identifier(s) => Some(s.clone()),
            Some(s) => return Err(StoreError::Config(format!("database.schema {s:?} must match [a-z_][a-z0-9_]*"))),
            None => None,
        };
        if let Some(schema) = &schema {
            let pool = AnyPoolOptions::new()
                .max_connections(1)
                .acquire_timeout(Duration::from_secs(config.connect_timeout_seconds))
                .connect(url)
                .await?;
            pool.execute(sqlx::raw_sql(&format!("CREATE SCHEMA IF NOT EXISTS {schema}")))
                .await
                .or_else(|e| if is_duplicate_schema(&e) { Ok(Default::default()) } else { Err(e) })?;
            pool.close().await;
        }
        let mut session = format!("SET statement_timeout = {};", config.statement_timeout_ms);
        if let Some(schema) = &schema {
            session.push_str(&format!(" SET search_path TO {schema};"));
        }
        let pool = AnyPoolOptions::new()
            .max_connections(config.pool_size)
            .acquire_timeout(Duration::from_secs(config.connect_timeout_seconds))
            .after_connect(move |conn, _| {
                let session = session.clone();
                Box::pin(async move {
                    conn.execute(sqlx::raw_sql(&session)).await?;
                    Ok(())
                })
            })
            .connect(url)
            .await?;
        Ok(Self {
            reader: pool.clone(),
            writer: pool,
            backend: Backend::Postgres,
            sqlite: None,
            overlay: None,
            hot: None,
        })
    }

    /// Applies pending migrations (safe to run from several replicas at once on PostgreSQL,
    /// which takes an advisory lock). Returns how many migrations the schema now has.
    pub async fn migrate(&self) -> StoreResult<usize> {
        let migrator = self.migrator();
        let mut conn = self.writer.acquire().await?;
        if self.backend == Backend::Postgres {
            // Waiting for another replica's migrations is not a slow statement: no timeout.
            conn.execute("SET statement_timeout = 0").await?;
        }
        let outcome = migrator.run(&mut *conn).await;
        if self.backend == Backend::Postgres {
            // The connection goes back to the pool: restore the configured timeout.
            conn.close().await?;
        }
        outcome?;
        Ok(migrator.iter().count())
    }

    fn migrator(&self) -> &'static Migrator {
        match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        }
    }

    /// Counts the migrations recorded as applied (for `/readyz`).
    pub async fn applied_migrations(&self) -> StoreResult<i64> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM _sqlx_migrations WHERE success = TRUE")
            .fetch_one(&self.reader)
            .await?;
        Ok(row.try_get::<i64, _>("n")?)
    }

    /// True when every embedded migration is applied.
    pub async fn is_ready(&self) -> StoreResult<bool> {
        Ok(self.applied_migrations().await? >= self.migrator().iter().count() as i64)
    }

    /// Which backend this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The pool for reads.
    pub fn reader(&self) -> &AnyPool {
        &self.reader
    }

    /// A connection for reads.
    pub async fn read(&self) -> StoreResult<sqlx::pool::PoolConnection<Any>> {
        Ok(self.reader.acquire().await?)
    }

    /// Begins a write transaction. Keep it short: on SQLite every writer waits for it.
    pub async fn begin(&self) -> StoreResult<Tx> {
        Ok(match self.backend {
            // Take the write lock up front: a deferred transaction that reads and then writes
            // fails at once if the batch writer committed in between.
            Backend::Sqlite => self.writer.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.writer.begin().await?,
        })
    }

    /// Closes every connection (at shutdown).
    pub async fn close(&self) {
        self.writer.close().await;
        self.reader.close().await;
    }
}

fn sqlite_url(path: &Path) -> String {
    let text = path.to_string_lossy();
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '%' => escaped.push_str("%25"),
            '?' => escaped.push_str("%3F"),
            '#' => escaped.push_str("%23"),
            _ => escaped.push(c),
        }
    }
    format!("sqlite://{escaped}?mode=rwc")
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && name.len() <= 63
}

fn is_duplicate_schema(error: &sqlx::Error) -> bool {
    // Two replicas creating the schema at once: the loser sees a unique violation on the catalog.
    matches!(error, sqlx::Error::Database(e) if e.is_unique_violation())
}

/// Reads a boolean column stored as BOOLEAN (PostgreSQL) or 0/1 (SQLite).
pub(crate) fn get_bool(row: &AnyRow, column: &str) -> Result<bool, sqlx::Error> {
    row.try_get::<bool, _>(column).or_else(|_| row.try_get::<i64, _>(column).map(|v| v != 0))
}

/// Reads a column holding a name of a [`Vocabulary`](crate::domain::Vocabulary) (a status, a type).
pub(crate) fn get_word<T: crate::domain::Vocabulary>(row: &AnyRow, column: &str) -> Result<T, sqlx::Error> {
    let text: String = row.try_get(column)?;
    T::parse(&text).ok_or_else(|| sqlx::Error::ColumnDecode {
        index: column.to_owned(),
        source: format!("{text:?} is not one of {:?}", T::NAMES).into(),
    })
}

/// Reads a column holding an agent id.
pub(crate) fn get_agent_id(row: &AnyRow, column: &str) -> Result<AgentId, sqlx::Error> {
    get_opt_agent_id(row, column)?
        .ok_or_else(|| sqlx::Error::ColumnDecode { index: column.to_owned(), source: "is null".into() })
}

/// Reads a nullable column holding an agent id.
pub(crate) fn get_opt_agent_id(row: &AnyRow, column: &str) -> Result<Option<AgentId>, sqlx::Error> {
    let text: Option<String> = row.try_get(column)?;
    text.map(|text| {
        AgentId::parse(&text).ok_or_else(|| sqlx::Error::ColumnDecode {
            index: column.to_owned(),
            source: format!("{text:?} is not an agent id").into(),
        })
    })
    .transpose()
}

/// Generates a fresh UUID v4 string id.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}
