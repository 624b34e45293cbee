//! Apps and form definitions.

use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::AppState;
use super::error::ApiResult;
use super::extract::{Json, Path, RequestActor};

pub async fn list_apps(State(s): State<AppState>) -> ApiResult<axum::Json<Value>> {
    Ok(axum::Json(json!({"items": s.forms.list_apps().await?})))
}

pub async fn get_app(
    State(s): State<AppState>,
    Path(app): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    Ok(axum::Json(s.forms.get_app(&app).await?))
}

pub async fn put_app(
    State(s): State<AppState>,
    Path(app): Path<String>,
    RequestActor(actor): RequestActor,
    Json(def): Json<Value>,
) -> ApiResult<axum::Json<Value>> {
    Ok(axum::Json(s.forms.put_app(&app, def, &actor).await?))
}

pub async fn list_forms(
    State(s): State<AppState>,
    Path(app): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    Ok(axum::Json(
        json!({"items": s.forms.list_forms(&app).await?}),
    ))
}

pub async fn get_form(
    State(s): State<AppState>,
    Path((app, form)): Path<(String, String)>,
) -> ApiResult<axum::Json<Value>> {
    Ok(axum::Json(s.forms.describe(&app, &form).await?))
}

pub async fn put_draft(
    State(s): State<AppState>,
    Path((app, form)): Path<(String, String)>,
    RequestActor(actor): RequestActor,
    Json(def): Json<Value>,
) -> ApiResult<axum::Json<Value>> {
    Ok(axum::Json(
        s.forms.save_draft(&app, &form, def, &actor).await?,
    ))
}

/// Publish the draft; a body, when given, is saved as the draft first.
pub async fn publish(
    State(s): State<AppState>,
    Path((app, form)): Path<(String, String)>,
    RequestActor(actor): RequestActor,
    body: axum::body::Bytes,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
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

pub async fn list_versions(
    State(s): State<AppState>,
    Path((app, form)): Path<(String, String)>,
) -> ApiResult<axum::Json<Value>> {
    Ok(axum::Json(
        json!({"items": s.forms.list_versions(&app, &form).await?}),
    ))
}

pub async fn get_version(
    State(s): State<AppState>,
    Path((app, form, version)): Path<(String, String, i64)>,
) -> ApiResult<axum::Json<Value>> {
    let v = s.forms.version(&app, &form, version).await?;
    Ok(axum::Json(
        json!({"version": v.version, "definition": v.definition}),
    ))
}
