//! Verifying the operation log's hash chain (`formwork audit verify`).

use sea_orm::DbErr;

use super::db::Db;
use super::oplog::{StoredEntry, chain_hash};

pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Debug, PartialEq)]
pub enum Verdict {
    /// Every entry links to the one before and the head names the last.
    Intact { entries: i64 },
    /// The first entry whose stored hash or link does not match.
    Broken { seq: i64, reason: String },
}

/// Walk the whole chain in order, in pages, recomputing every hash.
pub async fn verify(db: &Db) -> Result<Verdict, DbErr> {
    let mut prev = GENESIS.to_owned();
    let mut expected_seq = 1i64;
    loop {
        let rows = db
            .query_all(
                "SELECT seq, at, actor, address, client, action, app, form, record_id, before, after, reason, prev_hash, hash \
                 FROM oplog WHERE seq >= $1 ORDER BY seq LIMIT 5000",
                vec![expected_seq.into()],
            )
            .await?;
        if rows.is_empty() {
            break;
        }
        for r in &rows {
            let seq: i64 = r.try_get("", "seq")?;
            if seq != expected_seq {
                return Ok(Verdict::Broken {
                    seq: expected_seq,
                    reason: format!("entry {expected_seq} is missing"),
                });
            }
            let get = |c: &str| r.try_get::<Option<String>>("", c);
            let (at, actor, action) = (
                get("at")?.unwrap_or_default(),
                get("actor")?.unwrap_or_default(),
                get("action")?.unwrap_or_default(),
            );
            let (address, client, app, form) =
                (get("address")?, get("client")?, get("app")?, get("form")?);
            let (before, after, reason) = (get("before")?, get("after")?, get("reason")?);
            let record_id: Option<i64> = r.try_get("", "record_id")?;
            let prev_hash: String = r.try_get("", "prev_hash")?;
            let hash: String = r.try_get("", "hash")?;
            if prev_hash != prev {
                return Ok(Verdict::Broken {
                    seq,
                    reason: "its link to the previous entry does not match".into(),
                });
            }
            let computed = chain_hash(
                &prev,
                &StoredEntry {
                    seq,
                    at: &at,
                    actor: &actor,
                    address: address.as_deref(),
                    client: client.as_deref(),
                    action: &action,
                    app: app.as_deref(),
                    form: form.as_deref(),
                    record_id,
                    before: before.as_deref(),
                    after: after.as_deref(),
                    reason: reason.as_deref(),
                },
            );
            if computed != hash {
                return Ok(Verdict::Broken {
                    seq,
                    reason: "its content does not match its hash".into(),
                });
            }
            prev = hash;
            expected_seq += 1;
        }
    }
    let head = db
        .query_one("SELECT seq, hash FROM oplog_head WHERE id = 1", vec![])
        .await?;
    if let Some(h) = head {
        let (seq, hash): (i64, String) = (h.try_get("", "seq")?, h.try_get("", "hash")?);
        if seq != expected_seq - 1 || hash != prev {
            return Ok(Verdict::Broken {
                seq: seq.max(expected_seq),
                reason: "the chain head does not name the last entry (entries were removed)".into(),
            });
        }
    }
    Ok(Verdict::Intact {
        entries: expected_seq - 1,
    })
}
