//! Reports over a sub-table's rows (`"rows": "lines"`, docs/reports.md): each row counts
//! with its record's fields, its reference columns join like reference fields, the caller's
//! row scope is the records', a column the caller may not read is withheld or refused, and
//! the next run after a write counts the record's new rows — on SQLite and PostgreSQL.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, expect};
use crate::on_both_stores;

/// `{dimension value: [measures…]}` of a run, in row order.
fn table(out: &Value, dim: &str, measures: &[&str]) -> Vec<(Value, Vec<Value>)> {
    out["rows"]
        .as_array()
        .unwrap_or_else(|| panic!("rows: {out}"))
        .iter()
        .map(|r| {
            let cells = &r["cells"];
            (
                cells[dim].clone(),
                measures.iter().map(|m| cells[*m].clone()).collect(),
            )
        })
        .collect()
}

async fn rows_of_sub_tables(app: TestApp) {
    app.app("shop").await;
    app.publish_ok(
        "shop",
        "part",
        json!({"type": "object", "properties": {"name": {"type": "string", "x-type": "text"}}}),
    )
    .await;
    app.publish_ok(
        "shop",
        "order",
        json!({"type": "object", "properties": {
            "title": {"type": "string", "x-type": "text"},
            "on": {"type": "string", "x-type": "date"},
            "lines": {"type": "array", "x-type": "sub_table", "items": {"type": "object", "properties": {
                "part": {"type": "integer", "x-type": "reference", "x-ref": {"form": "part"}},
                "qty": {"type": "integer", "x-type": "integer"},
                "cost": {"type": "number", "x-type": "money"}
            }}}
        }}),
    )
    .await;
    let a = app.create_ok("shop", "part", json!({"name": "fan"})).await["id"].clone();
    let b = app.create_ok("shop", "part", json!({"name": "pump"})).await["id"].clone();
    let o1 = app
        .create_ok(
            "shop",
            "order",
            json!({"title": "o1", "on": "2026-01-10", "lines": [
            {"part": a, "qty": 2, "cost": 1.5}, {"part": b, "qty": 1, "cost": 4.0}]}),
        )
        .await["id"]
        .clone();
    let o2 = app
        .create_ok(
            "shop",
            "order",
            json!({"title": "o2", "on": "2026-02-03", "lines": [
            {"part": a, "qty": 5, "cost": 1.0}]}),
        )
        .await["id"]
        .clone();
    app.create_ok(
        "shop",
        "order",
        json!({"title": "empty", "on": "2026-02-04", "lines": []}),
    )
    .await;

    let by_part = json!({"label": {"en": "Parts"}, "form": "order", "rows": "lines",
        "dimensions": [{"key": "part", "field": "lines.part.name"}],
        "measures": [
            {"key": "qty", "agg": "sum", "field": "lines.qty"},
            {"key": "n", "agg": "count"},
            {"key": "orders", "agg": "count_distinct", "field": "_record"},
            {"key": "cost", "agg": "sum", "field": "lines.cost"}]});
    let preview = |def: Value| {
        let app = &app;
        async move {
            expect(
                app.post("/apps/shop/report-preview", &json!({"definition": def}))
                    .await,
                StatusCode::OK,
            )
            .await
        }
    };
    let cols = ["qty", "n", "orders", "cost"];
    assert_eq!(
        table(&preview(by_part.clone()).await, "part", &cols),
        vec![
            (
                json!("fan"),
                vec![json!(7.0), json!(2), json!(2), json!(2.5)]
            ),
            (
                json!("pump"),
                vec![json!(1.0), json!(1), json!(1), json!(4.0)]
            ),
        ]
    );
    // The record's fields group the rows: by month of the order.
    let by_month = json!({"label": {"en": "Months"}, "form": "order", "rows": "lines",
        "dimensions": [{"key": "month", "field": "on", "bucket": "month"}],
        "measures": [{"key": "qty", "agg": "sum", "field": "lines.qty"}]});
    assert_eq!(
        table(&preview(by_month.clone()).await, "month", &["qty"]),
        vec![
            (json!("2026-01"), vec![json!(3.0)]),
            (json!("2026-02"), vec![json!(5.0)]),
        ]
    );

    // A write is counted by the next run: o1 keeps one line, o2 goes.
    expect(
        app.patch(
            &format!("/apps/shop/forms/order/records/{o1}"),
            &json!({"data": {"lines": [{"part": a, "qty": 1, "cost": 3.0}]}}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        table(&preview(by_part.clone()).await, "part", &cols),
        vec![(
            json!("fan"),
            vec![json!(6.0), json!(2), json!(2), json!(4.0)]
        )]
    );
    expect(
        app.delete(&format!("/apps/shop/forms/order/records/{o2}"))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        table(&preview(by_part.clone()).await, "part", &cols),
        vec![(
            json!("fan"),
            vec![json!(1.0), json!(1), json!(1), json!(3.0)]
        )]
    );

    // Definitions that do not hold name the place.
    let mut bad = by_part.clone();
    bad["rows"] = json!("nope");
    let r = expect(
        app.post("/apps/shop/report-preview", &json!({"definition": bad}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(r["details"][0]["pointer"], "/definition/rows", "{r}");
    let mut bad = by_part.clone();
    bad.as_object_mut().unwrap().remove("rows");
    let r = expect(
        app.post("/apps/shop/report-preview", &json!({"definition": bad}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(r.to_string().contains("\\\"rows\\\""), "{r}");

    // A clerk reads the orders their row rule reaches, without the lines' cost.
    for (key, role) in [(
        "clerk",
        json!({"key": "clerk", "label": {"en": "clerk"}, "permissions": {
            "order": {"actions": ["read", "create", "update"], "rows": {"filter": {"==": [{"var": "title"}, "mine"]}}, "read": ["*"], "deny_read": ["lines.cost"]},
            "part": {"actions": ["read"], "rows": "all", "read": ["*"]}}}),
    )] {
        expect(
            app.put(&format!("/apps/shop/roles/{key}"), &role).await,
            StatusCode::OK,
        )
        .await;
    }
    let body = json!({"username": "c1", "display_name": "c1", "password": "c1-password-long", "roles": {"shop": ["clerk"]}});
    expect(app.post("/admin/users", &body).await, StatusCode::CREATED).await;
    let c1 = crate::helpers::client_with(
        &crate::helpers::token_for(&app.base, "c1", "c1-password-long", None).await,
    );
    app.create_ok(
        "shop",
        "order",
        json!({"title": "mine", "on": "2026-03-01", "lines": [
        {"part": b, "qty": 3, "cost": 9.25}]}),
    )
    .await;
    expect(
        app.put("/apps/shop/reports/by_part", &by_part).await,
        StatusCode::OK,
    )
    .await;
    let run = |c: &reqwest::Client, key: &str| {
        c.post(app.url(&format!("/apps/shop/reports/{key}/run")))
            .json(&json!({}))
            .send()
    };
    let mine = expect(run(&c1, "by_part").await.unwrap(), StatusCode::OK).await;
    assert_eq!(
        table(&mine, "part", &["qty", "n", "orders"]),
        vec![(json!("pump"), vec![json!(3.0), json!(1), json!(1)])],
        "only the rows of the clerk's order: {mine}"
    );
    assert!(mine["rows"][0]["cells"].get("cost").is_none(), "{mine}");
    assert!(!mine.to_string().contains("9.25"), "{mine}");
    assert_eq!(mine["withheld"][0]["key"], "cost", "{mine}");
    assert_eq!(mine["withheld"][0]["field"], "lines.cost", "{mine}");
    // Grouping by the hidden column is refused, naming it.
    let by_cost = json!({"label": {"en": "Cost"}, "form": "order", "rows": "lines",
        "dimensions": [{"key": "cost", "field": "lines.cost"}],
        "measures": [{"key": "n", "agg": "count"}]});
    expect(
        app.put("/apps/shop/reports/by_cost", &by_cost).await,
        StatusCode::OK,
    )
    .await;
    let refused = expect(run(&c1, "by_cost").await.unwrap(), StatusCode::FORBIDDEN).await;
    assert!(refused.to_string().contains("lines.cost"), "{refused}");
    // The administrator counts every order's rows.
    let all = expect(run(&app.client, "by_part").await.unwrap(), StatusCode::OK).await;
    assert_eq!(
        table(&all, "part", &["qty", "n"]),
        vec![
            (json!("fan"), vec![json!(1.0), json!(1)]),
            (json!("pump"), vec![json!(3.0), json!(1)]),
        ]
    );
    // Rows grouped through their reference drill with `ref` inside `some`: the orders
    // with a row whose part is the group's, for the administrator and for the clerk.
    drills_list_the_records(&app, &app.client, &all).await;
    drills_list_the_records(&app, &c1, &mine).await;
    // A row's own columns drill too: the drill lists the records with a row in the group,
    // as many as `records` says (a record with two such rows counts once).
    app.create_ok(
        "shop",
        "order",
        json!({"title": "twice", "on": "2026-01-20", "lines": [
        {"part": a, "qty": 2}, {"part": a, "qty": 3}, {"part": b, "qty": 1}]}),
    )
    .await;
    let by_part_id = json!({"label": {"en": "Parts"}, "form": "order", "rows": "lines",
        "filter": {"!=": [{"var": "title"}, "empty"]},
        "dimensions": [{"key": "part", "field": "lines.part"}, {"key": "month", "field": "on", "bucket": "month"}],
        "measures": [{"key": "n", "agg": "count"}]});
    let out = preview(by_part_id).await;
    let got: Vec<(Value, Value, i64, i64)> = out["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["cells"]["part"].clone(),
                r["cells"]["month"].clone(),
                r["rows"].as_i64().unwrap(),
                r["records"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (a.clone(), json!("2026-01"), 3, 2),
            (b.clone(), json!("2026-01"), 1, 1),
            (b.clone(), json!("2026-03"), 1, 1),
        ],
        "{out}"
    );
    drills_list_the_records(&app, &app.client, &out).await;
    // The top part by name, and the others gathered: the others drill lists the orders
    // with a row of another part, or of none.
    app.create_ok(
        "shop",
        "order",
        json!({"title": "loose", "on": "2026-01-21", "lines": [{"qty": 4}]}),
    )
    .await;
    let top = json!({"label": {"en": "Top part"}, "form": "order", "rows": "lines",
        "dimensions": [{"key": "part", "field": "lines.part.name"}],
        "measures": [{"key": "qty", "agg": "sum", "field": "lines.qty"}],
        "sort": [{"by": "qty", "desc": true}], "limit": 1, "others": true});
    let out = preview(top).await;
    let others: Vec<&Value> = out["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["others"] == true)
        .collect();
    assert_eq!(others.len(), 1, "{out}");
    // fan leads (o1: 1, twice: 2 + 3); the others are pump's rows (mine, twice) and the
    // loose row of no part: three orders.
    assert_eq!(others[0]["records"], 3, "{out}");
    drills_list_the_records(&app, &app.client, &out).await;
}

/// Every row of a rows report drills, and its drill lists exactly the records its rows
/// belong to, as `client` sees them.
async fn drills_list_the_records(app: &TestApp, client: &reqwest::Client, out: &Value) {
    let rows = out["rows"].as_array().unwrap();
    assert!(!rows.is_empty(), "{out}");
    for r in rows {
        let drill = r.get("drill").unwrap_or_else(|| panic!("a drill: {r}"));
        let listed = expect(
            client
                .get(app.url("/apps/shop/forms/order/records"))
                .query(&[("filter", drill.to_string()), ("total", "true".into())])
                .send()
                .await
                .unwrap(),
            StatusCode::OK,
        )
        .await;
        assert_eq!(listed["total"], r["records"], "{drill} lists {listed}");
    }
}

on_both_stores!(reports_count_the_rows_of_sub_tables, rows_of_sub_tables);
