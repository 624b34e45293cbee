//! Identity: login sessions with CSRF protection, rate limits, password changes, API
//! tokens, revocation (also across two server processes), secrets never stored or logged
//! in clear, the operation log's query, history and verifiable export.

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{ADMIN_PASSWORD, Store, TestApp, client_with, expect, login, token_for};
use crate::on_both_stores;
use crate::process::ServerProcess;

async fn me_with_cookie(app: &TestApp, cookie: &str) -> StatusCode {
    Client::new()
        .get(app.url("/auth/me"))
        .header("cookie", format!("fw_session={cookie}"))
        .send()
        .await
        .unwrap()
        .status()
}

async fn new_user(app: &TestApp, name: &str, password: &str) {
    let r = app
        .post(
            "/admin/users",
            &json!({"username": name, "display_name": name, "password": password}),
        )
        .await;
    expect(r, StatusCode::CREATED).await;
}

on_both_stores!(
    sessions_need_csrf_for_writes_and_end_on_password_change,
    |app: TestApp| async move {
        new_user(&app, "alice", "alice-password-1").await;
        // No credentials, bad credentials: 401 in the error shape.
        let r = Client::new().get(app.url("/apps")).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(r.json::<Value>().await.unwrap()["code"], "unauthenticated");
        let r = Client::new()
            .post(app.url("/auth/login"))
            .json(&json!({"username": "alice", "password": "wrong-password"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

        let (s1, csrf1) = login(&app.base, "alice", "alice-password-1").await;
        let (s2, _) = login(&app.base, "alice", "alice-password-1").await;
        assert_eq!(me_with_cookie(&app, &s1).await, StatusCode::OK);
        // A cookie write without the CSRF token is refused; with it, it goes through.
        let change =
            json!({"current_password": "alice-password-1", "new_password": "alice-password-2"});
        let r = Client::new()
            .post(app.url("/auth/password"))
            .header("cookie", format!("fw_session={s1}"))
            .json(&change)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        assert_eq!(r.json::<Value>().await.unwrap()["code"], "csrf");
        let r = Client::new()
            .post(app.url("/auth/password"))
            .header("cookie", format!("fw_session={s1}"))
            .header("x-csrf-token", "0".repeat(64))
            .json(&change)
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            StatusCode::FORBIDDEN,
            "a wrong token is no token"
        );
        let r = Client::new()
            .post(app.url("/auth/password"))
            .header("cookie", format!("fw_session={s1}"))
            .header("x-csrf-token", &csrf1)
            .json(&change)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        // The password change ended the other session, not this one.
        assert_eq!(me_with_cookie(&app, &s2).await, StatusCode::UNAUTHORIZED);
        assert_eq!(me_with_cookie(&app, &s1).await, StatusCode::OK);
        login(&app.base, "alice", "alice-password-2").await;

        // Logout ends the session.
        let r = Client::new()
            .post(app.url("/auth/logout"))
            .header("cookie", format!("fw_session={s1}"))
            .header("x-csrf-token", &csrf1)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        assert_eq!(me_with_cookie(&app, &s1).await, StatusCode::UNAUTHORIZED);

        // A disabled user is refused on the very next request, token or session.
        let (s3, _) = login(&app.base, "alice", "alice-password-2").await;
        let token = token_for(&app.base, "alice", "alice-password-2", None).await;
        let alice = client_with(&token);
        assert_eq!(
            alice
                .get(app.url("/auth/me"))
                .send()
                .await
                .unwrap()
                .status(),
            StatusCode::OK
        );
        let r = app
            .patch("/admin/users/alice", &json!({"disabled": true}))
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(
            alice
                .get(app.url("/auth/me"))
                .send()
                .await
                .unwrap()
                .status(),
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(me_with_cookie(&app, &s3).await, StatusCode::UNAUTHORIZED);
        let r = Client::new()
            .post(app.url("/auth/login"))
            .json(&json!({"username": "alice", "password": "alice-password-2"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

        // Every step is in the operation log, and the chain verifies.
        let (actions, _) = audit_actions(&app).await;
        for a in [
            "auth.login_failed",
            "auth.login",
            "auth.password_changed",
            "auth.logout",
            "token.create",
            "user.update",
        ] {
            assert!(
                actions.iter().any(|x| x == a),
                "{a} missing from {actions:?}"
            );
        }
    }
);

async fn audit_actions(app: &TestApp) -> (Vec<String>, Value) {
    let v = expect(app.get("/audit?limit=1000").await, StatusCode::OK).await;
    let actions = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    (actions, v)
}

on_both_stores!(
    failed_logins_are_limited_per_account,
    |app: TestApp| async move {
        new_user(&app, "bob", "bob-password-1").await;
        for _ in 0..5 {
            let r = Client::new()
                .post(app.url("/auth/login"))
                .json(&json!({"username": "bob", "password": "guess"}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        }
        // Now even the right password waits; another account is not affected.
        let r = Client::new()
            .post(app.url("/auth/login"))
            .json(&json!({"username": "bob", "password": "bob-password-1"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(r.headers().get("retry-after").is_some());
        login(&app.base, "admin", ADMIN_PASSWORD).await;
    }
);

on_both_stores!(
    api_tokens_are_shown_once_bound_to_a_role_and_revocable,
    |app: TestApp| async move {
        crate::crm::install(&app).await;
        let r = app
            .post(
                "/admin/users",
                &json!({"username": "erp", "display_name": "ERP sync", "password": "erp-password-1", "roles": {"crm": ["sales", "finance"]}}),
            )
            .await;
        expect(r, StatusCode::CREATED).await;
        // Bound to finance: reads contracts, cannot create customers (sales could).
        let token = token_for(&app.base, "erp", "erp-password-1", Some(("crm", "finance"))).await;
        let erp = client_with(&token);
        let r = erp
            .get(app.url("/apps/crm/forms/contract/records"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let r = erp
            .post(app.url("/apps/crm/forms/customer/records"))
            .json(&json!({"data": {"name": "x", "customer_type": "clinic"}}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        // A role the user does not hold cannot be put on a token.
        let (cookie, csrf) = login(&app.base, "erp", "erp-password-1").await;
        let r = Client::new()
            .post(app.url("/auth/tokens"))
            .header("cookie", format!("fw_session={cookie}"))
            .header("x-csrf-token", csrf)
            .json(&json!({"name": "x", "app": "crm", "role": "compliance"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        // The token is listed without its secret; revoking it works at once.
        let list = expect(app.get("/auth/tokens").await, StatusCode::OK).await;
        assert!(!list.to_string().contains(token.rsplit('.').next().unwrap()));
        let id = token.split('.').nth(1).unwrap();
        let r = app.delete(&format!("/auth/tokens/{id}")).await;
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        let r = erp
            .get(app.url("/apps/crm/forms/contract/records"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        // Non-administrators cannot manage users or roles.
        let t2 = token_for(&app.base, "erp", "erp-password-1", None).await;
        let erp = client_with(&t2);
        for (m, p) in [
            ("GET", "/admin/users"),
            ("PUT", "/apps/crm/roles/sales"),
            ("POST", "/apps/crm/forms/contract/publish"),
        ] {
            let r = erp
                .request(m.parse().unwrap(), app.url(p))
                .json(&json!({}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::FORBIDDEN, "{m} {p}");
        }
    }
);

on_both_stores!(
    an_inspector_gets_a_records_full_history_and_a_verifiable_export,
    |app: TestApp| async move {
        crate::crm::install(&app).await;
        let c = expect(
            app.create(
                "crm",
                "customer",
                json!({"name": "协和医院", "customer_type": "hospital"}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        let id = c["id"].as_i64().unwrap();
        let path = format!("/apps/crm/forms/customer/records/{id}");
        expect(app.patch(&path, &json!({"data": {"name": "北京协和医院", "phone": "010-69156114"}, "reason": "full name"})).await, StatusCode::OK).await;
        expect(app.delete(&path).await, StatusCode::OK).await;
        let h = expect(app.get(&format!("{path}/history")).await, StatusCode::OK).await;
        let items = h["items"].as_array().unwrap();
        let actions: Vec<&str> = items
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert_eq!(actions, ["record.create", "record.update", "record.delete"]);
        assert_eq!(items[1]["actor"], "admin");
        assert_eq!(items[1]["reason"], "full name");
        let changes = &items[1]["changes"];
        assert!(
            changes
                .as_array()
                .unwrap()
                .contains(&json!({"field": "name", "before": "协和医院", "after": "北京协和医院"})),
            "{changes}"
        );
        assert!(
            changes
                .as_array()
                .unwrap()
                .contains(&json!({"field": "phone", "before": null, "after": "010-69156114"})),
            "{changes}"
        );

        // An auditor (not an administrator) queries the log by record and exports it.
        let r = app.post("/admin/users", &json!({"username": "inspector", "display_name": "inspector", "password": "inspector-pass-1", "platform_role": "auditor"})).await;
        expect(r, StatusCode::CREATED).await;
        let auditor =
            client_with(&token_for(&app.base, "inspector", "inspector-pass-1", None).await);
        let v: Value = auditor
            .get(app.url(&format!("/audit?app=crm&form=customer&record={id}")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(v["items"].as_array().unwrap().len(), 3, "{v}");
        let export = auditor.get(app.url("/audit/export")).send().await.unwrap();
        assert_eq!(export.status(), StatusCode::OK);
        let text = export.text().await.unwrap();
        let file = app.dir.path().join("audit.jsonl");
        std::fs::write(&file, &text).unwrap();
        let out = std::process::Command::new(crate::process::binary())
            .args(["audit", "verify-export", file.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // One altered value in the export is caught.
        let tampered = text.replacen("北京协和医院", "北京协和医院X", 1);
        std::fs::write(&file, tampered).unwrap();
        let out = std::process::Command::new(crate::process::binary())
            .args(["audit", "verify-export", file.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("does not match its hash"));
        // Staff without the auditor role do not get the log.
        let r = app.post("/admin/users", &json!({"username": "staff", "display_name": "staff", "password": "staff-pass-123"})).await;
        expect(r, StatusCode::CREATED).await;
        let staff = client_with(&token_for(&app.base, "staff", "staff-pass-123", None).await);
        assert_eq!(
            staff.get(app.url("/audit")).send().await.unwrap().status(),
            StatusCode::FORBIDDEN
        );
    }
);

/// Seed a known password and token, use them, then look for them everywhere they must not be.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn secrets_never_reach_the_database_the_log_or_exports_in_clear() {
    secrets_scan(Store::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn secrets_never_reach_the_database_the_log_or_exports_in_clear_on_postgres() {
    secrets_scan(Store::Postgres).await;
}

/// A known password, API token secret and session secret go through logins, a failed
/// login, token use, an audit export and a user list; none of them is in the database
/// (every file of the SQLite store; a `pg_dump` of the PostgreSQL one), the server's debug
/// log, the exports or the answers.
async fn secrets_scan(store: Store) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let url = match store {
        Store::Sqlite => format!("sqlite://{}", db.display()),
        Store::Postgres => crate::helpers::fresh_pg_database().await,
    };
    let log = dir.path().join("server.log");
    let server = ServerProcess::start_logging(&url, dir.path(), &log).await;
    let admin = server.admin().await;
    let secret_password = "Sekr1t-Passw0rd-7f3a9";
    let r = admin
        .post(server.url("/admin/users"))
        .json(&json!({"username": "carol", "display_name": "carol", "password": secret_password, "platform_role": "auditor"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let token = token_for(&server.base, "carol", secret_password, None).await;
    let token_secret = token.rsplit('.').next().unwrap().to_owned();
    let (session, csrf) = login(&server.base, "carol", secret_password).await;
    let carol = client_with(&token);
    // A failed login with a typo of the password, a session in use, and an audit export.
    let _ = Client::new()
        .post(server.url("/auth/login"))
        .json(&json!({"username": "carol", "password": format!("{secret_password}x")}))
        .send()
        .await
        .unwrap();
    let me = Client::new()
        .get(server.url("/auth/me"))
        .header("cookie", format!("fw_session={session}"))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    let export = carol
        .get(server.url("/audit/export"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let users = admin
        .get(server.url("/admin/users"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    server.terminate().await;
    let mut files: Vec<(String, Vec<u8>)> = vec![
        ("export".into(), export.into_bytes()),
        ("users".into(), users.into_bytes()),
        ("log".into(), std::fs::read(&log).unwrap()),
    ];
    match store {
        Store::Sqlite => {
            for f in std::fs::read_dir(dir.path()).unwrap() {
                let p = f.unwrap().path();
                if p.is_file() && p.file_name().unwrap().to_string_lossy().starts_with("s.db") {
                    files.push((p.display().to_string(), std::fs::read(&p).unwrap()));
                }
            }
        }
        Store::Postgres => {
            let dump = std::process::Command::new("pg_dump")
                .arg("--data-only")
                .arg(&url)
                .output()
                .expect("pg_dump runs");
            assert!(
                dump.status.success(),
                "{}",
                String::from_utf8_lossy(&dump.stderr)
            );
            assert!(
                String::from_utf8_lossy(&dump.stdout).contains("carol"),
                "the dump has the data"
            );
            files.push(("pg_dump".into(), dump.stdout));
        }
    }
    for (name, bytes) in &files {
        let text = String::from_utf8_lossy(bytes);
        assert!(!text.contains(secret_password), "the password is in {name}");
        for (what, secret) in [
            ("token", &token_secret),
            ("session", &session),
            ("csrf", &csrf),
        ] {
            assert!(
                !text.contains(secret.as_str()),
                "the {what} secret is in {name}"
            );
        }
    }
}

/// Revoke on one process; the other refuses on its next request. Role changes likewise.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn revocation_reaches_every_server_process_on_postgres() {
    let dir = tempfile::tempdir().unwrap();
    let url = crate::helpers::fresh_pg_database().await;
    revocation_reaches_every_process(&url, dir.path()).await;
}

/// The same on one SQLite file, where each process keeps the credentials it read until the
/// identity generation beside the file moves (store::generation): two servers and a CLI
/// command, each a process of its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn revocation_reaches_every_server_process_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("formwork.sqlite").display());
    revocation_reaches_every_process(&url, dir.path()).await;
}

async fn revocation_reaches_every_process(url: &str, dir: &std::path::Path) {
    let url = url.to_owned();
    let a = ServerProcess::start(&url, dir).await;
    let b = ServerProcess::start(&url, dir).await;
    let admin_a = a.admin().await;
    let r = admin_a
        .post(a.url("/admin/users"))
        .json(&json!({"username": "dave", "display_name": "dave", "password": "dave-password-1", "platform_role": "auditor"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let token = token_for(&a.base, "dave", "dave-password-1", None).await;
    let (cookie, _) = login(&a.base, "dave", "dave-password-1").await;
    let dave = client_with(&token);
    assert_eq!(
        dave.get(b.url("/audit")).send().await.unwrap().status(),
        StatusCode::OK
    );
    // Platform role dropped on A: B refuses the audit log on the next request.
    let r = admin_a
        .patch(a.url("/admin/users/dave"))
        .json(&json!({"platform_role": null}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        dave.get(b.url("/audit")).send().await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    // A role changed on A: B applies the new rules on the next request.
    let put = |path: &str, body: Value| admin_a.put(a.url(path)).json(&body).send();
    assert!(
        put(
            "/apps/ops",
            json!({"key": "ops", "label": {"en": "ops"}, "time_zone": "UTC"})
        )
        .await
        .unwrap()
        .status()
        .is_success()
    );
    let r = admin_a
        .post(a.url("/apps/ops/forms/note/publish"))
        .json(&json!({"key": "note", "label": {"en": "note"}, "schema": {"type": "object", "properties": {"t": {"type": "string"}, "secret": {"type": "string"}}}}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let role = |deny: bool| json!({"key": "reader", "label": {"en": "reader"}, "permissions": {"note": {"actions": ["read"], "rows": "all", "read": ["*"], "deny_read": if deny { json!(["secret"]) } else { json!([]) }}}});
    assert!(
        put("/apps/ops/roles/reader", role(false))
            .await
            .unwrap()
            .status()
            .is_success()
    );
    assert!(
        put("/admin/users/dave/roles", json!({"ops": ["reader"]}))
            .await
            .unwrap()
            .status()
            .is_success()
    );
    let r = admin_a
        .post(a.url("/apps/ops/forms/note/records"))
        .json(&json!({"data": {"t": "x", "secret": "s3"}}))
        .send()
        .await
        .unwrap();
    let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let read_on_b = || async {
        dave.get(b.url(&format!("/apps/ops/forms/note/records/{id}")))
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()
    };
    assert_eq!(read_on_b().await["data"]["secret"], "s3");
    assert!(
        put("/apps/ops/roles/reader", role(true))
            .await
            .unwrap()
            .status()
            .is_success()
    );
    assert!(
        read_on_b().await["data"].get("secret").is_none(),
        "B still applies the old role"
    );
    // Token revoked on A: B refuses it.
    let id = token.split('.').nth(1).unwrap();
    let r = admin_a
        .delete(a.url(&format!("/auth/tokens/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        dave.get(b.url("/auth/me")).send().await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
    // A password set by the CLI (a third process) ends the session on B.
    let session_on = |base: &str, cookie: &str| {
        Client::new()
            .get(format!("{base}/api/v1/auth/me"))
            .header("cookie", format!("fw_session={cookie}"))
            .send()
    };
    assert_eq!(
        session_on(&b.base, &cookie).await.unwrap().status(),
        StatusCode::OK
    );
    let mut cli = std::process::Command::new(crate::process::binary())
        .args(["user", "password", "dave"])
        .env("FORMWORK_DATABASE__URL", &url)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = cli.stdin.take().unwrap();
        writeln!(stdin, "dave-password-2").unwrap();
    }
    assert!(cli.wait().unwrap().success(), "formwork user password");
    assert_eq!(
        session_on(&b.base, &cookie).await.unwrap().status(),
        StatusCode::UNAUTHORIZED,
        "B still accepts a session the CLI ended"
    );
    // Disabled on A: B refuses the new session.
    let (cookie, _) = login(&a.base, "dave", "dave-password-2").await;
    let session = || session_on(&b.base, &cookie);
    assert_eq!(session().await.unwrap().status(), StatusCode::OK);
    let r = admin_a
        .patch(a.url("/admin/users/dave"))
        .json(&json!({"disabled": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(session().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    a.terminate().await;
    b.terminate().await;
}

/// On SQLite, the identity generation beside the file moves with writes that may revoke
/// (a disabled user, a revoked token, a role change) and stays with writes that only add
/// (a login, a failed login, a new token), so those do not make every process re-read
/// every credential.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn only_writes_that_may_revoke_move_the_identity_generation() {
    let app = TestApp::spawn(crate::helpers::Store::Sqlite).await;
    let file = format!("{}-identity", app.db_url.strip_prefix("sqlite://").unwrap());
    let generation = || std::fs::read(&file).unwrap();
    let body = json!({"username": "gina", "display_name": "gina", "password": "gina-password-1"});
    expect(app.post("/admin/users", &body).await, StatusCode::CREATED).await;
    let before = generation();
    let (_cookie, _) = login(&app.base, "gina", "gina-password-1").await;
    let r = Client::new()
        .post(app.url("/auth/login"))
        .json(&json!({"username": "gina", "password": "wrong-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let token = token_for(&app.base, "gina", "gina-password-1", None).await;
    assert_eq!(
        generation(),
        before,
        "adding sessions, failures and tokens moved it"
    );
    let id = token.split('.').nth(1).unwrap();
    let r = client_with(&token)
        .delete(app.url(&format!("/auth/tokens/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let after_revoke = generation();
    assert_ne!(after_revoke, before, "a revoked token did not move it");
    assert_eq!(
        client_with(&token)
            .get(app.url("/auth/me"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );
    expect(
        app.patch("/admin/users/gina", &json!({"disabled": true}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_ne!(
        generation(),
        after_revoke,
        "disabling a user did not move it"
    );
}

/// Behind a reverse proxy: only a request from a trusted proxy may name the client address
/// (`X-Forwarded-For`); the log and the per-address login limit use it. From anyone else the
/// header is ignored, so a client cannot pick the address it is logged and counted under.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_a_trusted_proxy_names_the_client_address() {
    async fn login_addresses(app: &TestApp, forwarded: &str) -> Vec<String> {
        let r = Client::new()
            .post(app.url("/auth/login"))
            .header("x-forwarded-for", forwarded)
            .json(&json!({"username": "admin", "password": "wrong password"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        let log = expect(
            app.get("/audit?action=auth.login_failed&limit=100").await,
            StatusCode::OK,
        )
        .await;
        log["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["address"].as_str().unwrap_or("").to_owned())
            .collect()
    }

    // No proxy configured: the header is the client's own word, and ignored.
    let direct = TestApp::spawn(crate::helpers::Store::Sqlite).await;
    assert_eq!(login_addresses(&direct, "203.0.113.7").await, ["127.0.0.1"]);
    direct.stop().await;

    // Behind a trusted proxy (here: the test client on loopback, and an inner hop in
    // 10.0.0.0/8): the nearest untrusted address, not what the client put first.
    let proxied = TestApp::spawn_configured(crate::helpers::Store::Sqlite, |s| {
        s.server.trusted_proxies =
            vec!["127.0.0.1".parse().unwrap(), "10.0.0.0/8".parse().unwrap()];
    })
    .await;
    let seen = login_addresses(&proxied, "198.51.100.1, 203.0.113.7, 10.1.2.3").await;
    assert_eq!(seen, ["203.0.113.7"]);
    // A value that is not an address stops the walk at the hop that sent it.
    let seen = login_addresses(&proxied, "203.0.113.9, not-an-address").await;
    assert!(seen.contains(&"127.0.0.1".to_owned()), "{seen:?}");
    proxied.stop().await;
}
