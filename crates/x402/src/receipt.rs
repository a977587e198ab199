//! A transaction receipt as the pure checks need it ([`TxReceipt`], [`ReceiptLog`]), already
//! fetched by the caller, and decoding of the two token events that matter: ERC-20 `Transfer`
//! and EIP-3009 `AuthorizationUsed` (for reconciling a settlement whose outcome was unknown).

use alloy_primitives::{Address, B256, U256};

use crate::constants::{AUTHORIZATION_USED_TOPIC, TRANSFER_TOPIC};

/// One log of a receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptLog {
    /// The contract that emitted it.
    pub address: Address,
    /// `topics[0]` is the event signature hash.
    pub topics: Vec<B256>,
    /// Non-indexed data.
    pub data: Vec<u8>,
}

/// The parts of a mined transaction's receipt and block the checks use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxReceipt {
    /// `status == 0x1`.
    pub success: bool,
    /// Block the transaction is in.
    pub block_number: u64,
    /// That block's timestamp (unix seconds).
    pub block_timestamp: u64,
    /// Logs in emission order.
    pub logs: Vec<ReceiptLog>,
}

/// A decoded ERC-20 `Transfer(address indexed from, address indexed to, uint256 value)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Erc20Transfer {
    /// The token contract that emitted it.
    pub token: Address,
    /// Sender.
    pub from: Address,
    /// Recipient.
    pub to: Address,
    /// Atomic units.
    pub value: U256,
}

/// A decoded `AuthorizationUsed(address indexed authorizer, bytes32 indexed nonce)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthorizationUsed {
    /// The token contract that emitted it.
    pub token: Address,
    /// The payer whose nonce was consumed.
    pub authorizer: Address,
    /// The consumed nonce.
    pub nonce: B256,
}

/// An indexed address topic: 12 zero bytes then the address; anything else is not one.
fn topic_address(topic: &B256) -> Option<Address> {
    topic[..12].iter().all(|b| *b == 0).then(|| Address::from_slice(&topic[12..]))
}

/// Decodes a well-formed `Transfer` log (3 topics, 32 bytes of data), else `None`.
pub fn decode_transfer(log: &ReceiptLog) -> Option<Erc20Transfer> {
    match (log.topics.as_slice(), log.data.len()) {
        ([topic0, from, to], 32) if *topic0 == TRANSFER_TOPIC => Some(Erc20Transfer {
            token: log.address,
            from: topic_address(from)?,
            to: topic_address(to)?,
            value: U256::from_be_slice(&log.data),
        }),
        _ => None,
    }
}

/// Decodes a well-formed `AuthorizationUsed` log (3 topics, no data), else `None`.
pub fn decode_authorization_used(log: &ReceiptLog) -> Option<AuthorizationUsed> {
    match log.topics.as_slice() {
        [topic0, authorizer, nonce] if *topic0 == AUTHORIZATION_USED_TOPIC && log.data.is_empty() => {
            Some(AuthorizationUsed { token: log.address, authorizer: topic_address(authorizer)?, nonce: *nonce })
        }
        _ => None,
    }
}

/// Position of the `AuthorizationUsed(authorizer, nonce)` log emitted by `token`, if any:
/// proof that this `(from, nonce)` was consumed on chain, whoever submitted it.
pub fn find_authorization_used<'a>(
    logs: impl IntoIterator<Item = &'a ReceiptLog>,
    token: Address,
    authorizer: Address,
    nonce: B256,
) -> Option<usize> {
    logs.into_iter().position(|log| {
        decode_authorization_used(log)
            .is_some_and(|used| used.token == token && used.authorizer == authorizer && used.nonce == nonce)
    })
}

/// Whether the authorization of `(authorizer, nonce)` paid `value` to `to` in these logs: the
/// `AuthorizationUsed` log of `token`, followed at once by its `Transfer(authorizer → to,
/// value)` (FiatToken emits them in that order). The nonce alone does not tell which
/// authorization spent it: its authorizer may sign another one with the same nonce.
pub fn authorization_paid(
    logs: &[ReceiptLog],
    token: Address,
    authorizer: Address,
    nonce: B256,
    to: Address,
    value: U256,
) -> bool {
    let Some(used) = find_authorization_used(logs, token, authorizer, nonce) else {
        return false;
    };
    logs.get(used + 1)
        .filter(|log| log.address == token)
        .and_then(decode_transfer)
        .is_some_and(|t| t.from == authorizer && t.to == to && t.value == value)
}

/// Sum of the `Transfer`s emitted by `token` from `from` to `to` (other contracts, senders
/// and recipients are ignored). Saturates instead of overflowing.
pub fn sum_transfers<'a>(
    logs: impl IntoIterator<Item = &'a ReceiptLog>,
    token: Address,
    from: Address,
    to: Address,
) -> U256 {
    logs.into_iter()
        .filter(|log| log.address == token)
        .filter_map(decode_transfer)
        .filter(|t| t.from == from && t.to == to)
        .fold(U256::ZERO, |sum, t| sum.saturating_add(t.value))
}

/// Builds a `Transfer` log (for tests and simulators).
pub fn transfer_log(token: Address, from: Address, to: Address, value: U256) -> ReceiptLog {
    ReceiptLog {
        address: token,
        topics: vec![TRANSFER_TOPIC, from.into_word(), to.into_word()],
        data: value.to_be_bytes::<32>().to_vec(),
    }
}

/// Builds an `AuthorizationUsed` log (for tests and simulators).
pub fn authorization_used_log(token: Address, authorizer: Address, nonce: B256) -> ReceiptLog {
    ReceiptLog {
        address: token,
        topics: vec![AUTHORIZATION_USED_TOPIC, authorizer.into_word(), nonce],
        data: Vec::new(),
    }
}
