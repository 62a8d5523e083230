//! Rows into records. Each function reads the columns its backend's `SELECT`
//! names (the schema's names, the same in both backends); a record with
//! parts kept in other tables (a site's hosts, a category's names, an
//! article's translations) is put together from the rows of both queries.

use std::collections::HashMap;

use tessera_core::{ArticleId, CategoryId, HostName, SiteId, TokenHash};
use tessera_store::{
    Activity, ActivityKind, Actor, Article, AuditEntry, AuditEvent, Category, CategoryName, ChatMessage, ChatOwner,
    Comment, ConsentRecord, Conversation, MonitorSession, MonitoringSettings, PageEvent, Person, RememberRecord,
    SearchHit, SessionRecord, Site, SiteSettings, StoreError, StoreResult, ThrottleRecord, Translation, Visitor,
    VoteTotals,
};

use crate::Columns;
use crate::value::{
    article_id, article_status, audit_kind, author, category_id, comment_id, comment_status, consent_choice,
    consent_mode, conversation_id, conversation_status, count, count64, display_name, email, host_name, interface,
    language, languages, message_id, monitor_session_id, opt_category_id, opt_comment_status, opt_interface,
    opt_monitor_session_id, opt_person_id, opt_selector, opt_site_id, opt_timestamp, opt_token_hash, opt_visitor_id,
    origins, person_id, position, role, selector, site_id, solution_type, timestamp, token_hash, visitor_id,
};

// The foundation.

/// A `sites` row; `hosts` are left empty for [`attach_hosts`].
pub fn site(row: &impl Columns) -> StoreResult<Site> {
    Ok(Site {
        id: site_id(row, "id")?,
        settings: SiteSettings {
            name: row.text("name")?,
            hosts: Vec::new(),
            languages: languages(row, "languages")?,
            default_language: language(row, "default_language")?,
            embed_origins: origins(row, "embed_origins")?,
            solution_type: solution_type(row, "solution_type")?,
            consent_mode: consent_mode(row, "consent_mode")?,
            registration_open: row.flag("registration_open")?,
            monitoring: MonitoringSettings {
                idle_minutes: count(row, "monitor_idle_minutes")?,
                retention_days: count(row, "monitor_retention_days")?,
                cookieless_counting: row.flag("cookieless_counting")?,
                full_ip: row.flag("full_ip")?,
            },
        },
        created_at: timestamp(row, "created_at")?,
        updated_at: timestamp(row, "updated_at")?,
    })
}

/// Gives each site its hosts from `site_hosts` rows (`host`, `site_id`), in
/// the rows' order; rows of other sites are ignored.
pub fn attach_hosts(sites: &mut [Site], host_rows: &[impl Columns]) -> StoreResult<()> {
    let mut hosts: HashMap<SiteId, Vec<HostName>> = HashMap::new();
    for row in host_rows {
        hosts.entry(site_id(row, "site_id")?).or_default().push(host_name(row, "host")?);
    }
    for site in sites {
        site.settings.hosts = hosts.remove(&site.id).unwrap_or_default();
    }
    Ok(())
}

pub fn person(row: &impl Columns) -> StoreResult<Person> {
    Ok(Person {
        id: person_id(row, "id")?,
        site_id: site_id(row, "site_id")?,
        email: email(row, "email")?,
        name: display_name(row, "name")?,
        role: role(row, "role")?,
        password_hash: row.text("password_hash")?,
        disabled: row.flag("disabled")?,
        created_at: timestamp(row, "created_at")?,
        updated_at: timestamp(row, "updated_at")?,
    })
}

pub fn session(row: &impl Columns) -> StoreResult<SessionRecord> {
    Ok(SessionRecord {
        id_hash: token_hash(row, "id_hash")?,
        person_id: person_id(row, "person_id")?,
        site_id: site_id(row, "site_id")?,
        interface: interface(row, "interface")?,
        created_at: timestamp(row, "created_at")?,
        last_seen_at: timestamp(row, "last_seen_at")?,
        expires_at: timestamp(row, "expires_at")?,
        restored: row.flag("restored")?,
        remember: opt_selector(row, "remember_selector")?,
        ip: row.opt_text("ip")?,
        user_agent: row.opt_text("user_agent")?,
    })
}

/// The `id_hash` of each row, for the sessions a `DELETE … RETURNING id_hash` removed.
pub fn session_hashes(rows: &[impl Columns]) -> StoreResult<Vec<TokenHash>> {
    rows.iter().map(|row| token_hash(row, "id_hash")).collect()
}

