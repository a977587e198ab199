//! Who is asking (SPEC §3): the admin, an API key, or anonymous, read from the request headers
//! by the [`Principal`] extractor, plus the ownership rules every handler applies.

pub mod admin;
pub mod cache;
pub mod keys;

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;

use crate::error::ApiError;
use crate::state::AppState;

/// An authenticated API key (shared with the key cache: no copying per request).
pub type KeyPrincipal = std::sync::Arc<crate::store::keys::KeyAuth>;

/// The caller of a request.
#[derive(Debug, Clone)]
pub enum Principal {
    /// Holder of the admin token.
    Admin,
    /// Holder of an active API key.
    Key(KeyPrincipal),
    /// No credential.
    Anonymous,
}

impl Principal {
    /// Refuses anonymous callers with 401.
    pub fn require_authenticated(&self) -> Result<(), ApiError> {
        match self {
            Self::Anonymous => Err(ApiError::Unauthenticated("authentication required: send X-API-Key")),
            _ => Ok(()),
        }
    }

    /// Refuses everyone but the admin.
    pub fn require_admin(&self) -> Result<(), ApiError> {
        match self {
            Self::Admin => Ok(()),
            Self::Anonymous => Err(ApiError::Unauthenticated("authentication required: send X-Dashboard-Token")),
            Self::Key(_) => Err(ApiError::Forbidden("only the admin may do this")),
        }
    }

    /// The caller's key id (`None` for the admin and anonymous callers).
    pub fn key_id(&self) -> Option<&str> {
        match self {
            Self::Key(key) => Some(&key.id),
            _ => None,
        }
    }

    /// The caller as the write rules see it (`None` for anonymous callers).
    pub fn caller(&self) -> Option<crate::domain::Caller<'_>> {
        match self {
            Self::Admin => Some(crate::domain::Caller::Admin),
            Self::Key(key) => Some(crate::domain::Caller::Key(&key.id)),
            Self::Anonymous => None,
        }
    }

    /// True for the admin.
    pub fn is_admin(&self) -> bool {
        matches!(self, Self::Admin)
    }

    /// True when the caller may read in full and change a record owned by `owner_key_id`.
    pub fn owns(&self, owner_key_id: &str) -> bool {
        match self {
            Self::Admin => true,
            Self::Key(key) => key.id == owner_key_id,
            Self::Anonymous => false,
        }
    }

    /// 401 for anonymous callers, 403 when the record belongs to another key.
    pub fn require_owner(&self, owner_key_id: &str) -> Result<(), ApiError> {
        self.require_authenticated()?;
        if self.owns(owner_key_id) {
            Ok(())
        } else {
            Err(ApiError::Forbidden("this resource belongs to another API key"))
        }
    }
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(token) = admin_credential(&parts.headers) {
            return if state.admin_token.matches(token) {
                Ok(Self::Admin)
            } else {
                Err(ApiError::Unauthenticated("invalid admin token"))
            };
        }
        let Some(value) = parts.headers.get("x-api-key") else {
            return Ok(Self::Anonymous);
        };
        let candidate = value.to_str().unwrap_or("").trim();
        if !keys::is_well_formed(candidate) {
            return Err(ApiError::Unauthenticated("invalid API key"));
        }
        let digest = keys::digest(candidate);
        let Some(key) = state.key_cache.lookup(&state.store, &digest, state.now()).await? else {
            return Err(ApiError::Unauthenticated("invalid API key"));
        };
        // The key was found by its hash; compare the hashes once more in constant time.
        if !bool::from(subtle::ConstantTimeEq::ct_eq(&key.digest[..], &digest[..])) {
            return Err(ApiError::Unauthenticated("invalid API key"));
        }
        if key.status != crate::domain::KeyStatus::Active {
            return Err(ApiError::KeyRevoked);
        }
        Ok(Self::Key(key))
    }
}

fn admin_credential(headers: &HeaderMap) -> Option<&str> {
    if let Some(token) = headers.get("x-dashboard-token") {
        return Some(token.to_str().unwrap_or("").trim());
    }
    let bearer = headers.get(axum::http::header::AUTHORIZATION)?.to_str().ok()?;
    bearer.strip_prefix("Bearer ").map(str::trim)
}
