//! The data directory: database file and secret key, created on first use.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use anyhow::{Context, Result, bail};
use tessera_core::SecretKey;
use tessera_store_sqlite::SqliteStore;

const KEY_FILE: &str = "secret.key";
const DB_FILE: &str = "tessera.db";

/// Creates the directory (mode 0700) if needed.
pub(crate) fn ensure(data: &Path) -> Result<()> {
    if !data.exists() {
        std::fs::create_dir_all(data).with_context(|| format!("creating data directory {}", data.display()))?;
        std::fs::set_permissions(data, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Reads the server key, creating it (mode 0600) on first start.
pub(crate) fn secret_key(data: &Path) -> Result<SecretKey> {
    let path = data.join(KEY_FILE);
    if path.exists() {
        let mode = std::fs::metadata(&path)?.permissions().mode();
        if mode & 0o077 != 0 {
            bail!("{} is readable by others (mode {:o}); run chmod 600 on it", path.display(), mode & 0o777);
        }
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        return SecretKey::from_bytes(&bytes).with_context(|| format!("{} is not a Tessera key", path.display()));
    }
    let key = SecretKey::generate();
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(key.expose_bytes())?;
    file.sync_all()?;
    Ok(key)
}

/// Opens (creating if needed) the database. A new file is created mode 0600;
/// SQLite gives its WAL and shared-memory files the same mode.
pub(crate) async fn open_store(data: &Path) -> Result<SqliteStore> {
    let path = data.join(DB_FILE);
    if !path.exists() {
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .with_context(|| format!("creating {}", path.display()))?;
    }
    SqliteStore::open(&path).await.with_context(|| format!("opening database {}", path.display()))
}
