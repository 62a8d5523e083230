//! The two JWTs of the Messenger.
//!
//! - The **messaging token** is Tessera's own: it tells the Messenger frame's
//!   WebSocket which visitor (or verified user) it speaks for, on which site
//!   (`aud`). Short-lived and renewed while in use, so a copy is soon worthless.
//! - The **identity token** is the customer's: their backend signs `sub`,
//!   `email`, `name`, `exp` with the site's secret (HS256) to vouch for a
//!   logged-in user.
//!
//! Both are HS256 only (`alg: none` and every other algorithm are refused by
//! the fixed `Validation`). Expiry is checked against Tessera's injectable
//! clock, not the library's wall clock, so tests can move time.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};
use tessera_core::{SecretKey, SecretKey32, SiteId, Timestamp, VisitorId};

/// How long a messaging token lives; the frame renews it well before.
pub const MESSAGING_TOKEN_SECONDS: i64 = 15 * 60;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token is malformed or not signed with the expected key and algorithm")]
    Invalid,
    #[error("the token has expired")]
    Expired,
    #[error("the token is for another site")]
    WrongSite,
    #[error("the token lacks a subject")]
    NoSubject,
}

/// Whom a messaging token speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Speaker {
    Visitor(VisitorId),
    Verified { user: String, name: String, email: String },
}

#[derive(Serialize, Deserialize)]
struct MessagingClaims {
    /// "v:<visitor id>" or "u:<verified user>".
    sub: String,
    aud: String,
    exp: i64,
    iat: i64,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    email: String,
}

fn validation(audience: Option<&str>) -> Validation {
    let mut v = Validation::new(Algorithm::HS256);
    // Checked by hand against our clock (see the module docs).
    v.validate_exp = false;
    v.required_spec_claims.clear();
    match audience {
        Some(aud) => v.set_audience(&[aud]),
        None => v.validate_aud = false,
    }
    v
}

fn check_exp(exp: i64, now: Timestamp) -> Result<(), TokenError> {
    if exp <= now.unix() { Err(TokenError::Expired) } else { Ok(()) }
}

/// Issues and checks messaging tokens with a key derived from the server's.
#[derive(Debug, Clone)]
pub struct MessagingTokens {
    key: SecretKey32,
}

impl MessagingTokens {
    pub fn new(master: &SecretKey) -> Self {
        Self { key: master.derive("messaging-jwt") }
    }

    pub fn issue(&self, site: SiteId, speaker: &Speaker, now: Timestamp) -> String {
        let (sub, name, email) = match speaker {
            Speaker::Visitor(v) => (format!("v:{v}"), String::new(), String::new()),
            Speaker::Verified { user, name, email } => (format!("u:{user}"), name.clone(), email.clone()),
        };
        let claims = MessagingClaims {
            sub,
            aud: site.get().to_string(),
            exp: now.unix() + MESSAGING_TOKEN_SECONDS,
            iat: now.unix(),
            name,
            email,
        };
        // HS256 over serde-serialisable claims cannot fail.
        encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(self.key.expose_bytes()))
            .unwrap_or_default()
    }

    pub fn check(&self, token: &str, site: SiteId, now: Timestamp) -> Result<Speaker, TokenError> {
        let key = DecodingKey::from_secret(self.key.expose_bytes());
        let data =
            decode::<MessagingClaims>(token, &key, &validation(Some(&site.get().to_string()))).map_err(|e| match e
                .kind()
            {
                jsonwebtoken::errors::ErrorKind::InvalidAudience => TokenError::WrongSite,
                _ => TokenError::Invalid,
            })?;
        let c = data.claims;
        check_exp(c.exp, now)?;
        if let Some(id) = c.sub.strip_prefix("v:") {
            return id.parse().map(Speaker::Visitor).map_err(|_| TokenError::Invalid);
        }
        match c.sub.strip_prefix("u:") {
            Some(user) if !user.is_empty() => {
                Ok(Speaker::Verified { user: user.to_owned(), name: c.name, email: c.email })
            }
            _ => Err(TokenError::NoSubject),
        }
    }
}

