//! The well-known anvil dev accounts, derived from the mnemonic
//! `test test test test test test test test test test test junk` (paths `m/44'/60'/0'/0/i`).
//! Anvil funds accounts 0 to 9 with 10,000 ETH each. Public test keys: never use them for real
//! money.

use alloy_primitives::Address;
use alloy_signer_local::PrivateKeySigner;

/// Private keys of accounts 0 to 9.
pub const DEV_KEYS: [&str; 10] = [
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
    "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
    "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
    "0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e",
    "0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356",
    "0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97",
    "0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6",
];

/// Dev account `index` (0 to 9) as address and signer.
///
/// # Panics
/// When `index` is 10 or more.
pub fn dev_account(index: usize) -> (Address, PrivateKeySigner) {
    let key = DEV_KEYS.get(index).unwrap_or_else(|| panic!("anvil dev accounts are 0 to 9, not {index}"));
    let signer: PrivateKeySigner = key.parse().unwrap_or_else(|e| panic!("dev key {index}: {e}"));
    (signer.address(), signer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy_primitives::address;

    #[test]
    fn addresses_match_anvil() {
        assert_eq!(dev_account(0).0, address!("f39Fd6e51aad88F6F4ce6aB8827279cffFb92266"));
        assert_eq!(dev_account(1).0, address!("70997970C51812dc3A010C7d01b50e0d17dc79C8"));
        assert_eq!(dev_account(2).0, address!("3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"));
        assert_eq!(dev_account(9).0, address!("a0Ee7A142d267C1f36714E4a8F75612F20a79720"));
    }
}
