//! Sites (tenants) and their settings. Created at install or by an admin;
//! never deleted here. Host names live in `site_hosts`, one site per host.

use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;
use sqlx::{Sqlite, Transaction};
use tessera_core::{HostName, SiteId, Timestamp};
use tessera_store::{MonitoringSettings, Site, SiteSettings, SiteStore, StoreError, StoreResult};
use tessera_store_sql::param::{host_rows, settings_columns, site_param};
use tessera_store_sql::{backend, conflict_or_backend, record};

use crate::SqliteStore;

const SELECT: &str = "SELECT s.id, s.name, s.languages, s.default_language, s.embed_origins, s.solution_type, \
                      s.consent_mode, s.registration_open, s.monitor_idle_minutes, s.monitor_retention_days, \
                      s.cookieless_counting, s.full_ip, s.created_at, s.updated_at FROM sites s";

/// Writes the monitoring settings (columns kept apart from the INSERT and
/// UPDATE above so those stay readable).
async fn write_monitoring(tx: &mut Transaction<'_, Sqlite>, id: SiteId, m: &MonitoringSettings) -> StoreResult<()> {
    sqlx::query(
        "UPDATE sites SET monitor_idle_minutes = ?, monitor_retention_days = ?, cookieless_counting = ?, full_ip = ?
         WHERE id = ?",
    )
    .bind(i64::from(m.idle_minutes))
    .bind(i64::from(m.retention_days))
    .bind(m.cookieless_counting)
    .bind(m.full_ip)
    .bind(site_param(id))
    .execute(&mut **tx)
    .await
    .map_err(backend)?;
    Ok(())
}

/// Inserts the site's hosts (sorted, without duplicates); a host of another
/// site is a conflict, which rolls the transaction back when it is dropped.
async fn insert_hosts(tx: &mut Transaction<'_, Sqlite>, id: SiteId, hosts: &[HostName]) -> StoreResult<()> {
    for host in host_rows(hosts) {
        sqlx::query("INSERT INTO site_hosts (host, site_id) VALUES (?, ?)")
            .bind(host)
            .bind(site_param(id))
            .execute(&mut **tx)
            .await
            .map_err(conflict_or_backend("host"))?;
    }
    Ok(())
}

impl SqliteStore {
    /// Fills in the hosts of the given sites with one query.
    async fn with_hosts(&self, mut sites: Vec<Site>) -> StoreResult<Vec<Site>> {
        let rows = match sites.as_slice() {
            [] => return Ok(sites),
            [one] => sqlx::query("SELECT host, site_id FROM site_hosts WHERE site_id = ? ORDER BY host")
                .bind(site_param(one.id))
                .fetch_all(&self.pool)
                .await
                .map_err(backend)?,
            _ => sqlx::query("SELECT host, site_id FROM site_hosts ORDER BY host")
                .fetch_all(&self.pool)
                .await
                .map_err(backend)?,
        };
        record::attach_hosts(&mut sites, &rows)?;
        Ok(sites)
    }

    async fn one_site(&self, row: Option<SqliteRow>) -> StoreResult<Option<Site>> {
        let Some(row) = row else { return Ok(None) };
        Ok(self.with_hosts(vec![record::site(&row)?]).await?.pop())
    }

    async fn existing_site(&self, id: SiteId, after: &str) -> StoreResult<Site> {
        self.site(id).await?.ok_or_else(|| StoreError::Corrupt(format!("site {id} missing right after {after}")))
    }
}

#[async_trait]
impl SiteStore for SqliteStore {
    async fn ensure_site(&self, id: SiteId, name: &str, now: Timestamp) -> StoreResult<Site> {
        // DO NOTHING rather than an upsert: an existing site keeps its settings
        // and creation time, so every node can call this at start-up.
        let settings = SiteSettings::named(name);
        let (langs, default, embed, solution, consent) = settings_columns(&settings);
        sqlx::query(
            "INSERT INTO sites (id, name, languages, default_language, embed_origins, solution_type, consent_mode,
                                registration_open, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
        )
        .bind(site_param(id))
        .bind(&settings.name)
        .bind(langs)
        .bind(default)
        .bind(embed)
        .bind(solution)
        .bind(consent)
        .bind(settings.registration_open)
        .bind(now.unix())
        .bind(now.unix())
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        self.existing_site(id, "ensure_site").await
    }

    async fn create_site(&self, id: SiteId, settings: &SiteSettings, now: Timestamp) -> StoreResult<Site> {
        let (langs, default, embed, solution, consent) = settings_columns(settings);
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(backend)?;
        sqlx::query(
            "INSERT INTO sites (id, name, languages, default_language, embed_origins, solution_type, consent_mode,
                                registration_open, created_at, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(site_param(id))
        .bind(&settings.name)
        .bind(langs)
        .bind(default)
        .bind(embed)
        .bind(solution)
        .bind(consent)
        .bind(settings.registration_open)
        .bind(now.unix())
        .bind(now.unix())
        .execute(&mut *tx)
        .await
        .map_err(conflict_or_backend("site"))?;
        write_monitoring(&mut tx, id, &settings.monitoring).await?;
        insert_hosts(&mut tx, id, &settings.hosts).await?;
        tx.commit().await.map_err(backend)?;
        self.existing_site(id, "create_site").await
    }

    async fn update_site(&self, id: SiteId, settings: &SiteSettings, now: Timestamp) -> StoreResult<bool> {
        let (langs, default, embed, solution, consent) = settings_columns(settings);
        // The UPDATE comes first so the transaction holds the write lock from its first statement.
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.map_err(backend)?;
        let done = sqlx::query(
            "UPDATE sites SET name = ?, languages = ?, default_language = ?, embed_origins = ?, solution_type = ?,
                              consent_mode = ?, registration_open = ?, updated_at = ?
             WHERE id = ?",
        )
        .bind(&settings.name)
        .bind(langs)
        .bind(default)
        .bind(embed)
        .bind(solution)
        .bind(consent)
        .bind(settings.registration_open)
        .bind(now.unix())
        .bind(site_param(id))
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        sqlx::query("DELETE FROM site_hosts WHERE site_id = ?")
            .bind(site_param(id))
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        write_monitoring(&mut tx, id, &settings.monitoring).await?;
        insert_hosts(&mut tx, id, &settings.hosts).await?;
        tx.commit().await.map_err(backend)?;
        Ok(true)
    }

    async fn site(&self, id: SiteId) -> StoreResult<Option<Site>> {
        let row = sqlx::query(&format!("{SELECT} WHERE s.id = ?"))
            .bind(site_param(id))
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        self.one_site(row).await
    }

    async fn site_by_host(&self, host: &HostName) -> StoreResult<Option<Site>> {
        let row = sqlx::query(&format!("{SELECT} JOIN site_hosts h ON h.site_id = s.id WHERE h.host = ?"))
            .bind(host.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        self.one_site(row).await
    }

    async fn sites(&self) -> StoreResult<Vec<Site>> {
        let rows = sqlx::query(&format!("{SELECT} ORDER BY s.id")).fetch_all(&self.pool).await.map_err(backend)?;
        let sites = rows.iter().map(record::site).collect::<StoreResult<Vec<_>>>()?;
        self.with_hosts(sites).await
    }
}
