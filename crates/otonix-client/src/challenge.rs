//! Reading a 402 answer: the x402 v2 `PAYMENT-REQUIRED` header when present, else the JSON body
//! (Otonix's body of SPEC §5.3, or an x402 v1 body), and the terms of an on-chain transfer.

use alloy_primitives::{Address, U256};
use serde_json::Value;
use x402::constants::{HEADER_PAYMENT_REQUIRED, SCHEME_EXACT};
use x402::network::{chain_id_v1, chain_id_v2};
use x402::parse::{parse_address, parse_amount};
use x402::wire::{PaymentRequiredV2, PaymentRequirements, ResourceInfo};

use crate::client::ApiResponse;

/// What a 402 asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct Challenge {
    /// The offered requirements (v2 from the header, v1 or v2 from a body).
    pub accepts: Vec<PaymentRequirements>,
    /// The v2 `resource`, when given.
    pub resource: Option<ResourceInfo>,
    /// The v2 `extensions`, echoed in the payment.
    pub extensions: Option<Value>,
    /// The 402's JSON body (Otonix puts `orderId`, `payTo`, `amount`, … there).
    pub body: Value,
}

/// What an on-chain transfer proof pays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferTerms {
    /// The order being paid.
    pub order_id: String,
    /// Recipient.
    pub pay_to: Address,
    /// Token contract.
    pub asset: Address,
    /// Atomic units.
    pub amount: U256,
    /// Chain id.
    pub chain_id: u64,
}

impl Challenge {
    /// Reads the challenge of a 402: the `PAYMENT-REQUIRED` header first, else the body.
    pub fn from_response(response: &ApiResponse) -> Result<Self, String> {
        let body = response.body.clone();
        let header_error = match response.header(HEADER_PAYMENT_REQUIRED) {
            Some(value) => match x402::decode_header::<PaymentRequiredV2>(value) {
                Ok(required) => {
                    return Ok(Self {
                        accepts: required.accepts.into_iter().map(PaymentRequirements::V2).collect(),
                        resource: Some(required.resource),
                        extensions: required.extensions,
                        body,
                    });
                }
                Err(e) => Some(format!("{HEADER_PAYMENT_REQUIRED} header: {e}")),
            },
            None => None,
        };
        let accepts = match body.get("accepts") {
            Some(accepts) => serde_json::from_value::<Vec<PaymentRequirements>>(accepts.clone())
                .map_err(|e| format!("body accepts: {e}"))?,
            None => Vec::new(),
        };
        let resource = body.get("resource").and_then(|r| serde_json::from_value(r.clone()).ok());
        let extensions = body.get("extensions").filter(|e| !e.is_null()).cloned();
        let challenge = Self { accepts, resource, extensions, body };
        if challenge.accepts.is_empty() && challenge.body.get("payTo").is_none() {
            return Err(header_error.unwrap_or_else(|| "the 402 carries no payment requirements".to_owned()));
        }
        Ok(challenge)
    }

    /// The first offered `exact` requirements.
    pub fn exact(&self) -> Option<&PaymentRequirements> {
        self.accepts.iter().find(|r| match r {
            PaymentRequirements::V1(r) => r.scheme == SCHEME_EXACT,
            PaymentRequirements::V2(r) => r.scheme == SCHEME_EXACT,
        })
    }

    /// The order id: the body's `orderId`, else `extra.orderId` of the offered requirements.
    pub fn order_id(&self) -> Option<String> {
        let from_body = self.body.get("orderId").and_then(Value::as_str);
        let from_extra = || {
            self.accepts.iter().find_map(|r| {
                let extra = match r {
                    PaymentRequirements::V1(r) => r.extra.as_ref(),
                    PaymentRequirements::V2(r) => r.extra.as_ref(),
                }?;
                extra.get("orderId")?.as_str()
            })
        };
        from_body.or_else(from_extra).map(str::to_owned)
    }

