//! `POST /api/vercel/register` (SPEC §6.1, §5.2): a domain bought through x402. The name is
//! checked available and priced before the 402; once paid, the registrar is asked to buy it
//! (at most the price paid for, never twice for one order) and a `pending` local domain record
//! follows the registrar's order ([`crate::automation`]).

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use super::{PROVIDER, name_refusal};
use crate::api::domains::DomainView;
use crate::api::extract::{ApiJson, typed};
use crate::api::references::{owned_agent, owned_sandbox};
use crate::api::validate::Check;
use crate::api::x402::{paid_request, pay};
use crate::auth::Principal;
use crate::config::ProvidersConfig;
use crate::domain::{AgentId, DomainName, DomainStatus, TransactionType, Usdc};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::payments::{Booking, Payments, Product, Quote};
use crate::providers::vercel::{BuyDomain, MAX_YEARS};
use crate::providers::{DomainRegistrar, ProviderError, Providers};
use crate::state::AppState;
use crate::store::domains::{self, Domain};
use crate::store::orders::Order;
use crate::store::registrations::Reservation;
use crate::store::{Tx, Unique, new_id, registrations};

/// Body of `POST /api/vercel/register`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RegisterDomainRequest {
    /// The name to buy (`example.com`).
    pub domain: Option<String>,
    /// Years, 1–10 (default 1).
    pub years: Option<i64>,
    /// The agent that owns it (the caller's).
    pub agent_id: Option<String>,
    /// Whether it renews itself (default true).
    pub auto_renew: Option<bool>,
    /// The sandbox it points at (the caller's).
    pub sandbox_id: Option<String>,
}

/// Buys a domain. Without a payment header: 402 with the order to pay. Paid: 201 with the
/// local domain record (`pending` until the registrar's order completes), the registrar order
/// and the receipt.
#[utoipa::path(post, path = "/api/vercel/register", tag = "vercel", request_body = RegisterDomainRequest,
    security(("apiKey" = []), ("adminToken" = [])),
    responses(
        (status = 201, description = "Paid and ordered: `success`, `domain` (status pending), `registrarOrder` \
            {id, status}, `receipt`", body = Object),
        (status = 402, description = "payment_required (the challenge) or a payment refusal, as for credits", body = Object),
        (status = 400, description = "validation_failed (also for a name the registrar does not sell)", body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, description = "the agent or sandbox is another key's", body = ErrorBody),
        (status = 409, description = "conflict: the name is taken", body = ErrorBody),
        (status = 502, description = "upstream_error", body = ErrorBody),
        (status = 503, description = "provider_not_configured, or a paid purchase failed: retry with the same payment",
            body = ErrorBody)))]
pub async fn register_domain(
    State(state): State<AppState>,
    principal: Principal,
    uri: Uri,
    headers: HeaderMap,
    ApiJson(raw): ApiJson<Value>,
) -> ApiResult<Response> {
    principal.require_authenticated()?;
    let body: RegisterDomainRequest = typed(raw.clone())?;
    let mut check = Check::new();
    let domain = check.required("domain", body.domain);
    let domain = check.domain_name("domain", domain);
    let years = check.int_range("years", body.years, 1, i64::from(MAX_YEARS)).unwrap_or(1) as u32;
    let agent_id = check.agent_id("agentId", body.agent_id);
    let sandbox_id = check.uuid("sandboxId", body.sandbox_id);
    let (domain,) = check.finish_with((domain,))?;
    state.providers.registrar().map_err(|e| super::provider_error(PROVIDER, e))?;
    let mut conn = state.store.read().await?;
    if let Some(agent_id) = agent_id {
        owned_agent(&mut conn, &principal, "agentId", agent_id).await?;
    }
    if let Some(sandbox_id) = &sandbox_id {
        owned_sandbox(&mut conn, &principal, "sandboxId", sandbox_id).await?;
    }
    drop(conn);
    let request = paid_request(&state, &principal, &uri, &headers, &raw);
    let params = DomainParams {
        domain: domain.into_string(),
        years,
        agent_id,
        sandbox_id,
        auto_renew: body.auto_renew.unwrap_or(true),
    };
    let product = DomainPurchase::new(&state.providers, &state.config.providers);
    pay(&state, product, request, params, &headers).await
}

/// A domain bought through the registrar.
#[derive(Clone)]
pub struct DomainPurchase {
    /// The registrar (`None` when `off`).
    registrar: Option<Arc<dyn DomainRegistrar>>,
    /// Percent added to the registrar's price.
    markup: u32,
}

