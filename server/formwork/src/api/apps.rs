//! Apps and form definitions.

use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::AppState;
use super::auth::Auth;
use super::error::ApiResult;
use super::extract::{Json, Path};
use crate::auth::{Caller, Decision};
use crate::error::DomainError;

/// Apps the caller has a role in (administrators: all).
pub async fn list_apps(State(s): State<AppState>, Auth(c): Auth) -> ApiResult<axum::Json<Value>> {
    let mut items = Vec::new();
    for a in s.forms.list_apps().await? {
        let key = a["key"].as_str().unwrap_or_default().to_owned();
        if can_see_app(&s, &c, &key).await? {
            items.push(a);
        }
    }
    Ok(axum::Json(json!({"items": items})))
}

async fn can_see_app(s: &AppState, c: &Caller, app: &str) -> ApiResult<bool> {
    if c.is_admin() {
        return Ok(true);
    }
    let loaded = s.auth.rules(c.principal.epoch).await?;
    Ok(!s.auth.roles_in(&loaded, c, app).is_empty())
}

pub async fn get_app(
    State(s): State<AppState>,
    Path(app): Path<String>,
    Auth(c): Auth,
) -> ApiResult<axum::Json<Value>> {
    if !can_see_app(&s, &c, &app).await? {
        return Err(DomainError::NotFound(format!("app {app}")).into());
    }
    Ok(axum::Json(s.forms.get_app(&app).await?))
}

/// A definition as a caller who is not an administrator sees it: only readable fields.
/// Layout controls of hidden fields, and rules, formulas and conditions that mention one,
/// are removed too (the server validates with the full schema; this copy is for display).
pub fn mask_definition(def: &mut Value, d: &Decision) {
    if d.read.is_full() {
        return;
    }
    let hidden: Vec<String> = def
        .pointer("/schema/properties")
        .and_then(Value::as_object)
        .map(|p| p.keys().filter(|k| !d.can_read(k)).cloned().collect())
        .unwrap_or_default();
    if let Some(Value::Object(props)) = def.pointer_mut("/schema/properties") {
        props.retain(|k, _| d.can_read(k));
        for p in props.values_mut() {
            if let Value::Object(o) = p
                && o.get("x-formula").is_some_and(|f| mentions(f, &hidden))
            {
                o.remove("x-formula");
            }
        }
    }
    if let Some(Value::Array(req)) = def.pointer_mut("/schema/required") {
        req.retain(|k| k.as_str().is_some_and(|k| d.can_read(k)));
    }
    if let Some(Value::Object(schema)) = def.get_mut("schema") {
        drop_conditions(schema, &hidden);
    }
    if let Some(layout) = def.get_mut("layout") {
        prune_layout(layout, &hidden);
    }
    mask_columns(def, d);
}

/// Remove a schema's conditions (`if`/`then`, `allOf`, …) that name one of `fields`.
fn drop_conditions(schema: &mut serde_json::Map<String, Value>, fields: &[String]) {
    for k in [
        "allOf",
        "anyOf",
        "oneOf",
        "if",
        "then",
        "else",
        "dependentRequired",
        "dependentSchemas",
        "not",
    ] {
        if schema.get(k).is_some_and(|v| mentions(v, fields)) {
            schema.remove(k);
        }
    }
}

