//! The x402 payment engine (SPEC §5): orders and their challenges, verification of EIP-3009
//! authorizations and transfer proofs, atomic claims, settlement (`dev`, `chain`,
//! `facilitator`), delivery with receipts, idempotent replays, and the sweep that finishes or
//! refunds what a crash or a lost answer left behind.
//!
//! A paid endpoint parses its request into a [`Product`]'s parameters and calls
//! [`Payments::process`]; it gets an [`Outcome`] (a challenge, a delivery, a replay, a pending
//! settlement, a refund) and `api/` turns it into HTTP. The engine needs only the store, the
//! clock, the terms and a settler; the pure protocol rules live in the `x402` crate.
//!
//! One payment pays one order: every payment is claimed under a unique key before anything
//! irrevocable happens (`eip3009:…` for an authorization, `tx:…` for a transaction), and every
//! settled payment also claims its transaction in the database transaction that marks the order
//! settled. A claim is released only when the money certainly did not move (see `flow`).

pub mod canonical;
mod challenge;
mod deliver;
mod exact;
mod flow;
mod order;
mod products;
mod proof;
mod refund;
pub mod settle;
mod sweep;
mod terms;

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use serde_json::{Value, json};
use x402::IncomingPayment;

pub use challenge::Challenge;
pub use products::{Product, Products, Quote};
pub use sweep::SweepReport;
pub use terms::Terms;

use crate::clock::{Millis, SharedClock};
use crate::config::{Failpoint, PaymentsConfig};
use crate::domain::survival::TierRules;
use crate::domain::{AgentId, TransactionStatus, TransactionType};
use crate::error::{ApiError, ApiResult};
use crate::store::orders::Order;
use crate::store::transactions::{self, Origin, Transaction};
use crate::store::{Store, Tx, new_id};
use settle::Settler;

/// The payment engine shared by the paid endpoints and the sweep.
pub struct Payments {
    terms: Terms,
    settler: Settler,
    products: Products,
    store: Store,
    clock: SharedClock,
    tiers: TierRules,
    failpoint: Option<Failpoint>,
    sweep_interval: Duration,
    /// This process, as the holder of leases.
    holder: String,
}

/// The request a paid endpoint serves, as its order binds it (SPEC §5.3).
#[derive(Debug, Clone)]
pub struct PaidRequest {
    /// The principal: a key id, or `admin`.
    pub principal: String,
    /// HTTP method.
    pub method: String,
    /// Request path.
    pub path: String,
    /// Absolute URL of the resource (for the challenge).
    pub url: String,
    /// Canonical JSON body ([`canonical::canonical_json`]).
    pub canonical_body: String,
}

/// What a paid request gets.
#[derive(Debug)]
pub enum Outcome {
    /// No payment: a new order, to be answered with a 402 challenge.
    Challenge(Challenge),
    /// Paid and delivered now.
    Delivered(Paid),
    /// Delivered before, to this very payment: the stored answer.
    Replayed(Paid),
    /// The payment is not settled yet: retry the same request with the same payment.
    Pending {
        /// Seconds to wait.
        retry_after: u64,
        /// Why, for the client.
        message: String,
    },
    /// Paid, but the delivery failed for good: the amount was refunded.
    Refunded {
        /// What happened, for the client.
        message: String,
    },
}

/// A delivered order's answer.
#[derive(Debug, Clone)]
pub struct Paid {
    /// The 201 body, with its `receipt`.
    pub body: Value,
    /// The x402 settlement response (`PAYMENT-RESPONSE`): `{ success, transaction, network, payer }`.
    pub settlement: Value,
}

/// What the books record for a delivered order.
#[derive(Debug, Clone)]
pub struct Booking {
    /// `credit` (credits bought) or `debit` (something bought).
    pub kind: TransactionType,
    /// `credits`, `domain`, `vps` or `compute`.
    pub category: &'static str,
    /// The agent the purchase is for.
    pub agent_id: Option<AgentId>,
    /// Description.
    pub description: String,
    /// Whether the booking moves the agent's credits (credits bought do; a domain paid in USDC
    /// does not).
    pub moves_credits: bool,
}

