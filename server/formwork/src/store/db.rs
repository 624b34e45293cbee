//! Connections to the one database a server uses: SQLite (embedded default) or PostgreSQL.
//!
//! SQLite runs in WAL mode with `synchronous=FULL`; all writes go through a single writer
//! connection (see [`crate::store::writer`]) and start with `BEGIN IMMEDIATE`, so
//! `SQLITE_BUSY` cannot drop work. Readers use their own pool.

use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr, QueryResult,
    Statement, Value,
};
use std::path::PathBuf;
use std::time::Duration;

use crate::config::DatabaseSettings;

/// Which SQL dialect a database speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn db_backend(self) -> DbBackend {
        match self {
            Backend::Sqlite => DbBackend::Sqlite,
            Backend::Postgres => DbBackend::Postgres,
        }
    }
}

/// A handle on the store: a read pool and the writer connection (the same pool on PostgreSQL).
#[derive(Clone, Debug)]
pub struct Db {
    pub backend: Backend,
    pub read: DatabaseConnection,
    pub write: DatabaseConnection,
    /// The SQLite file, for backups.
    pub sqlite_path: Option<PathBuf>,
    /// This server's time (crate::time).
    pub clock: std::sync::Arc<crate::time::Clock>,
    /// Moves after every committed identity change (store::generation).
    pub identity: std::sync::Arc<super::generation::Generation>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("unsupported database URL (expected sqlite://FILE or postgres://…): {0}")]
    UnsupportedUrl(String),
    #[error("cannot create the data directory {0}: {1}")]
    DataDir(PathBuf, std::io::Error),
    #[error("cannot open the identity counter beside {0}: {1}")]
    Identity(PathBuf, std::io::Error),
    #[error("cannot connect to the database: {0}")]
    Connect(#[from] DbErr),
}

impl Db {
    pub async fn connect(settings: &DatabaseSettings) -> Result<Self, ConnectError> {
        let url = settings.url.expose();
        if let Some(path) = url.strip_prefix("sqlite://") {
            Self::connect_sqlite(
                PathBuf::from(path),
                settings.pool_size,
                Duration::from_millis(settings.busy_timeout),
            )
            .await
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let mut opts = ConnectOptions::new(url.to_owned());
            opts.max_connections(settings.pool_size.max(2))
                .min_connections(1)
                .connect_timeout(Duration::from_secs(5))
                .acquire_timeout(Duration::from_secs(5))
                .sqlx_logging(false)
                .test_before_acquire(true);
            let conn = Database::connect(opts).await?;
            Ok(Db {
                backend: Backend::Postgres,
                read: conn.clone(),
                write: conn,
                sqlite_path: None,
                clock: Default::default(),
                identity: std::sync::Arc::new(super::generation::Generation::local()),
            })
        } else {
            Err(ConnectError::UnsupportedUrl(settings.url.redacted()))
        }
    }

    async fn connect_sqlite(
        path: PathBuf,
        readers: u32,
        busy_timeout: Duration,
    ) -> Result<Self, ConnectError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| ConnectError::DataDir(dir.to_owned(), e))?;
        }
        let base = SqliteConnectOptions::new()
            .filename(&path)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(busy_timeout)
            .foreign_keys(true);
        // Page caches: 64 MiB for the writer (a 100,000-row import changes more pages than
        // 32 MiB hold, and spilling them mid-transaction writes them twice), 8 MiB per
        // reader (memory stays bounded with many readers; the OS page cache holds the rest).
        // Statement journals (a multi-row INSERT inside the writer's transaction) stay in
        // memory instead of spilling to a temporary file.
        let writer_opts = base
            .clone()
            .create_if_missing(true)
            .pragma("cache_size", "-65536")
            .pragma("temp_store", "MEMORY");
        let mut w = ConnectOptions::new(format!("sqlite://{}", path.display()));
        w.max_connections(1)
            .min_connections(1)
            .sqlx_logging(false)
            .acquire_timeout(Duration::from_secs(30))
            .map_sqlx_sqlite_opts(move |_| writer_opts.clone());
        let write = Database::connect(w).await?;
        let reader_opts = base.read_only(true).pragma("cache_size", "-8192");
        let mut r = ConnectOptions::new(format!("sqlite://{}", path.display()));
        // A SQLite connection reads the planner's statistics when it opens, never again:
        // readers are renewed every minute so that a fresh ANALYZE (see maintenance.rs)
        // reaches their query plans. (Stale, empty statistics made a selective two-field
        // filter walk the whole form: 13 ms instead of 0.15 ms at 1M rows.)
        r.max_connections(readers.max(1))
            .min_connections(1)
            .max_lifetime(Duration::from_secs(60))
            .sqlx_logging(false)
            .acquire_timeout(Duration::from_secs(30))
            .map_sqlx_sqlite_opts(move |_| reader_opts.clone());
        let read = Database::connect(r).await?;
        let identity = super::generation::Generation::open_beside(&path)
            .map_err(|e| ConnectError::Identity(path.clone(), e))?;
        Ok(Db {
            backend: Backend::Sqlite,
            read,
            write,
            sqlite_path: Some(path),
            clock: Default::default(),
            identity: std::sync::Arc::new(identity),
        })
    }

    pub fn stmt(&self, sql: &str, values: Vec<Value>) -> Statement {
        Statement::from_sql_and_values(self.backend.db_backend(), sql, values)
    }

    pub async fn query_all(
        &self,
        sql: &str,
        values: Vec<Value>,
    ) -> Result<Vec<QueryResult>, DbErr> {
        self.read.query_all_raw(self.stmt(sql, values)).await
    }

    pub async fn query_one(
        &self,
        sql: &str,
        values: Vec<Value>,
    ) -> Result<Option<QueryResult>, DbErr> {
        self.read.query_one_raw(self.stmt(sql, values)).await
    }

    /// True when the database answers a trivial query.
    pub async fn ping(&self) -> bool {
        self.read
            .query_one_raw(self.stmt("SELECT 1", vec![]))
            .await
            .is_ok()
    }

    /// SQL for a JSON column's type in this dialect.
    pub fn json_type(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => "TEXT",
            Backend::Postgres => "JSONB",
        }
    }

    /// A consistent online copy of the SQLite store (`VACUUM INTO`).
    pub async fn backup_sqlite(&self, target: &std::path::Path) -> Result<(), DbErr> {
        let target = target.to_string_lossy().replace('\'', "''");
        self.write
            .execute_unprepared(&format!("VACUUM INTO '{target}'"))
            .await
            .map(|_| ())
    }
}
