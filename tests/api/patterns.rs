//! The workflow control-flow patterns (Russell, ter Hofstede, van der Aalst, Mulyar:
//! "Workflow Control-Flow Patterns: A Revised View", BPM Center Report BPM-06-22, 2006)
//! that flows support, each as a small graph with its expected trace: WCP 1–7, 9, 10, 11,
//! 13, 14, 16, 19 and 20. A trace is the instance's history as (node, action) pairs; where
//! branches run concurrently only the multiset is fixed, so those are compared sorted.

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

use crate::helpers::{TestApp, client_with, expect, token_for};
use crate::on_both_stores;

async fn eventually<T, F, Fut>(what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    for _ in 0..150 {
        if let Some(v) = f().await {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

async fn setup(app: &TestApp) {
    app.app("wcp").await;
    app.publish_ok(
        "wcp",
        "case",
        json!({"type": "object", "properties": {
            "amount": {"type": "number", "x-type": "number", "x-label": {"en": "Amount"}},
            "flags": {"type": "array", "x-type": "multi_select", "x-label": {"en": "Flags"}, "uniqueItems": true,
                      "items": {"type": "string", "enum": ["x", "y", "z"]},
                      "x-options": {"x": {"en": "X"}, "y": {"en": "Y"}, "z": {"en": "Z"}}},
            "status": {"type": "string", "x-type": "text", "x-label": {"en": "Status"}}}}),
    )
    .await;
}

async fn user(app: &TestApp, name: &str) -> Client {
    let body =
        json!({"username": name, "display_name": name, "password": format!("{name}-password-1")});
    expect(app.post("/admin/users", &body).await, StatusCode::CREATED).await;
    client_with(&token_for(&app.base, name, &format!("{name}-password-1"), None).await)
}

fn set(id: &str) -> Value {
    json!({"id": id, "type": "set_var", "name": id, "value": true})
}

fn flow(key: &str, nodes: Value, edges: Value) -> Value {
    json!({"key": key, "label": {"en": key}, "trigger": {"type": "record_created", "form": "case",
           "condition": {"==": [{"var": "record.status"}, key]}}, "nodes": nodes, "edges": edges})
}

/// Publish `def`, create a case that starts it, and return the instance id.
async fn start(app: &TestApp, def: Value, data: Value) -> i64 {
    let key = def["key"].as_str().unwrap().to_owned();
    let r = app
        .post(&format!("/apps/wcp/flows/{key}/publish"), &def)
        .await;
    assert!(
        matches!(r.status(), StatusCode::CREATED | StatusCode::OK),
        "{}",
        r.text().await.unwrap()
    );
    let mut data = data;
    data["status"] = json!(key);
    let rec = app.create_ok("wcp", "case", data).await;
    let v = expect(
        app.get(&format!("/flow-instances?record={}", rec["id"]))
            .await,
        StatusCode::OK,
    )
    .await;
    v["items"][0]["id"]
        .as_i64()
        .expect("an instance started with the record")
}

async fn detail(app: &TestApp, id: i64) -> Value {
    expect(
        app.get(&format!("/flow-instances/{id}")).await,
        StatusCode::OK,
    )
    .await
}

async fn until(app: &TestApp, id: i64, status: &str) -> Value {
    eventually(&format!("instance {id} to be {status}"), || async {
        let d = detail(app, id).await;
        (d["instance"]["status"] == status).then_some(d)
    })
    .await
}

/// (node, action) of each history line, leaving out the instance-level start and end.
fn trace(d: &Value) -> Vec<(String, String)> {
    d["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| !h["node"].is_null() && h["action"] != "started")
        .map(|h| {
            (
                h["node"].as_str().unwrap().to_owned(),
                h["action"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

fn sorted(mut v: Vec<(String, String)>) -> Vec<(String, String)> {
    v.sort();
    v
}

async fn open_task(c: &Client, app: &TestApp, instance: i64) -> Option<Value> {
    let r = c.get(app.url("/tasks")).send().await.unwrap();
    let v: Value = r.json().await.unwrap();
    v["items"]
        .as_array()?
        .iter()
        .find(|t| t["instance"] == instance)
        .cloned()
}

async fn complete(c: &Client, app: &TestApp, task: &Value, outcome: &str) {
    let r = c
        .post(app.url(&format!("/tasks/{}/complete", task["id"])))
        .json(&json!({"outcome": outcome}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
}

on_both_stores!(
    wcp_1_to_11_sequence_parallel_choice_merge_discriminator_cycles_termination,
    |app: TestApp| async move {
        setup(&app).await;

        // WCP1 Sequence.
        let id = start(&app, flow("seq", json!([{"id": "start", "type": "start"}, set("a"), set("b"), {"id": "end", "type": "end"}]),
            json!([{"from": "start", "to": "a"}, {"from": "a", "to": "b"}, {"from": "b", "to": "end"}])), json!({})).await;
        let d = until(&app, id, "completed").await;
        assert_eq!(
            trace(&d),
            pairs(&[("a", "set"), ("b", "set"), ("end", "ended")])
        );

        // WCP2 Parallel split + WCP3 Synchronization.
        let id = start(&app, flow("par", json!([{"id": "start", "type": "start"}, {"id": "split", "type": "parallel"}, set("a"), set("b"),
                {"id": "sync", "type": "join"}, set("c"), {"id": "end", "type": "end"}]),
            json!([{"from": "start", "to": "split"}, {"from": "split", "to": "a"}, {"from": "split", "to": "b"},
                   {"from": "a", "to": "sync"}, {"from": "b", "to": "sync"}, {"from": "sync", "to": "c"}, {"from": "c", "to": "end"}])), json!({})).await;
        let d = until(&app, id, "completed").await;
        let t = trace(&d);
        assert_eq!(
            sorted(t.clone()),
            sorted(pairs(&[
                ("a", "set"),
                ("b", "set"),
                ("sync", "joined"),
                ("c", "set"),
                ("end", "ended")
            ]))
        );
        assert_eq!(
            t[t.len() - 3..].to_vec(),
            pairs(&[("sync", "joined"), ("c", "set"), ("end", "ended")]),
            "c only after both"
        );

        // WCP4 Exclusive choice + WCP5 Simple merge.
        let choice = flow(
            "choice",
            json!([{"id": "start", "type": "start"}, {"id": "size", "type": "branch"}, set("big"), set("small"),
                set("merge"), {"id": "end", "type": "end"}]),
            json!([{"from": "start", "to": "size"}, {"from": "size", "to": "big", "when": {">": [{"var": "record.amount"}, 100]}},
                   {"from": "size", "to": "small", "default": true}, {"from": "big", "to": "merge"}, {"from": "small", "to": "merge"},
                   {"from": "merge", "to": "end"}]),
        );
        for (amount, path) in [(500, "big"), (50, "small")] {
            let id = start(&app, choice.clone(), json!({"amount": amount})).await;
            let d = until(&app, id, "completed").await;
            assert_eq!(
                trace(&d),
                pairs(&[
                    ("size", "branched"),
                    (path, "set"),
                    ("merge", "set"),
                    ("end", "ended")
                ])
            );
        }

        // WCP6 Multi-choice + WCP7 Structured synchronizing merge.
        let has = |f: &str| json!({"in": [f, {"var": "record.flags"}]});
        let multi = flow(
            "multi",
            json!([{"id": "start", "type": "start"}, {"id": "pick", "type": "branch", "multi": true},
                set("x"), set("y"), set("z"), set("none"), {"id": "sync", "type": "join", "mode": {"activated_by": "pick"}},
                set("after"), {"id": "end", "type": "end"}]),
            json!([{"from": "start", "to": "pick"}, {"from": "pick", "to": "x", "when": has("x")}, {"from": "pick", "to": "y", "when": has("y")},
                   {"from": "pick", "to": "z", "when": has("z")}, {"from": "pick", "to": "none", "default": true},
                   {"from": "x", "to": "sync"}, {"from": "y", "to": "sync"}, {"from": "z", "to": "sync"}, {"from": "none", "to": "sync"},
                   {"from": "sync", "to": "after"}, {"from": "after", "to": "end"}]),
        );
        for (flags, ran) in [
            (json!(["x", "z"]), vec!["x", "z"]),
            (json!([]), vec!["none"]),
            (json!(["x", "y", "z"]), vec!["x", "y", "z"]),
        ] {
            let id = start(&app, multi.clone(), json!({"flags": flags})).await;
            let d = until(&app, id, "completed").await;
            let mut want: Vec<(&str, &str)> = ran.iter().map(|n| (*n, "set")).collect();
            want.extend([
                ("pick", "branched"),
                ("sync", "joined"),
                ("after", "set"),
                ("end", "ended"),
            ]);
            assert_eq!(sorted(trace(&d)), sorted(pairs(&want)), "flags {flags}");
        }

        // WCP9 Structured discriminator: the first arrival continues, the others are absorbed.
        let id = start(&app, flow("disc", json!([{"id": "start", "type": "start"}, {"id": "split", "type": "parallel"}, set("a"), set("b"), set("c"),
                {"id": "first", "type": "join", "mode": "any"}, set("after"), {"id": "end", "type": "end"}]),
            json!([{"from": "start", "to": "split"}, {"from": "split", "to": "a"}, {"from": "split", "to": "b"}, {"from": "split", "to": "c"},
                   {"from": "a", "to": "first"}, {"from": "b", "to": "first"}, {"from": "c", "to": "first"},
                   {"from": "first", "to": "after"}, {"from": "after", "to": "end"}])), json!({})).await;
        let d = until(&app, id, "completed").await;
        assert_eq!(
            sorted(trace(&d)),
            sorted(pairs(&[
                ("a", "set"),
                ("b", "set"),
                ("c", "set"),
                ("first", "joined"),
                ("after", "set"),
                ("end", "ended")
            ]))
        );

        // WCP10 Arbitrary cycles: back to an earlier node until a condition holds.
        let id = start(&app, flow("cycle", json!([{"id": "start", "type": "start"},
                {"id": "inc", "type": "set_var", "name": "n", "value": {"+": [{"var": "vars.n"}, 1]}},
                {"id": "again", "type": "branch"}, {"id": "end", "type": "end"}]),
            json!([{"from": "start", "to": "inc"}, {"from": "inc", "to": "again"},
                   {"from": "again", "to": "inc", "when": {"<": [{"var": "vars.n"}, 3]}}, {"from": "again", "to": "end", "default": true}])), json!({})).await;
        let d = until(&app, id, "completed").await;
        assert_eq!(
            trace(&d),
            pairs(&[
                ("inc", "set"),
                ("again", "branched"),
                ("inc", "set"),
                ("again", "branched"),
                ("inc", "set"),
                ("again", "branched"),
                ("end", "ended")
            ])
        );
        assert_eq!(d["instance"]["vars"]["vars"]["n"], 3);

        // WCP11 Implicit termination: two branches end on their own; the instance completes
        // when nothing is left to do.
        let id = start(&app, flow("implicit", json!([{"id": "start", "type": "start"}, {"id": "split", "type": "parallel"}, set("a"), set("b"),
                {"id": "end_a", "type": "end"}, {"id": "end_b", "type": "end"}]),
            json!([{"from": "start", "to": "split"}, {"from": "split", "to": "a"}, {"from": "split", "to": "b"},
                   {"from": "a", "to": "end_a"}, {"from": "b", "to": "end_b"}])), json!({})).await;
        let d = until(&app, id, "completed").await;
        assert_eq!(
            sorted(trace(&d)),
            sorted(pairs(&[
                ("a", "set"),
                ("b", "set"),
                ("end_a", "ended"),
                ("end_b", "ended")
            ]))
        );
        let completions = d["history"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|h| h["action"] == "completed")
            .count();
        assert_eq!(completions, 1);
    }
);

on_both_stores!(
    wcp_13_14_16_19_20_multiple_instances_deferred_choice_and_cancellation,
    |app: TestApp| async move {
        setup(&app).await;
        let u1 = user(&app, "u1").await;
        let u2 = user(&app, "u2").await;
        let u3 = user(&app, "u3").await;
        let role = json!({"key": "team", "label": {"en": "Team"}, "permissions": {"case": {"actions": ["read", "approve"], "rows": "all", "read": ["*"]}}});
        expect(app.put("/apps/wcp/roles/team", &role).await, StatusCode::OK).await;
        for u in ["u1", "u2"] {
            expect(
                app.put(
                    &format!("/admin/users/{u}/roles"),
                    &json!({"wcp": ["team"]}),
                )
                .await,
                StatusCode::OK,
            )
            .await;
        }
        let review = |key: &str, assignee: Value, mode: &str, extra: Value| {
            let mut node =
                json!({"id": "review", "type": "approval", "assignee": assignee, "mode": mode});
            for (k, v) in extra.as_object().unwrap() {
                node[k] = v.clone();
            }
            flow(
                key,
                json!([{"id": "start", "type": "start"}, node, set("yes"), set("no"), {"id": "end", "type": "end"}]),
                json!([{"from": "start", "to": "review"}, {"from": "review", "to": "yes", "outcome": "approved"},
                       {"from": "review", "to": "no", "outcome": "rejected"}, {"from": "yes", "to": "end"}, {"from": "no", "to": "end"}]),
            )
        };

        // u3 is no team member yet, but may approve cases (deciding an approval is the
        // `approve` action on the record's form).
        let role = json!({"key": "reviewers", "label": {"en": "Reviewers"}, "permissions": {"case": {"actions": ["approve"]}}});
        expect(
            app.put("/apps/wcp/roles/reviewers", &role).await,
            StatusCode::OK,
        )
        .await;
        expect(
            app.put("/admin/users/u3/roles", &json!({"wcp": ["reviewers"]}))
                .await,
            StatusCode::OK,
        )
        .await;
        // WCP13 Multiple instances with design-time knowledge: three named reviewers, all
        // must approve before the flow goes on.
        let id = start(
            &app,
            review(
                "mi_design",
                json!({"users": ["u1", "u2", "u3"]}),
                "all",
                json!({}),
            ),
            json!({}),
        )
        .await;
        for (i, c) in [&u1, &u2, &u3].into_iter().enumerate() {
            let t = eventually("a review task", || open_task(c, &app, id)).await;
            complete(c, &app, &t, "approved").await;
            if i < 2 {
                tokio::time::sleep(Duration::from_millis(300)).await;
                assert_eq!(
                    detail(&app, id).await["instance"]["status"],
                    "running",
                    "waits for all three"
                );
            }
        }
        let d = until(&app, id, "completed").await;
        let all_approve = pairs(&[
            ("review", "assigned"),
            ("review", "approved"),
            ("review", "approved"),
            ("review", "approved"),
            ("yes", "set"),
            ("end", "ended"),
        ]);
        assert_eq!(trace(&d), all_approve);
        let approvers: Vec<&Value> = d["history"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|h| h["action"] == "approved")
            .map(|h| &h["actor"])
            .collect();
        assert_eq!(approvers, [&json!("u1"), &json!("u2"), &json!("u3")]);

        // WCP14 Multiple instances with run-time knowledge: as many tasks as the role has
        // members when the node is reached (u3 joins the team in between).
        expect(
            app.put("/admin/users/u3/roles", &json!({"wcp": ["team"]}))
                .await,
            StatusCode::OK,
        )
        .await;
        let id = start(
            &app,
            review("mi_runtime", json!({"role": "team"}), "all", json!({})),
            json!({}),
        )
        .await;
        let d = eventually("the review to be assigned", || async {
            let d = detail(&app, id).await;
            d["history"]
                .as_array()
                .unwrap()
                .iter()
                .find(|h| h["action"] == "assigned")
                .cloned()
        })
        .await;
        assert_eq!(d["detail"]["to"], json!(["u1", "u2", "u3"]));
        for c in [&u1, &u2, &u3] {
            let t = eventually("a review task", || open_task(c, &app, id)).await;
            complete(c, &app, &t, "approved").await;
        }
        let d = until(&app, id, "completed").await;
        assert_eq!(trace(&d), all_approve);

        // WCP16 Deferred choice: the reviewer's answer or the deadline, whichever comes first.
        let deferred = review(
            "deferred",
            json!({"user": "u1"}),
            "any",
            json!({"deadline": {"hours": 1, "action": "auto_reject"}}),
        );
        let id = start(&app, deferred.clone(), json!({})).await;
        let t = eventually("u1's task", || open_task(&u1, &app, id)).await;
        complete(&u1, &app, &t, "approved").await;
        let d = until(&app, id, "completed").await;
        // The answer came first: the deadline never fires (no `deadline` line).
        assert_eq!(
            trace(&d),
            pairs(&[
                ("review", "assigned"),
                ("review", "approved"),
                ("yes", "set"),
                ("end", "ended")
            ])
        );
        app.advance(3600.0 + 5.0).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(
            trace(&detail(&app, id).await),
            trace(&d),
            "the timer was withdrawn"
        );
        // … and the deadline first: the task is withdrawn.
        let id = start(&app, deferred, json!({})).await;
        let t = eventually("u1's task", || open_task(&u1, &app, id)).await;
        // An hour passes (the server's clock moves): the deadline decides.
        app.advance(3600.0 + 5.0).await;
        let d = until(&app, id, "completed").await;
        assert_eq!(
            trace(&d),
            pairs(&[
                ("review", "assigned"),
                ("review", "deadline"),
                ("review", "rejected"),
                ("no", "set"),
                ("end", "ended")
            ])
        );
        let r = u1
            .post(app.url(&format!("/tasks/{}/complete", t["id"])))
            .json(&json!({"outcome": "approved"}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            StatusCode::CONFLICT,
            "the withdrawn task cannot be answered"
        );

        // WCP19 Cancel task: with mode any, the first answer withdraws the other's task.
        let id = start(
            &app,
            review(
                "cancel_task",
                json!({"users": ["u1", "u2"]}),
                "any",
                json!({}),
            ),
            json!({}),
        )
        .await;
        let t1 = eventually("u1's task", || open_task(&u1, &app, id)).await;
        let t2 = eventually("u2's task", || open_task(&u2, &app, id)).await;
        complete(&u1, &app, &t1, "rejected").await;
        let d = until(&app, id, "completed").await;
        assert_eq!(
            trace(&d),
            pairs(&[
                ("review", "assigned"),
                ("review", "rejected"),
                ("no", "set"),
                ("end", "ended")
            ])
        );
        let v: Value = u2
            .get(app.url(&format!("/tasks/{}", t2["id"])))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(v["task"]["status"], "cancelled");

        // WCP20 Cancel case: an administrator cancels the instance; every open task closes
        // and nothing runs any more.
        let id = start(&app, flow("cancel_case", json!([{"id": "start", "type": "start"}, {"id": "split", "type": "parallel"},
                {"id": "t1", "type": "task", "assignee": {"user": "u1"}}, {"id": "t2", "type": "task", "assignee": {"user": "u2"}},
                {"id": "sync", "type": "join"}, set("after"), {"id": "end", "type": "end"}]),
            json!([{"from": "start", "to": "split"}, {"from": "split", "to": "t1"}, {"from": "split", "to": "t2"},
                   {"from": "t1", "to": "sync"}, {"from": "t2", "to": "sync"}, {"from": "sync", "to": "after"}, {"from": "after", "to": "end"}])), json!({})).await;
        let t1 = eventually("u1's task", || open_task(&u1, &app, id)).await;
        eventually("u2's task", || open_task(&u2, &app, id)).await;
        // A misspelt reason is refused, not dropped; the instance still runs.
        expect(
            app.post(
                &format!("/flow-instances/{id}/cancel"),
                &json!({"reasn": "duplicate case"}),
            )
            .await,
            StatusCode::BAD_REQUEST,
        )
        .await;
        assert_eq!(detail(&app, id).await["instance"]["status"], "running");
        expect(
            app.post(
                &format!("/flow-instances/{id}/cancel"),
                &json!({"reason": "duplicate case"}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        let d = until(&app, id, "cancelled").await;
        assert_eq!(trace(&d), pairs(&[("t1", "assigned"), ("t2", "assigned")]));
        // The cancel is the instance's last line: by the administrator, with the reason.
        let last = d["history"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(
            (&last["action"], &last["actor"], &last["detail"]["error"]),
            (
                &json!("cancelled"),
                &json!("admin"),
                &json!("duplicate case")
            ),
            "{last}"
        );
        assert!(
            open_task(&u1, &app, id).await.is_none() && open_task(&u2, &app, id).await.is_none()
        );
        let r = u1
            .post(app.url(&format!("/tasks/{}/complete", t1["id"])))
            .json(&json!({"outcome": "done"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::CONFLICT);
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(
            detail(&app, id).await["history"],
            d["history"],
            "nothing ran after the cancel"
        );
    }
);
