//! `otonix pay` against the running server and anvil: the command answers the 402 with an
//! EIP-3009 authorization or with a USDC transfer and its proof, and prints the receipt.

use alloy_primitives::U256;
use x402::signer::PrivateKeySigner;

use crate::market::{Market, USDC};
use crate::process::otonix;

async fn pay(m: &Market, signer: &PrivateKeySigner, amount: u64, extra: &[&str]) -> (bool, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("payer.key");
    std::fs::write(&key_file, format!("0x{}\n", hex::encode(signer.to_bytes()))).unwrap();
    #[cfg(unix)]
    std::fs::set_permissions(&key_file, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let url = format!("{}/api/agents/{}/credits", m.app.base, m.agent);
    let output = otonix(dir.path(), &None)
        .args(["pay", "POST", &url, "--data", &format!("{{\"amount\": {amount}}}"), "--key-file"])
        .arg(&key_file)
        .args(extra)
        .env("OTONIX_API_KEY", &m.key.key)
        .output()
        .await
        .unwrap();
    let (stdout, stderr) =
        (String::from_utf8_lossy(&output.stdout).into_owned(), String::from_utf8_lossy(&output.stderr).into_owned());
    assert!(
        !stdout.contains(&hex::encode(signer.to_bytes())) && !stderr.contains(&hex::encode(signer.to_bytes())),
        "the key is never printed"
    );
    (output.status.success(), stdout, stderr)
}

#[tokio::test]
async fn otonix_pay_answers_402s_with_an_authorization_or_a_transfer() {
    let m = Market::open(1).await;
    let (ok, out, err) = pay(&m, &m.payer, 6, &[]).await;
    assert!(ok, "{out}\n{err}");
    assert!(out.contains("201"), "{out}");
    assert!(out.contains("\"scheme\": \"exact\"") || out.contains("\"scheme\":\"exact\""), "{out}");
    assert_eq!(m.credits().await, 6.0);
    assert_eq!(m.chain.balance(m.pay_to).await, U256::from(6 * USDC));

    let (ok, out, err) = pay(&m, &m.payer, 4, &["--proof", "txhash", "--rpc-url", &m.chain.url]).await;
    assert!(ok, "{out}\n{err}");
    assert!(out.contains("txHash"), "{out}");
    assert_eq!(m.credits().await, 10.0);
    assert_eq!(m.chain.balance(m.pay_to).await, U256::from(10 * USDC));

    // A wallet without USDC: the server refuses the authorization, the command fails, nothing moves.
    let (ok, out, err) = pay(&m, &PrivateKeySigner::random(), 5, &[]).await;
    assert!(!ok, "{out}\n{err}");
    assert!(out.contains("payment_invalid") || err.contains("payment_invalid"), "{out}\n{err}");
    assert_eq!(m.credits().await, 10.0);
}