/// A remember-me series.
pub fn remember(row: &impl Columns) -> StoreResult<RememberRecord> {
    Ok(RememberRecord {
        selector: selector(row, "selector")?,
        person_id: person_id(row, "person_id")?,
        site_id: site_id(row, "site_id")?,
        interface: interface(row, "interface")?,
        validator_hash: token_hash(row, "validator_hash")?,
        previous_hash: opt_token_hash(row, "previous_hash")?,
        rotated_at: timestamp(row, "rotated_at")?,
        created_at: timestamp(row, "created_at")?,
        expires_at: timestamp(row, "expires_at")?,
        ip: row.opt_text("ip")?,
        user_agent: row.opt_text("user_agent")?,
    })
}

pub fn throttle(row: &impl Columns) -> StoreResult<ThrottleRecord> {
    Ok(ThrottleRecord {
        key: row.text("key")?,
        failures: count(row, "failures")?,
        last_failure_at: timestamp(row, "last_failure_at")?,
    })
}

pub fn audit_entry(row: &impl Columns) -> StoreResult<AuditEntry> {
    Ok(AuditEntry {
        id: row.int("id")?,
        event: AuditEvent {
            at: timestamp(row, "at")?,
            kind: audit_kind(row, "kind")?,
            site_id: opt_site_id(row, "site_id")?,
            person_id: opt_person_id(row, "person_id")?,
            actor_id: opt_person_id(row, "actor_id")?,
            interface: opt_interface(row, "interface")?,
            ip: row.opt_text("ip")?,
            detail: row.text("detail")?,
        },
    })
}

// The Help Center.

/// The categories of `rows` (`id`, `site_id`, `parent_id`, `position`), in
/// their order, each with its names from `name_rows` (`category_id`,
/// `language`, `name`, `description`) in theirs.
pub fn categories(rows: &[impl Columns], name_rows: &[impl Columns]) -> StoreResult<Vec<Category>> {
    let mut names: HashMap<CategoryId, Vec<CategoryName>> = HashMap::new();
    for row in name_rows {
        let name = CategoryName {
            language: language(row, "language")?,
            name: row.text("name")?,
            description: row.text("description")?,
        };
        names.entry(category_id(row, "category_id")?).or_default().push(name);
    }
    rows.iter()
        .map(|row| {
            let id = category_id(row, "id")?;
            Ok(Category {
                id,
                site_id: site_id(row, "site_id")?,
                parent_id: opt_category_id(row, "parent_id")?,
                position: position(row, "position")?,
                names: names.remove(&id).unwrap_or_default(),
            })
        })
        .collect()
}

/// An `articles` row; `translations` are left empty (see [`articles`]).
pub fn article(row: &impl Columns) -> StoreResult<Article> {
    Ok(Article {
        id: article_id(row, "id")?,
        site_id: site_id(row, "site_id")?,
        category_id: category_id(row, "category_id")?,
        author_id: person_id(row, "author_id")?,
        author_name: row.text("author_name")?,
        status: article_status(row, "status")?,
        created_at: timestamp(row, "created_at")?,
        updated_at: timestamp(row, "updated_at")?,
        published_at: opt_timestamp(row, "published_at")?,
        views: count64(row, "views")?,
        translations: Vec::new(),
    })
}

pub fn translation(row: &impl Columns) -> StoreResult<Translation> {
    Ok(Translation {
        language: language(row, "language")?,
        title: row.text("title")?,
        body_markdown: row.text("body_markdown")?,
        body_html: row.text("body_html")?,
        updated_at: timestamp(row, "updated_at")?,
    })
}

/// The articles of `rows`, in their order, each with its translations from
/// `translation_rows` (which also name their `article_id`) in theirs.
pub fn articles(rows: &[impl Columns], translation_rows: &[impl Columns]) -> StoreResult<Vec<Article>> {
    let mut translations: HashMap<ArticleId, Vec<Translation>> = HashMap::new();
    for row in translation_rows {
        translations.entry(article_id(row, "article_id")?).or_default().push(translation(row)?);
    }
    rows.iter()
        .map(|row| {
            let mut article = article(row)?;
            article.translations = translations.remove(&article.id).unwrap_or_default();
            Ok(article)
        })
        .collect()
}

/// A search result: `article_id` and `title` from the row, the snippet as
/// the backend made it.
pub fn search_hit(row: &impl Columns, snippet: String) -> StoreResult<SearchHit> {
    Ok(SearchHit { article_id: article_id(row, "article_id")?, title: row.text("title")?, snippet })
}

/// An article's `helpful` and `not_helpful` vote counts.
pub fn vote_totals(row: &impl Columns) -> StoreResult<VoteTotals> {
    Ok(VoteTotals { helpful: count64(row, "helpful")?, not_helpful: count64(row, "not_helpful")? })
}