/// A deferred quote: computed only when an open order needs it.
type QuoteFn<'a> = &'a (dyn Fn() -> Pin<Box<dyn Future<Output = ApiResult<Quote>> + Send + 'a>> + Sync);

/// After this long, a `settling` order that never stored a settlement reference was abandoned
/// (a crash between the claim and the settlement): nothing was broadcast, since a reference is
/// stored before anything is, so it can be reopened.
const ABANDONED_AFTER_MS: i64 = 120_000;

impl Payments {
    /// Builds the engine from configuration, selling `products`.
    pub fn new(
        config: &PaymentsConfig,
        products: Products,
        store: Store,
        clock: SharedClock,
        tiers: TierRules,
    ) -> anyhow::Result<Self> {
        let terms = Terms::from_config(config)?;
        let settler = Settler::from_config(config, &terms)?;
        if terms.mode == crate::config::PaymentMode::Dev {
            tracing::warn!(
                chain_id = terms.token.chain_id,
                "payments run in dev mode: every check is real, but nothing is settled on a chain"
            );
        }
        if let Some(failpoint) = config.failpoint {
            tracing::warn!(?failpoint, "payments.failpoint is set: payments will fail on purpose (tests only)");
        }
        Ok(Self {
            terms,
            settler,
            products,
            store,
            clock,
            tiers,
            failpoint: config.failpoint,
            sweep_interval: Duration::from_secs(config.sweep_interval_seconds),
            holder: new_id(),
        })
    }

    /// Checks that the RPC endpoint serves the configured chain. A mismatch refuses to start; an
    /// endpoint that cannot be reached now is checked again before it is first used.
    pub async fn check_chain(&self) -> anyhow::Result<()> {
        self.settler.check_chain().await
    }

    /// The terms in effect.
    pub fn terms(&self) -> &Terms {
        &self.terms
    }

    /// The database.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The current time.
    pub fn now(&self) -> Millis {
        self.clock.now_ms()
    }

    /// How often the sweep runs.
    pub fn sweep_interval(&self) -> Duration {
        self.sweep_interval
    }

    /// The payment part of a paid request: a challenge without a payment header; with one,
    /// verification, the atomic claim, settlement and delivery (or a replay).
    #[tracing::instrument(skip_all, fields(product = P::NAME))]
    pub async fn process<P: Product>(
        &self,
        product: &P,
        request: &PaidRequest,
        params: &P::Params,
        payment: Option<&str>,
    ) -> ApiResult<Outcome> {
        let quote =
            || -> Pin<Box<dyn Future<Output = ApiResult<Quote>> + Send + '_>> { Box::pin(product.quote(self, params)) };
        let Some(header) = payment else {
            let quote = quote().await?;
            let params = serde_json::to_string(params).map_err(ApiError::internal)?;
            return challenge::issue(self, request, P::NAME, P::RESOURCE, &quote, params).await.map(Outcome::Challenge);
        };
        match x402::decode_payment_header(header) {
            Ok(IncomingPayment::Exact(payment)) => exact::pay(self, request, &quote, &payment).await,
            Ok(IncomingPayment::TransferProof(proof)) => proof::pay(self, request, &proof, P::TOLERANT).await,
            Err(error) => Err(ApiError::InvalidPaymentHeader(error.to_string())),
        }
    }

    /// Refunds, in `tx` and at most once, a delivered order whose purchase then failed upstream
    /// (see [`refund::refund_delivered`]). False when there was nothing to refund.
    pub async fn refund_delivered(&self, tx: &mut Tx, order_id: &str, why: &str) -> ApiResult<bool> {
        refund::refund_delivered(self, tx, order_id, why).await
    }

    /// Books a delivered order in `tx`: a `transactions` row with the settlement's hash (unique
    /// among the engine's own rows), moving the agent's credits when the booking says so.
    pub async fn book(&self, tx: &mut Tx, order: &Order, booking: &Booking) -> ApiResult<Transaction> {
        let terms = &self.terms;
        let transaction = Transaction {
            seq: 0,
            id: new_id(),
            kind: booking.kind,
            amount: order.amount,
            currency: "USDC".into(),
            description: Some(booking.description.clone()),
            status: TransactionStatus::Completed,
            from_address: order.payer.clone(),
            to_address: Some(terms.pay_to.to_checksum(None)),
            tx_hash: order.tx_hash.clone(),
            agent_id: booking.agent_id,
            metadata: json!({
                "protocol": "x402",
                "chainId": terms.token.chain_id,
                "orderId": order.id,
                "settlementTx": order.tx_hash,
                "category": booking.category,
                "scheme": order.scheme,
                "mode": terms.mode.as_str(),
            }),
            api_key_id: Some(order.api_key_id.clone()),
            credits_applied: booking.moves_credits,
            origin: Origin::Payment,
            created_at: self.now(),
        };
        Ok(transactions::record(tx, &self.tiers, &transaction, self.now()).await?)
    }
}
