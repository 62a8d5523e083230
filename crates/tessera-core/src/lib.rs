//! Tessera's domain vocabulary: identifiers, tokens, secrets and time.
//!
//! Everything here is plain data with its invariants in the type: a value that
//! exists has been parsed and checked. Nothing here knows about HTTP, SQL or
//! Redis, so every other crate can depend on it.

mod clock;
mod ids;
mod secret;
mod site;
mod token;

pub use clock::{Clock, ManualClock, SystemClock, Timestamp};
pub use ids::{
    ArticleId, CategoryId, CommentId, ConversationId, DisplayName, Email, Interface, Language, MessageId,
    MonitorSessionId, ParseError, PersonId, Role, SiteId, VisitorId,
};
pub use secret::{Password, SecretKey, SecretKey32};
pub use site::{ConsentMode, HostName, Origin, SolutionType};
pub use token::{
    ConsentToken, MonitorToken, RememberToken, Selector, SessionToken, TokenHash, Validator, VisitorToken, random_bytes,
};
