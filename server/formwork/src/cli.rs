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
    /// Re-walk the hash chain and check every signed checkpoint in it; names the first
    /// entry that does not match. Checkpoints count when signed by the key in
    /// `[audit] signing_key` (when that file is here) or a --trusted-key.
    Verify {
        /// A public key (hex, from `formwork audit key` or `GET /api/v1/audit/key`)
        /// whose checkpoints count; may be given more than once.
        #[arg(long = "trusted-key")]
        trusted_keys: Vec<String>,
        /// An export file (its closing checkpoint) or a checkpoint kept from earlier: the
        /// log must still have that hash at that entry.
        #[arg(long)]
        anchor: Option<PathBuf>,
    },
    /// Check an export from `GET /api/v1/audit/export` (JSON lines): every entry's hash,
    /// every link between consecutive entries, and the closing signed checkpoint. Needs
    /// no database.
    VerifyExport {
        file: PathBuf,
        /// A public key (hex) the closing checkpoint must be signed with.
        #[arg(long = "trusted-key")]
        trusted_keys: Vec<String>,
    },
    /// Append a signed checkpoint of the chain head now (the server also writes one at
    /// every export and every `[audit] checkpoint_minutes`).
    Checkpoint,
    /// Print the public key that signs checkpoints (for inspectors: --trusted-key).
    Key,
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
            command: AuditCommand::VerifyExport { file, trusted_keys },
        } => {
            use std::io::BufRead;
            let f = std::fs::File::open(&file)?;
            let lines = std::io::BufReader::new(f).lines().map_while(Result::ok);
            match crate::service::audit::verify_export(lines, &trusted_keys) {
                Ok(r) => {
                    match r.checkpoint {
                        Some((seq, key)) => println!(
                            "export intact: {} entries verified; closing checkpoint of entry {seq} signed by key {key}",
                            r.entries
                        ),
                        None => println!(
                            "export intact: {} entries verified (no closing checkpoint)",
                            r.entries
                        ),
                    }
                    Ok(())
                }
                Err(m) => anyhow::bail!("export broken: {m}"),
            }
        }
        Command::Audit {
            command:
                AuditCommand::Verify {
                    mut trusted_keys,
                    anchor,
                },
        } => {
            use crate::store::audit::{Trust, Verdict, verify_with};
            if let Some(s) = crate::store::signing::Signer::load(&settings.audit.signing_key)? {
                trusted_keys.push(s.public_hex().to_owned());
            }
            let anchor = match anchor {
                Some(path) => Some(read_anchor(&path)?),
                None => None,
            };
            let db = crate::store::db::Db::connect(&settings.database).await?;
            let trust = Trust {
                keys: trusted_keys,
                anchor,
            };
            match verify_with(&db, &trust).await? {
                Verdict::Intact {
                    entries,
                    checkpoints,
                    keys,
                } => {
                    let keys: Vec<String> = keys.into_iter().collect();
                    println!(
                        "operation log intact: {entries} entries verified, {checkpoints} signed checkpoints (keys: {}){}",
                        if keys.is_empty() {
                            "none".into()
                        } else {
                            keys.join(", ")
                        },
                        if trust.anchor.is_some() {
                            "; the anchor matches"
                        } else {
                            ""
                        }
                    );
                    Ok(())
                }
                Verdict::Broken { seq, reason } => {
                    anyhow::bail!("operation log broken at entry {seq}: {reason}")
                }
            }
        }
        Command::Audit {
            command: AuditCommand::Checkpoint,
        } => {
            let signer = std::sync::Arc::new(crate::store::signing::Signer::load_or_create(
                &settings.audit.signing_key,
            )?);
            let services = Services::start(&settings).await?;
            let cp = services.records.checkpoint(&signer, true).await;
            services.finish().await;
            let cp = cp?;
            println!("{}", serde_json::json!({"checkpoint": cp}));
            Ok(())
        }
        Command::Audit {
            command: AuditCommand::Key,
        } => {
            let signer =
                crate::store::signing::Signer::load_or_create(&settings.audit.signing_key)?;
            println!(
                "{} (Ed25519, key {})",
                signer.public_hex(),
                crate::store::signing::key_id(signer.public_hex())
            );
            Ok(())
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

/// A checkpoint to hold the log to: the last `{"checkpoint": …}` line of an export, or a
/// checkpoint object; its signature must hold.
fn read_anchor(path: &std::path::Path) -> anyhow::Result<crate::store::signing::Checkpoint> {
    let text = std::fs::read_to_string(path)?;
    let found = text
        .lines()
        .rev()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find_map(|v| match v.get("checkpoint") {
            Some(cp) => Some(cp.clone()),
            None => v.get("signature").is_some().then_some(v),
        })
        .ok_or_else(|| anyhow::anyhow!("{} holds no checkpoint", path.display()))?;
    crate::store::signing::check(&found).map_err(|m| anyhow::anyhow!("the anchor: {m}"))
}
