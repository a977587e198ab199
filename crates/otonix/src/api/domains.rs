//! Domains (SPEC §4.4): local domain records, unique by name.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::dns::{DnsRecordInput, validate_records};
use super::extract::{ApiJson, PathId};
use super::list::ListQuery;
use super::references::{owned_agent, owned_sandbox, owner_for};
use super::validate::Check;
use crate::auth::Principal;
use crate::clock::Millis;
use crate::domain::{AgentId, DomainStatus};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;
use crate::store::domains::{self, DnsRecord, Domain, DomainFilter, DomainPatch};
use crate::store::registrations;
use crate::store::{StoreError, Unique, new_id};
use crate::wire;

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create_domain, list_domains)).routes(routes!(get_domain, update_domain))
}

/// Body of `POST /api/domains`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateDomainRequest {
    /// Fully qualified name (stored lowercase), unique.
    pub name: Option<String>,
    /// `pending` (default), `active`, `expired` or `failed`.
    pub status: Option<String>,
    /// Registration time (RFC 3339).
    pub registered_at: Option<String>,
    /// Expiry time (RFC 3339).
    pub expires_at: Option<String>,
    /// Whether the automation renews it (default false).
    pub auto_renew: Option<bool>,
    /// DNS records, at most 100.
    pub dns_records: Option<Vec<DnsRecordInput>>,
    /// Sandbox it points at (must be the caller's).
    pub sandbox_id: Option<String>,
    /// Agent that owns it (must be the caller's).
    pub agent_id: Option<String>,
    /// `manual` (default) or `vercel`.
    pub registrar: Option<String>,
}

/// Body of `PATCH /api/domains/{id}`: absent fields stay, `null` clears a nullable one.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateDomainRequest {
    /// New status.
    pub status: Option<String>,
    /// New expiry (RFC 3339) or null.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub expires_at: Option<Option<String>>,
    /// New auto-renew flag.
    pub auto_renew: Option<bool>,
    /// Replacement DNS records.
    pub dns_records: Option<Vec<DnsRecordInput>>,
    /// New sandbox (must be the caller's) or null.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub sandbox_id: Option<Option<String>>,
    /// New agent (must be the caller's) or null.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub agent_id: Option<Option<String>>,
}

/// Tells a field given as `null` (`Some(None)`) from an absent one (`None`).
fn present<'de, T: Deserialize<'de>, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(deserializer).map(Some)
}

/// The domain object as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Domain)]
pub struct DomainView {
    /// Domain id.
    pub id: String,
    /// Lowercase fully qualified name, unique.
    pub name: String,
    /// `pending`, `active`, `expired` or `failed`.
    pub status: DomainStatus,
    /// Registration time.
    #[serde(serialize_with = "wire::opt_timestamp")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub registered_at: Option<Millis>,
    /// Expiry time.
    #[serde(serialize_with = "wire::opt_timestamp")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<Millis>,
    /// Whether the automation renews it.
    pub auto_renew: bool,
    /// DNS records (empty in sanitized views).
    pub dns_records: Vec<DnsRecord>,
    /// Sandbox it points at.
    pub sandbox_id: Option<String>,
    /// Agent that owns it (and pays its renewals).
    #[schema(value_type = Option<String>)]
    pub agent_id: Option<AgentId>,
    /// `vercel` or `manual`.
    pub registrar: String,
    /// Owning key.
    pub api_key_id: String,
    /// Creation time.
    #[serde(serialize_with = "wire::timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Millis,
    /// Last change.
    #[serde(serialize_with = "wire::timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Millis,
}

impl DomainView {
    /// The full view (its owner, the admin).
    pub fn full(domain: Domain) -> Self {
        Self {
            id: domain.id,
            name: domain.name,
            status: domain.status,
            registered_at: domain.registered_at,
            expires_at: domain.expires_at,
            auto_renew: domain.auto_renew,
            dns_records: domain.dns_records,
            sandbox_id: domain.sandbox_id,
            agent_id: domain.agent_id,
            registrar: domain.registrar,
            api_key_id: domain.api_key_id,
            created_at: domain.created_at,
            updated_at: domain.updated_at,
        }
    }

    /// The view for `principal`: other keys do not see the DNS records (SPEC §3.4).
    pub fn for_principal(domain: Domain, principal: &Principal) -> Self {
        let owned = principal.owns(&domain.api_key_id);
        let mut view = Self::full(domain);
        if !owned {
            view.dns_records = Vec::new();
        }
        view
    }
}

fn conflict_on_name(error: StoreError, name: &str) -> ApiError {
    if error.violates(Unique::DomainName) {
        ApiError::Conflict(format!("domain {name} already exists"))
    } else {
        error.into()
    }
}

/// Creates a domain record owned by the caller.
#[utoipa::path(post, path = "/api/domains", tag = "domains", request_body = CreateDomainRequest,
    security(("apiKey" = []), ("adminToken" = [])),
    responses((status = 201, body = DomainView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 409, description = "name taken", body = ErrorBody)))]
