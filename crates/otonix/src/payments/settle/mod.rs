//! Settlement of EIP-3009 payments (SPEC §5.1, §5.4): `dev` records it locally, `chain` sends
//! `transferWithAuthorization` from the relayer key, `facilitator` asks an x402 facilitator.
//!
//! Every backend answers one [`Settlement`] and never guesses: a claim may be released only on
//! [`Settlement::Failed`] (the money certainly did not move), [`Settlement::Unavailable`] or
//! [`Settlement::Superseded`] (nothing was sent). Whatever may have reached a chain is
//! [`Settlement::Pending`] until the chain says how it ended, and what a settlement waits for is
//! stored (through the [`Ledger`]) before anything is broadcast.

mod chain;
mod facilitator;
mod reader;

use std::time::Duration;

use alloy_primitives::{Address, B256, U256};
use evm_rpc::RpcClient;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use x402::ExactPayment;

use super::{Payments, Terms};
use crate::config::{PaymentMode, PaymentsConfig};
use crate::store::orders::{self, Order};
use crate::store::{StoreError, leases};
pub use chain::ChainSettler;
pub use facilitator::FacilitatorSettler;
pub use reader::{ChainReader, Fate};

/// How a settlement attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settlement {
    /// Settled by this transaction.
    Settled {
        /// The settling transaction.
        tx_hash: B256,
    },
    /// Certainly not settled: the money did not move, and this authorization will not move it
    /// through us.
    Failed {
        /// Why, for the client (never an upstream's raw text).
        reason: String,
    },
    /// Not known yet (something may have reached the chain): the claim stays and the chain
    /// decides later.
    Pending {
        /// What to look for, when it changed.
        reference: Option<SettleReference>,
    },
    /// Nothing was sent: the chain or the facilitator cannot be used now.
    Unavailable {
        /// Why, for the log.
        reason: String,
    },
    /// Nothing was sent: the order is no longer this payment's to settle (it was taken for
    /// abandoned and paid otherwise).
    Superseded,
}

/// What an unfinished settlement is waiting for, stored with the order before anything is
/// broadcast.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SettleReference {
    /// The authorizer.
    pub from: Option<Address>,
    /// The authorization nonce.
    pub nonce: Option<B256>,
    /// What the authorization pays to `payTo`: a transaction that used its nonce settled it only
    /// if it carries this transfer (the authorizer may have signed another with the same nonce).
    #[serde(default)]
    pub value: Option<U256>,
    /// From this block time (unix seconds) on, an unused authorization can never settle.
    pub valid_before: u64,
    /// The transaction we are about to send (its hash is known before it is broadcast), or the
    /// one found to have used the authorization.
    pub tx_hash: Option<B256>,
    /// The chain's height before anything was sent (where to look for the authorization's use).
    pub from_block: u64,
}

impl SettleReference {
    /// The reference of an authorization about to be settled.
    pub fn of(payment: &ExactPayment) -> Self {
        Self {
            from: Some(payment.authorization.from),
            nonce: Some(payment.authorization.nonce),
            value: Some(payment.authorization.value),
            valid_before: u64::try_from(payment.authorization.valid_before).unwrap_or(u64::MAX),
            tx_hash: None,
            from_block: 0,
        }
    }
}

/// Where a settlement writes before it does anything irrevocable: the order's reference (only
/// while this payment's claim still holds the settling order) and the relayer's lease.
pub struct Ledger<'a> {
    engine: &'a Payments,
    order_id: &'a str,
    claim_key: &'a str,
    /// The last reference stored.
    stored: std::sync::Mutex<Option<String>>,
}

/// How long a relayer lease lasts if its holder dies while sending.
const RELAYER_LEASE_MS: i64 = 60_000;

impl<'a> Ledger<'a> {
    /// The ledger of `order`, claimed by its `claim_key`.
    pub fn new(engine: &'a Payments, order: &'a Order) -> Self {
        Self { engine, order_id: &order.id, claim_key: order.claim(), stored: Default::default() }
    }

    /// The reference this settlement stored last, if any (what the order holds now).
    pub fn stored(&self) -> Option<String> {
        self.stored.lock().ok().and_then(|s| s.clone())
    }

    /// Stores `reference`. `Ok(false)` when the claim no longer holds the settling order: then
    /// nothing may be sent.
    pub async fn record(&self, reference: &SettleReference) -> Result<bool, StoreError> {
        let text = serde_json::to_string(reference).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut tx = self.engine.store.begin().await?;
        let stored =
            orders::set_settle_reference(&mut tx, self.order_id, self.claim_key, &text, self.engine.now()).await?;
        tx.commit().await?;
        if stored && let Ok(mut last) = self.stored.lock() {
            *last = Some(text);
        }
        Ok(stored)
    }

    /// Who holds the relayer's lease for this attempt (one attempt at a time, even within a
    /// process).
    fn relayer_holder(&self) -> String {
        format!("{}:{}", self.engine.holder, self.order_id)
    }

