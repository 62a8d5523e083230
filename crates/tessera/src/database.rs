//! Which database the server uses: the embedded SQLite file in the data
//! directory (the default), or PostgreSQL, shared by several nodes.
//!
//! Chosen by `--database URL` (or `TESSERA_DATABASE_URL`), else the setting
//! `database.url` (`[database] url` in tessera.toml, `TESSERA_DATABASE__URL`).
//! Empty or `sqlite:` is the embedded database; `postgres://…` or
//! `postgresql://…` is PostgreSQL. The secret key stays in the data
//! directory either way: every node of a cluster needs the same `secret.key`.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use tessera_store::Store;
use tessera_store_postgres::PostgresStore;

use crate::datadir;
use crate::settings::Settings;

/// The environment variable `--database` reads when the flag is absent.
pub(crate) const URL_VAR: &str = "TESSERA_DATABASE_URL";

/// `[database]`
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct DatabaseSettings {
    /// Empty (or `sqlite:`): the embedded SQLite database; `postgres://…`: PostgreSQL.
    pub url: String,
}

impl std::fmt::Debug for DatabaseSettings {
    // The URL may hold a password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseSettings").field("url", &redacted(&self.url)).finish()
    }
}

/// A database URL, understood.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum Database {
    /// `tessera.db` in the data directory.
    Embedded,
    /// The URL as given (passed on to the driver).
    Postgres(String),
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl Database {
    pub(crate) fn parse(url: &str) -> Result<Self> {
        let url = url.trim();
        let scheme = url.split_once(':').map_or(url, |(scheme, _)| scheme).to_ascii_lowercase();
        match scheme.as_str() {
            "" => Ok(Self::Embedded),
            "sqlite" if matches!(url.split_once(':').map(|(_, rest)| rest), Some("" | "//")) => Ok(Self::Embedded),
            "sqlite" => bail!(
                "only the embedded SQLite database is supported (`sqlite:` means tessera.db in the data directory); \
                 got {}",
                redacted(url)
            ),
            "postgres" | "postgresql" => Ok(Self::Postgres(url.to_owned())),
            _ => bail!("unknown database URL {}: use sqlite: or postgres://…", redacted(url)),
        }
    }

    /// The database for a command: the flag's (or `TESSERA_DATABASE_URL`'s)
    /// URL if given, else the `database.url` setting.
    pub(crate) fn resolve(flag: Option<&str>, settings: &Settings) -> Result<Self> {
        let url = flag.unwrap_or(&settings.database.url);
        Self::parse(url).context("--database / database.url")
    }

    /// For logs and messages: the URL without its password.
    pub(crate) fn describe(&self) -> String {
        match self {
            Self::Embedded => "embedded SQLite (tessera.db in the data directory)".to_owned(),
            Self::Postgres(url) => format!("PostgreSQL {}", redacted(url)),
        }
    }
}

/// `url` with any password replaced by `***` (in `user:password@` and in a
/// `password=` parameter).
pub(crate) fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let (before_query, query) = match rest.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (rest, None),
    };
    let (authority, path) = match before_query.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (before_query, None),
    };
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{user}:***@{host}"),
            None => authority.to_owned(),
        },
        None => authority.to_owned(),
    };
    let mut out = format!("{scheme}://{authority}");
    if let Some(path) = path {
        out.push('/');
        out.push_str(path);
    }
    if let Some(query) = query {
        let params: Vec<String> = query
            .split('&')
            .map(|p| match p.split_once('=') {
                Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                _ => p.to_owned(),
            })
            .collect();
        out.push('?');
        out.push_str(&params.join("&"));
    }
    out
}

/// Opens the store the flag (else the settings) name, creating the embedded
/// database or applying pending migrations as needed.
pub(crate) async fn open(data: &Path, flag: Option<&str>, settings: &Settings) -> Result<Arc<dyn Store>> {
    let database = Database::resolve(flag, settings)?;
    match &database {
        Database::Embedded => Ok(Arc::new(datadir::open_store(data).await?)),
        Database::Postgres(url) => {
            let store =
                PostgresStore::connect(url).await.with_context(|| format!("opening {}", database.describe()))?;
            tracing::info!(database = %database.describe(), "using PostgreSQL");
            Ok(Arc::new(store))
        }
    }
}

/// `tessera migrate`: brings the database's schema up to date and exits.
pub(crate) fn migrate(args: crate::MigrateArgs) -> Result<()> {
    let settings = Settings::load(Some(&args.data))?;
    let database = Database::resolve(args.database.as_deref(), &settings)?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        match &database {
            Database::Embedded => {
                datadir::ensure(&args.data)?;
                datadir::open_store(&args.data).await?.pool().close().await;
                println!("{}: schema up to date.", database.describe());
            }
            Database::Postgres(url) => {
                let version =
                    PostgresStore::migrate(url).await.with_context(|| format!("migrating {}", database.describe()))?;
                println!("{}: schema up to date (version {version}).", database.describe());
            }
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_choose_the_backend() {
        assert_eq!(Database::parse("").ok(), Some(Database::Embedded));
        assert_eq!(Database::parse(" sqlite: ").ok(), Some(Database::Embedded));
        assert_eq!(Database::parse("sqlite://").ok(), Some(Database::Embedded));
        let pg = "postgres://tessera@db:5432/tessera";
        assert_eq!(Database::parse(pg).ok(), Some(Database::Postgres(pg.to_owned())));
        assert!(matches!(Database::parse("postgresql://h/db"), Ok(Database::Postgres(_))));
        assert!(Database::parse("sqlite:/var/lib/x.db").is_err());
        assert!(Database::parse("mysql://h/db").is_err());
    }

    #[test]
    fn passwords_never_show() {
        assert_eq!(redacted("postgres://u:secret@h:5432/db"), "postgres://u:***@h:5432/db");
        assert_eq!(
            redacted("postgres://u@h/db?password=secret&sslmode=require"),
            "postgres://u@h/db?password=***&sslmode=require"
        );
        assert_eq!(redacted("postgres://h"), "postgres://h");
        let err = Database::parse("mysql://u:secret@h/db").err().map(|e| e.to_string()).unwrap_or_default();
        assert!(!err.contains("secret"), "{err}");
        let debug = format!("{:?}", Database::parse("postgres://u:secret@h/db").ok());
        assert!(!debug.contains("secret"), "{debug}");
    }
}
