//! `X-Request-Id`: echo a well-formed incoming id, else make one; put it on the response and
//! in the request's tracing span.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Span;

/// The id of the current request, kept in request extensions.
#[derive(Debug, Clone)]
pub struct RequestId(pub HeaderValue);

const HEADER: &str = "x-request-id";

fn acceptable(value: &HeaderValue) -> bool {
    let bytes = value.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 128
        && bytes.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Middleware assigning the request id.
pub async fn assign(mut request: Request, next: Next) -> Response {
    let id = match request.headers().get(HEADER) {
        Some(value) if acceptable(value) => value.clone(),
        _ => HeaderValue::from_str(&uuid::Uuid::new_v4().to_string())
            .unwrap_or_else(|_| HeaderValue::from_static("unknown")),
    };
    request.headers_mut().insert(HEADER, id.clone());
    request.extensions_mut().insert(RequestId(id.clone()));
    let mut response = next.run(request).await;
    response.headers_mut().insert(HEADER, id);
    response
}

/// The span of a request: method, matched route and request id (never headers or bodies).
pub fn make_span(request: &Request) -> Span {
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let id = request.extensions().get::<RequestId>().and_then(|r| r.0.to_str().ok()).unwrap_or("").to_owned();
    tracing::info_span!("request", method = %request.method(), route = %route, request_id = %id)
}
