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

    pub async fn publish(
        &self,
        app: &str,
        key: &str,
        body: Option<Value>,
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
        Ok(AppFacts {
            forms,
            users,
            roles,
            staffed_roles,
            flows,
            reports,
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

    /// Instance `id` if the caller may see it; 404 otherwise (as if it did not exist).
    async fn visible_instance(&self, id: i64, caller: &Caller) -> DomainResult<Instance> {
        let (cond, mut params) = Self::may_see_sql(caller);
        params.push(id.into());
        let sql = format!(
            "SELECT i.{} FROM flow_instances i WHERE {cond} AND i.id = ${}",
            INSTANCE_COLUMNS.replace(", ", ", i."),
            params.len()
        );
        let row = self
            .db()
            .query_one(&sql, params)
            .await?
            .ok_or_else(|| DomainError::NotFound(format!("flow instance {id}")))?;
        Ok(Instance::from_row(&row)?)
    }

    fn may_see_sql(caller: &Caller) -> (String, Vec<sea_orm::Value>) {
        if caller.is_admin() {
            ("1 = 1".into(), vec![])
        } else {
            let u = caller.principal.username.clone();
            ("(i.initiator = $1 OR EXISTS (SELECT 1 FROM flow_tasks t WHERE t.instance_id = i.id AND t.assignee = $1) OR EXISTS (SELECT 1 FROM flow_cc c WHERE c.instance_id = i.id AND c.username = $1))".into(), vec![u.into()])
        }
    }

    pub async fn instances(
        &self,
        q: &HashMap<String, String>,
        caller: &Caller,
    ) -> DomainResult<Vec<Value>> {
        let (cond, mut params) = Self::may_see_sql(caller);
        let mut sql = format!(
            "SELECT i.{} FROM flow_instances i WHERE {cond}",
            INSTANCE_COLUMNS.replace(", ", ", i.")
        );
        for (k, col) in [
            ("app", "app"),
            ("flow", "flow"),
            ("form", "form"),
            ("status", "status"),
        ] {
            if let Some(v) = q.get(k) {
                params.push(v.clone().into());
                sql.push_str(&format!(" AND i.{col} = ${}", params.len()));
            }
        }
        // `me` in `initiator` and `cc` is the caller.
        let user = |who: &String| {
            if who == "me" {
                caller.principal.username.clone()
            } else {
                who.clone()
            }
        };
        // `initiator=me`: the instances the caller started (the inbox's "initiated by me").
        if let Some(who) = q.get("initiator") {
            params.push(user(who).into());
            sql.push_str(&format!(" AND i.initiator = ${}", params.len()));
        }
        // `cc=me`: the instances copied to the caller by a `cc` node ("CC'd to me").
        if let Some(who) = q.get("cc") {
            params.push(user(who).into());
            sql.push_str(&format!(
                " AND EXISTS (SELECT 1 FROM flow_cc c WHERE c.instance_id = i.id AND c.username = ${})",
                params.len()
            ));
        }
        if let Some(r) = q.get("record") {
            let id: i64 = r
                .parse()
                .map_err(|_| DomainError::bad_request("/record", "type", "record is a number"))?;
            params.push(id.into());
            sql.push_str(&format!(" AND i.record_id = ${}", params.len()));
        }
        sql.push_str(" ORDER BY i.id DESC LIMIT 200");
        let rows = self.db().query_all(&sql, params).await?;
        rows.iter()
            .map(|r| Ok(Instance::from_row(r)?.to_api()))
            .collect()
    }

    pub async fn instance(&self, id: i64, caller: &Caller) -> DomainResult<Value> {
        let inst = self.visible_instance(id, caller).await?;
        // Where the instance is (nodes with a live token) and the timers armed there (a
        // delay, a deadline: where and when it moves on by itself). A token that has just
        // arrived at a delay is `ready`: positioned there, its timer not armed yet.
        let tokens = self
            .db()
            .query_all("SELECT node, status, due_at FROM flow_tokens WHERE instance_id = $1 AND status IN ('ready', 'waiting', 'joined') ORDER BY node", vec![id.into()])
            .await?;
        let mut positions: Vec<String> = Vec::new();
        let mut timers: Vec<(String, String)> = Vec::new();
        for r in &tokens {
            let node: String = r.try_get("", "node")?;
            if r.try_get::<String>("", "status")? == "waiting"
                && let Some(due) = r.try_get::<Option<String>>("", "due_at")?
            {
                timers.push((due, node.clone()));
            }
            if positions.last() != Some(&node) {
                positions.push(node);
            }
        }
        timers.sort();
        let timers: Vec<Value> = timers
            .into_iter()
            .map(|(due_at, node)| json!({"node": node, "due_at": due_at}))
            .collect();
        let history: Vec<Value> = self
            .db()
            .query_all("SELECT at, node, action, actor, detail FROM flow_steps WHERE instance_id = $1 ORDER BY id", vec![id.into()])
            .await?
            .iter()
            .map(|r| {
                Ok(json!({"at": r.try_get::<String>("", "at")?, "node": r.try_get::<Option<String>>("", "node")?,
                          "action": r.try_get::<String>("", "action")?, "actor": r.try_get::<String>("", "actor")?,
                          "detail": r.try_get::<Option<String>>("", "detail")?.and_then(|s| serde_json::from_str::<Value>(&s).ok())}))
            })
            .collect::<DomainResult<Vec<Value>>>()?;
        let mut history = history;
        if !caller.is_admin() {
            // External effects may carry values rendered for another audience (a URL, an
            // address): others see only that they happened.
            for h in history.iter_mut() {
                let action = h["action"].as_str().unwrap_or("");
                if matches!(action, "requested" | "responded" | "request_failed")
                    || (action == "notified" && h["detail"].get("channel").is_some())
                {
                    h["detail"] = json!({"channel": h["detail"]["channel"]});
                }
            }
            // Variables set from fields the caller may not read: the name, not the value.
            let hidden = super::mask::hidden_vars(&self.engine.inner, &inst, caller).await;
            for h in history.iter_mut() {
                if h["action"] == "set"
                    && let Some(d) = h["detail"].as_object_mut()
                {
                    for name in &hidden {
                        if let Some(v) = d.get_mut(name) {
                            *v = Value::Null;
                        }
                    }
                }
            }
            // Values a step wrote are shown through the caller's field mask of that form.
            for h in history.iter_mut() {
                let (Some(form), Some(set)) = (
                    h["detail"]["form"].as_str().map(str::to_owned),
                    h["detail"]["set"].as_object().cloned(),
                ) else {
                    continue;
                };
                let d = self
                    .engine
                    .inner
                    .auth
                    .decide(caller, &inst.app, &form)
                    .await?;
                let mut visible = Value::Object(if d.allows("read") {
                    set
                } else {
                    serde_json::Map::new()
                });
                // Unreadable fields and sub-table columns are left out.
                d.project(&mut visible);
                h["detail"]["set"] = visible;
            }
        }
        let definition = store::definition(
            &self.db().read,
            self.db().backend,
            &inst.app,
            &inst.flow,
            inst.version,
        )
        .await?;
        let definition = if caller.is_admin() {
            definition
        } else {
            outline(&definition)
        };
        let mut v = inst.to_api();
        if !caller.is_admin() {
            v.as_object_mut().map(|o| o.remove("vars"));
        }
        let mut out = json!({"instance": v, "positions": positions, "timers": timers, "history": history, "definition": definition});
        if caller.is_admin() {
            // The outbox rows of this instance: what was sent, what waits, what failed.
            let effects: Vec<Value> = self
                .db()
                .query_all("SELECT node, kind, idempotency_key, status, attempts, next_at, last_error, sent_at FROM flow_outbox WHERE instance_id = $1 ORDER BY id", vec![id.into()])
                .await?
                .iter()
                .map(|r| {
                    Ok(json!({"node": r.try_get::<String>("", "node")?, "kind": r.try_get::<String>("", "kind")?,
                              "key": r.try_get::<String>("", "idempotency_key")?, "status": r.try_get::<String>("", "status")?,
                              "attempts": r.try_get::<i64>("", "attempts")?, "next_at": r.try_get::<String>("", "next_at")?,
                              "error": r.try_get::<Option<String>>("", "last_error")?, "sent_at": r.try_get::<Option<String>>("", "sent_at")?}))
                })
                .collect::<DomainResult<Vec<Value>>>()?;
            out["effects"] = Value::Array(effects);
        }
        Ok(out)
    }

    /// Cancel (administrators) or withdraw (the initiator) a running instance.
    pub async fn stop(
        &self,
        id: i64,
        withdraw: bool,
        caller: &Caller,
        reason: Option<String>,
    ) -> DomainResult<Value> {
        // An instance the caller may not see is not there for them (404, as on GET), so
        // that trying to stop one does not tell who started which instance.
        let inst = self.visible_instance(id, caller).await?;
        if withdraw {
            if inst.initiator != caller.principal.username {
                return Err(DomainError::forbidden(
                    "",
                    "initiator",
                    "only the initiator may withdraw an instance",
                ));
            }
        } else {
            caller.require_admin()?;
        }
        if inst.status != "running" {
            return Err(DomainError::conflict(
                format!("instance {id} is {}", inst.status),
                vec![],
            ));
        }
        self.engine
            .inner
            .writer
            .submit(Stop {
                id,
                actor: caller.actor.clone(),
                reason,
            })
            .await?;
        self.instance(id, caller).await
    }

    pub async fn tasks(&self, caller: &Caller, status: &str) -> DomainResult<Value> {
        let open = status != "closed";
        let sql = format!(
            "SELECT t.{}, i.app, i.flow, i.form, i.record_id, i.version FROM flow_tasks t JOIN flow_instances i ON i.id = t.instance_id WHERE t.assignee = $1 AND t.status {} ORDER BY t.id DESC LIMIT 500",
            TASK_COLUMNS.replace(", ", ", t."),
            // Queued tasks (a sequential approval's later signers) are neither yet.
            if open {
                "= 'open'"
            } else {
                "NOT IN ('open', 'queued')"
            }
        );
        let me = caller.principal.username.clone();
        let rows = self.db().query_all(&sql, vec![me.clone().into()]).await?;
        let mut items = Vec::new();
        let mut defs: HashMap<(String, String, i64), Value> = HashMap::new();
        for r in rows {
            let mut t = task_json(&r)?;
            let (app, flow, version): (String, String, i64) = (
                r.try_get("", "app")?,
                r.try_get("", "flow")?,
                r.try_get("", "version")?,
            );
            let key = (app.clone(), flow.clone(), version);
            if !defs.contains_key(&key) {
                let d = store::definition(&self.db().read, self.db().backend, &app, &flow, version)
                    .await?;
                defs.insert(key.clone(), d);
            }
            let node = t["node"].as_str().unwrap_or("").to_owned();
            let def = &defs[&key];
            t["label"] = node_of(def, &node)
                .and_then(|n| n.get("label").cloned())
                .unwrap_or(Value::Null);
            t["flow"] = json!({"app": app, "key": flow, "label": def["label"]});
            t["form"] = json!(r.try_get::<Option<String>>("", "form")?);
            t["record"] = json!(r.try_get::<Option<i64>>("", "record_id")?);
            items.push(t);
        }
        let counts = self
            .db()
            .query_one("SELECT SUM(CASE WHEN status = 'open' THEN 1 ELSE 0 END) AS open, SUM(CASE WHEN status NOT IN ('open', 'queued') THEN 1 ELSE 0 END) AS closed FROM flow_tasks WHERE assignee = $1", vec![me.into()])
            .await?;
        let get = |k: &str| {
            counts
                .as_ref()
                .and_then(|r| r.try_get::<Option<i64>>("", k).ok().flatten())
                .unwrap_or(0)
        };
        Ok(json!({"items": items, "counts": {"open": get("open"), "closed": get("closed")}}))
    }

    /// A task with its node and the record as the assignee may see it.
    pub async fn task(&self, id: i64, caller: &Caller) -> DomainResult<Value> {
        let row = self
            .db()
            .query_one(
                &format!("SELECT {TASK_COLUMNS} FROM flow_tasks WHERE id = $1"),
                vec![id.into()],
            )
            .await?
            .ok_or_else(|| DomainError::NotFound(format!("task {id}")))?;
        let task = task_json(&row)?;
        if task["assignee"] != json!(caller.principal.username) && !caller.is_admin() {
            return Err(DomainError::NotFound(format!("task {id}")));
        }
        let inst = store::instance(
            &self.db().read,
            self.db().backend,
            task["instance"].as_i64().unwrap_or(0),
        )
        .await?;
        let def = store::definition(
            &self.db().read,
            self.db().backend,
            &inst.app,
            &inst.flow,
            inst.version,
        )
        .await?;
        let node = node_of(&def, task["node"].as_str().unwrap_or(""))
            .cloned()
            .unwrap_or_default();
        let record = match (&inst.form, inst.record_id) {
            (Some(f), Some(r)) => self
                .engine
                .inner
                .records
                .get(&inst.app, f, r, false, caller)
                .await
                .ok(),
            _ => None,
        };
        let editable = node.get("editable").cloned().unwrap_or(json!([]));
        // The earlier task and approval nodes this instance passed: where "return" may go.
        let here = task["node"].as_str().unwrap_or("");
        let mut return_to: Vec<Value> = Vec::new();
        for r in self
            .db()
            .query_all(
                "SELECT node FROM flow_steps WHERE instance_id = $1 AND action = 'assigned' ORDER BY id",
                vec![inst.id.into()],
            )
            .await?
        {
            let n: Option<String> = r.try_get("", "node")?;
            if let Some(n) = n
                && n != here
                && !return_to.iter().any(|x| x["id"] == json!(n))
                && let Some(nd) = node_of(&def, &n)
            {
                return_to.push(json!({"id": n, "label": nd.get("label")}));
            }
        }
        let mut i = inst.to_api();
        i.as_object_mut().map(|o| o.remove("vars"));
        Ok(
            json!({"task": task, "instance": i, "node": {"id": node.get("id"), "type": node.get("type"), "label": node.get("label"), "mode": node.get("mode")},
                  "flow": {"key": inst.flow, "label": def["label"]}, "record": record, "editable": editable,
                  "return_to": return_to}),
        )
    }

    pub async fn complete(&self, id: i64, body: Value, caller: &Caller) -> DomainResult<Value> {
        let o = body.as_object().ok_or_else(|| {
            DomainError::invalid_one("", "type", "the body is {outcome, comment?, data?}")
        })?;
        for k in o.keys() {
            if !["outcome", "comment", "data"].contains(&k.as_str()) {
                return Err(DomainError::invalid_one(
                    &format!("/{k}"),
                    "unknown_property",
                    format!("unknown key {k}"),
                ));
            }
        }
        let outcome = o
            .get("outcome")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let comment = o.get("comment").and_then(Value::as_str).map(str::to_owned);
        let data = o.get("data").cloned().filter(|d| !d.is_null());
        if data.as_ref().is_some_and(|d| !d.is_object()) {
            return Err(DomainError::invalid_one(
                "/data",
                "type",
                "data is an object of field → value",
            ));
        }
        self.engine
            .inner
            .writer
            .submit(Complete {
                inner: self.engine.clone(),
                task: id,
                outcome,
                comment,
                data,
                actor: caller.actor.clone(),
                caller: caller.clone(),
            })
            .await?;
        // The crash tests stop here: the task is committed, its next node is not run yet.
        super::failpoint("task_completed");
        self.engine.wake();
        self.task(id, caller).await
    }

    /// `transfer` (the task goes to `to`), `add_signer` (`to` joins this node) or `return`
    /// (the instance goes back to the earlier task or approval node `to`), by the task's
    /// assignee, with an optional comment.
    pub async fn task_action(
        &self,
        id: i64,
        action: &str,
        body: Value,
        caller: &Caller,
    ) -> DomainResult<Value> {
        let action: &'static str = match action {
            "transfer" => "transfer",
            "add-signer" | "add_signer" => "add_signer",
            "return" => "return",
            other => return Err(DomainError::NotFound(format!("task action {other}"))),
        };
        let o = body
            .as_object()
            .ok_or_else(|| DomainError::invalid_one("", "type", "the body is {to, comment?}"))?;
        for k in o.keys() {
            if !["to", "comment"].contains(&k.as_str()) {
                return Err(DomainError::invalid_one(
                    &format!("/{k}"),
                    "unknown_property",
                    format!("unknown key {k}"),
                ));
            }
        }
        let to = o
            .get("to")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                DomainError::invalid_one(
                    "/to",
                    "required",
                    if action == "return" {
                        "to names the earlier node to return to"
                    } else {
                        "to names the user"
                    },
                )
            })?;
        self.engine
            .inner
            .writer
            .submit(TaskAction {
                task: id,
                action,
                to: to.to_owned(),
                comment: o.get("comment").and_then(Value::as_str).map(str::to_owned),
                actor: caller.actor.clone(),
            })
            .await?;
        self.engine.wake();
        self.task(id, caller).await
    }

    pub async fn inbox(&self, caller: &Caller) -> DomainResult<Value> {
        let me = caller.principal.username.clone();
        let rows = self
            .db()
            .query_all("SELECT id, instance_id, task_id, title, body, created_at, read_at FROM inbox WHERE username = $1 ORDER BY id DESC LIMIT 200", vec![me.clone().into()])
            .await?;
        let items: Vec<Value> = rows
            .iter()
            .map(|r| {
                Ok(json!({"id": r.try_get::<i64>("", "id")?, "instance": r.try_get::<Option<i64>>("", "instance_id")?, "task": r.try_get::<Option<i64>>("", "task_id")?,
                          "title": r.try_get::<String>("", "title")?, "body": r.try_get::<String>("", "body")?,
                          "created_at": r.try_get::<String>("", "created_at")?, "read_at": r.try_get::<Option<String>>("", "read_at")?}))
            })
            .collect::<DomainResult<_>>()?;
        let unread = self
            .db()
            .query_one(
                "SELECT COUNT(*) AS n FROM inbox WHERE username = $1 AND read_at IS NULL",
                vec![me.into()],
            )
            .await?
            .map(|r| r.try_get::<i64>("", "n"))
            .transpose()?
            .unwrap_or(0);
        Ok(json!({"items": items, "unread": unread}))
    }

    pub async fn read_message(&self, id: i64, caller: &Caller) -> DomainResult<()> {
        self.engine
            .inner
            .writer
            .submit(ReadMessage {
                id,
                user: caller.principal.username.clone(),
            })
            .await?;
        Ok(())
    }
}

