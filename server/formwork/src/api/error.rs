//! The one error shape of the API: `{"code", "message", "details": [{pointer, rule, message}]}`.

use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::error::{Detail, DomainError};

#[derive(Debug)]
pub enum ApiError {
    Domain(DomainError),
    /// Request-level problems found before any service runs.
    Http {
        status: StatusCode,
        code: &'static str,
        message: String,
        details: Vec<Detail>,
    },
}

impl ApiError {
    pub fn http(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError::Http {
            status,
            code,
            message: message.into(),
            details: vec![],
        }
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        ApiError::Domain(e)
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

fn body(status: StatusCode, code: &str, message: String, details: Vec<Detail>) -> Response {
    (
        status,
        Json(json!({"code": code, "message": message, "details": details})),
    )
        .into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Http {
                status,
                code,
                message,
                details,
            } => body(status, code, message, details),
            ApiError::Domain(e) => match e {
                DomainError::NotFound(what) => body(
                    StatusCode::NOT_FOUND,
                    "not_found",
                    format!("{what} not found"),
                    vec![],
                ),
                DomainError::Invalid { message, details } => body(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "validation_failed",
                    message,
                    details,
                ),
                DomainError::BadRequest { message, details } => {
                    body(StatusCode::BAD_REQUEST, "bad_request", message, details)
                }
                DomainError::Conflict { message, details } => {
                    body(StatusCode::CONFLICT, "conflict", message, details)
                }
                DomainError::Unauthenticated(m) => {
                    body(StatusCode::UNAUTHORIZED, "unauthenticated", m, vec![])
                }
                DomainError::Forbidden { message, details } => {
                    body(StatusCode::FORBIDDEN, "forbidden", message, details)
                }
                DomainError::TooMany {
                    message,
                    retry_after,
                } => {
                    let mut r = body(
                        StatusCode::TOO_MANY_REQUESTS,
                        "too_many_requests",
                        message,
                        vec![],
                    );
                    if let Ok(v) = axum::http::HeaderValue::from_str(&retry_after.to_string()) {
                        r.headers_mut().insert("retry-after", v);
                    }
                    r
                }
                e @ DomainError::Stale { current } => body(
                    StatusCode::PRECONDITION_FAILED,
                    "precondition_failed",
                    e.to_string(),
                    vec![Detail::new(
                        "",
                        "if_match",
                        format!("current row version is {current}"),
                    )],
                ),
                DomainError::Unavailable(m) => {
                    tracing::warn!(error = %m, "database unavailable");
                    let mut r = body(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "unavailable",
                        "the database is unavailable; retry later".into(),
                        vec![],
                    );
                    r.headers_mut()
                        .insert("retry-after", axum::http::HeaderValue::from_static("1"));
                    r
                }
                DomainError::Busy(m) => {
                    tracing::warn!(error = %m, "database busy");
                    let mut r = body(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "busy",
                        "the database is busy; nothing was changed, retry later".into(),
                        vec![],
                    );
                    r.headers_mut()
                        .insert("retry-after", axum::http::HeaderValue::from_static("1"));
                    r
                }
                DomainError::Internal(err) => {
                    tracing::error!(error = ?err, "internal error");
                    body(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "internal",
                        "internal error; it has been logged".into(),
                        vec![],
                    )
                }
            },
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        let status = r.status();
        let code = match status {
            StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
            _ => "malformed_json",
        };
        let status = if status == StatusCode::UNPROCESSABLE_ENTITY {
            StatusCode::BAD_REQUEST
        } else {
            status
        };
        ApiError::Http {
            status,
            code,
            message: r.body_text(),
            details: vec![Detail::new("", code, r.body_text())],
        }
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        ApiError::http(StatusCode::BAD_REQUEST, "bad_path", r.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        ApiError::http(StatusCode::BAD_REQUEST, "bad_query", r.body_text())
    }
}
