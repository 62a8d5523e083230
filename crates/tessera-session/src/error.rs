use tessera_store::StoreError;

/// Failures of the session core that are not the caller's fault.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("password hashing failed: {0}")]
    Hashing(String),
    #[error("invalid password hashing settings: {0}")]
    Settings(String),
    /// The account was disabled, re-keyed or given another role while a
    /// session for it was being created; the session was not kept. The
    /// caller answers as if the login had failed.
    #[error("the account changed while the session was being created")]
    AccountChanged,
}
