//! Argon2id password hashing, run off the async executor.

use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use argon2::{Algorithm, Argon2, Params, Version};
use tessera_core::Password;
use tokio::sync::Semaphore;

use crate::{CoreError, PasswordSettings};

/// Hashes and verifies passwords with the configured Argon2id cost.
#[derive(Clone)]
pub struct PasswordHasher {
    params: Params,
    /// At most one hash per CPU at a time: each takes `argon2_memory_kib` of
    /// memory, and a flood of login posts must queue, not exhaust memory.
    slots: Arc<Semaphore>,
    /// How many verifications ran: lets tests prove that an unknown email
    /// costs a full hash check like a wrong password does.
    verifications: Arc<AtomicU64>,
    /// A real hash of a random password, verified against when the email is
    /// unknown so that "no such account" takes as long as "wrong password".
    dummy_hash: String,
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHasher").field("params", &self.params).finish_non_exhaustive()
    }
}

impl PasswordHasher {
    pub fn new(settings: &PasswordSettings) -> Result<Self, CoreError> {
        let params =
            Params::new(settings.argon2_memory_kib, settings.argon2_iterations, settings.argon2_parallelism, None)
                .map_err(|e| CoreError::Settings(e.to_string()))?;
        let cpus = std::thread::available_parallelism().map_or(1, usize::from);
        let mut hasher = Self {
            params,
            slots: Arc::new(Semaphore::new(cpus)),
            verifications: Arc::default(),
            dummy_hash: String::new(),
        };
        let random = tessera_core::SessionToken::generate().encode();
        hasher.dummy_hash = hasher.hash_now(&Password::for_login(random).ok_or(CoreError::Hashing("dummy".into()))?)?;
        Ok(hasher)
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    fn hash_now(&self, password: &Password) -> Result<String, CoreError> {
        let salt_bytes: [u8; 16] = tessera_core::random_bytes();
        let salt = SaltString::encode_b64(&salt_bytes).map_err(|e| CoreError::Hashing(e.to_string()))?;
        self.argon2()
            .hash_password(password.expose().as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| CoreError::Hashing(e.to_string()))
    }

    /// How many password verifications have run (real or against the dummy hash).
    pub fn verifications(&self) -> u64 {
        self.verifications.load(Ordering::Relaxed)
    }

    /// A PHC string for `password`.
    pub async fn hash(&self, password: Password) -> Result<String, CoreError> {
        let _slot = self.slots.acquire().await.map_err(|e| CoreError::Hashing(e.to_string()))?;
        let this = self.clone();
        tokio::task::spawn_blocking(move || this.hash_now(&password))
            .await
            .map_err(|e| CoreError::Hashing(e.to_string()))?
    }

    /// Whether `password` matches `phc`; with `None`, checks against the dummy
    /// hash (always false) so the caller's timing does not depend on it.
    pub async fn verify(&self, password: Password, phc: Option<String>) -> bool {
        let this = self.clone();
        let known = phc.is_some();
        let phc = phc.unwrap_or_else(|| self.dummy_hash.clone());
        let Ok(_slot) = self.slots.acquire().await else { return false };
        self.verifications.fetch_add(1, Ordering::Relaxed);
        let matched = tokio::task::spawn_blocking(move || {
            PasswordHash::new(&phc)
                .is_ok_and(|parsed| this.argon2().verify_password(password.expose().as_bytes(), &parsed).is_ok())
        })
        .await
        .unwrap_or(false);
        known && matched
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cheap() -> PasswordSettings {
        PasswordSettings { argon2_memory_kib: 64, argon2_iterations: 1, argon2_parallelism: 1 }
    }

    fn pw(s: &str) -> Password {
        Password::for_login(s.into()).expect("valid test password")
    }

    #[tokio::test]
    async fn hashes_are_argon2id_salted_and_verify_only_the_right_password() {
        let h = PasswordHasher::new(&cheap()).expect("settings");
        let a = h.hash(pw("correct horse")).await.expect("hash");
        let b = h.hash(pw("correct horse")).await.expect("hash");
        assert!(a.starts_with("$argon2id$"));
        assert_ne!(a, b, "salted");
        assert!(h.verify(pw("correct horse"), Some(a.clone())).await);
        assert!(!h.verify(pw("wrong horse"), Some(a)).await);
    }

    #[tokio::test]
    async fn unknown_account_verification_never_succeeds() {
        let h = PasswordHasher::new(&cheap()).expect("settings");
        assert!(!h.verify(pw("anything"), None).await);
        assert!(!h.verify(pw("anything"), Some("not a phc string".into())).await);
    }
}
