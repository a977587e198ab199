//! Refunds of released authorizations that moved money late: an authorization refunded once
//! never pays again (not even its own order, reopened); two of one order used in one batch are
//! both refunded; and a client that hangs up mid-settlement does not cut the settlement off (the
//! window those attacks needed). Each test drives the attack through the HTTP API and failed
//! before its fix.

use std::time::Duration;

use alloy_primitives::B256;
use otonix::config::Secret;
use otonix_testchain::TestChain;
use reqwest::StatusCode;
use x402::constants::HEADER_PAYMENT_SIGNATURE;
use x402::eip712::Authorization;
use x402::signer::{PrivateKeySigner, domain_from_requirements_v2, sign_authorization};

use crate::helpers::As;
use crate::market::{Market, bundle, until, usdc};
use crate::pay::{Challenge, authorization, payment_header};
use crate::rpc_proxy::{Fault, Gate, RpcProxy};

/// A market whose server reads the chain through a fault-injecting proxy, sweeping every second.
async fn market() -> (Market, RpcProxy) {
    let chain = TestChain::start().await;
    let proxy = RpcProxy::start(&chain.url).await;
    let url = proxy.url.clone();
    let m = Market::on(chain, 1, move |config| {
        config.payments.sweep_interval_seconds = 1;
        config.payments.rpc_url = Some(Secret::new(url));
    })
    .await;
    (m, proxy)
}

/// The watch refunds a released authorization A whose money moved while its order O1 was
/// `settling` under another payment B, and claims `tx:<H>:<payer>` for `refund:O1`. B then fails
/// (its transaction reverts: A took the payer's funds), so O1 is reopened. The payer presents A
/// again for O1: the simulation is refused, the token says A was used in H, and
/// `claim_transaction` finds `tx:<H>:<payer>` held by `refund:O1` — "a refund holder, accepted".
/// O1 is delivered with the very money that was just refunded: 5 USDC paid, 10 credited.
///
/// (The broadcast of B is held at the proxy so that the watch looks while O1 is settling; any
/// window in which O1 is settling under a payment that then fails will do — in facilitator mode a
/// refused `/settle` keeps the order settling until B's `validBefore`, which the payer picks.)
#[tokio::test]
async fn a_refunded_authorization_cannot_then_pay_its_reopened_order() {
    let (m, proxy) = market().await;
    let (payer_address, payer, wallet_agent) = m.verified_payer(3).await;
    let c = m.challenge(5.0).await;

    // 1. A, without funds: refused, released, pinned to O1 and watched.
    let a = authorization(&payer, &c.accepted, m.now());
    let a_header = m.present_unfunded(&payer, &c, &a).await;

    // 2. Funded with 5 USDC, the payer presents B (another nonce) for O1; its broadcast is held.
    m.chain.mint(payer_address, usdc(5.0)).await;
    let mut b = authorization(&payer, &c.accepted, m.now());
    b.nonce = B256::repeat_byte(0xbb);
    let b_header = payment_header(&payer, &c.accepted, &b);
    let gate = Gate::new();
    proxy.inject(Fault::Hold { method: "eth_sendRawTransaction", gate: gate.clone() });

    let attack = async {
        gate.arrival().await;
        assert_eq!(m.order_status(&c.order_id).await, "settling");
        // 3. A is submitted on chain: the payer's 5 USDC go to payTo (B will revert).
        m.submit(&payer, &c.accepted, &a).await;
        // 4. The watch sees A used while O1 is settling under B: it refunds A.
        let refunded = until(15, async || m.agent_credits(&wallet_agent).await == 5.0).await;
        gate.open();
        refunded
    };
    let (refunded, (b_status, b_response, _)) = tokio::join!(attack, m.pay(5.0, (HEADER_PAYMENT_SIGNATURE, &b_header)));
    assert!(refunded, "the watch refunded A's 5 USDC");
    assert_ne!(b_status, StatusCode::CREATED, "B reverted: {b_response}");
    assert_eq!(m.order_status(&c.order_id).await, "open", "B failed, O1 reopened");
    assert_eq!(m.chain.balance(m.pay_to).await, usdc(5.0), "5 USDC paid, once");

    // 5. A again, for its reopened order.
    let (status, response, _) = m.pay(5.0, (HEADER_PAYMENT_SIGNATURE, &a_header)).await;
    let delivered = m.credits().await;
    let refunded = m.agent_credits(&wallet_agent).await;
    assert!(
        status != StatusCode::CREATED && delivered + refunded <= 5.0,
        "5 USDC paid once, yet {refunded} credits refunded and {delivered} delivered ({status}: {response})"
    );
}

// ---------------------------------------------------------------------------------------------
// Two released authorizations of one order, used in one transaction: `refund:<orderId>` names
// the order, not the authorization.
// ---------------------------------------------------------------------------------------------

