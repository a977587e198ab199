//! A small portable query builder (`$n` placeholders work on both SQLite and PostgreSQL; sqlx's
//! own `QueryBuilder` writes `?` for the `Any` driver, which PostgreSQL rejects) and keyset
//! pagination.

use std::fmt::Write as _;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sqlx::any::{AnyArguments, AnyQueryResult, AnyRow};
use sqlx::{Any, Arguments, Executor};

use super::StoreResult;

/// A bound value, independent of the driver that will send it.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    /// An integer.
    Int(i64),
    /// Text.
    Text(String),
    /// A boolean (0/1 on SQLite).
    Bool(bool),
    /// A NULL in an integer position.
    NullInt,
    /// A NULL in a text position.
    NullText,
}

impl From<i64> for Param {
    fn from(value: i64) -> Self {
        Self::Int(value)
    }
}

impl From<crate::domain::Usdc> for Param {
    fn from(value: crate::domain::Usdc) -> Self {
        Self::Int(value.micros())
    }
}

impl From<crate::domain::AgentId> for Param {
    fn from(value: crate::domain::AgentId) -> Self {
        Self::Text(value.to_string())
    }
}

impl From<Option<crate::domain::AgentId>> for Param {
    fn from(value: Option<crate::domain::AgentId>) -> Self {
        value.map_or(Self::NullText, Into::into)
    }
}

impl From<bool> for Param {
    fn from(value: bool) -> Self {
        Self::Bool(value)
    }
}

impl From<String> for Param {
    fn from(value: String) -> Self {
        Self::Text(value)
    }
}

impl From<&str> for Param {
    fn from(value: &str) -> Self {
        Self::Text(value.to_owned())
    }
}

impl From<&String> for Param {
    fn from(value: &String) -> Self {
        Self::Text(value.clone())
    }
}

impl From<Option<i64>> for Param {
    fn from(value: Option<i64>) -> Self {
        value.map_or(Self::NullInt, Self::Int)
    }
}

impl From<Option<String>> for Param {
    fn from(value: Option<String>) -> Self {
        value.map_or(Self::NullText, Self::Text)
    }
}

impl From<&Option<String>> for Param {
    fn from(value: &Option<String>) -> Self {
        value.clone().into()
    }
}

impl From<Option<&str>> for Param {
    fn from(value: Option<&str>) -> Self {
        value.map(str::to_owned).into()
    }
}

/// SQL text plus its parameters, built piece by piece.
#[derive(Debug, Default, Clone)]
pub struct Sql {
    text: String,
    params: Vec<Param>,
}

impl Sql {
    /// Starts a statement.
    pub fn new(text: &str) -> Self {
        Self { text: text.to_owned(), params: Vec::new() }
    }

    /// Appends SQL text.
    pub fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Appends a placeholder bound to `value`.
    pub fn bind(&mut self, value: impl Into<Param>) -> &mut Self {
        self.params.push(value.into());
        // Writing to a String cannot fail.
        let _ = write!(self.text, "${}", self.params.len());
        self
    }

    /// Appends `(value, value, …)` with a placeholder for each value (for `IN`); `values` must
    /// not be empty.
    pub fn bind_list<P: Into<Param>>(&mut self, values: impl IntoIterator<Item = P>) -> &mut Self {
        self.push("(");
        for (i, value) in values.into_iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.bind(value);
        }
        self.push(")")
    }

    /// Appends ` AND {column} = value` when there is a value (a list filter).
    pub fn and_eq(&mut self, column: &str, value: Option<impl Into<Param>>) -> &mut Self {
        self.and_cmp(column, "=", value)
    }

    /// Appends ` AND {column} {op} value` when there is a value (`op` is `=`, `>=`, `<=`, …).
    pub fn and_cmp(&mut self, column: &str, op: &str, value: Option<impl Into<Param>>) -> &mut Self {
        if let Some(value) = value {
            self.push(" AND ").push(column).push(" ").push(op).push(" ").bind(value);
        }
        self
    }

    /// `INSERT INTO {table} (c1, …) VALUES ($1, …)` from column–value pairs.
    pub fn insert(table: &str, values: Vec<(&str, Param)>) -> Self {
        let columns: Vec<&str> = values.iter().map(|(column, _)| *column).collect();
        let mut sql = Self::new(&format!("INSERT INTO {table} ({}) VALUES (", columns.join(", ")));
        for (i, (_, value)) in values.into_iter().enumerate() {
            sql.push(if i == 0 { "" } else { ", " }).bind(value);
        }
        sql.push(")");
        sql
    }

    /// Appends `AND seq < cursor` when paging, then the newest-first order and a limit one
    /// larger than the page (to learn whether another page exists).
    pub fn page(&mut self, cursor: Option<Cursor>, limit: usize) -> &mut Self {
        if let Some(cursor) = cursor {
            self.push(" AND seq < ").bind(cursor.0);
        }
        self.push(" ORDER BY seq DESC LIMIT ").bind(limit as i64 + 1)
    }

    /// The SQL text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The parameters, in placeholder order.
    pub fn params(&self) -> &[Param] {
        &self.params
    }

    fn into_parts(self) -> (String, AnyArguments<'static>) {
        let mut args = AnyArguments::default();
        for param in self.params {
            // Adding to an in-memory argument buffer cannot fail for these types.
            let _ = match param {
                Param::Int(v) => args.add(v),
                Param::Text(v) => args.add(v),
                Param::Bool(v) => args.add(v),
                Param::NullInt => args.add(None::<i64>),
                Param::NullText => args.add(None::<String>),
            };
        }
        (self.text, args)
    }

    /// Runs the statement and returns every row.
    pub async fn fetch_all<'c, E: Executor<'c, Database = Any>>(self, executor: E) -> StoreResult<Vec<AnyRow>> {
        let (text, args) = self.into_parts();
        Ok(sqlx::query_with(&text, args).fetch_all(executor).await?)
    }

    /// Runs the statement and returns the first row, if any.
    pub async fn fetch_optional<'c, E: Executor<'c, Database = Any>>(self, executor: E) -> StoreResult<Option<AnyRow>> {
        let (text, args) = self.into_parts();
        Ok(sqlx::query_with(&text, args).fetch_optional(executor).await?)
    }

    /// Runs a statement that must return a row (`INSERT … RETURNING`) and returns it.
    pub async fn fetch_returned<'c, E: Executor<'c, Database = Any>>(self, executor: E) -> StoreResult<AnyRow> {
        self.fetch_optional(executor)
            .await?
            .ok_or_else(|| super::StoreError::Corrupt("a statement returned no row".into()))
    }

    /// Runs the statement for its effect.
    pub async fn execute<'c, E: Executor<'c, Database = Any>>(self, executor: E) -> StoreResult<AnyQueryResult> {
        let (text, args) = self.into_parts();
        Ok(sqlx::query_with(&text, args).execute(executor).await?)
    }
}