    /// The terms of a plain transfer: from the offered `exact` requirements, else the body's
    /// `payTo`, `asset`, `amount` and `network`/`chainId`.
    pub fn transfer_terms(&self) -> Result<TransferTerms, String> {
        let order_id = self.order_id().ok_or("the 402 names no orderId")?;
        let body_text = |key: &str| self.body.get(key).and_then(Value::as_str);
        let (pay_to, asset, amount, chain_id) = match self.exact() {
            Some(PaymentRequirements::V2(r)) => {
                (r.pay_to.as_str(), r.asset.as_str(), r.amount.as_str(), chain_id_v2(&r.network))
            }
            Some(PaymentRequirements::V1(r)) => {
                (r.pay_to.as_str(), r.asset.as_str(), r.max_amount_required.as_str(), chain_id_v1(&r.network))
            }
            None => {
                let chain_id = self.body.get("chainId").and_then(Value::as_u64);
                let chain_id = chain_id.or_else(|| body_text("network").and_then(chain_id_v2));
                let amount = body_text("amount").or_else(|| body_text("maxAmountRequired"));
                (
                    body_text("payTo").ok_or("the 402 has no payTo")?,
                    body_text("asset").ok_or("the 402 has no asset")?,
                    amount.ok_or("the 402 has no amount")?,
                    chain_id,
                )
            }
        };
        Ok(TransferTerms {
            order_id,
            pay_to: parse_address(pay_to).map_err(|e| format!("payTo: {e}"))?,
            asset: parse_address(asset).map_err(|e| format!("asset: {e}"))?,
            amount: parse_amount(amount).map_err(|e| format!("amount: {e}"))?,
            chain_id: chain_id.ok_or("the 402 names an unknown network")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderValue};
    use serde_json::json;

    fn response(body: Value, header: Option<&str>) -> ApiResponse {
        let mut headers = HeaderMap::new();
        if let Some(value) = header {
            headers.insert(HEADER_PAYMENT_REQUIRED, HeaderValue::from_str(value).expect("ASCII"));
        }
        ApiResponse { status: 402, headers, body }
    }

    const USDC: &str = "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913";
    const PAY_TO: &str = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";

    #[test]
    fn transfer_terms_from_the_body_alone() {
        let body =
            json!({ "orderId": "o1", "payTo": PAY_TO, "asset": USDC, "amount": "9990000", "network": "eip155:8453" });
        let challenge = Challenge::from_response(&response(body, None)).expect("a challenge");
        assert!(challenge.exact().is_none());
        let terms = challenge.transfer_terms().expect("terms");
        assert_eq!((terms.order_id.as_str(), terms.amount, terms.chain_id), ("o1", U256::from(9_990_000), 8453));
        assert_eq!(terms.asset, x402::constants::BASE_USDC);
    }

    #[test]
    fn v1_bodies_and_a_bad_header_falling_back_to_the_body() {
        let accepts = json!([{
            "scheme": "exact", "network": "base", "maxAmountRequired": "10000", "resource": "http://h/x",
            "description": "d", "payTo": PAY_TO, "maxTimeoutSeconds": 60, "asset": USDC,
            "extra": { "name": "USD Coin", "version": "2", "orderId": "o2" },
        }]);
        let body = json!({ "x402Version": 1, "error": "X-PAYMENT header is required", "accepts": accepts });
        let challenge = Challenge::from_response(&response(body, Some("not base64!"))).expect("from the body");
        assert!(matches!(challenge.exact(), Some(PaymentRequirements::V1(_))));
        let terms = challenge.transfer_terms().expect("terms");
        assert_eq!((terms.order_id.as_str(), terms.amount, terms.chain_id), ("o2", U256::from(10_000), 8453));
    }

    #[test]
    fn unusable_challenges() {
        let error = Challenge::from_response(&response(json!({ "error": "x" }), Some("e30="))).expect_err("empty");
        assert!(error.contains("PAYMENT-REQUIRED"), "{error}");
        assert!(Challenge::from_response(&response(Value::Null, None)).is_err());
        let body = json!({ "payTo": PAY_TO, "asset": USDC, "amount": "1", "network": "eip155:8453" });
        let challenge = Challenge::from_response(&response(body, None)).expect("a challenge");
        assert_eq!(challenge.transfer_terms(), Err("the 402 names no orderId".to_owned()));
    }
}
