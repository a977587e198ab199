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
