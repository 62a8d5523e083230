//! Importing another Tessera database's rows (an export of the embedded
//! SQLite one), table by table, into an empty PostgreSQL database.
//!
//! The schemas have the same tables and columns, so the import is generic:
//! each row is a JSON object of column → value, inserted in batches with
//! `json_populate_recordset(NULL::table, …)` (PostgreSQL's own input
//! conversion: `0`/`1` become booleans, `"\\x…"` strings become BYTEA). The
//! whole import is one transaction that starts by locking every table and
//! refusing a database holding any row, and ends by moving every identity
//! sequence past the highest ID it saw (or was told the source had used, so
//! an ID is never reused), moving `activity_sequence` past every `seq`, and
//! rebuilding the derived search index. Any failure rolls everything back.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::{Map, Value};
use sqlx::{Postgres, Transaction};

use crate::{PostgresError, PostgresStore, search};

/// Every table whose rows are imported, parents before children: the order
/// rows must come in (foreign keys are checked row by row).
pub const TABLES: &[&str] = &[
    "sites",
    "site_hosts",
    "site_identity_secrets",
    "people",
    "sessions",
    "remember",
    "throttles",
    "audit",
    "categories",
    "category_names",
    "articles",
    "article_translations",
    "visitors",
    "votes",
    "comments",
    "consents",
    "page_views",
    "conversations",
    "messages",
    "monitor_sessions",
    "page_events",
    "monitor_visitor_tokens",
];

/// Tables computed from the others: never imported, rebuilt at the end.
pub const DERIVED: &[&str] = &["article_search"];

/// The sequence page views, votes and comments take their `seq` from (in
/// SQLite, a one-row table of the same name).
pub const ACTIVITY_SEQUENCE: &str = "activity_sequence";

/// Tables whose `seq` comes from [`ACTIVITY_SEQUENCE`].
const ACTIVITY_TABLES: &[&str] = &["page_views", "votes", "comments"];

/// Rows per INSERT, and the most JSON text one INSERT carries.
const BATCH_ROWS: usize = 1000;
const BATCH_BYTES: usize = 4 << 20;

/// An import in progress: one open transaction. Dropping it without
/// [`Import::finish`] rolls everything back.
#[derive(Debug)]
pub struct Import {
    tx: Transaction<'static, Postgres>,
    columns: HashMap<&'static str, HashSet<String>>,
    /// Index in [`TABLES`] of the table rows are arriving for.
    position: usize,
    batch: String,
    batch_rows: usize,
    counts: BTreeMap<&'static str, u64>,
    sequences: HashMap<String, i64>,
}

/// What an import wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportSummary {
    /// Rows per table, for every table in [`TABLES`].
    pub rows: BTreeMap<&'static str, u64>,
    /// Translations the search index was rebuilt from.
    pub indexed: u64,
}

fn refused(message: impl Into<String>) -> PostgresError {
    PostgresError::Import(message.into())
}

impl PostgresStore {
    /// Starts an import into this (migrated) database. Locks every table
    /// against writes by anyone else until the import ends, and fails if
    /// any of them holds a row: an import never mixes with existing data.
    pub async fn begin_import(&self) -> Result<Import, PostgresError> {
        let mut tx = self.pool.begin().await.map_err(PostgresError::Query)?;
        let all: Vec<&str> = TABLES.iter().chain(DERIVED).copied().collect();
        sqlx::query(&format!("LOCK TABLE {} IN EXCLUSIVE MODE", all.join(", ")))
            .execute(&mut *tx)
            .await
            .map_err(PostgresError::Query)?;
        let mut filled = Vec::new();
        for table in &all {
            let any: bool = sqlx::query_scalar(&format!("SELECT EXISTS (SELECT 1 FROM {table})"))
                .fetch_one(&mut *tx)
                .await
                .map_err(PostgresError::Query)?;
            if any {
                filled.push(*table);
            }
        }
        if !filled.is_empty() {
            return Err(refused(format!(
                "the database is not empty ({} already hold rows); import only into a new, empty database",
                filled.join(", ")
            )));
        }
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT table_name::text, column_name::text FROM information_schema.columns
             WHERE table_schema = current_schema()",
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(PostgresError::Query)?;
        let mut columns: HashMap<&'static str, HashSet<String>> = HashMap::new();
        for (table, column) in rows {
            if let Some(known) = TABLES.iter().find(|t| **t == table) {
                columns.entry(known).or_default().insert(column);
            }
        }
        if let Some(missing) = TABLES.iter().find(|t| !columns.contains_key(*t)) {
            return Err(refused(format!("table {missing} does not exist: is the database migrated?")));
        }
        Ok(Import {
            tx,
            columns,
            position: 0,
            batch: String::new(),
            batch_rows: 0,
            counts: TABLES.iter().map(|t| (*t, 0)).collect(),
            sequences: HashMap::new(),
        })
    }
}

