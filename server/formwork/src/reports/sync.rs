//! The report caches kept current: built from the database (pages read while the last is
//! turned into columns), brought up to the operation log's head before each run.

use super::*;

impl ReportService {
    /// `columns` of the records of a form with these ids (deleted ones too).
    pub(super) async fn records_by_id(
        &self,
        app: &str,
        form: &str,
        ids: &[i64],
        columns: &str,
    ) -> DomainResult<Vec<sea_orm::QueryResult>> {
        let list = ids
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {columns} FROM records WHERE {} AND id IN ({list})",
            form_scope(app, form)
        );
        Ok(self.db.query_all(&sql, vec![]).await?)
    }

    pub(super) async fn head(&self) -> DomainResult<i64> {
        let row = self
            .db
            .query_one("SELECT seq FROM oplog_head WHERE id = 1", vec![])
            .await?;
        Ok(row
            .map(|r| r.try_get::<i64>("", "seq"))
            .transpose()?
            .unwrap_or(0))
    }

    /// Bring the caches up to the operation log's head and build the missing ones.
    pub(super) async fn ensure(
        &self,
        app: &str,
        engine: &Engine,
        forms: &AppForms,
        needed: &[String],
    ) -> DomainResult<()> {
        let mut st = self.inner.sync.lock().await;
        let head = self.head().await?;
        if head > st.synced {
            if !st.built.is_empty() {
                self.catch_up(&mut st, head).await?;
            }
            st.synced = head;
        }
        for form in needed {
            let key = format!("{app}/{form}");
            let cols = forms.forms[form].1.clone();
            let fresh = st
                .built
                .get(&key)
                .is_some_and(|c| c.version == cols.version)
                && engine.get(form).is_some();
            if !fresh {
                let cache = self.build(app, form, &cols, engine.tz()).await?;
                engine.install(form, cache);
                st.built.insert(key, cols);
            }
        }
        Ok(())
    }

    /// Apply the log entries after `st.synced` up to `head` to the built caches.
    pub(super) async fn catch_up(&self, st: &mut SyncState, head: i64) -> DomainResult<()> {
        let rows = self
            .db
            .query_all(
                "SELECT app, form, record_id FROM oplog WHERE seq > $1 AND seq <= $2 AND record_id IS NOT NULL AND form IS NOT NULL",
                vec![st.synced.into(), head.into()],
            )
            .await?;
        if rows.len() > REBUILD_AFTER {
            self.forget_all(st);
            return Ok(());
        }
        // The records written, by `app/form`.
        let mut written: HashMap<String, HashSet<i64>> = HashMap::new();
        for r in &rows {
            let app: Option<String> = r.try_get("", "app")?;
            let form: Option<String> = r.try_get("", "form")?;
            let id: i64 = r.try_get("", "record_id")?;
            if let (Some(a), Some(f)) = (app, form) {
                written.entry(format!("{a}/{f}")).or_default().insert(id);
            }
        }
        // Each built cache takes its form's: the form's own cache and the caches of its
        // sub-tables' rows (`app/form#table`).
        let changed: Vec<(String, HashSet<i64>)> = st
            .built
            .keys()
            .filter_map(|key| {
                let ids = written.get(key.split('#').next().unwrap_or(key))?;
                Some((key.clone(), ids.clone()))
            })
            .collect();
        for (key, ids) in changed {
            let (app, name) = key.split_once('/').unwrap_or_default();
            let form = name.split('#').next().unwrap_or_default();
            let cols = st.built[&key].clone();
            let Some(engine) = self
                .inner
                .engines
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get(app)
                .cloned()
            else {
                continue;
            };
            let Some(cache) = engine.get(name) else {
                continue;
            };
            let ids: Vec<i64> = ids.into_iter().collect();
            for chunk in ids.chunks(ID_CHUNK) {
                let found = self
                    .records_by_id(
                        app,
                        form,
                        chunk,
                        "id, data, owner_user, created_by, created_at, updated_by, updated_at, deleted_at",
                    )
                    .await?;
                let mut seen = HashSet::new();
                let mut rows = Vec::new();
                for r in &found {
                    let id: i64 = r.try_get("", "id")?;
                    seen.insert(id);
                    let deleted: Option<String> = r.try_get("", "deleted_at")?;
                    rows.push((
                        id,
                        if deleted.is_some() {
                            None
                        } else {
                            Some(rows_of(self.db.backend, &cols, r)?)
                        },
                    ));
                }
                let mut c = cache.lock().unwrap_or_else(|e| e.into_inner());
                let gone = chunk.iter().filter(|id| !seen.contains(id));
                let changes = rows.into_iter().chain(gone.map(|id| (*id, None)));
                for (id, new) in changes {
                    match (&cols.rows_of, new) {
                        (Some(_), new) => c
                            .replace_rows(id, new.unwrap_or_default())
                            .map_err(from_report_error)?,
                        (None, Some(new)) => {
                            for row in new {
                                c.upsert(row).map_err(from_report_error)?;
                            }
                        }
                        (None, None) => c.remove(id),
                    }
                }
            }
        }
        Ok(())
    }

    pub(super) fn forget_all(&self, st: &mut SyncState) {
        st.built.clear();
        for e in self
            .inner
            .engines
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
        {
            e.forget_all();
        }
    }

    /// Drop every cache (tests: a restart without restarting).
    pub async fn reset(&self) {
        let mut st = self.inner.sync.lock().await;
        self.forget_all(&mut st);
        st.synced = 0;
    }

    /// A form's cache, read from the database in pages: while one page is turned into
    /// columns (on a blocking thread), the next is read.
    pub(super) async fn build(
        &self,
        app: &str,
        form: &str,
        cols: &Arc<Columns>,
        tz: chrono_tz::Tz,
    ) -> DomainResult<FormCache> {
        // (A cache of sub-table rows, `form#table`, reads the form's records.)
        let records_of = form.split('#').next().unwrap_or(form);
        let sql = format!(
            "SELECT id, data, owner_user, created_by, created_at, updated_by, updated_at FROM records WHERE {} AND deleted_at IS NULL AND id > $1 ORDER BY id LIMIT {PAGE}",
            form_scope(app, records_of)
        );
        let backend = self.db.backend;
        let task_failed = |e: tokio::task::JoinError| {
            DomainError::Internal(anyhow::anyhow!("report cache task: {e}"))
        };
        let mut builder =
            formwork_reports::CacheBuilder::new(cols.types(), tz).map_err(from_report_error)?;
        let mut page = self.db.query_all(&sql, vec![0i64.into()]).await?;
        loop {
            let last: Option<i64> = page.last().map(|r| r.try_get("", "id")).transpose()?;
            let more = (page.len() as i64) == PAGE;
            let cols = cols.clone();
            let convert = tokio::task::spawn_blocking(
                move || -> DomainResult<formwork_reports::CacheBuilder> {
                    let rows = page
                        .iter()
                        .map(|r| rows_of(backend, &cols, r))
                        .collect::<DomainResult<Vec<_>>>()?
                        .concat();
                    builder.push(&rows).map_err(from_report_error)?;
                    Ok(builder)
                },
            );
            let next = async {
                match (more, last) {
                    (true, Some(after)) => {
                        self.db.query_all(&sql, vec![after.into()]).await.map(Some)
                    }
                    _ => Ok(None),
                }
            };
            let (converted, next) = tokio::join!(convert, next);
            builder = converted.map_err(task_failed)??;
            match next? {
                Some(p) => page = p,
                None => break,
            }
        }
        tokio::task::spawn_blocking(move || builder.finish())
            .await
            .map_err(task_failed)?
            .map_err(from_report_error)
    }
}

