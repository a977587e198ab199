//! API keys (SPEC §4.1): generate (shown once), list (masked), revoke.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{ApiJson, PathId};
use super::list::ListQuery;
use super::validate::Check;
use crate::auth::{Principal, keys as key_material};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::state::AppState;
use crate::store::keys::{self, ApiKey};
use crate::wire;

/// Routes of this module.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(generate_key)).routes(routes!(list_keys)).routes(routes!(revoke_key))
}

/// Body of `POST /api/keys/generate`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GenerateKeyRequest {
    /// Human name, 1–128 characters.
    pub name: Option<String>,
    /// Wallet of the key's owner (ignored when a key that has one generates the new key: the
    /// new key inherits it).
    pub owner_wallet: Option<String>,
}

/// A newly generated key: the only time the full key is shown.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GeneratedKey {
    /// Key id.
    pub id: String,
    /// The full key. Store it now: it is never shown again.
    pub key: String,
    /// Name.
    pub name: String,
    /// Always `active`.
    pub status: String,
    /// Display prefix.
    pub key_prefix: String,
    /// Owner wallet.
    pub owner_wallet: Option<String>,
    /// Creation time.
    #[serde(serialize_with = "wire::timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: i64,
}

/// Result of a revocation.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RevokedKey {
    /// Key id.
    pub id: String,
    /// Always `revoked`.
    pub status: String,
    /// Agents the revocation made inactive.
    pub agents_deactivated: i64,
}

/// Generates an API key.
#[utoipa::path(post, path = "/api/keys/generate", tag = "keys", request_body = GenerateKeyRequest,
    security(("adminToken" = []), ("apiKey" = [])),
    responses((status = 201, description = "The new key, shown once", body = GeneratedKey),
              (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)))]
pub async fn generate_key(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<GenerateKeyRequest>,
) -> ApiResult<Response> {
    principal.require_authenticated()?;
    let mut check = Check::new();
    let name = check.required_text("name", body.name, 128);
    let requested_wallet = check.address("ownerWallet", body.owner_wallet);
    check.finish()?;
    let owner_wallet = match &principal {
        Principal::Key(key) => key.owner_wallet.clone().or(requested_wallet),
        _ => requested_wallet,
    };
    let now = state.now();
    let mut tx = state.store.begin().await?;
    let (stored, plaintext) =
        key_material::issue(&mut tx, name, owner_wallet, principal.key_id().map(str::to_owned), now).await?;
    tx.commit().await?;
    let body = GeneratedKey {
        id: stored.id,
        key: plaintext,
        name: stored.name,
        status: stored.status,
        key_prefix: stored.key_prefix,
        owner_wallet: stored.owner_wallet,
        created_at: stored.created_at,
    };
    Ok((StatusCode::CREATED, [(header::CACHE_CONTROL, "no-store")], Json(body)).into_response())
}

/// Lists keys: all of them for the admin; a key sees itself and the keys it generated.
#[utoipa::path(get, path = "/api/keys", tag = "keys", security(("adminToken" = []), ("apiKey" = [])),
    params(("limit" = Option<usize>, Query, description = "Page size, 1–1000 (default 100)"),
           ("cursor" = Option<String>, Query, description = "From X-Next-Cursor of the previous page")),
    responses((status = 200, body = Vec<ApiKey>), (status = 401, body = ErrorBody)))]
pub async fn list_keys(
    State(state): State<AppState>,
    principal: Principal,
    mut query: ListQuery,
) -> ApiResult<Response> {
    principal.require_authenticated()?;
    query.finish()?;
    let mut conn = state.store.read().await?;
    let page = keys::list(&mut conn, principal.key_id(), query.cursor, query.limit).await?;
    Ok(query.respond(page))
}

/// Revokes a key and deactivates its agents. Idempotent.
#[utoipa::path(delete, path = "/api/keys/{id}", tag = "keys", security(("adminToken" = []), ("apiKey" = [])),
    params(("id" = String, Path, description = "Key id")),
    responses((status = 200, body = RevokedKey), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn revoke_key(
    State(state): State<AppState>,
    principal: Principal,
    PathId(id): PathId,
) -> ApiResult<Json<RevokedKey>> {
    principal.require_authenticated()?;
    if !principal.is_admin() && principal.key_id() != Some(id.as_str()) {
        return Err(ApiError::Forbidden("a key may only revoke itself"));
    }
    let now = state.now();
    let mut tx = state.store.begin().await?;
    let agents_deactivated = key_material::revoke(&mut tx, &id, now).await?.ok_or(ApiError::NotFound("key"))?;
    tx.commit().await?;
    state.key_cache.forget(&id);
    Ok(Json(RevokedKey { id, status: "revoked".into(), agents_deactivated }))
}
