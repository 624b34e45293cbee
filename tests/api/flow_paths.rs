//! Flow paths the engine takes that the other flow tests do not walk (docs/flows.md): a
//! running instance keeps its version, an N-of-M join, a reminding deadline, withdrawing,
//! a node naming a missing form, and an assignee that resolves to nobody.

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::flows::{eventually, get, pointer_rules, user};
use crate::helpers::{TestApp, expect};
use crate::on_both_stores;

/// App `ops` with the form `job`: free-text status and note, a member field `owner`.
pub(crate) async fn job_form(app: &TestApp) {
    app.app("ops").await;
    let text = |label: &str| json!({"type": "string", "x-type": "text", "x-label": {"en": label}});
    app.publish_ok(
        "ops",
        "job",
        json!({"type": "object", "additionalProperties": false, "required": ["title"],
               "properties": {
                 "title": text("Title"), "status": text("Status"), "note": text("Note"),
                 "owner": {"type": "string", "x-type": "member", "x-label": {"en": "Owner"}}}}),
    )
    .await;
}

pub(crate) async fn publish(app: &TestApp, def: &Value) -> Value {
    let path = format!("/apps/ops/flows/{}/publish", def["key"].as_str().unwrap());
    expect(app.post(&path, def).await, StatusCode::CREATED).await
}

/// Publish although an assignee resolves to nobody yet (`?allow_unstaffed=true`).
async fn publish_unstaffed(app: &TestApp, def: &Value) -> Value {
    let path = format!(
        "/apps/ops/flows/{}/publish?allow_unstaffed=true",
        def["key"].as_str().unwrap()
    );
    expect(app.post(&path, def).await, StatusCode::CREATED).await
}

/// A publish refused (422): its details.
async fn refused(app: &TestApp, def: &Value) -> Value {
    let path = format!("/apps/ops/flows/{}/publish", def["key"].as_str().unwrap());
    expect(app.post(&path, def).await, StatusCode::UNPROCESSABLE_ENTITY).await["details"].clone()
}

/// The one instance started on `record`, as the administrator sees it.
pub(crate) async fn instance_of(app: &TestApp, record: &Value) -> Value {
    let list = expect(
        app.get(&format!("/flow-instances?record={record}")).await,
        StatusCode::OK,
    )
    .await;
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{list}");
    expect(
        app.get(&format!("/flow-instances/{}", items[0]["id"]))
            .await,
        StatusCode::OK,
    )
    .await
}

/// The instance on `record` once `done` holds for it.
async fn instance_when(
    app: &TestApp,
    record: &Value,
    what: &str,
    done: fn(&Value) -> bool,
) -> Value {
    eventually(what, || async {
        let v = instance_of(app, record).await;
        done(&v).then_some(v)
    })
    .await
}

fn actions(detail: &Value) -> Vec<String> {
    let history = detail["history"].as_array().unwrap();
    history
        .iter()
        .map(|h| h["action"].as_str().unwrap().to_owned())
        .collect()
}

fn steps_at(detail: &Value, node: &str) -> usize {
    let history = detail["history"].as_array().unwrap();
    history.iter().filter(|h| h["node"] == node).count()
}

/// The open task of `c` at `node` on `record`, once there is one.
pub(crate) async fn open_task(c: &Client, app: &TestApp, record: &Value, node: &str) -> Value {
    eventually(&format!("the task at {node}"), || async {
        let v = get(c, app, "/tasks").await;
        let items = v["items"].as_array().unwrap();
        items
            .iter()
            .find(|t| t["record"] == *record && t["node"] == node && t["status"] == "open")
            .cloned()
    })
    .await
}

pub(crate) async fn complete(c: &Client, app: &TestApp, task: &Value) -> StatusCode {
    let r = c
        .post(app.url(&format!("/tasks/{}/complete", task["id"])))
        .json(&json!({"outcome": "done"}))
        .send()
        .await
        .unwrap();
    r.status()
}

