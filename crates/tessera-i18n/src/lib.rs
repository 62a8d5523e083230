//! UI strings (Project Fluent) for English, French and Danish, and `Accept-Language` negotiation.
//!
//! The web crate decides which [`Language`] a request gets (the language cookie, or [`negotiate`] on
//! the header) and renders with a [`Tr`] from [`Catalog::embedded`]. A lookup never fails: a message
//! missing from a translation falls back to English, then to its id, so a half-translated catalogue
//! degrades instead of breaking pages. This crate knows nothing of HTTP frameworks, SQL or cookies.

mod catalog;
mod negotiate;

pub use catalog::{Arg, Catalog, CatalogError, Tr};
pub use negotiate::negotiate;
pub use tessera_core::Language;