pub fn comment(row: &impl Columns) -> StoreResult<Comment> {
    Ok(Comment {
        id: comment_id(row, "id")?,
        site_id: site_id(row, "site_id")?,
        article_id: article_id(row, "article_id")?,
        author: Actor { visitor: opt_visitor_id(row, "visitor_id")?, person: opt_person_id(row, "person_id")? },
        author_name: row.text("author_name")?,
        body: row.text("body")?,
        status: comment_status(row, "status")?,
        created_at: timestamp(row, "created_at")?,
        moderated_at: opt_timestamp(row, "moderated_at")?,
        moderated_by: opt_person_id(row, "moderated_by")?,
    })
}

pub fn visitor(row: &impl Columns) -> StoreResult<Visitor> {
    Ok(Visitor {
        id: visitor_id(row, "id")?,
        site_id: site_id(row, "site_id")?,
        person_id: opt_person_id(row, "person_id")?,
        persistent: row.flag("persistent")?,
        created_at: timestamp(row, "created_at")?,
        last_seen_at: timestamp(row, "last_seen_at")?,
    })
}

/// One line of the activity UNION: `kind` 0 is a page view (`path`,
/// `title`), 1 a vote (`article_id`, `helpful`), 2 a comment (`article_id`,
/// `id`, `status`, `body`).
pub fn activity(row: &impl Columns) -> StoreResult<Activity> {
    let kind = match row.int("kind")? {
        0 => ActivityKind::PageView { path: row.text("path")?, title: row.text("title")? },
        1 => ActivityKind::Vote { article_id: article_id(row, "article_id")?, helpful: row.flag("helpful")? },
        2 => ActivityKind::Comment {
            article_id: article_id(row, "article_id")?,
            comment_id: comment_id(row, "id")?,
            status: opt_comment_status(row, "status")?
                .ok_or_else(|| StoreError::Corrupt("comment activity without a status".to_owned()))?,
            body: row.text("body")?,
        },
        n => return Err(StoreError::Corrupt(format!("activity kind {n}"))),
    };
    Ok(Activity {
        at: timestamp(row, "at")?,
        visitor_id: opt_visitor_id(row, "visitor_id")?,
        person_id: opt_person_id(row, "person_id")?,
        kind,
    })
}

pub fn consent(row: &impl Columns) -> StoreResult<ConsentRecord> {
    Ok(ConsentRecord {
        token_hash: token_hash(row, "token_hash")?,
        site_id: site_id(row, "site_id")?,
        choice: consent_choice(row, "choice")?,
        visitor_id: opt_visitor_id(row, "visitor_id")?,
        decided_at: timestamp(row, "decided_at")?,
    })
}

// The Messenger.

pub fn conversation(row: &impl Columns) -> StoreResult<Conversation> {
    Ok(Conversation {
        id: conversation_id(row, "id")?,
        site_id: site_id(row, "site_id")?,
        owner: ChatOwner { visitor: opt_visitor_id(row, "visitor_id")?, verified_user: row.opt_text("verified_user")? },
        visitor_name: row.text("visitor_name")?,
        visitor_email: row.text("visitor_email")?,
        status: conversation_status(row, "status")?,
        agent_id: opt_person_id(row, "agent_id")?,
        last_seq: count64(row, "last_seq")?,
        created_at: timestamp(row, "created_at")?,
        updated_at: timestamp(row, "updated_at")?,
    })
}

pub fn message(row: &impl Columns) -> StoreResult<ChatMessage> {
    Ok(ChatMessage {
        id: message_id(row, "id")?,
        conversation_id: conversation_id(row, "conversation_id")?,
        seq: count64(row, "seq")?,
        author: author(row, "author_kind", "author_id")?,
        body: row.text("body")?,
        client_key: row.opt_text("client_key")?,
        created_at: timestamp(row, "created_at")?,
    })
}

// Visitor monitoring.

/// A visit (`monitor_sessions`).
pub fn monitor_session(row: &impl Columns) -> StoreResult<MonitorSession> {
    Ok(MonitorSession {
        id: monitor_session_id(row, "id")?,
        site_id: site_id(row, "site_id")?,
        visitor_id: visitor_id(row, "visitor_id")?,
        started_at: timestamp(row, "started_at")?,
        last_seen_at: timestamp(row, "last_seen_at")?,
        previous_visit_at: opt_timestamp(row, "previous_visit_at")?,
        visit_number: count(row, "visit_number")?,
        current_url: row.text("current_url")?,
        current_title: row.text("current_title")?,
    })
}

pub fn page_event(row: &impl Columns) -> StoreResult<PageEvent> {
    Ok(PageEvent {
        site_id: site_id(row, "site_id")?,
        visitor_id: opt_visitor_id(row, "visitor_id")?,
        session_id: opt_monitor_session_id(row, "session_id")?,
        tab: row.opt_text("tab")?,
        url: row.text("url")?,
        title: row.text("title")?,
        referrer: row.text("referrer")?,
        ip: row.opt_text("ip")?,
        at: timestamp(row, "at")?,
    })
}
