//! `tessera export` and `tessera import`: moving an embedded install to
//! PostgreSQL with everything in it (sessions, remember-me series, visitors,
//! conversations, articles, the audit log…). See docs/postgres.md.
//!
//! The export is JSON lines: a header, then one line per row, table by
//! table (parents first, the order of `tessera_store_postgres::import::TABLES`),
//! each row an object of column → value as SQLite holds it (BLOBs as
//! `"\\x<hex>"`, PostgreSQL's BYTEA text form), then the highest ID each
//! table's sequence ever handed out, then a last line with the row counts.
//! The tables are read in one read transaction, so the file is one
//! consistent moment of the database. Derived data (the search index) is not
//! exported: the import rebuilds it.
//!
//! The import runs in one transaction: into an empty database only, rows
//! checked against the schema (an unknown column is an error, not a loss),
//! counts checked against the last line (a cut-off file is refused), then
//! sequences moved on and the search index rebuilt.

use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::os::unix::fs::OpenOptionsExt;

use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Map, Value, json};
use sqlx::SqliteConnection;
use tessera_store_postgres::PostgresStore;
use tessera_store_postgres::import::{ACTIVITY_SEQUENCE, TABLES};

use crate::database::Database;
use crate::settings::Settings;
use crate::{ExportArgs, ImportArgs, datadir};

const FORMAT: &str = "tessera-export";
const VERSION: u64 = 1;

/// Rows read from SQLite per query.
const PAGE: i64 = 1000;

/// SQLite tables that are not exported: bookkeeping, and the FTS5 search
/// index (`article_search` and its shadow tables), which the import rebuilds.
fn skipped(table: &str) -> bool {
    matches!(table, "_sqlx_migrations" | "sqlite_sequence" | "activity_sequence" | "article_search")
        || table.starts_with("article_search_")
        || table.starts_with("sqlite_")
}

/// A column's value as JSON text, BLOBs in PostgreSQL's hex form.
fn json_value(column: &str) -> String {
    let quoted = format!("\"{}\"", column.replace('"', "\"\""));
    format!("CASE typeof({quoted}) WHEN 'blob' THEN '\\x' || hex({quoted}) ELSE {quoted} END")
}

pub(crate) fn export(args: ExportArgs) -> Result<()> {
    let path = args.data.join("tessera.db");
    if !path.exists() {
        bail!("{} does not exist: nothing to export", path.display());
    }
    let out: Box<dyn Write> = match &args.out {
        Some(file) => Box::new(
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(file)
                .with_context(|| format!("creating {} (it must not exist yet)", file.display()))?,
        ),
        None => Box::new(std::io::stdout().lock()),
    };
    let mut out = BufWriter::new(out);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let counts = runtime.block_on(async {
        let store = datadir::open_store(&args.data).await?;
        let mut tx = store.pool().begin().await?;
        let counts = write_export(&mut tx, &mut out).await?;
        tx.commit().await?;
        store.pool().close().await;
        anyhow::Ok(counts)
    })?;
    out.flush()?;
    if let Some(file) = &args.out {
        File::open(file)?.sync_all()?;
    }
    let total: u64 = counts.values().sum();
    eprintln!("Exported {total} rows from {} tables of {}.", counts.len(), path.display());
    Ok(())
}

async fn write_export(conn: &mut SqliteConnection, out: &mut impl Write) -> Result<BTreeMap<String, u64>> {
    let names: Vec<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table'").fetch_all(&mut *conn).await?;
    let unknown: Vec<&String> = names.iter().filter(|n| !skipped(n) && !TABLES.contains(&n.as_str())).collect();
    if !unknown.is_empty() {
        bail!("this version cannot export table(s) {unknown:?}; refusing to leave their rows behind");
    }
    let missing: Vec<&&str> = TABLES.iter().filter(|t| !names.iter().any(|n| n == *t)).collect();
    if !missing.is_empty() {
        bail!("the database lacks table(s) {missing:?}: not a Tessera database of this version");
    }
    let schema: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations WHERE success")
        .fetch_one(&mut *conn)
        .await?;
    let header = json!({"format": FORMAT, "version": VERSION, "schema": schema, "source": "sqlite", "tables": TABLES});
    writeln!(out, "{header}")?;

    let mut counts = BTreeMap::new();
    for table in TABLES {
        let columns: Vec<String> =
            sqlx::query_scalar(&format!("SELECT name FROM pragma_table_info('{table}') ORDER BY cid"))
                .fetch_all(&mut *conn)
                .await?;
        let pairs: Vec<String> =
            columns.iter().map(|c| format!("'{}', {}", c.replace('\'', "''"), json_value(c))).collect();
        let sql = format!(
            "SELECT rowid AS r, json_object({}) AS j FROM \"{table}\" WHERE rowid > ? ORDER BY rowid LIMIT ?",
            pairs.join(", ")
        );
        let (mut after, mut count) = (i64::MIN, 0u64);
        loop {
            let rows: Vec<(i64, String)> = sqlx::query_as(&sql).bind(after).bind(PAGE).fetch_all(&mut *conn).await?;
            let Some((last, _)) = rows.last() else { break };
            after = *last;
            for (_, row) in &rows {
                writeln!(out, "{{\"table\":\"{table}\",\"row\":{row}}}")?;
            }
            count += rows.len() as u64;
        }
        counts.insert((*table).to_owned(), count);
    }
    // The highest ID each AUTOINCREMENT table (and the activity order) ever
    // handed out, so PostgreSQL never reuses one.
    let sequences: Vec<(String, i64)> =
        sqlx::query_as("SELECT name, seq FROM sqlite_sequence ORDER BY name").fetch_all(&mut *conn).await?;
    for (name, value) in sequences {
        if TABLES.contains(&name.as_str()) || name == ACTIVITY_SEQUENCE {
            writeln!(out, "{}", json!({"sequence": name, "value": value}))?;
        }
    }
    writeln!(out, "{}", json!({"end": {"rows": counts}}))?;
    Ok(counts)
}

