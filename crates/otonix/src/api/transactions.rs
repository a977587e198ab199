//! Transactions (SPEC §4.6): the books. A completed debit with an agent moves its credits and
//! re-derives its tier in the same database transaction; so does a credit, when the admin books
//! it. A credit booked by an API key is a record only (`creditsApplied: false`): keys are held by
//! autonomous agents, which must not mint the credits the platform spends with real money.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::ApiJson;
use super::list::ListQuery;
use super::references::{owned_agent, owner_for};
use super::validate::Check;
use crate::auth::Principal;
use crate::clock::Millis;
use crate::domain::heartbeat::ADMIN_OWNER;
use crate::domain::{AgentId, TransactionStatus, TransactionType, Usdc};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::sanitize::{mask_address, mask_addresses_in};
use crate::state::AppState;
use crate::store::transactions::{self, Origin, Transaction, TransactionFilter};
use crate::store::{StoreError, Tx, Unique, new_id};
use crate::wire;

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create_transaction, list_transactions))
}

/// Largest single transaction: one billion USDC.
const MAX_AMOUNT: Usdc = Usdc::whole(1_000_000_000);

/// Body of `POST /api/transactions`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateTransactionRequest {
    /// `credit` or `debit`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Amount in USDC, positive, at most 6 decimals.
    pub amount: Option<f64>,
    /// `USDC` (the default and only currency).
    pub currency: Option<String>,
    /// Description, at most 2,000 characters.
    pub description: Option<String>,
    /// `completed` (default), `pending`, `failed` or `refunded`.
    pub status: Option<String>,
    /// Paying address.
    pub from_address: Option<String>,
    /// Receiving address.
    pub to_address: Option<String>,
    /// On-chain transaction hash (0x + 64 hex), unique.
    pub tx_hash: Option<String>,
    /// Agent whose credits move (must be the caller's).
    pub agent_id: Option<String>,
    /// Free-form metadata object, at most 4 KiB.
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<serde_json::Value>,
}

/// The transaction object as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Transaction)]
pub struct TransactionView {
    /// Transaction id.
    pub id: String,
    /// `debit` or `credit`.
    #[serde(rename = "type")]
    pub kind: TransactionType,
    /// Amount in USDC.
    #[schema(value_type = f64)]
    pub amount: Usdc,
    /// Always `USDC`.
    pub currency: String,
    /// Description.
    pub description: Option<String>,
    /// `pending`, `completed`, `failed` or `refunded`.
    pub status: TransactionStatus,
    /// Paying address (masked in sanitized views).
    pub from_address: Option<String>,
    /// Receiving address (masked in sanitized views).
    pub to_address: Option<String>,
    /// On-chain transaction hash.
    pub tx_hash: Option<String>,
    /// The agent whose credits it moved.
    #[schema(value_type = Option<String>)]
    pub agent_id: Option<AgentId>,
    /// Free-form metadata (`protocol`, `chainId`, `orderId`, `category`, …).
    #[schema(value_type = Object)]
    pub metadata: serde_json::Value,
    /// Owning key (`None` for transactions the server wrote on its own).
    pub api_key_id: Option<String>,
    /// Whether it moved its agent's credits (a credit booked by an API key is a record only).
    pub credits_applied: bool,
    /// Creation time.
    #[serde(serialize_with = "wire::timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Millis,
}

impl TransactionView {
    /// The full view (its owner, the admin).
    pub fn full(t: Transaction) -> Self {
        Self {
            id: t.id,
            kind: t.kind,
            amount: t.amount,
            currency: t.currency,
            description: t.description,
            status: t.status,
            from_address: t.from_address,
            to_address: t.to_address,
            tx_hash: t.tx_hash,
            agent_id: t.agent_id,
            metadata: t.metadata,
            api_key_id: t.api_key_id,
            credits_applied: t.credits_applied,
            created_at: t.created_at,
        }
    }

    /// The view for `principal`: for other keys the addresses masked, in the metadata too
    /// (SPEC §3.4).
    pub fn for_principal(t: Transaction, principal: &Principal) -> Self {
        let owned = principal.owns(t.api_key_id.as_deref().unwrap_or(ADMIN_OWNER));
        let mut view = Self::full(t);
        if !owned {
            view.from_address = view.from_address.as_deref().map(mask_address);
            view.to_address = view.to_address.as_deref().map(mask_address);
            mask_addresses_in(&mut view.metadata);
        }
        view
    }
}

/// Records a transaction, with its effect on the agent's credits (a key's credit: none).
#[utoipa::path(post, path = "/api/transactions", tag = "transactions", request_body = CreateTransactionRequest,
    security(("apiKey" = []), ("adminToken" = [])),
    responses((status = 201, body = TransactionView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 409, description = "txHash already recorded", body = ErrorBody)))]
