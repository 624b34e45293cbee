//! Importing CSV and XLSX into a form: the file is read row by row (streamed from disk),
//! each row converted and validated like any write; errors come back per row and field.
//! Nothing is written unless every row is valid; then all rows are written in one
//! transaction (with their operation-log entries), so an import is never half-applied.

use serde_json::{Map, Value, json};
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;
use std::sync::Arc;

use super::cells::{Cell, read};
use super::prepare::prepare;
use crate::error::{Detail, DomainError, DomainResult};
use crate::schema::definition::{CompiledForm, escape};
use crate::schema::model::FieldSpec;

/// Most errors reported for one import (the count is always exact).
pub const MAX_REPORTED: usize = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
}

impl Format {
    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "csv" => Some(Format::Csv),
            "xlsx" => Some(Format::Xlsx),
            _ => None,
        }
    }
}

/// The outcome of checking a file: valid rows spooled to a JSON-lines file.
pub struct Checked {
    pub rows: usize,
    pub error_count: usize,
    pub errors: Vec<Detail>,
    /// The valid records, one JSON object per line; the file goes when this is dropped.
    pub spool: tempfile::TempPath,
}

/// Match header cells to fields: by key, or by any locale's label.
fn columns(
    form: &CompiledForm,
    header: &[String],
    decision: &crate::auth::Decision,
) -> DomainResult<Vec<Option<FieldSpec>>> {
    let mut out = Vec::with_capacity(header.len());
    let mut details = Vec::new();
    let mut refused = Vec::new();
    for (i, h) in header.iter().enumerate() {
        let h = h.trim().trim_start_matches('\u{feff}');
        if h.is_empty() || h.starts_with('_') {
            // blank headers and system columns (`_id` from an export) are not imported
            out.push(None);
            continue;
        }
        let found = form.model.fields.values().find(|f| {
            f.key == h
                || f.schema
                    .get("x-label")
                    .and_then(Value::as_object)
                    .is_some_and(|m| m.values().any(|l| l.as_str() == Some(h)))
        });
        match found {
            Some(f) if !f.is_server_assigned() && !decision.can_write(&f.key) => {
                refused.push(Detail::new(
                    format!("/columns/{i}"),
                    "field_write",
                    format!("you may not write the field {}", f.key),
                ));
                out.push(None);
            }
            Some(f) => out.push(Some(f.clone())),
            None => {
                details.push(Detail::new(
                    format!("/columns/{i}"),
                    "unknown_field",
                    format!("column {h:?} is not a field of {}", form.key),
                ));
                out.push(None);
            }
        }
    }
    if !refused.is_empty() {
        return Err(DomainError::Forbidden {
            message: format!("{} columns you may not write; see details", refused.len()),
            details: refused,
        });
    }
    if details.is_empty() {
        Ok(out)
    } else {
        Err(DomainError::invalid(details))
    }
}

