//! Users, their app roles, and the department tree (administration).

use serde_json::{Value, json};
use std::collections::HashMap;

use super::account::{USER_COLUMNS, entry, user_json};
use super::ops::AuthWrite;
use super::password::{self, check_strength};
use super::policy::{is_key, role_subject, user_subject};
use super::service::{AuthService, Caller, PLATFORM_ADMIN, PLATFORM_AUDITOR};
use crate::error::{Detail, DomainError, DomainResult};

impl AuthService {
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
}
