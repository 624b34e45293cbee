//! The official JSON Schema Test Suite (draft 2020-12, required tests), run through the
//! HTTP API: each case's schema becomes a published form, each test's data is posted as a
//! record, and accept/reject must match the suite's `valid`.
//!
//! Data: `shared/conformance/json-schema-test-suite/tests/draft2020-12/*.json`, from
//! https://github.com/json-schema-org/JSON-Schema-Test-Suite (used as is).

use reqwest::StatusCode;
use serde_json::Value;
use std::path::PathBuf;

use crate::helpers::{Store, TestApp};

/// Cases the platform refuses on purpose, with the reason. Matched by file and case
/// description; a refused case that is not listed here fails the test, and so does a listed
/// case that is no longer refused.
const EXCLUDED: &[(&str, &str, &str)] = &[
    (
        "refRemote.json",
        "*",
        "remote references: the platform never fetches schemas over the network",
    ),
    (
        "dynamicRef.json",
        "strict-tree schema, guards against misspelled properties",
        "references a remote schema (localhost:1234), never fetched",
    ),
    (
        "dynamicRef.json",
        "tests for implementation dynamic anchor and reference link",
        "references a remote schema (localhost:1234), never fetched",
    ),
    (
        "dynamicRef.json",
        "$ref and $dynamicAnchor are independent of order - $defs first",
        "references a remote schema (localhost:1234), never fetched",
    ),
    (
        "dynamicRef.json",
        "$ref and $dynamicAnchor are independent of order - $ref first",
        "references a remote schema (localhost:1234), never fetched",
    ),
    (
        "dynamicRef.json",
        "$ref to $dynamicRef finds detached $dynamicAnchor",
        "references a remote schema (localhost:1234), never fetched",
    ),
    (
        "vocabulary.json",
        "*",
        "custom meta-schemas: a form's $schema must be the 2020-12 meta-schema itself",
    ),
];

/// Single tests the platform answers differently on purpose: (file, case, test, reason).
const EXCLUDED_TESTS: &[(&str, &str, &str, &str)] = &[
    (
        "const.json",
        "nul characters in strings",
        "match string with nul",
        "text with NUL characters is refused on every store (PostgreSQL cannot store them)",
    ),
    (
        "enum.json",
        "nul characters in strings",
        "match string with nul",
        "text with NUL characters is refused on every store (PostgreSQL cannot store them)",
    ),
];

fn suite_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/conformance/json-schema-test-suite/tests/draft2020-12")
}

fn excluded(file: &str, description: &str) -> Option<&'static str> {
    EXCLUDED
        .iter()
        .find(|(f, d, _)| *f == file && (*d == "*" || *d == description))
        .map(|(_, _, why)| *why)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_json_schema_test_suite_passes_through_the_records_api() {
    let app = TestApp::spawn(Store::Sqlite).await;
    app.app("conf").await;
    let mut files: Vec<PathBuf> = std::fs::read_dir(suite_dir())
        .expect("the conformance suite is beside the project (shared/conformance)")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    let (mut passed, mut excluded_cases, mut excluded_tests, mut failures) = (0, 0, 0, Vec::new());
    let mut form_no = 0;
    for path in &files {
        let file = path.file_name().unwrap().to_string_lossy().to_string();
        let cases: Vec<Value> =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        for case in cases {
            let description = case["description"].as_str().unwrap_or_default().to_owned();
            form_no += 1;
            let form = format!("c{form_no}");
            let published = app
                .publish_schema("conf", &form, case["schema"].clone())
                .await;
            let publish_status = published.status();
            let why = excluded(&file, &description);
            if !publish_status.is_success() {
                let body = published.text().await.unwrap();
                match why {
                    Some(_) => excluded_cases += 1,
                    None => {
                        failures.push(format!("{file} / {description}: schema refused: {body}"))
                    }
                }
                continue;
            }
            if let Some(why) = why {
                failures.push(format!(
                    "{file} / {description}: listed as excluded ({why}) but the schema was accepted"
                ));
                continue;
            }
            for test in case["tests"].as_array().unwrap() {
                let name = test["description"].as_str().unwrap_or_default();
                if EXCLUDED_TESTS
                    .iter()
                    .any(|(f, c, t, _)| *f == file && *c == description && *t == name)
                {
                    excluded_tests += 1;
                    let r = app.create("conf", &form, test["data"].clone()).await;
                    assert_eq!(
                        r.status(),
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "{file} / {description} / {name} is excluded because it is refused"
                    );
                    continue;
                }
                let valid = test["valid"].as_bool().unwrap();
                let r = app.create("conf", &form, test["data"].clone()).await;
                let status = r.status();
                let ok = matches!(
                    (valid, status),
                    (true, StatusCode::CREATED) | (false, StatusCode::UNPROCESSABLE_ENTITY)
                );
                if ok {
                    passed += 1;
                } else {
                    let body = r.text().await.unwrap();
                    failures.push(format!(
                        "{file} / {description} / {}: expected {}, got {status} {body}",
                        test["description"].as_str().unwrap_or_default(),
                        if valid { "valid" } else { "invalid" }
                    ));
                }
            }
        }
    }
    println!(
        "JSON Schema Test Suite draft2020-12 via HTTP: {passed} tests passed, {excluded_cases} cases and {excluded_tests} tests excluded, {} failures",
        failures.len()
    );
    assert!(passed > 1000, "the suite ran ({passed} tests)");
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
