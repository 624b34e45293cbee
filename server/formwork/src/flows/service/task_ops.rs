//! The writes behind tasks and the inbox: completing a task, acting on it (approve,
//! reject, return, transfer, add a signer), reading a message.

use super::*;

pub(super) struct ReadMessage {
    pub(super) id: i64,
    pub(super) user: String,
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
pub(super) struct Complete {
    pub(super) inner: FlowEngine,
    pub(super) task: i64,
    pub(super) outcome: String,
    pub(super) comment: Option<String>,
    pub(super) data: Option<Value>,
    pub(super) actor: Actor,
    /// Whose field and column rules the edit keeps besides the node's `editable` list.
    pub(super) caller: Caller,
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
            // Deciding an approval over a record is the `approve` action on its form.
            if kind == "approval"
                && let Some(form) = inst.form.as_deref()
                && !self
                    .inner
                    .inner
                    .auth
                    .decide(&self.caller, &inst.app, form)
                    .await?
                    .allows("approve")
            {
                return Err(DomainError::forbidden(
                    "/outcome",
                    "action",
                    format!("your roles do not allow approve on {form}"),
                ));
            }
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
                let today = self.inner.inner.records.today_in(&inst.app).await?;
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
                    crate::flows::log_entry(&self.actor, "flow.task", &inst.app, inst.form.as_deref(), inst.record_id, json!({"instance": inst.id, "task": self.task, "node": node_id, "outcome": self.outcome}), self.comment.clone()),
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
                crate::flows::engine::announce_task(
                    txn, batch, &inst, &node_id, &node, &who, id, None,
                )
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
pub(super) async fn lock_open_task(
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
pub(super) async fn running_instance(
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
pub(super) struct TaskAction {
    pub(super) task: i64,
    pub(super) action: &'static str,
    pub(super) to: String,
    pub(super) comment: Option<String>,
    pub(super) actor: Actor,
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
                    let new_id = crate::flows::engine::insert_task(
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

/// The caller's decision as a task node extends it: the node's editable fields readable
/// and writable (the node's grant wins over the caller's field rules, also for someone
/// with no role on the form), and nothing else writable; the caller's own column rules
/// (`deny_read` / `deny_write` of `table.column`) still hold.
pub(super) fn node_grant(mine: &Decision, editable: &[&str]) -> Decision {
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
