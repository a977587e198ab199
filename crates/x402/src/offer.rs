//! [`Offer`]: what the server asks for one order (token domain, recipient, exact amount,
//! authorization lifetime), built from the server's own configuration, and the v1/v2
//! `accepts` entries that advertise it.

use alloy_primitives::{Address, U256};
use serde_json::{Map, Value, json};

use crate::constants::SCHEME_EXACT;
use crate::eip712::TokenDomain;
use crate::network::{caip2, v1_network_for};
use crate::wire::{PaymentRequirementsV1, PaymentRequirementsV2};

/// The terms of one payment, from the server's configuration and the order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    /// The token (its EIP-712 domain: name, version, chain id, contract).
    pub token: TokenDomain,
    /// Recipient.
    pub pay_to: Address,
    /// Exact price in atomic units.
    pub amount: U256,
    /// Lifetime the client should give its authorization.
    pub max_timeout_seconds: u64,
}

impl Offer {
    /// The chain id.
    pub fn chain_id(&self) -> u64 {
        self.token.chain_id
    }

    /// The token contract.
    pub fn asset(&self) -> Address {
        self.token.verifying_contract
    }

    /// The CAIP-2 network id, e.g. `eip155:8453`.
    pub fn network(&self) -> String {
        caip2(self.token.chain_id)
    }

    /// `extra` advertised to clients: the token's domain name and version, plus `orderId`.
    pub fn extra(&self, order_id: Option<&str>) -> Value {
        let mut extra = Map::new();
        extra.insert("name".into(), json!(self.token.name));
        extra.insert("version".into(), json!(self.token.version));
        if let Some(order_id) = order_id {
            extra.insert("orderId".into(), json!(order_id));
        }
        Value::Object(extra)
    }

    /// The v2 `accepts` entry for this offer.
    pub fn requirements_v2(&self, order_id: Option<&str>) -> PaymentRequirementsV2 {
        PaymentRequirementsV2 {
            scheme: SCHEME_EXACT.to_owned(),
            network: self.network(),
            amount: self.amount.to_string(),
            asset: self.asset().to_checksum(None),
            pay_to: self.pay_to.to_checksum(None),
            max_timeout_seconds: self.max_timeout_seconds,
            extra: Some(self.extra(order_id)),
        }
    }

    /// The v1 `accepts` entry for this offer (legacy network name when one exists).
    pub fn requirements_v1(&self, resource: &str, description: &str, mime_type: Option<&str>) -> PaymentRequirementsV1 {
        PaymentRequirementsV1 {
            scheme: SCHEME_EXACT.to_owned(),
            network: v1_network_for(self.token.chain_id),
            max_amount_required: self.amount.to_string(),
            resource: resource.to_owned(),
            description: description.to_owned(),
            mime_type: mime_type.map(str::to_owned),
            output_schema: None,
            pay_to: self.pay_to.to_checksum(None),
            max_timeout_seconds: self.max_timeout_seconds,
            asset: self.asset().to_checksum(None),
            extra: Some(self.extra(None)),
        }
    }
}
