//! Saved list views: a list's filter, sort, columns and page size under a name, checked
//! like the list request they stand for, under the same field rules; shared views only
//! from administrators, and listed only to those who may read every field they name.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::crm::{self, get, send};
use crate::helpers::TestApp;
use crate::on_both_stores;
use crate::permissions::setup;

const VIEWS: &str = "/apps/crm/forms/service_order/views";

fn names(list: &Value) -> Vec<String> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap().to_owned())
        .collect()
}

async fn views_hold_the_list_rules(app: TestApp) {
    setup(&app).await;
    let eng = crm::user(&app, "engineer1", &["engineer"], Some("svc_east")).await;
    let eng2 = crm::user(&app, "engineer2", &["engineer"], Some("svc_west")).await;
    let spec = json!({"filter": {"==": [{"var": "priority"}, "urgent"]}, "sort": "-reported_at,priority",
                      "columns": ["serial", "priority", "_created_at"], "page_size": 20});
    let (s, v) = send(
        &eng,
        &app,
        Method::POST,
        VIEWS,
        &json!({"name": "Urgent first", "spec": spec}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(
        (v["owner"].as_str(), v["shared"].as_bool()),
        (Some("engineer1"), Some(false))
    );
    assert_eq!(v["spec"], spec);
    let mine = format!("{VIEWS}/{}", v["id"]);
    // The view is a list request the engineer could make: the list answers it.
    let (s, page) = get(&eng, &app, "/apps/crm/forms/service_order/records?filter=%7B%22%3D%3D%22%3A%5B%7B%22var%22%3A%22priority%22%7D%2C%22urgent%22%5D%7D&sort=-reported_at,priority&limit=20").await;
    assert_eq!(s, StatusCode::OK, "{page}");

    // Refusals point into the body.
    let refused = [
        (
            json!({"name": "Urgent first", "spec": {}}),
            StatusCode::CONFLICT,
            "/name",
            "unique",
        ),
        (
            json!({"name": " ", "spec": {}}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "/name",
            "required",
        ),
        (
            json!({"name": "x", "spec": {"filter": {">": [{"var": "service_fee"}, 1000]}}}),
            StatusCode::FORBIDDEN,
            "/spec/filter",
            "field_read",
        ),
        (
            json!({"name": "x", "spec": {"sort": "-service_fee"}}),
            StatusCode::FORBIDDEN,
            "/spec/sort",
            "field_read",
        ),
        (
            json!({"name": "x", "spec": {"columns": ["serial", "service_fee"]}}),
            StatusCode::FORBIDDEN,
            "/spec/columns/1",
            "field_read",
        ),
        (
            json!({"name": "x", "spec": {"columns": ["nope"]}}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "/spec/columns/0",
            "field",
        ),
        (
            json!({"name": "x", "spec": {"filter": {"frobnicate": 1}}}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "/spec/filter",
            "operator",
        ),
        (
            json!({"name": "x", "spec": {"page_size": 0}}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "/spec/page_size",
            "range",
        ),
        (
            json!({"name": "x", "spec": {"limit": 5}}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "/spec/limit",
            "unknown_property",
        ),
        (
            json!({"name": "x", "shared": true, "spec": {}}),
            StatusCode::FORBIDDEN,
            "/shared",
            "shared",
        ),
    ];
    for (body, status, pointer, rule) in refused {
        let (s, e) = send(&eng, &app, Method::POST, VIEWS, &body).await;
        assert_eq!(s, status, "{body} → {e}");
        assert!(
            e["details"][0]["pointer"]
                .as_str()
                .unwrap()
                .starts_with(pointer)
                && e["details"][0]["rule"] == rule,
            "{body} → {e}"
        );
    }

    // Shared views: from administrators; listed only to who may read all they name.
    let (s, fees) = send(&app.client, &app, Method::POST, VIEWS,
        &json!({"name": "Big fees", "shared": true, "spec": {"filter": {">": [{"var": "service_fee"}, 5000]}}})).await;
    assert_eq!(s, StatusCode::CREATED, "{fees}");
    let (s, open) = send(&app.client, &app, Method::POST, VIEWS,
        &json!({"name": "Open orders", "shared": true, "spec": {"filter": {"!=": [{"var": "status"}, "closed"]}}})).await;
    assert_eq!(s, StatusCode::CREATED, "{open}");
    let (_, list) = get(&eng, &app, VIEWS).await;
    assert_eq!(names(&list), ["Open orders", "Urgent first"]);
    assert!(!list.to_string().contains("service_fee"), "{list}");
    let (_, list) = get(&app.client, &app, VIEWS).await;
    assert_eq!(
        names(&list),
        ["Big fees", "Open orders"],
        "an administrator sees shared views, not others' own"
    );
    let (_, list) = get(&eng2, &app, VIEWS).await;
    assert_eq!(names(&list), ["Open orders"]);

    // Changing: one's own views; shared ones only as an administrator.
    let shared = format!("{VIEWS}/{}", open["id"]);
    let (s, _) = send(
        &eng,
        &app,
        Method::PUT,
        &shared,
        &json!({"name": "Mine now", "spec": {}}),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = send(&eng, &app, Method::DELETE, &shared, &json!(null)).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = send(
        &eng2,
        &app,
        Method::PUT,
        &mine,
        &json!({"name": "Taken over", "spec": {}}),
    )
    .await;
    assert_eq!(
        s,
        StatusCode::NOT_FOUND,
        "someone else's own view is not there for them"
    );
    let (s, v) = send(
        &eng,
        &app,
        Method::PUT,
        &mine,
        &json!({"name": "Urgent, newest first", "spec": {"sort": "-reported_at"}}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["spec"], json!({"sort": "-reported_at"}));
    let (s, _) = send(&eng, &app, Method::DELETE, &mine, &json!(null)).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, list) = get(&eng, &app, VIEWS).await;
    assert_eq!(names(&list), ["Open orders"]);

    // Every change is in the operation log.
    for action in ["view.create", "view.update", "view.delete"] {
        let (_, log) = get(&app.client, &app, &format!("/audit?action={action}")).await;
        assert!(
            !log["items"].as_array().unwrap().is_empty(),
            "{action}: {log}"
        );
    }
    // A form the caller may not read has no views for them.
    let nobody = crm::user(&app, "nobody", &[], None).await;
    let (s, _) = get(&nobody, &app, VIEWS).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

on_both_stores!(saved_views_follow_the_list_rules, views_hold_the_list_rules);
