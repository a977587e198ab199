//! Heartbeats: the compatibility shape, self-reports, health over time, termination.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{As, assert_error, spawn_app};

#[tokio::test]
async fn heartbeat_without_a_body_answers_200_with_next_expected() {
    let app = spawn_app().await;
    let key = app.create_key("k").await;
    let id = app.agent_id(&key, "a").await;
    // No body and no content type at all, like the reference clients.
    let response =
        app.request(Method::POST, &format!("/api/agents/{id}/heartbeat"), As::Key(&key)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["received"], true);
    assert_eq!(body["agentId"], id.as_str());
    assert_eq!(body["health"], "up");
    assert_eq!(body["survivalTier"], "critical");
    assert_eq!(body["credits"], 0);
    assert_eq!(body["recommendedHeartbeatInterval"], 600);
    let next = otonix::clock::parse_rfc3339(body["nextExpected"].as_str().unwrap()).unwrap();
    assert_eq!(next, otonix::Clock::now_ms(app.clock.as_ref()) + 60_000);

    let agent = app.agent(&key, &id).await;
    assert_eq!(agent["health"], "up");
    assert_eq!(agent["nextExpected"], body["nextExpected"]);
    assert!(agent["lastHeartbeat"].is_string());
}

#[tokio::test]
async fn heartbeat_stores_the_agents_self_report() {
    let app = spawn_app().await;
    let key = app.create_key("k").await;
    let id = app.agent_id(&key, "a").await;
    let (status, _) = app
        .post(
            &format!("/api/agents/{id}/heartbeat"),
            As::Key(&key),
            json!({ "status": "thinking", "metrics": { "cpu": 0.5 } }),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let agent = app.agent(&key, &id).await;
    assert_eq!(agent["lastReport"], json!({ "status": "thinking", "metrics": { "cpu": 0.5 } }));
    // A heartbeat with metrics only keeps the last status, whether or not the earlier one is
    // folded into the row yet (a list filtered by health folds first).
    app.get("/api/agents?health=up", As::Key(&key)).await;
    let metrics_only = json!({ "metrics": { "cpu": 0.9 } });
    app.post(&format!("/api/agents/{id}/heartbeat"), As::Key(&key), metrics_only).await;
    let latest = json!({ "status": "thinking", "metrics": { "cpu": 0.9 } });
    assert_eq!(app.agent(&key, &id).await["lastReport"], latest, "before the fold");
    app.get("/api/agents?health=up", As::Key(&key)).await;
    assert_eq!(app.agent(&key, &id).await["lastReport"], latest, "after the fold");
    let (status, body) =
        app.post(&format!("/api/agents/{id}/heartbeat"), As::Key(&key), json!({ "metrics": [1, 2] })).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "validation_failed");
    assert!(body["details"]["metrics"].is_string());
    let big = json!({ "metrics": { "blob": "x".repeat(5000) } });
    let (status, body) = app.post(&format!("/api/agents/{id}/heartbeat"), As::Key(&key), big).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "validation_failed");
}

#[tokio::test]
async fn health_moves_late_then_down_with_the_clock_and_a_heartbeat_recovers() {
    let app = spawn_app().await;
    let key = app.create_key("k").await;
    let id = app.agent_id(&key, "a").await;
    assert_eq!(app.agent(&key, &id).await["health"], "pending");
    app.heartbeat(&key, &id).await;

    // nextExpected = t0 + 60 s; late after nextExpected + one interval (t0 + 120 s).
    app.clock.advance_secs(120);
    assert_eq!(app.agent(&key, &id).await["health"], "up");
    app.clock.advance_ms(1);
    let agent = app.agent(&key, &id).await;
    assert_eq!(agent["health"], "late");
    assert_eq!(agent["status"], "active");
    // Down after three intervals without a heartbeat (t0 + 180 s): status reads inactive.
    app.clock.advance_ms(60_000 - 1);
    assert_eq!(app.agent(&key, &id).await["health"], "late");
    app.clock.advance_ms(1);
    let agent = app.agent(&key, &id).await;
    assert_eq!(agent["health"], "down");
    assert_eq!(agent["status"], "inactive");

    let (status, body) = app.heartbeat(&key, &id).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let agent = app.agent(&key, &id).await;
    assert_eq!(agent["health"], "up");
    assert_eq!(agent["status"], "active");
}

#[tokio::test]
async fn heartbeats_for_other_keys_unknown_or_terminated_agents_are_refused() {
    let app = spawn_app().await;
    let owner = app.create_key("owner").await;
    let other = app.create_key("other").await;
    let id = app.agent_id(&owner, "a").await;
    let (status, body) = app.heartbeat(&other, &id).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, body) = app.heartbeat(&owner, &uuid::Uuid::new_v4().to_string()).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    let (status, body) = app.call(Method::POST, &format!("/api/agents/{id}/heartbeat"), As::Anonymous, None).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthenticated");
    assert_eq!(app.call(Method::POST, &format!("/api/agents/{id}/heartbeat"), As::Admin, None).await.0, StatusCode::OK);

    // Funded, then drained below 1 USDC: terminated, and final.
    app.transact(&owner, &id, "credit", 5.0).await;
    app.transact(&owner, &id, "debit", 4.5).await;
    let agent = app.agent(&owner, &id).await;
    assert_eq!(agent["survivalTier"], "terminated");
    assert_eq!(agent["status"], "terminated");
    let (status, body) = app.heartbeat(&owner, &id).await;
    assert_error(status, &body, StatusCode::CONFLICT, "agent_terminated");
    let (status, body) = app.log_action(&owner, &id, "still here", "system").await;
    assert_error(status, &body, StatusCode::CONFLICT, "agent_terminated");
}

#[tokio::test]
async fn recommended_interval_follows_the_tier() {
    let app = spawn_app().await;
    let key = app.create_key("k").await;
    let id = app.agent_id(&key, "a").await;
    app.transact(&key, &id, "credit", 20.0).await;
    assert_eq!(app.heartbeat(&key, &id).await.1["recommendedHeartbeatInterval"], 300);
    app.transact(&key, &id, "credit", 40.0).await;
    let (_, body) = app.heartbeat(&key, &id).await;
    assert_eq!(body["recommendedHeartbeatInterval"], 60);
    assert_eq!(body["survivalTier"], "full");
    assert_eq!(body["credits"], 60);
}
