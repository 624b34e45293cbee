//! Verifying the operation log's hash chain (`formwork audit verify`), and the signed
//! checkpoints in it (store::signing).

use sea_orm::DbErr;
use std::collections::{BTreeSet, VecDeque};

use super::db::Db;
use super::oplog::{StoredEntry, chain_hash};
use super::signing::{Checkpoint, key_id};

pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What a verification trusts besides the chain itself.
#[derive(Debug, Default, Clone)]
pub struct Trust {
    /// Public keys (hex) whose checkpoints count; empty: any key that verifies (its id is
    /// reported, for the operator to compare).
    pub keys: Vec<String>,
    /// A checkpoint kept from earlier (an export's last line): the chain must still have
    /// that hash at that entry.
    pub anchor: Option<Checkpoint>,
}

#[derive(Debug, PartialEq)]
pub enum Verdict {
    /// Every entry links to the one before, the head names the last, and every checkpoint
    /// (and the anchor) matches the chain.
    Intact {
        entries: i64,
        checkpoints: usize,
        /// Ids of the keys the checkpoints were signed with.
        keys: BTreeSet<String>,
    },
    /// The first entry whose stored hash or link does not match.
    Broken { seq: i64, reason: String },
}

/// Walk the whole chain in order, in pages, recomputing every hash.
pub async fn verify(db: &Db) -> Result<Verdict, DbErr> {
    verify_with(db, &Trust::default()).await
}

/// How many recent hashes a checkpoint may point back to (a checkpoint names the head of
/// the transaction it was written in: the entry just before it, or a few before when
/// several processes append at once).
const RECENT: usize = 1024;

/// [`verify`], with the checkpoints held to `trust`.
pub async fn verify_with(db: &Db, trust: &Trust) -> Result<Verdict, DbErr> {
    let mut prev = GENESIS.to_owned();
    let mut expected_seq = 1i64;
    let mut recent: VecDeque<(i64, String)> = VecDeque::with_capacity(RECENT);
    let mut checkpoints = 0usize;
    let mut keys = BTreeSet::new();
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
            if action == "audit.checkpoint" {
                let cp = after
                    .as_deref()
                    .and_then(|a| serde_json::from_str(a).ok())
                    .ok_or_else(|| "no checkpoint in it".to_owned())
                    .and_then(|v| super::signing::check(&v));
                let cp = match cp {
                    Ok(cp) => cp,
                    Err(reason) => return Ok(Verdict::Broken { seq, reason }),
                };
                if !trust.keys.is_empty() && !trust.keys.contains(&cp.public_key) {
                    return Ok(Verdict::Broken {
                        seq,
                        reason: format!(
                            "its checkpoint is signed by key {}, not a trusted one",
                            key_id(&cp.public_key)
                        ),
                    });
                }
                match recent.iter().find(|(s, _)| *s == cp.seq) {
                    Some((_, h)) if *h == cp.hash => {}
                    Some(_) => {
                        return Ok(Verdict::Broken {
                            seq: cp.seq,
                            reason: format!(
                                "the chain up to it was changed: its hash is not the one checkpoint {seq} signed"
                            ),
                        });
                    }
                    None => {
                        return Ok(Verdict::Broken {
                            seq,
                            reason: format!(
                                "its checkpoint names entry {}, which is not just before it",
                                cp.seq
                            ),
                        });
                    }
                }
                keys.insert(key_id(&cp.public_key));
                checkpoints += 1;
            }
            if let Some(a) = &trust.anchor
                && a.seq == seq
                && a.hash != hash
            {
                return Ok(Verdict::Broken {
                    seq,
                    reason: "the chain up to it was changed: its hash is not the anchor's".into(),
                });
            }
            if recent.len() == RECENT {
                recent.pop_front();
            }
            recent.push_back((seq, hash.clone()));
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
    if let Some(a) = &trust.anchor
        && a.seq > expected_seq - 1
    {
        return Ok(Verdict::Broken {
            seq: expected_seq,
            reason: format!(
                "the log ends at entry {}, before the anchor's entry {} (entries were removed)",
                expected_seq - 1,
                a.seq
            ),
        });
    }
    Ok(Verdict::Intact {
        entries: expected_seq - 1,
        checkpoints,
        keys,
    })
}
