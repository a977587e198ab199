//! Transactions: the books (SPEC §4.6). A transaction hash is unique among the rows of each
//! writer ([`Origin`]), enforced by the database: a hash booked by hand is a record, and never
//! stands in the way of the payment that mined it (whose one-time use `payment_claims` guards).

use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::events::{self, NewEvent};
use super::{Cursor, Page, Sql, StoreResult, credits, get_opt_agent_id, get_word};
use crate::clock::Millis;
use crate::domain::survival::TierRules;
use crate::domain::{AgentId, TransactionStatus, TransactionType, Usdc};

/// A transaction's row (amount in micro-USDC). The API's view, with the masking of SPEC §3.4,
/// is `api::transactions::TransactionView`.
#[derive(Debug, Clone)]
pub struct Transaction {
    /// Insertion order (the pagination key).
    pub seq: i64,
    /// Transaction id.
    pub id: String,
    /// `debit` or `credit`.
    pub kind: TransactionType,
    /// Amount in USDC.
    pub amount: Usdc,
    /// Always `USDC`.
    pub currency: String,
    /// Description.
    pub description: Option<String>,
    /// `pending`, `completed`, `failed` or `refunded`.
    pub status: TransactionStatus,
    /// Paying address.
    pub from_address: Option<String>,
    /// Receiving address.
    pub to_address: Option<String>,
    /// On-chain transaction hash.
    pub tx_hash: Option<String>,
    /// The agent whose credits it moved.
    pub agent_id: Option<AgentId>,
    /// Free-form metadata (`protocol`, `chainId`, `orderId`, `category`, …).
    pub metadata: serde_json::Value,
    /// Owning key (`None` for transactions the server wrote on its own).
    pub api_key_id: Option<String>,
    /// Whether it moved its agent's credits (a credit booked by an API key is a record only).
    pub credits_applied: bool,
    /// Who wrote it.
    pub origin: Origin,
    /// Creation time.
    pub created_at: Millis,
}

/// Who wrote a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Origin {
    /// Booked through `POST /api/transactions`.
    #[default]
    Api,
    /// Written by the payment engine (deliveries, refunds).
    Payment,
}

impl Origin {
    /// Stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Api => "api",
            Self::Payment => "payment",
        }
    }
}

const COLUMNS: &str = "seq, id, type, amount, currency, description, status, from_address, to_address, \
    tx_hash, agent_id, metadata, api_key_id, credits_applied, origin, created_at";

fn from_row(row: &AnyRow) -> Result<Transaction, sqlx::Error> {
    let metadata: String = row.try_get("metadata")?;
    Ok(Transaction {
        seq: row.try_get("seq")?,
        id: row.try_get("id")?,
        kind: get_word(row, "type")?,
        amount: row.try_get("amount")?,
        currency: row.try_get("currency")?,
        description: row.try_get("description")?,
        status: get_word(row, "status")?,
        from_address: row.try_get("from_address")?,
        to_address: row.try_get("to_address")?,
        tx_hash: row.try_get("tx_hash")?,
        agent_id: get_opt_agent_id(row, "agent_id")?,
        metadata: serde_json::from_str(&metadata).unwrap_or_default(),
        api_key_id: row.try_get("api_key_id")?,
        credits_applied: super::get_bool(row, "credits_applied")?,
        origin: if row.try_get::<String, _>("origin")? == "payment" { Origin::Payment } else { Origin::Api },
        created_at: row.try_get("created_at")?,
    })
}

