//! The identity and log guards a regression could quietly drop: the session cookie's
//! flags, the per-address login limit, token expiry, the database's refusal to change or
//! remove log entries, and the log entries of restore, import, export and publish — on
//! SQLite and PostgreSQL.

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{Store, TestApp, client_with, expect, token_for};
use crate::on_both_stores;

/// A direct connection to the server's database.
async fn direct(app: &TestApp) -> formwork::store::db::Db {
    crate::helpers::direct_db(&app.db_url).await
}

async fn login_status(app: &TestApp, user: &str, password: &str) -> (StatusCode, Option<String>) {
    let r = Client::new()
        .post(app.url("/auth/login"))
        .json(&json!({"username": user, "password": password}))
        .send()
        .await
        .unwrap();
    let cookie = r
        .headers()
        .get("set-cookie")
        .map(|v| v.to_str().unwrap().to_owned());
    (r.status(), cookie)
}

on_both_stores!(
    cookies_limits_and_token_expiry_hold,
    |app: TestApp| async move {
        for name in ["carol", "dave"] {
            let body = json!({"username": name, "display_name": name, "password": format!("{name}-password-1")});
            expect(app.post("/admin/users", &body).await, StatusCode::CREATED).await;
        }
        // The session cookie cannot be read by scripts nor sent by other sites' forms.
        let (s, cookie) = login_status(&app, "carol", "carol-password-1").await;
        assert_eq!(s, StatusCode::OK);
        let cookie = cookie.expect("a session cookie");
        assert!(cookie.starts_with("fw_session="), "{cookie}");
        for flag in ["HttpOnly", "SameSite=Lax", "Path=/"] {
            assert!(cookie.contains(flag), "{flag} in {cookie}");
        }

        // An API token that has expired is refused on the next request.
        let token = token_for(&app.base, "carol", "carol-password-1", None).await;
        let token_id = token.split('.').nth(1).unwrap().to_owned();
        let carol = client_with(&token);
        let me = |c: Client| {
            let url = app.url("/auth/me");
            async move { c.get(url).send().await.unwrap().status() }
        };
        assert_eq!(me(carol.clone()).await, StatusCode::OK);
        let db = direct(&app).await;
        use sea_orm::ConnectionTrait;
        db.write
            .execute_unprepared(&format!(
                "UPDATE api_tokens SET expires_at = '2020-01-01T00:00:00.000Z' WHERE id = '{token_id}'"
            ))
            .await
            .unwrap();
        // (any identity change makes every process read credentials afresh; on
        // PostgreSQL they are read on every request anyway)
        let body =
            json!({"username": "erin", "display_name": "erin", "password": "erin-password-1"});
        expect(app.post("/admin/users", &body).await, StatusCode::CREATED).await;
        assert_eq!(me(carol).await, StatusCode::UNAUTHORIZED);

        // Failed logins from one address are limited across accounts (20 in the window,
        // then even another account's right password waits).
        for i in 0..20 {
            let user = if i % 2 == 0 { "carol" } else { "dave" };
            let who = format!("nobody{i}");
            let name = if i < 8 { user } else { who.as_str() };
            let (s, _) = login_status(&app, name, "wrong-password").await;
            assert!(
                s == StatusCode::UNAUTHORIZED || s == StatusCode::TOO_MANY_REQUESTS,
                "{s}"
            );
        }
        let (s, _) = login_status(&app, "erin", "erin-password-1").await;
        assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "the address is limited");
        drop(db);
    }
);

on_both_stores!(
    the_log_cannot_be_changed_or_emptied_through_the_database,
    |app: TestApp| async move {
        app.app("shop").await;
        let db = direct(&app).await;
        use sea_orm::ConnectionTrait;
        let mut refused = vec![
            "UPDATE oplog SET actor = 'mallory' WHERE seq = 1",
            "DELETE FROM oplog WHERE seq = 1",
            "DELETE FROM oplog",
        ];
        if app.store == Store::Postgres {
            refused.push("TRUNCATE oplog");
        }
        for sql in refused {
            let r = db.write.execute_unprepared(sql).await;
            assert!(r.is_err(), "the database refuses {sql}");
        }
        drop(db);
        let log = expect(app.get("/audit?limit=1000").await, StatusCode::OK).await;
        assert!(
            !log["items"].as_array().unwrap().is_empty(),
            "the entries are all there"
        );
        assert!(!log.to_string().contains("mallory"), "and unchanged: {log}");
    }
);

