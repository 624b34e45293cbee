//! The `formwork` command line.

use clap::{Parser, Subcommand};
use std::path::PathBuf;

use crate::config::{LogFormat, Settings};
use crate::startup::{Application, Services, shutdown_signal};
use crate::store::oplog::Actor;

#[derive(Parser)]
#[command(
    name = "formwork",
    version,
    about = "Formwork: forms, flows and reports as definitions"
)]
pub struct Cli {
    /// Configuration file (TOML); FORMWORK_* environment variables override it.
    #[arg(long, global = true, env = "FORMWORK_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Take a consistent online backup of the SQLite store into FILE.
    Backup { file: PathBuf },
    /// The operation log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// App packages.
    App {
        #[command(subcommand)]
        command: AppCommand,
    },
    /// Users (the first administrator is also created on first `serve`).
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Generate deterministic demo data for an app from its package's demo.json.
    DemoData {
        /// The package folder (its demo.json gives counts per scale).
        package: PathBuf,
        /// small | large (or any scale demo.json defines)
        #[arg(long, default_value = "small")]
        scale: String,
        /// Seed (defaults to demo.json's).
        #[arg(long)]
        seed: Option<u64>,
        /// Only generate when the app has no records yet.
        #[arg(long)]
        if_empty: bool,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Re-walk the hash chain; names the first entry that does not match.
    Verify,
    /// Check an export from `GET /api/v1/audit/export` (JSON lines): every entry's hash
    /// and every link between consecutive entries. Needs no database.
    VerifyExport { file: PathBuf },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user; the password is read from standard input (one line) or from the
    /// environment variable named by --password-env.
    Add {
        username: String,
        #[arg(long)]
        display_name: Option<String>,
        #[arg(long)]
        department: Option<String>,
        /// Platform administrator.
        #[arg(long)]
        admin: bool,
        /// Platform auditor (reads the whole operation log).
        #[arg(long)]
        auditor: bool,
        #[arg(long)]
        password_env: Option<String>,
    },
    /// Set a user's password (read like `add`); ends the user's sessions.
    Password {
        username: String,
        #[arg(long)]
        password_env: Option<String>,
    },
}

fn read_password(env: Option<&str>) -> anyhow::Result<String> {
    if let Some(var) = env {
        return std::env::var(var).map_err(|_| anyhow::anyhow!("{var} is not set"));
    }
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\n', '\r']).to_owned())
}

#[derive(Subcommand)]
enum AppCommand {
    /// Import (idempotently) an app package folder.
    Import { dir: PathBuf },
    /// Export an app's definitions into a package folder.
    Export { app: String, dir: PathBuf },
}

fn init_logging(settings: &Settings) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("RUST_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(&settings.log.level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match settings.log.format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

pub async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let settings = Settings::load(cli.config.as_deref())?;
    init_logging(&settings);
    match cli.command {
        Command::Serve => {
            let app = Application::build(settings).await?;
            println!("Formwork is listening on http://{}", app.local_addr());
            app.run_until(shutdown_signal()).await
        }
        Command::Migrate => {
            Services::start(&settings).await?.finish().await;
            println!("migrations applied");
            Ok(())
        }
        Command::Backup { file } => {
            let services = Services::start(&settings).await?;
            if services.db.sqlite_path.is_none() {
                anyhow::bail!(
                    "`formwork backup` copies the SQLite store; back up PostgreSQL with pg_dump (docs/operations.md)"
                );
            }
            if file.exists() {
                anyhow::bail!("{} exists; choose a new file", file.display());
            }
            services.db.backup_sqlite(&file).await?;
            services.finish().await;
            println!("backup written to {}", file.display());
            Ok(())
        }
        Command::Audit {
            command: AuditCommand::VerifyExport { file },
        } => {
            use std::io::BufRead;
            let f = std::fs::File::open(&file)?;
            let lines = std::io::BufReader::new(f).lines().map_while(Result::ok);
            match crate::service::audit::verify_export(lines) {
                Ok(n) => {
                    println!("export intact: {n} entries verified");
                    Ok(())
                }
                Err(m) => anyhow::bail!("export broken: {m}"),
            }
        }
        Command::Audit {
            command: AuditCommand::Verify,
        } => {
            let db = crate::store::db::Db::connect(&settings.database).await?;
            match crate::store::audit::verify(&db).await? {
                crate::store::audit::Verdict::Intact { entries } => {
                    println!("operation log intact: {entries} entries verified");
                    Ok(())
                }
                crate::store::audit::Verdict::Broken { seq, reason } => {
                    anyhow::bail!("operation log broken at entry {seq}: {reason}")
                }
            }
        }
        Command::User { command } => {
            let services = Services::start(&settings).await?;
            let caller = cli_caller();
            let result = match command {
                UserCommand::Add {
                    username,
                    display_name,
                    department,
                    admin,
                    auditor,
                    password_env,
                } => {
                    let password = read_password(password_env.as_deref())?;
                    let role = match (admin, auditor) {
                        (true, _) => Some("admin"),
                        (_, true) => Some("auditor"),
                        _ => None,
                    };
                    let body = serde_json::json!({
                        "username": username,
                        "display_name": display_name.unwrap_or_else(|| username.clone()),
                        "department": department,
                        "platform_role": role,
                        "password": password,
                    });
                    services
                        .auth
                        .create_user(&caller, &body)
                        .await
                        .map(|_| format!("user {username} created"))
                }
                UserCommand::Password {
                    username,
                    password_env,
                } => {
                    let password = read_password(password_env.as_deref())?;
                    services
                        .auth
                        .update_user(
                            &caller,
                            &username,
                            &serde_json::json!({"password": password}),
                        )
                        .await
                        .map(|_| format!("password of {username} set; their sessions ended"))
                }
            };
            services.finish().await;
            match result {
                Ok(m) => {
                    println!("{m}");
                    Ok(())
                }
                Err(e) => anyhow::bail!("{e}{}", detail_lines(&e)),
            }
        }
        Command::App {
            command: AppCommand::Import { dir },
        } => {
            let services = Services::start(&settings).await?;
            let report =
                crate::service::package::import(&services.package(), &dir, &cli_caller()).await;
            services.finish().await;
            let report = report?;
            println!(
                "imported app {}: {} forms, {} newly published, {} roles, {} flows, {} reports, {} dashboards, {} shared views",
                report.app,
                report.forms,
                report.published,
                report.roles,
                report.flows,
                report.reports,
                report.dashboards,
                report.views
            );
            Ok(())
        }
        Command::App {
            command: AppCommand::Export { app, dir },
        } => {
            let services = Services::start(&settings).await?;
            let n = crate::service::package::export(&services.package(), &app, &dir).await;
            services.finish().await;
            println!("exported app {app}: {} forms into {}", n?, dir.display());
            Ok(())
        }
        Command::DemoData {
            package,
            scale,
            seed,
            if_empty,
        } => {
            let services = Services::start(&settings).await?;
            let out =
                crate::service::demo::generate(&services, &package, &scale, seed, if_empty).await;
            services.finish().await;
            println!("{}", out?);
            Ok(())
        }
    }
}

fn detail_lines(e: &crate::error::DomainError) -> String {
    use crate::error::DomainError as E;
    match e {
        E::Invalid { details, .. }
        | E::Conflict { details, .. }
        | E::BadRequest { details, .. } => details
            .iter()
            .map(|d| format!("\n  {}: {}", d.pointer, d.message))
            .collect(),
        _ => String::new(),
    }
}

fn cli_caller() -> crate::auth::Caller {
    let mut c = crate::auth::Caller::system();
    c.actor = cli_actor();
    c
}

fn cli_actor() -> Actor {
    Actor {
        user: std::env::var("USER")
            .map(|u| format!("cli:{u}"))
            .unwrap_or_else(|_| "cli".into()),
        department: None,
        address: None,
        client: Some(format!("formwork-cli/{}", env!("CARGO_PKG_VERSION"))),
    }
}
