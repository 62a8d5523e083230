//! Opaque random tokens: session, visitor and consent IDs, and split remember-me tokens.
//!
//! Tokens are 128+ bits from the OS CSPRNG, encoded base64url without
//! padding. The store only ever sees their SHA-256 ([`TokenHash`]), so a
//! leaked database holds nothing a browser could present.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::ParseError;

/// Fills `buf` from the OS CSPRNG. Without OS randomness there is no safe way on.
pub(crate) fn fill_random(buf: &mut [u8]) {
    getrandom::fill(buf).expect("the OS random number generator is unavailable");
}

/// `N` bytes from the OS CSPRNG.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    fill_random(&mut buf);
    buf
}

/// Decodes exactly `N` bytes of unpadded base64url, refusing anything else.
fn decode_exact<const N: usize>(text: &[u8]) -> Option<[u8; N]> {
    if text.len() != base64::encoded_len(N, false)? {
        return None;
    }
    let mut out = [0u8; N];
    // The output buffer is exactly N bytes; decode_slice checks the length fits.
    let n = URL_SAFE_NO_PAD.decode_slice(text, &mut out).ok()?;
    (n == N).then_some(out)
}

/// SHA-256 of a token: what the store keys sessions and validators by.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenHash([u8; 32]);

impl TokenHash {
    pub fn of(bytes: &[u8]) -> Self {
        Self(Sha256::digest(bytes).into())
    }
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        Some(Self(bytes.try_into().ok()?))
    }
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
    /// Constant-time equality, for comparing a presented secret against a stored hash.
    pub fn ct_eq(&self, other: &TokenHash) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Enough to correlate log lines, not enough to matter.
        write!(f, "TokenHash({:02x}{:02x}{:02x}{:02x}..)", self.0[0], self.0[1], self.0[2], self.0[3])
    }
}

/// A 256-bit opaque token as it travels in a cookie, stored only as its hash.
macro_rules! opaque_token {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq)]
        pub struct $name([u8; 32]);

        impl $name {
            pub fn generate() -> Self {
                Self(random_bytes())
            }
            /// Parses a cookie value; anything but exactly 43 base64url characters is refused.
            pub fn parse(text: &[u8]) -> Result<Self, ParseError> {
                decode_exact(text).map(Self).ok_or(ParseError::Token)
            }
            pub fn encode(&self) -> String {
                URL_SAFE_NO_PAD.encode(self.0)
            }
            pub fn hash(&self) -> TokenHash {
                TokenHash::of(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "(<redacted>)"))
            }
        }
    };
}

opaque_token!(
    /// A session ID as it travels in the session cookie.
    SessionToken
);
opaque_token!(
    /// Names a visitor (a browser, not a person) in the visitor cookies.
    VisitorToken
);
opaque_token!(
    /// Names a monitoring session (one visit) in the tag's session cookies.
    MonitorToken
);
opaque_token!(
    /// Names a recorded consent choice in the consent cookie, so the cookie
    /// itself holds nothing but a random value.
    ConsentToken
);

/// The public half of a remember-me token: names the series, stored in clear.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Selector([u8; 16]);

impl Selector {
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        Some(Self(bytes.try_into().ok()?))
    }
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

impl fmt::Debug for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Selector({:02x}{:02x}..)", self.0[0], self.0[1])
    }
}

/// The secret half of a remember-me token; only its SHA-256 is stored.
#[derive(Clone, PartialEq, Eq)]
pub struct Validator([u8; 32]);

impl Validator {
    pub fn generate() -> Self {
        Self(random_bytes())
    }
    pub fn hash(&self) -> TokenHash {
        TokenHash::of(&self.0)
    }
}

impl fmt::Debug for Validator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Validator(<redacted>)")
    }
}

/// A remember-me cookie value: `selector:validator`, 128-bit selector, 256-bit validator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RememberToken {
    pub selector: Selector,
    pub validator: Validator,
}

impl RememberToken {
    /// A token for a brand-new series.
    pub fn generate() -> Self {
        Self { selector: Selector(random_bytes()), validator: Validator::generate() }
    }
    /// The next token of the same series: same selector, fresh validator.
    pub fn rotated(selector: Selector) -> Self {
        Self { selector, validator: Validator::generate() }
    }
    pub fn parse(text: &[u8]) -> Result<Self, ParseError> {
        let colon = text.iter().position(|b| *b == b':').ok_or(ParseError::Token)?;
        let selector = decode_exact(&text[..colon]).ok_or(ParseError::Token)?;
        let validator = decode_exact(&text[colon + 1..]).ok_or(ParseError::Token)?;
        Ok(Self { selector: Selector(selector), validator: Validator(validator) })
    }
    pub fn encode(&self) -> String {
        format!("{}:{}", URL_SAFE_NO_PAD.encode(self.selector.0), URL_SAFE_NO_PAD.encode(self.validator.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_tokens_round_trip_and_are_distinct() {
        let a = SessionToken::generate();
        let b = SessionToken::generate();
        assert_ne!(a, b);
        let text = a.encode();
        assert_eq!(text.len(), 43);
        assert_eq!(SessionToken::parse(text.as_bytes()), Ok(a.clone()));
        assert_eq!(a.hash(), SessionToken::parse(text.as_bytes()).map(|t| t.hash()).unwrap_or(b.hash()));
    }

    #[test]
    fn session_token_parse_refuses_anything_not_exactly_ours() {
        let good = SessionToken::generate().encode();
        let too_long = format!("{good}A");
        let padded = format!("{}=", &good[..42]);
        for bad in ["", "abc", &good[..42], &too_long, &padded, "\"quoted\"", "%%%%"] {
            assert!(SessionToken::parse(bad.as_bytes()).is_err(), "{bad:?}");
        }
        assert!(SessionToken::parse(&[0xff; 43]).is_err());
    }

    #[test]
    fn remember_tokens_round_trip_and_rotation_keeps_the_selector() {
        let t = RememberToken::generate();
        let parsed = RememberToken::parse(t.encode().as_bytes());
        assert_eq!(parsed, Ok(t.clone()));
        let next = RememberToken::rotated(t.selector);
        assert_eq!(next.selector, t.selector);
        assert_ne!(next.validator, t.validator);
        for bad in ["", ":", "abc:def", &t.encode().replace(':', "")] {
            assert!(RememberToken::parse(bad.as_bytes()).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn token_secrets_are_redacted_in_debug_output() {
        let t = RememberToken::generate();
        let dbg = format!("{t:?} {:?}", SessionToken::generate());
        assert!(dbg.contains("<redacted>"));
        assert!(!dbg.contains(&t.encode()[23..]));
    }

    #[test]
    fn token_hash_comparison_is_exact() {
        let v = Validator::generate();
        assert!(v.hash().ct_eq(&v.hash()));
        assert!(!v.hash().ct_eq(&Validator::generate().hash()));
    }
}
