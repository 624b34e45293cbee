//! SQL for the `records` table: one row per record, its data a JSON document.

use sea_orm::{ConnectionTrait, DbErr, QueryResult, Statement, Value as SqlValue};
use serde_json::{Value, json};

use super::db::Backend;

/// A record row as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordRow {
    pub id: i64,
    pub form_version: i64,
    pub data: Value,
    pub owner_user: Option<String>,
    pub owner_dept: Option<String>,
    pub created_by: String,
    pub created_at: String,
    pub updated_by: String,
    pub updated_at: String,
    pub row_version: i64,
    pub deleted_at: Option<String>,
}

pub const COLUMNS: &str = "id, form_version, data, owner_user, owner_dept, created_by, created_at, updated_by, updated_at, row_version, deleted_at";

/// The `data` column of a records row: JSON text on SQLite, JSONB on PostgreSQL.
pub fn data_of(backend: Backend, row: &QueryResult) -> Result<Value, DbErr> {
    match backend {
        Backend::Sqlite => {
            let text: String = row.try_get("", "data")?;
            serde_json::from_str(&text).map_err(|e| DbErr::Json(e.to_string()))
        }
        Backend::Postgres => row.try_get("", "data"),
    }
}

impl RecordRow {
    pub fn from_row(backend: Backend, row: &QueryResult) -> Result<RecordRow, DbErr> {
        let data = data_of(backend, row)?;
        Ok(RecordRow {
            id: row.try_get("", "id")?,
            form_version: row.try_get("", "form_version")?,
            data,
            owner_user: row.try_get("", "owner_user")?,
            owner_dept: row.try_get("", "owner_dept")?,
            created_by: row.try_get("", "created_by")?,
            created_at: row.try_get("", "created_at")?,
            updated_by: row.try_get("", "updated_by")?,
            updated_at: row.try_get("", "updated_at")?,
            row_version: row.try_get("", "row_version")?,
            deleted_at: row.try_get("", "deleted_at")?,
        })
    }

    /// The API representation: system fields beside `data`.
    pub fn to_api(&self) -> Value {
        let mut v = json!({
            "id": self.id,
            "form_version": self.form_version,
            "row_version": self.row_version,
            "created_at": self.created_at,
            "created_by": self.created_by,
            "updated_at": self.updated_at,
            "updated_by": self.updated_by,
            "owner": self.owner_user,
            "data": self.data,
        });
        if let Some(d) = &self.deleted_at {
            v["deleted_at"] = json!(d);
        }
        v
    }

    /// The entity tag of this row version.
    pub fn etag(&self) -> String {
        format!("\"{}\"", self.row_version)
    }
}

/// A JSON document as a bound parameter of this dialect.
pub fn json_param(backend: Backend, v: &Value) -> SqlValue {
    match backend {
        Backend::Sqlite => SqlValue::String(Some(v.to_string())),
        Backend::Postgres => SqlValue::Json(Some(Box::new(v.clone()))),
    }
}

/// `app = '…' AND form = '…'` with the keys inlined: keys are validated identifiers
/// ([`crate::keys::is_key`]), and literals let SQLite use the per-form partial indexes.
pub fn form_scope(app: &str, form: &str) -> String {
    debug_assert!(crate::keys::is_key(app) && crate::keys::is_key(form));
    format!("app = '{app}' AND form = '{form}'")
}

fn stmt(backend: Backend, sql: &str, values: Vec<SqlValue>) -> Statement {
    Statement::from_sql_and_values(backend.db_backend(), sql, values)
}

pub async fn get(
    conn: &impl ConnectionTrait,
    backend: Backend,
    app: &str,
    form: &str,
    id: i64,
) -> Result<Option<RecordRow>, DbErr> {
    let sql = format!(
        "SELECT {COLUMNS} FROM records WHERE id = $1 AND {}",
        form_scope(app, form)
    );
    conn.query_one_raw(stmt(backend, &sql, vec![id.into()]))
        .await?
        .map(|r| RecordRow::from_row(backend, &r))
        .transpose()
}

