//! OpenAPI 3.1 descriptions, generated: the platform's own endpoints, and per app, one set
//! of record paths per published form with the form's JSON Schema as the data schema.

use axum::extract::State;
use serde_json::{Map, Value, json};

use super::AppState;
use super::auth::Auth;
use super::error::ApiResult;
use super::extract::Path;

fn error_responses() -> Value {
    let e = json!({"description": "error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
    json!({"400": e, "404": e, "409": e, "412": e, "422": e, "503": e})
}

fn common_components() -> Map<String, Value> {
    let mut c = Map::new();
    c.insert(
        "Error".into(),
        json!({
            "type": "object", "required": ["code", "message", "details"],
            "properties": {
                "code": {"type": "string"}, "message": {"type": "string"},
                "details": {"type": "array", "items": {"type": "object", "properties": {
                    "pointer": {"type": "string", "description": "JSON pointer into the request"},
                    "rule": {"type": "string"}, "message": {"type": "string"}}}}
            }
        }),
    );
    c.insert("RecordMeta".into(), json!({
        "type": "object",
        "properties": {
            "id": {"type": "integer"}, "form_version": {"type": "integer"}, "row_version": {"type": "integer"},
            "created_at": {"type": "string", "format": "date-time"}, "created_by": {"type": "string"},
            "updated_at": {"type": "string", "format": "date-time"}, "updated_by": {"type": "string"},
            "owner": {"type": ["string", "null"]}, "deleted_at": {"type": "string", "format": "date-time"},
            "expand": {"type": "object"}
        }
    }));
    c
}

fn list_params() -> Value {
    json!([
        {"name": "filter", "in": "query", "description": "JSON Logic subset (see docs/api.md)", "schema": {"type": "string"}},
        {"name": "sort", "in": "query", "description": "comma-separated fields, - for descending", "schema": {"type": "string"}},
        {"name": "fields", "in": "query", "schema": {"type": "string"}},
        {"name": "expand", "in": "query", "schema": {"type": "string"}},
        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000}},
        {"name": "cursor", "in": "query", "schema": {"type": "string"}},
        {"name": "total", "in": "query", "schema": {"type": "boolean"}},
        {"name": "deleted", "in": "query", "schema": {"type": "boolean"}}
    ])
}

