//! Create, get, replace, patch, delete and restore, with row versions and ETags; bulk.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, expect};
use crate::on_both_stores;

async fn setup(app: &TestApp) {
    app.app("crm").await;
    app.publish_ok(
        "crm",
        "customer",
        json!({"type": "object", "properties": {
            "name": {"type": "string", "x-type": "text", "minLength": 1},
            "code": {"type": "string", "x-type": "uscc", "x-unique": true},
            "mobile": {"type": "string", "x-type": "cn_mobile"},
            "since": {"type": "string", "x-type": "date"},
            "credit": {"type": "number", "x-type": "money"},
            "seen_at": {"type": "string", "x-type": "datetime"},
            "email": {"type": "string", "x-type": "email"},
            "region": {"type": "object", "x-type": "region"}
        }, "required": ["name"], "additionalProperties": false}),
    )
    .await;
    app.publish_ok(
        "crm",
        "order",
        json!({"type": "object", "properties": {
            "customer": {"type": "integer", "x-type": "reference", "x-ref": {"form": "customer"}},
            "lines": {"type": "array", "x-type": "sub_table", "items": {"type": "object", "properties": {
                "customer": {"type": "integer", "x-type": "reference", "x-ref": {"form": "customer"}},
                "qty": {"type": "integer", "minimum": 1}
            }, "required": ["qty"]}}
        }, "required": ["customer"]}),
    )
    .await;
}

on_both_stores!(
    a_record_lives_through_its_whole_lifecycle,
    |app: TestApp| async move {
        setup(&app).await;
        let r = app
            .create(
                "crm",
                "customer",
                json!({"name": "协和医院", "mobile": "13800138000"}),
            )
            .await;
        assert_eq!(r.headers()["etag"], "\"1\"");
        let created = expect(r, StatusCode::CREATED).await;
        let id = created["id"].as_i64().unwrap();
        let path = format!("/apps/crm/forms/customer/records/{id}");
        assert_eq!(created["row_version"], 1);
        assert_eq!(created["created_by"], "admin");

        let got = app.get(&path).await;
        assert_eq!(got.headers()["etag"], "\"1\"");
        assert_eq!(
            expect(got, StatusCode::OK).await["data"]["name"],
            "协和医院"
        );

        // Replace with the right If-Match; then a lost update is refused with 412.
        let r = app
            .client
            .put(app.url(&path))
            .header("if-match", "\"1\"")
            .json(&json!({"data": {"name": "北京协和医院"}}))
            .send()
            .await
            .unwrap();
        let replaced = expect(r, StatusCode::OK).await;
        assert_eq!(replaced["row_version"], 2);
        assert!(
            replaced["data"].get("mobile").is_none(),
            "PUT replaces the whole data"
        );
        let r = app
            .client
            .put(app.url(&path))
            .header("if-match", "\"1\"")
            .json(&json!({"data": {"name": "lost"}}))
            .send()
            .await
            .unwrap();
        let stale = expect(r, StatusCode::PRECONDITION_FAILED).await;
        assert_eq!(stale["code"], "precondition_failed");

        // Merge patch keeps other fields, null removes one.
        let r = app
            .client
            .patch(app.url(&path))
            .header("if-match", "\"2\"")
            .json(&json!({"data": {"mobile": "13900139000", "since": "2024-02-29"}}))
            .send()
            .await
            .unwrap();
        let patched = expect(r, StatusCode::OK).await;
        assert_eq!(
            patched["data"],
            json!({"name": "北京协和医院", "mobile": "13900139000", "since": "2024-02-29"})
        );
        let patched = expect(
            app.patch(&path, &json!({"data": {"since": null}})).await,
            StatusCode::OK,
        )
        .await;
        assert!(patched["data"].get("since").is_none());
        assert_eq!(patched["row_version"], 4);

        // Soft delete: gone from get and list, visible with ?deleted=true, restorable.
        let r = app
            .client
            .delete(app.url(&path))
            .header("if-match", "\"3\"")
            .send()
            .await
            .unwrap();
        expect(r, StatusCode::PRECONDITION_FAILED).await;
        expect(
            app.delete(&format!("{path}?reason=duplicate")).await,
            StatusCode::OK,
        )
        .await;
        expect(app.get(&path).await, StatusCode::NOT_FOUND).await;
        let listed = app.list("crm", "customer", &[]).await;
        assert_eq!(listed["items"].as_array().unwrap().len(), 0);
        let deleted = app
            .list("crm", "customer", &[("deleted", "true".into())])
            .await;
        assert_eq!(deleted["items"][0]["id"], id);
        expect(
            app.get(&format!("{path}?deleted=true")).await,
            StatusCode::OK,
        )
        .await;
        expect(app.delete(&path).await, StatusCode::NOT_FOUND).await;
        let restored = expect(
            app.post(&format!("{path}/restore"), &json!({})).await,
            StatusCode::OK,
        )
        .await;
        assert!(restored.get("deleted_at").is_none());
        assert_eq!(restored["row_version"], 6);
        expect(app.get(&path).await, StatusCode::OK).await;
    }
);