/// Start → a task for the worker → set the status to `tag` → end.
fn tagging_flow(tag: &str) -> Value {
    json!({
        "key": "tagging", "label": {"en": "Tagging"},
        "trigger": {"type": "record_created", "form": "job"},
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "check", "type": "task", "label": {"en": format!("Check {tag}")}, "assignee": {"user": "worker"}},
            {"id": "tag", "type": "update_record", "set": {"status": tag}},
            {"id": "end", "type": "end"}
        ],
        "edges": [{"from": "start", "to": "check"}, {"from": "check", "to": "tag"}, {"from": "tag", "to": "end"}]
    })
}

on_both_stores!(
    a_running_instance_stays_on_the_version_it_started_with,
    |app: TestApp| async move {
        job_form(&app).await;
        let worker = user(&app, "worker").await;
        assert_eq!(publish(&app, &tagging_flow("v1")).await["version"], 1);
        let first = app.create_ok("ops", "job", json!({"title": "first"})).await["id"].clone();
        let first_task = open_task(&worker, &app, &first, "check").await;
        assert_eq!(publish(&app, &tagging_flow("v2")).await["version"], 2);
        let second = app
            .create_ok("ops", "job", json!({"title": "second"}))
            .await["id"]
            .clone();
        let second_task = open_task(&worker, &app, &second, "check").await;
        // Each task is labelled from its own instance's version.
        assert_eq!(first_task["label"]["en"], "Check v1");
        assert_eq!(second_task["label"]["en"], "Check v2");

        // The first instance finishes after v2 was published, still on v1.
        assert_eq!(complete(&worker, &app, &second_task).await, StatusCode::OK);
        assert_eq!(complete(&worker, &app, &first_task).await, StatusCode::OK);
        let completed = |v: &Value| v["instance"]["status"] == "completed";
        for (record, version, tag) in [(&first, 1, "v1"), (&second, 2, "v2")] {
            let done = instance_when(&app, record, "the instance to complete", completed).await;
            assert_eq!(done["instance"]["version"], version, "{done}");
            assert_eq!(done["definition"]["nodes"][2]["set"]["status"], tag);
            let rec = expect(
                app.get(&format!("/apps/ops/forms/job/records/{record}"))
                    .await,
                StatusCode::OK,
            )
            .await;
            assert_eq!(rec["data"]["status"], tag, "{rec}");
        }
    }
);

on_both_stores!(
    a_join_of_two_out_of_three_goes_on_once_and_absorbs_the_third,
    |app: TestApp| async move {
        job_form(&app).await;
        let worker = user(&app, "worker").await;
        let task = |id: &str| json!({"id": id, "type": "task", "assignee": {"user": "worker"}});
        publish(
            &app,
            &json!({
                "key": "fan", "label": {"en": "Fan out"},
                "trigger": {"type": "record_created", "form": "job"},
                "nodes": [
                    {"id": "start", "type": "start"},
                    {"id": "split", "type": "parallel"},
                    task("a"), task("b"), task("c"),
                    {"id": "meet", "type": "join", "mode": {"n": 2}},
                    {"id": "after", "type": "create_record", "form": "job",
                     "data": {"title": "after the join", "note": {"var": "record.title"}}},
                    {"id": "end", "type": "end"}
                ],
                "edges": [
                    {"from": "start", "to": "split"},
                    {"from": "split", "to": "a"}, {"from": "split", "to": "b"}, {"from": "split", "to": "c"},
                    {"from": "a", "to": "meet"}, {"from": "b", "to": "meet"}, {"from": "c", "to": "meet"},
                    {"from": "meet", "to": "after"}, {"from": "after", "to": "end"}
                ]
            }),
        )
        .await;
        let rec = app.create_ok("ops", "job", json!({"title": "fan"})).await["id"].clone();
        let made = || async {
            let list = app
                .list(
                    "ops",
                    "job",
                    &[(
                        "filter",
                        json!({"==": [{"var": "note"}, "fan"]}).to_string(),
                    )],
                )
                .await;
            list["items"].as_array().unwrap().len()
        };

        for node in ["a", "b"] {
            let t = open_task(&worker, &app, &rec, node).await;
            assert_eq!(complete(&worker, &app, &t).await, StatusCode::OK);
        }
        // Two arrived: the join went on, the node after it ran; c is still open.
        let joined = instance_when(&app, &rec, "the join to fire", |v| {
            actions(v).iter().any(|a| a == "ended")
        })
        .await;
        assert_eq!(joined["instance"]["status"], "running", "{joined}");
        assert_eq!(joined["positions"], json!(["c"]), "{joined}");
        let join_steps: Vec<&Value> = joined["history"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|h| h["node"] == "meet")
            .collect();
        assert_eq!(join_steps.len(), 1, "{joined}");
        assert_eq!(join_steps[0]["action"], "joined");
        assert_eq!(join_steps[0]["detail"]["arrived"], 2);
        assert_eq!(made().await, 1);
        let c = open_task(&worker, &app, &rec, "c").await;

        // The third arrives late and is absorbed: no second join, nothing runs again.
        assert_eq!(complete(&worker, &app, &c).await, StatusCode::OK);
        let done = instance_when(&app, &rec, "the instance to complete", |v| {
            v["instance"]["status"] == "completed"
        })
        .await;
        let acts = actions(&done);
        assert_eq!(
            acts.iter().filter(|a| *a == "joined").count(),
            1,
            "{acts:?}"
        );
        assert_eq!(acts.iter().filter(|a| *a == "ended").count(), 1, "{acts:?}");
        assert_eq!(steps_at(&done, "after"), 1, "{done}");
        assert_eq!(steps_at(&done, "c"), 2, "assigned and done: {done}");
        // The node after the join ran before c was done.
        let at = |node: &str, action: &str| {
            let h = done["history"].as_array().unwrap();
            h.iter()
                .position(|s| s["node"] == node && s["action"] == action)
                .unwrap()
        };
        assert!(at("meet", "joined") < at("c", "done"), "{acts:?}");
        assert_eq!(made().await, 1);
    }
);

