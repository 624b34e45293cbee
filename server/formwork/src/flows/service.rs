//! Flow definitions, instances, tasks and the inbox as the API uses them.

use futures::future::BoxFuture;
use sea_orm::{ConnectionTrait, DatabaseTransaction};
use serde_json::{Map, Value, json};
use std::collections::{HashMap, HashSet};

use super::definition::{AppFacts, check_publish, check_shape};
use super::engine::{FlowEngine, decide_node, edges_from, end_instance, node_of};
use super::store::{self, INSTANCE_COLUMNS, Instance, TASK_COLUMNS, task_json};
use super::{context, truthy};
use crate::auth::Caller;
use crate::auth::decision::{Decision, FieldMask};
use crate::error::{Detail, DomainError, DomainResult};
use crate::keys::is_key;
use crate::service::prepare::compute;
use crate::service::record_ops::patch_in_txn;
use crate::store::oplog::Actor;
use crate::store::writer::{Batch, WriteOp};

mod instances;
mod ops;
mod task_ops;
mod tasks;

use ops::{HOOK_MAX_AGE, HookSecret, HookStart, ManualStart, Publish, SaveDraft};
use task_ops::{Complete, ReadMessage, TaskAction};

pub use instances::outline;
use instances::outline_trigger;

#[derive(Clone)]
pub struct FlowService {
    pub engine: FlowEngine,
}

fn json_text(row: &sea_orm::QueryResult, col: &str) -> DomainResult<Value> {
    let s: String = row.try_get("", col)?;
    serde_json::from_str(&s).map_err(|e| DomainError::Internal(e.into()))
}

impl FlowService {
    pub fn new(engine: FlowEngine) -> Self {
        FlowService { engine }
    }

    fn db(&self) -> &crate::store::db::Db {
        &self.engine.inner.db
    }

    /// Flows of an app: administrators see drafts too; others the published ones.
    pub async fn list(&self, app: &str, caller: &Caller) -> DomainResult<Vec<Value>> {
        let rows = self
            .db()
            .query_all(
                "SELECT f.key, f.draft, f.published_version, v.definition FROM flows f LEFT JOIN flow_versions v ON v.app = f.app AND v.flow = f.key AND v.version = f.published_version WHERE f.app = $1 ORDER BY f.key",
                vec![app.into()],
            )
            .await?;
        let mut out = Vec::new();
        for r in rows {
            let published: Option<i64> = r.try_get("", "published_version")?;
            if published.is_none() && !caller.is_admin() {
                continue;
            }
            let def = match r.try_get::<Option<String>>("", "definition")? {
                Some(s) => serde_json::from_str(&s).unwrap_or(Value::Null),
                None => json_text(&r, "draft")?,
            };
            let trigger = if caller.is_admin() {
                def["trigger"].clone()
            } else {
                outline_trigger(&def["trigger"])
            };
            out.push(json!({"key": r.try_get::<String>("", "key")?, "label": def["label"], "published_version": published, "trigger": trigger}));
        }
        Ok(out)
    }

    pub async fn get(&self, app: &str, key: &str) -> DomainResult<Value> {
        let row = self
            .db()
            .query_one(
                "SELECT draft, published_version FROM flows WHERE app = $1 AND key = $2",
                vec![app.into(), key.into()],
            )
            .await?
            .ok_or_else(|| DomainError::NotFound(format!("flow {app}/{key}")))?;
        let published: Option<i64> = row.try_get("", "published_version")?;
        let definition = match published {
            Some(v) => store::definition(&self.db().read, self.db().backend, app, key, v).await?,
            None => Value::Null,
        };
        Ok(
            json!({"app": app, "key": key, "published_version": published, "draft": json_text(&row, "draft")?, "definition": definition}),
        )
    }

