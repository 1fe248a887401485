//! The thin server: stores documents and syncs them with clients; serves the built client.
//!
//! Invariants: the server never interprets model content (it syncs automerge documents it does not
//! need to understand); every request is idempotent; bad input is a 4xx with a reason, never a panic.

pub mod password;
pub mod photos;
pub mod routes;
pub mod session;
pub mod error;
pub mod limits;
pub mod login_limiter;
pub mod store;
pub mod tls;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use clap::Parser;
use axum::http::{HeaderName, HeaderValue, header};
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use self::routes::assets::Assets;
use self::store::postgres::PostgresStore;
use self::store::{SqliteStore, Store};

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
    /// How many recently synced documents stay parsed in memory (about 50 KB each for a typical
    /// model): memory use is bounded by this, not by the number of documents stored.
    #[arg(long, env = "DANVAN_CACHE_DOCS", default_value_t = 1000)]
    pub cache_docs: usize,
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
        .merge(routes::photos::router())
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

/// The command line: the server's flags, and administrative commands run against the same
/// database (`danvan-server --database … import-units units.csv`).
#[derive(Debug, Parser)]
#[command(name = "danvan-server", about = "danvan: máy chủ đồng bộ mô hình Dân vận khéo (sync server)")]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Nhập cây đơn vị từ tệp CSV (cột: mã, tên, loại, cấp, mã cấp trên, cụm). Import the unit
    /// tree from CSV; units are added or updated by code, nothing is saved if any row is wrong.
    ImportUnits {
        /// The CSV file (UTF-8; Excel's "CSV UTF-8" works).
        file: PathBuf,
    },
    /// Tạo tài khoản quản trị cho một đơn vị (mật khẩu nhập ở bàn phím hoặc qua stdin). Create an
    /// administrator of a unit's subtree; the password is read from the terminal or stdin.
    CreateAdmin {
        #[arg(long)]
        username: String,
        /// Unit code (from the imported tree).
        #[arg(long)]
        unit: String,
        /// Name shown in the app, e.g. "Nguyễn Văn A".
        #[arg(long)]
        name: Option<String>,
    },
    /// Tạo tài khoản. Create a user with a role in a unit: can_bo (member), binh_xet (reviewer)
    /// or quan_tri (administrator).
    CreateUser {
        #[arg(long)]
        username: String,
        #[arg(long)]
        unit: String,
        #[arg(long, default_value = "can_bo")]
        role: String,
        #[arg(long)]
        name: Option<String>,
    },
    /// Khóa tài khoản. Disable a user (they can no longer sign in; their devices stop syncing).
    DisableUser {
        #[arg(long)]
        username: String,
    },
    /// Đăng xuất tài khoản trên mọi thiết bị (mất điện thoại). Ends every session of a user;
    /// their devices keep their data and ask for the password before syncing again.
    SignOut {
        #[arg(long)]
        username: String,
    },
    /// Danh sách tài khoản. Lists the accounts (username, name, roles, state), one per line.
    Users,
    /// Đặt lại mật khẩu. Reset a user's password (read from the terminal or stdin).
    ResetPassword {
        #[arg(long)]
        username: String,
    },
}

/// A new password: typed twice at a terminal (not echoed), or one line of stdin for scripts.
fn read_new_password() -> anyhow::Result<String> {
    use std::io::IsTerminal;
    let password = if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Mật khẩu mới: ")?;
        if rpassword::prompt_password("Nhập lại: ")? != first {
            anyhow::bail!("Hai lần nhập mật khẩu không khớp.");
        }
        first
    } else {
        let mut line = String::new();
        std::io::stdin().read_line(&mut line)?;
        line.trim_end_matches(['\n', '\r']).to_string()
    };
    crate::domain::check_password(&password).map_err(|e| anyhow::anyhow!(e))?;
    Ok(password)
}

