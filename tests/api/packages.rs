//! App packages: the CRM imports, idempotently; export writes the same definitions back.

use reqwest::StatusCode;
use serde_json::{Value, json};
use std::path::PathBuf;

use crate::helpers::{Store, TestApp, expect, settings_for};

fn crm_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../seed-apps/medical-device-crm")
}

async fn import_export_roundtrip(store: Store) {
    let dir = tempfile::tempdir().unwrap();
    let url = match store {
        Store::Sqlite => format!("sqlite://{}", dir.path().join("formwork.db").display()),
        Store::Postgres => crate::helpers::fresh_pg_database().await,
    };
    let settings = settings_for(store, dir.path(), &url);
    let services = formwork::startup::Services::start(&settings).await.unwrap();
    let actor = formwork::auth::Caller::system();
    let first = formwork::service::package::import(&services.package(), &crm_dir(), &actor)
        .await
        .unwrap();
    assert_eq!(first.app, "crm");
    assert!(first.forms >= 18, "every CRM form is in the package");
    assert_eq!(first.published, first.forms);
    let again = formwork::service::package::import(&services.package(), &crm_dir(), &actor)
        .await
        .unwrap();
    assert_eq!(
        again.published, 0,
        "importing the same package again changes nothing"
    );
    let out = dir.path().join("export");
    let n = formwork::service::package::export(&services.package(), "crm", &out)
        .await
        .unwrap();
    assert_eq!(n, first.forms);
    // Shared list views travel with the package: imported once (not again on the second
    // import), exported as they came.
    let views_file = |d: &std::path::Path| -> Vec<Value> {
        let text = std::fs::read_to_string(d.join("views").join("service_order.json")).unwrap();
        let mut v: Vec<Value> = serde_json::from_str(&text).unwrap();
        v.sort_by_key(|x| x["name"].as_str().unwrap_or_default().to_owned());
        v
    };
    let shipped = views_file(&crm_dir());
    assert_eq!(first.views, shipped.len());
    assert_eq!(again.views, first.views);
    assert_eq!(views_file(&out), shipped);
    for entry in std::fs::read_dir(crm_dir().join("forms")).unwrap() {
        let p = entry.unwrap().path();
        let original: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
        let exported: Value = serde_json::from_str(
            &std::fs::read_to_string(out.join("forms").join(p.file_name().unwrap())).unwrap(),
        )
        .unwrap();
        assert_eq!(original, exported, "{}", p.display());
    }
    let summary = formwork::service::demo::generate(&services, &crm_dir(), "small", None, true)
        .await
        .unwrap();
    assert!(summary.contains("service_order: 500"), "{summary}");
    services.finish().await;

    // The server sees the imported app and its demo data.
    let app = TestApp::spawn_with(store, dir, url).await;
    let orders = app
        .list(
            "crm",
            "service_order",
            &[
                ("total", "true".into()),
                ("limit", "5".into()),
                ("expand", "customer".into()),
            ],
        )
        .await;
    assert_eq!(orders["total"], 500);
    // Demo times follow each other (x-demo "after"): reported → accepted → arrived →
    // resolved → followed up, so the dashboards' durations are positive.
    let timed = app
        .list(
            "crm",
            "service_order",
            &[
                ("limit", "200".into()),
                (
                    "fields",
                    "reported_at,accepted_at,arrived_at,resolved_at,followed_up_at".into(),
                ),
            ],
        )
        .await;
    let mut pairs = 0;
    for o in timed["items"].as_array().unwrap() {
        let at = |k: &str| {
            o["data"][k]
                .as_str()
                .map(|t| chrono::DateTime::parse_from_rfc3339(t).unwrap())
        };
        let chain = [
            "reported_at",
            "accepted_at",
            "arrived_at",
            "resolved_at",
            "followed_up_at",
        ];
        for w in chain.windows(2) {
            if let (Some(a), Some(b)) = (at(w[0]), at(w[1])) {
                assert!(a <= b, "{} after {}: {o}", w[0], w[1]);
                pairs += 1;
            }
        }
    }
    assert!(pairs > 100, "only {pairs} pairs of times");
    let depts = expect(app.get("/admin/departments").await, StatusCode::OK).await;
    let svc = depts["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == "svc")
        .cloned();
    assert_eq!(svc.unwrap()["head"], "director", "{depts}");
    let first = &orders["items"][0];
    assert!(
        first["data"]["serial"].as_str().unwrap().starts_with("SO-"),
        "{first}"
    );
    assert_eq!(first["expand"]["customer"]["id"], first["data"]["customer"]);
    let forms = expect(app.get("/apps/crm/forms").await, StatusCode::OK).await;
    assert_eq!(forms["items"].as_array().unwrap().len(), 18);
    let bad = app
        .create("crm", "service_order", json!({"kind": "repair"}))
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // OpenAPI: the platform's and the app's, every internal reference resolving.
    for path in ["/openapi.json", "/apps/crm/openapi.json"] {
        let doc = expect(app.get(path).await, StatusCode::OK).await;
        assert_eq!(doc["openapi"], "3.1.0");
        let mut refs = Vec::new();
        collect_refs(&doc, &mut refs);
        assert!(!refs.is_empty());
        for r in refs {
            let pointer = r
                .strip_prefix('#')
                .unwrap_or_else(|| panic!("external ref {r}"));
            assert!(doc.pointer(pointer).is_some(), "{path}: unresolved {r}");
        }
        // A valid OpenAPI 3.1 document by an independent validator (openapi-spec-validator,
        // from PyPI: scripts/test-deps.sh).
        let file = app.dir.path().join("openapi-check.json");
        std::fs::write(&file, doc.to_string()).unwrap();
        let out = std::process::Command::new("python3")
            .args([
                "-c",
                "import json,sys; from openapi_spec_validator import validate; validate(json.load(open(sys.argv[1])))",
                file.to_str().unwrap(),
            ])
            .output()
            .expect("python3 runs");
        assert!(
            out.status.success(),
            "{path} is not a valid OpenAPI 3.1 document: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let doc = expect(app.get("/apps/crm/openapi.json").await, StatusCode::OK).await;
    for form in [
        "customer",
        "device",
        "service_order",
        "qualification",
        "contract",
    ] {
        assert!(
            doc["paths"]
                .get(format!("/apps/crm/forms/{form}/records"))
                .is_some(),
            "{form}"
        );
    }
    assert_eq!(
        doc["components"]["schemas"]["service_order_data"]["properties"]["serial"]["x-serial"],
        "SO-{yyyyMMdd}-{0000}"
    );
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get("$ref") {
                out.push(r.clone());
            }
            m.values().for_each(|x| collect_refs(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| collect_refs(x, out)),
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_crm_package_imports_idempotently_and_exports_unchanged_on_sqlite() {
    import_export_roundtrip(Store::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_crm_package_imports_idempotently_and_exports_unchanged_on_postgres() {
    import_export_roundtrip(Store::Postgres).await;
}
