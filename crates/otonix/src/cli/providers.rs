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
    let vercel = match &providers.vercel {
        None => None,
        Some(registrar) => Some(registrar.check_auth().await),
    };
    let cherry = match &providers.cherry {
        None => None,
        Some(compute) => Some(compute.check_auth().await),
    };
    let mut answering = true;
    for (name, mode, answer) in
        [("vercel", config.providers.vercel.mode, vercel), ("cherry", config.providers.cherry.mode, cherry)]
    {
        let said = match answer {
            None => "not configured".to_owned(),
            Some(Ok(())) => "reachable".to_owned(),
            Some(Err(error)) => {
                answering = false;
                format!("NOT reachable: {error}")
            }
        };
        println!("{name:<7} {:<9}  {said}", mode.as_str());
    }
    anyhow::ensure!(answering, "a configured provider does not answer");
    Ok(())
}
