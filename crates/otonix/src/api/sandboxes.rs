//! Sandboxes (SPEC §4.3): records of the servers agents run on.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{ApiJson, PathId};
use super::list::ListQuery;
use super::references::{owned_agent, owner_for};
use super::validate::Check;
use crate::auth::Principal;
use crate::clock::Millis;
use crate::domain::{AgentId, SandboxStatus};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::sanitize::{MASKED_PASSWORD, mask_ip};
use crate::state::AppState;
use crate::store::new_id;
use crate::store::sandboxes::{self, Sandbox, SandboxFilter};
use crate::wire;

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create_sandbox, list_sandboxes)).routes(routes!(get_sandbox))
}

/// Body of `POST /api/sandboxes`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreateSandboxRequest {
    /// Name, 1–128 characters.
    pub name: Option<String>,
    /// `running` (default), `stopped`, `deploying`, `error` or `deleted`.
    pub status: Option<String>,
    /// Operating system, at most 128 characters.
    pub os: Option<String>,
    /// vCPUs, 1–1,024.
    pub cpu: Option<i64>,
    /// Memory in MB, 1–16,777,216.
    pub memory: Option<i64>,
    /// Disk in GB, 1–1,048,576.
    pub disk: Option<i64>,
    /// Region, at most 128 characters.
    pub region: Option<String>,
    /// Public IPv4 or IPv6 address.
    pub ip_address: Option<String>,
    /// Open ports (1–65,535), at most 100.
    pub ports: Option<Vec<i64>>,
    /// SSH user, at most 64 characters.
    pub ssh_user: Option<String>,
    /// SSH password, at most 256 characters.
    pub ssh_password: Option<String>,
    /// Agent living on it (must be the caller's).
    pub agent_id: Option<String>,
    /// `manual` (default) or `cherry`.
    pub provider: Option<String>,
    /// The provider's server id, at most 128 characters.
    pub provider_server_id: Option<String>,
}

/// The sandbox object as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Sandbox)]
pub struct SandboxView {
    /// Sandbox id.
    pub id: String,
    /// Name.
    pub name: String,
    /// `running`, `stopped`, `deploying`, `error` or `deleted`.
    pub status: SandboxStatus,
    /// Operating system.
    pub os: Option<String>,
    /// vCPUs.
    pub cpu: Option<i64>,
    /// Memory in MB.
    pub memory: Option<i64>,
    /// Disk in GB.
    pub disk: Option<i64>,
    /// Region.
    pub region: Option<String>,
    /// Public IP address.
    pub ip_address: Option<String>,
    /// Open ports.
    pub ports: Vec<i64>,
    /// SSH user.
    pub ssh_user: Option<String>,
    /// SSH password (masked in sanitized views).
    pub ssh_password: Option<String>,
    /// Agent living on it.
    #[schema(value_type = Option<String>)]
    pub agent_id: Option<AgentId>,
    /// `cherry` or `manual`.
    pub provider: String,
    /// The provider's server id.
    pub provider_server_id: Option<String>,
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

impl SandboxView {
    /// The full view (its owner, the admin).
    pub fn full(sandbox: Sandbox) -> Self {
        Self {
            id: sandbox.id,
            name: sandbox.name,
            status: sandbox.status,
            os: sandbox.os,
            cpu: sandbox.cpu,
            memory: sandbox.memory,
            disk: sandbox.disk,
            region: sandbox.region,
            ip_address: sandbox.ip_address,
            ports: sandbox.ports,
            ssh_user: sandbox.ssh_user,
            ssh_password: sandbox.ssh_password,
            agent_id: sandbox.agent_id,
            provider: sandbox.provider,
            provider_server_id: sandbox.provider_server_id,
            api_key_id: sandbox.api_key_id,
            created_at: sandbox.created_at,
            updated_at: sandbox.updated_at,
        }
    }

