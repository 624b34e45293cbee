//! Flow instances as the API shows them: lists, one instance with its history and graph,
//! stopping one.

use super::*;

impl FlowService {
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
            let hidden = crate::flows::mask::hidden_vars(&self.engine.inner, &inst, caller).await;
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

/// What a non-administrator sees of a flow's trigger: its kind and form, not its
/// condition (which may name fields and thresholds the caller may not read).
pub(super) fn outline_trigger(t: &Value) -> Value {
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
