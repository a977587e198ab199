//! `otonix pay`: send a request to a paid endpoint and answer its 402 automatically with a local
//! key, by an EIP-3009 authorization (the server settles) or an on-chain USDC transfer whose hash
//! is presented as proof. The key is read from a file and never printed or logged.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use otonix_client::evm_rpc::RpcClient;
use otonix_client::{Client, Method, PaidResponse, PayError, Payer, PrivateKeySigner, ProofKind};

/// How to pay a 402.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Proof {
    /// Sign an EIP-3009 USDC authorization (x402 `exact`, header PAYMENT-SIGNATURE); the server
    /// settles it and pays the gas. Needs no RPC URL.
    Eip3009,
    /// Send a USDC transfer from the key's wallet (it pays the gas), wait until it is mined, then
    /// present {orderId, txHash, payer, signature} in X-Payment. Needs --rpc-url.
    Txhash,
}

/// Options of `otonix pay`.
#[derive(Debug, Args)]
#[command(after_help = "\
The request is sent once; a 402 answer is paid and the identical request (same method, URL and \
body) is sent again with the payment. While the server answers 402 payment_pending it is retried \
with the same payment, never with a new one. Prints the final status, the JSON body and the \
payment receipt; exits 0 on a 2xx answer and 1 otherwise.

Example:
  otonix pay POST http://127.0.0.1:8080/api/agents/<id>/credits --data '{\"amount\":5}' \\
      --key-file ./payer.key --api-key \"$OTONIX_API_KEY\"")]
pub struct PayArgs {
    /// HTTP method of the request (GET, POST, PUT, PATCH, DELETE, …).
    #[arg(value_name = "METHOD")]
    pub method: String,
    /// URL of the paid endpoint, query string included; without a scheme, http:// on this
    /// machine (localhost:8080/…) and https:// elsewhere.
    #[arg(value_name = "URL")]
    pub url: String,
    /// JSON request body, sent as application/json.
    #[arg(long, value_name = "JSON")]
    pub data: Option<String>,
    /// File holding the payer's private key as 0x-prefixed hex (should be readable only by you).
    #[arg(long, env = "OTONIX_PAYER_KEY_FILE", value_name = "FILE")]
    pub key_file: PathBuf,
    /// How to pay.
    #[arg(long, value_enum, default_value_t = Proof::Eip3009)]
    pub proof: Proof,
    /// API key sent as X-API-Key.
    #[arg(long, env = "OTONIX_API_KEY", hide_env_values = true, value_name = "KEY")]
    pub api_key: Option<String>,
    /// Ethereum JSON-RPC endpoint of the payment's chain; required with --proof txhash.
    #[arg(long, env = "OTONIX_RPC_URL", hide_env_values = true, value_name = "URL")]
    pub rpc_url: Option<String>,
}

/// Runs `otonix pay`: prints the outcome; an error (exit 1) when the final answer is not 2xx.
pub async fn run(args: &PayArgs) -> anyhow::Result<()> {
    let request = PayRequest::from_args(args)?;
    eprintln!("payer: {}", request.payer.address());
    match request.send().await {
        Ok(paid) => {
            print_response(&paid);
            if !paid.is_success() {
                if let Some(payment) = &paid.payment {
                    eprintln!("a payment was presented; to retry, send the same request with (do not pay again):");
                    eprintln!("{}: {}", payment.header, payment.value);
                }
                bail!("the server answered HTTP {}", paid.status);
            }
            Ok(())
        }
        Err(PayError::Unfinished { payment, reason }) => {
            println!("payment made but not accepted yet: {reason}");
            if let Some(tx_hash) = payment.tx_hash {
                println!("transaction: {tx_hash}");
            }
            println!("retry the same request with this header (do not pay again):");
            println!("{}: {}", payment.header, payment.value);
            bail!("the payment is unfinished")
        }
        Err(error) => Err(error.into()),
    }
}

/// A checked `otonix pay` command line, ready to send.
pub struct PayRequest {
    client: Client,
    payer: Payer,
    method: Method,
    path: String,
    body: Option<serde_json::Value>,
    proof: ProofKind,
}

