//! Sub-flows and waiting nodes resumed: a sub-flow that ends moves its parent on, a result from outside (an HTTP answer) moves its waiting token on.

use super::*;

/// An instance that ends takes the sub-flows it is waiting for with it (a cancelled
/// parent leaves no orphans); sub-flows started without waiting run on.
pub(super) fn cancel_children<'a>(
    txn: &'a DatabaseTransaction,
    batch: &'a mut Batch,
    inst: &'a Instance,
    actor: &'a Actor,
) -> BoxFuture<'a, DomainResult<()>> {
    Box::pin(async move {
        // The subflow node lists the children it waits for in `_waits_for`; an instance
        // that never waited on one costs nothing here.
        let children: Vec<i64> = inst.vars["_waits_for"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_i64)
            .collect();
        for child in children {
            let c = store::instance(txn, batch.backend, child).await?;
            if c.status == "running" && c.vars["_parent"]["instance"].as_i64() == Some(inst.id) {
                let why = format!("cancelled with its parent {} #{}", inst.flow, inst.id);
                end_instance(txn, batch, &c, "cancelled", Some(&why), None, actor).await?;
            }
        }
        Ok(())
    })
}

/// A sub-flow ended: its parent's waiting token moves on. `vars.<name>` of the parent gets
/// `{status, error?, vars}` (the child's variables); a completed child follows the edge
/// (or the `completed` one), a failed or cancelled one the `failed` edge, and without one
/// the parent fails too.
pub(super) fn resume_parent<'a>(
    txn: &'a DatabaseTransaction,
    batch: &'a mut Batch,
    child: &'a Instance,
    status: &'a str,
    error: Option<&'a str>,
    p: Value,
) -> BoxFuture<'a, DomainResult<()>> {
    Box::pin(async move {
        let (Some(pid), Some(token), Some(node_id)) = (
            p["instance"].as_i64(),
            p["token"].as_i64(),
            p["node"].as_str(),
        ) else {
            return Ok(());
        };
        let waits = lock_waiting(txn, batch, token).await?;
        let mut parent = store::instance(txn, batch.backend, pid).await?;
        if parent.status != "running" || !waits {
            return Ok(());
        }
        let mut child_vars = child.vars["vars"].clone();
        if let Some(o) = child_vars.as_object_mut() {
            o.retain(|k, _| !k.starts_with('_'));
        }
        let ok = status == "completed";
        resume_waiting(
            txn,
            batch,
            &mut parent,
            token,
            node_id,
            Resumed {
                ok,
                ok_outcome: "completed",
                result: json!({"instance": child.id, "status": status, "error": error, "vars": child_vars}),
                action: if ok {
                    "subflow_completed"
                } else {
                    "subflow_failed"
                },
                detail: json!({"instance": child.id, "status": status}),
                failure: format!(
                    "sub-flow {} #{} {status}{}",
                    child.flow,
                    child.id,
                    error.map(|e| format!(": {e}")).unwrap_or_default()
                ),
            },
        )
        .await
    })
}

/// Lock a token and say whether it still waits: a result that arrives twice, or after the
/// instance moved on, changes nothing.
pub(crate) async fn lock_waiting(
    txn: &DatabaseTransaction,
    batch: &Batch,
    token: i64,
) -> DomainResult<bool> {
    let lock = store::for_update(batch.backend);
    let row = txn
        .query_one_raw(batch.stmt(
            &format!("SELECT status FROM flow_tokens WHERE id = $1{lock}"),
            vec![token.into()],
        ))
        .await?;
    Ok(match row {
        Some(t) => t.try_get::<String>("", "status")? == "waiting",
        None => false,
    })
}

/// The waiting token at `node_id` moves on with what came back: the result goes into the
/// variables, then the edge of the outcome (`failed` for a failure) is followed; a failure
/// with no `failed` edge fails the instance.
pub(crate) async fn resume_waiting(
    txn: &DatabaseTransaction,
    batch: &mut Batch,
    inst: &mut Instance,
    token: i64,
    node_id: &str,
    r: Resumed<'_>,
) -> DomainResult<()> {
    let def = store::definition(txn, batch.backend, &inst.app, &inst.flow, inst.version).await?;
    let node = node_of(&def, node_id).cloned().unwrap_or_default();
    let name = node
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or(node_id)
        .to_owned();
    // A report's result is what its role may see: only its holders see it (flows::mask).
    let source = match (
        node.get("type").and_then(Value::as_str),
        node.get("as_role"),
    ) {
        (Some("report"), Some(role)) => Some(json!({"as_role": role})),
        _ => None,
    };
    let vars = vars_mut(inst);
    vars.insert(name.clone(), r.result);
    crate::flows::mask::note_source(vars, &name, source);
    save_vars(txn, batch, inst).await?;
    let outs = edges_from(&def, node_id);
    let want = if r.ok { r.ok_outcome } else { "failed" };
    let next = outs
        .iter()
        .find(|e| e.get("outcome").and_then(Value::as_str) == Some(want))
        .or_else(|| outs.iter().find(|e| r.ok && e.get("outcome").is_none()))
        .map(|e| target(e));
    let actor = flow_actor(&inst.flow);
    match next {
        Some(to) => {
            store::set_token(txn, batch, token, "done", None).await?;
            store::step(
                txn,
                batch,
                inst,
                Some(node_id),
                r.action,
                &actor.user,
                r.detail,
            )
            .await?;
            store::insert_token(txn, batch, inst.id, &to, Some(node_id), "ready", None).await?;
            Ok(())
        }
        None => {
            end_instance(
                txn,
                batch,
                inst,
                "failed",
                Some(&r.failure),
                Some(node_id),
                &actor,
            )
            .await
        }
    }
}