/// Check every row of `file` and spool the valid records. Runs on a blocking thread.
pub fn check(
    form: Arc<CompiledForm>,
    format: Format,
    file: &Path,
    spool_dir: &Path,
    (today, tz): (chrono::NaiveDate, chrono_tz::Tz),
    decision: &crate::auth::Decision,
) -> DomainResult<Checked> {
    // Removed when dropped: after the import is written, or at once when the file is
    // refused as a whole (unreadable, a column the caller may not write) by any `?` below.
    let (out, spool) = tempfile::Builder::new()
        .prefix("import-")
        .suffix(".jsonl")
        .tempfile_in(spool_dir)
        .map_err(|e| DomainError::Internal(e.into()))?
        .into_parts();
    let mut out = BufWriter::new(out);
    // Sub-table columns the caller may read but not write: empty in every imported row.
    let fixed = form
        .model
        .fields
        .keys()
        .flat_map(|t| {
            decision
                .fixed_columns(t)
                .map(move |c| (t.clone(), c.to_owned()))
        })
        .collect();
    let mut state = State {
        form: &form,
        cols: Vec::new(),
        fixed,
        rows: 0,
        error_count: 0,
        errors: Vec::new(),
        today,
        tz,
    };
    let mut write = |record: &Value| -> DomainResult<()> {
        serde_json::to_writer(&mut out, record).map_err(|e| DomainError::Internal(e.into()))?;
        out.write_all(b"\n")
            .map_err(|e| DomainError::Internal(e.into()))
    };
    match format {
        Format::Csv => {
            let mut rdr = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_path(file)
                .map_err(bad_file)?;
            let mut first = true;
            // Rows are checked in batches on two threads (numbered first, so errors keep
            // their row numbers), and written to the spool in order.
            let mut batch: Vec<(usize, Vec<Cell>)> = Vec::with_capacity(BATCH);
            for rec in rdr.records() {
                let rec = rec.map_err(bad_file)?;
                if first {
                    state.cols = columns(
                        &form,
                        &rec.iter().map(str::to_owned).collect::<Vec<_>>(),
                        decision,
                    )?;
                    first = false;
                    continue;
                }
                let cells: Vec<Cell> = rec.iter().map(|c| Cell::Text(c.to_owned())).collect();
                if blank(&cells) {
                    continue;
                }
                state.rows += 1;
                batch.push((state.rows, cells));
                if batch.len() == BATCH {
                    check_batch(&mut state, std::mem::take(&mut batch), &mut write)?;
                }
            }
            check_batch(&mut state, batch, &mut write)?;
        }
        Format::Xlsx => {
            // Streamed cell by cell (the sheet is never held whole in memory).
            use calamine::{DataRef, Reader, Xlsx, open_workbook};
            let mut wb: Xlsx<_> = open_workbook(file).map_err(bad_file)?;
            let name =
                wb.sheet_names().first().cloned().ok_or_else(|| {
                    DomainError::invalid_one("", "file", "the workbook has no sheet")
                })?;
            let mut cells = wb.worksheet_cells_reader(&name).map_err(bad_file)?;
            let mut current: Option<u32> = None;
            let mut row: Vec<Cell> = Vec::new();
            let mut header_done = false;
            let mut flush =
                |row: Vec<Cell>, state: &mut State, header_done: &mut bool| -> DomainResult<()> {
                    if !*header_done {
                        let names = row
                            .iter()
                            .map(|c| match c {
                                Cell::Text(t) => t.clone(),
                                Cell::Number(n) => n.to_string(),
                                Cell::Bool(b) => b.to_string(),
                                Cell::Empty => String::new(),
                            })
                            .collect::<Vec<_>>();
                        state.cols = columns(&form, &names, decision)?;
                        *header_done = true;
                        Ok(())
                    } else {
                        if let Some(record) = state.row(row)? {
                            write(&record)?;
                        }
                        Ok(())
                    }
                };
            while let Some(cell) = cells.next_cell().map_err(bad_file)? {
                let (r, c) = cell.get_position();
                if current != Some(r) {
                    if current.is_some() {
                        flush(std::mem::take(&mut row), &mut state, &mut header_done)?;
                    }
                    current = Some(r);
                }
                let value = match cell.get_value() {
                    DataRef::Empty => Cell::Empty,
                    DataRef::String(s) => Cell::Text(s.clone()),
                    DataRef::SharedString(s) => Cell::Text((*s).to_owned()),
                    DataRef::Float(f) => Cell::Number(*f),
                    DataRef::Int(i) => Cell::Number(*i as f64),
                    DataRef::Bool(b) => Cell::Bool(*b),
                    DataRef::DateTime(d) => match d.as_datetime() {
                        Some(dt) if dt.time() == chrono::NaiveTime::MIN => {
                            Cell::Text(dt.format("%Y-%m-%d").to_string())
                        }
                        Some(dt) => Cell::Text(dt.format("%Y-%m-%dT%H:%M:%S").to_string()),
                        None => Cell::Text(d.to_string()),
                    },
                    DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => Cell::Text(s.clone()),
                    DataRef::Error(e) => Cell::Text(e.to_string()),
                };
                let c = c as usize;
                if row.len() < c {
                    row.resize(c, Cell::Empty);
                }
                row.push(value);
            }
            if current.is_some() {
                flush(row, &mut state, &mut header_done)?;
            }
        }
    }
    out.flush().map_err(|e| DomainError::Internal(e.into()))?;
    Ok(Checked {
        rows: state.rows,
        error_count: state.error_count,
        errors: state.errors,
        spool,
    })
}

fn bad_file(e: impl std::fmt::Display) -> DomainError {
    DomainError::invalid_one("", "file", format!("the file cannot be read: {e}"))
}

struct State<'a> {
    form: &'a CompiledForm,
    cols: Vec<Option<FieldSpec>>,
    /// (sub-table, column) the caller may not write.
    fixed: Vec<(String, String)>,
    rows: usize,
    error_count: usize,
    errors: Vec<Detail>,
    today: chrono::NaiveDate,
    /// The app's time zone (date-times are written in it).
    tz: chrono_tz::Tz,
}

