//! Apps and form definitions: drafts, publishing immutable versions, and the cache of
//! compiled (validator-ready) versions that every write uses.

use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crate::error::{Detail, DomainError, DomainResult};
use crate::keys::is_key;
use crate::schema::definition::{CompiledForm, compile};
use crate::store::db::{Backend, Db};

use super::form_ops::{Publish, PutApp, SaveDraft};
use crate::store::oplog::Actor;
use crate::store::writer::Writer;

/// How long another process's publish may take to be seen here (PostgreSQL, many servers).
const CURRENT_TTL: Duration = Duration::from_secs(1);

/// Compiled published versions by (app, form, version).
type VersionCache = HashMap<(String, String, i64), Arc<CompiledForm>>;
/// The current version of each (app, form) and when it was read.
type CurrentCache = HashMap<(String, String), (i64, Instant)>;

#[derive(Clone)]
pub struct FormService {
    db: Db,
    writer: Writer,
    versions: Arc<RwLock<VersionCache>>,
    current: Arc<RwLock<CurrentCache>>,
    zones: Arc<crate::time::Zones>,
}

/// Definitions are stored as JSON text on both databases, so that their key order (the
/// order of fields an admin arranged) survives; PostgreSQL's JSONB would reorder keys.
pub(super) fn parse_json(
    _backend: Backend,
    row: &sea_orm::QueryResult,
    col: &str,
) -> Result<Value, sea_orm::DbErr> {
    let s: String = row.try_get("", col)?;
    serde_json::from_str(&s).map_err(|e| sea_orm::DbErr::Json(e.to_string()))
}

pub(super) fn definition_param(v: &Value) -> sea_orm::Value {
    sea_orm::Value::String(Some(v.to_string()))
}

impl FormService {
    pub fn new(db: Db, writer: Writer) -> Self {
        FormService {
            db,
            writer,
            versions: Default::default(),
            current: Default::default(),
            zones: Default::default(),
        }
    }

    /// The app's time zone, read again from its definition when the last read is older
    /// than `time::ZONE_TTL_SECS` on the server's clock (so a changed zone reaches every
    /// process soon, without a query on every write).
    pub async fn zone(&self, app: &str) -> DomainResult<chrono_tz::Tz> {
        let now = self.db.clock.utc();
        if let Some(tz) = self.zones.fresh(app, now) {
            return Ok(tz);
        }
        let tz = crate::time::zone_of(&self.get_app(app).await?);
        self.zones.remember(app, tz, now);
        Ok(tz)
    }

    /// The writer, for operations outside this service (maintenance).
    pub fn writer(&self) -> Writer {
        self.writer.clone()
    }

    /// The published version of a form that writes validate against now.
    pub async fn current(&self, app: &str, form: &str) -> DomainResult<Arc<CompiledForm>> {
        let key = (app.to_owned(), form.to_owned());
        let cached = self.current.read().ok().and_then(|m| m.get(&key).copied());
        let version = match cached {
            Some((v, at)) if at.elapsed() < CURRENT_TTL => v,
            _ => {
                let row = self
                    .db
                    .query_one(
                        "SELECT published_version FROM forms WHERE app = $1 AND key = $2",
                        vec![app.into(), form.into()],
                    )
                    .await?
                    .ok_or_else(|| DomainError::NotFound(format!("form {app}/{form}")))?;
                let v: Option<i64> = row.try_get("", "published_version")?;
                let v = v.ok_or_else(|| {
                    DomainError::conflict(
                        format!("form {app}/{form} has no published version yet"),
                        vec![Detail::new(
                            "",
                            "unpublished",
                            "publish the form before writing records",
                        )],
                    )
                })?;
                if let Ok(mut m) = self.current.write() {
                    m.insert(key, (v, Instant::now()));
                }
                v
            }
        };
        self.version(app, form, version).await
    }

