//! Crash safety of payments (SPEC §5.5, §9.2): the real binary, settling on anvil, is stopped
//! dead between settlement and delivery. After a restart the same request with the same payment
//! is delivered without a second charge — or, if the client never comes back, the sweep
//! delivers it. A delivery that keeps failing is refunded.

use std::time::Duration;

use alloy_primitives::U256;
use otonix_testchain::TestChain;
use reqwest::StatusCode;
use serde_json::{Value, json};
use x402::constants::HEADER_PAYMENT_SIGNATURE;
use x402::signer::{PrivateKeySigner, sign_wallet};
use x402::wire::PaymentRequirementsV2;

use crate::helpers::test_config;
use crate::pay::{authorization, payment_header};
use crate::process::{ServerProcess, start_server_with};

struct Scene {
    chain: TestChain,
    data_dir: tempfile::TempDir,
    database: Option<(String, String)>,
    admin: String,
    pay_to: String,
    relayer: String,
    client: reqwest::Client,
}

impl Scene {
    async fn new() -> Self {
        let chain = TestChain::start().await;
        let (_, relayer) = chain.account(0);
        let data_dir = tempfile::tempdir().unwrap();
        let (_, database) = test_config(data_dir.path());
        Self {
            chain,
            database,
            data_dir,
            admin: format!("admin-{}", uuid::Uuid::new_v4().simple()),
            pay_to: PrivateKeySigner::random().address().to_checksum(None),
            relayer: format!("0x{}", hex::encode(relayer.to_bytes())),
            client: reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(30)).build().unwrap(),
        }
    }

    async fn server(&self, extra: &[(&str, &str)]) -> ServerProcess {
        let mut env = vec![
            ("OTONIX_PAYMENTS_MODE", "chain"),
            ("OTONIX_VERCEL_MODE", "off"),
            ("OTONIX_CHERRY_MODE", "off"),
            ("OTONIX_RPC_URL", self.chain.url.as_str()),
            ("OTONIX_RELAYER_KEY", self.relayer.as_str()),
            ("OTONIX_PAY_TO", self.pay_to.as_str()),
            ("OTONIX_PAYMENTS_CONFIRMATIONS", "1"),
            // Short sweeps, so that the lease a crashed server held expires within seconds.
            ("OTONIX_PAYMENTS_SWEEP_INTERVAL_SECONDS", "1"),
        ];
        env.extend_from_slice(extra);
        start_server_with(self.data_dir.path(), &self.database, &self.admin, &env).await
    }

    async fn call(
        &self,
        base: &str,
        path: &str,
        key: Option<&str>,
        body: &Value,
        payment: Option<&str>,
    ) -> reqwest::Result<(StatusCode, Value)> {
        let mut request = self.client.post(format!("{base}{path}")).json(body);
        request = match key {
            Some(key) => request.header("X-API-Key", key),
            None => request.header("X-Dashboard-Token", &self.admin),
        };
        if let Some(payment) = payment {
            request = request.header(HEADER_PAYMENT_SIGNATURE, payment);
        }
        let response = request.send().await?;
        Ok((response.status(), response.json().await.unwrap_or(Value::Null)))
    }

    /// A key, an agent whose wallet is the payer's, an open top-up order of 10 USDC and a signed
    /// payment for it: `(key, agent, payment header, order id)`.
    async fn order(&self, base: &str) -> (String, String, String, String) {
        let (_, key) = self.call(base, "/api/keys/generate", None, &json!({ "name": "k" }), None).await.unwrap();
        let key = key["key"].as_str().unwrap().to_owned();
        let (payer_address, payer) = self.chain.account(1);
        let register = json!({ "name": "a", "walletAddress": payer_address.to_checksum(None) });
        let (_, agent) = self.call(base, "/api/agents/register", Some(&key), &register, None).await.unwrap();
        let agent = agent["agent"]["id"].as_str().unwrap().to_owned();
        // The owner proves it controls the wallet, so a refund may go to the agent's credits.
        let signature = sign_wallet(&payer, &agent, payer_address).unwrap().to_hex();
        let verify = json!({ "signature": signature });
        let (status, _) =
            self.call(base, &format!("/api/agents/{agent}/wallet/verify"), Some(&key), &verify, None).await.unwrap();
        assert_eq!(status, StatusCode::OK);
        let (status, challenge) =
            self.call(base, &path(&agent), Some(&key), &json!({ "amount": 10 }), None).await.unwrap();
        assert_eq!(status, StatusCode::PAYMENT_REQUIRED);
        let accepted: PaymentRequirementsV2 = serde_json::from_value(challenge["accepts"][0].clone()).unwrap();
        self.chain.mint(payer_address, U256::from(10_000_000u64)).await;
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
        let header = payment_header(&payer, &accepted, &authorization(&payer, &accepted, now));
        (key, agent, header, challenge["orderId"].as_str().unwrap().to_owned())
    }

    /// Opens an order on a normal server, then sends its paid request to a server that dies after
    /// settling, and waits until it is gone: `(key, agent, payment header)`.
    async fn settle_then_crash(&self) -> (String, String, String) {
        let server = self.server(&[]).await;
        let (key, agent, header, _) = self.order(&server.base).await;
        drop(server);
        let mut server = self.server(&[("OTONIX_FAILPOINT", "after-settlement")]).await;
        let answer = self.call(&server.base, &path(&agent), Some(&key), &json!({ "amount": 10 }), Some(&header)).await;
        assert!(answer.is_err(), "the server died before answering: {answer:?}");
        let status = tokio::time::timeout(Duration::from_secs(10), server.child.wait()).await.unwrap().unwrap();
        assert!(!status.success(), "stopped by the failpoint");
        assert_eq!(
            self.chain.balance(self.pay_to.parse().unwrap()).await,
            U256::from(10_000_000u64),
            "the payment settled before the crash"
        );
        (key, agent, header)
    }

    async fn get(&self, base: &str, path: &str, key: &str) -> Value {
        let response = self.client.get(format!("{base}{path}")).header("X-API-Key", key).send().await.unwrap();
        response.json().await.unwrap()
    }

    async fn credits(&self, base: &str, key: &str, agent: &str) -> f64 {
        self.get(base, &format!("/api/agents/{agent}"), key).await["credits"].as_f64().unwrap()
    }
}