struct SaveDraft {
    app: String,
    key: String,
    def: Value,
    actor: Actor,
}

impl WriteOp for SaveDraft {
    fn apply<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
        batch: &'a mut Batch,
    ) -> BoxFuture<'a, DomainResult<Value>> {
        Box::pin(async move {
            let before = txn
                .query_one_raw(batch.stmt(
                    "SELECT draft FROM flows WHERE app = $1 AND key = $2",
                    vec![self.app.clone().into(), self.key.clone().into()],
                ))
                .await?;
            let before = before.map(|r| json_text(&r, "draft")).transpose()?;
            if before.as_ref() == Some(&self.def) {
                return Ok(json!({"saved": false, "draft": self.def}));
            }
            let sql = if before.is_some() {
                "UPDATE flows SET draft = $3, draft_updated_at = $4 WHERE app = $1 AND key = $2"
            } else {
                "INSERT INTO flows (app, key, draft, draft_updated_at, created_at) VALUES ($1, $2, $3, $4, $4)"
            };
            txn.execute_raw(batch.stmt(
                sql,
                vec![
                    self.app.clone().into(),
                    self.key.clone().into(),
                    self.def.to_string().into(),
                    batch.now.clone().into(),
                ],
            ))
            .await?;
            let mut e = super::log_entry(
                &self.actor,
                "flow.draft",
                &self.app,
                None,
                None,
                self.def.clone(),
                None,
            );
            e.before = before;
            batch.log(txn, e).await?;
            Ok(json!({"saved": true, "draft": self.def}))
        })
    }
}

