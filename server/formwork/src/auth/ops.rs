//! Identity and policy writes: statements, their operation-log entry and the policy epoch
//! bump, in one transaction of the single writer.

use futures::future::BoxFuture;
use sea_orm::{ConnectionTrait, DatabaseTransaction, Value as SqlValue};
use serde_json::Value;

use crate::error::{DomainError, DomainResult};
use crate::store::oplog::Entry;
use crate::store::writer::{Batch, WriteOp};

pub struct AuthWrite {
    pub stmts: Vec<(String, Vec<SqlValue>)>,
    /// When set, the first statement must change a row, else this is 404 for it.
    pub must_affect: Option<String>,
    pub entry: Option<Entry>,
    /// Bump the policy epoch: every server process reloads rules before its next request.
    pub bump: bool,
    /// The write may revoke or change credentials someone holds (the default), so the
    /// identity generation moves after it (store::generation). Writes that only add —
    /// a new session or token, a failed-login row — leave kept credentials valid.
    pub revokes: bool,
    pub result: Value,
}

impl AuthWrite {
    pub fn new(entry: Entry) -> AuthWrite {
        AuthWrite {
            stmts: vec![],
            must_affect: None,
            entry: Some(entry),
            bump: false,
            revokes: true,
            result: Value::Null,
        }
    }

    /// Mark a write that only adds (see `revokes`).
    pub fn adds_only(mut self) -> Self {
        self.revokes = false;
        self
    }

    pub fn stmt(mut self, sql: &str, values: Vec<SqlValue>) -> Self {
        self.stmts.push((sql.to_owned(), values));
        self
    }
}

impl WriteOp for AuthWrite {
    fn apply<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
        batch: &'a mut Batch,
    ) -> BoxFuture<'a, DomainResult<Value>> {
        Box::pin(async move {
            batch.identity_changed |= self.bump || (self.revokes && !self.stmts.is_empty());
            for (i, (sql, values)) in self.stmts.iter().enumerate() {
                let r = txn.execute_raw(batch.stmt(sql, values.clone())).await?;
                if i == 0
                    && r.rows_affected() == 0
                    && let Some(what) = &self.must_affect
                {
                    return Err(DomainError::NotFound(what.clone()));
                }
            }
            if self.bump {
                txn.execute_raw(batch.stmt(
                    "UPDATE auth_state SET epoch = epoch + 1 WHERE id = 1",
                    vec![],
                ))
                .await?;
            }
            if let Some(e) = &self.entry {
                batch.log(txn, e.clone()).await?;
            }
            Ok(self.result.clone())
        })
    }
}