/// Hidden sub-table columns: out of the rows' schema, their `required` and conditions, and
/// layout controls scoped to them.
fn mask_columns(def: &mut Value, d: &Decision) {
    let tables: Vec<String> = def
        .pointer("/schema/properties")
        .and_then(Value::as_object)
        .map(|p| {
            p.keys()
                .filter(|t| d.hidden_columns(t).next().is_some())
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    let mut scopes = Vec::new();
    for table in &tables {
        let columns: Vec<String> = d.hidden_columns(table).map(str::to_owned).collect();
        scopes.extend(
            columns
                .iter()
                .map(|c| format!("#/properties/{table}/items/properties/{c}")),
        );
        let Some(Value::Object(items)) =
            def.pointer_mut(&format!("/schema/properties/{table}/items"))
        else {
            continue;
        };
        if let Some(Value::Object(props)) = items.get_mut("properties") {
            props.retain(|k, _| !columns.contains(k));
        }
        if let Some(Value::Array(req)) = items.get_mut("required") {
            req.retain(|k| !k.as_str().is_some_and(|k| columns.iter().any(|c| c == k)));
        }
        drop_conditions(items, &columns);
    }
    if !scopes.is_empty()
        && let Some(layout) = def.get_mut("layout")
    {
        prune_scopes(layout, &scopes);
    }
}

fn prune_scopes(v: &mut Value, scopes: &[String]) {
    if let Some(Value::Array(elements)) = v.get_mut("elements") {
        elements.retain(|e| {
            !e.get("scope")
                .and_then(Value::as_str)
                .is_some_and(|s| scopes.iter().any(|x| x == s))
        });
        for e in elements.iter_mut() {
            prune_scopes(e, scopes);
        }
    }
}

/// Does this JSON name one of `fields` — as a JSON Logic variable, a layout scope, or a
/// property name in a schema condition?
fn mentions(v: &Value, fields: &[String]) -> bool {
    let named = |s: &str| {
        let s = s.strip_prefix("#/properties/").unwrap_or(s);
        let top = s.split(['.', '/']).next().unwrap_or(s);
        fields.iter().any(|f| f == top)
    };
    match v {
        Value::String(s) => named(s),
        Value::Array(a) => a.iter().any(|x| mentions(x, fields)),
        Value::Object(o) => o
            .iter()
            .any(|(k, x)| fields.contains(k) || mentions(x, fields)),
        _ => false,
    }
}

fn prune_layout(v: &mut Value, hidden: &[String]) {
    if let Value::Object(o) = v {
        if o.get("rule").is_some_and(|r| mentions(r, hidden)) {
            o.remove("rule");
        }
        if let Some(Value::Array(elements)) = o.get_mut("elements") {
            elements.retain(|e| !e.get("scope").is_some_and(|s| mentions(s, hidden)));
            for e in elements.iter_mut() {
                prune_layout(e, hidden);
            }
        }
    }
}

pub async fn put_app(
    State(s): State<AppState>,
    Path(app): Path<String>,
    Auth(c): Auth,
    Json(def): Json<Value>,
) -> ApiResult<axum::Json<Value>> {
    c.require_admin()?;
    Ok(axum::Json(s.forms.put_app(&app, def, &c.actor).await?))
}

/// Forms of an app the caller may use, each with the actions allowed.
pub async fn list_forms(
    State(s): State<AppState>,
    Path(app): Path<String>,
    Auth(c): Auth,
) -> ApiResult<axum::Json<Value>> {
    if !can_see_app(&s, &c, &app).await? {
        return Err(DomainError::NotFound(format!("app {app}")).into());
    }
    let mut items = Vec::new();
    for mut f in s.forms.list_forms(&app).await? {
        let key = f["key"].as_str().unwrap_or_default().to_owned();
        let d = s.auth.decide(&c, &app, &key).await?;
        if !c.is_admin() && (d.actions.is_empty() || f["published_version"].is_null()) {
            continue;
        }
        f["actions"] = json!(d.actions);
        items.push(f);
    }
    Ok(axum::Json(json!({ "items": items })))
}

/// A form's definition. Administrators see the draft too; others see the published
/// definition with only the fields they may read.
pub async fn get_form(
    State(s): State<AppState>,
    Path((app, form)): Path<(String, String)>,
    Auth(c): Auth,
) -> ApiResult<axum::Json<Value>> {
    let mut out = s.forms.describe(&app, &form).await?;
    if c.is_admin() {
        out["writable"] = json!(writable_fields(&out["definition"], |_| true));
        return Ok(axum::Json(out));
    }
    let d = s.auth.decide(&c, &app, &form).await?;
    if d.actions.is_empty() || out["definition"].is_null() {
        return Err(DomainError::NotFound(format!("form {app}/{form}")).into());
    }
    if let Some(o) = out.as_object_mut() {
        o.remove("draft");
        o.remove("draft_updated_at");
    }
    mask_definition(&mut out["definition"], &d);
    out["actions"] = json!(d.actions);
    out["writable"] = json!(writable_fields(&out["definition"], |f| d.can_write(f)));
    Ok(axum::Json(out))
}

/// The root fields of a (masked) definition the caller may write, in schema order, so a
/// client can show the others read-only instead of failing on save.
fn writable_fields(def: &Value, can_write: impl Fn(&str) -> bool) -> Vec<String> {
    def.pointer("/schema/properties")
        .and_then(Value::as_object)
        .map(|props| props.keys().filter(|k| can_write(k)).cloned().collect())
        .unwrap_or_default()
}

pub async fn put_draft(
    State(s): State<AppState>,
    Path((app, form)): Path<(String, String)>,
    Auth(c): Auth,
    Json(def): Json<Value>,
) -> ApiResult<axum::Json<Value>> {
    c.require_admin()?;
    Ok(axum::Json(
        s.forms.save_draft(&app, &form, def, &c.actor).await?,
    ))
}

/// Publish the draft; a body, when given, is saved as the draft first.
pub async fn publish(
    State(s): State<AppState>,
    Path((app, form)): Path<(String, String)>,
    Auth(c): Auth,
    body: axum::body::Bytes,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    c.require_admin()?;
    let actor = c.actor;
    if !body.iter().all(u8::is_ascii_whitespace) {
        let def: Value = serde_json::from_slice(&body).map_err(|e| {
            super::error::ApiError::http(
                StatusCode::BAD_REQUEST,
                "malformed_json",
                format!("the body is not JSON: {e}"),
            )
        })?;
        s.forms.save_draft(&app, &form, def, &actor).await?;
    }
    let out = s.forms.publish(&app, &form, &actor).await?;
    let status = if out["published"] == json!(true) {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, axum::Json(out)))
}

/// Version history of a definition: administrators only (designers' history).
pub async fn list_versions(
    State(s): State<AppState>,
    Path((app, form)): Path<(String, String)>,
    Auth(c): Auth,
) -> ApiResult<axum::Json<Value>> {
    c.require_admin()?;
    Ok(axum::Json(
        json!({"items": s.forms.list_versions(&app, &form).await?}),
    ))
}

pub async fn get_version(
    State(s): State<AppState>,
    Path((app, form, version)): Path<(String, String, i64)>,
    Auth(c): Auth,
) -> ApiResult<axum::Json<Value>> {
    c.require_admin()?;
    let v = s.forms.version(&app, &form, version).await?;
    Ok(axum::Json(
        json!({"version": v.version, "definition": v.definition}),
    ))
}
