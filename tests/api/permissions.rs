//! Field-level permissions with no side doors, on the CRM's own roles: what an engineer,
//! a sales rep, compliance and finance may see and write, through every door.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::crm::{self, AMOUNT_A, AMOUNT_B, Data, FEE_1, FEE_2, get, send};
use crate::helpers::{TestApp, expect};
use crate::on_both_stores;

fn money_text(v: f64) -> String {
    format!("{v}")
}

/// True when `text` mentions any confidential value of the seed data.
pub(crate) fn leaks(text: &str) -> Option<String> {
    [AMOUNT_A, AMOUNT_B, FEE_1, FEE_2]
        .into_iter()
        .map(money_text)
        .find(|m| text.contains(m.as_str()))
}

pub(crate) async fn setup(app: &TestApp) -> Data {
    crm::install(app).await;
    crm::department(app, "svc", None).await;
    crm::department(app, "svc_east", Some("svc")).await;
    crm::department(app, "svc_west", Some("svc")).await;
    crm::seed(app).await
}

/// Every read door an engineer has, none of which may show a contract amount or service fee.
async fn engineer_reads(app: &TestApp, eng: &reqwest::Client, d: &Data) -> Vec<(String, String)> {
    let paths = [
        format!("/apps/crm/forms/contract/records/{}", d.contract_a),
        "/apps/crm/forms/contract/records?total=true".to_string(),
        "/apps/crm/forms/contract/records?sort=contract_no&limit=1".to_string(),
        format!("/apps/crm/forms/service_order/records/{}", d.order_e1),
        "/apps/crm/forms/service_order/records?total=true".to_string(),
        "/apps/crm/forms/device/records?expand=contract".to_string(),
        "/apps/crm/forms/contract".to_string(),
        "/apps/crm/forms/service_order".to_string(),
        "/apps/crm/openapi.json".to_string(),
        format!(
            "/apps/crm/forms/service_order/records/{}/history",
            d.order_e1
        ),
        format!("/apps/crm/forms/contract/records/{}/history", d.contract_a),
        // The printed service report (the CRM's template prints the fee for those who
        // may read it).
        format!("/apps/crm/forms/service_order/records/{}/print", d.order_e1),
    ];
    let mut out = Vec::new();
    for p in paths {
        let r = eng.get(app.url(&p)).send().await.unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        assert!(status.is_success(), "engineer GET {p}: {status} {text}");
        out.push((p, text));
    }
    out
}