struct Publish {
    app: String,
    key: String,
    def: Value,
    actor: Actor,
}

impl WriteOp for Publish {
    fn apply<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
        batch: &'a mut Batch,
    ) -> BoxFuture<'a, DomainResult<Value>> {
        Box::pin(async move {
            let cur = txn
                .query_one_raw(batch.stmt(
                    "SELECT published_version FROM flows WHERE app = $1 AND key = $2",
                    vec![self.app.clone().into(), self.key.clone().into()],
                ))
                .await?
                .map(|r| r.try_get::<Option<i64>>("", "published_version"))
                .transpose()?
                .flatten();
            if let Some(v) = cur {
                let last = store::definition(txn, batch.backend, &self.app, &self.key, v).await?;
                if last == self.def {
                    return Ok(json!({"version": v, "published": false}));
                }
            }
            let version = cur.unwrap_or(0) + 1;
            txn.execute_raw(batch.stmt(
                "INSERT INTO flow_versions (app, flow, version, definition, author, published_at) VALUES ($1, $2, $3, $4, $5, $6)",
                vec![self.app.clone().into(), self.key.clone().into(), version.into(), self.def.to_string().into(), self.actor.user.clone().into(), batch.now.clone().into()],
            ))
            .await?;
            txn.execute_raw(batch.stmt(
                "UPDATE flows SET published_version = $3 WHERE app = $1 AND key = $2",
                vec![
                    self.app.clone().into(),
                    self.key.clone().into(),
                    version.into(),
                ],
            ))
            .await?;
            txn.execute_raw(batch.stmt(
                "DELETE FROM flow_triggers WHERE app = $1 AND flow = $2",
                vec![self.app.clone().into(), self.key.clone().into()],
            ))
            .await?;
            let mut trigger = self.def["trigger"].clone();
            super::timers::plan_on_publish(txn, batch, &self.app, &self.key, &trigger).await?;
            if trigger["type"] == "webhook" {
                // The secret callers sign with; kept across versions, rotated on request.
                txn.execute_raw(batch.stmt(
                    "INSERT INTO flow_hooks (app, flow, secret, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (app, flow) DO NOTHING",
                    vec![self.app.clone().into(), self.key.clone().into(), crate::auth::password::random_secret().into(), batch.now.clone().into()],
                ))
                .await?;
            }
            if !["manual", "schedule", "webhook", "subflow"]
                .contains(&trigger["type"].as_str().unwrap_or(""))
            {
                let start = self.def["nodes"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|n| n["type"] == "start")
                    .and_then(|n| n["id"].as_str())
                    .unwrap_or("start");
                trigger["start"] = json!(start);
                txn.execute_raw(batch.stmt(
                    "INSERT INTO flow_triggers (app, form, flow, version, trigger) VALUES ($1, $2, $3, $4, $5)",
                    vec![self.app.clone().into(), trigger["form"].as_str().unwrap_or("").into(), self.key.clone().into(), version.into(), trigger.to_string().into()],
                ))
                .await?;
            }
            batch
                .log(
                    txn,
                    super::log_entry(
                        &self.actor,
                        "flow.publish",
                        &self.app,
                        None,
                        None,
                        json!({"flow": self.key, "version": version, "definition": self.def}),
                        None,
                    ),
                )
                .await?;
            Ok(json!({"version": version, "published": true}))
        })
    }
}