on_both_stores!(
    a_remind_deadline_reminds_the_assignee_once_and_leaves_the_task_open,
    |app: TestApp| async move {
        job_form(&app).await;
        let worker = user(&app, "worker").await;
        publish(
            &app,
            &json!({
                "key": "nudge", "label": {"en": "Nudge"},
                "trigger": {"type": "record_created", "form": "job"},
                "nodes": [
                    {"id": "start", "type": "start"},
                    {"id": "check", "type": "task", "label": {"en": "Check the job"}, "assignee": {"user": "worker"},
                     "deadline": {"minutes": 30, "action": "remind"}},
                    {"id": "end", "type": "end"}
                ],
                "edges": [{"from": "start", "to": "check"}, {"from": "check", "to": "end"}]
            }),
        )
        .await;
        let reminders = |inst: Value| {
            let worker = worker.clone();
            let app = &app;
            async move {
                let inbox = get(&worker, app, "/inbox").await;
                let items = inbox["items"].as_array().unwrap().clone();
                items
                    .into_iter()
                    .filter(|m| {
                        m["instance"] == inst && m["title"] == "催办 / Reminder: Check the job"
                    })
                    .count()
            }
        };
        let rec = app.create_ok("ops", "job", json!({"title": "late"})).await["id"].clone();
        let task = open_task(&worker, &app, &rec, "check").await;
        let inst = task["instance"].clone();
        assert_eq!(reminders(inst.clone()).await, 0);
        let armed = instance_of(&app, &rec).await;
        assert_eq!(armed["timers"][0]["node"], "check", "{armed}");

        // 31 minutes later the worker is reminded; the task stays open, the timer is spent.
        app.advance(31.0 * 60.0).await;
        eventually("the reminder", || async {
            (reminders(inst.clone()).await == 1).then_some(())
        })
        .await;
        let after = instance_of(&app, &rec).await;
        assert_eq!(after["instance"]["status"], "running");
        assert_eq!(after["positions"], json!(["check"]));
        assert_eq!(after["timers"], json!([]), "{after}");
        let deadline: Vec<&Value> = after["history"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|h| h["action"] == "deadline")
            .collect();
        assert_eq!(deadline.len(), 1, "{after}");
        assert_eq!(deadline[0]["detail"]["action"], "remind");
        let t = get(&worker, &app, &format!("/tasks/{}", task["id"])).await;
        assert_eq!(t["task"]["status"], "open", "{t}");

        // A later job's deadline falling due shows the worker passed the first one by:
        // it is not reminded again.
        let later = app.create_ok("ops", "job", json!({"title": "later"})).await["id"].clone();
        let later_inst = open_task(&worker, &app, &later, "check").await["instance"].clone();
        app.advance(31.0 * 60.0).await;
        eventually("the later reminder", || async {
            (reminders(later_inst.clone()).await == 1).then_some(())
        })
        .await;
        assert_eq!(reminders(inst.clone()).await, 1);

        // The reminded task can still be done, and that ends the instance.
        assert_eq!(complete(&worker, &app, &task).await, StatusCode::OK);
        instance_when(&app, &rec, "the instance to complete", |v| {
            v["instance"]["status"] == "completed"
        })
        .await;
    }
);

