//! [`Rejection`]: why a payment or transfer proof was refused, as a stable snake_case
//! [`code`](Rejection::code) for machines and a [`message`](Rejection::message) for people.
//!
//! [`is_pending`](Rejection::is_pending) separates "not yet" (retry later, keep the order
//! open) from definite failures.

use alloy_primitives::{Address, U256};

/// Why a payment was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    // ---- EIP-3009 payments, step 1: form, version, scheme, network
    /// A field is missing or not in its strict format.
    #[error("malformed payment: {detail}")]
    Malformed {
        /// Which field and what was wrong.
        detail: String,
    },
    /// `x402Version` is not 1 or 2.
    #[error("unsupported x402Version {version} (1 or 2 are supported)")]
    UnsupportedVersion {
        /// The version sent.
        version: u64,
    },
    /// The scheme is not `exact`.
    #[error("unsupported scheme '{scheme}' (only 'exact' is supported)")]
    UnsupportedScheme {
        /// The scheme sent.
        scheme: String,
    },
    /// The network is not ours.
    #[error("network '{network}' does not match {expected}")]
    NetworkMismatch {
        /// The network sent.
        network: String,
        /// Ours, as CAIP-2.
        expected: String,
    },
    /// The signature is not `0x` + 65 bytes.
    #[error("malformed signature: {detail}")]
    SignatureMalformed {
        /// What was wrong.
        detail: String,
    },
    // ---- step 3: terms
    /// The v2 `accepted` echo differs from what we offered.
    #[error("accepted requirements do not match the offer ({field} differs)")]
    AcceptedMismatch {
        /// The first field that differs.
        field: &'static str,
    },
    /// `authorization.to` is not our `payTo`.
    #[error("authorization pays {to}, not {pay_to}")]
    RecipientMismatch {
        /// The signed recipient.
        to: Address,
        /// Ours.
        pay_to: Address,
    },
    /// `authorization.value` is not exactly the price.
    #[error("authorization value {value} does not equal the required amount {amount}")]
    AmountMismatch {
        /// The signed value.
        value: U256,
        /// The price.
        amount: U256,
    },
    /// The token is not ours.
    #[error("asset {asset} is not {expected}")]
    AssetMismatch {
        /// The asset named by the client.
        asset: Address,
        /// Ours.
        expected: Address,
    },
    // ---- step 4: time window
    /// `validAfter` is in the future.
    #[error("authorization is not valid before {valid_after} (now {now})")]
    NotYetValid {
        /// Signed `validAfter`.
        valid_after: U256,
        /// Server time.
        now: u64,
    },
    /// `validBefore` leaves too little time to settle.
    #[error("authorization expires at {valid_before}, before the earliest allowed {earliest}")]
    ExpiresTooSoon {
        /// Signed `validBefore`.
        valid_before: U256,
        /// `now + 6`.
        earliest: u64,
    },
    /// `validBefore` is further out than the offer allows.
    #[error("authorization expires at {valid_before}, after the latest allowed {latest}")]
    ExpiresTooLate {
        /// Signed `validBefore`.
        valid_before: U256,
        /// `now + maxTimeoutSeconds + 60`.
        latest: u64,
    },
    // ---- step 5: signature
    /// `s` is above secp256k1n/2 (malleable; USDC reverts).
    #[error("signature has a high s value")]
    SignatureHighS,
    /// `v` is not 27 or 28.
    #[error("signature v is {v}, not 27 or 28")]
    SignatureBadV {
        /// The `v` byte sent.
        v: u8,
    },
    /// No public key can be recovered (e.g. r or s is zero or out of range).
    #[error("signature is invalid")]
    SignatureInvalid,
    /// The signature recovers to someone other than `from`.
    #[error("signature was made by {recovered}, not by {from}")]
    SignatureMismatch {
        /// Recovered signer.
        recovered: Address,
        /// Claimed payer.
        from: Address,
    },
    // ---- transfer proofs
    /// No receipt yet (unknown or not mined): retry later.
    #[error("transaction is not mined yet")]
    TransactionPending,
    /// Mined but not deep enough yet: retry later.
    #[error("transaction has {confirmations} of {required} confirmations")]
    PendingConfirmations {
        /// Confirmations now.
        confirmations: u64,
        /// Confirmations required.
        required: u64,
    },
    /// The transaction reverted.
    #[error("transaction failed on chain")]
    TransactionFailed,
    /// No transfer of our asset from the payer to `payTo` in the receipt.
    #[error("transaction contains no transfer of the asset from the payer to payTo")]
    NoMatchingTransfer,
    /// The transfers add up to less than the tolerated minimum.
    #[error("transaction paid {paid}, less than the required {required}")]
    Underpaid {
        /// Sum of matching transfers.
        paid: U256,
        /// Minimum accepted.
        required: U256,
    },
    /// The payment's block is older than the order (minus 120 s).
    #[error("transaction was mined at {block_timestamp}, before the order ({earliest})")]
    PaidBeforeOrder {
        /// Block timestamp.
        block_timestamp: u64,
        /// Order creation − 120 s.
        earliest: u64,
    },
    /// The payer is not the requester's wallet and the proof carries no signature.
    #[error("payer {payer} is not a wallet of the requester and the proof is not signed by it")]
    PayerNotBound {
        /// Claimed payer.
        payer: Address,
    },
    /// The proof's `signature` cannot be recovered.
    #[error("payer signature is invalid")]
    PayerSignatureInvalid,
    /// The proof's `signature` was not made by `payer`.
    #[error("payer signature was made by {recovered}, not by {payer}")]
    PayerSignatureMismatch {
        /// Recovered signer.
        recovered: Address,
        /// Claimed payer.
        payer: Address,
    },
}

