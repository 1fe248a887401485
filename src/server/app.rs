//! The server as a whole: its configuration, its one `AppState`, the router that merges every
//! feature's routes under the security headers, and binding (plain HTTP or TLS) and shutdown.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use axum::http::{HeaderName, HeaderValue, header};
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::server::routes::assets::Assets;
use crate::server::{error, limits, login_limiter, photos, routes, session, tls};
use crate::server::store::postgres::PostgresStore;
use crate::server::store::{SqliteStore, Store};


/// One state for all routes.
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub assets: Arc<Assets>,
    /// Recently synced documents, kept parsed (bounded).
    pub cache: routes::sync::DocCache,
    pub units: session::UnitCache,
    pub sessions: session::SessionCache,
    pub logins: login_limiter::LoginLimiter,
    /// Password hashing and verification, bounded (sign-in floods never take every core).
    pub hashing: limits::HashingPool,
    /// Proxies whose `X-Forwarded-For` names the client (`--trusted-proxy`).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// How long a sign-in lasts.
    pub session_ttl_ms: i64,
    /// Report facts of every document, kept current from the store by `seq`.
    pub facts: routes::reports::FactsCache,
    /// When this process last recorded each unit's sync (completeness of reports).
    pub syncs: routes::reports::SyncMarks,
    /// The last report sheets computed, by what they were computed from.
    pub sheets: routes::reports::SheetCache,
    /// Model lists imported through the server, one at a time (`routes::import`).
    pub imports: tokio::sync::Semaphore,
}

#[derive(Debug, Clone, clap::Args)]
pub struct Config {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "DANVAN_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// SQLite database file (the embedded store), created on first run.
    #[arg(long, env = "DANVAN_DATABASE", default_value = "data/danvan.sqlite3")]
    pub database: PathBuf,
    /// PostgreSQL instead of SQLite, e.g. postgres://danvan:secret@db.example/danvan; several
    /// servers may share one database.
    #[arg(long, env = "DANVAN_DATABASE_URL")]
    pub database_url: Option<String>,
    /// The built client (Trunk's output directory).
    #[arg(long, env = "DANVAN_DIST", default_value = "dist")]
    pub dist: PathBuf,
    /// How many recently synced documents stay parsed in memory (about 30–50 KB each for a new
    /// model, more as its history grows): memory use is bounded by this and --cache-mb, not by
    /// the number of documents stored.
    #[arg(long, env = "DANVAN_CACHE_DOCS", default_value_t = 1000)]
    pub cache_docs: usize,
    /// Most memory (MB, estimated from each document's operations and changes) the parsed
    /// documents of --cache-docs may take; the least recently used go first.
    #[arg(long, env = "DANVAN_CACHE_MB", default_value_t = 48)]
    pub cache_mb: usize,
    /// How long a device stays signed in (days). Offline work never needs a session; syncing
    /// after it ends asks for the password again.
    #[arg(long, env = "DANVAN_SESSION_DAYS", default_value_t = 30.0)]
    pub session_days: f64,
    /// Reverse proxies (IPs or CIDRs, comma-separated) whose `X-Forwarded-For` header names the
    /// client; from any other peer the header is ignored and the connection's address is used.
    #[arg(long = "trusted-proxy", env = "DANVAN_TRUSTED_PROXIES", value_delimiter = ',', value_parser = parse_network)]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    #[command(flatten)]
    pub tls: TlsConfig,
}

/// An address or a network: `10.0.0.5`, `10.0.0.0/8`, `::1`, ` fd00::/8` (spaces allowed, so a
/// list reads naturally after its commas).
fn parse_network(s: &str) -> Result<ipnet::IpNet, String> {
    let s = s.trim();
    s.parse::<ipnet::IpNet>()
        .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map(|net| net.trunc())
        .map_err(|_| format!("“{s}” is neither an IP address nor a network (e.g. 10.0.0.0/8)"))
}

/// HTTPS served by danvan itself (see `tls.rs`); without it, plain HTTP (behind a TLS proxy, or
/// on localhost).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct TlsConfig {
    /// TLS certificate chain, PEM (e.g. certbot's fullchain.pem); serves HTTPS on --addr.
    /// SIGHUP reads it and the key again (after a renewal).
    #[arg(long, env = "DANVAN_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The certificate's private key, PEM (e.g. certbot's privkey.pem).
    #[arg(long, env = "DANVAN_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Also listen on this address with plain HTTP that only redirects to https (e.g. 0.0.0.0:80).
    #[arg(long, env = "DANVAN_HTTP_REDIRECT_ADDR", requires = "tls_cert")]
    pub http_redirect_addr: Option<SocketAddr>,
}