/// Inserts a transaction (its `seq` and `created_at` are assigned here). A `txHash` its origin
/// already booked is a unique violation.
async fn insert(conn: &mut AnyConnection, t: &Transaction, now: Millis) -> StoreResult<Transaction> {
    let mut sql = Sql::insert(
        "transactions",
        vec![
            ("id", t.id.as_str().into()),
            ("api_key_id", t.api_key_id.clone().into()),
            ("type", t.kind.as_str().into()),
            ("amount", t.amount.into()),
            ("currency", t.currency.as_str().into()),
            ("description", t.description.clone().into()),
            ("status", t.status.as_str().into()),
            ("from_address", t.from_address.clone().into()),
            ("to_address", t.to_address.clone().into()),
            ("tx_hash", t.tx_hash.clone().into()),
            ("agent_id", t.agent_id.into()),
            ("metadata", t.metadata.to_string().into()),
            ("credits_applied", t.credits_applied.into()),
            ("origin", t.origin.as_str().into()),
            ("created_at", now.into()),
        ],
    );
    sql.push(&format!(" RETURNING {COLUMNS}"));
    let row = sql.fetch_returned(&mut *conn).await?;
    Ok(from_row(&row)?)
}

/// Whether any transaction already holds this (lowercase) hash.
pub async fn hash_taken(conn: &mut AnyConnection, tx_hash: &str) -> StoreResult<bool> {
    let mut sql = Sql::new("SELECT 1 AS taken FROM transactions WHERE tx_hash = ");
    sql.bind(tx_hash.to_owned());
    Ok(sql.fetch_optional(&mut *conn).await?.is_some())
}

/// Inserts a transaction, applies it to its agent's credits when `credits_applied` is set (and
/// it is completed and names an agent), re-deriving the tier, and writes its event — all in the
/// caller's transaction. Every writer of the books uses this. A change that would take the
/// balance past its bound is [`StoreError::BalanceOutOfBounds`] and must roll back.
#[tracing::instrument(skip_all)]
pub async fn record(
    conn: &mut AnyConnection,
    rules: &TierRules,
    t: &Transaction,
    now: Millis,
) -> StoreResult<Transaction> {
    let mut t = t.clone();
    t.credits_applied &= t.agent_id.is_some() && t.status == TransactionStatus::Completed;
    let stored = insert(conn, &t, now).await?;
    if let (Some(agent_id), true) = (&stored.agent_id, stored.credits_applied) {
        let delta = if stored.kind == TransactionType::Credit { stored.amount } else { stored.amount.negated() };
        credits::apply(conn, rules, *agent_id, delta, now).await?;
    }
    let payload = serde_json::json!({
        "id": stored.id, "type": stored.kind, "amount": stored.amount,
        "currency": stored.currency, "status": stored.status, "agentId": stored.agent_id, "txHash": stored.tx_hash,
        "creditsApplied": stored.credits_applied,
    });
    let mut event = NewEvent::new("transaction.created", &stored.id, &payload).owned_by(stored.api_key_id.as_deref());
    if let Some(agent_id) = &stored.agent_id {
        event = event.for_agent(*agent_id);
    }
    events::append(conn, &[event], now).await?;
    Ok(stored)
}

/// Filters of `GET /api/transactions`.
#[derive(Debug, Default, Clone)]
pub struct TransactionFilter {
    /// Only this agent's transactions.
    pub agent_id: Option<AgentId>,
    /// `debit` or `credit`.
    pub kind: Option<TransactionType>,
    /// Status.
    pub status: Option<TransactionStatus>,
    /// Created at or after.
    pub since: Option<Millis>,
    /// Created at or before.
    pub until: Option<Millis>,
}

/// A page of transactions, newest first.
pub async fn list(
    conn: &mut AnyConnection,
    filter: &TransactionFilter,
    cursor: Option<Cursor>,
    limit: usize,
) -> StoreResult<Page<Transaction>> {
    let mut sql = Sql::new(&format!("SELECT {COLUMNS} FROM transactions WHERE 1 = 1"));
    sql.and_eq("agent_id", filter.agent_id);
    sql.and_eq("type", filter.kind.map(|v| v.as_str()));
    sql.and_eq("status", filter.status.map(|v| v.as_str()));
    sql.and_cmp("created_at", ">=", filter.since);
    sql.and_cmp("created_at", "<=", filter.until);
    sql.page(cursor, limit);
    let rows = sql.fetch_all(&mut *conn).await?;
    let items = rows.iter().map(from_row).collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_rows(items, limit, |t| t.seq))
}
