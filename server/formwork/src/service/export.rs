//! Exporting a form's records (under a list query) as CSV (streamed) or XLSX, with
//! spreadsheet-formula injection neutralised in every text cell.

use axum::body::Bytes;
use serde_json::Value;
use tokio::sync::mpsc;

use super::cells::{neutralise, to_text};
use super::records::{ListQuery, RecordService};
use crate::auth::Caller;
use crate::error::{DomainError, DomainResult};

const PAGE: usize = 1000;

/// The columns of an export: `_id`, then the chosen (or all) fields. The chosen ones may
/// include system columns (`_created_at`, `_owner`, … — every record carries them).
pub fn columns(all: Vec<String>, chosen: &Option<Vec<String>>) -> Vec<String> {
    let mut cols = vec!["_id".to_owned()];
    for c in chosen.clone().unwrap_or(all) {
        if !cols.contains(&c) {
            cols.push(c);
        }
    }
    cols
}

fn is_system(col: &str) -> bool {
    crate::query::fields::SysCol::parse(col).is_some()
}

/// The list query an export pages with: its chosen form fields only (the list API's
/// `fields` names form fields; system columns come with every record).
pub fn list_part(q: &ListQuery) -> ListQuery {
    let mut q = q.clone();
    if let Some(f) = &mut q.fields {
        f.retain(|c| !is_system(c));
        if f.is_empty() {
            q.fields = None;
        }
    }
    q
}

fn cell(record: &Value, col: &str) -> Value {
    if col == "_id" {
        record["id"].clone()
    } else if is_system(col) {
        // `_created_at` is the record's `created_at`.
        record[&col[1..]].clone()
    } else {
        record["data"].get(col).cloned().unwrap_or(Value::Null)
    }
}

/// Page through every matching record, handing each page to `f`.
async fn each_page(
    svc: &RecordService,
    app: &str,
    form: &str,
    q: &ListQuery,
    caller: &Caller,
    mut f: impl FnMut(&[Value]) -> DomainResult<()>,
) -> DomainResult<()> {
    let mut q = q.clone();
    q.limit = Some(PAGE);
    q.total = false;
    q.expand.clear();
    loop {
        let page = svc.list(app, form, &q, caller).await?;
        f(page["items"].as_array().map(Vec::as_slice).unwrap_or(&[]))?;
        match page["next_cursor"].as_str() {
            Some(c) => q.cursor = Some(c.to_owned()),
            None => return Ok(()),
        }
    }
}

/// CSV as a stream of chunks; an error after the first chunk ends the stream early (logged).
pub fn csv_stream(
    svc: RecordService,
    app: String,
    form: String,
    q: ListQuery,
    cols: Vec<String>,
    caller: Caller,
) -> mpsc::Receiver<Result<Bytes, std::io::Error>> {
    let (tx, rx) = mpsc::channel(4);
    tokio::spawn(async move {
        let mut header = csv::Writer::from_writer(Vec::new());
        let _ = header.write_record(cols.iter().map(|c| neutralise(c)));
        let first = header.into_inner().unwrap_or_default();
        let mut bom = "\u{feff}".as_bytes().to_vec();
        bom.extend(first);
        if tx.send(Ok(Bytes::from(bom))).await.is_err() {
            return;
        }
        let result = async {
            let mut q = q;
            q.limit = Some(PAGE);
            q.total = false;
            q.expand.clear();
            loop {
                let page = svc.list(&app, &form, &q, &caller).await?;
                let mut w = csv::Writer::from_writer(Vec::new());
                for r in page["items"].as_array().map(Vec::as_slice).unwrap_or(&[]) {
                    w.write_record(cols.iter().map(|c| to_text(&cell(r, c))))
                        .map_err(|e| DomainError::Internal(e.into()))?;
                }
                let chunk = w
                    .into_inner()
                    .map_err(|e| DomainError::Internal(anyhow::anyhow!(e.to_string())))?;
                if tx.send(Ok(Bytes::from(chunk))).await.is_err() {
                    return Ok(());
                }
                match page["next_cursor"].as_str() {
                    Some(c) => q.cursor = Some(c.to_owned()),
                    None => return Ok::<(), DomainError>(()),
                }
            }
        }
        .await;
        if let Err(e) = result {
            tracing::warn!(error = %e, "export stopped early");
            let _ = tx.send(Err(std::io::Error::other(e.to_string()))).await;
        }
    });
    rx
}

/// The whole export as one XLSX workbook.
pub async fn xlsx(
    svc: &RecordService,
    app: &str,
    form: &str,
    q: &ListQuery,
    cols: &[String],
    caller: &Caller,
) -> DomainResult<Vec<u8>> {
    let internal =
        |e: rust_xlsxwriter::XlsxError| DomainError::Internal(anyhow::anyhow!(e.to_string()));
    let mut wb = rust_xlsxwriter::Workbook::new();
    let sheet = wb.add_worksheet_with_constant_memory().map_err(internal)?;
    for (c, name) in cols.iter().enumerate() {
        sheet
            .write_string(0, c as u16, neutralise(name))
            .map_err(internal)?;
    }
    let mut row = 1u32;
    let mut failure = None;
    each_page(svc, app, form, q, caller, |items| {
        for r in items {
            for (c, col) in cols.iter().enumerate() {
                let v = cell(r, col);
                let res = match &v {
                    Value::Null => Ok(&mut *sheet),
                    Value::Number(n) => {
                        sheet.write_number(row, c as u16, n.as_f64().unwrap_or(0.0))
                    }
                    Value::Bool(b) => sheet.write_boolean(row, c as u16, *b),
                    _ => sheet.write_string(row, c as u16, to_text(&v)),
                };
                if let Err(e) = res {
                    failure = Some(e);
                }
            }
            row += 1;
        }
        Ok(())
    })
    .await?;
    if let Some(e) = failure {
        return Err(internal(e));
    }
    wb.save_to_buffer().map_err(internal)
}
