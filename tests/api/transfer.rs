//! CSV and XLSX import (dry run, per-row per-field errors, all-or-nothing) and export
//! (filters apply, spreadsheet formulas neutralised).

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, expect};
use crate::on_both_stores;

async fn setup(app: &TestApp) {
    app.app("crm").await;
    app.publish_ok(
        "crm",
        "customer",
        json!({"type": "object", "properties": {"name": {"type": "string"}}}),
    )
    .await;
    app.publish_ok(
        "crm",
        "ticket",
        json!({"type": "object", "properties": {
            "no": {"type": "string", "x-type": "serial", "x-serial": "T{0000}", "readOnly": true},
            "title": {"type": "string", "x-type": "text", "x-label": {"zh-CN": "标题", "en": "Title"}, "minLength": 1},
            "hours": {"type": "number", "x-type": "number", "minimum": 0},
            "urgent": {"type": "boolean", "x-type": "boolean"},
            "tags": {"type": "array", "x-type": "multi_select", "items": {"type": "string", "enum": ["a", "b", "c"]}, "uniqueItems": true, "x-options": {"a": {"en": "A"}, "b": {"en": "B"}, "c": {"en": "C"}}},
            "customer": {"type": "integer", "x-type": "reference", "x-ref": {"form": "customer"}},
            "day": {"type": "string", "x-type": "date"}
        }, "required": ["title"], "additionalProperties": false}),
    )
    .await;
}

async fn import(
    app: &TestApp,
    body: Vec<u8>,
    content_type: &str,
    dry_run: bool,
) -> reqwest::Response {
    app.client
        .post(app.url("/apps/crm/forms/ticket/records/import"))
        .query(&[("dry_run", dry_run.to_string())])
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
}

