//! The medical-device CRM loaded through the public API (app, form drafts, publish, roles,
//! departments, users), with a small data set whose confidential values the permission
//! tests look for.

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use std::path::PathBuf;

use crate::helpers::{TestApp, client_with, expect, token_for};

pub fn crm_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../seed-apps/medical-device-crm")
}

fn docs(sub: &str) -> Vec<Value> {
    let mut paths: Vec<_> = std::fs::read_dir(crm_dir().join(sub))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
        .collect()
}

/// Role keys of the CRM package.
pub fn role_keys() -> Vec<String> {
    docs("roles")
        .iter()
        .map(|r| r["key"].as_str().unwrap().to_owned())
        .collect()
}

/// The CRM package's role documents.
pub fn role_docs() -> Vec<Value> {
    docs("roles")
}

/// Install the CRM the way an integrator would: app, drafts, publish, roles.
pub async fn install(app: &TestApp) {
    let def: Value =
        serde_json::from_str(&std::fs::read_to_string(crm_dir().join("app.json")).unwrap())
            .unwrap();
    expect(app.put("/apps/crm", &def).await, StatusCode::OK).await;
    let forms = docs("forms");
    for f in &forms {
        let k = f["key"].as_str().unwrap();
        expect(
            app.put(&format!("/apps/crm/forms/{k}/draft"), f).await,
            StatusCode::OK,
        )
        .await;
    }
    for f in &forms {
        let k = f["key"].as_str().unwrap();
        let r = app
            .client
            .post(app.url(&format!("/apps/crm/forms/{k}/publish")))
            .send()
            .await
            .unwrap();
        assert!(
            r.status().is_success(),
            "publish {k}: {}",
            r.text().await.unwrap()
        );
    }
    for r in docs("roles") {
        let k = r["key"].as_str().unwrap();
        expect(
            app.put(&format!("/apps/crm/roles/{k}"), &r).await,
            StatusCode::OK,
        )
        .await;
    }
}

/// Publish the package's reports and flows (after `install`).
pub async fn install_flows(app: &TestApp) {
    // Reports first: report nodes name them.
    for entry in std::fs::read_dir(crm_dir().join("reports")).unwrap() {
        let p = entry.unwrap().path();
        let key = p.file_stem().unwrap().to_str().unwrap().to_owned();
        let def: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
        expect(
            app.put(&format!("/apps/crm/reports/{key}"), &def).await,
            StatusCode::OK,
        )
        .await;
    }
    // Sub-flows first, as the package import does.
    for f in formwork::flows::definition::publish_order(&docs("flows")) {
        let k = f["key"].as_str().unwrap();
        // As a package is installed: before the people who hold its roles exist.
        let r = app
            .post(
                &format!("/apps/crm/flows/{k}/publish?allow_unstaffed=true"),
                &f,
            )
            .await;
        assert_eq!(
            r.status(),
            StatusCode::CREATED,
            "publish flow {k}: {}",
            r.text().await.unwrap()
        );
    }
}

pub fn password_of(user: &str) -> String {
    format!("password-of-{user}")
}

/// Create (or, when it exists, update) a user with roles in the CRM and return a client
/// acting as them.
pub async fn user(app: &TestApp, name: &str, roles: &[&str], dept: Option<&str>) -> Client {
    let body = json!({
        "username": name, "display_name": name, "password": password_of(name),
        "department": dept, "roles": {"crm": roles},
    });
    let r = app.post("/admin/users", &body).await;
    if r.status() == StatusCode::CONFLICT {
        let mut change = body.clone();
        change.as_object_mut().unwrap().remove("username");
        expect(
            app.patch(&format!("/admin/users/{name}"), &change).await,
            StatusCode::OK,
        )
        .await;
    } else {
        expect(r, StatusCode::CREATED).await;
    }
    client_with(&token_for(&app.base, name, &password_of(name), None).await)
}