/// Starts a webhook flow: no record; the request body is `vars.payload`.
struct HookStart {
    app: String,
    flow: String,
    version: i64,
    start: String,
    payload: Value,
}

impl WriteOp for HookStart {
    fn apply<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
        batch: &'a mut Batch,
    ) -> BoxFuture<'a, DomainResult<Value>> {
        Box::pin(async move {
            let actor = Actor {
                user: "webhook".into(),
                department: None,
                address: None,
                client: Some(format!("webhook {}", self.flow)),
            };
            let id = store::start_instance(
                txn,
                batch,
                store::NewInstance {
                    app: &self.app,
                    flow: &self.flow,
                    version: self.version,
                    form: None,
                    record_id: None,
                    initiator: &actor.user,
                    start: &self.start,
                    correlation: None,
                },
                &actor,
            )
            .await?;
            txn.execute_raw(batch.stmt(
                "UPDATE flow_instances SET vars = $2 WHERE id = $1",
                vec![id.into(), json!({"vars": {"payload": self.payload}}).to_string().into()],
            ))
            .await?;
            Ok(json!(id))
        })
    }
}

/// Creates (or with `rotate`, replaces) the secret of a webhook flow.
struct HookSecret {
    app: String,
    flow: String,
    rotate: bool,
    actor: Actor,
}

