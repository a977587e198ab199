//! The action log: compatibility shape, timelines, the global feed, counters under concurrency.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{As, assert_error, spawn_app};

#[tokio::test]
async fn logging_an_action_answers_201_with_compatibility_fields() {
    let app = spawn_app().await;
    let key = app.create_key("k").await;
    let id = app.agent_id(&key, "a").await;
    let body = json!({ "action": "Deployed v2", "category": "deploy", "details": "blue/green", "autonomous": false, "status": "pending" });
    let (status, action) = app.post(&format!("/api/agents/{id}/actions"), As::Key(&key), body).await;
    assert_eq!(status, StatusCode::CREATED, "{action}");
    assert_eq!(action["agentId"], id.as_str());
    assert_eq!(action["action"], "Deployed v2");
    assert_eq!(action["category"], "deploy");
    assert_eq!(action["details"], "blue/green");
    assert_eq!(action["autonomous"], false);
    assert_eq!(action["status"], "pending");
    assert_eq!(action["success"], true);
    assert_eq!(action["action_id"], action["id"]);
    assert_eq!(action["timestamp"], action["createdAt"]);

    let (_, defaults) = app.log_action(&key, &id, "Thought", "research").await;
    assert_eq!(defaults["autonomous"], true);
    assert_eq!(defaults["status"], "completed");

    let agent = app.agent(&key, &id).await;
    assert_eq!(agent["totalActions"], 2);
    assert_eq!(agent["actionsCount"], 2);
    let (status, timeline) = app.get(&format!("/api/agents/{id}/actions"), As::Key(&key)).await;
    assert_eq!(status, StatusCode::OK);
    let timeline = timeline.as_array().unwrap();
    assert_eq!(timeline.len(), 2);
    assert_eq!(timeline[0]["id"], defaults["id"], "newest first");
    assert!(timeline[0].get("action_id").is_none(), "lists carry no compatibility fields");
}

#[tokio::test]
async fn timelines_filter_by_category_status_and_time() {
    let app = spawn_app().await;
    let key = app.create_key("k").await;
    let id = app.agent_id(&key, "a").await;
    app.log_action(&key, &id, "t1", "trade").await;
    let (_, marker) = app.log_action(&key, &id, "r1", "research").await;
    app.clock.advance_secs(10);
    app.post(
        &format!("/api/agents/{id}/actions"),
        As::Key(&key),
        json!({ "action": "t2", "category": "trade", "status": "failed" }),
    )
    .await;

    let names = |list: &Value| -> Vec<String> {
        list.as_array().unwrap().iter().map(|a| a["action"].as_str().unwrap().to_owned()).collect()
    };
    let (_, trades) = app.get(&format!("/api/agents/{id}/actions?category=trade"), As::Key(&key)).await;
    assert_eq!(names(&trades), vec!["t2", "t1"]);
    let (_, failed) = app.get(&format!("/api/agents/{id}/actions?status=failed"), As::Key(&key)).await;
    assert_eq!(names(&failed), vec!["t2"]);
    let since = marker["createdAt"].as_str().unwrap();
    let path = format!("/api/agents/{id}/actions?until={}", urlencode(since));
    let (_, early) = app.get(&path, As::Key(&key)).await;
    assert_eq!(names(&early), vec!["r1", "t1"]);
    let later = otonix::clock::format_rfc3339(otonix::clock::parse_rfc3339(since).unwrap() + 1);
    let (_, late) = app.get(&format!("/api/agents/{id}/actions?since={}", urlencode(&later)), As::Key(&key)).await;
    assert_eq!(names(&late), vec!["t2"]);
}

fn urlencode(text: &str) -> String {
    text.replace(':', "%3A").replace('+', "%2B")
}

#[tokio::test]
async fn the_global_feed_shows_a_keys_own_actions_and_everything_to_the_admin() {
    let app = spawn_app().await;
    let alice = app.create_key("alice").await;
    let bob = app.create_key("bob").await;
    let a = app.agent_id(&alice, "a").await;
    let b = app.agent_id(&bob, "b").await;
    app.log_action(&alice, &a, "alice did", "system").await;
    app.log_action(&bob, &b, "bob did", "system").await;

    let (_, feed) = app.get("/api/agent-actions", As::Key(&alice)).await;
    assert_eq!(feed.as_array().unwrap().len(), 1);
    assert_eq!(feed[0]["action"], "alice did");
    let (_, all) = app.get("/api/agent-actions", As::Admin).await;
    assert_eq!(all.as_array().unwrap().len(), 2);
    let (_, only_b) = app.get(&format!("/api/agent-actions?agentId={b}"), As::Admin).await;
    assert_eq!(only_b[0]["action"], "bob did");
    let (status, body) = app.get("/api/agent-actions", As::Anonymous).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthenticated");
    let (status, body) = app.get(&format!("/api/agents/{a}/actions"), As::Key(&bob)).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
}

#[tokio::test]
async fn fifty_parallel_posts_leave_the_counter_equal_to_the_rows() {
    let app = spawn_app().await;
    let key = app.create_key("k").await;
    let id = app.agent_id(&key, "busy").await;
    let posts = (0..50).map(|i| {
        let (app, key, id) = (&app, &key, &id);
        async move { app.log_action(key, id, &format!("step {i}"), "compute").await.0 }
    });
    let statuses = futures::future::join_all(posts).await;
    assert!(statuses.iter().all(|s| *s == StatusCode::CREATED), "{statuses:?}");
    let agent = app.agent(&key, &id).await;
    let rows = app.walk(&format!("/api/agents/{id}/actions"), As::Key(&key), 1000).await;
    assert_eq!(rows.len(), 50);
    assert_eq!(agent["totalActions"], 50);
}
