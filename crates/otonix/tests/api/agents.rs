//! Agent registration, reads and the sanitized list.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{As, assert_error, spawn_app};

#[tokio::test]
async fn registration_answers_201_with_a_generated_wallet_returned_once() {
    let app = spawn_app().await;
    let key = app.create_key("k").await;
    let response = app
        .request(Method::POST, "/api/agents/register", As::Key(&key))
        .json(&json!({ "name": "Alpha-Prime", "model": "claude-opus-4-6", "vpsIp": "185.150.0.42" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["success"], true);
    assert_eq!(body["message"], "Agent registered");
    let agent = &body["agent"];
    let id = agent["id"].as_str().unwrap();
    assert_eq!(agent["name"], "Alpha-Prime");
    assert_eq!(agent["status"], "active");
    assert_eq!(agent["health"], "pending");
    assert_eq!(agent["survivalTier"], "critical");
    assert_eq!(agent["credits"], 0);
    assert_eq!(agent["heartbeatInterval"], 60);
    assert_eq!(agent["vpsIp"], "185.150.0.42");
    assert_eq!(agent["apiKeyId"], key.id.as_str());
    assert_eq!(agent["totalActions"], 0);
    assert_eq!(agent["actionsCount"], 0);
    assert_eq!(agent["lastHeartbeat"], Value::Null);
    assert_eq!(body["monitoring"]["heartbeatEndpoint"], format!("POST /api/agents/{id}/heartbeat"));
    assert_eq!(body["monitoring"]["actionsEndpoint"], format!("POST /api/agents/{id}/actions"));
    assert_eq!(body["monitoring"]["statusEndpoint"], format!("GET /api/agents/{id}"));

    // The wallet: a real key pair whose address is the agent's, shown only here.
    let wallet = &body["wallet"];
    let private_key = wallet["privateKey"].as_str().unwrap();
    let signer: alloy_signer_local::PrivateKeySigner = private_key.parse().unwrap();
    assert_eq!(signer.address().to_checksum(None), wallet["address"].as_str().unwrap());
    assert_eq!(agent["walletAddress"], wallet["address"]);
    let fetched = app.agent(&key, id).await;
    assert!(!fetched.to_string().contains(&private_key[2..]), "the private key is never stored");
    let (_, listed) = app.get("/api/agents", As::Key(&key)).await;
    assert!(!listed.to_string().contains(&private_key[2..]));
}

#[tokio::test]
async fn a_given_wallet_is_kept_checksummed_and_no_key_is_generated() {
    let app = spawn_app().await;
    let key = app.create_key("k").await;
    for given in
        [json!("0x70997970c51812dc3a010c7d01b50e0d17dc79c8"), json!("0x70997970C51812dc3A010C7d01b50e0d17dc79C8")]
    {
        let (status, body) =
            app.post("/api/agents/register", As::Key(&key), json!({ "name": "a", "walletAddress": given })).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert!(body.get("wallet").is_none(), "{body}");
        assert_eq!(body["agent"]["walletAddress"], "0x70997970C51812dc3A010C7d01b50e0d17dc79C8");
    }
    let (status, body) =
        app.post("/api/agents/register", As::Key(&key), json!({ "name": "n", "walletAddress": null })).await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(body["wallet"]["privateKey"].is_string(), "null asks for a generated wallet");
}

#[tokio::test]
async fn vps_ip_defaults_to_the_callers_address_and_defaults_apply() {
    let app = spawn_app().await;
    let key = app.create_key("k").await;
    let agent = app
        .register_agent(
            &key,
            json!({ "name": "local", "genesisPrompt": "Earn your existence.", "heartbeatInterval": 300 }),
        )
        .await;
    assert_eq!(agent["vpsIp"], "127.0.0.1");
    assert_eq!(agent["model"], "claude-opus-4-6");
    assert_eq!(agent["heartbeatInterval"], 300);
    assert_eq!(agent["genesisPrompt"], "Earn your existence.");
    let (_, keys) = app.get("/api/keys", As::Key(&key)).await;
    assert_eq!(keys[0]["agentCount"], 1);
}

#[tokio::test]
async fn the_admin_registers_on_behalf_of_a_key() {
    let app = spawn_app().await;
    let key = app.create_key("k").await;
    let (status, body) = app.post("/api/agents/register", As::Admin, json!({ "name": "a" })).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "validation_failed");
    assert!(body["details"]["apiKeyId"].is_string());
    let (status, body) = app.post("/api/agents/register", As::Admin, json!({ "name": "a", "apiKeyId": key.id })).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["agent"]["apiKeyId"], key.id.as_str());
}

