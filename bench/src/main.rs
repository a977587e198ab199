//! `otonix-bench`: starts the release server on a temporary database, seeds it through the
//! API, drives load from this separate process over loopback, and prints the SPEC §9.1 figures
//! (with the heartbeat/healthz ratio measured in the same run). See bench/README.md.

mod load;
mod server;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use serde_json::{Value, json};

use load::request;
use server::Launch;

/// Benchmark the Otonix server.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// The server binary (default: `otonix` next to this binary, i.e. target/release/otonix).
    #[arg(long)]
    server: Option<PathBuf>,
    /// Concurrent connections of each load phase.
    #[arg(long, default_value_t = 64)]
    connections: usize,
    /// Seconds of each timed load phase.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Alternating healthz/heartbeat rounds (the medians are reported).
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Registered agents during the heartbeat phase.
    #[arg(long, default_value_t = 100_000)]
    agents: usize,
    /// Actions stored before the list latencies are measured.
    #[arg(long, default_value_t = 1_000_000)]
    actions: u64,
    /// PostgreSQL URL to benchmark instead of the embedded SQLite (a fresh schema is used).
    #[arg(long)]
    database_url: Option<String>,
    /// SQLite `synchronous` setting (`full` or `normal`).
    #[arg(long, default_value = "full")]
    sqlite_synchronous: String,
    /// Append the server's log (JSON lines) to this file; `RUST_LOG` sets its filter.
    #[arg(long)]
    server_log: Option<PathBuf>,
}

struct Api {
    client: reqwest::Client,
    base: String,
}