impl WriteOp for HookSecret {
    fn apply<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
        batch: &'a mut Batch,
    ) -> BoxFuture<'a, DomainResult<Value>> {
        Box::pin(async move {
            let fresh = crate::auth::password::random_secret();
            let sql = if self.rotate {
                "INSERT INTO flow_hooks (app, flow, secret, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (app, flow) DO UPDATE SET secret = excluded.secret, created_at = excluded.created_at"
            } else {
                "INSERT INTO flow_hooks (app, flow, secret, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (app, flow) DO NOTHING"
            };
            txn.execute_raw(batch.stmt(
                sql,
                vec![
                    self.app.clone().into(),
                    self.flow.clone().into(),
                    fresh.into(),
                    batch.now.clone().into(),
                ],
            ))
            .await?;
            if self.rotate {
                batch
                    .log(
                        txn,
                        super::log_entry(
                            &self.actor,
                            "flow.hook_secret",
                            &self.app,
                            None,
                            None,
                            json!({"flow": self.flow, "rotated": true}),
                            None,
                        ),
                    )
                    .await?;
            }
            let row = txn
                .query_one_raw(batch.stmt(
                    "SELECT secret, created_at FROM flow_hooks WHERE app = $1 AND flow = $2",
                    vec![self.app.clone().into(), self.flow.clone().into()],
                ))
                .await?
                .ok_or_else(|| DomainError::Internal(anyhow::anyhow!("no hook secret")))?;
            Ok(
                json!({"secret": row.try_get::<String>("", "secret")?, "created_at": row.try_get::<String>("", "created_at")?}),
            )
        })
    }
}

/// How old a signed webhook call may be (seconds), against replays.
pub const HOOK_MAX_AGE: i64 = 300;

struct ManualStart {
    app: String,
    flow: String,
    version: i64,
    form: String,
    record: i64,
    start: String,
    actor: Actor,
}

