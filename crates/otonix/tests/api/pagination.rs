//! Keyset pagination (SPEC §2.3): every record exactly once, newest first, at any depth.

use std::collections::HashSet;

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::{As, spawn_app};

#[tokio::test]
async fn walking_2500_actions_with_limit_1000_returns_each_exactly_once_newest_first() {
    let app = spawn_app().await;
    let key = app.create_key("k").await;
    let id = app.agent_id(&key, "prolific").await;
    let mut created = Vec::new();
    for round in 0..50 {
        let posts = (0..50).map(|i| {
            let (app, key, id) = (&app, &key, &id);
            async move { app.log_action(key, id, &format!("action {}", round * 50 + i), "research").await }
        });
        for (status, body) in futures::future::join_all(posts).await {
            assert_eq!(status, StatusCode::CREATED);
            created.push(body["id"].as_str().unwrap().to_owned());
        }
        app.clock.advance_ms(1);
    }

    for path in [format!("/api/agents/{id}/actions"), "/api/agent-actions".to_owned()] {
        let items = app.walk(&path, As::Key(&key), 1000).await;
        assert_eq!(items.len(), 2500, "{path}");
        let ids: HashSet<&str> = items.iter().map(|a| a["id"].as_str().unwrap()).collect();
        assert_eq!(ids.len(), 2500, "no duplicates on {path}");
        assert!(created.iter().all(|c| ids.contains(c.as_str())), "every record on {path}");
        let times: Vec<i64> =
            items.iter().map(|a| otonix::clock::parse_rfc3339(a["createdAt"].as_str().unwrap()).unwrap()).collect();
        assert!(times.windows(2).all(|w| w[0] >= w[1]), "newest first on {path}");
        let first_round: Vec<&Value> = items.iter().rev().take(50).collect();
        assert!(
            first_round.iter().all(|a| a["action"]
                .as_str()
                .unwrap()
                .split(' ')
                .nth(1)
                .unwrap()
                .parse::<u32>()
                .unwrap()
                < 50)
        );
    }
}

#[tokio::test]
async fn pages_carry_next_cursor_and_link_headers() {
    let app = spawn_app().await;
    let key = app.create_key("k").await;
    for i in 0..3 {
        app.agent_id(&key, &format!("agent-{i}")).await;
    }
    let response = app.request(Method::GET, "/api/agents?limit=2&status=active", As::Key(&key)).send().await.unwrap();
    let cursor = response.headers()["x-next-cursor"].to_str().unwrap().to_owned();
    let link = response.headers()["link"].to_str().unwrap().to_owned();
    assert_eq!(link, format!("</api/agents?limit=2&status=active&cursor={cursor}>; rel=\"next\""));
    let page: Vec<Value> = response.json().await.unwrap();
    assert_eq!(page.len(), 2);
    assert_eq!(page[0]["name"], "agent-2");

    let next = app.request(Method::GET, &link[1..link.find('>').unwrap()], As::Key(&key)).send().await.unwrap();
    assert!(next.headers().get("x-next-cursor").is_none(), "the last page has no cursor");
    assert!(next.headers().get("link").is_none());
    let last: Vec<Value> = next.json().await.unwrap();
    assert_eq!(last.len(), 1);
    assert_eq!(last[0]["name"], "agent-0");
}
