//! API keys: stored only as SHA-256 hashes plus a display prefix and last four characters.

use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use utoipa::ToSchema;

use super::{Cursor, Page, Sql, StoreResult};
use crate::clock::Millis;
use crate::wire;

/// An API key as listed (SPEC §4.1): never the hash, the key itself only masked.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiKey {
    /// Insertion order (the pagination key).
    #[serde(skip)]
    pub seq: i64,
    /// Key id.
    pub id: String,
    /// Human name.
    pub name: String,
    /// The key, masked: `otonix_a1b2c3…f9e0`.
    pub key: String,
    /// Display prefix (`otonix_` and six hex characters).
    pub key_prefix: String,
    /// `active` or `revoked`.
    pub status: String,
    /// Wallet of the key's owner, if known.
    pub owner_wallet: Option<String>,
    /// Agents registered with this key.
    pub agent_count: i64,
    /// When the key was generated.
    #[serde(serialize_with = "wire::timestamp")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Millis,
    /// When the key was last used (updated at most once a minute).
    #[serde(serialize_with = "wire::opt_timestamp")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_used_at: Option<Millis>,
    /// The key that generated this one (`None`: the admin).
    #[serde(skip)]
    pub created_by_key_id: Option<String>,
    /// How many agents the revocation deactivated.
    #[serde(skip)]
    pub agents_deactivated: i64,
}

/// What authentication needs to know about a key.
#[derive(Debug, Clone)]
pub struct KeyAuth {
    /// Key id.
    pub id: String,
    /// SHA-256 of the key.
    pub digest: [u8; 32],
    /// `active` or `revoked`.
    pub status: String,
    /// Owner wallet.
    pub owner_wallet: Option<String>,
    /// When the key was last used.
    pub last_used_at: Option<Millis>,
}

/// A key to insert.
#[derive(Debug, Clone)]
pub struct NewKey {
    /// Key id.
    pub id: String,
    /// Human name.
    pub name: String,
    /// SHA-256 of the key, hex.
    pub key_hash: String,
    /// Display prefix.
    pub key_prefix: String,
    /// Last four characters of the key.
    pub key_last4: String,
    /// Owner wallet.
    pub owner_wallet: Option<String>,
    /// Generating key (`None`: admin).
    pub created_by_key_id: Option<String>,
}

const COLUMNS: &str = "seq, id, name, key_prefix, key_last4, status, owner_wallet, agent_count, \
                       created_at, last_used_at, created_by_key_id, agents_deactivated";

fn from_row(row: &AnyRow) -> Result<ApiKey, sqlx::Error> {
    let prefix: String = row.try_get("key_prefix")?;
    let last4: String = row.try_get("key_last4")?;
    Ok(ApiKey {
        seq: row.try_get("seq")?,
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        key: format!("{prefix}…{last4}"),
        key_prefix: prefix,
        status: row.try_get("status")?,
        owner_wallet: row.try_get("owner_wallet")?,
        agent_count: row.try_get("agent_count")?,
        created_at: row.try_get("created_at")?,
        last_used_at: row.try_get("last_used_at")?,
        created_by_key_id: row.try_get("created_by_key_id")?,
        agents_deactivated: row.try_get("agents_deactivated")?,
    })
}

/// Inserts a new active key.
pub async fn insert(conn: &mut AnyConnection, key: &NewKey, now: Millis) -> StoreResult<ApiKey> {
    let mut sql = Sql::new(
        "INSERT INTO api_keys (id, name, key_hash, key_prefix, key_last4, owner_wallet, status, \
         created_by_key_id, created_at) VALUES (",
    );
    sql.bind(key.id.clone()).push(", ").bind(key.name.clone()).push(", ").bind(key.key_hash.clone());
    sql.push(", ").bind(key.key_prefix.clone()).push(", ").bind(key.key_last4.clone());
    sql.push(", ").bind(key.owner_wallet.clone()).push(", 'active', ").bind(key.created_by_key_id.clone());
    sql.push(", ").bind(now).push(&format!(") RETURNING {COLUMNS}"));
    let row = sql
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| super::StoreError::Corrupt("insert returned nothing".into()))?;
    Ok(from_row(&row)?)
}

