//! Prints a signed EIP-3009 `transferWithAuthorization` (JSON) for the local chain smoke test
//! (`testchain/smoke.mjs`): the Base USDC domain, anvil's account 1 paying account 2.
//!
//! Usage: `cargo run --example sign_authorization --features signer -- <validAfter> <validBefore>
//! <value> [0x nonce]` (a random nonce when none is given).

use x402::eip712::{Authorization, TokenDomain};
use x402::signer::{PrivateKeySigner, sign_authorization};
use x402::{B256, U256, calldata, parse};

/// Anvil's public dev account 1 (0x70997970C51812dc3A010C7d01b50e0d17dc79C8). Test key only.
const PAYER_KEY: &str = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
/// Anvil's dev account 2.
const PAY_TO: &str = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let valid_after: u64 = args.next().ok_or("missing <validAfter>")?.parse()?;
    let valid_before: u64 = args.next().ok_or("missing <validBefore>")?.parse()?;
    let value: u64 = args.next().ok_or("missing <value>")?.parse()?;
    let nonce = match args.next() {
        Some(hex_nonce) => parse::parse_nonce(&hex_nonce)?,
        None => B256::random(),
    };
    let signer: PrivateKeySigner = PAYER_KEY.parse()?;
    let domain = TokenDomain::base_usdc();
    let authorization = Authorization {
        from: signer.address(),
        to: parse::parse_address(PAY_TO)?,
        value: U256::from(value),
        valid_after: U256::from(valid_after),
        valid_before: U256::from(valid_before),
        nonce,
    };
    let signature = sign_authorization(&signer, &domain, &authorization)?;
    let output = serde_json::json!({
        "domainSeparator": format!("0x{}", hex::encode(domain.separator())),
        "authorization": authorization.to_wire(),
        "signature": signature.to_hex(),
        "calldata": format!("0x{}", hex::encode(calldata::transfer_with_authorization(&authorization, &signature))),
    });
    println!("{output}");
    Ok(())
}
