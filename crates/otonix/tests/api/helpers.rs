//! The test harness: the real application on 127.0.0.1:0 with a fresh database (a temporary
//! SQLite file, or a fresh schema on the PostgreSQL of `OTONIX_TEST_DATABASE_URL`), a manual
//! clock, and typed helpers for the requests most tests need.

use std::sync::Arc;

use otonix::config::Secret;
use otonix::{Application, Config, ManualClock};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{Value, json};
use tokio::sync::oneshot;

/// A running test server.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// HTTP client (no proxies: loopback only).
    pub client: reqwest::Client,
    /// The admin token.
    pub admin_token: String,
    /// The clock the server reads.
    pub clock: Arc<ManualClock>,
    /// Database URL and schema, when on PostgreSQL.
    pub database: Option<(String, String)>,
    /// The configuration the server runs with.
    pub config: Config,
    _data_dir: tempfile::TempDir,
    _shutdown: oneshot::Sender<()>,
}

/// An API key made for a test.
#[derive(Debug, Clone)]
pub struct TestKey {
    /// Key id.
    pub id: String,
    /// The key.
    pub key: String,
}

/// Who sends a request.
#[derive(Debug, Clone, Copy)]
pub enum As<'a> {
    /// No credential.
    Anonymous,
    /// The admin token.
    Admin,
    /// An API key.
    Key(&'a TestKey),
}

/// The PostgreSQL URL tests run against, if any. When set, it must work: an unreachable
/// database fails the tests instead of skipping them.
pub fn postgres_url() -> Option<String> {
    std::env::var("OTONIX_TEST_DATABASE_URL").ok().filter(|u| !u.is_empty())
}

/// A test configuration: loopback, temporary data dir, the test database.
pub fn test_config(data_dir: &std::path::Path) -> (Config, Option<(String, String)>) {
    let mut config =
        Config { bind: "127.0.0.1:0".parse().unwrap(), data_dir: data_dir.to_owned(), ..Config::default() };
    config.auth.admin_token = Some(Secret::new(format!("admin-{}", uuid::Uuid::new_v4().simple())));
    let database = postgres_url().map(|url| {
        let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
        config.database.url = Some(Secret::new(url.clone()));
        config.database.schema = Some(schema.clone());
        config.database.pool_size = 4;
        (url, schema)
    });
    (config, database)
}

/// Starts the application with a fresh database.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts the application after `adjust` changed the configuration.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
    init_test_logging();
    let data_dir = tempfile::tempdir().expect("temporary directory");
    let (mut config, database) = test_config(data_dir.path());
    adjust(&mut config);
    start(config, database, ManualClock::starting_now(), data_dir).await
}

async fn start(
    config: Config,
    database: Option<(String, String)>,
    clock: Arc<ManualClock>,
    data_dir: tempfile::TempDir,
) -> TestApp {
    let admin_token = config.auth.admin_token.as_ref().unwrap().expose().to_owned();
    let app = Application::build_with_clock(config.clone(), clock.clone()).await.expect("the application builds");
    let base = format!("http://127.0.0.1:{}", app.port());
    let (shutdown, stopped) = oneshot::channel::<()>();
    tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    TestApp {
        base,
        client: reqwest::Client::builder().no_proxy().build().unwrap(),
        admin_token,
        clock,
        database,
        config,
        _data_dir: data_dir,
        _shutdown: shutdown,
    }
}

fn init_test_logging() {
    if std::env::var("TEST_LOG").is_ok() {
        otonix::telemetry::init(&otonix::config::LogConfig::default());
    }
}

impl TestApp {
    /// A second server on the same database and clock: another replica (PostgreSQL only; the
    /// embedded store serves one process).
    pub async fn replica(&self) -> TestApp {
        assert!(self.database.is_some(), "replicas share a PostgreSQL database");
        let data_dir = tempfile::tempdir().expect("temporary directory");
        let config = Config { data_dir: data_dir.path().to_owned(), ..self.config.clone() };
        start(config, self.database.clone(), self.clock.clone(), data_dir).await
    }

    /// A second connection to the server's database, for checks no endpoint exposes.
    pub async fn store(&self) -> otonix::store::Store {
        otonix::store::Store::connect(&self.config.database, &self.config.data_dir).await.expect("the store connects")
    }

