//! Keeping the query planner informed: statistics (`ANALYZE`) after indexes are created,
//! when many records were added since the last run, and periodically, so that filters use
//! the per-form expression indexes. (Without fresh statistics SQLite walks the whole form
//! in id order for a selective two-field filter: 10 ms instead of 0.15 ms at 1M rows.)

use futures::future::BoxFuture;
use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, Statement};
use serde_json::Value;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::db::Backend;
use super::writer::{Batch, WriteOp, Writer};
use crate::error::DomainResult;

/// How often statistics are refreshed at least (when anything was written).
pub const INTERVAL: Duration = Duration::from_secs(300);

/// How often the record count is looked at.
const CHECK: Duration = Duration::from_secs(5);

/// Records inserted by this process (all stores), counted by the insert paths.
pub static INSERTED: AtomicU64 = AtomicU64::new(0);

pub fn count_inserted(n: usize) {
    INSERTED.fetch_add(n as u64, Ordering::Relaxed);
}

/// Refresh planner statistics. On SQLite the analysis is bounded (`analysis_limit`), so it
/// takes a fraction of a second even on millions of rows.
pub struct Analyze;

impl WriteOp for Analyze {
    fn apply<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
        batch: &'a mut Batch,
    ) -> BoxFuture<'a, DomainResult<Value>> {
        Box::pin(async move {
            match batch.backend {
                // The limit reads the first N entries of each index, not a random
                // sample: at 1000 an index sorted by a 20-value field showed one value
                // and the planner walked the whole form (14 ms instead of 0.1 ms at 1M
                // rows). 100,000 entries take about 0.3 s at 1M rows.
                Backend::Sqlite => {
                    txn.execute_unprepared("PRAGMA analysis_limit = 100000; ANALYZE")
                        .await?;
                    if let Some(stat) = form_scan_stat(txn).await? {
                        PriceFormScans(stat).apply(txn, batch).await?;
                    }
                }
                Backend::Postgres => {
                    txn.execute_unprepared("ANALYZE records").await?;
                }
            }
            Ok(Value::Null)
        })
    }
}

/// Whether this SQLite file holds planner statistics for the records table already.
async fn has_statistics(db: &super::db::Db) -> bool {
    // Before the first ANALYZE there is no sqlite_stat1 table: the query fails, and the
    // answer is no.
    matches!(
        db.query_one(
            "SELECT 1 AS present FROM sqlite_stat1 WHERE tbl = 'records' AND idx = 'records_by_form'",
            vec![],
        )
        .await,
        Ok(Some(_))
    )
}

/// SQLite's statistics for `records_by_form (app, form, deleted_at, id)` give the *average*
/// number of rows per form, and from a bounded sample at that. With one big form among
/// small ones (a million service orders, a few hundred hospitals) that average makes a walk
/// of the whole form in id order look cheaper than a field's own index: a page filtered by
/// `status` and sorted by `-_id` took 0.65 ms walking the form instead of 0.05 ms on the
/// status index, at 1M rows. The per-field indexes are partial (one form each), so their
/// own statistics are right. So a form walk is priced as the largest form's: counted
/// exactly, from the index itself, and written over the sampled row ([`PriceFormScans`]).
/// `None` when there are no records.
async fn form_scan_stat(conn: &impl ConnectionTrait) -> DomainResult<Option<String>> {
    let row = conn
        .query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            "WITH per_form AS ( \
                 SELECT app, count(*) AS n, count(*) FILTER (WHERE deleted_at IS NULL) AS live \
                 FROM records GROUP BY app, form) \
             SELECT sum(n) AS total, \
                    (SELECT max(n) FROM (SELECT sum(n) AS n FROM per_form GROUP BY app)) AS per_app, \
                    max(n) AS per_form, max(live) AS per_live_form \
             FROM per_form",
        ))
        .await?;
    let Some(row) = row else { return Ok(None) };
    let count = |col: &str| -> DomainResult<i64> {
        Ok(row.try_get::<Option<i64>>("", col)?.unwrap_or(0).max(1))
    };
    let total: i64 = row.try_get::<Option<i64>>("", "total")?.unwrap_or(0);
    if total == 0 {
        return Ok(None);
    }
    Ok(Some(format!(
        "{total} {} {} {} 1",
        count("per_app")?,
        count("per_form")?,
        count("per_live_form")?
    )))
}

/// Write the form-walk price ([`form_scan_stat`]) over SQLite's sampled row and load it
/// into the writer's planner; readers load it when they are renewed.
pub struct PriceFormScans(pub String);

impl WriteOp for PriceFormScans {
    fn apply<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
        _batch: &'a mut Batch,
    ) -> BoxFuture<'a, DomainResult<Value>> {
        Box::pin(async move {
            txn.execute_raw(Statement::from_sql_and_values(
                DbBackend::Sqlite,
                "UPDATE sqlite_stat1 SET stat = ? WHERE tbl = 'records' AND idx = 'records_by_form'",
                [self.0.clone().into()],
            ))
            .await?;
            txn.execute_unprepared("ANALYZE sqlite_schema").await?;
            Ok(Value::Null)
        })
    }
}