/// `text` with every `YYYY-MM-DD HH:MM` left out.
fn without_times(text: &str) -> String {
    let shape = b"dddd-dd-dd dd:dd";
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let fits = b.len() - i >= shape.len()
            && shape.iter().zip(&b[i..]).all(|(s, c)| match s {
                b'd' => c.is_ascii_digit(),
                s => s == c,
            });
        if fits {
            i += shape.len();
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap_or_default()
}

/// Remove what legitimately changes when someone else edits a record.
pub(crate) fn normalise(text: &str) -> String {
    let Ok(mut v) = serde_json::from_str::<Value>(text) else {
        // A printed page: its print time.
        return without_times(text);
    };
    fn strip(v: &mut Value) {
        match v {
            Value::Object(o) => {
                for k in [
                    "row_version",
                    "updated_at",
                    "updated_by",
                    "at",
                    "seq",
                    "hash",
                    "prev_hash",
                    "next_cursor",
                ] {
                    o.remove(k);
                }
                o.values_mut().for_each(strip);
            }
            Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    strip(&mut v);
    v.to_string()
}

on_both_stores!(
    an_engineer_never_learns_a_contract_amount_or_service_fee,
    |app: TestApp| async move {
        let d = setup(&app).await;
        let eng = crm::user(&app, "engineer1", &["engineer"], Some("svc_east")).await;

        // Directly, in lists, in expansions, exports, definitions, OpenAPI and history.
        let before = engineer_reads(&app, &eng, &d).await;
        for (path, text) in &before {
            assert_eq!(
                leaks(text),
                None,
                "{path} leaks a confidential value: {text}"
            );
            assert!(
                !text.contains("\"amount\":"),
                "{path} shows the amount field: {text}"
            );
            assert!(
                !text.contains("service_fee\":"),
                "{path} shows the service fee: {text}"
            );
        }

        // The expansion did happen (the contract is there, without its amount).
        let (_, devices) = get(&eng, &app, &format!("/apps/crm/forms/device/records?expand=contract&filter=%7B%22%3D%3D%22%3A%5B%7B%22var%22%3A%22_id%22%7D%2C{}%5D%7D", d.device_a)).await;
        let expanded = &devices["items"][0]["expand"]["contract"];
        assert_eq!(expanded["data"]["contract_no"], "HT-A", "{devices}");
        assert!(expanded["data"].get("amount").is_none(), "{devices}");

        // Filtering, sorting, selecting or searching by the field is refused, naming it.
        for (p, pointer) in [
            (
                "/apps/crm/forms/contract/records?filter=%7B%22%3E%22%3A%5B%7B%22var%22%3A%22amount%22%7D%2C0%5D%7D",
                "/filter",
            ),
            ("/apps/crm/forms/contract/records?sort=-amount", "/sort"),
            (
                "/apps/crm/forms/contract/records?fields=contract_no,amount",
                "/fields/1",
            ),
            (
                "/apps/crm/forms/service_order/records?sort=service_fee",
                "/sort",
            ),
        ] {
            let (s, body) = get(&eng, &app, p).await;
            assert_eq!(s, StatusCode::FORBIDDEN, "{p}: {body}");
            assert_eq!(body["details"][0]["pointer"], pointer, "{p}: {body}");
            assert!(
                body["message"].as_str().unwrap().contains("amount")
                    || body["message"].as_str().unwrap().contains("service_fee"),
                "{body}"
            );
        }
        let (s, body) = send(&eng, &app, Method::POST, "/apps/crm/forms/contract/records/query",
            &json!({"filter": {"or": [{"==": [{"var": "contract_no"}, "HT-A"]}, {">": [{"var": "amount"}, 1]}]}})).await;
        assert_eq!(
            s,
            StatusCode::FORBIDDEN,
            "a field nested in a filter is found: {body}"
        );

        // Exports are not an engineer's to make at all.
        let (s, _) = get(
            &eng,
            &app,
            "/apps/crm/forms/contract/records/export?format=csv",
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN);

        // Scrambling the confidential values changes nothing the engineer can see.
        for (form, id, field, v) in [
            ("contract", d.contract_a, "amount", 1.0),
            ("contract", d.contract_b, "amount", 99_999_999.0),
            ("service_order", d.order_e1, "service_fee", 0.01),
        ] {
            let r = app
                .patch(
                    &format!("/apps/crm/forms/{form}/records/{id}"),
                    &json!({"data": {field: v}}),
                )
                .await;
            assert_eq!(r.status(), StatusCode::OK);
        }
        // (The printed report does show the fee to whoever may read it.)
        let page = app
            .client
            .get(app.url(&format!(
                "/apps/crm/forms/service_order/records/{}/print",
                d.order_e1
            )))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("0.01 CNY"), "{page}");
        let after = engineer_reads(&app, &eng, &d).await;
        for ((p, a), (_, b)) in before.iter().zip(&after) {
            assert_eq!(
                normalise(a),
                normalise(b),
                "{p} answers differently once the hidden values change"
            );
        }
    }
);

on_both_stores!(
    an_engineer_works_only_their_own_orders_and_only_their_fields,
    |app: TestApp| async move {
        let d = setup(&app).await;
        let eng = crm::user(&app, "engineer1", &["engineer"], Some("svc_east")).await;
        let mine = format!("/apps/crm/forms/service_order/records/{}", d.order_e1);
        let theirs = format!("/apps/crm/forms/service_order/records/{}", d.order_e2);

        // Rows out of scope do not exist for them; counts are scoped too.
        let (s, list) = get(
            &eng,
            &app,
            "/apps/crm/forms/service_order/records?total=true",
        )
        .await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(list["total"], 1);
        assert_eq!(list["items"][0]["id"], d.order_e1);
        assert_eq!(get(&eng, &app, &theirs).await.0, StatusCode::NOT_FOUND);
        let (s, _) = send(
            &eng,
            &app,
            Method::PATCH,
            &theirs,
            &json!({"data": {"cause": "x"}}),
        )
        .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (s, _) = send(&eng, &app, Method::DELETE, &mine, &json!(null)).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "engineers do not delete orders");

        // Their fields: yes. Priority, customer, service fee: refused, naming the field.
        let (s, body) = send(
            &eng,
            &app,
            Method::PATCH,
            &mine,
            &json!({"data": {"cause": "loose cable", "resolution": "replaced"}}),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        assert_eq!(body["data"]["cause"], "loose cable");
        assert!(body["data"].get("service_fee").is_none());
        for (field, value) in [
            ("priority", json!("urgent")),
            ("customer", json!(d.customer_b)),
            ("service_fee", json!(1)),
        ] {
            let (s, body) = send(
                &eng,
                &app,
                Method::PATCH,
                &mine,
                &json!({"data": {field: value}}),
            )
            .await;
            assert_eq!(s, StatusCode::FORBIDDEN, "{field}: {body}");
            assert_eq!(body["details"][0]["pointer"], format!("/data/{field}"));
            assert_eq!(body["details"][0]["rule"], "field_write");
        }
        // A full replace without the hidden fee keeps the fee (it was never shown).
        let (_, cur) = get(&eng, &app, &mine).await;
        let (s, body) = send(
            &eng,
            &app,
            Method::PUT,
            &mine,
            &json!({"data": cur["data"]}),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let (_, as_admin) = get(&app.client, &app, &mine).await;
        assert_eq!(as_admin["data"]["service_fee"], json!(FEE_1));
        // Bulk goes through the same checks.
        let (s, body) = send(
            &eng,
            &app,
            Method::PUT,
            "/apps/crm/forms/service_order/records/bulk",
            &json!({"items": [{"id": d.order_e1, "data": {"priority": "low"}}], "merge": true}),
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
        assert_eq!(body["details"][0]["pointer"], "/items/0/data/priority");
        // Creating orders is not theirs to do.
        let (s, _) = send(&eng, &app, Method::POST, "/apps/crm/forms/service_order/records",
            &json!({"data": {"kind": "repair", "priority": "low", "customer": d.customer_a, "fault_description": "x"}})).await;
        assert_eq!(s, StatusCode::FORBIDDEN);
        // Forms they have no role on are not there.
        assert_eq!(
            get(&eng, &app, "/apps/crm/forms/sales_order/records")
                .await
                .0,
            StatusCode::NOT_FOUND
        );
        let (_, forms) = get(&eng, &app, "/apps/crm/forms").await;
        let keys: Vec<&str> = forms["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["key"].as_str().unwrap())
            .collect();
        assert!(
            keys.contains(&"service_order") && !keys.contains(&"sales_order"),
            "{keys:?}"
        );
    }
);

on_both_stores!(
    sales_see_their_own_customers_and_only_compliance_reviews,
    |app: TestApp| async move {
        let d = setup(&app).await;
        let sales1 = crm::user(&app, "sales1", &["sales"], None).await;
        let compliance = crm::user(&app, "compliance1", &["compliance"], None).await;
        let finance = crm::user(&app, "finance1", &["finance"], None).await;

        let (_, customers) =
            get(&sales1, &app, "/apps/crm/forms/customer/records?total=true").await;
        assert_eq!(customers["total"], 1);
        assert_eq!(customers["items"][0]["id"], d.customer_a);
        // Contracts reach them through their customers, with amounts (their own contracts).
        let (cs, contracts) =
            get(&sales1, &app, "/apps/crm/forms/contract/records?total=true").await;
        assert_eq!(contracts["total"], 1, "{cs} {contracts}");
        assert_eq!(contracts["items"][0]["data"]["amount"], json!(AMOUNT_A));
        assert_eq!(
            get(
                &sales1,
                &app,
                &format!("/apps/crm/forms/contract/records/{}", d.contract_b)
            )
            .await
            .0,
            StatusCode::NOT_FOUND
        );
        // A filter cannot widen the scope.
        let (s, wide) = get(&sales1, &app, "/apps/crm/forms/contract/records?total=true&filter=%7B%22%3E%3D%22%3A%5B%7B%22var%22%3A%22_id%22%7D%2C0%5D%7D").await;
        assert_eq!(wide["total"], 1, "{s} {wide}");

        // Sales submit qualifications but may not review them; compliance may.
        let q = format!(
            "/apps/crm/forms/qualification/records/{}",
            d.qualification_a
        );
        let (s, body) = send(
            &sales1,
            &app,
            Method::PATCH,
            &q,
            &json!({"data": {"review_status": "approved"}}),
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
        assert_eq!(body["details"][0]["pointer"], "/data/review_status");
        let (s, body) = send(
            &sales1,
            &app,
            Method::PATCH,
            &q,
            &json!({"data": {"number": "Q-1b"}}),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let (s, body) = send(
            &compliance,
            &app,
            Method::PATCH,
            &q,
            &json!({"data": {"review_status": "approved", "review_comment": "ok"}}),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        let (s, _) = send(
            &compliance,
            &app,
            Method::PATCH,
            &q,
            &json!({"data": {"number": "Q-2"}}),
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN);

        // Finance reads amounts and fees and writes nothing.
        let (_, c) = get(
            &finance,
            &app,
            &format!("/apps/crm/forms/contract/records/{}", d.contract_b),
        )
        .await;
        assert_eq!(c["data"]["amount"], json!(AMOUNT_B));
        let (_, o) = get(
            &finance,
            &app,
            &format!("/apps/crm/forms/service_order/records/{}", d.order_e2),
        )
        .await;
        assert_eq!(o["data"]["service_fee"], json!(FEE_2));
        let (s, _) = send(
            &finance,
            &app,
            Method::PATCH,
            &format!("/apps/crm/forms/service_order/records/{}", d.order_e2),
            &json!({"data": {"cause": "x"}}),
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN);
    }
);

on_both_stores!(
    a_service_manager_sees_their_team_and_the_teams_below,
    |app: TestApp| async move {
        let d = setup(&app).await;
        let east = crm::user(&app, "manager_east", &["service_manager"], Some("svc_east")).await;
        let head = crm::user(&app, "manager_all", &["service_manager"], Some("svc")).await;
        let (_, l) = get(
            &east,
            &app,
            "/apps/crm/forms/service_order/records?total=true",
        )
        .await;
        assert_eq!(l["total"], 1);
        assert_eq!(l["items"][0]["id"], d.order_e1);
        let (_, l) = get(
            &head,
            &app,
            "/apps/crm/forms/service_order/records?total=true",
        )
        .await;
        assert_eq!(l["total"], 2);
        // Devices too: those of the manager's teams.
        let a = expect(
            app.get(&format!("/apps/crm/forms/device/records/{}", d.device_a))
                .await,
            StatusCode::OK,
        )
        .await;
        let mut data = a["data"].clone();
        data["serial_number"] = json!("SN-WEST");
        data["service_team"] = json!("svc_west");
        let west = app.create_ok("crm", "device", data).await["id"].clone();
        let devices = |c: &reqwest::Client| {
            let c = c.clone();
            let app = &app;
            async move {
                let (_, l) = get(&c, app, "/apps/crm/forms/device/records?total=true").await;
                let mut ids: Vec<Value> = l["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|i| i["id"].clone())
                    .collect();
                ids.sort_by_key(|v| v.as_i64());
                ids
            }
        };
        assert_eq!(devices(&east).await, vec![json!(d.device_a)]);
        assert_eq!(devices(&head).await, vec![json!(d.device_a), west.clone()]);
        // Dispatch: the manager assigns an engineer, but sees no contract amount.
        let (s, body) = send(
            &east,
            &app,
            Method::PATCH,
            &format!("/apps/crm/forms/service_order/records/{}", d.order_e1),
            &json!({"data": {"engineer": "engineer2"}}),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{body}");
        // Only people who exist: a member field names a user, a department field a department.
        let (s, body) = send(
            &east,
            &app,
            Method::PATCH,
            &format!("/apps/crm/forms/service_order/records/{}", d.order_e1),
            &json!({"data": {"engineer": "nobody", "service_team": "nowhere"}}),
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        let rules: Vec<&str> = body["details"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["rule"].as_str().unwrap())
            .collect();
        assert!(
            rules.contains(&"user") && rules.contains(&"department"),
            "{body}"
        );
        let (_, c) = get(
            &east,
            &app,
            &format!("/apps/crm/forms/contract/records/{}", d.contract_a),
        )
        .await;
        assert!(c["data"].get("amount").is_none(), "{c}");
        // Their exports carry no amount column and no amount; asking for it is refused.
        for format in ["csv", "xlsx"] {
            let r = east
                .get(app.url(&format!(
                    "/apps/crm/forms/contract/records/export?format={format}"
                )))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), StatusCode::OK);
            let bytes = r.bytes().await.unwrap();
            let text = if format == "csv" {
                String::from_utf8(bytes.to_vec()).unwrap()
            } else {
                crate::transfer::xlsx_text(&bytes)
            };
            assert!(text.contains("HT-A") && text.contains("HT-B"), "{text}");
            assert_eq!(leaks(&text), None, "{format}: {text}");
            assert!(!text.contains("amount"), "{format}: {text}");
        }
        let (s, body) = get(
            &east,
            &app,
            "/apps/crm/forms/contract/records/export?format=csv&fields=amount",
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
        assert_eq!(body["details"][0]["pointer"], "/fields/0");
    }
);

on_both_stores!(
    role_changes_take_effect_on_the_next_request,
    |app: TestApp| async move {
        let d = setup(&app).await;
        let eng = crm::user(&app, "engineer1", &["engineer"], Some("svc_east")).await;
        let path = format!("/apps/crm/forms/contract/records/{}", d.contract_a);
        assert!(
            get(&eng, &app, &path).await.1["data"]
                .get("amount")
                .is_none()
        );
        // Give engineers the amount: visible at once; take the role away: gone at once.
        let (_, mut role) = get(&app.client, &app, "/apps/crm/roles/engineer").await;
        role["permissions"]["contract"]["deny_read"] = json!([]);
        let r = app.put("/apps/crm/roles/engineer", &role).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(
            get(&eng, &app, &path).await.1["data"]["amount"],
            json!(AMOUNT_A)
        );
        let r = app
            .put("/admin/users/engineer1/roles", &json!({"crm": []}))
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(get(&eng, &app, &path).await.0, StatusCode::NOT_FOUND);
        // The explain endpoint says why.
        let (_, why) = get(
            &app.client,
            &app,
            "/apps/crm/explain?user=engineer1&form=contract&action=read",
        )
        .await;
        assert_eq!(why["allowed"], false);
        assert!(why["reason"].as_str().unwrap().contains("no role"), "{why}");
        // Every change is in the log.
        let (_, log) = get(&app.client, &app, "/audit?action=role.put").await;
        assert!(
            log["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["after"]["key"] == "engineer"),
            "{log}"
        );
    }
);

on_both_stores!(
    protected_system_fields_are_refused_on_every_write_route,
    |app: TestApp| async move {
        let d = setup(&app).await;
        let eng = crm::user(&app, "engineer1", &["engineer"], Some("svc_east")).await;
        let one = format!("/apps/crm/forms/service_order/records/{}", d.order_e1);
        let records = "/apps/crm/forms/service_order/records".to_string();
        let bulk = "/apps/crm/forms/service_order/records/bulk".to_string();
        // System fields beside `data`, and server-assigned fields inside it.
        let system = [
            "id",
            "owner",
            "row_version",
            "form_version",
            "created_at",
            "created_by",
            "updated_at",
            "updated_by",
            "deleted_at",
        ];
        let assigned = ["serial", "parts_cost"];
        let new = json!({"kind": "repair", "priority": "normal", "customer": d.customer_a,
                         "fault_description": "mass assignment probe", "service_team": "svc_east"});
        for (who, client) in [("admin", &app.client), ("engineer1", &eng)] {
            // What this caller reads of the order, minus what the server assigns: a
            // replace body that is valid on its own.
            let (_, rec) = get(client, &app, &one).await;
            let mut current = rec["data"].clone();
            for f in assigned {
                current.as_object_mut().unwrap().remove(f);
            }
            current["cause"] = json!("probe");
            // (route, body without a protected key, where `data` sits in it)
            let mut routes: Vec<(Method, String, Value, &str)> = vec![
                (Method::PUT, one.clone(), json!({"data": current}), ""),
                (
                    Method::PATCH,
                    one.clone(),
                    json!({"data": {"cause": "x"}}),
                    "",
                ),
                (
                    Method::PUT,
                    bulk.clone(),
                    json!({"items": [{"id": d.order_e1, "data": {"cause": "y"}}], "merge": true}),
                    "/items/0",
                ),
            ];
            // (engineers may not create at all)
            if who == "admin" {
                routes.push((Method::POST, records.clone(), json!({"data": new}), ""));
                routes.push((
                    Method::POST,
                    bulk.clone(),
                    json!({"items": [{"data": new}]}),
                    "/items/0",
                ));
            }
            for (method, path, control, at) in routes {
                // The body alone is accepted: any refusal below is the protected key's.
                let (s, body) = send(client, &app, method.clone(), &path, &control).await;
                assert!(s.is_success(), "{who} {method} {path} control: {s} {body}");
                let item = |body: &mut Value| -> Value {
                    if at.is_empty() {
                        body.clone()
                    } else {
                        body["items"][0].clone()
                    }
                };
                let put_back = |body: &mut Value, it: Value| {
                    if at.is_empty() {
                        *body = it;
                    } else {
                        body["items"][0] = it;
                    }
                };
                // A system field beside `data` (a bulk update item names its `id`, and may
                // carry its expected `row_version`).
                for k in system {
                    if at == "/items/0"
                        && method == Method::PUT
                        && (k == "id" || k == "row_version")
                    {
                        continue;
                    }
                    let mut b = control.clone();
                    let mut it = item(&mut b);
                    it[k] = json!("x");
                    put_back(&mut b, it);
                    let (s, body) = send(client, &app, method.clone(), &path, &b).await;
                    assert!(
                        s.is_client_error(),
                        "{who} {method} {path} with {k}: {s} {body}"
                    );
                    assert_eq!(
                        body["details"][0]["pointer"],
                        format!("{at}/{k}"),
                        "{who} {method} {path} with {k}: {body}"
                    );
                }
                // A server-assigned field inside `data`.
                for f in assigned {
                    let mut b = control.clone();
                    let mut it = item(&mut b);
                    it["data"][f] = json!("SO-19990101-0001");
                    put_back(&mut b, it);
                    let (s, body) = send(client, &app, method.clone(), &path, &b).await;
                    assert!(
                        s.is_client_error(),
                        "{who} {method} {path} with data.{f}: {s} {body}"
                    );
                    assert_eq!(
                        body["details"][0]["pointer"],
                        format!("{at}/data/{f}"),
                        "{who} {method} {path} with data.{f}: {body}"
                    );
                }
            }
        }
        // Import: a column of a system or server-assigned field is refused by name.
        let header = "kind,priority,customer,fault_description";
        let row = format!("repair,normal,{},imported", d.customer_a);
        let import = |csv: String| {
            app.client
                .post(app.url(&format!("{records}/import?dry_run=true")))
                .header("content-type", "text/csv")
                .body(csv)
                .send()
        };
        let r = import(format!("{header}\n{row}\n")).await.unwrap();
        assert!(
            r.status().is_success(),
            "control: {}",
            r.text().await.unwrap()
        );
        for k in ["owner", "created_by", "row_version", "serial", "parts_cost"] {
            let r = import(format!("{header},{k}\n{row},x\n")).await.unwrap();
            let s = r.status();
            let body: Value = r.json().await.unwrap();
            // A system column refuses the file; a server-assigned one each row (a dry run
            // reports row errors with 200).
            let refused = s.is_client_error() || body["error_count"].as_i64() > Some(0);
            assert!(refused, "import with {k}: {s} {body}");
            assert!(body.to_string().contains(k), "import with {k}: {body}");
        }
        let (_, rec) = get(&app.client, &app, &one).await;
        assert_eq!(rec["created_by"], "admin");
        assert_eq!(rec["owner"], "admin");
        assert!(
            rec["data"]["serial"]
                .as_str()
                .is_some_and(|s| s.starts_with("SO-") && s != "SO-19990101-0001"),
            "{rec}"
        );
    }
);

on_both_stores!(
    writes_cannot_leave_the_callers_rows,
    |app: TestApp| async move {
        let d = setup(&app).await;
        let sales = crm::user(&app, "sales1", &["sales"], None).await;
        let post = reqwest::Method::POST;
        let contracts = "/apps/crm/forms/contract/records";
        // A contract for one of my customers: fine. For another rep's customer: refused,
        // and nothing is written.
        let mine =
            json!({"data": {"contract_no": "HT-S1", "customer": d.customer_a, "kind": "sale"}});
        let (s, created) = send(&sales, &app, post.clone(), contracts, &mine).await;
        assert_eq!(s, StatusCode::CREATED, "{created}");
        let theirs =
            json!({"data": {"contract_no": "HT-S2", "customer": d.customer_b, "kind": "sale"}});
        let (s, body) = send(&sales, &app, post.clone(), contracts, &theirs).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
        assert_eq!(body["details"][0]["rule"], "row_scope", "{body}");
        assert_eq!(body["details"][0]["pointer"], "/data", "{body}");
        let (_, all) = get(&app.client, &app, &format!("{contracts}?filter=%7B%22%3D%3D%22%3A%5B%7B%22var%22%3A%22contract_no%22%7D%2C%22HT-S2%22%5D%7D&total=true")).await;
        assert_eq!(all["total"], 0, "nothing written: {all}");
        // Bulk: one bad item refuses the whole request with its pointer.
        let items: Vec<Value> = [&mine, &theirs]
            .iter()
            .map(|b| {
                let mut d = b["data"].clone();
                d["contract_no"] = json!(format!("{}-bulk", d["contract_no"].as_str().unwrap()));
                json!({"data": d})
            })
            .collect();
        let bulk = json!({ "items": items });
        let (s, body) = send(
            &sales,
            &app,
            post.clone(),
            &format!("{contracts}/bulk"),
            &bulk,
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
        assert_eq!(body["details"][0]["pointer"], "/items/1/data", "{body}");
        // Moving my contract to another rep's customer is refused too.
        let one = format!("{contracts}/{}", created["id"]);
        let (s, body) = send(
            &sales,
            &app,
            reqwest::Method::PATCH,
            &one,
            &json!({"data": {"customer": d.customer_b}}),
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{body}");
        assert_eq!(body["details"][0]["rule"], "row_scope", "{body}");
        let (_, still) = get(&app.client, &app, &one).await;
        assert_eq!(still["data"]["customer"], json!(d.customer_a));
        // Import goes through the same check (give the role import first).
        let (_, mut role) = get(&app.client, &app, "/apps/crm/roles/sales").await;
        role["permissions"]["contract"]["actions"]
            .as_array_mut()
            .unwrap()
            .push(json!("import"));
        assert_eq!(
            app.put("/apps/crm/roles/sales", &role).await.status(),
            StatusCode::OK
        );
        let csv = format!("contract_no,customer,kind\nHT-S3,{},sale\n", d.customer_b);
        let r = sales
            .post(app.url(&format!("{contracts}/import?format=csv")))
            .header("content-type", "text/csv")
            .body(csv)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["details"][0]["pointer"], "/rows/1/data", "{body}");
    }
);

on_both_stores!(
    engineers_see_the_devices_of_their_region,
    |app: TestApp| async move {
        let d = setup(&app).await;
        let east = crm::user(&app, "engineer1", &["engineer"], Some("svc_east")).await;
        let west = crm::user(&app, "engineer2", &["engineer"], Some("svc_west")).await;
        let one = format!("/apps/crm/forms/device/records/{}", d.device_a);
        assert_eq!(get(&east, &app, &one).await.0, StatusCode::OK);
        assert_eq!(get(&west, &app, &one).await.0, StatusCode::NOT_FOUND);
        let (_, list) = get(&west, &app, "/apps/crm/forms/device/records?total=true").await;
        assert_eq!(list["total"], 0, "{list}");
    }
);

/// Sub-table column rules on writes. Customer service cannot read part costs, so it cannot
/// write the parts table (it could not send back values it never saw), but a record sent
/// back as it sees it keeps the stored costs. An engineer made unable to change costs
/// (`deny_write: parts_used.unit_cost`) may edit, remove and add rows, but not set or
/// change a cost; a role document cannot allow a single column.
async fn sub_table_column_rules_hold_on_writes(app: TestApp) {
    let d = setup(&app).await;
    let order = format!("/apps/crm/forms/service_order/records/{}", d.order_e1);
    let original = parts_of(&app, &order).await;
    assert_eq!(original[0]["unit_cost"], json!(777.25));

    let cs = crm::user(&app, "cs1", &["customer_service"], None).await;
    let (_, seen) = get(&cs, &app, &order).await;
    assert_eq!(
        seen["data"]["parts_used"],
        json!([{"part": original[0]["part"], "qty": 2}])
    );
    // The whole record back, as seen, with a change it may make: the cost stays.
    let mut data = seen["data"].clone();
    data["channel"] = json!("phone");
    let r = cs
        .put(app.url(&order))
        .json(&json!({"data": data}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    assert_eq!(parts_of(&app, &order).await, original);
    // Changing the rows it cannot fully see: refused, naming the table.
    let r = cs
        .patch(app.url(&order))
        .json(&json!({"data": {"parts_used": [{"part": original[0]["part"], "qty": 5}]}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        r.json::<Value>().await.unwrap()["details"][0]["pointer"],
        "/data/parts_used"
    );

    // Engineers: costs readable, not writable.
    let (_, mut role) = get(&app.client, &app, "/apps/crm/roles/engineer").await;
    role["permissions"]["service_order"]["deny_write"] = json!(["parts_used.unit_cost"]);
    expect(
        app.put("/apps/crm/roles/engineer", &role).await,
        StatusCode::OK,
    )
    .await;
    let eng = crm::user(&app, "engineer1", &["engineer"], Some("svc_east")).await;
    let part = original[0]["part"].clone();
    let patch = |rows: Value| {
        let eng = eng.clone();
        let url = app.url(&order);
        async move {
            eng.patch(url)
                .json(&json!({"data": {"parts_used": rows}}))
                .send()
                .await
                .unwrap()
        }
    };
    // Change a cost, or add a row with one: refused at the cell.
    let r = patch(json!([{"part": part, "qty": 2, "unit_cost": 1.0}])).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        r.json::<Value>().await.unwrap()["details"][0]["pointer"],
        "/data/parts_used/0/unit_cost"
    );
    let r = patch(json!([{"part": part, "qty": 2, "unit_cost": 777.25}, {"part": part, "qty": 1, "unit_cost": 5.0}])).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Add a row without a cost in front, and change a quantity: fine, the cost stays.
    let r = patch(json!([{"part": part, "qty": 1}, {"part": part, "qty": 3, "unit_cost": 777.25}]))
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    // Remove the first row: fine.
    let r = patch(json!([{"part": part, "qty": 3, "unit_cost": 777.25}])).await;
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    assert_eq!(
        parts_of(&app, &order).await,
        json!([{"part": part, "qty": 3, "unit_cost": 777.25}])
    );

    // Columns are only ever denied.
    role["permissions"]["service_order"]["write"] = json!(["parts_used.qty"]);
    let r = app.put("/apps/crm/roles/engineer", &role).await;
    let body = expect(r, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(body["details"][0]["rule"], "column_rule", "{body}");
    assert_eq!(
        body["details"][0]["pointer"],
        "/permissions/service_order/write/0"
    );
}

async fn parts_of(app: &TestApp, order: &str) -> Value {
    get(&app.client, app, order).await.1["data"]["parts_used"].clone()
}

on_both_stores!(
    sub_table_columns_can_be_hidden_and_fixed_on_writes,
    sub_table_column_rules_hold_on_writes
);

/// A flow task's `editable` fields are a grant of the node, not a side door around the
/// assignee's own column rules: customer service, given a task that may edit the parts
/// table, sends the rows back as it sees them (costs hidden) and the stored costs stay;
/// changing rows it cannot fully see is refused at the table and the task stays open; an
/// engineer whose role fixes the cost column cannot change a cost through a task either.
async fn task_edits_keep_the_assignees_column_rules(app: TestApp) {
    let d = setup(&app).await;
    let order = format!("/apps/crm/forms/service_order/records/{}", d.order_e1);
    let original = parts_of(&app, &order).await;
    let cs = crm::user(&app, "cs1", &["customer_service"], None).await;
    let (_, mut role) = get(&app.client, &app, "/apps/crm/roles/engineer").await;
    role["permissions"]["service_order"]["deny_write"] = json!(["parts_used.unit_cost"]);
    expect(
        app.put("/apps/crm/roles/engineer", &role).await,
        StatusCode::OK,
    )
    .await;
    let eng = crm::user(&app, "engineer1", &["engineer"], Some("svc_east")).await;
    for who in ["cs1", "engineer1"] {
        let flow = json!({
            "key": format!("fix_parts_{who}"), "label": {"en": "Fix parts"},
            "trigger": {"type": "manual", "form": "service_order"},
            "nodes": [
                {"id": "start", "type": "start"},
                {"id": "fix", "type": "task", "assignee": {"user": who}, "editable": ["parts_used", "channel"]},
                {"id": "end", "type": "end"}],
            "edges": [{"from": "start", "to": "fix"}, {"from": "fix", "to": "end"}]
        });
        expect(
            app.post(&format!("/apps/crm/flows/fix_parts_{who}/publish"), &flow)
                .await,
            StatusCode::CREATED,
        )
        .await;
    }
    // The open task of `c` in flow `flow`, once the engine has assigned it.
    let task_of = |c: reqwest::Client, flow: &'static str| {
        let app = &app;
        async move {
            let r = app
                .post(
                    &format!("/apps/crm/flows/{flow}/start"),
                    &json!({"record": d.order_e1}),
                )
                .await;
            expect(r, StatusCode::CREATED).await;
            crate::flows::eventually("the task to be assigned", || {
                let c = c.clone();
                async move {
                    let (_, v) = get(&c, app, "/tasks").await;
                    v["items"]
                        .as_array()?
                        .iter()
                        .find(|t| t["flow"]["key"] == flow && t["status"] == "open")
                        .cloned()
                }
            })
            .await
        }
    };
    let complete = |c: &reqwest::Client, task: &Value, data: Value| {
        let r = c
            .post(app.url(&format!("/tasks/{}/complete", task["id"])))
            .json(&json!({"outcome": "done", "data": data}))
            .send();
        async move { r.await.unwrap() }
    };

    // Customer service: the task shows the rows without costs.
    let task = task_of(cs.clone(), "fix_parts_cs1").await;
    let (_, detail) = get(&cs, &app, &format!("/tasks/{}", task["id"])).await;
    let seen = detail["record"]["data"]["parts_used"].clone();
    assert_eq!(
        seen,
        json!([{"part": original[0]["part"], "qty": 2}]),
        "{detail}"
    );
    // Changing rows it cannot fully see: refused at the table; nothing changes, the task stays open.
    let r = complete(
        &cs,
        &task,
        json!({"parts_used": [{"part": original[0]["part"], "qty": 5}]}),
    )
    .await;
    let body = expect(r, StatusCode::FORBIDDEN).await;
    assert_eq!(body["details"][0]["pointer"], "/data/parts_used", "{body}");
    assert_eq!(parts_of(&app, &order).await, original);
    let (_, still) = get(&cs, &app, &format!("/tasks/{}", task["id"])).await;
    assert_eq!(still["task"]["status"], "open", "{still}");
    // Sent back as seen, with a field it may change: the stored costs stay.
    let r = complete(&cs, &task, json!({"parts_used": seen, "channel": "phone"})).await;
    expect(r, StatusCode::OK).await;
    assert_eq!(parts_of(&app, &order).await, original);
    let (_, after) = get(&app.client, &app, &order).await;
    assert_eq!(after["data"]["channel"], "phone", "{after}");

    // The engineer: costs readable, fixed by the role; the task cannot change them.
    let task = task_of(eng.clone(), "fix_parts_engineer1").await;
    let part = original[0]["part"].clone();
    let r = complete(
        &eng,
        &task,
        json!({"parts_used": [{"part": part, "qty": 2, "unit_cost": 1.0}]}),
    )
    .await;
    let body = expect(r, StatusCode::FORBIDDEN).await;
    assert_eq!(
        body["details"][0]["pointer"], "/data/parts_used/0/unit_cost",
        "{body}"
    );
    let r = complete(
        &eng,
        &task,
        json!({"parts_used": [{"part": part, "qty": 4, "unit_cost": 777.25}]}),
    )
    .await;
    expect(r, StatusCode::OK).await;
    assert_eq!(
        parts_of(&app, &order).await,
        json!([{"part": part, "qty": 4, "unit_cost": 777.25}])
    );
}

/// A request's status and JSON body.
async fn read(r: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let r = r.send().await.unwrap();
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

on_both_stores!(
    flow_task_edits_keep_the_assignees_column_rules,
    task_edits_keep_the_assignees_column_rules
);

/// Two roles reaching different rows do not lend each other fields: `owner` reads every
/// field of its own notes, `clerk` reads every note but not its fee. A user with both sees
/// no fee on the clerk's rows (which a plain union of the two masks would show), and — the
/// safe side of one mask per request — not on their own rows either; filtering by the fee
/// is refused; `explain` says why. A role reaching all rows with every field (`boss`)
/// still gives them everything.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn roles_reaching_different_rows_do_not_lend_each_other_fields() {
    let app = TestApp::spawn(crate::helpers::Store::Sqlite).await;
    app.app("ops").await;
    app.publish_ok(
        "ops",
        "note",
        json!({"type": "object", "properties": {"title": {"type": "string"}, "fee": {"type": "number"}}}),
    )
    .await;
    let role = |key: &str, rows: &str, read: Value| {
        json!({"key": key, "label": {"en": key}, "permissions": {"note": {
            "actions": ["read", "create", "update"], "rows": rows, "read": read, "write": ["title"]}}})
    };
    for (key, doc) in [
        ("owner", role("owner", "own", json!(["*"]))),
        ("clerk", role("clerk", "all", json!(["title"]))),
        ("boss", role("boss", "all", json!(["*"]))),
    ] {
        expect(
            app.put(&format!("/apps/ops/roles/{key}"), &doc).await,
            StatusCode::OK,
        )
        .await;
    }
    let body = json!({"username": "u1", "display_name": "u1", "password": "u1-password-long", "roles": {"ops": ["owner"]}});
    expect(app.post("/admin/users", &body).await, StatusCode::CREATED).await;
    let set_roles = |roles: Value| {
        let app = &app;
        async move {
            expect(
                app.put("/admin/users/u1/roles", &json!({"ops": roles}))
                    .await,
                StatusCode::OK,
            )
            .await;
            crate::helpers::client_with(
                &crate::helpers::token_for(&app.base, "u1", "u1-password-long", None).await,
            )
        }
    };
    let theirs = app
        .create_ok("ops", "note", json!({"title": "admin's", "fee": 111.5}))
        .await;
    let u1 = set_roles(json!(["owner"])).await;
    // As owner alone: their own note with its fee (the owner role writes only the title,
    // so the administrator sets the fee of u1's note).
    let r = u1
        .post(app.url("/apps/ops/forms/note/records"))
        .json(&json!({"data": {"title": "mine"}}))
        .send()
        .await
        .unwrap();
    let mine = expect(r, StatusCode::CREATED).await;
    let mine_url = format!("/apps/ops/forms/note/records/{}", mine["id"]);
    expect(
        app.patch(&mine_url, &json!({"data": {"fee": 222.5}})).await,
        StatusCode::OK,
    )
    .await;
    let theirs_url = format!("/apps/ops/forms/note/records/{}", theirs["id"]);
    assert_eq!(get(&u1, &app, &theirs_url).await.0, StatusCode::NOT_FOUND);
    assert_eq!(get(&u1, &app, &mine_url).await.1["data"]["fee"], 222.5);

    // Owner and clerk: every note, no fee anywhere.
    let u1 = set_roles(json!(["owner", "clerk"])).await;
    let (s, seen) = get(&u1, &app, &theirs_url).await;
    assert_eq!(s, StatusCode::OK);
    assert!(seen["data"].get("fee").is_none(), "{seen}");
    assert_eq!(seen["data"]["title"], "admin's");
    let (_, list) = get(&u1, &app, "/apps/ops/forms/note/records?total=true").await;
    assert_eq!(list["total"], 2, "{list}");
    assert!(!list.to_string().contains("111.5"), "{list}");
    assert!(!list.to_string().contains("222.5"), "{list}");
    let filter = "/apps/ops/forms/note/records?filter=%7B%22%3E%22%3A%5B%7B%22var%22%3A%22fee%22%7D%2C100%5D%7D";
    assert_eq!(get(&u1, &app, filter).await.0, StatusCode::FORBIDDEN);
    let (_, why) = get(
        &app.client,
        &app,
        "/apps/ops/explain?user=u1&form=note&action=read&field=fee",
    )
    .await;
    assert_eq!(why["allowed"], false, "{why}");
    assert!(
        why["reason"].as_str().unwrap().contains("different rows"),
        "{why}"
    );

    // Acting as one role (X-Formwork-Role), that role's rows with that role's fields.
    let as_role = |role: &'static str, method: reqwest::Method, path: String| {
        u1.request(method, app.url(&path))
            .header("x-formwork-role", role)
    };
    let (s, own) = read(as_role("owner", Method::GET, mine_url.clone())).await;
    assert_eq!(
        (s, &own["data"]["fee"]),
        (StatusCode::OK, &json!(222.5)),
        "{own}"
    );
    let (s, _) = read(as_role("owner", Method::GET, theirs_url.clone())).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (_, list) = read(as_role(
        "owner",
        Method::GET,
        "/apps/ops/forms/note/records?total=true".into(),
    ))
    .await;
    assert_eq!(list["total"], 1, "{list}");
    assert_eq!(list["items"][0]["data"]["fee"], 222.5, "{list}");
    let (s, _) = read(as_role("owner", Method::GET, filter.into())).await;
    assert_eq!(
        s,
        StatusCode::OK,
        "the owner may filter its own notes by fee"
    );
    let (_, list) = read(as_role(
        "clerk",
        Method::GET,
        "/apps/ops/forms/note/records?total=true".into(),
    ))
    .await;
    assert_eq!(list["total"], 2, "{list}");
    assert!(!list.to_string().contains("111.5"), "{list}");
    assert!(!list.to_string().contains("222.5"), "{list}");
    // Writes act with the role too: the clerk may not create notes.
    let r = as_role("clerk", Method::POST, "/apps/ops/forms/note/records".into())
        .json(&json!({"data": {"title": "as clerk"}}));
    let (s, _) = read(r).await;
    assert_eq!(
        s,
        StatusCode::CREATED,
        "clerk creates (its actions include create)"
    );
    // A role the user does not hold gives nothing; a malformed one is a 400.
    let (s, refused) = read(as_role("boss", Method::GET, theirs_url.clone())).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{refused}");
    assert_eq!(refused["details"][0]["rule"], "acting_role", "{refused}");
    let (s, bad) = read(as_role("no such", Method::GET, theirs_url.clone())).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}");
    assert_eq!(bad["details"][0]["rule"], "acting_role", "{bad}");
    // Administrators are not narrowed.
    let r = app
        .client
        .get(app.url(&mine_url))
        .header("x-formwork-role", "clerk");
    assert_eq!(read(r).await.1["data"]["fee"], 222.5);

    // A role reaching all rows with every field gives them everything again.
    let u1 = set_roles(json!(["owner", "clerk", "boss"])).await;
    assert_eq!(get(&u1, &app, &theirs_url).await.1["data"]["fee"], 111.5);
    assert_eq!(get(&u1, &app, &mine_url).await.1["data"]["fee"], 222.5);
}
