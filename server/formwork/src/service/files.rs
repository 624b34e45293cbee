//! Attachments and signatures: files stored on disk by content (sha256), recorded in the
//! `files` table; records refer to them by hash, and writes check that they exist and fit
//! the field's type and size limits.

use futures::future::BoxFuture;
use sea_orm::{ConnectionTrait, DatabaseTransaction};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

use crate::error::{Detail, DomainError, DomainResult};
use crate::schema::definition::{CompiledForm, escape};
use crate::schema::field_types::FieldKind;
use crate::store::db::Db;
use crate::store::oplog::Actor;
use crate::store::writer::{Batch, WriteOp, Writer};

#[derive(Clone)]
pub struct FileService {
    db: Db,
    writer: Writer,
    dir: PathBuf,
    max_size: u64,
}

/// `ab/cdef…` under the files directory.
pub fn path_of(dir: &Path, sha256: &str) -> PathBuf {
    dir.join(&sha256[..2]).join(&sha256[2..])
}

pub fn is_sha256(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

impl FileService {
    pub fn new(db: Db, writer: Writer, dir: PathBuf, max_size: u64) -> Self {
        FileService {
            db,
            writer,
            dir,
            max_size,
        }
    }

    pub fn max_size(&self) -> u64 {
        self.max_size
    }

    /// Store an uploaded file (already spooled to `tmp`); idempotent for equal content.
    pub async fn store(
        &self,
        tmp: &Path,
        content_type: &str,
        name: Option<String>,
        actor: &Actor,
    ) -> DomainResult<Value> {
        let internal = |e: std::io::Error| DomainError::Internal(e.into());
        let bytes = tokio::fs::read(tmp).await.map_err(internal)?;
        if bytes.len() as u64 > self.max_size {
            return Err(DomainError::invalid_one(
                "",
                "size",
                format!("files are limited to {} bytes", self.max_size),
            ));
        }
        let sha = hex::encode(Sha256::digest(&bytes));
        let dest = path_of(&self.dir, &sha);
        if !dest.exists() {
            tokio::fs::create_dir_all(dest.parent().unwrap_or(&self.dir))
                .await
                .map_err(internal)?;
            let partial = dest.with_extension("part");
            tokio::fs::write(&partial, &bytes).await.map_err(internal)?;
            tokio::fs::File::open(&partial)
                .await
                .map_err(internal)?
                .sync_all()
                .await
                .map_err(internal)?;
            tokio::fs::rename(&partial, &dest).await.map_err(internal)?;
        }
        let size = bytes.len() as i64;
        let stored = self
            .writer
            .submit(RecordFile {
                sha: sha.clone(),
                size,
                content_type: content_type.to_owned(),
                actor: actor.clone(),
            })
            .await?;
        Ok(json!({"sha256": sha, "size": size, "content_type": stored, "name": name}))
    }

    /// A stored file's bytes and content type.
    pub async fn open(&self, sha256: &str) -> DomainResult<(Vec<u8>, String)> {
        if !is_sha256(sha256) {
            return Err(DomainError::NotFound(format!("file {sha256}")));
        }
        let row = self
            .db
            .query_one(
                "SELECT content_type FROM files WHERE sha256 = $1",
                vec![sha256.into()],
            )
            .await?
            .ok_or_else(|| DomainError::NotFound(format!("file {sha256}")))?;
        let ct: String = row.try_get("", "content_type")?;
        let bytes = tokio::fs::read(path_of(&self.dir, sha256))
            .await
            .map_err(|e| {
                DomainError::Internal(anyhow::anyhow!(
                    "file {sha256} is recorded but unreadable: {e}"
                ))
            })?;
        Ok((bytes, ct))
    }
}

struct RecordFile {
    sha: String,
    size: i64,
    content_type: String,
    actor: Actor,
}

impl WriteOp for RecordFile {
    fn apply<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
        batch: &'a mut Batch,
    ) -> BoxFuture<'a, DomainResult<Value>> {
        Box::pin(async move {
            let known = txn
                .query_one_raw(batch.stmt(
                    "SELECT content_type FROM files WHERE sha256 = $1",
                    vec![self.sha.clone().into()],
                ))
                .await?;
            if let Some(row) = known {
                // The same content uploaded before: its first content type stands.
                return Ok(Value::String(row.try_get("", "content_type")?));
            } else {
                txn.execute_raw(batch.stmt(
                    "INSERT INTO files (sha256, size, content_type, created_by, created_at) VALUES ($1, $2, $3, $4, $5)",
                    vec![self.sha.clone().into(), self.size.into(), self.content_type.clone().into(), self.actor.user.clone().into(), batch.now.clone().into()],
                ))
                .await?;
            }
            Ok(Value::String(self.content_type.clone()))
        })
    }
}

