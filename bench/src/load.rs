//! A closed-loop HTTP/1.1 load generator over raw keep-alive TCP connections: each connection
//! sends a prepared request, reads the whole response, records the latency, and repeats.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use hdrhistogram::Histogram;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// What a load run measured.
pub struct LoadResult {
    /// Completed requests with the expected status.
    pub ok: u64,
    /// Requests answered with another status.
    pub failed: u64,
    /// Wall time of the run.
    pub elapsed: Duration,
    /// Latencies in microseconds.
    pub latency: Histogram<u64>,
}

impl LoadResult {
    /// Successful requests per second.
    pub fn rate(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }

    /// A latency quantile in milliseconds.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        self.latency.value_at_quantile(q) as f64 / 1000.0
    }
}

/// The run with the median rate.
pub fn median(mut runs: Vec<LoadResult>) -> LoadResult {
    runs.sort_by(|a, b| a.rate().total_cmp(&b.rate()));
    let middle = runs.len() / 2;
    runs.swap_remove(middle)
}

/// Builds a raw request.
pub fn request(method: &str, path: &str, headers: &[(&str, &str)], body: Option<&str>) -> Vec<u8> {
    let mut text = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    match body {
        Some(body) => {
            text.push_str(&format!("Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}", body.len()))
        }
        None => text.push_str("Content-Length: 0\r\n\r\n"),
    }
    text.into_bytes()
}

/// Runs `connections` closed loops for `duration`; connection `i` cycles through `requests(i)`.
pub async fn run(
    address: &str,
    connections: usize,
    duration: Duration,
    expected_status: u16,
    requests: impl Fn(usize) -> Vec<Vec<u8>>,
) -> anyhow::Result<LoadResult> {
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for connection in 0..connections {
        let (stop, address, prepared) = (stop.clone(), address.to_owned(), requests(connection));
        tasks.push(tokio::spawn(async move { drive(&address, prepared, expected_status, &stop).await }));
    }
    let started = Instant::now();
    tokio::time::sleep(duration).await;
    stop.store(true, Ordering::Relaxed);
    let mut total = LoadResult { ok: 0, failed: 0, elapsed: Duration::ZERO, latency: Histogram::new(3)? };
    for task in tasks {
        let (ok, failed, latency) = task.await??;
        total.ok += ok;
        total.failed += failed;
        total.latency.add(latency)?;
    }
    total.elapsed = started.elapsed();
    Ok(total)
}

async fn drive(
    address: &str,
    prepared: Vec<Vec<u8>>,
    expected: u16,
    stop: &AtomicBool,
) -> anyhow::Result<(u64, u64, Histogram<u64>)> {
    let stream = TcpStream::connect(address).await.context("connecting")?;
    stream.set_nodelay(true)?;
    let mut stream = BufReader::new(stream);
    let mut latency = Histogram::<u64>::new(3)?;
    let (mut ok, mut failed) = (0u64, 0u64);
    let mut line = String::new();
    let mut body = Vec::new();
    for request in prepared.iter().cycle() {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let sent = Instant::now();
        stream.get_mut().write_all(request).await?;
        line.clear();
        stream.read_line(&mut line).await?;
        let status: u16 = line.split(' ').nth(1).and_then(|s| s.parse().ok()).context("status line")?;
        let mut length = 0usize;
        loop {
            line.clear();
            if stream.read_line(&mut line).await? == 0 {
                bail!("connection closed");
            }
            if line == "\r\n" {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse()?;
            }
        }
        body.resize(length, 0);
        stream.read_exact(&mut body).await?;
        latency.record(sent.elapsed().as_micros() as u64)?;
        if status == expected { ok += 1 } else { failed += 1 }
    }
    Ok((ok, failed, latency))
}
