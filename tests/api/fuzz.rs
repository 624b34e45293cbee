//! Never a 500: every route of the platform's and the CRM's OpenAPI documents, called by an
//! engineer and by an administrator with odd path values, odd query strings and odd bodies,
//! answers below 500 and, when it refuses, in the one error shape. Seeded, so a failure
//! repeats.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, expect};
use crate::on_both_stores;

/// A value for a path parameter: sometimes one that exists, mostly one that does not fit.
fn path_value(name: &str, rng: &mut ChaCha8Rng) -> String {
    let good: &[&str] = match name {
        "app" => &["crm"],
        "form" => &["service_order", "customer"],
        "id" => &["1", "2"],
        "username" => &["engineer1", "nobody"],
        "report" | "key" => &["orders_by_month", "service"],
        _ => &["1", "crm"],
    };
    let odd = [
        "0",
        "-1",
        "99999999999999999999999",
        "abc",
        "%00",
        "%C3%28",
        "..%2F..",
        "x%20y",
        "ÄÖÜ",
        "a-very-long-name-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    ];
    if rng.random_bool(0.4) {
        good[rng.random_range(0..good.len())].to_owned()
    } else {
        odd[rng.random_range(0..odd.len())].to_owned()
    }
}

/// An odd query string.
fn query(rng: &mut ChaCha8Rng) -> &'static str {
    const Q: &[&str] = &[
        "",
        "?limit=-1",
        "?limit=99999999999999999999",
        "?filter=%7Bbad",
        "?filter=%5B%5D",
        "?filter=%7B%22%3D%3D%22%3A%5B%7B%22var%22%3A%5B%5D%7D%2C1%5D%7D",
        "?sort=,,",
        "?sort=-",
        "?cursor=%FF%FE",
        "?fields=&expand=",
        "?format=exe",
        "?from=yesterday&to=2026-13-45",
        "?after=-5&before=abc",
        "?total=maybe",
    ];
    Q[rng.random_range(0..Q.len())]
}

/// An odd body, as raw text (some not JSON at all).
fn body(rng: &mut ChaCha8Rng) -> String {
    let deep = format!("{}{}", "[".repeat(300), "]".repeat(300));
    let bodies: Vec<String> = vec![
        "null".into(),
        "[]".into(),
        "{}".into(),
        "\"text\"".into(),
        "1e999".into(),
        "{\"data\": null}".into(),
        "{\"data\": {\"customer\": \"abc\", \"priority\": 7}}".into(),
        "{\"data\": {\"parts_used\": [{\"qty\": -1e300}]}}".into(),
        json!({"definition": {"form": "nope", "dimensions": [{}], "measures": [[]]}}).to_string(),
        json!({"schema": {"type": "object", "properties": {"x": {"type": "nope"}}}}).to_string(),
        json!({"nodes": "x", "edges": [1], "trigger": null}).to_string(),
        json!({"roles": {"crm": ["nope"]}, "attributes": [], "password": ""}).to_string(),
        json!({"label": 5, "permissions": {"*": {"rows": {"filter": {"ref": 1}}}}}).to_string(),
        json!({"items": [{"id": "x"}, null]}).to_string(),
        "{\"a\": \"\\u0000\"}".into(),
        deep,
        "{not json".into(),
    ];
    bodies[rng.random_range(0..bodies.len())].clone()
}

async fn no_route_answers_500(app: TestApp) {
    crate::permissions::setup(&app).await;
    // The platform's routes, and the CRM's own (one set per form).
    let platform = expect(app.get("/openapi.json").await, StatusCode::OK).await;
    let crm = expect(app.get("/apps/crm/openapi.json").await, StatusCode::OK).await;
    let mut paths: Vec<(&String, &Value)> = platform["paths"].as_object().unwrap().iter().collect();
    paths.extend(crm["paths"].as_object().unwrap().iter());
    let mut calls: Vec<(Method, String)> = Vec::new();
    for (path, item) in paths {
        for (m, _) in item.as_object().unwrap() {
            let method = match m.as_str() {
                "get" => Method::GET,
                "post" => Method::POST,
                "put" => Method::PUT,
                "patch" => Method::PATCH,
                "delete" => Method::DELETE,
                _ => continue,
            };
            // Ending the session or the server's own credentials would end the test early.
            if path.contains("logout") || path.contains("password") {
                continue;
            }
            calls.push((method, path.clone()));
        }
    }
    assert!(calls.len() > 40, "{} routes", calls.len());
    // Deletions last, so the rest meet the data before it goes.
    calls.sort_by_key(|(m, _)| *m == Method::DELETE);
    let seed: u64 = std::env::var("FORMWORK_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0xF022);
    let mut rng = ChaCha8Rng::seed_from_u64(seed + app.store as u64);
    let mut sent = 0;
    // First as an engineer (row scope, hidden fields, most routes forbidden), then as the
    // administrator, whose deletions come last.
    let engineer = crate::crm::user(&app, "engineer1", &["engineer"], Some("svc_east")).await;
    for (who, client) in [("engineer1", &engineer), ("admin", &app.client)] {
        for (method, path) in &calls {
            let rounds: usize = std::env::var("FORMWORK_FUZZ_ROUNDS")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(6);
            for _ in 0..rounds {
                let mut url = String::new();
                let mut rest = path.as_str();
                while let Some(open) = rest.find('{') {
                    let close = rest[open..].find('}').map(|c| open + c).unwrap();
                    url.push_str(&rest[..open]);
                    url.push_str(&path_value(&rest[open + 1..close], &mut rng));
                    rest = &rest[close + 1..];
                }
                url.push_str(rest);
                url.push_str(query(&mut rng));
                let mut req = client.request(method.clone(), app.url(&url));
                let text = body(&mut rng);
                if *method != Method::GET && *method != Method::DELETE {
                    req = req
                        .header("content-type", "application/json")
                        .body(text.clone());
                }
                let r = req.send().await.unwrap();
                sent += 1;
                let status = r.status();
                let is_json = r
                    .headers()
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.starts_with("application/json"));
                let answer = r.text().await.unwrap_or_default();
                assert!(
                    status.as_u16() < 500,
                    "{who}: {method} {url} with {} → {status}: {answer}",
                    &text[..text.len().min(120)]
                );
                if status.is_client_error() && is_json {
                    let v: Value = serde_json::from_str(&answer).unwrap();
                    assert!(
                        v["code"].is_string()
                            && v["message"].is_string()
                            && v["details"].is_array(),
                        "{who}: {method} {url} → {status}: {answer}"
                    );
                }
            }
        }
    }
    assert!(sent > 480);
}

on_both_stores!(no_route_answers_500_to_odd_input, no_route_answers_500);
