//! Accounts: authentication per request, login and logout, passwords, API tokens, users,
//! departments, role documents and memberships. Every change goes through the writer with
//! its operation-log entry; secrets are stored only as hashes and never logged.

use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

use super::ops::AuthWrite;
use super::password::{self, check_strength, digest};
use super::policy::{RoleDoc, is_key, role_subject, user_subject};
use super::service::{AuthService, Caller, PLATFORM_ADMIN, PLATFORM_AUDITOR, Principal, Via};
use crate::error::{Detail, DomainError, DomainResult};
use crate::store::oplog::{Actor, Entry};

/// Credentials as they came with a request.
pub enum Credentials<'a> {
    Session(&'a str),
    Token(&'a str),
}

fn entry(actor: &Actor, action: &'static str) -> Entry {
    Entry {
        actor: actor.clone(),
        action,
        app: None,
        form: None,
        record_id: None,
        before: None,
        after: None,
        reason: None,
    }
}

fn later(hours: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::hours(hours))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn ago(secs: u64) -> String {
    (chrono::Utc::now() - chrono::Duration::seconds(secs as i64))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

const USER_COLUMNS: &str = "u.username, u.display_name, u.email, u.department, u.platform_role, u.attributes, u.disabled, u.created_at, u.updated_at";

fn user_json(r: &sea_orm::QueryResult) -> DomainResult<Value> {
    let attrs: String = r.try_get("", "attributes")?;
    Ok(json!({
        "username": r.try_get::<String>("", "username")?,
        "display_name": r.try_get::<String>("", "display_name")?,
        "email": r.try_get::<Option<String>>("", "email")?,
        "department": r.try_get::<Option<String>>("", "department")?,
        "platform_role": r.try_get::<Option<String>>("", "platform_role")?,
        "attributes": serde_json::from_str::<Value>(&attrs).unwrap_or(json!({})),
        "disabled": r.try_get::<i64>("", "disabled")? != 0,
        "created_at": r.try_get::<String>("", "created_at")?,
        "updated_at": r.try_get::<String>("", "updated_at")?,
    }))
}

impl AuthService {
    /// The caller behind a session secret or API token; 401 when it is unknown, expired,
    /// revoked or its user is disabled. One query per request, so a revocation on any server
    /// process is seen by the next request everywhere.
    pub async fn authenticate(&self, creds: Credentials<'_>, actor: Actor) -> DomainResult<Caller> {
        let now = crate::time::now();
        let denied = || {
            DomainError::Unauthenticated("the session or token is not valid; log in again".into())
        };
        let (row, via) = match creds {
            Credentials::Session(secret) => {
                let id = digest(secret);
                let row = self
                    .db
                    .query_one(
                        &format!("SELECT {USER_COLUMNS}, s.expires_at, (SELECT epoch FROM auth_state WHERE id = 1) AS epoch \
                                  FROM sessions s JOIN users u ON u.username = s.username WHERE s.id = $1"),
                        vec![id.clone().into()],
                    )
                    .await?
                    .ok_or_else(denied)?;
                let expires: String = row.try_get("", "expires_at")?;
                if expires <= now {
                    return Err(denied());
                }
                (row, Via::Session { digest: id })
            }
            Credentials::Token(text) => {
                let mut parts = text.splitn(3, '.');
                let (Some("fwt"), Some(id), Some(secret)) =
                    (parts.next(), parts.next(), parts.next())
                else {
                    return Err(denied());
                };
                let row = self
                    .db
                    .query_one(
                        &format!("SELECT {USER_COLUMNS}, t.secret_hash, t.expires_at, t.revoked_at, t.app, t.role, \
                                  (SELECT epoch FROM auth_state WHERE id = 1) AS epoch \
                                  FROM api_tokens t JOIN users u ON u.username = t.username WHERE t.id = $1"),
                        vec![id.to_owned().into()],
                    )
                    .await?
                    .ok_or_else(denied)?;
                let hash: String = row.try_get("", "secret_hash")?;
                if !password::same(&hash, &digest(secret)) {
                    return Err(denied());
                }
                if row.try_get::<Option<String>>("", "revoked_at")?.is_some() {
                    return Err(denied());
                }
                if let Some(exp) = row.try_get::<Option<String>>("", "expires_at")?
                    && exp <= now
                {
                    return Err(denied());
                }
                let via = Via::Token {
                    id: id.to_owned(),
                    app: row.try_get("", "app")?,
                    role: row.try_get("", "role")?,
                };
                (row, via)
            }
        };
        if row.try_get::<i64>("", "disabled")? != 0 {
            return Err(denied());
        }
        let user = user_json(&row)?;
        let username = user["username"].as_str().unwrap_or_default().to_owned();
        let mut actor = actor;
        actor.user = username.clone();
        actor.department = user["department"].as_str().map(str::to_owned);
        if let Via::Token { id, .. } = &via {
            actor.client = Some(
                format!("token:{id} {}", actor.client.unwrap_or_default())
                    .trim()
                    .to_owned(),
            );
        }
        Ok(Caller {
            actor,
            principal: Arc::new(Principal {
                username,
                display_name: user["display_name"].as_str().unwrap_or_default().to_owned(),
                department: user["department"].as_str().map(str::to_owned),
                platform_role: user["platform_role"].as_str().map(str::to_owned),
                attributes: user["attributes"].clone(),
                via,
                epoch: row.try_get("", "epoch")?,
            }),
        })
    }

    async fn failures(&self, column: &str, value: &str) -> DomainResult<i64> {
        let row = self
            .db
            .query_one(
                &format!(
                    "SELECT COUNT(*) AS n FROM login_failures WHERE {column} = $1 AND at > $2"
                ),
                vec![
                    value.to_owned().into(),
                    ago(self.settings.failure_window).into(),
                ],
            )
            .await?;
        Ok(row
            .map(|r| r.try_get::<i64>("", "n"))
            .transpose()?
            .unwrap_or(0))
    }

    /// Check a password and open a session: the session secret (for the cookie) and the user.
    pub async fn login(
        &self,
        username: &str,
        pass: &str,
        actor: &Actor,
    ) -> DomainResult<(String, Value)> {
        let address = actor.address.clone().unwrap_or_default();
        let too_many = self.failures("username", username).await?
            >= self.settings.max_failures_per_user
            || (!address.is_empty()
                && self.failures("address", &address).await?
                    >= self.settings.max_failures_per_address);
        if too_many {
            return Err(DomainError::TooMany {
                message: "too many failed logins; wait and try again".into(),
                retry_after: self.settings.failure_window,
            });
        }
        let row = self
            .db
            .query_one(
                "SELECT password_hash, disabled FROM users WHERE username = $1",
                vec![username.to_owned().into()],
            )
            .await?;
        let (stored, disabled) = match &row {
            Some(r) => (
                r.try_get::<Option<String>>("", "password_hash")?,
                r.try_get::<i64>("", "disabled")? != 0,
            ),
            None => (None, false),
        };
        let ok = password::verify(pass.to_owned(), stored).await && !disabled;
        if !ok {
            let mut e = entry(actor, "auth.login_failed");
            e.actor.user = "anonymous".into();
            e.after = Some(json!({"username": username}));
            self.writer
                .submit(AuthWrite::new(e).stmt(
                    "INSERT INTO login_failures (username, address, at) VALUES ($1, $2, $3)",
                    vec![
                        username.to_owned().into(),
                        actor.address.clone().into(),
                        crate::time::now().into(),
                    ],
                ))
                .await?;
            return Err(DomainError::Unauthenticated(
                "wrong username or password".into(),
            ));
        }
        let secret = password::random_secret();
        let mut e = entry(actor, "auth.login");
        e.actor.user = username.to_owned();
        self.writer
            .submit(AuthWrite::new(e).stmt(
                "INSERT INTO sessions (id, username, csrf_hash, created_at, expires_at, address, client) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                vec![
                    digest(&secret).into(),
                    username.to_owned().into(),
                    digest(&password::csrf_for(&secret)).into(),
                    crate::time::now().into(),
                    later(self.settings.session_hours as i64).into(),
                    actor.address.clone().into(),
                    actor.client.clone().into(),
                ],
            ))
            .await?;
        Ok((secret, self.user_row(username).await?))
    }

    pub async fn logout(&self, caller: &Caller) -> DomainResult<()> {
        if let Via::Session { digest } = &caller.principal.via {
            self.writer
                .submit(AuthWrite::new(entry(&caller.actor, "auth.logout")).stmt(
                    "DELETE FROM sessions WHERE id = $1",
                    vec![digest.clone().into()],
                ))
                .await?;
        }
        Ok(())
    }

    /// Change one's own password; every other session of the user ends.
    pub async fn change_password(
        &self,
        caller: &Caller,
        current: &str,
        new: &str,
    ) -> DomainResult<()> {
        let username = caller.principal.username.clone();
        let stored = self
            .db
            .query_one(
                "SELECT password_hash FROM users WHERE username = $1",
                vec![username.clone().into()],
            )
            .await?
            .map(|r| r.try_get::<Option<String>>("", "password_hash"))
            .transpose()?
            .flatten();
        if !password::verify(current.to_owned(), stored).await {
            return Err(DomainError::forbidden(
                "/current_password",
                "password",
                "the current password is wrong",
            ));
        }
        check_strength(new, "/new_password")?;
        let hash = password::hash(new.to_owned()).await?;
        let keep = match &caller.principal.via {
            Via::Session { digest } => digest.clone(),
            _ => String::new(),
        };
        let mut e = entry(&caller.actor, "auth.password_changed");
        e.after = Some(json!({"username": username}));
        self.writer
            .submit(
                AuthWrite::new(e)
                    .stmt(
                        "UPDATE users SET password_hash = $2, updated_at = $3 WHERE username = $1",
                        vec![
                            username.clone().into(),
                            hash.into(),
                            crate::time::now().into(),
                        ],
                    )
                    .stmt(
                        "DELETE FROM sessions WHERE username = $1 AND id <> $2",
                        vec![username.into(), keep.into()],
                    ),
            )
            .await?;
        Ok(())
    }

    pub async fn user_row(&self, username: &str) -> DomainResult<Value> {
        let row = self
            .db
            .query_one(
                &format!("SELECT {USER_COLUMNS} FROM users u WHERE u.username = $1"),
                vec![username.to_owned().into()],
            )
            .await?
            .ok_or_else(|| DomainError::NotFound(format!("user {username}")))?;
        user_json(&row)
    }

    /// A user with their roles per app.
    pub async fn describe_user(&self, username: &str) -> DomainResult<Value> {
        let mut u = self.user_row(username).await?;
        let mut roles: HashMap<String, Vec<String>> = HashMap::new();
        for r in self
            .db
            .query_all(
                "SELECT v1, v2 FROM auth_rules WHERE ptype = 'g' AND v0 = $1 ORDER BY v2, v1",
                vec![user_subject(username).into()],
            )
            .await?
        {
            let role: String = r.try_get("", "v1")?;
            let app: String = r.try_get("", "v2")?;
            roles
                .entry(app)
                .or_default()
                .push(role.trim_start_matches("r:").to_owned());
        }
        u["roles"] = json!(roles);
        Ok(u)
    }

    pub async fn list_users(&self) -> DomainResult<Vec<Value>> {
        let rows = self
            .db
            .query_all(
                &format!("SELECT {USER_COLUMNS} FROM users u ORDER BY u.username"),
                vec![],
            )
            .await?;
        rows.iter().map(user_json).collect()
    }

    async fn department_exists(&self, id: &str) -> DomainResult<bool> {
        Ok(self
            .db
            .query_one(
                "SELECT id FROM departments WHERE id = $1",
                vec![id.to_owned().into()],
            )
            .await?
            .is_some())
    }

    /// Create a user: `{username, display_name, email?, department?, password?,
    /// platform_role?, attributes?, roles?: {app: [role]}}`.
    pub async fn create_user(&self, caller: &Caller, body: &Value) -> DomainResult<Value> {
        let mut details = Vec::new();
        let username = body
            .get("username")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let valid_name = !username.is_empty()
            && username.len() <= 64
            && username
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-@".contains(c));
        if !valid_name {
            details.push(Detail::new(
                "/username",
                "pattern",
                "a username is 1–64 letters, digits or . _ - @",
            ));
        }
        if username == "system" || username == "anonymous" {
            details.push(Detail::new(
                "/username",
                "reserved",
                "this username is reserved",
            ));
        }
        let fields = self.user_fields(body, &mut details).await?;
        let password = body.get("password").and_then(Value::as_str);
        if let Some(p) = password
            && let Err(DomainError::Invalid { details: d, .. }) = check_strength(p, "/password")
        {
            details.extend(d);
        }
        DomainError::unless_any(details)?;
        if self
            .db
            .query_one(
                "SELECT username FROM users WHERE username = $1",
                vec![username.clone().into()],
            )
            .await?
            .is_some()
        {
            return Err(DomainError::conflict(
                format!("user {username} exists"),
                vec![Detail::new("/username", "unique", "this username is taken")],
            ));
        }
        let hash = match password {
            Some(p) => Some(password::hash(p.to_owned()).await?),
            None => None,
        };
        let now = crate::time::now();
        let mut e = entry(&caller.actor, "user.create");
        let mut shown = fields.clone();
        shown["username"] = json!(username);
        e.after = Some(shown);
        let mut w = AuthWrite::new(e).stmt(
            "INSERT INTO users (username, display_name, email, department, password_hash, platform_role, attributes, disabled, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $8)",
            vec![
                username.clone().into(),
                fields["display_name"].as_str().unwrap_or(&username).to_owned().into(),
                fields["email"].as_str().map(str::to_owned).into(),
                fields["department"].as_str().map(str::to_owned).into(),
                hash.into(),
                fields["platform_role"].as_str().map(str::to_owned).into(),
                fields["attributes"].to_string().into(),
                now.into(),
            ],
        );
        w.bump = true;
        self.writer.submit(w).await?;
        if let Some(roles) = body.get("roles") {
            self.set_roles(caller, &username, roles).await?;
        }
        self.describe_user(&username).await
    }

    /// Check the editable user fields of a body; absent ones come back as null.
    async fn user_fields(&self, body: &Value, details: &mut Vec<Detail>) -> DomainResult<Value> {
        let text = |k: &str, details: &mut Vec<Detail>| -> Option<String> {
            match body.get(k) {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => Some(s.clone()),
                Some(_) => {
                    details.push(Detail::new(format!("/{k}"), "type", format!("{k} is text")));
                    None
                }
            }
        };
        let display_name = text("display_name", details);
        let email = text("email", details);
        let department = text("department", details);
        let platform_role = text("platform_role", details);
        if let Some(d) = &department
            && !self.department_exists(d).await?
        {
            details.push(Detail::new(
                "/department",
                "exists",
                format!("there is no department {d:?}"),
            ));
        }
        if let Some(r) = &platform_role
            && r != PLATFORM_ADMIN
            && r != PLATFORM_AUDITOR
        {
            details.push(Detail::new(
                "/platform_role",
                "enum",
                "platform_role is admin, auditor or null",
            ));
        }
        let attributes = match body.get("attributes") {
            None | Some(Value::Null) => json!({}),
            Some(v @ Value::Object(_)) => v.clone(),
            Some(_) => {
                details.push(Detail::new(
                    "/attributes",
                    "type",
                    "attributes is an object",
                ));
                json!({})
            }
        };
        Ok(json!({
            "display_name": display_name,
            "email": email,
            "department": department,
            "platform_role": platform_role,
            "attributes": attributes,
        }))
    }

    /// Change a user: any of display_name, email, department, platform_role, attributes,
    /// disabled, password (a new password or disabling ends the user's sessions).
    pub async fn update_user(
        &self,
        caller: &Caller,
        username: &str,
        body: &Value,
    ) -> DomainResult<Value> {
        let before = self.user_row(username).await?;
        let Value::Object(o) = body else {
            return Err(DomainError::invalid_one(
                "",
                "type",
                "the body is an object",
            ));
        };
        let mut details = Vec::new();
        for k in o.keys() {
            if ![
                "display_name",
                "email",
                "department",
                "platform_role",
                "attributes",
                "disabled",
                "password",
                "roles",
            ]
            .contains(&k.as_str())
            {
                details.push(Detail::new(
                    format!("/{k}"),
                    "unknown_property",
                    format!("users have no editable property {k:?}"),
                ));
            }
        }
        let fields = self.user_fields(body, &mut details).await?;
        let disabled = match o.get("disabled") {
            None => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => {
                details.push(Detail::new(
                    "/disabled",
                    "type",
                    "disabled is true or false",
                ));
                None
            }
        };
        let password = o.get("password").and_then(Value::as_str);
        if let Some(p) = password
            && let Err(DomainError::Invalid { details: d, .. }) = check_strength(p, "/password")
        {
            details.extend(d);
        }
        if username == caller.principal.username
            && (disabled == Some(true)
                || (o.contains_key("platform_role") && fields["platform_role"].is_null()))
        {
            details.push(Detail::new(
                "",
                "self",
                "you cannot disable yourself or drop your own platform role",
            ));
        }
        DomainError::unless_any(details)?;
        let mut after = before.clone();
        for k in [
            "display_name",
            "email",
            "department",
            "platform_role",
            "attributes",
        ] {
            if o.contains_key(k) {
                after[k] = fields[k].clone();
            }
        }
        if let Some(d) = disabled {
            after["disabled"] = json!(d);
        }
        let hash = match password {
            Some(p) => Some(password::hash(p.to_owned()).await?),
            None => None,
        };
        let mut e = entry(&caller.actor, "user.update");
        e.before = Some(before.clone());
        e.after = Some(after.clone());
        if hash.is_some() {
            e.reason = Some("password reset by an administrator".into());
        }
        let mut w = AuthWrite::new(e).stmt(
            "UPDATE users SET display_name = $2, email = $3, department = $4, platform_role = $5, attributes = $6, disabled = $7, updated_at = $8 WHERE username = $1",
            vec![
                username.to_owned().into(),
                after["display_name"].as_str().unwrap_or(username).to_owned().into(),
                after["email"].as_str().map(str::to_owned).into(),
                after["department"].as_str().map(str::to_owned).into(),
                after["platform_role"].as_str().map(str::to_owned).into(),
                after["attributes"].to_string().into(),
                i64::from(after["disabled"].as_bool().unwrap_or(false)).into(),
                crate::time::now().into(),
            ],
        );
        w.must_affect = Some(format!("user {username}"));
        if let Some(h) = hash {
            w = w.stmt(
                "UPDATE users SET password_hash = $2 WHERE username = $1",
                vec![username.to_owned().into(), h.into()],
            );
        }
        if password.is_some() || disabled == Some(true) {
            w = w.stmt(
                "DELETE FROM sessions WHERE username = $1",
                vec![username.to_owned().into()],
            );
        }
        w.bump = before["department"] != after["department"]
            || before["platform_role"] != after["platform_role"];
        self.writer.submit(w).await?;
        if let Some(roles) = o.get("roles") {
            self.set_roles(caller, username, roles).await?;
        }
        self.describe_user(username).await
    }

    /// Replace a user's roles: `{app: [role, …]}` (apps not named keep their roles).
    pub async fn set_roles(
        &self,
        caller: &Caller,
        username: &str,
        roles: &Value,
    ) -> DomainResult<Value> {
        let Value::Object(apps) = roles else {
            return Err(DomainError::invalid_one(
                "/roles",
                "type",
                "roles is an object: {app: [role, …]}",
            ));
        };
        let before = self.describe_user(username).await?;
        let mut details = Vec::new();
        let mut w = AuthWrite::new(entry(&caller.actor, "user.roles"));
        for (app, list) in apps {
            let names: Vec<&str> = match list {
                Value::Array(a) if a.iter().all(Value::is_string) => {
                    a.iter().filter_map(Value::as_str).collect()
                }
                _ => {
                    details.push(Detail::new(
                        format!("/roles/{app}"),
                        "type",
                        "a list of role keys",
                    ));
                    continue;
                }
            };
            for (i, r) in names.iter().enumerate() {
                let exists = self
                    .db
                    .query_one(
                        "SELECT key FROM roles WHERE app = $1 AND key = $2",
                        vec![app.clone().into(), (*r).to_owned().into()],
                    )
                    .await?
                    .is_some();
                if !exists {
                    details.push(Detail::new(
                        format!("/roles/{app}/{i}"),
                        "exists",
                        format!("app {app} has no role {r:?}"),
                    ));
                }
            }
            w = w.stmt(
                "DELETE FROM auth_rules WHERE ptype = 'g' AND v0 = $1 AND v2 = $2",
                vec![user_subject(username).into(), app.clone().into()],
            );
            for r in names {
                w = w.stmt(
                    "INSERT INTO auth_rules (ptype, v0, v1, v2, source) VALUES ('g', $1, $2, $3, $4)",
                    vec![user_subject(username).into(), role_subject(r).into(), app.clone().into(), format!("user:{username}").into()],
                );
            }
        }
        DomainError::unless_any(details)?;
        if let Some(e) = w.entry.as_mut() {
            e.before = Some(before["roles"].clone());
            e.after = Some(roles.clone());
            e.record_id = None;
            e.reason = Some(format!("roles of {username}"));
        }
        w.bump = true;
        self.writer.submit(w).await?;
        self.describe_user(username).await
    }

    // ----- API tokens -----

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
            ))
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

    // ----- departments -----

    pub async fn list_departments(&self) -> DomainResult<Vec<Value>> {
        let rows = self
            .db
            .query_all(
                "SELECT id, name, parent, head FROM departments ORDER BY id",
                vec![],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(json!({
                    "id": r.try_get::<String>("", "id")?,
                    "name": r.try_get::<String>("", "name")?,
                    "parent": r.try_get::<Option<String>>("", "parent")?,
                    "head": r.try_get::<Option<String>>("", "head")?,
                }))
            })
            .collect()
    }

    /// Create or change a department `{id, name, parent?, head?}`.
    pub async fn put_department(
        &self,
        caller: &Caller,
        id: &str,
        body: &Value,
    ) -> DomainResult<Value> {
        let mut details = Vec::new();
        if !is_key(id) {
            details.push(Detail::new(
                "/id",
                "pattern",
                "a department id is lowercase letters, digits and _",
            ));
        }
        let name = body.get("name").and_then(Value::as_str).unwrap_or_default();
        if name.is_empty() {
            details.push(Detail::new("/name", "required", "a department has a name"));
        }
        let parent = body
            .get("parent")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let head = body.get("head").and_then(Value::as_str).map(str::to_owned);
        if let Some(p) = &parent {
            if !self.department_exists(p).await? {
                details.push(Detail::new(
                    "/parent",
                    "exists",
                    format!("there is no department {p:?}"),
                ));
            } else {
                // No cycles: the parent must not be this department or below it.
                let epoch = self.current_epoch().await?;
                if self.rules(epoch).await?.subtree(id).contains(p) {
                    details.push(Detail::new(
                        "/parent",
                        "cycle",
                        "a department cannot sit below itself",
                    ));
                }
            }
        }
        if let Some(h) = &head
            && self.user_row(h).await.is_err()
        {
            details.push(Detail::new(
                "/head",
                "exists",
                format!("there is no user {h:?}"),
            ));
        }
        DomainError::unless_any(details)?;
        let before = self
            .list_departments()
            .await?
            .into_iter()
            .find(|d| d["id"] == id);
        let after = json!({"id": id, "name": name, "parent": parent, "head": head});
        let now = crate::time::now();
        let sql = if before.is_some() {
            "UPDATE departments SET name = $2, parent = $3, head = $4, updated_at = $5 WHERE id = $1"
        } else {
            "INSERT INTO departments (id, name, parent, head, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)"
        };
        let mut e = entry(&caller.actor, "department.put");
        e.before = before;
        e.after = Some(after.clone());
        let mut w = AuthWrite::new(e).stmt(
            sql,
            vec![
                id.to_owned().into(),
                name.to_owned().into(),
                parent.into(),
                head.into(),
                now.into(),
            ],
        );
        w.bump = true;
        self.writer.submit(w).await?;
        Ok(after)
    }

    // ----- roles -----

    pub async fn list_roles(&self, app: &str) -> DomainResult<Vec<Value>> {
        let rows = self
            .db
            .query_all(
                "SELECT definition FROM roles WHERE app = $1 ORDER BY key",
                vec![app.to_owned().into()],
            )
            .await?;
        rows.iter()
            .map(|r| {
                let text: String = r.try_get("", "definition")?;
                serde_json::from_str(&text).map_err(|e| DomainError::Internal(e.into()))
            })
            .collect()
    }

    pub async fn get_role(&self, app: &str, key: &str) -> DomainResult<Value> {
        let row = self
            .db
            .query_one(
                "SELECT definition FROM roles WHERE app = $1 AND key = $2",
                vec![app.to_owned().into(), key.to_owned().into()],
            )
            .await?
            .ok_or_else(|| DomainError::NotFound(format!("role {key}")))?;
        let text: String = row.try_get("", "definition")?;
        serde_json::from_str(&text).map_err(|e| DomainError::Internal(e.into()))
    }

    /// Create or replace a role: checked against the app's published forms, compiled to
    /// casbin rules, written with its log entry; effective from the next request.
    pub async fn put_role(
        &self,
        caller: &Caller,
        app: &str,
        key: &str,
        doc: &Value,
    ) -> DomainResult<Value> {
        self.forms.get_app(app).await?;
        let mut models = HashMap::new();
        for f in self.forms.form_keys(app).await? {
            if let Ok(c) = self.forms.current(app, &f).await {
                models.insert(f, c.model.clone());
            }
        }
        let role = RoleDoc::check(doc, key, &models)?;
        let before = self.get_role(app, key).await.ok();
        if before.as_ref() == Some(doc) {
            return Ok(doc.clone());
        }
        let source = format!("role:{app}/{key}");
        let mut e = entry(&caller.actor, "role.put");
        e.app = Some(app.to_owned());
        e.before = before.clone();
        e.after = Some(doc.clone());
        let sql = if before.is_some() {
            "UPDATE roles SET definition = $3, updated_at = $4 WHERE app = $1 AND key = $2"
        } else {
            "INSERT INTO roles (app, key, definition, updated_at) VALUES ($1, $2, $3, $4)"
        };
        let mut w = AuthWrite::new(e)
            .stmt(
                sql,
                vec![
                    app.to_owned().into(),
                    key.to_owned().into(),
                    doc.to_string().into(),
                    crate::time::now().into(),
                ],
            )
            .stmt(
                "DELETE FROM auth_rules WHERE source = $1",
                vec![source.clone().into()],
            );
        for rule in role.rules(app) {
            let v = &rule.values;
            w = w.stmt(
                "INSERT INTO auth_rules (ptype, v0, v1, v2, v3, v4, source) VALUES ('p', $1, $2, $3, $4, $5, $6)",
                vec![v[0].clone().into(), v[1].clone().into(), v[2].clone().into(), v[3].clone().into(), v[4].clone().into(), source.clone().into()],
            );
        }
        w.bump = true;
        self.writer.submit(w).await?;
        Ok(doc.clone())
    }

    pub async fn delete_role(&self, caller: &Caller, app: &str, key: &str) -> DomainResult<()> {
        let before = self.get_role(app, key).await?;
        let mut e = entry(&caller.actor, "role.delete");
        e.app = Some(app.to_owned());
        e.before = Some(before);
        let mut w = AuthWrite::new(e)
            .stmt(
                "DELETE FROM roles WHERE app = $1 AND key = $2",
                vec![app.to_owned().into(), key.to_owned().into()],
            )
            .stmt(
                "DELETE FROM auth_rules WHERE source = $1",
                vec![format!("role:{app}/{key}").into()],
            )
            .stmt(
                "DELETE FROM auth_rules WHERE ptype = 'g' AND v1 = $1 AND v2 = $2",
                vec![role_subject(key).into(), app.to_owned().into()],
            );
        w.bump = true;
        self.writer.submit(w).await?;
        Ok(())
    }

    /// On first start (no administrator yet) create the first administrator. Returns the
    /// generated password when none was configured, for the terminal only.
    pub async fn bootstrap_admin(&self) -> DomainResult<Option<String>> {
        let any = self
            .db
            .query_one(
                "SELECT username FROM users WHERE platform_role = $1 LIMIT 1",
                vec![PLATFORM_ADMIN.into()],
            )
            .await?;
        if any.is_some() || self.user_row(&self.settings.initial_admin).await.is_ok() {
            return Ok(None);
        }
        let configured = self.settings.initial_admin_password.expose().to_owned();
        let (pass, generated) = if configured.is_empty() {
            (password::random_secret()[..20].to_owned(), true)
        } else {
            (configured, false)
        };
        let body = json!({
            "username": self.settings.initial_admin,
            "display_name": "Administrator",
            "platform_role": PLATFORM_ADMIN,
            "password": pass,
        });
        self.create_user(&Caller::system(), &body).await?;
        Ok(generated.then_some(pass))
    }
}
