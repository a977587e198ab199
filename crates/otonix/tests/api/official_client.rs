//! The official x402 TypeScript client (`@x402/fetch` with `@x402/evm` and viem, pinned in
//! `testchain/package.json`) pays `POST /api/agents/{id}/credits` unchanged, through
//! `testchain/x402-pay.mjs`: in dev mode (on its chain id that no real chain has, and configured
//! with Base's), and in chain mode, settled on anvil.
//!
//! Node.js and `npm ci --prefix testchain` are required (`scripts/test.sh` installs the packages);
//! without them these tests fail and say so, they are never skipped.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use alloy_primitives::U256;
use reqwest::StatusCode;
use serde_json::{Value, json};
use x402::signer::PrivateKeySigner;

use crate::helpers::{TestApp, TestKey, spawn_app, spawn_app_with};
use crate::market::{Market, USDC};
use crate::pay::credits_path;

/// `testchain/` at the workspace root.
fn testchain_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testchain")
}

/// What `x402-pay.mjs` printed: the final answer after the client handled the 402.
#[derive(Debug)]
struct Answer {
    status: StatusCode,
    body: Value,
    /// The decoded `PAYMENT-RESPONSE` header, or `null`.
    payment_response: Value,
}

/// Runs the official client against `path` of `app`, as `key`, paying with `signer`.
async fn pay_with_official_client(
    app: &TestApp,
    key: &TestKey,
    path: &str,
    signer: &PrivateKeySigner,
    body: &Value,
) -> Answer {
    let dir = testchain_dir();
    let script = dir.join("x402-pay.mjs");
    assert!(script.is_file(), "{} is missing", script.display());
    for package in ["@x402/fetch", "@x402/evm", "viem"] {
        assert!(
            dir.join("node_modules").join(package).join("package.json").is_file(),
            "the official x402 client is not installed ({package} is missing from {}): run \
             `npm ci --prefix testchain` (scripts/test.sh does it)",
            dir.join("node_modules").display()
        );
    }
    let mut command = tokio::process::Command::new("node");
    command
        .arg(&script)
        .current_dir(&dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("X402_URL", format!("{}{path}", app.base))
        .env("X402_API_KEY", &key.key)
        .env("X402_PRIVATE_KEY", format!("0x{}", hex::encode(signer.to_bytes())))
        .env("X402_BODY", body.to_string())
        .stdin(Stdio::null())
        .kill_on_drop(true);
    let output = tokio::time::timeout(Duration::from_secs(120), command.output())
        .await
        .expect("the official x402 client did not finish within 120 s")
        .unwrap_or_else(|e| panic!("cannot run `node` (Node.js is needed for this test, on PATH): {e}"));
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "x402-pay.mjs failed ({}):\nstdout: {stdout}\nstderr: {stderr}", output.status);
    let line =
        stdout.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or_else(|| panic!("no output; stderr: {stderr}"));
    let printed: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
    let status = printed["status"].as_u64().and_then(|s| StatusCode::from_u16(s as u16).ok());
    Answer {
        status: status.unwrap_or_else(|| panic!("no status in {printed}")),
        body: printed["body"].clone(),
        payment_response: printed["paymentResponse"].clone(),
    }
}

/// Checks a paid top-up's answer: delivered, with an `exact` receipt the payment response names.
fn assert_paid(answer: &Answer, signer: &PrivateKeySigner, amount: u64, network: &str) {
    assert_eq!(answer.status, StatusCode::CREATED, "{answer:?}");
    let receipt = &answer.body["receipt"];
    assert_eq!(receipt["scheme"], "exact", "{answer:?}");
    assert_eq!(receipt["amount"], (amount * USDC).to_string(), "{answer:?}");
    assert_eq!(receipt["network"], network, "{answer:?}");
    assert_eq!(receipt["payer"], signer.address().to_checksum(None), "{answer:?}");
    let tx_hash = receipt["txHash"].as_str().unwrap_or_else(|| panic!("no receipt.txHash: {answer:?}"));
    assert_eq!(answer.payment_response["transaction"], tx_hash, "{answer:?}");
    assert_eq!(answer.payment_response["success"], true, "{answer:?}");
    assert_eq!(answer.payment_response["network"], network, "{answer:?}");
}

async fn credits(app: &TestApp, key: &TestKey, agent: &str) -> f64 {
    app.agent(key, agent).await["credits"].as_f64().unwrap()
}

/// A dev-mode server pays out a top-up of 3 to the official client with a fresh key.
async fn dev_mode_top_up(app: &TestApp) {
    let key = app.create_key("official-client").await;
    let agent = app.agent_id(&key, "a").await;
    let before = credits(app, &key, &agent).await;
    let payer = PrivateKeySigner::random();
    let answer = pay_with_official_client(app, &key, &credits_path(&agent), &payer, &json!({ "amount": 3 })).await;
    let network = format!("eip155:{}", app.config.payments.effective_chain_id());
    assert_paid(&answer, &payer, 3, &network);
    assert_eq!(credits(app, &key, &agent).await, before + 3.0);
}

#[tokio::test]
async fn the_official_x402_client_pays_a_top_up_in_dev_mode_on_its_chain_id_no_real_chain_has() {
    let app = spawn_app().await;
    assert_eq!(app.config.payments.effective_chain_id(), otonix::config::DEV_CHAIN_ID);
    dev_mode_top_up(&app).await;
}

#[tokio::test]
async fn the_official_x402_client_pays_a_dev_mode_server_configured_with_base_usdc() {
    let app = spawn_app_with(|config| {
        config.payments.chain_id = Some(8453);
        config.payments.asset = Some("0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913".to_owned());
    })
    .await;
    dev_mode_top_up(&app).await;
}

#[tokio::test]
async fn the_official_x402_client_pays_a_top_up_settled_on_chain() {
    let m = Market::open(1).await;
    let (before_credits, before_payer) = (m.credits().await, m.chain.balance(m.payer.address()).await);
    let answer =
        pay_with_official_client(&m.app, &m.key, &credits_path(&m.agent), &m.payer, &json!({ "amount": 4 })).await;
    assert_paid(&answer, &m.payer, 4, &format!("eip155:{}", m.chain.chain_id));
    assert_eq!(m.credits().await, before_credits + 4.0);
    assert_eq!(m.chain.balance(m.pay_to).await, U256::from(4 * USDC));
    assert_eq!(before_payer - m.chain.balance(m.payer.address()).await, U256::from(4 * USDC));
    let tx_hash: alloy_primitives::B256 = answer.body["receipt"]["txHash"].as_str().unwrap().parse().unwrap();
    let receipt = m.chain.client().transaction_receipt(tx_hash).await.unwrap().expect("a mined settlement");
    assert!(receipt.success);
}
