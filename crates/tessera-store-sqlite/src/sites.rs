//! Sites (tenants). Created once, at install or by an admin; never deleted here.

use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;
use tessera_core::{SiteId, Timestamp};
use tessera_store::{Site, SiteStore, StoreError, StoreResult};

use crate::convert::{get, site_id, site_param, timestamp};
use crate::{SqliteStore, backend};

fn site_from_row(row: &SqliteRow) -> StoreResult<Site> {
    Ok(Site { id: site_id(row, "id")?, name: get(row, "name")?, created_at: timestamp(row, "created_at")? })
}

#[async_trait]
impl SiteStore for SqliteStore {
    async fn ensure_site(&self, id: SiteId, name: &str, now: Timestamp) -> StoreResult<Site> {
        // DO NOTHING rather than an upsert: an existing site keeps its name and
        // creation time, so every node can call this at start-up.
        sqlx::query("INSERT INTO sites (id, name, created_at) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING")
            .bind(site_param(id))
            .bind(name)
            .bind(now.unix())
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        self.site(id).await?.ok_or_else(|| StoreError::Corrupt(format!("site {id} missing right after ensure_site")))
    }

    async fn site(&self, id: SiteId) -> StoreResult<Option<Site>> {
        let row = sqlx::query("SELECT id, name, created_at FROM sites WHERE id = ?")
            .bind(site_param(id))
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.as_ref().map(site_from_row).transpose()
    }

    async fn sites(&self) -> StoreResult<Vec<Site>> {
        let rows = sqlx::query("SELECT id, name, created_at FROM sites ORDER BY id")
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.iter().map(site_from_row).collect()
    }
}
