//! Extractors that reject in our error shape, and request context (the acting user).

use axum::extract::{ConnectInfo, FromRequestParts, OptionalFromRequestParts};
use axum::extract::{Json as AxumJson, Path as AxumPath, Query as AxumQuery};
use axum::http::StatusCode;
use axum::http::request::Parts;
use std::net::SocketAddr;

use super::error::ApiError;
use crate::store::oplog::Actor;

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

/// Who is acting. Until identity lands, requests act as `anonymous`; the address and client
/// are recorded for the operation log.
pub struct RequestActor(pub Actor);

impl<S: Send + Sync> FromRequestParts<S> for RequestActor {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let address = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip().to_string());
        let client = parts
            .headers
            .get(axum::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(200).collect());
        Ok(RequestActor(Actor {
            user: "anonymous".into(),
            address,
            client,
        }))
    }
}

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
