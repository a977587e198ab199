//! The `otonix` command line: one binary, one subcommand per job.

mod keys;
mod pay;
mod providers;

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use crate::config::{Config, Overrides};
use crate::{Application, telemetry};

/// Otonix: a self-hostable control plane for autonomous AI agents.
#[derive(Debug, Parser)]
#[command(name = "otonix", version, about, long_about = None)]
pub struct Cli {
    /// Configuration file (default: ./otonix.toml when it exists).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Data directory: SQLite database and generated admin token [env: OTONIX_DATA_DIR] [default: ./otonix-data].
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Database URL: postgres://… for PostgreSQL; unset keeps SQLite in the data directory [env: OTONIX_DATABASE_URL].
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server.
    Serve(ServeArgs),
    /// Apply database migrations and exit.
    Migrate,
    /// Inspect the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Manage API keys directly in the local database (admin operations).
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// Send a request to a paid endpoint and pay its 402 (x402) automatically with a local key.
    Pay(pay::PayArgs),
    /// Inspect the upstream providers.
    #[command(subcommand)]
    Providers(ProvidersCommand),
}

/// `otonix providers …`.
#[derive(Debug, Subcommand)]
pub enum ProvidersCommand {
    /// Print each provider's mode and whether its upstream answers; fails if a configured one does not.
    Check,
}

/// Options of `otonix serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Listen address [env: OTONIX_BIND] [default: 127.0.0.1:8080].
    #[arg(long, value_name = "ADDR")]
    pub bind: Option<SocketAddr>,
    /// How payments are settled: dev (local, no chain), chain or facilitator [env: OTONIX_PAYMENTS_MODE] [default: dev].
    #[arg(long, value_name = "MODE", value_parser = ["dev", "chain", "facilitator"])]
    pub payments_mode: Option<String>,
}

/// `otonix config …`.
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the effective configuration (file < environment < flags) with secrets redacted.
    Print,
}

impl Cli {
    fn load_config(&self, serve: Option<&ServeArgs>) -> anyhow::Result<Config> {
        let overrides = Overrides {
            bind: serve.and_then(|s| s.bind),
            data_dir: self.data_dir.clone(),
            database_url: self.database_url.clone(),
            payments_mode: serve.and_then(|s| s.payments_mode.as_deref()).and_then(crate::config::PaymentMode::parse),
        };
        let env = |name: &str| std::env::var(name).ok();
        Ok(Config::load(self.config.as_deref(), &env, &overrides)?)
    }
}

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match &cli.command {
        Command::Serve(args) => {
            let config = cli.load_config(Some(args))?;
            telemetry::init(&config.log);
            let app = Application::build(config).await?;
            app.run_until_stopped().await
        }
        Command::Migrate => {
            let config = cli.load_config(None)?;
            telemetry::init(&config.log);
            let store = crate::store::Store::connect(&config.database, &config.data_dir).await.context("connecting")?;
            let count = store.migrate().await.context("migrating")?;
            println!("database is at migration {count} ({})", store.backend().name());
            Ok(())
        }
        Command::Config(ConfigCommand::Print) => {
            print!("{}", cli.load_config(None)?.to_redacted_toml());
            Ok(())
        }
        Command::Keys(command) => {
            let config = cli.load_config(None)?;
            telemetry::init(&config.log);
            keys::run(command, &config).await
        }
        Command::Pay(args) => pay::run(args).await,
        Command::Providers(ProvidersCommand::Check) => {
            let config = cli.load_config(None)?;
            telemetry::init(&config.log);
            providers::check(&config).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_is_consistent() {
        <Cli as clap::CommandFactory>::command().debug_assert();
    }
}
