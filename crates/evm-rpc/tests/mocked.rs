//! The client against a scripted JSON-RPC endpoint (wiremock on 127.0.0.1): answer shapes,
//! error objects, reverts, HTTP failures, timeouts, receipts, logs and a signed send.

use std::time::Duration;

use alloy_consensus::{SignableTransaction, Transaction, TxEnvelope};
use alloy_eips::eip2718::Decodable2718;
use alloy_primitives::{Address, B256, U256, address, b256, hex};
use evm_rpc::{PrivateKeySigner, RpcClient, RpcError};
use serde_json::{Value, json};
use wiremock::matchers::{body_partial_json, method};
use wiremock::{Mock, MockServer, ResponseTemplate};

const TX: B256 = b256!("1111111111111111111111111111111111111111111111111111111111111111");
const PAYER: Address = address!("70997970C51812dc3A010C7d01b50e0d17dc79C8");
const PAY_TO: Address = address!("3C44CdDdB6a900fa2b585dd299e03d12FA4293BC");

fn client(server: &MockServer) -> RpcClient {
    RpcClient::new(&server.uri(), Duration::from_secs(5)).expect("valid URL")
}

/// Answers `rpc_method` with `result`.
async fn answer(server: &MockServer, rpc_method: &str, result: Value) {
    Mock::given(method("POST"))
        .and(body_partial_json(json!({ "method": rpc_method })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "jsonrpc": "2.0", "id": 1, "result": result })))
        .mount(server)
        .await;
}

/// Answers `rpc_method` with a JSON-RPC error object.
async fn fail(server: &MockServer, rpc_method: &str, error: Value) {
    Mock::given(method("POST"))
        .and(body_partial_json(json!({ "method": rpc_method })))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "jsonrpc": "2.0", "id": 1, "error": error })))
        .mount(server)
        .await;
}

fn receipt_json(block: u64, status: &str) -> Value {
    let log = x402::receipt::transfer_log(x402::constants::BASE_USDC, PAYER, PAY_TO, U256::from(10_000));
    json!({
        "transactionHash": TX, "blockNumber": format!("{block:#x}"), "blockHash": B256::repeat_byte(0xbb),
        "status": status,
        "logs": [
            { "address": log.address, "topics": log.topics, "data": hex::encode_prefixed(&log.data), "removed": false },
            { "address": log.address, "topics": log.topics, "data": hex::encode_prefixed(&log.data), "removed": true },
        ],
    })
}

#[tokio::test]
async fn reads_quantities() {
    let server = MockServer::start().await;
    answer(&server, "eth_chainId", json!("0x2105")).await;
    answer(&server, "eth_blockNumber", json!("0x10")).await;
    answer(&server, "eth_getBlockByNumber", json!({ "number": "0x10", "timestamp": "0x6553f100" })).await;
    let rpc = client(&server);
    assert_eq!(rpc.chain_id().await, Ok(8453));
    assert_eq!(rpc.block_number().await, Ok(16));
    assert_eq!(rpc.block_timestamp(16).await, Ok(0x6553_f100));
    assert_eq!(rpc.latest_timestamp().await, Ok(0x6553_f100));
    let requests = server.received_requests().await.expect("recorded");
    let user_agent = requests[0].headers.get("user-agent").expect("user agent");
    assert!(user_agent.to_str().expect("ascii").starts_with("otonix-evm-rpc/"));
}

#[tokio::test]
async fn receipt_with_logs_and_block_timestamp() {
    let server = MockServer::start().await;
    answer(&server, "eth_getTransactionReceipt", receipt_json(16, "0x1")).await;
    answer(&server, "eth_getBlockByHash", json!({ "number": "0x10", "timestamp": "0x64" })).await;
    let receipt = client(&server).transaction_receipt(TX).await.expect("answer").expect("mined");
    assert!(receipt.success);
    assert_eq!((receipt.block_number, receipt.block_timestamp), (16, 100));
    assert_eq!(receipt.logs.len(), 1, "the removed log is left out");
    let transfer = x402::receipt::decode_transfer(&receipt.logs[0]).expect("a Transfer");
    assert_eq!((transfer.from, transfer.to, transfer.value), (PAYER, PAY_TO, U256::from(10_000)));
}

#[tokio::test]
async fn failed_receipt_and_unknown_receipt() {
    let server = MockServer::start().await;
    answer(&server, "eth_getTransactionReceipt", receipt_json(16, "0x0")).await;
    answer(&server, "eth_getBlockByHash", json!({ "timestamp": "0x64" })).await;
    let receipt = client(&server).transaction_receipt(TX).await.expect("answer").expect("mined");
    assert!(!receipt.success);

    let server = MockServer::start().await;
    answer(&server, "eth_getTransactionReceipt", Value::Null).await;
    assert_eq!(client(&server).transaction_receipt(TX).await, Ok(None));
}

