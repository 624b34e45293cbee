//! Flows: definitions, manual starts, instances, tasks and the inbox (docs/flows.md).

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;

use super::AppState;
use super::auth::Auth;
use super::error::{ApiError, ApiResult};
use super::extract::{Json, Path, Query};

fn optional_json(body: &axum::body::Bytes) -> ApiResult<Option<Value>> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    // `null` is no definition, like an empty body.
    let parsed = serde_json::from_slice::<Value>(body).map(|v| Some(v).filter(|v| !v.is_null()));
    parsed.map_err(|e| {
        ApiError::http(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            format!("the body is not JSON: {e}"),
        )
    })
}

pub async fn list(
    State(s): State<AppState>,
    Path(app): Path<String>,
    Auth(c): Auth,
) -> ApiResult<axum::Json<Value>> {
    Ok(axum::Json(json!({"items": s.flows.list(&app, &c).await?})))
}

pub async fn get(
    State(s): State<AppState>,
    Path((app, flow)): Path<(String, String)>,
    Auth(c): Auth,
) -> ApiResult<axum::Json<Value>> {
    c.require_admin()?;
    Ok(axum::Json(s.flows.get(&app, &flow).await?))
}

pub async fn put_draft(
    State(s): State<AppState>,
    Path((app, flow)): Path<(String, String)>,
    Auth(c): Auth,
    Json(def): Json<Value>,
) -> ApiResult<axum::Json<Value>> {
    Ok(axum::Json(s.flows.save_draft(&app, &flow, def, &c).await?))
}

#[derive(serde::Deserialize)]
pub struct PublishQuery {
    /// Publish although an assignee resolves to nobody yet (answered as `warnings`).
    #[serde(default)]
    allow_unstaffed: bool,
}

pub async fn publish(
    State(s): State<AppState>,
    Path((app, flow)): Path<(String, String)>,
    Query(q): Query<PublishQuery>,
    Auth(c): Auth,
    body: axum::body::Bytes,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    let def = optional_json(&body)?;
    let (created, out) = s
        .flows
        .publish(&app, &flow, def, q.allow_unstaffed, &c)
        .await?;
    Ok((
        if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        axum::Json(out),
    ))
}

/// A message template rendered on a real record (flows::preview).
pub async fn preview(
    State(s): State<AppState>,
    Path((app, flow)): Path<(String, String)>,
    Auth(c): Auth,
    Json(req): Json<Value>,
) -> ApiResult<axum::Json<Value>> {
    Ok(axum::Json(s.flows.preview(&app, &flow, &req, &c).await?))
}

pub async fn versions(
    State(s): State<AppState>,
    Path((app, flow)): Path<(String, String)>,
    Auth(c): Auth,
) -> ApiResult<axum::Json<Value>> {
    c.require_admin()?;
    Ok(axum::Json(
        json!({"items": s.flows.versions(&app, &flow).await?}),
    ))
}

