//! Reading the operation log: the auditor's query and export, and one record's history
//! (as the caller may see it, with field-level differences).

use serde_json::{Map, Value, json};

use super::records::RecordService;
use crate::auth::Caller;
use crate::error::{DomainError, DomainResult};
use crate::store::db::Db;
use crate::store::oplog::{StoredEntry, chain_hash};

pub const MAX_AUDIT_PAGE: usize = 1000;

/// Which entries: every condition is optional; `after` is the last seq already seen.
#[derive(Debug, Default, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    pub app: Option<String>,
    pub form: Option<String>,
    pub record: Option<i64>,
    pub user: Option<String>,
    pub action: Option<String>,
    /// RFC 3339 time, inclusive.
    pub from: Option<String>,
    /// RFC 3339 time, exclusive.
    pub to: Option<String>,
    pub after: Option<i64>,
    pub limit: Option<usize>,
}

const COLUMNS: &str = "seq, at, actor, address, client, action, app, form, record_id, before, after, reason, prev_hash, hash";

fn parse(text: Option<String>) -> Value {
    text.and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Value::Null)
}

/// One entry as JSON; `raw` keeps `before`/`after` as the exact stored text (needed to
/// recompute the hash).
fn entry_json(r: &sea_orm::QueryResult, raw: bool) -> DomainResult<Value> {
    let get = |c: &str| r.try_get::<Option<String>>("", c);
    let (before, after) = (get("before")?, get("after")?);
    let (before, after) = if raw {
        (json!(before), json!(after))
    } else {
        (parse(before), parse(after))
    };
    Ok(json!({
        "seq": r.try_get::<i64>("", "seq")?,
        "at": get("at")?,
        "actor": get("actor")?,
        "address": get("address")?,
        "client": get("client")?,
        "action": get("action")?,
        "app": get("app")?,
        "form": get("form")?,
        "record_id": r.try_get::<Option<i64>>("", "record_id")?,
        "before": before,
        "after": after,
        "reason": get("reason")?,
        "prev_hash": get("prev_hash")?,
        "hash": get("hash")?,
    }))
}

/// A page of entries in log order.
pub async fn query(db: &Db, q: &AuditQuery, raw: bool) -> DomainResult<(Vec<Value>, Option<i64>)> {
    let limit = q.limit.unwrap_or(100);
    if limit == 0 || limit > MAX_AUDIT_PAGE {
        return Err(DomainError::bad_request(
            "/limit",
            "range",
            format!("limit is 1–{MAX_AUDIT_PAGE}"),
        ));
    }
    let mut conds = vec!["seq > $1".to_owned()];
    let mut params: Vec<sea_orm::Value> = vec![q.after.unwrap_or(0).into()];
    let mut add = |cond: &str, v: sea_orm::Value| {
        params.push(v);
        conds.push(cond.replace('?', &format!("${}", params.len())));
    };
    if let Some(v) = &q.app {
        add("app = ?", v.clone().into());
    }
    if let Some(v) = &q.form {
        add("form = ?", v.clone().into());
    }
    if let Some(v) = q.record {
        add("record_id = ?", v.into());
    }
    if let Some(v) = &q.user {
        add("actor = ?", v.clone().into());
    }
    if let Some(v) = &q.action {
        add("action = ?", v.clone().into());
    }
    for (name, v, cond) in [("from", &q.from, "at >= ?"), ("to", &q.to, "at < ?")] {
        if let Some(t) = v {
            let parsed = chrono::DateTime::parse_from_rfc3339(t).map_err(|_| {
                DomainError::bad_request(
                    &format!("/{name}"),
                    "date-time",
                    "an RFC 3339 time, e.g. 2026-01-31T00:00:00Z",
                )
            })?;
            let text = parsed
                .with_timezone(&chrono::Utc)
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
            add(cond, text.into());
        }
    }
    let sql = format!(
        "SELECT {COLUMNS} FROM oplog WHERE {} ORDER BY seq LIMIT {}",
        conds.join(" AND "),
        limit + 1
    );
    let rows = db.query_all(&sql, params).await?;
    let mut items = rows
        .iter()
        .map(|r| entry_json(r, raw))
        .collect::<DomainResult<Vec<_>>>()?;
    let more = items.len() > limit;
    items.truncate(limit);
    let next = if more {
        items.last().and_then(|e| e["seq"].as_i64())
    } else {
        None
    };
    Ok((items, next))
}

