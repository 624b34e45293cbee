//! Import and export entry points of the record service (the file handling itself is in
//! `import`, `import_op` and `export`).

use serde_json::{Value, json};

use super::records::{ListQuery, RecordService};
use crate::auth::Caller;
use crate::error::{DomainError, DomainResult};

impl RecordService {
    /// Check (and unless `dry_run`, write) a CSV/XLSX file of records. With errors nothing
    /// is written and every row's problems are reported (`/rows/N/data/field`).
    #[allow(clippy::too_many_arguments)]
    pub async fn import(
        &self,
        app: &str,
        form: &str,
        file: std::path::PathBuf,
        format: super::import::Format,
        dry_run: bool,
        file_name: Option<String>,
        caller: &Caller,
    ) -> DomainResult<Value> {
        let compiled = self.forms.current(app, form).await?;
        let decision = self.auth.decide(caller, app, form).await?;
        decision.require("import")?;
        decision.require("create")?;
        let (today, tz) = self.today_in(app).await?;
        let spool_dir = std::env::temp_dir();
        let form_for_check = compiled.clone();
        let started = std::time::Instant::now();
        let checked = tokio::task::spawn_blocking(move || {
            super::import::check(
                form_for_check,
                format,
                &file,
                &spool_dir,
                (today, tz),
                &decision,
            )
        })
        .await
        .map_err(|e| DomainError::Internal(e.into()))??;
        tracing::info!(
            rows = checked.rows,
            errors = checked.error_count,
            ms = started.elapsed().as_millis() as u64,
            "import checked"
        );
        let report = json!({"rows": checked.rows, "error_count": checked.error_count, "errors": checked.errors});
        if dry_run || checked.error_count > 0 {
            if !dry_run {
                return Err(DomainError::Invalid {
                    message: format!(
                        "{} problems in {} rows; nothing was imported",
                        checked.error_count, checked.rows
                    ),
                    details: checked.errors,
                });
            }
            let mut report = report;
            report["dry_run"] = json!(true);
            return Ok(report);
        }
        let op = super::import_op::ImportRecords {
            form: compiled,
            spool: checked.spool.to_path_buf(),
            actor: caller.actor.clone(),
            today,
            file_name,
            scope: self.write_scope(caller, app, form).await?,
        };
        let started = std::time::Instant::now();
        let out = self.writer.submit(op).await;
        tracing::info!(ms = started.elapsed().as_millis() as u64, "import written");
        drop(checked.spool);
        let out = out?;
        Ok(
            json!({"rows": checked.rows, "imported": out["imported"], "first_id": out["first_id"], "last_id": out["last_id"]}),
        )
    }

    /// Validate an export request and log it; returns the columns.
    pub async fn start_export(
        &self,
        app: &str,
        form: &str,
        q: &ListQuery,
        format: &str,
        caller: &Caller,
    ) -> DomainResult<Vec<String>> {
        let compiled = self.forms.current(app, form).await?;
        let decision = self.auth.decide(caller, app, form).await?;
        decision.require("read")?;
        decision.require("export")?;
        let mut probe = super::export::list_part(q);
        probe.limit = Some(1);
        probe.cursor = None;
        self.list(app, form, &probe, caller).await?;
        let readable = compiled
            .model
            .fields
            .keys()
            .filter(|k| decision.can_read(k))
            .cloned()
            .collect();
        let cols = super::export::columns(readable, &q.fields);
        self.writer
            .submit(super::record_ops::LogOnly(crate::store::oplog::Entry {
                actor: caller.actor.clone(),
                action: "record.export",
                app: Some(app.to_owned()),
                form: Some(form.to_owned()),
                record_id: None,
                before: None,
                after: Some(
                    json!({"format": format, "filter": q.filter, "sort": q.sort, "columns": cols}),
                ),
                reason: None,
            }))
            .await?;
        Ok(cols)
    }
}
