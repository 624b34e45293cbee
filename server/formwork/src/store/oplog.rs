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
    // Written straight into one buffer (no string per key or scalar): the same text as
    // serde_json's compact form with sorted keys.
    fn write(v: &Value, out: &mut Vec<u8>) {
        match v {
            Value::Object(m) => {
                let mut members: Vec<(&String, &Value)> = m.iter().collect();
                members.sort_unstable_by(|a, b| a.0.cmp(b.0));
                out.push(b'{');
                for (i, (k, x)) in members.into_iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    let _ = serde_json::to_writer(&mut *out, k);
                    out.push(b':');
                    write(x, out);
                }
                out.push(b'}');
            }
            Value::Array(a) => {
                out.push(b'[');
                for (i, x) in a.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write(x, out);
                }
                out.push(b']');
            }
            scalar => {
                let _ = serde_json::to_writer(&mut *out, scalar);
            }
        }
    }
    let mut out = Vec::with_capacity(256);
    write(v, &mut out);
    // serde_json writes UTF-8 only.
    String::from_utf8(out).unwrap_or_default()
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

#[cfg(test)]
mod canonical_tests {
    use super::canonical;
    use rand::{Rng, SeedableRng};
    use serde_json::{Map, Value, json};

    /// The form logs were always written in: keys sorted at every level, serde_json's
    /// compact text. Entries already stored must hash the same with any rewrite.
    fn reference(v: &Value) -> String {
        fn sorted(v: &Value) -> Value {
            match v {
                Value::Object(m) => {
                    let mut keys: Vec<&String> = m.keys().collect();
                    keys.sort();
                    let mut out = Map::new();
                    for k in keys {
                        out.insert(k.clone(), sorted(&m[k]));
                    }
                    Value::Object(out)
                }
                Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
                other => other.clone(),
            }
        }
        serde_json::to_string(&sorted(v)).unwrap()
    }

    fn random(rng: &mut rand_chacha::ChaCha8Rng, depth: u32) -> Value {
        let texts = [
            "",
            "a",
            "协和医院",
            "q\"uote",
            "back\\slash",
            "tab\t",
            "\u{1}",
            "é",
            "😀",
        ];
        match rng.random_range(0..if depth == 0 { 5 } else { 7 }) {
            0 => json!(rng.random_range(-1_000_000i64..1_000_000)),
            1 => json!(rng.random_range(-1e6..1e6f64)),
            2 => json!(rng.random_bool(0.5)),
            3 => Value::Null,
            4 => json!(texts[rng.random_range(0..texts.len())]),
            5 => Value::Array(
                (0..rng.random_range(0..4))
                    .map(|_| random(rng, depth - 1))
                    .collect(),
            ),
            _ => {
                let mut m = Map::new();
                for _ in 0..rng.random_range(0..5) {
                    let k = format!(
                        "{}{}",
                        texts[rng.random_range(0..texts.len())],
                        rng.random_range(0..3)
                    );
                    m.insert(k, random(rng, depth - 1));
                }
                Value::Object(m)
            }
        }
    }

    #[test]
    fn canonical_text_is_serde_jsons_with_sorted_keys() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        for _ in 0..2000 {
            let v = random(&mut rng, 4);
            assert_eq!(canonical(&v), reference(&v), "{v}");
        }
        assert_eq!(
            canonical(&json!({"b": 1, "a": [2.5, {"d": null, "c": "x"}]})),
            r#"{"a":[2.5,{"c":"x","d":null}],"b":1}"#
        );
    }
}
