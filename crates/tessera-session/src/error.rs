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
}
