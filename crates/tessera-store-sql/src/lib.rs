//! What the SQL backends (`tessera-store-sqlite`, `tessera-store-postgres`)
//! share: everything between a statement's result and a domain record, and
//! between a domain value and what a statement binds. No SQL text lives here:
//! placeholders, types and locking differ per database, so each backend keeps
//! its own statements and runs them; what it gets back it hands to these
//! functions.
//!
//! - [`Columns`]: a result row read by column name as the few primitive types
//!   the schema stores (integers, text, bytes, booleans). Implemented for any
//!   sqlx row whose driver decodes those, so this crate names no driver.
//! - [`value`]: one stored value back into a domain type. Anything that does
//!   not parse is [`StoreError::Corrupt`]: the database was edited by hand or
//!   by a newer version, and guessing would be worse than refusing.
//! - [`record`]: one row (and, for sites, categories and articles, the rows
//!   of their parts) into a record. The column names are the schema's, the
//!   same in both backends.
//! - [`created`]: the record an `INSERT` stands for, from its input and new ID.
//! - [`param`]: domain values as the statements bind them, and the pure parts
//!   of batched writes.
//!
//! [`backend`] and [`conflict_or_backend`] turn sqlx errors into store errors.

mod columns;
pub mod created;
pub mod param;
pub mod record;
pub mod value;

pub use columns::Columns;
use tessera_store::StoreError;

/// Any sqlx failure that is not a broken rule: I/O, locking, connection, bad SQL.
pub fn backend(error: sqlx::Error) -> StoreError {
    StoreError::Backend(Box::new(error))
}

/// For inserts: a unique violation becomes [`StoreError::Conflict`] with
/// `what` as its message; anything else is a backend error.
pub fn conflict_or_backend(what: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |error| match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(what),
        _ => backend(error),
    }
}