/// What a domain purchase buys.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DomainParams {
    /// The name, lowercase.
    pub domain: String,
    /// Years.
    pub years: u32,
    /// The owning agent.
    pub agent_id: Option<AgentId>,
    /// The sandbox it points at.
    pub sandbox_id: Option<String>,
    /// Whether it renews itself.
    pub auto_renew: bool,
}

impl DomainPurchase {
    /// The product of these providers and settings.
    pub fn new(providers: &Providers, config: &ProvidersConfig) -> Self {
        Self { registrar: providers.vercel.clone(), markup: config.vercel.markup_percent }
    }

    fn registrar(&self) -> ApiResult<&dyn DomainRegistrar> {
        self.registrar.as_deref().ok_or(ApiError::ProviderNotConfigured(PROVIDER))
    }

    fn name(params: &DomainParams) -> ApiResult<DomainName> {
        DomainName::parse(&params.domain).ok_or_else(|| ApiError::field("domain", "is not a domain name"))
    }

    /// What the name costs through this server now: `(registrar price, amount to pay)`.
    async fn price(&self, params: &DomainParams) -> ApiResult<(Usdc, Usdc)> {
        let price = self.registrar()?.price(&Self::name(params)?, Some(params.years)).await.map_err(name_refusal)?;
        let amount = price
            .purchase_price
            .plus_percent(self.markup)
            .ok_or_else(|| ApiError::field("domain", "its price is beyond what one payment can carry"))?;
        Ok((price.purchase_price, amount))
    }
}

impl Product for DomainPurchase {
    const NAME: &'static str = "domain";
    const RESOURCE: &'static str = "POST /api/vercel/register";
    type Params = DomainParams;
    const TOLERANT: bool = false;

    async fn quote(&self, engine: &Payments, params: &DomainParams) -> ApiResult<Quote> {
        let name = Self::name(params)?;
        let mut conn = engine.store().read().await?;
        if domains::by_name(&mut conn, name.as_str()).await?.is_some() {
            return Err(ApiError::Conflict(format!("{name} is already a domain on this server")));
        }
        if !self.registrar()?.availability(&name).await.map_err(name_refusal)? {
            return Err(ApiError::Conflict(format!("{name} is not available")));
        }
        let (_, amount) = self.price(params).await?;
        let years = if params.years == 1 { "1 year".to_owned() } else { format!("{} years", params.years) };
        Ok(Quote { amount, description: format!("Domain {name} for {years}") })
    }

    async fn fulfil(&self, engine: &Payments, order: &Order, params: &DomainParams) -> ApiResult<Value> {
        let reserved = reserve(engine, order, params).await?;
        if let Some(registrar_order_id) = reserved.registrar_order_id {
            return Ok(json!({ "registrarOrderId": registrar_order_id }));
        }
        // A try before this one asked the registrar and its outcome is unknown: the name may be
        // bought. Every failure from here is one to retry, never a reason to refund.
        let unknown = reserved.buy_started;
        let retry = |why: String| ApiError::UpstreamUnavailable(format!("{why}; the purchase is retried"));
        let (registrar_price, amount) = self.price(params).await?;
        if amount > order.amount {
            let why = format!("the registrar's price rose to {registrar_price} USD since the order");
            return Err(if unknown {
                retry(why)
            } else {
                ApiError::Conflict(format!("{why}; the payment is refunded"))
            });
        }
        let mut tx = engine.store().begin().await?;
        registrations::mark_buy_started(&mut tx, &reserved.domain.id, engine.now()).await?;
        tx.commit().await?;
        let purchase = BuyDomain {
            years: params.years,
            auto_renew: params.auto_renew,
            expected_price: registrar_price,
            reference: order.id.clone(),
        };
        let name = Self::name(params)?;
        let order_id = match self.registrar()?.buy(&name, &purchase).await {
            Ok(order_id) => order_id,
            Err(ProviderError::Upstream { status: 400, ref code, .. }) if code == "domain_not_available" => {
                // Available when quoted, reserved here since, and now the account's: an earlier
                // try bought it and its answer was lost (a live registrar takes no reference).
                return match self.registrar()?.registered(&name).await {
                    Ok(sold) => Ok(json!({
                        "registrarOrderId": null,
                        "registeredAt": sold.bought_at.unwrap_or(engine.now()),
                        "expiresAt": sold.expires_at,
                    })),
                    Err(error) if unknown => {
                        Err(retry(format!("{} is taken and not found in the account: {error}", params.domain)))
                    }
                    Err(_) => Err(ApiError::Conflict(format!("{} is not available", params.domain))),
                };
            }
            Err(error) if unknown => return Err(retry(format!("the registrar refused the purchase again: {error}"))),
            Err(other) => return Err(name_refusal(other)),
        };
        // From here the purchase is followed, and never refunded unless the registrar fails it.
        let mut tx = engine.store().begin().await?;
        registrations::set_registrar_order(&mut tx, &reserved.domain.id, &order_id).await?;
        tx.commit().await?;
        Ok(json!({ "registrarOrderId": order_id }))
    }

