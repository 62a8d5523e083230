//! Identifiers and small values that arrive from outside: each has a `parse`
//! that is the only way to build it from untrusted text.

use std::fmt;
use std::str::FromStr;

/// Why a value from outside was refused. Messages are safe to show a user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("site ID must be a number from 1 to 999999999")]
    SiteId,
    #[error("not a valid email address")]
    Email,
    #[error("unknown role (expected user, agent or admin)")]
    Role,
    #[error("unknown interface (expected portal, agent or admin)")]
    Interface,
    #[error("name must be 1 to 100 printable characters")]
    DisplayName,
    #[error("not a language tag like en or pt-BR")]
    Language,
    #[error("malformed token")]
    Token,
    #[error("not a valid ID")]
    Id,
    #[error("not a host name like help.example.com")]
    HostName,
    #[error("not an origin like https://www.example.com")]
    Origin,
    #[error("unknown consent mode (expected opt_in, opt_out or none)")]
    ConsentMode,
    #[error("unknown cookie solution type")]
    SolutionType,
}

/// A tenant's public number, like an account number (the default site is 1001).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct SiteId(u32);

impl SiteId {
    pub const DEFAULT: SiteId = SiteId(1001);
    const MAX: u32 = 999_999_999;

    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let text = text.trim();
        if text.is_empty() || text.len() > 9 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ParseError::SiteId);
        }
        let n: u32 = text.parse().map_err(|_| ParseError::SiteId)?;
        Self::new(n)
    }
    pub fn new(n: u32) -> Result<Self, ParseError> {
        if n == 0 || n > Self::MAX {
            return Err(ParseError::SiteId);
        }
        Ok(Self(n))
    }
    pub const fn get(self) -> u32 {
        self.0
    }
}

impl fmt::Display for SiteId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl FromStr for SiteId {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Internal row IDs: numbers the store hands out. They may appear in the
/// staff interfaces' URLs, never in a cookie.
macro_rules! row_id {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
        pub struct $name(i64);

        impl $name {
            pub const fn new(id: i64) -> Self {
                Self(id)
            }
            pub const fn get(self) -> i64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }

        impl FromStr for $name {
            type Err = ParseError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse::<i64>().ok().filter(|n| *n > 0).map(Self).ok_or(ParseError::Id)
            }
        }
    )*};
}

row_id!(
    /// A person (user, agent or admin).
    PersonId,
    /// A browser known to a site, with or without a person behind it.
    VisitorId,
    CategoryId,
    ArticleId,
    CommentId,
    /// A Messenger conversation between a visitor and a site's agents.
    ConversationId,
    MessageId,
    /// One visit of a visitor to a site with the tag (a monitoring session).
    MonitorSessionId,
);

/// An email address, trimmed and lower-cased so that lookups are exact.
///
/// Deliberately modest validation: one `@`, a non-empty local part, a domain
/// with a dot, no whitespace or control characters, at most 254 bytes.
#[derive(Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Email(String);

impl Email {
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let text = text.trim();
        let (local, domain) = text.split_once('@').ok_or(ParseError::Email)?;
        let ok = text.len() <= 254
            && !local.is_empty()
            && local.len() <= 64
            && !domain.contains('@')
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !text.chars().any(|c| c.is_whitespace() || c.is_control());
        if !ok {
            return Err(ParseError::Email);
        }
        Ok(Self(text.to_lowercase()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Email {
    // Personal data: keep it out of logs that print records with `{:?}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Email(..)")
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A person's name as shown in the interfaces.
#[derive(Clone, PartialEq, Eq, serde::Serialize)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let text = text.trim();
        let len = text.chars().count();
        if len == 0 || len > 100 || text.chars().any(char::is_control) {
            return Err(ParseError::DisplayName);
        }
        Ok(Self(text.to_owned()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for DisplayName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DisplayName(..)")
    }
}

impl fmt::Display for DisplayName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a person may do on their site. Higher roles include the lower ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Agent,
    Admin,
}

impl Role {
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        match text.trim() {
            "user" => Ok(Self::User),
            "agent" => Ok(Self::Agent),
            "admin" => Ok(Self::Admin),
            _ => Err(ParseError::Role),
        }
    }
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Agent => "agent",
            Self::Admin => "admin",
        }
    }
    /// Whether this role may log into `interface`.
    pub fn may_use(self, interface: Interface) -> bool {
        self >= interface.minimum_role()
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// The three interfaces. Each has its own session: logging into one never logs into another.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Interface {
    Portal,
    Agent,
    Admin,
}

impl Interface {
    pub const ALL: [Interface; 3] = [Self::Portal, Self::Agent, Self::Admin];

