//! Vercel, the domain registrar (SPEC §6.1): its status, what a domain costs and how to pay
//! for it, whether a name can be bought (public), and buying it ([`register`]).

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

mod account;
pub mod register;

use super::extract::ApiJson;
pub(crate) use super::provider_errors::provider_error;
use super::validate::Check;
use crate::domain::Usdc;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::providers::ProviderError;
use crate::providers::vercel::MAX_YEARS;
use crate::state::AppState;

pub(crate) const PROVIDER: &str = "vercel";

/// The registrar's refusals that are about the name asked for: a 400 on `domain`, not a 502.
const NAME_REFUSALS: &[&str] = &["tld_not_supported", "domain_too_short", "bad_request"];

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(vercel_status))
        .routes(routes!(payment_config))
        .routes(routes!(check_domain))
        .routes(routes!(register::register_domain))
        .routes(routes!(account::list_registrar_domains))
        .routes(routes!(account::list_dns_records, account::create_dns_record))
        .routes(routes!(account::delete_dns_record))
}

/// `GET /api/vercel/status`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProviderStatus {
    /// True unless the provider is `off`.
    pub configured: bool,
    /// `live`, `simulated` or `off`.
    pub mode: &'static str,
    /// Whether the upstream answers (a live one is asked at most once a minute).
    pub reachable: bool,
}

/// Whether the registrar is configured and answers.
#[utoipa::path(get, path = "/api/vercel/status", tag = "vercel", responses((status = 200, body = ProviderStatus)))]
pub async fn vercel_status(State(state): State<AppState>) -> Json<ProviderStatus> {
    let mode = state.config.providers.vercel.mode.as_str();
    let configured = state.providers.vercel.is_some();
    Json(ProviderStatus { configured, mode, reachable: state.providers.vercel_reachable().await })
}

/// What a domain purchase costs and how to pay for it.
#[utoipa::path(get, path = "/api/vercel/payment-config", tag = "vercel",
    responses((status = 200, description = "x402Version, network, asset, payTo, currency, markupPercent, \
        maxTimeoutSeconds, orderTtlSeconds, pricing", body = Object),
        (status = 503, description = "provider_not_configured", body = ErrorBody)))]
pub async fn payment_config(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    state.providers.registrar().map_err(|e| provider_error(PROVIDER, e))?;
    let t = state.payments.terms();
    Ok(Json(json!({
        "x402Version": 2,
        "network": t.network,
        "asset": t.token.verifying_contract.to_checksum(None),
        "payTo": t.pay_to.to_checksum(None),
        "currency": "USDC",
        "markupPercent": state.config.providers.vercel.markup_percent,
        "maxTimeoutSeconds": t.max_timeout_seconds,
        "orderTtlSeconds": t.order_ttl_ms / 1000,
        "pricing": "registrar purchase price × years + markup",
    })))
}

/// Body of `POST /api/vercel/check`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CheckDomainRequest {
    /// The name to check (`example.com`).
    pub domain: Option<String>,
    /// Alias of `domain`.
    pub name: Option<String>,
    /// Years to price, 1–10 (default 1).
    pub years: Option<i64>,
}

/// The registrar's prices, in US dollars.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RegistrarPrice {
    /// Price of buying the name for the years asked.
    #[schema(value_type = f64)]
    pub purchase_price: Usdc,
    /// Price of renewing it for as many years.
    #[schema(value_type = f64)]
    pub renewal_price: Usdc,
    /// Always `USD`.
    pub currency: &'static str,
}

/// Answer of `POST /api/vercel/check`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DomainCheck {
    /// The name, lowercase.
    pub domain: String,
    /// Whether it can be bought.
    pub available: bool,
    /// Years priced.
    pub years: u32,
    /// The registrar's prices (`null` when the name is taken).
    pub price: Option<RegistrarPrice>,
    /// What buying it through this server costs in USDC: the purchase price plus the markup.
    #[serde(rename = "amountUSDC")]
    #[schema(value_type = Option<f64>)]
    pub amount_usdc: Option<Usdc>,
    /// The same in the token's atomic units (6 decimals), as the 402 will ask.
    pub amount: Option<String>,
}

/// Whether a name can be bought, and what it costs.
#[utoipa::path(post, path = "/api/vercel/check", tag = "vercel", request_body = CheckDomainRequest,
    responses((status = 200, body = DomainCheck),
        (status = 400, description = "validation_failed: no or a malformed name, years outside 1–10, or a name \
            the registrar does not sell (unsupported TLD, too short)", body = ErrorBody),
        (status = 429, description = "rate_limited by the registrar (Retry-After)", body = ErrorBody),
        (status = 502, description = "upstream_error", body = ErrorBody),
        (status = 503, description = "provider_not_configured", body = ErrorBody)))]
pub async fn check_domain(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CheckDomainRequest>,
) -> ApiResult<Json<DomainCheck>> {
    let mut check = Check::new();
    let domain = check.required("domain", body.domain.or(body.name));
    let domain = check.domain_name("domain", domain);
    let years = check.int_range("years", body.years, 1, i64::from(MAX_YEARS)).unwrap_or(1) as u32;
    let (domain,) = check.finish_with((domain,))?;
    let registrar = state.providers.registrar().map_err(|e| provider_error(PROVIDER, e))?;
    if !registrar.availability(&domain).await.map_err(name_refusal)? {
        return Ok(Json(DomainCheck {
            domain: domain.into_string(),
            available: false,
            years,
            price: None,
            amount_usdc: None,
            amount: None,
        }));
    }
    let price = registrar.price(&domain, Some(years)).await.map_err(name_refusal)?;
    let markup = state.config.providers.vercel.markup_percent;
    let amount = price
        .purchase_price
        .plus_percent(markup)
        .ok_or_else(|| ApiError::field("domain", "its price is beyond what one payment can carry"))?;
    Ok(Json(DomainCheck {
        domain: domain.into_string(),
        available: true,
        years: price.years,
        price: Some(RegistrarPrice {
            purchase_price: price.purchase_price,
            renewal_price: price.renewal_price,
            currency: "USD",
        }),
        amount_usdc: Some(amount),
        amount: Some(amount.atomic_units().to_string()),
    }))
}

/// A registrar refusal of the name asked for is the client's mistake (400 on `domain`); any
/// other failure is the provider's.
pub(crate) fn name_refusal(error: ProviderError) -> ApiError {
    match &error {
        ProviderError::Upstream { status: 400, code, message, .. } if NAME_REFUSALS.contains(&code.as_str()) => {
            ApiError::field("domain", format!("is refused by the registrar: {message} ({code})"))
        }
        _ => provider_error(PROVIDER, error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_of_the_name_are_the_clients_and_the_rest_the_providers() {
        let refusal = name_refusal(ProviderError::upstream(400, "tld_not_supported", "no .museum"));
        assert_eq!(refusal.code(), "validation_failed");
        let outage = name_refusal(ProviderError::upstream(400, "order_too_expensive", "no"));
        assert_eq!(outage.code(), "upstream_error");
    }
}
