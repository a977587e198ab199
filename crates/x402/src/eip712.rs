//! EIP-712 for EIP-3009: the token's domain ([`TokenDomain`]), a parsed
//! `TransferWithAuthorization` message ([`Authorization`]) and its signing hash.
//!
//! The server always builds the domain from its own configuration (token name, version, chain
//! id, contract address), never from a client's `extra`, so a client cannot choose which token
//! or chain its signature is checked against.

use std::borrow::Cow;

use alloy_primitives::{Address, B256, U256, b256};
use alloy_sol_types::{Eip712Domain, SolStruct, sol};

use crate::constants::{BASE_CHAIN_ID, BASE_USDC, USDC_DOMAIN_NAME, USDC_DOMAIN_VERSION};
use crate::wire::Eip3009Authorization;

sol! {
    /// The EIP-3009 message, with the exact field names and order of USDC's type string.
    #[derive(Debug, PartialEq, Eq)]
    struct TransferWithAuthorization {
        address from;
        address to;
        uint256 value;
        uint256 validAfter;
        uint256 validBefore;
        bytes32 nonce;
    }
}

/// The exact EIP-712 type string of the message.
pub const TRANSFER_WITH_AUTHORIZATION_TYPE: &str = "TransferWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)";
/// `keccak256` of [`TRANSFER_WITH_AUTHORIZATION_TYPE`].
pub const TRANSFER_WITH_AUTHORIZATION_TYPEHASH: B256 =
    b256!("7c7c6cdb67a18743f49ec6fa9b35f50d52ed05cbed4cc592e13b44501c1a2267");
/// `keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")`.
pub const EIP712_DOMAIN_TYPEHASH: B256 = b256!("8b73c3c69bb8fe3d512ecc4cf759cc79239f7b179b0ffacaa9a75d522b39400f");

/// An EIP-3009 token's EIP-712 domain.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenDomain {
    /// Domain `name` (Base mainnet USDC: "USD Coin").
    pub name: String,
    /// Domain `version` (USDC: "2").
    pub version: String,
    /// Chain id.
    pub chain_id: u64,
    /// The token contract.
    pub verifying_contract: Address,
}

impl TokenDomain {
    /// Native USDC on Base mainnet: "USD Coin", "2", 8453, 0x8335…2913.
    pub fn base_usdc() -> Self {
        Self {
            name: USDC_DOMAIN_NAME.to_owned(),
            version: USDC_DOMAIN_VERSION.to_owned(),
            chain_id: BASE_CHAIN_ID,
            verifying_contract: BASE_USDC,
        }
    }

    /// The alloy form of the domain.
    pub fn eip712_domain(&self) -> Eip712Domain {
        Eip712Domain::new(
            Some(Cow::Owned(self.name.clone())),
            Some(Cow::Owned(self.version.clone())),
            Some(U256::from(self.chain_id)),
            Some(self.verifying_contract),
            None,
        )
    }

    /// The domain separator (what the token's `DOMAIN_SEPARATOR()` returns).
    pub fn separator(&self) -> B256 {
        self.eip712_domain().separator()
    }
}

/// A parsed `TransferWithAuthorization` (all wire strings already checked).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Authorization {
    /// The payer, who signed.
    pub from: Address,
    /// The recipient.
    pub to: Address,
    /// Atomic token units.
    pub value: U256,
    /// Unix seconds; valid strictly after this on chain.
    pub valid_after: U256,
    /// Unix seconds; valid strictly before this on chain.
    pub valid_before: U256,
    /// The payer-chosen 32-byte nonce.
    pub nonce: B256,
}

impl Authorization {
    /// The message as an alloy `sol!` struct.
    pub fn message(&self) -> TransferWithAuthorization {
        TransferWithAuthorization {
            from: self.from,
            to: self.to,
            value: self.value,
            validAfter: self.valid_after,
            validBefore: self.valid_before,
            nonce: self.nonce,
        }
    }

    /// `keccak256(abi.encode(TYPEHASH, from, to, value, validAfter, validBefore, nonce))`.
    pub fn struct_hash(&self) -> B256 {
        self.message().eip712_hash_struct()
    }

    /// The digest to sign: `keccak256("\x19\x01" ‖ domainSeparator ‖ structHash)`.
    pub fn signing_hash(&self, domain: &TokenDomain) -> B256 {
        self.message().eip712_signing_hash(&domain.eip712_domain())
    }

    /// The wire form: checksummed addresses, decimal numbers, lower-case hex nonce.
    pub fn to_wire(&self) -> Eip3009Authorization {
        Eip3009Authorization {
            from: self.from.to_checksum(None),
            to: self.to.to_checksum(None),
            value: self.value.to_string(),
            valid_after: self.valid_after.to_string(),
            valid_before: self.valid_before.to_string(),
            nonce: format!("0x{}", hex::encode(self.nonce)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::{address, keccak256};

    #[test]
    fn type_constants_match_their_strings() {
        assert_eq!(TransferWithAuthorization::eip712_encode_type(), TRANSFER_WITH_AUTHORIZATION_TYPE);
        assert_eq!(keccak256(TRANSFER_WITH_AUTHORIZATION_TYPE), TRANSFER_WITH_AUTHORIZATION_TYPEHASH);
        assert_eq!(
            keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
            EIP712_DOMAIN_TYPEHASH
        );
    }

    #[test]
    fn separator_depends_on_every_field() {
        let base = TokenDomain::base_usdc();
        let sepolia_name = TokenDomain { name: "USDC".into(), ..base.clone() };
        let other_chain = TokenDomain { chain_id: 84532, ..base.clone() };
        let other_token =
            TokenDomain { verifying_contract: address!("036CbD53842c5426634e7929541eC2318f3dCF7e"), ..base.clone() };
        for other in [sepolia_name, other_chain, other_token] {
            assert_ne!(other.separator(), base.separator());
        }
    }
}