impl Rejection {
    /// Stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Malformed { .. } => "malformed",
            Self::UnsupportedVersion { .. } => "unsupported_version",
            Self::UnsupportedScheme { .. } => "unsupported_scheme",
            Self::NetworkMismatch { .. } => "network_mismatch",
            Self::SignatureMalformed { .. } => "signature_malformed",
            Self::AcceptedMismatch { .. } => "accepted_mismatch",
            Self::RecipientMismatch { .. } => "recipient_mismatch",
            Self::AmountMismatch { .. } => "amount_mismatch",
            Self::AssetMismatch { .. } => "asset_mismatch",
            Self::NotYetValid { .. } => "not_yet_valid",
            Self::ExpiresTooSoon { .. } => "expires_too_soon",
            Self::ExpiresTooLate { .. } => "expires_too_late",
            Self::SignatureHighS => "signature_high_s",
            Self::SignatureBadV { .. } => "signature_bad_v",
            Self::SignatureInvalid => "signature_invalid",
            Self::SignatureMismatch { .. } => "signature_mismatch",
            Self::TransactionPending => "transaction_pending",
            Self::PendingConfirmations { .. } => "pending_confirmations",
            Self::TransactionFailed => "transaction_failed",
            Self::NoMatchingTransfer => "no_matching_transfer",
            Self::Underpaid { .. } => "underpaid",
            Self::PaidBeforeOrder { .. } => "paid_before_order",
            Self::PayerNotBound { .. } => "payer_not_bound",
            Self::PayerSignatureInvalid => "payer_signature_invalid",
            Self::PayerSignatureMismatch { .. } => "payer_signature_mismatch",
        }
    }

    /// Human-readable explanation (safe to show the client: no secrets, only what it sent).
    pub fn message(&self) -> String {
        self.to_string()
    }

    /// True when waiting may fix it (no receipt yet, too few confirmations).
    pub fn is_pending(&self) -> bool {
        matches!(self, Self::TransactionPending | Self::PendingConfirmations { .. })
    }

    /// The closest reason from the x402 spec's list (for `errorReason`/`invalidReason`).
    pub fn x402_reason(&self) -> &'static str {
        match self {
            Self::Malformed { .. } | Self::SignatureMalformed { .. } => "invalid_payload",
            Self::UnsupportedVersion { .. } => "invalid_x402_version",
            Self::UnsupportedScheme { .. } => "unsupported_scheme",
            Self::NetworkMismatch { .. } => "invalid_network",
            Self::AcceptedMismatch { .. } | Self::AssetMismatch { .. } => "invalid_payment_requirements",
            Self::RecipientMismatch { .. } => "invalid_exact_evm_payload_recipient_mismatch",
            Self::AmountMismatch { .. } => "invalid_exact_evm_payload_authorization_value_mismatch",
            Self::NotYetValid { .. } => "invalid_exact_evm_payload_authorization_valid_after",
            Self::ExpiresTooSoon { .. } | Self::ExpiresTooLate { .. } => {
                "invalid_exact_evm_payload_authorization_valid_before"
            }
            Self::SignatureHighS
            | Self::SignatureBadV { .. }
            | Self::SignatureInvalid
            | Self::SignatureMismatch { .. }
            | Self::PayerNotBound { .. }
            | Self::PayerSignatureInvalid
            | Self::PayerSignatureMismatch { .. } => "invalid_exact_evm_payload_signature",
            Self::TransactionPending
            | Self::PendingConfirmations { .. }
            | Self::TransactionFailed
            | Self::NoMatchingTransfer
            | Self::Underpaid { .. }
            | Self::PaidBeforeOrder { .. } => "invalid_transaction_state",
        }
    }
}
