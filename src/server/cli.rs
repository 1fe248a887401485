//! The command line: the server's flags and the administrative commands run against the same
//! database (users, units), then start-up (`main`).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;

use crate::server::store::Store;
use crate::server::{password, store};
use super::app::*;

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
    /// Nhập danh sách mô hình từ tệp CSV, XLSX, XLS hoặc ODS, ghi thẳng vào cơ sở dữ liệu, dưới
    /// tên một tài khoản (quyền của tài khoản đó được áp dụng). Import a model list; nothing is
    /// written while any row is wrong (each is listed) unless --good-rows-only; rows already
    /// imported are left as they are.
    ImportModels {
        /// The file (Excel's .xlsx/.xls, LibreOffice's .ods, or CSV in UTF-8).
        file: PathBuf,
        /// The account the models are imported as: its grants decide what it may import
        /// (recognised models need a reviewer at the level recognised).
        #[arg(long = "as", value_name = "USERNAME")]
        username: String,
        /// Import the good rows even though others are wrong.
        #[arg(long)]
        good_rows_only: bool,
        /// Check the file only; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// What a header the import does not recognise holds: "HEADER=code" (codes: ten_mo_hinh,
        /// don_vi, linh_vuc, nam, tinh_trang, … or bo_qua to leave it out). Repeatable.
        #[arg(long = "column", value_name = "HEADER=CODE")]
        columns: Vec<String>,
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
    /// Sao lưu cơ sở dữ liệu SQLite (cả ảnh) vào một tệp, trong khi máy chủ vẫn chạy. A consistent
    /// copy of the running SQLite store, photos included, in one file. PostgreSQL: use pg_dump.
    Backup {
        /// The backup file to write (e.g. /var/backups/danvan-2026-12-02.sqlite3).
        file: PathBuf,
        /// Replace FILE if it exists.
        #[arg(long)]
        force: bool,
    },
    /// Khôi phục từ bản sao lưu (dừng máy chủ trước). Replaces the SQLite store with a backup; the
    /// server must be stopped. The replaced database is kept as …before-restore-<time>.
    Restore {
        /// A file written by `danvan-server backup`.
        file: PathBuf,
    },
    /// Xuất mô hình của một đơn vị và các đơn vị cấp dưới ra JSON lines và CSV. Writes a unit
    /// subtree's models to FILE.jsonl and FILE.csv (UTF-8 with BOM); SQLite or PostgreSQL.
    Export {
        /// Unit code (from the imported tree).
        #[arg(long)]
        unit: String,
        /// Where to write: FILE.jsonl and FILE.csv (FILE may end in .jsonl or .csv).
        file: PathBuf,
        /// Replace the files if they exist.
        #[arg(long)]
        force: bool,
    },
}

/// Backup and restore copy the SQLite file; a PostgreSQL deployment has its own tools for that.
const USE_PG_DUMP: &str = "máy chủ dùng PostgreSQL (--database-url): lệnh này chỉ dành cho SQLite. Hãy sao lưu bằng \
     `pg_dump --format=custom --file=danvan.dump \"$DANVAN_DATABASE_URL\"` và khôi phục bằng \
     `pg_restore --clean --if-exists --dbname=\"$DANVAN_DATABASE_URL\" danvan.dump` (README, mục Sao lưu)";