    /// One published version (immutable, so cached for good).
    pub async fn version(
        &self,
        app: &str,
        form: &str,
        version: i64,
    ) -> DomainResult<Arc<CompiledForm>> {
        let key = (app.to_owned(), form.to_owned(), version);
        if let Some(f) = self.versions.read().ok().and_then(|m| m.get(&key).cloned()) {
            return Ok(f);
        }
        let row = self
            .db
            .query_one(
                "SELECT definition FROM form_versions WHERE app = $1 AND form = $2 AND version = $3",
                vec![app.into(), form.into(), version.into()],
            )
            .await?
            .ok_or_else(|| DomainError::NotFound(format!("form {app}/{form} version {version}")))?;
        let def = parse_json(self.db.backend, &row, "definition")?;
        let compiled = compile(app, version, &def).map_err(|e| {
            DomainError::Internal(anyhow::anyhow!(
                "stored definition {app}/{form}@{version} no longer compiles: {e}"
            ))
        })?;
        if let Ok(mut m) = self.versions.write() {
            m.insert(key, compiled.clone());
        }
        Ok(compiled)
    }

    pub async fn put_app(&self, key: &str, def: Value, actor: &Actor) -> DomainResult<Value> {
        check_app(key, &def)?;
        self.writer
            .submit(PutApp {
                key: key.to_owned(),
                def,
                actor: actor.clone(),
            })
            .await
    }

    pub async fn get_app(&self, key: &str) -> DomainResult<Value> {
        let row = self
            .db
            .query_one(
                "SELECT definition FROM apps WHERE key = $1",
                vec![key.into()],
            )
            .await?
            .ok_or_else(|| DomainError::NotFound(format!("app {key}")))?;
        Ok(parse_json(self.db.backend, &row, "definition")?)
    }

    pub async fn list_apps(&self) -> DomainResult<Vec<Value>> {
        let rows = self
            .db
            .query_all("SELECT definition FROM apps ORDER BY key", vec![])
            .await?;
        rows.iter()
            .map(|r| parse_json(self.db.backend, r, "definition").map_err(Into::into))
            .collect()
    }

    /// Save a draft after checking it as a document (schema, annotations, layout); references
    /// to other forms are checked when it is published, so related forms can be drafted in
    /// any order.
    pub async fn save_draft(
        &self,
        app: &str,
        form: &str,
        def: Value,
        actor: &Actor,
    ) -> DomainResult<Value> {
        self.check_definition(app, form, &def, false).await?;
        self.writer
            .submit(SaveDraft {
                app: app.into(),
                form: form.into(),
                def,
                actor: actor.clone(),
            })
            .await
    }

    /// Publish the current draft as a new immutable version.
    pub async fn publish(&self, app: &str, form: &str, actor: &Actor) -> DomainResult<Value> {
        let row = self
            .db
            .query_one(
                "SELECT draft FROM forms WHERE app = $1 AND key = $2",
                vec![app.into(), form.into()],
            )
            .await?
            .ok_or_else(|| DomainError::NotFound(format!("form {app}/{form}")))?;
        let def = parse_json(self.db.backend, &row, "draft")?;
        let compiled = self.check_definition(app, form, &def, true).await?;
        let out = self
            .writer
            .submit(Publish {
                compiled,
                actor: actor.clone(),
            })
            .await?;
        if out["published"] == json!(true) {
            // New indexes: let the planner know about them.
            self.writer
                .submit(crate::store::maintenance::Analyze)
                .await?;
        }
        if let Ok(mut m) = self.current.write() {
            m.remove(&(app.to_owned(), form.to_owned()));
        }
        Ok(out)
    }

    async fn check_definition(
        &self,
        app: &str,
        form: &str,
        def: &Value,
        refs: bool,
    ) -> DomainResult<Arc<CompiledForm>> {
        self.get_app(app).await?;
        let compiled = compile(app, 0, def)?;
        if compiled.key != form {
            return Err(DomainError::invalid_one(
                "/key",
                "key",
                format!("the definition's key must be {form:?}"),
            ));
        }
        if !refs {
            return Ok(compiled);
        }
        let forms = self.form_keys(app).await?;
        let mut details = Vec::new();
        for (table, f) in compiled.model.references() {
            let target = f.ref_form.as_deref().unwrap_or_default();
            if target != form && !forms.iter().any(|k| k == target) {
                let ptr = match table {
                    Some(t) => format!(
                        "/schema/properties/{t}/items/properties/{}/x-ref/form",
                        f.key
                    ),
                    None => format!("/schema/properties/{}/x-ref/form", f.key),
                };
                details.push(Detail::new(
                    ptr,
                    "x-ref",
                    format!("app {app} has no form {target:?}"),
                ));
            }
        }
        DomainError::unless_any(details).map(|()| compiled)
    }

