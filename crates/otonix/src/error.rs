//! The one error envelope of the API (SPEC §2.2): `{ "error", "message", "details"? }`.
//!
//! Every error a client can see is an [`ApiError`] with a stable snake_case code. Internal
//! failures are logged once here, with their cause chain, inside the request's span (which
//! carries the request id), and answered with a generic message.

use std::collections::BTreeMap;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// Result type of handlers.
pub type ApiResult<T> = Result<T, ApiError>;

/// Per-field validation problems: field name → reason.
pub type FieldErrors = BTreeMap<String, String>;

/// An error answered to a client.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the body is not JSON (or not the expected JSON shape at all).
    #[error("{0}")]
    InvalidJson(String),
    /// 400: some fields are wrong.
    #[error("validation failed")]
    Validation(FieldErrors),
    /// 401: no credential, or an unknown one.
    #[error("{0}")]
    Unauthenticated(&'static str),
    /// 401: the API key was revoked.
    #[error("this API key has been revoked")]
    KeyRevoked,
    /// 403: a valid credential that may not touch this resource.
    #[error("{0}")]
    Forbidden(&'static str),
    /// 404.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// 405.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 409: a unique value is taken.
    #[error("{0}")]
    Conflict(String),
    /// 409: the agent is terminated.
    #[error("agent is terminated")]
    AgentTerminated,
    /// 413.
    #[error("request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    /// 415.
    #[error("expected Content-Type: application/json")]
    UnsupportedMediaType,
    /// 400: a payment header that cannot be decoded.
    #[error("invalid payment header: {0}")]
    InvalidPaymentHeader(String),
    /// 402: the payment does not pay for this request; `reason` is machine-readable.
    #[error("{message}")]
    PaymentInvalid {
        /// Machine-readable reason (`amount_mismatch`, `signature_mismatch`, …).
        reason: &'static str,
        /// Human sentence.
        message: String,
    },
    /// 402: the payment is not settled yet; retry the same request later.
    #[error("{message}")]
    PaymentPending {
        /// Seconds to wait before retrying.
        retry_after: u64,
        /// Human sentence.
        message: String,
    },
    /// 402: the authorization or transaction already paid for something else.
    #[error("this payment was already used")]
    PaymentAlreadyUsed,
    /// 402: the order can no longer be paid.
    #[error("the payment order expired; request again to get a new one")]
    OrderExpired,
    /// 503: a dependency (the database) is not available.
    #[error("{0}")]
    Unavailable(&'static str),
    /// 503: an upstream (chain, facilitator) is not available.
    #[error("{0}")]
    UpstreamUnavailable(String),
    /// 503: the provider behind this endpoint is `off`.
    #[error("the {0} provider is not configured on this server")]
    ProviderNotConfigured(&'static str),
    /// 502: a provider answered with an error or could not be read; its code and message go in
    /// `details`.
    #[error("{provider} answered with an error: {message}")]
    UpstreamError {
        /// Which provider (`vercel`, `cherry`).
        provider: &'static str,
        /// The HTTP status it answered, if it answered.
        status: Option<u16>,
        /// Its error code (`transport` when it could not be reached or read).
        code: String,
        /// Its message.
        message: String,
    },
    /// 429: too many requests (here or upstream); retry after the given seconds.
    #[error("too many requests; retry after {retry_after} s")]
    RateLimited {
        /// Seconds to wait.
        retry_after: u64,
    },
    /// 500: never shown in detail; the cause is logged.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

/// The JSON body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Stable snake_case code.
    #[schema(example = "validation_failed")]
    pub error: &'static str,
    /// Human-readable sentence.
    pub message: String,
    /// Extra information; for validation errors `{ "field": "reason" }`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<serde_json::Value>,
}

impl ApiError {
    /// One validation error on one field.
    pub fn field(field: &str, reason: impl Into<String>) -> Self {
        Self::Validation(FieldErrors::from([(field.to_owned(), reason.into())]))
    }

    /// A payment refused for the reason `rejection` gives.
    pub fn payment_rejected(rejection: &x402::Rejection) -> Self {
        if rejection.is_pending() {
            return Self::PaymentPending { retry_after: 3, message: rejection.to_string() };
        }
        Self::PaymentInvalid { reason: rejection.code(), message: rejection.to_string() }
    }

    /// Wraps an unexpected failure.
    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        Self::Internal(error.into())
    }

    /// HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::InvalidJson(_) | Self::Validation(_) => StatusCode::BAD_REQUEST,
            Self::Unauthenticated(_) | Self::KeyRevoked => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(_) | Self::AgentTerminated => StatusCode::CONFLICT,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::InvalidPaymentHeader(_) => StatusCode::BAD_REQUEST,
            Self::PaymentInvalid { .. }
            | Self::PaymentPending { .. }
            | Self::PaymentAlreadyUsed
            | Self::OrderExpired => StatusCode::PAYMENT_REQUIRED,
            Self::Unavailable(_) | Self::UpstreamUnavailable(_) | Self::ProviderNotConfigured(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Self::UpstreamError { .. } => StatusCode::BAD_GATEWAY,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable code of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidJson(_) => "invalid_json",
            Self::Validation(_) => "validation_failed",
            Self::Unauthenticated(_) => "unauthenticated",
            Self::KeyRevoked => "key_revoked",
            Self::Forbidden(_) => "forbidden",
            Self::NotFound(_) => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::Conflict(_) => "conflict",
            Self::AgentTerminated => "agent_terminated",
            Self::PayloadTooLarge(_) => "payload_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::InvalidPaymentHeader(_) => "invalid_payment_header",
            Self::PaymentInvalid { .. } => "payment_invalid",
            Self::PaymentPending { .. } => "payment_pending",
            Self::PaymentAlreadyUsed => "payment_already_used",
            Self::OrderExpired => "order_expired",
            Self::Unavailable(_) | Self::UpstreamUnavailable(_) => "unavailable",
            Self::ProviderNotConfigured(_) => "provider_not_configured",
            Self::UpstreamError { .. } => "upstream_error",
            Self::RateLimited { .. } => "rate_limited",
            Self::Internal(_) => "internal",
        }
    }

    fn body(&self) -> ErrorBody {
        let details = match self {
            Self::Validation(fields) => serde_json::to_value(fields).ok(),
            Self::PaymentInvalid { reason, .. } => Some(serde_json::json!({ "reason": reason })),
            Self::PaymentPending { retry_after, .. } | Self::RateLimited { retry_after } => {
                Some(serde_json::json!({ "retryAfter": retry_after }))
            }
            Self::UpstreamError { provider, status, code, message } => {
                Some(serde_json::json!({ "provider": provider, "status": status, "code": code, "message": message }))
            }
            _ => None,
        };
        let message = match self {
            Self::Validation(fields) => {
                let list: Vec<String> = fields.iter().map(|(f, r)| format!("{f} {r}")).collect();
                format!("validation failed: {}", list.join("; "))
            }
            other => other.to_string(),
        };
        ErrorBody { error: self.code(), message, details }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Self::Internal(cause) = &self {
            tracing::error!(error.cause_chain = %format!("{cause:#}"), "request failed");
        }
        if let Self::Unavailable(reason) = &self {
            tracing::warn!(reason, "dependency unavailable");
        }
        if let Self::UpstreamUnavailable(reason) = &self {
            tracing::warn!(reason, "upstream unavailable");
        }
        let mut response = (self.status(), axum::Json(self.body())).into_response();
        if let Self::UpstreamError { provider, status, code, .. } = &self {
            tracing::warn!(provider, status, code, "upstream error");
        }
        if let Self::PaymentPending { retry_after, .. } | Self::RateLimited { retry_after } = &self {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(*retry_after));
        }
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_names_fields() {
        let body = ApiError::field("name", "is required").body();
        assert_eq!(body.error, "validation_failed");
        assert_eq!(body.details.unwrap()["name"], "is required");
        assert!(body.message.contains("name is required"));
    }

    #[test]
    fn internal_errors_hide_their_cause() {
        let error = ApiError::internal(anyhow::anyhow!("disk on fire at /secret/path"));
        assert_eq!(error.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert!(!error.body().message.contains("secret"));
    }
}