#[tokio::test]
async fn json_rpc_error_object() {
    let server = MockServer::start().await;
    fail(&server, "eth_blockNumber", json!({ "code": -32005, "message": "limit exceeded" })).await;
    let error = client(&server).block_number().await.expect_err("an error");
    assert_eq!(error, RpcError::Rpc { code: -32005, message: "limit exceeded".into() });
    assert!(!error.is_transient());
}

#[tokio::test]
async fn revert_with_reason() {
    let server = MockServer::start().await;
    // Error(string) "ERC20: transfer amount exceeds balance", as anvil returns it.
    let data = "0x08c379a0\
        0000000000000000000000000000000000000000000000000000000000000020\
        0000000000000000000000000000000000000000000000000000000000000026\
        45524332303a207472616e7366657220616d6f756e7420657863656564732062\
        616c616e63650000000000000000000000000000000000000000000000000000";
    fail(&server, "eth_call", json!({ "code": 3, "message": "execution reverted", "data": data })).await;
    let error = client(&server).call(None, x402::constants::BASE_USDC, vec![1, 2, 3, 4]).await.expect_err("revert");
    let reason = Some(x402::calldata::REVERT_INSUFFICIENT_BALANCE.to_owned());
    assert_eq!(error, RpcError::Reverted { reason });
    let requests = server.received_requests().await.expect("recorded");
    let body: Value = serde_json::from_slice(&requests[0].body).expect("JSON");
    assert_eq!(body["params"][0]["input"], "0x01020304");
    assert_eq!(body["params"][1], "latest");
}

#[tokio::test]
async fn http_500_is_transient() {
    let server = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(500).set_body_string("oops")).mount(&server).await;
    let error = client(&server).chain_id().await.expect_err("an error");
    assert!(matches!(error, RpcError::Transport(ref m) if m.contains("500")), "{error:?}");
    assert!(error.is_transient());
}

#[tokio::test]
async fn rate_limits_are_transient_even_with_an_error_object() {
    let server = MockServer::start().await;
    let error = json!({ "jsonrpc": "2.0", "id": 1, "error": { "code": -32005, "message": "rate limited" } });
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(429).set_body_json(error)).mount(&server).await;
    let error = client(&server).chain_id().await.expect_err("an error");
    assert!(
        matches!(error, RpcError::Transport(ref m) if m.contains("429") && m.contains("rate limited")),
        "{error:?}"
    );
}

#[tokio::test]
async fn http_401_is_not_transient() {
    let server = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(401)).mount(&server).await;
    let error = client(&server).chain_id().await.expect_err("an error");
    assert_eq!(error, RpcError::Http { status: 401 });
}

#[tokio::test]
async fn slow_node_times_out() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({ "jsonrpc": "2.0", "id": 1, "result": "0x1" }))
                .set_delay(Duration::from_secs(3)),
        )
        .mount(&server)
        .await;
    let rpc = RpcClient::new(&server.uri(), Duration::from_millis(200)).expect("valid URL");
    let error = rpc.chain_id().await.expect_err("a timeout");
    assert_eq!(error, RpcError::Timeout);
    assert!(error.is_transient());
}

#[tokio::test]
async fn unreachable_node_is_transport_error_without_url() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    let rpc = RpcClient::new(&format!("http://user:SECRET@127.0.0.1:{port}/KEY"), Duration::from_secs(2)).expect("url");
    let error = rpc.chain_id().await.expect_err("refused");
    assert!(error.is_transient(), "{error:?}");
    let text = error.to_string();
    assert!(!text.contains("SECRET") && !text.contains("KEY"), "{text}");
}

#[tokio::test]
async fn waits_for_confirmations_then_gives_up() {
    let server = MockServer::start().await;
    answer(&server, "eth_getTransactionReceipt", receipt_json(16, "0x1")).await;
    answer(&server, "eth_getBlockByHash", json!({ "timestamp": "0x64" })).await;
    answer(&server, "eth_blockNumber", json!("0x10")).await;
    let rpc = client(&server);
    let one = rpc.wait_for_receipt(TX, 1, Duration::from_secs(2)).await.expect("answer");
    assert_eq!(one.map(|r| r.block_number), Some(16));
    let two = rpc.wait_for_receipt(TX, 2, Duration::from_millis(400)).await;
    assert_eq!(two, Ok(None), "one confirmation short: unknown after the timeout");
}