/// A record's rows of cache cells: one, or in a cache of sub-table rows one per row.
pub(super) fn rows_of(
    backend: crate::store::db::Backend,
    cols: &Columns,
    r: &sea_orm::QueryResult,
) -> DomainResult<Vec<Vec<formwork_reports::Cell>>> {
    let id: i64 = r.try_get("", "id")?;
    let sys = |s: &Src| -> Option<String> {
        let col = match s {
            Src::Owner => "owner_user",
            Src::CreatedBy => "created_by",
            Src::CreatedAt => "created_at",
            Src::UpdatedBy => "updated_by",
            Src::UpdatedAt => "updated_at",
            _ => return None,
        };
        r.try_get::<Option<String>>("", col).ok().flatten()
    };
    if backend == crate::store::db::Backend::Sqlite {
        // The stored text, parsed only as far as the columns need (most of a record is
        // long text, sub-tables and file lists no report reads).
        // (Field keys with escapes cannot be borrowed: such a record is parsed whole.)
        let text: String = r.try_get("", "data")?;
        if let Ok(data) = serde_json::from_str::<columns::RawData<'_>>(&text) {
            let row = cols.row_raw(id, &data, &sys);
            return Ok(match &cols.rows_of {
                None => vec![row],
                Some(table) => {
                    let items = data
                        .get(table.as_str())
                        .and_then(|raw| serde_json::from_str(raw.get()).ok())
                        .unwrap_or(Value::Null);
                    cols.rows_of_table(id, row, &items)
                }
            });
        }
    }
    let data = data_of(backend, r)?;
    let row = cols.row(id, &data, &sys);
    Ok(match &cols.rows_of {
        None => vec![row],
        Some(table) => cols.rows_of_table(id, row, &data[table.as_str()]),
    })
}
