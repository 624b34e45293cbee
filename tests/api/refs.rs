//! Filters through reference fields (`ref`, docs/api.md): orders whose device's product
//! has a given model. The referenced form is read under the caller's own rules: its
//! unreadable fields cannot be filtered on, a form they may not read is refused, and a
//! referenced record out of their row scope matches no `ref` (its negation holds). A role's
//! row rule may use `ref` too.

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::flows::user;
use crate::helpers::{TestApp, expect};
use crate::on_both_stores;

/// App `shop`: product {model, cost}, device {name, product → product}, order {title,
/// device → device}. Returns the order ids by title.
async fn shop(app: &TestApp) -> std::collections::HashMap<String, i64> {
    app.app("shop").await;
    let text = |l: &str| json!({"type": "string", "x-type": "text", "x-label": {"en": l}});
    let reference =
        |f: &str| json!({"type": "integer", "x-type": "reference", "x-ref": {"form": f}});
    app.publish_ok(
        "shop",
        "product",
        json!({"type": "object", "properties": {"model": text("Model"),
               "cost": {"type": "number", "x-type": "number"}}}),
    )
    .await;
    app.publish_ok(
        "shop",
        "device",
        json!({"type": "object", "properties": {"name": text("Name"), "product": reference("product")}}),
    )
    .await;
    app.publish_ok(
        "shop",
        "order",
        json!({"type": "object", "properties": {"title": text("Title"), "device": reference("device"),
            "lines": {"type": "array", "x-type": "sub_table", "items": {"type": "object", "properties": {
                "product": reference("product"), "qty": {"type": "integer", "x-type": "integer"}}}}}}),
    )
    .await;
    let mut products = std::collections::HashMap::new();
    for (model, cost) in [("X1", 10), ("X2", 20), ("Hidden", 30)] {
        let id = app
            .create_ok("shop", "product", json!({"model": model, "cost": cost}))
            .await["id"]
            .as_i64()
            .unwrap();
        products.insert(model, id);
    }
    // A product without a model, a device without a product.
    let blank = app.create_ok("shop", "product", json!({"cost": 1})).await["id"].clone();
    let mut devices = std::collections::HashMap::new();
    for (name, product) in [
        ("d-x1", json!(products["X1"])),
        ("d-x2", json!(products["X2"])),
        ("d-hidden", json!(products["Hidden"])),
        ("d-blank", blank),
        ("d-none", Value::Null),
    ] {
        let mut data = json!({"name": name});
        if !product.is_null() {
            data["product"] = product;
        }
        let id = app.create_ok("shop", "device", data).await["id"].clone();
        devices.insert(name, id);
    }
    let mut orders = std::collections::HashMap::new();
    for (title, device) in [
        ("o-x1-a", Some("d-x1")),
        ("o-x1-b", Some("d-x1")),
        ("o-x2", Some("d-x2")),
        ("o-hidden", Some("d-hidden")),
        ("o-blank", Some("d-blank")),
        ("o-no-product", Some("d-none")),
        ("o-no-device", None),
    ] {
        let mut data = json!({"title": title});
        // Lines of products, for `ref` inside `some`.
        match title {
            "o-x2" => {
                data["lines"] = json!([{"product": products["X2"], "qty": 1}, {"product": products["X1"], "qty": 2}])
            }
            "o-blank" => {
                data["lines"] = json!([{"product": products["Hidden"], "qty": 1}, {"qty": 3}])
            }
            _ => {}
        }
        if let Some(d) = device {
            data["device"] = devices[d].clone();
        }
        let id = app.create_ok("shop", "order", data).await["id"]
            .as_i64()
            .unwrap();
        orders.insert(title.to_owned(), id);
    }
    orders
}

/// The titles of the orders `c` lists with `filter` (sorted), and the total it gives.
async fn titles(c: &Client, app: &TestApp, filter: &Value) -> (Vec<String>, i64) {
    let r = c
        .get(app.url("/apps/shop/forms/order/records"))
        .query(&[
            ("filter", filter.to_string()),
            ("total", "true".into()),
            ("limit", "100".into()),
        ])
        .send()
        .await
        .unwrap();
    let body = expect(r, StatusCode::OK).await;
    let mut t: Vec<String> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["data"]["title"].as_str().unwrap().to_owned())
        .collect();
    t.sort();
    (t, body["total"].as_i64().unwrap())
}

async fn refused(c: &Client, app: &TestApp, filter: &Value) -> (StatusCode, Value) {
    let r = c
        .get(app.url("/apps/shop/forms/order/records"))
        .query(&[("filter", filter.to_string())])
        .send()
        .await
        .unwrap();
    (r.status(), r.json().await.unwrap_or(Value::Null))
}

fn model_is(m: Value) -> Value {
    json!({"ref": [{"var": "device"}, {"ref": [{"var": "product"}, {"==": [{"var": "model"}, m]}]}]})
}