on_both_stores!(
    field_types_are_checked_by_the_server,
    |app: TestApp| async move {
        setup(&app).await;
        let body = expect(
        app.create("crm", "customer", json!({"name": "", "code": "91350100M000100Y44", "mobile": "1380013800", "since": "2023-02-29", "credit": 10.005})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
        let mut got: Vec<(String, String)> = body["details"]
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
                ("/data/code".into(), "x-type".into()),
                ("/data/credit".into(), "x-type".into()),
                ("/data/mobile".into(), "x-type".into()),
                ("/data/name".into(), "minLength".into()),
                ("/data/since".into(), "x-type".into()),
            ],
            "{body}"
        );
        app.create_ok("crm", "customer", json!({"name": "ok", "code": "91350100M000100Y43", "mobile": "13800138000", "since": "2024-02-29", "credit": 10.05})).await;
        // Date-times with an offset, email syntax, a region's shape (even when the form's
        // schema says no more than "object").
        for (field, bad) in [
            ("seen_at", json!("2026-11-22 09:30")),
            ("seen_at", json!("2026-11-22T09:30:00")),
            ("email", json!("someone@localhost")),
            ("email", json!("a b@example.com")),
            ("region", json!({"city": "北京市"})),
            ("region", json!({"province": "北京市", "street": "x"})),
            ("region", json!({"province": ""})),
            ("region", json!({"province": 11})),
        ] {
            let body = expect(
                app.create("crm", "customer", json!({"name": "n", field: bad}))
                    .await,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
            assert_eq!(
                body["details"][0]["pointer"],
                format!("/data/{field}"),
                "{field} {bad}: {body}"
            );
            assert_eq!(
                body["details"][0]["rule"], "x-type",
                "{field} {bad}: {body}"
            );
        }
        app.create_ok("crm", "customer", json!({"name": "ok2", "seen_at": "2026-11-22T09:30:00+08:00",
            "email": "li.lei@xiehe.example.cn", "region": {"province": "北京市", "city": "北京市", "district": "东城区"}})).await;
    }
);

on_both_stores!(
    references_must_name_live_records_and_unique_fields_stay_unique,
    |app: TestApp| async move {
        setup(&app).await;
        let c = app
            .create_ok(
                "crm",
                "customer",
                json!({"name": "A", "code": "91350100M000100Y43"}),
            )
            .await;
        let cid = c["id"].as_i64().unwrap();
        let body = expect(
            app.create("crm", "order", json!({"customer": 424242}))
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(body["details"][0]["pointer"], "/data/customer");
        assert_eq!(body["details"][0]["rule"], "reference");
        let body = expect(
        app.create("crm", "order", json!({"customer": cid, "lines": [{"qty": 1, "customer": cid}, {"qty": 2, "customer": 777}]})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
        assert_eq!(body["details"][0]["pointer"], "/data/lines/1/customer");
        app.create_ok(
            "crm",
            "order",
            json!({"customer": cid, "lines": [{"qty": 1, "customer": cid}]}),
        )
        .await;

        let dup = expect(
            app.create(
                "crm",
                "customer",
                json!({"name": "B", "code": "91350100M000100Y43"}),
            )
            .await,
            StatusCode::CONFLICT,
        )
        .await;
        assert_eq!(dup["details"][0]["pointer"], "/data/code");
        assert_eq!(dup["details"][0]["rule"], "unique");
        // A deleted record frees its unique value, and cannot be restored while it is taken.
        expect(
            app.delete(&format!("/apps/crm/forms/customer/records/{cid}"))
                .await,
            StatusCode::OK,
        )
        .await;
        app.create_ok(
            "crm",
            "customer",
            json!({"name": "B", "code": "91350100M000100Y43"}),
        )
        .await;
        // Many at once (bulk, imports) are asked about together, and the taken one named.
        let items: Vec<Value> = (0..600)
            .map(|i| json!({"data": {"name": format!("n{i}")}}))
            .chain([json!({"data": {"name": "C", "code": "91350100M000100Y43"}})])
            .collect();
        let taken = expect(
            app.post(
                "/apps/crm/forms/customer/records/bulk",
                &json!({"items": items}),
            )
            .await,
            StatusCode::CONFLICT,
        )
        .await;
        assert_eq!(
            taken["details"][0]["pointer"], "/items/600/data/code",
            "{taken}"
        );
        assert_eq!(taken["details"][0]["rule"], "unique");
        expect(
            app.post(
                &format!("/apps/crm/forms/customer/records/{cid}/restore"),
                &json!({}),
            )
            .await,
            StatusCode::CONFLICT,
        )
        .await;
        // References to deleted records are refused.
        let body = expect(
            app.create("crm", "order", json!({"customer": cid})).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(body["details"][0]["rule"], "reference");
    }
);

on_both_stores!(
    bulk_writes_are_all_or_nothing_with_per_row_errors,
    |app: TestApp| async move {
        setup(&app).await;
        let items: Vec<Value> = (0..20)
            .map(|i| json!({"data": {"name": format!("c{i}")}}))
            .collect();
        let mut bad = items.clone();
        bad[7] = json!({"data": {"name": ""}});
        bad[13] = json!({"data": {"nme": "typo"}});
        let body = expect(
            app.post(
                "/apps/crm/forms/customer/records/bulk",
                &json!({"items": bad}),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        let ptrs: Vec<&str> = body["details"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["pointer"].as_str().unwrap())
            .collect();
        assert!(ptrs.contains(&"/items/7/data/name"), "{body}");
        assert!(
            ptrs.iter().any(|p| p.starts_with("/items/13/data")),
            "{body}"
        );
        assert_eq!(
            app.list("crm", "customer", &[("total", "true".into())])
                .await["total"],
            0,
            "nothing was written"
        );

        let created = expect(
            app.post(
                "/apps/crm/forms/customer/records/bulk",
                &json!({"items": items}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        let ids: Vec<i64> = created["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_i64().unwrap())
            .collect();
        assert_eq!(ids.len(), 20);
        // A bulk update where one row is stale changes nothing.
        let updates = json!({"merge": true, "items": [
            {"id": ids[0], "row_version": 1, "data": {"mobile": "13800138000"}},
            {"id": ids[1], "row_version": 5, "data": {"mobile": "13800138001"}}
        ]});
        expect(
            app.put("/apps/crm/forms/customer/records/bulk", &updates)
                .await,
            StatusCode::PRECONDITION_FAILED,
        )
        .await;
        let first = expect(
            app.get(&format!("/apps/crm/forms/customer/records/{}", ids[0]))
                .await,
            StatusCode::OK,
        )
        .await;
        assert!(first["data"].get("mobile").is_none());
        let updates = json!({"merge": true, "items": [
            {"id": ids[0], "row_version": 1, "data": {"mobile": "13800138000"}},
            {"id": ids[1], "data": {"mobile": "13800138001"}}
        ]});
        let done = expect(
            app.put("/apps/crm/forms/customer/records/bulk", &updates)
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(done["items"][1]["data"]["mobile"], "13800138001");
    }
);

on_both_stores!(
    every_write_lands_in_the_chained_operation_log,
    |app: TestApp| async move {
        setup(&app).await;
        let c = app.create_ok("crm", "customer", json!({"name": "A"})).await;
        let path = format!("/apps/crm/forms/customer/records/{}", c["id"]);
        expect(
            app.patch(&path, &json!({"data": {"name": "B"}, "reason": "typo"}))
                .await,
            StatusCode::OK,
        )
        .await;
        expect(app.delete(&path).await, StatusCode::OK).await;
        app.stop_and_verify_log(&["record.create", "record.update", "record.delete"])
            .await;
    }
);
