//! ABI calldata for the token calls a settler or checker makes, and decoders for their return
//! data and revert reasons. Pure encoding with alloy's `sol!`; sending is the caller's job.

use alloy_primitives::{Address, B256, U256};
use alloy_sol_types::{SolCall, SolError as _, sol};

use crate::eip712::Authorization;
use crate::parse::PaymentSignature;

sol! {
    /// EIP-3009, v,r,s form (selector 0xe3ee160e).
    function transferWithAuthorization(address from, address to, uint256 value, uint256 validAfter, uint256 validBefore, bytes32 nonce, uint8 v, bytes32 r, bytes32 s);
    /// ERC-20 transfer (0xa9059cbb).
    function transfer(address to, uint256 value) returns (bool);
    /// ERC-20 balance (0x70a08231).
    function balanceOf(address account) returns (uint256);
    /// EIP-3009 nonce state (0xe94a0102): true once used or canceled.
    function authorizationState(address authorizer, bytes32 nonce) returns (bool);
    /// EIP-712 domain separator (0x3644e515).
    function DOMAIN_SEPARATOR() returns (bytes32);
}

/// USDC's revert reason when `(from, nonce)` was already used or canceled.
pub const REVERT_AUTHORIZATION_USED: &str = "FiatTokenV2: authorization is used or canceled";
/// USDC's revert reason when `block.timestamp <= validAfter`.
pub const REVERT_NOT_YET_VALID: &str = "FiatTokenV2: authorization is not yet valid";
/// USDC's revert reason when `block.timestamp >= validBefore`.
pub const REVERT_EXPIRED: &str = "FiatTokenV2: authorization is expired";
/// USDC's revert reason when the signature does not recover to `from`.
pub const REVERT_INVALID_SIGNATURE: &str = "FiatTokenV2: invalid signature";
/// USDC's revert reason for a high-s signature.
pub const REVERT_HIGH_S: &str = "ECRecover: invalid signature 's' value";
/// USDC's revert reason for `v` other than 27/28.
pub const REVERT_BAD_V: &str = "ECRecover: invalid signature 'v' value";
/// The ERC-20 revert reason for an insufficient balance.
pub const REVERT_INSUFFICIENT_BALANCE: &str = "ERC20: transfer amount exceeds balance";

/// Why return data could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot decode return data: {0}")]
pub struct ReturnDataError(String);

/// `transferWithAuthorization(from, to, value, validAfter, validBefore, nonce, v, r, s)` for a
/// verified authorization and its signature (`v` passed as sent: 27 or 28).
pub fn transfer_with_authorization(authorization: &Authorization, signature: &PaymentSignature) -> Vec<u8> {
    transferWithAuthorizationCall {
        from: authorization.from,
        to: authorization.to,
        value: authorization.value,
        validAfter: authorization.valid_after,
        validBefore: authorization.valid_before,
        nonce: authorization.nonce,
        v: signature.v(),
        r: signature.r(),
        s: signature.s(),
    }
    .abi_encode()
}

/// `transfer(to, value)`.
pub fn transfer(to: Address, value: U256) -> Vec<u8> {
    transferCall { to, value }.abi_encode()
}

/// `balanceOf(account)`.
pub fn balance_of(account: Address) -> Vec<u8> {
    balanceOfCall { account }.abi_encode()
}

/// `authorizationState(authorizer, nonce)`.
pub fn authorization_state(authorizer: Address, nonce: B256) -> Vec<u8> {
    authorizationStateCall { authorizer, nonce }.abi_encode()
}

/// `DOMAIN_SEPARATOR()`.
pub fn domain_separator() -> Vec<u8> {
    DOMAIN_SEPARATORCall {}.abi_encode()
}

/// Decodes `balanceOf`'s return data.
pub fn decode_balance_of(output: &[u8]) -> Result<U256, ReturnDataError> {
    balanceOfCall::abi_decode_returns(output).map_err(|e| ReturnDataError(e.to_string()))
}

/// Decodes `authorizationState`'s return data.
pub fn decode_authorization_state(output: &[u8]) -> Result<bool, ReturnDataError> {
    authorizationStateCall::abi_decode_returns(output).map_err(|e| ReturnDataError(e.to_string()))
}

/// Decodes `DOMAIN_SEPARATOR()`'s return data.
pub fn decode_domain_separator(output: &[u8]) -> Result<B256, ReturnDataError> {
    DOMAIN_SEPARATORCall::abi_decode_returns(output).map_err(|e| ReturnDataError(e.to_string()))
}

/// The reason of a revert: the bare string of `Error(string)` (e.g.
/// [`REVERT_AUTHORIZATION_USED`]), else alloy's description (panics, plain text), if decodable.
pub fn revert_reason(output: &[u8]) -> Option<String> {
    match alloy_sol_types::Revert::abi_decode(output) {
        Ok(revert) => Some(revert.reason),
        Err(_) => alloy_sol_types::decode_revert_reason(output),
    }
}
