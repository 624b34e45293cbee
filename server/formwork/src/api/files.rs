//! Uploading and downloading attachment files: `POST /api/v1/files` (raw body, its
//! Content-Type is the file's type) and `GET /api/v1/files/{sha256}`.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use serde::Deserialize;
use tokio::io::AsyncWriteExt;

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::extract::{Path, Query, RequestActor};
use crate::error::DomainError;

#[derive(Deserialize)]
pub struct UploadParams {
    name: Option<String>,
}

fn internal(e: impl Into<anyhow::Error>) -> ApiError {
    ApiError::Domain(DomainError::Internal(e.into()))
}

pub async fn upload(
    State(s): State<AppState>,
    Query(p): Query<UploadParams>,
    RequestActor(actor): RequestActor,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, axum::Json<serde_json::Value>)> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|t| t.split(';').next().unwrap_or(t).trim().to_ascii_lowercase())
        .filter(|t| t.contains('/'))
        .ok_or_else(|| {
            ApiError::http(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the file with its Content-Type",
            )
        })?;
    let tmp = tempfile::NamedTempFile::new().map_err(internal)?;
    let mut file = tokio::fs::File::create(tmp.path())
        .await
        .map_err(internal)?;
    let mut stream = body.into_data_stream();
    let mut size = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            ApiError::http(
                StatusCode::BAD_REQUEST,
                "body",
                format!("the upload was interrupted: {e}"),
            )
        })?;
        size += chunk.len() as u64;
        if size > s.files.max_size() {
            return Err(ApiError::http(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("files are limited to {} bytes", s.files.max_size()),
            ));
        }
        file.write_all(&chunk).await.map_err(internal)?;
    }
    file.flush().await.map_err(internal)?;
    drop(file);
    let out = s
        .files
        .store(tmp.path(), &content_type, p.name, &actor)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(out)))
}

pub async fn download(State(s): State<AppState>, Path(sha): Path<String>) -> ApiResult<Response> {
    let (bytes, ct) = s.files.open(&sha).await?;
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&ct).unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment"),
    );
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=31536000, immutable"),
    );
    Ok((headers, bytes).into_response())
}
