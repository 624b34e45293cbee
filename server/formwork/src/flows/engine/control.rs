//! Flow nodes that route tokens and hold state (start, end, branch, join, delay, loop,
//! sub-flow, set variable): one function per node kind, called by `step` (engine.rs) with the
//! step's state (`At`).

use super::*;

/// `start` and `parallel` nodes.
pub(super) async fn pass_through(at: At<'_>) -> DomainResult<()> {
    let At {
        txn,
        batch,
        inst,
        token,
        node_id,
        outs,
        ..
    } = at;
    store::set_token(txn, batch, token, "done", None).await?;
    let all: Vec<String> = outs.iter().map(|e| target(e)).collect();
    go(txn, batch, &inst, &node_id, &all).await?;
    Ok(())
}

/// `end` nodes.
pub(super) async fn end(at: At<'_>) -> DomainResult<()> {
    let At {
        txn,
        batch,
        inst,
        token,
        node_id,
        node,
        actor,
        ..
    } = at;
    store::set_token(txn, batch, token, "done", None).await?;
    store::step(
        txn,
        batch,
        &inst,
        Some(&node_id),
        "ended",
        &actor.user,
        json!({}),
    )
    .await?;
    if node.get("terminate") == Some(&Value::Bool(true)) {
        // Explicit termination: the instance ends here; other branches, their
        // open tasks and timers are withdrawn.
        end_instance(txn, batch, &inst, "completed", None, Some(&node_id), &actor).await?;
    } else {
        finish_check(txn, batch, &inst).await?;
    }
    Ok(())
}

/// `branch` nodes.
pub(super) async fn branch(at: At<'_>) -> DomainResult<()> {
    let At {
        txn,
        batch,
        mut inst,
        token,
        node_id,
        node,
        data,
        outs,
        actor,
        ..
    } = at;
    // Exclusive: the first edge whose condition holds. Multi-choice (`multi`): every
    // such edge. Neither: the default edge.
    let multi = node.get("multi") == Some(&Value::Bool(true));
    let ctx = ctx_of(&inst, &data);
    let mut chosen: Vec<String> = Vec::new();
    for e in &outs {
        if let Some(w) = e.get("when") {
            let v = compute(w, &ctx).map_err(|m| {
                DomainError::invalid_one("", "condition", format!("branch {node_id}: {m}"))
            })?;
            if truthy(&v) {
                chosen.push(target(e));
                if !multi {
                    break;
                }
            }
        }
    }
    if chosen.is_empty()
        && let Some(e) = outs
            .iter()
            .find(|e| e.get("default") == Some(&Value::Bool(true)))
    {
        chosen.push(target(e));
    }
    if multi {
        // A join with `{"activated_by": this node}` waits for exactly these.
        let vars = vars_mut(&mut inst);
        let act = vars.entry("_activated").or_insert_with(|| json!({}));
        if let Some(o) = act.as_object_mut() {
            o.insert(node_id.clone(), json!(chosen.len()));
        }
        save_vars(txn, batch, &inst).await?;
    }
    store::set_token(txn, batch, token, "done", None).await?;
    let detail = if multi {
        json!({"to": chosen})
    } else {
        json!({"to": chosen.first()})
    };
    store::step(
        txn,
        batch,
        &inst,
        Some(&node_id),
        "branched",
        &actor.user,
        detail,
    )
    .await?;
    go(txn, batch, &inst, &node_id, &chosen).await?;
    finish_check(txn, batch, &inst).await?;
    Ok(())
}

