//! When the database goes away the API answers 503 (never a 500 or a hang), and it recovers
//! by itself when the database returns.

use reqwest::StatusCode;
use serde_json::json;
use std::time::Duration;

use sea_orm::{ConnectionTrait, TransactionTrait};

use crate::flows::eventually;
use crate::helpers::{Store, TestApp, expect, pg_admin_url};

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

/// A note form and a flow that waits an hour after a note is created, then marks it seen.
async fn note_and_waiting_flow(app: &TestApp) {
    app.app("t").await;
    app.publish_ok(
        "t",
        "note",
        json!({"type": "object", "properties": {"text": {"type": "string"}, "status": {"type": "string"}}}),
    )
    .await;
    let flow = json!({
        "key": "later", "label": {"en": "Later"},
        "trigger": {"type": "record_created", "form": "note"},
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "wait", "type": "delay", "hours": 1},
            {"id": "mark", "type": "update_record", "set": {"status": "seen"}},
            {"id": "end", "type": "end"}],
        "edges": [{"from": "start", "to": "wait"}, {"from": "wait", "to": "mark"}, {"from": "mark", "to": "end"}]
    });
    expect(
        app.post("/apps/t/flows/later/publish", &flow).await,
        StatusCode::CREATED,
    )
    .await;
}

/// The one instance of the flow `later`, once its delay is armed.
async fn armed_instance(app: &TestApp) -> i64 {
    eventually("the delay to be armed", || async {
        let v = expect(app.get("/flow-instances?flow=later").await, StatusCode::OK).await;
        let id = v["items"][0]["id"].as_i64()?;
        let d = expect(
            app.get(&format!("/flow-instances/{id}")).await,
            StatusCode::OK,
        )
        .await;
        d["timers"]
            .as_array()
            .is_some_and(|t| t.iter().any(|t| t["node"] == "wait"))
            .then_some(id)
    })
    .await
}