/// What an export's check found.
#[derive(Debug)]
pub struct ExportReport {
    pub entries: usize,
    /// The export's closing checkpoint: the entry it signs and the id of its key.
    pub checkpoint: Option<(i64, String)>,
}

/// Check exported entries (JSON lines as `query(raw = true)` gives them): each entry's hash
/// matches its content, and consecutive entries link; the closing line
/// `{"checkpoint": …}` is signed by its key (one of `trusted` when any are given) and, when
/// the export holds the entry it names, names that entry's hash. Returns what was checked
/// or the first thing that fails.
pub fn verify_export(
    lines: impl Iterator<Item = String>,
    trusted: &[String],
) -> Result<ExportReport, String> {
    let mut prev: Option<(i64, String)> = None;
    let mut n = 0;
    // (the last entries' hashes: the closing checkpoint signs the head at the export,
    // which an unfiltered export ends with)
    let mut hashes: std::collections::VecDeque<(i64, String)> = Default::default();
    let mut closing: Option<crate::store::signing::Checkpoint> = None;
    for (i, line) in lines.enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let e: Value =
            serde_json::from_str(&line).map_err(|e| format!("line {}: not JSON: {e}", i + 1))?;
        if let Some(cp) = e.get("checkpoint") {
            let cp =
                crate::store::signing::check(cp).map_err(|m| format!("line {}: {m}", i + 1))?;
            if !trusted.is_empty() && !trusted.contains(&cp.public_key) {
                return Err(format!(
                    "line {}: the checkpoint is signed by key {}, not a trusted one",
                    i + 1,
                    crate::store::signing::key_id(&cp.public_key)
                ));
            }
            closing = Some(cp);
            continue;
        }
        let s = |k: &str| e[k].as_str();
        let seq = e["seq"].as_i64().ok_or(format!("line {}: no seq", i + 1))?;
        let prev_hash = s("prev_hash").unwrap_or_default();
        let computed = chain_hash(
            prev_hash,
            &StoredEntry {
                seq,
                at: s("at").unwrap_or_default(),
                actor: s("actor").unwrap_or_default(),
                address: s("address"),
                client: s("client"),
                action: s("action").unwrap_or_default(),
                app: s("app"),
                form: s("form"),
                record_id: e["record_id"].as_i64(),
                before: s("before"),
                after: s("after"),
                reason: s("reason"),
            },
        );
        if Some(computed.as_str()) != s("hash") {
            return Err(format!("entry {seq}: its content does not match its hash"));
        }
        if let Some((pseq, phash)) = &prev
            && *pseq + 1 == seq
            && phash != prev_hash
        {
            return Err(format!(
                "entry {seq}: its link to entry {pseq} does not match"
            ));
        }
        if hashes.len() == 1024 {
            hashes.pop_front();
        }
        hashes.push_back((seq, computed.clone()));
        prev = Some((seq, computed));
        n += 1;
    }
    if let Some(cp) = &closing
        && let Some((_, h)) = hashes.iter().find(|(s, _)| *s == cp.seq)
        && *h != cp.hash
    {
        return Err(format!(
            "entry {}: its hash is not the one the checkpoint signed",
            cp.seq
        ));
    }
    Ok(ExportReport {
        entries: n,
        checkpoint: closing.map(|c| (c.seq, crate::store::signing::key_id(&c.public_key))),
    })
}

/// Append a signed checkpoint of the chain head (store::signing), unless `force` is off
/// and the last entry already is one. Answers the checkpoint (the new one, or the last).
pub struct Checkpoint {
    pub signer: std::sync::Arc<crate::store::signing::Signer>,
    pub force: bool,
}

impl crate::store::writer::WriteOp for Checkpoint {
    fn apply<'a>(
        &'a self,
        txn: &'a sea_orm::DatabaseTransaction,
        batch: &'a mut crate::store::writer::Batch,
    ) -> futures::future::BoxFuture<'a, DomainResult<Value>> {
        Box::pin(async move {
            use sea_orm::ConnectionTrait;
            let (seq, hash) = batch.head();
            let (seq, hash) = (seq, hash.to_owned());
            if seq == 0 {
                return Ok(Value::Null);
            }
            if !self.force {
                let last = txn
                    .query_one_raw(batch.stmt(
                        "SELECT action, after FROM oplog WHERE seq = $1",
                        vec![seq.into()],
                    ))
                    .await?;
                if let Some(r) = last
                    && r.try_get::<String>("", "action")? == "audit.checkpoint"
                {
                    let after: Option<String> = r.try_get("", "after")?;
                    return Ok(parse(after));
                }
            }
            let cp = self.signer.checkpoint(seq, &hash);
            batch
                .log(
                    txn,
                    crate::store::oplog::Entry {
                        actor: crate::store::oplog::Actor::system(),
                        action: "audit.checkpoint",
                        app: None,
                        form: None,
                        record_id: None,
                        before: None,
                        after: Some(cp.clone()),
                        reason: None,
                    },
                )
                .await?;
            Ok(cp)
        })
    }
}

