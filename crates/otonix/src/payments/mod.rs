//! x402 payments (SPEC §5): orders and their 402 challenges, verification of EIP-3009
//! authorizations and transfer proofs, settlement (`dev`, `chain`, `facilitator`), delivery with
//! receipts, idempotent replays, and the reconciliation that finishes or refunds what a crash or
//! a lost answer left behind.
//!
//! The pure protocol rules live in the `x402` crate; this module adds the order store, the
//! atomic claims and settlement. A paid endpoint calls [`Payments::process`] and then, when it
//! gets a [`Settled`] order, performs the purchase and calls [`deliver::complete`] in the same
//! database transaction as its own writes.

pub mod canonical;
pub mod challenge;
pub mod deliver;
mod exact;
mod flow;
pub mod products;
mod proof;
pub mod reconcile;
pub mod settle;

use std::sync::Arc;
use std::time::Duration;

use alloy_primitives::{Address, U256};
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{Value, json};
use x402::{IncomingPayment, Offer, TokenDomain};

use crate::clock::Millis;
use crate::config::{PaymentMode, PaymentsConfig};
use crate::error::{ApiError, ApiResult};
use crate::money::micros_to_f64;
use crate::state::AppState;
use crate::store::orders::{self, Order};
use settle::Settler;

pub use deliver::Settled;

/// The payment terms, computed once from the configuration.
#[derive(Debug, Clone)]
pub struct Terms {
    /// The settlement mode.
    pub mode: PaymentMode,
    /// The token's EIP-712 domain (from our configuration, never from a client).
    pub token: TokenDomain,
    /// Where payments go.
    pub pay_to: Address,
    /// `eip155:<chain id>`.
    pub network: String,
    /// Order lifetime.
    pub order_ttl_ms: i64,
    /// `maxTimeoutSeconds` offered to clients.
    pub max_timeout_seconds: u64,
    /// Share of the price a transfer must carry, in parts per million.
    pub tolerance_ppm: u32,
    /// Confirmations required.
    pub confirmations: u64,
    /// Failed deliveries before a refund.
    pub delivery_attempts: i64,
    /// How long a request waits for its settlement.
    pub settlement_timeout: Duration,
}

impl Terms {
    /// Derives the terms from validated configuration.
    pub fn from_config(config: &PaymentsConfig) -> anyhow::Result<Self> {
        let address = |text: &str| -> anyhow::Result<Address> { Ok(text.parse::<Address>()?) };
        let tolerance_micros = crate::money::micros_from_f64(config.amount_tolerance)?;
        Ok(Self {
            mode: config.mode,
            token: TokenDomain {
                name: config.asset_name.clone(),
                version: config.asset_version.clone(),
                chain_id: config.chain_id,
                verifying_contract: address(&config.asset)?,
            },
            pay_to: address(&config.pay_to)?,
            network: x402::network::caip2(config.chain_id),
            order_ttl_ms: config.order_ttl_seconds as i64 * 1000,
            max_timeout_seconds: config.max_timeout_seconds,
            tolerance_ppm: u32::try_from(tolerance_micros)?,
            confirmations: config.confirmations,
            delivery_attempts: i64::from(config.delivery_attempts),
            settlement_timeout: Duration::from_secs(config.settlement_timeout_seconds),
        })
    }

    /// What paying `amount` micro-units looks like to the x402 checks.
    pub fn offer(&self, amount: i64) -> Offer {
        Offer {
            token: self.token.clone(),
            pay_to: self.pay_to,
            amount: U256::from(amount.max(0) as u64),
            max_timeout_seconds: self.max_timeout_seconds,
        }
    }

    /// The claim key of an EIP-3009 authorization: `(chain, asset, from, nonce)`.
    pub fn authorization_claim(&self, from: Address, nonce: &alloy_primitives::B256) -> String {
        format!("eip3009:{}:{:#x}:{:#x}:{nonce:#x}", self.token.chain_id, self.token.verifying_contract, from)
    }

    /// The claim key of a transaction: `(chain, tx hash)`.
    pub fn transaction_claim(&self, tx_hash: &alloy_primitives::B256) -> String {
        format!("tx:{}:{tx_hash:#x}", self.token.chain_id)
    }
}

/// The payment engine shared by the paid endpoints.
pub struct Payments {
    /// The terms.
    pub terms: Terms,
    /// How payments settle.
    pub settler: Settler,
    /// A fault to inject, for the tests of recovery (`OTONIX_FAILPOINT`). Never set in production.
    pub failpoint: Option<Failpoint>,
}

/// Faults the recovery tests inject into the real binary through `OTONIX_FAILPOINT`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failpoint {
    /// `after-settlement`: the process aborts right after a settlement is recorded.
    AfterSettlement,
    /// `fail-delivery`: every delivery of a settled order fails.
    FailDelivery,
}

impl Failpoint {
    fn from_env() -> Option<Self> {
        match std::env::var("OTONIX_FAILPOINT").ok()?.as_str() {
            "after-settlement" => Some(Self::AfterSettlement),
            "fail-delivery" => Some(Self::FailDelivery),
            _ => None,
        }
    }
}

