//! One stored value back into a domain type. Anything that does not parse is
//! [`StoreError::Corrupt`], naming the column (and the value, unless it is
//! personal data).

use tessera_core::{
    ArticleId, CategoryId, CommentId, ConsentMode, ConversationId, DisplayName, Email, HostName, Interface, Language,
    MessageId, MonitorSessionId, Origin, PersonId, Role, Selector, SiteId, SolutionType, Timestamp, TokenHash,
    VisitorId,
};
use tessera_store::{
    ArticleStatus, AuditKind, Author, CommentStatus, ConsentChoice, ConversationStatus, StoreError, StoreResult,
};

use crate::Columns;

pub fn timestamp(row: &impl Columns, column: &str) -> StoreResult<Timestamp> {
    row.int(column).map(Timestamp::from_unix)
}

pub fn opt_timestamp(row: &impl Columns, column: &str) -> StoreResult<Option<Timestamp>> {
    Ok(row.opt_int(column)?.map(Timestamp::from_unix))
}

pub fn person_id(row: &impl Columns, column: &str) -> StoreResult<PersonId> {
    row.int(column).map(PersonId::new)
}

pub fn opt_person_id(row: &impl Columns, column: &str) -> StoreResult<Option<PersonId>> {
    Ok(row.opt_int(column)?.map(PersonId::new))
}

pub fn category_id(row: &impl Columns, column: &str) -> StoreResult<CategoryId> {
    row.int(column).map(CategoryId::new)
}

pub fn opt_category_id(row: &impl Columns, column: &str) -> StoreResult<Option<CategoryId>> {
    Ok(row.opt_int(column)?.map(CategoryId::new))
}

pub fn article_id(row: &impl Columns, column: &str) -> StoreResult<ArticleId> {
    row.int(column).map(ArticleId::new)
}

pub fn comment_id(row: &impl Columns, column: &str) -> StoreResult<CommentId> {
    row.int(column).map(CommentId::new)
}

pub fn visitor_id(row: &impl Columns, column: &str) -> StoreResult<VisitorId> {
    row.int(column).map(VisitorId::new)
}

pub fn opt_visitor_id(row: &impl Columns, column: &str) -> StoreResult<Option<VisitorId>> {
    Ok(row.opt_int(column)?.map(VisitorId::new))
}

pub fn conversation_id(row: &impl Columns, column: &str) -> StoreResult<ConversationId> {
    row.int(column).map(ConversationId::new)
}

pub fn message_id(row: &impl Columns, column: &str) -> StoreResult<MessageId> {
    row.int(column).map(MessageId::new)
}

pub fn monitor_session_id(row: &impl Columns, column: &str) -> StoreResult<MonitorSessionId> {
    row.int(column).map(MonitorSessionId::new)
}

pub fn opt_monitor_session_id(row: &impl Columns, column: &str) -> StoreResult<Option<MonitorSessionId>> {
    Ok(row.opt_int(column)?.map(MonitorSessionId::new))
}

fn site_from(n: i64, column: &str) -> StoreResult<SiteId> {
    u32::try_from(n)
        .ok()
        .and_then(|n| SiteId::new(n).ok())
        .ok_or_else(|| StoreError::Corrupt(format!("{column} {n} is not a site ID")))
}

pub fn site_id(row: &impl Columns, column: &str) -> StoreResult<SiteId> {
    site_from(row.int(column)?, column)
}

pub fn opt_site_id(row: &impl Columns, column: &str) -> StoreResult<Option<SiteId>> {
    row.opt_int(column)?.map(|n| site_from(n, column)).transpose()
}

fn hash_from(bytes: &[u8], column: &str) -> StoreResult<TokenHash> {
    TokenHash::from_bytes(bytes)
        .ok_or_else(|| StoreError::Corrupt(format!("{column} has {} bytes, not 32", bytes.len())))
}

pub fn token_hash(row: &impl Columns, column: &str) -> StoreResult<TokenHash> {
    hash_from(&row.bytes(column)?, column)
}

pub fn opt_token_hash(row: &impl Columns, column: &str) -> StoreResult<Option<TokenHash>> {
    row.opt_bytes(column)?.map(|bytes| hash_from(&bytes, column)).transpose()
}

fn selector_from(bytes: &[u8], column: &str) -> StoreResult<Selector> {
    Selector::from_bytes(bytes)
        .ok_or_else(|| StoreError::Corrupt(format!("{column} has {} bytes, not 16", bytes.len())))
}

pub fn selector(row: &impl Columns, column: &str) -> StoreResult<Selector> {
    selector_from(&row.bytes(column)?, column)
}

pub fn opt_selector(row: &impl Columns, column: &str) -> StoreResult<Option<Selector>> {
    row.opt_bytes(column)?.map(|bytes| selector_from(&bytes, column)).transpose()
}

pub fn role(row: &impl Columns, column: &str) -> StoreResult<Role> {
    let text = row.text(column)?;
    Role::parse(&text).map_err(|_| StoreError::Corrupt(format!("{column} {text:?} is not a role")))
}