/// `join` nodes.
pub(super) async fn join(at: At<'_>) -> DomainResult<()> {
    let At {
        txn,
        batch,
        inst,
        token,
        node_id,
        node,
        def,
        single,
        actor,
        ..
    } = at;
    let fired = txn
        .query_one_raw(batch.stmt(
            "SELECT id FROM flow_tokens WHERE instance_id = $1 AND node = $2 AND status = 'fired'",
            vec![inst.id.into(), node_id.clone().into()],
        ))
        .await?
        .is_some();
    if fired {
        store::set_token(txn, batch, token, "done", None).await?;
        finish_check(txn, batch, &inst).await?;
        return Ok(());
    }
    store::set_token(txn, batch, token, "joined", None).await?;
    let incoming = def["edges"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["to"] == json!(node_id))
        .count() as i64;
    let activated_by = node
        .get("mode")
        .and_then(|m| m.get("activated_by"))
        .and_then(Value::as_str);
    let needed = match (node.get("mode"), activated_by) {
        // Structured synchronizing merge: as many as the multi-choice activated.
        (_, Some(b)) => inst.vars["vars"]["_activated"][b]
            .as_i64()
            .unwrap_or(incoming),
        (Some(Value::String(m)), _) if m == "any" => 1,
        (Some(Value::Object(m)), _) => m.get("n").and_then(Value::as_i64).unwrap_or(incoming),
        _ => incoming,
    };
    let row = txn
        .query_one_raw(batch.stmt("SELECT COUNT(*) AS n FROM flow_tokens WHERE instance_id = $1 AND node = $2 AND status = 'joined'", vec![inst.id.into(), node_id.clone().into()]))
        .await?;
    let arrived: i64 = row.map(|r| r.try_get("", "n")).transpose()?.unwrap_or(0);
    if arrived >= needed {
        txn.execute_raw(batch.stmt("UPDATE flow_tokens SET status = 'done' WHERE instance_id = $1 AND node = $2 AND status = 'joined'", vec![inst.id.into(), node_id.clone().into()]))
            .await?;
        if needed < incoming && activated_by.is_none() {
            // Later arrivals are absorbed by this marker.
            store::insert_token(txn, batch, inst.id, &node_id, None, "fired", None).await?;
        }
        store::step(
            txn,
            batch,
            &inst,
            Some(&node_id),
            "joined",
            &actor.user,
            json!({"arrived": arrived}),
        )
        .await?;
        go(txn, batch, &inst, &node_id, &single).await?;
    }
    Ok(())
}

/// `delay` nodes.
pub(super) async fn delay(at: At<'_>) -> DomainResult<()> {
    let At {
        txn,
        batch,
        inst,
        token,
        node_id,
        node,
        data,
        actor,
        tz,
        ..
    } = at;
    // A duration, or wait until a date / datetime (`until`, JSON Logic; a date means
    // the start of that day in the app's time zone; null or past: no wait).
    let (due, detail) = match node.get("until") {
        Some(u) => {
            let v = compute(u, &ctx_of(&inst, &data))
                .map_err(|m| DomainError::invalid_one("/until", "value", m))?;
            let due = until_instant(&v, tz).ok_or_else(|| {
                DomainError::invalid_one(
                    "/until",
                    "date",
                    format!("{node_id}: until gives {v}, not a date or datetime"),
                )
            })?;
            let due = due.unwrap_or_else(|| batch.now.clone());
            (due.clone(), json!({"until": due}))
        }
        None => {
            let minutes = duration_minutes(&node).unwrap_or(0.0);
            (due_in(batch, minutes), json!({"minutes": minutes}))
        }
    };
    store::set_token(txn, batch, token, "waiting", Some(due)).await?;
    store::step(
        txn,
        batch,
        &inst,
        Some(&node_id),
        "waiting",
        &actor.user,
        detail,
    )
    .await?;
    Ok(())
}

