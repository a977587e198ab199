//! The README's quick tour, run as written (with the test binary for `cargo run --release --`
//! and a free port for 8080) against a fresh server, so that the README cannot drift from the
//! binary. It needs bash, curl, jq and openssl, like a reader does.

use std::process::Stdio;
use std::time::Duration;

/// The first `sh` block after `## A quick tour`.
fn tour() -> String {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    let section = &readme[readme.find("## A quick tour").expect("the README has a quick tour")..];
    let start = section.find("```sh\n").expect("a sh block") + "```sh\n".len();
    section[start..start + section[start..].find("```").unwrap()].to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readmes_quick_tour_works_as_written() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let script = tour()
        .replace("cargo run --release --", &format!("'{}'", env!("CARGO_BIN_EXE_otonix")))
        .replace("localhost:8080", &format!("localhost:{port}"));
    let dir = tempfile::tempdir().unwrap();
    let mut command = tokio::process::Command::new("bash");
    command
        .args(["-c", &format!("set -euo pipefail\n{script}")])
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", dir.path())
        .env("OTONIX_BIND", format!("127.0.0.1:{port}"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    let mut child = command.spawn().expect("bash runs");
    let group = child.id().expect("a running shell") as i32;
    // The tour's server, in the background, holds the pipes open: read them on the side.
    let read = |mut pipe: Box<dyn tokio::io::AsyncRead + Unpin + Send>| {
        tokio::spawn(async move {
            let mut text = String::new();
            let _ = tokio::io::AsyncReadExt::read_to_string(&mut pipe, &mut text).await;
            text
        })
    };
    let stdout = read(Box::new(child.stdout.take().unwrap()));
    let stderr = read(Box::new(child.stderr.take().unwrap()));
    let status = tokio::time::timeout(Duration::from_secs(120), child.wait()).await;
    // Then stop the whole process group, the server with it.
    let _ = std::process::Command::new("kill").args(["-TERM", "--", &format!("-{group}")]).status();
    let status = status.expect("the tour finishes within two minutes").expect("the tour ran");
    let (stdout, stderr) = (stdout.await.unwrap(), stderr.await.unwrap());
    assert!(status.success(), "the tour failed ({status}):\n{stdout}\n{stderr}");
    assert!(stdout.contains("\"error\":\"payment_required\""), "the 402 challenge: {stdout}");
    assert!(stdout.contains("status: 201"), "otonix pay delivered: {stdout}");
    assert!(stdout.contains("\"credits\":80") && stdout.contains("\"survivalTier\":\"full\""), "{stdout}");
    assert!(stdout.contains("Deployed the website"), "{stdout}");
    assert!(stdout.contains("\"available\":true") && stdout.contains("\"amountUSDC\":15"), "the check: {stdout}");
    assert!(stdout.contains("\"registrarOrder\""), "the domain bought: {stdout}");
}
