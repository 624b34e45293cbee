//! Flow nodes that do work (tasks and approvals, record writes, effects, messages,
//! queries): one function per node kind, called by `step` (engine.rs) with the
//! step's state (`At`).

use super::*;

/// `approval` and `task` nodes.
pub(super) async fn assign(at: At<'_>) -> DomainResult<()> {
    let At {
        txn,
        batch,
        inst,
        token,
        node_id,
        node,
        data,
        actor,
        ..
    } = at;
    let users = resolve(
        txn,
        batch,
        &inst,
        &data,
        node.get("assignee").unwrap_or(&Value::Null),
    )
    .await?;
    if users.is_empty() {
        return Err(DomainError::invalid_one(
            "",
            "assignee",
            format!("the assignee of {node_id} resolves to nobody"),
        ));
    }
    let due = node
        .get("deadline")
        .and_then(Value::as_object)
        .and_then(duration_minutes)
        .map(|m| due_in(batch, m));
    add_tasks(
        txn,
        batch,
        &inst,
        token,
        &node_id,
        &node,
        &users,
        due.clone(),
    )
    .await?;
    store::set_token(txn, batch, token, "waiting", due).await?;
    store::step(
        txn,
        batch,
        &inst,
        Some(&node_id),
        "assigned",
        &actor.user,
        json!({"to": users}),
    )
    .await?;
    Ok(())
}

/// `update_record` nodes.
pub(super) async fn update_record(at: At<'_>) -> DomainResult<()> {
    let At {
        inner,
        txn,
        batch,
        inst,
        token,
        node_id,
        node,
        data,
        single,
        actor,
        ..
    } = at;
    let ctx = ctx_of(&inst, &data);
    let mut patch = Map::new();
    for (f, v) in node
        .get("set")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let value = compute(v, &ctx)
            .map_err(|m| DomainError::invalid_one(&format!("/set/{f}"), "value", m))?;
        patch.insert(f.clone(), value);
    }
    let (form, id) = match node.get("form").and_then(Value::as_str) {
        Some(other) => {
            let id = compute(node.get("record").unwrap_or(&Value::Null), &ctx)
                .ok()
                .and_then(|v| v.as_i64())
                .ok_or_else(|| {
                    DomainError::invalid_one(
                        "/record",
                        "record",
                        format!("{node_id}: record does not give a record id"),
                    )
                })?;
            (other.to_owned(), id)
        }
        None => match (inst.form.clone(), inst.record_id) {
            (Some(f), Some(id)) => (f, id),
            _ => {
                return Err(DomainError::invalid_one(
                    "",
                    "record",
                    "this instance has no record to update",
                ));
            }
        },
    };
    let compiled = inner.forms.current(&inst.app, &form).await?;
    let today = inner.records.today_in(&inst.app).await?;
    patch_in_txn(
        txn,
        batch,
        compiled,
        id,
        &Value::Object(patch.clone()),
        &actor,
        today,
        Some(format!("flow {} #{}", inst.flow, inst.id)),
        None,
    )
    .await?;
    pass_on(
        txn,
        batch,
        &inst,
        token,
        &node_id,
        "updated",
        &actor.user,
        json!({"form": form, "id": id, "set": patch}),
        &single,
    )
    .await?;
    Ok(())
}

/// `create_record` nodes.
pub(super) async fn create_record(at: At<'_>) -> DomainResult<()> {
    let At {
        inner,
        txn,
        batch,
        mut inst,
        token,
        node_id,
        node,
        data,
        single,
        actor,
        ..
    } = at;
    let ctx = ctx_of(&inst, &data);
    let target_form = node
        .get("form")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let mut new = Map::new();
    for (f, v) in node
        .get("data")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let value = compute(v, &ctx)
            .map_err(|m| DomainError::invalid_one(&format!("/data/{f}"), "value", m))?;
        // A value that comes out null leaves the field empty (the form's default).
        if !value.is_null() {
            new.insert(f.clone(), value);
        }
    }
    let compiled = inner.forms.current(&inst.app, &target_form).await?;
    let today = inner.records.today_in(&inst.app).await?;
    let id = create_in_txn(
        txn,
        batch,
        &compiled,
        Value::Object(new),
        &actor,
        today,
        Some(format!("flow {} #{}", inst.flow, inst.id)),
    )
    .await?;
    vars_mut(&mut inst).insert(node_id.clone(), json!(id));
    save_vars(txn, batch, &inst).await?;
    pass_on(
        txn,
        batch,
        &inst,
        token,
        &node_id,
        "created",
        &actor.user,
        json!({"form": target_form, "id": id}),
        &single,
    )
    .await?;
    Ok(())
}

