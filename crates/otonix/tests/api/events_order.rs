//! The event log's order and silence: a failed request appends nothing, ids increase in the
//! order of changes made one after another, and a reader following the log sees every event
//! once even while changes commit concurrently.

use otonix::store::events::{self, LogPosition};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::events::{Recorder, types};
use crate::helpers::{As, assert_error, spawn_app};

#[tokio::test]
async fn event_ids_increase_in_the_order_of_the_changes() {
    let app = spawn_app().await;
    let mut recorder = Recorder::new(&app).await;
    let key = app.create_key("k").await;
    let agent = app.agent_id(&key, "a").await;
    app.heartbeat(&key, &agent).await;
    app.log_action(&key, &agent, "one", "deploy").await;
    app.post("/api/sandboxes", As::Key(&key), json!({ "name": "box" })).await;
    app.log_action(&key, &agent, "two", "deploy").await;
    app.clock.advance_secs(200);
    app.heartbeat(&key, &agent).await;
    app.post("/api/domains", As::Key(&key), json!({ "name": "order.example" })).await;
    app.call(Method::DELETE, &format!("/api/keys/{}", key.id), As::Admin, None).await;

    let events = recorder.take().await;
    assert!(events.windows(2).all(|w| w[0].id < w[1].id), "ids follow changes made one after another");
    assert_eq!(
        types(&events),
        vec![
            "key.generated",
            "agent.registered",
            "agent.health_changed",
            "action.logged",
            "sandbox.created",
            "action.logged",
            "agent.health_changed",
            "domain.created",
            "key.revoked",
            "agent.deactivated",
        ]
    );
    assert_eq!(events[3].payload["action"], "one");
    assert_eq!(events[5].payload["action"], "two");
    assert!(events.windows(2).all(|w| w[0].created_at <= w[1].created_at), "times follow ids");
    assert_eq!(events[6].created_at - events[5].created_at, 200_000, "events carry the server's clock");
}

