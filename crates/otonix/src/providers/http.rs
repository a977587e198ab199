//! The HTTP side of a live provider: a bearer token, timeouts, bounded retries, and upstream
//! errors read into [`ProviderError`]. A call is retried (at most [`ATTEMPTS`] times in all)
//! after a 429 or a 503, whatever its method, since the upstream did not act on it; after any
//! other 5xx or a transport failure only when it is idempotent (GET, DELETE). The wait is the
//! upstream's `Retry-After` when it gives one (a longer one than [`MAX_WAIT`] is not waited for:
//! the 429 is passed on), else a doubling backoff. The token is only ever in a header.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::ProviderError;
use crate::config::Secret;

/// Tries per call, the first included.
pub const ATTEMPTS: u32 = 3;

/// The longest `Retry-After` waited for inside one call.
pub const MAX_WAIT: Duration = Duration::from_secs(5);

/// The first backoff; each next one doubles.
const BACKOFF: Duration = Duration::from_millis(200);

/// Reads an upstream's error body into `(code, message)`.
pub type ErrorReader = fn(&Value) -> Option<(String, String)>;

/// A live upstream's HTTP API.
#[derive(Clone)]
pub struct HttpUpstream {
    client: reqwest::Client,
    base: String,
    token: Secret,
    read_error: ErrorReader,
}

impl std::fmt::Debug for HttpUpstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpUpstream").field("base", &self.base).field("token", &self.token).finish()
    }
}

impl HttpUpstream {
    /// An upstream at `base` (no trailing slash needed), calls timing out after `timeout`.
    pub fn new(base: &str, token: Secret, timeout: Duration, read_error: ErrorReader) -> Result<Self, ProviderError> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("otonix/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ProviderError::Transport(format!("the HTTP client cannot be built: {e}")))?;
        Ok(Self { client, base: base.trim_end_matches('/').to_owned(), token, read_error })
    }

    /// Sends a call and reads its JSON answer (`null` for an empty body).
    pub async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<T, ProviderError> {
        let idempotent = matches!(method, Method::GET | Method::DELETE | Method::HEAD | Method::PUT);
        let mut attempt = 1;
        loop {
            let outcome = self.once(method.clone(), path, query, body).await;
            let retry = match &outcome {
                Ok(_) => None,
                Err(ProviderError::Upstream { status: 429 | 503, retry_after, .. }) => match retry_after {
                    Some(wait) if *wait > MAX_WAIT => None,
                    Some(wait) => Some(*wait),
                    None => Some(backoff(attempt)),
                },
                Err(ProviderError::Upstream { status, .. }) if *status >= 500 && idempotent => Some(backoff(attempt)),
                Err(ProviderError::Transport(_)) if idempotent => Some(backoff(attempt)),
                Err(_) => None,
            };
            match retry {
                Some(wait) if attempt < ATTEMPTS => {
                    tracing::debug!(%method, path, attempt, wait_ms = wait.as_millis() as u64, "retrying an upstream call");
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                _ => return outcome.and_then(|value| read_json(value)),
            }
        }
    }

    async fn once(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> Result<Value, ProviderError> {
        let mut request =
            self.client.request(method, format!("{}{path}", self.base)).bearer_auth(self.token.expose()).query(query);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.map_err(|e| ProviderError::Transport(describe(&e)))?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let bytes = response.bytes().await.map_err(|e| ProviderError::Transport(describe(&e)))?;
        let value: Option<Value> = if bytes.iter().all(u8::is_ascii_whitespace) {
            Some(Value::Null)
        } else {
            serde_json::from_slice(&bytes).ok()
        };
        if status.is_success() {
            return value
                .ok_or_else(|| ProviderError::Transport(format!("the upstream's {status} answer is not JSON")));
        }
        let (code, message) = value
            .as_ref()
            .and_then(self.read_error)
            .unwrap_or_else(|| (default_code(status), format!("the upstream answered {status}")));
        Err(ProviderError::Upstream { status: status.as_u16(), code, message, retry_after })
    }
}

fn read_json<T: DeserializeOwned>(value: Value) -> Result<T, ProviderError> {
    serde_json::from_value(value)
        .map_err(|e| ProviderError::Transport(format!("the upstream's answer is unexpected: {e}")))
}

fn backoff(attempt: u32) -> Duration {
    BACKOFF * 2u32.pow(attempt - 1)
}

fn default_code(status: StatusCode) -> String {
    status.canonical_reason().unwrap_or("error").to_ascii_lowercase().replace(' ', "_")
}

/// A transport failure in a sentence.
fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "the upstream did not answer in time".into()
    } else if error.is_connect() {
        "the upstream cannot be reached".into()
    } else {
        format!("the upstream call failed: {error}")
    }
}