fn interface_from(text: String, column: &str) -> StoreResult<Interface> {
    Interface::parse(&text).map_err(|_| StoreError::Corrupt(format!("{column} {text:?} is not an interface")))
}

pub fn interface(row: &impl Columns, column: &str) -> StoreResult<Interface> {
    interface_from(row.text(column)?, column)
}

pub fn opt_interface(row: &impl Columns, column: &str) -> StoreResult<Option<Interface>> {
    row.opt_text(column)?.map(|text| interface_from(text, column)).transpose()
}

pub fn audit_kind(row: &impl Columns, column: &str) -> StoreResult<AuditKind> {
    let text = row.text(column)?;
    AuditKind::parse(&text).ok_or_else(|| StoreError::Corrupt(format!("{column} {text:?} is not an audit kind")))
}

// Email and name are personal data: the messages name the column, not the value.

pub fn email(row: &impl Columns, column: &str) -> StoreResult<Email> {
    Email::parse(&row.text(column)?).map_err(|_| StoreError::Corrupt(format!("{column} is not an email")))
}

pub fn display_name(row: &impl Columns, column: &str) -> StoreResult<DisplayName> {
    DisplayName::parse(&row.text(column)?).map_err(|_| StoreError::Corrupt(format!("{column} is not a display name")))
}

pub fn count(row: &impl Columns, column: &str) -> StoreResult<u32> {
    let n = row.int(column)?;
    u32::try_from(n).map_err(|_| StoreError::Corrupt(format!("{column} {n} is out of range")))
}

/// A counter that is never negative (views, votes, comments, message sequence numbers).
pub fn count64(row: &impl Columns, column: &str) -> StoreResult<u64> {
    let n = row.int(column)?;
    u64::try_from(n).map_err(|_| StoreError::Corrupt(format!("{column} {n} is out of range")))
}

/// A category's position among its siblings (stored in a 64-bit integer column).
pub fn position(row: &impl Columns, column: &str) -> StoreResult<i32> {
    let n = row.int(column)?;
    i32::try_from(n).map_err(|_| StoreError::Corrupt(format!("{column} {n} is out of range")))
}

/// One text value through a domain `parse`; `what` names the type in the error.
fn parsed<T>(text: &str, column: &str, what: &str, parse: impl Fn(&str) -> Option<T>) -> StoreResult<T> {
    parse(text).ok_or_else(|| StoreError::Corrupt(format!("{column} {text:?} is not {what}")))
}

pub fn language(row: &impl Columns, column: &str) -> StoreResult<Language> {
    parsed(&row.text(column)?, column, "a language", |t| Language::parse(t).ok())
}

pub fn solution_type(row: &impl Columns, column: &str) -> StoreResult<SolutionType> {
    parsed(&row.text(column)?, column, "a solution type", |t| SolutionType::parse(t).ok())
}

pub fn consent_mode(row: &impl Columns, column: &str) -> StoreResult<ConsentMode> {
    parsed(&row.text(column)?, column, "a consent mode", |t| ConsentMode::parse(t).ok())
}

pub fn article_status(row: &impl Columns, column: &str) -> StoreResult<ArticleStatus> {
    parsed(&row.text(column)?, column, "an article status", ArticleStatus::parse)
}

pub fn comment_status(row: &impl Columns, column: &str) -> StoreResult<CommentStatus> {
    parsed(&row.text(column)?, column, "a comment status", CommentStatus::parse)
}

pub fn opt_comment_status(row: &impl Columns, column: &str) -> StoreResult<Option<CommentStatus>> {
    let Some(text) = row.opt_text(column)? else { return Ok(None) };
    parsed(&text, column, "a comment status", CommentStatus::parse).map(Some)
}

pub fn consent_choice(row: &impl Columns, column: &str) -> StoreResult<ConsentChoice> {
    parsed(&row.text(column)?, column, "a consent choice", ConsentChoice::parse)
}

pub fn conversation_status(row: &impl Columns, column: &str) -> StoreResult<ConversationStatus> {
    parsed(&row.text(column)?, column, "a conversation status", ConversationStatus::parse)
}

