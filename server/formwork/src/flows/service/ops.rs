//! The writes behind flow definitions and starts: drafts, publishing, webhook secrets
//! and starts, manual starts.

use super::*;

pub(super) struct SaveDraft {
    pub(super) app: String,
    pub(super) key: String,
    pub(super) def: Value,
    pub(super) actor: Actor,
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
            let mut e = crate::flows::log_entry(
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

pub(super) struct Publish {
    pub(super) app: String,
    pub(super) key: String,
    pub(super) def: Value,
    pub(super) actor: Actor,
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
            crate::flows::timers::plan_on_publish(txn, batch, &self.app, &self.key, &trigger)
                .await?;
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
                    crate::flows::log_entry(
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
pub(super) struct HookStart {
    pub(super) app: String,
    pub(super) flow: String,
    pub(super) version: i64,
    pub(super) start: String,
    pub(super) payload: Value,
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
pub(super) struct HookSecret {
    pub(super) app: String,
    pub(super) flow: String,
    pub(super) rotate: bool,
    pub(super) actor: Actor,
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
                        crate::flows::log_entry(
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

pub(super) struct ManualStart {
    pub(super) app: String,
    pub(super) flow: String,
    pub(super) version: i64,
    pub(super) form: String,
    pub(super) record: i64,
    pub(super) start: String,
    pub(super) actor: Actor,
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