on_both_stores!(
    restore_import_export_and_publish_are_logged,
    |app: TestApp| async move {
        app.app("shop").await;
        app.publish_ok(
            "shop",
            "item",
            json!({"type": "object", "properties": {"name": {"type": "string", "x-type": "text"}}}),
        )
        .await;
        let id = app.create_ok("shop", "item", json!({"name": "a"})).await["id"].clone();
        let one = format!("/apps/shop/forms/item/records/{id}");
        expect(app.delete(&one).await, StatusCode::OK).await;
        let r = app.post(&format!("{one}/restore"), &json!({})).await;
        assert!(r.status().is_success(), "{}", r.text().await.unwrap());
        let r = app
            .client
            .post(app.url("/apps/shop/forms/item/records/import"))
            .header("content-type", "text/csv")
            .body("name\nb\nc\n")
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.text().await.unwrap());
        let r = app
            .client
            .get(app.url("/apps/shop/forms/item/records/export?format=csv"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let log = expect(app.get("/audit?app=shop&limit=1000").await, StatusCode::OK).await;
        let entries = log["items"].as_array().unwrap();
        let of = |action: &str| -> Vec<&Value> {
            entries.iter().filter(|e| e["action"] == action).collect()
        };
        for action in [
            "form.publish",
            "record.create",
            "record.delete",
            "record.restore",
            "record.import",
            "record.export",
        ] {
            let found = of(action);
            assert!(!found.is_empty(), "{action} in {log}");
            for e in found {
                assert_eq!(e["actor"], "admin", "{e}");
                assert!(e["at"].is_string(), "{e}");
            }
        }
        // The restore names its record; the import its rows.
        assert_eq!(of("record.restore")[0]["record_id"], id, "{log}");
        assert_eq!(
            of("record.create").len(),
            3,
            "one per created and imported record: {log}"
        );
        // Queried by user and time range too.
        let first_at = entries
            .iter()
            .filter_map(|e| e["at"].as_str())
            .min()
            .unwrap()
            .to_owned();
        let r = app
            .client
            .get(app.url("/audit"))
            .query(&[
                ("user", "admin"),
                ("from", first_at.as_str()),
                ("app", "shop"),
                ("limit", "1000"),
            ])
            .send()
            .await
            .unwrap();
        let by_user = expect(r, StatusCode::OK).await;
        assert_eq!(
            by_user["items"].as_array().unwrap().len(),
            entries.len(),
            "{by_user}"
        );
        let r = app
            .client
            .get(app.url("/audit"))
            .query(&[("user", "nobody"), ("app", "shop")])
            .send()
            .await
            .unwrap();
        let none = expect(r, StatusCode::OK).await;
        assert_eq!(none["items"].as_array().unwrap().len(), 0, "{none}");
    }
);

async fn person(app: &TestApp, name: &str, dept: Option<&str>, roles: Value) -> Client {
    let pw = format!("{name}-password-1");
    let mut body = json!({"username": name, "display_name": name, "password": pw, "roles": roles});
    if let Some(d) = dept {
        body["department"] = json!(d);
    }
    expect(app.post("/admin/users", &body).await, StatusCode::CREATED).await;
    client_with(&token_for(&app.base, name, &pw, None).await)
}

async fn titles(c: &Client, app: &TestApp) -> Vec<String> {
    let r = c
        .get(app.url("/apps/lab/forms/note/records"))
        .query(&[("total", "true"), ("limit", "100")])
        .send()
        .await
        .unwrap();
    let v = expect(r, StatusCode::OK).await;
    let mut t: Vec<String> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["data"]["title"].as_str().unwrap().to_owned())
        .collect();
    t.sort();
    assert_eq!(v["total"], t.len(), "the total is scoped too");
    t
}