/// A reader that follows the log (`list_after(position of the last event read)`, as the event
/// stream will) while changes commit concurrently sees every event exactly once. On PostgreSQL
/// ids are assigned at insertion, not at commit, so following ids alone would skip events whose
/// transaction commits after a later id's (migration 0005).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reader_tailing_the_log_misses_no_event() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    let app = spawn_app().await;
    let key = app.create_key("k").await;
    let mut agents = Vec::new();
    for i in 0..4 {
        agents.push(app.agent_id(&key, &format!("agent-{i}")).await);
    }
    let store = app.store().await;
    let writing = Arc::new(AtomicBool::new(true));
    let reader = {
        let (store, writing) = (store.clone(), writing.clone());
        tokio::spawn(async move {
            let (mut seen, mut cursor) = (std::collections::HashSet::new(), LogPosition::default());
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
            loop {
                let finished = !writing.load(Ordering::SeqCst);
                let mut conn = store.read().await.unwrap();
                let events = events::list_after(&mut conn, cursor, 1000).await.unwrap();
                for event in &events {
                    assert!(seen.insert(event.id), "event {} read twice", event.id);
                    assert!(event.position > cursor, "the log only moves forward");
                    cursor = event.position;
                }
                // Once the writers are done, read on until every stored event has been read: on
                // PostgreSQL the last ones settle when transactions of other tests have ended.
                if finished && events.is_empty() {
                    let stored: i64 =
                        sqlx::query_scalar("SELECT COUNT(*) FROM events").fetch_one(&mut *conn).await.unwrap();
                    if seen.len() as i64 >= stored || std::time::Instant::now() > deadline {
                        return seen;
                    }
                }
            }
        })
    };
    let mut tasks = Vec::new();
    for task in 0..8 {
        let (client, base, key, agent) = (app.client.clone(), app.base.clone(), key.clone(), agents[task % 4].clone());
        tasks.push(tokio::spawn(async move {
            for n in 0..100 {
                let request = if n % 4 == 0 {
                    let body = json!({ "type": "credit", "amount": 0.01, "agentId": agent });
                    client.post(format!("{base}/api/transactions")).json(&body)
                } else {
                    let body = json!({ "action": format!("step {task}-{n}"), "category": "compute" });
                    client.post(format!("{base}/api/agents/{agent}/actions")).json(&body)
                };
                let response = request.header("X-API-Key", &key.key).send().await.unwrap();
                assert!(response.status().is_success(), "{}", response.status());
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    writing.store(false, Ordering::SeqCst);
    let seen = reader.await.unwrap();
    let mut conn = store.read().await.unwrap();
    let all = events::list_after(&mut conn, LogPosition::default(), 100_000).await.unwrap();
    let missed: Vec<(i64, &str)> =
        all.iter().filter(|e| !seen.contains(&e.id)).map(|e| (e.id, e.kind.as_str())).collect();
    assert!(missed.is_empty(), "the tailing reader missed {} of {} events: {missed:?}", missed.len(), all.len());
}

#[tokio::test]
async fn requests_that_fail_write_no_event() {
    let app = spawn_app().await;
    let key = app.create_key("k").await;
    let other = app.create_key("other").await;
    let agent = app.agent_id(&key, "a").await;
    let (_, domain) = app.post("/api/domains", As::Key(&key), json!({ "name": "taken.example" })).await;
    let domain_id = domain["id"].as_str().unwrap().to_owned();
    let mut recorder = Recorder::new(&app).await;

    let invalid = [
        ("/api/keys/generate".to_owned(), json!({ "name": "" })),
        ("/api/agents/register".to_owned(), json!({ "name": "a", "vpsIp": "not-an-ip" })),
        (format!("/api/agents/{agent}/actions"), json!({ "action": "x", "category": "Not Valid" })),
        (format!("/api/agents/{agent}/heartbeat"), json!({ "metrics": [1, 2] })),
        ("/api/transactions".to_owned(), json!({ "type": "gift", "amount": 5, "agentId": agent })),
        ("/api/sandboxes".to_owned(), json!({ "name": "box", "cpu": 0 })),
        ("/api/domains".to_owned(), json!({ "name": "not a domain" })),
        ("/api/compute-logs".to_owned(), json!({ "agentId": agent, "costUsd": 1 })),
    ];
    for (path, body) in invalid {
        let (status, response) = app.post(&path, As::Key(&key), body).await;
        assert_error(status, &response, StatusCode::BAD_REQUEST, "validation_failed");
        recorder.none(&path).await;
    }
    let (status, response) = app
        .call(Method::PATCH, &format!("/api/domains/{domain_id}"), As::Key(&key), Some(json!({ "status": "x" })))
        .await;
    assert_error(status, &response, StatusCode::BAD_REQUEST, "validation_failed");
    recorder.none("an invalid domain update").await;

    // Refused for other reasons: conflict, another key's records, unknown records, no credential.
    let (status, response) = app.post("/api/domains", As::Key(&other), json!({ "name": "taken.example" })).await;
    assert_error(status, &response, StatusCode::CONFLICT, "conflict");
    recorder.none("a duplicate domain").await;
    let (status, response) = app.log_action(&other, &agent, "steal", "deploy").await;
    assert_error(status, &response, StatusCode::FORBIDDEN, "forbidden");
    let (status, response) = app.heartbeat(&other, &agent).await;
    assert_error(status, &response, StatusCode::FORBIDDEN, "forbidden");
    let body = json!({ "type": "credit", "amount": 5, "agentId": agent });
    let (status, response) = app.post("/api/transactions", As::Key(&other), body).await;
    assert_error(status, &response, StatusCode::FORBIDDEN, "forbidden");
    recorder.none("writes to another key's agent").await;
    let unknown = uuid::Uuid::new_v4();
    let (status, response) = app.heartbeat(&key, &unknown.to_string()).await;
    assert_error(status, &response, StatusCode::NOT_FOUND, "not_found");
    let (status, response) = app.call(Method::DELETE, &format!("/api/keys/{unknown}"), As::Admin, None).await;
    assert_error(status, &response, StatusCode::NOT_FOUND, "not_found");
    let (status, response) = app.post("/api/keys/generate", As::Anonymous, json!({ "name": "anon" })).await;
    assert_error(status, &response, StatusCode::UNAUTHORIZED, "unauthenticated");
    recorder.none("requests for unknown records or without a credential").await;

    // And the agent is as it was: no half-applied change either.
    let detail = app.agent(&key, &agent).await;
    assert_eq!(
        (&detail["totalActions"], &detail["credits"], &detail["health"]),
        (&json!(0), &json!(0), &json!("pending"))
    );
}