async fn filters_through_references(app: TestApp) {
    shop(&app).await;
    let admin = app.client.clone();
    let (t, n) = titles(&admin, &app, &model_is(json!("X1"))).await;
    assert_eq!((t, n), (vec!["o-x1-a".to_owned(), "o-x1-b".to_owned()], 2));
    // In a list of values, and combined with the order's own fields.
    let either = json!({"and": [
        {"ref": [{"var": "device"}, {"ref": [{"var": "product"}, {"in": [{"var": "model"}, ["X2", "Hidden"]]}]}]},
        {"!=": [{"var": "title"}, "o-x2"]}]});
    assert_eq!(titles(&admin, &app, &either).await.0, vec!["o-hidden"]);
    // "No model": no device, no product, or a product without one.
    let no_model = json!({"!": {"ref": [{"var": "device"}, {"ref": [{"var": "product"}, {"!=": [{"var": "model"}, null]}]}]}});
    assert_eq!(
        titles(&admin, &app, &no_model).await.0,
        vec!["o-blank", "o-no-device", "o-no-product"]
    );
    // Inside `some`, a row's reference: the orders with a line of an X1.
    let line_of = |m: &str| json!({"some": [{"var": "lines"}, {"ref": [{"var": "product"}, {"==": [{"var": "model"}, m]}]}]});
    assert_eq!(
        titles(&admin, &app, &line_of("X1")).await,
        (vec!["o-x2".to_owned()], 1)
    );
    assert_eq!(
        titles(&admin, &app, &line_of("Hidden")).await.0,
        vec!["o-blank"]
    );
    // …and its row's own columns with it, in the same row.
    let one_x1 = json!({"some": [{"var": "lines"}, {"and": [
        {"ref": [{"var": "product"}, {"==": [{"var": "model"}, "X1"]}]},
        {"==": [{"var": "qty"}, 1]}]}]});
    assert_eq!(titles(&admin, &app, &one_x1).await.1, 0);
    // A line without a visible product: `!ref` inside `some`.
    let loose = json!({"some": [{"var": "lines"}, {"!": {"ref": [{"var": "product"}, {"!=": [{"var": "_id"}, null]}]}}]});
    assert_eq!(titles(&admin, &app, &loose).await.0, vec!["o-blank"]);
    // A cost range on the product.
    let cheap = json!({"ref": [{"var": "device"}, {"ref": [{"var": "product"}, {"<": [{"var": "cost"}, 25]}]}]});
    assert_eq!(
        titles(&admin, &app, &cheap).await.0,
        vec!["o-blank", "o-x1-a", "o-x1-b", "o-x2"]
    );

    // A clerk: every order and device; products but not their cost, and not the hidden model.
    let role = json!({"key": "clerks", "label": {"en": "Clerks"}, "permissions": {
        "order": {"actions": ["read"], "rows": "all", "read": ["*"]},
        "device": {"actions": ["read"], "rows": "all", "read": ["*"]},
        "product": {"actions": ["read"], "rows": {"filter": {"!=": [{"var": "model"}, "Hidden"]}},
                    "read": ["*"], "deny_read": ["cost"]}}});
    expect(
        app.put("/apps/shop/roles/clerks", &role).await,
        StatusCode::OK,
    )
    .await;
    let clerk = user(&app, "clerk").await;
    expect(
        app.put("/admin/users/clerk/roles", &json!({"shop": ["clerks"]}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(titles(&clerk, &app, &model_is(json!("X1"))).await.1, 2);
    // The hidden product is out of the clerk's sight: it matches no ref, and its order
    // counts among those without a model.
    assert_eq!(
        titles(&clerk, &app, &model_is(json!("Hidden"))).await,
        (vec![], 0)
    );
    assert_eq!(
        titles(&clerk, &app, &no_model).await.0,
        vec!["o-blank", "o-hidden", "o-no-device", "o-no-product"]
    );
    // The cost is not theirs to filter on: 403 naming the field, inside the ref.
    let (s, body) = refused(&clerk, &app, &cheap).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(
        body["details"][0]["pointer"], "/filter/ref/1/ref/1",
        "{body}"
    );
    assert!(body["message"].as_str().unwrap().contains("cost"), "{body}");
    // The same inside `some`; and a hidden product matches no line's ref for the clerk.
    let cheap_line = json!({"some": [{"var": "lines"}, {"ref": [{"var": "product"}, {"<": [{"var": "cost"}, 25]}]}]});
    let (s, body) = refused(&clerk, &app, &cheap_line).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(
        body["details"][0]["pointer"], "/filter/some/1/ref/1",
        "{body}"
    );
    assert_eq!(titles(&clerk, &app, &line_of("Hidden")).await, (vec![], 0));
    assert_eq!(titles(&clerk, &app, &loose).await.0, vec!["o-blank"]);

    // Without read on devices at all: the ref is refused, naming the form.
    let role = json!({"key": "orders_only", "label": {"en": "Orders only"}, "permissions": {
        "order": {"actions": ["read"], "rows": "all", "read": ["*"]}}});
    expect(
        app.put("/apps/shop/roles/orders_only", &role).await,
        StatusCode::OK,
    )
    .await;
    let other = user(&app, "other").await;
    expect(
        app.put(
            "/admin/users/other/roles",
            &json!({"shop": ["orders_only"]}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let (s, body) = refused(&other, &app, &model_is(json!("X1"))).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["details"][0]["rule"], "form_read", "{body}");
    assert_eq!(body["details"][0]["pointer"], "/filter/ref/1", "{body}");

    // Bad refs name the place and the rule.
    for (filter, pointer) in [
        (
            json!({"ref": [{"var": "title"}, {"==": [{"var": "x"}, 1]}]}),
            "/filter/ref/0",
        ),
        (json!({"ref": [{"var": "device"}, "X1"]}), "/filter/ref/1"),
        (
            json!({"ref": [{"var": "device"}, {"==": [{"var": "nope"}, 1]}]}),
            "/filter/ref/1/==/0",
        ),
        (json!({"ref": [{"var": "device"}]}), "/filter/ref"),
        // Inside `some`, names are the row's: the order's device is not one of them.
        (
            json!({"some": [{"var": "lines"}, {"ref": [{"var": "device"}, {"==": [{"var": "name"}, 1]}]}]}),
            "/filter/some/1/ref/0",
        ),
    ] {
        let (s, body) = refused(&admin, &app, &filter).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{filter}: {body}");
        assert_eq!(body["details"][0]["pointer"], pointer, "{filter}: {body}");
    }
}

/// A row rule may select records by the records they refer to: a fitter reaches the
/// orders of the product models named in their user attributes, through two references,
/// without any right on devices or products (the rule is the administrator's; the fitter
/// learns no field of them).
async fn row_rules_through_references(app: TestApp) {
    let orders = shop(&app).await;
    let rule = json!({"ref": [{"var": "device"}, {"ref": [{"var": "product"},
        {"in": [{"var": "model"}, {"var": "$user.attributes.models"}]}]}]});
    let role = json!({"key": "fitters", "label": {"en": "Fitters"}, "permissions": {
        "order": {"actions": ["read", "update"], "rows": {"filter": rule}, "read": ["*"], "write": ["title"]}}});
    expect(
        app.put("/apps/shop/roles/fitters", &role).await,
        StatusCode::OK,
    )
    .await;
    let fitter = user(&app, "fitter").await;
    expect(
        app.put("/admin/users/fitter/roles", &json!({"shop": ["fitters"]}))
            .await,
        StatusCode::OK,
    )
    .await;
    let set_models = |models: Value| {
        let app = &app;
        async move {
            expect(
                app.patch(
                    "/admin/users/fitter",
                    &json!({"attributes": {"models": models}}),
                )
                .await,
                StatusCode::OK,
            )
            .await;
        }
    };
    set_models(json!(["X2", "Hidden"])).await;
    let all = json!({"!=": [{"var": "title"}, null]});
    assert_eq!(
        titles(&fitter, &app, &all).await,
        (vec!["o-hidden".to_owned(), "o-x2".to_owned()], 2)
    );
    // One order in reach, one out of it: read and write follow the rule.
    let path = |t: &str| format!("/apps/shop/forms/order/records/{}", orders[t]);
    let r = fitter.get(app.url(&path("o-x2"))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = fitter.get(app.url(&path("o-x1-a"))).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r = fitter
        .patch(app.url(&path("o-x1-a")))
        .json(&json!({"data": {"title": "mine now"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // A write in reach goes through.
    let r = fitter
        .patch(app.url(&path("o-x2")))
        .json(&json!({"data": {"title": "renamed"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // Other attributes, other rows, on the next request.
    set_models(json!(["X1"])).await;
    assert_eq!(
        titles(&fitter, &app, &all).await,
        (vec!["o-x1-a".to_owned(), "o-x1-b".to_owned()], 2)
    );
    // Without the attribute: no rows (an empty list), not an error.
    expect(
        app.patch("/admin/users/fitter", &json!({"attributes": {}}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(titles(&fitter, &app, &all).await, (vec![], 0));
    // A rule's ref is checked against the form it refers to, with pointers into the role.
    let bad = json!({"key": "bad", "label": {"en": "Bad"}, "permissions": {
        "order": {"actions": ["read"], "rows": {"filter":
            {"ref": [{"var": "device"}, {"ref": [{"var": "product"}, {"==": [{"var": "nope"}, 1]}]}]}},
            "read": ["*"]}}});
    let r = app.put("/apps/shop/roles/bad", &bad).await;
    let body = expect(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(
        body["details"][0]["pointer"], "/permissions/order/rows/filter/ref/1/ref/1/==/0",
        "{body}"
    );
}

on_both_stores!(
    list_filters_go_through_references_under_the_callers_rules,
    filters_through_references
);

on_both_stores!(
    row_rules_select_records_by_the_records_they_refer_to,
    row_rules_through_references
);