/// Run [`Analyze`] now, again whenever the records inserted since the last run reach 10,000
/// or a fifth of all inserted so far, and at least every [`INTERVAL`] while anything is
/// inserted, until the writer stops.
pub fn start(writer: Writer, db: super::db::Db) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(CHECK);
        // Statistics live in the SQLite file: when it has them, a start does not redo them
        // (on a big file, after a restart, the bounded ANALYZE read cold index pages while
        // the report caches loaded: 36 s in the writer at 1M rows, stalling every write).
        // Only the form-walk price is refreshed, counted on a reader.
        let mut last_count: Option<u64> = None;
        let mut last_at = tokio::time::Instant::now();
        if db.backend == Backend::Sqlite && has_statistics(&db).await {
            last_count = Some(INSERTED.load(Ordering::Relaxed));
            let priced = match form_scan_stat(&db.read).await {
                Ok(Some(stat)) => writer.submit(PriceFormScans(stat)).await.map(|_| ()),
                Ok(None) => Ok(()),
                Err(e) => Err(e),
            };
            if let Err(e) = priced {
                tracing::warn!(error = %e, "pricing form walks for the planner failed");
            }
        }
        loop {
            tick.tick().await;
            let now = INSERTED.load(Ordering::Relaxed);
            let due = match last_count {
                None => true,
                Some(before) => {
                    let grown = now.saturating_sub(before);
                    grown >= 10_000.max(now / 5) || (grown > 0 && last_at.elapsed() >= INTERVAL)
                }
            };
            if !due {
                continue;
            }
            last_count = Some(now);
            last_at = tokio::time::Instant::now();
            // SQLite writes its statistics table: through the single writer. PostgreSQL's
            // ANALYZE takes a second on millions of rows and needs no write lock: beside it.
            let result = match db.backend {
                Backend::Sqlite => writer.submit(Analyze).await.map(|_| ()),
                Backend::Postgres => db
                    .write
                    .execute_unprepared("ANALYZE records")
                    .await
                    .map(|_| ())
                    .map_err(crate::error::DomainError::from),
            };
            if let Err(e) = result {
                tracing::warn!(error = %e, "refreshing planner statistics failed");
                if matches!(e, crate::error::DomainError::Unavailable(_)) && writer.is_closed() {
                    return;
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{DatabaseSettings, SecretUrl};
    use crate::store::db::Db;

    async fn plan(db: &Db, sql: &str) -> String {
        let rows = db
            .write
            .query_all_raw(Statement::from_string(
                DbBackend::Sqlite,
                format!("EXPLAIN QUERY PLAN {sql}"),
            ))
            .await
            .unwrap();
        rows.iter()
            .map(|r| r.try_get::<String>("", "detail").unwrap())
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// One big form among many small ones: the page filtered by an indexed field and sorted
    /// by id takes the field's index, not a walk of the whole form. (With SQLite's own
    /// statistics the average form looks small and the planner walks `records_by_form`.)
    #[tokio::test]
    async fn a_filtered_page_of_the_big_form_uses_the_fields_index_after_analyze() {
        let dir = tempfile::tempdir().unwrap();
        let settings = DatabaseSettings {
            url: SecretUrl::new(format!("sqlite://{}", dir.path().join("t.db").display())),
            pool_size: 1,
            max_batch: 16,
            busy_timeout: 10_000,
        };
        let db = Db::connect(&settings).await.unwrap();
        crate::store::migrate::run(&db).await.unwrap();
        let insert = |form: String, count: usize| {
            let db = db.clone();
            async move {
                db.write
                    .execute_unprepared(&format!(
                        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {count}) \
                         INSERT INTO records (app, form, form_version, data, created_by, created_at, updated_by, updated_at) \
                         SELECT 'ops', '{form}', 1, json_object('status', CASE i % 2 WHEN 0 THEN 'open' ELSE 'done' END), \
                                'a', '2026-01-01', 'a', '2026-01-01' FROM n"
                    ))
                    .await
                    .unwrap();
            }
        };
        insert("big".into(), 4000).await;
        for i in 0..40 {
            insert(format!("small{i}"), 10).await;
        }
        db.write
            .execute_unprepared(
                "CREATE INDEX big_status ON records (json_extract(data, '$.status'), id) \
                 WHERE app = 'ops' AND form = 'big' AND deleted_at IS NULL",
            )
            .await
            .unwrap();
        let (writer, task) = crate::store::writer::Writer::start(db.clone(), 16);
        writer.submit(Analyze).await.unwrap();
        let page = "SELECT id FROM records WHERE app = 'ops' AND form = 'big' AND deleted_at IS NULL \
                    AND json_extract(data, '$.status') IS 'open' ORDER BY id DESC LIMIT 51";
        let chosen = plan(&db, page).await;
        assert!(chosen.contains("big_status"), "plan: {chosen}");
        assert_eq!(stat(&db, "records_by_form").await, "4400 4400 4000 4000 1");

        // A file whose statistics predate the price (SQLite's own average per form): a
        // start prices form walks again, without a new ANALYZE.
        db.write
            .execute_unprepared(
                "UPDATE sqlite_stat1 SET stat = '4400 4400 107 107 1' WHERE idx = 'records_by_form'; \
                 UPDATE sqlite_stat1 SET stat = '2000 7 1' WHERE idx = 'big_status'",
            )
            .await
            .unwrap();
        let maintenance = start(writer.clone(), db.clone());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while stat(&db, "records_by_form").await != "4400 4400 4000 4000 1" {
            assert!(
                std::time::Instant::now() < deadline,
                "the start did not price form walks"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        maintenance.abort();
        assert_eq!(
            stat(&db, "big_status").await,
            "2000 7 1",
            "no ANALYZE at the start"
        );
        drop(writer);
        task.await.unwrap();
    }

    async fn stat(db: &Db, index: &str) -> String {
        db.write
            .query_one_raw(Statement::from_sql_and_values(
                DbBackend::Sqlite,
                "SELECT stat FROM sqlite_stat1 WHERE idx = ?",
                [index.into()],
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get("", "stat")
            .unwrap()
    }
}