impl PayRequest {
    /// Checks the arguments and reads the key; nothing is sent yet.
    pub fn from_args(args: &PayArgs) -> anyhow::Result<Self> {
        let method = Method::from_bytes(args.method.to_ascii_uppercase().as_bytes())
            .map_err(|_| anyhow::anyhow!("{:?} is not an HTTP method", args.method))?;
        let (base, path) = split_url(&args.url).map_err(anyhow::Error::msg)?;
        let body = match &args.data {
            Some(text) => Some(serde_json::from_str(text).context("--data is not JSON")?),
            None => None,
        };
        let signer = read_key(&args.key_file).map_err(anyhow::Error::msg)?;
        let rpc = match &args.rpc_url {
            Some(url) => Some(RpcClient::new(url, Duration::from_secs(30)).context("--rpc-url")?),
            None => None,
        };
        let proof = match args.proof {
            Proof::Eip3009 => ProofKind::Eip3009,
            Proof::Txhash if rpc.is_none() => bail!("--proof txhash needs --rpc-url (or OTONIX_RPC_URL)"),
            Proof::Txhash => ProofKind::TxHash,
        };
        let mut client = Client::new(base);
        if let Some(key) = &args.api_key {
            client = client.with_api_key(key.clone());
        }
        Ok(Self { client, payer: Payer::new(signer, rpc), method, path, body, proof })
    }

    /// Sends the request and pays its 402.
    pub async fn send(self) -> Result<PaidResponse, PayError> {
        self.payer.pay(&self.client, self.method, &self.path, self.body, self.proof).await
    }
}

fn print_response(paid: &PaidResponse) {
    let pretty = |v: &serde_json::Value| serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string());
    println!("status: {}", paid.status);
    println!("body:\n{}", pretty(&paid.body));
    match &paid.receipt {
        Some(receipt) => println!("receipt:\n{}", pretty(receipt)),
        None => println!("receipt: none"),
    }
    if let Some(settlement) = &paid.payment_response {
        println!("payment-response:\n{}", pretty(settlement));
    }
}

/// Splits `http(s)://authority/path?query` into the base and the path with its query. Without a
/// scheme, as curl takes it: `http://` for a loopback host (`localhost:8080/…`), `https://` for
/// any other.
fn split_url(url: &str) -> Result<(String, String), String> {
    let (scheme, rest) = match url.split_once("://") {
        Some((scheme, rest)) => (scheme.to_owned(), rest),
        None => (if is_loopback(url) { "http" } else { "https" }.to_owned(), url),
    };
    if !matches!(scheme.to_ascii_lowercase().as_str(), "http" | "https") {
        return Err("URL must start with http:// or https:// (or be host/path)".into());
    }
    let cut = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(cut);
    if authority.is_empty() {
        return Err("the URL has no host".into());
    }
    let path = if path.starts_with('/') { path.to_owned() } else { format!("/{path}") };
    Ok((format!("{scheme}://{authority}"), path))
}

/// Whether a scheme-less URL names this machine.
fn is_loopback(url: &str) -> bool {
    let authority = &url[..url.find(['/', '?', '#']).unwrap_or(url.len())];
    let host = match authority.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or_default(),
        None => authority.rsplit_once(':').map_or(authority, |(host, _)| host),
    };
    host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Reads a 0x-hex private key; errors never repeat the file's content.
fn read_key(path: &Path) -> Result<PrivateKeySigner, String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("cannot read the key file {}: {e}", path.display()))?;
    warn_if_shared(path);
    let hex = text.trim();
    let hex = hex.strip_prefix("0x").or_else(|| hex.strip_prefix("0X")).unwrap_or(hex);
    let invalid = || format!("the key file {} does not hold a 0x-hex 32-byte private key", path.display());
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(invalid());
    }
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(hex, &mut bytes).map_err(|_| invalid())?;
    PrivateKeySigner::from_slice(&bytes).map_err(|_| invalid())
}

#[cfg(unix)]
fn warn_if_shared(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        eprintln!("warning: the key file {} is readable by others (chmod 600 it)", path.display());
    }
}

