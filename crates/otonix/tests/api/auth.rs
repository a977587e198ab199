//! The endpoint matrix of SPEC §3.3: every endpoint of this release called as anonymous, as
//! another key, as the owner, as the admin and with a revoked key.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{As, spawn_app};

const ANON: usize = 0;
const REVOKED: usize = 4;

#[tokio::test]
async fn every_endpoint_applies_the_ownership_matrix() {
    let app = spawn_app().await;
    let owner = app.create_key("owner").await;
    let other = app.create_key("other").await;
    let revoked = app.create_key("revoked").await;
    let agent = app.agent_id(&owner, "owned").await;
    let (_, sandbox) = app.post("/api/sandboxes", As::Key(&owner), json!({ "name": "box", "agentId": agent })).await;
    let sandbox = sandbox["id"].as_str().unwrap().to_owned();
    let (_, domain) = app.post("/api/domains", As::Key(&owner), json!({ "name": "owned.example" })).await;
    let domain = domain["id"].as_str().unwrap().to_owned();
    assert_eq!(app.call(Method::DELETE, &format!("/api/keys/{}", revoked.id), As::Admin, None).await.0, StatusCode::OK);

    use StatusCode as S;
    let (u, f, ok, made) = (S::UNAUTHORIZED, S::FORBIDDEN, S::OK, S::CREATED);
    let mut counter = 0;
    let mut unique = || {
        counter += 1;
        counter
    };
    // (method, path, body, expected for [anonymous, other key, owner, admin, revoked key])
    let cases: Vec<(Method, String, Option<Value>, [StatusCode; 5])> = vec![
        (Method::POST, "/api/keys/generate".into(), Some(json!({ "name": "n" })), [u, made, made, made, u]),
        (Method::GET, "/api/keys".into(), None, [u, ok, ok, ok, u]),
        (
            Method::POST,
            "/api/agents/register".into(),
            Some(json!({ "name": "r", "apiKeyId": owner.id })),
            [u, made, made, made, u],
        ),
        (Method::GET, "/api/agents".into(), None, [ok, ok, ok, ok, u]),
        (Method::GET, format!("/api/agents/{agent}"), None, [u, f, ok, ok, u]),
        (Method::POST, format!("/api/agents/{agent}/heartbeat"), None, [u, f, ok, ok, u]),
        (
            Method::POST,
            format!("/api/agents/{agent}/actions"),
            Some(json!({ "action": "a", "category": "system" })),
            [u, f, made, made, u],
        ),
        (Method::GET, format!("/api/agents/{agent}/actions"), None, [u, f, ok, ok, u]),
        // Authorized, the owner and the admin get to the signature check, which this one fails.
        (
            Method::POST,
            format!("/api/agents/{agent}/wallet/verify"),
            Some(json!({ "signature": "0x00" })),
            [u, f, S::BAD_REQUEST, S::BAD_REQUEST, u],
        ),
        (Method::GET, "/api/agent-actions".into(), None, [u, ok, ok, ok, u]),
        (Method::GET, "/api/sandboxes".into(), None, [ok, ok, ok, ok, u]),
        (Method::GET, format!("/api/sandboxes/{sandbox}"), None, [u, f, ok, ok, u]),
        (Method::POST, "/api/sandboxes".into(), Some(json!({ "name": "s", "agentId": agent })), [u, f, made, made, u]),
        (Method::GET, "/api/domains".into(), None, [ok, ok, ok, ok, u]),
        (Method::GET, format!("/api/domains/{domain}"), None, [u, f, ok, ok, u]),
        (Method::PATCH, format!("/api/domains/{domain}"), Some(json!({ "autoRenew": true })), [u, f, ok, ok, u]),
        (
            Method::POST,
            "/api/domains".into(),
            Some(json!({ "name": "DOMAIN", "agentId": agent })),
            [u, f, made, made, u],
        ),
        (Method::GET, "/api/compute-logs".into(), None, [u, ok, ok, ok, u]),
        (
            Method::POST,
            "/api/compute-logs".into(),
            Some(json!({ "agentId": agent, "model": "m", "costUsd": 0 })),
            [u, f, made, made, u],
        ),
        (Method::GET, "/api/transactions".into(), None, [ok, ok, ok, ok, u]),
        (
            Method::POST,
            "/api/transactions".into(),
            Some(json!({ "type": "credit", "amount": 1, "agentId": agent })),
            [u, f, made, made, u],
        ),
        (Method::GET, "/healthz".into(), None, [ok, ok, ok, ok, ok]),
        (Method::GET, "/api/openapi.json".into(), None, [ok, ok, ok, ok, ok]),
    ];
    for (method, path, body, expected) in cases {
        for (who_index, who) in
            [As::Anonymous, As::Key(&other), As::Key(&owner), As::Admin, As::Key(&revoked)].into_iter().enumerate()
        {
            let body = body.clone().map(|b| {
                let text = b.to_string().replace("DOMAIN", &format!("d{}.example", unique()));
                serde_json::from_str::<Value>(&text).unwrap()
            });
            let (status, response) = app.call(method.clone(), &path, who, body).await;
            assert_eq!(status, expected[who_index], "{method} {path} as #{who_index}: {response}");
            if who_index == REVOKED && status == u {
                assert_eq!(response["error"], "key_revoked", "{method} {path}");
            }
            if who_index == ANON && status == u {
                assert_eq!(response["error"], "unauthenticated");
            }
        }
    }
}
