//! How provider failures reach a client (SPEC §2.2, §6): an `off` provider is 503
//! `provider_not_configured`, an upstream 429 is passed on with its `Retry-After`, anything
//! else upstream is 502 `upstream_error` with the upstream's code and message in `details`.

use crate::error::ApiError;
use crate::providers::ProviderError;

/// The answer to a failure of `provider`.
pub fn provider_error(provider: &'static str, error: ProviderError) -> ApiError {
    match error {
        ProviderError::NotConfigured => ApiError::ProviderNotConfigured(provider),
        ProviderError::Upstream { status: 429, retry_after, .. } => {
            ApiError::RateLimited { retry_after: retry_after.map_or(1, |wait| wait.as_secs().max(1)) }
        }
        ProviderError::Upstream { status, code, message, .. } => {
            ApiError::UpstreamError { provider, status: Some(status), code, message }
        }
        ProviderError::Transport(message) => {
            ApiError::UpstreamError { provider, status: None, code: "transport".into(), message }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use axum::http::StatusCode;

    use super::*;

    #[test]
    fn provider_failures_map_to_the_envelope() {
        let off = provider_error("vercel", ProviderError::NotConfigured);
        assert_eq!((off.status(), off.code()), (StatusCode::SERVICE_UNAVAILABLE, "provider_not_configured"));
        let limited = ProviderError::Upstream {
            status: 429,
            code: "too_many_requests".into(),
            message: "slow down".into(),
            retry_after: Some(Duration::from_secs(12)),
        };
        let limited = provider_error("vercel", limited);
        assert!(matches!(limited, ApiError::RateLimited { retry_after: 12 }));
        let failed = provider_error("vercel", ProviderError::upstream(500, "internal_server_error", "boom"));
        assert_eq!((failed.status(), failed.code()), (StatusCode::BAD_GATEWAY, "upstream_error"));
    }
}