impl TlsConfig {
    /// The certificate and key, when HTTPS is configured; both or neither.
    fn files(&self) -> anyhow::Result<Option<(PathBuf, PathBuf)>> {
        match (&self.tls_cert, &self.tls_key, &self.http_redirect_addr) {
            (Some(cert), Some(key), _) => Ok(Some((cert.clone(), key.clone()))),
            (None, None, None) => Ok(None),
            (None, None, Some(_)) => anyhow::bail!("--http-redirect-addr redirects to https: it needs --tls-cert and --tls-key"),
            _ => anyhow::bail!("--tls-cert and --tls-key go together (the certificate and its private key)"),
        }
    }
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

pub fn router(state: Arc<AppState>) -> Router {
    let api = Router::new()
        // Sync requests in flight are bounded (`limits::SyncAdmission`), before their bodies are read.
        .merge(routes::sync::router().layer(axum::middleware::from_fn_with_state(
            Arc::new(limits::SyncAdmission::default()),
            limits::admit_sync,
        )))
        .merge(routes::auth::router())
        .merge(routes::admin::router())
        .merge(routes::people::router())
        .merge(routes::photos::router())
        .merge(routes::reports::router())
        .merge(routes::import::router())
        .route("/api/health", get(health))
        .layer(CompressionLayer::new())
        // Each route's own body limit (`limits::body_limit_for`), declared lengths refused unread.
        .layer(axum::middleware::from_fn(limits::limit_body));
    let csp = HeaderValue::from_str(&state.assets.csp).expect("the policy is ASCII");
    let security = [
        (header::CONTENT_SECURITY_POLICY, csp),
        (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        (header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (HeaderName::from_static("cross-origin-opener-policy"), HeaderValue::from_static("same-origin")),
        (HeaderName::from_static("permissions-policy"), HeaderValue::from_static("camera=(self), geolocation=(self), microphone=(), payment=()")),
    ];
    let mut app = Router::new().merge(api).merge(routes::assets::router(state.assets.clone())).layer(TraceLayer::new_for_http());
    for (name, value) in security {
        app = app.layer(SetResponseHeaderLayer::if_not_present(name, value));
    }
    app.with_state(state)
}

/// Unauthenticated, so it says nothing about the data (not even how many documents there are).
async fn health(State(app): State<Arc<AppState>>) -> Result<axum::Json<serde_json::Value>, error::ApiError> {
    app.store.head().await?; // the database answers
    Ok(axum::Json(serde_json::json!({
        "ok": true,
        "server": app.store.server_id(),
        "client_version": app.assets.version,
    })))
}


/// Opens the configured database (SQLite file or PostgreSQL), applying pending migrations.
pub async fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    Ok(match &config.database_url {
        Some(url) => Arc::new(
            PostgresStore::connect(url).await.map_err(|e| anyhow::anyhow!("cannot use PostgreSQL database: {e}"))?,
        ),
        None => Arc::new(
            SqliteStore::open(&config.database)
                .map_err(|e| anyhow::anyhow!("cannot open database {}: {e}", config.database.display()))?,
        ),
    })
}

/// Opens the store and the assets, binds, and returns the bound address with the serving future.
pub async fn bind(
    config: &Config,
) -> anyhow::Result<(SocketAddr, std::pin::Pin<Box<dyn std::future::Future<Output = std::io::Result<()>> + Send>>)> {
    let store = open_store(config).await?;
    let (assets, to_compress) = Assets::prepare(&config.dist)?;
    tokio::task::spawn_blocking(move || match routes::assets::precompress_all(&to_compress) {
        Ok(()) => tracing::info!(files = to_compress.len(), "client files precompressed (brotli, gzip)"),
        Err(e) => tracing::warn!(error = %e, "could not precompress client files; serving them uncompressed"),
    });
    if !assets.built {
        tracing::warn!(dist = %config.dist.display(), "client not built; serving the API only");
    }
    if store.users().await?.is_empty() {
        tracing::warn!(
            "no accounts yet: nobody can sign in. Create the first administrator with \
             `danvan-server import-units FILE.csv` then `danvan-server create-admin --username … --unit …` (README.md)"
        );
    }
    // Unused photos, abandoned uploads, expired sessions and invitations: now and hourly.
    photos::spawn_sweeper(store.clone());
    spawn_heap_trim();
    let state = Arc::new(AppState {
        store,
        assets: Arc::new(assets),
        cache: routes::sync::DocCache::new(config.cache_docs, config.cache_mb * 1024 * 1024),
        units: session::UnitCache::default(),
        sessions: session::SessionCache::default(),
        logins: login_limiter::LoginLimiter::default(),
        hashing: limits::HashingPool::default(),
        trusted_proxies: config.trusted_proxies.clone(),
        session_ttl_ms: (config.session_days * 86_400_000.0) as i64,
        facts: routes::reports::FactsCache::default(),
        syncs: routes::reports::SyncMarks::default(),
        sheets: routes::reports::SheetCache::default(),
        imports: tokio::sync::Semaphore::new(1),
    });
    // Facts of documents written before the facts table (or in an older format), in the background.
    routes::reports::spawn_upkeep(state.clone());
    if let Some((cert, key)) = config.tls.files()? {
        return bind_tls(config, state, cert, key).await;
    }
    let listener = tokio::net::TcpListener::bind(config.addr).await?;
    let addr = listener.local_addr()?;
    // Client addresses reach the handlers (sign-in attempts are limited per address).
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    let serving: std::pin::Pin<Box<dyn std::future::Future<Output = std::io::Result<()>> + Send>> =
        Box::pin(async move { axum::serve(listener, app).with_graceful_shutdown(shutdown()).await });
    Ok((addr, serving))
}

/// Gives the heap's free pages back to the system every 10 s (glibc's `malloc_trim`). Parsed
/// documents come and go from the cache and the blocking threads in every size, and glibc keeps
/// what is freed inside its heaps, returning only the top: under the `load` benchmark on
/// PostgreSQL the resident size kept growing although the live data did not.
fn spawn_heap_trim() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    tokio::spawn(async {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(10));
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            // SAFETY: malloc_trim only returns free memory to the system; any thread may call it.
            let _ = tokio::task::spawn_blocking(|| unsafe { libc::malloc_trim(0) }).await;
        }
    });
}

