//! Flows (docs/flows.md): publishing checks with pointers, an approval flow end to end
//! (trigger in the record's transaction, task, decision, record update, inbox, history,
//! operation log), task permissions, and a deadline that falls due while the server is
//! down firing exactly once after the restart.

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

use crate::helpers::{Store, TestApp, client_with, expect, token_for};
use crate::on_both_stores;

/// A new user without roles (password `<name>-password-1`) and a client acting as them.
pub(crate) async fn user(app: &TestApp, name: &str) -> Client {
    let body =
        json!({"username": name, "display_name": name, "password": format!("{name}-password-1")});
    expect(app.post("/admin/users", &body).await, StatusCode::CREATED).await;
    client_with(&token_for(&app.base, name, &format!("{name}-password-1"), None).await)
}

async fn ticket_form(app: &TestApp) {
    app.app("ops").await;
    app.publish_ok(
        "ops",
        "ticket",
        json!({"type": "object", "additionalProperties": false, "required": ["title"],
               "properties": {
                 "title": {"type": "string", "x-type": "text", "x-label": {"en": "Title"}},
                 "priority": {"type": "string", "x-type": "select", "x-label": {"en": "Priority"}, "enum": ["urgent", "normal"],
                              "x-options": {"urgent": {"en": "Urgent"}, "normal": {"en": "Normal"}}},
                 "status": {"type": "string", "x-type": "select", "x-label": {"en": "Status"}, "enum": ["new", "approved", "rejected"],
                            "x-options": {"new": {"en": "New"}, "approved": {"en": "Approved"}, "rejected": {"en": "Rejected"}}},
                 "note": {"type": "string", "x-type": "text", "x-label": {"en": "Note"}},
                 "due_on": {"type": "string", "x-type": "date", "x-label": {"en": "Due on"}},
                 "remind_at": {"type": "string", "x-type": "datetime", "x-label": {"en": "Remind at"}},
                 "owner_user": {"type": "string", "x-type": "member", "x-label": {"en": "Owner"}}}}),
    )
    .await;
}

fn approval_flow(deadline: Option<Value>) -> Value {
    let mut approve = json!({"id": "approve", "type": "approval", "label": {"en": "Approve the ticket"},
                             "assignee": {"user": "boss"}, "editable": ["note"]});
    if let Some(d) = deadline {
        approve["deadline"] = d;
    }
    json!({
        "key": "urgent_approval",
        "label": {"en": "Urgent approval", "zh-CN": "紧急审批"},
        "trigger": {"type": "record_created", "form": "ticket", "condition": {"==": [{"var": "record.priority"}, "urgent"]}},
        "nodes": [
            {"id": "start", "type": "start"},
            approve,
            {"id": "mark", "type": "update_record", "set": {"status": "approved"}},
            {"id": "tell", "type": "notify", "to": {"initiator": true}, "title": "Rejected: {{record.title}}", "body": "{{task.comment}}"},
            {"id": "end", "type": "end"}
        ],
        "edges": [
            {"from": "start", "to": "approve"},
            {"from": "approve", "to": "mark", "outcome": "approved"},
            {"from": "approve", "to": "tell", "outcome": "rejected"},
            {"from": "mark", "to": "end"},
            {"from": "tell", "to": "end"}
        ]
    })
}