pub(crate) fn import(args: ImportArgs) -> Result<()> {
    let settings = Settings::load(Some(&args.data))?;
    let database = Database::resolve(args.database.as_deref(), &settings)?;
    let Database::Postgres(url) = &database else {
        bail!("import needs a PostgreSQL database: pass --database postgres://…");
    };
    let input: Box<dyn BufRead> = match &args.file {
        Some(file) => {
            Box::new(BufReader::new(File::open(file).with_context(|| format!("opening {}", file.display()))?))
        }
        None => Box::new(BufReader::new(std::io::stdin().lock())),
    };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let store = PostgresStore::connect(url).await.with_context(|| format!("opening {}", database.describe()))?;
        let result = read_import(&store, input).await;
        store.close().await;
        let summary = result?;
        let total: u64 = summary.rows.values().sum();
        println!(
            "Imported {total} rows into {} tables of {} (search index: {} translations).",
            summary.rows.len(),
            database.describe(),
            summary.indexed
        );
        Ok(())
    })
}

fn field<'a>(line: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    line.get(key)
}

async fn read_import(
    store: &PostgresStore,
    input: impl BufRead,
) -> Result<tessera_store_postgres::import::ImportSummary> {
    let mut lines = input.lines().enumerate();
    let (_, first) = lines.next().ok_or_else(|| anyhow!("the export is empty"))?;
    let header: Map<String, Value> = serde_json::from_str(&first?).context("line 1 is not an export header")?;
    if field(&header, "format").and_then(Value::as_str) != Some(FORMAT) {
        bail!("not a Tessera export (line 1 has no \"format\": \"{FORMAT}\")");
    }
    if field(&header, "version").and_then(Value::as_u64) != Some(VERSION) {
        bail!("export format version {:?} is not {VERSION}", field(&header, "version"));
    }
    let schema = field(&header, "schema").and_then(Value::as_i64).unwrap_or(-1);
    let ours = store.schema_version().await?;
    if schema != ours {
        bail!(
            "the export is of schema version {schema}, this database is at {ours}: export and import with the same \
             Tessera version"
        );
    }

    let mut import = store.begin_import().await?;
    let mut end: Option<BTreeMap<String, u64>> = None;
    for (index, line) in lines {
        let number = index + 1;
        let line = line.with_context(|| format!("reading line {number}"))?;
        if line.trim().is_empty() {
            continue;
        }
        if end.is_some() {
            bail!("line {number}: nothing may follow the end line");
        }
        let object: Map<String, Value> =
            serde_json::from_str(&line).with_context(|| format!("line {number} is not a JSON object"))?;
        if let (Some(Value::String(table)), Some(Value::Object(row))) = (field(&object, "table"), field(&object, "row"))
        {
            import.row(table, row).await.with_context(|| format!("line {number}"))?;
        } else if let (Some(Value::String(name)), Some(value)) = (field(&object, "sequence"), field(&object, "value")) {
            let value = value.as_i64().ok_or_else(|| anyhow!("line {number}: sequence value is not an integer"))?;
            import.sequence(name, value).with_context(|| format!("line {number}"))?;
        } else if let Some(Value::Object(done)) = field(&object, "end") {
            let rows = done.get("rows").cloned().unwrap_or(Value::Null);
            end = Some(serde_json::from_value(rows).with_context(|| format!("line {number}: bad row counts"))?);
        } else {
            bail!("line {number} is neither a row, a sequence nor the end");
        }
    }
    let Some(expected) = end else {
        bail!("the export has no end line: it was cut off (nothing was imported)");
    };
    // Flushes the last batch first, so the counts below are complete.
    import.flush().await?;
    let got: BTreeMap<String, u64> = import.counts().iter().map(|(t, n)| ((*t).to_owned(), *n)).collect();
    let tables: HashSet<&String> = expected.keys().chain(got.keys()).collect();
    for table in tables {
        let (want, have) = (expected.get(table).copied().unwrap_or(0), got.get(table).copied().unwrap_or(0));
        if want != have {
            bail!("table {table}: the export says {want} rows, {have} were read (nothing was imported)");
        }
    }
    Ok(import.finish().await?)
}
