//! Tasks and the inbox: my tasks, one task as its node may see and edit it, completing
//! and acting on tasks, messages.

use super::*;

impl FlowService {
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
        crate::flows::failpoint("task_completed");
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