    /// The view for `principal`: for other keys the IP and the SSH password masked (SPEC §3.4).
    pub fn for_principal(sandbox: Sandbox, principal: &Principal) -> Self {
        let owned = principal.owns(&sandbox.api_key_id);
        let mut view = Self::full(sandbox);
        if !owned {
            view.ip_address = view.ip_address.as_deref().map(mask_ip);
            view.ssh_password = view.ssh_password.map(|_| MASKED_PASSWORD.to_owned());
        }
        view
    }
}

/// Creates a sandbox record owned by the caller.
#[utoipa::path(post, path = "/api/sandboxes", tag = "sandboxes", request_body = CreateSandboxRequest,
    security(("apiKey" = []), ("adminToken" = [])),
    responses((status = 201, body = SandboxView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn create_sandbox(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<CreateSandboxRequest>,
) -> ApiResult<(StatusCode, Json<SandboxView>)> {
    principal.require_authenticated()?;
    let mut check = Check::new();
    let name = check.required_text("name", body.name, 128);
    let status = check.word("status", body.status).unwrap_or(SandboxStatus::Running);
    let os = check.text("os", body.os, 128);
    let cpu = check.int_range("cpu", body.cpu, 1, 1024);
    let memory = check.int_range("memory", body.memory, 1, 16 * 1024 * 1024);
    let disk = check.int_range("disk", body.disk, 1, 1024 * 1024);
    let region = check.text("region", body.region, 128);
    let ip_address = check.ip("ipAddress", body.ip_address);
    let ports = body.ports.unwrap_or_default();
    if ports.len() > 100 || ports.iter().any(|p| !(1..=65_535).contains(p)) {
        check.fail("ports", "must be at most 100 port numbers between 1 and 65535");
    }
    let ssh_user = check.text("sshUser", body.ssh_user, 64);
    let ssh_password = check.text("sshPassword", body.ssh_password, 256);
    let agent_id = check.agent_id("agentId", body.agent_id);
    let provider = check.one_of("provider", body.provider, &["manual", "cherry"]).unwrap_or_else(|| "manual".into());
    let provider_server_id = check.text("providerServerId", body.provider_server_id, 128);
    check.finish()?;

    let now = state.now();
    let mut tx = state.store.begin().await?;
    let agent = match &agent_id {
        Some(id) => Some(owned_agent(&mut tx, &principal, "agentId", *id).await?),
        None => None,
    };
    let sandbox = Sandbox {
        seq: 0,
        id: new_id(),
        name,
        status,
        os,
        cpu,
        memory,
        disk,
        region,
        ip_address,
        ports,
        ssh_user,
        ssh_password,
        agent_id,
        provider,
        provider_server_id,
        api_key_id: owner_for(&principal, agent.as_ref()),
        created_at: now,
        updated_at: now,
    };
    let stored = sandboxes::insert(&mut tx, &sandbox, now).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(SandboxView::full(stored))))
}

/// Lists sandboxes, newest first; other keys' sandboxes sanitized.
#[utoipa::path(get, path = "/api/sandboxes", tag = "sandboxes",
    params(("agentId" = Option<String>, Query, description = "Agent id"), ("status" = Option<SandboxStatus>, Query, description = "Status"),
           ("limit" = Option<usize>, Query, description = "Page size, 1–1000 (default 100)"), ("cursor" = Option<String>, Query, description = "Next page")),
    responses((status = 200, body = Vec<SandboxView>), (status = 400, body = ErrorBody)))]
pub async fn list_sandboxes(
    State(state): State<AppState>,
    principal: Principal,
    mut query: ListQuery,
) -> ApiResult<Response> {
    let filter = SandboxFilter { agent_id: query.agent_id("agentId"), status: query.word("status") };
    query.finish()?;
    let mut conn = state.store.read().await?;
    let page = sandboxes::list(&mut conn, &filter, query.cursor, query.limit).await?;
    Ok(query.respond(page.map(|s| SandboxView::for_principal(s, &principal))))
}

/// One sandbox (its owner or the admin).
#[utoipa::path(get, path = "/api/sandboxes/{id}", tag = "sandboxes", security(("apiKey" = []), ("adminToken" = [])),
    params(("id" = String, Path, description = "Sandbox id")),
    responses((status = 200, body = SandboxView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_sandbox(
    State(state): State<AppState>,
    principal: Principal,
    PathId(id): PathId,
) -> ApiResult<Json<SandboxView>> {
    principal.require_authenticated()?;
    let mut conn = state.store.read().await?;
    let sandbox = sandboxes::get(&mut conn, &id).await?.ok_or(ApiError::NotFound("sandbox"))?;
    principal.require_owner(&sandbox.api_key_id)?;
    Ok(Json(SandboxView::full(sandbox)))
}