pub async fn department(app: &TestApp, id: &str, parent: Option<&str>) {
    expect(
        app.put(
            &format!("/admin/departments/{id}"),
            &json!({"name": id, "parent": parent}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
}

/// Ids of the records the permission tests use.
pub struct Data {
    pub customer_a: i64,
    pub customer_b: i64,
    pub contract_a: i64,
    pub contract_b: i64,
    pub order_e1: i64,
    pub order_e2: i64,
    pub device_a: i64,
    pub qualification_a: i64,
}

pub const AMOUNT_A: f64 = 731_234.56;
pub const AMOUNT_B: f64 = 982_345.67;
pub const FEE_1: f64 = 4_321.98;
pub const FEE_2: f64 = 5_432.19;

async fn create(app: &TestApp, form: &str, data: Value) -> i64 {
    let r = app.create("crm", form, data).await;
    expect(r, StatusCode::CREATED).await["id"].as_i64().unwrap()
}

/// Customers owned by sales1 and sales2, a contract each, a service order for engineer1
/// (with a spare part used) and one for engineer2 (team east and west), a device and a
/// qualification.
pub async fn seed(app: &TestApp) -> Data {
    // Member fields name existing users.
    for name in ["sales1", "sales2", "engineer1", "engineer2"] {
        let body = json!({"username": name, "display_name": name, "password": password_of(name)});
        expect(app.post("/admin/users", &body).await, StatusCode::CREATED).await;
    }
    let customer_a = create(
        app,
        "customer",
        json!({"name": "协和医院", "customer_type": "hospital", "owner": "sales1"}),
    )
    .await;
    let customer_b = create(
        app,
        "customer",
        json!({"name": "华山医院", "customer_type": "hospital", "owner": "sales2"}),
    )
    .await;
    let contract_a = create(
        app,
        "contract",
        json!({"contract_no": "HT-A", "customer": customer_a, "kind": "sale", "amount": AMOUNT_A}),
    )
    .await;
    let contract_b = create(app, "contract", json!({"contract_no": "HT-B", "customer": customer_b, "kind": "service", "amount": AMOUNT_B})).await;
    let product = create(
        app,
        "product",
        json!({"name": "监护仪", "model": "FM-100", "device_class": "class_ii"}),
    )
    .await;
    let device_a = create(app, "device", json!({"product": product, "serial_number": "SN-1", "customer": customer_a, "contract": contract_a, "service_team": "svc_east"})).await;
    let part = create(
        app,
        "spare_part",
        json!({"part_number": "P-1", "name": "电源板", "unit_cost": 777.25}),
    )
    .await;
    let order_e1 = create(app, "service_order", json!({"kind": "repair", "priority": "normal", "customer": customer_a, "device": device_a, "fault_description": "no display", "engineer": "engineer1", "service_team": "svc_east", "service_fee": FEE_1, "parts_used": [{"part": part, "qty": 2, "unit_cost": 777.25}]})).await;
    let order_e2 = create(app, "service_order", json!({"kind": "repair", "priority": "high", "customer": customer_b, "fault_description": "alarm", "engineer": "engineer2", "service_team": "svc_west", "service_fee": FEE_2})).await;
    let qualification_a = create(app, "qualification", json!({"customer": customer_a, "kind": "distribution_licence", "number": "Q-1", "expires_on": "2030-01-01"})).await;
    Data {
        customer_a,
        customer_b,
        contract_a,
        contract_b,
        order_e1,
        order_e2,
        device_a,
        qualification_a,
    }
}

pub async fn get(client: &Client, app: &TestApp, path: &str) -> (StatusCode, Value) {
    let r = client.get(app.url(path)).send().await.unwrap();
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

pub async fn send(
    client: &Client,
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    body: &Value,
) -> (StatusCode, Value) {
    let r = client
        .request(method, app.url(path))
        .json(body)
        .send()
        .await
        .unwrap();
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}
