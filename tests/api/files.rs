//! Attachments: uploaded by content, checked on every record write against the field's
//! accepted types and size, downloadable without being rendered inline.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, expect};
use crate::on_both_stores;

async fn upload(app: &TestApp, bytes: &[u8], content_type: &str) -> Value {
    let r = app
        .client
        .post(app.url("/files?name=x"))
        .header("content-type", content_type)
        .body(bytes.to_vec())
        .send()
        .await
        .unwrap();
    expect(r, StatusCode::CREATED).await
}

on_both_stores!(
    records_may_only_refer_to_uploaded_files_that_fit_the_field,
    |app: TestApp| async move {
        app.app("t").await;
        let file = json!({"type": "object", "properties": {
        "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"}, "name": {"type": "string"},
        "size": {"type": "integer"}, "content_type": {"type": "string"}
    }, "required": ["sha256"]});
        app.publish_ok("t", "visit", json!({"type": "object", "$defs": {"file": file}, "properties": {
        "photos": {"type": "array", "x-type": "attachment", "x-accept": ["image/*"], "x-max-size": 1000, "items": {"$ref": "#/$defs/file"}},
        "signature": {"x-type": "signature", "$ref": "#/$defs/file", "x-accept": ["image/png"]}
    }})).await;
        let png = upload(&app, b"\x89PNG fake image bytes", "image/png").await;
        let again = upload(&app, b"\x89PNG fake image bytes", "image/png").await;
        assert_eq!(png["sha256"], again["sha256"], "content-addressed");
        let pdf = upload(&app, b"%PDF-1.7 a document", "application/pdf").await;
        let big = upload(&app, &vec![b'x'; 2000], "image/jpeg").await;

        let ok = app.create_ok("t", "visit", json!({"photos": [{"sha256": png["sha256"], "name": "a.png"}], "signature": {"sha256": png["sha256"]}})).await;
        assert_eq!(ok["data"]["photos"][0]["sha256"], png["sha256"]);

        let missing = "0".repeat(64);
        let body = expect(
            app.create("t", "visit", json!({"photos": [{"sha256": missing}]}))
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(body["details"][0]["pointer"], "/data/photos/0/sha256");
        let body = expect(
            app.create("t", "visit", json!({"photos": [{"sha256": pdf["sha256"]}]}))
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(body["details"][0]["rule"], "x-accept");
        let body = expect(
            app.create("t", "visit", json!({"photos": [{"sha256": big["sha256"]}]}))
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(body["details"][0]["rule"], "x-max-size");
        let body = expect(
            app.create(
                "t",
                "visit",
                json!({"signature": {"sha256": pdf["sha256"]}}),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(body["details"][0]["pointer"], "/data/signature");

        let r = app
            .get(&format!("/files/{}", png["sha256"].as_str().unwrap()))
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["content-type"], "image/png");
        assert_eq!(r.headers()["content-disposition"], "attachment");
        assert_eq!(r.headers()["x-content-type-options"], "nosniff");
        assert_eq!(
            r.bytes().await.unwrap().as_ref(),
            b"\x89PNG fake image bytes"
        );
        expect(
            app.get(&format!("/files/{missing}")).await,
            StatusCode::NOT_FOUND,
        )
        .await;
        expect(
            app.get("/files/..%2F..%2Fetc%2Fpasswd").await,
            StatusCode::NOT_FOUND,
        )
        .await;
        let r = app
            .client
            .post(app.url("/files"))
            .body("no type")
            .send()
            .await
            .unwrap();
        expect(r, StatusCode::UNSUPPORTED_MEDIA_TYPE).await;
    }
);
