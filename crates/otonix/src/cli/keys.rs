//! `otonix keys generate|list|revoke`: admin operations on the local database. A running
//! server picks up a revocation made here within `auth.keyCacheSeconds`.

use anyhow::Context;
use clap::Subcommand;

use crate::clock::{Clock, SystemClock, format_rfc3339};
use crate::config::Config;
use crate::domain::EvmAddress;
use crate::store::{Cursor, Store, keys};

/// Key administration.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Generate a key; prints it once.
    Generate {
        /// Name of the key.
        #[arg(long)]
        name: String,
        /// Wallet of the key's owner.
        #[arg(long)]
        owner_wallet: Option<String>,
    },
    /// List every key (masked).
    List,
    /// Revoke a key and deactivate its agents.
    Revoke {
        /// Key id.
        id: String,
    },
}

async fn open(config: &Config) -> anyhow::Result<Store> {
    let store = Store::connect(&config.database, &config.data_dir).await.context("connecting to the database")?;
    store.migrate().await.context("applying migrations")?;
    Ok(store)
}

/// Runs a key command.
pub async fn run(command: &KeysCommand, config: &Config) -> anyhow::Result<()> {
    let store = open(config).await?;
    let now = SystemClock.now_ms();
    match command {
        KeysCommand::Generate { name, owner_wallet } => {
            anyhow::ensure!(
                !name.trim().is_empty() && name.chars().count() <= 128,
                "--name must be 1 to 128 characters"
            );
            let owner_wallet = match owner_wallet {
                Some(text) => Some(
                    EvmAddress::parse(text).map(|a| a.to_string()).context("--owner-wallet is not an EVM address")?,
                ),
                None => None,
            };
            let mut tx = store.begin().await?;
            let (key, plaintext) = crate::auth::keys::issue(&mut tx, name.clone(), owner_wallet, None, now).await?;
            tx.commit().await?;
            println!("id:     {}", key.id);
            println!("name:   {}", key.name);
            println!("key:    {plaintext}");
            println!("(the key is shown only now; store it safely)");
        }
        KeysCommand::List => {
            let mut conn = store.read().await?;
            let mut cursor: Option<Cursor> = None;
            println!("{:<36}  {:<8}  {:<22}  {:>6}  {:<24}  name", "id", "status", "key", "agents", "created");
            loop {
                let page = keys::list(&mut conn, None, cursor, 1000).await?;
                for key in &page.items {
                    println!(
                        "{:<36}  {:<8}  {:<22}  {:>6}  {:<24}  {}",
                        key.id,
                        key.status,
                        key.masked(),
                        key.agent_count,
                        format_rfc3339(key.created_at),
                        key.name
                    );
                }
                match page.next {
                    Some(next) => cursor = Some(next),
                    None => break,
                }
            }
        }
        KeysCommand::Revoke { id } => {
            let mut tx = store.begin().await?;
            let revocation =
                crate::store::keys::revoke(&mut tx, id, now).await?.with_context(|| format!("no key with id {id}"))?;
            tx.commit().await?;
            println!(
                "key {id} is revoked with {} key(s) it generated; {} agent(s) deactivated",
                revocation.keys_revoked, revocation.agents_deactivated
            );
        }
    }
    store.close().await;
    Ok(())
}