    pub async fn save_draft(
        &self,
        app: &str,
        key: &str,
        def: Value,
        caller: &Caller,
    ) -> DomainResult<Value> {
        caller.require_admin()?;
        if !is_key(key) {
            return Err(DomainError::invalid_one(
                "/key",
                "key",
                "a flow key is lower-case letters, digits and _",
            ));
        }
        self.engine.inner.forms.get_app(app).await?;
        let problems = check_shape(&def, key);
        if !problems.is_empty() {
            return Err(DomainError::invalid(problems));
        }
        self.engine
            .inner
            .writer
            .submit(SaveDraft {
                app: app.into(),
                key: key.into(),
                def,
                actor: caller.actor.clone(),
            })
            .await
    }

    /// Check and publish the draft (or `body`). Assignees nobody can act as — a role no
    /// enabled user holds, an approval by a role that may not approve the form — refuse
    /// the publish (422, rules `nobody` and `approve`), unless `unstaffed` allows them (an
    /// app package is imported before its users exist): then they come back as
    /// `warnings`.
    pub async fn publish(
        &self,
        app: &str,
        key: &str,
        body: Option<Value>,
        unstaffed: bool,
        caller: &Caller,
    ) -> DomainResult<(bool, Value)> {
        caller.require_admin()?;
        if let Some(def) = body {
            self.save_draft(app, key, def, caller).await?;
        }
        let draft = self.get(app, key).await?["draft"].clone();
        let problems = check_shape(&draft, key);
        if !problems.is_empty() {
            return Err(DomainError::invalid(problems));
        }
        let facts = self.facts(app).await?;
        let problems = check_publish(&draft, &facts);
        if !problems.is_empty() {
            return Err(DomainError::invalid(problems));
        }
        let warnings = super::definition::publish_warnings(&draft, &facts);
        if !warnings.is_empty() && !unstaffed {
            return Err(DomainError::invalid(warnings));
        }
        let mut out = self
            .engine
            .inner
            .writer
            .submit(Publish {
                app: app.into(),
                key: key.into(),
                def: draft,
                actor: caller.actor.clone(),
            })
            .await?;
        if !warnings.is_empty()
            && let Some(o) = out.as_object_mut()
        {
            o.insert("warnings".into(), json!(warnings));
        }
        Ok((out["published"] == json!(true), out))
    }

    async fn facts(&self, app: &str) -> DomainResult<AppFacts> {
        let mut forms = HashMap::new();
        for k in self.engine.inner.forms.form_keys(app).await? {
            if let Ok(c) = self.engine.inner.forms.current(app, &k).await {
                let props: Map<String, Value> = c.schema()["properties"]
                    .as_object()
                    .cloned()
                    .unwrap_or_default();
                forms.insert(k, props);
            }
        }
        let users: HashSet<String> = self
            .db()
            .query_all("SELECT username FROM users WHERE disabled = 0", vec![])
            .await?
            .iter()
            .filter_map(|r| r.try_get::<String>("", "username").ok())
            .collect();
        let roles: HashSet<String> = self
            .db()
            .query_all("SELECT key FROM roles WHERE app = $1", vec![app.into()])
            .await?
            .iter()
            .filter_map(|r| r.try_get::<String>("", "key").ok())
            .collect();
        // Roles some enabled user holds (`g` rules: user subject, role subject, app).
        let staffed_roles: HashSet<String> = self
            .db()
            .query_all(
                "SELECT v0, v1 FROM auth_rules WHERE ptype = 'g' AND v2 = $1",
                vec![app.into()],
            )
            .await?
            .iter()
            .filter_map(|r| {
                let user: String = r.try_get("", "v0").ok()?;
                let role: String = r.try_get("", "v1").ok()?;
                users
                    .contains(user.strip_prefix("u:")?)
                    .then(|| role.strip_prefix("r:").map(str::to_owned))
                    .flatten()
            })
            .collect();
        let flows: HashSet<String> = self
            .db()
            .query_all(
                "SELECT key FROM flows WHERE app = $1 AND published_version IS NOT NULL",
                vec![app.into()],
            )
            .await?
            .iter()
            .filter_map(|r| r.try_get::<String>("", "key").ok())
            .collect();
        let reports: HashSet<String> = self
            .db()
            .query_all(
                "SELECT key FROM report_defs WHERE app = $1 AND kind = 'report'",
                vec![app.into()],
            )
            .await?
            .iter()
            .filter_map(|r| r.try_get::<String>("", "key").ok())
            .collect();
        // Who may approve what (`p` rules: role subject, app, form object, action, effect).
        let approvers: HashSet<(String, String)> = self
            .db()
            .query_all(
                "SELECT v0, v2 FROM auth_rules WHERE ptype = 'p' AND v1 = $1 AND v3 = 'approve' AND v4 = 'allow'",
                vec![app.into()],
            )
            .await?
            .iter()
            .filter_map(|r| {
                let role: String = r.try_get("", "v0").ok()?;
                let form: String = r.try_get("", "v2").ok()?;
                Some((
                    role.strip_prefix("r:")?.to_owned(),
                    form.strip_prefix("form/")?.to_owned(),
                ))
            })
            .collect();
        Ok(AppFacts {
            forms,
            users,
            roles,
            staffed_roles,
            flows,
            reports,
            approvers,
        })
    }

