//! Report and dashboard definitions in the database: the published head of each and every
//! version, written with their operation-log entry in one transaction.

use futures::future::BoxFuture;
use sea_orm::{ConnectionTrait, DatabaseTransaction};
use serde_json::{Value, json};

use super::ReportService;
use crate::auth::Caller;
use crate::error::{Detail, DomainError, DomainResult};
use crate::keys::is_key;
use crate::store::oplog::{Actor, Entry};
use crate::store::writer::{Batch, WriteOp};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Report,
    Dashboard,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Report => "report",
            Kind::Dashboard => "dashboard",
        }
    }
}

impl ReportService {
    /// Published definitions of a kind: `(key, version, definition)`.
    pub async fn definitions(
        &self,
        app: &str,
        kind: Kind,
    ) -> DomainResult<Vec<(String, i64, Value)>> {
        let rows = self
            .db
            .query_all(
                "SELECT key, version, definition FROM report_defs WHERE app = $1 AND kind = $2 ORDER BY key",
                vec![app.into(), kind.name().into()],
            )
            .await?;
        rows.iter()
            .map(|r| {
                let def: String = r.try_get("", "definition")?;
                Ok((
                    r.try_get("", "key")?,
                    r.try_get("", "version")?,
                    serde_json::from_str(&def).unwrap_or(Value::Null),
                ))
            })
            .collect()
    }

    pub async fn definition(&self, app: &str, kind: Kind, key: &str) -> DomainResult<(i64, Value)> {
        let row = self
            .db
            .query_one(
                "SELECT version, definition FROM report_defs WHERE app = $1 AND kind = $2 AND key = $3",
                vec![app.into(), kind.name().into(), key.into()],
            )
            .await?
            .ok_or_else(|| DomainError::NotFound(format!("{} {key}", kind.name())))?;
        let def: String = row.try_get("", "definition")?;
        Ok((
            row.try_get("", "version")?,
            serde_json::from_str(&def).unwrap_or(Value::Null),
        ))
    }

    /// Check and publish a definition as a new version (unchanged: no new version).
    pub async fn publish(
        &self,
        app: &str,
        kind: Kind,
        key: &str,
        mut def: Value,
        caller: &Caller,
    ) -> DomainResult<Value> {
        caller.require_admin()?;
        if !is_key(key) {
            return Err(DomainError::bad_request(
                "/key",
                "key",
                "a key is lower-case letters, digits and _ (starting with a letter)",
            ));
        }
        self.forms.get_app(app).await?;
        if let Some(o) = def.as_object_mut() {
            o.remove("key");
        }
        let problems = match kind {
            Kind::Report => self.check(app, &def).await?.err().unwrap_or_default(),
            Kind::Dashboard => self.check_dashboard(app, &def).await?,
        };
        if !problems.is_empty() {
            return Err(DomainError::invalid(problems));
        }
        self.writer
            .submit(Publish {
                app: app.into(),
                kind,
                key: key.into(),
                def,
                actor: caller.actor.clone(),
            })
            .await
    }