/// The administrative commands other than `import-units`; Ok(false) means "refused, said why".
async fn manage_users(config: &Config, command: Command) -> anyhow::Result<bool> {
    use crate::domain::Role;
    let store = open_store(config).await?;
    match command {
        Command::CreateAdmin { username, unit, name } => {
            create_user(store.as_ref(), username, unit, Role::Admin, name).await
        }
        Command::CreateUser { username, unit, role, name } => {
            let Some(role) = Role::from_code(&role) else {
                eprintln!("Vai trò “{role}” không có; dùng can_bo, binh_xet hoặc quan_tri.");
                return Ok(false);
            };
            create_user(store.as_ref(), username, unit, role, name).await
        }
        Command::DisableUser { username } => {
            if store.set_user_disabled(&username, true).await? {
                let ended = store.delete_sessions(&username).await?;
                println!("Đã khóa tài khoản {username} và đăng xuất {ended} thiết bị.");
                Ok(true)
            } else {
                eprintln!("Không có tài khoản “{username}”.");
                Ok(false)
            }
        }
        Command::ResetPassword { username } => {
            if store.user(&username).await?.is_none() {
                eprintln!("Không có tài khoản “{username}”.");
                return Ok(false);
            }
            let hash = password::hash_password(&read_new_password()?).map_err(|e| anyhow::anyhow!(e))?;
            store.set_password_hash(&username, &hash).await?;
            let ended = store.delete_sessions(&username).await?;
            println!("Đã đặt lại mật khẩu cho {username}; {ended} thiết bị phải đăng nhập lại.");
            Ok(true)
        }
        Command::Users => {
            let users = store.users().await?;
            if users.is_empty() {
                eprintln!("Chưa có tài khoản nào.");
            }
            for u in users {
                let roles: Vec<String> = u.grants.iter().map(|g| format!("{}@{}", g.role.code(), g.unit)).collect();
                let state = if u.disabled { "khóa" } else if u.password_hash.is_empty() { "chờ lời mời" } else { "đang dùng" };
                println!("{}\t{}\t{}\t{state}", u.username, u.display_name, roles.join(","));
            }
            Ok(true)
        }
        Command::SignOut { username } => {
            if store.user(&username).await?.is_none() {
                eprintln!("Không có tài khoản “{username}”.");
                return Ok(false);
            }
            let ended = store.delete_sessions(&username).await?;
            println!("Đã đăng xuất {username} trên {ended} thiết bị.");
            Ok(true)
        }
        Command::ImportUnits { .. } => unreachable!("handled by import_units"),
    }
}

