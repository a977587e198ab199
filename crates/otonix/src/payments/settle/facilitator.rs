//! `facilitator` settlement: `POST {url}/verify`, then `POST {url}/settle`, requiring
//! `isValid` and `success` (a facilitator may answer HTTP 200 with `success: false`). An unknown
//! outcome is reconciled from the chain when an RPC URL is configured.

use std::time::Duration;

use evm_rpc::RpcClient;
use serde_json::{Value, json};
use x402::ExactPayment;
use x402::calldata;

use super::{SettleReference, Settlement};
use crate::payments::Terms;

/// Settles through an x402 facilitator.
pub struct FacilitatorSettler {
    http: reqwest::Client,
    base: String,
    rpc: Option<RpcClient>,
    asset: alloy_primitives::Address,
}

impl FacilitatorSettler {
    /// A settler for the facilitator at `base`.
    pub fn new(base: &str, timeout: Duration, rpc: Option<RpcClient>, terms: &Terms) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .user_agent(concat!("otonix/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { http, base: base.trim_end_matches('/').to_owned(), rpc, asset: terms.token.verifying_contract })
    }

    /// The chain, if an RPC URL is configured.
    pub fn rpc(&self) -> Option<&RpcClient> {
        self.rpc.as_ref()
    }

    async fn post(&self, path: &str, body: &Value, timeout: Option<Duration>) -> Result<Value, String> {
        let mut request = self.http.post(format!("{}{path}", self.base)).json(body);
        if let Some(timeout) = timeout {
            request = request.timeout(timeout);
        }
        let response = request.send().await.map_err(|e| e.without_url().to_string())?;
        let status = response.status();
        let text = response.text().await.map_err(|e| e.without_url().to_string())?;
        if !status.is_success() {
            return Err(format!("facilitator answered {status}: {}", text.chars().take(200).collect::<String>()));
        }
        serde_json::from_str(&text).map_err(|e| format!("facilitator answer is not JSON: {e}"))
    }

    /// Verifies and settles `payment` against `requirements`.
    pub async fn settle(
        &self,
        payment: &ExactPayment,
        raw_payment: &Value,
        requirements: &Value,
        wait: Duration,
        sink: &super::ReferenceSink,
    ) -> Settlement {
        let body = json!({
            "x402Version": raw_payment.get("x402Version").cloned().unwrap_or(json!(2)),
            "paymentPayload": raw_payment,
            "paymentRequirements": requirements,
        });
        match self.post("/verify", &body, None).await {
            Err(reason) => return Settlement::Unavailable { reason },
            Ok(answer) if answer["isValid"] != json!(true) => {
                let reason =
                    answer["invalidReason"].as_str().or(answer["invalidMessage"].as_str()).unwrap_or("invalid");
                return Settlement::Failed { reason: format!("facilitator: {reason}") };
            }
            Ok(_) => {}
        }
        let mut reference = SettleReference::of(payment);
        if let Some(rpc) = &self.rpc {
            reference.from_block = rpc.block_number().await.unwrap_or(0);
        }
        sink.store(&reference).await;
        match self.post("/settle", &body, Some(wait)).await {
            Err(_) => Settlement::Pending { reference },
            Ok(answer) if answer["success"] == json!(true) => match answer["transaction"].as_str() {
                Some(tx) if !tx.is_empty() => Settlement::Settled { tx_hash: tx.to_ascii_lowercase() },
                _ => Settlement::Pending { reference },
            },
            Ok(answer) => {
                let reason = answer["errorReason"].as_str().or(answer["errorMessage"].as_str()).unwrap_or("failed");
                Settlement::Failed { reason: format!("facilitator: {reason}") }
            }
        }
    }

    /// Reconciles from the chain: used means settled (by the facilitator or anyone); unused past
    /// `validBefore` means it never will. Without an RPC URL the outcome stays unknown.
    pub async fn reconcile(&self, reference: &SettleReference, now_seconds: u64) -> Settlement {
        let (Some(rpc), Some(from), Some(nonce)) = (&self.rpc, reference.from, reference.nonce) else {
            tracing::warn!(
                "a facilitator settlement has an unknown outcome and no RPC URL is configured to reconcile it"
            );
            return Settlement::Pending { reference: reference.clone() };
        };
        let used = rpc.call(None, self.asset, calldata::authorization_state(from, nonce)).await;
        match used.map(|out| calldata::decode_authorization_state(&out)) {
            Ok(Ok(true)) => {
                let topics = vec![Some(x402::constants::AUTHORIZATION_USED_TOPIC), Some(from.into_word()), Some(nonce)];
                match rpc.logs(self.asset, topics, reference.from_block, None).await {
                    Ok(logs) if !logs.is_empty() => Settlement::Settled { tx_hash: format!("{:#x}", logs[0].0) },
                    _ => Settlement::Pending { reference: reference.clone() },
                }
            }
            Ok(Ok(false)) if now_seconds > reference.valid_before => {
                Settlement::Failed { reason: "the authorization expired unused".into() }
            }
            _ => Settlement::Pending { reference: reference.clone() },
        }
    }
}
