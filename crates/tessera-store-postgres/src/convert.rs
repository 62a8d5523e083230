//! Row values back into domain types. Anything that does not parse is
//! [`StoreError::Corrupt`]: the database was edited by hand or by a newer
//! version, and guessing would be worse than refusing.

use sqlx::Row;
use sqlx::postgres::PgRow;
use tessera_core::{
    ArticleId, CategoryId, CommentId, ConsentMode, ConversationId, DisplayName, Email, HostName, Interface, Language,
    MessageId, Origin, PersonId, Role, Selector, SiteId, SolutionType, Timestamp, TokenHash, VisitorId,
};
use tessera_store::{
    ArticleStatus, AuditKind, Author, CommentStatus, ConsentChoice, ConversationStatus, StoreError, StoreResult,
};

use crate::backend;

/// Reads one column, mapping a missing column or wrong SQL type to a backend error.
pub(crate) fn get<'r, T>(row: &'r PgRow, column: &str) -> StoreResult<T>
where
    T: sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
{
    row.try_get(column).map_err(backend)
}

pub(crate) fn timestamp(row: &PgRow, column: &str) -> StoreResult<Timestamp> {
    get::<i64>(row, column).map(Timestamp::from_unix)
}

pub(crate) fn person_id(row: &PgRow, column: &str) -> StoreResult<PersonId> {
    get::<i64>(row, column).map(PersonId::new)
}

pub(crate) fn opt_person_id(row: &PgRow, column: &str) -> StoreResult<Option<PersonId>> {
    Ok(get::<Option<i64>>(row, column)?.map(PersonId::new))
}

pub(crate) fn category_id(row: &PgRow, column: &str) -> StoreResult<CategoryId> {
    get::<i64>(row, column).map(CategoryId::new)
}

pub(crate) fn opt_category_id(row: &PgRow, column: &str) -> StoreResult<Option<CategoryId>> {
    Ok(get::<Option<i64>>(row, column)?.map(CategoryId::new))
}

pub(crate) fn article_id(row: &PgRow, column: &str) -> StoreResult<ArticleId> {
    get::<i64>(row, column).map(ArticleId::new)
}

pub(crate) fn comment_id(row: &PgRow, column: &str) -> StoreResult<CommentId> {
    get::<i64>(row, column).map(CommentId::new)
}

pub(crate) fn visitor_id(row: &PgRow, column: &str) -> StoreResult<VisitorId> {
    get::<i64>(row, column).map(VisitorId::new)
}

pub(crate) fn opt_visitor_id(row: &PgRow, column: &str) -> StoreResult<Option<VisitorId>> {
    Ok(get::<Option<i64>>(row, column)?.map(VisitorId::new))
}

pub(crate) fn conversation_id(row: &PgRow, column: &str) -> StoreResult<ConversationId> {
    get::<i64>(row, column).map(ConversationId::new)
}

pub(crate) fn message_id(row: &PgRow, column: &str) -> StoreResult<MessageId> {
    get::<i64>(row, column).map(MessageId::new)
}

/// The column type for site IDs (they fit in 32 bits; SQL integers are signed).
pub(crate) fn site_param(id: SiteId) -> i64 {
    i64::from(id.get())
}

fn site_from(n: i64, column: &str) -> StoreResult<SiteId> {
    u32::try_from(n)
        .ok()
        .and_then(|n| SiteId::new(n).ok())
        .ok_or_else(|| StoreError::Corrupt(format!("{column} {n} is not a site ID")))
}

pub(crate) fn site_id(row: &PgRow, column: &str) -> StoreResult<SiteId> {
    site_from(get(row, column)?, column)
}

pub(crate) fn opt_site_id(row: &PgRow, column: &str) -> StoreResult<Option<SiteId>> {
    get::<Option<i64>>(row, column)?.map(|n| site_from(n, column)).transpose()
}

fn hash_from(bytes: &[u8], column: &str) -> StoreResult<TokenHash> {
    TokenHash::from_bytes(bytes)
        .ok_or_else(|| StoreError::Corrupt(format!("{column} has {} bytes, not 32", bytes.len())))
}

