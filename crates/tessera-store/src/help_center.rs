//! Records of the Help Center: site settings, the knowledge base, votes and
//! comments, visitors, consent and page views.

use tessera_core::{
    ArticleId, CategoryId, CommentId, ConsentMode, HostName, Language, Origin, PersonId, SiteId, SolutionType,
    Timestamp, TokenHash, VisitorId,
};

/// What an admin can change about a site.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SiteSettings {
    pub name: String,
    /// Host names the Help Center answers on; each belongs to one site at most.
    pub hosts: Vec<HostName>,
    /// Offered languages, in the order the picker shows them; holds `default_language`.
    pub languages: Vec<Language>,
    pub default_language: Language,
    /// Origins allowed to embed the tag and the Messenger.
    pub embed_origins: Vec<Origin>,
    pub solution_type: SolutionType,
    pub consent_mode: ConsentMode,
    /// Whether visitors may create their own Help Center accounts.
    pub registration_open: bool,
    pub monitoring: crate::MonitoringSettings,
}

impl SiteSettings {
    /// A new site: English only, opt-in consent, registration open.
    pub fn named(name: &str) -> Self {
        let english = Language::parse("en").unwrap_or_else(|_| unreachable!("\"en\" is a valid tag"));
        Self {
            name: name.to_owned(),
            hosts: Vec::new(),
            languages: vec![english.clone()],
            default_language: english,
            embed_origins: Vec::new(),
            solution_type: SolutionType::default(),
            consent_mode: ConsentMode::default(),
            registration_open: true,
            monitoring: crate::MonitoringSettings::default(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Site {
    pub id: SiteId,
    pub settings: SiteSettings,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Site {
    pub fn name(&self) -> &str {
        &self.settings.name
    }
}

/// A category's name in one language.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CategoryName {
    pub language: Language,
    pub name: String,
    pub description: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Category {
    pub id: CategoryId,
    pub site_id: SiteId,
    pub parent_id: Option<CategoryId>,
    /// Order among siblings, smallest first.
    pub position: i32,
    pub names: Vec<CategoryName>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ArticleStatus {
    Draft,
    Published,
}

impl ArticleStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Published => "published",
        }
    }
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Draft, Self::Published].into_iter().find(|s| s.as_str() == text)
    }
}

/// An article's text in one language. The HTML is rendered and sanitised when
/// saved, so serving it costs nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Translation {
    pub language: Language,
    pub title: String,
    pub body_markdown: String,
    pub body_html: String,
    pub updated_at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Article {
    pub id: ArticleId,
    pub site_id: SiteId,
    pub category_id: CategoryId,
    pub author_id: PersonId,
    /// The author's display name at read time.
    pub author_name: String,
    pub status: ArticleStatus,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// First publication; kept when unpublished and published again.
    pub published_at: Option<Timestamp>,
    pub views: u64,
    pub translations: Vec<Translation>,
}

impl Article {
    pub fn translation(&self, language: &Language) -> Option<&Translation> {
        self.translations.iter().find(|t| &t.language == language)
    }
}

/// One full-text search result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchHit {
    pub article_id: ArticleId,
    pub title: String,
    /// Plain text around the match; matched terms are wrapped in
    /// [`SearchHit::MARK_START`] / [`SearchHit::MARK_END`], which the web
    /// layer turns into `<mark>` after escaping.
    pub snippet: String,
}

impl SearchHit {
    pub const MARK_START: char = '\u{E000}';
    pub const MARK_END: char = '\u{E001}';
}

/// Who did something in the Help Center: a browser, a person, or both.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Actor {
    pub visitor: Option<VisitorId>,
    pub person: Option<PersonId>,
}

impl Actor {
    pub fn is_anonymous(&self) -> bool {
        self.visitor.is_none() && self.person.is_none()
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct VoteTotals {
    pub helpful: u64,
    pub not_helpful: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CommentStatus {
    Pending,
    Approved,
    Rejected,
}

impl CommentStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
        }
    }
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Pending, Self::Approved, Self::Rejected].into_iter().find(|s| s.as_str() == text)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewComment {
    pub site_id: SiteId,
    pub article_id: ArticleId,
    pub author: Actor,
    pub author_name: String,
    pub body: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comment {
    pub id: CommentId,
    pub site_id: SiteId,
    pub article_id: ArticleId,
    pub author: Actor,
    pub author_name: String,
    pub body: String,
    pub status: CommentStatus,
    pub created_at: Timestamp,
    pub moderated_at: Option<Timestamp>,
    pub moderated_by: Option<PersonId>,
}

/// A browser known to a site. Its token is either persistent (the optional
/// visitor cookie, with consent) or lives for one browser session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Visitor {
    pub id: VisitorId,
    pub site_id: SiteId,
    /// The person who logged in from this browser, once one has.
    pub person_id: Option<PersonId>,
    pub persistent: bool,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ConsentChoice {
    Accepted,
    Rejected,
}

impl ConsentChoice {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::Rejected => "rejected",
        }
    }
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Accepted, Self::Rejected].into_iter().find(|c| c.as_str() == text)
    }
}

/// A consent decision, kept as evidence of what the visitor chose and when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsentRecord {
    /// Hash of the consent cookie's token.
    pub token_hash: TokenHash,
    pub site_id: SiteId,
    pub choice: ConsentChoice,
    /// The visitor the choice created or withdrew, if any.
    pub visitor_id: Option<VisitorId>,
    pub decided_at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageView {
    pub site_id: SiteId,
    pub visitor_id: VisitorId,
    pub person_id: Option<PersonId>,
    pub path: String,
    pub title: String,
    pub article_id: Option<ArticleId>,
    pub at: Timestamp,
}

/// One line of a visitor's trail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ActivityKind {
    PageView { path: String, title: String },
    Vote { article_id: ArticleId, helpful: bool },
    Comment { article_id: ArticleId, comment_id: CommentId, status: CommentStatus, body: String },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Activity {
    pub at: Timestamp,
    pub visitor_id: Option<VisitorId>,
    pub person_id: Option<PersonId>,
    pub kind: ActivityKind,
}
