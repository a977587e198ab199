//! Sandboxes, domains, compute logs and transactions: shapes, ownership and sanitized lists.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{As, assert_error, spawn_app};

#[tokio::test]
async fn sandboxes_are_created_read_and_sanitized() {
    let app = spawn_app().await;
    let owner = app.create_key("owner").await;
    let other = app.create_key("other").await;
    let agent = app.agent_id(&owner, "a").await;
    let body = json!({ "name": "box-1", "os": "ubuntu-24.04", "cpu": 2, "memory": 4096, "disk": 80, "region": "eu-nord-1",
                       "ipAddress": "185.150.0.42", "ports": [22, 443], "sshUser": "root", "sshPassword": "xK9mP2secret",
                       "agentId": agent });
    let (status, sandbox) = app.post("/api/sandboxes", As::Key(&owner), body).await;
    assert_eq!(status, StatusCode::CREATED, "{sandbox}");
    assert_eq!(sandbox["status"], "running");
    assert_eq!(sandbox["provider"], "manual");
    assert_eq!(sandbox["ports"], json!([22, 443]));
    assert_eq!(sandbox["apiKeyId"], owner.id.as_str());
    let id = sandbox["id"].as_str().unwrap();

    let (status, full) = app.get(&format!("/api/sandboxes/{id}"), As::Key(&owner)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(full["sshPassword"], "xK9mP2secret");
    let (status, body) = app.get(&format!("/api/sandboxes/{id}"), As::Key(&other)).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, body) = app.get(&format!("/api/sandboxes/{id}"), As::Anonymous).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthenticated");

    for who in [As::Anonymous, As::Key(&other)] {
        let (_, list) = app.get("/api/sandboxes", who).await;
        assert_eq!(list[0]["sshPassword"], "••••••••");
        assert_eq!(list[0]["ipAddress"], "185.150.*.*");
    }
    let (_, mine) = app.get(&format!("/api/sandboxes?agentId={agent}&status=running"), As::Key(&owner)).await;
    assert_eq!(mine[0]["sshPassword"], "xK9mP2secret");
    let (_, none) = app.get("/api/sandboxes?status=stopped", As::Key(&owner)).await;
    assert_eq!(none, json!([]));

    let (status, body) =
        app.post("/api/sandboxes", As::Key(&other), json!({ "name": "steal", "agentId": agent })).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
}

