//! Serial numbers under concurrency: unique and gap-free, no SQLITE_BUSY.

use futures::future::join_all;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::on_both_stores;

on_both_stores!(
    fifty_concurrent_clients_get_unique_gap_free_serial_numbers,
    |app: TestApp| async move {
        app.app("svc").await;
        app.publish_ok(
        "svc",
        "ticket",
        json!({"type": "object", "properties": {
            "no": {"type": "string", "x-type": "serial", "x-serial": "SO-{yyyyMMdd}-{0000}", "readOnly": true},
            "what": {"type": "string"}
        }, "required": ["no", "what"]}),
    )
    .await;
        let clients = 50;
        let per_client = 4;
        let tasks = (0..clients).map(|c| {
            let client = app.client.clone();
            let url = app.url("/apps/svc/forms/ticket/records");
            async move {
                let mut got = Vec::new();
                for i in 0..per_client {
                    let r = client
                        .post(&url)
                        .json(&json!({"data": {"what": format!("{c}-{i}")}}))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(r.status(), StatusCode::CREATED);
                    let v: Value = r.json().await.unwrap();
                    got.push(v["data"]["no"].as_str().unwrap().to_owned());
                }
                got
            }
        });
        let mut numbers: Vec<String> = join_all(tasks).await.into_iter().flatten().collect();
        numbers.sort();
        let total = clients * per_client;
        assert_eq!(numbers.len(), total);
        let prefix = &numbers[0][..12];
        let expected: Vec<String> = (1..=total).map(|n| format!("{prefix}{n:04}")).collect();
        assert_eq!(numbers, expected, "unique and gap-free");
        let listed = app.list("svc", "ticket", &[("total", "true".into())]).await;
        assert_eq!(listed["total"], total);
    }
);

on_both_stores!(
    a_refused_write_does_not_use_up_a_number,
    |app: TestApp| async move {
        app.app("svc").await;
        app.app("other").await;
        app.publish_ok("svc", "target", json!({"type": "object"}))
            .await;
        app.publish_ok(
        "svc",
        "ticket",
        json!({"type": "object", "properties": {
            "no": {"type": "string", "x-type": "serial", "x-serial": "T{0000}", "readOnly": true},
            "target": {"type": "integer", "x-type": "reference", "x-ref": {"form": "target"}}
        }}),
    )
    .await;
        let a = app.create_ok("svc", "ticket", json!({})).await;
        assert_eq!(a["data"]["no"], "T0001");
        // Refused inside the writer (missing reference), after the number was drawn.
        let r = app.create("svc", "ticket", json!({"target": 999})).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let b = app.create_ok("svc", "ticket", json!({})).await;
        assert_eq!(b["data"]["no"], "T0002");
    }
);

on_both_stores!(
    concurrent_creates_with_some_refused_keep_numbers_gap_free,
    |app: TestApp| async move {
        // Creates arriving together run as one group in the writer; a refused one must be
        // answered alone while the others commit.
        app.app("svc").await;
        app.publish_ok("svc", "target", json!({"type": "object"}))
            .await;
        let target = app.create_ok("svc", "target", json!({})).await["id"]
            .as_i64()
            .unwrap();
        app.publish_ok(
        "svc",
        "ticket",
        json!({"type": "object", "properties": {
            "no": {"type": "string", "x-type": "serial", "x-serial": "T{0000}", "readOnly": true},
            "target": {"type": "integer", "x-type": "reference", "x-ref": {"form": "target"}}
        }}),
    )
    .await;
        let url = app.url("/apps/svc/forms/ticket/records");
        let tasks = (0..60).map(|i| {
            let (client, url) = (app.client.clone(), url.clone());
            async move {
                let t = if i % 5 == 0 { 999_999 } else { target };
                let r = client
                    .post(&url)
                    .json(&json!({"data": {"target": t}}))
                    .send()
                    .await
                    .unwrap();
                let status = r.status();
                let body: Value = r.json().await.unwrap();
                (i, status, body)
            }
        });
        let mut numbers = Vec::new();
        for (i, status, body) in join_all(tasks).await {
            if i % 5 == 0 {
                assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
                assert_eq!(body["details"][0]["pointer"], "/data/target");
            } else {
                assert_eq!(status, StatusCode::CREATED, "{body}");
                numbers.push(body["data"]["no"].as_str().unwrap().to_owned());
            }
        }
        numbers.sort();
        let expected: Vec<String> = (1..=48).map(|n| format!("T{n:04}")).collect();
        assert_eq!(numbers, expected);
    }
);
