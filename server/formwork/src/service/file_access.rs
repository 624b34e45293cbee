//! Who may download an attachment: its uploader, an administrator, or a caller who can read
//! a live record holding it in a field they may read (within their rows).

use serde_json::Value;

use super::records::RecordService;
use crate::auth::Caller;
use crate::error::DomainResult;
use crate::schema::field_types::FieldKind;
use crate::store::records::{RecordRow, form_scope};

/// Records examined per download check.
const CANDIDATES: usize = 50;

impl RecordService {
    pub async fn may_download(&self, sha: &str, caller: &Caller) -> DomainResult<bool> {
        if caller.is_admin() {
            return Ok(true);
        }
        if sha.len() != 64 || !sha.chars().all(|c| c.is_ascii_hexdigit()) {
            return Ok(false);
        }
        let uploader = self
            .db
            .query_one(
                "SELECT created_by FROM files WHERE sha256 = $1",
                vec![sha.to_owned().into()],
            )
            .await?
            .map(|r| r.try_get::<String>("", "created_by"))
            .transpose()?;
        match uploader {
            None => return Ok(false),
            Some(u) if u == caller.principal.username => return Ok(true),
            Some(_) => {}
        }
        // Forms with a file field the caller may read, then records mentioning the hash
        // (a 64-hex-digit hash does not occur by chance), checked field by field.
        let forms = self
            .db
            .query_all(
                "SELECT app, key FROM forms WHERE published_version IS NOT NULL",
                vec![],
            )
            .await?;
        for f in forms {
            let app: String = f.try_get("", "app")?;
            let form: String = f.try_get("", "key")?;
            let Ok(compiled) = self.forms.current(&app, &form).await else {
                continue;
            };
            let d = self.auth.decide(caller, &app, &form).await?;
            let file_fields: Vec<&String> = compiled
                .model
                .fields
                .iter()
                .filter(|(k, spec)| d.can_read(k) && holds_files(spec))
                .map(|(k, _)| k)
                .collect();
            if !d.allows("read") || file_fields.is_empty() {
                continue;
            }
            let mut params = crate::query::sql::Params::default();
            let rows = self
                .auth
                .row_scope(caller, &app, &form, self.db.backend, &mut params)
                .await?;
            let needle = params.push(sha.to_owned());
            let contains = match self.db.backend {
                crate::store::db::Backend::Sqlite => format!("instr(data, {needle}) > 0"),
                crate::store::db::Backend::Postgres => format!("strpos(data::text, {needle}) > 0"),
            };
            let sql = format!(
                "SELECT {} FROM records WHERE {} AND deleted_at IS NULL AND {contains}{} LIMIT {CANDIDATES}",
                crate::store::records::COLUMNS,
                form_scope(&app, &form),
                rows.map(|c| format!(" AND {c}")).unwrap_or_default()
            );
            for r in self.db.query_all(&sql, params.0).await? {
                let row = RecordRow::from_row(self.db.backend, &r)?;
                if file_fields
                    .iter()
                    .any(|k| row.data.get(k.as_str()).is_some_and(|v| mentions(v, sha)))
                {
                    return Ok(true);
                }
            }
        }
        Ok(false)
    }
}

fn holds_files(spec: &crate::schema::model::FieldSpec) -> bool {
    matches!(
        spec.kind,
        Some(FieldKind::Attachment) | Some(FieldKind::Signature) | Some(FieldKind::SubTable)
    )
}

fn mentions(v: &Value, sha: &str) -> bool {
    match v {
        Value::String(s) => s == sha,
        Value::Array(a) => a.iter().any(|x| mentions(x, sha)),
        Value::Object(o) => o.values().any(|x| mentions(x, sha)),
        _ => false,
    }
}