impl WriteOp for ManualStart {
    fn apply<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
        batch: &'a mut Batch,
    ) -> BoxFuture<'a, DomainResult<Value>> {
        Box::pin(async move {
            let id = store::start_instance(
                txn,
                batch,
                store::NewInstance {
                    app: &self.app,
                    flow: &self.flow,
                    version: self.version,
                    form: Some(&self.form),
                    record_id: Some(self.record),
                    initiator: &self.actor.user,
                    start: &self.start,
                    correlation: None,
                },
                &self.actor,
            )
            .await?;
            Ok(json!(id))
        })
    }
}

struct Stop {
    id: i64,
    actor: Actor,
    reason: Option<String>,
}

impl WriteOp for Stop {
    fn apply<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
        batch: &'a mut Batch,
    ) -> BoxFuture<'a, DomainResult<Value>> {
        Box::pin(async move {
            let inst = store::instance(txn, batch.backend, self.id).await?;
            if inst.status != "running" {
                return Err(DomainError::conflict(
                    format!("instance {} is {}", self.id, inst.status),
                    vec![],
                ));
            }
            end_instance(
                txn,
                batch,
                &inst,
                "cancelled",
                self.reason.as_deref(),
                None,
                &self.actor,
            )
            .await?;
            Ok(Value::Null)
        })
    }
}

struct ReadMessage {
    id: i64,
    user: String,
}

impl WriteOp for ReadMessage {
    fn apply<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
        batch: &'a mut Batch,
    ) -> BoxFuture<'a, DomainResult<Value>> {
        Box::pin(async move {
            let r = txn
                .execute_raw(batch.stmt(
                    "UPDATE inbox SET read_at = COALESCE(read_at, $3) WHERE id = $1 AND username = $2",
                    vec![self.id.into(), self.user.clone().into(), batch.now.clone().into()],
                ))
                .await?;
            if r.rows_affected() == 0 {
                return Err(DomainError::NotFound(format!("message {}", self.id)));
            }
            Ok(Value::Null)
        })
    }
}

/// A task action: the optional record edit (only the node's editable fields), the task's
/// outcome and comment, and — when this decides the node — the next step, together.
struct Complete {
    inner: FlowEngine,
    task: i64,
    outcome: String,
    comment: Option<String>,
    data: Option<Value>,
    actor: Actor,
    /// Whose field and column rules the edit keeps besides the node's `editable` list.
    caller: Caller,
}

impl WriteOp for Complete {
    fn apply<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
        batch: &'a mut Batch,
    ) -> BoxFuture<'a, DomainResult<Value>> {
        Box::pin(async move {
            let (task, row) = lock_open_task(txn, batch, self.task, &self.actor).await?;
            let token: i64 = row.try_get("", "token_id")?;
            let kind = task["kind"].as_str().unwrap_or("task").to_owned();
            let allowed: &[&str] = if kind == "approval" {
                &["approved", "rejected"]
            } else {
                &["done"]
            };
            if !allowed.contains(&self.outcome.as_str()) {
                return Err(DomainError::invalid_one(
                    "/outcome",
                    "enum",
                    format!(
                        "the outcome of this {kind} is one of {}",
                        allowed.join(", ")
                    ),
                ));
            }
            let (mut inst, def, node_id, node) = running_instance(txn, batch, &task).await?;
            if let Some(data) = &self.data
                && data.as_object().is_some_and(|o| !o.is_empty())
            {
                let editable: Vec<&str> = node
                    .get("editable")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect();
                let refused: Vec<Detail> = data
                    .as_object()
                    .into_iter()
                    .flatten()
                    .filter(|(k, _)| !editable.contains(&k.as_str()))
                    .map(|(k, _)| {
                        Detail::new(
                            format!("/data/{k}"),
                            "field_write",
                            format!("this task may not change {k}"),
                        )
                    })
                    .collect();
                if !refused.is_empty() {
                    return Err(DomainError::Forbidden {
                        message: "fields this task may not change; see details".into(),
                        details: refused,
                    });
                }
                let (Some(form), Some(id)) = (inst.form.clone(), inst.record_id) else {
                    return Err(DomainError::invalid_one(
                        "/data",
                        "record",
                        "this flow has no record",
                    ));
                };
                let compiled = self.inner.inner.forms.current(&inst.app, &form).await?;
                let today = self.inner.inner.records.today(&inst.app).await?;
                // The node grants reading and writing its editable fields; the
                // assignee's own column rules still hold: a sub-table with a column
                // hidden from them keeps its stored rows (or is refused when changed),
                // and a column they may not change keeps its stored values.
                let mine = self
                    .inner
                    .inner
                    .auth
                    .decide(&self.caller, &inst.app, &form)
                    .await?;
                let granted = node_grant(&mine, &editable);
                patch_in_txn(
                    txn,
                    batch,
                    compiled,
                    id,
                    data,
                    &self.actor,
                    today,
                    Some(format!(
                        "task {} of flow {} #{}",
                        self.task, inst.flow, inst.id
                    )),
                    Some(&granted),
                )
                .await?;
            }
            txn.execute_raw(batch.stmt(
                "UPDATE flow_tasks SET status = $2, comment = $3, completed_at = $4, completed_by = $5 WHERE id = $1",
                vec![self.task.into(), self.outcome.clone().into(), self.comment.clone().into(), batch.now.clone().into(), self.actor.user.clone().into()],
            ))
            .await?;
            batch
                .log(
                    txn,
                    super::log_entry(&self.actor, "flow.task", &inst.app, inst.form.as_deref(), inst.record_id, json!({"instance": inst.id, "task": self.task, "node": node_id, "outcome": self.outcome}), self.comment.clone()),
                )
                .await?;
            // Does this decide the node?
            let mode = node.get("mode").and_then(Value::as_str).unwrap_or("any");
            let open = txn
                .query_one_raw(batch.stmt(
                    "SELECT COUNT(*) AS n FROM flow_tasks WHERE token_id = $1 AND status = 'open'",
                    vec![token.into()],
                ))
                .await?
                .map(|r| r.try_get::<i64>("", "n"))
                .transpose()?
                .unwrap_or(0);
            let queued = if mode == "sequential" && self.outcome != "rejected" && open == 0 {
                txn.query_one_raw(batch.stmt(
                    "SELECT id, assignee FROM flow_tasks WHERE token_id = $1 AND status = 'queued' ORDER BY id LIMIT 1",
                    vec![token.into()],
                ))
                .await?
            } else {
                None
            };
            let decided = match (mode, self.outcome.as_str()) {
                ("all", "rejected") | ("sequential", "rejected") => true,
                ("all", _) => open == 0,
                ("sequential", _) => open == 0 && queued.is_none(),
                _ => true,
            };
            if let Some(next) = &queued {
                // The next signer in order gets the task now.
                let id: i64 = next.try_get("", "id")?;
                let who: String = next.try_get("", "assignee")?;
                txn.execute_raw(batch.stmt(
                    "UPDATE flow_tasks SET status = 'open', created_at = $2 WHERE id = $1",
                    vec![id.into(), batch.now.clone().into()],
                ))
                .await?;
                super::engine::announce_task(txn, batch, &inst, &node_id, &node, &who, id, None)
                    .await?;
            }
            let outs = edges_from(&def, &node_id);
            if decided {
                decide_node(
                    txn,
                    batch,
                    &mut inst,
                    token,
                    &node_id,
                    &kind,
                    &self.outcome,
                    self.comment.as_deref(),
                    &self.actor.user,
                    &outs,
                )
                .await?;
            } else {
                store::step(
                    txn,
                    batch,
                    &inst,
                    Some(&node_id),
                    &self.outcome,
                    &self.actor.user,
                    json!({"comment": self.comment, "waiting_for": open + i64::from(queued.is_some())}),
                )
                .await?;
            }
            Ok(Value::Null)
        })
    }
}

