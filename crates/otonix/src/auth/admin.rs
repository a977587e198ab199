//! The admin token: configured, or generated on first start into `<dataDir>/admin-token`
//! (mode 0600). Compared in constant time through SHA-256 digests, so neither content nor length
//! leaks through timing.

use std::io::Write;
use std::path::{Path, PathBuf};

use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::config::Secret;

/// The admin token, held as a digest.
#[derive(Clone)]
pub struct AdminToken {
    digest: [u8; 32],
}

impl std::fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdminToken(<redacted>)")
    }
}

impl AdminToken {
    /// Wraps a token value.
    pub fn new(token: &str) -> Self {
        Self { digest: Sha256::digest(token.as_bytes()).into() }
    }

    /// True when `candidate` is the admin token.
    pub fn matches(&self, candidate: &str) -> bool {
        let digest: [u8; 32] = Sha256::digest(candidate.as_bytes()).into();
        self.digest.ct_eq(&digest).into()
    }
}

/// Where a generated admin token lives.
pub fn token_path(data_dir: &Path) -> PathBuf {
    data_dir.join("admin-token")
}

/// The configured token, else the one in `<dataDir>/admin-token`, else a new one written there.
/// Returns the token and, when it came from the file, the file's path (for the log).
pub fn load_or_generate(
    configured: Option<&Secret>,
    data_dir: &Path,
) -> std::io::Result<(AdminToken, Option<PathBuf>)> {
    if let Some(token) = configured {
        return Ok((AdminToken::new(token.expose()), None));
    }
    crate::private_files::private_dir(data_dir)?;
    let path = token_path(data_dir);
    match std::fs::read_to_string(&path) {
        Ok(text) if !text.trim().is_empty() => {
            crate::private_files::tighten(&path)?;
            return Ok((AdminToken::new(text.trim()), Some(path)));
        }
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = hex::encode(bytes);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&path)?;
    crate::private_files::tighten(&path)?;
    file.write_all(token.as_bytes())?;
    file.write_all(b"\n")?;
    file.sync_all()?;
    Ok((AdminToken::new(&token), Some(path)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_once_with_private_permissions() {
        let dir = tempfile_dir();
        let (first, path) = load_or_generate(None, &dir).unwrap();
        let path = path.unwrap();
        let stored = std::fs::read_to_string(&path).unwrap();
        assert!(first.matches(stored.trim()));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let (second, _) = load_or_generate(None, &dir).unwrap();
        assert!(second.matches(stored.trim()));
        assert!(!second.matches("wrong"));
    }

    fn tempfile_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("otonix-admin-{}-{}", std::process::id(), rand::random::<u32>()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
