//! Step 1: parse the payment strictly and check version, scheme and network. The result,
//! [`ExactPayment`], carries typed values only, so later steps cannot misread a string.

use alloy_primitives::{Address, U256};
use serde_json::Value;

use crate::constants::SCHEME_EXACT;
use crate::eip712::Authorization;
use crate::network::{caip2, chain_id_v1, chain_id_v2};
use crate::parse::{PaymentSignature, parse_address, parse_amount, parse_nonce, parse_order_id};
use crate::rejection::Rejection;
use crate::wire::{Eip3009Authorization, PaymentPayload, PaymentRequirementsV2};

/// A payment that passed step 1.
#[derive(Debug, Clone, PartialEq)]
pub struct ExactPayment {
    /// 1 or 2.
    pub x402_version: u32,
    /// The chain the payment names (equal to ours after step 1).
    pub chain_id: u64,
    /// The signed message.
    pub authorization: Authorization,
    /// The signature, exactly as sent.
    pub signature: PaymentSignature,
    /// v2 only: the echoed `accepts` entry, parsed.
    pub accepted: Option<AcceptedTerms>,
}

/// A v2 `accepted` echo with its money fields parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct AcceptedTerms {
    /// The echo, verbatim.
    pub requirements: PaymentRequirementsV2,
    /// `accepted.amount`.
    pub amount: U256,
    /// `accepted.asset`.
    pub asset: Address,
    /// `accepted.payTo`.
    pub pay_to: Address,
    /// `accepted.extra.orderId`, when present.
    pub order_id: Option<String>,
}

impl ExactPayment {
    /// The payer (`authorization.from`).
    pub fn payer(&self) -> Address {
        self.authorization.from
    }

    /// The order the payment names (v2 `accepted.extra.orderId`); v1 payloads carry none.
    pub fn order_id(&self) -> Option<&str> {
        self.accepted.as_ref()?.order_id.as_deref()
    }
}

fn malformed(field: &str, error: impl std::fmt::Display) -> Rejection {
    Rejection::Malformed { detail: format!("{field}: {error}") }
}

/// Parses the six authorization strings.
pub(crate) fn parse_authorization(wire: &Eip3009Authorization) -> Result<Authorization, Rejection> {
    let field = "payload.authorization";
    Ok(Authorization {
        from: parse_address(&wire.from).map_err(|e| malformed(&format!("{field}.from"), e))?,
        to: parse_address(&wire.to).map_err(|e| malformed(&format!("{field}.to"), e))?,
        value: parse_amount(&wire.value).map_err(|e| malformed(&format!("{field}.value"), e))?,
        valid_after: parse_amount(&wire.valid_after).map_err(|e| malformed(&format!("{field}.validAfter"), e))?,
        valid_before: parse_amount(&wire.valid_before).map_err(|e| malformed(&format!("{field}.validBefore"), e))?,
        nonce: parse_nonce(&wire.nonce).map_err(|e| malformed(&format!("{field}.nonce"), e))?,
    })
}

fn parse_accepted(accepted: &PaymentRequirementsV2) -> Result<AcceptedTerms, Rejection> {
    let order_id = match accepted.extra.as_ref().and_then(|extra| extra.get("orderId")) {
        None | Some(Value::Null) => None,
        Some(Value::String(id)) => {
            Some(parse_order_id(id).map_err(|e| malformed("accepted.extra.orderId", e))?.to_owned())
        }
        Some(_) => return Err(malformed("accepted.extra.orderId", "not a string")),
    };
    Ok(AcceptedTerms {
        requirements: accepted.clone(),
        amount: parse_amount(&accepted.amount).map_err(|e| malformed("accepted.amount", e))?,
        asset: parse_address(&accepted.asset).map_err(|e| malformed("accepted.asset", e))?,
        pay_to: parse_address(&accepted.pay_to).map_err(|e| malformed("accepted.payTo", e))?,
        order_id,
    })
}

/// Step 1: well-formedness (65-byte signature, decimal strings, 32-byte nonce, parseable
/// addresses), then `x402Version`, scheme `exact`, and network = `chain_id` (v2: CAIP-2; v1:
/// legacy name or CAIP-2).
pub fn check_form(payment: &PaymentPayload, chain_id: u64) -> Result<ExactPayment, Rejection> {
    let exact = payment.exact_payload();
    let authorization = parse_authorization(&exact.authorization)?;
    let signature = PaymentSignature::parse(&exact.signature)
        .map_err(|e| Rejection::SignatureMalformed { detail: e.to_string() })?;
    let accepted = match payment {
        PaymentPayload::V1(_) => None,
        PaymentPayload::V2(p) => Some(parse_accepted(&p.accepted)?),
    };
    let (expected_version, scheme, network, named_chain) = match payment {
        PaymentPayload::V1(p) => (1, &p.scheme, &p.network, chain_id_v1(&p.network)),
        PaymentPayload::V2(p) => (2, &p.accepted.scheme, &p.accepted.network, chain_id_v2(&p.accepted.network)),
    };
    if payment.x402_version() != expected_version {
        return Err(Rejection::UnsupportedVersion { version: payment.x402_version().into() });
    }
    if scheme != SCHEME_EXACT {
        return Err(Rejection::UnsupportedScheme { scheme: scheme.clone() });
    }
    if named_chain != Some(chain_id) {
        return Err(Rejection::NetworkMismatch { network: network.clone(), expected: caip2(chain_id) });
    }
    Ok(ExactPayment { x402_version: expected_version, chain_id, authorization, signature, accepted })
}
