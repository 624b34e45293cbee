//! Authentication at the door (sessions with CSRF protection, API tokens), login and logout,
//! tokens, and the admin API for users, departments, roles and explanations.

use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use std::net::{IpAddr, SocketAddr};

use crate::config::TrustedProxy;

use super::AppState;
use super::error::{ApiError, ApiResult};
use super::extract::{Json, Path, Query};
use crate::auth::Caller;
use crate::auth::account::Credentials;
use crate::auth::password::{csrf_for, same};
use crate::auth::service::Via;
use crate::error::DomainError;
use crate::store::oplog::Actor;

pub const SESSION_COOKIE: &str = "fw_session";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The caller, as the authentication layer found them.
pub struct Auth(pub Caller);

impl<S: Send + Sync> FromRequestParts<S> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .map(Auth)
            .ok_or_else(|| {
                DomainError::Unauthenticated("log in or send an API token".into()).into()
            })
    }
}

/// Address and client of a request, for the operation log and the per-address login limit.
pub fn request_actor(
    trusted: &[TrustedProxy],
    parts_ext: &axum::http::Extensions,
    headers: &HeaderMap,
) -> Actor {
    let address = parts_ext
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| client_address(trusted, c.0.ip(), headers).to_string());
    let client = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(200).collect());
    Actor {
        user: "anonymous".into(),
        department: None,
        address,
        client,
    }
}

