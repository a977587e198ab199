//! The payment test market: a real local chain (anvil, with the project's test token at the Base
//! USDC address), a server settling on it (directly or through a fault-injecting proxy), a key,
//! a funded payer whose wallet is an agent's verified wallet — and what the payment tests do
//! with them again and again.

use std::time::Duration;

use alloy_primitives::{Address, B256, U256};
use otonix::Config;
use otonix::config::{PaymentMode, Secret};
use otonix_testchain::TestChain;
use reqwest::StatusCode;
use serde_json::{Value, json};
use x402::constants::HEADER_PAYMENT_SIGNATURE;
use x402::signer::{PrivateKeySigner, domain_from_requirements_v2, sign_authorization, sign_order, sign_wallet};
use x402::wire::PaymentRequirementsV2;
use x402::{Authorization, PaymentSignature};

use crate::helpers::{As, TestApp, TestKey, spawn_app_with};
use crate::pay::{Challenge, challenge, credits_path, payment_header, send, top_up};
use crate::rpc_proxy::RpcProxy;

/// A chain, a server settling on it, and the parties.
pub struct Market {
    pub chain: TestChain,
    pub app: TestApp,
    pub key: TestKey,
    pub pay_to: Address,
    pub payer: PrivateKeySigner,
    /// An agent of `key` whose wallet is the payer's.
    pub agent: String,
}

/// 1 USDC in atomic units.
pub const USDC: u64 = 1_000_000;

impl Market {
    /// Starts everything; the payer holds 1,000 test USDC.
    pub async fn open(confirmations: u64) -> Self {
        Self::on(TestChain::start().await, confirmations, |_| {}).await
    }

    /// A server settling on `chain` after `adjust` changed its configuration (the agent's wallet,
    /// the payer's, is verified).
    pub async fn on(chain: TestChain, confirmations: u64, adjust: impl FnOnce(&mut Config)) -> Self {
        let (_, relayer) = chain.account(0);
        let (payer_address, payer) = chain.account(1);
        let pay_to = PrivateKeySigner::random().address();
        chain.mint(payer_address, U256::from(1000 * USDC)).await;
        let url = chain.url.clone();
        let app = spawn_app_with(move |config| {
            config.payments.mode = PaymentMode::Chain;
            // The test chain's tokens are not money: the simulated registrar may sell for them.
            config.providers.allow_simulated_with_real_payments = true;
            config.payments.rpc_url = Some(Secret::new(url));
            config.payments.relayer_key = Some(Secret::new(format!("0x{}", hex::encode(relayer.to_bytes()))));
            config.payments.pay_to = pay_to.to_checksum(None);
            config.payments.confirmations = confirmations;
            config.payments.settlement_timeout_seconds = 10;
            adjust(config);
        })
        .await;
        let key = app.create_key("buyer").await;
        let agent = app
            .register_agent(&key, json!({ "name": "payer", "walletAddress": payer_address.to_checksum(None) }))
            .await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let signature = sign_wallet(&payer, &agent, payer_address).unwrap().to_hex();
        let (status, verified) = app
            .post(&format!("/api/agents/{agent}/wallet/verify"), As::Key(&key), json!({ "signature": signature }))
            .await;
        assert_eq!(status, StatusCode::OK, "{verified}");
        Self { chain, app, key, pay_to, payer, agent }
    }

    pub fn now(&self) -> u64 {
        (otonix::Clock::now_ms(self.app.clock.as_ref()) / 1000) as u64
    }

    pub async fn credits(&self) -> f64 {
        self.app.agent(&self.key, &self.agent).await["credits"].as_f64().unwrap()
    }

    pub async fn challenge(&self, amount: f64) -> Challenge {
        challenge(&self.app, &self.key, &credits_path(&self.agent), &top_up(amount)).await
    }

    /// Sends the top-up of `amount` with a payment header.
    pub async fn pay(&self, amount: f64, header: (&str, &str)) -> (StatusCode, Value, reqwest::header::HeaderMap) {
        send(&self.app, &self.key, &credits_path(&self.agent), &top_up(amount), Some(header)).await
    }

    /// A transfer-proof header.
    pub fn proof(
        &self,
        order_id: &str,
        tx_hash: alloy_primitives::B256,
        payer: Address,
        signer: Option<&PrivateKeySigner>,
    ) -> String {
        let mut proof =
            json!({ "orderId": order_id, "txHash": format!("{tx_hash:#x}"), "payer": payer.to_checksum(None) });
        if let Some(signer) = signer {
            proof["signature"] = json!(sign_order(signer, order_id).unwrap().to_hex());
        }
        x402::encode_header(&proof)
    }

    /// The test USDC at `payTo`.
    pub async fn paid_to(&self) -> U256 {
        self.chain.balance(self.pay_to).await
    }

    /// The status of an order, as stored.
    pub async fn order_status(&self, order_id: &str) -> String {
        let store = self.app.store().await;
        let order = otonix::store::orders::get(&mut store.read().await.unwrap(), order_id).await.unwrap().unwrap();
        order.status.as_str().to_owned()
    }

    /// The credits of another agent of the key.
    pub async fn agent_credits(&self, agent: &str) -> f64 {
        self.app.agent(&self.key, agent).await["credits"].as_f64().unwrap()
    }