/// `loop` nodes.
pub(super) async fn each(at: At<'_>) -> DomainResult<()> {
    let At {
        txn,
        batch,
        mut inst,
        token,
        node_id,
        node,
        data,
        outs,
        actor,
        ..
    } = at;
    // State in vars._loops.<node>: the list and the next position. A token
    // arriving with no state starts the loop; one coming back takes the next item.
    let as_name = node
        .get("as")
        .and_then(Value::as_str)
        .unwrap_or("item")
        .to_owned();
    let state = inst.vars["vars"]["_loops"][&node_id].clone();
    let (items, pos) = if state.is_object() {
        (
            state["items"].as_array().cloned().unwrap_or_default(),
            state["next"].as_u64().unwrap_or(0) as usize,
        )
    } else {
        let ctx = ctx_of(&inst, &data);
        let list = compute(node.get("over").unwrap_or(&Value::Null), &ctx)
            .map_err(|m| DomainError::invalid_one("/over", "value", m))?;
        (
            match list {
                Value::Array(a) => a,
                Value::Null => Vec::new(),
                other => vec![other],
            },
            0,
        )
    };
    let each = outs
        .iter()
        .find(|e| e.get("each") == Some(&Value::Bool(true)))
        .map(|e| target(e));
    let done = outs
        .iter()
        .find(|e| e.get("each") != Some(&Value::Bool(true)))
        .map(|e| target(e));
    let item_source =
        crate::flows::mask::source_of(node.get("over").unwrap_or(&Value::Null), &inst);
    let vars = vars_mut(&mut inst);
    crate::flows::mask::note_source(vars, &as_name, item_source);
    let loops = vars
        .entry("_loops")
        .or_insert_with(|| json!({}))
        .as_object_mut()
        .ok_or_else(|| DomainError::Internal(anyhow::anyhow!("vars._loops is not an object")))?;
    let (action, next, detail) = if pos < items.len() {
        loops.insert(node_id.clone(), json!({"items": items, "next": pos + 1}));
        let item = items[pos].clone();
        vars.insert(as_name.clone(), item);
        vars.insert(format!("{as_name}_index"), json!(pos));
        ("iterated", each, json!({"index": pos, "of": items.len()}))
    } else {
        loops.remove(&node_id);
        ("looped", done, json!({"count": items.len()}))
    };
    save_vars(txn, batch, &inst).await?;
    let next: Vec<String> = next.into_iter().collect();
    pass_on(
        txn,
        batch,
        &inst,
        token,
        &node_id,
        action,
        &actor.user,
        detail,
        &next,
    )
    .await?;
    Ok(())
}

