//! The payment terms, computed once from the configuration: the token's EIP-712 domain, where
//! payments go, the windows and tolerances, and the claim namespace that makes one payment pay
//! one order.

use std::time::Duration;

use alloy_primitives::{Address, B256};
use x402::{Offer, TokenDomain};

use crate::config::{PaymentMode, PaymentsConfig};
use crate::domain::Usdc;

/// The payment terms.
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
    /// Whether transfer proofs are accepted (never in dev mode, which cannot see a chain).
    pub transfer_proofs: bool,
    /// Failed deliveries before a refund.
    pub delivery_attempts: i64,
    /// How long a request waits for its settlement.
    pub settlement_timeout: Duration,
}

impl Terms {
    /// Derives the terms from validated configuration.
    pub fn from_config(config: &PaymentsConfig) -> anyhow::Result<Self> {
        let chain_id = config.effective_chain_id();
        Ok(Self {
            mode: config.mode,
            token: TokenDomain {
                name: config.effective_asset_name().to_owned(),
                version: config.effective_asset_version().to_owned(),
                chain_id,
                verifying_contract: config.effective_asset().parse()?,
            },
            pay_to: config.pay_to.parse()?,
            network: x402::network::caip2(chain_id),
            order_ttl_ms: config.order_ttl_seconds as i64 * 1000,
            max_timeout_seconds: config.max_timeout_seconds,
            // A fraction in (0, 1], checked by the configuration.
            tolerance_ppm: (config.amount_tolerance * 1_000_000.0).round() as u32,
            confirmations: config.confirmations,
            transfer_proofs: config.transfer_proofs && config.mode != PaymentMode::Dev,
            delivery_attempts: i64::from(config.delivery_attempts),
            settlement_timeout: Duration::from_secs(config.settlement_timeout_seconds),
        })
    }

    /// What paying `amount` looks like to the x402 checks.
    pub fn offer(&self, amount: Usdc) -> Offer {
        Offer {
            token: self.token.clone(),
            pay_to: self.pay_to,
            amount: amount.atomic_units(),
            max_timeout_seconds: self.max_timeout_seconds,
        }
    }

    /// The claim key of an EIP-3009 authorization: `eip3009:<chain>:<asset>:<from>:<nonce>`.
    pub fn authorization_claim(&self, from: Address, nonce: &B256) -> String {
        format!("eip3009:{}:{:#x}:{:#x}:{nonce:#x}", self.token.chain_id, self.token.verifying_contract, from)
    }

    /// The authorizer and nonce of an authorization's claim key (see
    /// [`Terms::authorization_claim`]).
    pub fn parse_authorization_claim(claim_key: &str) -> Option<(Address, B256)> {
        let mut parts = claim_key.strip_prefix("eip3009:")?.split(':');
        let (_chain, _asset) = (parts.next()?, parts.next()?);
        let (from, nonce) = (parts.next()?.parse().ok()?, parts.next()?.parse().ok()?);
        parts.next().is_none().then_some((from, nonce))
    }

    /// The claim key of a payer's transfers in an on-chain transaction:
    /// `tx:<chain>:<hash>:<payer>`. Every settled payment claims one, whichever way it was paid,
    /// so a payer's money in a transaction pays at most one order. It is per payer, not per
    /// transaction: one transaction may carry the payments of several payers (a bundle, a
    /// batching relayer), and each pays its own order.
    pub fn transaction_claim(&self, tx_hash: &B256, payer: Address) -> String {
        format!("tx:{}:{tx_hash:#x}:{payer:#x}", self.token.chain_id)
    }
}
