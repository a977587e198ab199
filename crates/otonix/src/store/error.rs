//! How a database call fails, and the uniqueness rules handlers turn into 409s.

/// A database failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database cannot be reached (connection refused, pool exhausted, closed).
    #[error("database unavailable")]
    Unavailable(#[source] sqlx::Error),
    /// A query failed.
    #[error("database query failed")]
    Query(#[source] sqlx::Error),
    /// Migrations could not be applied.
    #[error("database migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored value could not be read back.
    #[error("stored value is corrupt: {0}")]
    Corrupt(String),
    /// The batched write this write was part of failed (nothing of the batch was committed).
    #[error("batched write failed")]
    Batch(#[source] std::sync::Arc<StoreError>),
    /// The embedded database failed under the batch writer.
    #[error("embedded database failed")]
    Embedded(#[source] rusqlite::Error),
    /// The configuration cannot be used to connect.
    #[error("invalid database configuration: {0}")]
    Config(String),
    /// A credit change would take a balance past its bound (nothing was changed).
    #[error("the balance would pass its bound of 10^12 USDC")]
    BalanceOutOfBounds,
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        match error {
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::Tls(_) => {
                Self::Unavailable(error)
            }
            other => Self::Query(other),
        }
    }
}

/// A uniqueness rule of the schema that an API answers with 409 when a write breaks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unique {
    /// `txHash` of a transaction booked through the API.
    BookedTxHash,
    /// A domain's name.
    DomainName,
    /// A name with an order under way or sold, in the simulated registrar.
    SimulatedSale,
    /// The reference of a simulated registrar order (one order per payment).
    SimulatedReference,
}

impl Unique {
    /// The unique index (PostgreSQL names it in the error).
    fn index(self) -> &'static str {
        match self {
            Self::BookedTxHash => "transactions_tx_hash_booked",
            Self::DomainName => "domains_name",
            Self::SimulatedSale => "sim_registrar_orders_live_domain",
            Self::SimulatedReference => "sim_registrar_orders_reference",
        }
    }

    /// `table.column` (SQLite names these in the error).
    fn columns(self) -> &'static str {
        match self {
            Self::BookedTxHash => "transactions.tx_hash",
            Self::DomainName => "domains.name",
            Self::SimulatedSale => "sim_registrar_orders.domain",
            Self::SimulatedReference => "sim_registrar_orders.reference",
        }
    }
}

impl StoreError {
    /// True when the failure is a violation of `rule` (and of no other unique constraint).
    pub fn violates(&self, rule: Unique) -> bool {
        let Self::Query(sqlx::Error::Database(e)) = self else { return false };
        e.is_unique_violation()
            && match e.constraint() {
                Some(constraint) => constraint == rule.index(),
                None => e.message().strip_prefix("UNIQUE constraint failed: ") == Some(rule.columns()),
            }
    }

    /// True when the transaction lost a conflict with a concurrent one (PostgreSQL deadlock or
    /// serialization failure) and can simply be run again.
    pub fn is_transient_conflict(&self) -> bool {
        matches!(self, Self::Query(sqlx::Error::Database(e)) if matches!(e.code().as_deref(), Some("40P01" | "40001")))
    }

    /// True when the database could not be reached (as opposed to a query failing).
    pub fn is_unavailable(&self) -> bool {
        match self {
            Self::Unavailable(_) => true,
            Self::Batch(inner) => inner.is_unavailable(),
            _ => false,
        }
    }
}