#[tokio::test]
async fn logs_with_transaction_hashes() {
    let server = MockServer::start().await;
    let receipt = receipt_json(16, "0x1");
    let mut log = receipt["logs"][0].clone();
    log["transactionHash"] = json!(TX);
    answer(&server, "eth_getLogs", json!([log])).await;
    let topics = vec![Some(x402::constants::TRANSFER_TOPIC), None, Some(PAY_TO.into_word())];
    let logs = client(&server).logs(x402::constants::BASE_USDC, topics, 10, None).await.expect("logs");
    assert_eq!(logs.len(), 1);
    assert_eq!(logs[0].0, TX);
    let requests = server.received_requests().await.expect("recorded");
    let body: Value = serde_json::from_slice(&requests[0].body).expect("JSON");
    let filter = &body["params"][0];
    assert_eq!((filter["fromBlock"].as_str(), filter["toBlock"].as_str()), (Some("0xa"), Some("latest")));
    assert_eq!(filter["topics"][1], Value::Null);
}

#[tokio::test]
async fn send_call_signs_an_eip1559_transaction() {
    let server = MockServer::start().await;
    answer(&server, "eth_chainId", json!("0x2105")).await;
    answer(&server, "eth_getTransactionCount", json!("0x7")).await;
    answer(&server, "eth_estimateGas", json!("0x10000")).await;
    answer(&server, "eth_gasPrice", json!("0x3b9aca00")).await;
    answer(&server, "eth_maxPriorityFeePerGas", json!("0x5f5e100")).await;
    Mock::given(method("POST"))
        .and(body_partial_json(json!({ "method": "eth_sendRawTransaction" })))
        .respond_with(|request: &wiremock::Request| {
            let body: Value = serde_json::from_slice(&request.body).expect("JSON");
            let raw = hex::decode(body["params"][0].as_str().expect("hex")).expect("hex");
            let envelope = TxEnvelope::decode_2718(&mut raw.as_slice()).expect("a transaction");
            ResponseTemplate::new(200).set_body_json(json!({ "jsonrpc": "2.0", "id": 1, "result": envelope.tx_hash() }))
        })
        .mount(&server)
        .await;
    let signer = PrivateKeySigner::random();
    let data = x402::calldata::transfer(PAY_TO, U256::from(10_000));
    let hash = client(&server).send_call(&signer, x402::constants::BASE_USDC, data.clone()).await.expect("sent");

    let requests = server.received_requests().await.expect("recorded");
    let send = requests.iter().map(|r| serde_json::from_slice::<Value>(&r.body).expect("JSON"));
    let send = send.into_iter().find(|b| b["method"] == "eth_sendRawTransaction").expect("a send");
    let raw = hex::decode(send["params"][0].as_str().expect("hex")).expect("hex");
    let envelope = TxEnvelope::decode_2718(&mut raw.as_slice()).expect("a transaction");
    assert_eq!(*envelope.tx_hash(), hash);
    assert!(envelope.is_eip1559());
    let signed = envelope.as_eip1559().expect("EIP-1559");
    let recovered = signed.signature().recover_address_from_prehash(&signed.tx().signature_hash());
    assert_eq!(recovered.expect("recoverable"), signer.address());
    assert_eq!(envelope.chain_id(), Some(8453));
    assert_eq!(envelope.nonce(), 7);
    assert_eq!(envelope.gas_limit(), 0x10000 * 125 / 100);
    assert_eq!(envelope.max_priority_fee_per_gas(), Some(100_000_000));
    assert_eq!(envelope.max_fee_per_gas(), 2_000_000_000 + 100_000_000);
    assert_eq!(envelope.to(), Some(x402::constants::BASE_USDC));
    assert_eq!(envelope.input().as_ref(), data.as_slice());
    assert_eq!(envelope.value(), U256::ZERO);
}

#[tokio::test]
async fn send_call_stops_on_an_estimate_revert() {
    let server = MockServer::start().await;
    answer(&server, "eth_chainId", json!("0x2105")).await;
    answer(&server, "eth_getTransactionCount", json!("0x0")).await;
    fail(
        &server,
        "eth_estimateGas",
        json!({ "code": 3, "message": "execution reverted: FiatTokenV2: invalid signature" }),
    )
    .await;
    Mock::given(body_partial_json(json!({ "method": "eth_sendRawTransaction" })))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let error = client(&server).send_call(&PrivateKeySigner::random(), PAY_TO, vec![]).await.expect_err("revert");
    let reason = Some(x402::calldata::REVERT_INVALID_SIGNATURE.to_owned());
    assert_eq!(error, RpcError::Reverted { reason });
}