/// Does `content_type` match one of the field's `x-accept` patterns (`image/*`, `application/pdf`)?
fn accepts(accept: &[String], content_type: &str) -> bool {
    accept.is_empty()
        || accept.iter().any(|a| match a.strip_suffix("/*") {
            Some(major) => content_type.split('/').next() == Some(major),
            None => a == content_type,
        })
}

/// Every file a record refers to exists and fits its field's accepted types and size.
pub async fn check_files(
    txn: &DatabaseTransaction,
    batch: &Batch,
    form: &CompiledForm,
    data: &Value,
    prefix: &str,
) -> DomainResult<()> {
    let mut details = Vec::new();
    // (field, its value, its pointer): root fields and the fields of sub-table rows.
    let mut slots: Vec<(&crate::schema::model::FieldSpec, &Value, String)> = Vec::new();
    let is_file = |f: &crate::schema::model::FieldSpec| {
        matches!(f.kind, Some(FieldKind::Attachment | FieldKind::Signature))
    };
    for f in form.model.fields.values() {
        let Some(v) = data.get(&f.key) else { continue };
        if f.kind == Some(FieldKind::SubTable) {
            if !f.children.values().any(is_file) {
                continue;
            }
            let ptr = format!("{prefix}/data/{}", escape(&f.key));
            for (i, row) in v.as_array().into_iter().flatten().enumerate() {
                for c in f.children.values().filter(|c| is_file(c)) {
                    if let Some(cv) = row.get(&c.key) {
                        slots.push((c, cv, format!("{ptr}/{i}/{}", escape(&c.key))));
                    }
                }
            }
        } else if is_file(f) {
            slots.push((f, v, format!("{prefix}/data/{}", escape(&f.key))));
        }
    }
    if slots.is_empty() {
        return Ok(());
    }
    for (f, value, base) in slots {
        let refs: Vec<(String, &Value)> = match (f.kind, value) {
            (Some(FieldKind::Attachment), Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, v)| (format!("{base}/{i}"), v))
                .collect(),
            (Some(FieldKind::Signature), v @ Value::Object(_)) => vec![(base.clone(), v)],
            _ => continue,
        };
        for (ptr, v) in refs {
            let Some(sha) = v.get("sha256").and_then(Value::as_str) else {
                continue;
            };
            let row = txn
                .query_one_raw(batch.stmt(
                    "SELECT size, content_type FROM files WHERE sha256 = $1",
                    vec![sha.into()],
                ))
                .await?;
            let Some(row) = row else {
                details.push(Detail::new(
                    format!("{ptr}/sha256"),
                    "file",
                    format!("no uploaded file {sha}"),
                ));
                continue;
            };
            let (size, ct): (i64, String) =
                (row.try_get("", "size")?, row.try_get("", "content_type")?);
            if !accepts(&f.accept, &ct) {
                details.push(Detail::new(
                    &ptr,
                    "x-accept",
                    format!("{ct} is not accepted here ({})", f.accept.join(", ")),
                ));
            }
            if let Some(max) = f.max_size
                && size as u64 > max
            {
                details.push(Detail::new(
                    &ptr,
                    "x-max-size",
                    format!("the file has {size} bytes; at most {max} are allowed"),
                ));
            }
        }
    }
    DomainError::unless_any(details)
}