    /// A payer without funds (`account(index)`), the verified wallet of a new agent of the key:
    /// `(address, signer, agent id)`.
    /// Presents `auth`, signed by `payer`, for the order of `c` while the payer has no funds:
    /// its settlement fails, and the authorization is released, pinned to the order and watched.
    /// Returns the payment header, to present again.
    pub async fn present_unfunded(&self, payer: &PrivateKeySigner, c: &Challenge, auth: &Authorization) -> String {
        let header = payment_header(payer, &c.accepted, auth);
        let amount = c.body["amountUSDC"].as_f64().expect("the challenge names its amount");
        let (_, response, _) = self.pay(amount, (HEADER_PAYMENT_SIGNATURE, &header)).await;
        assert_eq!(response["details"]["reason"], "settlement_failed", "{response}");
        header
    }

    pub async fn verified_payer(&self, index: usize) -> (Address, PrivateKeySigner, String) {
        let (address, signer) = self.chain.account(index);
        let body = json!({ "name": format!("wallet{index}"), "walletAddress": address });
        let agent = self.app.register_agent(&self.key, body).await["id"].as_str().unwrap().to_owned();
        let signature = sign_wallet(&signer, &agent, address).unwrap().to_hex();
        let verify = format!("/api/agents/{agent}/wallet/verify");
        let (status, body) = self.app.post(&verify, As::Key(&self.key), json!({ "signature": signature })).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        (address, signer, agent)
    }

    /// Submits `auth` (signed by `payer` for `accepted`'s token) to the token directly, from a
    /// third account, as anyone who holds it could; returns the mined transaction.
    pub async fn submit(
        &self,
        payer: &PrivateKeySigner,
        accepted: &PaymentRequirementsV2,
        auth: &Authorization,
    ) -> B256 {
        let signature = sign_authorization(payer, &domain_from_requirements_v2(accepted).unwrap(), auth).unwrap();
        let (_, submitter) = self.chain.account(2);
        let data = x402::calldata::transfer_with_authorization(auth, &signature);
        let hash = self.chain.client().send_call(&submitter, self.chain.usdc(), data).await.unwrap();
        let mined = self.chain.client().wait_for_receipt(hash, 1, Duration::from_secs(10)).await.unwrap().unwrap();
        assert!(mined.success);
        hash
    }
}

/// `amount` USDC in atomic units.
pub fn usdc(amount: f64) -> U256 {
    U256::from((amount * USDC as f64).round() as u64)
}

/// A market whose server reads the chain through a fault-injecting proxy.
pub async fn market_behind_proxy(confirmations: u64, adjust: impl FnOnce(&mut Config)) -> (Market, RpcProxy) {
    let chain = TestChain::start().await;
    let proxy = RpcProxy::start(&chain.url).await;
    let url = proxy.url.clone();
    let market = Market::on(chain, confirmations, move |config| {
        config.payments.rpc_url = Some(Secret::new(url));
        adjust(config);
    })
    .await;
    (market, proxy)
}

/// Waits up to `secs` seconds for `ready` (the sweep runs every second in these tests).
pub async fn until(secs: u64, mut ready: impl AsyncFnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    while tokio::time::Instant::now() < deadline {
        if ready().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    ready().await
}

/// Where the bundler contract lives on the test chain.
const BUNDLER: Address = Address::new([0xb0; 20]);

/// Runtime code of a minimal bundler (like a multicall, an ERC-4337 bundle, a relayer's batch):
/// it forwards the two 292-byte `transferWithAuthorization` calls its calldata holds to the
/// token, in one transaction, and reverts if either fails.
fn bundler_runtime(token: Address) -> String {
    let call = |code: &mut Vec<u8>| {
        // CALL(gas, token, 0, 0, 292, 0, 0); revert unless it succeeded
        code.extend([0x60, 0x00, 0x60, 0x00, 0x61, 0x01, 0x24, 0x60, 0x00, 0x60, 0x00, 0x73]);
        code.extend(token.as_slice());
        code.extend([0x5a, 0xf1, 0x15, 0x61, 0x00, 0x60, 0x57]);
    };
    // CALLDATACOPY(0, 0, 292)
    let mut code = vec![0x61, 0x01, 0x24, 0x60, 0x00, 0x60, 0x00, 0x37];
    call(&mut code);
    // CALLDATACOPY(0, 292, 292)
    code.extend([0x61, 0x01, 0x24, 0x61, 0x01, 0x24, 0x60, 0x00, 0x37]);
    call(&mut code);
    code.push(0x00);
    assert_eq!(code.len(), 0x60, "the revert target is at 0x60");
    code.extend([0x5b, 0x60, 0x00, 0x80, 0xfd]);
    format!("0x{}", hex::encode(code))
}

/// Sends two signed authorizations in one transaction through the bundler; returns its hash
/// (mined).
pub async fn bundle(chain: &TestChain, calls: [(&Authorization, &PaymentSignature); 2]) -> B256 {
    chain.rpc("anvil_setCode", json!([BUNDLER, bundler_runtime(chain.usdc())])).await;
    let mut data = Vec::new();
    for (authorization, signature) in calls {
        let call = x402::calldata::transfer_with_authorization(authorization, signature);
        assert_eq!(call.len(), 292);
        data.extend(call);
    }
    let (_, sender) = chain.account(4);
    let hash = chain.client().send_call(&sender, BUNDLER, data).await.expect("the bundle is sent");
    let receipt = chain.client().wait_for_receipt(hash, 1, Duration::from_secs(10)).await.unwrap().unwrap();
    assert!(receipt.success, "the bundle reverted");
    hash
}