#[tokio::test]
async fn domains_are_unique_patchable_and_sanitized() {
    let app = spawn_app().await;
    let owner = app.create_key("owner").await;
    let other = app.create_key("other").await;
    let agent = app.agent_id(&owner, "a").await;
    let records = json!([{ "type": "A", "name": "@", "value": "185.150.0.42", "ttl": 300 },
                         { "type": "MX", "name": "@", "value": "mail.example.com", "priority": 10 }]);
    let (status, domain) = app
        .post(
            "/api/domains",
            As::Key(&owner),
            json!({ "name": "Example.COM", "dnsRecords": records, "agentId": agent }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{domain}");
    assert_eq!(domain["name"], "example.com");
    assert_eq!(domain["status"], "pending");
    assert_eq!(domain["registrar"], "manual");
    assert_eq!(domain["dnsRecords"].as_array().unwrap().len(), 2);
    assert!(domain["dnsRecords"][0]["id"].is_string());
    let id = domain["id"].as_str().unwrap().to_owned();

    let (status, body) = app.post("/api/domains", As::Key(&other), json!({ "name": "example.com" })).await;
    assert_error(status, &body, StatusCode::CONFLICT, "conflict");

    let patch = json!({ "status": "active", "expiresAt": "2027-02-20T12:00:00.000Z", "autoRenew": true });
    let (status, patched) = app.call(Method::PATCH, &format!("/api/domains/{id}"), As::Key(&owner), Some(patch)).await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["status"], "active");
    assert_eq!(patched["expiresAt"], "2027-02-20T12:00:00.000Z");
    assert_eq!(patched["autoRenew"], true);
    assert_eq!(patched["agentId"], agent.as_str(), "absent fields stay");
    let (_, cleared) =
        app.call(Method::PATCH, &format!("/api/domains/{id}"), As::Key(&owner), Some(json!({ "agentId": null }))).await;
    assert_eq!(cleared["agentId"], Value::Null, "null clears");
    assert_eq!(cleared["dnsRecords"].as_array().unwrap().len(), 2);

    let (status, body) = app
        .call(Method::PATCH, &format!("/api/domains/{id}"), As::Key(&other), Some(json!({ "status": "failed" })))
        .await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, body) = app.call(Method::PATCH, &format!("/api/domains/{id}"), As::Anonymous, Some(json!({}))).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthenticated");

    let (_, public) = app.get("/api/domains", As::Anonymous).await;
    assert_eq!(public[0]["dnsRecords"], json!([]));
    let (_, theirs) = app.get("/api/domains", As::Key(&other)).await;
    assert_eq!(theirs[0]["dnsRecords"], json!([]));
    let (_, mine) = app.get("/api/domains?status=active", As::Key(&owner)).await;
    assert_eq!(mine[0]["dnsRecords"].as_array().unwrap().len(), 2);
    assert_eq!(app.get(&format!("/api/domains/{id}"), As::Key(&owner)).await.0, StatusCode::OK);
    assert_eq!(app.get(&format!("/api/domains/{id}"), As::Key(&other)).await.0, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn dns_records_are_validated_per_type() {
    let app = spawn_app().await;
    let key = app.create_key("k").await;
    for (record, field) in [
        (json!({ "type": "A", "name": "@", "value": "not-an-ip" }), "dnsRecords[0].value"),
        (json!({ "type": "AAAA", "name": "@", "value": "1.2.3.4" }), "dnsRecords[0].value"),
        (json!({ "type": "MX", "name": "@", "value": "mail.example.com" }), "dnsRecords[0].priority"),
        (json!({ "type": "BOGUS", "name": "@", "value": "x" }), "dnsRecords[0].type"),
        (json!({ "type": "A", "name": "@", "value": "1.2.3.4", "ttl": 5 }), "dnsRecords[0].ttl"),
        (json!({ "type": "CNAME", "name": "www!", "value": "example.com" }), "dnsRecords[0].name"),
    ] {
        let (status, body) =
            app.post("/api/domains", As::Key(&key), json!({ "name": "valid.example", "dnsRecords": [record] })).await;
        assert_error(status, &body, StatusCode::BAD_REQUEST, "validation_failed");
        assert!(body["details"][field].is_string(), "{field}: {body}");
    }
    let (_, list) = app.get("/api/domains", As::Admin).await;
    assert_eq!(list, json!([]), "nothing was written");
}

#[tokio::test]
async fn compute_logs_are_private_and_summarized() {
    let app = spawn_app().await;
    let alice = app.create_key("alice").await;
    let bob = app.create_key("bob").await;
    let a = app.agent_id(&alice, "a").await;
    let b = app.agent_id(&bob, "b").await;
    for (model, cost, tokens) in [("claude-opus-4-6", 1.5, 100), ("claude-opus-4-6", 2.25, 50), ("gpt-4o", 0.5, 10)] {
        let body =
            json!({ "agentId": a, "model": model, "costUsd": cost, "inputTokens": tokens, "outputTokens": tokens * 2 });
        assert_eq!(app.post("/api/compute-logs", As::Key(&alice), body).await.0, StatusCode::CREATED);
    }
    app.post("/api/compute-logs", As::Key(&bob), json!({ "agentId": b, "model": "gpt-4o", "costUsd": 9 })).await;

    let (_, logs) = app.get("/api/compute-logs", As::Key(&alice)).await;
    assert_eq!(logs.as_array().unwrap().len(), 3);
    let (_, gpt) = app.get("/api/compute-logs?model=gpt-4o", As::Key(&alice)).await;
    assert_eq!(gpt.as_array().unwrap().len(), 1);
    let (status, summary) = app.get("/api/compute-logs?summary=true", As::Key(&alice)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(summary["totalCostUsd"], 4.25);
    assert_eq!(summary["calls"], 3);
    assert_eq!(
        summary["byModel"]["claude-opus-4-6"],
        json!({ "calls": 2, "costUsd": 3.75, "inputTokens": 150, "outputTokens": 300 })
    );
    assert_eq!(summary["byModel"]["gpt-4o"]["calls"], 1);
    let (_, everything) = app.get("/api/compute-logs?summary=true", As::Admin).await;
    assert_eq!(everything["calls"], 4);
    let (status, body) = app.get("/api/compute-logs", As::Anonymous).await;
    assert_error(status, &body, StatusCode::UNAUTHORIZED, "unauthenticated");
    let (status, body) =
        app.post("/api/compute-logs", As::Key(&bob), json!({ "agentId": a, "model": "m", "costUsd": 1 })).await;
    assert_error(status, &body, StatusCode::FORBIDDEN, "forbidden");
}

#[tokio::test]
async fn transactions_mask_addresses_and_refuse_a_duplicate_hash() {
    let app = spawn_app().await;
    let owner = app.create_key("owner").await;
    let other = app.create_key("other").await;
    let hash = format!("0x{}", "ab".repeat(32));
    let body = json!({ "type": "debit", "amount": 9.99, "description": "Domain registration: example.com",
                       "fromAddress": "0x742d35cc6634c0532925a3b844bc454e4438f44e",
                       "toAddress": "0x36363e573a3b5d4c22b6a64ef3080e5c101e685f", "txHash": hash,
                       "metadata": { "protocol": "x402", "chainId": 8453, "category": "domain",
                                     "refundOwedToPayer": "0x742d35cc6634c0532925a3b844bc454e4438f44e",
                                     "route": { "hops": ["0x36363e573a3b5d4c22b6a64ef3080e5c101e685f"] } } });
    let (status, transaction) = app.post("/api/transactions", As::Key(&owner), body.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{transaction}");
    assert_eq!(transaction["amount"], 9.99);
    assert_eq!(transaction["currency"], "USDC");
    assert_eq!(transaction["toAddress"], "0x36363e573a3b5d4C22b6A64ef3080E5C101E685F");
    assert_eq!(transaction["metadata"]["chainId"], 8453);

    let (status, body) = app.post("/api/transactions", As::Key(&owner), body).await;
    assert_error(status, &body, StatusCode::CONFLICT, "conflict");
    let upper = json!({ "type": "credit", "amount": 1, "txHash": hash.to_uppercase().replace("0X", "0x") });
    let (status, body) = app.post("/api/transactions", As::Key(&other), upper).await;
    assert_error(status, &body, StatusCode::CONFLICT, "conflict");

    for who in [As::Anonymous, As::Key(&other)] {
        let (_, list) = app.get("/api/transactions", who).await;
        assert_eq!(list.as_array().unwrap().len(), 1);
        assert_eq!(list[0]["fromAddress"], "0x742d****f44e");
        assert_eq!(list[0]["toAddress"], "0x3636****685F");
        // Every address inside metadata too, however deep; a transaction hash is not an address.
        assert_eq!(list[0]["metadata"]["refundOwedToPayer"], "0x742d****f44e");
        assert_eq!(list[0]["metadata"]["route"]["hops"][0], "0x3636****685f");
        assert_eq!(list[0]["txHash"], hash.as_str());
    }
    let (_, mine) = app.get("/api/transactions?type=debit&status=completed", As::Key(&owner)).await;
    assert_eq!(mine[0]["toAddress"], "0x36363e573a3b5d4C22b6A64ef3080E5C101E685F");
    assert_eq!(mine[0]["metadata"]["refundOwedToPayer"], "0x742d35cc6634c0532925a3b844bc454e4438f44e");
}
