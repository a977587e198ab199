//! Bad input gets a clear 4xx in the SPEC §2.2 envelope naming the field, and writes nothing.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{As, TestApp, TestKey, assert_error, spawn_app};

async fn agent_count(app: &TestApp) -> usize {
    app.get("/api/agents", As::Admin).await.1.as_array().unwrap().len()
}

#[tokio::test]
async fn registration_rejects_bad_fields_by_name_and_writes_nothing() {
    let app = spawn_app().await;
    let key = app.create_key("k").await;
    let cases: Vec<(Value, &str)> = vec![
        (json!({}), "name"),
        (json!({ "name": "" }), "name"),
        (json!({ "name": "x".repeat(129) }), "name"),
        (json!({ "name": 42 }), "name"),
        (json!({ "name": "a", "model": "m".repeat(65) }), "model"),
        (json!({ "name": "a", "genesisPrompt": "g".repeat(32 * 1024 + 1) }), "genesisPrompt"),
        (json!({ "name": "a", "heartbeatInterval": -5 }), "heartbeatInterval"),
        (json!({ "name": "a", "heartbeatInterval": 9 }), "heartbeatInterval"),
        (json!({ "name": "a", "heartbeatInterval": 86_401 }), "heartbeatInterval"),
        (json!({ "name": "a", "heartbeatInterval": "60" }), "heartbeatInterval"),
        (json!({ "name": "a", "heartbeatInterval": 60.5 }), "heartbeatInterval"),
        (json!({ "name": "a", "walletAddress": "0x1234" }), "walletAddress"),
        (json!({ "name": "a", "walletAddress": "0x70997970C51812DC3A010C7D01B50E0D17DC79c8" }), "walletAddress"),
        (json!({ "name": "a", "walletAddress": 7 }), "walletAddress"),
        (json!({ "name": "a", "vpsIp": "300.1.1.1" }), "vpsIp"),
        (json!({ "name": "a", "vpsIp": "example.com" }), "vpsIp"),
        // U+0000 cannot be stored by PostgreSQL; no backend accepts it.
        (json!({ "name": "a\u{0}b" }), "name"),
        (json!({ "name": "a", "genesisPrompt": "\u{0}" }), "genesisPrompt"),
    ];
    for (body, field) in cases {
        let (status, response) = app.post("/api/agents/register", As::Key(&key), body.clone()).await;
        assert_error(status, &response, StatusCode::BAD_REQUEST, "validation_failed");
        assert!(response["details"][field].is_string(), "{field} for {body}: {response}");
    }
    assert_eq!(agent_count(&app).await, 0);
    let (status, response) =
        app.post("/api/agents/register", As::Key(&key), json!({ "name": "ok", "unknown": true })).await;
    assert_eq!(status, StatusCode::CREATED, "unknown fields are ignored: {response}");
}

