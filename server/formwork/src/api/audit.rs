//! The operation log over HTTP: the auditor's query and export, and one record's history.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::AppState;
use super::auth::Auth;
use super::error::ApiResult;
use super::extract::{Path, Query};
use crate::error::DomainError;
use crate::service::audit::{AuditQuery, MAX_AUDIT_PAGE, query};

fn require_auditor(c: &crate::auth::Caller) -> ApiResult<()> {
    if c.is_auditor() {
        Ok(())
    } else {
        Err(DomainError::forbidden(
            "",
            "auditor",
            "the operation log is for auditors and administrators",
        )
        .into())
    }
}

/// `GET /audit?app&form&record&user&action&from&to&after&limit`: entries in log order,
/// values unobscured, with their hashes; `next_after` continues.
pub async fn list(
    State(s): State<AppState>,
    Auth(c): Auth,
    Query(q): Query<AuditQuery>,
) -> ApiResult<axum::Json<Value>> {
    require_auditor(&c)?;
    let (items, next) = query(&s.db, &q, false).await?;
    Ok(axum::Json(json!({"items": items, "next_after": next})))
}

/// `GET /audit/export?…`: every matching entry as JSON lines, `before`/`after` as the exact
/// stored text, so that `formwork audit verify-export FILE` recomputes each hash and link
/// without access to the database, then `{"checkpoint": …}`, a signed checkpoint of the
/// head (store::signing). The export itself is logged.
pub async fn export(
    State(s): State<AppState>,
    Auth(c): Auth,
    Query(q): Query<AuditQuery>,
) -> ApiResult<Response> {
    require_auditor(&c)?;
    // Bad parameters are refused here, with a 4xx: once the stream has begun, an error can
    // only cut the response short.
    query(
        &s.db,
        &AuditQuery {
            limit: Some(1),
            ..q.clone()
        },
        true,
    )
    .await?;
    s.records.log_audit_export(&c, &q).await?;
    // The export closes with a signed checkpoint of the head (taken now, so it covers
    // every entry listed): an inspector keeps it to hold the log to it later.
    let checkpoint = s.records.checkpoint(&s.signer, true).await?;
    let trailer = format!("{}\n", json!({"checkpoint": checkpoint}));
    let db = s.db.clone();
    let stream = futures::stream::unfold(Some(q.after), move |after| {
        let db = db.clone();
        let q = q.clone();
        async move {
            let after = after?;
            let page = AuditQuery {
                after,
                limit: Some(MAX_AUDIT_PAGE),
                ..q
            };
            match query(&db, &page, true).await {
                Ok((items, next)) => {
                    let mut text = String::new();
                    for i in items {
                        text.push_str(&i.to_string());
                        text.push('\n');
                    }
                    Some((Ok::<_, std::io::Error>(text), next.map(Some)))
                }
                Err(e) => Some((Err(std::io::Error::other(e.to_string())), None)),
            }
        }
    });
    let stream = futures::StreamExt::chain(
        stream,
        futures::stream::once(async move { Ok::<_, std::io::Error>(trailer) }),
    );
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-ndjson"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"formwork-audit.jsonl\""),
    );
    Ok((headers, Body::from_stream(stream)).into_response())
}

/// `GET …/records/{id}/history`: the record's history as the caller may read it.
pub async fn history(
    State(s): State<AppState>,
    Path((app, form, id)): Path<(String, String, i64)>,
    Auth(c): Auth,
) -> ApiResult<axum::Json<Value>> {
    Ok(axum::Json(s.records.history(&app, &form, id, &c).await?))
}

/// `GET /audit/key`: the public key that signs the log's checkpoints (auditors).
pub async fn key(State(s): State<AppState>, Auth(c): Auth) -> ApiResult<axum::Json<Value>> {
    require_auditor(&c)?;
    let public = s.signer.public_hex();
    Ok(axum::Json(json!({
        "algorithm": "Ed25519",
        "public_key": public,
        "key": crate::store::signing::key_id(public),
    })))
}
