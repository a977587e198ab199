//! The registrar account (SPEC §6.1): the names bought through it, and their DNS records. A
//! key sees and changes only the names whose local domain record it owns; the admin, all. A
//! DNS change is made at the registrar, then the local record's `dnsRecords` are set to the
//! registrar's list.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

use super::{PROVIDER, provider_error};
use crate::api::dns::{DnsRecordInput, validate_record};
use crate::api::extract::ApiJson;
use crate::api::validate::Check;
use crate::auth::Principal;
use crate::clock::Millis;
use crate::domain::DomainName;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::providers::DomainRegistrar;
use crate::providers::vercel::{NewRecord, RegistrarRecord};
use crate::state::AppState;
use crate::store::domains::{self, DnsRecord, Domain, DomainPatch};
use crate::store::registrations;
use crate::wire;

/// A name of the registrar account.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RegistrarDomainView {
    /// The name.
    pub name: String,
    /// The local record's status (`active` for a name with no local record).
    pub status: String,
    /// When it was bought.
    #[serde(serialize_with = "wire::timestamp")]
    #[schema(value_type = String)]
    pub created_at: Millis,
    /// When it expires.
    #[serde(serialize_with = "wire::opt_timestamp")]
    #[schema(value_type = Option<String>)]
    pub expires_at: Option<Millis>,
    /// Whether the registrar renews it.
    pub auto_renew: bool,
    /// Its name servers.
    pub nameservers: Vec<String>,
}

/// A DNS record at the registrar.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RegistrarRecordView {
    /// `rec_…`.
    pub id: String,
    /// The type.
    #[serde(rename = "type")]
    pub record_type: String,
    /// Name relative to the domain (`@` for the apex).
    pub name: String,
    /// Value.
    pub value: String,
    /// TTL in seconds.
    pub ttl: i64,
    /// Priority (MX, SRV).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub priority: Option<i64>,
    /// When it was made.
    #[serde(serialize_with = "wire::timestamp")]
    #[schema(value_type = String)]
    pub created_at: Millis,
}

impl From<RegistrarRecord> for RegistrarRecordView {
    fn from(r: RegistrarRecord) -> Self {
        let name = if r.name.is_empty() { "@".to_owned() } else { r.name };
        Self {
            id: r.id,
            record_type: r.record_type,
            name,
            value: r.value,
            ttl: r.ttl,
            priority: r.priority,
            created_at: r.created_at,
        }
    }
}

/// The names of the registrar account: the caller's own (a key), or all (the admin).
#[utoipa::path(get, path = "/api/vercel/domains", tag = "vercel", security(("apiKey" = []), ("adminToken" = [])),
    responses((status = 200, body = Vec<RegistrarDomainView>), (status = 401, body = ErrorBody),
        (status = 502, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn list_registrar_domains(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<Json<Vec<RegistrarDomainView>>> {
    principal.require_authenticated()?;
    let registrar = registrar(&state)?;
    let names = registrar.domains().await.map_err(|e| provider_error(PROVIDER, e))?;
    let mut conn = state.store.read().await?;
    let mut views = Vec::with_capacity(names.len());
    for name in names {
        let local = held_record(&mut conn, &principal, &name.name).await?;
        let owned = local.as_ref().is_some_and(|d| principal.owns(&d.api_key_id));
        if !owned && principal.key_id().is_some() {
            continue;
        }
        views.push(RegistrarDomainView {
            status: local.map_or_else(|| "active".to_owned(), |d| d.status.as_str().to_owned()),
            name: name.name,
            created_at: name.created_at,
            expires_at: name.expires_at,
            auto_renew: name.auto_renew,
            nameservers: name.nameservers,
        });
    }
    Ok(Json(views))
}

/// The DNS records of a name (its owner or the admin).
#[utoipa::path(get, path = "/api/vercel/dns/{domain}", tag = "vercel", security(("apiKey" = []), ("adminToken" = [])),
    params(("domain" = String, Path, description = "The name")),
    responses((status = 200, body = Vec<RegistrarRecordView>), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 502, body = ErrorBody),
        (status = 503, body = ErrorBody)))]
pub async fn list_dns_records(
    State(state): State<AppState>,
    principal: Principal,
    Path(domain): Path<String>,
) -> ApiResult<Json<Vec<RegistrarRecordView>>> {
    let (name, _) = owned_name(&state, &principal, &domain).await?;
    let records = registrar(&state)?.records(&name).await.map_err(|e| provider_error(PROVIDER, e))?;
    Ok(Json(records.into_iter().map(RegistrarRecordView::from).collect()))
}

/// Makes a DNS record (its owner or the admin); the local domain's `dnsRecords` follow.
#[utoipa::path(post, path = "/api/vercel/dns/{domain}", tag = "vercel", request_body = DnsRecordInput,
    security(("apiKey" = []), ("adminToken" = [])), params(("domain" = String, Path, description = "The name")),
    responses((status = 201, body = RegistrarRecordView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 502, body = ErrorBody),
        (status = 503, body = ErrorBody)))]
