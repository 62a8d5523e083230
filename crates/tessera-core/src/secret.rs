//! Secrets that must never reach a log line: the server key and passwords.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// The server's master key. Purpose-specific keys are derived from it, so one
/// leaked derived key (say, the CSRF key) says nothing about the others.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct SecretKey([u8; 64]);

impl SecretKey {
    pub const LEN: usize = 64;

    pub fn generate() -> Self {
        let mut key = [0u8; 64];
        crate::token::fill_random(&mut key);
        Self(key)
    }
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let key: [u8; 64] = bytes.try_into().ok()?;
        Some(Self(key))
    }
    pub fn expose_bytes(&self) -> &[u8; 64] {
        &self.0
    }
    /// A 32-byte key for one purpose: HMAC-SHA256(master, "tessera:" || purpose).
    pub fn derive(&self, purpose: &str) -> SecretKey32 {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(b"tessera:");
        mac.update(purpose.as_bytes());
        SecretKey32(mac.finalize().into_bytes().into())
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}

/// A derived purpose key.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct SecretKey32([u8; 32]);

impl SecretKey32 {
    pub fn expose_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for SecretKey32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey32(<redacted>)")
    }
}

/// A password as typed. Length-checked, redacted in `Debug`, wiped on drop.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Password(String);

impl Password {
    pub const MIN_CHARS: usize = 8;
    /// Long enough for any passphrase, short enough that hashing it is no DoS.
    pub const MAX_BYTES: usize = 1024;

    /// A password for checking at login: any non-empty text that is not absurdly long.
    pub fn for_login(text: String) -> Option<Self> {
        (!text.is_empty() && text.len() <= Self::MAX_BYTES).then_some(Self(text))
    }
    /// A new password being chosen: also at least [`Self::MIN_CHARS`] characters.
    pub fn new_choice(text: String) -> Result<Self, &'static str> {
        if text.chars().count() < Self::MIN_CHARS {
            return Err("password must be at least 8 characters");
        }
        if text.len() > Self::MAX_BYTES {
            return Err("password must be at most 1024 bytes");
        }
        Ok(Self(text))
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_in_debug_output() {
        let key = SecretKey::generate();
        assert_eq!(format!("{key:?}"), "SecretKey(<redacted>)");
        assert_eq!(format!("{:?}", key.derive("csrf")), "SecretKey32(<redacted>)");
        let pw = Password::for_login("hunter22".into());
        assert_eq!(format!("{pw:?}"), "Some(Password(<redacted>))");
    }

    #[test]
    fn derived_keys_differ_by_purpose_and_are_stable() {
        let key = SecretKey::generate();
        assert_ne!(key.derive("csrf").expose_bytes(), key.derive("other").expose_bytes());
        assert_eq!(key.derive("csrf").expose_bytes(), key.derive("csrf").expose_bytes());
    }

    #[test]
    fn new_passwords_need_eight_characters() {
        assert!(Password::new_choice("short".into()).is_err());
        assert!(Password::new_choice("long enough".into()).is_ok());
        assert!(Password::for_login(String::new()).is_none());
        assert!(Password::for_login("x".repeat(2000)).is_none());
    }
}