/// Record paths for one form (or the generic `{app}`/`{form}` paths), with `data` typed by
/// the component schema `data_ref`.
fn record_paths(
    prefix: &str,
    data_ref: Value,
    tag: &str,
    extra_params: Value,
) -> Map<String, Value> {
    let record = json!({"allOf": [{"$ref": "#/components/schemas/RecordMeta"}, {"type": "object", "properties": {"data": data_ref}}]});
    let write = json!({"type": "object", "required": ["data"], "properties": {"data": data_ref, "reason": {"type": "string"}}, "additionalProperties": false});
    let ok = |schema: &Value| json!({"content": {"application/json": {"schema": schema}}});
    let page = json!({"type": "object", "properties": {"items": {"type": "array", "items": record}, "next_cursor": {"type": ["string", "null"]}, "total": {"type": "integer"}}});
    let id = json!({"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}});
    let if_match = json!({"name": "If-Match", "in": "header", "schema": {"type": "string"}, "description": "row version ETag; 412 when stale"});
    let with = |extra: &Value, more: Vec<Value>| {
        let mut v = extra.as_array().cloned().unwrap_or_default();
        v.extend(more);
        Value::Array(v)
    };
    let mut paths = Map::new();
    let mut list_get = json!({"tags": [tag], "summary": "List records", "parameters": with(&extra_params, list_params().as_array().cloned().unwrap_or_default()), "responses": {"200": {"description": "a page", "content": {"application/json": {"schema": page}}}}});
    merge(&mut list_get["responses"], error_responses());
    let mut create = json!({"tags": [tag], "summary": "Create a record", "parameters": extra_params, "requestBody": ok(&write), "responses": {"201": {"description": "created", "content": {"application/json": {"schema": record}}}}});
    merge(&mut create["responses"], error_responses());
    paths.insert(
        format!("{prefix}/records"),
        json!({"get": list_get, "post": create}),
    );
    let one = |summary: &str, body: Option<&Value>| {
        let mut op = json!({"tags": [tag], "summary": summary, "parameters": with(&extra_params, vec![id.clone(), if_match.clone()]), "responses": {"200": {"description": "the record", "content": {"application/json": {"schema": record}}}}});
        if let Some(b) = body {
            op["requestBody"] = ok(b);
        }
        merge(&mut op["responses"], error_responses());
        op
    };
    paths.insert(format!("{prefix}/records/{{id}}"), json!({
        "get": one("Get a record", None),
        "put": one("Replace a record's data", Some(&write)),
        "patch": one("Merge-patch a record's data", Some(&json!({"type": "object", "properties": {"data": {"type": "object"}, "reason": {"type": "string"}}}))),
        "delete": one("Soft-delete a record", None)
    }));
    paths.insert(
        format!("{prefix}/records/{{id}}/restore"),
        json!({"post": one("Restore a deleted record", None)}),
    );
    paths.insert(
        format!("{prefix}/records/{{id}}/history"),
        json!({"get": {"tags": [tag], "summary": "The record's history from the operation log, with field-level differences (readable fields only)", "parameters": with(&extra_params, vec![id.clone()]), "responses": {"200": {"description": "{items}"}}}}),
    );
    paths.insert(
        format!("{prefix}/records/{{id}}/print"),
        json!({"get": {"tags": [tag], "summary": "The record as a printable HTML page (print action; the form's print template or the default layout)", "parameters": with(&extra_params, vec![id.clone(), json!({"name": "locale", "in": "query", "schema": {"type": "string", "enum": ["zh-CN", "en"]}})]), "responses": {"200": {"description": "text/html", "content": {"text/html": {"schema": {"type": "string"}}}}}}}),
    );
    paths.insert(
        format!("{prefix}/records/query"),
        json!({"post": {"tags": [tag], "summary": "List records with the list parameters in a JSON body (long filters)", "parameters": extra_params, "requestBody": ok(&json!({"type": "object"})), "responses": {"200": {"description": "a page", "content": {"application/json": {"schema": page}}}}}}),
    );
    paths.insert(format!("{prefix}/records/bulk"), json!({
        "post": {"tags": [tag], "summary": "Create records, all or nothing", "parameters": extra_params, "requestBody": ok(&json!({"type": "object", "properties": {"items": {"type": "array", "items": write}}})), "responses": {"201": {"description": "created"}}},
        "put": {"tags": [tag], "summary": "Update records, all or nothing", "parameters": extra_params, "requestBody": ok(&json!({"type": "object"})), "responses": {"200": {"description": "updated"}}}
    }));
    paths.insert(format!("{prefix}/records/import"), json!({"post": {"tags": [tag], "summary": "Import CSV or XLSX (dry_run=true to check only)", "parameters": extra_params, "responses": {"201": {"description": "imported"}, "200": {"description": "dry-run report"}}}}));
    paths.insert(format!("{prefix}/records/export"), json!({"get": {"tags": [tag], "summary": "Export CSV or XLSX", "parameters": extra_params, "responses": {"200": {"description": "the file"}}}}));
    let view = json!({"type": "object", "required": ["name"], "properties": {
        "name": {"type": "string", "maxLength": 100}, "shared": {"type": "boolean", "description": "administrators only"},
        "spec": {"type": "object", "properties": {
            "filter": {"type": "object", "description": "the list API's filter"}, "sort": {"type": "string"},
            "columns": {"type": "array", "items": {"type": "string"}}, "page_size": {"type": "integer", "minimum": 1, "maximum": 1000}}}}});
    paths.insert(format!("{prefix}/views"), json!({
        "get": {"tags": [tag], "summary": "My saved list views and the shared ones I can use", "parameters": extra_params, "responses": {"200": {"description": "{items}"}}},
        "post": {"tags": [tag], "summary": "Save a list view", "parameters": extra_params, "requestBody": ok(&view), "responses": {"201": {"description": "the view"}}}
    }));
    let view_id = with(
        &extra_params,
        vec![json!({"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}})],
    );
    paths.insert(format!("{prefix}/views/{{id}}"), json!({
        "put": {"tags": [tag], "summary": "Replace a saved view (its owner; an administrator for a shared one)", "parameters": view_id, "requestBody": ok(&view), "responses": {"200": {"description": "the view"}}},
        "delete": {"tags": [tag], "summary": "Delete a saved view", "parameters": view_id, "responses": {"204": {"description": "deleted"}}}
    }));
    paths
}

/// Declare every `{name}` of each path template as a path parameter of each of its
/// operations (OpenAPI requires it); ids and versions are integers, the rest text.
fn declare_path_params(paths: &mut Map<String, Value>) {
    for (path, item) in paths.iter_mut() {
        let names: Vec<&str> = path
            .split('{')
            .skip(1)
            .filter_map(|s| s.split_once('}').map(|(n, _)| n))
            .collect();
        let Some(ops) = item.as_object_mut() else {
            continue;
        };
        for (method, op) in ops.iter_mut() {
            if !["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                continue;
            }
            let params = op
                .as_object_mut()
                .map(|o| o.entry("parameters").or_insert_with(|| json!([])));
            let Some(Value::Array(params)) = params else {
                continue;
            };
            for n in &names {
                let declared = params.iter().any(|p| p["name"] == *n && p["in"] == "path");
                if !declared {
                    let ty = if ["id", "version"].contains(n) {
                        "integer"
                    } else {
                        "string"
                    };
                    params.push(
                        json!({"name": n, "in": "path", "required": true, "schema": {"type": ty}}),
                    );
                }
            }
        }
    }
}

fn merge(target: &mut Value, more: Value) {
    if let (Some(t), Value::Object(m)) = (target.as_object_mut(), more) {
        for (k, v) in m {
            t.entry(k).or_insert(v);
        }
    }
}

/// Point a form schema's internal references (`#/$defs/x`) at its place in components.
fn rehome_refs(v: &mut Value, base: &str) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get_mut("$ref")
                && let Some(rest) = r.strip_prefix('#')
            {
                *r = format!("#/components/schemas/{base}{rest}");
            }
            for (_, x) in m.iter_mut() {
                rehome_refs(x, base);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| rehome_refs(x, base)),
        _ => {}
    }
}

pub async fn platform() -> axum::Json<Value> {
    let app_param = json!([
        {"name": "app", "in": "path", "required": true, "schema": {"type": "string"}},
        {"name": "form", "in": "path", "required": true, "schema": {"type": "string"}}
    ]);
    let mut paths = record_paths(
        "/apps/{app}/forms/{form}",
        json!({"type": "object"}),
        "records",
        app_param,
    );
    let simple = |tag: &str, summary: &str| json!({"tags": [tag], "summary": summary, "responses": {"200": {"description": "ok"}}});
    paths.insert(
        "/health".into(),
        json!({"get": simple("platform", "Liveness")}),
    );
    paths.insert(
        "/ready".into(),
        json!({"get": simple("platform", "Readiness: the database answers")}),
    );
    paths.insert(
        "/openapi.json".into(),
        json!({"get": simple("platform", "This document")}),
    );
    paths.insert(
        "/apps".into(),
        json!({"get": simple("definitions", "List apps")}),
    );
    paths.insert("/apps/{app}".into(), json!({"get": simple("definitions", "An app's definition"), "put": simple("definitions", "Create or replace an app")}));
    paths.insert(
        "/apps/{app}/openapi.json".into(),
        json!({"get": simple("definitions", "OpenAPI for one app's forms")}),
    );
    paths.insert(
        "/apps/{app}/forms".into(),
        json!({"get": simple("definitions", "List forms")}),
    );
    paths.insert(
        "/apps/{app}/forms/{form}".into(),
        json!({"get": simple("definitions", "A form: draft and published version")}),
    );
    paths.insert(
        "/apps/{app}/forms/{form}/draft".into(),
        json!({"put": simple("definitions", "Save a draft definition")}),
    );
    paths.insert(
        "/apps/{app}/forms/{form}/publish".into(),
        json!({"post": simple("definitions", "Publish the draft (or the body) as a new version")}),
    );
    paths.insert(
        "/apps/{app}/forms/{form}/versions".into(),
        json!({"get": simple("definitions", "Published versions")}),
    );
    paths.insert(
        "/apps/{app}/forms/{form}/versions/{version}".into(),
        json!({"get": simple("definitions", "One published version")}),
    );
    for (p, item) in [
        (
            "/auth/login",
            json!({"post": simple("identity", "Log in with username and password: sets the session cookie, returns the CSRF token")}),
        ),
        (
            "/auth/logout",
            json!({"post": simple("identity", "End this session")}),
        ),
        (
            "/auth/me",
            json!({"get": simple("identity", "The current user, roles and CSRF token")}),
        ),
        (
            "/auth/password",
            json!({"post": simple("identity", "Change one's password (ends other sessions)")}),
        ),
        (
            "/auth/tokens",
            json!({"get": simple("identity", "API tokens"), "post": simple("identity", "Create an API token (shown once)")}),
        ),
        (
            "/auth/tokens/{id}",
            json!({"delete": simple("identity", "Revoke an API token")}),
        ),
        (
            "/admin/users",
            json!({"get": simple("administration", "Users"), "post": simple("administration", "Create a user")}),
        ),
        (
            "/admin/users/{username}",
            json!({"get": simple("administration", "A user"), "patch": simple("administration", "Change a user")}),
        ),
        (
            "/admin/users/{username}/roles",
            json!({"put": simple("administration", "Set a user's roles per app")}),
        ),
        (
            "/admin/departments",
            json!({"get": simple("administration", "Departments")}),
        ),
        (
            "/apps/{app}/flows",
            json!({"get": simple("flows", "Flows of an app")}),
        ),
        (
            "/apps/{app}/flows/{flow}",
            json!({"get": simple("flows", "A flow: draft and published definition (administrators)")}),
        ),
        (
            "/apps/{app}/flows/{flow}/draft",
            json!({"put": simple("flows", "Save a flow draft")}),
        ),
        (
            "/apps/{app}/flows/{flow}/publish",
            json!({"post": {"tags": ["flows"], "summary": "Publish a flow (checks the graph, forms, fields, users and roles; an assignee nobody can act as is refused unless allow_unstaffed)",
                "parameters": [{"name": "allow_unstaffed", "in": "query", "description": "publish although a role assignee is held by nobody yet (answered as warnings)", "schema": {"type": "boolean"}}],
                "responses": {"200": {"description": "ok"}}}}),
        ),
        (
            "/apps/{app}/flows/{flow}/versions",
            json!({"get": simple("flows", "Published versions of a flow")}),
        ),
        (
            "/apps/{app}/flows/{flow}/versions/{version}",
            json!({"get": simple("flows", "One published version of a flow")}),
        ),
        (
            "/apps/{app}/flows/{flow}/start",
            json!({"post": simple("flows", "Start a manual flow on a record: {record}")}),
        ),
        (
            "/apps/{app}/flows/{flow}/preview",
            json!({"post": simple("flows", "Render message templates on a real record, as a user or role would get them (administrators): {form, record, templates, as_user?, as_role?}")}),
        ),
        (
            "/flow-instances",
            json!({"get": simple("flows", "Flow instances the caller started, has a task in or was copied (all for administrators); ?initiator=me, ?cc=me, ?flow, ?record, ?status")}),
        ),
        (
            "/flow-instances/{id}",
            json!({"get": simple("flows", "An instance: status, current positions, history, its definition")}),
        ),
        (
            "/flow-instances/{id}/cancel",
            json!({"post": simple("flows", "Cancel a running instance (administrators)")}),
        ),
        (
            "/flow-instances/{id}/withdraw",
            json!({"post": simple("flows", "Withdraw a running instance (its initiator)")}),
        ),
        (
            "/tasks",
            json!({"get": simple("flows", "My tasks (?status=open|closed) with counts")}),
        ),
        (
            "/tasks/{id}",
            json!({"get": simple("flows", "A task with its record as I may see it and the editable fields")}),
        ),
        (
            "/tasks/{id}/complete",
            json!({"post": simple("flows", "Complete a task: {outcome, comment?, data?}")}),
        ),
        (
            "/inbox",
            json!({"get": simple("flows", "My in-app messages")}),
        ),
        (
            "/inbox/{id}/read",
            json!({"post": simple("flows", "Mark a message read")}),
        ),
        (
            "/directory/users",
            json!({"get": simple("identity", "The staff directory (name and department of enabled users)")}),
        ),
        (
            "/admin/departments/{id}",
            json!({"put": simple("administration", "Create or change a department")}),
        ),
        (
            "/apps/{app}/roles",
            json!({"get": simple("administration", "Roles of an app")}),
        ),
        (
            "/apps/{app}/roles/{role}",
            json!({"get": simple("administration", "A role"), "put": simple("administration", "Create or replace a role"), "delete": simple("administration", "Delete a role")}),
        ),
        (
            "/apps/{app}/explain",
            json!({"get": simple("administration", "Why a user may or may not do something")}),
        ),
        (
            "/tasks/{id}/{action}",
            json!({"post": simple("flows", "A task action: transfer, add-signer or return ({to, comment?})")}),
        ),
        (
            "/apps/{app}/flows/{flow}/hook",
            json!({"get": simple("flows", "The flow's inbound webhook address and secret (administrators)")}),
        ),
        (
            "/apps/{app}/flows/{flow}/hook/rotate",
            json!({"post": simple("flows", "A new webhook secret; the old one stops working at once (administrators)")}),
        ),
        (
            "/hooks/{app}/{flow}",
            json!({"post": simple("flows", "Inbound webhook: starts the flow (X-Formwork-Timestamp and X-Formwork-Signature, an HMAC with the flow's secret; docs/flows.md)")}),
        ),
        (
            "/admin/clock",
            json!({"get": simple("administration", "The server's clock (test servers with [testing] clock = true)"), "post": simple("administration", "Move a test clock forward (only when the server runs with one)")}),
        ),
        (
            "/apps/{app}/reports",
            json!({"get": simple("reports", "Reports the caller may run")}),
        ),
        (
            "/apps/{app}/reports/{key}",
            json!({"get": simple("reports", "A report definition"), "put": simple("reports", "Create or replace a report (administrators; checked like a publish)")}),
        ),
        (
            "/apps/{app}/reports/{key}/run",
            json!({"post": simple("reports", "Run a report: {filter?, params?} → columns, rows with drills"), "get": simple("reports", "Download a run as CSV or XLSX (?format=csv|xlsx)")}),
        ),
        (
            "/apps/{app}/report-preview",
            json!({"post": simple("reports", "Run an unsaved definition (administrators): {definition}")}),
        ),
        (
            "/apps/{app}/dashboards",
            json!({"get": simple("reports", "Dashboards of the caller's roles")}),
        ),
        (
            "/apps/{app}/dashboards/{key}",
            json!({"get": simple("reports", "A dashboard with the widgets the caller may run"), "put": simple("reports", "Create or replace a dashboard (administrators)")}),
        ),
        (
            "/audit",
            json!({"get": simple("audit", "Query the operation log (auditors)")}),
        ),
        (
            "/audit/key",
            json!({"get": simple("audit", "The public key that signs the log's checkpoints (auditors)")}),
        ),
        (
            "/audit/export",
            json!({"get": simple("audit", "Export log entries with their hashes, closed by a signed checkpoint, for verification")}),
        ),
    ] {
        paths.insert(p.into(), item);
    }
    paths.insert(
        "/files".into(),
        json!({"post": simple("files", "Upload a file (raw body with its Content-Type)")}),
    );
    paths.insert(
        "/files/{sha256}".into(),
        json!({"get": simple("files", "Download a file")}),
    );
    declare_path_params(&mut paths);
    axum::Json(json!({
        "openapi": "3.1.0",
        "info": {"title": "Formwork platform API", "version": env!("CARGO_PKG_VERSION")},
        "servers": [{"url": "/api/v1"}],
        "paths": paths,
        "components": {"schemas": common_components()}
    }))
}

/// The app's API as the caller may use it: only forms they may read, only fields they may
/// read.
pub async fn for_app(
    State(s): State<AppState>,
    Path(app): Path<String>,
    Auth(c): Auth,
) -> ApiResult<axum::Json<Value>> {
    let app_def = s.forms.get_app(&app).await?;
    let mut paths = Map::new();
    let mut schemas = common_components();
    for summary in s.forms.list_forms(&app).await? {
        let Some(key) = summary["key"].as_str() else {
            continue;
        };
        if summary["published_version"].is_null() {
            continue;
        }
        let form = s.forms.current(&app, key).await?;
        let d = s.auth.decide(&c, &app, key).await?;
        if !d.allows("read") {
            continue;
        }
        let name = format!("{key}_data");
        let mut def = json!({"schema": form.schema().clone()});
        super::apps::mask_definition(&mut def, &d);
        let mut schema = def["schema"].take();
        rehome_refs(&mut schema, &name);
        if let Value::Object(m) = &mut schema {
            m.remove("$schema");
        }
        schemas.insert(name.clone(), schema);
        let data_ref = json!({"$ref": format!("#/components/schemas/{name}")});
        for (p, item) in record_paths(
            &format!("/apps/{app}/forms/{key}"),
            data_ref,
            key,
            json!([]),
        ) {
            paths.insert(p, item);
        }
    }
    declare_path_params(&mut paths);
    let title = app_def["label"]
        .as_object()
        .and_then(|m| m.values().next())
        .and_then(Value::as_str)
        .unwrap_or(&app)
        .to_owned();
    Ok(axum::Json(json!({
        "openapi": "3.1.0",
        "info": {"title": format!("{title} — Formwork app API"), "version": env!("CARGO_PKG_VERSION")},
        "servers": [{"url": "/api/v1"}],
        "paths": paths,
        "components": {"schemas": schemas}
    })))
}

#[cfg(test)]
#[path = "openapi_tests.rs"]
mod tests;
