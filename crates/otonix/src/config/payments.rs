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

/// Faults the recovery tests inject into the real binary (`payments.failpoint`,
/// `OTONIX_FAILPOINT`). Never set in production.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Failpoint {
    /// `after-settlement`: the process aborts right after a settlement is recorded.
    AfterSettlement,
    /// `fail-delivery`: every delivery of a settled order fails.
    FailDelivery,
}

impl Failpoint {
    /// Parses the configured name.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "after-settlement" => Some(Self::AfterSettlement),
            "fail-delivery" => Some(Self::FailDelivery),
            _ => None,
        }
    }
}

/// Base mainnet, where production payments settle.
const BASE_CHAIN_ID: u64 = 8453;
/// USDC on Base mainnet.
const BASE_USDC: &str = "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913";
/// The chain id of dev mode: no known chain has it, so a signature made for a dev-mode server is
/// never a valid authorization on a real chain.
pub const DEV_CHAIN_ID: u64 = 402_402_402;
/// The token address of dev mode (no contract: dev mode never touches a chain).
pub const DEV_ASSET: &str = "0x0000000000000000000000000000000000000402";

/// `payments.*`. Unset, the chain and token are Base mainnet USDC, except in `dev` mode, where
/// they are a chain id and token no real chain has ([`DEV_CHAIN_ID`], [`DEV_ASSET`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct PaymentsConfig {
    /// `dev`, `chain` or `facilitator` (`--payments-mode`, `OTONIX_PAYMENTS_MODE`).
    pub mode: PaymentMode,
    /// EVM chain id (`eip155:<chainId>`); see [`PaymentsConfig::effective_chain_id`].
    pub chain_id: Option<u64>,
    /// The token contract (USDC).
    pub asset: Option<String>,
    /// The token's EIP-712 domain name (`USD Coin` on Base mainnet, `USDC` on Base Sepolia).
    pub asset_name: Option<String>,
    /// The token's EIP-712 domain version.
    pub asset_version: Option<String>,
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
    /// Base URL of the x402 facilitator in `facilitator` mode (`OTONIX_FACILITATOR_URL`);
    /// credentials in it are redacted by `config print`.
    #[serde(serialize_with = "redacted_url")]
    pub facilitator_url: Option<String>,
    /// Whether payments may be proven by a transfer's hash (`txHash` proofs; never in dev mode).
    pub transfer_proofs: bool,
    /// Failed deliveries of a settled order before it is refunded.
    pub delivery_attempts: u32,
    /// How long a request waits for its settlement before answering `payment_pending`.
    pub settlement_timeout_seconds: u64,
    /// Timeout of one call to the chain or the facilitator.
    pub upstream_timeout_seconds: u64,
    /// How often the sweep reconciles unfinished orders and delivers abandoned ones.
    pub sweep_interval_seconds: u64,
    /// A fault to inject, for the recovery tests only (`OTONIX_FAILPOINT`).
    pub failpoint: Option<Failpoint>,
}

impl Default for PaymentsConfig {
    fn default() -> Self {
        Self {
            mode: PaymentMode::Dev,
            chain_id: None,
            asset: None,
            asset_name: None,
            asset_version: None,
            pay_to: "0x36363e573a3b5d4C22b6A64ef3080E5C101E685F".to_owned(),
            order_ttl_seconds: 900,
            max_timeout_seconds: 300,
            amount_tolerance: 0.99,
            confirmations: 2,
            rpc_url: None,
            relayer_key: None,
            facilitator_url: None,
            transfer_proofs: true,
            delivery_attempts: 5,
            settlement_timeout_seconds: 30,
            upstream_timeout_seconds: 10,
            sweep_interval_seconds: 30,
            failpoint: None,
        }
    }
}

/// Shows a URL without the credentials it may carry (user info, query).
fn redacted_url<S: serde::Serializer>(url: &Option<String>, serializer: S) -> Result<S::Ok, S::Error> {
    match url {
        None => serializer.serialize_none(),
        Some(url) => serializer.serialize_str(&redact_url(url)),
    }
}

/// `https://user:pw@host/path?key=…` → `https://<redacted>@host/path?<redacted>`.
pub fn redact_url(url: &str) -> String {
    let Ok(mut parsed) = reqwest::Url::parse(url) else {
        return "<redacted>".to_owned();
    };
    let had_user = !parsed.username().is_empty() || parsed.password().is_some();
    let had_query = parsed.query().is_some();
    let _ = parsed.set_username("");
    let _ = parsed.set_password(None);
    parsed.set_query(None);
    parsed.set_fragment(None);
    let mut text = parsed.to_string();
    if had_user {
        text = text.replacen("://", "://<redacted>@", 1);
    }
    if had_query {
        text.push_str("?<redacted>");
    }
    text
}

impl PaymentsConfig {
    /// The chain id in effect: the configured one, else Base mainnet, or in dev mode
    /// [`DEV_CHAIN_ID`].
    pub fn effective_chain_id(&self) -> u64 {
        self.chain_id.unwrap_or(if self.mode == PaymentMode::Dev { DEV_CHAIN_ID } else { BASE_CHAIN_ID })
    }

    /// The token contract in effect (see [`PaymentsConfig::effective_chain_id`]).
    pub fn effective_asset(&self) -> &str {
        self.asset.as_deref().unwrap_or(if self.mode == PaymentMode::Dev { DEV_ASSET } else { BASE_USDC })
    }

    /// The token's EIP-712 name in effect.
    pub fn effective_asset_name(&self) -> &str {
        self.asset_name.as_deref().unwrap_or(if self.mode == PaymentMode::Dev { "Otonix Dev USD" } else { "USD Coin" })
    }

    /// The token's EIP-712 version in effect.
    pub fn effective_asset_version(&self) -> &str {
        self.asset_version.as_deref().unwrap_or(if self.mode == PaymentMode::Dev { "1" } else { "2" })
    }

    /// Writes the effective chain and token into the unset settings (for `config print`).
    pub(super) fn settle_defaults(&mut self) {
        self.chain_id = Some(self.effective_chain_id());
        self.asset = Some(self.effective_asset().to_owned());
        self.asset_name = Some(self.effective_asset_name().to_owned());
        self.asset_version = Some(self.effective_asset_version().to_owned());
    }

    /// Checks the settings against each other.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |message: String| Err(ConfigError::Invalid(message));
        for (name, value) in [("payments.asset", self.effective_asset()), ("payments.payTo", &self.pay_to)] {
            if crate::domain::EvmAddress::parse(value).is_none() {
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
            PaymentMode::Facilitator if self.rpc_url.is_none() && self.transfer_proofs => invalid(
                "payments.mode = facilitator with transfer proofs needs payments.rpcUrl (to read transfers and to \
                 reconcile a settlement whose answer was lost); set it, or set payments.transferProofs = false"
                    .into(),
            ),
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