/// The client's address: the peer's, unless the peer is a trusted proxy; then the nearest
/// address in `X-Forwarded-For` (read from the right, across repeated headers) that is not
/// a trusted proxy itself. An entry that is not an address ends the walk at the hop that
/// sent it, so a client cannot smuggle a value past the proxies.
pub fn client_address(trusted: &[TrustedProxy], peer: IpAddr, headers: &HeaderMap) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|t| t.0.contains(&ip));
    let mut hop = peer.to_canonical();
    if !is_trusted(hop) {
        return hop;
    }
    let forwarded: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    for entry in forwarded.iter().rev() {
        let Ok(ip) = entry.parse::<IpAddr>() else {
            return hop;
        };
        hop = ip.to_canonical();
        if !is_trusted(hop) {
            return hop;
        }
    }
    hop
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Every protected route passes here: credentials → caller, CSRF check for cookie writes.
pub async fn authenticate(State(s): State<AppState>, mut req: Request, next: Next) -> Response {
    let actor = request_actor(&s.trusted_proxies, req.extensions(), req.headers());
    let headers = req.headers();
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let result = match (bearer, cookie(headers, SESSION_COOKIE)) {
        (Some(token), _) => s.auth.authenticate(Credentials::Token(token), actor).await,
        (None, Some(secret)) => {
            let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
            let csrf_ok = headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|t| same(t, &csrf_for(secret)));
            if !safe && !csrf_ok {
                return ApiError::http(
                    StatusCode::FORBIDDEN,
                    "csrf",
                    "a write with a session cookie needs the X-CSRF-Token header from login",
                )
                .into_response();
            }
            s.auth
                .authenticate(Credentials::Session(secret), actor)
                .await
        }
        (None, None) => Err(DomainError::Unauthenticated(
            "log in or send an API token (Authorization: Bearer …)".into(),
        )),
    };
    match result.and_then(|caller| acting_role(req.headers(), caller)) {
        Ok(caller) => {
            req.extensions_mut().insert(caller);
            next.run(req).await
        }
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// The header naming the one role a request acts with (see [`Caller::acting`]).
pub const ROLE_HEADER: &str = "x-formwork-role";

/// The caller narrowed to the role named by [`ROLE_HEADER`], if any. Administrators hold
/// every permission and are not narrowed; a token bound to a role has that role only.
fn acting_role(headers: &HeaderMap, mut caller: Caller) -> Result<Caller, DomainError> {
    let Some(v) = headers.get(ROLE_HEADER) else {
        return Ok(caller);
    };
    let role = v.to_str().unwrap_or_default().trim();
    if !crate::keys::is_key(role) {
        return Err(DomainError::bad_request(
            "",
            "acting_role",
            format!("X-Formwork-Role {role:?} is not a role key"),
        ));
    }
    if !caller.is_admin() {
        caller.acting = Some(role.to_owned());
    }
    Ok(caller)
}

fn session_cookie(s: &AppState, value: &str, max_age: i64) -> HeaderValue {
    let secure = if s.auth_settings.secure_cookie {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("fw_session=; Path=/"))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    username: String,
    password: String,
}

pub async fn login(
    State(s): State<AppState>,
    req_parts: axum::http::Extensions,
    headers: HeaderMap,
    Json(b): Json<LoginBody>,
) -> ApiResult<Response> {
    let actor = request_actor(&s.trusted_proxies, &req_parts, &headers);
    let (secret, user) = s.auth.login(&b.username, &b.password, &actor).await?;
    let mut r = (
        StatusCode::OK,
        axum::Json(json!({"user": user, "csrf_token": csrf_for(&secret)})),
    )
        .into_response();
    let max_age = (s.auth_settings.session_hours * 3600) as i64;
    r.headers_mut()
        .insert(header::SET_COOKIE, session_cookie(&s, &secret, max_age));
    Ok(r)
}

pub async fn logout(State(s): State<AppState>, Auth(c): Auth) -> ApiResult<Response> {
    s.auth.logout(&c).await?;
    let mut r = StatusCode::NO_CONTENT.into_response();
    r.headers_mut()
        .insert(header::SET_COOKIE, session_cookie(&s, "", 0));
    Ok(r)
}

pub async fn me(
    State(s): State<AppState>,
    Auth(c): Auth,
    headers: HeaderMap,
) -> ApiResult<axum::Json<Value>> {
    let mut u = s.auth.describe_user(&c.principal.username).await?;
    if let (Via::Session { .. }, Some(secret)) =
        (&c.principal.via, cookie(&headers, SESSION_COOKIE))
    {
        u["csrf_token"] = json!(csrf_for(secret));
    }
    if let Via::Token { id, app, role } = &c.principal.via {
        u["token"] = json!({"id": id, "app": app, "role": role});
    }
    Ok(axum::Json(u))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    current_password: String,
    new_password: String,
}

pub async fn change_password(
    State(s): State<AppState>,
    Auth(c): Auth,
    Json(b): Json<PasswordBody>,
) -> ApiResult<StatusCode> {
    s.auth
        .change_password(&c, &b.current_password, &b.new_password)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn create_token(
    State(s): State<AppState>,
    Auth(c): Auth,
    Json(b): Json<Value>,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    Ok((
        StatusCode::CREATED,
        axum::Json(s.auth.create_token(&c, &b).await?),
    ))
}

pub async fn list_tokens(State(s): State<AppState>, Auth(c): Auth) -> ApiResult<axum::Json<Value>> {
    Ok(axum::Json(json!({"items": s.auth.list_tokens(&c).await?})))
}

pub async fn revoke_token(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    s.auth.revoke_token(&c, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ----- administration -----

pub async fn list_users(State(s): State<AppState>, Auth(c): Auth) -> ApiResult<axum::Json<Value>> {
    c.require_admin()?;
    Ok(axum::Json(json!({"items": s.auth.list_users().await?})))
}

/// The staff directory every signed-in user may read (for member pickers): enabled users
/// with name and department only — no email, attributes, roles or platform role.
pub async fn directory_users(
    State(s): State<AppState>,
    Auth(_c): Auth,
) -> ApiResult<axum::Json<Value>> {
    let items: Vec<Value> = s
        .auth
        .list_users()
        .await?
        .into_iter()
        .filter(|u| u["disabled"] != json!(true))
        .map(|u| {
            json!({"username": u["username"], "display_name": u["display_name"],
                   "department": u["department"]})
        })
        .collect();
    Ok(axum::Json(json!({ "items": items })))
}

pub async fn create_user(
    State(s): State<AppState>,
    Auth(c): Auth,
    Json(b): Json<Value>,
) -> ApiResult<(StatusCode, axum::Json<Value>)> {
    c.require_admin()?;
    Ok((
        StatusCode::CREATED,
        axum::Json(s.auth.create_user(&c, &b).await?),
    ))
}

pub async fn get_user(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(username): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    if username != c.principal.username {
        c.require_admin()?;
    }
    Ok(axum::Json(s.auth.describe_user(&username).await?))
}

pub async fn update_user(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(username): Path<String>,
    Json(b): Json<Value>,
) -> ApiResult<axum::Json<Value>> {
    c.require_admin()?;
    Ok(axum::Json(s.auth.update_user(&c, &username, &b).await?))
}

pub async fn set_user_roles(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(username): Path<String>,
    Json(b): Json<Value>,
) -> ApiResult<axum::Json<Value>> {
    c.require_admin()?;
    s.auth.user_row(&username).await?;
    Ok(axum::Json(s.auth.set_roles(&c, &username, &b).await?))
}

pub async fn list_departments(
    State(s): State<AppState>,
    Auth(_c): Auth,
) -> ApiResult<axum::Json<Value>> {
    Ok(axum::Json(
        json!({"items": s.auth.list_departments().await?}),
    ))
}

pub async fn put_department(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(id): Path<String>,
    Json(b): Json<Value>,
) -> ApiResult<axum::Json<Value>> {
    c.require_admin()?;
    Ok(axum::Json(s.auth.put_department(&c, &id, &b).await?))
}

pub async fn list_roles(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(app): Path<String>,
) -> ApiResult<axum::Json<Value>> {
    c.require_admin()?;
    Ok(axum::Json(json!({"items": s.auth.list_roles(&app).await?})))
}

pub async fn get_role(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path((app, role)): Path<(String, String)>,
) -> ApiResult<axum::Json<Value>> {
    c.require_admin()?;
    Ok(axum::Json(s.auth.get_role(&app, &role).await?))
}

pub async fn put_role(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path((app, role)): Path<(String, String)>,
    Json(b): Json<Value>,
) -> ApiResult<axum::Json<Value>> {
    c.require_admin()?;
    Ok(axum::Json(s.auth.put_role(&c, &app, &role, &b).await?))
}

pub async fn delete_role(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path((app, role)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    c.require_admin()?;
    s.auth.delete_role(&c, &app, &role).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub struct ExplainParams {
    user: Option<String>,
    form: String,
    action: String,
    field: Option<String>,
}

/// Why a user may or may not do something. Administrators ask about anyone; others only
/// about themselves.
pub async fn explain(
    State(s): State<AppState>,
    Auth(c): Auth,
    Path(app): Path<String>,
    Query(p): Query<ExplainParams>,
) -> ApiResult<axum::Json<Value>> {
    let user = p.user.unwrap_or_else(|| c.principal.username.clone());
    if user != c.principal.username {
        c.require_admin()?;
    }
    Ok(axum::Json(
        s.auth
            .explain(&user, &app, &p.form, &p.action, p.field.as_deref())
            .await?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(forwarded: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for f in forwarded {
            h.append("x-forwarded-for", f.parse().unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_client_address_is_taken_from_trusted_proxies_only() {
        let trusted: Vec<TrustedProxy> =
            vec!["127.0.0.1".parse().unwrap(), "10.0.0.0/8".parse().unwrap()];
        let peer = ip("127.0.0.1");
        let cases: &[(&[TrustedProxy], &str, &[&str], &str)] = &[
            // Untrusted peers speak for themselves.
            (&[], "127.0.0.1", &["203.0.113.7"], "127.0.0.1"),
            (&trusted, "192.0.2.1", &["203.0.113.7"], "192.0.2.1"),
            // A trusted peer without the header.
            (&trusted, "127.0.0.1", &[], "127.0.0.1"),
            // The nearest untrusted hop, not what the client wrote first.
            (
                &trusted,
                "127.0.0.1",
                &["198.51.100.1, 203.0.113.7"],
                "203.0.113.7",
            ),
            (
                &trusted,
                "127.0.0.1",
                &["203.0.113.7, 10.1.2.3"],
                "203.0.113.7",
            ),
            // Repeated headers read as one list, in order.
            (
                &trusted,
                "127.0.0.1",
                &["198.51.100.1", "203.0.113.7, 10.9.9.9"],
                "203.0.113.7",
            ),
            // All hops trusted: the farthest one.
            (&trusted, "127.0.0.1", &["10.0.0.2, 10.0.0.3"], "10.0.0.2"),
            // Garbage stops the walk at the hop that sent it.
            (
                &trusted,
                "127.0.0.1",
                &["203.0.113.7, nonsense"],
                "127.0.0.1",
            ),
            (&trusted, "127.0.0.1", &["nonsense, 10.0.0.4"], "10.0.0.4"),
            // An IPv4 peer seen as IPv6-mapped is the same peer.
            (
                &trusted,
                "::ffff:127.0.0.1",
                &["203.0.113.7"],
                "203.0.113.7",
            ),
            (&trusted, "127.0.0.1", &["2001:db8::1"], "2001:db8::1"),
        ];
        for (trust, peer_s, fwd, want) in cases {
            let got = client_address(trust, ip(peer_s), &headers(fwd));
            assert_eq!(got, ip(want), "peer {peer_s}, forwarded {fwd:?}");
        }
        assert_eq!(client_address(&trusted, peer, &HeaderMap::new()), peer);
        assert!("10.0.0.0/33".parse::<TrustedProxy>().is_err());
        assert!("proxy.local".parse::<TrustedProxy>().is_err());
        assert_eq!(
            "10.1.2.3/8".parse::<TrustedProxy>().unwrap().0.to_string(),
            "10.0.0.0/8"
        );
    }
}
