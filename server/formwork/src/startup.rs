//! Building and running the server; tests build the same `Application` on port 0.

use std::future::IntoFuture;
use std::net::SocketAddr;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::api::{AppState, router};
use crate::auth::AuthService;
use crate::config::Settings;
use crate::service::files::FileService;
use crate::service::forms::FormService;
use crate::service::records::RecordService;
use crate::store::db::Db;
use crate::store::migrate;
use crate::store::writer::Writer;

/// The services of one server process, without HTTP (the CLI uses these directly).
pub struct Services {
    pub db: Db,
    pub forms: FormService,
    pub records: RecordService,
    pub files: FileService,
    pub auth: AuthService,
    pub flows: crate::flows::FlowService,
    pub reports: crate::reports::ReportService,
    writer_task: JoinHandle<()>,
    /// Background tasks holding writer handles; stopped before the writer drains.
    maintenance: Vec<JoinHandle<()>>,
}

impl Services {
    /// What an app package's import and export use.
    pub fn package(&self) -> crate::service::package::Services<'_> {
        crate::service::package::Services {
            forms: &self.forms,
            records: &self.records,
            auth: &self.auth,
            flows: &self.flows,
            reports: &self.reports,
        }
    }

    pub async fn start(settings: &Settings) -> anyhow::Result<Services> {
        let db = Db::connect(&settings.database).await?;
        migrate::run(&db).await?;
        let (writer, writer_task) = Writer::start(db.clone(), settings.database.max_batch);
        let forms = FormService::new(db.clone(), writer.clone());
        let auth = AuthService::new(
            db.clone(),
            writer.clone(),
            forms.clone(),
            settings.auth.clone(),
        );
        let records = RecordService::new(db.clone(), writer.clone(), forms.clone(), auth.clone());
        let engine = crate::flows::FlowEngine::new(
            db.clone(),
            writer.clone(),
            forms.clone(),
            records.clone(),
            auth.clone(),
            settings.flows.clone(),
            settings.smtp.clone(),
        );
        let flows = crate::flows::FlowService::new(engine);
        let reports = crate::reports::ReportService::new(
            db.clone(),
            writer.clone(),
            forms.clone(),
            auth.clone(),
        );
        flows.engine.set_reports(reports.clone());
        let files = FileService::new(
            db.clone(),
            writer,
            settings.storage.files_dir.clone(),
            settings.storage.max_file_size,
        );
        Ok(Services {
            db,
            forms,
            records,
            files,
            auth,
            flows,
            reports,
            writer_task,
            maintenance: Vec::new(),
        })
    }

    /// Drop every writer handle and wait for queued writes to commit.
    pub async fn finish(self) {
        let Services {
            forms,
            records,
            files,
            auth,
            flows,
            reports,
            writer_task,
            maintenance,
            ..
        } = self;
        for m in maintenance {
            m.abort();
            let _ = m.await;
        }
        drop(forms);
        drop(records);
        drop(files);
        drop(auth);
        drop(flows);
        drop(reports);
        let _ = writer_task.await;
    }
}

pub struct Application {
    listener: TcpListener,
    services: Services,
    settings: Settings,
    signer: std::sync::Arc<crate::store::signing::Signer>,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Application> {
        let mut services = Services::start(&settings).await?;
        let signer = std::sync::Arc::new(
            crate::store::signing::Signer::load_or_create(&settings.audit.signing_key).map_err(
                |e| {
                    anyhow::anyhow!(
                        "the audit signing key ({}): {e}",
                        settings.audit.signing_key.display()
                    )
                },
            )?,
        );
        services.maintenance = vec![
            crate::store::maintenance::start(services.forms.writer(), services.db.clone()),
            services.auth.start_cleanup(),
            // The flow worker: timers that fell due while the server was down fire now.
            services.flows.engine.spawn(),
            // External effects (email, webhooks, HTTP) committed by flow steps.
            services.flows.engine.spawn_outbox(),
            // The report caches, rebuilt from the database (docs/reports.md).
            {
                let reports = services.reports.clone();
                tokio::spawn(async move {
                    let started = std::time::Instant::now();
                    match reports.warm().await {
                        Ok(n) => tracing::info!(
                            caches = n,
                            ms = started.elapsed().as_millis() as u64,
                            "report caches built"
                        ),
                        Err(e) => {
                            tracing::warn!(error = %e, "report caches not built at start; each is built by its first run")
                        }
                    }
                })
            },
        ];
        services.maintenance.extend(
            services
                .records
                .start_checkpoints(signer.clone(), settings.audit.checkpoint_minutes),
        );
        if let Some(password) = services.auth.bootstrap_admin().await? {
            // On the terminal only: never into the log or the database in clear.
            eprintln!(
                "\n  Formwork: first administrator created.\n  Log in as {:?} with the password {password:?}\n  (shown once; change it after logging in, or reset it with `formwork user password {}`).\n",
                settings.auth.initial_admin, settings.auth.initial_admin
            );
        }
        let listener =
            TcpListener::bind((settings.server.host.as_str(), settings.server.port)).await?;
        Ok(Application {
            listener,
            services,
            settings,
            signer,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Serve until `shutdown` resolves, then finish in-flight requests and queued writes.
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let Application {
            listener,
            services,
            settings,
            signer,
        } = self;
        let state = AppState::new(crate::api::Shared {
            db: services.db.clone(),
            forms: services.forms.clone(),
            records: services.records.clone(),
            files: services.files.clone(),
            auth: services.auth.clone(),
            flows: services.flows.clone(),
            reports: services.reports.clone(),
            auth_settings: settings.auth.clone(),
            trusted_proxies: settings.server.trusted_proxies.clone(),
            import_limit: settings.server.import_limit,
            testing_clock: settings.testing.clock,
            signer,
        });
        let app = router(state, settings.server.body_limit, &settings.server.web_dir);
        tracing::info!(address = %listener.local_addr()?, database = %settings.database.url.redacted(), "formwork is serving");
        // After the signal, in-flight requests get `shutdown_grace` seconds; then remaining
        // connections are dropped. Either way, writes already queued are committed.
        let (stopping, mut stopped) = tokio::sync::watch::channel(false);
        let signal = async move {
            shutdown.await;
            let _ = stopping.send(true);
        };
        let grace = std::time::Duration::from_secs(settings.server.shutdown_grace);
        let deadline = async move {
            let _ = stopped.wait_for(|s| *s).await;
            tokio::time::sleep(grace).await;
        };
        let server = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(signal);
        tokio::select! {
            result = server.into_future() => result?,
            _ = deadline => tracing::warn!(seconds = grace.as_secs(), "shutdown grace period over; closing the remaining connections"),
        }
        services.finish().await;
        tracing::info!("formwork stopped");
        Ok(())
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
