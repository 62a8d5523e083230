//! `tessera`: the server and its command line.

mod cookies_cmd;
mod database;
mod datadir;
mod demo;
mod demo_site;
mod serve;
mod settings;
mod transfer;
mod user_cmd;

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// mimalloc instead of glibc malloc: the request path allocates small,
/// short-lived buffers on several threads, which glibc's arenas handle poorly
/// (malloc_consolidate showed up in profiles of the benchmark).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Tessera: a self-hosted Help Center, agent and admin interfaces.
#[derive(Debug, Parser)]
#[command(name = "tessera", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server (creates the data directory, database and keys on first start).
    Serve(ServeArgs),
    /// Manage people.
    #[command(subcommand)]
    User(UserCommand),
    /// Print the cookie declaration generated from the registry.
    Cookies(CookiesArgs),
    /// Bring the database's schema up to date, then exit (see docs/postgres.md).
    Migrate(MigrateArgs),
    /// Write every row of the embedded database as JSON lines (see docs/postgres.md).
    Export(ExportArgs),
    /// Load an export into an empty PostgreSQL database (see docs/postgres.md).
    Import(ImportArgs),
}

#[derive(Debug, clap::Args)]
pub(crate) struct ServeArgs {
    /// Data directory: database, secret key, tessera.toml.
    #[arg(long, default_value = "./tessera-data")]
    data: PathBuf,
    /// Address to listen on (setting `server.bind`).
    #[arg(long)]
    bind: Option<String>,
    /// Database URL: `sqlite:` (the default: tessera.db in the data directory)
    /// or `postgres://…` (setting `database.url`).
    #[arg(long, env = database::URL_VAR)]
    database: Option<String>,
    /// Public URL browsers use, e.g. https://help.example.com (setting `server.public_url`).
    #[arg(long)]
    public_url: Option<String>,
    /// Seed a demo site (three languages, articles, an agent and an admin) and
    /// print the demo logins.
    #[arg(long)]
    demo: bool,
    /// Cluster mode: this node's name (setting `cluster.node_id`), sent to
    /// the load balancer in the `__Host-ts_node` cookie. Needs `--redis`.
    #[arg(long)]
    node_id: Option<String>,
    /// Cluster mode: the Redis URL shared by every node (setting
    /// `cluster.redis_url`), e.g. redis://127.0.0.1:6379/0.
    #[arg(long)]
    redis: Option<String>,
    /// Let end-to-end tests move the server's clock via POST /__test/clock.
    #[cfg(feature = "test-clock")]
    #[arg(long)]
    test_clock: bool,
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Create a person.
    Add(UserAddArgs),
}

#[derive(Debug, clap::Args)]
pub(crate) struct UserAddArgs {
    #[arg(long, default_value = "./tessera-data")]
    data: PathBuf,
    /// Database URL, as for `serve`.
    #[arg(long, env = database::URL_VAR)]
    database: Option<String>,
    #[arg(long)]
    email: String,
    #[arg(long, value_parser = ["user", "agent", "admin"])]
    role: String,
    /// Site ID (default: the default site, 1001).
    #[arg(long)]
    site: Option<String>,
    /// Display name (default: the part of the email before the @).
    #[arg(long)]
    name: Option<String>,
    /// Read the password from the first line of standard input.
    #[arg(long, required = true)]
    password_stdin: bool,
}

#[derive(Debug, clap::Args)]
pub(crate) struct MigrateArgs {
    /// Data directory (its tessera.toml may name the database; the embedded one lives there).
    #[arg(long, default_value = "./tessera-data")]
    data: PathBuf,
    /// Database URL, as for `serve`.
    #[arg(long, env = database::URL_VAR)]
    database: Option<String>,
}

#[derive(Debug, clap::Args)]
pub(crate) struct ExportArgs {
    /// Data directory whose embedded database (tessera.db) to export.
    #[arg(long, default_value = "./tessera-data")]
    data: PathBuf,
    /// File to write (created with mode 0600; must not exist). Default: standard output.
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub(crate) struct ImportArgs {
    /// Data directory (for its tessera.toml).
    #[arg(long, default_value = "./tessera-data")]
    data: PathBuf,
    /// PostgreSQL URL of an empty database.
    #[arg(long, env = database::URL_VAR)]
    database: Option<String>,
    /// The export to read. Default: standard input.
    file: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum CookieFormat {
    Md,
    Json,
    Html,
}

#[derive(Debug, clap::Args)]
pub(crate) struct CookiesArgs {
    #[arg(long, value_enum, default_value = "md")]
    format: CookieFormat,
    /// Language of the descriptions.
    #[arg(long, default_value = "en")]
    lang: String,
    /// Data directory whose tessera.toml to read (lifetimes and URL are settings).
    #[arg(long)]
    data: Option<PathBuf>,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::User(UserCommand::Add(args)) => user_cmd::add(args),
        Command::Cookies(args) => cookies_cmd::run(args),
        Command::Migrate(args) => database::migrate(args),
        Command::Export(args) => transfer::export(args),
        Command::Import(args) => transfer::import(args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
