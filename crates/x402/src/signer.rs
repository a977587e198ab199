//! Client-side signing with a local private key (feature `signer`): EIP-712-sign a
//! `TransferWithAuthorization`, build a complete v1 or v2 PaymentPayload answering offered
//! requirements, and EIP-191-sign the order text of a transfer proof.
//!
//! A *client* derives the token domain from the requirements it was offered
//! ([`domain_from_requirements_v2`]); a *server* never does (it uses its own configuration).

use alloy_primitives::{Address, B256, U256};
use alloy_signer::SignerSync;
pub use alloy_signer_local::PrivateKeySigner;
use serde_json::Value;

use crate::eip712::{Authorization, TokenDomain};
use crate::network::{chain_id_v1, chain_id_v2};
use crate::parse::{PaymentSignature, parse_address, parse_amount};
use crate::proof::{TransferProof, order_message, wallet_message};
use crate::wire::{
    ExactEvmPayload, PaymentPayloadV1, PaymentPayloadV2, PaymentRequirementsV1, PaymentRequirementsV2, ResourceInfo,
};

/// How far back `validAfter` is dated, as the x402 reference client does (clock skew).
pub const VALID_AFTER_BACKDATE_SECS: u64 = 600;

/// Why a payment could not be signed.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    /// The key could not sign.
    #[error("signing failed: {0}")]
    Signer(#[from] alloy_signer::Error),
    /// The offered requirements are unusable (bad network, amount, address or `extra`).
    #[error("unusable payment requirements: {0}")]
    Requirements(String),
}

/// EIP-712-signs `authorization` under `domain`; `v` is 27 or 28.
pub fn sign_authorization(
    signer: &PrivateKeySigner,
    domain: &TokenDomain,
    authorization: &Authorization,
) -> Result<PaymentSignature, SignError> {
    let signature = signer.sign_hash_sync(&authorization.signing_hash(domain))?;
    Ok(PaymentSignature::from_signature(&signature))
}

/// An authorization from `from` paying `value` to `to`, valid from `now − 600` to
/// `now + max_timeout_seconds`, with 32 random bytes as nonce.
pub fn new_authorization(from: Address, to: Address, value: U256, now: u64, max_timeout_seconds: u64) -> Authorization {
    Authorization {
        from,
        to,
        value,
        valid_after: U256::from(now.saturating_sub(VALID_AFTER_BACKDATE_SECS)),
        valid_before: U256::from(now.saturating_add(max_timeout_seconds)),
        nonce: B256::random(),
    }
}

fn extra_string(extra: Option<&Value>, key: &str) -> Result<String, SignError> {
    extra
        .and_then(|e| e.get(key))
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| SignError::Requirements(format!("extra.{key} is missing")))
}

fn domain_from(chain_id: Option<u64>, asset: &str, extra: Option<&Value>) -> Result<TokenDomain, SignError> {
    Ok(TokenDomain {
        name: extra_string(extra, "name")?,
        version: extra_string(extra, "version")?,
        chain_id: chain_id.ok_or_else(|| SignError::Requirements("unknown network".into()))?,
        verifying_contract: parse_address(asset).map_err(|e| SignError::Requirements(format!("asset: {e}")))?,
    })
}

/// Client side: the token domain v2 requirements describe (`extra.name`, `extra.version`,
/// CAIP-2 network, `asset`).
pub fn domain_from_requirements_v2(req: &PaymentRequirementsV2) -> Result<TokenDomain, SignError> {
    domain_from(chain_id_v2(&req.network), &req.asset, req.extra.as_ref())
}

/// Client side: the token domain v1 requirements describe.
pub fn domain_from_requirements_v1(req: &PaymentRequirementsV1) -> Result<TokenDomain, SignError> {
    domain_from(chain_id_v1(&req.network), &req.asset, req.extra.as_ref())
}

fn signed_payload(
    signer: &PrivateKeySigner,
    domain: &TokenDomain,
    pay_to: &str,
    amount: &str,
    now: u64,
    max_timeout_seconds: u64,
) -> Result<ExactEvmPayload, SignError> {
    let to = parse_address(pay_to).map_err(|e| SignError::Requirements(format!("payTo: {e}")))?;
    let value = parse_amount(amount).map_err(|e| SignError::Requirements(format!("amount: {e}")))?;
    let authorization = new_authorization(signer.address(), to, value, now, max_timeout_seconds);
    let signature = sign_authorization(signer, domain, &authorization)?;
    Ok(ExactEvmPayload { signature: signature.to_hex(), authorization: authorization.to_wire() })
}

/// A complete v2 payment answering `accepted` (echoed verbatim), at time `now`.
pub fn pay_v2(
    signer: &PrivateKeySigner,
    accepted: &PaymentRequirementsV2,
    resource: Option<ResourceInfo>,
    now: u64,
) -> Result<PaymentPayloadV2, SignError> {
    let domain = domain_from_requirements_v2(accepted)?;
    let payload =
        signed_payload(signer, &domain, &accepted.pay_to, &accepted.amount, now, accepted.max_timeout_seconds)?;
    Ok(PaymentPayloadV2 { x402_version: 2, resource, accepted: accepted.clone(), payload, extensions: None })
}

/// A complete v1 payment answering `requirements`, at time `now`.
pub fn pay_v1(
    signer: &PrivateKeySigner,
    requirements: &PaymentRequirementsV1,
    now: u64,
) -> Result<PaymentPayloadV1, SignError> {
    let domain = domain_from_requirements_v1(requirements)?;
    let payload = signed_payload(
        signer,
        &domain,
        &requirements.pay_to,
        &requirements.max_amount_required,
        now,
        requirements.max_timeout_seconds,
    )?;
    Ok(PaymentPayloadV1 {
        x402_version: 1,
        scheme: requirements.scheme.clone(),
        network: requirements.network.clone(),
        payload,
    })
}

/// EIP-191 (`personal_sign`) signature over `otonix order <order_id>`.
pub fn sign_order(signer: &PrivateKeySigner, order_id: &str) -> Result<PaymentSignature, SignError> {
    let signature = signer.sign_message_sync(order_message(order_id).as_bytes())?;
    Ok(PaymentSignature::from_signature(&signature))
}

/// EIP-191 signature over `otonix wallet <agent_id> <wallet>`: proves to the server that the
/// owner of agent `agent_id` controls `wallet` (`POST /api/agents/{id}/wallet/verify`).
pub fn sign_wallet(signer: &PrivateKeySigner, agent_id: &str, wallet: Address) -> Result<PaymentSignature, SignError> {
    let signature = signer.sign_message_sync(wallet_message(agent_id, wallet).as_bytes())?;
    Ok(PaymentSignature::from_signature(&signature))
}

/// A signed transfer proof for `order_id`, paid by this key in transaction `tx_hash`.
pub fn signed_transfer_proof(
    signer: &PrivateKeySigner,
    order_id: &str,
    tx_hash: B256,
) -> Result<TransferProof, SignError> {
    Ok(TransferProof {
        order_id: order_id.to_owned(),
        tx_hash,
        payer: signer.address(),
        signature: Some(sign_order(signer, order_id)?),
    })
}
