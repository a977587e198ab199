//! Payment settings (`payments.*`, SPEC §5.1): how x402 payments are verified and settled.

use serde::{Deserialize, Serialize};

use super::{ConfigError, Secret};

/// How payments are settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PaymentMode {
    /// Every check for real; settlement recorded locally, never on a chain. The zero-config default.
    Dev,
    /// Verified and settled against an EVM JSON-RPC endpoint, from the relayer key.
    Chain,
    /// EIP-3009 payments verified and settled by an x402 facilitator.
    Facilitator,
}

impl PaymentMode {
    /// Lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Dev => "dev",
            Self::Chain => "chain",
            Self::Facilitator => "facilitator",
        }
    }

    /// Parses a lowercase name.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Dev, Self::Chain, Self::Facilitator].into_iter().find(|m| m.as_str() == text)
    }
}

/// `payments.*`. The defaults are Base mainnet USDC and the upstream treasury.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct PaymentsConfig {
    /// `dev`, `chain` or `facilitator` (`--payments-mode`, `OTONIX_PAYMENTS_MODE`).
    pub mode: PaymentMode,
    /// EVM chain id (`eip155:<chainId>`).
    pub chain_id: u64,
    /// The token contract (USDC).
    pub asset: String,
    /// The token's EIP-712 domain name (`USD Coin` on Base mainnet, `USDC` on Base Sepolia).
    pub asset_name: String,
    /// The token's EIP-712 domain version.
    pub asset_version: String,
    /// Where payments go.
    pub pay_to: String,
    /// How long a 402 order can be paid.
    pub order_ttl_seconds: u64,
    /// `maxTimeoutSeconds` offered to clients; also caps how far ahead `validBefore` may be.
    pub max_timeout_seconds: u64,
    /// Share of the price a transfer proof must carry (`0.99`).
    pub amount_tolerance: f64,
    /// Confirmations a transaction needs before it counts.
    pub confirmations: u64,
    /// JSON-RPC endpoint of the chain (`OTONIX_RPC_URL`): required in `chain` mode and for
    /// transfer proofs in `facilitator` mode.
    pub rpc_url: Option<Secret>,
    /// Private key that sends `transferWithAuthorization` in `chain` mode (`OTONIX_RELAYER_KEY`).
    pub relayer_key: Option<Secret>,
    /// Base URL of the x402 facilitator in `facilitator` mode (`OTONIX_FACILITATOR_URL`).
    pub facilitator_url: Option<String>,
    /// Failed deliveries of a settled order before it is refunded.
    pub delivery_attempts: u32,
    /// How long a request waits for its settlement before answering `payment_pending`.
    pub settlement_timeout_seconds: u64,
    /// Timeout of one call to the chain or the facilitator.
    pub upstream_timeout_seconds: u64,
    /// How often the sweep reconciles unfinished orders and delivers abandoned ones.
    pub sweep_interval_seconds: u64,
}

impl Default for PaymentsConfig {
    fn default() -> Self {
        Self {
            mode: PaymentMode::Dev,
            chain_id: 8453,
            asset: "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913".to_owned(),
            asset_name: "USD Coin".to_owned(),
            asset_version: "2".to_owned(),
            pay_to: "0x36363e573a3b5d4C22b6A64ef3080E5C101E685F".to_owned(),
            order_ttl_seconds: 900,
            max_timeout_seconds: 300,
            amount_tolerance: 0.99,
            confirmations: 2,
            rpc_url: None,
            relayer_key: None,
            facilitator_url: None,
            delivery_attempts: 5,
            settlement_timeout_seconds: 30,
            upstream_timeout_seconds: 10,
            sweep_interval_seconds: 30,
        }
    }
}

impl PaymentsConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |message: String| Err(ConfigError::Invalid(message));
        for (name, value) in [("payments.asset", &self.asset), ("payments.payTo", &self.pay_to)] {
            if crate::api::validate::parse_address(value).is_none() {
                return invalid(format!("{name} must be an EVM address"));
            }
        }
        if !(0.0..=1.0).contains(&self.amount_tolerance) || self.amount_tolerance == 0.0 {
            return invalid("payments.amountTolerance must be in (0, 1]".into());
        }
        if self.order_ttl_seconds == 0
            || self.max_timeout_seconds < 10
            || self.delivery_attempts == 0
            || self.sweep_interval_seconds == 0
        {
            return invalid(
                "payments.orderTtlSeconds, maxTimeoutSeconds (>= 10) and deliveryAttempts must be positive".into(),
            );
        }
        match self.mode {
            PaymentMode::Chain if self.rpc_url.is_none() || self.relayer_key.is_none() => {
                invalid("payments.mode = chain needs payments.rpcUrl and payments.relayerKey".into())
            }
            PaymentMode::Facilitator if self.facilitator_url.is_none() => {
                invalid("payments.mode = facilitator needs payments.facilitatorUrl".into())
            }
            _ => Ok(()),
        }
    }

    pub(super) fn resolve_secrets(&mut self, env: &dyn Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        if let Some(url) = &mut self.rpc_url {
            url.resolve("payments.rpcUrl", env)?;
        }
        if let Some(key) = &mut self.relayer_key {
            key.resolve("payments.relayerKey", env)?;
        }
        Ok(())
    }
}
