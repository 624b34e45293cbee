//! The CRM's operational reports (docs/reports.md) over records this test writes, each
//! value worked out here from those records: formulas over measures (service cost is parts
//! plus labour, margin is fees minus cost, withheld with the fee they read), a duration
//! dimension (a device's age when it failed, counted in local days), coded fault causes,
//! "today" and "this week" on the server's clock, qualification bands of 30/60/90 days, and
//! the share of orders answered within two hours.

use chrono::{Datelike, Duration, NaiveDate, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

use crate::crm::{self, FEE_1, FEE_2};
use crate::helpers::{TestApp, expect};
use crate::on_both_stores;
use crate::reports::crm_app;

pub(crate) async fn run(app: &TestApp, key: &str) -> Value {
    expect(
        app.post(&format!("/apps/crm/reports/{key}/run"), &json!({}))
            .await,
        StatusCode::OK,
    )
    .await
}

/// The rows of a run by the value of one dimension (as JSON text).
fn by(r: &Value, dim: &str) -> BTreeMap<String, Value> {
    r["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| (row["cells"][dim].to_string(), row.clone()))
        .collect()
}

fn close(v: &Value, want: f64) -> bool {
    v.as_f64().is_some_and(|x| (x - want).abs() < 1e-6)
}

async fn patch(app: &TestApp, form: &str, id: i64, data: Value) {
    expect(
        app.patch(
            &format!("/apps/crm/forms/{form}/records/{id}"),
            &json!({ "data": data }),
        )
        .await,
        StatusCode::OK,
    )
    .await;
}

pub(crate) async fn create(app: &TestApp, form: &str, data: Value) -> i64 {
    app.create_ok("crm", form, data).await["id"]
        .as_i64()
        .unwrap()
}

/// The app's date (Asia/Shanghai) and a local time on it, as the server's clock sees them.
fn today() -> NaiveDate {
    Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive()
}

async fn operational_reports(app: TestApp) {
    let d = crm_app(&app).await;
    let now = Utc::now();
    let at = |t: chrono::DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);

    // Service cost per customer: order 1 used 2 × 777.25 of parts and 2.5 h; order 2 no
    // parts and 4 h. Labour is costed at 300 an hour.
    patch(&app, "service_order", d.order_e1, json!({"labour_hours": 2.5, "reported_at": "2026-06-15T10:00:00+08:00", "accepted_at": "2026-06-15T11:00:00+08:00", "cause_category": "wear"})).await;
    patch(&app, "service_order", d.order_e2, json!({"labour_hours": 4, "reported_at": at(now - Duration::days(1)), "accepted_at": at(now - Duration::days(1) + Duration::hours(3)), "cause_category": "software"})).await;
    let r = run(&app, "service_cost_by_customer").await;
    let rows = by(&r, "customer");
    let a = &rows[&d.customer_a.to_string()]["cells"];
    let cost_a = 2.0 * 777.25 + 2.5 * 300.0;
    assert!(close(&a["labour_cost"], 750.0), "{a}");
    assert!(close(&a["total_cost"], cost_a), "{a}");
    assert!(close(&a["margin"], FEE_1 - cost_a), "{a}");
    assert!(close(&a["cost_to_fees"], cost_a / FEE_1), "{a}");
    let b = &rows[&d.customer_b.to_string()]["cells"];
    assert!(close(&b["total_cost"], 1200.0), "{b}");
    assert!(close(&b["margin"], FEE_2 - 1200.0), "{b}");
    assert_eq!(r["withheld"], json!([]), "{r}");

    // An engineer sees the costs of their own orders, and nothing computed from the fee.
    let eng = crm::user(&app, "engineer1", &["engineer"], Some("svc_east")).await;
    let (s, r) = crm::send(
        &eng,
        &app,
        Method::POST,
        "/apps/crm/reports/service_cost_by_customer/run",
        &json!({}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    let withheld: BTreeSet<&str> = r["withheld"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        withheld,
        BTreeSet::from(["service_fees", "margin", "cost_to_fees", "fees_per_order"]),
        "{r}"
    );
    let margin = r["withheld"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["key"] == "margin")
        .unwrap();
    assert_eq!(margin["expr"], json!(["service_fees", "total_cost"]), "{r}");
    assert_eq!(r["rows"].as_array().unwrap().len(), 1, "{r}");
    assert!(close(&r["rows"][0]["cells"]["total_cost"], cost_a), "{r}");
    for secret in [FEE_1, FEE_1 - cost_a] {
        assert!(
            !r.to_string().contains(&format!("{secret}")),
            "{secret} in {r}"
        );
    }

    // Age at failure: the device of order 1 was made on 2024-03-01 and failed on
    // 2026-06-15 (836 days: 2.29 years). A third repair at 04:00 on 2026-01-10 in
    // Shanghai (20:00 UTC the day before) of a device made on 2026-01-10 is 0 days old — not
    // −1, as the UTC date would have it. Order 2 has no device; an installation is no failure.
    patch(
        &app,
        "device",
        d.device_a,
        json!({"production_date": "2024-03-01"}),
    )
    .await;
    let device = expect(
        app.get(&format!("/apps/crm/forms/device/records/{}", d.device_a))
            .await,
        StatusCode::OK,
    )
    .await;
    let product = device["data"]["product"].clone();
    let new_device = create(&app, "device", json!({"product": product, "serial_number": "SN-NEW", "customer": d.customer_b, "production_date": "2026-01-10", "service_team": "svc_west"})).await;
    let third = create(&app, "service_order", json!({"kind": "repair", "priority": "normal", "customer": d.customer_b, "device": new_device, "fault_description": "dead on arrival", "reported_at": "2026-01-09T20:00:00Z", "cause_category": "wear"})).await;
    create(&app, "service_order", json!({"kind": "installation", "priority": "low", "customer": d.customer_a, "device": d.device_a, "fault_description": "install", "reported_at": "2026-06-20T09:00:00+08:00", "cause_category": "installation"})).await;
    let r = run(&app, "failures_by_device_age").await;
    let ages: BTreeMap<String, i64> = r["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            (
                row["cells"]["age_years"].to_string(),
                row["rows"].as_i64().unwrap(),
            )
        })
        .collect();
    // No list filter describes a duration: each age drills by the ids of its orders, and
    // the list API lists exactly those.
    let drills: BTreeMap<String, Value> = r["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| (row["cells"]["age_years"].to_string(), row["drill"].clone()))
        .collect();
    assert_eq!(
        drills["0.0"],
        json!({"in": [{"var": "_id"}, [third]]}),
        "{r}"
    );
    assert_eq!(
        drills["2.0"],
        json!({"in": [{"var": "_id"}, [d.order_e1]]}),
        "{r}"
    );
    for (age, drill) in &drills {
        let list = expect(
            app.client
                .get(app.url("/apps/crm/forms/service_order/records"))
                .query(&[("filter", drill.to_string()), ("total", "true".into())])
                .send()
                .await
                .unwrap(),
            StatusCode::OK,
        )
        .await;
        assert_eq!(list["total"], ages[age], "{age}: {list}");
    }
    assert_eq!(
        ages,
        BTreeMap::from([("0.0".into(), 1), ("2.0".into(), 1), ("null".into(), 1)]),
        "{r}"
    );
    assert_eq!(r["columns"][0]["duration"]["unit"], "years", "{r}");

    // Coded causes: wear twice (orders 1 and 3), software once, installation once; the
    // drill of "wear" lists exactly those two.
    let r = run(&app, "top_fault_causes").await;
    let causes = by(&r, "cause_category");
    assert_eq!(causes["\"wear\""]["cells"]["orders"], 2, "{r}");
    assert_eq!(causes["\"software\""]["cells"]["orders"], 1, "{r}");
    assert_eq!(causes["\"installation\""]["cells"]["orders"], 1, "{r}");
    assert_eq!(
        r["rows"][0]["cells"]["cause_category"], "wear",
        "sorted by orders: {r}"
    );
    let drill = causes["\"wear\""]["drill"].to_string();
    let listed = app
        .list(
            "crm",
            "service_order",
            &[("filter", drill), ("total", "true".into())],
        )
        .await;
    let mut ids: Vec<i64> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect();
    ids.sort();
    assert_eq!(ids, vec![d.order_e1, third], "{listed}");

    // First response within 2 hours: order 1 (normal) in 1 h, order 2 (high) in 3 h.
    let r = run(&app, "resolution_by_priority").await;
    let p = by(&r, "priority");
    assert!(
        close(&p["\"high\""]["cells"]["responded_within_sla"], 0.0),
        "{r}"
    );
    assert!(
        close(&p["\"normal\""]["cells"]["responded_within_sla"], 0.5),
        "normal: order 1 and order 3 (not accepted): {r}"
    );

    // Today and this week, on the server's clock: a new order reported and resolved now;
    // order 2 reported a day ago (this week unless today is a Monday).
    create(&app, "service_order", json!({"kind": "repair", "priority": "urgent", "customer": d.customer_a, "fault_description": "now", "reported_at": at(now), "resolved_at": at(now), "status": "closed", "resolution": "fixed"})).await;
    let monday = today() - Duration::days(i64::from(today().weekday().num_days_from_monday()));
    let yesterday_in_week = i64::from(today() - Duration::days(1) >= monday);
    let r = run(&app, "service_today").await;
    let c = &r["rows"][0]["cells"];
    assert_eq!(c["new_today"], 1, "{r}");
    assert_eq!(c["new_this_week"], 1 + yesterday_in_week, "{r}");
    assert_eq!(c["closed_today"], 1, "{r}");
    assert_eq!(c["closed_this_week"], 1, "{r}");
    // Qualification bands by the customer's owner (approved ones expiring within 90 days):
    // sales1's customer has them in 10, 30, 40, 70 days (and 90, 100, −5 outside the
    // window; a pending one in 15); sales2's in 20.
    let day = |n: i64| (today() + Duration::days(n)).to_string();
    let mut number = 0;
    for (customer, days, status) in [
        (d.customer_a, 10, "approved"),
        (d.customer_a, 30, "approved"),
        (d.customer_a, 40, "approved"),
        (d.customer_a, 70, "approved"),
        (d.customer_a, 90, "approved"),
        (d.customer_a, 100, "approved"),
        (d.customer_a, -5, "approved"),
        (d.customer_a, 15, "pending"),
        (d.customer_b, 20, "approved"),
    ] {
        number += 1;
        create(&app, "qualification", json!({"customer": customer, "kind": "medical_institution_licence", "number": format!("QB-{number}"), "expires_on": day(days), "review_status": status})).await;
    }
    let r = run(&app, "qualifications_expiring_by_owner").await;
    let owners = by(&r, "customer.owner");
    let band = |owner: &str, k: &str| owners[&format!("\"{owner}\"")]["cells"][k].clone();
    assert_eq!(
        [
            "within_30",
            "within_31_60",
            "within_61_90",
            "qualifications"
        ]
        .map(|k| band("sales1", k)),
        [json!(1), json!(2), json!(1), json!(4)],
        "{r}"
    );
    assert_eq!(
        [
            "within_30",
            "within_31_60",
            "within_61_90",
            "qualifications"
        ]
        .map(|k| band("sales2", k)),
        [json!(1), json!(0), json!(0), json!(1)],
        "{r}"
    );
    // A week later none of it is today's or this week's.
    app.advance(7.0 * 86_400.0).await;
    let r = run(&app, "service_today").await;
    let c = &r["rows"][0]["cells"];
    for k in [
        "new_today",
        "new_this_week",
        "closed_today",
        "closed_this_week",
    ] {
        assert_eq!(c[k], 0, "{k}: {r}");
    }
}

on_both_stores!(
    the_crm_operational_reports_count_what_was_written,
    operational_reports
);

/// The CRM's quality and people reports over orders written here: the satisfaction trend
/// by month reported, and each engineer's orders, first-time-fix share, satisfaction and
/// hours.
async fn quality_reports(app: TestApp) {
    let d = crm_app(&app).await;
    patch(&app, "service_order", d.order_e1, json!({"reported_at": "2026-03-10T09:00:00+08:00", "satisfaction": 90, "labour_hours": 2, "second_handling": false})).await;
    patch(&app, "service_order", d.order_e2, json!({"reported_at": "2026-03-20T09:00:00+08:00", "satisfaction": 70, "labour_hours": 3, "second_handling": true})).await;
    create(
        &app,
        "service_order",
        json!({"kind": "repair", "priority": "normal", "customer": d.customer_a,
        "fault_description": "third", "engineer": "engineer1", "service_team": "svc_east",
        "reported_at": "2026-04-05T09:00:00+08:00", "satisfaction": 85, "labour_hours": 1.5}),
    )
    .await;
    // An order rated in March's last hour in Shanghai is March's, not April's.
    create(&app, "service_order", json!({"kind": "repair", "priority": "normal", "customer": d.customer_b,
        "fault_description": "late", "reported_at": "2026-03-31T23:30:00+08:00", "satisfaction": 50})).await;

    let r = run(&app, "satisfaction_trend").await;
    let months = by(&r, "reported_at");
    let m = |month: &str, k: &str| months[&format!("\"{month}\"")]["cells"][k].clone();
    assert!(close(&m("2026-03", "avg_satisfaction"), 70.0), "{r}");
    assert!(close(&m("2026-03", "median_satisfaction"), 70.0), "{r}");
    assert_eq!(m("2026-03", "rated"), 3, "{r}");
    assert_eq!(m("2026-03", "below_80"), 2, "{r}");
    assert!(close(&m("2026-04", "avg_satisfaction"), 85.0), "{r}");
    assert_eq!(m("2026-04", "rated"), 1, "{r}");
    assert_eq!(m("2026-04", "below_80"), 0, "{r}");

    let r = run(&app, "engineer_performance").await;
    let engineers = by(&r, "engineer");
    let e = |who: &str, k: &str| engineers[&format!("\"{who}\"")]["cells"][k].clone();
    assert_eq!(e("engineer1", "orders"), 2, "{r}");
    assert!(close(&e("engineer1", "first_time_fix"), 1.0), "{r}");
    assert!(close(&e("engineer1", "avg_satisfaction"), 87.5), "{r}");
    assert!(close(&e("engineer1", "labour_hours"), 3.5), "{r}");
    assert_eq!(e("engineer2", "orders"), 1, "{r}");
    assert!(close(&e("engineer2", "first_time_fix"), 0.0), "{r}");
    assert!(close(&e("engineer2", "avg_satisfaction"), 70.0), "{r}");
    // Orders without an engineer are not anyone's; the busiest engineer comes first.
    assert_eq!(engineers.len(), 2, "{r}");
    assert_eq!(
        r["rows"][0]["cells"]["engineer"], "engineer1",
        "sorted by orders: {r}"
    );
}

on_both_stores!(
    the_crm_quality_reports_show_what_was_written,
    quality_reports
);

/// An app's time zone is read again from its definition every few seconds: after it
/// changes, reports bucket instants in the new zone (the caches are built again) and serial
/// numbers take the new zone's date — on the server that saved the change, without a
/// restart.
async fn zone_change(app: TestApp) {
    app.app("zoned").await;
    app.publish_ok(
        "zoned",
        "visit",
        json!({"type": "object", "properties": {
            "no": {"type": "string", "x-type": "serial", "x-serial": "V-{yyyyMMdd}-{000}", "readOnly": true},
            "t": {"type": "string", "x-type": "datetime"}}}),
    )
    .await;
    // 20:00 UTC on 31 March: 1 April in Shanghai, 31 March in New York (UTC−4 then).
    app.create_ok("zoned", "visit", json!({"t": "2025-03-31T20:00:00Z"}))
        .await;
    let def = json!({"form": "visit", "dimensions": [{"field": "t", "bucket": "day"}],
        "measures": [{"key": "n", "agg": "count"}]});
    let day = || async {
        let r = expect(
            app.post("/apps/zoned/report-preview", &json!({"definition": def}))
                .await,
            StatusCode::OK,
        )
        .await;
        r["rows"][0]["cells"]["t"].clone()
    };
    assert_eq!(day().await, "2025-04-01");
    // Move the server's clock to about 20:00 UTC, when Shanghai's date is a day ahead of
    // New York's (from 16:00 to 05:00 UTC), so the serial numbers tell the zones apart.
    let real = Utc::now();
    let target = real.date_naive().and_hms_opt(20, 0, 0).unwrap().and_utc();
    let shift = (target - real).num_seconds().rem_euclid(86_400);
    app.advance(shift as f64).await;
    let moved = move || Utc::now() + Duration::seconds(shift);
    let serial = |zone: chrono_tz::Tz| {
        let app = &app;
        async move {
            let before = moved().with_timezone(&zone).format("%Y%m%d").to_string();
            let r = app.create_ok("zoned", "visit", json!({})).await;
            let after = moved().with_timezone(&zone).format("%Y%m%d").to_string();
            let no = r["data"]["no"].as_str().unwrap().to_owned();
            assert!(
                [before, after]
                    .iter()
                    .any(|d| no.starts_with(&format!("V-{d}-"))),
                "{no} in {zone}"
            );
            no[2..10].to_owned()
        }
    };
    let shanghai = serial(chrono_tz::Asia::Shanghai).await;

    expect(
        app.put(
            "/apps/zoned",
            &json!({"key": "zoned", "label": {"en": "zoned"}, "time_zone": "America/New_York"}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    app.advance(30.0).await;
    assert_eq!(day().await, "2025-03-31");
    let new_york = serial(chrono_tz::America::New_York).await;
    assert_ne!(shanghai, new_york);
}

on_both_stores!(
    a_changed_time_zone_reaches_reports_and_serial_numbers,
    zone_change
);
