//! Role documents of an app: checked, compiled to casbin rules, written with their log
//! entry and a policy-epoch bump.

use serde_json::Value;
use std::collections::HashMap;

use super::account::entry;
use super::ops::AuthWrite;
use super::policy::{RoleDoc, role_subject};
use super::service::{AuthService, Caller};
use crate::error::{DomainError, DomainResult};

impl AuthService {
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
}