    /// A request to `path` as `who`.
    pub fn request(&self, method: Method, path: &str, who: As<'_>) -> RequestBuilder {
        let builder = self.client.request(method, format!("{}{path}", self.base));
        match who {
            As::Anonymous => builder,
            As::Admin => builder.header("X-Dashboard-Token", &self.admin_token),
            As::Key(key) => builder.header("X-API-Key", &key.key),
        }
    }

    /// Sends a request with an optional JSON body; returns status and parsed body.
    pub async fn call(&self, method: Method, path: &str, who: As<'_>, body: Option<Value>) -> (StatusCode, Value) {
        let mut builder = self.request(method, path, who);
        if let Some(body) = body {
            builder = builder.json(&body);
        }
        let response = builder.send().await.expect("request sent");
        let status = response.status();
        let text = response.text().await.unwrap();
        let body =
            if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
        (status, body)
    }

    /// GET as `who`.
    pub async fn get(&self, path: &str, who: As<'_>) -> (StatusCode, Value) {
        self.call(Method::GET, path, who, None).await
    }

    /// POST JSON as `who`.
    pub async fn post(&self, path: &str, who: As<'_>, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, who, Some(body)).await
    }

    /// A new API key generated by the admin.
    pub async fn create_key(&self, name: &str) -> TestKey {
        let (status, body) = self.post("/api/keys/generate", As::Admin, json!({ "name": name })).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        TestKey { id: body["id"].as_str().unwrap().to_owned(), key: body["key"].as_str().unwrap().to_owned() }
    }

    /// Registers an agent with `key` and returns the agent object.
    pub async fn register_agent(&self, key: &TestKey, body: Value) -> Value {
        let (status, response) = self.post("/api/agents/register", As::Key(key), body).await;
        assert_eq!(status, StatusCode::CREATED, "{response}");
        response["agent"].clone()
    }

    /// Registers an agent named `name` with defaults and returns its id.
    pub async fn agent_id(&self, key: &TestKey, name: &str) -> String {
        self.register_agent(key, json!({ "name": name })).await["id"].as_str().unwrap().to_owned()
    }

    /// Sends a heartbeat without a body.
    pub async fn heartbeat(&self, key: &TestKey, agent_id: &str) -> (StatusCode, Value) {
        self.call(Method::POST, &format!("/api/agents/{agent_id}/heartbeat"), As::Key(key), None).await
    }

    /// Logs an action.
    pub async fn log_action(&self, key: &TestKey, agent_id: &str, action: &str, category: &str) -> (StatusCode, Value) {
        self.post(
            &format!("/api/agents/{agent_id}/actions"),
            As::Key(key),
            json!({ "action": action, "category": category }),
        )
        .await
    }

    /// Reads an agent as its owner.
    pub async fn agent(&self, key: &TestKey, agent_id: &str) -> Value {
        let (status, body) = self.get(&format!("/api/agents/{agent_id}"), As::Key(key)).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    /// Records a completed transaction moving an agent's credits: a credit as the admin (a key's
    /// credit moves nothing), a debit as the agent's key.
    pub async fn transact(&self, key: &TestKey, agent_id: &str, kind: &str, amount: f64) -> Value {
        let body = json!({ "type": kind, "amount": amount, "agentId": agent_id });
        let who = if kind == "credit" { As::Admin } else { As::Key(key) };
        let (status, response) = self.post("/api/transactions", who, body).await;
        assert_eq!(status, StatusCode::CREATED, "{response}");
        response
    }

    /// Every item of a list, following `X-Next-Cursor` pages of `limit`.
    pub async fn walk(&self, path: &str, who: As<'_>, limit: usize) -> Vec<Value> {
        let separator = if path.contains('?') { '&' } else { '?' };
        let mut items = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let url = match &next {
                Some(cursor) => format!("{path}{separator}limit={limit}&cursor={cursor}"),
                None => format!("{path}{separator}limit={limit}"),
            };
            let response = self.request(Method::GET, &url, who).send().await.unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            next = response.headers().get("x-next-cursor").map(|v| v.to_str().unwrap().to_owned());
            let page: Vec<Value> = response.json().await.unwrap();
            assert!(page.len() <= limit);
            items.extend(page);
            if next.is_none() {
                return items;
            }
        }
    }
}

/// Asserts the SPEC §2.2 envelope with `code`.
pub fn assert_error(status: StatusCode, body: &Value, expected_status: StatusCode, code: &str) {
    assert_eq!(status, expected_status, "{body}");
    assert_eq!(body["error"], code, "{body}");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
}