pub(crate) fn token_hash(row: &PgRow, column: &str) -> StoreResult<TokenHash> {
    hash_from(&get::<Vec<u8>>(row, column)?, column)
}

pub(crate) fn opt_token_hash(row: &PgRow, column: &str) -> StoreResult<Option<TokenHash>> {
    get::<Option<Vec<u8>>>(row, column)?.map(|bytes| hash_from(&bytes, column)).transpose()
}

pub(crate) fn selector(row: &PgRow, column: &str) -> StoreResult<Selector> {
    let bytes = get::<Vec<u8>>(row, column)?;
    Selector::from_bytes(&bytes)
        .ok_or_else(|| StoreError::Corrupt(format!("{column} has {} bytes, not 16", bytes.len())))
}

pub(crate) fn opt_selector(row: &PgRow, column: &str) -> StoreResult<Option<Selector>> {
    let Some(bytes) = get::<Option<Vec<u8>>>(row, column)? else { return Ok(None) };
    Selector::from_bytes(&bytes)
        .map(Some)
        .ok_or_else(|| StoreError::Corrupt(format!("{column} has {} bytes, not 16", bytes.len())))
}

pub(crate) fn role(row: &PgRow, column: &str) -> StoreResult<Role> {
    let text = get::<String>(row, column)?;
    Role::parse(&text).map_err(|_| StoreError::Corrupt(format!("{column} {text:?} is not a role")))
}

fn interface_from(text: String, column: &str) -> StoreResult<Interface> {
    Interface::parse(&text).map_err(|_| StoreError::Corrupt(format!("{column} {text:?} is not an interface")))
}

pub(crate) fn interface(row: &PgRow, column: &str) -> StoreResult<Interface> {
    interface_from(get(row, column)?, column)
}

pub(crate) fn opt_interface(row: &PgRow, column: &str) -> StoreResult<Option<Interface>> {
    get::<Option<String>>(row, column)?.map(|text| interface_from(text, column)).transpose()
}

pub(crate) fn audit_kind(row: &PgRow, column: &str) -> StoreResult<AuditKind> {
    let text = get::<String>(row, column)?;
    AuditKind::parse(&text).ok_or_else(|| StoreError::Corrupt(format!("{column} {text:?} is not an audit kind")))
}

// Email and name are personal data: the messages name the column, not the value.

pub(crate) fn email(row: &PgRow, column: &str) -> StoreResult<Email> {
    Email::parse(&get::<String>(row, column)?).map_err(|_| StoreError::Corrupt(format!("{column} is not an email")))
}

pub(crate) fn display_name(row: &PgRow, column: &str) -> StoreResult<DisplayName> {
    DisplayName::parse(&get::<String>(row, column)?)
        .map_err(|_| StoreError::Corrupt(format!("{column} is not a display name")))
}

pub(crate) fn count(row: &PgRow, column: &str) -> StoreResult<u32> {
    let n = get::<i64>(row, column)?;
    u32::try_from(n).map_err(|_| StoreError::Corrupt(format!("{column} {n} is out of range")))
}

/// A category's position among its siblings (BIGINT, like every integer column).
pub(crate) fn category_position(row: &PgRow, column: &str) -> StoreResult<i32> {
    let n = get::<i64>(row, column)?;
    i32::try_from(n).map_err(|_| StoreError::Corrupt(format!("{column} {n} is out of range")))
}

/// A counter that is never negative (views, votes, comments, message sequence numbers).
pub(crate) fn count64(row: &PgRow, column: &str) -> StoreResult<u64> {
    let n = get::<i64>(row, column)?;
    u64::try_from(n).map_err(|_| StoreError::Corrupt(format!("{column} {n} is out of range")))
}

/// One text value through a domain `parse`; `what` names the type in the error.
fn parsed<T>(text: &str, column: &str, what: &str, parse: impl Fn(&str) -> Option<T>) -> StoreResult<T> {
    parse(text).ok_or_else(|| StoreError::Corrupt(format!("{column} {text:?} is not {what}")))
}

