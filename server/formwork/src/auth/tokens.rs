//! API tokens for integrators: shown once, stored as a digest, optionally bound to one
//! app role, expiring, revocable.

use serde_json::{Value, json};

use super::account::{entry, later};
use super::ops::AuthWrite;
use super::password::{self, digest};
use super::policy::role_subject;
use super::service::{AuthService, Caller, Via};
use crate::error::{Detail, DomainError, DomainResult};

impl AuthService {
    /// Create an API token for the caller (or, for an administrator, for `username`). The
    /// token text is in the answer once and never again.
    pub async fn create_token(&self, caller: &Caller, body: &Value) -> DomainResult<Value> {
        let mut details = Vec::new();
        let name = body
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if name.is_empty() || name.len() > 100 {
            details.push(Detail::new(
                "/name",
                "required",
                "a token has a name of 1–100 characters",
            ));
        }
        let username = body
            .get("username")
            .and_then(Value::as_str)
            .unwrap_or(&caller.principal.username)
            .to_owned();
        if username != caller.principal.username && !caller.is_admin() {
            details.push(Detail::new(
                "/username",
                "admin",
                "only an administrator makes tokens for others",
            ));
        }
        if matches!(caller.principal.via, Via::Token { .. }) {
            details.push(Detail::new(
                "",
                "session",
                "tokens are made from a login session, not with another token",
            ));
        }
        let app = body.get("app").and_then(Value::as_str).map(str::to_owned);
        let role = body.get("role").and_then(Value::as_str).map(str::to_owned);
        match (&app, &role) {
            (Some(a), Some(r)) => {
                let exists = self
                    .db
                    .query_one(
                        "SELECT key FROM roles WHERE app = $1 AND key = $2",
                        vec![a.clone().into(), r.clone().into()],
                    )
                    .await?
                    .is_some();
                if !exists {
                    details.push(Detail::new(
                        "/role",
                        "exists",
                        format!("app {a} has no role {r:?}"),
                    ));
                } else if !caller.is_admin() {
                    let epoch = self.current_epoch().await?;
                    let held = self.rules(epoch).await?.index.roles_of(&username, a);
                    if !held.contains(&role_subject(r)) {
                        details.push(Detail::new(
                            "/role",
                            "held",
                            "a token can only carry a role its user holds",
                        ));
                    }
                }
            }
            (None, None) => {}
            _ => details.push(Detail::new("/role", "pair", "app and role go together")),
        }
        let days = match body.get("expires_in_days") {
            None | Some(Value::Null) => 90,
            Some(v) => match v.as_i64() {
                Some(d) if (1..=3650).contains(&d) => d,
                _ => {
                    details.push(Detail::new(
                        "/expires_in_days",
                        "range",
                        "expires_in_days is 1–3650",
                    ));
                    90
                }
            },
        };
        DomainError::unless_any(details)?;
        if username != caller.principal.username {
            self.user_row(&username).await?;
        }
        let id = password::random_id();
        let secret = password::random_secret();
        let token = format!("fwt.{id}.{secret}");
        let expires = later(days * 24);
        let info = json!({"id": id, "name": name, "username": username, "app": app, "role": role, "expires_at": expires});
        let mut e = entry(&caller.actor, "token.create");
        e.after = Some(info.clone());
        self.writer
            .submit(AuthWrite::new(e).stmt(
                "INSERT INTO api_tokens (id, secret_hash, username, name, app, role, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                vec![
                    id.into(),
                    digest(&secret).into(),
                    username.into(),
                    name.into(),
                    app.into(),
                    role.into(),
                    crate::time::now().into(),
                    expires.into(),
                ],
            ).adds_only())
            .await?;
        let mut out = info;
        out["token"] = json!(token);
        Ok(out)
    }

    pub async fn list_tokens(&self, caller: &Caller) -> DomainResult<Vec<Value>> {
        let (sql, params) = if caller.is_admin() {
            (
                "SELECT id, username, name, app, role, created_at, expires_at, revoked_at FROM api_tokens ORDER BY created_at",
                vec![],
            )
        } else {
            (
                "SELECT id, username, name, app, role, created_at, expires_at, revoked_at FROM api_tokens WHERE username = $1 ORDER BY created_at",
                vec![caller.principal.username.clone().into()],
            )
        };
        let rows = self.db.query_all(sql, params).await?;
        rows.iter()
            .map(|r| {
                Ok(json!({
                    "id": r.try_get::<String>("", "id")?,
                    "username": r.try_get::<String>("", "username")?,
                    "name": r.try_get::<String>("", "name")?,
                    "app": r.try_get::<Option<String>>("", "app")?,
                    "role": r.try_get::<Option<String>>("", "role")?,
                    "created_at": r.try_get::<String>("", "created_at")?,
                    "expires_at": r.try_get::<Option<String>>("", "expires_at")?,
                    "revoked_at": r.try_get::<Option<String>>("", "revoked_at")?,
                }))
            })
            .collect()
    }

    pub async fn revoke_token(&self, caller: &Caller, id: &str) -> DomainResult<()> {
        let owner = self
            .db
            .query_one(
                "SELECT username FROM api_tokens WHERE id = $1",
                vec![id.to_owned().into()],
            )
            .await?
            .map(|r| r.try_get::<String>("", "username"))
            .transpose()?;
        match owner {
            Some(o) if o == caller.principal.username || caller.is_admin() => {}
            _ => return Err(DomainError::NotFound(format!("token {id}"))),
        }
        let mut e = entry(&caller.actor, "token.revoke");
        e.after = Some(json!({"id": id}));
        self.writer
            .submit(AuthWrite::new(e).stmt(
                "UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
                vec![id.to_owned().into(), crate::time::now().into()],
            ))
            .await?;
        Ok(())
    }
}