    pub async fn versions(&self, app: &str, key: &str) -> DomainResult<Vec<Value>> {
        let rows = self
            .db()
            .query_all("SELECT version, author, published_at FROM flow_versions WHERE app = $1 AND flow = $2 ORDER BY version", vec![app.into(), key.into()])
            .await?;
        rows.iter()
            .map(|r| Ok(json!({"version": r.try_get::<i64>("", "version")?, "author": r.try_get::<String>("", "author")?, "published_at": r.try_get::<String>("", "published_at")?})))
            .collect()
    }

    pub async fn version(&self, app: &str, key: &str, version: i64) -> DomainResult<Value> {
        let def = store::definition(&self.db().read, self.db().backend, app, key, version).await?;
        Ok(json!({"version": version, "definition": def}))
    }

    /// A manual start on a record the caller may read.
    pub async fn start(
        &self,
        app: &str,
        key: &str,
        record: i64,
        caller: &Caller,
    ) -> DomainResult<Value> {
        let flow = self.get(app, key).await?;
        let Some(version) = flow["published_version"].as_i64() else {
            return Err(DomainError::conflict(
                format!("flow {key} is not published"),
                vec![],
            ));
        };
        let def = &flow["definition"];
        if def["trigger"]["type"] != "manual" {
            return Err(DomainError::invalid_one(
                "/flow",
                "trigger",
                format!("flow {key} is not started by hand"),
            ));
        }
        let form = def["trigger"]["form"].as_str().unwrap_or("").to_owned();
        let rec = self
            .engine
            .inner
            .records
            .get(app, &form, record, false, caller)
            .await?;
        if let Some(c) = def["trigger"].get("condition") {
            let ctx = context(
                record,
                &rec["data"],
                &json!({}),
                &caller.actor.user,
                &Value::Null,
            );
            if !truthy(&compute(c, &ctx).unwrap_or(Value::Null)) {
                return Err(DomainError::conflict(
                    format!("flow {key} does not apply to this record (its condition is not met)"),
                    vec![],
                ));
            }
        }
        let start = def["nodes"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|n| n["type"] == "start")
            .and_then(|n| n["id"].as_str())
            .unwrap_or("start")
            .to_owned();
        let id = self
            .engine
            .inner
            .writer
            .submit(ManualStart {
                app: app.into(),
                flow: key.into(),
                version,
                form,
                record,
                start,
                actor: caller.actor.clone(),
            })
            .await?;
        self.engine.wake();
        self.instance(id.as_i64().unwrap_or(0), caller).await
    }