    async fn record(
        &self,
        engine: &Payments,
        tx: &mut Tx,
        order: &Order,
        params: &DomainParams,
        fulfilled: Value,
    ) -> ApiResult<Value> {
        let registrar_order_id = fulfilled["registrarOrderId"].as_str();
        let mut stored = registrations::reserved_by(tx, &order.id)
            .await?
            .ok_or_else(|| ApiError::internal(anyhow::anyhow!("order {}: its domain is not reserved", order.id)))?
            .domain;
        if registrar_order_id.is_none() {
            // Bought by an earlier try (see `fulfil`): it is registered already.
            let registered_at = fulfilled["registeredAt"].as_i64().unwrap_or(engine.now());
            let expires_at = fulfilled["expiresAt"].as_i64();
            if let Some(done) = registrations::complete(tx, &stored.id, registered_at, expires_at, engine.now()).await?
            {
                stored = done;
            }
        }
        let booking = Booking {
            kind: TransactionType::Debit,
            category: "domain",
            agent_id: params.agent_id,
            description: format!("Domain {} for {} year(s) (order {})", params.domain, params.years, order.id),
            moves_credits: false,
        };
        engine.book(tx, order, &booking).await?;
        Ok(json!({
            "success": true,
            "domain": DomainView::full(stored),
            "registrarOrder": {
                "id": registrar_order_id,
                "status": if registrar_order_id.is_some() { "purchasing" } else { "completed" },
            },
        }))
    }

    /// A refunded purchase frees its name. One the registrar took (and has not failed), or may
    /// have taken (asked, outcome unknown, and the name not for sale again), is never refunded:
    /// its delivery is left to be retried.
    async fn refund(&self, engine: &Payments, tx: &mut Tx, order: &Order, params: &DomainParams) -> ApiResult<()> {
        let Some(reserved) = registrations::reserved_by(tx, &order.id).await? else {
            return Ok(());
        };
        let failed = reserved.domain.status == DomainStatus::Failed;
        let taken = match (&reserved.registrar_order_id, reserved.buy_started) {
            (Some(_), _) => !failed,
            (None, true) => !self.registrar()?.availability(&Self::name(params)?).await.unwrap_or(false),
            (None, false) => false,
        };
        if taken {
            return Err(ApiError::UpstreamUnavailable(format!(
                "order {}: the registrar took or may have taken its purchase; it is not refunded, and its delivery is retried",
                order.id
            )));
        }
        registrations::fail(tx, &reserved.domain.id, "not bought: the payment was refunded", engine.now()).await?;
        Ok(())
    }
}

/// Reserves the name for `order` (a pending local record tied to it), or finds the reservation
/// it made before with its registrar order. A name recorded by anyone else is a final refusal,
/// made before anything is bought.
async fn reserve(engine: &Payments, order: &Order, params: &DomainParams) -> ApiResult<Reservation> {
    let mut tx = engine.store().begin().await?;
    if let Some(reserved) = registrations::reserved_by(&mut tx, &order.id).await? {
        return Ok(reserved);
    }
    let now = engine.now();
    let domain = Domain {
        seq: 0,
        id: new_id(),
        name: params.domain.clone(),
        status: DomainStatus::Pending,
        registered_at: None,
        expires_at: None,
        auto_renew: params.auto_renew,
        dns_records: Vec::new(),
        sandbox_id: params.sandbox_id.clone(),
        agent_id: params.agent_id,
        registrar: PROVIDER.to_owned(),
        api_key_id: order.api_key_id.clone(),
        created_at: now,
        updated_at: now,
    };
    match registrations::reserve(&mut tx, &domain, &order.id, now).await {
        Ok(domain) => {
            tx.commit().await?;
            Ok(Reservation { domain, registrar_order_id: None, buy_started: false })
        }
        Err(error) if error.violates(Unique::DomainName) => {
            drop(tx);
            // A concurrent delivery of the same order may have reserved it: then it is ours.
            match registrations::reserved_by(&mut *engine.store().read().await?, &order.id).await? {
                Some(reserved) => Ok(reserved),
                None => Err(ApiError::Conflict(format!(
                    "{} became a domain on this server before it was bought",
                    params.domain
                ))),
            }
        }
        Err(error) => Err(error.into()),
    }
}