    /// Takes the lease of the relayer `address`, so that sends from replicas sharing a relayer
    /// key never read the same nonce; waits up to `wait` for another holder. False when it
    /// stayed busy.
    pub async fn lease_relayer(&self, address: Address, wait: Duration) -> Result<bool, StoreError> {
        let name = format!("relayer:{address:#x}");
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let mut tx = self.engine.store.begin().await?;
            let holder = self.relayer_holder();
            let held = leases::acquire(&mut tx, &name, &holder, RELAYER_LEASE_MS, self.engine.now()).await?;
            tx.commit().await?;
            if held {
                return Ok(true);
            }
            if tokio::time::Instant::now() >= deadline {
                return Ok(false);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Gives the relayer's lease back (a failure is logged: the lease expires by itself).
    pub async fn release_relayer(&self, address: Address) {
        let name = format!("relayer:{address:#x}");
        let released = async {
            let mut tx = self.engine.store.begin().await?;
            leases::release(&mut tx, &name, &self.relayer_holder()).await?;
            tx.commit().await?;
            Ok::<_, StoreError>(())
        };
        if let Err(error) = released.await {
            tracing::warn!(error = %error, "could not release the relayer lease; it expires by itself");
        }
    }
}

/// How payments settle, from the configuration.
pub enum Settler {
    /// Locally, without a chain.
    Dev,
    /// On the chain, from the relayer key.
    Chain(ChainSettler),
    /// Through a facilitator.
    Facilitator(FacilitatorSettler),
}

impl Settler {
    /// Builds the settler of the configured mode.
    pub fn from_config(config: &PaymentsConfig, terms: &Terms) -> anyhow::Result<Self> {
        config.validate()?;
        let timeout = Duration::from_secs(config.upstream_timeout_seconds);
        let reader = match &config.rpc_url {
            Some(url) => Some(ChainReader::new(RpcClient::new(url.expose(), timeout)?, terms)),
            None => None,
        };
        Ok(match config.mode {
            PaymentMode::Dev => Self::Dev,
            PaymentMode::Chain => {
                let key = config.relayer_key.as_ref().map(|k| k.expose()).unwrap_or_default();
                let relayer: evm_rpc::PrivateKeySigner =
                    key.parse().map_err(|_| anyhow::anyhow!("payments.relayerKey is not a private key"))?;
                let reader = reader.ok_or_else(|| anyhow::anyhow!("chain mode needs payments.rpcUrl"))?;
                Self::Chain(ChainSettler::new(reader, relayer))
            }
            PaymentMode::Facilitator => {
                if reader.is_none() {
                    tracing::warn!(
                        "facilitator mode without payments.rpcUrl: a settlement whose answer is lost (a timeout, a \
                         5xx) cannot be decided, and its order stays settling until an operator looks at it"
                    );
                }
                let url = config.facilitator_url.clone().unwrap_or_default();
                Self::Facilitator(FacilitatorSettler::new(&url, timeout, reader)?)
            }
        })
    }

    /// The chain, where there is one (transfer proofs need it).
    pub fn chain(&self) -> Option<&ChainReader> {
        match self {
            Self::Dev => None,
            Self::Chain(chain) => Some(chain.reader()),
            Self::Facilitator(facilitator) => facilitator.reader(),
        }
    }

    /// Refuses a chain whose id is not ours (see [`ChainReader::check_at_start`]).
    pub async fn check_chain(&self) -> anyhow::Result<()> {
        match self.chain() {
            Some(reader) => reader.check_at_start().await,
            None => Ok(()),
        }
    }

    /// Settles a verified, claimed payment; `ledger` stores the reference before anything
    /// irrevocable may happen.
    pub async fn settle(
        &self,
        payment: &ExactPayment,
        raw_payment: &serde_json::Value,
        requirements: &serde_json::Value,
        ledger: &Ledger<'_>,
        wait: Duration,
    ) -> Settlement {
        match self {
            Self::Dev => Settlement::Settled { tx_hash: dev_transaction(ledger.claim_key) },
            Self::Chain(chain) => chain.settle(payment, ledger, wait).await,
            Self::Facilitator(facilitator) => {
                facilitator.settle(payment, raw_payment, requirements, ledger, wait).await
            }
        }
    }

    /// Finds out how an unfinished settlement ended, waiting up to `wait` for its receipt.
    pub async fn reconcile(&self, reference: &SettleReference, wait: Duration) -> Settlement {
        match self.chain() {
            Some(reader) => reader.reconcile(reference, wait).await,
            None => {
                tracing::warn!("a settlement has an unknown outcome and no payments.rpcUrl to reconcile it from");
                Settlement::Pending { reference: None }
            }
        }
    }
}

/// The stand-in transaction hash of a dev-mode settlement: unique per payment, and recognizably
/// not from any chain to anyone who looks it up.
pub fn dev_transaction(claim_key: &str) -> B256 {
    B256::from(<[u8; 32]>::from(Sha256::digest(format!("otonix dev settlement {claim_key}"))))
}

/// An upstream's reason, fit to show a client: a short machine code, or nothing.
pub fn client_code(text: &str) -> Option<&str> {
    let ok = !text.is_empty()
        && text.len() <= 64
        && text.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    ok.then_some(text)
}