    /// A webhook flow's address and secret (administrators); `rotate` makes a new secret
    /// (the old one stops working at once).
    pub async fn hook_secret(
        &self,
        app: &str,
        key: &str,
        rotate: bool,
        caller: &Caller,
    ) -> DomainResult<Value> {
        caller.require_admin()?;
        let flow = self.get(app, key).await?;
        let def = if flow["definition"].is_object() {
            &flow["definition"]
        } else {
            &flow["draft"]
        };
        if def["trigger"]["type"] != "webhook" {
            return Err(DomainError::invalid_one(
                "/trigger/type",
                "trigger",
                format!("flow {key} is not started by a webhook"),
            ));
        }
        let mut out = self
            .engine
            .inner
            .writer
            .submit(HookSecret {
                app: app.into(),
                flow: key.into(),
                rotate,
                actor: caller.actor.clone(),
            })
            .await?;
        out["url"] = json!(format!("/api/v1/hooks/{app}/{key}"));
        out["signature"] = json!(
            "X-Formwork-Signature: sha256=hex(HMAC-SHA256(secret, X-Formwork-Timestamp + \".\" + body))"
        );
        Ok(out)
    }

    /// An inbound webhook call: the signature (HMAC-SHA256 over `<timestamp>.<body>` with
    /// the flow's secret) and the timestamp (within five minutes) are checked before
    /// anything else; then the flow starts with the JSON body as `vars.payload`.
    pub async fn receive_hook(
        &self,
        app: &str,
        key: &str,
        timestamp: Option<&str>,
        signature: Option<&str>,
        body: &[u8],
    ) -> DomainResult<Value> {
        use hmac::{Hmac, Mac};
        let unauthorized = || {
            DomainError::Unauthenticated("the webhook signature does not match (X-Formwork-Timestamp, X-Formwork-Signature: sha256=<hex>)".into())
        };
        let row = self
            .db()
            .query_one(
                "SELECT secret FROM flow_hooks WHERE app = $1 AND flow = $2",
                vec![app.into(), key.into()],
            )
            .await?;
        let Some(row) = row else {
            return Err(unauthorized());
        };
        let secret: String = row.try_get("", "secret")?;
        let (Some(ts), Some(sig)) = (timestamp, signature.and_then(|s| s.strip_prefix("sha256=")))
        else {
            return Err(unauthorized());
        };
        let Ok(sig) = hex::decode(sig.trim()) else {
            return Err(unauthorized());
        };
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes())
            .map_err(|e| DomainError::Internal(anyhow::anyhow!("hmac: {e}")))?;
        mac.update(ts.as_bytes());
        mac.update(b".");
        mac.update(body);
        if mac.verify_slice(&sig).is_err() {
            return Err(unauthorized());
        }
        let age = ts
            .trim()
            .parse::<i64>()
            .map(|t| (chrono::Utc::now().timestamp() - t).abs())
            .unwrap_or(i64::MAX);
        if age > HOOK_MAX_AGE {
            return Err(DomainError::Unauthenticated(format!(
                "X-Formwork-Timestamp (Unix seconds) is more than {HOOK_MAX_AGE} s away from now"
            )));
        }
        let payload: Value = serde_json::from_slice(body).map_err(|e| {
            DomainError::invalid_one("", "json", format!("the body is not JSON: {e}"))
        })?;
        if !payload.is_object() {
            return Err(DomainError::invalid_one(
                "",
                "type",
                "the body is a JSON object",
            ));
        }
        let flow = self.get(app, key).await?;
        let (Some(version), true) = (
            flow["published_version"].as_i64(),
            flow["definition"]["trigger"]["type"] == "webhook",
        ) else {
            return Err(DomainError::conflict(
                format!("flow {key} is not published with a webhook trigger"),
                vec![],
            ));
        };
        let start = flow["definition"]["nodes"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|n| n["type"] == "start")
            .and_then(|n| n["id"].as_str())
            .unwrap_or("start")
            .to_owned();
        let id = self
            .engine
            .inner
            .writer
            .submit(HookStart {
                app: app.into(),
                flow: key.into(),
                version,
                start,
                payload,
            })
            .await?;
        self.engine.wake();
        Ok(json!({"instance": id}))
    }
}