impl Api {
    async fn post(&self, path: &str, header: (&str, &str), body: Value) -> anyhow::Result<Value> {
        let response =
            self.client.post(format!("{}{path}", self.base)).header(header.0, header.1).json(&body).send().await?;
        anyhow::ensure!(response.status().is_success(), "{path}: {}", response.status());
        Ok(response.json().await?)
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let binary = match &args.server {
        Some(path) => path.clone(),
        None => std::env::current_exe()?.with_file_name("otonix"),
    };
    let data_dir = tempfile::tempdir()?;
    let launch = Launch {
        binary,
        data_dir: data_dir.path().to_owned(),
        database_url: args.database_url.clone(),
        schema: args.database_url.as_ref().map(|_| format!("bench_{}", uuid::Uuid::new_v4().simple())),
        admin_token: format!("bench-admin-{}", uuid::Uuid::new_v4().simple()),
        sqlite_synchronous: args.sqlite_synchronous.clone(),
        log_file: args.server_log.clone(),
    };
    let backend = if args.database_url.is_some() {
        "postgres".to_owned()
    } else {
        format!("sqlite (synchronous={})", args.sqlite_synchronous)
    };
    let server = launch.start().await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let idle_rss = server.rss_mb();
    let api =
        Api { client: reqwest::Client::builder().no_proxy().build()?, base: format!("http://{}", server.address) };
    let key =
        api.post("/api/keys/generate", ("X-Dashboard-Token", &launch.admin_token), json!({ "name": "bench" })).await?;
    let key = key["key"].as_str().context("key")?.to_owned();

    let agents = register_agents(&api, &key, args.agents, args.connections).await?;
    let period = Duration::from_secs(args.seconds);
    println!(
        "backend: {backend}; {} connections, {} s per phase, {} rounds (medians), {} agents",
        args.connections,
        args.seconds,
        args.rounds,
        agents.len()
    );

    // The throughput rounds: each connection beats for its own 32 agents, round robin.
    let beats_for = |agents: Vec<&String>| -> Vec<Vec<u8>> {
        agents
            .into_iter()
            .map(|id| request("POST", &format!("/api/agents/{id}/heartbeat"), &[("X-API-Key", &key)], None))
            .collect()
    };
    let hot_agents = &agents[..agents.len().min(args.connections * 32)];
    let heartbeat_requests =
        |connection: usize| beats_for(hot_agents.iter().skip(connection).step_by(args.connections).collect());
    // The hottest case: every connection beating for the same agent (a retry storm).
    let single_agent = |_: usize| beats_for(vec![&agents[0]]);
    let mut healthz_rounds = Vec::new();
    let mut heartbeat_rounds = Vec::new();
    let mut single_rounds = Vec::new();
    for _ in 0..args.rounds.max(1) {
        healthz_rounds.push(
            load::run(&server.address, args.connections, period, 200, |_| vec![request("GET", "/healthz", &[], None)])
                .await?,
        );
        heartbeat_rounds.push(load::run(&server.address, args.connections, period, 200, heartbeat_requests).await?);
        single_rounds.push(load::run(&server.address, args.connections, period, 200, single_agent).await?);
        let (h, b, s) =
            (healthz_rounds.last().unwrap(), heartbeat_rounds.last().unwrap(), single_rounds.last().unwrap());
        eprintln!(
            "  round: healthz {:.0}/s, heartbeats {:.0}/s (p99 {:.2} ms), ratio {:.0} %; one agent {:.0}/s (p99 {:.2} ms), ratio {:.0} %",
            h.rate(),
            b.rate(),
            b.quantile_ms(0.99),
            100.0 * b.rate() / h.rate(),
            s.rate(),
            s.quantile_ms(0.99),
            100.0 * s.rate() / h.rate()
        );
    }
    // Every registered agent heartbeating: the memory bar.
    let fleet = load::run(&server.address, args.connections, period, 200, |connection| {
        beats_for(agents.iter().skip(connection).step_by(args.connections).collect())
    })
    .await?;
    let loaded_rss = server.rss_mb();
    let healthz = load::median(healthz_rounds);
    let heartbeats = load::median(heartbeat_rounds);
    let single = load::median(single_rounds);

    // Actions: a few agents, one of them with most of the log (the per-agent list case).
    let busy = agents[0].clone();
    let action_body = r#"{"action":"benchmark step","category":"compute","details":"load test"}"#;
    let action_requests = |connection: usize| {
        let agent = if connection.is_multiple_of(2) { &busy } else { &agents[1 + connection % 7] };
        vec![request("POST", &format!("/api/agents/{agent}/actions"), &[("X-API-Key", &key)], Some(action_body))]
    };
    let actions = load::run(&server.address, args.connections, period, 201, action_requests).await?;
    let mut stored = actions.ok;
    let seeding = Instant::now();
    while stored < args.actions {
        let round = load::run(&server.address, args.connections, Duration::from_secs(5), 201, action_requests).await?;
        stored += round.ok;
        eprintln!("  seeded {stored} actions ({:.0}/s)", round.rate());
    }
    let seed_rate = (stored - actions.ok) as f64 / seeding.elapsed().as_secs_f64().max(0.001);

    let feed = |path: String| {
        let key = key.clone();
        move |_| vec![request("GET", &path, &[("X-API-Key", &key)], None)]
    };
    let agent_list = load::run(
        &server.address,
        1,
        Duration::from_secs(3),
        200,
        feed(format!("/api/agents/{busy}/actions?limit=100")),
    )
    .await?;
    let global_list =
        load::run(&server.address, 1, Duration::from_secs(3), 200, feed("/api/agent-actions?limit=100".into())).await?;
    let deep_list = load::run(
        &server.address,
        1,
        Duration::from_secs(3),
        200,
        feed(format!("/api/agents/{busy}/actions?limit=100&cursor=c2VxOjUwMDAwMA")),
    )
    .await?;

    server.stop().await;
    let restarted = launch.start().await?;
    let startup = restarted.startup;
    restarted.stop().await;
    if let (Some(url), Some(schema)) = (&launch.database_url, &launch.schema) {
        drop_schema(url, schema).await?;
    }

    let ratio = heartbeats.rate() / healthz.rate();
    println!();
    println!("| measure | result | SPEC §9.1 goal |");
    println!("|---|---|---|");
    println!("| GET /healthz | {:.0} req/s, p99 {:.2} ms | (reference) |", healthz.rate(), healthz.quantile_ms(0.99));
    println!(
        "| POST heartbeat ({} agents) | {:.0} req/s, p99 {:.2} ms, {:.0} % of healthz | ≥ 50 % of healthz, p99 < 10 ms |",
        hot_agents.len(),
        heartbeats.rate(),
        heartbeats.quantile_ms(0.99),
        ratio * 100.0
    );
    println!(
        "| POST heartbeat, every connection on one agent | {:.0} req/s, p99 {:.2} ms, {:.0} % of healthz | ≥ 60 %, p99 < 10 ms (issue 9) |",
        single.rate(),
        single.quantile_ms(0.99),
        100.0 * single.rate() / healthz.rate()
    );
    println!(
        "| POST heartbeat, all {} agents in turn | {:.0} req/s, p99 {:.2} ms | (memory bar below) |",
        agents.len(),
        fleet.rate(),
        fleet.quantile_ms(0.99)
    );
    println!(
        "| POST actions | {:.0} actions/s, p99 {:.2} ms (seeding: {:.0}/s) | ≥ 10,000/s |",
        actions.rate(),
        actions.quantile_ms(0.99),
        seed_rate
    );
    println!(
        "| newest 100 actions of one agent ({stored} stored) | mean {:.2} ms, p99 {:.2} ms | < 5 ms |",
        agent_list.latency.mean() / 1000.0,
        agent_list.quantile_ms(0.99)
    );
    println!(
        "| newest 100 of the global feed | mean {:.2} ms, p99 {:.2} ms | < 5 ms |",
        global_list.latency.mean() / 1000.0,
        global_list.quantile_ms(0.99)
    );
    println!(
        "| a page of 100 deep in one agent's log | mean {:.2} ms, p99 {:.2} ms | (keyset: same cost) |",
        deep_list.latency.mean() / 1000.0,
        deep_list.quantile_ms(0.99)
    );
    println!(
        "| RSS idle / with all {} agents heartbeating | {idle_rss:.1} MB / {loaded_rss:.1} MB | < 50 MB / < 300 MB |",
        agents.len()
    );
    println!("| startup to ready on the existing database | {} ms | < 1 s |", startup.as_millis());
    let failures = healthz.failed
        + heartbeats.failed
        + single.failed
        + fleet.failed
        + actions.failed
        + agent_list.failed
        + global_list.failed;
    anyhow::ensure!(failures == 0, "{failures} requests failed");
    Ok(())
}

async fn register_agents(api: &Api, key: &str, count: usize, connections: usize) -> anyhow::Result<Vec<String>> {
    let started = Instant::now();
    let mut ids = Vec::with_capacity(count);
    let wallet = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
    while ids.len() < count {
        let batch = connections.min(count - ids.len());
        let requests = (0..batch).map(|i| {
            let body =
                json!({ "name": format!("agent-{}", ids.len() + i), "walletAddress": wallet, "vpsIp": "10.0.0.1" });
            api.post("/api/agents/register", ("X-API-Key", key), body)
        });
        for response in futures::future::join_all(requests).await {
            ids.push(response?["agent"]["id"].as_str().context("agent id")?.to_owned());
        }
    }
    eprintln!("  registered {count} agents in {:.1} s", started.elapsed().as_secs_f64());
    Ok(ids)
}

/// Drops the benchmark's PostgreSQL schema.
async fn drop_schema(url: &str, schema: &str) -> anyhow::Result<()> {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(url).await.context("connecting to drop the bench schema")?;
    sqlx::query(&format!("DROP SCHEMA \"{schema}\" CASCADE")).execute(&mut conn).await?;
    conn.close().await?;
    Ok(())
}
