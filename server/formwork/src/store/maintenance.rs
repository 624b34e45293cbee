//! Keeping the query planner informed: statistics (`ANALYZE`) after indexes are created
//! and periodically, so that filters use the per-form expression indexes.

use futures::future::BoxFuture;
use sea_orm::{ConnectionTrait, DatabaseTransaction};
use serde_json::Value;
use std::time::Duration;

use super::db::Backend;
use super::writer::{Batch, WriteOp, Writer};
use crate::error::DomainResult;

/// How often statistics are refreshed.
pub const INTERVAL: Duration = Duration::from_secs(300);

/// Refresh planner statistics. On SQLite the analysis samples (`analysis_limit`), so it
/// takes milliseconds even on millions of rows.
pub struct Analyze;

impl WriteOp for Analyze {
    fn apply<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
        batch: &'a mut Batch,
    ) -> BoxFuture<'a, DomainResult<Value>> {
        Box::pin(async move {
            let sql = match batch.backend {
                Backend::Sqlite => "PRAGMA analysis_limit = 1000; ANALYZE",
                Backend::Postgres => "ANALYZE records",
            };
            txn.execute_unprepared(sql).await?;
            Ok(Value::Null)
        })
    }
}

/// Run [`Analyze`] now and then every [`INTERVAL`] until the writer stops.
pub fn start(writer: Writer) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(INTERVAL);
        loop {
            tick.tick().await;
            if let Err(e) = writer.submit(Analyze).await {
                tracing::warn!(error = %e, "refreshing planner statistics failed");
                if matches!(e, crate::error::DomainError::Unavailable(_)) && writer.is_closed() {
                    return;
                }
            }
        }
    })
}
