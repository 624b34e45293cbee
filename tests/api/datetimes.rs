//! Date-times are stored in the app's time zone (docs/api.md, "Date-times"): a value
//! written with any offset is kept as the same instant with the zone's offset, so list
//! filters, sorts and report drills — which compare the stored text — compare instants;
//! filter literals are brought into the same form (in row rules and flow queries too);
//! `_created_at` compares in UTC.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, expect};
use crate::on_both_stores;

fn ids(list: &Value) -> Vec<i64> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect()
}

async fn filtered(app: &TestApp, app_key: &str, filter: Value, sort: &str) -> Vec<i64> {
    ids(&app
        .list(
            app_key,
            "visit",
            &[("filter", filter.to_string()), ("sort", sort.to_owned())],
        )
        .await)
}

async fn stored_in_the_apps_zone(app: TestApp) {
    // `app()` makes an app in Asia/Shanghai.
    app.app("ops").await;
    let schema = json!({"type": "object", "properties": {
        "at": {"type": "string", "x-type": "datetime", "x-label": {"en": "At"}},
        "stops": {"type": "array", "x-type": "sub_table", "x-label": {"en": "Stops"},
            "items": {"type": "object", "properties": {
                "when": {"type": "string", "x-type": "datetime", "x-label": {"en": "When"}}}}}}});
    app.publish_ok("ops", "visit", schema.clone()).await;
    let visit = |at: &'static str| {
        let app = &app;
        async move { app.create_ok("ops", "visit", json!({"at": at})).await }
    };
    // 02:00 UTC is 10:00 in Shanghai.
    let a = visit("2026-03-01T02:00:00Z").await;
    assert_eq!(a["data"]["at"], "2026-03-01T10:00:00+08:00", "{a}");
    let b = visit("2026-03-01T10:00:00.250+08:00").await;
    assert_eq!(b["data"]["at"], "2026-03-01T10:00:00.250+08:00", "{b}");
    let c = visit("2026-03-01T09:30:00+07:00").await; // 02:30 UTC
    let d = visit("2026-03-01T03:00:00+00:00").await; // 03:00 UTC
    let late = visit("2026-02-28T17:00:00Z").await; // 1 March, 01:00 in Shanghai
    let row = app
        .create_ok(
            "ops",
            "visit",
            json!({"stops": [{"when": "2026-03-01T00:00:00-05:00"}]}),
        )
        .await;
    assert_eq!(
        row["data"]["stops"][0]["when"], "2026-03-01T13:00:00+08:00",
        "{row}"
    );
    // What is read back is what is stored.
    let got = expect(
        app.get(&format!("/apps/ops/forms/visit/records/{}", a["id"]))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(got["data"]["at"], "2026-03-01T10:00:00+08:00");
    // A PATCH that leaves the date-time alone keeps it; one that sets it zones it.
    let patched = expect(
        app.patch(
            &format!("/apps/ops/forms/visit/records/{}", a["id"]),
            &json!({"data": {"at": "2026-03-01T02:00:00.5Z"}}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(patched["data"]["at"], "2026-03-01T10:00:00.500+08:00");

    let [a, b, c, d, late] = [&a, &b, &c, &d, &late].map(|v| v["id"].as_i64().unwrap());
    // Sorted by instant, whatever offset each was written with.
    assert_eq!(
        filtered(&app, "ops", json!({"!=": [{"var": "at"}, null]}), "at").await,
        vec![late, b, a, c, d]
    );
    // Literals with any offset compare as instants.
    assert_eq!(
        filtered(
            &app,
            "ops",
            json!({">=": [{"var": "at"}, "2026-03-01T02:00:00.400Z"]}),
            "at"
        )
        .await,
        vec![a, c, d]
    );
    assert_eq!(
        filtered(
            &app,
            "ops",
            json!({"==": [{"var": "at"}, "2026-03-01T04:30:00+02:00"]}),
            "at"
        )
        .await,
        vec![c]
    );
    assert_eq!(
        filtered(
            &app,
            "ops",
            json!({"in": [{"var": "at"}, ["2026-03-01T03:00:00Z", "2026-02-28T12:00:00-05:00"]]}),
            "at"
        )
        .await,
        vec![late, d]
    );
    // Between local midnights: 1 March in Shanghai, written in UTC the day before too.
    assert_eq!(
        filtered(
            &app,
            "ops",
            json!({"and": [
            {">=": [{"var": "at"}, "2026-02-28T16:00:00Z"]},
            {"<": [{"var": "at"}, "2026-03-01T16:00:00Z"]}]}),
            "at"
        )
        .await,
        vec![late, b, a, c, d]
    );
    // Inside a sub-table too.
    assert_eq!(
        filtered(
            &app,
            "ops",
            json!({"some": [{"var": "stops"}, {"==": [{"var": "when"}, "2026-03-01T05:00:00Z"]}]}),
            "_id"
        )
        .await,
        vec![row["id"].as_i64().unwrap()]
    );
    // System timestamps are UTC; a literal with an offset compares as its instant.
    let now = chrono::Utc::now().with_timezone(&chrono_tz::Asia::Shanghai);
    let text =
        |t: chrono::DateTime<chrono_tz::Tz>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, false);
    let all = filtered(
        &app,
        "ops",
        json!({">=": [{"var": "_created_at"}, text(now - chrono::Duration::hours(1))]}),
        "_id",
    )
    .await;
    assert_eq!(all.len(), 6);
    let none = filtered(
        &app,
        "ops",
        json!({">=": [{"var": "_created_at"}, text(now + chrono::Duration::hours(1))]}),
        "_id",
    )
    .await;
    assert_eq!(none, Vec::<i64>::new());

    // A report's month bucket drills by its range: the value written in UTC on the last
    // evening of February is March's in Shanghai, in the count and in the drill.
    let r = expect(
        app.post(
            "/apps/ops/report-preview",
            &json!({"definition": {"form": "visit", "dimensions": [{"field": "at", "bucket": "month"}],
                    "measures": [{"key": "n", "agg": "count"}]}}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let march = r["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["cells"]["at"] == "2026-03")
        .cloned()
        .unwrap_or_else(|| panic!("{r}"));
    assert_eq!(march["rows"], 5, "{r}");
    let drilled = app
        .list(
            "ops",
            "visit",
            &[
                ("filter", march["drill"].to_string()),
                ("total", "true".into()),
            ],
        )
        .await;
    assert_eq!(drilled["total"], 5, "{}", march["drill"]);

    // An app in UTC writes `+00:00`, never `Z` (`Z` would sort after `.500`): a value
    // with a fraction sorts after the same second without one.
    expect(
        app.put(
            "/apps/utc",
            &json!({"key": "utc", "label": {"en": "utc"}, "time_zone": "UTC"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    app.publish_ok("utc", "visit", schema).await;
    let u = app
        .create_ok("utc", "visit", json!({"at": "2026-03-01T10:00:00+08:00"}))
        .await;
    assert_eq!(u["data"]["at"], "2026-03-01T02:00:00+00:00", "{u}");
    let later = app
        .create_ok("utc", "visit", json!({"at": "2026-03-01T02:00:00.500Z"}))
        .await;
    assert_eq!(later["data"]["at"], "2026-03-01T02:00:00.500+00:00");
    assert_eq!(
        filtered(
            &app,
            "utc",
            json!({">": [{"var": "at"}, "2026-03-01T02:00:00Z"]}),
            "at"
        )
        .await,
        vec![later["id"].as_i64().unwrap()]
    );
    assert_eq!(
        filtered(&app, "utc", json!({"!=": [{"var": "at"}, null]}), "-at").await,
        vec![later["id"].as_i64().unwrap(), u["id"].as_i64().unwrap()]
    );
}

on_both_stores!(
    date_times_are_stored_in_the_apps_zone_and_compare_as_instants,
    stored_in_the_apps_zone
);
