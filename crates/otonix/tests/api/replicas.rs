//! Several replicas on one PostgreSQL database (PostgreSQL only): two real server processes start
//! at once on a fresh schema (their migrations race), share the load on one agent with exact
//! counters, and a key revoked through one is refused by the other within `auth.keyCacheSeconds`.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{postgres_url, test_config};
use crate::process::start_server;

const TASKS: usize = 8;
const REQUESTS_PER_TASK: usize = 100;

async fn send(request: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let response = request.send().await.expect("request sent");
    let status = response.status();
    let text = response.text().await.expect("response body");
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

/// Every action of `agent` listed by `base`, following `X-Next-Cursor`.
async fn listed_actions(client: &Client, base: &str, key: &str, agent: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("{base}/api/agents/{agent}/actions?limit=70&cursor={c}"),
            None => format!("{base}/api/agents/{agent}/actions?limit=70"),
        };
        let response = client.get(url).header("X-API-Key", key).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        cursor = response.headers().get("x-next-cursor").map(|v| v.to_str().unwrap().to_owned());
        let page: Vec<Value> = response.json().await.unwrap();
        assert!(page.len() <= 70);
        ids.extend(page.iter().map(|a| a["id"].as_str().unwrap().to_owned()));
        if cursor.is_none() {
            return ids;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_share_one_database_with_exact_counters_and_bounded_revocation() {
    if postgres_url().is_none() {
        eprintln!("replicas test skipped: OTONIX_TEST_DATABASE_URL is unset (it needs PostgreSQL)");
        return;
    }
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (_, database) = test_config(dir_a.path()); // a fresh schema nobody has migrated yet
    let admin = format!("admin-{}", uuid::Uuid::new_v4().simple());
    // Both start at once: schema creation and migrations race.
    let (a, b) =
        tokio::join!(start_server(dir_a.path(), &database, &admin), start_server(dir_b.path(), &database, &admin));
    let client = Client::builder().no_proxy().timeout(Duration::from_secs(30)).build().unwrap();
    for base in [&a.base, &b.base] {
        let (status, ready) = send(client.get(format!("{base}/readyz"))).await;
        assert_eq!(status, StatusCode::OK, "{ready}");
        assert_eq!(ready["database"], json!({ "backend": "postgres", "reachable": true, "migrated": true }));
    }

    // A key and an agent made through A; B knows them at once (shared database, same admin token).
    let (status, key) = send(
        client
            .post(format!("{}/api/keys/generate", a.base))
            .header("X-Dashboard-Token", &admin)
            .json(&json!({ "name": "replicas" })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{key}");
    let (key_id, key) = (key["id"].as_str().unwrap().to_owned(), key["key"].as_str().unwrap().to_owned());
    let (status, registered) = send(
        client
            .post(format!("{}/api/agents/register", a.base))
            .header("X-API-Key", &key)
            .json(&json!({ "name": "shared" })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{registered}");
    let agent = registered["agent"]["id"].as_str().unwrap().to_owned();
    let (status, keys) = send(client.get(format!("{}/api/keys", b.base)).header("X-Dashboard-Token", &admin)).await;
    assert_eq!(status, StatusCode::OK, "B accepts the shared admin token: {keys}");
    assert_eq!(keys[0]["id"], key_id.as_str());

    // The load: every task alternates replicas and alternates heartbeats and actions.
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let (client, bases, key, agent) =
            (client.clone(), [a.base.clone(), b.base.clone()], key.clone(), agent.clone());
        tasks.push(tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            for n in 0..REQUESTS_PER_TASK {
                let base = &bases[(task + n) % 2];
                if (n / 2) % 2 == 0 {
                    let request = client.post(format!("{base}/api/agents/{agent}/heartbeat")).header("X-API-Key", &key);
                    let (status, body) = send(request).await;
                    assert_eq!(status, StatusCode::OK, "heartbeat {task}-{n} through {base}: {body}");
                    assert_eq!(body["health"], "up");
                } else {
                    let body = json!({ "action": format!("step {task}-{n}"), "category": "compute" });
                    let request =
                        client.post(format!("{base}/api/agents/{agent}/actions")).header("X-API-Key", &key).json(&body);
                    let (status, body) = send(request).await;
                    assert_eq!(status, StatusCode::CREATED, "action {task}-{n} through {base}: {body}");
                    acknowledged.push(body["id"].as_str().unwrap().to_owned());
                }
            }
            acknowledged
        }));
    }
    let mut acknowledged = Vec::new();
    for task in tasks {
        acknowledged.extend(task.await.expect("every request of the load succeeded"));
    }
    assert_eq!(acknowledged.len(), TASKS * REQUESTS_PER_TASK / 2);

    // Counters are exact, whichever replica is asked, and match the rows.
    for base in [&a.base, &b.base] {
        let (status, detail) = send(client.get(format!("{base}/api/agents/{agent}")).header("X-API-Key", &key)).await;
        assert_eq!(status, StatusCode::OK, "{detail}");
        assert_eq!(detail["totalActions"].as_u64(), Some(acknowledged.len() as u64), "totalActions through {base}");
        assert_eq!(detail["health"], "up");
        let listed = listed_actions(&client, base, &key, &agent).await;
        assert_eq!(listed.len(), acknowledged.len(), "actions listed through {base}");
        let listed: HashSet<String> = listed.into_iter().collect();
        assert_eq!(listed, acknowledged.iter().cloned().collect::<HashSet<_>>(), "the same actions, each once");
    }

    // B has the key in its cache. Revoke it through A: A refuses it at once, B within the bound.
    let keys_of = |base: &str| client.get(format!("{base}/api/keys")).header("X-API-Key", &key);
    assert_eq!(send(keys_of(&b.base)).await.0, StatusCode::OK);
    let revoked_at = Instant::now();
    let (status, body) =
        send(client.delete(format!("{}/api/keys/{key_id}", a.base)).header("X-Dashboard-Token", &admin)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = send(keys_of(&a.base)).await;
    assert_eq!((status, &body["error"]), (StatusCode::UNAUTHORIZED, &json!("key_revoked")), "A at once: {body}");
    let flipped = loop {
        let (status, body) = send(keys_of(&b.base)).await;
        match status {
            StatusCode::UNAUTHORIZED => {
                assert_eq!(body["error"], "key_revoked", "{body}");
                break revoked_at.elapsed();
            }
            StatusCode::OK => {}
            other => panic!("unexpected {other} from B: {body}"),
        }
        assert!(revoked_at.elapsed() < Duration::from_secs(3), "B still accepts the key 3 s after its revocation");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(flipped <= Duration::from_millis(2500), "B refused the revoked key only after {flipped:?}");
    for base in [&a.base, &b.base] {
        let (status, body) =
            send(client.post(format!("{base}/api/agents/{agent}/heartbeat")).header("X-API-Key", &key)).await;
        assert_eq!((status, &body["error"]), (StatusCode::UNAUTHORIZED, &json!("key_revoked")), "{base}: {body}");
    }
    eprintln!("replica B refused the revoked key {flipped:?} after the revocation through A");
}
