//! Operator commands against a running server: an online SQLite backup that opens as a
//! working store, and `audit verify` naming a tampered entry.

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::process::{ServerProcess, binary};

fn formwork(args: &[&str], db_url: &str) -> std::process::Output {
    std::process::Command::new(binary())
        .args(args)
        .env("FORMWORK_DATABASE__URL", db_url)
        .env("FORMWORK_LOG__LEVEL", "warn")
        .output()
        .unwrap()
}

async fn seed(server: &ServerProcess, client: &Client, n: usize) {
    client
        .put(server.url("/apps/ops"))
        .json(&json!({"key": "ops", "label": {"en": "ops"}}))
        .send()
        .await
        .unwrap();
    let form = json!({"key": "note", "label": {"en": "note"}, "schema": {"type": "object", "properties": {"n": {"type": "integer"}}}});
    assert!(
        client
            .post(server.url("/apps/ops/forms/note/publish"))
            .json(&form)
            .send()
            .await
            .unwrap()
            .status()
            .is_success()
    );
    let items: Vec<Value> = (0..n).map(|i| json!({"data": {"n": i}})).collect();
    let r = client
        .post(server.url("/apps/ops/forms/note/records/bulk"))
        .json(&json!({"items": items}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_online_backup_of_the_sqlite_store_opens_with_every_committed_record() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("live.db").display());
    let server = ServerProcess::start(&url, dir.path()).await;
    let client = server.admin().await;
    seed(&server, &client, 300).await;
    let backup = dir.path().join("backup.db");
    let out = formwork(&["backup", backup.to_str().unwrap()], &url);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = formwork(&["backup", backup.to_str().unwrap()], &url);
    assert!(
        !out.status.success(),
        "an existing file is never overwritten"
    );
    // Writes after the backup are not in it.
    client
        .post(server.url("/apps/ops/forms/note/records"))
        .json(&json!({"data": {"n": 999}}))
        .send()
        .await
        .unwrap();
    server.terminate().await;

    let copy_url = format!("sqlite://{}", backup.display());
    let out = formwork(&["audit", "verify"], &copy_url);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let copy = ServerProcess::start(&copy_url, dir.path()).await;
    let v: Value = client
        .get(copy.url("/apps/ops/forms/note/records?total=true&limit=1"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["total"], 300);
    copy.terminate().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn audit_verify_names_the_first_tampered_entry() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("store.db");
    let url = format!("sqlite://{}", file.display());
    let server = ServerProcess::start(&url, dir.path()).await;
    let client = server.admin().await;
    seed(&server, &client, 5).await;
    server.terminate().await;
    let out = formwork(&["audit", "verify"], &url);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The database refuses to change the log, so an attacker with the file drops the
    // trigger first; verify still finds the change.
    let conn = formwork::store::db::Db::connect(&formwork::config::DatabaseSettings {
        url: formwork::config::SecretUrl::new(url.clone()),
        pool_size: 1,
        max_batch: 1,
        busy_timeout: 10_000,
    })
    .await
    .unwrap();
    use sea_orm::ConnectionTrait;
    let err = conn
        .write
        .execute_unprepared("UPDATE oplog SET actor = 'mallory' WHERE seq = 4")
        .await;
    assert!(err.is_err(), "the append-only trigger refuses the update");
    conn.write
        .execute_unprepared(
            "DROP TRIGGER oplog_no_update; UPDATE oplog SET actor = 'mallory' WHERE seq = 4",
        )
        .await
        .unwrap();
    drop(conn);
    let out = formwork(&["audit", "verify"], &url);
    assert!(!out.status.success());
    let msg = String::from_utf8_lossy(&out.stderr);
    assert!(msg.contains("entry 4"), "{msg}");
}

/// A config file sets the server up, environment variables override it, logs come out as
/// JSON when asked, and the health and readiness endpoints answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_config_file_sets_the_server_and_the_environment_overrides_it() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("store.db").display());
    let config = dir.path().join("formwork.toml");
    std::fs::write(
        &config,
        "[log]\nformat = \"json\"\nlevel = \"warn\"\n\n[storage]\nmax_file_size = 2048\n",
    )
    .unwrap();
    let log = dir.path().join("server.log");
    // (the harness sets FORMWORK_LOG__LEVEL=debug when it keeps a log: it beats the file)
    let server = ServerProcess::start_env(
        &url,
        dir.path(),
        Some(&log),
        &[("FORMWORK_CONFIG", config.display().to_string())],
    )
    .await;
    let plain = Client::new();
    for path in ["/health", "/ready"] {
        let r = plain.get(server.url(path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        let v: Value = r.json().await.unwrap();
        assert!(v.is_object(), "{path}: {v}");
    }
    // The file's upload limit holds.
    let client = server.admin().await;
    let upload = |n: usize| {
        client
            .post(server.url("/files"))
            .header("content-type", "text/plain")
            .body(vec![b'x'; n])
            .send()
    };
    let r = upload(1000).await.unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let r = upload(4096).await.unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value = r.json().await.unwrap();
    assert!(body["code"].is_string(), "one error shape: {body}");
    assert!(server.terminate().await.success());
    // Every log line is a JSON object; debug lines are there (the environment's level).
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(!lines.is_empty());
    assert!(
        lines.iter().any(|l| l["level"] == "DEBUG"),
        "the environment's debug level beats the file's warn"
    );
}