    pub fn parse(text: &str) -> Result<Self, ParseError> {
        match text {
            "portal" => Ok(Self::Portal),
            "agent" => Ok(Self::Agent),
            "admin" => Ok(Self::Admin),
            _ => Err(ParseError::Interface),
        }
    }
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Portal => "portal",
            Self::Agent => "agent",
            Self::Admin => "admin",
        }
    }
    pub const fn minimum_role(self) -> Role {
        match self {
            Self::Portal => Role::User,
            Self::Agent => Role::Agent,
            Self::Admin => Role::Admin,
        }
    }
    /// Admins get no remember-me: their sessions are short on purpose.
    pub const fn allows_remember_me(self) -> bool {
        !matches!(self, Self::Admin)
    }
}

impl fmt::Display for Interface {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A BCP 47 language tag, kept to the simple `ll` / `ll-RR` forms Tessera ships.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Language(String);

impl Language {
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let text = text.trim();
        let (lang, region) = match text.split_once(['-', '_']) {
            Some((l, r)) => (l, Some(r)),
            None => (text, None),
        };
        let lang_ok = (2..=3).contains(&lang.len()) && lang.bytes().all(|b| b.is_ascii_alphabetic());
        let region_ok = region.is_none_or(|r| {
            r.len() == 2 && r.bytes().all(|b| b.is_ascii_alphabetic())
                || r.len() == 3 && r.bytes().all(|b| b.is_ascii_digit())
        });
        if !lang_ok || !region_ok {
            return Err(ParseError::Language);
        }
        let mut tag = lang.to_ascii_lowercase();
        if let Some(r) = region {
            tag.push('-');
            tag.push_str(&r.to_ascii_uppercase());
        }
        Ok(Self(tag))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The primary language subtag (`pt` for `pt-BR`).
    pub fn primary(&self) -> &str {
        self.0.split('-').next().unwrap_or(&self.0)
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn site_id_accepts_only_positive_numbers_up_to_nine_digits() {
        assert_eq!(SiteId::parse(" 1001 ").map(SiteId::get), Ok(1001));
        for bad in ["", "0", "-1", "1e3", "1234567890", "１２", "12a"] {
            assert_eq!(SiteId::parse(bad), Err(ParseError::SiteId), "{bad:?}");
        }
    }

    #[test]
    fn email_is_normalised_and_obviously_broken_addresses_are_refused() {
        assert_eq!(Email::parse(" Ann@Example.COM ").map(|e| e.0), Ok("ann@example.com".into()));
        for bad in ["", "ann", "@example.com", "ann@", "ann@example", "a b@example.com", "a@b@c.com", "ann@.com"] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn email_and_name_stay_out_of_debug_output() {
        let e = Email::parse("ann@example.com").map(|e| format!("{e:?}"));
        assert_eq!(e, Ok("Email(..)".into()));
        let n = DisplayName::parse("Ann").map(|n| format!("{n:?}"));
        assert_eq!(n, Ok("DisplayName(..)".into()));
    }

    #[test]
    fn roles_include_lower_interfaces_only() {
        assert!(Role::Admin.may_use(Interface::Agent));
        assert!(Role::Agent.may_use(Interface::Portal));
        assert!(!Role::User.may_use(Interface::Agent));
        assert!(!Role::Agent.may_use(Interface::Admin));
    }

    #[test]
    fn language_tags_are_canonicalised() {
        assert_eq!(Language::parse("pt_br").map(|l| l.0), Ok("pt-BR".into()));
        assert_eq!(Language::parse("FR").map(|l| l.0), Ok("fr".into()));
        assert_eq!(Language::parse("es-419").map(|l| l.0), Ok("es-419".into()));
        for bad in ["", "e", "english", "en-", "en-b", "../x"] {
            assert!(Language::parse(bad).is_err(), "{bad:?}");
        }
    }
}