/// A clerk who may create jobs, whose job starts a review by the worker (with a deadline).
async fn review_started_by_clerk(app: &TestApp) -> (Client, Client, Value, Value) {
    job_form(app).await;
    let role = json!({"key": "clerks", "label": {"en": "Clerks"},
                      "permissions": {"job": {"actions": ["create", "read"], "rows": "own", "read": ["*"], "write": ["*"]}}});
    expect(
        app.put("/apps/ops/roles/clerks", &role).await,
        StatusCode::OK,
    )
    .await;
    let clerk = user(app, "clerk").await;
    let worker = user(app, "worker").await;
    let roles = json!({"ops": ["clerks"]});
    expect(
        app.put("/admin/users/clerk/roles", &roles).await,
        StatusCode::OK,
    )
    .await;
    publish(
        app,
        &json!({
            "key": "review", "label": {"en": "Review"},
            "trigger": {"type": "record_created", "form": "job"},
            "nodes": [
                {"id": "start", "type": "start"},
                {"id": "check", "type": "task", "assignee": {"user": "worker"},
                 "deadline": {"hours": 4, "action": "remind"}},
                {"id": "tag", "type": "update_record", "set": {"status": "reviewed"}},
                {"id": "end", "type": "end"}
            ],
            "edges": [{"from": "start", "to": "check"}, {"from": "check", "to": "tag"}, {"from": "tag", "to": "end"}]
        }),
    )
    .await;
    let r = clerk
        .post(app.url("/apps/ops/forms/job/records"))
        .json(&json!({"data": {"title": "filed twice"}}))
        .send()
        .await
        .unwrap();
    let rec = expect(r, StatusCode::CREATED).await["id"].clone();
    let task = open_task(&worker, app, &rec, "check").await;
    (clerk, worker, rec, task)
}

