//! `tessera serve`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use tessera_core::{Clock, Role, SiteId, SystemClock};
use tessera_session::SessionCore;
use tessera_store::Store;
use tessera_web::{AppState, WebConfig};
use tokio::net::TcpListener;

use crate::ServeArgs;
use crate::cookies_cmd::registry;
use crate::datadir;
use crate::settings::{Settings, origin_of};

pub(crate) fn run(args: ServeArgs) -> Result<()> {
    let mut settings = Settings::load(Some(&args.data))?;
    if let Some(bind) = &args.bind {
        settings.server.bind = bind.clone();
    }
    if let Some(url) = &args.public_url {
        settings.server.public_url = url.clone();
    }
    if let Some(node) = &args.node_id {
        settings.cluster.node_id = node.clone();
    }
    if let Some(url) = &args.redis {
        settings.cluster.redis_url = url.clone();
    }
    settings.validate()?;
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_new(&settings.server.log).context("server.log")?)
        // Logs on stderr; stdout carries only the banner (scripts read the address from it).
        .with_writer(std::io::stderr)
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    #[cfg(feature = "test-clock")]
    let test_clock = args.test_clock;
    #[cfg(not(feature = "test-clock"))]
    let test_clock = false;
    runtime.block_on(serve(args, settings, test_clock))
}

async fn serve(args: ServeArgs, settings: Settings, test_clock: bool) -> Result<()> {
    let data = &args.data;
    datadir::ensure(data)?;
    let key = datadir::secret_key(data)?;
    let store: Arc<dyn Store> = Arc::new(datadir::open_store(data).await?);
    let (clock, manual_clock) = make_clock(test_clock);
    let site = SiteId::new(settings.server.default_site)?;
    store.ensure_site(site, "Default site", clock.now()).await?;

    let listener = TcpListener::bind(&settings.server.bind)
        .await
        .with_context(|| format!("listening on {}", settings.server.bind))?;
    let local = listener.local_addr()?;
    // With port 0 the real port is only known now.
    let public_url =
        if settings.server.public_url.is_empty() { format!("http://{local}") } else { settings.public_url() };
    let origin = origin_of(&public_url)?;
    if !origin.secure_cookies {
        tracing::warn!("public URL {public_url} is neither HTTPS nor loopback: cookies will not be Secure");
    }

    let cluster = join_cluster(&settings)?;
    let core = SessionCore::in_cluster(store.clone(), clock.clone(), settings.core(), cluster)?;
    let config = WebConfig {
        public_origin: origin.origin.clone(),
        secure_cookies: origin.secure_cookies,
        https: origin.https,
        default_site: site,
        trusted_proxies: settings.trusted_proxies()?,
    };
    let state = AppState::new(
        core.clone(),
        registry(&Settings { server: settings.server.clone(), ..settings.clone() })?,
        &key,
        config,
    );
    let demo = match args.demo {
        true => {
            let logins = crate::demo::seed(&core, state.kb(), site).await.context("seeding the demo")?;
            let (shop, outlet, shop_server) = crate::demo_site::start(&origin.origin, site).await?;
            let mut settings = store.site(site).await?.context("the default site exists")?.settings;
            for o in [&shop, &outlet] {
                if !settings.embed_origins.contains(o) {
                    settings.embed_origins.push(o.clone());
                }
            }
            store.update_site(site, &settings, clock.now()).await?;
            state.sites_changed();
            tokio::spawn(shop_server);
            Some((logins, shop, outlet))
        }
        false => None,
    };
    let app = tessera_web::app(state.clone());
    let app = with_test_clock(app, manual_clock);

    let purge = spawn_purge(core.clone(), state.clone(), settings.server.purge_interval_seconds);
    print_banner(&origin.origin, local, data, store.as_ref(), site).await;
    if let Some((logins, shop, outlet)) = &demo {
        println!("\n{}", crate::demo::describe(logins, &origin.origin, site));
        println!("  Demo customer website (with the Messenger tag): {shop}/");
        println!("  The same customer's second domain (same tag, same site ID): {outlet}/");
    }

    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("server failed")?;
    purge.abort();
    // Every page view acknowledged before the stop is written now.
    state.shutdown().await;
    core.flush().await;
    tracing::info!("stopped cleanly");
    Ok(())
}

/// The cluster this node belongs to: alone, or every node sharing `cluster.redis_url`.
fn join_cluster(settings: &Settings) -> Result<Arc<dyn tessera_cluster::Cluster>> {
    let cluster = &settings.cluster;
    if cluster.redis_url.is_empty() {
        return Ok(Arc::new(tessera_cluster::Alone));
    }
    let node = tessera_cluster::NodeId::parse(&cluster.node_id).context("cluster.node_id")?;
    tracing::info!(node = %node, "cluster mode: sessions, revocations and live fan-out go through Redis");
    Ok(tessera_redis::RedisCluster::start(&cluster.redis_url, node).context("cluster.redis_url")?)
}

/// The server's clock: the system's, or with `--test-clock` (only in builds
/// with the `test-clock` feature) a manual one that tests can move.
fn make_clock(test_clock: bool) -> (Arc<dyn Clock>, Option<tessera_core::ManualClock>) {
    #[cfg(feature = "test-clock")]
    if test_clock {
        tracing::warn!("TEST CLOCK ENABLED: POST /__test/clock?advance=SECONDS moves time. Never use in production.");
        let manual = tessera_core::ManualClock::new(SystemClock.now());
        return (Arc::new(manual.clone()), Some(manual));
    }
    let _ = test_clock;
    (Arc::new(SystemClock), None)
}

#[cfg(feature = "test-clock")]
fn with_test_clock(app: axum::Router, manual: Option<tessera_core::ManualClock>) -> axum::Router {
    use axum::extract::Query;
    let Some(manual) = manual else { return app };
    #[derive(serde::Deserialize)]
    struct Advance {
        advance: i64,
    }
    app.route(
        "/__test/clock",
        axum::routing::post(move |Query(q): Query<Advance>| async move {
            manual.advance(q.advance);
            manual.now().to_string()
        }),
    )
}

#[cfg(not(feature = "test-clock"))]
fn with_test_clock(app: axum::Router, _manual: Option<tessera_core::ManualClock>) -> axum::Router {
    app
}

fn spawn_purge(core: SessionCore, state: AppState, every: u64) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(every.max(1)));
        loop {
            tick.tick().await;
            match core.purge_expired().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(sessions = n, "purged expired sessions"),
                Err(e) => tracing::warn!(error = %e, "could not purge expired sessions"),
            }
            match state.purge_monitoring().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(page_views = n, "purged page views past their site's retention"),
                Err(e) => tracing::warn!(error = %e, "could not purge page views"),
            }
        }
    })
}

async fn print_banner(origin: &str, local: SocketAddr, data: &std::path::Path, store: &dyn Store, site: SiteId) {
    println!("Tessera is listening on http://{local}");
    println!("  Help Center: {origin}/");
    println!("  Agent:       {origin}/agent/login");
    println!("  Admin:       {origin}/admin/login");
    let has_admin = store.people(site).await.map(|p| p.iter().any(|p| p.role == Role::Admin)).unwrap_or(true);
    if !has_admin {
        println!();
        println!("No admin yet. Create the first one with:");
        println!(
            "  echo 'a long password' | tessera user add --data {} --email you@example.com --role admin --password-stdin",
            data.display()
        );
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! { () = ctrl_c => {}, () = term => {} }
    tracing::info!("shutting down");
}