/// Rows checked together on two threads.
const BATCH: usize = 2048;

/// A row with nothing in it (skipped, not counted).
fn blank(cells: &[Cell]) -> bool {
    cells
        .iter()
        .all(|c| matches!(c, Cell::Empty) || matches!(c, Cell::Text(t) if t.trim().is_empty()))
}

/// Check numbered rows, half of them on a second thread, then keep the results in order:
/// valid records to `write`, problems to the state's errors.
fn check_batch(
    state: &mut State,
    mut batch: Vec<(usize, Vec<Cell>)>,
    write: &mut dyn FnMut(&Value) -> DomainResult<()>,
) -> DomainResult<()> {
    let checked: Vec<DomainResult<Result<Value, Vec<Detail>>>> = {
        let st: &State = state;
        let run = |rows: &mut [(usize, Vec<Cell>)]| -> Vec<_> {
            rows.iter_mut()
                .map(|(n, cells)| st.convert(*n, std::mem::take(cells)))
                .collect()
        };
        if batch.len() < 64 {
            run(&mut batch)
        } else {
            let half = batch.len() / 2;
            let (a, b) = batch.split_at_mut(half);
            std::thread::scope(|scope| {
                let other = scope.spawn(|| run(b));
                let mut first = run(a);
                match other.join() {
                    Ok(rest) => {
                        first.extend(rest);
                        first
                    }
                    Err(_) => vec![Err(DomainError::Internal(anyhow::anyhow!(
                        "an import check thread panicked"
                    )))],
                }
            })
        }
    };
    for r in checked {
        match r? {
            Ok(record) => write(&record)?,
            Err(bad) => state.note(bad),
        }
    }
    Ok(())
}

impl State<'_> {
    /// Convert and validate one row; a valid row's record (`{"data": …}` plus serial fields
    /// to number) is returned.
    fn row(&mut self, cells: Vec<Cell>) -> DomainResult<Option<Value>> {
        if blank(&cells) {
            return Ok(None);
        }
        self.rows += 1;
        match self.convert(self.rows, cells)? {
            Ok(record) => Ok(Some(record)),
            Err(bad) => {
                self.note(bad);
                Ok(None)
            }
        }
    }

    /// Count a row's problems, and keep them up to `MAX_REPORTED`.
    fn note(&mut self, bad: Vec<Detail>) {
        self.error_count += bad.len();
        let room = MAX_REPORTED.saturating_sub(self.errors.len());
        self.errors.extend(bad.into_iter().take(room));
    }

    /// Row `row_no` (counted without blank rows) as a record, or its problems.
    fn convert(&self, row_no: usize, cells: Vec<Cell>) -> DomainResult<Result<Value, Vec<Detail>>> {
        let mut data = Map::new();
        let mut bad = Vec::new();
        for (i, cell) in cells.into_iter().enumerate() {
            let Some(Some(field)) = self.cols.get(i) else {
                continue;
            };
            match read(field, cell) {
                Ok(Some(v)) => {
                    data.insert(field.key.clone(), v);
                }
                Ok(None) => {}
                Err(m) => bad.push(Detail::new(
                    format!("/rows/{row_no}/data/{}", escape(&field.key)),
                    "cell",
                    m,
                )),
            }
        }
        for (table, column) in &self.fixed {
            let Some(Value::Array(rows)) = data.get(table) else {
                continue;
            };
            for (i, row) in rows.iter().enumerate() {
                if row.get(column).is_some_and(|v| !v.is_null()) {
                    bad.push(Detail::new(
                        format!(
                            "/rows/{row_no}/data/{}/{i}/{}",
                            escape(table),
                            escape(column)
                        ),
                        "field_write",
                        format!("you may not write the field {table}.{column}"),
                    ));
                }
            }
        }
        let mut data = Value::Object(data);
        if bad.is_empty() {
            match prepare(
                self.form,
                &mut data,
                None,
                self.today,
                self.tz,
                &format!("/rows/{row_no}"),
            ) {
                Ok(serials) => {
                    return Ok(Ok(
                        json!({"data": data, "serials": serials.iter().map(|(k, _)| k).collect::<Vec<_>>()}),
                    ));
                }
                Err(DomainError::Invalid { details, .. }) => bad = details,
                Err(other) => return Err(other),
            }
        }
        Ok(Err(bad))
    }
}

