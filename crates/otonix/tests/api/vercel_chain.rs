//! Domains paid for on the local chain (anvil) with the simulated registrar, both ways to pay,
//! and the attacks on an upstream purchase: a transfer a little short of the price, and a name
//! recorded on this server between the 402 and the payment.

use reqwest::StatusCode;
use serde_json::{Value, json};
use x402::constants::HEADER_PAYMENT_SIGNATURE;

use crate::helpers::As;
use crate::market::{Market, usdc};
use crate::pay::{challenge, pay_header, send};
use crate::vercel_register::settled;

const PATH: &str = "/api/vercel/register";

async fn market() -> Market {
    Market::on(otonix_testchain::TestChain::start().await, 1, |c| {
        c.providers.allow_simulated_with_real_payments = true;
    })
    .await
}

fn refunds(transactions: &Value) -> usize {
    transactions.as_array().unwrap().iter().filter(|t| t["metadata"]["category"] == "refund").count()
}

#[tokio::test]
async fn a_domain_is_bought_with_an_authorization_and_with_a_transfer_proof() {
    let m = market().await;
    let body = json!({ "domain": "chain-paid.com", "agentId": m.agent });
    let c = challenge(&m.app, &m.key, PATH, &body).await;
    let header = pay_header(&m.payer, &c, m.now());
    let (status, paid, _) = send(&m.app, &m.key, PATH, &body, Some((HEADER_PAYMENT_SIGNATURE, header.as_str()))).await;
    assert_eq!(status, StatusCode::CREATED, "{paid}");
    assert_eq!(m.paid_to().await, usdc(11.25));
    let domain = settled(&m.app, &m.key, paid["domain"]["id"].as_str().unwrap()).await;
    assert_eq!(domain["status"], "active");

    let body = json!({ "domain": "proof-paid.dev" });
    let c = challenge(&m.app, &m.key, PATH, &body).await;
    let tx = m.chain.transfer(&m.payer, m.pay_to, usdc(15.0)).await;
    let proof = m.proof(&c.order_id, tx, m.payer.address(), None);
    let (status, paid, _) = send(&m.app, &m.key, PATH, &body, Some(("X-Payment", proof.as_str()))).await;
    assert_eq!(status, StatusCode::CREATED, "{paid}");
    assert_eq!(paid["receipt"]["scheme"], "txHash");
}

#[tokio::test]
async fn a_transfer_short_of_a_domains_price_buys_nothing() {
    let m = market().await;
    let body = json!({ "domain": "ninety-nine.com" });
    let c = challenge(&m.app, &m.key, PATH, &body).await;
    // 99 % buys credits (payments.amountTolerance), never what is bought upstream at full price.
    let short = m.chain.transfer(&m.payer, m.pay_to, usdc(11.1375)).await;
    let proof = m.proof(&c.order_id, short, m.payer.address(), None);
    let (status, answer, _) = send(&m.app, &m.key, PATH, &body, Some(("X-Payment", proof.as_str()))).await;
    assert_eq!((status, &answer["details"]["reason"]), (StatusCode::PAYMENT_REQUIRED, &json!("underpaid")), "{answer}");
    let (_, check) = m.app.post("/api/vercel/check", As::Anonymous, json!({ "domain": "ninety-nine.com" })).await;
    assert_eq!(check["available"], true, "{check}");
}

#[tokio::test]
async fn a_name_recorded_locally_after_the_402_is_refunded_without_being_bought() {
    let m = market().await;
    let body = json!({ "domain": "grab-me.com" });
    let c = challenge(&m.app, &m.key, PATH, &body).await;
    // Someone records the name on this server before the transfer is proven.
    let squatter = m.app.create_key("squatter").await;
    let (status, record) = m.app.post("/api/domains", As::Key(&squatter), json!({ "name": "grab-me.com" })).await;
    assert_eq!(status, StatusCode::CREATED, "{record}");

    let tx = m.chain.transfer(&m.payer, m.pay_to, usdc(11.25)).await;
    let proof = m.proof(&c.order_id, tx, m.payer.address(), None);
    let (status, answer, _) = send(&m.app, &m.key, PATH, &body, Some(("X-Payment", proof.as_str()))).await;
    assert_eq!(
        (status, &answer["details"]["reason"]),
        (StatusCode::PAYMENT_REQUIRED, &json!("order_refunded")),
        "{answer}"
    );
    // Nothing was bought: the registrar still sells the name, and the payment came back once.
    let (_, check) = m.app.post("/api/vercel/check", As::Anonymous, json!({ "domain": "grab-me.com" })).await;
    assert_eq!(check["available"], true, "{check}");
    assert_eq!(refunds(&m.app.get("/api/transactions", As::Key(&m.key)).await.1), 1);
}
