//! The HTTP API: one module per resource, each with its `router()`, merged here with the
//! cross-cutting layers (request ids, tracing, panics, body limit, the error envelope for
//! unknown routes and methods) and the generated OpenAPI document.

mod agents;
mod cherry;
mod client_ip;
mod compute;
mod credits;
pub(crate) mod dns;
pub(crate) mod domains;
pub mod extract;
mod keys;
mod list;
mod ops;
pub(crate) mod provider_errors;
pub(crate) mod references;
mod request_id;
mod sandboxes;
mod store_errors;
mod transactions;
pub mod validate;
mod vercel;
pub(crate) mod x402;

use std::any::Any;

use axum::Json;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Router, middleware};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;
use utoipa::openapi::OpenApi as OpenApiDoc;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

use crate::error::ApiError;
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "Otonix", description = "Control plane for autonomous AI agents. Errors use one envelope: `{ \"error\", \"message\", \"details\"? }`."),
    modifiers(&SecuritySchemes),
    components(schemas(crate::error::ErrorBody))
)]
struct ApiDoc;

struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut OpenApiDoc) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("apiKey", SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-API-Key"))));
        components.add_security_scheme(
            "adminToken",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-Dashboard-Token"))),
        );
    }
}

fn documented_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(ops::router())
        .merge(keys::router())
        .merge(agents::router())
        .merge(sandboxes::router())
        .merge(domains::router())
        .merge(compute::router())
        .merge(transactions::router())
        .merge(credits::router())
        .merge(x402::router())
        .merge(vercel::router())
        .merge(cherry::router())
}

/// The absolute URL of `path` on this server: `publicUrl` when configured, else from `Host`.
pub(crate) fn public_url(state: &AppState, headers: &axum::http::HeaderMap, path: &str) -> String {
    if let Some(base) = &state.config.public_url {
        return format!("{}{path}", base.trim_end_matches('/'));
    }
    let host = headers.get(axum::http::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    format!("http://{host}{path}")
}

/// Every product this server sells (the paid endpoints), for the payment engine.
pub fn products(
    providers: &crate::providers::Providers,
    config: &crate::config::ProvidersConfig,
) -> crate::payments::Products {
    let domain = vercel::register::DomainPurchase::new(providers, config);
    crate::payments::Products::default().with(credits::Credits).with(domain)
}

/// The complete application router.
pub fn router(state: AppState) -> Router {
    let (routes, openapi) = documented_routes().split_for_parts();
    let document = openapi.to_pretty_json().unwrap_or_default();
    let serve_document = move || async move { ([(axum::http::header::CONTENT_TYPE, "application/json")], document) };
    routes
        .route("/api/openapi.json", axum::routing::get(serve_document))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(extract::MAX_BODY_BYTES))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(TraceLayer::new_for_http().make_span_with(request_id::make_span))
        .layer(middleware::from_fn(request_id::assign))
        .with_state(state)
}

/// The OpenAPI document as JSON (for tooling and tests).
pub fn openapi_json() -> String {
    documented_routes().split_for_parts().1.to_pretty_json().unwrap_or_default()
}

async fn not_found() -> ApiError {
    ApiError::NotFound("route")
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

fn panic_response(_: Box<dyn Any + Send + 'static>) -> Response {
    tracing::error!("handler panicked");
    let body = crate::error::ErrorBody { error: "internal", message: "internal error".into(), details: None };
    (StatusCode::INTERNAL_SERVER_ERROR, Json(body)).into_response()
}