/// Read spooled records back, in order.
pub fn read_spool(path: &Path) -> std::io::Result<impl Iterator<Item = std::io::Result<Value>>> {
    let f = std::fs::File::open(path)?;
    Ok(BufReader::new(f)
        .lines()
        .map(|l| l.and_then(|l| serde_json::from_str(&l).map_err(std::io::Error::other))))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn form() -> Arc<CompiledForm> {
        crate::schema::definition::compile(
            "ops",
            1,
            &json!({"key": "ticket", "label": {"en": "Ticket"}, "schema": {"type": "object", "properties": {
                "title": {"type": "string", "x-type": "text", "x-label": {"en": "Title"}}}}}),
        )
        .unwrap()
    }

    /// A form with a number field, to have rows that fail.
    fn numbered() -> Arc<CompiledForm> {
        crate::schema::definition::compile(
            "ops",
            1,
            &json!({"key": "ticket", "label": {"en": "Ticket"}, "schema": {"type": "object", "required": ["title"], "properties": {
                "title": {"type": "string", "x-type": "text", "x-label": {"en": "Title"}},
                "n": {"type": "integer", "x-type": "integer", "x-label": {"en": "N"}}}}}),
        )
        .unwrap()
    }

    /// Rows checked in batches on two threads come out as one thread would give them: the
    /// valid ones in file order, errors numbered by row (blank rows not counted).
    #[test]
    fn batched_checking_keeps_order_and_row_numbers() {
        let files = tempfile::tempdir().unwrap();
        let spool_dir = tempfile::tempdir().unwrap();
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        let decision = crate::auth::Decision::full("ticket");
        let mut csv = String::from("title,n\n");
        let (mut row, mut bad_rows) = (0, Vec::new());
        for i in 0..5000 {
            if i % 997 == 0 {
                csv.push_str(",\n"); // blank: skipped, not counted
                continue;
            }
            row += 1;
            if i % 1301 == 7 {
                csv.push_str(&format!("t{i},not a number\n"));
                bad_rows.push(row);
            } else {
                csv.push_str(&format!("t{i},{i}\n"));
            }
        }
        let file = files.path().join("many.csv");
        std::fs::write(&file, csv).unwrap();
        let checked = check(
            numbered(),
            Format::Csv,
            &file,
            spool_dir.path(),
            (today, chrono_tz::UTC),
            &decision,
        )
        .unwrap();
        assert_eq!(checked.rows, row);
        assert_eq!(checked.error_count, bad_rows.len());
        let pointers: Vec<String> = checked.errors.iter().map(|d| d.pointer.clone()).collect();
        let expected: Vec<String> = bad_rows
            .iter()
            .map(|r| format!("/rows/{r}/data/n"))
            .collect();
        assert_eq!(pointers, expected);
        let ns: Vec<i64> = read_spool(&checked.spool)
            .unwrap()
            .map(|r| r.unwrap()["data"]["n"].as_i64().unwrap())
            .collect();
        let want: Vec<i64> = (0..5000i64)
            .filter(|i| i % 997 != 0 && i % 1301 != 7)
            .collect();
        assert_eq!(ns, want, "valid records in file order");
    }

    fn spooled(dir: &Path) -> usize {
        std::fs::read_dir(dir).unwrap().count()
    }

    #[test]
    fn the_spool_goes_with_the_check_whether_the_file_is_refused_or_imported() {
        let files = tempfile::tempdir().unwrap();
        let spool_dir = tempfile::tempdir().unwrap();
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        let decision = crate::auth::Decision::full("ticket");
        // A column no field matches: the whole file is refused, and nothing stays behind.
        let bad = files.path().join("bad.csv");
        std::fs::write(&bad, "title,nonsense\nA,B\n").unwrap();
        let err = check(
            form(),
            Format::Csv,
            &bad,
            spool_dir.path(),
            (today, chrono_tz::UTC),
            &decision,
        );
        assert!(err.is_err());
        assert_eq!(
            spooled(spool_dir.path()),
            0,
            "a refused file leaves no spool"
        );
        // A good file: the spool holds the valid record until the check is dropped.
        let good = files.path().join("good.csv");
        std::fs::write(&good, "title\nA\n").unwrap();
        let checked = check(
            form(),
            Format::Csv,
            &good,
            spool_dir.path(),
            (today, chrono_tz::UTC),
            &decision,
        )
        .unwrap();
        assert_eq!((checked.rows, checked.error_count), (1, 0));
        assert_eq!(spooled(spool_dir.path()), 1);
        assert_eq!(read_spool(&checked.spool).unwrap().count(), 1);
        drop(checked);
        assert_eq!(
            spooled(spool_dir.path()),
            0,
            "the spool goes with the check"
        );
    }
}