/// After the lock is gone: the instance completes (it never failed), the record was
/// marked exactly once.
async fn completes_once(app: &TestApp, instance: i64, record: i64) {
    let d = eventually("the instance to complete", || async {
        let d = expect(
            app.get(&format!("/flow-instances/{instance}")).await,
            StatusCode::OK,
        )
        .await;
        assert_ne!(d["instance"]["status"], "failed", "{d}");
        (d["instance"]["status"] == "completed").then_some(d)
    })
    .await;
    let updated = d["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["action"] == "updated")
        .count();
    assert_eq!(updated, 1, "{d}");
    let r = expect(
        app.get(&format!("/apps/t/forms/note/records/{record}"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(r["data"]["status"], "seen", "{r}");
}

/// Another process holding SQLite's write lock past the busy timeout (a shell, a backup
/// script, another server on the file): a write is answered 503 `busy` — never a 500 —
/// and nothing of it is applied; a flow timer that falls due meanwhile waits for the lock
/// and fires once after it goes; its instance completes instead of failing.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_write_lock_held_elsewhere_gives_503_busy_and_flows_wait_for_it() {
    let app = TestApp::spawn_configured(Store::Sqlite, |s| s.database.busy_timeout = 100).await;
    note_and_waiting_flow(&app).await;
    let record = app.create_ok("t", "note", json!({"text": "before"})).await["id"]
        .as_i64()
        .unwrap();
    let instance = armed_instance(&app).await;

    let other = sea_orm::Database::connect(app.db_url.as_str())
        .await
        .unwrap();
    let lock = other.begin().await.unwrap();
    lock.execute_unprepared("CREATE TABLE busy_probe (x INTEGER)")
        .await
        .unwrap();
    let r = app.create("t", "note", json!({"text": "during"})).await;
    let status = r.status();
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["code"], "busy", "{body}");
    // The delay falls due while the lock is held: the worker is refused, again and again.
    app.advance(7200.0).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let d = expect(
        app.get(&format!("/flow-instances/{instance}")).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(d["instance"]["status"], "running", "{d}");
    lock.rollback().await.unwrap();

    completes_once(&app, instance, record).await;
    let page = app.list("t", "note", &[("total", "true".into())]).await;
    assert_eq!(page["total"], 1, "the refused write was not half-applied");
    app.create_ok("t", "note", json!({"text": "after"})).await;
}

/// Sessions waiting on a row lock until `n` of them do.
async fn waiting_on_locks(watch: &sea_orm::DatabaseConnection, n: i64) {
    eventually("the writer to wait on the lock", || async {
        let row = watch
            .query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DatabaseBackend::Postgres,
                "SELECT COUNT(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
            ))
            .await
            .unwrap()
            .unwrap();
        (row.try_get::<i64>("", "n").unwrap() >= n).then_some(())
    })
    .await;
}

/// Take the record's row lock in another session, let the server's writer queue behind
/// it, then ask for the lock the writer holds (the operation-log head): a deadlock, which
/// PostgreSQL breaks by aborting the writer's transaction. The other session then lets go.
async fn deadlock_the_writer<T>(
    other: &sea_orm::DatabaseConnection,
    watch: &sea_orm::DatabaseConnection,
    record: i64,
    provoke: impl FnOnce() -> T,
) -> T {
    let txn = other.begin().await.unwrap();
    // This session checks for deadlocks late, so that the writer (1 s, the default) is
    // the one that finds the cycle and is aborted.
    txn.execute_unprepared("SET LOCAL deadlock_timeout = '10s'")
        .await
        .unwrap();
    txn.execute_unprepared(&format!(
        "SELECT id FROM records WHERE id = {record} FOR UPDATE"
    ))
    .await
    .unwrap();
    // Only now the write that is to queue behind the lock.
    let provoked = provoke();
    waiting_on_locks(watch, 1).await;
    // Blocks until PostgreSQL finds the cycle (deadlock_timeout, 1 s) and aborts the
    // writer, which began waiting first and so is the one that detects it.
    txn.execute_unprepared("SELECT seq FROM oplog_head WHERE id = 1 FOR UPDATE")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    txn.rollback().await.unwrap();
    provoked
}

/// PostgreSQL: a deadlock between the server's writer and another session (a report
/// script, a second server) is a transient refusal. The writer runs the transaction
/// again: an API write gets its 200 (not a 500), a flow step completes (its instance
/// does not fail).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_deadlock_with_another_session_is_run_again() {
    let app = TestApp::spawn(Store::Postgres).await;
    note_and_waiting_flow(&app).await;
    let record = app.create_ok("t", "note", json!({"text": "before"})).await["id"]
        .as_i64()
        .unwrap();
    let instance = armed_instance(&app).await;
    let other = sea_orm::Database::connect(app.db_url.as_str())
        .await
        .unwrap();
    let watch = sea_orm::Database::connect(app.db_url.as_str())
        .await
        .unwrap();

    // An API write.
    let url = app.url(&format!("/apps/t/forms/note/records/{record}"));
    let client = app.client.clone();
    let write = deadlock_the_writer(&other, &watch, record, || {
        tokio::spawn(async move {
            let r = client
                .patch(url)
                .json(&json!({"data": {"text": "edited"}}))
                .send()
                .await
                .unwrap();
            (r.status(), r.text().await.unwrap())
        })
    })
    .await;
    let (status, body) = write.await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");

    // A flow step.
    let (clock, client) = (app.url("/admin/clock"), app.client.clone());
    let advanced = deadlock_the_writer(&other, &watch, record, || {
        tokio::spawn(async move {
            let r = client
                .post(clock)
                .json(&json!({"advance_seconds": 7200.0}))
                .send()
                .await
                .unwrap();
            r.status()
        })
    })
    .await;
    assert_eq!(advanced.await.unwrap(), StatusCode::OK);
    completes_once(&app, instance, record).await;
    let r = expect(
        app.get(&format!("/apps/t/forms/note/records/{record}"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(r["data"]["text"], "edited", "{r}");
}
