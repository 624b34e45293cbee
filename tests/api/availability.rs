//! When the database goes away the API answers 503 (never a 500 or a hang), and it recovers
//! by itself when the database returns.

use reqwest::StatusCode;
use serde_json::json;
use std::time::Duration;

use crate::helpers::{Store, TestApp, pg_admin_url};

async fn psql(sql: &str) {
    let out = tokio::process::Command::new("psql")
        .arg(pg_admin_url())
        .args(["-q", "-c", sql])
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_database_that_goes_away_gives_503_and_the_server_recovers() {
    let app = TestApp::spawn(Store::Postgres).await;
    let db = app.db_url.rsplit('/').next().unwrap().to_owned();
    app.app("t").await;
    app.publish_ok(
        "t",
        "note",
        json!({"type": "object", "properties": {"text": {"type": "string"}}}),
    )
    .await;
    app.create_ok("t", "note", json!({"text": "before"})).await;

    psql(&format!("ALTER DATABASE {db} ALLOW_CONNECTIONS false")).await;
    psql(&format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{db}'"
    ))
    .await;
    let r = app.get("/ready").await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    let r = app.create("t", "note", json!({"text": "during"})).await;
    assert_eq!(
        r.status(),
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        r.text().await.unwrap()
    );
    let r = app.get("/apps/t/forms/note/records").await;
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["code"], "unavailable");

    psql(&format!("ALTER DATABASE {db} ALLOW_CONNECTIONS true")).await;
    let mut recovered = false;
    for _ in 0..50 {
        if app
            .create("t", "note", json!({"text": "after"}))
            .await
            .status()
            == StatusCode::CREATED
        {
            recovered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(recovered, "the server did not recover");
    assert_eq!(app.get("/ready").await.status(), StatusCode::OK);
    let page = app.list("t", "note", &[("total", "true".into())]).await;
    assert_eq!(
        page["total"], 2,
        "the write refused during the outage was not half-applied"
    );
}
