//! People in flows (docs/flows.md): department-head assignees (`{"head_of": "initiator" |
//! "record" | {"field": f}}` finds the head of a department, climbing the tree past
//! departments without a head, disabled heads and the person's own department; publishing
//! checks the spec); the CRM's flow 2 telling the registering clerk's head about an order
//! registered more than 15 minutes after it was reported; and the `users` node listing the
//! staff for flow 11's check of this year's regulation training.

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use std::time::Duration;

use crate::flows::{eventually, get, pointer_rules};
use crate::helpers::{TestApp, client_with, expect, token_for};
use crate::on_both_stores;

async fn department(app: &TestApp, id: &str, parent: Option<&str>, head: Option<&str>) {
    expect(
        app.put(
            &format!("/admin/departments/{id}"),
            &json!({"name": id, "parent": parent, "head": head}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
}

async fn person(app: &TestApp, name: &str, dept: &str, roles: Value) -> Client {
    let pw = format!("{name}-password-1");
    let body = json!({"username": name, "display_name": name, "password": pw,
                      "department": dept, "roles": roles});
    expect(app.post("/admin/users", &body).await, StatusCode::CREATED).await;
    client_with(&token_for(&app.base, name, &pw, None).await)
}

/// Titles of `c`'s inbox messages.
async fn inbox(c: &Client, app: &TestApp) -> Vec<String> {
    get(c, app, "/inbox").await["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["title"].as_str().unwrap_or("").to_owned())
        .collect()
}

/// Open tasks of `c`: (record id, node).
async fn tasks(c: &Client, app: &TestApp) -> Vec<(i64, String)> {
    get(c, app, "/tasks").await["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["status"] == "open")
        .map(|t| {
            (
                t["record"].as_i64().unwrap_or(0),
                t["node"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

fn request_flow() -> Value {
    json!({
        "key": "expense",
        "label": {"en": "Expense approval"},
        "trigger": {"type": "record_created", "form": "expense"},
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "head", "type": "approval", "label": {"en": "My head approves"}, "assignee": {"head_of": "initiator"}},
            {"id": "tell_payee_head", "type": "notify", "to": {"head_of": {"field": "payee"}}, "title": "payee {{record.title}}", "body": ""},
            {"id": "tell_cost_head", "type": "notify", "to": {"head_of": {"field": "cost_centre"}}, "title": "cost centre {{record.title}}", "body": ""},
            {"id": "tell_owner_head", "type": "notify", "to": {"head_of": "record"}, "title": "owner {{record.title}}", "body": ""},
            {"id": "end", "type": "end"}
        ],
        "edges": [
            {"from": "start", "to": "head"},
            {"from": "head", "to": "tell_payee_head", "outcome": "approved"},
            {"from": "head", "to": "end", "outcome": "rejected"},
            {"from": "tell_payee_head", "to": "tell_cost_head"},
            {"from": "tell_cost_head", "to": "tell_owner_head"},
            {"from": "tell_owner_head", "to": "end"}
        ]
    })
}

on_both_stores!(
    department_heads_are_found_up_the_tree_never_oneself_never_disabled,
    |app: TestApp| async move {
        app.app("fin").await;
        app.publish_ok(
            "fin",
            "expense",
            json!({"type": "object", "required": ["title"], "properties": {
                "title": {"type": "string", "x-type": "text", "x-label": {"en": "Title"}},
                "payee": {"type": "string", "x-type": "member", "x-label": {"en": "Payee"}},
                "cost_centre": {"type": "string", "x-type": "department", "x-label": {"en": "Cost centre"}}}}),
        )
        .await;
        let role = json!({"key": "staff", "label": {"en": "Staff"},
                          "permissions": {"expense": {"actions": ["create", "read", "approve"], "rows": "all", "read": ["*"], "write": ["*"]}}});
        expect(
            app.put("/apps/fin/roles/staff", &role).await,
            StatusCode::OK,
        )
        .await;
        // top (ceo) ← mid (boss) ← low (no head); lab (head: labhead) under top.
        department(&app, "top", None, None).await;
        department(&app, "mid", Some("top"), None).await;
        department(&app, "low", Some("mid"), None).await;
        department(&app, "lab", Some("top"), None).await;
        let staff = json!({"fin": ["staff"]});
        let ceo = person(&app, "ceo", "top", staff.clone()).await;
        let boss = person(&app, "boss", "mid", staff.clone()).await;
        let clerk = person(&app, "clerk", "low", staff.clone()).await;
        let labhead = person(&app, "labhead", "lab", staff.clone()).await;
        let _tech = person(&app, "tech", "lab", staff.clone()).await;
        department(&app, "top", None, Some("ceo")).await;
        department(&app, "mid", Some("top"), Some("boss")).await;
        department(&app, "lab", Some("top"), Some("labhead")).await;

        // Publishing checks the spec: a text field has no head, a schedule has no record.
        let mut bad = request_flow();
        bad["nodes"][2]["to"] = json!({"head_of": {"field": "title"}});
        bad["nodes"][4]["to"] = json!({"head_of": "someone"});
        let body = expect(
            app.post("/apps/fin/flows/expense/publish", &bad).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        let got = pointer_rules(&body);
        assert!(
            got.contains(&"/nodes/2/to/head_of/field member".to_owned()),
            "{got:?}"
        );
        assert!(got.contains(&"/nodes/4/to assignee".to_owned()), "{got:?}");
        let scheduled = json!({"key": "weekly", "label": {"en": "Weekly"},
            "trigger": {"type": "schedule", "cron": "0 9 * * 1"},
            "nodes": [{"id": "start", "type": "start"},
                      {"id": "tell", "type": "notify", "to": {"head_of": "record"}, "title": "x", "body": ""},
                      {"id": "end", "type": "end"}],
            "edges": [{"from": "start", "to": "tell"}, {"from": "tell", "to": "end"}]});
        let body = expect(
            app.post("/apps/fin/flows/weekly/publish", &scheduled).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(
            body["details"][0]["pointer"], "/nodes/1/to/head_of",
            "{body}"
        );
        expect(
            app.post("/apps/fin/flows/expense/publish", &request_flow())
                .await,
            StatusCode::CREATED,
        )
        .await;

        let create = |c: &Client, data: Value| {
            let (c, url) = (c.clone(), app.url("/apps/fin/forms/expense/records"));
            async move {
                let r = c
                    .post(url)
                    .json(&json!({"data": data}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), StatusCode::CREATED);
                r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
            }
        };
        // The clerk's department has no head: the question goes up to mid's head.
        let taxi = create(
            &clerk,
            json!({"title": "taxi", "payee": "tech", "cost_centre": "low"}),
        )
        .await;
        let t = eventually("boss's task", || async {
            tasks(&boss, &app).await.into_iter().find(|t| t.0 == taxi)
        })
        .await;
        assert_eq!(t.1, "head");
        assert!(tasks(&ceo, &app).await.is_empty());
        // The head's own request goes to the head above: nobody approves their own.
        let dinner = create(
            &boss,
            json!({"title": "dinner", "payee": "labhead", "cost_centre": "lab"}),
        )
        .await;
        eventually("ceo's task", || async {
            tasks(&ceo, &app).await.into_iter().find(|t| t.0 == dinner)
        })
        .await;
        assert!(!tasks(&boss, &app).await.iter().any(|t| t.0 == dinner));

        // After the approval: the payee's head (tech → labhead), the cost centre's head
        // (low → climbs to boss) and the record owner's head (clerk in low → boss).
        let task_id = get(&boss, &app, "/tasks").await["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["record"] == taxi && x["status"] == "open")
            .unwrap()["id"]
            .clone();
        let r = boss
            .post(app.url(&format!("/tasks/{task_id}/complete")))
            .json(&json!({"outcome": "approved", "comment": "ok"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        eventually("labhead told of the payee", || async {
            inbox(&labhead, &app)
                .await
                .contains(&"payee taxi".to_owned())
                .then_some(())
        })
        .await;
        eventually("boss told of the owner", || async {
            inbox(&boss, &app)
                .await
                .contains(&"owner taxi".to_owned())
                .then_some(())
        })
        .await;
        let b = inbox(&boss, &app).await;
        assert!(b.contains(&"cost centre taxi".to_owned()), "{b:?}");
        assert!(!inbox(&ceo, &app).await.iter().any(|m| m.ends_with("taxi")));

        // The labhead's payee request: the payee is the head of lab → lab's parent's head.
        let ceo_task = get(&ceo, &app, "/tasks").await["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["record"] == dinner && x["status"] == "open")
            .unwrap()["id"]
            .clone();
        let r = ceo
            .post(app.url(&format!("/tasks/{ceo_task}/complete")))
            .json(&json!({"outcome": "approved"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        eventually("ceo told of the payee labhead", || async {
            inbox(&ceo, &app)
                .await
                .contains(&"payee dinner".to_owned())
                .then_some(())
        })
        .await;

        // A disabled head is passed over.
        expect(
            app.patch("/admin/users/boss", &json!({"disabled": true}))
                .await,
            StatusCode::OK,
        )
        .await;
        let lunch = create(&clerk, json!({"title": "lunch"})).await;
        eventually("ceo's task for the clerk", || async {
            tasks(&ceo, &app).await.into_iter().find(|t| t.0 == lunch)
        })
        .await;
    }
);

on_both_stores!(
    an_order_registered_late_tells_the_head_of_the_clerks_department,
    |app: TestApp| async move {
        crate::crm::install(&app).await;
        crate::crm::install_flows(&app).await;
        crate::crm::department(&app, "svc", None).await;
        crate::crm::department(&app, "svc_east", Some("svc")).await;
        let director = crate::crm::user(&app, "director", &["service_director"], Some("svc")).await;
        let cs = crate::crm::user(&app, "cs1", &["customer_service"], Some("svc_east")).await;
        department(&app, "svc", None, Some("director")).await;
        let customer = app
            .create_ok(
                "crm",
                "customer",
                json!({"name": "协和医院", "customer_type": "hospital"}),
            )
            .await["id"]
            .clone();
        let now = chrono::Utc::now();
        let at = |minutes_ago: i64| {
            (now - chrono::Duration::minutes(minutes_ago))
                .with_timezone(&chrono_tz::Asia::Shanghai)
                .to_rfc3339()
        };
        for (fault, ago) in [("late ECG", 40), ("prompt pump", 5)] {
            let body = json!({"data": {"kind": "repair", "priority": "normal", "status": "reported",
                "customer": customer, "fault_description": fault, "reported_at": at(ago)}});
            let r = cs
                .post(app.url("/apps/crm/forms/service_order/records"))
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
        let late = eventually("the director told", || async {
            let m: Vec<Value> = get(&director, &app, "/inbox").await["items"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|m| m["title"].as_str().unwrap_or("").contains("15"))
                .cloned()
                .collect();
            (!m.is_empty()).then_some(m)
        })
        .await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let again = get(&director, &app, "/inbox").await;
        let n = again["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["title"].as_str().unwrap_or("").contains("15"))
            .count();
        assert_eq!(n, 1, "only the late order: {late:?}");
        assert!(
            late[0]["body"].as_str().unwrap().contains("cs1"),
            "{late:?}"
        );
    }
);

on_both_stores!(
    staff_without_this_years_regulation_training_give_compliance_a_task_each,
    |app: TestApp| async move {
        crate::crm::install(&app).await;
        crate::crm::install_flows(&app).await;
        let qa = crate::crm::user(&app, "qa1", &["compliance"], None).await;
        crate::crm::user(&app, "eng_a", &["engineer"], None).await;
        crate::crm::user(&app, "eng_b", &["engineer"], None).await;
        crate::crm::user(&app, "outsider", &[], None).await;
        // The check runs on the 1st of the month at 09:00 in the app's zone; eng_a has this
        // year's training (the year of that 1st), eng_b only last year's.
        let now = chrono::Utc::now().with_timezone(&chrono_tz::Asia::Shanghai);
        let today = now.date_naive();
        let (y, m) = if chrono::Datelike::month(&today) == 12 {
            (chrono::Datelike::year(&today) + 1, 1)
        } else {
            (
                chrono::Datelike::year(&today),
                chrono::Datelike::month(&today) + 1,
            )
        };
        let first = chrono::NaiveDate::from_ymd_opt(y, m, 1)
            .unwrap()
            .and_hms_opt(9, 0, 30)
            .unwrap()
            .and_local_timezone(chrono_tz::Asia::Shanghai)
            .unwrap();
        for (who, on) in [
            ("eng_a", format!("{y}-01-01")),
            ("eng_b", format!("{}-06-01", y - 1)),
        ] {
            app.create_ok(
                "crm",
                "training_record",
                json!({"audience": "staff", "staff": who, "course": "regulations", "trained_on": on}),
            )
            .await;
        }
        // eng_a's product training does not count
        app.create_ok(
            "crm",
            "training_record",
            json!({"audience": "staff", "staff": "eng_b", "course": "product_technology", "trained_on": format!("{y}-01-02")}),
        )
        .await;
        app.advance((first - now).num_milliseconds() as f64 / 1000.0)
            .await;
        let tasks = || async {
            get(&qa, &app, "/tasks").await["items"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|t| t["flow"]["key"] == "training_gap_follow_up")
                .cloned()
                .collect::<Vec<Value>>()
        };
        // eng_b and qa1 (compliance staff too) lack it; eng_a has it; the outsider holds no
        // CRM role.
        eventually("a task for each person without the training", || async {
            (tasks().await.len() == 2).then_some(())
        })
        .await;
        let titles = inbox(&qa, &app).await;
        let about = |who: &str| titles.iter().any(|t| t.contains(&format!("({who})")));
        assert!(about("eng_b") && about("qa1"), "{titles:?}");
        assert!(!about("eng_a") && !about("outsider"), "{titles:?}");
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(tasks().await.len(), 2);
    }
);