/// The caller's open task, locked for this transaction (PostgreSQL, several processes: a
/// second action on it waits, then finds it closed): as JSON, and its row.
async fn lock_open_task(
    txn: &DatabaseTransaction,
    batch: &Batch,
    id: i64,
    actor: &Actor,
) -> DomainResult<(Value, sea_orm::QueryResult)> {
    let lock = store::for_update(batch.backend);
    let row = txn
        .query_one_raw(batch.stmt(
            &format!("SELECT {TASK_COLUMNS} FROM flow_tasks WHERE id = $1{lock}"),
            vec![id.into()],
        ))
        .await?
        .ok_or_else(|| DomainError::NotFound(format!("task {id}")))?;
    let task = task_json(&row)?;
    if task["assignee"] != json!(actor.user) {
        return Err(DomainError::NotFound(format!("task {id}")));
    }
    if task["status"] != "open" {
        return Err(DomainError::conflict(
            format!("task {id} is {}", task["status"].as_str().unwrap_or("")),
            vec![],
        ));
    }
    Ok((task, row))
}

/// A task's instance (which must still run), its definition, and the task's node.
async fn running_instance(
    txn: &DatabaseTransaction,
    batch: &Batch,
    task: &Value,
) -> DomainResult<(Instance, Value, String, Map<String, Value>)> {
    let inst = store::instance(txn, batch.backend, task["instance"].as_i64().unwrap_or(0)).await?;
    if inst.status != "running" {
        return Err(DomainError::conflict(
            format!("the flow instance is {}", inst.status),
            vec![],
        ));
    }
    let def = store::definition(txn, batch.backend, &inst.app, &inst.flow, inst.version).await?;
    let node_id = task["node"].as_str().unwrap_or("").to_owned();
    let node = node_of(&def, &node_id).cloned().unwrap_or_default();
    Ok((inst, def, node_id, node))
}

/// Transfer a task, add a signer to its node, or return the instance to an earlier node.
struct TaskAction {
    task: i64,
    action: &'static str,
    to: String,
    comment: Option<String>,
    actor: Actor,
}

