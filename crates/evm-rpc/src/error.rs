//! [`RpcError`]: why a JSON-RPC call failed, and whether its outcome is unknown.
//!
//! No variant ever carries the endpoint URL: provider URLs often hold an API key in their path
//! or credentials in their user info.

/// Why a JSON-RPC call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RpcError {
    /// The request may or may not have reached the node (connect or I/O failure, an HTTP 5xx,
    /// 408 or 429 without a JSON-RPC answer): the outcome is unknown.
    #[error("transport error: {0}")]
    Transport(String),
    /// No answer within the client's timeout: the outcome is unknown.
    #[error("the JSON-RPC request timed out")]
    Timeout,
    /// The node answered with a JSON-RPC error object: a definite answer (for a send, the
    /// transaction was refused).
    #[error("JSON-RPC error {code}: {message}")]
    Rpc {
        /// The error code.
        code: i64,
        /// The error message.
        message: String,
    },
    /// The endpoint answered an HTTP error that is not transient (e.g. 401, 404) without a
    /// JSON-RPC error object: whatever is in front of the node refused the request, or the
    /// answer was lost on the way; for a send the outcome is unknown.
    #[error("HTTP {status} without a JSON-RPC answer")]
    Http {
        /// The HTTP status.
        status: u16,
    },
    /// The call reverted (in `eth_call` or `eth_estimateGas`); nothing was sent.
    #[error("execution reverted{}", reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default())]
    Reverted {
        /// The decoded `Error(string)` reason (or the node's description), when there is one.
        reason: Option<String>,
    },
    /// The answer was not what the method returns.
    #[error("unexpected JSON-RPC answer: {0}")]
    Decode(String),
    /// The endpoint URL is unusable (the URL itself is never repeated).
    #[error("invalid RPC URL: {0}")]
    InvalidUrl(String),
    /// The transaction could not be signed.
    #[error("signing failed: {0}")]
    Signing(String),
}

impl RpcError {
    /// Whether the outcome is unknown and the call may be retried: [`RpcError::Transport`] and
    /// [`RpcError::Timeout`].
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Transport(_) | Self::Timeout)
    }

    /// Whether the node itself answered no ([`RpcError::Rpc`], [`RpcError::Reverted`]): for a
    /// send, the transaction was certainly not accepted. Every other failure of a send (no
    /// answer, an answer lost or garbled on the way) leaves its outcome unknown.
    pub fn is_refusal(&self) -> bool {
        matches!(self, Self::Rpc { .. } | Self::Reverted { .. })
    }

    /// A transport error from reqwest, with the URL stripped.
    pub(crate) fn from_reqwest(error: reqwest::Error) -> Self {
        if error.is_timeout() {
            return Self::Timeout;
        }
        let error = error.without_url();
        let mut text = error.to_string();
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        Self::Transport(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transient_and_display() {
        assert!(RpcError::Timeout.is_transient());
        assert!(RpcError::Transport("reset".into()).is_transient());
        assert!(!RpcError::Reverted { reason: None }.is_transient());
        assert!(!RpcError::Rpc { code: -32000, message: "nonce too low".into() }.is_transient());
        assert!(RpcError::Rpc { code: -32000, message: "nonce too low".into() }.is_refusal());
        for unknown in [RpcError::Timeout, RpcError::Decode("not JSON".into()), RpcError::Http { status: 404 }] {
            assert!(!unknown.is_refusal(), "{unknown}");
        }
        assert_eq!(RpcError::Reverted { reason: Some("no".into()) }.to_string(), "execution reverted: no");
        assert_eq!(RpcError::Reverted { reason: None }.to_string(), "execution reverted");
    }
}