/// HTTPS on `--addr` (with HSTS), and the redirecting plain-HTTP port if asked for; both stop
/// together on SIGTERM / Ctrl-C.
async fn bind_tls(
    config: &Config,
    state: Arc<AppState>,
    cert: PathBuf,
    key: PathBuf,
) -> anyhow::Result<(SocketAddr, std::pin::Pin<Box<dyn std::future::Future<Output = std::io::Result<()>> + Send>>)> {
    let rustls = axum_server::tls_rustls::RustlsConfig::from_config(Arc::new(tls::server_config(&cert, &key)?));
    let listener = std::net::TcpListener::bind(config.addr)?;
    listener.set_nonblocking(true)?;
    let addr = listener.local_addr()?;
    let redirect = match config.tls.http_redirect_addr {
        Some(at) => {
            let listener = tokio::net::TcpListener::bind(at)
                .await
                .map_err(|e| anyhow::anyhow!("cannot listen on {at} (--http-redirect-addr): {e}"))?;
            tracing::info!(addr = %listener.local_addr()?, "plain HTTP redirects to https");
            Some(listener)
        }
        None => None,
    };
    let handle = axum_server::Handle::new();
    let server = axum_server::tls_rustls::from_tcp_rustls(listener, rustls.clone())?.handle(handle.clone());
    let app = router(state)
        .layer(SetResponseHeaderLayer::overriding(header::STRICT_TRANSPORT_SECURITY, tls::HSTS))
        .into_make_service_with_connect_info::<SocketAddr>();
    let serving = async move {
        let (stopped_tx, stopped_rx) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            shutdown().await;
            let _ = stopped_tx.send(true);
            // Requests in flight finish (a sync batch commits); then connections are closed.
            handle.graceful_shutdown(Some(std::time::Duration::from_secs(30)));
        });
        #[cfg(unix)]
        tokio::spawn(reload_on_hangup(rustls, cert, key));
        let redirecting = async move {
            let Some(listener) = redirect else { return Ok(()) };
            let mut stopped = stopped_rx;
            axum::serve(listener, tls::redirect_router(addr.port()))
                .with_graceful_shutdown(async move {
                    let _ = stopped.wait_for(|s| *s).await;
                })
                .await
        };
        tokio::try_join!(server.serve(app), redirecting).map(|_| ())
    };
    Ok((addr, Box::pin(serving)))
}

/// A renewed certificate (certbot's deploy hook: `systemctl reload danvan`) is taken without a
/// restart; a broken one is refused and the current one kept, so a bad renewal never stops HTTPS.
#[cfg(unix)]
async fn reload_on_hangup(rustls: axum_server::tls_rustls::RustlsConfig, cert: PathBuf, key: PathBuf) {
    let Ok(mut hangups) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) else { return };
    while hangups.recv().await.is_some() {
        let (c, k) = (cert.clone(), key.clone());
        match tokio::task::spawn_blocking(move || tls::server_config(&c, &k)).await {
            Ok(Ok(config)) => {
                rustls.reload_from_config(Arc::new(config));
                tracing::info!(cert = %cert.display(), "TLS certificate reloaded");
            }
            Ok(Err(e)) => tracing::error!(error = %e, "TLS certificate not reloaded; the previous one stays in use"),
            Err(e) => tracing::error!(error = %e, "TLS certificate not reloaded"),
        }
    }
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}