impl Import {
    /// Adds one row of `table`. Rows must come table by table in the order
    /// of [`TABLES`]; every key must be a column of the table (a column this
    /// schema does not know would otherwise be lost without a word).
    pub async fn row(&mut self, table: &str, row: &Map<String, Value>) -> Result<(), PostgresError> {
        let Some(index) = TABLES.iter().position(|t| *t == table) else {
            return Err(refused(if DERIVED.contains(&table) {
                format!("table {table} is derived (rebuilt by the import), not imported")
            } else {
                format!("unknown table {table}")
            }));
        };
        if index < self.position {
            return Err(refused(format!(
                "rows of {table} after rows of {}: tables must come parents first, in the order of import::TABLES",
                TABLES[self.position]
            )));
        }
        if index != self.position {
            self.flush().await?;
            self.position = index;
        }
        let columns = &self.columns[TABLES[index]];
        if let Some(unknown) = row.keys().find(|k| !columns.contains(k.as_str())) {
            return Err(refused(format!("table {table} has no column {unknown} here")));
        }
        let text = serde_json::to_string(row).map_err(|e| refused(format!("a row of {table}: {e}")))?;
        self.batch.push(if self.batch.is_empty() { '[' } else { ',' });
        self.batch.push_str(&text);
        self.batch_rows += 1;
        if self.batch_rows >= BATCH_ROWS || self.batch.len() >= BATCH_BYTES {
            self.flush().await?;
        }
        Ok(())
    }

    /// Records the highest ID the source ever handed out for `name` (a
    /// table's `id`, or [`ACTIVITY_SEQUENCE`]), which may be above the
    /// highest left in the table: the sequence will continue after it.
    pub fn sequence(&mut self, name: &str, value: i64) -> Result<(), PostgresError> {
        if name != ACTIVITY_SEQUENCE && !TABLES.contains(&name) {
            return Err(refused(format!("unknown sequence {name}")));
        }
        let entry = self.sequences.entry(name.to_owned()).or_insert(value);
        *entry = (*entry).max(value);
        Ok(())
    }

    /// Rows imported so far, per table.
    pub fn counts(&self) -> &BTreeMap<&'static str, u64> {
        &self.counts
    }

    async fn flush(&mut self) -> Result<(), PostgresError> {
        if self.batch_rows == 0 {
            return Ok(());
        }
        self.batch.push(']');
        let table = TABLES[self.position];
        // The table name comes from TABLES, never from the input.
        sqlx::query(&format!("INSERT INTO {table} SELECT * FROM json_populate_recordset(NULL::{table}, $1::json)"))
            .bind(std::mem::take(&mut self.batch))
            .execute(&mut *self.tx)
            .await
            .map_err(|e| refused(format!("inserting into {table}: {e}")))?;
        if let Some(n) = self.counts.get_mut(table) {
            *n += self.batch_rows as u64;
        }
        self.batch_rows = 0;
        Ok(())
    }

    /// Moves sequence `sequence` so its next value is above `highest` (and
    /// above what the source said it had used).
    async fn continue_after(&mut self, sequence: &str, highest: i64, source: &str) -> Result<(), PostgresError> {
        let highest = highest.max(self.sequences.get(source).copied().unwrap_or(0));
        sqlx::query("SELECT setval($1::regclass, $2, $3)")
            .bind(sequence)
            .bind(highest.max(1))
            .bind(highest >= 1)
            .execute(&mut *self.tx)
            .await
            .map_err(PostgresError::Query)?;
        Ok(())
    }

    /// Writes what is left, moves the sequences on, rebuilds the search
    /// index and commits.
    pub async fn finish(mut self) -> Result<ImportSummary, PostgresError> {
        self.flush().await?;
        for table in TABLES {
            if !self.columns[table].contains("id") {
                continue;
            }
            // NULL for an `id` that is not generated (sites: chosen numbers).
            let sequence: Option<String> = sqlx::query_scalar("SELECT pg_get_serial_sequence($1, 'id')")
                .bind(*table)
                .fetch_one(&mut *self.tx)
                .await
                .map_err(PostgresError::Query)?;
            let Some(sequence) = sequence else { continue };
            let highest: i64 = sqlx::query_scalar(&format!("SELECT COALESCE(MAX(id), 0) FROM {table}"))
                .fetch_one(&mut *self.tx)
                .await
                .map_err(PostgresError::Query)?;
            self.continue_after(&sequence, highest, table).await?;
        }
        let mut highest_seq = 0;
        for table in ACTIVITY_TABLES {
            let highest: i64 = sqlx::query_scalar(&format!("SELECT COALESCE(MAX(seq), 0) FROM {table}"))
                .fetch_one(&mut *self.tx)
                .await
                .map_err(PostgresError::Query)?;
            highest_seq = highest_seq.max(highest);
        }
        self.continue_after(ACTIVITY_SEQUENCE, highest_seq, ACTIVITY_SEQUENCE).await?;
        let indexed = search::rebuild(&mut self.tx).await.map_err(|e| refused(format!("rebuilding search: {e}")))?;
        self.tx.commit().await.map_err(PostgresError::Query)?;
        Ok(ImportSummary { rows: self.counts, indexed })
    }
}