/// A user the customer's backend vouched for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedUser {
    pub user: String,
    pub name: String,
    pub email: String,
}

#[derive(Deserialize)]
struct IdentityClaims {
    #[serde(default)]
    sub: String,
    exp: i64,
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
}

/// Checks a customer's identity token against the site's secret.
pub fn check_identity(token: &str, secret: &[u8], now: Timestamp) -> Result<VerifiedUser, TokenError> {
    let data = decode::<IdentityClaims>(token, &DecodingKey::from_secret(secret), &validation(None))
        .map_err(|_| TokenError::Invalid)?;
    let c = data.claims;
    check_exp(c.exp, now)?;
    let user = c.sub.trim();
    if user.is_empty() || user.len() > 200 {
        return Err(TokenError::NoSubject);
    }
    let clip = |s: String, n: usize| s.trim().chars().take(n).collect::<String>();
    Ok(VerifiedUser { user: user.to_owned(), name: clip(c.name, 100), email: clip(c.email, 254) })
}

#[cfg(test)]
mod tests {
    use base64::Engine;

    use super::*;

    fn site() -> SiteId {
        SiteId::DEFAULT
    }

    #[test]
    fn messaging_tokens_round_trip_and_expire_by_our_clock() {
        let tokens = MessagingTokens::new(&SecretKey::generate());
        let now = Timestamp::from_unix(1_000_000);
        let t = tokens.issue(site(), &Speaker::Visitor(VisitorId::new(7)), now);
        assert_eq!(tokens.check(&t, site(), now), Ok(Speaker::Visitor(VisitorId::new(7))));
        assert_eq!(tokens.check(&t, site(), now.plus(MESSAGING_TOKEN_SECONDS)), Err(TokenError::Expired));
        let other = SiteId::new(2002).unwrap_or(SiteId::DEFAULT);
        assert_eq!(tokens.check(&t, other, now), Err(TokenError::WrongSite));
        let stranger = MessagingTokens::new(&SecretKey::generate());
        assert_eq!(stranger.check(&t, site(), now), Err(TokenError::Invalid));
    }

    fn b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }

    fn identity(secret: &[u8], claims: serde_json::Value) -> String {
        encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(secret)).unwrap_or_default()
    }

    #[test]
    fn identity_tokens_need_the_sites_secret_hs256_a_subject_and_a_future_expiry() {
        let secret = b"the site's secret, 32 bytes long!";
        let now = Timestamp::from_unix(1_000_000);
        let good = identity(
            secret,
            serde_json::json!({"sub": "u-42", "name": "Ann", "email": "ann@example.com", "exp": 1_000_100}),
        );
        let user = check_identity(&good, secret, now);
        assert_eq!(user.map(|u| (u.user, u.name)), Ok(("u-42".into(), "Ann".into())));
        assert_eq!(check_identity(&good, b"another secret", now), Err(TokenError::Invalid));
        assert_eq!(check_identity(&good, secret, now.plus(100)), Err(TokenError::Expired));
        let no_sub = identity(secret, serde_json::json!({"exp": 1_000_100}));
        assert_eq!(check_identity(&no_sub, secret, now), Err(TokenError::NoSubject));
        let no_exp = identity(secret, serde_json::json!({"sub": "u-42"}));
        assert_eq!(check_identity(&no_exp, secret, now), Err(TokenError::Invalid));
        // alg=none: header and claims, no signature.
        let none = format!("{}.{}.", b64(br#"{"alg":"none","typ":"JWT"}"#), b64(br#"{"sub":"u-42","exp":1000100}"#));
        assert_eq!(check_identity(&none, secret, now), Err(TokenError::Invalid));
        let hs512 = encode(
            &Header::new(Algorithm::HS512),
            &serde_json::json!({"sub": "u-42", "exp": 1_000_100}),
            &EncodingKey::from_secret(secret),
        )
        .unwrap_or_default();
        assert_eq!(check_identity(&hs512, secret, now), Err(TokenError::Invalid));
    }
}