pub async fn create_domain(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<CreateDomainRequest>,
) -> ApiResult<(StatusCode, Json<DomainView>)> {
    principal.require_authenticated()?;
    let mut check = Check::new();
    let name = check.required("name", body.name);
    let name = check.domain_name("name", name);
    let status = check.word("status", body.status).unwrap_or(DomainStatus::Pending);
    let registered_at = check.timestamp("registeredAt", body.registered_at);
    let expires_at = check.timestamp("expiresAt", body.expires_at);
    let dns_records = validate_records(&mut check, "dnsRecords", body.dns_records.unwrap_or_default());
    let sandbox_id = check.uuid("sandboxId", body.sandbox_id);
    let agent_id = check.agent_id("agentId", body.agent_id);
    let registrar = check.one_of("registrar", body.registrar, &["manual", "vercel"]).unwrap_or_else(|| "manual".into());
    let (name,) = check.finish_with((name,))?;

    let now = state.now();
    let mut tx = state.store.begin().await?;
    let agent = match &agent_id {
        Some(id) => Some(owned_agent(&mut tx, &principal, "agentId", *id).await?),
        None => None,
    };
    if let Some(id) = &sandbox_id {
        owned_sandbox(&mut tx, &principal, "sandboxId", id).await?;
    }
    let domain = Domain {
        seq: 0,
        id: new_id(),
        name: name.to_string(),
        status,
        registered_at,
        expires_at,
        auto_renew: body.auto_renew.unwrap_or(false),
        dns_records,
        sandbox_id,
        agent_id,
        registrar,
        api_key_id: owner_for(&principal, agent.as_ref()),
        created_at: now,
        updated_at: now,
    };
    let stored = domains::insert(&mut tx, &domain, now).await.map_err(|e| conflict_on_name(e, name.as_str()))?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(DomainView::full(stored))))
}

/// Updates some fields of a domain the caller owns.
#[utoipa::path(patch, path = "/api/domains/{id}", tag = "domains", request_body = UpdateDomainRequest,
    security(("apiKey" = []), ("adminToken" = [])), params(("id" = String, Path, description = "Domain id")),
    responses((status = 200, body = DomainView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn update_domain(
    State(state): State<AppState>,
    principal: Principal,
    PathId(id): PathId,
    ApiJson(body): ApiJson<UpdateDomainRequest>,
) -> ApiResult<Json<DomainView>> {
    principal.require_authenticated()?;
    let mut check = Check::new();
    let patch_status = check.word("status", body.status);
    let expires_at = body.expires_at.map(|v| v.and_then(|t| check.timestamp("expiresAt", Some(t))));
    let dns_records = body.dns_records.map(|r| validate_records(&mut check, "dnsRecords", r));
    let sandbox_id = body.sandbox_id.map(|v| v.and_then(|s| check.uuid("sandboxId", Some(s))));
    let agent_id = body.agent_id.map(|v| v.and_then(|s| check.agent_id("agentId", Some(s))));
    check.finish()?;

    let now = state.now();
    let mut tx = state.store.begin().await?;
    let current = domains::get(&mut tx, &id).await?.ok_or(ApiError::NotFound("domain"))?;
    principal.require_owner(&current.api_key_id)?;
    if patch_status.is_some() && registrations::is_bought(&mut tx, &id).await? {
        return Err(ApiError::Conflict(
            "the status of a domain bought through the registrar follows the registrar; it cannot be set".into(),
        ));
    }
    if let Some(Some(agent)) = &agent_id {
        owned_agent(&mut tx, &principal, "agentId", *agent).await?;
    }
    if let Some(Some(sandbox)) = &sandbox_id {
        owned_sandbox(&mut tx, &principal, "sandboxId", sandbox).await?;
    }
    let patch = DomainPatch {
        status: patch_status,
        expires_at,
        auto_renew: body.auto_renew,
        dns_records,
        sandbox_id,
        agent_id,
    };
    let updated = domains::update(&mut tx, &id, &patch, now)
        .await
        .map_err(|e| conflict_on_name(e, &current.name))?
        .ok_or(ApiError::NotFound("domain"))?;
    tx.commit().await?;
    Ok(Json(DomainView::full(updated)))
}

/// Lists domains, newest first; other keys' domains sanitized.
#[utoipa::path(get, path = "/api/domains", tag = "domains",
    params(("agentId" = Option<String>, Query, description = "Agent id"), ("status" = Option<DomainStatus>, Query, description = "Status"),
           ("limit" = Option<usize>, Query, description = "Page size, 1–1000 (default 100)"), ("cursor" = Option<String>, Query, description = "Next page")),
    responses((status = 200, body = Vec<DomainView>), (status = 400, body = ErrorBody)))]
pub async fn list_domains(
    State(state): State<AppState>,
    principal: Principal,
    mut query: ListQuery,
) -> ApiResult<Response> {
    let filter = DomainFilter { agent_id: query.agent_id("agentId"), status: query.word("status") };
    query.finish()?;
    let mut conn = state.store.read().await?;
    let page = domains::list(&mut conn, &filter, query.cursor, query.limit).await?;
    Ok(query.respond(page.map(|d| DomainView::for_principal(d, &principal))))
}

/// One domain (its owner or the admin).
#[utoipa::path(get, path = "/api/domains/{id}", tag = "domains", security(("apiKey" = []), ("adminToken" = [])),
    params(("id" = String, Path, description = "Domain id")),
    responses((status = 200, body = DomainView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_domain(
    State(state): State<AppState>,
    principal: Principal,
    PathId(id): PathId,
) -> ApiResult<Json<DomainView>> {
    principal.require_authenticated()?;
    let mut conn = state.store.read().await?;
    let domain = domains::get(&mut conn, &id).await?.ok_or(ApiError::NotFound("domain"))?;
    principal.require_owner(&domain.api_key_id)?;
    Ok(Json(DomainView::full(domain)))
}
