//! One error shape everywhere; bad input is a 4xx, never a 500.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, expect};
use crate::on_both_stores;

fn assert_shape(body: &Value) {
    assert!(body["code"].is_string(), "{body}");
    assert!(body["message"].is_string(), "{body}");
    assert!(body["details"].is_array(), "{body}");
}

on_both_stores!(
    bad_requests_get_4xx_in_one_shape,
    |app: TestApp| async move {
        app.app("t").await;
        app.publish_ok(
            "t",
            "note",
            json!({"type": "object", "properties": {"text": {"type": "string"}}}),
        )
        .await;
        let url = app.url("/apps/t/forms/note/records");
        // malformed JSON
        let r = app
            .client
            .post(&url)
            .header("content-type", "application/json")
            .body("{\"data\": {")
            .send()
            .await
            .unwrap();
        assert_shape(&expect(r, StatusCode::BAD_REQUEST).await);
        // wrong content type
        let r = app
            .client
            .post(&url)
            .header("content-type", "text/plain")
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_shape(&expect(r, StatusCode::UNSUPPORTED_MEDIA_TYPE).await);
        // oversized body (default limit 10 MiB)
        let big = format!(
            "{{\"data\": {{\"text\": \"{}\"}}}}",
            "x".repeat(11 * 1024 * 1024)
        );
        // (its own client: the server answers 413 early and closes the connection; while
        // the client is still writing it may see a broken pipe instead of the answer, so
        // it tries a few times and must read the 413 at least once)
        let mut answered = None;
        for _ in 0..5 {
            let sent = app
                .fresh_client()
                .post(&url)
                .header("content-type", "application/json")
                .body(big.clone())
                .send()
                .await;
            if let Ok(r) = sent {
                answered = Some(r);
                break;
            }
        }
        let r = answered.expect("the client read the server's answer to an oversized body");
        assert_shape(&expect(r, StatusCode::PAYLOAD_TOO_LARGE).await);
        // unknown app, form, record, route
        assert_shape(
            &expect(
                app.create("t", "nothing", json!({})).await,
                StatusCode::NOT_FOUND,
            )
            .await,
        );
        assert_shape(
            &expect(
                app.create("nope", "note", json!({})).await,
                StatusCode::NOT_FOUND,
            )
            .await,
        );
        assert_shape(
            &expect(
                app.get("/apps/t/forms/note/records/999").await,
                StatusCode::NOT_FOUND,
            )
            .await,
        );
        assert_shape(
            &expect(
                app.get("/apps/t/forms/note/records/abc").await,
                StatusCode::BAD_REQUEST,
            )
            .await,
        );
        assert_shape(&expect(app.get("/no/such/route").await, StatusCode::NOT_FOUND).await);
        // a body that is not {"data": …}
        let body = expect(
            app.post("/apps/t/forms/note/records", &json!([1, 2])).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_shape(&body);
        let body = expect(
            app.post("/apps/t/forms/note/records", &json!({"text": "x"}))
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
        assert!(ptrs.contains(&"/text") && ptrs.contains(&"/data"), "{body}");
        // a bad filter names its place
        let r = app
            .client
            .get(&url)
            .query(&[("filter", "{\"==\": [{\"var\": \"nope\"}, 1]}")])
            .send()
            .await
            .unwrap();
        let body = expect(r, StatusCode::BAD_REQUEST).await;
        assert_eq!(body["details"][0]["pointer"], "/filter/==/0");
        let r = app
            .client
            .get(&url)
            .query(&[("filter", "{not json")])
            .send()
            .await
            .unwrap();
        assert_shape(&expect(r, StatusCode::BAD_REQUEST).await);
        let r = app
            .client
            .get(&url)
            .query(&[("limit", "0")])
            .send()
            .await
            .unwrap();
        assert_shape(&expect(r, StatusCode::BAD_REQUEST).await);
        let r = app
            .client
            .get(&url)
            .query(&[("cursor", "garbage")])
            .send()
            .await
            .unwrap();
        assert_shape(&expect(r, StatusCode::BAD_REQUEST).await);
    }
);

on_both_stores!(system_fields_cannot_be_written, |app: TestApp| async move {
    app.app("t").await;
    app.publish_ok(
        "t",
        "order",
        json!({"type": "object", "properties": {
            "no": {"type": "string", "x-type": "serial", "x-serial": "O-{0000}", "readOnly": true},
            "total": {"type": "number", "x-type": "computed", "x-formula": {"*": [{"var": "qty"}, 2]}, "readOnly": true},
            "qty": {"type": "integer"}
        }}),
    )
    .await;
    for key in [
        "id",
        "row_version",
        "created_at",
        "created_by",
        "updated_at",
        "updated_by",
        "owner",
        "form_version",
        "deleted_at",
    ] {
        let mut body = json!({"data": {"qty": 1}});
        body[key] = json!("2020-01-01");
        let r = app.post("/apps/t/forms/order/records", &body).await;
        let body = expect(r, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(body["details"][0]["pointer"], format!("/{key}"), "{body}");
        assert_eq!(body["details"][0]["rule"], "read_only");
    }
    for (key, value) in [("no", json!("O-9999")), ("total", json!(1000))] {
        let mut data = json!({"qty": 1});
        data[key] = value;
        let body = expect(
            app.create("t", "order", data).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(body["details"][0]["pointer"], format!("/data/{key}"));
        assert_eq!(body["details"][0]["rule"], "read_only");
    }
    let ok = app.create_ok("t", "order", json!({"qty": 4})).await;
    assert_eq!(ok["data"]["no"], "O-0001");
    assert_eq!(ok["data"]["total"].as_f64(), Some(8.0));
    // A PUT that sends back the stored server values is fine (they are recomputed);
    // changing them is not.
    let id = ok["id"].as_i64().unwrap();
    let mut data = ok["data"].clone();
    data["qty"] = json!(5);
    data["no"] = json!("O-0042");
    let r = app
        .put(
            &format!("/apps/t/forms/order/records/{id}"),
            &json!({"data": data}),
        )
        .await;
    let refused = expect(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(refused["details"][0]["pointer"], "/data/no");
    data["no"] = json!("O-0001");
    let r = app
        .put(
            &format!("/apps/t/forms/order/records/{id}"),
            &json!({"data": data}),
        )
        .await;
    let updated = expect(r, StatusCode::OK).await;
    assert_eq!(updated["data"]["no"], "O-0001");
    assert_eq!(updated["data"]["total"].as_f64(), Some(10.0));
});
