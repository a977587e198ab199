//! `otonix providers check`: each provider's mode and whether its upstream answers (a live one
//! is asked with its token; a simulator reads its state in the database).

use anyhow::Context;

use crate::clock::{SharedClock, SystemClock};
use crate::config::Config;
use crate::providers::Providers;
use crate::store::Store;

/// Prints one line per provider; fails when a configured provider does not answer.
pub async fn check(config: &Config) -> anyhow::Result<()> {
    let store = Store::connect(&config.database, &config.data_dir).await.context("connecting to the database")?;
    store.migrate().await.context("applying database migrations")?;
    let clock: SharedClock = std::sync::Arc::new(SystemClock);
    let providers = Providers::new(&config.providers, &store, &clock).context("configuring the providers")?;
    let mode = config.providers.vercel.mode.as_str();
    let answer = match &providers.vercel {
        None => "not configured".to_owned(),
        Some(registrar) => match registrar.check_auth().await {
            Ok(()) => "reachable".to_owned(),
            Err(error) => format!("NOT reachable: {error}"),
        },
    };
    println!("vercel  {mode:<9}  {answer}");
    anyhow::ensure!(!answer.starts_with("NOT"), "a configured provider does not answer");
    Ok(())
}