/// A record by id if it also meets `scope` (SQL over `params`, which come first).
pub async fn get_scoped(
    conn: &impl ConnectionTrait,
    backend: Backend,
    app: &str,
    form: &str,
    id: i64,
    scope: Option<String>,
    mut params: Vec<SqlValue>,
) -> Result<Option<RecordRow>, DbErr> {
    params.push(id.into());
    let sql = format!(
        "SELECT {COLUMNS} FROM records WHERE id = ${} AND {}{}",
        params.len(),
        form_scope(app, form),
        scope.map(|c| format!(" AND {c}")).unwrap_or_default()
    );
    conn.query_one_raw(stmt(backend, &sql, params))
        .await?
        .map(|r| RecordRow::from_row(backend, &r))
        .transpose()
}

/// Ids among `ids` that are live records of `form` (the ids travel as one JSON array
/// parameter, whatever their number).
pub async fn existing_ids(
    conn: &impl ConnectionTrait,
    backend: Backend,
    app: &str,
    form: &str,
    ids: &[i64],
) -> Result<Vec<i64>, DbErr> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let list = match backend {
        Backend::Sqlite => "SELECT value FROM json_each($1)",
        Backend::Postgres => "SELECT jsonb_array_elements_text($1::jsonb)::bigint",
    };
    let sql = format!(
        "SELECT id FROM records WHERE id IN ({list}) AND {} AND deleted_at IS NULL",
        form_scope(app, form)
    );
    let rows = conn
        .query_all_raw(stmt(backend, &sql, vec![json_array_param(backend, ids)]))
        .await?;
    rows.iter().map(|r| r.try_get::<i64>("", "id")).collect()
}

/// A JSON array as one parameter (text on SQLite for `json_each`, JSONB on PostgreSQL).
pub fn json_array_param<T: serde::Serialize>(backend: Backend, items: &[T]) -> SqlValue {
    let v = serde_json::to_value(items).unwrap_or(Value::Null);
    json_param(backend, &v)
}

pub struct NewRecord<'a> {
    pub app: &'a str,
    pub form: &'a str,
    pub form_version: i64,
    pub data: &'a Value,
    pub owner_user: Option<&'a str>,
    pub owner_dept: Option<&'a str>,
    pub actor: &'a str,
    pub now: &'a str,
}

pub async fn insert(
    conn: &impl ConnectionTrait,
    backend: Backend,
    r: &NewRecord<'_>,
) -> Result<RecordRow, DbErr> {
    let sql = "INSERT INTO records (app, form, form_version, data, owner_user, owner_dept, created_by, created_at, updated_by, updated_at, row_version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $7, $8, 1) RETURNING id".to_string();
    let row = conn
        .query_one_raw(stmt(
            backend,
            &sql,
            vec![
                r.app.into(),
                r.form.into(),
                r.form_version.into(),
                json_param(backend, r.data),
                r.owner_user.map(str::to_owned).into(),
                r.owner_dept.map(str::to_owned).into(),
                r.actor.into(),
                r.now.into(),
            ],
        ))
        .await?
        .ok_or_else(|| DbErr::RecordNotInserted)?;
    Ok(RecordRow {
        id: row.try_get("", "id")?,
        form_version: r.form_version,
        data: r.data.clone(),
        owner_user: r.owner_user.map(str::to_owned),
        owner_dept: r.owner_dept.map(str::to_owned),
        created_by: r.actor.to_owned(),
        created_at: r.now.to_owned(),
        updated_by: r.actor.to_owned(),
        updated_at: r.now.to_owned(),
        row_version: 1,
        deleted_at: None,
    })
}

/// Write a new row version (data, deletion mark) over `row.row_version - 1`.
pub async fn update(
    conn: &impl ConnectionTrait,
    backend: Backend,
    row: &RecordRow,
) -> Result<bool, DbErr> {
    let res = conn
        .execute_raw(stmt(
            backend,
            "UPDATE records SET data = $1, form_version = $2, updated_by = $3, updated_at = $4, row_version = $5, deleted_at = $6 \
             WHERE id = $7 AND row_version = $8",
            vec![
                json_param(backend, &row.data),
                row.form_version.into(),
                row.updated_by.clone().into(),
                row.updated_at.clone().into(),
                row.row_version.into(),
                row.deleted_at.clone().into(),
                row.id.into(),
                (row.row_version - 1).into(),
            ],
        ))
        .await?;
    Ok(res.rows_affected() == 1)
}

/// Records per INSERT: the rows travel as one JSON array parameter.
const INSERT_CHUNK: usize = 1000;

/// A new record for [`insert_all`]: its data, the data as [`stored_text`] if already
/// rendered (an import renders it beside the writer), and the user creating it.
pub struct NewRow<'a> {
    pub data: &'a Value,
    pub text: Option<&'a str>,
    pub actor: &'a str,
    pub dept: Option<&'a str>,
}

