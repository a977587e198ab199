//! The transfer proof object: its wire form (strings, `from` accepted as an alias of `payer`)
//! and its strictly parsed form.

use alloy_primitives::{Address, B256};
use serde::{Deserialize, Serialize};

use crate::parse::{PaymentSignature, parse_address, parse_order_id, parse_tx_hash};

/// A transfer proof as sent in `X-Payment` (base64 JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransferProofWire {
    /// The order being paid.
    pub order_id: String,
    /// `0x` + 32-byte transaction hash.
    pub tx_hash: String,
    /// The paying address (`from` is accepted too).
    #[serde(alias = "from")]
    pub payer: String,
    /// Optional EIP-191 signature by `payer` over `otonix order <orderId>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

/// A parsed transfer proof.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferProof {
    /// The order being paid (1–128 chars of `A-Z a-z 0-9 _ -`).
    pub order_id: String,
    /// The payment transaction.
    pub tx_hash: B256,
    /// The paying address.
    pub payer: Address,
    /// Optional EIP-191 signature by `payer` over `otonix order <orderId>`.
    pub signature: Option<PaymentSignature>,
}

impl TransferProofWire {
    /// Parses every field strictly; the error names the field.
    pub fn parse(&self) -> Result<TransferProof, String> {
        let order_id = parse_order_id(&self.order_id).map_err(|e| format!("orderId: {e}"))?;
        let tx_hash = parse_tx_hash(&self.tx_hash).map_err(|e| format!("txHash: {e}"))?;
        let payer = parse_address(&self.payer).map_err(|e| format!("payer: {e}"))?;
        let signature = self
            .signature
            .as_deref()
            .map(PaymentSignature::parse)
            .transpose()
            .map_err(|e| format!("signature: {e}"))?;
        Ok(TransferProof { order_id: order_id.to_owned(), tx_hash, payer, signature })
    }
}

impl TransferProof {
    /// The wire form (checksummed payer, lower-case hash).
    pub fn to_wire(&self) -> TransferProofWire {
        TransferProofWire {
            order_id: self.order_id.clone(),
            tx_hash: format!("0x{}", hex::encode(self.tx_hash)),
            payer: self.payer.to_checksum(None),
            signature: self.signature.as_ref().map(PaymentSignature::to_hex),
        }
    }
}
