//! The operation log: append-only, hash-chained. Entries are written by write operations
//! inside the writer's transaction (see [`super::writer::Batch::log`]); the database refuses
//! UPDATE and DELETE on the table (triggers in the first migration).

use serde_json::Value;
use sha2::{Digest, Sha256};

/// Who did something, from where.
#[derive(Debug, Clone, PartialEq)]
pub struct Actor {
    pub user: String,
    /// The user's department (records they create are owned by it).
    pub department: Option<String>,
    pub address: Option<String>,
    pub client: Option<String>,
}

impl Actor {
    pub fn system() -> Actor {
        Actor {
            user: "system".into(),
            department: None,
            address: None,
            client: Some("formwork".into()),
        }
    }
}

/// One entry, before it is chained.
#[derive(Debug, Clone)]
pub struct Entry {
    pub actor: Actor,
    pub action: &'static str,
    pub app: Option<String>,
    pub form: Option<String>,
    pub record_id: Option<i64>,
    pub before: Option<Value>,
    pub after: Option<Value>,
    pub reason: Option<String>,
}

/// JSON text with object keys sorted at every level: the form that is stored and hashed,
/// identical whichever database returns it.
pub fn canonical(v: &Value) -> String {
    fn write(v: &Value, out: &mut String) {
        match v {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                out.push('{');
                for (i, k) in keys.into_iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&serde_json::to_string(k).unwrap_or_default());
                    out.push(':');
                    write(&m[k], out);
                }
                out.push('}');
            }
            Value::Array(a) => {
                out.push('[');
                for (i, x) in a.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write(x, out);
                }
                out.push(']');
            }
            scalar => out.push_str(&scalar.to_string()),
        }
    }
    let mut out = String::new();
    write(v, &mut out);
    out
}

/// The stored fields of an entry, in the order they are hashed.
pub struct StoredEntry<'a> {
    pub seq: i64,
    pub at: &'a str,
    pub actor: &'a str,
    pub address: Option<&'a str>,
    pub client: Option<&'a str>,
    pub action: &'a str,
    pub app: Option<&'a str>,
    pub form: Option<&'a str>,
    pub record_id: Option<i64>,
    pub before: Option<&'a str>,
    pub after: Option<&'a str>,
    pub reason: Option<&'a str>,
}

/// `sha256(prev_hash ‖ every stored field)`, each field length-prefixed so that no two
/// different entries hash the same text.
pub fn chain_hash(prev_hash: &str, e: &StoredEntry) -> String {
    let mut h = Sha256::new();
    let mut put = |s: Option<&str>| match s {
        Some(s) => {
            h.update(format!("{}:", s.len()));
            h.update(s.as_bytes());
        }
        None => h.update(b"-"),
    };
    put(Some(prev_hash));
    put(Some(&e.seq.to_string()));
    put(Some(e.at));
    put(Some(e.actor));
    put(e.address);
    put(e.client);
    put(Some(e.action));
    put(e.app);
    put(e.form);
    put(e.record_id.map(|i| i.to_string()).as_deref());
    put(e.before);
    put(e.after);
    put(e.reason);
    hex::encode(h.finalize())
}
