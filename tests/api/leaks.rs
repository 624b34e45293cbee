//! Every CRM role against every field it may not read, through every door; file downloads
//! and import columns under the same rules.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::crm::{self, get};
use crate::helpers::TestApp;
use crate::on_both_stores;
use crate::permissions::{leaks, normalise, setup};

/// For every CRM role and every field it may not read (its `deny_read` rules): no door
/// shows the field or its value, every query on it is refused naming it, and changing the
/// hidden values changes nothing the role can observe.
async fn every_role_is_blind_to_every_field_it_may_not_read(app: TestApp) {
    let d = setup(&app).await;
    // Hidden values worth looking for (the customer stays grade A either way).
    let p = format!("/apps/crm/forms/customer/records/{}", d.customer_a);
    let r = app
        .patch(
            &p,
            &json!({"data": {"annual_purchase_amount": 4_444_444.44, "credit_score": 91}}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let mut checked = 0;
    let (mut expansions, mut printed) = (0, 0);
    for role in crate::crm::role_docs() {
        let key = role["key"].as_str().unwrap().to_owned();
        let user = match key.as_str() {
            "engineer" => "engineer1".to_owned(),
            "sales" => "sales1".to_owned(),
            other => format!("{other}_user"),
        };
        let client = crm::user(&app, &user, &[&key], Some("svc")).await;
        let perms = role["permissions"].as_object().unwrap();
        for (form, rule) in perms {
            let hidden: Vec<&str> = rule["deny_read"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let actions: Vec<&str> = rule["actions"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(Value::as_str)
                .collect();
            if hidden.is_empty() || !actions.contains(&"read") {
                continue;
            }
            // Forms the role reads that refer to this one: their lists expand into it.
            let mut referring: Vec<(String, String)> = Vec::new();
            for (other, other_rule) in perms {
                let reads = other_rule["actions"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|x| x == "read"));
                if !reads {
                    continue;
                }
                let (s, def) = get(&client, &app, &format!("/apps/crm/forms/{other}")).await;
                assert_eq!(s, StatusCode::OK, "{key} reads {other}");
                let props = def["definition"]["schema"]["properties"]
                    .as_object()
                    .cloned();
                for (field, spec) in props.into_iter().flatten() {
                    if spec["x-ref"]["form"] == json!(form) {
                        referring.push((other.clone(), field));
                    }
                }
            }
            expansions += referring.len();
            printed += usize::from(actions.contains(&"print"));
            let observe = |client: reqwest::Client| {
                let app = &app;
                let form = form.clone();
                let export = actions.contains(&"export");
                let print = actions.contains(&"print");
                let referring = referring.clone();
                async move {
                    let mut seen = Vec::new();
                    let (s, list) = get(
                        &client,
                        app,
                        &format!("/apps/crm/forms/{form}/records?total=true&sort=_id"),
                    )
                    .await;
                    assert_eq!(s, StatusCode::OK, "{form}: {list}");
                    seen.push(list.to_string());
                    for item in list["items"].as_array().unwrap() {
                        let id = item["id"].as_i64().unwrap();
                        seen.push(
                            get(
                                &client,
                                app,
                                &format!("/apps/crm/forms/{form}/records/{id}"),
                            )
                            .await
                            .1
                            .to_string(),
                        );
                        seen.push(
                            get(
                                &client,
                                app,
                                &format!("/apps/crm/forms/{form}/records/{id}/history"),
                            )
                            .await
                            .1
                            .to_string(),
                        );
                        if print {
                            let r = client
                                .get(app.url(&format!(
                                    "/apps/crm/forms/{form}/records/{id}/print?locale=en"
                                )))
                                .send()
                                .await
                                .unwrap();
                            assert_eq!(r.status(), StatusCode::OK);
                            seen.push(r.text().await.unwrap());
                        }
                    }
                    // The same list through POST …/query, and the records expanded into
                    // the lists of forms that refer to them.
                    let r = client
                        .post(app.url(&format!("/apps/crm/forms/{form}/records/query")))
                        .json(&json!({"sort": "_id", "total": true}))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(r.status(), StatusCode::OK, "{form} query");
                    seen.push(r.text().await.unwrap());
                    for (other, field) in &referring {
                        let (s, page) = get(
                            &client,
                            app,
                            &format!(
                                "/apps/crm/forms/{other}/records?expand={field}&sort=_id&limit=100"
                            ),
                        )
                        .await;
                        assert_eq!(s, StatusCode::OK, "{other}?expand={field}: {page}");
                        let expanded: Vec<&Value> = page["items"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(|i| &i["expand"][field.as_str()])
                            .collect();
                        seen.push(json!(expanded).to_string());
                    }
                    seen.push(
                        get(&client, app, &format!("/apps/crm/forms/{form}"))
                            .await
                            .1
                            .to_string(),
                    );
                    let (_, api) = get(&client, app, "/apps/crm/openapi.json").await;
                    seen.push(api["components"]["schemas"][format!("{form}_data")].to_string());
                    if export {
                        let r = client
                            .get(app.url(&format!(
                                "/apps/crm/forms/{form}/records/export?format=csv&sort=_id"
                            )))
                            .send()
                            .await
                            .unwrap();
                        assert_eq!(r.status(), StatusCode::OK);
                        seen.push(r.text().await.unwrap());
                    }
                    seen
                }
            };
            let before = observe(client.clone()).await;
            // The contract amounts and service fees seeded: looked for where the role hides them.
            let hides_money = hidden
                .iter()
                .any(|f| matches!(*f, "amount" | "service_fee"));
            for text in &before {
                if hides_money {
                    assert_eq!(leaks(text), None, "{key} on {form}: {text}");
                }
                assert!(!text.contains("4444444.44"), "{key} on {form}: {text}");
                for f in &hidden {
                    // A sub-table column (`table.column`) is looked for by its own name.
                    let name = f.rsplit('.').next().unwrap_or(f);
                    assert!(
                        !text.contains(&format!("\"{name}\"")),
                        "{key} sees {form}.{f}: {text}"
                    );
                    assert!(
                        !text.contains(&format!("properties/{name}")),
                        "{key} sees {form}.{f} in a layout: {text}"
                    );
                    if !text.starts_with(['{', '[', 'n']) {
                        // an export: the column is absent
                        assert!(
                            !text
                                .lines()
                                .next()
                                .unwrap_or_default()
                                .split(',')
                                .any(|c| c == *f),
                            "{key} exports {form}.{f}"
                        );
                    }
                }
            }
            for f in &hidden {
                let filter = format!("%7B%22%3D%3D%22%3A%5B%7B%22var%22%3A%22{f}%22%7D%2C1%5D%7D");
                let queries = match f.split_once('.') {
                    // A sub-table column: by its path, and from inside the rows (`some`).
                    Some((table, column)) => vec![
                        format!("filter={filter}"),
                        format!(
                            "filter=%7B%22some%22%3A%5B%7B%22var%22%3A%22{table}%22%7D%2C%7B%22%3E%22%3A%5B%7B%22var%22%3A%22{column}%22%7D%2C1%5D%7D%5D%7D"
                        ),
                    ],
                    None => vec![
                        format!("filter={filter}"),
                        format!("sort={f}"),
                        format!("sort=-{f}"),
                        format!("fields={f}"),
                    ],
                };
                for q in queries {
                    let (s, body) = get(
                        &client,
                        &app,
                        &format!("/apps/crm/forms/{form}/records?{q}"),
                    )
                    .await;
                    assert_eq!(s, StatusCode::FORBIDDEN, "{key} {form} {q}: {body}");
                    assert!(body["message"].as_str().unwrap().contains(f), "{body}");
                }
                // The same through POST …/query.
                let r = client
                    .post(app.url(&format!("/apps/crm/forms/{form}/records/query")))
                    .json(&json!({"filter": {"==": [{"var": f}, 1]}}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(
                    r.status(),
                    StatusCode::FORBIDDEN,
                    "{key} {form} query on {f}"
                );
                checked += 1;
            }
            // Change every hidden value of this form; the role observes exactly the same.
            let (_, all) = get(
                &app.client,
                &app,
                &format!("/apps/crm/forms/{form}/records?limit=1000"),
            )
            .await;
            for item in all["items"].as_array().unwrap() {
                let mut patch = serde_json::Map::new();
                for f in &hidden {
                    if let Some((table, column)) = f.split_once('.') {
                        // Every row's value of the hidden column.
                        let Some(Value::Array(rows)) = item["data"].get(table) else {
                            continue;
                        };
                        let mut rows = rows.clone();
                        let mut changed = false;
                        for row in &mut rows {
                            if let Some(n) = row.get(column).and_then(Value::as_f64) {
                                row[column] = json!(n + 1000.5);
                                changed = true;
                            }
                        }
                        if changed {
                            patch.insert(table.to_string(), Value::Array(rows));
                        }
                        continue;
                    }
                    let v = match item["data"].get(*f) {
                        Some(Value::Number(n)) if n.is_i64() => {
                            json!(if n.as_i64() == Some(91) { 85 } else { 91 })
                        }
                        Some(Value::Number(n)) => json!(n.as_f64().unwrap() + 1000.5),
                        _ => continue,
                    };
                    patch.insert(f.to_string(), v);
                }
                if !patch.is_empty() {
                    let id = item["id"].as_i64().unwrap();
                    let r = app
                        .patch(
                            &format!("/apps/crm/forms/{form}/records/{id}"),
                            &json!({"data": patch}),
                        )
                        .await;
                    assert_eq!(r.status(), StatusCode::OK);
                }
            }
            let after = observe(client.clone()).await;
            for (a, b) in before.iter().zip(&after) {
                assert_eq!(
                    normalise(a),
                    normalise(b),
                    "{key} on {form} observes a hidden change"
                );
            }
        }
    }
    assert!(checked >= 5, "only {checked} hidden fields were checked");
    assert!(
        expansions > 0 && printed > 0,
        "expansions {expansions}, printed forms {printed}"
    );
}

on_both_stores!(
    no_role_sees_a_field_it_may_not_read,
    every_role_is_blind_to_every_field_it_may_not_read
);

on_both_stores!(
    files_and_imports_follow_the_same_rules,
    |app: TestApp| async move {
        let d = setup(&app).await;
        let eng = crm::user(&app, "engineer1", &["engineer"], Some("svc_east")).await;
        let cs = crm::user(&app, "cs1", &["customer_service"], Some("svc")).await;
        // A photo on engineer2's order: engineer1 cannot fetch it; customer service can.
        let r = app
            .client
            .post(app.url("/files?name=fault.png"))
            .header("content-type", "image/png")
            .body(b"\x89PNG\r\n\x1a\nnot really".to_vec())
            .send()
            .await
            .unwrap();
        let file = r.json::<Value>().await.unwrap();
        let sha = file["sha256"].as_str().unwrap().to_owned();
        let r = app
            .patch(
                &format!("/apps/crm/forms/service_order/records/{}", d.order_e2),
                &json!({"data": {"photos": [file]}}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
        assert_eq!(
            eng.get(app.url(&format!("/files/{sha}")))
                .send()
                .await
                .unwrap()
                .status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            cs.get(app.url(&format!("/files/{sha}")))
                .send()
                .await
                .unwrap()
                .status(),
            StatusCode::OK
        );
        // Moved to engineer1's order, engineer1 can.
        let r = app
            .patch(
                &format!("/apps/crm/forms/service_order/records/{}", d.order_e1),
                &json!({"data": {"photos": [file]}}),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(
            eng.get(app.url(&format!("/files/{sha}")))
                .send()
                .await
                .unwrap()
                .status(),
            StatusCode::OK
        );

        // Import: customer service may not write a customer's grade columns; without
        // the import action at all it is refused outright.
        let csv = "name,customer_type,compliance_status\n新医院,hospital,valid\n";
        let r = cs
            .post(app.url("/apps/crm/forms/customer/records/import?dry_run=true"))
            .header("content-type", "text/csv")
            .body(csv)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let sales = crm::user(&app, "sales1", &["sales"], None).await;
        let r = sales
            .post(app.url("/apps/crm/forms/customer/records/import?dry_run=true"))
            .header("content-type", "text/csv")
            .body(csv)
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            StatusCode::FORBIDDEN,
            "sales have no import action"
        );
        let mut role = get(&app.client, &app, "/apps/crm/roles/sales").await.1;
        role["permissions"]["customer"]["actions"] =
            json!(["create", "read", "update", "export", "import"]);
        assert_eq!(
            app.put("/apps/crm/roles/sales", &role).await.status(),
            StatusCode::OK
        );
        let r = sales
            .post(app.url("/apps/crm/forms/customer/records/import?dry_run=true"))
            .header("content-type", "text/csv")
            .body(csv)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["details"][0]["pointer"], "/columns/2", "{body}");
        let r = sales
            .post(app.url("/apps/crm/forms/customer/records/import"))
            .header("content-type", "text/csv")
            .body("name,customer_type,owner\n新医院,hospital,sales1\n")
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            StatusCode::CREATED,
            "{}",
            r.text().await.unwrap()
        );
    }
);