async fn withdraw(c: &Client, app: &TestApp, inst: &Value) -> (StatusCode, Value) {
    let r = c
        .post(app.url(&format!(
            "/flow-instances/{inst}/withdraw?reason=filed%20twice"
        )))
        .send()
        .await
        .unwrap();
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

on_both_stores!(
    the_initiator_may_withdraw_a_running_instance_and_nobody_else_may,
    |app: TestApp| async move {
        let (clerk, worker, rec, task) = review_started_by_clerk(&app).await;
        let inst = task["instance"].clone();
        let before = instance_of(&app, &rec).await;
        assert_eq!(before["instance"]["initiator"], "clerk");
        assert_eq!(before["timers"][0]["node"], "check", "{before}");
        // "Initiated by me": the clerk's own instance; the worker (who has a task in it)
        // sees it among their instances, not among their own.
        let mine = |c: Client| {
            let url = app.url("/flow-instances?initiator=me");
            async move {
                let v: Value = c.get(url).send().await.unwrap().json().await.unwrap();
                v["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|i| i["id"].clone())
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(mine(clerk.clone()).await, vec![inst.clone()]);
        assert!(mine(worker.clone()).await.is_empty());

        // Not the initiator: the assignee (who sees the instance) and an administrator.
        for c in [&worker, &app.client] {
            let (s, body) = withdraw(c, &app, &inst).await;
            assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
            assert_eq!(body["details"][0]["rule"], "initiator", "{body}");
        }
        let unchanged = instance_of(&app, &rec).await;
        assert_eq!(unchanged["instance"], before["instance"]);
        assert_eq!(unchanged["positions"], json!(["check"]));
        assert_eq!(unchanged["history"], before["history"]);
        let t = get(&worker, &app, &format!("/tasks/{}", task["id"])).await;
        assert_eq!(t["task"]["status"], "open");

        // The initiator withdraws: cancelled, the task and its deadline with it.
        let (s, body) = withdraw(&clerk, &app, &inst).await;
        assert_eq!(s, StatusCode::OK, "{body}");
        assert_eq!(body["instance"]["status"], "cancelled", "{body}");
        let after = instance_of(&app, &rec).await;
        assert_eq!(after["instance"]["status"], "cancelled");
        assert!(after["instance"]["ended_at"].is_string(), "{after}");
        assert_eq!(after["positions"], json!([]));
        assert_eq!(after["timers"], json!([]));
        let last = after["history"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(last["action"], "cancelled", "{after}");
        assert_eq!(last["actor"], "clerk");
        assert_eq!(last["detail"]["error"], "filed twice");
        let t = get(&worker, &app, &format!("/tasks/{}", task["id"])).await;
        assert_eq!(t["task"]["status"], "cancelled", "{t}");
        assert_eq!(get(&worker, &app, "/tasks").await["counts"]["open"], 0);
        assert_eq!(complete(&worker, &app, &task).await, StatusCode::CONFLICT);
        // Once ended, it cannot be withdrawn again, and the flow wrote nothing more.
        assert_eq!(withdraw(&clerk, &app, &inst).await.0, StatusCode::CONFLICT);
        let r = expect(
            app.get(&format!("/apps/ops/forms/job/records/{rec}")).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(r["data"]["status"], Value::Null, "{r}");
    }
);

/// Someone who cannot see an instance learns nothing from withdrawing it: the same 404
/// as for an instance that does not exist, and the instance is unchanged.
async fn withdrawing_an_unseen_instance(app: TestApp) {
    let (_clerk, _worker, rec, task) = review_started_by_clerk(&app).await;
    let inst = task["instance"].clone();
    let stranger = user(&app, "stranger").await;
    let before = instance_of(&app, &rec).await;
    let r = stranger
        .get(app.url(&format!("/flow-instances/{inst}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let (s, body) = withdraw(&stranger, &app, &json!(999_999)).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{body}");
    let (s, body) = withdraw(&stranger, &app, &inst).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{body}");
    let after = instance_of(&app, &rec).await;
    assert_eq!(after["instance"], before["instance"]);
    assert_eq!(after["history"], before["history"]);
}

on_both_stores!(
    withdrawing_an_instance_one_cannot_see_is_not_found,
    withdrawing_an_unseen_instance
);

on_both_stores!(
    publishing_refuses_nodes_naming_a_form_that_does_not_exist,
    |app: TestApp| async move {
        job_form(&app).await;
        let def = |form: &str| {
            json!({
                "key": "copier", "label": {"en": "Copier"},
                "trigger": {"type": "record_created", "form": "job"},
                "nodes": [
                    {"id": "start", "type": "start"},
                    {"id": "make", "type": "create_record", "form": form, "data": {"title": "copy"}},
                    {"id": "find", "type": "query", "form": form, "name": "found",
                     "filter": {"==": [{"var": "title"}, "copy"]}},
                    {"id": "touch", "type": "update_record", "form": form,
                     "record": {"var": "vars.make"}, "set": {"note": "touched"}},
                    {"id": "end", "type": "end"}
                ],
                "edges": [{"from": "start", "to": "make"}, {"from": "make", "to": "find"},
                          {"from": "find", "to": "touch"}, {"from": "touch", "to": "end"}]
            })
        };
        let body = expect(
            app.post("/apps/ops/flows/copier/publish", &def("nope"))
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        let pointers = pointer_rules(&body);
        for expected in [
            "/nodes/1/form exists",
            "/nodes/2/form exists",
            "/nodes/3/form exists",
        ] {
            assert!(
                pointers.iter().any(|p| p == expected),
                "missing {expected} in {pointers:?}"
            );
        }
        let f = expect(app.get("/apps/ops/flows/copier").await, StatusCode::OK).await;
        assert_eq!(f["published_version"], Value::Null);
        // The same flow naming a form that exists publishes.
        assert_eq!(publish(&app, &def("job")).await["version"], 1);
    }
);

/// Start → set the status → a task for `assignee` → end, on jobs titled `title`.
fn claim_flow(key: &str, title: &str, assignee: Value) -> Value {
    json!({
        "key": key, "label": {"en": key},
        "trigger": {"type": "record_created", "form": "job",
                    "condition": {"==": [{"var": "record.title"}, title]}},
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "mark", "type": "update_record", "set": {"status": "claimed"}},
            {"id": "triage", "type": "task", "assignee": assignee},
            {"id": "end", "type": "end"}
        ],
        "edges": [{"from": "start", "to": "mark"}, {"from": "mark", "to": "triage"}, {"from": "triage", "to": "end"}]
    })
}

on_both_stores!(
    an_assignee_resolving_to_nobody_fails_the_instance_at_that_node,
    |app: TestApp| async move {
        job_form(&app).await;
        let role = json!({"key": "auditors", "label": {"en": "Auditors"},
                          "permissions": {"job": {"actions": ["read"], "rows": "all", "read": ["*"]}}});
        expect(
            app.put("/apps/ops/roles/auditors", &role).await,
            StatusCode::OK,
        )
        .await;
        let by_owner = publish(
            &app,
            &claim_flow("by_owner", "unowned", json!({"field": "owner"})),
        )
        .await;
        assert!(by_owner.get("warnings").is_none(), "{by_owner}");
        // Publishing refuses a role nobody holds yet, at the node; asked to publish anyway
        // (as a package is, before its users exist), it does and says so.
        let nobody = json!([{"pointer": "/nodes/2/assignee/role", "rule": "nobody",
                    "message": "no enabled user holds the role auditors yet: until someone does, this resolves to nobody"}]);
        let by_role_flow = claim_flow("by_role", "audit", json!({"role": "auditors"}));
        assert_eq!(refused(&app, &by_role_flow).await, nobody);
        let versions = expect(
            app.get("/apps/ops/flows/by_role/versions").await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(
            versions["items"],
            json!([]),
            "nothing published: {versions}"
        );
        let by_role = publish_unstaffed(&app, &by_role_flow).await;
        assert_eq!(by_role["warnings"], nobody, "{by_role}");

        for title in ["unowned", "audit"] {
            let rec = app.create_ok("ops", "job", json!({"title": title})).await["id"].clone();
            let failed = instance_when(&app, &rec, "the instance to fail", |v| {
                v["instance"]["status"] == "failed"
            })
            .await;
            let error = failed["instance"]["error"].as_str().unwrap_or_default();
            assert!(
                error.contains("triage") && error.contains("nobody"),
                "{failed}"
            );
            assert_eq!(failed["positions"], json!([]));
            // The step before stands; of the failing step only the failure is recorded.
            assert_eq!(
                actions(&failed),
                ["started", "updated", "failed"].map(String::from),
                "{failed}"
            );
            let last = failed["history"]
                .as_array()
                .unwrap()
                .last()
                .unwrap()
                .clone();
            assert_eq!(last["node"], "triage", "{failed}");
            let r = expect(
                app.get(&format!("/apps/ops/forms/job/records/{rec}")).await,
                StatusCode::OK,
            )
            .await;
            assert_eq!(r["data"]["status"], "claimed");
        }
        let log = expect(app.get("/audit?app=ops&limit=200").await, StatusCode::OK).await;
        let logged: Vec<&str> = log["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert_eq!(
            logged.iter().filter(|a| **a == "flow.fail").count(),
            2,
            "{logged:?}"
        );
        assert!(
            !logged.contains(&"flow.task"),
            "no task was written: {logged:?}"
        );
        // Once someone holds the role, publishing has nothing to say.
        user(&app, "auditor1").await;
        expect(
            app.put("/admin/users/auditor1/roles", &json!({"ops": ["auditors"]}))
                .await,
            StatusCode::OK,
        )
        .await;
        let mut changed = claim_flow("by_role", "audit", json!({"role": "auditors"}));
        changed["label"] = json!({"en": "by role, staffed"});
        let again = publish(&app, &changed).await;
        assert_eq!(again["version"], 2, "{again}");
        assert!(again.get("warnings").is_none(), "{again}");
        // An approval for a role that may not approve jobs could be decided by nobody:
        // publishing refuses it (or, asked to, publishes and says so), until the role may.
        let mut approval = claim_flow("by_role_approval", "audit", json!({"role": "auditors"}));
        approval["nodes"][2]["type"] = json!("approval");
        approval["edges"][2]["outcome"] = json!("approved");
        approval["edges"]
            .as_array_mut()
            .unwrap()
            .push(json!({"from": "triage", "to": "end", "outcome": "rejected"}));
        let approve = json!([{"pointer": "/nodes/2/assignee/role", "rule": "approve",
                    "message": "the role auditors may not approve job: until it may, nobody can decide this approval"}]);
        assert_eq!(refused(&app, &approval).await, approve);
        let warned = publish_unstaffed(&app, &approval).await;
        assert_eq!(warned["warnings"], approve, "{warned}");
        let mut role = role.clone();
        role["permissions"]["job"]["actions"] = json!(["read", "approve"]);
        expect(
            app.put("/apps/ops/roles/auditors", &role).await,
            StatusCode::OK,
        )
        .await;
        approval["label"] = json!({"en": "approval, may approve"});
        let again = publish(&app, &approval).await;
        assert!(again.get("warnings").is_none(), "{again}");
    }
);

on_both_stores!(
    publishing_refuses_a_join_that_can_never_complete,
    |app: TestApp| async move {
        job_form(&app).await;
        // An exclusive branch sends one token on: a join of its two paths that waits for
        // both can never fire; one that waits for any can, and so can a join after a
        // parallel split.
        let flow = |split: Value, mode: Value| {
            json!({
                "key": "joiner", "label": {"en": "Joiner"},
                "trigger": {"type": "record_created", "form": "job"},
                "nodes": [
                    {"id": "start", "type": "start"},
                    split,
                    {"id": "a", "type": "set_var", "name": "a", "value": 1},
                    {"id": "b", "type": "set_var", "name": "b", "value": 2},
                    {"id": "meet", "type": "join", "mode": mode},
                    {"id": "end", "type": "end"}
                ],
                "edges": [
                    {"from": "start", "to": "split"},
                    {"from": "split", "to": "a", "when": {"==": [{"var": "record.title"}, "a"]}},
                    {"from": "split", "to": "b", "default": true},
                    {"from": "a", "to": "meet"}, {"from": "b", "to": "meet"}, {"from": "meet", "to": "end"}
                ]
            })
        };
        let exclusive = json!({"id": "split", "type": "branch"});
        let body = expect(
            app.post(
                "/apps/ops/flows/joiner/publish",
                &flow(exclusive.clone(), json!("all")),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(pointer_rules(&body), ["/nodes/4/mode join"], "{body}");
        assert!(
            body["details"][0]["message"]
                .as_str()
                .unwrap()
                .contains("at most 1"),
            "{body}"
        );
        let body = expect(
            app.post(
                "/apps/ops/flows/joiner/publish",
                &flow(exclusive.clone(), json!({"n": 2})),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(pointer_rules(&body), ["/nodes/4/mode join"], "{body}");
        expect(
            app.post(
                "/apps/ops/flows/joiner/publish",
                &flow(exclusive, json!("any")),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        let mut parallel = flow(json!({"id": "split", "type": "parallel"}), json!("all"));
        for e in parallel["edges"].as_array_mut().unwrap() {
            e.as_object_mut().unwrap().remove("when");
            e.as_object_mut().unwrap().remove("default");
        }
        expect(
            app.post("/apps/ops/flows/joiner/publish", &parallel).await,
            StatusCode::CREATED,
        )
        .await;
    }
);