/// A record's data as it goes into [`insert_all`]'s JSON array parameter: on SQLite a JSON
/// string holding the data's text (SQLite stores the text; `->>` hands it over as is), on
/// PostgreSQL the data itself (stored as jsonb).
pub fn stored_text(backend: Backend, data: &Value) -> String {
    let text = data.to_string();
    match backend {
        Backend::Sqlite => Value::String(text).to_string(),
        Backend::Postgres => text,
    }
}

/// Insert new records, ids allocated up front (a single writer per SQLite file; a
/// sequence on PostgreSQL); each chunk of rows is one INSERT … SELECT over a JSON array,
/// written as text here (no `Value` tree per row). Returns the ids, in order.
pub async fn insert_all(
    conn: &impl ConnectionTrait,
    backend: Backend,
    app: &str,
    form: &str,
    form_version: i64,
    rows: &[NewRow<'_>],
    now: &str,
) -> Result<Vec<i64>, DbErr> {
    super::maintenance::count_inserted(rows.len());
    if let [row] = rows {
        let inserted = insert(
            conn,
            backend,
            &NewRecord {
                app,
                form,
                form_version,
                data: row.data,
                owner_user: Some(row.actor),
                owner_dept: row.dept,
                actor: row.actor,
                now,
            },
        )
        .await?;
        return Ok(vec![inserted.id]);
    }
    let ids: Vec<i64> = match backend {
        Backend::Sqlite => {
            let row = conn
                .query_one_raw(stmt(
                    backend,
                    "SELECT COALESCE(MAX(id), 0) AS m FROM records",
                    vec![],
                ))
                .await?;
            let max: i64 = row.map(|r| r.try_get("", "m")).transpose()?.unwrap_or(0);
            (1..=rows.len() as i64).map(|i| max + i).collect()
        }
        Backend::Postgres => {
            let found = conn
                .query_all_raw(stmt(
                    backend,
                    "SELECT nextval(pg_get_serial_sequence('records', 'id')) AS id FROM generate_series(1, $1)",
                    vec![(rows.len() as i64).into()],
                ))
                .await?;
            let mut ids = found
                .iter()
                .map(|r| r.try_get::<i64>("", "id"))
                .collect::<Result<Vec<_>, _>>()?;
            ids.sort_unstable();
            ids
        }
    };
    let sql = match backend {
        Backend::Sqlite => {
            "INSERT INTO records (id, app, form, form_version, data, owner_user, owner_dept, created_by, created_at, updated_by, updated_at, row_version) \
             SELECT value ->> 0, $2, $3, $4, value ->> 1, value ->> 2, value ->> 3, value ->> 2, $5, value ->> 2, $5, 1 FROM jsonb_each(jsonb($1))"
        }
        Backend::Postgres => {
            "INSERT INTO records (id, app, form, form_version, data, owner_user, owner_dept, created_by, created_at, updated_by, updated_at, row_version) \
             SELECT (e->>0)::bigint, $2, $3, $4, e->1, e->>2, e->>3, e->>2, $5, e->>2, $5, 1 FROM jsonb_array_elements($1::text::jsonb) AS e"
        }
    };
    for (chunk_no, chunk) in rows.chunks(INSERT_CHUNK).enumerate() {
        let mut param = String::with_capacity(
            2 + chunk
                .iter()
                .map(|r| r.text.map_or(256, str::len) + 48)
                .sum::<usize>(),
        );
        param.push('[');
        for (r, row) in chunk.iter().enumerate() {
            if r > 0 {
                param.push(',');
            }
            param.push('[');
            param.push_str(&ids[chunk_no * INSERT_CHUNK + r].to_string());
            param.push(',');
            match row.text {
                Some(text) => param.push_str(text),
                None => param.push_str(&stored_text(backend, row.data)),
            }
            param.push(',');
            param.push_str(&Value::from(row.actor).to_string());
            param.push(',');
            match row.dept {
                Some(d) => param.push_str(&Value::from(d).to_string()),
                None => param.push_str("null"),
            }
            param.push(']');
        }
        param.push(']');
        conn.execute_raw(stmt(
            backend,
            sql,
            vec![
                param.into(),
                app.into(),
                form.into(),
                form_version.into(),
                now.into(),
            ],
        ))
        .await?;
    }
    Ok(ids)
}
