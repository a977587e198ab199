//! Locating the anvil binary and running it as a child process on `127.0.0.1` with an
//! OS-assigned port, killed (and reaped) on drop.

use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Environment variable naming the anvil binary to use instead of the npm-installed one.
pub const ANVIL_ENV: &str = "OTONIX_ANVIL";

/// The workspace's `testchain/` directory.
fn testchain_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testchain")
}

/// The anvil binary: `$OTONIX_ANVIL` when set, else the one `npm ci --prefix testchain`
/// installs (`testchain/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil`, or the package
/// for another platform).
///
/// # Panics
/// When there is none, with a message saying how to install it.
pub fn anvil_path() -> PathBuf {
    if let Some(path) = std::env::var_os(ANVIL_ENV).filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        assert!(path.is_file(), "{ANVIL_ENV}={} is not a file", path.display());
        return path;
    }
    let packages = testchain_dir().join("node_modules/@foundry-rs");
    let preferred = packages.join("anvil-linux-amd64/bin/anvil");
    if preferred.is_file() {
        return preferred;
    }
    let other_platform = std::fs::read_dir(&packages).ok().and_then(|entries| {
        entries
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().starts_with("anvil-"))
            .map(|e| e.path().join("bin/anvil"))
            .find(|p| p.is_file())
    });
    other_platform.unwrap_or_else(|| {
        panic!(
            "the anvil binary is missing (looked for {}). Install it with `npm ci --prefix testchain` \
             from the workspace root, or set {ANVIL_ENV} to an anvil binary.",
            preferred.display()
        )
    })
}

/// A running anvil, killed and reaped when dropped.
#[derive(Debug)]
pub(crate) struct AnvilProcess {
    child: Child,
    stderr: Arc<Mutex<String>>,
}

/// How much of anvil's stderr is kept for error messages.
const STDERR_KEEP: usize = 8 * 1024;

impl AnvilProcess {
    /// Starts anvil on `127.0.0.1:0` with `args` and returns it with the address it listens on.
    pub(crate) async fn spawn(args: &[String]) -> (Self, SocketAddr) {
        let path = anvil_path();
        let mut child = Command::new(&path)
            .args(["--host", "127.0.0.1", "--port", "0"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", path.display()));
        let stderr = Arc::new(Mutex::new(String::new()));
        if let Some(pipe) = child.stderr.take() {
            let keep = Arc::clone(&stderr);
            std::thread::spawn(move || drain_stderr(pipe, &keep));
        }
        let (tx, rx) = tokio::sync::oneshot::channel();
        if let Some(pipe) = child.stdout.take() {
            std::thread::spawn(move || read_stdout(pipe, tx));
        }
        let mut process = Self { child, stderr };
        match tokio::time::timeout(Duration::from_secs(30), rx).await {
            Ok(Ok(addr)) => (process, addr),
            _ => {
                let status = process.child.try_wait().ok().flatten();
                panic!("anvil did not start listening (exit status {status:?}); stderr: {}", process.stderr_text())
            }
        }
    }

    /// Whether the process is still running.
    pub(crate) fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// What anvil wrote on stderr (the last few KiB).
    pub(crate) fn stderr_text(&self) -> String {
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

impl Drop for AnvilProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads stdout until the `Listening on <addr>` line, reports the address, then discards the
/// rest (anvil logs every request) so the pipe never fills up.
fn read_stdout(pipe: impl Read, tx: tokio::sync::oneshot::Sender<SocketAddr>) {
    let mut tx = Some(tx);
    let mut lines = BufReader::new(pipe);
    let mut line = String::new();
    while matches!(lines.read_line(&mut line), Ok(n) if n > 0) {
        if let Some(addr) = line.trim().strip_prefix("Listening on ").and_then(|a| a.parse().ok())
            && let Some(tx) = tx.take()
        {
            let _ = tx.send(addr);
        }
        line.clear();
    }
}

/// Keeps the last [`STDERR_KEEP`] bytes of stderr.
fn drain_stderr(pipe: impl Read, keep: &Mutex<String>) {
    let mut lines = BufReader::new(pipe);
    let mut line = String::new();
    while matches!(lines.read_line(&mut line), Ok(n) if n > 0) {
        if let Ok(mut text) = keep.lock() {
            text.push_str(&line);
            if text.len() > STDERR_KEEP {
                let mut cut = text.len() - STDERR_KEEP;
                while !text.is_char_boundary(cut) {
                    cut += 1;
                }
                text.drain(..cut);
            }
        }
        line.clear();
    }
}
