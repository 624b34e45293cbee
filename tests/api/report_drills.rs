//! Drills of rows no list filter describes (docs/reports.md, "Running a report"): a row
//! grouped by a plain date-time, every row of a report whose filter goes through a join,
//! and the gathered rest of bucketed top values drill by the ids of their records — exactly
//! the records behind the row, listed by the list API under the caller's permissions — up
//! to 1,000 ids a row; a bigger row has no drill.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, expect};
use crate::on_both_stores;

async fn preview(app: &TestApp, def: Value) -> Value {
    expect(
        app.post("/apps/ops/report-preview", &json!({"definition": def}))
            .await,
        StatusCode::OK,
    )
    .await
}

/// The total the list API gives for a drill.
async fn listed(app: &TestApp, drill: &Value) -> Value {
    expect(
        app.client
            .get(app.url("/apps/ops/forms/visit/records"))
            .query(&[("filter", drill.to_string()), ("total", "true".into())])
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await["total"]
        .clone()
}

fn ids_of(drill: &Value) -> Vec<i64> {
    assert_eq!(drill["in"][0], json!({"var": "_id"}), "{drill}");
    drill["in"][1]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect()
}

async fn rows_no_filter_describes_drill_by_ids(app: TestApp) {
    app.app("ops").await;
    app.publish_ok(
        "ops",
        "site",
        json!({"type": "object", "properties": {
            "region": {"type": "string", "x-type": "text", "x-label": {"en": "Region"}}}}),
    )
    .await;
    app.publish_ok(
        "ops",
        "visit",
        json!({"type": "object", "properties": {
            "at": {"type": "string", "x-type": "datetime", "x-label": {"en": "At"}},
            "site": {"type": "integer", "x-type": "reference", "x-ref": {"form": "site", "display": "region"}, "x-label": {"en": "Site"}},
            "n": {"type": "integer", "x-type": "integer", "x-label": {"en": "N"}}}}),
    )
    .await;
    let east = app
        .create_ok("ops", "site", json!({"region": "east"}))
        .await["id"]
        .clone();
    let west = app
        .create_ok("ops", "site", json!({"region": "west"}))
        .await["id"]
        .clone();
    // One instant written with two offsets, and another instant.
    let visit = |at: &'static str, site: &Value, n: i64| {
        let (app, site) = (&app, site.clone());
        async move {
            app.create_ok("ops", "visit", json!({"at": at, "site": site, "n": n}))
                .await["id"]
                .as_i64()
                .unwrap()
        }
    };
    let v1 = visit("2026-03-01T10:00:00+08:00", &east, 1).await;
    let v2 = visit("2026-03-01T02:00:00Z", &west, 2).await;
    let v3 = visit("2026-03-02T09:30:00.250+08:00", &east, 3).await;

    // Grouped by the plain date-time: the two spellings are one instant, one row; its
    // drill lists both records (a text comparison would have found one).
    let r = preview(
        &app,
        json!({"form": "visit", "dimensions": [{"field": "at"}],
               "measures": [{"key": "visits", "agg": "count"}]}),
    )
    .await;
    let rows = r["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{r}");
    assert_eq!(rows[0]["cells"]["at"], "2026-03-01T02:00:00Z", "{r}");
    assert_eq!(ids_of(&rows[0]["drill"]), vec![v1, v2], "{r}");
    assert_eq!(listed(&app, &rows[0]["drill"]).await, 2);
    // Milliseconds are kept, in the cell and in the group.
    assert_eq!(rows[1]["cells"]["at"], "2026-03-02T01:30:00.250Z", "{r}");
    assert_eq!(ids_of(&rows[1]["drill"]), vec![v3], "{r}");

    // A filter through a join (the site's region): the list API cannot say it of a visit,
    // so every row drills by ids — and lists only the east visits.
    let r = preview(
        &app,
        json!({"form": "visit", "filter": {"==": [{"var": "site.region"}, "east"]},
               "dimensions": [{"field": "n"}],
               "measures": [{"key": "visits", "agg": "count"}]}),
    )
    .await;
    let drilled: Vec<Vec<i64>> = r["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| ids_of(&row["drill"]))
        .collect();
    assert_eq!(drilled, vec![vec![v1], vec![v3]], "{r}");

    // No dimensions, the same join filter: one row, whose drill lists both east visits.
    let r = preview(
        &app,
        json!({"form": "visit", "filter": {"==": [{"var": "site.region"}, "east"]},
               "dimensions": [], "measures": [{"key": "visits", "agg": "count"}]}),
    )
    .await;
    assert_eq!(r["rows"].as_array().unwrap().len(), 1, "{r}");
    assert_eq!(r["rows"][0]["cells"]["visits"], 2, "{r}");
    assert_eq!(ids_of(&r["rows"][0]["drill"]), vec![v1, v3], "{r}");

    // The gathered rest of the top day: the other day's visit.
    let r = preview(
        &app,
        json!({"form": "visit", "dimensions": [{"field": "at", "bucket": "day"}],
               "measures": [{"key": "visits", "agg": "count"}],
               "limit": 1, "others": true}),
    )
    .await;
    let rest = r["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["others"] == true)
        .cloned()
        .unwrap_or_else(|| panic!("no others row: {r}"));
    assert_eq!(ids_of(&rest["drill"]), vec![v3], "{r}");

    // Beyond 1,000 records a row has no drill (its count stays); smaller rows keep theirs.
    for chunk in 0..2 {
        let items: Vec<Value> = (0..500 + chunk)
            .map(|_| json!({"data": {"at": "2026-04-01T00:00:00Z", "site": west, "n": 9}}))
            .collect();
        expect(
            app.post(
                "/apps/ops/forms/visit/records/bulk",
                &json!({"items": items}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
    }
    let r = preview(
        &app,
        json!({"form": "visit", "dimensions": [{"field": "at"}],
               "measures": [{"key": "visits", "agg": "count"}]}),
    )
    .await;
    let big = r["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["cells"]["at"] == "2026-04-01T00:00:00Z")
        .cloned()
        .unwrap();
    assert_eq!(big["rows"], 1001, "{r}");
    assert!(big.get("drill").is_none(), "{big}");
    assert!(
        r["rows"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|row| row != &&big)
            .all(|row| row.get("drill").is_some()),
        "{r}"
    );
}

on_both_stores!(
    rows_no_filter_describes_drill_by_the_ids_of_their_records,
    rows_no_filter_describes_drill_by_ids
);
