//! People: users, agents and admins of one site, unique by email per site.

use async_trait::async_trait;
use tessera_core::{Email, PersonId, Role, SiteId, Timestamp};
use tessera_store::{NewPerson, Person, PersonStore, StoreResult};
use tessera_store_sql::param::site_param;
use tessera_store_sql::{backend, conflict_or_backend, created, record};

use crate::PostgresStore;

const SELECT: &str =
    "SELECT id, site_id, email, name, role, password_hash, disabled, created_at, updated_at FROM people";

impl PostgresStore {
    /// Runs a single-person `UPDATE` whose last placeholder is the person's ID;
    /// reports whether that person exists.
    async fn update_person(&self, query: Query<'_>, id: PersonId) -> StoreResult<bool> {
        let done = query.bind(id.get()).execute(&self.pool).await.map_err(backend)?;
        Ok(done.rows_affected() > 0)
    }
}

type Query<'q> = sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>;

#[async_trait]
impl PersonStore for PostgresStore {
    async fn create_person(&self, new: &NewPerson, now: Timestamp) -> StoreResult<Person> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO people (site_id, email, name, role, password_hash, disabled, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(site_param(new.site_id))
        .bind(new.email.as_str())
        .bind(new.name.as_str())
        .bind(new.role.as_str())
        .bind(&new.password_hash)
        .bind(false)
        .bind(now.unix())
        .bind(now.unix())
        .fetch_one(&self.pool)
        .await
        .map_err(conflict_or_backend("a person with this email already exists on this site"))?;
        Ok(created::person(PersonId::new(id), new, now))
    }

    async fn person(&self, id: PersonId) -> StoreResult<Option<Person>> {
        let row = sqlx::query(&format!("{SELECT} WHERE id = $1"))
            .bind(id.get())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.as_ref().map(record::person).transpose()
    }

    async fn person_by_email(&self, site: SiteId, email: &Email) -> StoreResult<Option<Person>> {
        let row = sqlx::query(&format!("{SELECT} WHERE site_id = $1 AND email = $2"))
            .bind(site_param(site))
            .bind(email.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        row.as_ref().map(record::person).transpose()
    }

    async fn people(&self, site: SiteId) -> StoreResult<Vec<Person>> {
        let rows = sqlx::query(&format!("{SELECT} WHERE site_id = $1 ORDER BY id"))
            .bind(site_param(site))
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        rows.iter().map(record::person).collect()
    }

    async fn set_password_hash(&self, id: PersonId, phc: &str, now: Timestamp) -> StoreResult<bool> {
        let query = sqlx::query("UPDATE people SET password_hash = $1, updated_at = $2 WHERE id = $3");
        self.update_person(query.bind(phc).bind(now.unix()), id).await
    }

    async fn set_role(&self, id: PersonId, role: Role, now: Timestamp) -> StoreResult<bool> {
        let query = sqlx::query("UPDATE people SET role = $1, updated_at = $2 WHERE id = $3");
        self.update_person(query.bind(role.as_str()).bind(now.unix()), id).await
    }

    async fn set_email(&self, id: PersonId, email: &Email, now: Timestamp) -> StoreResult<bool> {
        let done = sqlx::query("UPDATE people SET email = $1, updated_at = $2 WHERE id = $3")
            .bind(email.as_str())
            .bind(now.unix())
            .bind(id.get())
            .execute(&self.pool)
            .await
            .map_err(conflict_or_backend("email already taken on this site"))?;
        Ok(done.rows_affected() > 0)
    }

    async fn set_disabled(&self, id: PersonId, disabled: bool, now: Timestamp) -> StoreResult<bool> {
        let query = sqlx::query("UPDATE people SET disabled = $1, updated_at = $2 WHERE id = $3");
        self.update_person(query.bind(disabled).bind(now.unix()), id).await
    }
}
