//! API key material: generation from the OS CSPRNG, the accepted format, and the SHA-256 hash
//! that is all the database ever stores.

use rand::RngCore;
use sha2::{Digest, Sha256};

/// Prefix of every API key.
pub const KEY_PREFIX: &str = "otonix_";

/// A freshly generated key: the value (shown once) and what is stored.
#[derive(Debug)]
pub struct KeyMaterial {
    /// The full key, `otonix_` + 48 lowercase hex characters.
    pub plaintext: String,
    /// SHA-256 of the key, hex.
    pub hash: String,
    /// Display prefix: `otonix_` and the first six hex characters.
    pub prefix: String,
    /// The last four characters.
    pub last4: String,
}

/// Generates a key from 24 random bytes.
pub fn generate() -> KeyMaterial {
    let mut bytes = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let plaintext = format!("{KEY_PREFIX}{}", hex::encode(bytes));
    let body = &plaintext[KEY_PREFIX.len()..];
    KeyMaterial {
        hash: hash(&plaintext),
        prefix: format!("{KEY_PREFIX}{}", &body[..6]),
        last4: body[body.len() - 4..].to_owned(),
        plaintext,
    }
}

/// True when `candidate` has the shape of an API key.
pub fn is_well_formed(candidate: &str) -> bool {
    candidate
        .strip_prefix(KEY_PREFIX)
        .is_some_and(|body| body.len() == 48 && body.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
}

/// SHA-256 of a key.
pub fn digest(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

/// SHA-256 of a key, lowercase hex (the stored form).
pub fn hash(key: &str) -> String {
    hex::encode(digest(key))
}

/// Generates a key and records it (its event with it) in the caller's transaction. Returns the
/// stored key and the plaintext, which must be shown once and then forgotten.
pub async fn issue(
    conn: &mut sqlx::AnyConnection,
    name: String,
    owner_wallet: Option<String>,
    created_by_key_id: Option<String>,
    now: crate::clock::Millis,
) -> crate::store::StoreResult<(crate::store::keys::ApiKey, String)> {
    use crate::store::keys;
    let material = generate();
    let new_key = keys::NewKey {
        id: crate::store::new_id(),
        name,
        key_hash: material.hash,
        key_prefix: material.prefix,
        key_last4: material.last4,
        owner_wallet,
        created_by_key_id,
    };
    let stored = keys::insert(conn, &new_key, now).await?;
    Ok((stored, material.plaintext))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_have_the_documented_shape() {
        let key = generate();
        assert!(is_well_formed(&key.plaintext));
        assert_eq!(key.plaintext.len(), 7 + 48);
        assert!(key.plaintext.starts_with(&key.prefix));
        assert!(key.plaintext.ends_with(&key.last4));
        assert_eq!(key.hash, hash(&key.plaintext));
        assert_ne!(generate().plaintext, key.plaintext);
    }

    #[test]
    fn rejects_malformed_keys() {
        assert!(!is_well_formed("otonix_ABCDEF"));
        assert!(!is_well_formed(&format!("otonix_{}", "A".repeat(48))));
        assert!(!is_well_formed(&format!("other_{}", "a".repeat(48))));
    }
}
