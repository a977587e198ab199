//! Request extractors that answer with the API's error envelope: JSON bodies (content type,
//! size limit, parse errors naming the field) and path ids.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::domain::AgentId;
use crate::error::ApiError;

/// Largest accepted request body (SPEC §2.4).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// A JSON request body, required.
pub struct ApiJson<T>(pub T);

/// A JSON request body that may be absent (an empty body).
pub struct OptionalJson<T>(pub Option<T>);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        match OptionalJson::<T>::from_request(request, state).await? {
            OptionalJson(Some(value)) => Ok(Self(value)),
            OptionalJson(None) => Err(ApiError::InvalidJson("a JSON request body is required".into())),
        }
    }
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for OptionalJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let json_type = request.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(is_json_media_type);
        let bytes = Bytes::from_request(request, state).await.map_err(|rejection| {
            if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge(MAX_BODY_BYTES)
            } else {
                ApiError::InvalidJson("could not read the request body".into())
            }
        })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self(None));
        }
        if json_type != Some(true) {
            return Err(ApiError::UnsupportedMediaType);
        }
        parse(&bytes).map(|v| Self(Some(v)))
    }
}

fn is_json_media_type(value: &str) -> bool {
    let essence = value.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::InvalidJson(format!("request body is not valid JSON: {e}")))?;
    if !value.is_object() {
        return Err(ApiError::InvalidJson("request body must be a JSON object".into()));
    }
    typed(value)
}

/// Reads a typed body out of JSON, naming the field of any type error.
pub fn typed<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(value).map_err(|error| {
        let field = error.path().to_string();
        let reason = error.into_inner().to_string();
        ApiError::field(if field == "." { "body" } else { &field }, reason)
    })
}

/// A resource id from the path: any id that is not a UUID names nothing, so it is a 404.
/// `PathId` is a record's id as text, `PathId<AgentId>` an agent's.
pub struct PathId<T = String>(pub T);

/// What a path id can be read as.
pub trait FromPathId: Sized {
    /// The id, or `None` when `text` is not a UUID.
    fn from_path(text: &str) -> Option<Self>;
}

impl FromPathId for String {
    fn from_path(text: &str) -> Option<Self> {
        uuid::Uuid::parse_str(text).ok().map(|uuid| uuid.hyphenated().to_string())
    }
}

impl FromPathId for AgentId {
    fn from_path(text: &str) -> Option<Self> {
        AgentId::parse(text)
    }
}

impl<S: Send + Sync, T: FromPathId> FromRequestParts<S> for PathId<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let axum::extract::Path(id) = axum::extract::Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::NotFound("resource"))?;
        T::from_path(&id).map(Self).ok_or(ApiError::NotFound("resource"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognizes_json_media_types() {
        assert!(is_json_media_type("application/json"));
        assert!(is_json_media_type("Application/JSON; charset=utf-8"));
        assert!(is_json_media_type("application/merge-patch+json"));
        assert!(!is_json_media_type("text/plain"));
        assert!(!is_json_media_type("application/x-www-form-urlencoded"));
    }

    #[test]
    fn wrong_types_name_the_field() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Body {
            #[serde(rename = "heartbeatInterval")]
            heartbeat_interval: Option<i64>,
        }
        let error = parse::<Body>(br#"{"heartbeatInterval": "soon"}"#).unwrap_err();
        match error {
            ApiError::Validation(fields) => assert!(fields.contains_key("heartbeatInterval")),
            other => panic!("unexpected {other:?}"),
        }
        assert!(matches!(parse::<Body>(b"[1]"), Err(ApiError::InvalidJson(_))));
        assert!(matches!(parse::<Body>(b"{not json"), Err(ApiError::InvalidJson(_))));
    }
}
