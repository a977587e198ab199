//! Checks on records a request refers to: a referenced agent or sandbox must exist (else 400
//! naming the field) and belong to the caller (else 403).

use sqlx::AnyConnection;

use crate::auth::Principal;
use crate::domain::AgentId;
use crate::domain::heartbeat::ADMIN_OWNER;
use crate::error::{ApiError, ApiResult};
use crate::store::agents::{self, AgentAccess};
use crate::store::sandboxes::{self, Sandbox};

/// The referenced agent, which the caller must own.
pub async fn owned_agent(
    conn: &mut AnyConnection,
    principal: &Principal,
    field: &str,
    agent_id: AgentId,
) -> ApiResult<AgentAccess> {
    let access = agents::access(conn, agent_id).await?.ok_or_else(|| ApiError::field(field, "no such agent"))?;
    if !principal.owns(&access.api_key_id) {
        return Err(ApiError::Forbidden("the referenced agent belongs to another API key"));
    }
    Ok(access)
}

/// The referenced sandbox, which the caller must own.
pub async fn owned_sandbox(
    conn: &mut AnyConnection,
    principal: &Principal,
    field: &str,
    sandbox_id: &str,
) -> ApiResult<Sandbox> {
    let sandbox = sandboxes::get(conn, sandbox_id).await?.ok_or_else(|| ApiError::field(field, "no such sandbox"))?;
    if !principal.owns(&sandbox.api_key_id) {
        return Err(ApiError::Forbidden("the referenced sandbox belongs to another API key"));
    }
    Ok(sandbox)
}

/// The key that will own a record the caller creates: its own key, or for the admin the owner
/// of the referenced agent (records the admin creates without one are the admin's: `"admin"`).
pub fn owner_for(principal: &Principal, agent: Option<&AgentAccess>) -> String {
    match (principal.key_id(), agent) {
        (Some(key), _) => key.to_owned(),
        (None, Some(agent)) => agent.api_key_id.clone(),
        (None, None) => ADMIN_OWNER.to_owned(),
    }
}