impl WriteOp for TaskAction {
    fn apply<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
        batch: &'a mut Batch,
    ) -> BoxFuture<'a, DomainResult<Value>> {
        Box::pin(async move {
            let (task, row) = lock_open_task(txn, batch, self.task, &self.actor).await?;
            let token: i64 = row.try_get("", "token_id")?;
            let (inst, def, node_id, node) = running_instance(txn, batch, &task).await?;
            let kind = task["kind"].as_str().unwrap_or("task").to_owned();
            let due: Option<String> = row.try_get("", "due_at").ok().flatten();
            let detail;
            match self.action {
                "transfer" | "add_signer" => {
                    let user = txn
                        .query_one_raw(batch.stmt(
                            "SELECT disabled FROM users WHERE username = $1",
                            vec![self.to.clone().into()],
                        ))
                        .await?;
                    if !user.is_some_and(|u| u.try_get::<i64>("", "disabled").is_ok_and(|d| d == 0))
                    {
                        return Err(DomainError::invalid_one(
                            "/to",
                            "exists",
                            format!("there is no active user {}", self.to),
                        ));
                    }
                    let busy = txn
                        .query_one_raw(batch.stmt(
                            "SELECT id FROM flow_tasks WHERE token_id = $1 AND assignee = $2 AND status IN ('open', 'queued')",
                            vec![token.into(), self.to.clone().into()],
                        ))
                        .await?;
                    if busy.is_some() {
                        return Err(DomainError::invalid_one(
                            "/to",
                            "duplicate",
                            format!("{} already has this task", self.to),
                        ));
                    }
                    if self.action == "transfer" {
                        txn.execute_raw(batch.stmt(
                            "UPDATE flow_tasks SET status = 'transferred', comment = $2, completed_at = $3, completed_by = $4 WHERE id = $1",
                            vec![self.task.into(), self.comment.clone().into(), batch.now.clone().into(), self.actor.user.clone().into()],
                        ))
                        .await?;
                    }
                    // A transferred task is open for its new assignee at once; an added signer
                    // joins the node (sequential: at the end of the queue).
                    let status = if self.action == "add_signer"
                        && node.get("mode").and_then(Value::as_str) == Some("sequential")
                    {
                        "queued"
                    } else {
                        "open"
                    };
                    let new_id = super::engine::insert_task(
                        txn,
                        batch,
                        &inst,
                        token,
                        &node_id,
                        &node,
                        &kind,
                        &self.to,
                        status,
                        due,
                        Some(&self.actor.user),
                    )
                    .await?;
                    detail = json!({"to": self.to, "task": new_id, "comment": self.comment});
                }
                _ => {
                    // Return: only to a task or approval node this instance has already passed.
                    let target = node_of(&def, &self.to);
                    let human = target
                        .and_then(|n| n.get("type"))
                        .and_then(Value::as_str)
                        .is_some_and(|t| t == "task" || t == "approval");
                    // History lines of this transaction are written at its end.
                    batch.write_deferred(txn).await?;
                    let visited = txn
                        .query_one_raw(batch.stmt(
                            "SELECT id FROM flow_steps WHERE instance_id = $1 AND node = $2 AND action = 'assigned'",
                            vec![inst.id.into(), self.to.clone().into()],
                        ))
                        .await?
                        .is_some();
                    if !human || !visited || self.to == node_id {
                        return Err(DomainError::invalid_one(
                            "/to",
                            "return",
                            format!(
                                "{} is not an earlier task or approval of this instance",
                                self.to
                            ),
                        ));
                    }
                    txn.execute_raw(batch.stmt(
                        "UPDATE flow_tasks SET status = 'returned', comment = $2, completed_at = $3, completed_by = $4 WHERE id = $1",
                        vec![self.task.into(), self.comment.clone().into(), batch.now.clone().into(), self.actor.user.clone().into()],
                    ))
                    .await?;
                    txn.execute_raw(batch.stmt(
                        "UPDATE flow_tasks SET status = 'cancelled', completed_at = $2 WHERE token_id = $1 AND status IN ('open', 'queued')",
                        vec![token.into(), batch.now.clone().into()],
                    ))
                    .await?;
                    store::set_token(txn, batch, token, "done", None).await?;
                    store::insert_token(
                        txn,
                        batch,
                        inst.id,
                        &self.to,
                        Some(&node_id),
                        "ready",
                        None,
                    )
                    .await?;
                    detail = json!({"to": self.to, "comment": self.comment});
                }
            }
            let action = match self.action {
                "transfer" => "transferred",
                "add_signer" => "signer_added",
                _ => "returned",
            };
            store::step(
                txn,
                batch,
                &inst,
                Some(&node_id),
                action,
                &self.actor.user,
                detail,
            )
            .await?;
            Ok(Value::Null)
        })
    }
}

/// What a non-administrator sees of a flow's trigger: its kind and form, not its
/// condition (which may name fields and thresholds the caller may not read).
fn outline_trigger(t: &Value) -> Value {
    json!({"type": t["type"], "form": t["form"]})
}

/// The shape of a flow for drawing it — node ids, types and labels, edges with their
/// outcomes and whether they are the default — without conditions, values, filters or
/// templates, which may name fields and thresholds the caller may not read.
pub fn outline(def: &Value) -> Value {
    let nodes: Vec<Value> = def["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|n| json!({"id": n["id"], "type": n["type"], "label": n["label"]}))
        .collect();
    let edges: Vec<Value> = def["edges"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            let mut o = json!({"from": e["from"], "to": e["to"]});
            for k in ["outcome", "default", "label"] {
                if let Some(v) = e.get(k) {
                    o[k] = v.clone();
                }
            }
            o
        })
        .collect();
    json!({"key": def["key"], "label": def["label"], "trigger": outline_trigger(&def["trigger"]),
           "nodes": nodes, "edges": edges, "layout": def["layout"]})
}

/// The caller's decision as a task node extends it: the node's editable fields readable
/// and writable (the node's grant wins over the caller's field rules, also for someone
/// with no role on the form), and nothing else writable; the caller's own column rules
/// (`deny_read` / `deny_write` of `table.column`) still hold.
fn node_grant(mine: &Decision, editable: &[&str]) -> Decision {
    let mut d = mine.clone();
    for f in editable {
        d.read.allow.insert(f.to_string());
        d.read.deny.remove(*f);
    }
    d.write = FieldMask {
        all: false,
        allow: editable.iter().map(|f| f.to_string()).collect(),
        deny: mine
            .write
            .deny
            .iter()
            .filter(|f| f.contains('.'))
            .cloned()
            .collect(),
    };
    d
}
