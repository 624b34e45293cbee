//! Streaming a request body to a temporary file, with a size limit (imports, files).

use axum::body::Body;
use axum::http::StatusCode;
use futures::StreamExt;
use tokio::io::AsyncWriteExt;

use super::error::ApiError;
use crate::error::DomainError;

fn internal(e: impl Into<anyhow::Error>) -> ApiError {
    ApiError::Domain(DomainError::Internal(e.into()))
}

/// Write `body` to a new temporary file; more than `limit` bytes is a 413 and an
/// interrupted upload a 400. The file is removed when the handle is dropped.
pub async fn spool(
    body: Body,
    limit: u64,
    what: &str,
) -> Result<tempfile::NamedTempFile, ApiError> {
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
        if size > limit {
            return Err(ApiError::http(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("{what} are limited to {limit} bytes"),
            ));
        }
        file.write_all(&chunk).await.map_err(internal)?;
    }
    file.flush().await.map_err(internal)?;
    Ok(tmp)
}
