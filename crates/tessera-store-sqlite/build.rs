//! `sqlx::migrate!` embeds `migrations/` at compile time but cannot tell Cargo
//! to rebuild when a migration changes; this does.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
