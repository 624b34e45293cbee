//! Typed settings: an embedded default file, then an optional config file, then
//! `FORMWORK_*` environment variables (`__` separates sections).

use figment::{
    Figment,
    providers::{Env, Format, Toml},
};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};

const DEFAULTS: &str = include_str!("default-config.toml");

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub storage: StorageSettings,
    pub audit: AuditSettings,
    pub log: LogSettings,
    pub auth: AuthSettings,
    pub flows: FlowSettings,
    pub smtp: SmtpSettings,
    pub testing: TestingSettings,
}

/// For test servers only.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct TestingSettings {
    /// Let administrators move the server's clock forward (`POST /api/v1/admin/clock`),
    /// so scenario tests drive timers by time. Never on in production.
    pub clock: bool,
}

/// Flows' external effects (docs/flows.md#outbox).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct FlowSettings {
    /// Destinations an HTTP or webhook node may reach although they are loopback,
    /// private, link-local or metadata addresses: `host`, `host:port`, or a CIDR block.
    pub http_allow: Vec<String>,
    /// Seconds an outbox claim lasts; a worker that dies leaves its claims to others then.
    pub outbox_lease: u64,
    /// Deliveries tried before an effect is marked failed.
    pub outbox_max_attempts: i64,
    /// Seconds before the first retry; doubled for each further one (capped at an hour).
    pub outbox_backoff: u64,
    /// Seconds an HTTP request or SMTP conversation may take.
    pub request_timeout: u64,
}

/// The SMTP server flows send email through. No host: email effects wait (and retry)
/// until one is configured.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    /// "none" (plain), "starttls", or "tls" (implicit TLS, usually port 465).
    pub tls: String,
    pub username: String,
    pub password: Secret,
    /// The sender, e.g. `Formwork <noreply@example.com>`.
    pub from: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct AuthSettings {
    /// Hours a login session lasts.
    pub session_hours: u64,
    /// Mark the session cookie `Secure` (serve over HTTPS, or behind a TLS proxy).
    pub secure_cookie: bool,
    /// Failed logins per account within `failure_window` seconds before refusing.
    pub max_failures_per_user: i64,
    /// Failed logins per client address within the window before refusing.
    pub max_failures_per_address: i64,
    pub failure_window: u64,
    /// Username of the first administrator, created on first start when there are no users.
    pub initial_admin: String,
    /// Its password; when empty, a random one is generated and printed once on the terminal.
    pub initial_admin_password: Secret,
    /// SQLite: keep the credentials a request read until an identity change (in any process
    /// on the file) or 10 s; false reads them on every request. PostgreSQL always reads.
    pub keep_credentials: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    pub body_limit: usize,
    pub import_limit: usize,
    pub shutdown_grace: u64,
    pub web_dir: PathBuf,
    /// Reverse proxies whose `X-Forwarded-For` is believed (see [`TrustedProxy`]).
    #[serde(default)]
    pub trusted_proxies: Vec<TrustedProxy>,
}

/// An address or CIDR block of a reverse proxy in front of Formwork. A request from one of
/// them takes its client address from `X-Forwarded-For`; from anyone else that header is
/// ignored, so a client cannot choose the address its logins are counted and logged under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrustedProxy(pub ipnet::IpNet);

impl std::str::FromStr for TrustedProxy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if let Ok(net) = s.parse::<ipnet::IpNet>() {
            return Ok(TrustedProxy(net.trunc()));
        }
        s.parse::<std::net::IpAddr>()
            .map(|ip| TrustedProxy(ipnet::IpNet::from(ip)))
            .map_err(|_| {
                format!("{s:?} is not an IP address or CIDR block (e.g. 10.0.0.5 or 10.0.0.0/8)")
            })
    }
}

impl<'de> Deserialize<'de> for TrustedProxy {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl Serialize for TrustedProxy {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0.to_string())
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct DatabaseSettings {
    pub url: SecretUrl,
    pub pool_size: u32,
    pub max_batch: usize,
    /// SQLite: milliseconds a write waits for another process's lock (another server, the
    /// CLI, a backup) before the writer gives up on that attempt and runs it again.
    #[serde(default = "default_busy_timeout")]
    pub busy_timeout: u64,
}

fn default_busy_timeout() -> u64 {
    10_000
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct StorageSettings {
    pub files_dir: PathBuf,
    pub max_file_size: u64,
}

/// The operation log's checkpoints (store::signing).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct AuditSettings {
    /// The Ed25519 key that signs checkpoints (PKCS#8), created on the first `serve`.
    /// Keep it apart from the database's backups; every server process on one database
    /// uses the same file.
    pub signing_key: PathBuf,
    /// Minutes between checkpoints while new entries arrive (0: only at exports and with
    /// `formwork audit checkpoint`).
    pub checkpoint_minutes: u64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct LogSettings {
    pub format: LogFormat,
    pub level: String,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// A secret (password) that never reaches logs or `Debug` output.
#[derive(Clone, Default, Deserialize, Serialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() { "\"\"" } else { "***" })
    }
}

/// A database URL whose password never reaches logs or `Debug` output.
#[derive(Clone, Deserialize, Serialize)]
#[serde(transparent)]
pub struct SecretUrl(String);

impl SecretUrl {
    pub fn new(url: impl Into<String>) -> Self {
        Self(url.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
    /// The URL with any password replaced by `***`.
    pub fn redacted(&self) -> String {
        match (self.0.find("://"), self.0.rfind('@')) {
            (Some(scheme_end), Some(at)) if at > scheme_end => {
                let userinfo = &self.0[scheme_end + 3..at];
                match userinfo.find(':') {
                    Some(colon) => format!(
                        "{}{}:***{}",
                        &self.0[..scheme_end + 3],
                        &userinfo[..colon],
                        &self.0[at..]
                    ),
                    None => self.0.clone(),
                }
            }
            _ => self.0.clone(),
        }
    }
}

impl fmt::Debug for SecretUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl Settings {
    /// Defaults, then `file` (if given), then the environment.
    pub fn load(file: Option<&Path>) -> Result<Self, Box<figment::Error>> {
        let mut figment = Figment::from(Toml::string(DEFAULTS));
        if let Some(file) = file {
            figment = figment.merge(Toml::file_exact(file));
        }
        figment
            .merge(Env::prefixed("FORMWORK_").split("__").ignore(&["CONFIG"]))
            .extract()
            .map_err(Box::new)
    }

    /// Only the embedded defaults (used by tests, which then adjust fields).
    pub fn defaults() -> Self {
        Figment::from(Toml::string(DEFAULTS))
            .extract()
            .expect("embedded default configuration is valid")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        let url = SecretUrl::new("postgres://app:s3cret@db:5432/formwork");
        assert_eq!(url.redacted(), "postgres://app:***@db:5432/formwork");
        assert!(!format!("{url:?}").contains("s3cret"));
    }

    #[test]
    fn defaults_point_at_sqlite_under_data() {
        let s = Settings::defaults();
        assert_eq!(s.database.url.expose(), "sqlite://data/formwork.db");
    }
}
