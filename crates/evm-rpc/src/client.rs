//! [`RpcClient`]: the HTTP transport and the JSON-RPC 2.0 envelope (request ids, error objects,
//! revert detection). The endpoint URL is kept private and never logged or shown.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::{Value, json};

use crate::error::RpcError;
use crate::quantity::{field, parse_bytes};

/// User-Agent of every request.
const USER_AGENT: &str = concat!("otonix-evm-rpc/", env!("CARGO_PKG_VERSION"));

/// An Ethereum JSON-RPC client over HTTP(S). Cloning is cheap and shares the connection pool,
/// the request ids and the send lock.
#[derive(Clone)]
pub struct RpcClient {
    pub(crate) http: reqwest::Client,
    url: reqwest::Url,
    next_id: Arc<AtomicU64>,
    /// Held while a transaction is built and sent, so sends of one client never share a nonce.
    pub(crate) send_lock: Arc<tokio::sync::Mutex<()>>,
}

impl std::fmt::Debug for RpcClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RpcClient").field("endpoint", &self.endpoint()).finish_non_exhaustive()
    }
}

impl RpcClient {
    /// A client of the endpoint `url` (`http` or `https`); every request times out after
    /// `timeout`.
    pub fn new(url: &str, timeout: Duration) -> Result<Self, RpcError> {
        let url = reqwest::Url::parse(url).map_err(|e| RpcError::InvalidUrl(e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(RpcError::InvalidUrl(format!("scheme must be http or https, not {}", url.scheme())));
        }
        if url.host_str().is_none() {
            return Err(RpcError::InvalidUrl("the URL has no host".into()));
        }
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .user_agent(USER_AGENT)
            .build()
            .map_err(|e| RpcError::Transport(e.without_url().to_string()))?;
        Ok(Self { http, url, next_id: Arc::new(AtomicU64::new(1)), send_lock: Arc::new(tokio::sync::Mutex::new(())) })
    }

    /// The endpoint without credentials, path or query (`https://host:port`), safe to show.
    pub fn endpoint(&self) -> String {
        match self.url.port() {
            Some(port) => format!("{}://{}:{port}", self.url.scheme(), self.url.host_str().unwrap_or("")),
            None => format!("{}://{}", self.url.scheme(), self.url.host_str().unwrap_or("")),
        }
    }

    /// Calls `method` with `params` and returns its `result` (possibly `null`).
    ///
    /// A JSON-RPC error whose data or message says the execution reverted becomes
    /// [`RpcError::Reverted`] with the decoded reason.
    pub async fn request(&self, method: &str, params: Value) -> Result<Value, RpcError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let body = json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params });
        let response = self.http.post(self.url.clone()).json(&body).send().await.map_err(RpcError::from_reqwest)?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(RpcError::from_reqwest)?;
        let answer: Option<Value> = serde_json::from_slice(&bytes).ok();
        let error = answer.as_ref().and_then(|a| a.get("error")).filter(|e| !e.is_null()).map(rpc_error);
        let transient = status.is_server_error() || status.as_u16() == 408 || status.as_u16() == 429;
        match error {
            // A revert is a definite answer whatever the HTTP status.
            Some(error @ RpcError::Reverted { .. }) => return Err(error),
            Some(error) if transient => return Err(RpcError::Transport(format!("HTTP {status}: {error}"))),
            Some(error) => return Err(error),
            None if transient => return Err(RpcError::Transport(format!("HTTP {status}"))),
            None if !status.is_success() => return Err(RpcError::Http { status: status.as_u16() }),
            None => {}
        }
        let answer = answer.ok_or_else(|| RpcError::Decode(format!("{method}: the body is not JSON")))?;
        match answer.get("result") {
            Some(result) => Ok(result.clone()),
            None => Err(RpcError::Decode(format!("{method}: the answer has neither result nor error"))),
        }
    }
}

/// Turns a JSON-RPC error object into an [`RpcError`], recognizing reverts.
fn rpc_error(error: &Value) -> RpcError {
    let code = field(error, "code").as_i64().unwrap_or(0);
    let message = field(error, "message").as_str().unwrap_or("").to_owned();
    let revert_data = revert_data(field(error, "data"));
    let says_reverted = message.to_ascii_lowercase().contains("revert");
    if revert_data.is_some() || says_reverted || code == 3 {
        let reason = revert_data.as_deref().and_then(x402::calldata::revert_reason).or_else(|| {
            // Nodes without revert data often put the reason in the message.
            let lower = message.to_ascii_lowercase();
            let start = lower.find("execution reverted: ").map(|i| i + "execution reverted: ".len())?;
            Some(message[start..].to_owned()).filter(|r| !r.is_empty())
        });
        return RpcError::Reverted { reason };
    }
    RpcError::Rpc { code, message }
}

/// Revert data in an error's `data`: a hex string, or an object with a `data` hex string.
fn revert_data(data: &Value) -> Option<Vec<u8>> {
    let hex = match data {
        Value::String(_) => data,
        Value::Object(_) => field(data, "data"),
        _ => return None,
    };
    parse_bytes(hex, "error data").ok().filter(|bytes| bytes.len() >= 4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_hides_credentials_and_path() {
        let client = RpcClient::new("https://user:secret@rpc.example.com/v2/KEY", Duration::from_secs(1));
        let client = client.expect("valid URL");
        assert_eq!(client.endpoint(), "https://rpc.example.com");
        let shown = format!("{client:?}");
        assert!(!shown.contains("secret") && !shown.contains("KEY"), "{shown}");
        let local = RpcClient::new("http://127.0.0.1:8545", Duration::from_secs(1)).expect("valid URL");
        assert_eq!(local.endpoint(), "http://127.0.0.1:8545");
    }

    #[test]
    fn rejects_bad_urls_without_echoing_them() {
        for bad in ["ftp://h/KEY", "not a url KEY", "http://"] {
            let error = RpcClient::new(bad, Duration::from_secs(1)).expect_err(bad);
            assert!(matches!(error, RpcError::InvalidUrl(_)), "{bad}: {error:?}");
            assert!(!error.to_string().contains("KEY"), "{error}");
        }
    }

    #[test]
    fn error_objects() {
        let reason = x402::calldata::REVERT_INSUFFICIENT_BALANCE;
        let data = format!("0x08c379a0{}", alloy_primitives::hex::encode(alloy_sol_error(reason)));
        let error = json!({ "code": 3, "message": "execution reverted", "data": data });
        assert_eq!(rpc_error(&error), RpcError::Reverted { reason: Some(reason.to_owned()) });
        let error = json!({ "code": -32000, "message": "execution reverted: nope" });
        assert_eq!(rpc_error(&error), RpcError::Reverted { reason: Some("nope".to_owned()) });
        let error = json!({ "code": -32000, "message": "execution reverted" });
        assert_eq!(rpc_error(&error), RpcError::Reverted { reason: None });
        let error = json!({ "code": -32003, "message": "nonce too low" });
        assert_eq!(rpc_error(&error), RpcError::Rpc { code: -32003, message: "nonce too low".into() });
    }

    /// ABI encoding of `string` (offset, length, padded bytes), the body of `Error(string)`.
    fn alloy_sol_error(reason: &str) -> Vec<u8> {
        let mut out = alloy_primitives::U256::from(32).to_be_bytes::<32>().to_vec();
        out.extend(alloy_primitives::U256::from(reason.len()).to_be_bytes::<32>());
        let mut text = reason.as_bytes().to_vec();
        text.resize(reason.len().div_ceil(32) * 32, 0);
        out.extend(text);
        out
    }
}
