//! Several `formwork serve` processes on one PostgreSQL database share the flow work:
//! 10,000 timers — half fell due while the servers were down, half fall due while both
//! run — each fire exactly once, and both processes fire some (each timer step names its
//! process) (docs/flows.md, "Several processes").

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
    let db = crate::helpers::direct_db(&url).await;
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

    // While both servers are down, half of the timers fall due: they fire when the two
    // processes start together. The other half fall due once both are running, so both
    // poll for the same due tokens at once.
    db.write
        .execute_unprepared("UPDATE flow_tokens SET due_at = '2000-01-01T00:00:00.000Z' WHERE node = 'wait' AND status = 'waiting' AND id % 2 = 0")
        .await
        .unwrap();
    let (a, b) = tokio::join!(
        ServerProcess::start(&url, dir.path()),
        ServerProcess::start(&url, dir.path())
    );
    db.write
        .execute_unprepared("UPDATE flow_tokens SET due_at = '2000-01-01T00:00:00.000Z' WHERE node = 'wait' AND status = 'waiting'")
        .await
        .unwrap();
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
    // Both processes did some of the work: each timer's step names the process that fired
    // it, and there are two of them.
    let by_worker = db
        .query_all(
            "SELECT detail, COUNT(*) AS n FROM flow_steps WHERE action = 'timer' GROUP BY detail",
            vec![],
        )
        .await
        .unwrap();
    let split: Vec<(String, i64)> = by_worker
        .iter()
        .map(|r| {
            (
                r.try_get::<String>("", "detail").unwrap(),
                r.try_get::<i64>("", "n").unwrap(),
            )
        })
        .collect();
    assert_eq!(split.len(), 2, "two processes fired timers: {split:?}");
    assert!(split.iter().all(|(_, n)| *n > 0), "{split:?}");
    eprintln!("timers fired per process: {split:?}");
    a.terminate().await;
    b.terminate().await;
}