fn path(agent: &str) -> String {
    format!("/api/agents/{agent}/credits")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_between_settlement_and_delivery_is_delivered_on_retry_without_a_second_charge() {
    let scene = Scene::new().await;
    let (key, agent, header) = scene.settle_then_crash().await;

    // No sweep in this run: only the client's retry can deliver.
    let server = scene.server(&[("OTONIX_PAYMENTS_SWEEP_INTERVAL_SECONDS", "3600")]).await;
    assert_eq!(scene.credits(&server.base, &key, &agent).await, 0.0, "settled, not yet delivered");
    let (status, paid) =
        scene.call(&server.base, &path(&agent), Some(&key), &json!({ "amount": 10 }), Some(&header)).await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{paid}");
    assert_eq!(scene.credits(&server.base, &key, &agent).await, 10.0);
    assert_eq!(scene.chain.balance(scene.pay_to.parse().unwrap()).await, U256::from(10_000_000u64), "charged once");
    let (status, again) =
        scene.call(&server.base, &path(&agent), Some(&key), &json!({ "amount": 10 }), Some(&header)).await.unwrap();
    assert_eq!((status, &again), (StatusCode::CREATED, &paid), "a replay");
    assert_eq!(scene.credits(&server.base, &key, &agent).await, 10.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_its_client_abandons_after_a_crash_is_delivered_by_the_sweep() {
    let scene = Scene::new().await;
    let (key, agent, header) = scene.settle_then_crash().await;

    let server = scene.server(&[]).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while scene.credits(&server.base, &key, &agent).await == 0.0 {
        assert!(tokio::time::Instant::now() < deadline, "the sweep delivered the paid order");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(scene.credits(&server.base, &key, &agent).await, 10.0);
    assert_eq!(scene.chain.balance(scene.pay_to.parse().unwrap()).await, U256::from(10_000_000u64));
    // The client coming back later gets the stored answer, not a second delivery.
    let (status, _) =
        scene.call(&server.base, &path(&agent), Some(&key), &json!({ "amount": 10 }), Some(&header)).await.unwrap();
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(scene.credits(&server.base, &key, &agent).await, 10.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paid_order_whose_delivery_keeps_failing_is_refunded_to_the_paying_agent() {
    let scene = Scene::new().await;
    let server = scene
        .server(&[("OTONIX_FAILPOINT", "fail-delivery"), ("OTONIX_PAYMENTS_SWEEP_INTERVAL_SECONDS", "3600")])
        .await;
    let base = server.base.as_str();
    // The agent's wallet is the payer's, so the refund lands in its credits.
    let (key, agent, header, order_id) = scene.order(base).await;
    let (top_up, body) = (path(&agent), json!({ "amount": 10 }));
    let pay = || scene.call(base, &top_up, Some(&key), &body, Some(&header));

    // payments.deliveryAttempts is 5: four failures leave the order settled, to retry.
    for attempt in 1..=4 {
        let (status, response) = pay().await.unwrap();
        assert_eq!((status, response["error"].as_str()), (StatusCode::SERVICE_UNAVAILABLE, Some("unavailable")));
        assert_eq!(scene.credits(base, &key, &agent).await, 0.0, "attempt {attempt} delivered nothing");
    }
    let (status, response) = pay().await.unwrap();
    assert_eq!(
        (status, response["error"].as_str(), response["details"]["reason"].as_str()),
        (StatusCode::PAYMENT_REQUIRED, Some("payment_invalid"), Some("order_refunded")),
        "{response}"
    );
    assert_eq!(scene.credits(base, &key, &agent).await, 10.0, "refunded to the paying agent's credits");
    let transactions = scene.get(base, &format!("/api/transactions?agentId={agent}"), &key).await;
    let transactions = transactions.as_array().unwrap();
    assert_eq!(transactions.len(), 1, "only the refund is booked: {transactions:?}");
    let refund = &transactions[0];
    assert_eq!((refund["type"].as_str(), refund["status"].as_str()), (Some("credit"), Some("completed")));
    assert_eq!(refund["metadata"]["category"], "refund");
    assert_eq!(refund["metadata"]["orderId"], order_id);

    // Closed: the same payment neither delivers nor refunds again, and was taken once.
    let (status, response) = pay().await.unwrap();
    assert_eq!((status, response["details"]["reason"].as_str()), (StatusCode::PAYMENT_REQUIRED, Some("order_closed")));
    assert_eq!(scene.credits(base, &key, &agent).await, 10.0);
    assert_eq!(scene.chain.balance(scene.pay_to.parse().unwrap()).await, U256::from(10_000_000u64));
}