    /// Problems of a dashboard definition.
    pub async fn check_dashboard(&self, app: &str, def: &Value) -> DomainResult<Vec<Detail>> {
        let mut errs = Vec::new();
        let Some(obj) = def.as_object() else {
            return Ok(vec![Detail::new(
                "",
                "type",
                "a dashboard definition is an object",
            )]);
        };
        for k in obj.keys() {
            if !["label", "roles", "filters", "widgets"].contains(&k.as_str()) {
                errs.push(Detail::new(
                    format!("/{k}"),
                    "unknown",
                    format!("a dashboard has no member {k:?}"),
                ));
            }
        }
        let roles: Vec<String> = self
            .db
            .query_all("SELECT key FROM roles WHERE app = $1", vec![app.into()])
            .await?
            .iter()
            .filter_map(|r| r.try_get::<String>("", "key").ok())
            .collect();
        for (i, r) in def["roles"].as_array().into_iter().flatten().enumerate() {
            if !r.as_str().is_some_and(|r| roles.iter().any(|x| x == r)) {
                errs.push(Detail::new(
                    format!("/roles/{i}"),
                    "unknown",
                    format!("no role {r} in {app}"),
                ));
            }
        }
        // Shared filters: a date range (over date fields), or a choice of values (over
        // text-valued fields: selects, members, departments, texts).
        let mut filter_keys: Vec<(String, &str)> = Vec::new();
        for (i, f) in def["filters"].as_array().into_iter().flatten().enumerate() {
            match (f["key"].as_str(), f["type"].as_str()) {
                (Some(k), Some(t @ ("date_range" | "select")))
                    if is_key(k) && !filter_keys.iter().any(|(x, _)| x == k) =>
                {
                    filter_keys.push((k.to_owned(), t))
                }
                _ => errs.push(Detail::new(
                    format!("/filters/{i}"),
                    "shape",
                    "a shared filter is {key (unique), type: \"date_range\" or \"select\", label}",
                )),
            }
        }
        let reports = self.definitions(app, Kind::Report).await?;
        let forms = self.app_forms(app).await?;
        let widgets = def["widgets"].as_array().cloned().unwrap_or_default();
        if widgets.is_empty() {
            errs.push(Detail::new(
                "/widgets",
                "required",
                "a dashboard has at least one widget",
            ));
        }
        for (i, w) in widgets.iter().enumerate() {
            let p = format!("/widgets/{i}");
            let Some((_, _, rdef)) = w["report"]
                .as_str()
                .and_then(|k| reports.iter().find(|r| r.0 == k))
            else {
                errs.push(Detail::new(
                    format!("{p}/report"),
                    "unknown",
                    format!("no published report {}", w["report"]),
                ));
                continue;
            };
            for (g, lim) in [("x", 11), ("y", 1000), ("w", 12), ("h", 100)] {
                if !w[g]
                    .as_u64()
                    .is_some_and(|v| v <= lim && (g == "x" || g == "y" || v >= 1))
                {
                    errs.push(Detail::new(
                        format!("{p}/{g}"),
                        "range",
                        format!("{g} is a whole number of grid units (at most {lim})"),
                    ));
                }
            }
            if w["x"].as_u64().unwrap_or(0) + w["w"].as_u64().unwrap_or(1) > 12 {
                errs.push(Detail::new(
                    format!("{p}/w"),
                    "range",
                    "a widget ends within the 12 columns",
                ));
            }
            // (A report over a sub-table's rows resolves from `form#table`.)
            let form = match (rdef["form"].as_str(), rdef["rows"].as_str()) {
                (Some(f), Some(t)) => format!("{f}#{t}"),
                (f, _) => f.unwrap_or_default().to_owned(),
            };
            let form = form.as_str();
            for (fk, field) in w["filters"].as_object().into_iter().flatten() {
                let Some((_, kind)) = filter_keys.iter().find(|(k, _)| k == fk) else {
                    errs.push(Detail::new(
                        format!("{p}/filters/{fk}"),
                        "unknown",
                        format!("the dashboard has no filter {fk}"),
                    ));
                    continue;
                };
                let ty = field
                    .as_str()
                    .and_then(|f| forms.resolve(form, f).ok())
                    .map(|r| r.ty);
                let (ok, wanted) = match *kind {
                    "select" => (
                        ty == Some(formwork_reports::ColType::Text),
                        "a select, member, department or text field",
                    ),
                    _ => (
                        ty.is_some_and(formwork_reports::ColType::is_temporal),
                        "a date or date-time field",
                    ),
                };
                if !ok {
                    errs.push(Detail::new(
                        format!("{p}/filters/{fk}"),
                        "type",
                        format!("{field} is not {wanted} of {form}"),
                    ));
                }
            }
        }
        Ok(errs)
    }
}

struct Publish {
    app: String,
    kind: Kind,
    key: String,
    def: Value,
    actor: Actor,
}

impl WriteOp for Publish {
    fn apply<'a>(
        &'a self,
        txn: &'a DatabaseTransaction,
        batch: &'a mut Batch,
    ) -> BoxFuture<'a, DomainResult<Value>> {
        Box::pin(async move {
            let kind = self.kind.name();
            let cur = txn
                .query_one_raw(batch.stmt(
                    "SELECT version, definition FROM report_defs WHERE app = $1 AND kind = $2 AND key = $3",
                    vec![self.app.clone().into(), kind.into(), self.key.clone().into()],
                ))
                .await?;
            let mut version = 1;
            if let Some(r) = cur {
                let v: i64 = r.try_get("", "version")?;
                let def: String = r.try_get("", "definition")?;
                if serde_json::from_str::<Value>(&def).ok().as_ref() == Some(&self.def) {
                    return Ok(json!({"version": v, "published": false}));
                }
                version = v + 1;
            }
            let text = self.def.to_string();
            txn.execute_raw(batch.stmt(
                "INSERT INTO report_def_versions (app, kind, key, version, definition, author, published_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                vec![self.app.clone().into(), kind.into(), self.key.clone().into(), version.into(), text.clone().into(), self.actor.user.clone().into(), batch.now.clone().into()],
            ))
            .await?;
            let sql = if version == 1 {
                "INSERT INTO report_defs (app, kind, key, version, definition) VALUES ($1, $2, $3, $4, $5)"
            } else {
                "UPDATE report_defs SET version = $4, definition = $5 WHERE app = $1 AND kind = $2 AND key = $3"
            };
            txn.execute_raw(batch.stmt(
                sql,
                vec![
                    self.app.clone().into(),
                    kind.into(),
                    self.key.clone().into(),
                    version.into(),
                    text.into(),
                ],
            ))
            .await?;
            batch
                .log(
                    txn,
                    Entry {
                        actor: self.actor.clone(),
                        action: if self.kind == Kind::Report {
                            "report.publish"
                        } else {
                            "dashboard.publish"
                        },
                        app: Some(self.app.clone()),
                        form: None,
                        record_id: None,
                        before: None,
                        after: Some(
                            json!({"key": self.key, "version": version, "definition": self.def}),
                        ),
                        reason: None,
                    },
                )
                .await?;
            Ok(json!({"version": version, "published": true}))
        })
    }
}