on_both_stores!(
    a_csv_import_reports_every_bad_cell_and_writes_all_or_nothing,
    |app: TestApp| async move {
        setup(&app).await;
        let c = app
            .create_ok("crm", "customer", json!({"name": "协和"}))
            .await;
        let cid = c["id"].as_i64().unwrap();
        let bad = format!(
            "标题,hours,urgent,tags,customer,day\nfirst,1.5,是,a;b,{cid},2026-01-31\n,2,no,a,{cid},2026-02-01\nthird,lots,maybe,z,{cid},2026-02-30\n"
        );
        let report = expect(
            import(&app, bad.clone().into_bytes(), "text/csv", true).await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(report["rows"], 3);
        let mut got: Vec<(String, String)> = report["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                (
                    d["pointer"].as_str().unwrap().to_owned(),
                    d["rule"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        got.sort();
        assert_eq!(
            got,
            vec![
                ("/rows/2/data/title".into(), "required".into()),
                ("/rows/3/data/hours".into(), "cell".into()),
                ("/rows/3/data/urgent".into(), "cell".into()),
            ],
            "{report}"
        );
        // Fix those two rows' cell errors; schema errors (enum, date) of row 3 show up next.
        let bad2 = bad.replace("lots,maybe", "3,yes");
        let body = expect(
            import(&app, bad2.into_bytes(), "text/csv", false).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        let ptrs: Vec<&str> = body["details"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["pointer"].as_str().unwrap())
            .collect();
        assert!(
            ptrs.contains(&"/rows/3/data/tags/0") && ptrs.contains(&"/rows/3/data/day"),
            "{body}"
        );
        assert_eq!(
            app.list("crm", "ticket", &[("total", "true".into())]).await["total"],
            0,
            "nothing was imported"
        );

        let good = format!(
            "title,hours,urgent,tags,customer,day\nfirst,1.5,是,a;b,{cid},2026-01-31\nsecond,2,no,a,{cid},2026-02-01\n"
        );
        let done = expect(
            import(&app, good.into_bytes(), "text/csv", false).await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(done["imported"], 2);
        let page = app.list("crm", "ticket", &[("sort", "no".into())]).await;
        assert_eq!(
            page["items"][0]["data"],
            json!({"title": "first", "hours": 1.5, "urgent": true, "tags": ["a", "b"], "customer": cid, "day": "2026-01-31", "no": "T0001"})
        );
        assert_eq!(page["items"][1]["data"]["no"], "T0002");
        // A missing reference is caught when writing: still all-or-nothing.
        let dangling = format!("title,customer\nok,{cid}\nbad,999999\n");
        let body = expect(
            import(&app, dangling.into_bytes(), "text/csv", false).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(body["details"][0]["pointer"], "/rows/2/data/customer");
        assert_eq!(
            app.list("crm", "ticket", &[("total", "true".into())]).await["total"],
            2
        );
        // Unknown columns are refused up front.
        let body = expect(
            import(&app, b"title,colour\nx,red\n".to_vec(), "text/csv", true).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(body["details"][0]["pointer"], "/columns/1");
    }
);

on_both_stores!(
    exports_follow_the_filter_and_neutralise_formulas,
    |app: TestApp| async move {
        setup(&app).await;
        for (t, h) in [
            ("=HYPERLINK(\"http://evil\",\"x\")", 1),
            ("+cmd|' /C calc'!A0", 2),
            ("@SUM(1)", 3),
            ("plain", 4),
            ("-2+3", 5),
        ] {
            app.create_ok("crm", "ticket", json!({"title": t, "hours": h}))
                .await;
        }
        let csv = app
            .client
            .get(app.url("/apps/crm/forms/ticket/records/export"))
            .query(&[
                ("format", "csv"),
                ("filter", r#"{">=": [{"var": "hours"}, 2]}"#),
                ("sort", "hours"),
                ("fields", "title,hours"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(csv.status(), StatusCode::OK);
        assert!(
            csv.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/csv")
        );
        let text = csv.text().await.unwrap();
        let mut rdr =
            csv::ReaderBuilder::new().from_reader(text.trim_start_matches('\u{feff}').as_bytes());
        let rows: Vec<Vec<String>> = rdr
            .records()
            .map(|r| r.unwrap().iter().map(str::to_owned).collect())
            .collect();
        let titles: Vec<&str> = rows.iter().map(|r| r[1].as_str()).collect();
        assert_eq!(
            titles,
            vec!["'+cmd|' /C calc'!A0", "'@SUM(1)", "plain", "'-2+3"]
        );
        assert_eq!(rows[0][2], "2", "numbers are not altered");

        // System columns go into an export as chosen, with the values the list shows.
        let csv = app
            .client
            .get(app.url("/apps/crm/forms/ticket/records/export"))
            .query(&[
                ("format", "csv"),
                ("sort", "hours"),
                ("fields", "_created_at,title,_owner,_id"),
            ])
            .send()
            .await
            .unwrap();
        let csv = expect_text(csv).await;
        let mut rdr =
            csv::ReaderBuilder::new().from_reader(csv.trim_start_matches('\u{feff}').as_bytes());
        let header: Vec<String> = rdr.headers().unwrap().iter().map(str::to_owned).collect();
        assert_eq!(header[..4], ["_id", "_created_at", "title", "_owner"]);
        let first: Vec<String> = rdr
            .records()
            .next()
            .unwrap()
            .unwrap()
            .iter()
            .map(str::to_owned)
            .collect();
        let listed = app.list("crm", "ticket", &[("sort", "hours".into())]).await;
        let item = &listed["items"][0];
        assert_eq!(first[0], item["id"].to_string());
        assert_eq!(first[1], item["created_at"].as_str().unwrap());
        assert_eq!(first[3], item["owner"].as_str().unwrap());

        let xlsx = app
            .client
            .get(app.url("/apps/crm/forms/ticket/records/export"))
            .query(&[("format", "xlsx"), ("sort", "hours")])
            .send()
            .await
            .unwrap();
        assert_eq!(xlsx.status(), StatusCode::OK);
        let bytes = xlsx.bytes().await.unwrap().to_vec();
        use calamine::Reader;
        let mut wb =
            calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes.clone())).unwrap();
        let range = wb.worksheet_range_at(0).unwrap().unwrap();
        let first_title = range.get_value((1, 2)).unwrap().to_string();
        assert_eq!(first_title, "'=HYPERLINK(\"http://evil\",\"x\")");
        // The export imports back (system columns ignored); formulas stay text.
        let back = expect(
            import(
                &app,
                bytes,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                true,
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(back["rows"], 5, "{back}");
        assert_eq!(
            back["error_count"], 5,
            "the exported serial numbers are server-assigned: {back}"
        );
        assert!(
            back["errors"]
                .as_array()
                .unwrap()
                .iter()
                .all(|e| e["rule"] == "read_only"
                    && e["pointer"].as_str().unwrap().ends_with("/data/no"))
        );
        // Without the server's columns, an XLSX imports for real: five new tickets with
        // the same hours, each numbered by the server.
        let xlsx = app
            .client
            .get(app.url("/apps/crm/forms/ticket/records/export"))
            .query(&[
                ("format", "xlsx"),
                ("sort", "hours"),
                ("fields", "title,hours"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(xlsx.status(), StatusCode::OK);
        let bytes = xlsx.bytes().await.unwrap().to_vec();
        let done = expect(
            import(
                &app,
                bytes,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                false,
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(done["imported"], 5, "{done}");
        let all = app
            .list(
                "crm",
                "ticket",
                &[("sort", "_id".into()), ("limit", "100".into())],
            )
            .await;
        let items = all["items"].as_array().unwrap();
        assert_eq!(items.len(), 10, "{all}");
        let hours = |part: &[serde_json::Value]| {
            let mut h: Vec<f64> = part
                .iter()
                .map(|i| i["data"]["hours"].as_f64().unwrap())
                .collect();
            h.sort_by(f64::total_cmp);
            h
        };
        assert_eq!(
            hours(&items[5..]),
            hours(&items[..5]),
            "the same hours came back"
        );
        assert!(
            items.iter().all(|i| i["data"]["no"].is_string()),
            "numbered: {all}"
        );
    }
);

on_both_stores!(
    a_large_csv_import_streams_through,
    |app: TestApp| async move {
        setup(&app).await;
        let mut csv = String::from("title,hours\n");
        for i in 0..5000 {
            csv.push_str(&format!("ticket {i},{}\n", i % 40));
        }
        let done = expect(
            import(&app, csv.into_bytes(), "text/csv", false).await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(done["imported"], 5000);
        let page = app
            .list(
                "crm",
                "ticket",
                &[
                    ("total", "true".into()),
                    ("sort", "-no".into()),
                    ("limit", "1".into()),
                ],
            )
            .await;
        assert_eq!(page["total"], 5000);
        assert_eq!(page["items"][0]["data"]["no"], "T5000");
        // Every record got its own number, in file order (the import draws them beside
        // the writer from the counter it holds), and the counter moved past them all.
        let csv = expect_text(
            app.client
                .get(app.url("/apps/crm/forms/ticket/records/export"))
                .query(&[("format", "csv"), ("sort", "_id"), ("fields", "no,title")])
                .send()
                .await
                .unwrap(),
        )
        .await;
        let numbered: Vec<(String, String)> = csv
            .lines()
            .skip(1)
            .map(|l| {
                let cells: Vec<&str> = l.split(',').collect();
                let no = cells.iter().find(|c| c.starts_with('T')).unwrap();
                let title = cells.iter().find(|c| c.starts_with("ticket ")).unwrap();
                (no.to_string(), title.to_string())
            })
            .collect();
        assert_eq!(numbered.len(), 5000);
        for (i, (no, title)) in numbered.iter().enumerate() {
            assert_eq!(no, &format!("T{:04}", i + 1), "row {i}");
            assert_eq!(title, &format!("ticket {i}"), "row {i}");
        }
        let next = app
            .create_ok("crm", "ticket", json!({"title": "after the import"}))
            .await;
        assert_eq!(next["data"]["no"], "T5001");
        let again = expect(
            import(&app, b"title\nmore 1\nmore 2\n".to_vec(), "text/csv", false).await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(again["imported"], 2);
        let last = app
            .list(
                "crm",
                "ticket",
                &[("sort", "-no".into()), ("limit", "1".into())],
            )
            .await;
        assert_eq!(last["items"][0]["data"]["no"], "T5003");
        assert_eq!(last["items"][0]["data"]["title"], "more 2");
    }
);

/// Every cell of an XLSX workbook's first sheet as text (tab- and line-separated).
pub fn xlsx_text(bytes: &[u8]) -> String {
    use calamine::Reader;
    let mut wb = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes.to_vec()))
        .expect("an XLSX workbook");
    let range = wb
        .worksheet_range_at(0)
        .expect("a sheet")
        .expect("a readable sheet");
    range
        .rows()
        .map(|r| {
            r.iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join("\t")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The body of a 200 response.
async fn expect_text(r: reqwest::Response) -> String {
    assert_eq!(r.status(), StatusCode::OK);
    r.text().await.unwrap()
}