/// Splits `items` into chunks whose lengths are powers of two (at most `max`), so multi-row
/// statements come in a handful of shapes and stay in the prepared-statement cache.
pub fn power_of_two_chunks<T>(mut items: &[T], max: usize) -> Vec<&[T]> {
    let mut chunks = Vec::new();
    while !items.is_empty() {
        let mut size = max.min(items.len()).next_power_of_two();
        if size > items.len() || size > max {
            size /= 2;
        }
        let (head, tail) = items.split_at(size.max(1));
        chunks.push(head);
        items = tail;
    }
    chunks
}

/// Position after the last item of a page: the insertion sequence number of that item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor(pub i64);

impl Cursor {
    /// The opaque form given to clients.
    pub fn encode(self) -> String {
        URL_SAFE_NO_PAD.encode(format!("seq:{}", self.0))
    }

    /// Reads a client's cursor; `None` if it is not one of ours.
    pub fn decode(text: &str) -> Option<Self> {
        if text.len() > 64 {
            return None;
        }
        let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(text).ok()?).ok()?;
        let seq: i64 = raw.strip_prefix("seq:")?.parse().ok()?;
        (seq > 0).then_some(Self(seq))
    }
}

/// One page of a list, newest first.
#[derive(Debug)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// Where the next page starts, if there is one.
    pub next: Option<Cursor>,
}

impl<T> Page<T> {
    /// Cuts `rows` (fetched with `limit + 1`) to `limit` and derives the next cursor.
    pub fn from_rows(mut items: Vec<T>, limit: usize, seq: impl Fn(&T) -> i64) -> Self {
        let next = if items.len() > limit {
            items.truncate(limit);
            items.last().map(|item| Cursor(seq(item)))
        } else {
            None
        };
        Self { items, next }
    }

    /// Transforms every item.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page { items: self.items.into_iter().map(f).collect(), next: self.next }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        assert_eq!(Cursor::decode(&Cursor(4711).encode()), Some(Cursor(4711)));
        assert_eq!(Cursor::decode("not a cursor"), None);
        assert_eq!(Cursor::decode(&URL_SAFE_NO_PAD.encode("seq:-1")), None);
        assert_eq!(Cursor::decode(&URL_SAFE_NO_PAD.encode("seq:1; drop table")), None);
    }

    #[test]
    fn filters_and_inserts_bind_their_values() {
        let mut sql = Sql::new("SELECT * FROM t WHERE 1 = 1");
        sql.and_eq("a", Some("x")).and_eq("b", None::<i64>).and_cmp("c", ">=", Some(5));
        assert_eq!(sql.text(), "SELECT * FROM t WHERE 1 = 1 AND a = $1 AND c >= $2");
        assert_eq!(sql.params(), [Param::Text("x".into()), Param::Int(5)]);
        let insert = Sql::insert("t", vec![("a", 1.into()), ("b", Param::NullText)]);
        assert_eq!(insert.text(), "INSERT INTO t (a, b) VALUES ($1, $2)");
        assert_eq!(insert.params(), [Param::Int(1), Param::NullText]);
    }

    #[test]
    fn chunks_are_powers_of_two() {
        let items: Vec<u32> = (0..100).collect();
        let sizes: Vec<usize> = power_of_two_chunks(&items, 64).iter().map(|c| c.len()).collect();
        assert_eq!(sizes, vec![64, 32, 4]);
        assert_eq!(power_of_two_chunks(&items[..1], 64).len(), 1);
        assert!(power_of_two_chunks::<u32>(&[], 64).is_empty());
    }

    #[test]
    fn placeholders_are_numbered() {
        let mut sql = Sql::new("SELECT * FROM t WHERE a = ");
        sql.bind(1_i64).push(" AND b = ").bind("x".to_owned());
        assert_eq!(sql.text, "SELECT * FROM t WHERE a = $1 AND b = $2");
    }
}