pub async fn create_transaction(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<CreateTransactionRequest>,
) -> ApiResult<(StatusCode, Json<TransactionView>)> {
    principal.require_authenticated()?;
    let mut check = Check::new();
    let kind = check.required("type", body.kind);
    let kind = check.word::<TransactionType>("type", kind);
    let amount = check.required("amount", body.amount);
    let amount = check.money("amount", amount, Usdc::MICRO, MAX_AMOUNT);
    check.one_of("currency", body.currency, &["USDC"]);
    let description = check.text("description", body.description, 2000);
    let status = check.word("status", body.status).unwrap_or(TransactionStatus::Completed);
    let from_address = check.address("fromAddress", body.from_address);
    let to_address = check.address("toAddress", body.to_address);
    let tx_hash = body.tx_hash.and_then(|hash| {
        let ok = hash.len() == 66 && hash.starts_with("0x") && hash[2..].bytes().all(|b| b.is_ascii_hexdigit());
        if !ok {
            check.fail("txHash", "must be 0x followed by 64 hex characters");
        }
        ok.then(|| hash.to_ascii_lowercase())
    });
    let agent_id = check.agent_id("agentId", body.agent_id);
    let metadata = match body.metadata {
        None | Some(serde_json::Value::Null) => serde_json::json!({}),
        Some(value @ serde_json::Value::Object(_)) if value.to_string().len() <= 4096 => value,
        Some(serde_json::Value::Object(_)) => {
            check.fail("metadata", "must be at most 4096 bytes of JSON");
            serde_json::json!({})
        }
        Some(_) => {
            check.fail("metadata", "must be an object");
            serde_json::json!({})
        }
    };
    let (kind, amount) = check.finish_with((kind, amount))?;

    let now = state.now();
    let mut tx = state.store.begin().await?;
    let agent = match &agent_id {
        Some(id) => Some(owned_agent(&mut tx, &principal, "agentId", *id).await?),
        None => None,
    };
    if let Some(hash) = &tx_hash
        && transactions::hash_taken(&mut tx, hash).await?
    {
        return Err(duplicate_hash());
    }
    let credits_applied = kind == TransactionType::Debit || principal.is_admin();
    let transaction = Transaction {
        seq: 0,
        id: new_id(),
        kind,
        amount,
        currency: "USDC".into(),
        description,
        status,
        from_address,
        to_address,
        tx_hash,
        agent_id,
        metadata,
        api_key_id: Some(owner_for(&principal, agent.as_ref())),
        credits_applied,
        origin: Origin::Api,
        created_at: now,
    };
    let stored = record(&state, &mut tx, &transaction, "amount").await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(TransactionView::full(stored))))
}

/// Records a transaction with its effects (see [`transactions::record`]): a taken `txHash` is 409,
/// a balance pushed past its bound a 400 naming `amount_field`.
pub async fn record(
    state: &AppState,
    tx: &mut Tx,
    transaction: &Transaction,
    amount_field: &str,
) -> ApiResult<Transaction> {
    transactions::record(tx, &state.tiers, transaction, state.now()).await.map_err(|e| match e {
        e if e.violates(Unique::BookedTxHash) => duplicate_hash(),
        StoreError::BalanceOutOfBounds => ApiError::field(amount_field, Usdc::BEYOND_BOUND),
        e => e.into(),
    })
}

fn duplicate_hash() -> ApiError {
    ApiError::Conflict("a transaction with this txHash is already recorded".into())
}

/// Lists transactions, newest first; other keys' addresses masked.
#[utoipa::path(get, path = "/api/transactions", tag = "transactions",
    params(("agentId" = Option<String>, Query, description = "Agent id"), ("type" = Option<TransactionType>, Query, description = "Direction"),
           ("status" = Option<TransactionStatus>, Query, description = "Status"), ("since" = Option<String>, Query, description = "RFC 3339, inclusive"),
           ("until" = Option<String>, Query, description = "RFC 3339, inclusive"),
           ("limit" = Option<usize>, Query, description = "Page size, 1–1000 (default 100)"), ("cursor" = Option<String>, Query, description = "Next page")),
    responses((status = 200, body = Vec<TransactionView>), (status = 400, body = ErrorBody)))]
pub async fn list_transactions(
    State(state): State<AppState>,
    principal: Principal,
    mut query: ListQuery,
) -> ApiResult<Response> {
    let filter = TransactionFilter {
        agent_id: query.agent_id("agentId"),
        kind: query.word("type"),
        status: query.word("status"),
        since: query.timestamp("since"),
        until: query.timestamp("until"),
    };
    query.finish()?;
    let mut conn = state.store.read().await?;
    let page = transactions::list(&mut conn, &filter, query.cursor, query.limit).await?;
    Ok(query.respond(page.map(|t| TransactionView::for_principal(t, &principal))))
}