async fn create_user(
    store: &dyn Store,
    username: String,
    unit: String,
    role: crate::domain::Role,
    name: Option<String>,
) -> anyhow::Result<bool> {
    use self::store::{StoreError, User};
    if let Err(e) = crate::domain::check_username(&username) {
        eprintln!("{e}");
        return Ok(false);
    }
    let tree = store.unit_tree().await?;
    let Some(u) = tree.get(&unit) else {
        eprintln!("Đơn vị “{unit}” chưa có; hãy nhập cây đơn vị trước (import-units).");
        return Ok(false);
    };
    let unit_name = u.name.clone();
    let hash = password::hash_password(&read_new_password()?).map_err(|e| anyhow::anyhow!(e))?;
    let user = User {
        display_name: name.unwrap_or_else(|| username.clone()),
        username: username.clone(),
        password_hash: hash,
        disabled: false,
        grants: vec![crate::domain::Grant { unit: unit.clone(), role }],
    };
    match store.create_user(&user, now_ms()).await {
        Ok(()) => {
            println!("Đã tạo tài khoản {username} ({}, {unit_name}).", role.label());
            Ok(true)
        }
        Err(StoreError::Conflict) => {
            eprintln!("Tên đăng nhập “{username}” đã có.");
            Ok(false)
        }
        Err(e) => Err(e.into()),
    }
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

/// `import-units`: prints what changed, or every bad row (and saves nothing).
async fn import_units(config: &Config, file: &std::path::Path) -> anyhow::Result<bool> {
    let bytes = std::fs::read(file).map_err(|e| anyhow::anyhow!("không đọc được tệp {}: {e}", file.display()))?;
    let text = String::from_utf8(bytes).map_err(|_| {
        anyhow::anyhow!("tệp {} không phải UTF-8; trong Excel hãy lưu dạng “CSV UTF-8”", file.display())
    })?;
    let store = open_store(config).await?;
    let tree = store.unit_tree().await?;
    match tree.import_csv(&text) {
        Ok((next, summary)) => {
            // Against the tree the file was merged into: another import saved meanwhile is a
            // conflict, said plainly (run the command again), never a silent mix of the two.
            store.save_units(&tree, &next).await.map_err(|e| match e {
                store::StoreError::Conflict => anyhow::anyhow!("cây đơn vị vừa được thay đổi ở nơi khác trong lúc nhập; chưa lưu gì, hãy chạy lại lệnh"),
                e => e.into(),
            })?;
            println!(
                "Đã nhập {} đơn vị: {} mới, {} cập nhật, {} không đổi; cây có {} đơn vị.",
                summary.added + summary.updated + summary.unchanged,
                summary.added,
                summary.updated,
                summary.unchanged,
                next.len()
            );
            Ok(true)
        }
        Err(errors) => {
            eprintln!("Không nhập được: {} lỗi, chưa lưu gì.", errors.len());
            for e in errors {
                eprintln!("  {e}");
            }
            Ok(false)
        }
    }
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
    let state = Arc::new(AppState {
        store,
        assets: Arc::new(assets),
        cache: routes::sync::DocCache::new(config.cache_docs),
        units: session::UnitCache::default(),
        sessions: session::SessionCache::default(),
        logins: login_limiter::LoginLimiter::default(),
        hashing: limits::HashingPool::default(),
        trusted_proxies: config.trusted_proxies.clone(),
        session_ttl_ms: (config.session_days * 86_400_000.0) as i64,
    });
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

/// glibc gives threads up to 8 malloc arenas per core; documents parsed on one blocking thread and
/// freed on another then leave memory stranded in arenas (measured: 153 MB resident after touching
/// 10,000 documents with the default cache, against 150 MB wanted). Two arenas keep it reused.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; called before the runtime starts threads.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

pub fn main() -> std::process::ExitCode {
    // Logs go to stderr: stdout carries what commands print (user lists, the URL).
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tower_http=warn".into()),
        )
        .init();
    let Cli { config, command } = Cli::parse();
    limit_malloc_arenas();
    // Blocking work (SQLite reads, parsing documents) gets a bounded pool: past a few threads per
    // core, more threads only add memory (each has its own allocator heap) and context switches.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(16)
        .build()
        .expect("tokio runtime");
    if let Some(command) = command {
        return runtime.block_on(async {
            let done = match command {
                Command::ImportUnits { file } => import_units(&config, &file).await,
                other => manage_users(&config, other).await,
            };
            match done {
                Ok(true) => std::process::ExitCode::SUCCESS,
                Ok(false) => std::process::ExitCode::FAILURE,
                Err(e) => {
                    eprintln!("danvan-server: {e:#}");
                    std::process::ExitCode::FAILURE
                }
            }
        });
    }
    runtime.block_on(async {
        match bind(&config).await {
            Ok((addr, serving)) => {
                let shown = if addr.ip().is_unspecified() { SocketAddr::from(([127, 0, 0, 1], addr.port())) } else { addr };
                let scheme = if config.tls.tls_cert.is_some() { "https" } else { "http" };
                println!("danvan đang chạy tại / is running at {scheme}://{shown}/");
                let database = match &config.database_url {
                    Some(_) => "PostgreSQL".to_string(),
                    None => config.database.display().to_string(),
                };
                tracing::info!(%addr, %database, "listening");
                match serving.await {
                    Ok(()) => std::process::ExitCode::SUCCESS,
                    Err(e) => {
                        tracing::error!(error = %e, "server failed");
                        std::process::ExitCode::FAILURE
                    }
                }
            }
            Err(e) => {
                eprintln!("danvan-server: {e:#}");
                std::process::ExitCode::FAILURE
            }
        }
    })
}
