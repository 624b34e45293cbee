//! Several `formwork serve` processes on one PostgreSQL database share the flow work:
//! 10,000 timers that fell due while the servers were down each fire exactly once when two
//! processes start together (docs/flows.md, "Several processes").

use reqwest::StatusCode;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use std::time::Duration;

use crate::helpers::fresh_pg_database;
use crate::process::ServerProcess;

const TIMERS: usize = 10_000;

async fn count(db: &formwork::store::db::Db, sql: &str) -> i64 {
    let row = db.query_one(sql, vec![]).await.unwrap().unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_processes_fire_ten_thousand_due_timers_exactly_once_on_postgres() {
    let url = fresh_pg_database().await;
    let dir = tempfile::tempdir().unwrap();
    let a = ServerProcess::start(&url, dir.path()).await;
    let admin = a.admin().await;
    let put = |path: &str, body: Value| admin.put(a.url(path)).json(&body).send();
    let post = |path: &str, body: Value| admin.post(a.url(path)).json(&body).send();
    assert!(
        put("/apps/ops", json!({"key": "ops", "label": {"en": "ops"}}))
            .await
            .unwrap()
            .status()
            .is_success()
    );
    let form = json!({"key": "job", "label": {"en": "Job"}, "schema": {"type": "object", "properties": {
        "seq": {"type": "integer", "x-type": "integer", "x-label": {"en": "Seq"}}}}});
    assert!(
        post("/apps/ops/forms/job/publish", form)
            .await
            .unwrap()
            .status()
            .is_success()
    );
    let flow = json!({
        "key": "later", "label": {"en": "Later"},
        "trigger": {"type": "record_created", "form": "job"},
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "wait", "type": "delay", "days": 1},
            {"id": "mark", "type": "set_var", "name": "fired", "value": true},
            {"id": "end", "type": "end"}
        ],
        "edges": [{"from": "start", "to": "wait"}, {"from": "wait", "to": "mark"}, {"from": "mark", "to": "end"}]
    });
    let r = post("/apps/ops/flows/later/publish", flow).await.unwrap();
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap()
    );
    for chunk in 0..TIMERS / 1000 {
        let items: Vec<Value> = (0..1000)
            .map(|i| json!({"data": {"seq": chunk * 1000 + i}}))
            .collect();
        let r = post("/apps/ops/forms/job/records/bulk", json!({"items": items}))
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    }
    let db = formwork::store::db::Db::connect(&formwork::config::DatabaseSettings {
        url: formwork::config::SecretUrl::new(&url),
        pool_size: 2,
        max_batch: 1,
    })
    .await
    .unwrap();
    let waiting =
        "SELECT COUNT(*) AS n FROM flow_tokens WHERE node = 'wait' AND status = 'waiting'";
    for _ in 0..600 {
        if count(&db, waiting).await == TIMERS as i64 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(count(&db, waiting).await, TIMERS as i64);
    a.terminate().await;

    // While both servers are down, every timer falls due.
    db.write
        .execute_unprepared("UPDATE flow_tokens SET due_at = '2000-01-01T00:00:00.000Z' WHERE node = 'wait' AND status = 'waiting'")
        .await
        .unwrap();
    let (a, b) = tokio::join!(
        ServerProcess::start(&url, dir.path()),
        ServerProcess::start(&url, dir.path())
    );
    let completed = "SELECT COUNT(*) AS n FROM flow_instances WHERE status = 'completed'";
    for _ in 0..1800 {
        if count(&db, completed).await == TIMERS as i64 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        count(&db, completed).await,
        TIMERS as i64,
        "every instance completes"
    );
    // Exactly once: one timer step and one `set_var` per instance, in the history and in
    // the operation log.
    assert_eq!(
        count(
            &db,
            "SELECT COUNT(*) AS n FROM flow_steps WHERE action = 'timer'"
        )
        .await,
        TIMERS as i64
    );
    assert_eq!(
        count(&db, "SELECT COUNT(*) AS n FROM (SELECT instance_id FROM flow_steps WHERE action IN ('timer', 'set') GROUP BY instance_id, action HAVING COUNT(*) > 1) d").await,
        0,
        "no step ran twice"
    );
    assert_eq!(
        count(&db, "SELECT COUNT(*) AS n FROM oplog WHERE action = 'flow.step' AND after LIKE '%\"action\":\"timer\"%'").await,
        TIMERS as i64
    );
    a.terminate().await;
    b.terminate().await;
}