/// `subflow` nodes.
pub(super) async fn subflow(at: At<'_>) -> DomainResult<()> {
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
        ..
    } = at;
    // Start the child instance in this transaction; this token waits until the
    // child ends (end_instance resumes it).
    let child_flow = node.get("flow").and_then(Value::as_str).unwrap_or("");
    let depth = inst.vars["_parent"]["depth"].as_i64().unwrap_or(0) + 1;
    if depth > MAX_SUBFLOW_DEPTH {
        return Err(DomainError::invalid_one(
            "/flow",
            "subflow",
            format!("sub-flows nest deeper than {MAX_SUBFLOW_DEPTH} levels"),
        ));
    }
    let row = txn
        .query_one_raw(batch.stmt(
            "SELECT published_version FROM flows WHERE app = $1 AND key = $2",
            vec![inst.app.clone().into(), child_flow.into()],
        ))
        .await?;
    let version: Option<i64> = row
        .map(|r| r.try_get("", "published_version"))
        .transpose()?
        .flatten();
    let Some(version) = version else {
        return Err(DomainError::invalid_one(
            "/flow",
            "exists",
            format!("{child_flow} is not a published flow"),
        ));
    };
    let child_def = store::definition(txn, batch.backend, &inst.app, child_flow, version).await?;
    let start = child_def["nodes"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|n| n["type"] == "start")
        .and_then(|n| n["id"].as_str())
        .unwrap_or("start")
        .to_owned();
    let ctx = ctx_of(&inst, &data);
    let (form, record) = match node.get("form").and_then(Value::as_str) {
        Some(f) => {
            let id = compute(node.get("record").unwrap_or(&Value::Null), &ctx)
                .ok()
                .and_then(|v| v.as_i64());
            (Some(f.to_owned()), id)
        }
        None => (inst.form.clone(), inst.record_id),
    };
    let mut input = Map::new();
    for (k, v) in node
        .get("input")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        input.insert(
            k.clone(),
            compute(v, &ctx)
                .map_err(|m| DomainError::invalid_one(&format!("/input/{k}"), "value", m))?,
        );
    }
    // `wait: false` starts the child and moves on; `key` keeps one running child
    // per key (a second start with the same key is skipped).
    let wait = node.get("wait") != Some(&Value::Bool(false));
    let key = match node.get("key") {
        Some(k) => Some(
            match compute(k, &ctx).map_err(|m| DomainError::invalid_one("/key", "value", m))? {
                Value::String(s) => s,
                other => other.to_string(),
            },
        ),
        None => None,
    };
    if let Some(k) = &key
        && let Some(running) = txn
            .query_one_raw(batch.stmt(
                "SELECT id FROM flow_instances WHERE app = $1 AND flow = $2 AND correlation = $3 AND status = 'running'",
                vec![inst.app.clone().into(), child_flow.into(), k.clone().into()],
            ))
            .await?
    {
        let running: i64 = running.try_get("", "id")?;
        let detail = json!({"flow": child_flow, "key": k, "running": running});
        if wait {
            // Wait for the one that runs: resumed when it ends, like our own child.
            return Err(DomainError::conflict(
                format!("sub-flow {child_flow} with key {k} is already running (#{running}); only a sub-flow that is not waited for may share a key"),
                vec![],
            ));
        }
        pass_on(txn, batch, &inst, token, &node_id, "subflow_skipped", &actor.user, detail, &single).await?;
        return Ok(());
    }
    let child = store::start_instance(
        txn,
        batch,
        store::NewInstance {
            app: &inst.app,
            flow: child_flow,
            version,
            form: form.as_deref(),
            record_id: record,
            initiator: &inst.initiator,
            start: &start,
            correlation: key.as_deref(),
        },
        &actor,
    )
    .await?;
    let mut vars = json!({"vars": {"input": input}});
    if wait {
        vars["_parent"] =
            json!({"instance": inst.id, "token": token, "node": node_id, "depth": depth});
    }
    txn.execute_raw(batch.stmt(
        "UPDATE flow_instances SET vars = $2 WHERE id = $1",
        vec![child.into(), vars.to_string().into()],
    ))
    .await?;
    let detail = json!({"flow": child_flow, "instance": child, "key": key});
    if wait {
        if let Some(o) = inst.vars.as_object_mut() {
            let list = o.entry("_waits_for").or_insert_with(|| json!([]));
            if let Some(a) = list.as_array_mut() {
                a.push(json!(child));
            }
        }
        save_vars(txn, batch, &inst).await?;
        store::set_token(txn, batch, token, "waiting", None).await?;
        store::step(
            txn,
            batch,
            &inst,
            Some(&node_id),
            "subflow_started",
            &actor.user,
            detail,
        )
        .await?;
    } else {
        pass_on(
            txn,
            batch,
            &inst,
            token,
            &node_id,
            "subflow_started",
            &actor.user,
            detail,
            &single,
        )
        .await?;
    }
    Ok(())
}

/// `set_var` nodes.
pub(super) async fn set_var(at: At<'_>) -> DomainResult<()> {
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
        ..
    } = at;
    let ctx = ctx_of(&inst, &data);
    let name = node
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let expr = node.get("value").unwrap_or(&Value::Null);
    let v = compute(expr, &ctx).map_err(|m| DomainError::invalid_one("/value", "value", m))?;
    let source = crate::flows::mask::source_of(expr, &inst);
    let vars = vars_mut(&mut inst);
    vars.insert(name.clone(), v.clone());
    crate::flows::mask::note_source(vars, &name, source);
    save_vars(txn, batch, &inst).await?;
    pass_on(
        txn,
        batch,
        &inst,
        token,
        &node_id,
        "set",
        &actor.user,
        json!({name: v}),
        &single,
    )
    .await?;
    Ok(())
}