pub(crate) fn language(row: &PgRow, column: &str) -> StoreResult<Language> {
    parsed(&get::<String>(row, column)?, column, "a language", |t| Language::parse(t).ok())
}

pub(crate) fn solution_type(row: &PgRow, column: &str) -> StoreResult<SolutionType> {
    parsed(&get::<String>(row, column)?, column, "a solution type", |t| SolutionType::parse(t).ok())
}

pub(crate) fn consent_mode(row: &PgRow, column: &str) -> StoreResult<ConsentMode> {
    parsed(&get::<String>(row, column)?, column, "a consent mode", |t| ConsentMode::parse(t).ok())
}

pub(crate) fn article_status(row: &PgRow, column: &str) -> StoreResult<ArticleStatus> {
    parsed(&get::<String>(row, column)?, column, "an article status", ArticleStatus::parse)
}

pub(crate) fn comment_status(row: &PgRow, column: &str) -> StoreResult<CommentStatus> {
    parsed(&get::<String>(row, column)?, column, "a comment status", CommentStatus::parse)
}

pub(crate) fn opt_comment_status(row: &PgRow, column: &str) -> StoreResult<Option<CommentStatus>> {
    let Some(text) = get::<Option<String>>(row, column)? else { return Ok(None) };
    parsed(&text, column, "a comment status", CommentStatus::parse).map(Some)
}

pub(crate) fn consent_choice(row: &PgRow, column: &str) -> StoreResult<ConsentChoice> {
    parsed(&get::<String>(row, column)?, column, "a consent choice", ConsentChoice::parse)
}

pub(crate) fn conversation_status(row: &PgRow, column: &str) -> StoreResult<ConversationStatus> {
    parsed(&get::<String>(row, column)?, column, "a conversation status", ConversationStatus::parse)
}

/// The column pair an [`Author`] is stored in: its kind as text, and the
/// agent's person ID (NULL for the visitor and the system).
pub(crate) fn author_columns(author: Author) -> (&'static str, Option<i64>) {
    match author {
        Author::Visitor => ("visitor", None),
        Author::Agent(person) => ("agent", Some(person.get())),
        Author::System => ("system", None),
    }
}

/// The inverse of [`author_columns`]; an agent without a person, or a person
/// on another kind, is corrupt.
pub(crate) fn author(row: &PgRow, kind_column: &str, id_column: &str) -> StoreResult<Author> {
    let kind = get::<String>(row, kind_column)?;
    match (kind.as_str(), opt_person_id(row, id_column)?) {
        ("visitor", None) => Ok(Author::Visitor),
        ("agent", Some(person)) => Ok(Author::Agent(person)),
        ("system", None) => Ok(Author::System),
        (_, person) => Err(StoreError::Corrupt(format!(
            "{kind_column} {kind:?} with {id_column} {} is not an author",
            person.map_or_else(|| "NULL".to_owned(), |p| p.get().to_string())
        ))),
    }
}

pub(crate) fn host_name(row: &PgRow, column: &str) -> StoreResult<HostName> {
    parsed(&get::<String>(row, column)?, column, "a host name", |t| HostName::parse(t).ok())
}

/// Small lists (languages, origins) are stored newline-joined; empty text is an empty list.
pub(crate) fn join_lines<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    items.into_iter().collect::<Vec<_>>().join("\n")
}

fn lines<T>(row: &PgRow, column: &str, what: &str, parse: impl Fn(&str) -> Option<T>) -> StoreResult<Vec<T>> {
    let text = get::<String>(row, column)?;
    if text.is_empty() {
        return Ok(Vec::new());
    }
    text.split('\n').map(|line| parsed(line, column, what, &parse)).collect()
}

pub(crate) fn languages(row: &PgRow, column: &str) -> StoreResult<Vec<Language>> {
    lines(row, column, "a language", |t| Language::parse(t).ok())
}

pub(crate) fn origins(row: &PgRow, column: &str) -> StoreResult<Vec<Origin>> {
    lines(row, column, "an origin", |t| Origin::parse(t).ok())
}