/// `backup`, `restore`, `export`: prints what was done; Err says why not.
async fn backup_restore_export(config: &Config, command: Command) -> anyhow::Result<bool> {
    use crate::server::backup;
    let mb = |bytes: u64| format!("{:.1} MB", bytes as f64 / 1_000_000.0);
    match command {
        Command::Backup { file, force } => {
            if config.database_url.is_some() {
                anyhow::bail!(USE_PG_DUMP);
            }
            let done = backup::backup_sqlite(&config.database, &file, force)?;
            let s = &done.summary;
            println!(
                "Đã sao lưu vào {}: {} tài liệu, {} ảnh, {} tài khoản, {} ({:.2} s).",
                done.file.display(),
                s.documents,
                s.photos,
                s.users,
                mb(s.bytes),
                done.took.as_secs_f64()
            );
            Ok(true)
        }
        Command::Restore { file } => {
            if config.database_url.is_some() {
                anyhow::bail!(USE_PG_DUMP);
            }
            let done = backup::restore_sqlite(&config.database, &file, now_ms())?;
            let s = &done.restored;
            println!(
                "Đã khôi phục {} từ {}: {} tài liệu, {} ảnh, {} tài khoản ({:.2} s).",
                config.database.display(),
                file.display(),
                s.documents,
                s.photos,
                s.users
                , done.took.as_secs_f64()
            );
            match (&done.kept, &done.replaced) {
                (Some(kept), Some(r)) => println!(
                    "Cơ sở dữ liệu cũ ({} tài liệu, {} ảnh) được giữ ở {}.",
                    r.documents,
                    r.photos,
                    kept.display()
                ),
                (Some(kept), None) => println!("Tệp cũ được giữ ở {}.", kept.display()),
                _ => {}
            }
            println!(
                "Khi máy chủ chạy lại, mỗi thiết bị gửi lại toàn bộ mô hình của mình ở lần đồng bộ tới, nên những thay đổi mới hơn \
                 bản sao lưu sẽ trở về. Tài khoản và phiên đăng nhập trở về như lúc sao lưu: ai đăng nhập sau thời điểm đó \
                 phải đăng nhập lại; ảnh tải lên sau thời điểm đó không có trên máy chủ."
            );
            Ok(true)
        }
        Command::Export { unit, file, force } => {
            let store = open_store(config).await?;
            let done = backup::export_unit(store.as_ref(), &unit, &file, force).await?;
            println!(
                "Đã xuất {} mô hình (của {} đơn vị có mô hình) thuộc {unit} và các đơn vị cấp dưới vào {} và {} ({:.2} s).",
                done.models,
                done.units,
                done.jsonl.display(),
                done.csv.display(),
                done.took.as_secs_f64()
            );
            if !done.skipped.is_empty() {
                eprintln!("{} tài liệu không đọc được như mô hình, không xuất:", done.skipped.len());
                for (id, reason) in &done.skipped {
                    eprintln!("  {id}: {reason}");
                }
            }
            Ok(true)
        }
        _ => unreachable!("handled elsewhere"),
    }
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
        Command::ImportUnits { .. } | Command::ImportModels { .. } | Command::Backup { .. } | Command::Restore { .. } | Command::Export { .. } => {
            unreachable!("handled by import_units and backup_restore_export")
        }
    }
}

async fn create_user(
    store: &dyn Store,
    username: String,
    unit: String,
    role: crate::domain::Role,
    name: Option<String>,
) -> anyhow::Result<bool> {
    use crate::server::store::{StoreError, User};
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

/// `import-models`: prints what was imported, or every bad row (and writes nothing).
async fn import_models(config: &Config, file: &std::path::Path, username: &str, options: crate::server::import::ImportOptions) -> anyhow::Result<bool> {
    use crate::domain::format_count_vi as n;
    let bytes = std::fs::read(file).map_err(|e| anyhow::anyhow!("không đọc được tệp {}: {e}", file.display()))?;
    let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let store = open_store(config).await?;
    let started = std::time::Instant::now();
    let outcome = crate::server::import::import_models(store.as_ref(), username, &name, bytes, &options, crate::server::now_ms())
        .await
        .map_err(|e| anyhow::anyhow!("không nhập được {}: {e}", file.display()))?;
    let seconds = started.elapsed().as_secs_f64();
    for e in &outcome.errors {
        eprintln!("  {e}");
    }
    if !outcome.unknown_units.is_empty() {
        eprintln!("Đơn vị không tìm thấy hoặc ngoài quyền của {username}: {}", outcome.unknown_units.join("; "));
    }
    let bad = crate::import::bad_rows(&outcome.errors);
    if !outcome.written {
        let why = if options.dry_run { "chạy thử (--dry-run)" } else { "còn dòng lỗi; sửa tệp rồi chạy lại, hoặc dùng --good-rows-only để chỉ nhập các dòng đúng" };
        println!(
            "Chưa ghi gì ({why}). {} dòng: {} dòng đúng (trong đó {} đã có), {} dòng lỗi. {:.1} s.",
            n(outcome.rows),
            n(outcome.rows - bad),
            n(outcome.already),
            n(bad),
            seconds
        );
        return Ok(options.dry_run && bad == 0);
    }
    println!(
        "Đã nhập {} dòng: {} mô hình mới, {} đã có từ trước (không đổi), {} dòng lỗi không nhập. {:.1} s.",
        n(outcome.rows),
        n(outcome.created),
        n(outcome.already),
        n(bad),
        seconds
    );
    Ok(true)
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
                Command::ImportModels { file, username, good_rows_only, dry_run, columns } => {
                    let columns: Result<Vec<(String, String)>, _> = columns
                        .iter()
                        .map(|c| c.rsplit_once('=').map(|(h, c)| (h.to_string(), c.trim().to_string())).ok_or(c))
                        .collect();
                    match columns {
                        Ok(columns) => {
                            let options = crate::server::import::ImportOptions { good_rows_only, dry_run, columns, ..Default::default() };
                            import_models(&config, &file, &username, options).await
                        }
                        Err(bad) => Err(anyhow::anyhow!("--column “{bad}”: hãy ghi dạng \"TIÊU ĐỀ=mã_cột\"")),
                    }
                }
                c @ (Command::Backup { .. } | Command::Restore { .. } | Command::Export { .. }) => {
                    backup_restore_export(&config, c).await
                }
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
