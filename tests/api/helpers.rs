//! Spawning a real server (real SQLite file or a fresh PostgreSQL database) on port 0 and
//! talking to it over HTTP.

use formwork::config::{SecretUrl, Settings};
use formwork::startup::Application;
use reqwest::{Client, Response, StatusCode};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicU32, Ordering};
use tokio::sync::oneshot;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Store {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub base: String,
    pub client: Client,
    /// The administrator's API token `client` sends.
    pub token: String,
    pub store: Store,
    pub dir: tempfile::TempDir,
    pub db_url: String,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

static DB_COUNTER: AtomicU32 = AtomicU32::new(0);

/// The PostgreSQL server the test command started (`scripts/pg-test-cluster.sh`).
pub fn pg_admin_url() -> String {
    std::env::var("FORMWORK_TEST_PG").expect(
        "FORMWORK_TEST_PG is not set: run the suite with `make test`, which starts a PostgreSQL server",
    )
}

/// A fresh, empty database on the test PostgreSQL server.
pub async fn fresh_pg_database() -> String {
    let admin = pg_admin_url();
    let name = format!(
        "fw_{}_{}_{}",
        std::process::id(),
        DB_COUNTER.fetch_add(1, Ordering::SeqCst),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
    );
    let out = tokio::process::Command::new("psql")
        .arg(&admin)
        .args(["-q", "-c", &format!("CREATE DATABASE {name}")])
        .output()
        .await
        .expect("psql runs");
    assert!(
        out.status.success(),
        "CREATE DATABASE failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
    format!("{base}/{name}")
}

pub fn settings_for(_store: Store, dir: &std::path::Path, db_url: &str) -> Settings {
    let mut s = Settings::defaults();
    s.server.port = 0;
    // No web UI unless a test puts one into <dir>/web before starting the server.
    s.server.web_dir = dir.join("web");
    s.storage.files_dir = dir.join("files");
    s.audit.signing_key = dir.join("audit-signing.key");
    s.database.url = SecretUrl::new(db_url);
    s.database.pool_size = 4;
    s.auth.initial_admin_password = formwork::config::Secret::new(ADMIN_PASSWORD);
    // Flow effects: the tests' HTTP receivers listen on loopback; retries come quickly.
    s.flows.http_allow = vec!["127.0.0.1".into()];
    s.flows.outbox_backoff = 1;
    s.flows.outbox_lease = 5;
    s.flows.request_timeout = 5;
    // Scenario tests move the server's clock instead of sleeping (TestApp::advance).
    s.testing.clock = true;
    s
}

/// The first administrator's password in every test server.
pub const ADMIN_PASSWORD: &str = "test-admin-password";

/// Log in; returns the session secret (cookie value) and the CSRF token.
pub async fn login(base: &str, user: &str, password: &str) -> (String, String) {
    let r = Client::new()
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": user, "password": password}))
        .send()
        .await
        .expect("login request");
    let status = r.status();
    let cookie = r
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .and_then(|kv| kv.strip_prefix("fw_session="))
        .map(str::to_owned);
    let body: Value = r.json().await.unwrap_or(Value::Null);
    assert_eq!(status, StatusCode::OK, "login as {user}: {body}");
    (
        cookie.expect("a session cookie"),
        body["csrf_token"].as_str().unwrap_or_default().to_owned(),
    )
}

/// A new API token of `user`, made from a login session (optionally bound to a role).
pub async fn token_for(
    base: &str,
    user: &str,
    password: &str,
    bind: Option<(&str, &str)>,
) -> String {
    let (cookie, csrf) = login(base, user, password).await;
    let mut body = json!({"name": "tests"});
    if let Some((app, role)) = bind {
        body["app"] = json!(app);
        body["role"] = json!(role);
    }
    let r = Client::new()
        .post(format!("{base}/api/v1/auth/tokens"))
        .header("cookie", format!("fw_session={cookie}"))
        .header("x-csrf-token", csrf)
        .json(&body)
        .send()
        .await
        .expect("token request");
    let status = r.status();
    let v: Value = r.json().await.unwrap_or(Value::Null);
    assert_eq!(status, StatusCode::CREATED, "token for {user}: {v}");
    v["token"].as_str().expect("token text").to_owned()
}

/// A client that sends `token` with every request.
pub fn client_with(token: &str) -> Client {
    let mut h = reqwest::header::HeaderMap::new();
    h.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {token}").parse().expect("header"),
    );
    Client::builder()
        .default_headers(h)
        .build()
        .expect("client")
}

/// A direct connection to a store, as someone with the database file or a database login
/// has (tamper tests, counts the API does not give).
pub async fn direct_db(url: &str) -> formwork::store::db::Db {
    formwork::store::db::Db::connect(&formwork::config::DatabaseSettings {
        url: formwork::config::SecretUrl::new(url.to_owned()),
        pool_size: 2,
        max_batch: 1,
        busy_timeout: 10_000,
    })
    .await
    .expect("a direct connection")
}

/// A client acting as the first administrator.
pub async fn admin_client(base: &str) -> Client {
    client_with(&token_for(base, "admin", ADMIN_PASSWORD, None).await)
}

impl TestApp {
    pub async fn spawn(store: Store) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let db_url = match store {
            Store::Sqlite => format!("sqlite://{}", dir.path().join("formwork.db").display()),
            Store::Postgres => fresh_pg_database().await,
        };
        Self::spawn_with(store, dir, db_url).await
    }

    pub async fn spawn_with(store: Store, dir: tempfile::TempDir, db_url: String) -> TestApp {
        Self::spawn_configured_in(store, dir, db_url, |_| {}).await
    }

    /// A server whose settings `configure` adjusts first (e.g. an SMTP server).
    pub async fn spawn_configured(store: Store, configure: impl FnOnce(&mut Settings)) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let db_url = match store {
            Store::Sqlite => format!("sqlite://{}", dir.path().join("formwork.db").display()),
            Store::Postgres => fresh_pg_database().await,
        };
        Self::spawn_configured_in(store, dir, db_url, configure).await
    }

    async fn spawn_configured_in(
        store: Store,
        dir: tempfile::TempDir,
        db_url: String,
        configure: impl FnOnce(&mut Settings),
    ) -> TestApp {
        let mut settings = settings_for(store, dir.path(), &db_url);
        configure(&mut settings);
        let app = Application::build(settings)
            .await
            .expect("the server starts");
        let base = format!("http://{}", app.local_addr());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            app.run_until(async {
                let _ = stopped.await;
            })
            .await
            .expect("the server runs");
        });
        let token = token_for(&base, "admin", ADMIN_PASSWORD, None).await;
        let client = client_with(&token);
        TestApp {
            base,
            client,
            token,
            store,
            dir,
            db_url,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Stop gracefully and wait until queued writes are committed.
    pub async fn stop(mut self) -> (tempfile::TempDir, String) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap());
        (dir, self.db_url.clone())
    }

    /// Move this server's clock forward (`POST /admin/clock`): timers that fall due in
    /// that time fire as if it had passed.
    pub async fn advance(&self, seconds: f64) {
        let r = self
            .post("/admin/clock", &json!({"advance_seconds": seconds}))
            .await;
        assert_eq!(r.status(), StatusCode::OK, "advance the clock");
    }

    /// A client of its own (own connection pool) acting as the administrator.
    pub fn fresh_client(&self) -> Client {
        client_with(&self.token)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}/api/v1{}", self.base, path)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request")
    }

    pub async fn post(&self, path: &str, body: &Value) -> Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn put(&self, path: &str, body: &Value) -> Response {
        self.client
            .put(self.url(path))
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn patch(&self, path: &str, body: &Value) -> Response {
        self.client
            .patch(self.url(path))
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn delete(&self, path: &str) -> Response {
        self.client
            .delete(self.url(path))
            .send()
            .await
            .expect("request")
    }

    /// Create the app `key` (idempotent).
    pub async fn app(&self, key: &str) {
        let r = self
            .put(
                &format!("/apps/{key}"),
                &json!({"key": key, "label": {"en": key}, "time_zone": "Asia/Shanghai"}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    }

    /// Publish a form from a schema (the app must exist); returns the response.
    pub async fn publish_schema(&self, app: &str, form: &str, schema: Value) -> Response {
        self.post(
            &format!("/apps/{app}/forms/{form}/publish"),
            &json!({"key": form, "label": {"en": form}, "schema": schema}),
        )
        .await
    }

    pub async fn publish_ok(&self, app: &str, form: &str, schema: Value) {
        let r = self.publish_schema(app, form, schema).await;
        let status = r.status();
        assert!(
            status.is_success(),
            "publish {form}: {status} {}",
            r.text().await.unwrap()
        );
    }

    pub async fn create(&self, app: &str, form: &str, data: Value) -> Response {
        self.post(
            &format!("/apps/{app}/forms/{form}/records"),
            &json!({"data": data}),
        )
        .await
    }

    pub async fn create_ok(&self, app: &str, form: &str, data: Value) -> Value {
        let r = self.create(app, form, data).await;
        let status = r.status();
        let body: Value = r.json().await.unwrap();
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body
    }

    pub async fn list(&self, app: &str, form: &str, query: &[(&str, String)]) -> Value {
        let r = self
            .client
            .get(self.url(&format!("/apps/{app}/forms/{form}/records")))
            .query(query)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let body: Value = r.json().await.unwrap();
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

/// Read a JSON body, asserting the status first.
pub async fn expect(r: Response, status: StatusCode) -> Value {
    let got = r.status();
    let text = r.text().await.unwrap();
    assert_eq!(got, status, "body: {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// Run a test body against SQLite and against PostgreSQL.
#[macro_export]
macro_rules! on_both_stores {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                let app = $crate::helpers::TestApp::spawn($crate::helpers::Store::Sqlite).await;
                ($body)(app).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                let app = $crate::helpers::TestApp::spawn($crate::helpers::Store::Postgres).await;
                ($body)(app).await;
            }
        }
    };
}

impl TestApp {
    /// Stop the server, then check the operation log: the chain verifies and the actions
    /// recorded for records are `expected`, in order.
    pub async fn stop_and_verify_log(self, expected: &[&str]) {
        let store = self.store;
        let (dir, url) = self.stop().await;
        let settings = settings_for(store, dir.path(), &url);
        let db = formwork::store::db::Db::connect(&settings.database)
            .await
            .unwrap();
        let verdict = formwork::store::audit::verify(&db).await.unwrap();
        assert!(
            matches!(verdict, formwork::store::audit::Verdict::Intact { .. }),
            "{verdict:?}"
        );
        let rows = db
            .query_all(
                "SELECT action FROM oplog WHERE action LIKE 'record.%' ORDER BY seq",
                vec![],
            )
            .await
            .unwrap();
        let actions: Vec<String> = rows
            .iter()
            .map(|r| r.try_get::<String>("", "action").unwrap())
            .collect();
        assert_eq!(actions, expected);
    }
}