/// Finds a key by the hash of its value, for authentication.
pub async fn find_for_auth(conn: &mut AnyConnection, key_hash: &str) -> StoreResult<Option<KeyAuth>> {
    let mut sql = Sql::new("SELECT id, key_hash, status, owner_wallet, last_used_at FROM api_keys WHERE key_hash = ");
    sql.bind(key_hash.to_owned());
    let Some(row) = sql.fetch_optional(&mut *conn).await? else {
        return Ok(None);
    };
    Ok(Some(KeyAuth {
        id: row.try_get("id")?,
        digest: parse_digest(&row.try_get::<String, _>("key_hash")?)?,
        status: row.try_get("status")?,
        owner_wallet: row.try_get("owner_wallet")?,
        last_used_at: row.try_get("last_used_at")?,
    }))
}

fn parse_digest(hash: &str) -> StoreResult<[u8; 32]> {
    let mut digest = [0u8; 32];
    hex::decode_to_slice(hash, &mut digest).map_err(|_| super::StoreError::Corrupt("stored key hash".into()))?;
    Ok(digest)
}

/// One key by id.
pub async fn get(conn: &mut AnyConnection, id: &str) -> StoreResult<Option<ApiKey>> {
    let mut sql = Sql::new(&format!("SELECT {COLUMNS} FROM api_keys WHERE id = "));
    sql.bind(id.to_owned());
    Ok(sql.fetch_optional(&mut *conn).await?.as_ref().map(from_row).transpose()?)
}

/// A page of keys, newest first: all of them, or those visible to one key (itself and the keys
/// it generated).
pub async fn list(
    conn: &mut AnyConnection,
    visible_to: Option<&str>,
    cursor: Option<Cursor>,
    limit: usize,
) -> StoreResult<Page<ApiKey>> {
    let mut sql = Sql::new(&format!("SELECT {COLUMNS} FROM api_keys WHERE 1 = 1"));
    if let Some(key_id) = visible_to {
        sql.push(" AND (id = ")
            .bind(key_id.to_owned())
            .push(" OR created_by_key_id = ")
            .bind(key_id.to_owned())
            .push(")");
    }
    sql.page(cursor, limit);
    let rows = sql.fetch_all(&mut *conn).await?;
    let keys = rows.iter().map(from_row).collect::<Result<Vec<_>, _>>()?;
    Ok(Page::from_rows(keys, limit, |k| k.seq))
}

/// What a revocation did.
#[derive(Debug, Clone, Default)]
pub struct Revocation {
    /// How many agents the revocation deactivated (the same when revoked again).
    pub agents_deactivated: i64,
    /// The agents deactivated now (empty when the key was already revoked).
    pub deactivated_now: Vec<String>,
    /// False when the key was already revoked.
    pub newly: bool,
}

/// Revokes a key and deactivates its active agents. `None` for no such key.
pub async fn revoke(conn: &mut AnyConnection, id: &str, now: Millis) -> StoreResult<Option<Revocation>> {
    let mut sql = Sql::new("UPDATE api_keys SET status = 'revoked', revoked_at = ");
    sql.bind(now).push(" WHERE status = 'active' AND id = ").bind(id.to_owned()).push(" RETURNING id");
    if sql.fetch_optional(&mut *conn).await?.is_none() {
        return Ok(get(conn, id)
            .await?
            .map(|k| Revocation { agents_deactivated: k.agents_deactivated, ..Default::default() }));
    }
    let mut sql = Sql::new("UPDATE agents SET status = 'inactive', updated_at = ");
    sql.bind(now).push(" WHERE status = 'active' AND api_key_id = ").bind(id.to_owned()).push(" RETURNING id");
    let deactivated_now: Vec<String> =
        sql.fetch_all(&mut *conn).await?.iter().map(|r| r.try_get("id")).collect::<Result<_, _>>()?;
    let mut sql = Sql::new("UPDATE api_keys SET agents_deactivated = ");
    sql.bind(deactivated_now.len() as i64).push(" WHERE id = ").bind(id.to_owned());
    sql.execute(&mut *conn).await?;
    Ok(Some(Revocation { agents_deactivated: deactivated_now.len() as i64, deactivated_now, newly: true }))
}

/// Records that a key was used.
pub async fn touch(conn: &mut AnyConnection, id: &str, now: Millis) -> StoreResult<()> {
    let mut sql = Sql::new("UPDATE api_keys SET last_used_at = ");
    sql.bind(now).push(" WHERE id = ").bind(id.to_owned());
    sql.execute(&mut *conn).await?;
    Ok(())
}

/// Counts one more agent for a key.
pub async fn count_agent(conn: &mut AnyConnection, id: &str) -> StoreResult<()> {
    let mut sql = Sql::new("UPDATE api_keys SET agent_count = agent_count + 1 WHERE id = ");
    sql.bind(id.to_owned());
    sql.execute(&mut *conn).await?;
    Ok(())
}
