//! The writer operations of definitions (apps, drafts, publishing) and the indexes a
//! published form gets.

use futures::future::BoxFuture;
use sea_orm::{ConnectionTrait, DatabaseTransaction};
use serde_json::{Value, json};
use std::sync::Arc;

use super::forms::{definition_param, parse_json};
use crate::error::DomainResult;
use crate::query::sql::data_expr;
use crate::schema::definition::CompiledForm;
use crate::schema::model::JsonType;
use crate::store::db::Backend;
use crate::store::oplog::{Actor, Entry};
use crate::store::records::form_scope;
use crate::store::writer::{Batch, WriteOp};

pub(super) struct PutApp {
    pub(super) key: String,
    pub(super) def: Value,
    pub(super) actor: Actor,
}

impl WriteOp for PutApp {
    fn apply<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
        batch: &'a mut Batch,
    ) -> BoxFuture<'a, DomainResult<Value>> {
        Box::pin(async move {
            let before = txn
                .query_one_raw(batch.stmt(
                    "SELECT definition FROM apps WHERE key = $1",
                    vec![self.key.clone().into()],
                ))
                .await?
                .map(|r| parse_json(batch.backend, &r, "definition"))
                .transpose()?;
            if before.as_ref() == Some(&self.def) {
                return Ok(self.def.clone());
            }
            let sql = if before.is_some() {
                "UPDATE apps SET definition = $2, updated_at = $3 WHERE key = $1"
            } else {
                "INSERT INTO apps (key, definition, created_at, updated_at) VALUES ($1, $2, $3, $3)"
            };
            txn.execute_raw(batch.stmt(
                sql,
                vec![
                    self.key.clone().into(),
                    definition_param(&self.def),
                    batch.now.clone().into(),
                ],
            ))
            .await?;
            batch
                .log(
                    txn,
                    Entry {
                        actor: self.actor.clone(),
                        action: "app.put",
                        app: Some(self.key.clone()),
                        form: None,
                        record_id: None,
                        before,
                        after: Some(self.def.clone()),
                        reason: None,
                    },
                )
                .await?;
            Ok(self.def.clone())
        })
    }
}

pub(super) struct SaveDraft {
    pub(super) app: String,
    pub(super) form: String,
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
                    "SELECT draft FROM forms WHERE app = $1 AND key = $2",
                    vec![self.app.clone().into(), self.form.clone().into()],
                ))
                .await?
                .map(|r| parse_json(batch.backend, &r, "draft"))
                .transpose()?;
            if before.as_ref() == Some(&self.def) {
                return Ok(json!({"saved": false, "draft": self.def}));
            }
            let sql = if before.is_some() {
                "UPDATE forms SET draft = $3, draft_updated_at = $4 WHERE app = $1 AND key = $2"
            } else {
                "INSERT INTO forms (app, key, draft, draft_updated_at, created_at) VALUES ($1, $2, $3, $4, $4)"
            };
            txn.execute_raw(batch.stmt(
                sql,
                vec![
                    self.app.clone().into(),
                    self.form.clone().into(),
                    definition_param(&self.def),
                    batch.now.clone().into(),
                ],
            ))
            .await?;
            batch
                .log(
                    txn,
                    Entry {
                        actor: self.actor.clone(),
                        action: "form.draft",
                        app: Some(self.app.clone()),
                        form: Some(self.form.clone()),
                        record_id: None,
                        before,
                        after: Some(self.def.clone()),
                        reason: None,
                    },
                )
                .await?;
            Ok(json!({"saved": true, "draft": self.def}))
        })
    }
}

pub(super) struct Publish {
    pub(super) compiled: Arc<CompiledForm>,
    pub(super) actor: Actor,
}

impl WriteOp for Publish {
    fn apply<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
        batch: &'a mut Batch,
    ) -> BoxFuture<'a, DomainResult<Value>> {
        Box::pin(async move {
            let c = &self.compiled;
            let latest = txn
                .query_one_raw(batch.stmt(
                    "SELECT version, definition FROM form_versions WHERE app = $1 AND form = $2 ORDER BY version DESC LIMIT 1",
                    vec![c.app.clone().into(), c.key.clone().into()],
                ))
                .await?;
            if let Some(row) = &latest {
                let def = parse_json(batch.backend, row, "definition")?;
                if def == c.definition {
                    let v: i64 = row.try_get("", "version")?;
                    return Ok(json!({"version": v, "published": false}));
                }
            }
            let version = match &latest {
                Some(row) => row.try_get::<i64>("", "version")? + 1,
                None => 1,
            };
            txn.execute_raw(batch.stmt(
                "INSERT INTO form_versions (app, form, version, definition, author, published_at) VALUES ($1, $2, $3, $4, $5, $6)",
                vec![
                    c.app.clone().into(),
                    c.key.clone().into(),
                    version.into(),
                    definition_param(&c.definition),
                    self.actor.user.clone().into(),
                    batch.now.clone().into(),
                ],
            ))
            .await?;
            txn.execute_raw(batch.stmt(
                "UPDATE forms SET published_version = $3 WHERE app = $1 AND key = $2",
                vec![c.app.clone().into(), c.key.clone().into(), version.into()],
            ))
            .await?;
            for ddl in index_ddl(batch.backend, c) {
                txn.execute_unprepared(&ddl).await?;
            }
            batch
                .log(
                    txn,
                    Entry {
                        actor: self.actor.clone(),
                        action: "form.publish",
                        app: Some(c.app.clone()),
                        form: Some(c.key.clone()),
                        record_id: None,
                        before: None,
                        after: Some(json!({"version": version, "definition": c.definition})),
                        reason: None,
                    },
                )
                .await?;
            Ok(json!({"version": version, "published": true}))
        })
    }
}