pub async fn version(
    State(s): State<AppState>,
    Path((app, flow, version)): Path<(String, String, i64)>,
    Auth(c): Auth,
) -> ApiResult<axum::Json<Value>> {
    c.require_admin()?;
    Ok(axum::Json(s.flows.version(&app, &flow, version).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartBody {
    record: i64,
}

pub async fn start(
    State(s): State<AppState>,
    Path((app, flow)): Path<(String, String)>,
    Auth(c): Auth,
    Json(b): Json<StartBody>,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    Ok((
        StatusCode::CREATED,
        axum::Json(s.flows.start(&app, &flow, b.record, &c).await?),
    ))
}

pub async fn instances(
    State(s): State<AppState>,
    Auth(c): Auth,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<axum::Json<Value>> {
    Ok(axum::Json(
        json!({"items": s.flows.instances(&q, &c).await?}),
    ))
}

pub async fn instance(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    Auth(c): Auth,
) -> ApiResult<axum::Json<Value>> {
    Ok(axum::Json(s.flows.instance(id, &c).await?))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct StopQuery {
    reason: Option<String>,
}

/// The reason for stopping an instance: `?reason=` or a JSON body `{"reason": …}` (an
/// unknown key, or a reason that is not text, is refused rather than dropped).
fn stop_reason(q: StopQuery, body: &axum::body::Bytes) -> ApiResult<Option<String>> {
    let Some(v) = optional_json(body)? else {
        return Ok(q.reason);
    };
    let b: StopQuery = serde_json::from_value(v).map_err(|e| {
        ApiError::from(crate::error::DomainError::bad_request(
            "/reason",
            "body",
            format!("the body is {{\"reason\": text}}: {e}"),
        ))
    })?;
    Ok(b.reason.or(q.reason))
}

pub async fn cancel(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    Auth(c): Auth,
    Query(q): Query<StopQuery>,
    body: axum::body::Bytes,
) -> ApiResult<axum::Json<Value>> {
    let reason = stop_reason(q, &body)?;
    Ok(axum::Json(s.flows.stop(id, false, &c, reason).await?))
}

pub async fn withdraw(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    Auth(c): Auth,
    Query(q): Query<StopQuery>,
    body: axum::body::Bytes,
) -> ApiResult<axum::Json<Value>> {
    let reason = stop_reason(q, &body)?;
    Ok(axum::Json(s.flows.stop(id, true, &c, reason).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskQuery {
    status: Option<String>,
}

pub async fn tasks(
    State(s): State<AppState>,
    Auth(c): Auth,
    Query(q): Query<TaskQuery>,
) -> ApiResult<axum::Json<Value>> {
    Ok(axum::Json(
        s.flows
            .tasks(&c, q.status.as_deref().unwrap_or("open"))
            .await?,
    ))
}

pub async fn task(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    Auth(c): Auth,
) -> ApiResult<axum::Json<Value>> {
    Ok(axum::Json(s.flows.task(id, &c).await?))
}

pub async fn complete(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    Auth(c): Auth,
    Json(b): Json<Value>,
) -> ApiResult<axum::Json<Value>> {
    Ok(axum::Json(s.flows.complete(id, b, &c).await?))
}

pub async fn inbox(State(s): State<AppState>, Auth(c): Auth) -> ApiResult<axum::Json<Value>> {
    Ok(axum::Json(s.flows.inbox(&c).await?))
}

pub async fn read_message(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    Auth(c): Auth,
) -> ApiResult<StatusCode> {
    s.flows.read_message(id, &c).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The address and secret of a webhook flow (administrators).
pub async fn hook_secret(
    State(s): State<AppState>,
    Path((app, flow)): Path<(String, String)>,
    Auth(c): Auth,
) -> ApiResult<axum::Json<Value>> {
    Ok(axum::Json(
        s.flows.hook_secret(&app, &flow, false, &c).await?,
    ))
}

/// A new secret for a webhook flow; the old one stops working.
pub async fn rotate_hook_secret(
    State(s): State<AppState>,
    Path((app, flow)): Path<(String, String)>,
    Auth(c): Auth,
) -> ApiResult<axum::Json<Value>> {
    Ok(axum::Json(
        s.flows.hook_secret(&app, &flow, true, &c).await?,
    ))
}

/// An inbound webhook (no session or token: the HMAC signature is the credential).
pub async fn hook(
    State(s): State<AppState>,
    Path((app, flow)): Path<(String, String)>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    let h = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
    let out = s
        .flows
        .receive_hook(
            &app,
            &flow,
            h("x-formwork-timestamp"),
            h("x-formwork-signature"),
            &body,
        )
        .await?;
    Ok((StatusCode::ACCEPTED, axum::Json(out)))
}

/// `POST /tasks/{id}/transfer | add-signer | return` with `{to, comment?}`.
pub async fn task_action(
    State(s): State<AppState>,
    Path((id, action)): Path<(i64, String)>,
    Auth(c): Auth,
    Json(body): Json<Value>,
) -> ApiResult<axum::Json<Value>> {
    Ok(axum::Json(
        s.flows.task_action(id, &action, body, &c).await?,
    ))
}

fn clock_enabled(s: &AppState) -> ApiResult<()> {
    if s.testing_clock {
        Ok(())
    } else {
        Err(ApiError::http(
            StatusCode::NOT_FOUND,
            "not_found",
            "no such API route",
        ))
    }
}

/// `GET /admin/clock` (test servers, `[testing] clock = true`): the server's time.
pub async fn clock(State(s): State<AppState>, Auth(c): Auth) -> ApiResult<axum::Json<Value>> {
    clock_enabled(&s)?;
    c.require_admin()?;
    Ok(axum::Json(json!({"now": s.db.clock.now()})))
}

/// `POST /admin/clock {"advance_seconds": n}` (test servers): move the server's clock
/// forward, then let the flow worker look for what fell due.
pub async fn advance_clock(
    State(s): State<AppState>,
    Auth(c): Auth,
    Json(body): Json<Value>,
) -> ApiResult<axum::Json<Value>> {
    clock_enabled(&s)?;
    c.require_admin()?;
    let secs = body
        .get("advance_seconds")
        .and_then(Value::as_f64)
        .filter(|x| (0.0..=10.0 * 366.0 * 86_400.0).contains(x))
        .ok_or_else(|| {
            ApiError::from(crate::error::DomainError::invalid_one(
                "/advance_seconds",
                "range",
                "advance_seconds is a number of seconds from 0 to ten years",
            ))
        })?;
    s.db.clock.advance((secs * 1000.0) as i64);
    s.flows.engine.wake();
    Ok(axum::Json(json!({"now": s.db.clock.now()})))
}