on_both_stores!(
    department_scopes_reach_the_owners_department_and_below,
    |app: TestApp| async move {
        app.app("lab").await;
        app.publish_ok(
            "lab",
            "note",
            json!({"type": "object", "properties": {"title": {"type": "string", "x-type": "text"}}}),
        )
        .await;
        // top ← a ← x; top ← b
        for (id, parent) in [
            ("top", None),
            ("a", Some("top")),
            ("x", Some("a")),
            ("b", Some("top")),
        ] {
            crate::crm::department(&app, id, parent).await;
        }
        for (key, rows) in [("dept", "department"), ("tree", "department_tree")] {
            let role = json!({"key": key, "label": {"en": key}, "permissions": {
                "note": {"actions": ["create", "read", "update", "delete"], "rows": rows, "read": ["*"], "write": ["*"]}}});
            expect(
                app.put(&format!("/apps/lab/roles/{key}"), &role).await,
                StatusCode::OK,
            )
            .await;
        }
        let in_a = person(&app, "in_a", Some("a"), json!({"lab": ["dept"]})).await;
        let in_x = person(&app, "in_x", Some("x"), json!({"lab": ["dept"]})).await;
        let in_b = person(&app, "in_b", Some("b"), json!({"lab": ["dept"]})).await;
        let head_a = person(&app, "head_a", Some("a"), json!({"lab": ["tree"]})).await;
        let top = person(&app, "top_all", Some("top"), json!({"lab": ["tree"]})).await;
        let nowhere = person(&app, "nowhere", None, json!({"lab": ["dept"]})).await;
        for (c, title) in [(&in_a, "note a"), (&in_x, "note x"), (&in_b, "note b")] {
            let r = c
                .post(app.url("/apps/lab/forms/note/records"))
                .json(&json!({"data": {"title": title}}))
                .send()
                .await
                .unwrap();
            expect(r, StatusCode::CREATED).await;
        }
        // department: the records of the user's own department only.
        assert_eq!(titles(&in_a, &app).await, ["note a"]);
        assert_eq!(titles(&in_x, &app).await, ["note x"]);
        assert_eq!(titles(&in_b, &app).await, ["note b"]);
        assert!(
            titles(&nowhere, &app).await.is_empty(),
            "no department: no rows"
        );
        // department_tree: that department and every one below it.
        assert_eq!(titles(&head_a, &app).await, ["note a", "note x"]);
        assert_eq!(titles(&top, &app).await, ["note a", "note b", "note x"]);
        // Out of scope is not there: 404 on a record of another department.
        let b_note = app
            .list(
                "lab",
                "note",
                &[(
                    "filter",
                    json!({"==": [{"var": "title"}, "note b"]}).to_string(),
                )],
            )
            .await["items"][0]["id"]
            .clone();
        let r = head_a
            .get(app.url(&format!("/apps/lab/forms/note/records/{b_note}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::NOT_FOUND);

        // Explain names the role and the rule; deleting a role takes its rights away at
        // once and is logged.
        let why = expect(
            app.get("/apps/lab/explain?user=head_a&form=note&action=read")
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(why["allowed"], true, "{why}");
        assert!(
            why["matched_rules"].as_array().unwrap().contains(
                &json!({"role": "tree", "object": "form/note", "action": "read", "effect": "allow"})
            ),
            "the role and its rule are named: {why}"
        );
        assert!(why["rows"].to_string().contains("department_tree"), "{why}");
        let why = expect(
            app.get("/apps/lab/explain?user=in_b&form=note&action=export")
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(why["allowed"], false, "{why}");
        let r = app.delete("/apps/lab/roles/tree").await;
        assert!(r.status().is_success(), "{}", r.text().await.unwrap());
        let r = head_a
            .get(app.url("/apps/lab/forms/note/records"))
            .send()
            .await
            .unwrap();
        assert!(
            r.status() == StatusCode::FORBIDDEN || r.status() == StatusCode::NOT_FOUND,
            "no role, no notes: {}",
            r.status()
        );
        let log = expect(app.get("/audit?action=role.delete").await, StatusCode::OK).await;
        assert_eq!(log["items"].as_array().unwrap().len(), 1, "{log}");
    }
);