impl RecordService {
    /// A signed checkpoint of the log (see [`Checkpoint`]).
    pub async fn checkpoint(
        &self,
        signer: &std::sync::Arc<crate::store::signing::Signer>,
        force: bool,
    ) -> DomainResult<Value> {
        self.writer
            .submit(Checkpoint {
                signer: signer.clone(),
                force,
            })
            .await
    }

    /// Every `minutes`, a checkpoint when entries came since the last one.
    pub fn start_checkpoints(
        &self,
        signer: std::sync::Arc<crate::store::signing::Signer>,
        minutes: u64,
    ) -> Option<tokio::task::JoinHandle<()>> {
        if minutes == 0 {
            return None;
        }
        let this = self.clone();
        Some(tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(minutes * 60));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            // (the first tick is now: the first checkpoint comes one interval after start)
            tick.tick().await;
            loop {
                tick.tick().await;
                if let Err(e) = this.checkpoint(&signer, false).await {
                    tracing::warn!(error = %e, "an operation-log checkpoint failed; retried at the next interval");
                }
            }
        }))
    }

    /// An audit export is itself an operation worth logging.
    pub async fn log_audit_export(&self, caller: &Caller, q: &AuditQuery) -> DomainResult<()> {
        self.writer
            .submit(super::record_ops::LogOnly(crate::store::oplog::Entry {
                actor: caller.actor.clone(),
                action: "audit.export",
                app: q.app.clone(),
                form: q.form.clone(),
                record_id: q.record,
                before: None,
                after: Some(json!({
                    "user": q.user, "action": q.action, "from": q.from, "to": q.to, "after": q.after
                })),
                reason: None,
            }))
            .await?;
        Ok(())
    }

    /// The history of one record as the caller may see it: every create, change, delete
    /// and restore, who, when, from where, and the readable fields that changed.
    pub async fn history(
        &self,
        app: &str,
        form: &str,
        id: i64,
        caller: &Caller,
    ) -> DomainResult<Value> {
        let decision = self.auth.decide(caller, app, form).await?;
        decision.require("read")?;
        self.fetch(app, form, id, true, caller).await?;
        let q = AuditQuery {
            app: Some(app.to_owned()),
            form: Some(form.to_owned()),
            record: Some(id),
            limit: Some(MAX_AUDIT_PAGE),
            ..Default::default()
        };
        let mut items = Vec::new();
        let mut after = None;
        loop {
            let (page, next) = query(&self.db, &AuditQuery { after, ..q.clone() }, false).await?;
            for mut e in page {
                let action = e["action"].as_str().unwrap_or_default().to_owned();
                let mut before = e["before"].take();
                let mut after_v = e["after"].take();
                // Creates and updates hold the record's data; deletes and restores only
                // `deleted_at`.
                if action == "record.create" || action == "record.update" {
                    decision.project(&mut before);
                    decision.project(&mut after_v);
                }
                let changes = diff(&before, &after_v);
                if changes.is_empty() && action == "record.update" {
                    // Only fields this caller cannot read changed: nothing to show.
                    continue;
                }
                let mut out = Map::new();
                for k in [
                    "seq", "at", "actor", "address", "client", "action", "reason",
                ] {
                    out.insert(k.into(), e[k].take());
                }
                out.insert("changes".into(), Value::Array(changes));
                items.push(Value::Object(out));
            }
            match next {
                Some(n) => after = Some(n),
                None => break,
            }
        }
        Ok(json!({"app": app, "form": form, "id": id, "items": items}))
    }
}

/// Field-level differences between two data objects: `[{field, before, after}]`.
fn diff(before: &Value, after: &Value) -> Vec<Value> {
    let empty = Map::new();
    let b = before.as_object().unwrap_or(&empty);
    let a = after.as_object().unwrap_or(&empty);
    let mut keys: Vec<&String> = b
        .keys()
        .chain(a.keys().filter(|k| !b.contains_key(*k)))
        .collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| b.get(*k) != a.get(*k))
        .map(|k| json!({"field": k, "before": b.get(k), "after": a.get(k)}))
        .collect()
}
