//! `facilitator` settlement: `POST {url}/verify`, then `POST {url}/settle`, requiring `isValid`
//! and `success` (a facilitator may answer HTTP 200 with `success: false`). A definite refusal
//! (an answer saying no, or a 4xx) is a failure; no answer, a 5xx or an answer that cannot be
//! read leaves `/settle` pending, reconciled from the chain when `payments.rpcUrl` is set. The
//! facilitator's own words are logged, never shown to clients: only a clean reason code is.

use std::time::Duration;

use alloy_primitives::B256;
use serde_json::{Value, json};
use x402::ExactPayment;

use super::{ChainReader, Ledger, SettleReference, Settlement, client_code};

/// Settles through an x402 facilitator.
pub struct FacilitatorSettler {
    http: reqwest::Client,
    base: String,
    reader: Option<ChainReader>,
}

/// What the facilitator answered.
enum Answer {
    /// A 2xx with a JSON body.
    Json(Value),
    /// A definite refusal: a 4xx other than 408 and 429.
    Refused(Value),
    /// No answer, a 5xx, 408 or 429, or a body that is not JSON: the outcome is unknown.
    Unknown(String),
}

impl FacilitatorSettler {
    /// A settler for the facilitator at `base`.
    pub fn new(base: &str, timeout: Duration, reader: Option<ChainReader>) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("otonix/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { http, base: base.trim_end_matches('/').to_owned(), reader })
    }

    /// The chain, if an RPC URL is configured.
    pub fn reader(&self) -> Option<&ChainReader> {
        self.reader.as_ref()
    }

    async fn post(&self, path: &str, body: &Value, timeout: Option<Duration>) -> Answer {
        let mut request = self.http.post(format!("{}{path}", self.base)).json(body);
        if let Some(timeout) = timeout {
            request = request.timeout(timeout);
        }
        let response = match request.send().await {
            Ok(response) => response,
            Err(error) => return Answer::Unknown(error.without_url().to_string()),
        };
        let status = response.status();
        let text = match response.text().await {
            Ok(text) => text,
            Err(error) => return Answer::Unknown(error.without_url().to_string()),
        };
        let json = serde_json::from_str::<Value>(&text);
        if !status.is_success() {
            tracing::warn!(path, %status, body = %text.chars().take(500).collect::<String>(), "the facilitator answered an error");
        }
        match (status.as_u16(), json) {
            (200..=299, Ok(value)) => Answer::Json(value),
            (400..=499, answer) if !matches!(status.as_u16(), 408 | 429) => Answer::Refused(answer.unwrap_or_default()),
            (_, _) => Answer::Unknown(format!("the facilitator answered {status}")),
        }
    }

    /// Verifies and settles `payment` against `requirements`.
    #[tracing::instrument(skip_all)]
    pub async fn settle(
        &self,
        payment: &ExactPayment,
        raw_payment: &Value,
        requirements: &Value,
        ledger: &Ledger<'_>,
        wait: Duration,
    ) -> Settlement {
        let body = json!({
            "x402Version": raw_payment.get("x402Version").cloned().unwrap_or(json!(2)),
            "paymentPayload": raw_payment,
            "paymentRequirements": requirements,
        });
        // The head before anything: whoever uses the authorization from now on does so in this
        // block or a later one.
        let mut reference = SettleReference::of(payment);
        if let Some(reader) = &self.reader {
            reference.from_block = reader.rpc().block_number().await.unwrap_or(0);
        }
        match self.post("/verify", &body, None).await {
            Answer::Unknown(reason) => return Settlement::Unavailable { reason },
            Answer::Refused(answer) => return refused(&answer, "invalidReason"),
            Answer::Json(answer) if answer["isValid"] != json!(true) => return refused(&answer, "invalidReason"),
            Answer::Json(_) => {}
        }
        match ledger.record(&reference).await {
            Ok(true) => {}
            Ok(false) => return Settlement::Superseded,
            Err(error) => {
                return Settlement::Unavailable { reason: format!("the settlement could not be recorded: {error}") };
            }
        }
        match self.post("/settle", &body, Some(wait)).await {
            Answer::Unknown(reason) => {
                tracing::warn!(reason, "the facilitator's settlement has an unknown outcome");
                Settlement::Pending { reference: Some(reference) }
            }
            Answer::Json(answer) if answer["success"] == json!(true) => {
                // Only a transaction hash is a settlement; anything else is looked for on chain.
                match answer["transaction"].as_str().map(str::parse::<B256>) {
                    Some(Ok(tx_hash)) => Settlement::Settled { tx_hash },
                    _ => Settlement::Pending { reference: Some(reference) },
                }
            }
            // A refusal of /settle does not prove that nothing was broadcast (a facilitator may
            // fail after sending): the chain decides when it can be read.
            Answer::Refused(answer) | Answer::Json(answer) => match &self.reader {
                Some(reader) => reader.authorization_outcome(&reference, None).await,
                None => refused(&answer, "errorReason"),
            },
        }
    }
}

/// A failure whose reason is the facilitator's reason code, when it is a clean one.
fn refused(answer: &Value, field: &str) -> Settlement {
    let reason = match answer[field].as_str().and_then(client_code) {
        Some(code) => format!("facilitator: {code}"),
        None => "the facilitator refused the payment".to_owned(),
    };
    Settlement::Failed { reason }
}
