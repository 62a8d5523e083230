//! The audit log: append-only, read newest first through a filter.

use async_trait::async_trait;
use sqlx::{Postgres, QueryBuilder};
use tessera_store::{AuditEntry, AuditEvent, AuditFilter, AuditStore, StoreResult};
use tessera_store_sql::param::site_param;
use tessera_store_sql::{backend, record};

use crate::PostgresStore;

#[async_trait]
impl AuditStore for PostgresStore {
    async fn append_audit(&self, e: &AuditEvent) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO audit (at, kind, site_id, person_id, actor_id, interface, ip, detail)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(e.at.unix())
        .bind(e.kind.as_str())
        .bind(e.site_id.map(site_param))
        .bind(e.person_id.map(|p| p.get()))
        .bind(e.actor_id.map(|p| p.get()))
        .bind(e.interface.map(|i| i.as_str()))
        .bind(e.ip.as_deref())
        .bind(&e.detail)
        .execute(&self.pool)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn audit(&self, filter: &AuditFilter) -> StoreResult<Vec<AuditEntry>> {
        let mut sql = QueryBuilder::<Postgres>::new(
            "SELECT id, at, kind, site_id, person_id, actor_id, interface, ip, detail FROM audit WHERE 1 = 1",
        );
        if let Some(site) = filter.site_id {
            sql.push(" AND site_id = ").push_bind(site_param(site));
        }
        if let Some(person) = filter.person_id {
            sql.push(" AND person_id = ").push_bind(person.get());
        }
        if let Some(kind) = filter.kind {
            sql.push(" AND kind = ").push_bind(kind.as_str());
        }
        if let Some(since) = filter.since {
            sql.push(" AND at >= ").push_bind(since.unix());
        }
        // The ID breaks ties between events of the same second: later appended, newer.
        sql.push(" ORDER BY at DESC, id DESC LIMIT ").push_bind(i64::from(filter.limit));
        let rows = sql.build().fetch_all(&self.pool).await.map_err(backend)?;
        rows.iter().map(record::audit_entry).collect()
    }
}
