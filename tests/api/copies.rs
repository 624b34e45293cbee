//! Copies (抄送, a `cc` node): the recipients get an inbox message and may follow the
//! instance from then on ("CC'd to me", `GET /flow-instances?cc=me`); nobody else may.
//! A copy does not open the record: reading it stays under the recipient's own rules.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::flow_paths::{complete, instance_of, job_form, open_task, publish};
use crate::flows::{eventually, get, pointer_rules, user};
use crate::helpers::{TestApp, expect};
use crate::on_both_stores;

fn ids(list: &Value) -> Vec<Value> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].clone())
        .collect()
}

/// The user `boss`, whose role `readers` may read a job's title and nothing else.
async fn boss_reading_titles(app: &TestApp) -> reqwest::Client {
    let role = json!({"key": "readers", "label": {"en": "Readers"},
                      "permissions": {"job": {"actions": ["read"], "rows": "all", "read": ["title"]}}});
    expect(
        app.put("/apps/ops/roles/readers", &role).await,
        StatusCode::OK,
    )
    .await;
    let boss = user(app, "boss").await;
    let roles = json!({"ops": ["readers"]});
    expect(
        app.put("/admin/users/boss/roles", &roles).await,
        StatusCode::OK,
    )
    .await;
    boss
}

on_both_stores!(
    a_copied_instance_is_listed_and_shown_to_its_recipients_only,
    |app: TestApp| async move {
        job_form(&app).await;
        let worker = user(&app, "worker").await;
        let boss = boss_reading_titles(&app).await;
        let stranger = user(&app, "stranger").await;
        let flow = json!({
            "key": "review", "label": {"zh-CN": "工作复核", "en": "Review"},
            "trigger": {"type": "record_created", "form": "job"},
            "nodes": [
                {"id": "start", "type": "start"},
                {"id": "check", "type": "task", "assignee": {"user": "worker"}},
                {"id": "copy", "type": "cc", "to": {"user": "boss"},
                 "body": "{{record.title}} was checked by {{task.by}}"},
                {"id": "end", "type": "end"}
            ],
            "edges": [{"from": "start", "to": "check"}, {"from": "check", "to": "copy"},
                      {"from": "copy", "to": "end"}]
        });
        // A copy needs recipients; its title is optional, its templates are checked.
        let mut no_to = flow.clone();
        no_to["nodes"][2].as_object_mut().unwrap().remove("to");
        no_to["nodes"][2]["title"] = json!("{{#if}}");
        let body = expect(
            app.post("/apps/ops/flows/review/publish", &no_to).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        let rules = pointer_rules(&body);
        assert!(
            rules.contains(&"/nodes/2/to required".to_owned()),
            "{rules:?}"
        );
        assert!(
            rules.contains(&"/nodes/2/title template".to_owned()),
            "{rules:?}"
        );
        publish(&app, &flow).await;

        let rec = app
            .create_ok("ops", "job", json!({"title": "Pump 7"}))
            .await["id"]
            .clone();
        let task = open_task(&worker, &app, &rec, "check").await;
        let inst = task["instance"].clone();
        // Before the copy: the boss neither lists nor sees the instance.
        assert!(ids(&get(&boss, &app, "/flow-instances?cc=me").await).is_empty());
        let r = boss
            .get(app.url(&format!("/flow-instances/{inst}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND);

        assert_eq!(complete(&worker, &app, &task).await, StatusCode::OK);
        let done = eventually("the instance to complete", || async {
            let v = instance_of(&app, &rec).await;
            (v["instance"]["status"] == "completed").then_some(v)
        })
        .await;
        let copied: Vec<&Value> = done["history"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|h| h["action"] == "copied")
            .collect();
        assert_eq!(copied.len(), 1, "{done}");
        assert_eq!(copied[0]["node"], "copy");
        assert_eq!(copied[0]["detail"]["to"], json!(["boss"]));

        // The boss: listed under cc=me, the instance shown, one message titled by the flow.
        assert_eq!(
            ids(&get(&boss, &app, "/flow-instances?cc=me").await),
            vec![inst.clone()]
        );
        let seen = get(&boss, &app, &format!("/flow-instances/{inst}")).await;
        assert_eq!(seen["instance"]["status"], "completed", "{seen}");
        let inbox = get(&boss, &app, "/inbox").await;
        let mine: Vec<&Value> = inbox["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["instance"] == inst)
            .collect();
        assert_eq!(mine.len(), 1, "{inbox}");
        assert_eq!(mine[0]["title"], "抄送 / CC: 工作复核");
        assert_eq!(mine[0]["body"], "Pump 7 was checked by worker");
        // The copy is not a grant on the record: the boss reads it under their own rules.
        let r = get(&boss, &app, &format!("/apps/ops/forms/job/records/{rec}")).await;
        assert_eq!(r["data"], json!({"title": "Pump 7"}), "{r}");

        // Others: the worker took part but was not copied; a stranger sees nothing.
        assert!(ids(&get(&worker, &app, "/flow-instances?cc=me").await).is_empty());
        assert!(ids(&get(&stranger, &app, "/flow-instances?cc=me").await).is_empty());
        assert!(ids(&get(&stranger, &app, "/flow-instances").await).is_empty());
        let r = stranger
            .get(app.url(&format!("/flow-instances/{inst}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        // The administrator may ask whom an instance was copied to.
        let to_boss = expect(app.get("/flow-instances?cc=boss").await, StatusCode::OK).await;
        assert_eq!(ids(&to_boss), vec![inst.clone()]);
    }
);

/// The designer's template preview renders on a real record the way a step would: through
/// the chosen recipient's field mask, strict (a field they may not read is an error, not an
/// empty string), and only for administrators on records they may read.
async fn template_preview_on_a_real_record(app: TestApp) {
    job_form(&app).await;
    let boss = boss_reading_titles(&app).await;
    let rec = app
        .create_ok("ops", "job", json!({"title": "Pump 7", "note": "fee 300"}))
        .await["id"]
        .clone();
    let req = |extra: Value| {
        let mut r = json!({"form": "job", "record": rec,
                           "templates": {"title": "{{record.title}} by {{task.by}}", "body": "{{record.note}}"}});
        for (k, v) in extra.as_object().unwrap() {
            r[k] = v.clone();
        }
        r
    };
    let path = "/apps/ops/flows/review/preview";
    let mine = expect(app.post(path, &req(json!({}))).await, StatusCode::OK).await;
    assert_eq!(
        mine["results"]["title"]["text"], "Pump 7 by admin",
        "{mine}"
    );
    assert_eq!(mine["results"]["body"]["text"], "fee 300", "{mine}");
    for as_who in [json!({"as_user": "boss"}), json!({"as_role": "readers"})] {
        let theirs = expect(app.post(path, &req(as_who.clone())).await, StatusCode::OK).await;
        assert_eq!(
            theirs["results"]["title"]["text"], "Pump 7 by admin",
            "{theirs}"
        );
        let err = theirs["results"]["body"]["error"]
            .as_str()
            .unwrap_or_default();
        assert!(err.contains("record.note"), "{as_who}: {theirs}");
        assert!(theirs["results"]["body"].get("text").is_none(), "{theirs}");
    }
    // "today" is the app's date: an app on UTC+14 is always a day or two ahead of one on
    // UTC-11, whatever the time.
    let mut today = Vec::new();
    for zone in ["Pacific/Kiritimati", "Pacific/Pago_Pago"] {
        let app_def = json!({"key": "ops", "label": {"en": "ops"}, "time_zone": zone});
        expect(app.put("/apps/ops", &app_def).await, StatusCode::OK).await;
        let body = json!({"form": "job", "record": rec, "templates": {"d": "{{today}}"}});
        let r = expect(app.post(path, &body).await, StatusCode::OK).await;
        today.push(r["results"]["d"]["text"].as_str().unwrap().to_owned());
    }
    assert!(today[0] > today[1], "{today:?}");
    // Bad requests name the field; a missing record is 404; non-administrators are refused.
    for (body, pointer) in [
        (json!({"record": rec, "templates": {"t": "x"}}), "/form"),
        (json!({"form": "job", "templates": {"t": "x"}}), "/record"),
        (
            json!({"form": "job", "record": rec, "templates": {"t": 1}}),
            "/templates",
        ),
        (req(json!({"as_user": "nobody"})), "/as_user"),
        (req(json!({"as_role": "nobody"})), "/as_role"),
    ] {
        let b = expect(app.post(path, &body).await, StatusCode::BAD_REQUEST).await;
        assert_eq!(b["details"][0]["pointer"], pointer, "{b}");
    }
    let gone = json!({"form": "job", "record": 999_999, "templates": {"t": "x"}});
    expect(app.post(path, &gone).await, StatusCode::NOT_FOUND).await;
    let r = boss
        .post(app.url(path))
        .json(&req(json!({})))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

on_both_stores!(template_preview, template_preview_on_a_real_record);