#[tokio::test]
async fn bodies_that_are_not_json_objects_are_refused() {
    let app = spawn_app().await;
    let key = app.create_key("k").await;
    let send = |body: &'static str, content_type: Option<&'static str>| {
        let mut request = app.request(Method::POST, "/api/agents/register", As::Key(&key)).body(body);
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        async move {
            let response = request.send().await.unwrap();
            (response.status(), response.json::<Value>().await.unwrap())
        }
    };
    let (status, body) = send("{not json", Some("application/json")).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_json");
    let (status, body) = send("[1, 2]", Some("application/json")).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_json");
    let (status, body) = send("", Some("application/json")).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "invalid_json");
    let (status, body) = send(r#"{"name":"a"}"#, Some("text/plain")).await;
    assert_error(status, &body, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    let (status, body) = send(r#"{"name":"a"}"#, None).await;
    assert_error(status, &body, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    assert_eq!(agent_count(&app).await, 0);
}

#[tokio::test]
async fn oversize_bodies_get_413() {
    let app = spawn_app().await;
    let key = app.create_key("k").await;
    let huge = json!({ "name": "a", "genesisPrompt": "x".repeat(70 * 1024) });
    let (status, body) = app.post("/api/agents/register", As::Key(&key), huge).await;
    assert_error(status, &body, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    let id = app.agent_id(&key, "a").await;
    let huge_action = json!({ "action": "a", "category": "system", "details": "d".repeat(65 * 1024) });
    let (status, body) = app.post(&format!("/api/agents/{id}/actions"), As::Key(&key), huge_action).await;
    assert_error(status, &body, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    assert_eq!(agent_count(&app).await, 1);
}

async fn action_rejected(app: &TestApp, key: &TestKey, id: &str, body: Value, field: &str) {
    let (status, response) = app.post(&format!("/api/agents/{id}/actions"), As::Key(key), body).await;
    assert_error(status, &response, StatusCode::BAD_REQUEST, "validation_failed");
    assert!(response["details"][field].is_string(), "{field}: {response}");
}

#[tokio::test]
async fn actions_validate_every_field_and_write_nothing() {
    let app = spawn_app().await;
    let key = app.create_key("k").await;
    let id = app.agent_id(&key, "a").await;
    action_rejected(&app, &key, &id, json!({ "category": "system" }), "action").await;
    action_rejected(&app, &key, &id, json!({ "action": "a" }), "category").await;
    action_rejected(&app, &key, &id, json!({ "action": "a", "category": "System" }), "category").await;
    action_rejected(&app, &key, &id, json!({ "action": "a", "category": "c".repeat(33) }), "category").await;
    action_rejected(&app, &key, &id, json!({ "action": "a".repeat(2001), "category": "system" }), "action").await;
    action_rejected(
        &app,
        &key,
        &id,
        json!({ "action": "a", "category": "system", "details": "d".repeat(16 * 1024 + 1) }),
        "details",
    )
    .await;
    action_rejected(&app, &key, &id, json!({ "action": "a", "category": "system", "status": "done" }), "status").await;
    action_rejected(&app, &key, &id, json!({ "action": "a", "category": "system", "details": "\u{0}" }), "details")
        .await;
    action_rejected(&app, &key, &id, json!({ "action": "a", "category": "system", "autonomous": "yes" }), "autonomous")
        .await;
    let agent = app.agent(&key, &id).await;
    assert_eq!(agent["totalActions"], 0);
    assert_eq!(app.get(&format!("/api/agents/{id}/actions"), As::Key(&key)).await.1, json!([]));
}

#[tokio::test]
async fn records_validate_their_fields() {
    let app = spawn_app().await;
    let key = app.create_key("k").await;
    let cases: Vec<(&str, Value, &str)> = vec![
        ("/api/sandboxes", json!({}), "name"),
        ("/api/sandboxes", json!({ "name": "s", "ipAddress": "1.2.3" }), "ipAddress"),
        ("/api/sandboxes", json!({ "name": "s", "ports": [0] }), "ports"),
        ("/api/sandboxes", json!({ "name": "s", "cpu": -1 }), "cpu"),
        ("/api/sandboxes", json!({ "name": "s", "status": "exploded" }), "status"),
        ("/api/sandboxes", json!({ "name": "s", "agentId": uuid::Uuid::new_v4().to_string() }), "agentId"),
        ("/api/domains", json!({}), "name"),
        ("/api/domains", json!({ "name": "no_dots" }), "name"),
        ("/api/domains", json!({ "name": "a.example", "expiresAt": "tomorrow" }), "expiresAt"),
        ("/api/transactions", json!({ "amount": 1 }), "type"),
        ("/api/transactions", json!({ "type": "credit" }), "amount"),
        ("/api/transactions", json!({ "type": "credit", "amount": -1 }), "amount"),
        ("/api/transactions", json!({ "type": "credit", "amount": 1.0000001 }), "amount"),
        ("/api/transactions", json!({ "type": "credit", "amount": 1, "txHash": "0xabc" }), "txHash"),
        ("/api/transactions", json!({ "type": "credit", "amount": 1, "currency": "EUR" }), "currency"),
        ("/api/transactions", json!({ "type": "credit", "amount": 1, "fromAddress": "nope" }), "fromAddress"),
        ("/api/compute-logs", json!({ "model": "m", "costUsd": 1 }), "agentId"),
        ("/api/compute-logs", json!({ "agentId": uuid::Uuid::new_v4().to_string(), "costUsd": 1 }), "model"),
        ("/api/compute-logs", json!({ "agentId": uuid::Uuid::new_v4().to_string(), "model": "m" }), "costUsd"),
        ("/api/keys/generate", json!({}), "name"),
        ("/api/keys/generate", json!({ "name": "k", "ownerWallet": "0xnothex" }), "ownerWallet"),
    ];
    for (path, body, field) in cases {
        let (status, response) = app.post(path, As::Key(&key), body.clone()).await;
        assert_error(status, &response, StatusCode::BAD_REQUEST, "validation_failed");
        assert!(response["details"][field].is_string(), "{path} {field} {body}: {response}");
    }
    for path in ["/api/sandboxes", "/api/domains", "/api/transactions"] {
        assert_eq!(app.get(path, As::Admin).await.1, json!([]), "{path} stays empty");
    }
}

#[tokio::test]
async fn list_parameters_are_validated() {
    let app = spawn_app().await;
    let key = app.create_key("k").await;
    for (path, field) in [
        ("/api/agents?limit=0", "limit"),
        ("/api/agents?limit=1001", "limit"),
        ("/api/agents?limit=ten", "limit"),
        ("/api/agents?cursor=garbage", "cursor"),
        ("/api/transactions?since=yesterday", "since"),
        ("/api/agent-actions?agentId=42", "agentId"),
        ("/api/compute-logs?summary=maybe", "summary"),
        ("/api/agent-actions?category=a%00b", "category"),
    ] {
        let (status, body) = app.get(path, As::Key(&key)).await;
        assert_error(status, &body, StatusCode::BAD_REQUEST, "validation_failed");
        assert!(body["details"][field].is_string(), "{path}: {body}");
    }
}
