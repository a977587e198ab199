//! Crash safety (SPEC §9.2): the real binary is killed with SIGKILL in the middle of a stream
//! of actions and heartbeats; after a restart on the same data every acknowledged write is there.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{postgres_url, test_config};
use crate::process::start_server;

#[derive(Default)]
struct Acknowledged {
    actions: HashMap<String, Vec<String>>,
    next_expected: HashMap<String, String>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_sigkill() {
    let data_dir = tempfile::tempdir().unwrap();
    let (_, database) = test_config(data_dir.path());
    assert_eq!(database.is_some(), postgres_url().is_some());
    let admin = format!("admin-{}", uuid::Uuid::new_v4().simple());
    let mut server = start_server(data_dir.path(), &database, &admin).await;
    let client = reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(10)).build().unwrap();

    let key = server.generate_key(&admin).await;
    let mut agents = Vec::new();
    for i in 0..4 {
        let body = json!({ "name": format!("survivor-{i}") });
        let response = server.post_json("/api/agents/register", ("X-API-Key", &key), body).await;
        agents.push(response["agent"]["id"].as_str().unwrap().to_owned());
    }

    let acknowledged = Arc::new(Mutex::new(Acknowledged::default()));
    let mut writers = Vec::new();
    for connection in 0..8 {
        let (client, base, key, agent) =
            (client.clone(), server.base.clone(), key.clone(), agents[connection % 4].clone());
        let acknowledged = acknowledged.clone();
        writers.push(tokio::spawn(async move {
            for n in 0.. {
                let result = if n % 3 == 2 {
                    client.post(format!("{base}/api/agents/{agent}/heartbeat")).header("X-API-Key", &key).send().await
                } else {
                    let body = json!({ "action": format!("step {connection}-{n}"), "category": "compute" });
                    client
                        .post(format!("{base}/api/agents/{agent}/actions"))
                        .header("X-API-Key", &key)
                        .json(&body)
                        .send()
                        .await
                };
                let Ok(response) = result else { return };
                let status = response.status();
                let Ok(body) = response.json::<Value>().await else { return };
                let mut acknowledged = acknowledged.lock().unwrap();
                match status {
                    StatusCode::CREATED => acknowledged
                        .actions
                        .entry(agent.clone())
                        .or_default()
                        .push(body["id"].as_str().unwrap().to_owned()),
                    StatusCode::OK => {
                        let next = body["nextExpected"].as_str().unwrap().to_owned();
                        let entry = acknowledged.next_expected.entry(agent.clone()).or_default();
                        if next > *entry {
                            *entry = next;
                        }
                    }
                    other => panic!("unexpected {other}: {body}"),
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.child.start_kill().unwrap(); // SIGKILL: no chance to flush anything.
    server.child.wait().await.unwrap();
    for writer in writers {
        writer.await.unwrap();
    }

    let server = start_server(data_dir.path(), &database, &admin).await;
    let acknowledged = std::mem::take(&mut *acknowledged.lock().unwrap());
    let total: usize = acknowledged.actions.values().map(Vec::len).sum();
    assert!(total > 100, "the stream was running when the server died ({total} actions)");
    for agent in &agents {
        let mut stored = std::collections::HashSet::new();
        let mut cursor: Option<String> = None;
        loop {
            let url = match &cursor {
                Some(c) => format!("{}/api/agents/{agent}/actions?limit=1000&cursor={c}", server.base),
                None => format!("{}/api/agents/{agent}/actions?limit=1000", server.base),
            };
            let response = client.get(url).header("X-API-Key", &key).send().await.unwrap();
            cursor = response.headers().get("x-next-cursor").map(|v| v.to_str().unwrap().to_owned());
            let page: Vec<Value> = response.json().await.unwrap();
            stored.extend(page.into_iter().map(|a| a["id"].as_str().unwrap().to_owned()));
            if cursor.is_none() {
                break;
            }
        }
        for id in acknowledged.actions.get(agent).into_iter().flatten() {
            assert!(stored.contains(id), "acknowledged action {id} of {agent} was lost");
        }
        let detail: Value = client
            .get(format!("{}/api/agents/{agent}", server.base))
            .header("X-API-Key", &key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(detail["totalActions"].as_u64().unwrap() as usize, stored.len(), "counter matches the rows");
        if let Some(next) = acknowledged.next_expected.get(agent) {
            assert!(
                detail["nextExpected"].as_str().unwrap() >= next.as_str(),
                "acknowledged heartbeat of {agent} kept"
            );
        }
    }
}
