//! Checks of a transfer proof's receipt against the order (SPEC §5.4 b steps 2–4): success,
//! matching `Transfer` logs adding up to the tolerated minimum, a block not older than the order,
//! and enough confirmations. Integer arithmetic only.

use alloy_primitives::{Address, U256, U512};

use crate::constants::{PPM, PROOF_BLOCK_AGE_SLACK_SECS};
use crate::parse::ParseError;
use crate::receipt::{TxReceipt, sum_transfers};
use crate::rejection::Rejection;
use crate::usdc_units::parse_usdc;

/// What the receipt must show, from the server's configuration and the order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProofTerms {
    /// Our token contract: only its logs count.
    pub asset: Address,
    /// Our recipient.
    pub pay_to: Address,
    /// The proof's payer: only transfers from it count.
    pub payer: Address,
    /// The order amount (atomic units).
    pub amount: U256,
    /// Fraction of `amount` accepted, in parts per million (990000 = 99 %).
    pub tolerance_ppm: u32,
    /// Confirmations required (`head − blockNumber + 1`).
    pub required_confirmations: u64,
    /// When the order was created (unix seconds).
    pub order_created_at: u64,
}

/// What an accepted receipt showed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProofAccepted {
    /// Sum of the matching transfers.
    pub paid: U256,
    /// Confirmations at `head`.
    pub confirmations: u64,
}

/// `ceil(amount × tolerance_ppm / 1_000_000)`: the least payment accepted.
pub fn minimum_payment(amount: U256, tolerance_ppm: u32) -> U256 {
    let product = U512::from(amount) * U512::from(tolerance_ppm);
    let ppm = U512::from(PPM);
    let minimum = product.div_ceil(ppm);
    U256::saturating_from(minimum)
}

/// A tolerance written as a decimal fraction (`"0.99"`, at most 6 decimals) in ppm.
pub fn tolerance_ppm_from_decimal(text: &str) -> Result<u32, ParseError> {
    u32::try_from(parse_usdc(text)?).map_err(|_| ParseError::OutOfRange)
}

/// Checks a receipt fetched for the proof's `txHash` (`None` if the node has none yet), with
/// `head_block` the chain's latest block number.
///
/// Definite failures are reported before pending ones, so a client is never told to wait for
/// a payment that can never count: no receipt → [`Rejection::TransactionPending`]; reverted →
/// `TransactionFailed`; no matching transfer / too little → `NoMatchingTransfer` / `Underpaid`;
/// mined more than 120 s before the order → `PaidBeforeOrder`; then too few confirmations →
/// [`Rejection::PendingConfirmations`].
pub fn check_transfer_receipt(
    receipt: Option<&TxReceipt>,
    head_block: u64,
    terms: &ProofTerms,
) -> Result<ProofAccepted, Rejection> {
    let receipt = receipt.ok_or(Rejection::TransactionPending)?;
    if !receipt.success {
        return Err(Rejection::TransactionFailed);
    }
    let paid = sum_transfers(&receipt.logs, terms.asset, terms.payer, terms.pay_to);
    if paid.is_zero() {
        return Err(Rejection::NoMatchingTransfer);
    }
    let required = minimum_payment(terms.amount, terms.tolerance_ppm);
    if paid < required {
        return Err(Rejection::Underpaid { paid, required });
    }
    let earliest = terms.order_created_at.saturating_sub(PROOF_BLOCK_AGE_SLACK_SECS);
    if receipt.block_timestamp < earliest {
        return Err(Rejection::PaidBeforeOrder { block_timestamp: receipt.block_timestamp, earliest });
    }
    let confirmations = confirmations(receipt.block_number, head_block);
    if confirmations < terms.required_confirmations {
        return Err(Rejection::PendingConfirmations { confirmations, required: terms.required_confirmations });
    }
    Ok(ProofAccepted { paid, confirmations })
}

/// `head − block + 1`, or 0 when the node's head is behind the receipt's block.
fn confirmations(block_number: u64, head_block: u64) -> u64 {
    head_block.checked_sub(block_number).map_or(0, |d| d.saturating_add(1))
}
