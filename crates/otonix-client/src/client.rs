//! [`Client`]: the Otonix API over HTTP. One generic [`Client::request`] (status, headers, JSON
//! body) and a few typed helpers for the agent-side endpoints.

use std::time::Duration;

use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::{Value, json};

/// Default timeout of one request (paid endpoints settle on chain before answering).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);
/// User-Agent of every request.
const USER_AGENT: &str = concat!("otonix-client/", env!("CARGO_PKG_VERSION"));

/// Why a request got no usable answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// The base URL, path or a header value is unusable.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// Connect or I/O failure: the request may or may not have been processed.
    #[error("transport error: {0}")]
    Transport(String),
    /// No answer within the timeout: the request may or may not have been processed.
    #[error("the request timed out")]
    Timeout,
    /// The server answered with an error status (typed helpers only; [`Client::request`]
    /// returns every answer).
    #[error("HTTP {status} {code}: {message}")]
    Api {
        /// HTTP status.
        status: u16,
        /// The envelope's `error` code (empty when absent).
        code: String,
        /// The envelope's `message` (empty when absent).
        message: String,
    },
}

impl ClientError {
    /// Whether the outcome is unknown and the same request may be sent again.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Transport(_) | Self::Timeout)
    }

    fn from_reqwest(error: reqwest::Error) -> Self {
        if error.is_timeout() { Self::Timeout } else { Self::Transport(error.without_url().to_string()) }
    }
}

/// An answer of the API.
#[derive(Debug, Clone)]
pub struct ApiResponse {
    /// HTTP status.
    pub status: u16,
    /// Response headers.
    pub headers: HeaderMap,
    /// The JSON body; `Null` when empty, a JSON string when the body is not JSON.
    pub body: Value,
}

impl ApiResponse {
    /// A header as text, if present and visible ASCII.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The error envelope's `error` code, if any.
    pub fn error_code(&self) -> Option<&str> {
        self.body.get("error").and_then(Value::as_str)
    }

    fn into_result(self) -> Result<Value, ClientError> {
        if self.is_success() {
            return Ok(self.body);
        }
        let text = |key: &str| self.body.get(key).and_then(Value::as_str).unwrap_or_default().to_owned();
        Err(ClientError::Api { status: self.status, code: text("error"), message: text("message") })
    }
}

/// A client of one Otonix server. Cloning is cheap (shared connection pool).
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base_url: String,
    api_key: Option<String>,
    admin_token: Option<String>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("admin_token", &self.admin_token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

fn http_client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(timeout)
        .user_agent(USER_AGENT)
        .build()
        // Building only fails when the TLS backend cannot start; fall back to the defaults.
        .unwrap_or_else(|_| reqwest::Client::new())
}

impl Client {
    /// A client of the server at `base_url` (e.g. `http://127.0.0.1:8080`), without credentials.
    pub fn new(base_url: impl Into<String>) -> Self {
        let base_url = base_url.into().trim_end_matches('/').to_owned();
        Self { http: http_client(DEFAULT_TIMEOUT), base_url, api_key: None, admin_token: None }
    }

    /// Sends `X-API-Key: key` with every request.
    pub fn with_api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// Sends `X-Dashboard-Token: token` (the admin token) with every request.
    pub fn with_admin_token(mut self, token: impl Into<String>) -> Self {
        self.admin_token = Some(token.into());
        self
    }

    /// Sets the timeout of each request (default [`DEFAULT_TIMEOUT`]).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.http = http_client(timeout);
        self
    }

    /// The base URL, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Sends `method path` with `body` as JSON and returns the answer, whatever its status.
    pub async fn request(&self, method: Method, path: &str, body: Option<Value>) -> Result<ApiResponse, ClientError> {
        let body =
            body.map(|b| serde_json::to_vec(&b)).transpose().map_err(|e| ClientError::InvalidRequest(e.to_string()))?;
        self.send(method, path, body.as_deref(), &[]).await
    }

    /// Sends `method path` with `body` bytes sent verbatim as `application/json` and `headers`
    /// added: the building block of identical retries.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&[u8]>,
        headers: &[(&str, &str)],
    ) -> Result<ApiResponse, ClientError> {
        let separator = if path.starts_with('/') { "" } else { "/" };
        let url = reqwest::Url::parse(&format!("{}{separator}{path}", self.base_url))
            .map_err(|e| ClientError::InvalidRequest(format!("URL: {e}")))?;
        let mut request = self.http.request(method, url).header(reqwest::header::ACCEPT, "application/json");
        if let Some(key) = &self.api_key {
            request = request.header("x-api-key", header_value(key)?);
        }
        if let Some(token) = &self.admin_token {
            request = request.header("x-dashboard-token", header_value(token)?);
        }
        for (name, value) in headers {
            let name =
                HeaderName::from_bytes(name.as_bytes()).map_err(|e| ClientError::InvalidRequest(e.to_string()))?;
            request = request.header(name, header_value(value)?);
        }
        if let Some(body) = body {
            request = request.header(reqwest::header::CONTENT_TYPE, "application/json").body(body.to_vec());
        }
        let response = request.send().await.map_err(ClientError::from_reqwest)?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.map_err(ClientError::from_reqwest)?;
        let body = if bytes.iter().all(u8::is_ascii_whitespace) {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Ok(ApiResponse { status, headers, body })
    }

    /// `POST /api/keys/generate` (admin token): a new API key; the answer's `key` is shown once.
    pub async fn generate_key(&self, name: &str) -> Result<Value, ClientError> {
        self.request(Method::POST, "/api/keys/generate", Some(json!({ "name": name }))).await?.into_result()
    }

    /// `POST /api/agents/register` with `body` (`name`, `model`, `vpsIp`, optional
    /// `walletAddress`, …); the answer holds `agent` (and `wallet` when one was generated).
    pub async fn register_agent(&self, body: Value) -> Result<Value, ClientError> {
        self.request(Method::POST, "/api/agents/register", Some(body)).await?.into_result()
    }

    /// `POST /api/agents/{id}/heartbeat`.
    pub async fn heartbeat(&self, agent_id: &str) -> Result<Value, ClientError> {
        self.request(Method::POST, &format!("/api/agents/{agent_id}/heartbeat"), None).await?.into_result()
    }

    /// `POST /api/agents/{id}/actions` with `action` and `category`.
    pub async fn log_action(&self, agent_id: &str, action: &str, category: &str) -> Result<Value, ClientError> {
        let body = json!({ "action": action, "category": category });
        self.request(Method::POST, &format!("/api/agents/{agent_id}/actions"), Some(body)).await?.into_result()
    }
}

fn header_value(value: &str) -> Result<HeaderValue, ClientError> {
    let mut value = HeaderValue::from_str(value)
        .map_err(|_| ClientError::InvalidRequest("a header value is not visible ASCII".into()))?;
    value.set_sensitive(true);
    Ok(value)
}
