//! `x402-verify`: EIP-3009 verifications per second on one core (SPEC §9.1).
//!
//! Signs a pool of distinct `exact` payments (several payers, fresh nonces) for a Base USDC
//! offer, then on this single thread decodes each from its `PAYMENT-SIGNATURE` header and runs
//! every storage-free rule of SPEC §5.4 (`x402::verify_exact`: form, terms, window, low-s and
//! signature recovery) in a loop for the given time. Every verification must succeed; the
//! rate of accepted payments is printed. See bench/README.md.

use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use x402::signer::{PrivateKeySigner, pay_v2};
use x402::wire::PaymentPayload;
use x402::{
    Address, ExactPayment, IncomingPayment, Offer, TokenDomain, U256, decode_payment_header, encode_header,
    verify_exact,
};

/// Measure x402 payment verification on one core.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Distinct signed payments cycled through.
    #[arg(long, default_value_t = 1_000)]
    payments: usize,
    /// Distinct payer keys among them.
    #[arg(long, default_value_t = 16)]
    payers: usize,
    /// Seconds of each timed loop.
    #[arg(long, default_value_t = 5)]
    seconds: u64,
}

/// Fixed "now" inside every payment's window.
const NOW: u64 = 1_900_000_000;

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    anyhow::ensure!(args.payments > 0 && args.payers > 0, "--payments and --payers must be positive");
    let offer = Offer {
        token: TokenDomain::base_usdc(),
        pay_to: "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC".parse::<Address>()?,
        amount: U256::from(2_500_000u64),
        max_timeout_seconds: 300,
    };
    let accepted = offer.requirements_v2(Some("bench-order"));
    let payers: Vec<PrivateKeySigner> = (0..args.payers).map(|_| PrivateKeySigner::random()).collect();
    let headers = (0..args.payments)
        .map(|i| Ok(encode_header(&pay_v2(&payers[i % payers.len()], &accepted, None, NOW)?)))
        .collect::<anyhow::Result<Vec<String>>>()?;
    let limit = Duration::from_secs(args.seconds);

    let decode_only = run(&headers, limit, |header| decode(header))?;
    let payments = headers.iter().map(|h| decode(h)).collect::<anyhow::Result<Vec<_>>>()?;
    let verify_only = run(&payments, limit, |payment| verify(payment, &offer))?;
    let end_to_end = run(&headers, limit, |header| verify(&decode(header)?, &offer))?;

    println!("x402 exact (EIP-3009) verification, one thread, {} payments from {} payers", args.payments, args.payers);
    println!("  header decode only          {:>10.0} /s", decode_only);
    println!("  verify_exact (parsed)       {:>10.0} /s", verify_only);
    println!("  decode + verify_exact       {:>10.0} /s   (SPEC §9.1 target ≥ 5,000/s per core)", end_to_end);
    Ok(())
}

fn decode(header: &str) -> anyhow::Result<PaymentPayload> {
    match decode_payment_header(header).context("decode")? {
        IncomingPayment::Exact(payment) => Ok(payment),
        _ => anyhow::bail!("not an exact payment"),
    }
}

fn verify(payment: &PaymentPayload, offer: &Offer) -> anyhow::Result<ExactPayment> {
    verify_exact(payment, offer, NOW).map_err(|r| anyhow::anyhow!("rejected: {}", r.code()))
}

/// Runs `step` over `items` round-robin for `limit`; returns successful steps per second.
fn run<T, R>(items: &[T], limit: Duration, mut step: impl FnMut(&T) -> anyhow::Result<R>) -> anyhow::Result<f64> {
    let started = Instant::now();
    let mut done = 0usize;
    while started.elapsed() < limit {
        // Check the clock once per batch of 256 steps.
        for _ in 0..256 {
            std::hint::black_box(step(std::hint::black_box(&items[done % items.len()]))?);
            done += 1;
        }
    }
    Ok(done as f64 / started.elapsed().as_secs_f64())
}
