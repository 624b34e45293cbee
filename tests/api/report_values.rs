//! The values and the order of the CRM's customer, inventory, complaint and revenue
//! reports over records written here (besides `crm::seed`'s two customers and two orders):
//! each report's rows, in order, are exactly what these records make them — grades by
//! province, spare parts out by month (in Shanghai time) and by part (ranked, fewest out
//! last), parts used by model (ranked by quantity), complaints by model (ranked), top fault
//! codes with the share handled twice, revenue by month and qualifications expiring in the
//! next six months — and, run by a sales rep, only what their own customer makes them.

use chrono::{Duration, Utc};
use serde_json::{Value, json};
use std::collections::BTreeMap;

use crate::crm;
use crate::helpers::TestApp;
use crate::on_both_stores;
use crate::report_measures::{create, run};
use crate::reports::crm_app;

/// Each row of a run, in order: its dimension cells, then its measure cells.
fn table(r: &Value, dims: &[&str], measures: &[&str]) -> Vec<Vec<Value>> {
    r["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            dims.iter()
                .chain(measures)
                .map(|k| row["cells"][*k].clone())
                .collect()
        })
        .collect()
}

async fn crm_reports_show_what_was_written(app: TestApp) {
    let d = crm_app(&app).await;

    // Customers in Tibet: A (≥ 1M, credit ≥ 80), B (≥ 1M, credit 70; and ≥ 200k), C, and
    // risk twice (credit below 60; compliance expired). The seed's two have no region and
    // grade C.
    let tibet = json!({"province": "西藏自治区", "city": "拉萨市", "district": "城关区"});
    for (kind, amount, credit, compliance) in [
        ("hospital", 1_500_000.0, 90, "valid"),
        ("hospital", 1_500_000.0, 70, "valid"),
        ("distributor", 300_000.0, 60, "valid"),
        ("clinic", 10_000.0, 50, "valid"),
        ("hospital", 2_000_000.0, 95, "expired"),
        ("clinic", 10_000.0, 75, "valid"),
    ] {
        create(&app, "customer", json!({"name": format!("{kind} {credit}"), "customer_type": kind, "region": tibet, "annual_purchase_amount": amount, "credit_score": credit, "compliance_status": compliance})).await;
    }
    let r = run(&app, "customer_grades_by_region").await;
    assert_eq!(
        table(&r, &["region.province", "grade"], &["customers"]),
        [
            json!(["西藏自治区", "A", 1]),
            json!(["西藏自治区", "B", 2]),
            json!(["西藏自治区", "C", 1]),
            json!(["西藏自治区", "risk", 2]),
            json!([null, "C", 2]),
        ]
        .map(|v| v.as_array().unwrap().clone()),
        "{r}"
    );
    let r = run(&app, "customers_by_grade").await;
    assert_eq!(
        table(&r, &["grade"], &["customers", "hospitals"]),
        [
            json!(["A", 1, 1]),
            json!(["B", 2, 1]),
            json!(["C", 3, 2]),
            json!(["risk", 2, 1]),
        ]
        .map(|v| v.as_array().unwrap().clone()),
        "{r}"
    );

    // A second model, two parts, and orders using them. The seed's order 1 used 2 × P-1
    // on an FM-100.
    let zz = create(
        &app,
        "product",
        json!({"name": "呼吸机", "model": "ZZ-1", "device_class": "class_iii"}),
    )
    .await;
    let device = create(
        &app,
        "device",
        json!({"product": zz, "serial_number": "SN-ZZ", "customer": d.customer_a}),
    )
    .await;
    let p2 = create(
        &app,
        "spare_part",
        json!({"part_number": "P-2", "name": "风扇", "unit_cost": 10}),
    )
    .await;
    let p3 = create(
        &app,
        "spare_part",
        json!({"part_number": "P-3", "name": "电池", "unit_cost": 10}),
    )
    .await;
    let used = |qty: i64| json!({"part": p2, "qty": qty, "unit_cost": 10});
    let order = |extra: Value| {
        let mut data = json!({"kind": "repair", "priority": "normal", "customer": d.customer_a, "fault_description": "x"});
        data.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        create(&app, "service_order", data)
    };
    let x = order(json!({"device": device, "parts_used": [used(2), used(1)], "fault_code": "E-901", "service_fee": 100.5, "labour_hours": 1.5, "reported_at": "2025-02-10T09:00:00+08:00"})).await;
    let y = order(json!({"device": device, "parts_used": [used(4)], "fault_code": "E-901", "second_handling": true, "service_fee": 200, "labour_hours": 2, "reported_at": "2025-02-28T16:30:00Z"})).await;
    order(json!({"parts_used": [used(5)], "fault_code": "E-902", "reported_at": "2025-02-11T09:00:00+08:00"})).await;
    order(json!({"fault_code": "E-901", "labour_hours": 0.5, "reported_at": "2025-02-12T09:00:00+08:00"})).await;

    // Parts used by model, most first: ZZ-1 used 7 of P-2 in two orders, an order without
    // a device 5, the seed's FM-100 2 of P-1.
    let r = run(&app, "parts_used_by_model").await;
    let rows = table(
        &r,
        &["device.product.model", "parts_used.part"],
        &["qty", "orders"],
    );
    assert_eq!(rows.len(), 3, "{r}");
    assert_eq!(
        rows[0],
        [json!("ZZ-1"), json!(p2), json!(7.0), json!(2)],
        "{r}"
    );
    assert_eq!(
        rows[1],
        [json!(null), json!(p2), json!(5.0), json!(1)],
        "{r}"
    );
    assert_eq!(rows[2][0], "FM-100", "{r}");
    assert_eq!(rows[2][2..], [json!(2.0), json!(1)], "{r}");

    // Revenue by month in Shanghai: order y (16:30 UTC on 28 February) is March's.
    let r = run(&app, "service_revenue_by_month").await;
    let months: BTreeMap<String, Vec<Value>> = table(
        &r,
        &["reported_at"],
        &["service_fees", "parts_cost", "labour_hours"],
    )
    .into_iter()
    .map(|row| (row[0].as_str().unwrap_or("").to_owned(), row[1..].to_vec()))
    .collect();
    assert_eq!(
        months["2025-02"],
        [json!(100.5), json!(80.0), json!(2.0)],
        "{r}"
    );
    assert_eq!(
        months["2025-03"],
        [json!(200.0), json!(40.0), json!(2.0)],
        "{r}"
    );

    // Top fault codes, most first: E-901 three times (once handled twice), E-902 once.
    let r = run(&app, "top_fault_codes").await;
    let rows = table(&r, &["fault_code"], &["orders", "second_handling_share"]);
    assert_eq!(rows.len(), 2, "{r}");
    assert_eq!(rows[0][..2], [json!("E-901"), json!(3)], "{r}");
    assert!(
        (rows[0][2].as_f64().unwrap() - 1.0 / 3.0).abs() < 1e-9,
        "{r}"
    );
    assert_eq!(rows[1], [json!("E-902"), json!(1), json!(0.0)], "{r}");

    // Spare parts out: by month (Shanghai) and warehouse; `in` movements are not counted.
    for (part, kind, qty, warehouse, at, service_order) in [
        (
            p2,
            "out",
            -2,
            "cd_central",
            "2025-01-15T10:00:00+08:00",
            Some(x),
        ),
        (
            p2,
            "out",
            -3,
            "cd_central",
            "2025-01-31T23:30:00+08:00",
            Some(x),
        ),
        (p2, "out", -1, "cd_central", "2025-01-31T16:30:00Z", Some(y)),
        (
            p2,
            "in",
            10,
            "cd_central",
            "2025-01-20T10:00:00+08:00",
            None,
        ),
        (
            p3,
            "out",
            -4,
            "sh_central",
            "2025-01-20T10:00:00+08:00",
            None,
        ),
    ] {
        let mut data =
            json!({"part": part, "kind": kind, "qty": qty, "warehouse": warehouse, "at": at});
        if let Some(o) = service_order {
            data["service_order"] = json!(o);
        }
        create(&app, "stock_movement", data).await;
    }
    let r = run(&app, "spare_parts_by_month").await;
    assert_eq!(
        table(
            &r,
            &["at", "warehouse"],
            &["qty", "movements", "service_orders"]
        ),
        [
            json!(["2025-01", "cd_central", -5.0, 2, 1]),
            json!(["2025-01", "sh_central", -4.0, 1, 0]),
            json!(["2025-02", "cd_central", -1.0, 1, 1]),
        ]
        .map(|v| v.as_array().unwrap().clone()),
        "{r}"
    );
    // By part and month, most out first (the most negative quantity).
    let r = run(&app, "spare_part_consumption").await;
    assert_eq!(
        table(&r, &["part", "at"], &["qty", "movements"]),
        [
            json!([p2, "2025-01", -5.0, 2]),
            json!([p3, "2025-01", -4.0, 1]),
            json!([p2, "2025-02", -1.0, 1]),
        ]
        .map(|v| v.as_array().unwrap().clone()),
        "{r}"
    );

    // Complaints by model, most first; ties by model.
    let fm100 = app.list("crm", "product", &[]).await["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["data"]["model"] == "FM-100")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    for (product, kind, severity) in [
        (zz, "adverse_event", "serious_injury"),
        (zz, "complaint", "minor"),
        (zz, "complaint", "minor"),
        (fm100, "complaint", "general"),
    ] {
        create(&app, "complaint", json!({"kind": kind, "customer": d.customer_a, "product": product, "severity": severity, "description": "x"})).await;
    }
    let r = run(&app, "complaints_by_model").await;
    assert_eq!(
        table(
            &r,
            &["product.model", "severity"],
            &["complaints", "adverse_events"]
        ),
        [
            json!(["ZZ-1", "minor", 2, 0]),
            json!(["FM-100", "general", 1, 0]),
            json!(["ZZ-1", "serious_injury", 1, 1]),
        ]
        .map(|v| v.as_array().unwrap().clone()),
        "{r}"
    );

    // Qualifications approved and expiring in the next six months (183 days), by month
    // and kind; pending, expired and later ones are not.
    let today = Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive();
    let mut want: BTreeMap<(String, String), (i64, Vec<i64>)> = BTreeMap::new();
    // What sales1, who owns customer A only, counts of them.
    let mut want_a: BTreeMap<(String, String), i64> = BTreeMap::new();
    for (i, (days, kind, status, customer)) in [
        (10, "gsp_certificate", "approved", d.customer_a),
        (12, "gsp_certificate", "approved", d.customer_b),
        (14, "gsp_certificate", "approved", d.customer_a),
        (40, "business_licence", "approved", d.customer_a),
        (182, "business_licence", "approved", d.customer_b),
        (10, "gsp_certificate", "pending", d.customer_b),
        (183, "business_licence", "approved", d.customer_a),
        (-1, "gsp_certificate", "approved", d.customer_a),
    ]
    .into_iter()
    .enumerate()
    {
        let expires = today + Duration::days(days);
        create(&app, "qualification", json!({"customer": customer, "kind": kind, "number": format!("QE-{i}"), "expires_on": expires.to_string(), "review_status": status})).await;
        if status == "approved" && (0..183).contains(&days) {
            let e = want
                .entry((expires.format("%Y-%m").to_string(), kind.to_owned()))
                .or_default();
            e.0 += 1;
            if !e.1.contains(&customer) {
                e.1.push(customer);
            }
            if customer == d.customer_a {
                *want_a
                    .entry((expires.format("%Y-%m").to_string(), kind.to_owned()))
                    .or_default() += 1;
            }
        }
    }
    let r = run(&app, "qualifications_expiring").await;
    let want: Vec<Vec<Value>> = want
        .into_iter()
        .map(|((month, kind), (n, customers))| {
            vec![json!(month), json!(kind), json!(n), json!(customers.len())]
        })
        .collect();
    assert_eq!(
        table(
            &r,
            &["expires_on", "kind"],
            &["qualifications", "customers"]
        ),
        want,
        "{r}"
    );

    // The same reports as sales1, who owns customer A only (the seed's): their grades and
    // their customer's qualifications, nobody else's.
    let sales = crm::user(&app, "sales1", &["sales"], None).await;
    let run_as = |key: &'static str| {
        let (sales, app) = (sales.clone(), &app);
        async move {
            let (status, r) = crm::send(
                &sales,
                app,
                reqwest::Method::POST,
                &format!("/apps/crm/reports/{key}/run"),
                &json!({}),
            )
            .await;
            assert_eq!(status, reqwest::StatusCode::OK, "{key}: {r}");
            r
        }
    };
    let r = run_as("customers_by_grade").await;
    assert_eq!(
        table(&r, &["grade"], &["customers", "hospitals"]),
        [json!(["C", 1, 1]).as_array().unwrap().clone()],
        "{r}"
    );
    let r = run_as("customer_grades_by_region").await;
    assert_eq!(
        table(&r, &["region.province", "grade"], &["customers"]),
        [json!([null, "C", 1]).as_array().unwrap().clone()],
        "{r}"
    );
    let r = run_as("qualifications_expiring").await;
    let want_a: Vec<Vec<Value>> = want_a
        .into_iter()
        .map(|((month, kind), n)| vec![json!(month), json!(kind), json!(n), json!(1)])
        .collect();
    assert_eq!(
        table(
            &r,
            &["expires_on", "kind"],
            &["qualifications", "customers"]
        ),
        want_a,
        "{r}"
    );
}

on_both_stores!(
    the_crm_customer_inventory_and_revenue_reports_show_what_was_written,
    crm_reports_show_what_was_written
);
