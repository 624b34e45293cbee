//! Extractors that reject in our error shape.

use axum::extract::OptionalFromRequestParts;
use axum::extract::{Json as AxumJson, Path as AxumPath, Query as AxumQuery};
use axum::http::StatusCode;
use axum::http::request::Parts;

use super::error::ApiError;

/// JSON body; malformed JSON, wrong content type and oversized bodies become 4xx in our shape.
#[derive(axum::extract::FromRequest)]
#[from_request(via(AxumJson), rejection(ApiError))]
pub struct Json<T>(pub T);

#[derive(axum::extract::FromRequestParts)]
#[from_request(via(AxumPath), rejection(ApiError))]
pub struct Path<T>(pub T);

#[derive(axum::extract::FromRequestParts)]
#[from_request(via(AxumQuery), rejection(ApiError))]
pub struct Query<T>(pub T);

/// `If-Match: "3"` (or `W/"3"`) as a row version; `*` or absent means no condition.
pub struct IfMatch(pub Option<i64>);

impl<S: Send + Sync> OptionalFromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        let Some(v) = parts.headers.get(axum::http::header::IF_MATCH) else {
            return Ok(None);
        };
        let text = v.to_str().unwrap_or_default().trim();
        if text == "*" {
            return Ok(None);
        }
        let tag = text.trim_start_matches("W/").trim_matches('"');
        tag.parse::<i64>()
            .map(|n| Some(IfMatch(Some(n))))
            .map_err(|_| {
                ApiError::http(
                    StatusCode::BAD_REQUEST,
                    "bad_if_match",
                    format!("If-Match {text:?} is not an ETag this API issued"),
                )
            })
    }
}
