//! Transfer-proof checks over a fetched receipt, and `AuthorizationUsed` reconciliation.

mod common;

use common::*;
use x402::constants::{BASE_USDC, TRANSFER_TOPIC};
use x402::proof::{ProofTerms, check_transfer_receipt, minimum_payment, tolerance_ppm_from_decimal};
use x402::receipt::{
    ReceiptLog, TxReceipt, authorization_paid, authorization_used_log, decode_authorization_used,
    find_authorization_used, sum_transfers, transfer_log,
};
use x402::{Address, Rejection, U256};

const CREATED_AT: u64 = 1_800_000_000;

fn terms() -> ProofTerms {
    ProofTerms {
        asset: BASE_USDC,
        pay_to: PAY_TO,
        payer: PAYER,
        amount: U256::from(10_000_000u64),
        tolerance_ppm: 990_000,
        required_confirmations: 2,
        order_created_at: CREATED_AT,
    }
}

fn usdc(from: Address, to: Address, value: u64) -> ReceiptLog {
    transfer_log(BASE_USDC, from, to, U256::from(value))
}

fn receipt(logs: Vec<ReceiptLog>) -> TxReceipt {
    TxReceipt { success: true, block_number: 100, block_timestamp: CREATED_AT, logs }
}

fn check(receipt: &TxReceipt, head: u64) -> Result<U256, Rejection> {
    check_transfer_receipt(Some(receipt), head, &terms()).map(|accepted| accepted.paid)
}

#[test]
fn sums_several_matching_transfers() {
    let r = receipt(vec![usdc(PAYER, PAY_TO, 5_000_000), usdc(PAYER, PAY_TO, 5_000_000)]);
    assert_eq!(check(&r, 101), Ok(U256::from(10_000_000u64)));
}

#[test]
fn exactly_at_tolerance_is_accepted_one_unit_below_is_not() {
    let at = receipt(vec![usdc(PAYER, PAY_TO, 4_000_000), usdc(PAYER, PAY_TO, 5_900_000)]);
    assert_eq!(check(&at, 101), Ok(U256::from(9_900_000u64)));
    let below = receipt(vec![usdc(PAYER, PAY_TO, 4_000_000), usdc(PAYER, PAY_TO, 5_899_999)]);
    assert_eq!(
        check(&below, 101),
        Err(Rejection::Underpaid { paid: U256::from(9_899_999u64), required: U256::from(9_900_000u64) })
    );
}

#[test]
fn logs_of_other_contracts_recipients_and_senders_are_ignored() {
    let other_token = transfer_log(Address::repeat_byte(0xee), PAYER, PAY_TO, U256::from(10_000_000u64));
    let r = receipt(vec![
        other_token,
        usdc(PAYER, Address::repeat_byte(0x01), 10_000_000),
        usdc(Address::repeat_byte(0x02), PAY_TO, 10_000_000),
        usdc(PAYER, PAY_TO, 1_000_000),
    ]);
    assert_eq!(check(&r, 101).unwrap_err().code(), "underpaid");
    let none = receipt(vec![usdc(PAY_TO, PAYER, 10_000_000)]);
    assert_eq!(check(&none, 101), Err(Rejection::NoMatchingTransfer));
}

#[test]
fn malformed_transfer_logs_are_ignored() {
    let mut short_data = usdc(PAYER, PAY_TO, 10_000_000);
    short_data.data.pop();
    let mut extra_topic = usdc(PAYER, PAY_TO, 10_000_000);
    extra_topic.topics.push(TRANSFER_TOPIC);
    let mut dirty_topic = usdc(PAYER, PAY_TO, 10_000_000);
    dirty_topic.topics[1].0[0] = 1;
    let logs = [short_data, extra_topic, dirty_topic];
    assert_eq!(sum_transfers(&logs, BASE_USDC, PAYER, PAY_TO), U256::ZERO);
}

#[test]
fn confirmations_are_counted_from_the_head() {
    let r = receipt(vec![usdc(PAYER, PAY_TO, 10_000_000)]);
    let pending = check(&r, 100).unwrap_err();
    assert_eq!(pending, Rejection::PendingConfirmations { confirmations: 1, required: 2 });
    assert!(pending.is_pending());
    assert_eq!(check(&r, 99), Err(Rejection::PendingConfirmations { confirmations: 0, required: 2 }));
    let accepted = check_transfer_receipt(Some(&r), 101, &terms()).unwrap();
    assert_eq!(accepted.confirmations, 2);
}

#[test]
fn missing_receipt_is_pending_and_reverted_is_definite() {
    let missing = check_transfer_receipt(None, 100, &terms()).unwrap_err();
    assert_eq!(missing, Rejection::TransactionPending);
    assert!(missing.is_pending());
    let mut reverted = receipt(vec![usdc(PAYER, PAY_TO, 10_000_000)]);
    reverted.success = false;
    let failed = check(&reverted, 200).unwrap_err();
    assert_eq!(failed.code(), "transaction_failed");
    assert!(!failed.is_pending());
}

#[test]
fn definite_failures_win_over_pending_confirmations() {
    let r = receipt(vec![usdc(PAYER, PAY_TO, 1)]);
    assert_eq!(check(&r, 100).unwrap_err().code(), "underpaid");
}

#[test]
fn block_may_be_at_most_120_seconds_older_than_the_order() {
    let mut r = receipt(vec![usdc(PAYER, PAY_TO, 10_000_000)]);
    r.block_timestamp = CREATED_AT - 120;
    assert!(check(&r, 101).is_ok());
    r.block_timestamp = CREATED_AT - 121;
    assert_eq!(
        check(&r, 101),
        Err(Rejection::PaidBeforeOrder { block_timestamp: CREATED_AT - 121, earliest: CREATED_AT - 120 })
    );
}

