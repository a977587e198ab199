//! The command line: key administration on the local database, `migrate`, `config print`, and
//! `--help` on everything.

use serde_json::json;

use crate::helpers::test_config;
use crate::process::{otonix, start_server};

async fn run(command: &mut tokio::process::Command) -> (bool, String, String) {
    let output = command.output().await.expect("the binary runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test]
async fn keys_are_generated_listed_and_revoked_from_the_command_line() {
    let data_dir = tempfile::tempdir().unwrap();
    let (_, database) = test_config(data_dir.path());
    let (ok, out, err) = run(otonix(data_dir.path(), &database).args(["migrate"])).await;
    assert!(ok, "{err}");
    assert!(out.contains("database is at migration"), "{out}");

    let (ok, out, err) = run(otonix(data_dir.path(), &database).args([
        "keys",
        "generate",
        "--name",
        "ops",
        "--owner-wallet",
        "0x70997970c51812dc3a010c7d01b50e0d17dc79c8",
    ]))
    .await;
    assert!(ok, "{err}");
    let key = out.lines().find_map(|l| l.strip_prefix("key:")).unwrap().trim().to_owned();
    let id = out.lines().find_map(|l| l.strip_prefix("id:")).unwrap().trim().to_owned();
    assert!(key.starts_with("otonix_") && key.len() == 55);
    assert!(!err.contains(&key), "the key is never logged");

    let (ok, list, _) = run(otonix(data_dir.path(), &database).args(["keys", "list"])).await;
    assert!(ok);
    assert!(list.contains(&id) && list.contains("active") && list.contains("ops"));
    assert!(!list.contains(&key), "the list is masked");

    // The running server accepts the key, then refuses it once the CLI revoked it.
    let admin = "cli-test-admin-token-0123456789";
    let server = start_server(data_dir.path(), &database, admin).await;
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    let register = |key: String| {
        let (client, base) = (client.clone(), server.base.clone());
        async move {
            client
                .post(format!("{base}/api/agents/register"))
                .header("X-API-Key", key)
                .json(&json!({ "name": "a" }))
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(register(key.clone()).await, reqwest::StatusCode::CREATED);
    let (ok, out, err) = run(otonix(data_dir.path(), &database).args(["keys", "revoke", &id])).await;
    assert!(ok, "{err}");
    assert!(out.contains("1 agent(s) deactivated"), "{out}");
    // The key cache trusts an entry for at most two seconds (auth.keyCacheSeconds).
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_eq!(register(key.clone()).await, reqwest::StatusCode::UNAUTHORIZED);

    let (ok, _, err) =
        run(otonix(data_dir.path(), &database).args(["keys", "revoke", &uuid::Uuid::new_v4().to_string()])).await;
    assert!(!ok);
    assert!(err.contains("no key with id"), "{err}");
}

#[tokio::test]
async fn config_print_shows_the_effective_configuration_without_secrets() {
    let data_dir = tempfile::tempdir().unwrap();
    let file = data_dir.path().join("otonix.toml");
    std::fs::write(&file, "bind = \"127.0.0.1:9999\"\n[auth]\nadminToken = \"env:MY_SECRET_TOKEN\"\n").unwrap();
    let mut command = otonix(data_dir.path(), &None);
    command
        .args(["--config", file.to_str().unwrap(), "config", "print"])
        .env("MY_SECRET_TOKEN", "very-secret-admin-token-value")
        .env("OTONIX_DATABASE_URL", "postgres://user:hunter2@127.0.0.1/otonix")
        .env("OTONIX_LOG_FORMAT", "json");
    let (ok, out, err) = run(&mut command).await;
    assert!(ok, "{err}");
    assert!(out.contains("bind = \"127.0.0.1:9999\""), "{out}");
    assert!(out.contains("format = \"json\""), "{out}");
    assert!(!out.contains("very-secret") && !out.contains("hunter2"), "{out}");
    assert!(out.contains("<redacted>"));

    let (ok, _, err) =
        run(otonix(data_dir.path(), &None).args(["config", "print"]).env("OTONIX_BIND", "nonsense")).await;
    assert!(!ok);
    assert!(err.contains("OTONIX_BIND"), "{err}");
}

#[tokio::test]
async fn tier_thresholds_are_exact_usdc_amounts() {
    let data_dir = tempfile::tempdir().unwrap();
    let file = data_dir.path().join("otonix.toml");
    std::fs::write(&file, "[tiers]\nfullAbove = 75\nconservationMin = 12.5\n").unwrap();
    let (ok, out, err) =
        run(otonix(data_dir.path(), &None).args(["--config", file.to_str().unwrap(), "config", "print"])).await;
    assert!(ok, "{err}");
    assert!(out.contains("fullAbove = 75\n") && out.contains("conservationMin = 12.5\n"), "{out}");

    // Finer than a micro-unit is refused, not silently rounded to zero.
    std::fs::write(&file, "[tiers]\ncriticalMin = 0.0000001\n").unwrap();
    let (ok, _, err) =
        run(otonix(data_dir.path(), &None).args(["--config", file.to_str().unwrap(), "config", "print"])).await;
    assert!(!ok);
    assert!(err.contains("criticalMin") && err.contains("at most 6 decimals"), "{err}");
}

#[tokio::test]
async fn every_command_has_help() {
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["migrate", "--help"],
        vec!["config", "print", "--help"],
        vec!["keys", "--help"],
        vec!["keys", "generate", "--help"],
        vec!["keys", "list", "--help"],
        vec!["keys", "revoke", "--help"],
        vec!["providers", "check", "--help"],
    ] {
        let dir = tempfile::tempdir().unwrap();
        let (ok, out, _) = run(otonix(dir.path(), &None).args(&args)).await;
        assert!(ok && out.contains("Usage:"), "{args:?}: {out}");
    }
}

#[tokio::test]
async fn providers_check_reports_each_mode_and_whether_it_answers() {
    let data_dir = tempfile::tempdir().unwrap();
    let (ok, out, err) = run(otonix(data_dir.path(), &None).args(["providers", "check"])).await;
    assert!(ok, "{err}");
    assert!(out.contains("vercel") && out.contains("simulated") && out.contains("reachable"), "{out}");

    let (ok, out, err) =
        run(otonix(data_dir.path(), &None).args(["providers", "check"]).env("OTONIX_VERCEL_MODE", "off")).await;
    assert!(ok, "{err}");
    assert!(out.contains("off") && out.contains("not configured"), "{out}");

    // A live registrar that cannot be reached fails the check, and never shows its token.
    let file = data_dir.path().join("otonix.toml");
    let live = "[providers.vercel]\nmode = \"live\"\ntoken = \"env:MY_VERCEL_TOKEN\"\napiUrl = \"http://127.0.0.1:1\"\ntimeoutSeconds = 1\n";
    std::fs::write(&file, live).unwrap();
    let (ok, out, err) = run(otonix(data_dir.path(), &None)
        .args(["--config", file.to_str().unwrap(), "providers", "check"])
        .env("MY_VERCEL_TOKEN", "vercel-secret-token"))
    .await;
    assert!(!ok && out.contains("live") && out.contains("NOT reachable"), "{out}\n{err}");
    assert!(!out.contains("vercel-secret-token") && !err.contains("vercel-secret-token"));
}
