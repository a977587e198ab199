//! Running the real `otonix` binary as a child process (for the crash and CLI tests).

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// A server process and its address.
pub struct ServerProcess {
    /// The child.
    pub child: Child,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// Every log line the server wrote after it was ready (JSON).
    pub log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl ServerProcess {
    /// `POST {path}` with a JSON body and one credential header; the JSON answer.
    pub async fn post_json(&self, path: &str, credential: (&str, &str), body: serde_json::Value) -> serde_json::Value {
        let client = reqwest::Client::builder().no_proxy().timeout(Duration::from_secs(10)).build().unwrap();
        let response = client.post(format!("{}{path}", self.base)).header(credential.0, credential.1).json(&body);
        response.send().await.unwrap().json().await.unwrap()
    }

    /// Generates an API key with the admin token; the key.
    pub async fn generate_key(&self, admin_token: &str) -> String {
        let key = self
            .post_json("/api/keys/generate", ("X-Dashboard-Token", admin_token), serde_json::json!({ "name": "test" }))
            .await;
        key["key"].as_str().unwrap().to_owned()
    }
}

/// The `otonix` command with the test database settings in its environment.
pub fn otonix(data_dir: &Path, database: &Option<(String, String)>) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_otonix"));
    command.env_clear().env("PATH", std::env::var("PATH").unwrap_or_default()).env("OTONIX_DATA_DIR", data_dir);
    if let Some((url, schema)) = database {
        command.env("OTONIX_DATABASE_URL", url).env("OTONIX_DATABASE_SCHEMA", schema);
    }
    command.kill_on_drop(true);
    command
}

/// Starts `otonix serve` on a free loopback port and waits until it is ready.
pub async fn start_server(data_dir: &Path, database: &Option<(String, String)>, admin_token: &str) -> ServerProcess {
    start_server_with(data_dir, database, admin_token, &[]).await
}

/// [`start_server`] with extra environment variables.
pub async fn start_server_with(
    data_dir: &Path,
    database: &Option<(String, String)>,
    admin_token: &str,
    env: &[(&str, &str)],
) -> ServerProcess {
    let mut command = otonix(data_dir, database);
    command.envs(env.iter().copied());
    command
        .args(["serve", "--bind", "127.0.0.1:0"])
        .env("OTONIX_ADMIN_TOKEN", admin_token)
        .env("OTONIX_LOG_FORMAT", "json")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("the otonix binary starts");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let address = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            let Ok(event) = serde_json::from_str::<serde_json::Value>(&line) else { continue };
            if event["message"] == "otonix is ready" {
                return event["address"].as_str().unwrap().to_owned();
            }
        }
        panic!("the server exited before it was ready");
    })
    .await
    .expect("the server gets ready");
    // Keep draining the log so the child never blocks on a full pipe.
    let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = log.clone();
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            kept.lock().unwrap().push(line);
        }
    });
    ServerProcess { child, base: format!("http://{address}"), log }
}
