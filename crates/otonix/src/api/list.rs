//! List endpoints (SPEC §2.3): query parameters (`limit`, `cursor`, filters) and the response
//! (a bare JSON array, newest first, with `X-Next-Cursor` and `Link` when more items exist).

use std::collections::HashMap;

use axum::Json;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, Uri};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::validate::Check;
use crate::clock::Millis;
use crate::domain::AgentId;
use crate::error::ApiError;
use crate::store::{Cursor, Page};

/// Default page size.
pub const DEFAULT_LIMIT: usize = 100;
/// Largest page size.
pub const MAX_LIMIT: usize = 1000;

/// Parsed query string of a list request. Field errors are collected in [`ListQuery::check`].
pub struct ListQuery {
    params: HashMap<String, String>,
    uri: Uri,
    /// Problems found so far.
    pub check: Check,
    /// Page size.
    pub limit: usize,
    /// Where to start.
    pub cursor: Option<Cursor>,
}

impl<S: Send + Sync> FromRequestParts<S> for ListQuery {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let raw = parts.uri.query().unwrap_or("");
        if raw.len() > 4096 {
            return Err(ApiError::field("query", "is too long"));
        }
        let params: HashMap<String, String> = form_urlencoded::parse(raw.as_bytes()).into_owned().collect();
        let mut check = Check::new();
        let limit = match params.get("limit") {
            None => DEFAULT_LIMIT,
            Some(text) => match text.parse::<usize>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
                _ => {
                    check.fail("limit", format!("must be an integer between 1 and {MAX_LIMIT}"));
                    DEFAULT_LIMIT
                }
            },
        };
        let cursor = params.get("cursor").and_then(|text| {
            let cursor = Cursor::decode(text);
            if cursor.is_none() {
                check.fail("cursor", "is not a cursor returned by this list");
            }
            cursor
        });
        Ok(Self { params, uri: parts.uri.clone(), check, limit, cursor })
    }
}

impl ListQuery {
    /// A free-text filter (at most 128 characters).
    pub fn text(&mut self, name: &str) -> Option<String> {
        let value = self.params.get(name).cloned();
        self.check.text(name, value, 128)
    }

    /// A filter on a [`Vocabulary`](crate::domain::Vocabulary) (a status, a type).
    pub fn word<T: crate::domain::Vocabulary>(&mut self, name: &str) -> Option<T> {
        let value = self.params.get(name).cloned();
        self.check.word(name, value)
    }

    /// A timestamp filter.
    pub fn timestamp(&mut self, name: &str) -> Option<Millis> {
        let value = self.params.get(name).cloned();
        self.check.timestamp(name, value)
    }

    /// An agent id filter.
    pub fn agent_id(&mut self, name: &str) -> Option<AgentId> {
        let value = self.params.get(name).cloned();
        self.check.agent_id(name, value)
    }

    /// A boolean flag (`true`/`false`/`1`/`0`).
    pub fn flag(&mut self, name: &str) -> bool {
        match self.params.get(name).map(String::as_str) {
            None | Some("false") | Some("0") => false,
            Some("true") | Some("1") | Some("") => true,
            Some(_) => {
                self.check.fail(name, "must be true or false");
                false
            }
        }
    }

    /// Ends parsing: 400 if any parameter was bad.
    pub fn finish(&mut self) -> Result<(), ApiError> {
        std::mem::take(&mut self.check).finish()
    }

    /// Builds the response for a page of this list.
    pub fn respond<T: Serialize>(&self, page: Page<T>) -> Response {
        let mut response = Json(page.items).into_response();
        if let Some(next) = page.next {
            let cursor = next.encode();
            let mut query: Vec<(String, String)> = form_urlencoded::parse(self.uri.query().unwrap_or("").as_bytes())
                .into_owned()
                .filter(|(k, _)| k != "cursor")
                .collect();
            query.push(("cursor".into(), cursor.clone()));
            let encoded = form_urlencoded::Serializer::new(String::new()).extend_pairs(query).finish();
            let link = format!("<{}?{}>; rel=\"next\"", self.uri.path(), encoded);
            let headers = response.headers_mut();
            if let Ok(value) = HeaderValue::from_str(&cursor) {
                headers.insert("x-next-cursor", value);
            }
            if let Ok(value) = HeaderValue::from_str(&link) {
                headers.insert(axum::http::header::LINK, value);
            }
        }
        response
    }
}