/// Partial expression indexes for the form's `x-indexed` and `x-unique` fields. The
/// expressions are exactly those the query compiler emits.
pub fn index_ddl(backend: Backend, c: &CompiledForm) -> Vec<String> {
    let scope = form_scope(&c.app, &c.key);
    let mut out = Vec::new();
    for f in c.model.fields.values() {
        if !(f.indexed || f.unique)
            || !matches!(
                f.json_type,
                JsonType::String | JsonType::Number | JsonType::Boolean
            )
        {
            continue;
        }
        let expr = data_expr(backend, std::slice::from_ref(&f.key), f.json_type);
        let name = format!(
            "rx_{}",
            &hex::encode(sha2_short(&format!("{}/{}/{}", c.app, c.key, f.key)))
        );
        if f.indexed {
            // NULLS FIRST: the sort order of lists (PostgreSQL's default is NULLS LAST).
            let nulls = if backend == Backend::Postgres {
                " NULLS FIRST"
            } else {
                ""
            };
            out.push(format!(
                "CREATE INDEX IF NOT EXISTS {name} ON records ({expr}{nulls}, id) WHERE {scope} AND deleted_at IS NULL"
            ));
        }
        if f.unique {
            out.push(format!(
                "CREATE UNIQUE INDEX IF NOT EXISTS u{name} ON records ({expr}) WHERE {scope} AND deleted_at IS NULL"
            ));
        }
        if backend == Backend::Postgres {
            // PostgreSQL keeps no statistics for the expressions of partial indexes; without
            // them it guesses 0.5% selectivity and picks a bitmap scan plus a sort of every
            // match. Expression statistics give it the real distribution.
            out.push(format!(
                "CREATE STATISTICS IF NOT EXISTS s{name} ON ({expr}) FROM records"
            ));
            // And for the type guard of every comparison
            // (`COALESCE(jsonb_typeof(…), '') IN ('string')`, the same text):
            // unknown, it counts as 0.5% selective, so two guarded conditions estimate one
            // row and the planner sorts every match instead of reading the index in order.
            out.push(format!(
                "CREATE STATISTICS IF NOT EXISTS g{name} ON ({}) FROM records",
                crate::query::sql::data_type_expr(backend, std::slice::from_ref(&f.key))
            ));
        }
    }
    // Composite indexes from the definition's `indexes`: equality on the leading fields,
    // order by the next one in either direction (read backwards for descending).
    let nulls = if backend == Backend::Postgres {
        " NULLS FIRST"
    } else {
        ""
    };
    for fields in c
        .definition
        .get("indexes")
        .and_then(serde_json::Value::as_array)
        .into_iter()
        .flatten()
    {
        let keys: Vec<&str> = fields
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(serde_json::Value::as_str)
            .collect();
        let exprs: Option<Vec<String>> = keys
            .iter()
            .map(|k| {
                c.model.field(k).map(|f| {
                    format!(
                        "{}{nulls}",
                        data_expr(backend, std::slice::from_ref(&f.key), f.json_type)
                    )
                })
            })
            .collect();
        let Some(exprs) = exprs else { continue };
        let name = format!(
            "rc_{}",
            hex::encode(sha2_short(&format!(
                "{}/{}/{}",
                c.app,
                c.key,
                keys.join(",")
            )))
        );
        out.push(format!(
            "CREATE INDEX IF NOT EXISTS {name} ON records ({}, id) WHERE {scope} AND deleted_at IS NULL",
            exprs.join(", ")
        ));
    }
    out
}

fn sha2_short(s: &str) -> [u8; 8] {
    use sha2::Digest;
    let d = sha2::Sha256::digest(s.as_bytes());
    let mut out = [0u8; 8];
    out.copy_from_slice(&d[..8]);
    out
}
