//! Reading a result row by column name.

use sqlx::{ColumnIndex, Decode, Row, Type};
use tessera_store::StoreResult;

use crate::backend;

/// A result row as the decoders read it: one column, by name, as one of the
/// primitive types the schema stores. A missing column or a value of another
/// SQL type is a backend error (the statement and the decoder disagree);
/// whether the value makes sense is for [`crate::value`] to say.
///
/// Implemented once, for every sqlx row type whose driver decodes these
/// types (SQLite's and PostgreSQL's do), so the decoders are written once and
/// this crate needs no driver.
pub trait Columns {
    /// A 64-bit integer (IDs, unix seconds, counters: every integer column).
    fn int(&self, column: &str) -> StoreResult<i64>;
    fn opt_int(&self, column: &str) -> StoreResult<Option<i64>>;
    fn text(&self, column: &str) -> StoreResult<String>;
    fn opt_text(&self, column: &str) -> StoreResult<Option<String>>;
    fn bytes(&self, column: &str) -> StoreResult<Vec<u8>>;
    fn opt_bytes(&self, column: &str) -> StoreResult<Option<Vec<u8>>>;
    /// A boolean (SQLite stores 0 or 1, PostgreSQL a BOOLEAN; sqlx reads both).
    fn flag(&self, column: &str) -> StoreResult<bool>;
}

impl<R> Columns for R
where
    R: Row,
    for<'c> &'c str: ColumnIndex<R>,
    i64: Type<R::Database> + for<'r> Decode<'r, R::Database>,
    String: Type<R::Database> + for<'r> Decode<'r, R::Database>,
    Vec<u8>: Type<R::Database> + for<'r> Decode<'r, R::Database>,
    bool: Type<R::Database> + for<'r> Decode<'r, R::Database>,
{
    fn int(&self, column: &str) -> StoreResult<i64> {
        self.try_get(column).map_err(backend)
    }

    fn opt_int(&self, column: &str) -> StoreResult<Option<i64>> {
        self.try_get(column).map_err(backend)
    }

    fn text(&self, column: &str) -> StoreResult<String> {
        self.try_get(column).map_err(backend)
    }

    fn opt_text(&self, column: &str) -> StoreResult<Option<String>> {
        self.try_get(column).map_err(backend)
    }

    fn bytes(&self, column: &str) -> StoreResult<Vec<u8>> {
        self.try_get(column).map_err(backend)
    }

    fn opt_bytes(&self, column: &str) -> StoreResult<Option<Vec<u8>>> {
        self.try_get(column).map_err(backend)
    }

    fn flag(&self, column: &str) -> StoreResult<bool> {
        self.try_get(column).map_err(backend)
    }
}
