//! A JSON-RPC proxy in front of anvil that injects the faults a settlement must survive: an
//! answer lost after the transaction was broadcast, a broadcast swallowed before it reached the
//! node, a late answer, a call held until the test lets it go, and a look at the database at the
//! moment a transaction is broadcast. Each fault applies once, to the next matching call.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use futures::future::BoxFuture;
use parking_lot::Mutex;
use serde_json::Value;
use tokio::sync::{Notify, Semaphore};

const SEND: &str = "eth_sendRawTransaction";

/// A check run on the raw bytes of a transaction before it is forwarded.
pub type BeforeSend = Box<dyn FnOnce(Vec<u8>) -> BoxFuture<'static, ()> + Send>;

/// A fault for the next matching call.
pub enum Fault {
    /// Forward `eth_sendRawTransaction`, then answer with a body that is not JSON.
    LoseAnswerAfterSend,
    /// Answer `eth_sendRawTransaction` with a body that is not JSON, without forwarding it.
    SwallowSend,
    /// Forward `method`, then wait `delay` before answering.
    AnswerLate {
        /// The JSON-RPC method.
        method: &'static str,
        /// How long to wait.
        delay: Duration,
    },
    /// Hold `method` until the gate opens.
    Hold {
        /// The JSON-RPC method.
        method: &'static str,
        /// The gate.
        gate: Arc<Gate>,
    },
    /// Run a check before forwarding `eth_sendRawTransaction`.
    BeforeSend(BeforeSend),
}

impl Fault {
    fn method(&self) -> &str {
        match self {
            Self::LoseAnswerAfterSend | Self::SwallowSend | Self::BeforeSend(_) => SEND,
            Self::AnswerLate { method, .. } | Self::Hold { method, .. } => method,
        }
    }
}

/// Where a held call waits: the test learns when it arrived, and lets it go.
pub struct Gate {
    arrived: Notify,
    open: Semaphore,
}

impl Gate {
    /// A closed gate.
    pub fn new() -> Arc<Self> {
        Arc::new(Self { arrived: Notify::new(), open: Semaphore::new(0) })
    }

    /// Waits until a call is held at the gate.
    pub async fn arrival(&self) {
        tokio::time::timeout(Duration::from_secs(30), self.arrived.notified()).await.expect("the call arrives");
    }

    /// Lets held calls go on.
    pub fn open(&self) {
        self.open.add_permits(Semaphore::MAX_PERMITS / 2);
    }
}

struct Shared {
    upstream: String,
    http: reqwest::Client,
    faults: Mutex<Vec<Fault>>,
}

/// The proxy; it stops when dropped.
pub struct RpcProxy {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

impl RpcProxy {
    /// A proxy forwarding to `upstream`.
    pub async fn start(upstream: &str) -> Self {
        let shared = Arc::new(Shared {
            upstream: upstream.to_owned(),
            http: reqwest::Client::builder().no_proxy().build().unwrap(),
            faults: Mutex::new(Vec::new()),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let app = axum::Router::new().route("/", axum::routing::post(relay)).with_state(shared.clone());
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self { url, shared, server }
    }

    /// Applies `fault` to the next matching call.
    pub fn inject(&self, fault: Fault) {
        self.shared.faults.lock().push(fault);
    }
}

impl Drop for RpcProxy {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn relay(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let request: Value = serde_json::from_slice(&body).unwrap_or_default();
    let method = request["method"].as_str().unwrap_or_default().to_owned();
    let fault = {
        let mut faults = shared.faults.lock();
        faults.iter().position(|f| f.method() == method).map(|i| faults.remove(i))
    };
    let not_json = || (axum::http::StatusCode::OK, "<html>upstream connection reset</html>").into_response();
    match fault {
        Some(Fault::SwallowSend) => return not_json(),
        Some(Fault::Hold { ref gate, .. }) => {
            gate.arrived.notify_one();
            let _permit = gate.open.acquire().await.unwrap();
        }
        Some(Fault::BeforeSend(check)) => {
            let raw = request["params"][0].as_str().unwrap_or_default().trim_start_matches("0x").to_owned();
            check(hex::decode(raw).unwrap()).await;
            return forward(&shared, body).await;
        }
        _ => {}
    }
    let answer = forward(&shared, body).await;
    match fault {
        Some(Fault::LoseAnswerAfterSend) => not_json(),
        Some(Fault::AnswerLate { delay, .. }) => {
            tokio::time::sleep(delay).await;
            answer
        }
        _ => answer,
    }
}

async fn forward(shared: &Shared, body: Bytes) -> Response {
    forward_to(&shared.http, &shared.upstream, body).await
}

/// Sends a JSON-RPC body to `upstream` and answers what it answered.
pub async fn forward_to(http: &reqwest::Client, upstream: &str, body: Bytes) -> Response {
    let answer =
        http.post(upstream).header("content-type", "application/json").body(body).send().await.expect("anvil answers");
    let status = axum::http::StatusCode::from_u16(answer.status().as_u16()).unwrap();
    let bytes = answer.bytes().await.unwrap();
    (status, [("content-type", "application/json")], bytes).into_response()
}
