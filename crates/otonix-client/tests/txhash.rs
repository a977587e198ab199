//! The tx-hash flow on a real chain (otonix-testchain) with a fake endpoint (wiremock): a real
//! USDC transfer, its hash presented in `X-Payment` with the payer's order signature, a
//! `payment_pending` answer retried with the same proof, and the checks a server makes.

mod common;

use std::sync::Mutex;
use std::time::Duration;

use alloy_primitives::U256;
use common::{ORDER_ID, PAY_TO, challenge, delivered, offer, refused};
use evm_rpc::RpcClient;
use otonix_client::{Client, Method, PayError, Payer, ProofKind};
use otonix_testchain::TestChain;
use serde_json::json;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};
use x402::IncomingPayment;
use x402::proof::{ProofTerms, check_payer_binding, check_transfer_receipt};

const AMOUNT: u64 = 2_500_000;

/// 402 without `X-Payment`; with one: `payment_pending` `pending` times, then 201.
struct ProofEndpoint {
    offer: x402::Offer,
    pending: Mutex<u32>,
}

impl Respond for ProofEndpoint {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let Some(value) = request.headers.get("x-payment").and_then(|v| v.to_str().ok()) else {
            return challenge(&self.offer, true);
        };
        let Ok(IncomingPayment::TransferProof(proof)) = x402::decode_payment_header(value) else {
            return refused("payment_invalid", None);
        };
        if let Ok(mut pending) = self.pending.lock()
            && *pending > 0
        {
            *pending -= 1;
            return refused("payment_pending", Some("0"));
        }
        delivered(&format!("{}", proof.tx_hash), proof.payer, "txHash")
    }
}

fn rpc(chain: &TestChain) -> RpcClient {
    RpcClient::new(&chain.url, Duration::from_secs(10)).expect("loopback URL")
}

#[tokio::test]
async fn pays_on_chain_and_presents_the_same_proof_until_accepted() {
    let chain = TestChain::start().await;
    let (payer_address, payer_key) = chain.account(1);
    chain.mint(payer_address, U256::from(5_000_000)).await;
    let order_created_at = chain.now().await;
    let server = MockServer::start().await;
    let endpoint = ProofEndpoint { offer: offer(chain.token_domain(), AMOUNT), pending: Mutex::new(1) };
    Mock::given(wiremock::matchers::method("POST")).respond_with(endpoint).mount(&server).await;

    let payer = Payer::new(payer_key, Some(rpc(&chain)));
    let client = Client::new(server.uri()).with_api_key("otx_k");
    let body = json!({ "domain": "example.com", "years": 1 });
    let paid = payer.pay(&client, Method::POST, "/api/vercel/register", Some(body), ProofKind::TxHash).await;
    let paid = paid.expect("paid");
    assert_eq!(paid.status, 201, "{}", paid.body);
    let payment = paid.payment.expect("a payment");
    let tx_hash = payment.tx_hash.expect("a transaction");
    assert_eq!((payment.kind, payment.header.as_str()), (ProofKind::TxHash, "X-Payment"));
    assert_eq!(paid.receipt.expect("receipt")["txHash"], json!(tx_hash));
    assert_eq!(paid.payment_response.expect("settlement")["transaction"], json!(tx_hash));

    // Paid exactly once, exactly the amount.
    assert_eq!(chain.balance(PAY_TO).await, U256::from(AMOUNT));
    assert_eq!(chain.balance(payer_address).await, U256::from(5_000_000 - AMOUNT));

    // The challenge, then the same proof twice (pending, then accepted), same body each time.
    let requests = server.received_requests().await.expect("recorded");
    assert_eq!(requests.len(), 3);
    assert!(requests[0].headers.get("x-payment").is_none());
    assert_eq!(requests[1].headers.get("x-payment"), requests[2].headers.get("x-payment"));
    assert!(requests.iter().all(|r| r.body == requests[0].body));

    // What the server checks: the proof's fields, the payer binding, the receipt.
    let header = requests[1].headers.get("x-payment").and_then(|v| v.to_str().ok()).expect("a header");
    let Ok(IncomingPayment::TransferProof(proof)) = x402::decode_payment_header(header) else {
        panic!("not a transfer proof")
    };
    assert_eq!((proof.order_id.as_str(), proof.tx_hash, proof.payer), (ORDER_ID, tx_hash, payer_address));
    assert_eq!(check_payer_binding(&proof, false), Ok(()), "bound by the order signature");
    let receipt = chain.client().transaction_receipt(tx_hash).await.expect("answer");
    let head = chain.client().block_number().await.expect("head");
    let terms = ProofTerms {
        asset: chain.usdc(),
        pay_to: PAY_TO,
        payer: payer_address,
        amount: U256::from(AMOUNT),
        tolerance_ppm: 990_000,
        required_confirmations: 1,
        order_created_at,
    };
    let accepted = check_transfer_receipt(receipt.as_ref(), head, &terms).expect("a valid proof");
    assert_eq!(accepted.paid, U256::from(AMOUNT));
}

#[tokio::test]
async fn a_chain_mismatch_or_an_empty_wallet_pays_nothing() {
    let chain = TestChain::start_with_chain_id(31337).await;
    let (payer_address, payer_key) = chain.account(1);
    chain.mint(payer_address, U256::from(5_000_000)).await;
    let server = MockServer::start().await;
    let endpoint = ProofEndpoint { offer: offer(x402::TokenDomain::base_usdc(), AMOUNT), pending: Mutex::new(0) };
    Mock::given(wiremock::matchers::method("POST")).respond_with(endpoint).mount(&server).await;
    let payer = Payer::new(payer_key, Some(rpc(&chain)));
    let error = payer.pay(&Client::new(server.uri()), Method::POST, "/p", None, ProofKind::TxHash).await;
    assert!(matches!(error, Err(PayError::WrongChain { expected: 8453, actual: 31337 })), "{error:?}");
    assert_eq!(chain.balance(PAY_TO).await, U256::ZERO);

    // On the right chain, a wallet without USDC: the transfer reverts in the estimate, unsent.
    let chain = TestChain::start().await;
    let (_, empty_key) = chain.account(6);
    let payer = Payer::new(empty_key, Some(rpc(&chain)));
    let head = chain.client().block_number().await.expect("head");
    let error = payer.pay(&Client::new(server.uri()), Method::POST, "/p", None, ProofKind::TxHash).await;
    let reason = Some(x402::calldata::REVERT_INSUFFICIENT_BALANCE.to_owned());
    assert!(
        matches!(error, Err(PayError::Rpc(evm_rpc::RpcError::Reverted { reason: ref r })) if *r == reason),
        "{error:?}"
    );
    assert_eq!(chain.client().block_number().await.expect("head"), head, "nothing was sent");
}