    pub async fn form_keys(&self, app: &str) -> DomainResult<Vec<String>> {
        let rows = self
            .db
            .query_all(
                "SELECT key FROM forms WHERE app = $1 ORDER BY key",
                vec![app.into()],
            )
            .await?;
        Ok(rows
            .iter()
            .filter_map(|r| r.try_get::<String>("", "key").ok())
            .collect())
    }

    /// A form's summary: draft, published version number and definition.
    pub async fn describe(&self, app: &str, form: &str) -> DomainResult<Value> {
        let row = self
            .db
            .query_one(
                "SELECT draft, published_version, draft_updated_at FROM forms WHERE app = $1 AND key = $2",
                vec![app.into(), form.into()],
            )
            .await?
            .ok_or_else(|| DomainError::NotFound(format!("form {app}/{form}")))?;
        let published: Option<i64> = row.try_get("", "published_version")?;
        let definition = match published {
            Some(v) => Some(self.version(app, form, v).await?.definition.clone()),
            None => None,
        };
        Ok(json!({
            "app": app,
            "key": form,
            "published_version": published,
            "draft": parse_json(self.db.backend, &row, "draft")?,
            "draft_updated_at": row.try_get::<String>("", "draft_updated_at")?,
            "definition": definition,
        }))
    }

    pub async fn list_forms(&self, app: &str) -> DomainResult<Vec<Value>> {
        self.get_app(app).await?;
        let rows = self
            .db
            .query_all(
                "SELECT key, published_version, draft FROM forms WHERE app = $1 ORDER BY key",
                vec![app.into()],
            )
            .await?;
        rows.iter()
            .map(|r| {
                let draft = parse_json(self.db.backend, r, "draft")?;
                Ok(json!({
                    "key": r.try_get::<String>("", "key")?,
                    "label": draft.get("label"),
                    "published_version": r.try_get::<Option<i64>>("", "published_version")?,
                }))
            })
            .collect()
    }

    pub async fn list_versions(&self, app: &str, form: &str) -> DomainResult<Vec<Value>> {
        let rows = self
            .db
            .query_all(
                "SELECT version, author, published_at FROM form_versions WHERE app = $1 AND form = $2 ORDER BY version",
                vec![app.into(), form.into()],
            )
            .await?;
        if rows.is_empty() {
            self.describe(app, form).await?;
        }
        rows.iter()
            .map(|r| {
                Ok(json!({
                    "version": r.try_get::<i64>("", "version")?,
                    "author": r.try_get::<String>("", "author")?,
                    "published_at": r.try_get::<String>("", "published_at")?,
                }))
            })
            .collect()
    }
}

fn check_app(key: &str, def: &Value) -> DomainResult<()> {
    let mut details = Vec::new();
    if !is_key(key) {
        details.push(Detail::new(
            "/key",
            "key",
            "app keys are lower-case letters, digits and _",
        ));
    }
    if def.get("key").and_then(Value::as_str) != Some(key) {
        details.push(Detail::new(
            "/key",
            "key",
            format!("the definition's key must be {key:?}"),
        ));
    }
    match def.get("label") {
        Some(Value::Object(m)) if !m.is_empty() && m.values().all(Value::is_string) => {}
        _ => details.push(Detail::new(
            "/label",
            "label",
            "a label is an object of locale → text",
        )),
    }
    if let Some(tz) = def.get("time_zone")
        && tz
            .as_str()
            .and_then(|s| s.parse::<chrono_tz::Tz>().ok())
            .is_none()
    {
        details.push(Detail::new(
            "/time_zone",
            "time_zone",
            "an IANA time zone such as Asia/Shanghai",
        ));
    }
    DomainError::unless_any(details)
}