/// S4 with a crash: an urgent service order left undispatched for two hours escalates to
/// the service director — once — although the server is killed (kill -9) just as the
/// deadline falls due and restarted. Time is the server's test clock
/// (`[testing] clock`), not sleeping; it restarts at the real time, so it is moved again.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn s4_an_urgent_order_escalates_once_across_a_kill_9_while_its_deadline_is_due() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("formwork.db").display());
    let import = std::process::Command::new(crate::process::binary())
        .args(["app", "import"])
        .arg(crate::crm::crm_dir())
        .env("FORMWORK_DATABASE__URL", &url)
        .env(
            "FORMWORK_AUTH__INITIAL_ADMIN_PASSWORD",
            crate::helpers::ADMIN_PASSWORD,
        )
        .output()
        .unwrap();
    assert!(
        import.status.success(),
        "{}",
        String::from_utf8_lossy(&import.stderr)
    );
    let env = [("FORMWORK_TESTING__CLOCK", "true".to_owned())];
    let server = ServerProcess::start_env(&url, dir.path(), None, &env).await;
    let admin = server.admin().await;
    for (name, role) in [
        ("manager1", "service_manager"),
        ("director1", "service_director"),
    ] {
        let body = json!({"username": name, "display_name": name, "password": crate::crm::password_of(name), "roles": {"crm": [role]}});
        let r = admin
            .post(server.url("/admin/users"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            StatusCode::CREATED,
            "{}",
            r.text().await.unwrap()
        );
    }
    let customer: Value = admin
        .post(server.url("/apps/crm/forms/customer/records"))
        .json(&json!({"data": {"name": "华西医院", "customer_type": "hospital"}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let order: Value = admin
        .post(server.url("/apps/crm/forms/service_order/records"))
        .json(&json!({"data": {"kind": "repair", "priority": "urgent", "status": "reported", "customer": customer["id"], "fault_description": "ventilator alarm"}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let tasks_of = |base: String, who: &'static str, record: Value| async move {
        let token =
            crate::helpers::token_for(&base, who, &crate::crm::password_of(who), None).await;
        let v: Value = crate::helpers::client_with(&token)
            .get(format!("{base}/api/v1/tasks"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["record"] == record)
            .cloned()
            .collect::<Vec<Value>>()
    };
    for _ in 0..100 {
        if !tasks_of(server.base.clone(), "manager1", order["id"].clone())
            .await
            .is_empty()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        tasks_of(server.base.clone(), "manager1", order["id"].clone())
            .await
            .len(),
        1,
        "the urgent dispatch task"
    );
    let advance = |c: reqwest::Client, url: String| async move {
        let r = c
            .post(url)
            .json(&json!({"advance_seconds": 7205}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
    };
    // Two hours pass — and the server dies right then.
    advance(admin.clone(), server.url("/admin/clock")).await;
    server.kill_9().await;

    let server = ServerProcess::start_env(&url, dir.path(), None, &env).await;
    let admin = server.admin().await;
    advance(admin.clone(), server.url("/admin/clock")).await;
    for _ in 0..100 {
        if !tasks_of(server.base.clone(), "director1", order["id"].clone())
            .await
            .is_empty()
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    let escalated = tasks_of(server.base.clone(), "director1", order["id"].clone()).await;
    assert_eq!(escalated.len(), 1, "escalated exactly once: {escalated:?}");
    let open = tasks_of(server.base.clone(), "manager1", order["id"].clone()).await;
    assert_eq!(open.len(), 1, "the manager's task stays open");
    server.terminate().await;
}

/// kill -9 right after a task's completion committed, before its next node ran: after the
/// restart the next node runs exactly once and the instance reaches one end.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_between_a_task_completion_and_the_next_node() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("formwork.db").display());
    let fail = [("FORMWORK_FAILPOINT", "task_completed".to_owned())];
    let mut server = ServerProcess::start_env(&url, dir.path(), None, &fail).await;
    let admin = server.admin().await;
    let call = |c: &reqwest::Client, method: &str, url: String, body: Value| {
        c.request(reqwest::Method::from_bytes(method.as_bytes()).unwrap(), url)
            .json(&body)
            .send()
    };
    assert!(
        call(
            &admin,
            "PUT",
            server.url("/apps/ops"),
            json!({"key": "ops", "label": {"en": "ops"}})
        )
        .await
        .unwrap()
        .status()
        .is_success()
    );
    let form = json!({"key": "ticket", "label": {"en": "Ticket"}, "schema": {"type": "object", "properties": {
        "title": {"type": "string", "x-type": "text", "x-label": {"en": "Title"}},
        "status": {"type": "string", "x-type": "text", "x-label": {"en": "Status"}},
        "count": {"type": "integer", "x-type": "integer", "x-label": {"en": "Count"}}}}});
    assert!(
        call(
            &admin,
            "POST",
            server.url("/apps/ops/forms/ticket/publish"),
            form
        )
        .await
        .unwrap()
        .status()
        .is_success()
    );
    // The boss may approve tickets (deciding an approval is the `approve` action).
    let role = json!({"key": "approvers", "label": {"en": "Approvers"},
                      "permissions": {"ticket": {"actions": ["read", "approve"], "rows": "all", "read": ["*"]}}});
    assert!(
        call(&admin, "PUT", server.url("/apps/ops/roles/approvers"), role)
            .await
            .unwrap()
            .status()
            .is_success()
    );
    let body = json!({"username": "boss", "display_name": "Boss", "password": "boss-password-1",
                      "roles": {"ops": ["approvers"]}});
    assert_eq!(
        call(&admin, "POST", server.url("/admin/users"), body)
            .await
            .unwrap()
            .status(),
        StatusCode::CREATED
    );
    let flow = json!({
        "key": "approve", "label": {"en": "Approve"},
        "trigger": {"type": "record_created", "form": "ticket"},
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "ok", "type": "approval", "assignee": {"user": "boss"}},
            {"id": "count", "type": "update_record", "set": {"status": "approved", "count": {"+": [{"var": "record.count"}, 1]}}},
            {"id": "end", "type": "end"}
        ],
        "edges": [{"from": "start", "to": "ok"}, {"from": "ok", "to": "count", "outcome": "approved"},
                  {"from": "ok", "to": "end", "outcome": "rejected"}, {"from": "count", "to": "end"}]
    });
    let r = call(
        &admin,
        "POST",
        server.url("/apps/ops/flows/approve/publish"),
        flow,
    )
    .await
    .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap()
    );
    let rec: Value = call(
        &admin,
        "POST",
        server.url("/apps/ops/forms/ticket/records"),
        json!({"data": {"title": "pump", "count": 0}}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let boss = crate::helpers::client_with(
        &crate::helpers::token_for(&server.base, "boss", "boss-password-1", None).await,
    );
    let mut task = Value::Null;
    for _ in 0..100 {
        let v: Value = boss
            .get(server.url("/tasks"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if let Some(t) = v["items"].as_array().unwrap().first() {
            task = t.clone();
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(task.is_object(), "boss has the approval");
    // The completion commits, then the process aborts before answering.
    let r = boss
        .post(server.url(&format!("/tasks/{}/complete", task["id"])))
        .json(&json!({"outcome": "approved"}))
        .send()
        .await;
    assert!(r.is_err(), "the server died before answering");
    let status = tokio::time::timeout(Duration::from_secs(30), server.child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(!status.success());

    let server = ServerProcess::start(&url, dir.path()).await;
    let admin = server.admin().await;
    let mut detail = Value::Null;
    for _ in 0..100 {
        let v: Value = admin
            .get(server.url(&format!("/flow-instances?record={}", rec["id"])))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let d: Value = admin
            .get(server.url(&format!("/flow-instances/{}", v["items"][0]["id"])))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if d["instance"]["status"] == "completed" {
            detail = d;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(detail["instance"]["status"], "completed");
    let actions: Vec<&str> = detail["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "started",
            "assigned",
            "approved",
            "updated",
            "ended",
            "completed"
        ]
    );
    let r: Value = admin
        .get(server.url(&format!("/apps/ops/forms/ticket/records/{}", rec["id"])))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["data"]["count"], 1, "the next node ran exactly once");
    assert_eq!(r["data"]["status"], "approved");
    server.terminate().await;
}

/// The server dies (`FORMWORK_FAILPOINT=flow_pass_committed` aborts the process, as a
/// kill -9 would stop it) while 1,200 timers are due, after its first pass fired some of
/// them and before the rest: after the restart every timer has fired exactly once and
/// every instance completed once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killed_while_timers_are_due_each_fires_exactly_once_after_restart() {
    const DUE: i64 = 1_200;
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("formwork.db").display());
    let server = ServerProcess::start(&url, dir.path()).await;
    let admin = server.admin().await;
    let send = |method: reqwest::Method, path: &str, body: Value| {
        admin.request(method, server.url(path)).json(&body).send()
    };
    for (method, path, body) in [
        (
            reqwest::Method::PUT,
            "/apps/ops",
            json!({"key": "ops", "label": {"en": "ops"}}),
        ),
        (
            reqwest::Method::POST,
            "/apps/ops/forms/job/publish",
            json!({"key": "job", "label": {"en": "Job"}, "schema": {"type": "object", "properties": {
            "seq": {"type": "integer", "x-type": "integer", "x-label": {"en": "Seq"}}}}}),
        ),
        (
            reqwest::Method::POST,
            "/apps/ops/flows/later/publish",
            json!({
                "key": "later", "label": {"en": "Later"},
                "trigger": {"type": "record_created", "form": "job"},
                "nodes": [
                    {"id": "start", "type": "start"},
                    {"id": "wait", "type": "delay", "days": 1},
                    {"id": "mark", "type": "set_var", "name": "fired", "value": true},
                    {"id": "end", "type": "end"}
                ],
                "edges": [{"from": "start", "to": "wait"}, {"from": "wait", "to": "mark"}, {"from": "mark", "to": "end"}]
            }),
        ),
    ] {
        let r = send(method, path, body).await.unwrap();
        assert!(
            r.status().is_success(),
            "{path}: {}",
            r.text().await.unwrap()
        );
    }
    for chunk in (0..DUE).collect::<Vec<i64>>().chunks(600) {
        let items: Vec<Value> = chunk.iter().map(|i| json!({"data": {"seq": i}})).collect();
        let r = send(
            reqwest::Method::POST,
            "/apps/ops/forms/job/records/bulk",
            json!({"items": items}),
        )
        .await
        .unwrap();
        assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    }
    let db = crate::helpers::direct_db(&url).await;
    let waiting =
        "SELECT COUNT(*) AS n FROM flow_tokens WHERE node = 'wait' AND status = 'waiting'";
    for _ in 0..300 {
        if count(&db, waiting).await == DUE {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(count(&db, waiting).await, DUE);
    server.terminate().await;

    // While the server is down every timer falls due; it starts with the failpoint and
    // dies after its first pass.
    db.write
        .execute_unprepared("UPDATE flow_tokens SET due_at = '2000-01-01T00:00:00.000Z' WHERE node = 'wait' AND status = 'waiting'")
        .await
        .unwrap();
    let fail = [("FORMWORK_FAILPOINT", "flow_pass_committed".to_owned())];
    let status = ServerProcess::run_until_exit(&url, dir.path(), &fail).await;
    assert!(!status.success(), "the server died at the failpoint");
    let fired = "SELECT COUNT(*) AS n FROM flow_steps WHERE action = 'timer'";
    let before = count(&db, fired).await;
    assert!(
        before > 0 && before < DUE,
        "the crash came between timers: {before} of {DUE} fired"
    );

    let server = ServerProcess::start(&url, dir.path()).await;
    let completed = "SELECT COUNT(*) AS n FROM flow_instances WHERE status = 'completed'";
    for _ in 0..600 {
        if count(&db, completed).await == DUE {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(count(&db, completed).await, DUE, "every instance completes");
    assert_eq!(count(&db, fired).await, DUE, "each timer fired once");
    assert_eq!(
        count(&db, "SELECT COUNT(*) AS n FROM (SELECT instance_id FROM flow_steps WHERE action IN ('timer', 'set') GROUP BY instance_id, action HAVING COUNT(*) > 1) d").await,
        0,
        "no step ran twice"
    );
    assert_eq!(
        count(&db, "SELECT COUNT(*) AS n FROM oplog WHERE action = 'flow.step' AND after LIKE '%\"action\":\"timer\"%'").await,
        DUE
    );
    server.terminate().await;
    crate::process::assert_audit_verifies(&url);
}
