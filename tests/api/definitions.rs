//! Form definitions: checked before they are saved, published as immutable versions.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, expect};
use crate::on_both_stores;

fn pointers(body: &Value) -> Vec<String> {
    body["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["pointer"].as_str().unwrap().to_owned())
        .collect()
}

on_both_stores!(
    an_invalid_definition_is_refused_with_pointers_into_it,
    |app: TestApp| async move {
        app.app("t").await;
        let def = json!({
            "key": "thing",
            "label": {"en": "Thing"},
            "schema": {
                "type": "object",
                "properties": {
                    "a": {"type": "string", "x-type": "no_such_type"},
                    "b": {"type": "strin"},
                    "c": {"type": "string", "x-colour": "red"},
                    "d": {"type": "integer", "x-type": "reference"},
                    "e": {"type": "number", "x-type": "text"}
                }
            },
            "layout": {"type": "VerticalLayout", "elements": [{"type": "Control", "scope": "#/properties/zz"}]}
        });
        let body = expect(
            app.put("/apps/t/forms/thing/draft", &def).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(body["code"], "validation_failed");
        assert!(
            pointers(&body).contains(&"/schema/properties/b/type".to_owned()),
            "{body}"
        );
        // Meta-schema errors come first; fix b and the annotations are checked.
        let mut def = def;
        def["schema"]["properties"]["b"] = json!({"type": "string"});
        let body = expect(
            app.put("/apps/t/forms/thing/draft", &def).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        let p = pointers(&body);
        for expected in [
            "/schema/properties/a/x-type",
            "/schema/properties/c/x-colour",
            "/schema/properties/d/x-ref",
            "/schema/properties/e/x-type",
            "/layout/elements/0/scope",
        ] {
            assert!(
                p.contains(&expected.to_owned()),
                "missing {expected} in {body}"
            );
        }
    }
);

on_both_stores!(
    only_json_schema_2020_12_is_accepted,
    |app: TestApp| async move {
        app.app("t").await;
        let r = app
            .publish_schema(
                "t",
                "old",
                json!({"$schema": "http://json-schema.org/draft-07/schema#", "type": "object"}),
            )
            .await;
        let body = expect(r, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(body["details"][0]["pointer"], "/schema/$schema");
    }
);

on_both_stores!(
    a_reference_to_a_missing_form_blocks_publishing,
    |app: TestApp| async move {
        app.app("t").await;
        let schema = json!({"type": "object", "properties": {"c": {"type": "integer", "x-type": "reference", "x-ref": {"form": "nowhere"}}}});
        let body = expect(
            app.publish_schema("t", "order", schema).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(
            body["details"][0]["pointer"],
            "/schema/properties/c/x-ref/form"
        );
    }
);

on_both_stores!(
    records_remember_the_version_they_were_validated_against,
    |app: TestApp| async move {
        app.app("t").await;
        let v1 = json!({"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"], "additionalProperties": false});
        app.publish_ok("t", "item", v1.clone()).await;
        let old = app.create_ok("t", "item", json!({"name": "first"})).await;
        assert_eq!(old["form_version"], 1);
        // v2 adds a required field; v1 records stay as they are, new ones need the field.
        let v2 = json!({"type": "object", "properties": {"name": {"type": "string"}, "size": {"type": "integer"}}, "required": ["name", "size"], "additionalProperties": false});
        app.publish_ok("t", "item", v2).await;
        expect(
            app.create("t", "item", json!({"name": "second"})).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        let new = app
            .create_ok("t", "item", json!({"name": "second", "size": 3}))
            .await;
        assert_eq!(new["form_version"], 2);
        let kept = expect(
            app.get(&format!("/apps/t/forms/item/records/{}", old["id"]))
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(kept["form_version"], 1);
        let versions = expect(app.get("/apps/t/forms/item/versions").await, StatusCode::OK).await;
        assert_eq!(versions["items"].as_array().unwrap().len(), 2);
        let first = expect(
            app.get("/apps/t/forms/item/versions/1").await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(first["definition"]["schema"], v1);
        // Publishing the same definition again makes no new version.
        let again = app.post("/apps/t/forms/item/publish", &json!({})).await;
        let again: Value = again.json().await.unwrap();
        assert!(again.get("version").is_some() || again.get("code").is_some());
        let versions = expect(app.get("/apps/t/forms/item/versions").await, StatusCode::OK).await;
        assert_eq!(versions["items"].as_array().unwrap().len(), 2);
    }
);

on_both_stores!(
    composite_indexes_name_scalar_fields_of_the_form,
    |app: TestApp| async move {
        app.app("t").await;
        let schema = json!({"type": "object", "properties": {
            "status": {"type": "string"}, "at": {"type": "string"}, "tags": {"type": "array"}
        }});
        let def = json!({"key": "job", "label": {"en": "Job"}, "schema": schema, "indexes": [["status", "tags"], ["nope"]]});
        let body = expect(
            app.post("/apps/t/forms/job/publish", &def).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(
            pointers(&body),
            vec!["/indexes/0/1".to_owned(), "/indexes/1/0".to_owned()]
        );
        let def = json!({"key": "job", "label": {"en": "Job"}, "schema": schema, "indexes": [["status", "at"]]});
        expect(
            app.post("/apps/t/forms/job/publish", &def).await,
            StatusCode::CREATED,
        )
        .await;
        for (s, at) in [
            ("open", "2026-01-02"),
            ("open", "2026-01-01"),
            ("done", "2026-01-03"),
            ("open", "2026-01-03"),
        ] {
            app.create_ok("t", "job", json!({"status": s, "at": at}))
                .await;
        }
        let page = app
            .list(
                "t",
                "job",
                &[
                    ("filter", r#"{"==": [{"var": "status"}, "open"]}"#.into()),
                    ("sort", "-at".into()),
                ],
            )
            .await;
        let ats: Vec<&str> = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["data"]["at"].as_str().unwrap())
            .collect();
        assert_eq!(ats, vec!["2026-01-03", "2026-01-02", "2026-01-01"]);
    }
);

on_both_stores!(
    layout_rules_are_checked_and_kept,
    |app: TestApp| async move {
        app.app("t").await;
        let schema = json!({
            "type": "object", "additionalProperties": false,
            "properties": {
                "status": {"type": "string", "x-type": "select", "x-label": {"en": "Status"},
                           "enum": ["open", "closed"],
                           "x-options": {"open": {"en": "Open"}, "closed": {"en": "Closed"}}},
                "resolution": {"type": "string", "x-type": "long_text", "x-label": {"en": "Resolution"}}
            }
        });
        let control = |rule: Value| json!({"type": "Control", "scope": "#/properties/resolution", "rule": rule});
        let def = |rule: Value| {
            json!({"key": "ticket", "label": {"en": "Ticket"}, "schema": schema,
                   "layout": {"type": "VerticalLayout", "elements": [
                       {"type": "Control", "scope": "#/properties/status"}, control(rule)]}})
        };
        let body = expect(
            app.put(
                "/apps/t/forms/ticket/draft",
                &def(json!({"effect": "BLINK", "condition": {"==": [{"var": "nope"}, 1]}, "x": 1})),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        let p = pointers(&body);
        for expected in [
            "/layout/elements/1/rule/effect",
            "/layout/elements/1/rule/condition",
            "/layout/elements/1/rule/x",
        ] {
            assert!(
                p.contains(&expected.to_owned()),
                "missing {expected} in {body}"
            );
        }
        assert!(body.to_string().contains("nope"), "{body}");
        let good = json!({"effect": "SHOW", "condition": {"==": [{"var": "status"}, "closed"]}});
        expect(
            app.put("/apps/t/forms/ticket/draft", &def(good.clone()))
                .await,
            StatusCode::OK,
        )
        .await;
        expect(
            app.post("/apps/t/forms/ticket/publish", &def(good.clone()))
                .await,
            StatusCode::CREATED,
        )
        .await;
        let form = expect(app.get("/apps/t/forms/ticket").await, StatusCode::OK).await;
        assert_eq!(form["definition"]["layout"]["elements"][1]["rule"], good);
        assert_eq!(form["writable"], json!(["status", "resolution"]));
    }
);
