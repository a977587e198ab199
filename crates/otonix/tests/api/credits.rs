//! Credits and survival tiers (SPEC §4.6, §7.2): boundaries 1, 10 and 50; one `system` action
//! per tier change.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{As, TestApp, TestKey, spawn_app};

async fn tier_actions(app: &TestApp, key: &TestKey, id: &str) -> Vec<String> {
    let (_, actions) = app.get(&format!("/api/agents/{id}/actions?category=system"), As::Key(key)).await;
    let mut names: Vec<String> =
        actions.as_array().unwrap().iter().map(|a| a["action"].as_str().unwrap().to_owned()).collect();
    names.reverse();
    names
}

async fn state(app: &TestApp, key: &TestKey, id: &str) -> (f64, String) {
    let agent = app.agent(key, id).await;
    (agent["credits"].as_f64().unwrap(), agent["survivalTier"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn tiers_change_exactly_at_the_boundaries() {
    let app = spawn_app().await;
    let key = app.create_key("k").await;
    let id = app.agent_id(&key, "a").await;

    let steps: &[(&str, f64, f64, &str)] = &[
        ("credit", 50.0, 50.0, "conservation"),
        ("credit", 0.000001, 50.000001, "full"),
        ("debit", 0.000001, 50.0, "conservation"),
        ("debit", 40.0, 10.0, "conservation"),
        ("debit", 0.000001, 9.999999, "critical"),
        ("debit", 8.999999, 1.0, "critical"),
        ("debit", 0.000001, 0.999999, "terminated"),
    ];
    for (kind, amount, credits, tier) in steps {
        app.transact(&key, &id, kind, *amount).await;
        assert_eq!(state(&app, &key, &id).await, (*credits, tier.to_string()), "after {kind} {amount}");
    }
    assert_eq!(
        tier_actions(&app, &key, &id).await,
        vec![
            "tier critical → conservation",
            "tier conservation → full",
            "tier full → conservation",
            "tier conservation → critical",
            "tier critical → terminated",
        ]
    );
    let agent = app.agent(&key, &id).await;
    assert_eq!(agent["status"], "terminated");
    assert_eq!(agent["totalActions"], 5, "tier actions count like any other");

    // Terminated is final: credits still move, the tier does not.
    app.transact(&key, &id, "credit", 100.0).await;
    assert_eq!(state(&app, &key, &id).await, (100.999999, "terminated".to_string()));
    assert_eq!(tier_actions(&app, &key, &id).await.len(), 5);
}

#[tokio::test]
async fn an_agent_never_funded_stays_critical() {
    let app = spawn_app().await;
    let key = app.create_key("k").await;
    let id = app.agent_id(&key, "a").await;
    app.transact(&key, &id, "credit", 0.5).await;
    assert_eq!(state(&app, &key, &id).await, (0.5, "critical".to_string()));
    app.transact(&key, &id, "debit", 2.0).await;
    assert_eq!(state(&app, &key, &id).await, (-1.5, "critical".to_string()));
    assert!(tier_actions(&app, &key, &id).await.is_empty());
}

#[tokio::test]
async fn only_completed_transactions_with_an_agent_move_credits() {
    let app = spawn_app().await;
    let key = app.create_key("k").await;
    let id = app.agent_id(&key, "a").await;
    let (status, pending) = app
        .post(
            "/api/transactions",
            As::Key(&key),
            json!({ "type": "credit", "amount": 20, "agentId": id, "status": "pending" }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(pending["status"], "pending");
    let (status, _) = app.post("/api/transactions", As::Key(&key), json!({ "type": "credit", "amount": 20 })).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(state(&app, &key, &id).await, (0.0, "critical".to_string()));
}

#[tokio::test]
async fn compute_costs_debit_credits_with_a_compute_transaction() {
    let app = spawn_app().await;
    let key = app.create_key("k").await;
    let id = app.agent_id(&key, "a").await;
    app.transact(&key, &id, "credit", 60.0).await;
    let body = json!({ "agentId": id, "provider": "anthropic", "model": "claude-opus-4-6", "inputTokens": 1200,
                       "outputTokens": 300, "costUsd": 10.25, "latencyMs": 900, "taskType": "plan", "routedBy": "auto" });
    let (status, log) = app.post("/api/compute-logs", As::Key(&key), body).await;
    assert_eq!(status, StatusCode::CREATED, "{log}");
    assert_eq!(log["costUsd"], 10.25);
    assert_eq!(log["inputTokens"], 1200);
    assert_eq!(state(&app, &key, &id).await, (49.75, "conservation".to_string()));
    let (_, transactions) = app.get(&format!("/api/transactions?agentId={id}&type=debit"), As::Key(&key)).await;
    let debit = &transactions[0];
    assert_eq!(debit["amount"], 10.25);
    assert_eq!(debit["metadata"]["category"], "compute");
    assert_eq!(debit["metadata"]["computeLogId"], log["id"]);

    let (status, free) =
        app.post("/api/compute-logs", As::Key(&key), json!({ "agentId": id, "model": "local", "costUsd": 0 })).await;
    assert_eq!(status, StatusCode::CREATED, "{free}");
    let (_, transactions) = app.get(&format!("/api/transactions?agentId={id}"), As::Key(&key)).await;
    assert_eq!(transactions.as_array().unwrap().len(), 2, "a free call writes no transaction");
}

#[tokio::test]
async fn a_credit_booked_by_a_key_is_a_record_that_moves_no_credits() {
    let app = spawn_app().await;
    let key = app.create_key("k").await;
    let id = app.agent_id(&key, "a").await;
    // An agent's own key cannot mint credits by booking them.
    let body = json!({ "type": "credit", "amount": 1000, "agentId": id });
    let (status, minted) = app.post("/api/transactions", As::Key(&key), body.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{minted}");
    assert_eq!((minted["status"].as_str(), minted["creditsApplied"].as_bool()), (Some("completed"), Some(false)));
    assert_eq!(state(&app, &key, &id).await, (0.0, "critical".to_string()));
    // A key's debit of its own agent is applied; so is the admin's credit.
    let (status, debit) =
        app.post("/api/transactions", As::Key(&key), json!({ "type": "debit", "amount": 2, "agentId": id })).await;
    assert_eq!((status, debit["creditsApplied"].as_bool()), (StatusCode::CREATED, Some(true)), "{debit}");
    let (status, credit) = app.post("/api/transactions", As::Admin, body).await;
    assert_eq!((status, credit["creditsApplied"].as_bool()), (StatusCode::CREATED, Some(true)), "{credit}");
    assert_eq!(state(&app, &key, &id).await, (998.0, "full".to_string()));
    assert_eq!(credit["apiKeyId"], key.id.as_str(), "the admin's booking belongs to the agent's key");
}

#[tokio::test]
async fn a_balance_cannot_pass_its_bound_and_an_overflow_is_a_400_that_changes_nothing() {
    let app = spawn_app().await;
    let key = app.create_key("k").await;
    let id = app.agent_id(&key, "a").await;
    // 1,000 credits of the largest amount reach the bound of 10^12 USDC exactly.
    let largest = json!({ "type": "credit", "amount": 1_000_000_000u64, "agentId": id });
    for chunk in 0..20 {
        let batch = (0..50).map(|_| app.post("/api/transactions", As::Admin, largest.clone()));
        for (status, body) in futures::future::join_all(batch).await {
            assert_eq!(status, StatusCode::CREATED, "chunk {chunk}: {body}");
        }
    }
    assert_eq!(state(&app, &key, &id).await, (1e12, "full".to_string()));
    for amount in [0.000001, 1_000_000_000.0] {
        let (status, body) = app
            .post("/api/transactions", As::Admin, json!({ "type": "credit", "amount": amount, "agentId": id }))
            .await;
        assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("validation_failed")), "{body}");
        assert!(body["details"]["amount"].is_string(), "{body}");
    }
    // Nothing was booked by the refused credits.
    assert_eq!(app.walk(&format!("/api/transactions?agentId={id}"), As::Admin, 1000).await.len(), 1000);
    // A top-up that would pass the bound is refused before any order is made.
    let (status, body) = app.post(&format!("/api/agents/{id}/credits"), As::Key(&key), json!({ "amount": 1 })).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("validation_failed")), "{body}");
    // Debits are bounded the same way below zero.
    let (status, body) = app
        .post("/api/transactions", As::Key(&key), json!({ "type": "debit", "amount": 1_000_000_000u64, "agentId": id }))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(state(&app, &key, &id).await.0, 999_000_000_000.0);
}

#[tokio::test]
async fn a_debit_cannot_take_a_balance_below_its_negative_bound() {
    let app = spawn_app().await;
    let key = app.create_key("k").await;
    let id = app.agent_id(&key, "a").await;
    let largest = json!({ "type": "debit", "amount": 1_000_000_000u64, "agentId": id });
    for _ in 0..20 {
        let batch = (0..50).map(|_| app.post("/api/transactions", As::Key(&key), largest.clone()));
        for (status, body) in futures::future::join_all(batch).await {
            assert_eq!(status, StatusCode::CREATED, "{body}");
        }
    }
    assert_eq!(state(&app, &key, &id).await.0, -1e12);
    let (status, body) =
        app.post("/api/transactions", As::Key(&key), json!({ "type": "debit", "amount": 1, "agentId": id })).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("validation_failed")), "{body}");
    // A compute cost that would pass it is refused too, and logs nothing.
    let (status, body) =
        app.post("/api/compute-logs", As::Key(&key), json!({ "agentId": id, "model": "m", "costUsd": 1 })).await;
    assert_eq!((status, body["error"].as_str()), (StatusCode::BAD_REQUEST, Some("validation_failed")), "{body}");
    let (_, logs) = app.get(&format!("/api/compute-logs?agentId={id}"), As::Key(&key)).await;
    assert_eq!(logs.as_array().unwrap().len(), 0);
}
