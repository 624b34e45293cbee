//! Tasks of approval and task nodes: opened, announced, and decided; deadlines that fall due.

use super::*;

/// Open tasks for `users` at this token; an inbox message for each.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn add_tasks(
    txn: &DatabaseTransaction,
    batch: &Batch,
    inst: &Instance,
    token: i64,
    node_id: &str,
    node: &Map<String, Value>,
    users: &[String],
    due: Option<String>,
) -> DomainResult<()> {
    let kind = node.get("type").and_then(Value::as_str).unwrap_or("task");
    // Sequential: one assignee at a time, in order; the others wait as `queued`.
    let sequential = node.get("mode").and_then(Value::as_str) == Some("sequential");
    for (i, u) in users.iter().enumerate() {
        let status = if sequential && i > 0 {
            "queued"
        } else {
            "open"
        };
        insert_task(
            txn,
            batch,
            inst,
            token,
            node_id,
            node,
            kind,
            u,
            status,
            due.clone(),
            None,
        )
        .await?;
    }
    Ok(())
}

/// A task for `user` at this token and node; an open one is announced in their inbox
/// (`from`: who handed it over). A `queued` one waits for its turn silently.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn insert_task(
    txn: &DatabaseTransaction,
    batch: &Batch,
    inst: &Instance,
    token: i64,
    node_id: &str,
    node: &Map<String, Value>,
    kind: &str,
    user: &str,
    status: &str,
    due: Option<String>,
    from: Option<&str>,
) -> DomainResult<i64> {
    let row = txn
        .query_one_raw(batch.stmt(
            "INSERT INTO flow_tasks (instance_id, token_id, node, kind, assignee, status, created_at, due_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            vec![inst.id.into(), token.into(), node_id.into(), kind.into(), user.into(), status.into(), batch.now.clone().into(), due.into()],
        ))
        .await?
        .ok_or_else(|| DomainError::Internal(anyhow::anyhow!("no task id")))?;
    let task: i64 = row.try_get("", "id")?;
    if status == "open" {
        announce_task(txn, batch, inst, node_id, node, user, task, from).await?;
    }
    Ok(task)
}

/// The inbox message of a task that is now open for `user`.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn announce_task(
    txn: &DatabaseTransaction,
    batch: &Batch,
    inst: &Instance,
    node_id: &str,
    node: &Map<String, Value>,
    user: &str,
    task: i64,
    from: Option<&str>,
) -> DomainResult<()> {
    let title = label_text(node, node_id);
    let body = match from {
        Some(by) => format!("{} #{} ({by})", inst.flow, inst.id),
        None => format!("{} #{}", inst.flow, inst.id),
    };
    store::inbox(
        txn,
        batch,
        user,
        inst.id,
        Some(task),
        &format!("待办 / New task: {title}"),
        &body,
    )
    .await
}

/// A deadline or delay fell due.
#[allow(clippy::too_many_arguments)]
pub(super) async fn fire_timer(
    inner: &Arc<Inner>,
    txn: &DatabaseTransaction,
    batch: &mut Batch,
    inst: &mut Instance,
    token: i64,
    node_id: &str,
    node: &Map<String, Value>,
    kind: &str,
    data: &Value,
    outs: &[&Map<String, Value>],
) -> DomainResult<()> {
    let actor = flow_actor(&inst.flow);
    if kind == "delay" {
        store::set_token(txn, batch, token, "done", None).await?;
        store::step(
            txn,
            batch,
            inst,
            Some(node_id),
            "timer",
            &actor.user,
            json!({"worker": inner.worker}),
        )
        .await?;
        let next: Vec<String> = outs.iter().take(1).map(|e| target(e)).collect();
        return go(txn, batch, inst, node_id, &next).await;
    }
    let deadline = node.get("deadline").cloned().unwrap_or(Value::Null);
    let action = deadline["action"].as_str().unwrap_or("remind");
    store::step(
        txn,
        batch,
        inst,
        Some(node_id),
        "deadline",
        &actor.user,
        json!({"action": action, "worker": inner.worker}),
    )
    .await?;
    batch
        .log(
            txn,
            log_entry(
                &actor,
                "flow.deadline",
                &inst.app,
                inst.form.as_deref(),
                inst.record_id,
                json!({"instance": inst.id, "node": node_id, "action": action}),
                None,
            ),
        )
        .await?;
    match action {
        "auto_approve" | "auto_reject" => {
            let outcome = if action == "auto_approve" {
                "approved"
            } else {
                "rejected"
            };
            decide_node(
                txn,
                batch,
                inst,
                token,
                node_id,
                kind,
                outcome,
                None,
                &actor.user,
                outs,
            )
            .await
        }
        "escalate" => {
            let users = resolve(txn, batch, inst, data, &deadline["to"]).await?;
            add_tasks(txn, batch, inst, token, node_id, node, &users, None).await?;
            store::set_token(txn, batch, token, "waiting", None).await?;
            store::step(
                txn,
                batch,
                inst,
                Some(node_id),
                "escalated",
                &actor.user,
                json!({"to": users}),
            )
            .await
        }
        _ => {
            let rows = txn
                .query_all_raw(batch.stmt(
                    "SELECT assignee FROM flow_tasks WHERE token_id = $1 AND status = 'open'",
                    vec![token.into()],
                ))
                .await?;
            let title = label_text(node, node_id);
            for r in rows {
                let u: String = r.try_get("", "assignee")?;
                store::inbox(
                    txn,
                    batch,
                    &u,
                    inst.id,
                    None,
                    &format!("催办 / Reminder: {title}"),
                    &format!("{} #{}", inst.flow, inst.id),
                )
                .await?;
            }
            store::set_token(txn, batch, token, "waiting", None).await
        }
    }
}

/// The node of a task is decided: cancel its other open tasks, remember the outcome, and
/// continue along the matching edge.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn decide_node(
    txn: &DatabaseTransaction,
    batch: &mut Batch,
    inst: &mut Instance,
    token: i64,
    node_id: &str,
    kind: &str,
    outcome: &str,
    comment: Option<&str>,
    by: &str,
    outs: &[&Map<String, Value>],
) -> DomainResult<()> {
    txn.execute_raw(batch.stmt(
        "UPDATE flow_tasks SET status = 'cancelled', completed_at = $2 WHERE token_id = $1 AND status IN ('open', 'queued')",
        vec![token.into(), batch.now.clone().into()],
    ))
    .await?;
    store::set_token(txn, batch, token, "done", None).await?;
    if let Some(o) = inst.vars.as_object_mut() {
        o.insert(
            "task".into(),
            json!({"outcome": outcome, "comment": comment, "by": by, "node": node_id}),
        );
    } else {
        inst.vars =
            json!({"task": {"outcome": outcome, "comment": comment, "by": by, "node": node_id}});
    }
    save_vars(txn, batch, inst).await?;
    store::step(
        txn,
        batch,
        inst,
        Some(node_id),
        outcome,
        by,
        json!({"comment": comment}),
    )
    .await?;
    let next: Vec<String> = if kind == "approval" {
        outs.iter()
            .filter(|e| e.get("outcome").and_then(Value::as_str) == Some(outcome))
            .map(|e| target(e))
            .collect()
    } else {
        outs.iter().take(1).map(|e| target(e)).collect()
    };
    go(txn, batch, inst, node_id, &next).await?;
    finish_check(txn, batch, inst).await
}