/// Sends both authorizations (signed by `payer`) in one transaction through the bundler.
async fn bundle_both(m: &Market, payer: &PrivateKeySigner, c: &Challenge, auths: [&Authorization; 2]) -> B256 {
    let domain = domain_from_requirements_v2(&c.accepted).unwrap();
    let signatures = auths.map(|auth| sign_authorization(payer, &domain, auth).unwrap());
    bundle(&m.chain, [(auths[0], &signatures[0]), (auths[1], &signatures[1])]).await
}

/// A client that signs a fresh authorization per attempt (as the official x402 client does)
/// leaves two released authorizations pinned to its order O1 after two attempts without funds;
/// it then pays O1 otherwise. Later both authorizations are submitted in one transaction (a
/// batching relayer): 10 USDC reach payTo, O1 was paid, so both amounts must come back. The watch
/// refunds the first and claims `tx:<H>:<payer>` for `refund:O1`; for the second the claim is
/// `Ours` ("already refunded") and its 5 USDC are never given back.
#[tokio::test]
async fn two_released_authorizations_of_one_order_used_in_one_transaction_are_both_refunded() {
    let (m, _proxy) = market().await;
    let (payer_address, payer, wallet_agent) = m.verified_payer(3).await;
    let c = m.challenge(5.0).await;
    let first = authorization(&payer, &c.accepted, m.now());
    let mut second = authorization(&payer, &c.accepted, m.now());
    second.nonce = B256::repeat_byte(0x22);
    for auth in [&first, &second] {
        m.present_unfunded(&payer, &c, auth).await;
    }
    // O1 is paid by the market's funded payer.
    let (status, paid, _) =
        m.pay(5.0, (HEADER_PAYMENT_SIGNATURE, &crate::pay::pay_header(&m.payer, &c, m.now()))).await;
    assert_eq!(status, StatusCode::CREATED, "{paid}");

    m.chain.mint(payer_address, usdc(10.0)).await;
    bundle_both(&m, &payer, &c, [&first, &second]).await;
    assert_eq!(m.chain.balance(m.pay_to).await, usdc(15.0));
    let both = until(10, async || m.agent_credits(&wallet_agent).await == 10.0).await;
    let refunded = m.agent_credits(&wallet_agent).await;
    assert!(both, "10 USDC moved after O1 was paid otherwise, {refunded} refunded");
}

// ---------------------------------------------------------------------------------------------
// A client that hangs up mid-settlement: the server finishes the attempt all the same.
// ---------------------------------------------------------------------------------------------

/// The payer presents B for O1 and hangs up while the server prepares the settlement. Were the
/// handler dropped with the connection, O1 would stay `settling` without a reference for two
/// minutes — a window in which a released authorization A of O1, submitted on chain, would be
/// refunded (O1 not open) and then, O1 reopened, pay it again. The payment part runs to its end
/// on its own: B's attempt ends (here: the node does not answer in time, nothing was sent, O1 is
/// reopened), so A, submitted later, simply pays O1, once.
#[tokio::test]
async fn a_client_that_hangs_up_mid_settlement_does_not_cut_the_settlement_off() {
    let (m, proxy) = market().await;
    let (payer_address, payer, wallet_agent) = m.verified_payer(3).await;
    let c = m.challenge(5.0).await;
    let a = authorization(&payer, &c.accepted, m.now());
    let a_header = m.present_unfunded(&payer, &c, &a).await;

    // B, and a hang-up while the server estimates its gas.
    m.chain.mint(payer_address, usdc(5.0)).await;
    let mut b = authorization(&payer, &c.accepted, m.now());
    b.nonce = B256::repeat_byte(0xbc);
    let gate = Gate::new();
    proxy.inject(Fault::Hold { method: "eth_estimateGas", gate: gate.clone() });
    let hung_up = m
        .app
        .request(reqwest::Method::POST, &crate::pay::credits_path(&m.agent), As::Key(&m.key))
        .json(&crate::pay::top_up(5.0))
        .header(HEADER_PAYMENT_SIGNATURE, payment_header(&payer, &c.accepted, &b))
        .timeout(Duration::from_secs(1))
        .send()
        .await;
    assert!(hung_up.is_err(), "the client hung up");
    gate.arrival().await;
    // Past the server's RPC timeout (10 s) the attempt has ended on its own: nothing was sent,
    // and O1 is open again.
    assert!(until(15, async || m.order_status(&c.order_id).await == "open").await, "B's attempt ended");
    gate.open();

    m.submit(&payer, &c.accepted, &a).await;
    assert!(until(10, async || m.credits().await == 5.0).await, "A, used on chain, paid its open order");
    let (status, response, _) = m.pay(5.0, (HEADER_PAYMENT_SIGNATURE, &a_header)).await;
    assert_eq!(status, StatusCode::CREATED, "the same payment again: its answer, {response}");
    assert_eq!(m.chain.balance(m.pay_to).await, usdc(5.0), "5 USDC paid, once");
    assert_eq!(
        (m.credits().await, m.agent_credits(&wallet_agent).await),
        (5.0, 0.0),
        "delivered once, nothing refunded"
    );
}
