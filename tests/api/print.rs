//! Printing a record (`GET …/records/{id}/print`, the `print` action): a default layout or
//! the form's Handlebars template, rendered from what the caller may read, values escaped,
//! served with a no-script Content-Security-Policy — on SQLite and PostgreSQL.

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, client_with, expect, token_for};
use crate::on_both_stores;

fn job_definition(print: Option<Value>) -> Value {
    let text = |en: &str, zh: &str| json!({"type": "string", "x-type": "text", "x-label": {"en": en, "zh-CN": zh}});
    let mut def = json!({"key": "job", "label": {"en": "Job", "zh-CN": "工单"}, "schema": {
        "type": "object", "required": ["title"], "properties": {
        "title": text("Title", "标题"),
        "priority": {"type": "string", "x-type": "select", "enum": ["urgent", "normal"],
                     "x-label": {"en": "Priority", "zh-CN": "紧急程度"},
                     "x-options": {"urgent": {"en": "Urgent", "zh-CN": "紧急"}, "normal": {"en": "Normal", "zh-CN": "普通"}}},
        "fee": {"type": "number", "x-type": "money", "minimum": 0, "x-currency": "CNY", "x-label": {"en": "Fee", "zh-CN": "费用"}},
        "done": {"type": "boolean", "x-type": "boolean", "x-label": {"en": "Done", "zh-CN": "完成"}},
        "worker": {"type": "string", "x-type": "member", "x-label": {"en": "Worker", "zh-CN": "人员"}},
        "site": {"type": "integer", "x-type": "reference", "x-ref": {"form": "site", "display": "name"},
                 "x-label": {"en": "Site", "zh-CN": "站点"}},
        "lines": {"type": "array", "x-type": "sub_table", "x-label": {"en": "Lines", "zh-CN": "明细"},
                  "items": {"type": "object", "properties": {
                      "item": text("Item", "物品"),
                      "qty": {"type": "integer", "x-type": "integer", "x-label": {"en": "Qty", "zh-CN": "数量"}}}}}}}});
    if let Some(p) = print {
        def["print"] = p;
    }
    def
}

async fn user(app: &TestApp, name: &str, roles: Value) -> Client {
    let pw = format!("{name}-password-1");
    let body = json!({"username": name, "display_name": format!("{name} (display)"), "password": pw, "roles": roles});
    expect(app.post("/admin/users", &body).await, StatusCode::CREATED).await;
    client_with(&token_for(&app.base, name, &pw, None).await)
}

