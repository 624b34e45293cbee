//! Nothing acknowledged is lost: `kill -9` during concurrent creates and bulk writes, then a
//! restart finds every acknowledged record and no partial bulk batch. And SIGTERM finishes
//! in-flight writes before the process exits.

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::helpers::{Store, fresh_pg_database};
use crate::process::ServerProcess;

const BATCH: usize = 100;

async fn db_for(store: Store, dir: &std::path::Path) -> String {
    match store {
        Store::Sqlite => format!("sqlite://{}", dir.join("formwork.db").display()),
        Store::Postgres => fresh_pg_database().await,
    }
}

async fn setup(client: &Client, server: &ServerProcess) {
    let r = client
        .put(server.url("/apps/ops"))
        .json(&json!({"key": "ops", "label": {"en": "ops"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let form = json!({"key": "job", "label": {"en": "job"}, "schema": {"type": "object", "properties": {
        "no": {"type": "string", "x-type": "serial", "x-serial": "J{000000}", "readOnly": true},
        "client": {"type": "integer"}, "seq": {"type": "integer"}, "batch": {"type": "string"}
    }}});
    let r = client
        .post(server.url("/apps/ops/forms/job/publish"))
        .json(&form)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
}

/// How many jobs of the batch `tag` the server lists.
async fn batch_count(client: &Client, server: &ServerProcess, tag: &str) -> usize {
    let v: Value = client
        .get(server.url("/apps/ops/forms/job/records"))
        .query(&[
            ("filter", json!({"==": [{"var": "batch"}, tag]}).to_string()),
            ("total", "true".into()),
            ("limit", "1".into()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["total"].as_u64().unwrap() as usize
}

#[derive(Default)]
struct Acked {
    records: HashMap<i64, Value>,
    batches: Vec<String>,
    attempted_batches: Vec<String>,
}

async fn kill_during_writes(store: Store) {
    let dir = tempfile::tempdir().unwrap();
    let url = db_for(store, dir.path()).await;
    let server = ServerProcess::start(&url, dir.path()).await;
    let token =
        crate::helpers::token_for(&server.base, "admin", crate::helpers::ADMIN_PASSWORD, None)
            .await;
    let mut h = reqwest::header::HeaderMap::new();
    h.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {token}").parse().unwrap(),
    );
    let client = Client::builder()
        .timeout(Duration::from_secs(10))
        .default_headers(h)
        .build()
        .unwrap();
    setup(&client, &server).await;
    let acked = Arc::new(Mutex::new(Acked::default()));
    let mut tasks = Vec::new();
    for c in 0..12 {
        let (client, url, acked) = (
            client.clone(),
            server.url("/apps/ops/forms/job/records"),
            acked.clone(),
        );
        tasks.push(tokio::spawn(async move {
            for seq in 0.. {
                let r = client
                    .post(&url)
                    .json(&json!({"data": {"client": c, "seq": seq}}))
                    .send()
                    .await;
                let Ok(r) = r else { break };
                if r.status() != StatusCode::CREATED {
                    break;
                }
                let Ok(v) = r.json::<Value>().await else {
                    break;
                };
                acked
                    .lock()
                    .unwrap()
                    .records
                    .insert(v["id"].as_i64().unwrap(), v["data"].clone());
            }
        }));
    }
    for b in 0..3 {
        let (client, url, acked) = (
            client.clone(),
            server.url("/apps/ops/forms/job/records/bulk"),
            acked.clone(),
        );
        tasks.push(tokio::spawn(async move {
            for n in 0.. {
                let tag = format!("b{b}-{n}");
                let items: Vec<Value> = (0..BATCH)
                    .map(|i| json!({"data": {"batch": tag, "seq": i}}))
                    .collect();
                acked.lock().unwrap().attempted_batches.push(tag.clone());
                let r = client
                    .post(&url)
                    .json(&json!({"items": items}))
                    .send()
                    .await;
                let Ok(r) = r else { break };
                if r.status() != StatusCode::CREATED {
                    break;
                }
                acked.lock().unwrap().batches.push(tag);
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    server.kill_9().await;
    for t in tasks {
        let _ = t.await;
    }
    let acked = Arc::try_unwrap(acked).ok().unwrap().into_inner().unwrap();
    assert!(
        acked.records.len() > 20 && !acked.batches.is_empty(),
        "the load ran ({} records, {} batches)",
        acked.records.len(),
        acked.batches.len()
    );

    let server = ServerProcess::start(&url, dir.path()).await;
    for (id, data) in &acked.records {
        let r = client
            .get(server.url(&format!("/apps/ops/forms/job/records/{id}")))
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            StatusCode::OK,
            "acknowledged record {id} is lost"
        );
        let v: Value = r.json().await.unwrap();
        assert_eq!(&v["data"], data);
    }
    for tag in &acked.attempted_batches {
        let n = batch_count(&client, &server, tag).await;
        if acked.batches.contains(tag) {
            assert_eq!(n, BATCH, "acknowledged batch {tag} is incomplete");
        } else {
            assert!(
                n == 0 || n == BATCH,
                "batch {tag} is partial: {n} of {BATCH}"
            );
        }
    }
    // Serial numbers stayed unique and gap-free across the crash.
    let mut numbers = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut q = vec![("limit", "1000".to_owned()), ("fields", "no".to_owned())];
        if let Some(c) = &cursor {
            q.push(("cursor", c.clone()));
        }
        let v: Value = client
            .get(server.url("/apps/ops/forms/job/records"))
            .query(&q)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        numbers.extend(
            v["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["data"]["no"].as_str().unwrap().to_owned()),
        );
        match v["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    numbers.sort();
    let expected: Vec<String> = (1..=numbers.len()).map(|n| format!("J{n:06}")).collect();
    assert_eq!(numbers, expected);
    let status = server.terminate().await;
    assert!(status.success());
    crate::process::assert_audit_verifies(&url);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_during_writes_loses_nothing_acknowledged_on_sqlite() {
    kill_during_writes(Store::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_during_writes_loses_nothing_acknowledged_on_postgres() {
    kill_during_writes(Store::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_finishes_in_flight_writes_before_exiting() {
    let dir = tempfile::tempdir().unwrap();
    let url = db_for(Store::Sqlite, dir.path()).await;
    let server = ServerProcess::start(&url, dir.path()).await;
    let client = server.admin().await;
    setup(&client, &server).await;
    // 16 clients create records without pause; SIGTERM lands while requests are in flight.
    let signal = Arc::new(Mutex::new(None::<std::time::Instant>));
    // (id, data, sent before the signal, answered after it)
    let acked = Arc::new(Mutex::new(Vec::<(i64, Value, bool)>::new()));
    let mut tasks = Vec::new();
    for c in 0..16 {
        let (client, url, acked, signal) = (
            client.clone(),
            server.url("/apps/ops/forms/job/records"),
            acked.clone(),
            signal.clone(),
        );
        tasks.push(tokio::spawn(async move {
            for seq in 0.. {
                let sent = std::time::Instant::now();
                let r = client
                    .post(&url)
                    .json(&json!({"data": {"client": c, "seq": seq}}))
                    .send()
                    .await;
                let Ok(r) = r else { break };
                if r.status() != StatusCode::CREATED {
                    break;
                }
                let Ok(v) = r.json::<Value>().await else {
                    break;
                };
                let across = signal.lock().unwrap().is_some_and(|at| sent < at);
                acked
                    .lock()
                    .unwrap()
                    .push((v["id"].as_i64().unwrap(), v["data"].clone(), across));
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    *signal.lock().unwrap() = Some(std::time::Instant::now());
    let status = server.terminate().await;
    assert!(status.success(), "clean exit: {status}");
    for t in tasks {
        let _ = t.await;
    }
    let acked = Arc::try_unwrap(acked).ok().unwrap().into_inner().unwrap();
    let across = acked.iter().filter(|(_, _, a)| *a).count();
    assert!(acked.len() > 20, "the load ran: {} records", acked.len());
    // Requests the server had when the signal came were answered, with their records.
    assert!(
        across > 0,
        "a request in flight at SIGTERM was finished and answered ({} acknowledged)",
        acked.len()
    );
    let server = ServerProcess::start(&url, dir.path()).await;
    for (id, data, _) in &acked {
        let r = client
            .get(server.url(&format!("/apps/ops/forms/job/records/{id}")))
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            StatusCode::OK,
            "acknowledged record {id} is lost"
        );
        let v: Value = r.json().await.unwrap();
        assert_eq!(&v["data"], data);
    }
    server.terminate().await;
}

/// A crash during a CSV import (its own write path: a spooled file, a reader thread, one
/// transaction): the process aborts after the first chunk of rows is written and before
/// the commit (failpoint `import_chunk_written`, like kill -9 at that moment); after a
/// restart none of that import is there, an import answered before is all there, and the
/// log verifies. A second, timed kill -9 lands while other imports run.
async fn kill_during_import(store: Store) {
    let dir = tempfile::tempdir().unwrap();
    let url = db_for(store, dir.path()).await;
    let server = ServerProcess::start(&url, dir.path()).await;
    let client = server.admin().await;
    setup(&client, &server).await;
    const ROWS: usize = 5_000;
    let csv = |tag: &str| {
        let mut s = String::from("batch,seq\n");
        for i in 0..ROWS {
            s.push_str(&format!("{tag},{i}\n"));
        }
        s
    };
    let import = |server: &ServerProcess, tag: &str| {
        client
            .post(server.url("/apps/ops/forms/job/records/import"))
            .header("content-type", "text/csv")
            .body(csv(tag))
            .send()
    };
    let first = import(&server, "done").await.unwrap();
    assert!(
        first.status().is_success(),
        "{}",
        first.text().await.unwrap()
    );
    assert!(server.terminate().await.success());

    // The crash inside the import's transaction.
    let server = ServerProcess::start_env(
        &url,
        dir.path(),
        None,
        &[("FORMWORK_FAILPOINT", "import_chunk_written".into())],
    )
    .await;
    let r = import(&server, "cut").await;
    assert!(r.is_err(), "the process died during the import: {r:?}");
    drop(server);

    // A timed kill -9 while three more imports are sent.
    let server = ServerProcess::start(&url, dir.path()).await;
    let mut timed = Vec::new();
    for n in 0..3 {
        let tag = format!("timed{n}");
        timed.push((tag.clone(), tokio::spawn(import(&server, &tag))));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.kill_9().await;
    let mut answered = Vec::new();
    for (tag, t) in timed {
        if let Ok(Ok(r)) = t.await
            && r.status().is_success()
        {
            answered.push(tag);
        }
    }

    let server = ServerProcess::start(&url, dir.path()).await;
    let count = |tag: String| {
        let (client, server) = (&client, &server);
        async move { batch_count(client, server, &tag).await }
    };
    assert_eq!(
        count("done".into()).await,
        ROWS,
        "the answered import is all there"
    );
    assert_eq!(
        count("cut".into()).await,
        0,
        "the crashed import left nothing"
    );
    for n in 0..3 {
        let tag = format!("timed{n}");
        let got = count(tag.clone()).await;
        if answered.contains(&tag) {
            assert_eq!(got, ROWS, "answered import {tag} is incomplete");
        } else {
            assert!(
                got == 0 || got == ROWS,
                "import {tag} is partial: {got} of {ROWS}"
            );
        }
    }
    // Serial numbers continue without a gap: the crashed import drew none that stuck.
    let all: Value = client
        .get(server.url("/apps/ops/forms/job/records"))
        .query(&[("total", "true"), ("limit", "1")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let total = all["total"].as_u64().unwrap();
    let v: Value = client
        .post(server.url("/apps/ops/forms/job/records"))
        .json(&json!({"data": {"batch": "after"}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["data"]["no"], format!("J{:06}", total + 1), "{v}");
    let status = server.terminate().await;
    assert!(status.success());
    crate::process::assert_audit_verifies(&url);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_during_a_csv_import_leaves_all_or_nothing_on_sqlite() {
    kill_during_import(Store::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_during_a_csv_import_leaves_all_or_nothing_on_postgres() {
    kill_during_import(Store::Postgres).await;
}