/// The inverse of [`crate::param::author_columns`]; an agent without a
/// person, or a person on another kind, is corrupt.
pub fn author(row: &impl Columns, kind_column: &str, id_column: &str) -> StoreResult<Author> {
    let kind = row.text(kind_column)?;
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

pub fn host_name(row: &impl Columns, column: &str) -> StoreResult<HostName> {
    parsed(&row.text(column)?, column, "a host name", |t| HostName::parse(t).ok())
}

/// A newline-joined list (see [`crate::param::join_lines`]); empty text is an empty list.
fn lines<T>(row: &impl Columns, column: &str, what: &str, parse: impl Fn(&str) -> Option<T>) -> StoreResult<Vec<T>> {
    let text = row.text(column)?;
    if text.is_empty() {
        return Ok(Vec::new());
    }
    text.split('\n').map(|line| parsed(line, column, what, &parse)).collect()
}

pub fn languages(row: &impl Columns, column: &str) -> StoreResult<Vec<Language>> {
    lines(row, column, "a language", |t| Language::parse(t).ok())
}

pub fn origins(row: &impl Columns, column: &str) -> StoreResult<Vec<Origin>> {
    lines(row, column, "an origin", |t| Origin::parse(t).ok())
}

/// A message's sequence number as returned by the `UPDATE … RETURNING
/// last_seq` that took it.
pub fn seq_from(n: i64) -> StoreResult<u64> {
    u64::try_from(n).map_err(|_| StoreError::Corrupt(format!("last_seq {n} is out of range")))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use tessera_store::StoreError;

    use super::*;

    /// A row of named values, for decoding without a database.
    #[derive(Default)]
    struct Row(HashMap<&'static str, Value>);

    enum Value {
        Int(Option<i64>),
        Text(Option<String>),
        Bytes(Option<Vec<u8>>),
    }

    impl Row {
        fn with(mut self, column: &'static str, value: Value) -> Self {
            self.0.insert(column, value);
            self
        }

        fn value(&self, column: &str) -> StoreResult<&Value> {
            self.0.get(column).ok_or_else(|| StoreError::Backend(format!("no column {column}").into()))
        }
    }

    fn mismatch<T>(column: &str) -> StoreResult<T> {
        Err(StoreError::Backend(format!("{column} has another type").into()))
    }

    impl Columns for Row {
        fn int(&self, column: &str) -> StoreResult<i64> {
            self.opt_int(column)?.ok_or_else(|| StoreError::Backend("NULL".into()))
        }
        fn opt_int(&self, column: &str) -> StoreResult<Option<i64>> {
            match self.value(column)? {
                Value::Int(n) => Ok(*n),
                _ => mismatch(column),
            }
        }
        fn text(&self, column: &str) -> StoreResult<String> {
            self.opt_text(column)?.ok_or_else(|| StoreError::Backend("NULL".into()))
        }
        fn opt_text(&self, column: &str) -> StoreResult<Option<String>> {
            match self.value(column)? {
                Value::Text(t) => Ok(t.clone()),
                _ => mismatch(column),
            }
        }
        fn bytes(&self, column: &str) -> StoreResult<Vec<u8>> {
            self.opt_bytes(column)?.ok_or_else(|| StoreError::Backend("NULL".into()))
        }
        fn opt_bytes(&self, column: &str) -> StoreResult<Option<Vec<u8>>> {
            match self.value(column)? {
                Value::Bytes(b) => Ok(b.clone()),
                _ => mismatch(column),
            }
        }
        fn flag(&self, column: &str) -> StoreResult<bool> {
            Ok(self.int(column)? != 0)
        }
    }

    fn text(t: &str) -> Value {
        Value::Text(Some(t.to_owned()))
    }

    fn corrupt<T: std::fmt::Debug>(result: StoreResult<T>) -> String {
        match result {
            Err(StoreError::Corrupt(message)) => message,
            other => panic!("expected Corrupt, got {other:?}"),
        }
    }

    #[test]
    fn values_that_do_not_parse_are_corrupt_and_name_the_column() {
        let row = Row::default()
            .with("site_id", Value::Int(Some(0)))
            .with("big", Value::Int(Some(i64::from(u32::MAX) + 1)))
            .with("hash", Value::Bytes(Some(vec![0; 31])))
            .with("selector", Value::Bytes(Some(vec![0; 17])))
            .with("role", text("root"))
            .with("email", text("ann at example"))
            .with("kind", text("agent"))
            .with("author_id", Value::Int(None))
            .with("position", Value::Int(Some(i64::from(i32::MAX) + 1)));
        assert_eq!(corrupt(site_id(&row, "site_id")), "site_id 0 is not a site ID");
        assert_eq!(corrupt(count(&row, "big")), "big 4294967296 is out of range");
        assert_eq!(corrupt(token_hash(&row, "hash")), "hash has 31 bytes, not 32");
        assert_eq!(corrupt(opt_selector(&row, "selector")), "selector has 17 bytes, not 16");
        assert_eq!(corrupt(role(&row, "role")), "role \"root\" is not a role");
        assert_eq!(corrupt(email(&row, "email")), "email is not an email", "personal data stays out of messages");
        assert_eq!(corrupt(author(&row, "kind", "author_id")), "kind \"agent\" with author_id NULL is not an author");
        assert_eq!(corrupt(position(&row, "position")), "position 2147483648 is out of range");
    }

    #[test]
    fn lists_are_newline_joined_and_empty_text_is_empty() {
        let joined = crate::param::join_lines(["en", "fr"]);
        let row = Row::default().with("some", text(&joined)).with("none", text("")).with("bad", text("en\n??"));
        let names =
            |r: StoreResult<Vec<Language>>| r.map(|l| l.iter().map(|l| l.as_str().to_owned()).collect::<Vec<_>>());
        assert_eq!(names(languages(&row, "some")).ok(), Some(vec!["en".to_owned(), "fr".to_owned()]));
        assert_eq!(names(languages(&row, "none")).ok(), Some(Vec::new()));
        assert_eq!(corrupt(languages(&row, "bad")), "bad \"??\" is not a language");
    }
}