pub async fn create_dns_record(
    State(state): State<AppState>,
    principal: Principal,
    Path(domain): Path<String>,
    ApiJson(input): ApiJson<DnsRecordInput>,
) -> ApiResult<(StatusCode, Json<RegistrarRecordView>)> {
    let mut check = Check::new();
    let record = validate_record(&mut check, "record", input);
    check.finish()?;
    let record = record.ok_or_else(|| ApiError::field("record", "is not a valid DNS record"))?;
    let (name, local) = owned_name(&state, &principal, &domain).await?;
    let registrar = registrar(&state)?;
    let new = NewRecord {
        name: if record.name == "@" { String::new() } else { record.name },
        record_type: record.record_type,
        value: record.value,
        ttl: record.ttl,
        priority: record.priority,
    };
    let id = registrar.create_record(&name, &new).await.map_err(|e| provider_error(PROVIDER, e))?;
    let records = mirror(&state, registrar, &name, &local).await?;
    let created = records.into_iter().find(|r| r.id == id).ok_or_else(|| ApiError::UpstreamError {
        provider: PROVIDER,
        status: None,
        code: "record_missing".into(),
        message: format!("the registrar does not list the record {id} it made"),
    })?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// Answer of `DELETE /api/vercel/dns/{domain}/{recordId}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeletedRecord {
    /// Always true.
    pub deleted: bool,
    /// The record's id.
    pub id: String,
}

/// Deletes a DNS record (its owner or the admin); the local domain's `dnsRecords` follow.
#[utoipa::path(delete, path = "/api/vercel/dns/{domain}/{recordId}", tag = "vercel",
    security(("apiKey" = []), ("adminToken" = [])),
    params(("domain" = String, Path, description = "The name"), ("recordId" = String, Path, description = "Record id")),
    responses((status = 200, body = DeletedRecord), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 502, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn delete_dns_record(
    State(state): State<AppState>,
    principal: Principal,
    Path((domain, record_id)): Path<(String, String)>,
) -> ApiResult<Json<DeletedRecord>> {
    let (name, local) = owned_name(&state, &principal, &domain).await?;
    let well_formed = !record_id.is_empty()
        && record_id.len() <= 64
        && record_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if !well_formed {
        return Err(ApiError::NotFound("DNS record"));
    }
    let registrar = registrar(&state)?;
    registrar.delete_record(&name, &record_id).await.map_err(|e| match e {
        crate::providers::ProviderError::Upstream { status: 404, .. } => ApiError::NotFound("DNS record"),
        other => provider_error(PROVIDER, other),
    })?;
    mirror(&state, registrar, &name, &local).await?;
    Ok(Json(DeletedRecord { deleted: true, id: record_id }))
}

fn registrar(state: &AppState) -> ApiResult<&dyn DomainRegistrar> {
    state.providers.registrar().map_err(|e| provider_error(PROVIDER, e))
}

/// The name in the path and its local record, which the caller must own. A key's name must be
/// one the server bought for it and holds (`active` or `expired`): a record anyone can make with
/// `POST /api/domains` gives no hold on the account's DNS. The admin may use any local record.
async fn owned_name(state: &AppState, principal: &Principal, text: &str) -> ApiResult<(DomainName, Domain)> {
    principal.require_authenticated()?;
    registrar(state)?;
    let name = DomainName::parse(text).ok_or(ApiError::NotFound("domain"))?;
    let mut conn = state.store.read().await?;
    let local = held_record(&mut conn, principal, name.as_str()).await?.ok_or(ApiError::NotFound("domain"))?;
    principal.require_owner(&local.api_key_id)?;
    Ok((name, local))
}

/// The local record through which `principal` may reach a name of the account: for a key, the
/// record of a name the server bought and holds; for the admin, any record of the name.
async fn held_record(conn: &mut sqlx::AnyConnection, principal: &Principal, name: &str) -> ApiResult<Option<Domain>> {
    Ok(match principal.key_id() {
        Some(_) => registrations::bought(conn, name).await?,
        None => domains::by_name(conn, name).await?,
    })
}

/// Sets the local record's `dnsRecords` to the registrar's list, and returns that list.
async fn mirror(
    state: &AppState,
    registrar: &dyn DomainRegistrar,
    name: &DomainName,
    local: &Domain,
) -> ApiResult<Vec<RegistrarRecord>> {
    let records = registrar.records(name).await.map_err(|e| provider_error(PROVIDER, e))?;
    let dns_records = records
        .iter()
        .map(|r| DnsRecord {
            id: r.id.clone(),
            record_type: r.record_type.clone(),
            name: if r.name.is_empty() { "@".to_owned() } else { r.name.clone() },
            value: r.value.clone(),
            ttl: r.ttl,
            priority: r.priority,
        })
        .collect();
    let patch = DomainPatch { dns_records: Some(dns_records), ..DomainPatch::default() };
    let mut tx = state.store.begin().await?;
    domains::update(&mut tx, &local.id, &patch, state.now()).await?;
    tx.commit().await?;
    Ok(records)
}
