//! Conventions of SPEC §2 and operations: the error envelope everywhere, request ids,
//! health endpoints, the OpenAPI document.

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::{As, assert_error, spawn_app};

#[tokio::test]
async fn unknown_routes_and_wrong_methods_use_the_envelope() {
    let app = spawn_app().await;
    let (status, body) = app.get("/api/nothing-here", As::Anonymous).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    let (status, body) = app.call(Method::PUT, "/api/agents", As::Anonymous, None).await;
    assert_error(status, &body, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    let (status, body) = app.call(Method::DELETE, "/api/agents/register", As::Anonymous, None).await;
    assert_error(status, &body, StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
}

#[tokio::test]
async fn every_response_carries_a_request_id_echoing_a_valid_one() {
    let app = spawn_app().await;
    let response = app
        .request(Method::GET, "/healthz", As::Anonymous)
        .header("X-Request-Id", "trace-abc.123")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "trace-abc.123");
    let response = app
        .request(Method::GET, "/api/nope", As::Anonymous)
        .header("X-Request-Id", "bad id with spaces")
        .send()
        .await
        .unwrap();
    let generated = response.headers()["x-request-id"].to_str().unwrap();
    assert!(uuid::Uuid::parse_str(generated).is_ok(), "{generated}");
    let response = app.request(Method::GET, "/api/agents", As::Anonymous).send().await.unwrap();
    assert!(response.headers().contains_key("x-request-id"));
}

#[tokio::test]
async fn health_and_readiness() {
    let app = spawn_app().await;
    let (status, body) = app.get("/healthz", As::Anonymous).await;
    assert_eq!((status, body["status"].as_str()), (StatusCode::OK, Some("ok")));
    let (status, body) = app.get("/readyz", As::Anonymous).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "ready");
    assert_eq!(body["database"]["reachable"], true);
    assert_eq!(body["database"]["migrated"], true);
    let expected = if app.database.is_some() { "postgres" } else { "sqlite" };
    assert_eq!(body["database"]["backend"], expected);
}

#[tokio::test]
async fn the_openapi_document_covers_every_endpoint() {
    let app = spawn_app().await;
    let (status, doc) = app.get("/api/openapi.json", As::Anonymous).await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = doc["paths"].as_object().unwrap();
    for (path, method) in [
        ("/healthz", "get"),
        ("/readyz", "get"),
        ("/api/keys/generate", "post"),
        ("/api/keys", "get"),
        ("/api/keys/{id}", "delete"),
        ("/api/agents/register", "post"),
        ("/api/agents", "get"),
        ("/api/agents/{id}", "get"),
        ("/api/agents/{id}/heartbeat", "post"),
        ("/api/agents/{id}/wallet/verify", "post"),
        ("/api/agents/{id}/actions", "post"),
        ("/api/agents/{id}/actions", "get"),
        ("/api/agent-actions", "get"),
        ("/api/sandboxes", "post"),
        ("/api/sandboxes", "get"),
        ("/api/sandboxes/{id}", "get"),
        ("/api/domains", "post"),
        ("/api/domains", "get"),
        ("/api/domains/{id}", "get"),
        ("/api/domains/{id}", "patch"),
        ("/api/compute-logs", "post"),
        ("/api/compute-logs", "get"),
        ("/api/transactions", "post"),
        ("/api/transactions", "get"),
        ("/api/agents/{id}/credits", "post"),
        ("/api/x402/config", "get"),
        ("/healthz", "get"),
        ("/readyz", "get"),
    ] {
        assert!(paths.get(path).and_then(|p| p.get(method)).is_some(), "{method} {path} is documented");
    }
    let schemes: &Value = &doc["components"]["securitySchemes"];
    assert!(schemes.get("apiKey").is_some() && schemes.get("adminToken").is_some());
}

/// utoipa names a schema after its type and keeps the last of two types with one name: the
/// document would then describe one of them wrongly, silently. Every type that derives
/// `ToSchema` (directly or through `vocabulary!`) must have a name of its own.
#[test]
fn every_openapi_schema_name_is_unique() {
    let mut names: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    let mut files = vec![std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/src"))];
    let mut checked = 0;
    while let Some(path) = files.pop() {
        if path.is_dir() {
            files.extend(std::fs::read_dir(&path).unwrap().map(|entry| entry.unwrap().path()));
            continue;
        }
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let mut schema_pending = false;
        // `#[schema(as = path::Name)]` names the schema instead of the type.
        let mut named_as: Option<String> = None;
        for line in text.lines().map(str::trim) {
            if schema_pending && let Some(path) = line.strip_prefix("#[schema(as = ") {
                named_as = path.trim_end_matches(")]").rsplit("::").next().map(str::to_owned);
                continue;
            }
            if (line.starts_with("#[derive(") && line.contains("ToSchema")) || line.ends_with("vocabulary! {") {
                schema_pending = !line.starts_with("macro_rules!");
                continue;
            }
            if !schema_pending || line.starts_with("#[") || line.starts_with("///") || line.starts_with("$") {
                continue;
            }
            let type_name = line
                .trim_start_matches("pub ")
                .trim_start_matches("struct ")
                .trim_start_matches("enum ")
                .split(|c: char| !c.is_alphanumeric() && c != '_')
                .next()
                .unwrap()
                .to_owned();
            let name = named_as.take().unwrap_or(type_name);
            schema_pending = false;
            checked += 1;
            let place = format!("{}", path.display());
            if let Some(first) = names.insert(name.clone(), place.clone()) {
                panic!("two schemas are named {name}: in {first} and in {place}");
            }
        }
    }
    assert!(checked > 30 && names.contains_key("AgentStatus") && names.contains_key("Agent"), "{names:?}");
}
