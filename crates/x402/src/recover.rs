//! Recovering the Ethereum address that made a secp256k1 signature, with libsecp256k1 (the C
//! library geth's `ecrecover` uses). It is about three times faster than the pure-Rust path,
//! which is what lets one core verify the SPEC §9.1 rate of payments. Like `ecrecover`, it
//! accepts any `s` in range; callers apply their own low-s rule first.

use std::sync::LazyLock;

use alloy_primitives::{Address, B256};
use secp256k1::ecdsa::{RecoverableSignature, RecoveryId};
use secp256k1::{Message, Secp256k1, VerifyOnly};

static CONTEXT: LazyLock<Secp256k1<VerifyOnly>> = LazyLock::new(Secp256k1::verification_only);

/// The address whose key signed `prehash` with `(r, s)` and y-parity `odd_y`; `None` when
/// `r` or `s` is zero or not below the group order, or no point has that `r`.
pub(crate) fn recover_address(prehash: &B256, r: &B256, s: &B256, odd_y: bool) -> Option<Address> {
    let mut compact = [0u8; 64];
    compact[..32].copy_from_slice(r.as_slice());
    compact[32..].copy_from_slice(s.as_slice());
    let id = if odd_y { RecoveryId::One } else { RecoveryId::Zero };
    let signature = RecoverableSignature::from_compact(&compact, id).ok()?;
    let key = CONTEXT.recover_ecdsa(Message::from_digest(prehash.0), &signature).ok()?;
    Some(Address::from_raw_public_key(&key.serialize_uncompressed()[1..]))
}