/// The logs of a `transferWithAuthorization` receipt as anvil returned them (testchain/smoke.mjs,
/// TestUSDC at the Base USDC address on chain 8453).
#[test]
fn logs_captured_from_anvil_decode() {
    let log = |topics: &[&str], data: &str| ReceiptLog {
        address: BASE_USDC,
        topics: topics.iter().map(|t| b256(t)).collect(),
        data: hex::decode(data.trim_start_matches("0x")).unwrap(),
    };
    let nonce = "0xe1e3c3045d8992745fb98eeb1f78011d9a420d254cad990c8c62a2e0b225a666";
    let receipt = TxReceipt {
        success: true,
        block_number: 3,
        block_timestamp: 1_795_964_560,
        logs: vec![
            log(
                &[
                    "0x98de503528ee59b575ef0c0a2576a82497bfc029a5685b209e9ec333479b10a5",
                    "0x00000000000000000000000070997970c51812dc3a010c7d01b50e0d17dc79c8",
                    nonce,
                ],
                "0x",
            ),
            log(
                &[
                    "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef",
                    "0x00000000000000000000000070997970c51812dc3a010c7d01b50e0d17dc79c8",
                    "0x0000000000000000000000003c44cdddb6a900fa2b585dd299e03d12fa4293bc",
                ],
                "0x0000000000000000000000000000000000000000000000000000000000002710",
            ),
        ],
    };
    assert_eq!(find_authorization_used(&receipt.logs, BASE_USDC, PAYER, b256(nonce)), Some(0));
    let terms = ProofTerms {
        amount: U256::from(10_000u64),
        tolerance_ppm: 1_000_000,
        required_confirmations: 1,
        order_created_at: 1_795_964_560,
        ..terms()
    };
    let accepted = check_transfer_receipt(Some(&receipt), 3, &terms).unwrap();
    assert_eq!((accepted.paid, accepted.confirmations), (U256::from(10_000u64), 1));
}

#[test]
fn minimum_payment_rounds_up_with_integers() {
    assert_eq!(minimum_payment(U256::from(10_000_000u64), 990_000), U256::from(9_900_000u64));
    assert_eq!(minimum_payment(U256::from(1u8), 990_000), U256::from(1u8));
    assert_eq!(minimum_payment(U256::from(3u8), 500_000), U256::from(2u8));
    assert_eq!(minimum_payment(U256::MAX, 1_000_000), U256::MAX);
    assert_eq!(minimum_payment(U256::MAX, 2_000_000), U256::MAX);
    assert_eq!(minimum_payment(U256::from(7u8), 0), U256::ZERO);
    assert_eq!(tolerance_ppm_from_decimal("0.99"), Ok(990_000));
    assert_eq!(tolerance_ppm_from_decimal("1"), Ok(1_000_000));
    assert!(tolerance_ppm_from_decimal("0.9999999").is_err());
}

#[test]
fn authorization_used_is_found_for_reconciliation() {
    let nonce = b256(NONCE);
    let logs = vec![authorization_used_log(BASE_USDC, PAYER, nonce), usdc(PAYER, PAY_TO, 10_000)];
    let used = decode_authorization_used(&logs[0]).unwrap();
    assert_eq!((used.token, used.authorizer, used.nonce), (BASE_USDC, PAYER, nonce));
    assert_eq!(find_authorization_used(&logs, BASE_USDC, PAYER, nonce), Some(0));
    assert_eq!(find_authorization_used(&logs, BASE_USDC, PAY_TO, nonce), None);
    assert_eq!(find_authorization_used(&logs, BASE_USDC, PAYER, b256(DOMAIN_SEPARATOR)), None);
    assert_eq!(find_authorization_used(&logs, Address::repeat_byte(0xee), PAYER, nonce), None);
    assert_eq!(decode_authorization_used(&logs[1]), None);
}

#[test]
fn an_authorization_paid_only_when_its_transfer_follows_its_used_log() {
    let nonce = b256(NONCE);
    let used = authorization_used_log(BASE_USDC, PAYER, nonce);
    let paid =
        |logs: &[ReceiptLog], value: u64| authorization_paid(logs, BASE_USDC, PAYER, nonce, PAY_TO, U256::from(value));
    assert!(paid(&[used.clone(), usdc(PAYER, PAY_TO, 5)], 5));
    // The nonce spent by another authorization of the same payer: a different amount or recipient.
    assert!(!paid(&[used.clone(), usdc(PAYER, PAY_TO, 0)], 5));
    assert!(!paid(&[used.clone(), usdc(PAYER, PAYER, 5)], 5));
    // The transfer must be the very next log, of the same token.
    assert!(!paid(&[used.clone(), usdc(PAYER, PAY_TO, 1), usdc(PAYER, PAY_TO, 5)], 5));
    assert!(!paid(&[usdc(PAYER, PAY_TO, 5), used.clone()], 5));
    let elsewhere = transfer_log(Address::repeat_byte(7), PAYER, PAY_TO, U256::from(5));
    assert!(!paid(&[used.clone(), elsewhere], 5));
    // Another payer's or nonce's use proves nothing.
    assert!(!paid(&[authorization_used_log(BASE_USDC, PAY_TO, nonce), usdc(PAYER, PAY_TO, 5)], 5));
    assert!(!paid(&[usdc(PAYER, PAY_TO, 5)], 5));
}