/// `http` and `report` nodes.
pub(super) async fn effect(at: At<'_>) -> DomainResult<()> {
    let At {
        inner,
        txn,
        batch,
        inst,
        token,
        node_id,
        node,
        data,
        actor,
        kind,
        ..
    } = at;
    let detail = if kind == "report" {
        crate::flows::outbox::report_node(txn, batch, &inst, token, &node_id, &node).await?
    } else {
        crate::flows::outbox::http_node(inner, txn, batch, &inst, token, &node_id, &node, &data)
            .await?
    };
    inner.outbox_wake.notify_one();
    store::set_token(txn, batch, token, "waiting", None).await?;
    store::step(
        txn,
        batch,
        &inst,
        Some(&node_id),
        "requested",
        &actor.user,
        detail,
    )
    .await?;
    Ok(())
}

/// `notify` and `cc` nodes.
pub(super) async fn notify(at: At<'_>) -> DomainResult<()> {
    let At {
        inner,
        txn,
        batch,
        inst,
        token,
        node_id,
        node,
        def,
        data,
        single,
        actor,
        kind,
        ..
    } = at;
    let users = resolve(
        txn,
        batch,
        &inst,
        &data,
        node.get("to").unwrap_or(&Value::Null),
    )
    .await?;
    // A copy (抄送) names the flow when it has no title of its own.
    let default_title = if kind == "cc" {
        format!("抄送 / CC: {}", flow_label(def, &inst.flow))
    } else {
        String::new()
    };
    for u in &users {
        // Rendered through the recipient's own field mask: the record and the
        // variables computed from records (flows::mask).
        let caller = inner.auth.caller_for(u).await.ok();
        let ctx = crate::flows::mask::context_for(inner, &inst, &data, caller.as_ref()).await;
        let title = match node.get("title").and_then(Value::as_str) {
            Some(t) => render(t, &ctx),
            None => default_title.clone(),
        };
        let body = render(node.get("body").and_then(Value::as_str).unwrap_or(""), &ctx);
        store::inbox(txn, batch, u, inst.id, None, &title, &body).await?;
        if kind == "cc" {
            // The copy lets the recipient follow the instance ("CC'd to me").
            store::cc(txn, batch, u, inst.id, &node_id).await?;
        }
    }
    pass_on(
        txn,
        batch,
        &inst,
        token,
        &node_id,
        if kind == "cc" { "copied" } else { "notified" },
        &actor.user,
        json!({"to": users}),
        &single,
    )
    .await?;
    Ok(())
}

/// `query` and `users` nodes.
pub(super) async fn query(at: At<'_>) -> DomainResult<()> {
    let At {
        txn,
        batch,
        mut inst,
        token,
        node_id,
        node,
        data,
        single,
        actor,
        kind,
        tz,
        ..
    } = at;
    let found = if kind == "query" {
        let ctx = ctx_of(&inst, &data);
        crate::flows::guard::query(
            txn,
            batch,
            &inst.app,
            node.get("form").and_then(Value::as_str).unwrap_or(""),
            node.get("filter").unwrap_or(&json!({"and": []})),
            node.get("limit").and_then(Value::as_i64).unwrap_or(100),
            &ctx,
            tz,
        )
        .await?
    } else {
        crate::flows::assignees::listed(
            txn,
            batch,
            &inst,
            &data,
            node.get("of").unwrap_or(&Value::Null),
        )
        .await?
    };
    // The list goes into vars.<name>; the history says how many.
    let name = node
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or(&node_id)
        .to_owned();
    let n = found.len();
    let source = (kind == "query").then(|| {
        crate::flows::mask::records_of(node.get("form").and_then(Value::as_str).unwrap_or(""))
    });
    let vars = vars_mut(&mut inst);
    vars.insert(name.clone(), Value::Array(found));
    crate::flows::mask::note_source(vars, &name, source);
    save_vars(txn, batch, &inst).await?;
    pass_on(
        txn,
        batch,
        &inst,
        token,
        &node_id,
        if kind == "query" { "queried" } else { "listed" },
        &actor.user,
        json!({"name": name, "found": n}),
        &single,
    )
    .await?;
    Ok(())
}

/// A `notify` node that sends by email or webhook: through the outbox, after the commit.
pub(super) async fn notify_outside(at: At<'_>) -> DomainResult<()> {
    let At {
        inner,
        txn,
        batch,
        inst,
        token,
        node_id,
        node,
        data,
        single,
        actor,
        ..
    } = at;
    let detail =
        crate::flows::outbox::notify_node(inner, txn, batch, &inst, token, &node_id, &node, &data)
            .await?;
    pass_on(
        txn,
        batch,
        &inst,
        token,
        &node_id,
        "notified",
        &actor.user,
        detail,
        &single,
    )
    .await?;
    Ok(())
}