async fn print(c: &Client, app: &TestApp, id: &Value, locale: &str) -> (StatusCode, String) {
    let r = c
        .get(app.url(&format!("/apps/shop/forms/job/records/{id}/print")))
        .query(&[("locale", locale)])
        .send()
        .await
        .unwrap();
    let s = r.status();
    if s == StatusCode::OK {
        assert_eq!(
            r.headers()["content-type"],
            "text/html; charset=utf-8",
            "a page"
        );
        let csp = r.headers()["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("default-src 'none'"), "{csp}");
    }
    (s, r.text().await.unwrap())
}

async fn printing(app: TestApp) {
    app.app("shop").await;
    app.publish_ok(
        "shop",
        "site",
        json!({"type": "object", "properties": {"name": {"type": "string", "x-type": "text"}}}),
    )
    .await;
    let r = app
        .post("/apps/shop/forms/job/publish", &job_definition(None))
        .await;
    expect(r, StatusCode::CREATED).await;
    let clerk_role = json!({"key": "clerk", "label": {"en": "Clerk"}, "permissions": {
        "job": {"actions": ["read", "print"], "rows": {"filter": {"!=": [{"var": "title"}, "secret"]}},
                "read": ["*"], "deny_read": ["fee"]},
        "site": {"actions": ["read"], "rows": {"filter": {"!=": [{"var": "name"}, "Hidden site"]}}, "read": ["*"]}}});
    let viewer_role = json!({"key": "viewer", "label": {"en": "Viewer"}, "permissions": {
        "job": {"actions": ["read"], "rows": "all", "read": ["*"]}}});
    for role in [clerk_role, viewer_role] {
        let key = role["key"].as_str().unwrap().to_owned();
        expect(
            app.put(&format!("/apps/shop/roles/{key}"), &role).await,
            StatusCode::OK,
        )
        .await;
    }
    let clerk = user(&app, "clerk", json!({"shop": ["clerk"]})).await;
    let viewer = user(&app, "viewer", json!({"shop": ["viewer"]})).await;
    let site = app
        .create_ok("shop", "site", json!({"name": "North depot"}))
        .await["id"]
        .clone();
    let hidden = app
        .create_ok("shop", "site", json!({"name": "Hidden site"}))
        .await["id"]
        .clone();
    let job = app
        .create_ok(
            "shop",
            "job",
            json!({"title": "Pump <b>overhaul</b>", "priority": "urgent", "fee": 12.5, "done": true,
                   "worker": "clerk", "site": site,
                   "lines": [{"item": "seal", "qty": 2}, {"item": "valve & cap", "qty": 1}]}),
        )
        .await["id"]
        .clone();

    // The administrator's default page: labels, option labels, money, people, the
    // referenced record's display field, the sub-table; markup in values escaped.
    let (s, en) = print(&app.client, &app, &job, "en").await;
    assert_eq!(s, StatusCode::OK, "{en}");
    for part in [
        "<h1>Job</h1>",
        "<th>Priority</th><td>Urgent</td>",
        "<th>Fee</th><td>12.50 CNY</td>",
        "<th>Done</th><td>Yes</td>",
        "<th>Worker</th><td>clerk (display)</td>",
        "<th>Site</th><td>North depot</td>",
        "<th>Item</th><th>Qty</th>",
        "<td>valve &amp; cap</td><td>1</td>",
        "Pump &lt;b&gt;overhaul&lt;/b&gt;",
    ] {
        assert!(en.contains(part), "{part} in {en}");
    }
    assert!(!en.contains("<b>overhaul"), "{en}");
    let (_, zh) = print(&app.client, &app, &job, "zh-CN").await;
    assert!(zh.contains("<th>紧急程度</th><td>紧急</td>"), "{zh}");
    assert!(zh.contains("<th>完成</th><td>是</td>"), "{zh}");

    // The clerk's page has no fee at all; a site out of their sight shows as its id.
    let (s, page) = print(&clerk, &app, &job, "en").await;
    assert_eq!(s, StatusCode::OK, "{page}");
    assert!(!page.contains("Fee") && !page.contains("12.5"), "{page}");
    assert!(page.contains("<th>Site</th><td>North depot</td>"), "{page}");
    expect(
        app.patch(
            &format!("/apps/shop/forms/job/records/{job}"),
            &json!({"data": {"site": hidden}}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let (_, page) = print(&clerk, &app, &job, "en").await;
    assert!(
        page.contains(&format!("<th>Site</th><td>#{hidden}</td>")),
        "{page}"
    );
    assert!(!page.contains("Hidden site"), "{page}");

    // Without the print action: 403 naming it; a record out of the clerk's rows: 404.
    let (s, body) = print(&viewer, &app, &job, "en").await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
    assert!(body.contains("print"), "{body}");
    let secret = app
        .create_ok("shop", "job", json!({"title": "secret"}))
        .await["id"]
        .clone();
    assert_eq!(
        print(&clerk, &app, &secret, "en").await.0,
        StatusCode::NOT_FOUND
    );
    let (s, body) = print(&app.client, &app, &job, "fr").await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");

    // A template per locale; values stay escaped and hidden fields print as nothing.
    let template = "<h2>{{form.label}} {{record.id}}</h2><p class=\"t\">{{data.title}}</p>\
        <p class=\"fee\">[{{display.fee}}]</p><ul>{{#each display.lines}}<li>{{this.item}} × {{this.qty}}</li>{{/each}}</ul>\
        <p>{{labels.priority}}: {{display.priority}}</p>";
    let r = app
        .post(
            "/apps/shop/forms/job/publish",
            &job_definition(Some(json!({"en": template}))),
        )
        .await;
    expect(r, StatusCode::CREATED).await;
    let (_, page) = print(&app.client, &app, &job, "en").await;
    for part in [
        format!("<h2>Job {job}</h2>").as_str(),
        "<p class=\"t\">Pump &lt;b&gt;overhaul&lt;/b&gt;</p>",
        "<p class=\"fee\">[12.50 CNY]</p>",
        "<li>valve &amp; cap × 1</li>",
        "<p>Priority: Urgent</p>",
    ] {
        assert!(page.contains(part), "{part} in {page}");
    }
    let (_, page) = print(&clerk, &app, &job, "en").await;
    assert!(page.contains("<p class=\"fee\">[]</p>"), "{page}");
    // No template for zh-CN: the default layout.
    let (_, page) = print(&app.client, &app, &job, "zh-CN").await;
    assert!(page.contains("<h1>工单</h1>"), "{page}");

    // Templates that could emit markup from a value, or do not compile, are refused.
    for (t, rule) in [
        ("<p>{{{data.title}}}</p>", "raw_html"),
        ("{{#each data.lines}}", "template"),
    ] {
        let r = app
            .post(
                "/apps/shop/forms/job/publish",
                &job_definition(Some(json!({"en": t}))),
            )
            .await;
        let body = expect(r, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(body["details"][0]["pointer"], "/print/en", "{body}");
        assert_eq!(body["details"][0]["rule"], rule, "{body}");
    }
}

on_both_stores!(records_print_as_the_caller_may_read_them, printing);
