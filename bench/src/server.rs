//! The server under test: the release `otonix` binary on a temporary data directory.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// A running server process.
pub struct Server {
    child: Child,
    /// `127.0.0.1:<port>`.
    pub address: String,
    /// Time from spawn until it logged that it is ready.
    pub startup: Duration,
}

/// How to start the server.
pub struct Launch {
    /// The `otonix` binary.
    pub binary: PathBuf,
    /// Its data directory.
    pub data_dir: PathBuf,
    /// PostgreSQL URL, if not SQLite.
    pub database_url: Option<String>,
    /// PostgreSQL schema.
    pub schema: Option<String>,
    /// Admin token.
    pub admin_token: String,
    /// `full` or `normal`.
    pub sqlite_synchronous: String,
    /// Where to copy the server's log (JSON lines), if anywhere.
    pub log_file: Option<PathBuf>,
}

impl Launch {
    /// Starts the server and waits until it is ready.
    pub async fn start(&self) -> anyhow::Result<Server> {
        let mut command = Command::new(&self.binary);
        command
            .args(["serve", "--bind", "127.0.0.1:0", "--data-dir"])
            .arg(&self.data_dir)
            .env("OTONIX_ADMIN_TOKEN", &self.admin_token)
            .env("OTONIX_LOG_FORMAT", "json")
            .env("OTONIX_LOG_LEVEL", "info")
            .env("OTONIX_SQLITE_SYNCHRONOUS", &self.sqlite_synchronous)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        // The address comes from the "otonix is ready" line: keep it in whatever filter is set.
        if let Ok(filter) = std::env::var("RUST_LOG")
            && !filter.split(',').any(|directive| directive.starts_with("otonix="))
        {
            command.env("RUST_LOG", format!("{filter},otonix=info"));
        }
        if let Some(url) = &self.database_url {
            command.env("OTONIX_DATABASE_URL", url);
        }
        if let Some(schema) = &self.schema {
            command.env("OTONIX_DATABASE_SCHEMA", schema);
        }
        let started = Instant::now();
        let mut child = command.spawn().with_context(|| format!("starting {}", self.binary.display()))?;
        let mut lines = BufReader::new(child.stderr.take().context("stderr")?).lines();
        let mut address = None;
        let ready = async {
            while let Some(line) = lines.next_line().await? {
                let event: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
                if event["message"] == "otonix is ready" {
                    address = event["address"].as_str().map(str::to_owned);
                    break;
                }
            }
            anyhow::Ok(())
        };
        tokio::time::timeout(Duration::from_secs(60), ready)
            .await
            .context("the server did not log \"otonix is ready\" within 60 s")??;
        let startup = started.elapsed();
        let mut copy = match &self.log_file {
            Some(path) => Some(std::fs::OpenOptions::new().create(true).append(true).open(path)?),
            None => None,
        };
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(file) = copy.as_mut() {
                    use std::io::Write;
                    let _ = writeln!(file, "{line}");
                }
            }
        });
        Ok(Server { child, address: address.context("the server exited before it was ready")?, startup })
    }
}

impl Server {
    /// Resident memory of the server process in MB.
    pub fn rss_mb(&self) -> f64 {
        let Some(pid) = self.child.id() else { return 0.0 };
        rss_kb(Path::new(&format!("/proc/{pid}/status"))) as f64 / 1024.0
    }

    /// Stops the server (SIGKILL is fine: every acknowledged write is durable).
    pub async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }
}

fn rss_kb(status: &Path) -> u64 {
    std::fs::read_to_string(status)
        .ok()
        .and_then(|text| text.lines().find(|l| l.starts_with("VmRSS:")).map(str::to_owned))
        .and_then(|line| line.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}