/// A request to a paid endpoint, as its order binds it.
#[derive(Debug, Clone)]
pub struct PaidRequest {
    /// The principal: a key id, or `admin`.
    pub principal: String,
    /// HTTP method.
    pub method: String,
    /// Request path.
    pub path: String,
    /// Route with placeholders, for receipts (`POST /api/agents/:id/credits`).
    pub resource: String,
    /// Absolute URL of the resource (for the challenge).
    pub url: String,
    /// Canonical JSON body.
    pub canonical_body: String,
    /// Price in micro-USDC.
    pub amount: i64,
    /// What is bought.
    pub description: String,
}

/// What a paid request gets from [`Payments::process`].
#[derive(Debug)]
pub enum Outcome {
    /// No payment (or no usable order): answer this 402 challenge.
    Required(Response),
    /// The order was already delivered to this very request: answer the stored 201 again.
    Replay(Response),
    /// Paid: perform the purchase and deliver.
    Settled(Box<Settled>),
}

impl Payments {
    /// Builds the engine from configuration.
    pub fn from_config(config: &PaymentsConfig) -> anyhow::Result<Self> {
        let terms = Terms::from_config(config)?;
        let settler = Settler::from_config(config, &terms)?;
        if terms.mode == PaymentMode::Dev {
            tracing::warn!("payments run in dev mode: every check is real, but nothing is settled on a chain");
        }
        let failpoint = Failpoint::from_env();
        if let Some(failpoint) = failpoint {
            tracing::warn!(?failpoint, "OTONIX_FAILPOINT is set: payments will fail on purpose (tests only)");
        }
        Ok(Self { terms, settler, failpoint })
    }

    /// The public payment configuration (`GET /api/x402/config`).
    pub fn public_config(&self) -> Value {
        let t = &self.terms;
        json!({
            "x402Version": 2,
            "network": t.network,
            "chainId": t.token.chain_id,
            "asset": t.token.verifying_contract.to_checksum(None),
            "assetName": t.token.name,
            "assetVersion": t.token.version,
            "currency": "USDC",
            "decimals": 6,
            "payTo": t.pay_to.to_checksum(None),
            "schemes": ["exact"],
            "proofs": if t.mode == PaymentMode::Dev { json!(["eip3009"]) } else { json!(["eip3009", "txHash"]) },
            "mode": t.mode.as_str(),
            "orderTtlSeconds": t.order_ttl_ms / 1000,
            "maxTimeoutSeconds": t.max_timeout_seconds,
            "amountTolerance": micros_to_f64(i64::from(t.tolerance_ppm)),
            "confirmations": t.confirmations,
        })
    }

    /// Runs the payment part of a paid request: a challenge without a payment header; with one,
    /// verification, the atomic claim and settlement (or a replay of a delivered order).
    pub async fn process(&self, state: &AppState, request: &PaidRequest, headers: &HeaderMap) -> ApiResult<Outcome> {
        let Some(header) = payment_header(headers) else {
            return Ok(Outcome::Required(challenge::issue(state, request).await?));
        };
        match x402::decode_payment_header(header) {
            Ok(IncomingPayment::Exact(payment)) => exact::pay(self, state, request, &payment).await,
            Ok(IncomingPayment::TransferProof(proof)) => proof::pay(self, state, request, &proof).await,
            Err(error) => Err(ApiError::InvalidPaymentHeader(error.to_string())),
        }
    }
}

/// The payment header of a request: `PAYMENT-SIGNATURE` (v2) or `X-PAYMENT` (v1, v2, proofs).
fn payment_header(headers: &HeaderMap) -> Option<&str> {
    [x402::constants::HEADER_PAYMENT_SIGNATURE, x402::constants::HEADER_X_PAYMENT]
        .into_iter()
        .find_map(|name| headers.get(name))
        .map(|value| value.to_str().unwrap_or(""))
}

/// Checks that `order` was issued for exactly this request and can still be paid, or tells
/// what to answer instead. Returns the order when the payment flow should go on.
pub(crate) async fn check_order(
    state: &AppState,
    request: &PaidRequest,
    order: Option<Order>,
    now: Millis,
) -> ApiResult<Order> {
    let Some(order) = order else {
        return Err(ApiError::PaymentInvalid {
            reason: "unknown_order",
            message: "no such payment order; send the request without a payment header to get one".into(),
        });
    };
    let mismatch = |what: &str| ApiError::PaymentInvalid {
        reason: "order_mismatch",
        message: format!("the payment order was issued for {what}"),
    };
    if order.api_key_id != request.principal {
        return Err(mismatch("another API key"));
    }
    if order.method != request.method || order.path != request.path {
        return Err(mismatch("another resource"));
    }
    if order.body_hash != canonical::body_hash(&request.canonical_body) {
        return Err(mismatch("a different request body; retry with the same body"));
    }
    if order.amount != request.amount {
        return Err(mismatch("another amount"));
    }
    if order.status == "open" && order.expires_at < now {
        let mut tx = state.store.begin().await?;
        orders::expire(&mut tx, &order.id, now).await?;
        tx.commit().await?;
        return Err(ApiError::OrderExpired);
    }
    match order.status.as_str() {
        "expired" => Err(ApiError::OrderExpired),
        "refunded" | "failed" => Err(ApiError::PaymentInvalid {
            reason: "order_closed",
            message: format!("the payment order is {}; request again to get a new one", order.status),
        }),
        _ => Ok(order),
    }
}

/// A payment engine shared by the application.
pub type SharedPayments = Arc<Payments>;