#[tokio::test]
async fn get_agent_is_for_its_owner_and_the_admin() {
    let app = spawn_app().await;
    let owner = app.create_key("owner").await;
    let other = app.create_key("other").await;
    let id = app.agent_id(&owner, "mine").await;
    let path = format!("/api/agents/{id}");
    assert_eq!(app.get(&path, As::Key(&owner)).await.0, StatusCode::OK);
    assert_eq!(app.get(&path, As::Admin).await.0, StatusCode::OK);
    let (status, body) = app.get(&path, As::Key(&other)).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, body) = app.get(&path, As::Anonymous).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthenticated");
    let (status, body) = app.get(&format!("/api/agents/{}", uuid::Uuid::new_v4()), As::Key(&owner)).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
    let (status, body) = app.get("/api/agents/not-a-uuid", As::Key(&owner)).await;
    assert_error(status, &body, StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn agent_list_sanitizes_other_keys_agents() {
    let app = spawn_app().await;
    let owner = app.create_key("owner").await;
    let other = app.create_key("other").await;
    let body = json!({ "name": "secretive", "vpsIp": "10.0.1.55", "genesisPrompt": "the plan",
                       "walletAddress": "0x2a184407df58aa7d95ea2e6b4c2f9a8e0c3b461d" });
    let agent = app.register_agent(&owner, body).await;
    let wallet = agent["walletAddress"].as_str().unwrap().to_owned();

    for who in [As::Anonymous, As::Key(&other)] {
        let (status, list) = app.get("/api/agents", who).await;
        assert_eq!(status, StatusCode::OK);
        let seen = &list[0];
        assert_eq!(seen["walletAddress"], format!("{}****{}", &wallet[..6], &wallet[wallet.len() - 4..]));
        assert_eq!(seen["vpsIp"], "10.0.*.*");
        assert!(seen.get("genesisPrompt").is_none(), "{seen}");
        assert_eq!(seen["name"], "secretive");
    }
    for who in [As::Key(&owner), As::Admin] {
        let (_, list) = app.get("/api/agents", who).await;
        assert_eq!(list[0]["walletAddress"], wallet.as_str());
        assert_eq!(list[0]["vpsIp"], "10.0.1.55");
        assert_eq!(list[0]["genesisPrompt"], "the plan");
    }
    let ipv6 = app.register_agent(&owner, json!({ "name": "v6", "vpsIp": "2001:db8:85a3::8a2e:370:7334" })).await;
    let (_, list) = app.get("/api/agents", As::Anonymous).await;
    let seen = list.as_array().unwrap().iter().find(|a| a["id"] == ipv6["id"]).unwrap();
    assert_eq!(seen["vpsIp"], "2001:db8:*");
}

#[tokio::test]
async fn agent_list_filters_by_status_health_and_tier() {
    let app = spawn_app().await;
    let key = app.create_key("k").await;
    let quiet = app.agent_id(&key, "quiet").await;
    let beating = app.agent_id(&key, "beating").await;
    let rich = app.agent_id(&key, "rich").await;
    app.heartbeat(&key, &beating).await;
    app.transact(&key, &rich, "credit", 75.0).await;
    app.heartbeat(&key, &rich).await;

    let ids = |list: &Value| -> Vec<String> {
        list.as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap().to_owned()).collect()
    };
    let (_, pending) = app.get("/api/agents?health=pending", As::Key(&key)).await;
    assert_eq!(ids(&pending), vec![quiet.clone()]);
    let (_, up) = app.get("/api/agents?health=up", As::Key(&key)).await;
    assert_eq!(ids(&up), vec![rich.clone(), beating.clone()]);
    let (_, full) = app.get("/api/agents?survivalTier=full", As::Key(&key)).await;
    assert_eq!(ids(&full), vec![rich.clone()]);

    app.clock.advance_secs(181);
    let (_, down) = app.get("/api/agents?health=down", As::Key(&key)).await;
    assert_eq!(ids(&down), vec![rich.clone(), beating.clone()]);
    let (_, inactive) = app.get("/api/agents?status=inactive", As::Key(&key)).await;
    assert_eq!(ids(&inactive), vec![rich.clone(), beating.clone()], "a down agent reads inactive");
    let (_, active) = app.get("/api/agents?status=active", As::Key(&key)).await;
    assert_eq!(ids(&active), vec![quiet]);
    let (status, body) = app.get("/api/agents?health=sleepy", As::Key(&key)).await;
    assert_error(status, &body, StatusCode::BAD_REQUEST, "validation_failed");
    assert!(body["details"]["health"].is_string());
}