/// Poll until `f` gives Some, or fail after 30 s (the whole suite shares two cores).
pub(crate) async fn eventually<T, F, Fut>(what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    for _ in 0..300 {
        if let Some(v) = f().await {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

/// "pointer rule" of each detail of an error body.
pub(crate) fn pointer_rules(body: &Value) -> Vec<String> {
    body["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            format!(
                "{} {}",
                d["pointer"].as_str().unwrap(),
                d["rule"].as_str().unwrap()
            )
        })
        .collect()
}

pub(crate) async fn get(c: &Client, app: &TestApp, path: &str) -> Value {
    let r = c.get(app.url(path)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{path}");
    r.json().await.unwrap()
}

on_both_stores!(
    publishing_refuses_broken_flows_with_pointers,
    |app: TestApp| async move {
        ticket_form(&app).await;
        let broken = json!({
            "key": "broken", "label": {"en": "Broken"},
            "trigger": {"type": "record_updated", "form": "ticket", "fields": ["nope"]},
            "nodes": [
                {"id": "start", "type": "start"},
                {"id": "b", "type": "branch"},
                {"id": "ask", "type": "approval", "assignee": {"user": "nobody"}},
                {"id": "set", "type": "update_record", "set": {"missing": 1}},
                {"id": "loop1", "type": "set_var", "name": "x", "value": {"var": "oops"}},
                {"id": "loop2", "type": "delay", "minutes": 5},
                {"id": "island", "type": "end"},
                {"id": "end", "type": "end"}
            ],
            "edges": [
                {"from": "start", "to": "b"},
                {"from": "b", "to": "ask", "when": {"==": [{"var": "record.status"}, "new"]}},
                {"from": "b", "to": "loop1", "when": {"==": [{"var": "record.status"}, "approved"]}},
                {"from": "ask", "to": "set", "outcome": "approved"},
                {"from": "ask", "to": "end", "outcome": "rejected"},
                {"from": "set", "to": "end"},
                {"from": "loop1", "to": "loop2"},
                {"from": "loop2", "to": "loop1"}
            ]
        });
        let body = expect(
            app.post("/apps/ops/flows/broken/publish", &broken).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        let pointers = pointer_rules(&body);
        for expected in [
            "/trigger/fields/0 exists",
            "/nodes/1 default",
            "/nodes/2/assignee/user exists",
            "/nodes/3/set/missing exists",
            "/nodes/4/value var",
            "/nodes/4 exit",
            "/nodes/6 reachable",
        ] {
            assert!(
                pointers.iter().any(|p| p == expected),
                "missing {expected} in {pointers:?}"
            );
        }
        // Nothing was published; the draft was kept.
        let f = expect(app.get("/apps/ops/flows/broken").await, StatusCode::OK).await;
        assert_eq!(f["published_version"], Value::Null);
        assert_eq!(f["draft"]["key"], "broken");
        // Shape errors are caught on the draft already.
        let bad = json!({"key": "broken", "label": {"en": "B"}, "trigger": {"type": "sometimes", "form": "ticket"}, "nodes": [{"id": "x", "type": "teleport"}], "edges": []});
        let body = expect(
            app.put("/apps/ops/flows/broken/draft", &bad).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        let p: Vec<&str> = body["details"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["pointer"].as_str().unwrap())
            .collect();
        assert!(
            p.contains(&"/trigger/type") && p.contains(&"/nodes/0/type"),
            "{body}"
        );
    }
);

on_both_stores!(
    an_approval_flow_runs_end_to_end,
    |app: TestApp| async move {
        ticket_form(&app).await;
        let boss = user(&app, "boss").await;
        let clerk = user(&app, "clerk").await;
        let r = app
            .post(
                "/apps/ops/flows/urgent_approval/publish",
                &approval_flow(None),
            )
            .await;
        assert_eq!(expect(r, StatusCode::CREATED).await["version"], 1);

        // A normal ticket starts nothing; an urgent one starts an instance at once.
        app.create_ok(
            "ops",
            "ticket",
            json!({"title": "printer", "priority": "normal"}),
        )
        .await;
        let t = app
            .create_ok(
                "ops",
                "ticket",
                json!({"title": "server room flooded", "priority": "urgent", "status": "new"}),
            )
            .await;
        let id = t["id"].as_i64().unwrap();
        let instances = expect(
            app.get(&format!("/flow-instances?app=ops&record={id}"))
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(
            instances["items"].as_array().unwrap().len(),
            1,
            "{instances}"
        );
        let all = expect(app.get("/flow-instances?app=ops").await, StatusCode::OK).await;
        assert_eq!(
            all["items"].as_array().unwrap().len(),
            1,
            "only the urgent ticket: {all}"
        );
        let inst = instances["items"][0]["id"].as_i64().unwrap();

        // The boss gets a task and an inbox message; the clerk gets nothing.
        let tasks = eventually("the boss's task", || async {
            let v = get(&boss, &app, "/tasks").await;
            (v["counts"]["open"] == 1).then_some(v)
        })
        .await;
        let task = tasks["items"][0].clone();
        assert_eq!(task["kind"], "approval");
        assert_eq!(task["label"]["en"], "Approve the ticket");
        assert_eq!(task["record"], id);
        let task_id = task["id"].as_i64().unwrap();
        assert_eq!(get(&clerk, &app, "/tasks").await["counts"]["open"], 0);
        let inbox = get(&boss, &app, "/inbox").await;
        assert_eq!(inbox["unread"], 1, "{inbox}");

        // Only the assignee may act; only editable fields may change.
        let r = clerk
            .post(app.url(&format!("/tasks/{task_id}/complete")))
            .json(&json!({"outcome": "approved"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        // Deciding an approval is the `approve` action on the record's form: the boss
        // holds no role yet, and is refused until given one that may approve tickets.
        let r = boss
            .post(app.url(&format!("/tasks/{task_id}/complete")))
            .json(&json!({"outcome": "approved"}))
            .send()
            .await
            .unwrap();
        let body = expect(r, StatusCode::FORBIDDEN).await;
        assert_eq!(body["details"][0]["rule"], "action", "{body}");
        assert_eq!(body["details"][0]["pointer"], "/outcome", "{body}");
        let role = json!({"key": "approvers", "label": {"en": "Approvers"},
                          "permissions": {"ticket": {"actions": ["approve"]}}});
        expect(
            app.put("/apps/ops/roles/approvers", &role).await,
            StatusCode::OK,
        )
        .await;
        expect(
            app.put("/admin/users/boss/roles", &json!({"ops": ["approvers"]}))
                .await,
            StatusCode::OK,
        )
        .await;
        let r = boss
            .post(app.url(&format!("/tasks/{task_id}/complete")))
            .json(&json!({"outcome": "approved", "data": {"status": "rejected"}}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["details"][0]["pointer"], "/data/status", "{body}");
        let r = boss
            .post(app.url(&format!("/tasks/{task_id}/complete")))
            .json(&json!({"outcome": "maybe"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);

        // Approve with a comment and an edit of the editable field.
        let r = boss
            .post(app.url(&format!("/tasks/{task_id}/complete")))
            .json(&json!({"outcome": "approved", "comment": "pumps ordered", "data": {"note": "call facilities"}}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
        let done = eventually("the instance to complete", || async {
            let v = expect(
                app.get(&format!("/flow-instances/{inst}")).await,
                StatusCode::OK,
            )
            .await;
            (v["instance"]["status"] == "completed").then_some(v)
        })
        .await;
        let rec = expect(
            app.get(&format!("/apps/ops/forms/ticket/records/{id}"))
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(rec["data"]["status"], "approved");
        assert_eq!(rec["data"]["note"], "call facilities");
        assert_eq!(rec["updated_by"], "flow:urgent_approval");
        let actions: Vec<&str> = done["history"]
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
            ],
            "{done}"
        );
        assert_eq!(done["positions"], json!([]));
        // What the step wrote is shown through each viewer's field mask: the boss has no
        // role in this app, so the written values are not shown to them; the admin sees them.
        let updated = |v: &Value| {
            v["history"]
                .as_array()
                .unwrap()
                .iter()
                .find(|h| h["action"] == "updated")
                .cloned()
                .unwrap()
        };
        assert_eq!(
            updated(&done)["detail"]["set"],
            json!({"status": "approved"})
        );
        let boss_view = get(&boss, &app, &format!("/flow-instances/{inst}")).await;
        assert_eq!(
            updated(&boss_view)["detail"]["set"],
            json!({}),
            "{boss_view}"
        );
        // Non-administrators get the flow's shape, not its conditions and settings.
        assert!(done["definition"]["trigger"].get("condition").is_some());
        assert!(
            boss_view["definition"]["trigger"]
                .get("condition")
                .is_none(),
            "{boss_view}"
        );
        assert!(
            boss_view["definition"]["nodes"][1]
                .get("assignee")
                .is_none(),
            "{boss_view}"
        );
        assert_eq!(boss_view["definition"]["nodes"][1]["type"], "approval");
        assert_eq!(boss_view["definition"]["edges"][1]["outcome"], "approved");
        let listed = get(&boss, &app, "/apps/ops/flows").await;
        assert_eq!(
            listed["items"][0]["trigger"],
            json!({"type": "record_created", "form": "ticket"}),
            "{listed}"
        );
        assert_eq!(
            get(&boss, &app, "/tasks?status=closed").await["items"][0]["comment"],
            "pumps ordered"
        );

        // A second publish with no change is not a new version; the log has every step.
        let r = app
            .post("/apps/ops/flows/urgent_approval/publish", &json!(null))
            .await;
        assert_eq!(expect(r, StatusCode::OK).await["published"], false);
        let log = expect(app.get("/audit?app=ops&limit=200").await, StatusCode::OK).await;
        let logged: Vec<&str> = log["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        for a in ["flow.publish", "flow.start", "flow.task", "flow.complete"] {
            assert!(logged.contains(&a), "{a} missing from {logged:?}");
        }

        // Rejection: the initiator (the admin who created it) gets the rendered message.
        let t2 = app
            .create_ok(
                "ops",
                "ticket",
                json!({"title": "coffee machine", "priority": "urgent"}),
            )
            .await;
        let task2 = eventually("the second task", || async {
            let v = get(&boss, &app, "/tasks").await;
            v["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|t| t["record"] == t2["id"])
                .cloned()
        })
        .await;
        let r = boss
            .post(app.url(&format!("/tasks/{}/complete", task2["id"])))
            .json(&json!({"outcome": "rejected", "comment": "not urgent"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let msg = eventually("the rejection message", || async {
            let v = expect(app.get("/inbox").await, StatusCode::OK).await;
            v["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|m| m["title"] == "Rejected: coffee machine")
                .cloned()
        })
        .await;
        assert_eq!(msg["body"], "not urgent");
    }
);

/// A deadline that falls due while the server is stopped fires once after the restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_deadline_missed_while_down_fires_once_after_restart() {
    let app = TestApp::spawn(Store::Sqlite).await;
    ticket_form(&app).await;
    user(&app, "boss").await;
    let flow = approval_flow(Some(json!({"minutes": 0.05, "action": "auto_approve"})));
    expect(
        app.post("/apps/ops/flows/urgent_approval/publish", &flow)
            .await,
        StatusCode::CREATED,
    )
    .await;
    let t = app
        .create_ok(
            "ops",
            "ticket",
            json!({"title": "night alarm", "priority": "urgent"}),
        )
        .await;
    let id = t["id"].as_i64().unwrap();
    // Wait for the task (deadline set), then stop before it falls due (3 s).
    eventually("the task", || async {
        let v = expect(
            app.get(&format!("/flow-instances?record={id}")).await,
            StatusCode::OK,
        )
        .await;
        let inst = v["items"][0]["id"].as_i64()?;
        let d = expect(
            app.get(&format!("/flow-instances/{inst}")).await,
            StatusCode::OK,
        )
        .await;
        (d["positions"] == json!(["approve"])).then_some(())
    })
    .await;
    let store = app.store;
    let (dir, url) = app.stop().await;
    tokio::time::sleep(Duration::from_millis(3500)).await;
    let app = TestApp::spawn_with(store, dir, url).await;
    let done = eventually("the auto-approval after restart", || async {
        let v = expect(
            app.get(&format!("/flow-instances?record={id}")).await,
            StatusCode::OK,
        )
        .await;
        let inst = v["items"][0]["id"].as_i64()?;
        let d = expect(
            app.get(&format!("/flow-instances/{inst}")).await,
            StatusCode::OK,
        )
        .await;
        (d["instance"]["status"] == "completed").then_some(d)
    })
    .await;
    let actions: Vec<&str> = done["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions.iter().filter(|a| **a == "deadline").count(),
        1,
        "{actions:?}"
    );
    assert_eq!(
        actions.iter().filter(|a| **a == "approved").count(),
        1,
        "{actions:?}"
    );
    let rec = expect(
        app.get(&format!("/apps/ops/forms/ticket/records/{id}"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(rec["data"]["status"], "approved");
    app.stop().await;
}

/// Flow 1, the service order's life, through the tasks people do: the manager dispatches,
/// the engineer handles it on site (the order turns resolved), customer service calls and
/// records a satisfaction of 90 (the order closes).
async fn order_lifecycle(app: TestApp) {
    crate::crm::install(&app).await;
    crate::crm::install_flows(&app).await;
    crate::crm::department(&app, "east", None).await;
    let manager = crate::crm::user(&app, "manager_east", &["service_manager"], Some("east")).await;
    let engineer = crate::crm::user(&app, "engineer1", &["engineer"], Some("east")).await;
    let cs = crate::crm::user(&app, "cs1", &["customer_service"], None).await;
    let customer = app
        .create_ok(
            "crm",
            "customer",
            json!({"name": "瑞金医院", "customer_type": "hospital"}),
        )
        .await["id"]
        .clone();
    let oid = app
        .create_ok(
            "crm",
            "service_order",
            json!({"kind": "repair", "priority": "normal", "status": "reported",
            "customer": customer, "service_team": "east", "fault_description": "no display"}),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    let task_of = |c: Client, label: &'static str| {
        let app = &app;
        async move {
            eventually(label, || async {
                let v = get(&c, app, "/tasks").await;
                v["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|t| t["record"] == oid && t["label"]["en"] == label)
                    .cloned()
            })
            .await
        }
    };
    let complete = |c: Client, task: Value, data: Value| {
        let app = &app;
        async move {
            let r = c
                .post(app.url(&format!("/tasks/{}/complete", task["id"])))
                .json(&json!({"outcome": "done", "data": data}))
                .send()
                .await
                .unwrap();
            expect(r, StatusCode::OK).await;
        }
    };
    let status = || async {
        expect(
            app.get(&format!("/apps/crm/forms/service_order/records/{oid}"))
                .await,
            StatusCode::OK,
        )
        .await["data"]["status"]
            .clone()
    };
    let dispatch = task_of(manager.clone(), "Dispatch").await;
    complete(
        manager.clone(),
        dispatch,
        json!({"engineer": "engineer1", "status": "dispatched"}),
    )
    .await;
    let on_site = task_of(engineer.clone(), "Handle on site").await;
    complete(engineer.clone(), on_site, json!({"arrived_at": "2026-12-01T10:00:00+08:00", "cause": "loose cable",
        "resolution": "cable replaced", "resolved_at": "2026-12-01T11:30:00+08:00", "labour_hours": 1.5})).await;
    eventually("resolved", || async {
        (status().await == "resolved").then_some(())
    })
    .await;
    let call = task_of(cs.clone(), "Call after resolution").await;
    complete(
        cs.clone(),
        call,
        json!({"satisfaction": 90, "follow_up_note": "all well"}),
    )
    .await;
    eventually("closed", || async {
        (status().await == "closed").then_some(())
    })
    .await;
    let rec = expect(
        app.get(&format!("/apps/crm/forms/service_order/records/{oid}"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(rec["data"]["resolution"], "cable replaced", "{rec}");
    assert_eq!(rec["data"]["satisfaction"], 90, "{rec}");
    assert_ne!(rec["data"]["second_handling"], true, "{rec}");
}

on_both_stores!(
    flow_1_takes_an_order_from_report_to_closed_through_peoples_tasks,
    order_lifecycle
);

on_both_stores!(the_crm_flows_run_s3_and_s7, |app: TestApp| async move {
    crate::crm::install(&app).await;
    crate::crm::install_flows(&app).await;
    let manager = crate::crm::user(&app, "manager_east", &["service_manager"], None).await;
    let compliance = crate::crm::user(&app, "compliance1", &["compliance"], None).await;
    let sales = crate::crm::user(&app, "sales1", &["sales"], None).await;
    let customer = app
            .create_ok("crm", "customer", json!({"name": "协和医院", "customer_type": "hospital", "owner": "sales1", "compliance_status": "pending"}))
            .await["id"]
            .clone();

    // A new order goes to the managers for dispatch.
    let order = app
            .create_ok("crm", "service_order", json!({"kind": "repair", "priority": "normal", "status": "reported", "customer": customer, "fault_description": "no display"}))
            .await;
    let oid = order["id"].as_i64().unwrap();
    let dispatch = eventually("the dispatch task", || async {
        let v = get(&manager, &app, "/tasks").await;
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["record"] == oid)
            .cloned()
    })
    .await;
    assert_eq!(dispatch["label"]["en"], "Dispatch");

    // S3: a follow-up with satisfaction 70 reopens the order for second handling.
    expect(
        app.patch(
            &format!("/apps/crm/forms/service_order/records/{oid}"),
            &json!({"data": {"satisfaction": 70}}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let reopened = eventually("second handling", || async {
        let r = expect(
            app.get(&format!("/apps/crm/forms/service_order/records/{oid}"))
                .await,
            StatusCode::OK,
        )
        .await;
        (r["data"]["status"] == "second_handling").then_some(r)
    })
    .await;
    assert_eq!(reopened["data"]["second_handling"], true);
    eventually("the managers' message", || async {
        let inbox = get(&manager, &app, "/inbox").await;
        inbox["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["title"].as_str().unwrap().starts_with("二次处理 SO-"))
            .cloned()
    })
    .await;
    // A satisfied follow-up starts nothing.
    let before = expect(
        app.get("/flow-instances?flow=second_handling").await,
        StatusCode::OK,
    )
    .await["items"]
        .as_array()
        .unwrap()
        .len();
    expect(
        app.patch(
            &format!("/apps/crm/forms/service_order/records/{oid}"),
            &json!({"data": {"satisfaction": 95}}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let after = expect(
        app.get("/flow-instances?flow=second_handling").await,
        StatusCode::OK,
    )
    .await["items"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(before, after);

    // S7: a sales rep submits a licence; compliance approves it; the customer turns valid.
    let r = sales
            .post(app.url("/apps/crm/forms/qualification/records"))
            .json(&json!({"data": {"customer": customer, "kind": "distribution_licence", "number": "Q-77", "expires_on": "2030-01-01"}}))
            .send()
            .await
            .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap()
    );
    let q: Value = r.json().await.unwrap();
    let review = eventually("the compliance task", || async {
        let v = get(&compliance, &app, "/tasks").await;
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["record"] == q["id"])
            .cloned()
    })
    .await;
    let detail = get(&compliance, &app, &format!("/tasks/{}", review["id"])).await;
    assert_eq!(detail["editable"], json!(["review_comment"]));
    assert_eq!(detail["record"]["data"]["number"], "Q-77");
    let r = compliance
        .post(app.url(&format!("/tasks/{}/complete", review["id"])))
        .json(&json!({"outcome": "approved", "data": {"review_comment": "licence checked"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let valid = eventually("the customer to turn valid", || async {
        let c = expect(
            app.get(&format!("/apps/crm/forms/customer/records/{customer}"))
                .await,
            StatusCode::OK,
        )
        .await;
        (c["data"]["compliance_status"] == "valid").then_some(c)
    })
    .await;
    assert_eq!(valid["updated_by"], "flow:qualification_review");
    let q = expect(
        app.get(&format!(
            "/apps/crm/forms/qualification/records/{}",
            q["id"]
        ))
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(q["data"]["review_status"], "approved");
    assert_eq!(q["data"]["reviewer"], "compliance1");
    assert_eq!(q["data"]["review_comment"], "licence checked");
});

fn timer_flow(trigger: Value) -> Value {
    json!({
        "key": "reminder", "label": {"en": "Reminder"},
        "trigger": trigger,
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "tell", "type": "notify", "to": {"user": "boss"}, "title": "Reminder {{record.title}}"},
            {"id": "end", "type": "end"}
        ],
        "edges": [{"from": "start", "to": "tell"}, {"from": "tell", "to": "end"}]
    })
}

async fn instance_count(app: &TestApp, flow: &str) -> usize {
    expect(
        app.get(&format!("/flow-instances?flow={flow}")).await,
        StatusCode::OK,
    )
    .await["items"]
        .as_array()
        .unwrap()
        .len()
}

on_both_stores!(
    date_field_triggers_plan_replan_and_fire_once,
    |app: TestApp| async move {
        ticket_form(&app).await;
        user(&app, "boss").await;
        // An old ticket whose date is long past is not fired by publishing; a future one is planned.
        app.create_ok(
            "ops",
            "ticket",
            json!({"title": "old", "due_on": "2020-01-01"}),
        )
        .await;
        let flow = timer_flow(
            json!({"type": "date_field", "form": "ticket", "field": "due_on", "offset_days": -1}),
        );
        expect(
            app.post("/apps/ops/flows/reminder/publish", &flow).await,
            StatusCode::CREATED,
        )
        .await;
        // Bad field type is refused at publish.
        let bad = timer_flow(json!({"type": "date_field", "form": "ticket", "field": "title"}));
        let body = expect(
            app.post("/apps/ops/flows/bad_reminder/publish", &{
                let mut b = bad;
                b["key"] = json!("bad_reminder");
                b
            })
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(body["details"][0]["pointer"], "/trigger/field", "{body}");

        let today = chrono::Utc::now()
            .with_timezone(&chrono_tz::Asia::Shanghai)
            .date_naive();
        let far = (today + chrono::Duration::days(30)).to_string();
        let tomorrow = (today + chrono::Duration::days(1)).to_string();
        // Due in 29 days: planned, not fired.
        let t = app
            .create_ok("ops", "ticket", json!({"title": "audit", "due_on": far}))
            .await;
        tokio::time::sleep(Duration::from_millis(800)).await;
        assert_eq!(instance_count(&app, "reminder").await, 0);
        // Moving the date to tomorrow re-plans it: one day before is today, so it fires now, once.
        expect(
            app.patch(
                &format!("/apps/ops/forms/ticket/records/{}", t["id"]),
                &json!({"data": {"due_on": tomorrow}}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        eventually("the reminder", || async {
            (instance_count(&app, "reminder").await == 1).then_some(())
        })
        .await;
        // Unrelated edits do not re-plan; the same date does not fire again.
        expect(
            app.patch(
                &format!("/apps/ops/forms/ticket/records/{}", t["id"]),
                &json!({"data": {"note": "x"}}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        tokio::time::sleep(Duration::from_millis(800)).await;
        assert_eq!(instance_count(&app, "reminder").await, 1);
        let inbox = expect(
            app.get("/flow-instances?flow=reminder").await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(inbox["items"][0]["record"], t["id"]);
    }
);

/// A planned date that falls due, and a schedule run that is missed, while the server is
/// down each fire once after the restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn timers_missed_while_down_fire_once_after_restart() {
    let app = TestApp::spawn(Store::Sqlite).await;
    ticket_form(&app).await;
    user(&app, "boss").await;
    let mut datetime_flow =
        timer_flow(json!({"type": "date_field", "form": "ticket", "field": "remind_at"}));
    datetime_flow["key"] = json!("at_time");
    expect(
        app.post("/apps/ops/flows/at_time/publish", &datetime_flow)
            .await,
        StatusCode::CREATED,
    )
    .await;
    let mut weekly = timer_flow(json!({"type": "schedule", "cron": "0 9 * * 1"}));
    weekly["key"] = json!("weekly");
    weekly["nodes"][1]["title"] = json!("Weekly report");
    expect(
        app.post("/apps/ops/flows/weekly/publish", &weekly).await,
        StatusCode::CREATED,
    )
    .await;
    let soon = (chrono::Utc::now() + chrono::Duration::seconds(2))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let t = app
        .create_ok(
            "ops",
            "ticket",
            json!({"title": "call back", "remind_at": soon}),
        )
        .await;
    assert_eq!(instance_count(&app, "at_time").await, 0);
    let store = app.store;
    let (dir, url) = app.stop().await;
    // While down: the reminder falls due, and pretend Monday 09:00 passed too.
    let settings = crate::helpers::settings_for(store, dir.path(), &url);
    let db = formwork::store::db::Db::connect(&settings.database)
        .await
        .unwrap();
    use sea_orm::ConnectionTrait;
    db.write
        .execute_unprepared("UPDATE flow_schedules SET next_at = '2026-01-05T01:00:00.000Z'")
        .await
        .unwrap();
    drop(db);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let app = TestApp::spawn_with(store, dir, url).await;
    eventually("both timers", || async {
        (instance_count(&app, "at_time").await == 1 && instance_count(&app, "weekly").await == 1)
            .then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(instance_count(&app, "at_time").await, 1);
    assert_eq!(
        instance_count(&app, "weekly").await,
        1,
        "a missed run fires once, not once per missed week"
    );
    let at = expect(
        app.get("/flow-instances?flow=at_time").await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(at["items"][0]["record"], t["id"]);
    let weekly = expect(app.get("/flow-instances?flow=weekly").await, StatusCode::OK).await;
    assert_eq!(weekly["items"][0]["record"], Value::Null);
    app.stop().await;
}

/// The CRM with its flows, sales1, and a hospital sales1 owns: sales1's client and the
/// hospital's id.
async fn crm_sales_customer(app: &TestApp, name: &str) -> (Client, Value) {
    crate::crm::install(app).await;
    crate::crm::install_flows(app).await;
    let sales = crate::crm::user(app, "sales1", &["sales"], None).await;
    let customer = app
        .create_ok(
            "crm",
            "customer",
            json!({"name": name, "customer_type": "hospital", "owner": "sales1"}),
        )
        .await["id"]
        .clone();
    (sales, customer)
}

/// A sales order refused by flow 7's guard, saying the customer lacks a valid licence.
async fn assert_refused_for_licence(r: reqwest::Response) {
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["details"][0]["rule"], "guard", "{body}");
    assert_eq!(body["details"][0]["pointer"], "/data", "{body}");
    assert!(
        body["details"][0]["message"]
            .as_str()
            .unwrap()
            .contains("distribution licence"),
        "{body}"
    );
}

on_both_stores!(
    the_order_guard_refuses_sales_orders_without_a_valid_licence_s8,
    |app: TestApp| async move {
        let (sales, customer) = crm_sales_customer(&app, "华山医院").await;
        let order = json!({"data": {"customer": customer, "ordered_on": "2026-11-22"}});
        let post = |body: Value| {
            let sales = sales.clone();
            let url = app.url("/apps/crm/forms/sales_order/records");
            async move { sales.post(url).json(&body).send().await.unwrap() }
        };
        // No licence: refused with the message, on the data, and nothing is written.
        assert_refused_for_licence(post(order.clone()).await).await;
        let total = expect(
            app.get("/apps/crm/forms/sales_order/records?total=true")
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(total["total"], 0);
        // An expired licence does not count; an approved, valid one does.
        let lic = |expires: &str, status: &str| json!({"customer": customer, "kind": "distribution_licence", "number": format!("L-{expires}"), "expires_on": expires, "review_status": status});
        app.create_ok("crm", "qualification", lic("2024-01-01", "approved"))
            .await;
        app.create_ok("crm", "qualification", lic("2031-01-01", "pending"))
            .await;
        assert_eq!(
            post(order.clone()).await.status(),
            StatusCode::UNPROCESSABLE_ENTITY
        );
        app.create_ok("crm", "qualification", lic("2031-06-30", "approved"))
            .await;
        let r = post(order.clone()).await;
        assert_eq!(
            r.status(),
            StatusCode::CREATED,
            "{}",
            r.text().await.unwrap()
        );
        // Flow 7's scope: a class III product on the order needs a licence whose scope
        // covers class III (the one above lists no classes).
        let product = |class: &str| {
            let app = &app;
            let body = json!({"name": format!("{class} device"), "model": format!("M-{class}"), "device_class": class});
            async move { app.create_ok("crm", "product", body).await["id"].clone() }
        };
        let (p2, p3) = (product("class_ii").await, product("class_iii").await);
        let with_lines = |products: &[&Value]| {
            let lines: Vec<Value> = products
                .iter()
                .map(|p| json!({"product": p, "qty": 1, "price": 100}))
                .collect();
            json!({"data": {"customer": customer, "ordered_on": "2026-11-22", "lines": lines}})
        };
        let r = post(with_lines(&[&p2, &p3])).await;
        let body = expect(r, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert!(
            body["details"][0]["message"]
                .as_str()
                .unwrap()
                .contains("device class"),
            "{body}"
        );
        let mut scoped = lic("2032-01-01", "approved");
        scoped["scope_classes"] = json!(["class_ii"]);
        app.create_ok("crm", "qualification", scoped).await;
        let r = post(with_lines(&[&p2, &p3])).await;
        expect(r, StatusCode::UNPROCESSABLE_ENTITY).await;
        let r = post(with_lines(&[&p2])).await;
        expect(r, StatusCode::CREATED).await;
        let mut wide = lic("2033-01-01", "approved");
        wide["scope_classes"] = json!(["class_ii", "class_iii"]);
        app.create_ok("crm", "qualification", wide).await;
        let r = post(with_lines(&[&p2, &p3])).await;
        expect(r, StatusCode::CREATED).await;
        // Bulk: the pointer names the item.
        let other = app
            .create_ok(
                "crm",
                "customer",
                json!({"name": "无证诊所", "customer_type": "clinic", "owner": "sales1"}),
            )
            .await["id"]
            .clone();
        let items = vec![
            json!({"data": order["data"].clone()}),
            json!({"data": {"customer": other}}),
        ];
        let bulk = json!({ "items": items });
        let r = sales
            .post(app.url("/apps/crm/forms/sales_order/records/bulk"))
            .json(&bulk)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["details"][0]["pointer"], "/items/1/data", "{body}");
        // Only reject/query/branch/set_var/start/end may be in a guard.
        let mut bad: Value = serde_json::from_str(
            &std::fs::read_to_string(crate::crm::crm_dir().join("flows/order_guard.json")).unwrap(),
        )
        .unwrap();
        bad["nodes"][2] = json!({"id": "has_licence", "type": "delay", "minutes": 5});
        let body = expect(
            app.post("/apps/crm/flows/order_guard/publish", &bad).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert!(
            body["details"]
                .as_array()
                .unwrap()
                .iter()
                .any(|d| d["pointer"] == "/nodes/2/type" && d["rule"] == "guard"),
            "{body}"
        );
    }
);

on_both_stores!(
    a_record_deleted_trigger_starts_on_soft_delete_only,
    |app: TestApp| async move {
        ticket_form(&app).await;
        user(&app, "boss").await;
        let mut flow = timer_flow(json!({"type": "record_deleted", "form": "ticket"}));
        flow["key"] = json!("on_delete");
        flow["nodes"][1]["title"] = json!("Deleted {{record.title}}");
        // To the one who deleted it (the boss has no role here, so could not read the title).
        flow["nodes"][1]["to"] = json!({"initiator": true});
        expect(
            app.post("/apps/ops/flows/on_delete/publish", &flow).await,
            StatusCode::CREATED,
        )
        .await;
        let t = app
            .create_ok("ops", "ticket", json!({"title": "duplicate"}))
            .await;
        expect(
            app.patch(
                &format!("/apps/ops/forms/ticket/records/{}", t["id"]),
                &json!({"data": {"note": "x"}}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(
            instance_count(&app, "on_delete").await,
            0,
            "create and update start nothing"
        );
        expect(
            app.delete(&format!("/apps/ops/forms/ticket/records/{}", t["id"]))
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(instance_count(&app, "on_delete").await, 1);
        eventually("the deletion message", || async {
            let v = expect(app.get("/inbox").await, StatusCode::OK).await;
            v["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|m| m["title"] == "Deleted duplicate")
                .cloned()
        })
        .await;
        // Restoring is not a delete.
        expect(
            app.post(
                &format!("/apps/ops/forms/ticket/records/{}/restore", t["id"]),
                &json!({}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(instance_count(&app, "on_delete").await, 1);
    }
);

on_both_stores!(
    preventive_maintenance_creates_one_inspection_order_per_overdue_device_s5,
    |app: TestApp| async move {
        crate::crm::install(&app).await;
        crate::crm::install_flows(&app).await;
        crate::crm::department(&app, "east", None).await;
        crate::crm::user(&app, "engineer1", &["engineer"], Some("east")).await;
        let customer = app
            .create_ok(
                "crm",
                "customer",
                json!({"name": "瑞金医院", "customer_type": "hospital"}),
            )
            .await["id"]
            .clone();
        let product = |model: &str, interval: i64| {
            let body = json!({"name": "监护仪", "model": model, "device_class": "class_ii", "maintenance_interval_days": interval});
            let app = &app;
            async move { app.create_ok("crm", "product", body).await["id"].clone() }
        };
        let monitor = product("FM-90", 90).await;
        let mri = product("MR-365", 365).await;
        let vent = product("VT-30", 30).await;
        let today = chrono::Utc::now()
            .with_timezone(&chrono_tz::Asia::Shanghai)
            .date_naive();
        let ago = |d: i64| (today - chrono::Duration::days(d)).to_string();
        let device = |serial: &str, product: &Value, last: String| {
            let body = json!({"product": product, "serial_number": serial, "customer": customer,
                              "last_inspection_on": last, "service_team": "east", "responsible_engineer": "engineer1"});
            let app = &app;
            async move { app.create_ok("crm", "device", body).await }
        };
        let due = device("SN-PM-91", &monitor, ago(91)).await;
        let soon = device("SN-PM-89", &monitor, ago(89)).await; // due two days later
        device("SN-PM-200", &mri, ago(200)).await; // its product allows 365 days
        // A 30-day product: 45 days is overdue, though under the usual 90 (the query's
        // window follows the shortest interval of the app's products).
        let monthly = device("SN-PM-30", &vent, ago(45)).await;
        app.create_ok("crm", "device", json!({"product": monitor, "serial_number": "SN-PM-SCRAP", "customer": customer,
                                               "last_inspection_on": ago(150), "status": "scrapped"}))
            .await; // scrapped devices are not inspected
        let covered = device("SN-PM-OPEN", &monitor, ago(120)).await; // has an open inspection
        app.create_ok("crm", "service_order", json!({"kind": "inspection", "priority": "normal", "customer": customer,
                                                      "device": covered["id"], "fault_description": "scheduled", "status": "accepted"}))
            .await;
        let inspections = || async {
            let v = app
                .list(
                    "crm",
                    "service_order",
                    &[(
                        "filter",
                        json!({"==": [{"var": "kind"}, "inspection"]}).to_string(),
                    )],
                )
                .await;
            v["items"].as_array().unwrap().clone()
        };
        assert_eq!(inspections().await.len(), 1);

        for run in 1..=2 {
            // A day passes: the 06:00 schedule falls due once.
            app.advance(86_400.0).await;
            eventually("the preventive maintenance run", || async {
                let v = expect(
                    app.get("/flow-instances?flow=preventive_maintenance&status=completed")
                        .await,
                    StatusCode::OK,
                )
                .await;
                (v["items"].as_array().unwrap().len() == run).then_some(())
            })
            .await;
            // Exactly one order for the overdue device on the first run, and still one after
            // the second ("once"); by the second run (two days on) the 89-day device is 91
            // days past and gets its own.
            let orders = inspections().await;
            let later = orders
                .iter()
                .filter(|o| o["data"]["device"] == soon["id"])
                .count();
            assert_eq!(later, run - 1, "run {run}: the 89-day device");
            let monthly_orders = orders
                .iter()
                .filter(|o| o["data"]["device"] == monthly["id"])
                .count();
            assert_eq!(monthly_orders, 1, "run {run}: the 30-day device, once");
            let made: Vec<&Value> = orders
                .iter()
                .filter(|o| o["data"]["device"] == due["id"])
                .collect();
            let runs = expect(
                app.get("/flow-instances?flow=preventive_maintenance").await,
                StatusCode::OK,
            )
            .await;
            let last = expect(
                app.get(&format!("/flow-instances/{}", runs["items"][0]["id"]))
                    .await,
                StatusCode::OK,
            )
            .await;
            assert_eq!(
                orders.len(),
                2 + run,
                "run {run}: {orders:?}\n{}",
                last["history"]
            );
            assert_eq!(made.len(), 1, "run {run}");
            let o = &made[0]["data"];
            assert_eq!(o["engineer"], "engineer1");
            assert_eq!(o["service_team"], "east");
            assert_eq!(o["status"], "dispatched");
            assert_eq!(o["customer"], customer);
            assert_eq!(made[0]["created_by"], "flow:preventive_maintenance");
        }
    }
);

/// The open task of `c` for record `record`, if any.
async fn open_task(c: &Client, app: &TestApp, record: &Value) -> Option<Value> {
    let v = get(c, app, "/tasks").await;
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["record"] == *record && t["status"] == "open")
        .cloned()
}

async fn act(
    c: &Client,
    app: &TestApp,
    task: &Value,
    action: &str,
    body: Value,
) -> (StatusCode, Value) {
    let r = c
        .post(app.url(&format!("/tasks/{}/{action}", task["id"])))
        .json(&body)
        .send()
        .await
        .unwrap();
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

on_both_stores!(
    tasks_can_be_transferred_returned_and_signed_in_sequence,
    |app: TestApp| async move {
        ticket_form(&app).await;
        let role = json!({"key": "signers", "label": {"en": "Signers"},
                          "permissions": {"ticket": {"actions": ["read", "approve"], "rows": "all", "read": ["*"]}}});
        expect(
            app.put("/apps/ops/roles/signers", &role).await,
            StatusCode::OK,
        )
        .await;
        let alice = user(&app, "alice").await;
        let bob = user(&app, "bob").await;
        let s1 = user(&app, "s1").await;
        let s2 = user(&app, "s2").await;
        let carol = user(&app, "carol").await;
        for u in ["s1", "s2"] {
            expect(
                app.put(
                    &format!("/admin/users/{u}/roles"),
                    &json!({"ops": ["signers"]}),
                )
                .await,
                StatusCode::OK,
            )
            .await;
        }
        let def = json!({
            "key": "review", "label": {"en": "Review"},
            "trigger": {"type": "record_created", "form": "ticket"},
            "nodes": [
                {"id": "start", "type": "start"},
                {"id": "check", "type": "task", "label": {"en": "Check"}, "assignee": {"user": "alice"}},
                {"id": "sign", "type": "approval", "label": {"en": "Sign"}, "assignee": {"role": "signers"}, "mode": "sequential"},
                {"id": "ok", "type": "update_record", "set": {"status": "approved"}},
                {"id": "no", "type": "update_record", "set": {"status": "rejected"}},
                {"id": "end", "type": "end"}
            ],
            "edges": [
                {"from": "start", "to": "check"}, {"from": "check", "to": "sign"},
                {"from": "sign", "to": "ok", "outcome": "approved"}, {"from": "sign", "to": "no", "outcome": "rejected"},
                {"from": "ok", "to": "end"}, {"from": "no", "to": "end"}
            ]
        });
        expect(
            app.post("/apps/ops/flows/review/publish", &def).await,
            StatusCode::CREATED,
        )
        .await;
        let t = app
            .create_ok("ops", "ticket", json!({"title": "new pump"}))
            .await;
        let rec = t["id"].clone();
        let complete = |c: Client, task: Value, outcome: &'static str| {
            let url = app.url(&format!("/tasks/{}/complete", task["id"]));
            async move {
                let r = c
                    .post(url)
                    .json(&json!({"outcome": outcome}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
            }
        };

        // Transfer: alice hands the check to bob; her task is closed, bob's is open.
        let a = eventually("alice's task", || open_task(&alice, &app, &rec)).await;
        let (s, v) = act(&alice, &app, &a, "transfer", json!({"to": "nobody"})).await;
        assert_eq!(
            (s, v["details"][0]["rule"].clone()),
            (StatusCode::UNPROCESSABLE_ENTITY, json!("exists"))
        );
        let (s, v) = act(
            &alice,
            &app,
            &a,
            "transfer",
            json!({"to": "bob", "comment": "you know this pump"}),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["task"]["status"], "transferred");
        assert!(open_task(&alice, &app, &rec).await.is_none());
        let (s, _) = act(&alice, &app, &a, "transfer", json!({"to": "carol"})).await;
        assert_eq!(
            s,
            StatusCode::CONFLICT,
            "a transferred task cannot be transferred again"
        );
        let b = eventually("bob's task", || open_task(&bob, &app, &rec)).await;
        // Nothing earlier to return to yet.
        let detail = get(&bob, &app, &format!("/tasks/{}", b["id"])).await;
        assert_eq!(detail["return_to"], json!([]));
        let (s, v) = act(&bob, &app, &b, "return", json!({"to": "sign"})).await;
        assert_eq!(
            (s, v["details"][0]["rule"].clone()),
            (StatusCode::UNPROCESSABLE_ENTITY, json!("return"))
        );
        complete(bob.clone(), b, "done").await;

        // Sequential: s1 first; s2 waits and sees nothing yet.
        let t1 = eventually("s1's task", || open_task(&s1, &app, &rec)).await;
        assert!(
            open_task(&s2, &app, &rec).await.is_none(),
            "s2 waits for s1"
        );
        let (s, v) = act(&s1, &app, &t1, "add-signer", json!({"to": "s2"})).await;
        assert_eq!(
            (s, v["details"][0]["rule"].clone()),
            (StatusCode::UNPROCESSABLE_ENTITY, json!("duplicate"))
        );
        let (s, _) = act(&s1, &app, &t1, "add-signer", json!({"to": "carol"})).await;
        assert_eq!(s, StatusCode::OK);
        complete(s1.clone(), t1, "approved").await;
        let t2 = eventually("s2's task", || open_task(&s2, &app, &rec)).await;
        assert!(
            open_task(&carol, &app, &rec).await.is_none(),
            "carol signs after s2"
        );

        // Return: s2 sends it back to the check; the queue is dropped.
        let detail = get(&s2, &app, &format!("/tasks/{}", t2["id"])).await;
        assert_eq!(
            detail["return_to"],
            json!([{"id": "check", "label": {"en": "Check"}}])
        );
        let (s, v) = act(
            &s2,
            &app,
            &t2,
            "return",
            json!({"to": "check", "comment": "photos missing"}),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let a2 = eventually("alice's second task", || open_task(&alice, &app, &rec)).await;
        complete(alice.clone(), a2, "done").await;
        for signer in [&s1, &s2] {
            let t = eventually("the next signature", || open_task(signer, &app, &rec)).await;
            complete(signer.clone(), t, "approved").await;
        }
        assert!(
            open_task(&carol, &app, &rec).await.is_none(),
            "carol was added to the returned round only"
        );
        let done = eventually("the record approved", || async {
            let r = expect(
                app.get(&format!("/apps/ops/forms/ticket/records/{rec}"))
                    .await,
                StatusCode::OK,
            )
            .await;
            (r["data"]["status"] == "approved").then_some(r)
        })
        .await;
        assert_eq!(done["updated_by"], "flow:review");
        let inst = expect(
            app.get(&format!("/flow-instances?record={rec}")).await,
            StatusCode::OK,
        )
        .await;
        let d = eventually("the instance to complete", || async {
            let d = expect(
                app.get(&format!("/flow-instances/{}", inst["items"][0]["id"]))
                    .await,
                StatusCode::OK,
            )
            .await;
            (d["instance"]["status"] == "completed").then_some(d)
        })
        .await;
        let actions: Vec<&str> = d["history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["action"].as_str().unwrap())
            .collect();
        for a in ["transferred", "signer_added", "returned"] {
            assert!(actions.contains(&a), "{a} in {actions:?}");
        }
        // Every step is in the operation log too.
        let log = expect(
            app.get("/audit?action=flow.step&limit=500").await,
            StatusCode::OK,
        )
        .await;
        let logged: Vec<&str> = log["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["after"]["instance"] == inst["items"][0]["id"])
            .map(|e| e["after"]["action"].as_str().unwrap())
            .collect();
        for a in [
            "transferred",
            "signer_added",
            "returned",
            "approved",
            "updated",
            "ended",
        ] {
            assert!(logged.contains(&a), "{a} logged: {logged:?}");
        }
    }
);

on_both_stores!(
    a_delay_can_wait_until_a_date_or_datetime_of_the_record,
    |app: TestApp| async move {
        ticket_form(&app).await;
        let def = json!({
            "key": "wait_until", "label": {"en": "Wait until"},
            "trigger": {"type": "record_created", "form": "ticket"},
            "nodes": [
                {"id": "start", "type": "start"},
                {"id": "wait", "type": "delay", "until": {"if": [{"var": "record.remind_at"}, {"var": "record.remind_at"}, {"var": "record.due_on"}]}},
                {"id": "mark", "type": "update_record", "set": {"status": "approved"}},
                {"id": "end", "type": "end"}
            ],
            "edges": [{"from": "start", "to": "wait"}, {"from": "wait", "to": "mark"}, {"from": "mark", "to": "end"}]
        });
        expect(
            app.post("/apps/ops/flows/wait_until/publish", &def).await,
            StatusCode::CREATED,
        )
        .await;
        let inst_of = |id: Value| {
            let app = &app;
            async move {
                let v = expect(
                    app.get(&format!("/flow-instances?record={id}")).await,
                    StatusCode::OK,
                )
                .await;
                let i = v["items"][0]["id"].clone();
                expect(
                    app.get(&format!("/flow-instances/{i}")).await,
                    StatusCode::OK,
                )
                .await
            }
        };
        // A datetime 1.5 s ahead: the instance waits there, then goes on.
        let at = (chrono::Utc::now() + chrono::Duration::milliseconds(1500))
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let t = app
            .create_ok("ops", "ticket", json!({"title": "later", "remind_at": at}))
            .await;
        let waiting = eventually("the wait", || async {
            let d = inst_of(t["id"].clone()).await;
            d["history"]
                .as_array()
                .unwrap()
                .iter()
                .find(|h| h["action"] == "waiting")
                .cloned()
        })
        .await;
        assert_eq!(waiting["detail"]["until"], at);
        assert_eq!(
            inst_of(t["id"].clone()).await["instance"]["status"],
            "running"
        );
        let done = eventually("the instance to go on after the time", || async {
            let d = inst_of(t["id"].clone()).await;
            (d["instance"]["status"] == "completed").then_some(d)
        })
        .await;
        let fired = done["history"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["action"] == "timer")
            .unwrap()["at"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(fired >= at, "fired at {fired}, not before {at}");
        // A date in the past, or no date at all: no wait.
        for data in [
            json!({"title": "past", "due_on": "2020-01-01"}),
            json!({"title": "none"}),
        ] {
            let t = app.create_ok("ops", "ticket", data).await;
            eventually("the instance to complete", || async {
                (inst_of(t["id"].clone()).await["instance"]["status"] == "completed").then_some(())
            })
            .await;
        }
        // A value that is not a date fails the instance with the rule named; publishing a
        // delay with both a duration and until is refused.
        let mut bad = def.clone();
        bad["key"] = json!("wait_bad");
        bad["trigger"]["condition"] = json!({"==": [{"var": "record.title"}, "bad"]});
        bad["nodes"][1]["until"] = json!({"var": "record.title"});
        expect(
            app.post("/apps/ops/flows/wait_bad/publish", &bad).await,
            StatusCode::CREATED,
        )
        .await;
        let t = app
            .create_ok("ops", "ticket", json!({"title": "bad"}))
            .await;
        let failed = eventually("the bad instance to fail", || async {
            let v = expect(
                app.get(&format!("/flow-instances?record={}&flow=wait_bad", t["id"]))
                    .await,
                StatusCode::OK,
            )
            .await;
            (v["items"][0]["status"] == "failed").then(|| v["items"][0].clone())
        })
        .await;
        assert!(
            failed["error"].as_str().unwrap().contains("not a date"),
            "{failed}"
        );
        bad["nodes"][1]["minutes"] = json!(5);
        let v = expect(
            app.post("/apps/ops/flows/wait_bad/publish", &bad).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(v["details"][0]["rule"], "delay", "{v}");
    }
);

on_both_stores!(
    a_sub_flow_runs_as_its_own_instance_and_hands_back_its_result,
    |app: TestApp| async move {
        ticket_form(&app).await;
        let child = |key: &str, priority: &str| {
            json!({
                "key": key, "label": {"en": key},
                "trigger": {"type": "manual", "form": "ticket"},
                "nodes": [
                    {"id": "start", "type": "start"},
                    {"id": "double", "type": "set_var", "name": "result", "value": {"*": [{"var": "vars.input.x"}, 2]}},
                    {"id": "touch", "type": "update_record", "set": {"note": "checked by the sub-flow", "priority": priority}},
                    {"id": "end", "type": "end"}
                ],
                "edges": [{"from": "start", "to": "double"}, {"from": "double", "to": "touch"}, {"from": "touch", "to": "end"}]
            })
        };
        let parent = |key: &str, sub: &str| {
            json!({
                "key": key, "label": {"en": key},
                "trigger": {"type": "record_created", "form": "ticket", "condition": {"==": [{"var": "record.title"}, key]}},
                "nodes": [
                    {"id": "start", "type": "start"},
                    {"id": "sub", "type": "subflow", "flow": sub, "input": {"x": 21}, "name": "check"},
                    {"id": "ok", "type": "update_record", "set": {"status": "approved", "owner_user": {"if": [{"==": [{"var": "vars.check.vars.result"}, 42]}, "admin", "nobody"]}}},
                    {"id": "bad", "type": "update_record", "set": {"status": "rejected"}},
                    {"id": "end", "type": "end"}
                ],
                "edges": [{"from": "start", "to": "sub"}, {"from": "sub", "to": "ok", "outcome": "completed"},
                          {"from": "sub", "to": "bad", "outcome": "failed"}, {"from": "ok", "to": "end"}, {"from": "bad", "to": "end"}]
            })
        };
        // Publishing: the sub-flow must be a published flow of the app, and not the flow itself.
        let v = expect(
            app.post("/apps/ops/flows/outer/publish", &parent("outer", "inner"))
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(
            (
                v["details"][0]["pointer"].clone(),
                v["details"][0]["rule"].clone()
            ),
            (json!("/nodes/1/flow"), json!("exists")),
            "{v}"
        );
        let v = expect(
            app.post("/apps/ops/flows/outer/publish", &parent("outer", "outer"))
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(v["details"][0]["rule"], "subflow", "{v}");
        expect(
            app.post("/apps/ops/flows/inner/publish", &child("inner", "urgent"))
                .await,
            StatusCode::CREATED,
        )
        .await;
        expect(
            app.post(
                "/apps/ops/flows/inner_bad/publish",
                &child("inner_bad", "bogus"),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        expect(
            app.post("/apps/ops/flows/outer/publish", &parent("outer", "inner"))
                .await,
            StatusCode::CREATED,
        )
        .await;
        expect(
            app.post(
                "/apps/ops/flows/outer_bad/publish",
                &parent("outer_bad", "inner_bad"),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;

        let rec = |title: &str| {
            let app = &app;
            let title = title.to_owned();
            async move {
                app.create_ok("ops", "ticket", json!({"title": title}))
                    .await["id"]
                    .clone()
            }
        };
        let get_rec = |id: Value| {
            let app = &app;
            async move {
                expect(
                    app.get(&format!("/apps/ops/forms/ticket/records/{id}"))
                        .await,
                    StatusCode::OK,
                )
                .await
            }
        };
        // The child works on the same record with its input; the parent reads its result.
        let id = rec("outer").await;
        let done = eventually("the parent to finish", || async {
            let r = get_rec(id.clone()).await;
            (r["data"]["status"] == "approved").then_some(r)
        })
        .await;
        assert_eq!(done["data"]["note"], "checked by the sub-flow");
        assert_eq!(done["data"]["priority"], "urgent");
        assert_eq!(
            done["data"]["owner_user"], "admin",
            "vars.check.vars.result was 42"
        );
        let list = expect(
            app.get(&format!("/flow-instances?record={id}")).await,
            StatusCode::OK,
        )
        .await;
        let flows: Vec<&str> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["flow"].as_str().unwrap())
            .collect();
        assert_eq!(flows.len(), 2, "{flows:?}");
        assert!(flows.contains(&"outer") && flows.contains(&"inner"));
        // A failing child (its update is invalid) takes the parent's failed edge.
        let id = rec("outer_bad").await;
        eventually("the parent to take the failed edge", || async {
            (get_rec(id.clone()).await["data"]["status"] == "rejected").then_some(())
        })
        .await;
        let list = expect(
            app.get(&format!("/flow-instances?record={id}&flow=inner_bad"))
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(list["items"][0]["status"], "failed");
    }
);

on_both_stores!(
    a_level_one_adverse_event_tells_qa_at_once_and_escalates_after_24_hours_s13_level_two_after_48,
    |app: TestApp| async move {
        crate::crm::install(&app).await;
        crate::crm::install_flows(&app).await;
        let qa = crate::crm::user(&app, "qa1", &["compliance"], None).await;
        let boss = crate::crm::user(&app, "crmadmin1", &["crm_admin"], None).await;
        let customer = app
            .create_ok(
                "crm",
                "customer",
                json!({"name": "中山医院", "customer_type": "hospital"}),
            )
            .await["id"]
            .clone();
        let event = app
            .create_ok("crm", "complaint", json!({"kind": "adverse_event", "customer": customer, "recall_level": "level_1",
                                                 "severity": "serious_injury", "description": "Infusion pump over-delivery"}))
            .await;
        // QA hears at once (inbox) and has the reporting task, due in 24 hours.
        let msg = eventually("the QA message", || async {
            let v = get(&qa, &app, "/inbox").await;
            v["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|m| m["title"].as_str().unwrap_or("").contains("level_1"))
                .cloned()
        })
        .await;
        assert!(msg["body"].as_str().unwrap().contains("over-delivery"));
        let task = eventually("the report task", || async {
            let v = get(&qa, &app, "/tasks").await;
            v["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|t| t["record"] == event["id"])
                .cloned()
        })
        .await;
        assert_eq!(
            task["label"]["en"],
            "Report to the authority within 24 hours"
        );
        let due = chrono::DateTime::parse_from_rfc3339(task["due_at"].as_str().unwrap()).unwrap();
        let hours =
            (due.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_minutes() as f64 / 60.0;
        assert!((23.5..=24.0).contains(&hours), "due in {hours} h");
        assert!(
            get(&boss, &app, "/tasks").await["items"]
                .as_array()
                .unwrap()
                .is_empty()
        );
        // 23 hours pass: nothing yet. 24 hours pass unreported: it escalates to the CRM
        // administrator; QA's task stays open.
        app.advance(23.0 * 3600.0).await;
        tokio::time::sleep(Duration::from_millis(600)).await;
        assert!(
            get(&boss, &app, "/tasks").await["items"]
                .as_array()
                .unwrap()
                .is_empty(),
            "not before 24 h"
        );
        app.advance(3600.0 + 5.0).await;
        let escalated = eventually("the escalation", || async {
            let v = get(&boss, &app, "/tasks").await;
            v["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|t| t["record"] == event["id"])
                .cloned()
        })
        .await;
        assert_eq!(escalated["status"], "open");
        // QA reports; the event is marked reported.
        let r = qa
            .post(app.url(&format!("/tasks/{}/complete", task["id"])))
            .json(&json!({"outcome": "done", "data": {"reported_to_authority_at": "2026-11-23T10:00:00Z"}}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
        let done = eventually("the event marked reported", || async {
            let c = expect(
                app.get(&format!(
                    "/apps/crm/forms/complaint/records/{}",
                    event["id"]
                ))
                .await,
                StatusCode::OK,
            )
            .await;
            (c["data"]["status"] == "reported").then_some(c)
        })
        .await;
        // (Kept in the app's time zone: 10:00 UTC is 18:00 in Shanghai.)
        assert_eq!(
            done["data"]["reported_to_authority_at"], "2026-11-23T18:00:00+08:00",
            "{done}"
        );
        // Level II: the same, with 48 hours (on the server's clock, moved on above).
        let level_2 = app
            .create_ok("crm", "complaint", json!({"kind": "adverse_event", "customer": customer, "recall_level": "level_2",
                                                 "severity": "general", "description": "Alarm too quiet"}))
            .await;
        let task_2 = eventually("the 48-hour report task", || {
            open_task(&qa, &app, &level_2["id"])
        })
        .await;
        assert_eq!(
            task_2["label"]["en"],
            "Report to the authority within 48 hours"
        );
        let now = expect(app.get("/admin/clock").await, StatusCode::OK).await["now"].clone();
        let hours = (chrono::DateTime::parse_from_rfc3339(task_2["due_at"].as_str().unwrap())
            .unwrap()
            - chrono::DateTime::parse_from_rfc3339(now.as_str().unwrap()).unwrap())
        .num_minutes() as f64
            / 60.0;
        assert!((47.5..=48.0).contains(&hours), "due in {hours} h");
        let escalations = || async {
            get(&boss, &app, "/tasks").await["items"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|t| t["record"] == level_2["id"])
                .count()
        };
        app.advance(47.0 * 3600.0).await;
        tokio::time::sleep(Duration::from_millis(600)).await;
        assert_eq!(escalations().await, 0, "not before 48 h");
        app.advance(3600.0 + 5.0).await;
        eventually("the 48-hour escalation", || async {
            (escalations().await == 1).then_some(())
        })
        .await;
        // A plain complaint starts nothing.
        let plain = app
            .create_ok(
                "crm",
                "complaint",
                json!({"kind": "complaint", "customer": customer, "description": "late visit"}),
            )
            .await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let v = expect(
            app.get(&format!(
                "/flow-instances?record={}&flow=adverse_event",
                plain["id"]
            ))
            .await,
            StatusCode::OK,
        )
        .await;
        assert!(v["items"].as_array().unwrap().is_empty());
    }
);

on_both_stores!(
    three_days_without_storage_logs_raise_one_follow_up_that_closes_when_they_are_entered_s16,
    |app: TestApp| async move {
        crate::crm::install(&app).await;
        crate::crm::install_flows(&app).await;
        let qa = crate::crm::user(&app, "qa1", &["compliance"], None).await;
        let server_today = || async {
            let v = expect(app.get("/admin/clock").await, StatusCode::OK).await;
            chrono::DateTime::parse_from_rfc3339(v["now"].as_str().unwrap())
                .unwrap()
                .with_timezone(&chrono_tz::Asia::Shanghai)
                .date_naive()
        };
        let day0 = server_today().await;
        // Every warehouse but Beijing logs every day; Beijing logs nothing.
        let others = ["sh_central", "gz_central", "wh_central", "cd_central"];
        let log = |warehouse: &'static str, day: chrono::NaiveDate| {
            let app = &app;
            async move {
                app.create_ok(
                    "crm",
                    "storage_log",
                    json!({"warehouse": warehouse, "log_date": day.to_string(),
                                                          "temperature": 18.5, "humidity": 45}),
                )
                .await;
            }
        };
        let follow_ups = || async {
            let v = expect(
                app.get("/flow-instances?flow=storage_gap_follow_up").await,
                StatusCode::OK,
            )
            .await;
            v["items"].as_array().unwrap().clone()
        };
        let gap_tasks = || async {
            let v = get(&qa, &app, "/tasks").await;
            v["items"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|t| t["flow"]["key"] == "storage_gap_follow_up")
                .cloned()
                .collect::<Vec<Value>>()
        };
        for day in 1..=3 {
            for w in others {
                log(w, day0 + chrono::Duration::days(day - 1)).await;
            }
            // A day passes; the 08:00 check runs.
            app.advance(86_400.0).await;
            eventually("the morning check", || async {
                let v = expect(
                    app.get("/flow-instances?flow=storage_gap&status=completed")
                        .await,
                    StatusCode::OK,
                )
                .await;
                (v["items"].as_array().unwrap().len() == day as usize).then_some(())
            })
            .await;
            tokio::time::sleep(Duration::from_millis(300)).await;
            // Three days without a Beijing log: one follow-up and one task, not three.
            let f = follow_ups().await;
            assert_eq!(f.len(), 1, "day {day}: {f:?}");
            assert_eq!(f[0]["status"], "running");
            assert_eq!(gap_tasks().await.len(), 1, "day {day}");
            // Its daily re-check is planned before the time moves on.
            eventually("the follow-up's daily check", || async {
                let d = expect(
                    app.get(&format!("/flow-instances/{}", f[0]["id"])).await,
                    StatusCode::OK,
                )
                .await;
                armed(&d, "wait").then_some(())
            })
            .await;
        }
        let task = gap_tasks().await[0].clone();
        assert_eq!(task["label"]["en"], "Enter the missing storage logs");
        // The logs are entered for the missing days (and today); the next daily check
        // closes the follow-up and withdraws the task.
        for day in 0..=3 {
            log("bj_central", day0 + chrono::Duration::days(day)).await;
        }
        for w in others {
            log(w, day0 + chrono::Duration::days(3)).await;
        }
        app.advance(86_400.0).await;
        let closed = eventually("the follow-up to close", || async {
            let f = follow_ups().await;
            (f[0]["status"] == "completed").then(|| f[0].clone())
        })
        .await;
        let d = expect(
            app.get(&format!("/flow-instances/{}", closed["id"])).await,
            StatusCode::OK,
        )
        .await;
        assert!(d["positions"].as_array().unwrap().is_empty());
        assert!(
            gap_tasks().await.is_empty(),
            "the task closed with the follow-up"
        );
        let t = get(&qa, &app, &format!("/tasks/{}", task["id"])).await;
        assert_eq!(t["task"]["status"], "cancelled");
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(
            follow_ups().await.len(),
            1,
            "no new follow-up: yesterday has its log"
        );
    }
);

on_both_stores!(
    cancelling_a_parent_cancels_the_sub_flow_it_waits_for,
    |app: TestApp| async move {
        ticket_form(&app).await;
        let boss = user(&app, "boss").await;
        let child = json!({
            "key": "child_task", "label": {"en": "Child"},
            "trigger": {"type": "manual", "form": "ticket"},
            "nodes": [{"id": "start", "type": "start"}, {"id": "work", "type": "task", "assignee": {"user": "boss"}}, {"id": "end", "type": "end"}],
            "edges": [{"from": "start", "to": "work"}, {"from": "work", "to": "end"}]
        });
        let parent = json!({
            "key": "parent_waits", "label": {"en": "Parent"},
            "trigger": {"type": "record_created", "form": "ticket"},
            "nodes": [{"id": "start", "type": "start"}, {"id": "sub", "type": "subflow", "flow": "child_task"}, {"id": "end", "type": "end"}],
            "edges": [{"from": "start", "to": "sub"}, {"from": "sub", "to": "end"}]
        });
        expect(
            app.post("/apps/ops/flows/child_task/publish", &child).await,
            StatusCode::CREATED,
        )
        .await;
        expect(
            app.post("/apps/ops/flows/parent_waits/publish", &parent)
                .await,
            StatusCode::CREATED,
        )
        .await;
        let t = app.create_ok("ops", "ticket", json!({"title": "x"})).await;
        let task = eventually("the child's task", || async {
            let v = get(&boss, &app, "/tasks").await;
            v["items"].as_array().unwrap().first().cloned()
        })
        .await;
        let list = expect(
            app.get(&format!(
                "/flow-instances?record={}&flow=parent_waits",
                t["id"]
            ))
            .await,
            StatusCode::OK,
        )
        .await;
        let pid = list["items"][0]["id"].clone();
        expect(
            app.post(
                &format!("/flow-instances/{pid}/cancel"),
                &json!({"reason": "duplicate"}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        let list = expect(
            app.get(&format!(
                "/flow-instances?record={}&flow=child_task",
                t["id"]
            ))
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(list["items"][0]["status"], "cancelled", "{list}");
        let v = get(&boss, &app, &format!("/tasks/{}", task["id"])).await;
        assert_eq!(v["task"]["status"], "cancelled");
    }
);

on_both_stores!(
    returns_are_told_apart_by_the_licence_at_purchase_and_need_a_complete_checklist_s15,
    |app: TestApp| async move {
        crate::crm::install(&app).await;
        crate::crm::install_flows(&app).await;
        let customer = app
            .create_ok(
                "crm",
                "customer",
                json!({"name": "仁济医院", "customer_type": "hospital"}),
            )
            .await["id"]
            .clone();
        app.create_ok("crm", "qualification", json!({"customer": customer, "kind": "distribution_licence", "number": "LIC-1",
                                                     "issued_on": "2025-06-01", "expires_on": "2030-01-01", "review_status": "approved"}))
            .await;
        let order = |day: &str| {
            let app = &app;
            let body = json!({"customer": customer, "ordered_on": day});
            async move { app.create_ok("crm", "sales_order", body).await["id"].clone() }
        };
        let with_licence = order("2025-09-01").await;
        let before_licence = order("2025-01-10").await;
        let ret = |order: Value| {
            let app = &app;
            let body = json!({"customer": customer, "sales_order": order, "kind": "return", "reason": "faulty display", "decision": "pending"});
            async move { app.create_ok("crm", "return_request", body).await }
        };
        let a = ret(with_licence).await;
        let b = ret(before_licence).await;
        let read = |id: Value| {
            let app = &app;
            async move {
                expect(
                    app.get(&format!("/apps/crm/forms/return_request/records/{id}"))
                        .await,
                    StatusCode::OK,
                )
                .await
            }
        };
        let checked = |id: Value| async move {
            eventually("the return check", || async {
                let r = read(id.clone()).await;
                r["data"].get("checklist_result").is_some().then_some(r)
            })
            .await
        };
        let ra = checked(a["id"].clone()).await;
        let rb = checked(b["id"].clone()).await;
        assert_eq!(
            ra["data"]["qualification_valid_at_purchase"], true,
            "bought while the licence was valid"
        );
        assert_eq!(
            rb["data"]["qualification_valid_at_purchase"], false,
            "bought before the licence"
        );
        assert_eq!(ra["data"]["checklist_result"], "incomplete");
        // No decision while the checklist is incomplete: the form's own rule (approved
        // requires the checklist items, the checklist result `complete` that the check
        // computes, and a remedy) refuses it, naming each field.
        let decide = |id: Value| {
            let app = &app;
            async move {
                app.patch(
                    &format!("/apps/crm/forms/return_request/records/{id}"),
                    &json!({"data": {"decision": "approved", "remedy": "replacement"}}),
                )
                .await
            }
        };
        let v = expect(
            decide(a["id"].clone()).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        let pointers: Vec<&str> = v["details"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["pointer"].as_str().unwrap())
            .collect();
        for p in [
            "/data/in_warranty",
            "/data/test_report",
            "/data/return_notice_signed",
            "/data/checklist_result",
        ] {
            assert!(pointers.contains(&p), "{p} in {v}");
        }
        // Complete it: warranty state, a test report, the signed notice.
        let r = app
            .client
            .post(app.url("/files?name=report.pdf"))
            .header("content-type", "application/pdf")
            .body(b"%PDF-1.4 test report".to_vec())
            .send()
            .await
            .unwrap();
        let file = expect(r, StatusCode::CREATED).await;
        let patch = json!({"data": {"in_warranty": true, "return_notice_signed": true, "test_report": [file]}});
        expect(
            app.patch(
                &format!("/apps/crm/forms/return_request/records/{}", a["id"]),
                &patch,
            )
            .await,
            StatusCode::OK,
        )
        .await;
        eventually("the checklist to be complete", || async {
            (read(a["id"].clone()).await["data"]["checklist_result"] == "complete").then_some(())
        })
        .await;
        let v = expect(decide(a["id"].clone()).await, StatusCode::OK).await;
        assert_eq!(v["data"]["decision"], "approved");
    }
);

on_both_stores!(
    a_licence_renewal_case_opens_90_days_ahead_and_asks_for_a_weekly_note_until_it_closes,
    |app: TestApp| async move {
        crate::crm::install(&app).await;
        crate::crm::install_flows(&app).await;
        let sales = crate::crm::user(&app, "sales1", &["sales"], None).await;
        let customer = app
            .create_ok(
                "crm",
                "customer",
                json!({"name": "同仁医院", "customer_type": "hospital", "owner": "sales1"}),
            )
            .await["id"]
            .clone();
        let expires = (chrono::Utc::now()
            .with_timezone(&chrono_tz::Asia::Shanghai)
            .date_naive()
            + chrono::Duration::days(80))
        .to_string();
        let q = app
            .create_ok("crm", "qualification", json!({"customer": customer, "kind": "distribution_licence", "number": "LIC-R",
                                                     "issued_on": "2021-01-01", "expires_on": expires, "review_status": "approved"}))
            .await;
        // Already inside the 90 days: the case opens at once.
        let case = eventually("the renewal case", || async {
            let v = app
                .list(
                    "crm",
                    "licence_renewal",
                    &[(
                        "filter",
                        json!({"==": [{"var": "qualification"}, q["id"]]}).to_string(),
                    )],
                )
                .await;
            v["items"].as_array().unwrap().first().cloned()
        })
        .await;
        assert_eq!(case["data"]["status"], "preparing");
        assert_eq!(case["created_by"], "flow:licence_renewal");
        let notes = || async {
            let v = get(&sales, &app, "/tasks").await;
            v["items"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|t| t["flow"]["key"] == "licence_renewal_week" && t["status"] == "open")
                .cloned()
                .collect::<Vec<Value>>()
        };
        assert!(
            notes().await.is_empty(),
            "no note due before a week has passed"
        );
        // A week passes: the sales owner is asked for a note on the case, and writes it.
        let waiting_for_week = || async {
            eventually("the renewal flow waiting for its week", || async {
                let v = expect(
                    app.get(&format!(
                        "/flow-instances?record={}&flow=licence_renewal",
                        q["id"]
                    ))
                    .await,
                    StatusCode::OK,
                )
                .await;
                let d = expect(
                    app.get(&format!("/flow-instances/{}", v["items"][0]["id"]))
                        .await,
                    StatusCode::OK,
                )
                .await;
                (d["positions"] == json!(["week"]) && armed(&d, "week")).then_some(())
            })
            .await;
        };
        waiting_for_week().await;
        app.advance(7.0 * 86_400.0 + 5.0).await;
        let task = eventually("the weekly note task", || async {
            notes().await.first().cloned()
        })
        .await;
        assert_eq!(task["record"], case["id"]);
        let detail = get(&sales, &app, &format!("/tasks/{}", task["id"])).await;
        assert_eq!(detail["editable"], json!(["weekly_notes", "status"]));
        let note = json!({"weekly_notes": [{"week_of": "2026-11-23", "note": "材料已提交药监局窗口"}], "status": "submitted"});
        let r = sales
            .post(app.url(&format!("/tasks/{}/complete", task["id"])))
            .json(&json!({"outcome": "done", "data": note}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
        let c = expect(
            app.get(&format!(
                "/apps/crm/forms/licence_renewal/records/{}",
                case["id"]
            ))
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(c["data"]["weekly_notes"][0]["note"], "材料已提交药监局窗口");
        // The case is approved; the next week asks for nothing and the renewal flow ends.
        let patch = json!({"data": {"status": "approved", "decided_on": "2026-12-01", "new_expires_on": "2031-01-01"}});
        expect(
            app.patch(
                &format!("/apps/crm/forms/licence_renewal/records/{}", case["id"]),
                &patch,
            )
            .await,
            StatusCode::OK,
        )
        .await;
        waiting_for_week().await;
        app.advance(7.0 * 86_400.0 + 5.0).await;
        eventually("the renewal flow to end", || async {
            let v = expect(
                app.get(&format!(
                    "/flow-instances?record={}&flow=licence_renewal",
                    q["id"]
                ))
                .await,
                StatusCode::OK,
            )
            .await;
            (v["items"][0]["status"] == "completed").then_some(())
        })
        .await;
        assert!(notes().await.is_empty());
    }
);

/// Whether an instance's timer at `node` is armed. A token that has just arrived at a delay
/// is already positioned there but has no due time yet: moving the clock before the timer
/// is armed would start the delay from the moved time.
fn armed(detail: &Value, node: &str) -> bool {
    detail["timers"].as_array().is_some_and(|t| {
        t.iter()
            .any(|t| t["node"] == node && t["due_at"].is_string())
    })
}

/// How many instances of `flow` wait (with an armed timer) at `node` and nowhere else.
async fn waiting_at(app: &TestApp, flow: &str, node: &str) -> usize {
    let v = expect(
        app.get(&format!("/flow-instances?flow={flow}")).await,
        StatusCode::OK,
    )
    .await;
    let mut n = 0;
    for i in v["items"].as_array().unwrap() {
        let d = expect(
            app.get(&format!("/flow-instances/{}", i["id"])).await,
            StatusCode::OK,
        )
        .await;
        if d["positions"] == json!([node]) && armed(&d, node) {
            n += 1;
        }
    }
    n
}

on_both_stores!(
    sla_reminders_for_a_missing_first_plan_and_a_missing_follow_up,
    |app: TestApp| async move {
        crate::crm::install(&app).await;
        crate::crm::install_flows(&app).await;
        let manager = crate::crm::user(&app, "manager1", &["service_manager"], None).await;
        let cs = crate::crm::user(&app, "cs1", &["customer_service"], None).await;
        let customer = app
            .create_ok(
                "crm",
                "customer",
                json!({"name": "协和医院", "customer_type": "hospital"}),
            )
            .await["id"]
            .clone();
        let order = |fault: &str| {
            let app = &app;
            let body = json!({"kind": "repair", "priority": "normal", "status": "reported", "customer": customer, "fault_description": fault});
            async move { app.create_ok("crm", "service_order", body).await }
        };
        let waiting = order("monitor flickers").await;
        let accepted = order("printer jam").await;
        let patch = |id: &Value, data: Value| {
            let app = &app;
            let path = format!("/apps/crm/forms/service_order/records/{id}");
            async move {
                expect(
                    app.patch(&path, &json!({"data": data})).await,
                    StatusCode::OK,
                )
                .await
            }
        };
        patch(
            &accepted["id"],
            json!({"status": "accepted", "accepted_at": "2026-11-23T03:00:00Z"}),
        )
        .await;
        let sla = |c: Client, what: &'static str| {
            let app = &app;
            async move {
                let v = get(&c, app, "/inbox").await;
                v["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|m| m["title"].as_str().unwrap_or("").contains(what))
                    .cloned()
                    .collect::<Vec<Value>>()
            }
        };
        // Both orders wait on their two-hour timers before the time moves.
        eventually("both SLA timers set", || async {
            (waiting_at(&app, "sla_first_plan", "two_hours").await == 2).then_some(())
        })
        .await;
        app.advance(3600.0).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert!(
            sla(manager.clone(), "2 hours").await.is_empty(),
            "not after one hour"
        );
        app.advance(3600.0 + 5.0).await;
        let msgs = eventually("the SLA reminder", || async {
            let m = sla(manager.clone(), "2 hours").await;
            (!m.is_empty()).then_some(m)
        })
        .await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let msgs_now = sla(manager.clone(), "2 hours").await;
        assert_eq!(
            msgs_now.len(),
            1,
            "only the order nobody accepted: {msgs:?}"
        );
        assert!(
            msgs_now[0]["body"]
                .as_str()
                .unwrap()
                .contains("monitor flickers")
        );
        // Resolved without a follow-up for 24 hours: customer service is told; a followed-up
        // one gives nothing.
        patch(&waiting["id"], json!({"status": "resolved", "resolved_at": "2026-11-23T06:00:00Z", "resolution": "replaced the backlight"})).await;
        patch(&accepted["id"], json!({"status": "resolved", "resolved_at": "2026-11-23T06:00:00Z", "resolution": "cleared the jam"})).await;
        patch(
            &accepted["id"],
            json!({"followed_up_at": "2026-11-23T08:00:00Z", "satisfaction": 95}),
        )
        .await;
        eventually("both follow-up timers set", || async {
            (waiting_at(&app, "sla_follow_up", "day").await == 2).then_some(())
        })
        .await;
        app.advance(24.0 * 3600.0 + 5.0).await;
        let m = eventually("the follow-up reminder", || async {
            let m = sla(cs.clone(), "24 hours").await;
            (!m.is_empty()).then_some(m)
        })
        .await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(sla(cs.clone(), "24 hours").await.len(), 1, "{m:?}");
    }
);

on_both_stores!(
    a_staff_certificate_expiring_in_30_days_gives_compliance_a_task,
    |app: TestApp| async move {
        crate::crm::install(&app).await;
        crate::crm::install_flows(&app).await;
        let qa = crate::crm::user(&app, "qa1", &["compliance"], None).await;
        let today = chrono::Utc::now()
            .with_timezone(&chrono_tz::Asia::Shanghai)
            .date_naive();
        let cert = |audience: &str, days: i64| {
            let app = &app;
            let body = json!({"audience": audience, "course": "regulations", "trained_on": "2026-01-10", "staff": "qa1",
                              "trainee_name": "质量负责人", "certificate_expires_on": (today + chrono::Duration::days(days)).to_string()});
            async move { app.create_ok("crm", "training_record", body).await }
        };
        let soon = cert("staff", 20).await;
        let later = cert("staff", 60).await;
        let customer = app
            .create_ok(
                "crm",
                "customer",
                json!({"name": "北京医院", "customer_type": "hospital"}),
            )
            .await["id"]
            .clone();
        let body = json!({"audience": "customer", "customer": customer, "course": "product_technology", "trained_on": "2026-01-10",
                          "certificate_expires_on": (today + chrono::Duration::days(10)).to_string()});
        app.create_ok("crm", "training_record", body).await; // customers' training is not followed up
        let tasks = || async {
            let v = get(&qa, &app, "/tasks").await;
            v["items"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|t| t["flow"]["key"] == "certificate_expiry")
                .cloned()
                .collect::<Vec<Value>>()
        };
        let first = eventually("the renewal task", || async {
            tasks().await.first().cloned()
        })
        .await;
        assert_eq!(first["record"], soon["id"]);
        assert_eq!(first["label"]["en"], "Arrange the certificate renewal");
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(
            tasks().await.len(),
            1,
            "only the certificate inside 30 days"
        );
        // A month later the other one is inside its 30 days too.
        app.advance(31.0 * 86_400.0).await;
        eventually("the second task", || async {
            (tasks().await.len() == 2).then_some(())
        })
        .await;
        assert!(tasks().await.iter().any(|t| t["record"] == later["id"]));
    }
);

/// Flow 6 and S8 on the test clock: an approved licence expiring in 100 days reminds the
/// customer's sales owner and compliance 90 days ahead and again 30 days ahead (when the
/// customer turns `expiring`); the day after it expires the customer turns `expired`, both
/// are told, and a sales order for the customer — taken on day 0 — is refused with a
/// message that says why. A licence still pending review reminds nobody.
async fn qualification_expiry_runs_on_the_clock(app: TestApp) {
    crate::crm::install(&app).await;
    crate::crm::install_flows(&app).await;
    let sales = crate::crm::user(&app, "sales1", &["sales"], None).await;
    let compliance = crate::crm::user(&app, "compliance1", &["compliance"], None).await;
    let customer = app
        .create_ok("crm", "customer", json!({"name": "协和医院", "customer_type": "hospital", "owner": "sales1", "compliance_status": "valid"}))
        .await["id"]
        .clone();
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive();
    let expires = (today + chrono::Duration::days(100)).to_string();
    for (number, status) in [("Q-100", "approved"), ("Q-PENDING", "pending")] {
        app.create_ok(
            "crm",
            "qualification",
            json!({"customer": customer, "kind": "distribution_licence", "number": number,
                   "expires_on": expires, "review_status": status}),
        )
        .await;
    }
    let reminders = |c: Client| {
        let app = &app;
        async move {
            let v = get(&c, app, "/inbox").await;
            v["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["title"].as_str().unwrap().to_owned())
                .filter(|t| t.contains("Qualification"))
                .collect::<Vec<_>>()
        }
    };
    let status = || async {
        expect(
            app.get(&format!("/apps/crm/forms/customer/records/{customer}"))
                .await,
            StatusCode::OK,
        )
        .await["data"]["compliance_status"]
            .clone()
    };
    let instances = |flow: &'static str| {
        let app = &app;
        async move { instance_count(app, flow).await }
    };
    // S8's second half: while the licence is valid the customer's sales orders are taken;
    // once it has expired (below) they are refused, saying why.
    let order = |sales: Client| {
        let url = app.url("/apps/crm/forms/sales_order/records");
        let body = json!({"data": {"customer": customer, "ordered_on": expires}});
        async move { sales.post(url).json(&body).send().await.unwrap() }
    };
    let r = order(sales.clone()).await;
    assert_eq!(
        r.status(),
        StatusCode::CREATED,
        "{}",
        r.text().await.unwrap()
    );
    // Nothing is due yet.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(reminders(sales.clone()).await.is_empty());
    // 90 days ahead (day 10): the owner and compliance hear of Q-100, not of Q-PENDING.
    app.advance(11.0 * 86_400.0).await;
    let seen = eventually("the 90-day reminder", || async {
        let r = reminders(sales.clone()).await;
        (!r.is_empty()).then_some(r)
    })
    .await;
    assert_eq!(
        seen,
        ["资质90天后到期 / Qualification expires in 90 days: Q-100"]
    );
    assert_eq!(reminders(compliance.clone()).await, seen);
    assert_eq!(status().await, "valid");
    // 30 days ahead (day 70): reminded again, the customer turns expiring.
    app.advance(60.0 * 86_400.0).await;
    eventually("the customer to turn expiring", || async {
        (status().await == "expiring").then_some(())
    })
    .await;
    let seen = reminders(sales.clone()).await;
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(seen[0].contains("30 days: Q-100"), "{seen:?}");
    // The day after it expires (day 101): expired, and both are told.
    app.advance(30.0 * 86_400.0).await;
    eventually("the customer to turn expired", || async {
        (status().await == "expired").then_some(())
    })
    .await;
    let seen = eventually("the expiry message", || async {
        let r = reminders(compliance.clone()).await;
        (r.len() == 3).then_some(r)
    })
    .await;
    assert_eq!(seen[0], "资质已到期 / Qualification has expired: Q-100");
    assert_eq!(reminders(sales.clone()).await.len(), 3);
    assert_refused_for_licence(order(sales.clone()).await).await;
    for flow in [
        "qualification_expiry_90",
        "qualification_expiry_30",
        "qualification_expired",
    ] {
        assert_eq!(instances(flow).await, 1, "{flow}");
    }
}

on_both_stores!(
    an_expiring_qualification_reminds_and_the_customer_turns_expired,
    qualification_expiry_runs_on_the_clock
);

/// S6 (flow 8) on the test clock: 30 days before a device's warranty ends (local midnight
/// in the app's time zone) its customer's sales rep gets one renewal task, reminded after
/// the task's 7-day deadline; a warranty date moved before it is due is re-planned to the
/// new date; a warranty that ended last year gives no task.
async fn warranty_renewal_runs_on_the_clock(app: TestApp) {
    let (sales, customer) = crm_sales_customer(&app, "协和医院").await;
    let product = app
        .create_ok(
            "crm",
            "product",
            json!({"name": "监护仪", "model": "FM-100", "device_class": "class_ii"}),
        )
        .await["id"]
        .clone();
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive();
    let day = |n: i64| (today + chrono::Duration::days(n)).to_string();
    let device = |serial: &'static str, warranty_end: String| {
        let app = &app;
        let (customer, product) = (customer.clone(), product.clone());
        async move {
            app.create_ok("crm", "device", json!({"product": product, "serial_number": serial, "customer": customer, "warranty_end": warranty_end}))
                .await["id"]
                .clone()
        }
    };
    // Due on day 15; on day 90, moved to day 20 before it is due; long ended.
    let soon = device("SN-W1", day(45)).await;
    let moved = device("SN-W2", day(120)).await;
    device("SN-W3", "2025-01-01".to_owned()).await;
    expect(
        app.patch(
            &format!("/apps/crm/forms/device/records/{moved}"),
            &json!({"data": {"warranty_end": day(50)}}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let renewals = || {
        let (sales, app) = (sales.clone(), &app);
        async move {
            let v = get(&sales, app, "/tasks").await;
            v["items"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|t| t["flow"]["key"] == "warranty_renewal")
                .map(|t| t["record"].clone())
                .collect::<Vec<Value>>()
        }
    };
    let reminders = || {
        let (sales, app) = (sales.clone(), &app);
        async move {
            let v = get(&sales, app, "/inbox").await;
            v["items"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|m| m["title"] == "催办 / Reminder: 跟进续保")
                .count()
        }
    };
    // Day 14: nothing is due yet.
    app.advance(14.0 * 86_400.0).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(renewals().await, Vec::<Value>::new());
    // Day 15: the first device's task, and only it.
    app.advance(86_400.0).await;
    let first = eventually("the renewal task", || async {
        let r = renewals().await;
        (!r.is_empty()).then_some(r)
    })
    .await;
    assert_eq!(first, vec![soon.clone()]);
    // Day 20: the moved warranty's task (planned from its new date, not the old one).
    app.advance(5.0 * 86_400.0).await;
    let both = eventually("the moved warranty's task", || async {
        let r = renewals().await;
        (r.len() == 2).then_some(r)
    })
    .await;
    assert!(both.contains(&moved), "{both:?}");
    assert_eq!(reminders().await, 0);
    // Day 22: the first task's 7-day deadline passed: one reminder, the task stays open.
    app.advance(2.0 * 86_400.0 + 3_600.0).await;
    eventually("the reminder", || async {
        (reminders().await == 1).then_some(())
    })
    .await;
    // Day 100 (past the moved device's old date): still one task per device, and nothing
    // for the warranty that ended last year.
    app.advance(78.0 * 86_400.0).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let all = renewals().await;
    assert_eq!(all.len(), 2, "{all:?}");
    assert_eq!(instance_count(&app, "warranty_renewal").await, 2);
    assert_eq!(reminders().await, 2, "each open task reminded once");
}

on_both_stores!(
    s6_a_warranty_ending_in_30_days_gives_one_renewal_task,
    warranty_renewal_runs_on_the_clock
);

/// Flow 1's stock and flow 9: resolving a service order writes an outgoing stock movement
/// per part used, each movement lowers (or, incoming, raises) its part's stock, and stock
/// at or below the safety level tells the service managers.
async fn parts_used_leave_stock(app: TestApp) {
    crate::crm::install(&app).await;
    crate::crm::install_flows(&app).await;
    let manager = crate::crm::user(&app, "manager_east", &["service_manager"], None).await;
    crate::crm::user(&app, "engineer1", &["engineer"], None).await;
    let part = |number: &str, stock: i64| {
        let app = &app;
        let body = json!({"part_number": number, "name": number, "warehouse": "sh_central", "stock": stock, "safety_stock": 8, "unit_cost": 120});
        async move { app.create_ok("crm", "spare_part", body).await["id"].clone() }
    };
    let (board, fan) = (part("P-BOARD", 10).await, part("P-FAN", 30).await);
    let customer = app
        .create_ok(
            "crm",
            "customer",
            json!({"name": "瑞金医院", "customer_type": "hospital"}),
        )
        .await["id"]
        .clone();
    let order = app
        .create_ok("crm", "service_order", json!({"kind": "repair", "priority": "normal", "status": "on_site", "customer": customer,
            "fault_description": "no display", "engineer": "engineer1",
            "parts_used": [{"part": board, "qty": 3, "unit_cost": 120}, {"part": fan, "qty": 1, "unit_cost": 40}]}))
        .await;
    let stock_of = |id: Value| {
        let app = &app;
        async move {
            expect(
                app.get(&format!("/apps/crm/forms/spare_part/records/{id}"))
                    .await,
                StatusCode::OK,
            )
            .await["data"]["stock"]
                .as_i64()
        }
    };
    let url = format!("/apps/crm/forms/service_order/records/{}", order["id"]);
    expect(
        app.patch(&url, &json!({"data": {"status": "resolved"}}))
            .await,
        StatusCode::OK,
    )
    .await;
    eventually("the stock to go down", || async {
        (stock_of(board.clone()).await == Some(7) && stock_of(fan.clone()).await == Some(29))
            .then_some(())
    })
    .await;
    let moves = expect(
        app.get("/apps/crm/forms/stock_movement/records?total=true&sort=_id")
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(moves["total"], 2, "{moves}");
    let first = &moves["items"][0]["data"];
    assert_eq!(
        (
            first["part"].clone(),
            first["kind"].clone(),
            first["qty"].clone(),
            first["warehouse"].clone(),
            first["service_order"].clone()
        ),
        (
            board.clone(),
            json!("out"),
            json!(3),
            json!("sh_central"),
            order["id"].clone()
        ),
        "{moves}"
    );
    // 7 is at or below the safety stock of 8: the managers hear of it.
    let heard = eventually("the low-stock message", || async {
        let v = get(&manager, &app, "/inbox").await;
        v["items"]
            .as_array()?
            .iter()
            .find(|m| m["body"].as_str().is_some_and(|b| b.contains("P-BOARD")))
            .cloned()
    })
    .await;
    assert!(heard["body"].as_str().unwrap().contains("7 / 8"), "{heard}");
    // Second handling and resolved again: no second set of movements.
    expect(
        app.patch(&url, &json!({"data": {"status": "second_handling"}}))
            .await,
        StatusCode::OK,
    )
    .await;
    expect(
        app.patch(&url, &json!({"data": {"status": "resolved"}}))
            .await,
        StatusCode::OK,
    )
    .await;
    eventually("the second resolution's flow to end", || async {
        (instance_count(&app, "parts_to_stock").await == 2).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(stock_of(board.clone()).await, Some(7));
    // Goods in raise the stock; a transfer leaves the count alone.
    for (kind, qty) in [("in", 5), ("transfer", 2)] {
        app.create_ok("crm", "stock_movement", json!({"part": board, "kind": kind, "qty": qty, "warehouse": "sh_central", "to_warehouse": "bj_central"}))
            .await;
    }
    eventually("the stock to go up", || async {
        (stock_of(board.clone()).await == Some(12)).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(stock_of(board.clone()).await, Some(12));
}

on_both_stores!(
    parts_used_on_a_resolved_order_leave_stock,
    parts_used_leave_stock
);

/// Flow 5 for changes: an approved qualification whose dates change goes back to pending
/// and to compliance for review; approving it again approves it. A change of its review
/// comment alone starts nothing.
async fn changed_qualifications_are_reviewed_again(app: TestApp) {
    crate::crm::install(&app).await;
    crate::crm::install_flows(&app).await;
    let compliance = crate::crm::user(&app, "compliance1", &["compliance"], None).await;
    let customer = app
        .create_ok(
            "crm",
            "customer",
            json!({"name": "仁济医院", "customer_type": "hospital"}),
        )
        .await["id"]
        .clone();
    let q = app
        .create_ok("crm", "qualification", json!({"customer": customer, "kind": "distribution_licence", "number": "Q-9",
                                                  "expires_on": "2031-01-01", "review_status": "approved"}))
        .await;
    let url = format!("/apps/crm/forms/qualification/records/{}", q["id"]);
    expect(
        app.patch(&url, &json!({"data": {"review_comment": "checked"}}))
            .await,
        StatusCode::OK,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(instance_count(&app, "qualification_changed").await, 0);
    expect(
        app.patch(&url, &json!({"data": {"expires_on": "2032-01-01"}}))
            .await,
        StatusCode::OK,
    )
    .await;
    let task = eventually("the review task", || async {
        let v = get(&compliance, &app, "/tasks").await;
        v["items"]
            .as_array()?
            .iter()
            .find(|t| t["record"] == q["id"])
            .cloned()
    })
    .await;
    assert_eq!(task["flow"]["key"], "qualification_changed");
    let now = expect(app.get(&url).await, StatusCode::OK).await;
    assert_eq!(now["data"]["review_status"], "pending", "{now}");
    let r = compliance
        .post(app.url(&format!("/tasks/{}/complete", task["id"])))
        .json(&json!({"outcome": "approved"}))
        .send()
        .await
        .unwrap();
    expect(r, StatusCode::OK).await;
    eventually("approved again", || async {
        let v = expect(app.get(&url).await, StatusCode::OK).await;
        (v["data"]["review_status"] == "approved" && v["data"]["reviewer"] == "compliance1")
            .then_some(())
    })
    .await;
}

on_both_stores!(
    a_changed_qualification_goes_back_to_compliance,
    changed_qualifications_are_reviewed_again
);
