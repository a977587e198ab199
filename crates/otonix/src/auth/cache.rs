//! Cache of looked-up API keys, so a request costs no database round trip for authentication.
//!
//! An entry is trusted for `auth.keyCacheSeconds`; after that the key is read again. That is
//! the bound on how long a key revoked through another replica keeps working here. A revocation
//! through this replica takes effect at once.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::RwLock;

use crate::clock::Millis;
use crate::store::keys::{self, KeyAuth};
use crate::store::{Store, StoreResult};

/// How stale `lastUsedAt` may get before it is written again.
const LAST_USED_RESOLUTION_MS: i64 = 60_000;
/// Entries kept at most; past this the cache starts over.
const MAX_ENTRIES: usize = 100_000;

struct Entry {
    key: Arc<KeyAuth>,
    fetched: Instant,
    last_used_written: AtomicI64,
}

/// Hashes a SHA-256 digest by taking eight of its bytes: they are already uniformly random.
#[derive(Default)]
struct DigestHasher(u64);

impl Hasher for DigestHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut head = [0u8; 8];
        let n = bytes.len().min(8);
        head[..n].copy_from_slice(&bytes[..n]);
        self.0 ^= u64::from_le_bytes(head);
    }
}

type Digest = [u8; 32];

/// Looked-up keys by the SHA-256 digest of the key.
pub struct KeyCache {
    ttl: Duration,
    entries: RwLock<HashMap<Digest, Arc<Entry>, BuildHasherDefault<DigestHasher>>>,
}

impl KeyCache {
    /// A cache trusting entries for `ttl`.
    pub fn new(ttl: Duration) -> Self {
        Self { ttl, entries: RwLock::new(HashMap::default()) }
    }

    /// The key with this hash, from the cache or the database. Records its use.
    pub async fn lookup(&self, store: &Store, digest: &Digest, now: Millis) -> StoreResult<Option<Arc<KeyAuth>>> {
        let cached = self.entries.read().get(digest).filter(|e| e.fetched.elapsed() < self.ttl).cloned();
        let entry = match cached {
            Some(entry) => entry,
            None => {
                let mut conn = store.read().await?;
                let Some(key) = keys::find_for_auth(&mut conn, &hex::encode(digest)).await? else {
                    return Ok(None);
                };
                let entry = Arc::new(Entry {
                    last_used_written: AtomicI64::new(key.last_used_at.unwrap_or(0)),
                    key: Arc::new(key),
                    fetched: Instant::now(),
                });
                let mut entries = self.entries.write();
                if entries.len() >= MAX_ENTRIES {
                    entries.clear();
                }
                entries.insert(*digest, entry.clone());
                entry
            }
        };
        self.record_use(store, &entry, now);
        Ok(Some(entry.key.clone()))
    }

    /// Forgets a key (after it was revoked here), so its next use reads the new status.
    pub fn forget(&self, key_id: &str) {
        self.entries.write().retain(|_, entry| entry.key.id != key_id);
    }

    fn record_use(&self, store: &Store, entry: &Entry, now: Millis) {
        let previous = entry.last_used_written.load(Ordering::Relaxed);
        if now - previous < LAST_USED_RESOLUTION_MS {
            return;
        }
        if entry.last_used_written.compare_exchange(previous, now, Ordering::Relaxed, Ordering::Relaxed).is_err() {
            return;
        }
        let (store, id) = (store.clone(), entry.key.id.clone());
        tokio::spawn(async move {
            let result = async {
                let mut tx = store.begin().await?;
                keys::touch(&mut tx, &id, now).await?;
                tx.commit().await?;
                Ok::<_, crate::store::StoreError>(())
            }
            .await;
            if let Err(error) = result {
                tracing::warn!(error = %error, key_id = %id, "could not record key use");
            }
        });
    }
}
