//! Settlement of EIP-3009 payments (SPEC §5.1, §5.4): `dev` records it locally, `chain` sends
//! `transferWithAuthorization` from the relayer key, `facilitator` asks an x402 facilitator.
//!
//! Every backend answers one of three outcomes, and never guesses: [`Settlement::Settled`],
//! [`Settlement::Failed`] (definitely not settled: the claim is released and the payer may pay
//! again), or [`Settlement::Pending`] (unknown: the claim stays, and the order is reconciled
//! from the chain before any later decision).

mod chain;
mod facilitator;

use std::time::Duration;

use alloy_primitives::{Address, B256};
use evm_rpc::RpcClient;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use x402::ExactPayment;

use super::Terms;
pub use super::flow::ReferenceSink;
use crate::config::{PaymentMode, PaymentsConfig};
pub use chain::ChainSettler;
pub use facilitator::FacilitatorSettler;

/// The outcome of a settlement attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settlement {
    /// Settled by this transaction.
    Settled {
        /// The settling transaction.
        tx_hash: String,
    },
    /// Definitely not settled.
    Failed {
        /// Why, for the client.
        reason: String,
    },
    /// Not known yet; reconcile later.
    Pending {
        /// What to look for when reconciling.
        reference: SettleReference,
    },
    /// Nothing was attempted: the chain or the facilitator cannot be reached now.
    Unavailable {
        /// Why.
        reason: String,
    },
}

/// What an unfinished settlement is waiting for, stored with the order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SettleReference {
    /// The authorizer.
    pub from: Option<Address>,
    /// The authorization nonce.
    pub nonce: Option<B256>,
    /// After this (unix seconds) an unused authorization can never settle.
    pub valid_before: u64,
    /// The transaction we sent, if we know it.
    pub tx_hash: Option<B256>,
    /// The chain's height before we sent anything (where to start looking for it).
    pub from_block: u64,
}

impl SettleReference {
    /// The reference of an authorization about to be settled.
    pub fn of(payment: &ExactPayment) -> Self {
        Self {
            from: Some(payment.authorization.from),
            nonce: Some(payment.authorization.nonce),
            valid_before: u64::try_from(payment.authorization.valid_before).unwrap_or(u64::MAX),
            tx_hash: None,
            from_block: 0,
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
        let timeout = Duration::from_secs(config.upstream_timeout_seconds);
        let rpc = match &config.rpc_url {
            Some(url) => Some(RpcClient::new(url.expose(), timeout)?),
            None => None,
        };
        Ok(match config.mode {
            PaymentMode::Dev => Self::Dev,
            PaymentMode::Chain => {
                let key = config.relayer_key.as_ref().map(|k| k.expose()).unwrap_or_default();
                let relayer: evm_rpc::PrivateKeySigner =
                    key.parse().map_err(|_| anyhow::anyhow!("payments.relayerKey is not a private key"))?;
                Self::Chain(ChainSettler::new(
                    rpc.ok_or_else(|| anyhow::anyhow!("chain mode needs an RPC URL"))?,
                    relayer,
                    terms,
                ))
            }
            PaymentMode::Facilitator => {
                let url = config.facilitator_url.clone().unwrap_or_default();
                Self::Facilitator(FacilitatorSettler::new(&url, timeout, rpc, terms)?)
            }
        })
    }

    /// The chain, where there is one (transfer proofs need it).
    pub fn rpc(&self) -> Option<&RpcClient> {
        match self {
            Self::Dev => None,
            Self::Chain(chain) => Some(chain.rpc()),
            Self::Facilitator(facilitator) => facilitator.rpc(),
        }
    }

    /// Settles a verified, claimed payment. The reference is stored through `sink` before
    /// anything irrevocable may happen (a transaction sent).
    pub async fn settle(
        &self,
        payment: &ExactPayment,
        raw_payment: &serde_json::Value,
        requirements: &serde_json::Value,
        claim_key: &str,
        wait: Duration,
        sink: &ReferenceSink,
    ) -> Settlement {
        match self {
            Self::Dev => Settlement::Settled { tx_hash: dev_transaction(claim_key) },
            Self::Chain(chain) => chain.settle(payment, wait, sink).await,
            Self::Facilitator(facilitator) => facilitator.settle(payment, raw_payment, requirements, wait, sink).await,
        }
    }

    /// Finds out how an unfinished settlement ended.
    pub async fn reconcile(&self, reference: &SettleReference, now_seconds: u64) -> Settlement {
        match self {
            Self::Dev => Settlement::Failed { reason: "dev mode settles at once; nothing to reconcile".into() },
            Self::Chain(chain) => chain.reconcile(reference, now_seconds).await,
            Self::Facilitator(facilitator) => facilitator.reconcile(reference, now_seconds).await,
        }
    }
}

/// The stand-in transaction hash of a dev-mode settlement: unique per payment, and recognizably
/// not from any chain to anyone who looks it up.
pub fn dev_transaction(claim_key: &str) -> String {
    format!("0x{}", hex::encode(Sha256::digest(format!("otonix dev settlement {claim_key}"))))
}