#[cfg(not(unix))]
fn warn_if_shared(_path: &Path) {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::{CommandFactory, Parser};

    fn parse(args: &[&str]) -> PayArgs {
        let cli = Cli::try_parse_from(["otonix", "pay"].iter().chain(args)).expect("parses");
        match cli.command {
            Command::Pay(args) => args,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn help_describes_every_option() {
        let mut command = Cli::command();
        let help = command.find_subcommand_mut("pay").expect("pay").render_long_help().to_string();
        for needle in ["METHOD", "URL", "--data", "--key-file", "OTONIX_PAYER_KEY_FILE", "--proof", "eip3009", "txhash"]
        {
            assert!(help.contains(needle), "{needle} missing from:\n{help}");
        }
        for needle in ["--api-key", "OTONIX_API_KEY", "--rpc-url", "OTONIX_RPC_URL", "exits 0"] {
            assert!(help.contains(needle), "{needle} missing from:\n{help}");
        }
    }

    #[test]
    fn checks_arguments_before_sending() {
        let dir = tempfile::tempdir().expect("temp dir");
        let key = dir.path().join("key");
        std::fs::write(&key, "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d").expect("write");
        let key = key.to_str().expect("UTF-8");
        let url = "http://127.0.0.1:9/api/agents/a1/credits";
        let ok = parse(&["post", url, "--data", r#"{"amount":5}"#, "--key-file", key, "--api-key", "otx_k"]);
        let request = PayRequest::from_args(&ok).expect("valid");
        assert_eq!((request.method.as_str(), request.path.as_str()), ("POST", "/api/agents/a1/credits"));
        assert_eq!(request.body, Some(serde_json::json!({ "amount": 5 })));
        assert_eq!(request.proof, ProofKind::Eip3009);
        let error = |args: &[&str]| PayRequest::from_args(&parse(args)).err().map(|e| format!("{e:#}"));
        assert!(error(&["GE T", url, "--key-file", key]).is_some_and(|e| e.contains("HTTP method")));
        assert!(error(&["POST", url, "--key-file", key, "--data", "{"]).is_some_and(|e| e.contains("--data")));
        assert!(error(&["POST", "ftp://localhost/x", "--key-file", key]).is_some_and(|e| e.contains("http://")));
        let with_rpc = ["POST", url, "--key-file", key, "--proof", "txhash", "--rpc-url", "http://127.0.0.1:9"];
        assert_eq!(PayRequest::from_args(&parse(&with_rpc)).map(|r| r.proof).ok(), Some(ProofKind::TxHash));
        if std::env::var_os("OTONIX_RPC_URL").is_none() {
            let without_rpc = error(&["POST", url, "--key-file", key, "--proof", "txhash"]);
            assert!(without_rpc.is_some_and(|e| e.contains("--rpc-url")));
        }
    }

    #[test]
    fn splits_urls() {
        let split = |u: &str| split_url(u);
        assert_eq!(split("http://127.0.0.1:8080/api/x?y=1"), Ok(("http://127.0.0.1:8080".into(), "/api/x?y=1".into())));
        assert_eq!(split("https://h.example"), Ok(("https://h.example".into(), "/".into())));
        assert_eq!(split("http://h?q=1"), Ok(("http://h".into(), "/?q=1".into())));
        assert!(split("ftp://h/x").is_err());
        assert!(split("http:///x").is_err());
        // Without a scheme, as curl: http on this machine, https elsewhere.
        assert_eq!(split("localhost:8080/api/x"), Ok(("http://localhost:8080".into(), "/api/x".into())));
        assert_eq!(split("127.0.0.1:8080/x"), Ok(("http://127.0.0.1:8080".into(), "/x".into())));
        assert_eq!(split("[::1]:8080/x"), Ok(("http://[::1]:8080".into(), "/x".into())));
        assert_eq!(split("otonix.example.com/x"), Ok(("https://otonix.example.com".into(), "/x".into())));
        assert!(split("/x").is_err());
    }

    #[test]
    fn reads_keys_without_echoing_them() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("key");
        let key = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
        std::fs::write(&path, format!("{key}\n")).expect("write");
        let signer = read_key(&path).expect("a key");
        assert_eq!(signer.address().to_string(), "0x70997970C51812dc3A010C7d01b50e0d17dc79C8");
        let secret = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b7869zz";
        std::fs::write(&path, secret).expect("write");
        let error = read_key(&path).expect_err("not hex");
        assert!(!error.contains("59c6995e"), "{error}");
        assert!(read_key(&dir.path().join("missing")).is_err());
    }
}
