//! Removing the caller's unreadable top-level fields from record JSON text without building
//! a JSON tree. On SQLite a masked list page is assembled in the database like the
//! administrator's (the stored text as is) and stripped here: `json_remove` in SQLite
//! parsed every row's text into its binary form and rendered it again.
//!
//! The stored text is JSON the server wrote, so a small scanner finds the top-level members
//! (strings skipped with `memchr`, nesting counted) and copies the kept ones; anything it
//! does not expect (an escaped member name, a malformed text) goes the general way, which
//! splits the members with serde_json (`RawValue`) instead.

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::fmt;

/// Which top-level members go.
#[derive(Clone, Copy)]
pub enum Cut<'a> {
    /// These go (the caller's unreadable fields).
    Deny(&'a [String]),
    /// All but these go (a list's `fields`, less the unreadable ones).
    Keep(&'a [String]),
}

impl Cut<'_> {
    fn drops(&self, key: &str) -> bool {
        match self {
            Cut::Deny(d) => d.iter().any(|x| x == key),
            Cut::Keep(k) => !k.iter().any(|x| x == key),
        }
    }

    /// Nothing can go.
    pub fn is_none(&self) -> bool {
        matches!(self, Cut::Deny(d) if d.is_empty())
    }
}

/// A member name: borrowed from the text unless it has escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a member name")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(s.to_owned())))
            }
            fn visit_string<E>(self, s: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(s)))
            }
        }
        d.deserialize_str(V)
    }
}

/// An object's members, in order, values as unparsed text.
struct Members<'a>(Vec<(Key<'a>, &'a RawValue)>);

impl<'de> Deserialize<'de> for Members<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Members<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut m: M) -> Result<Members<'de>, M::Error> {
                let mut out = Vec::new();
                while let Some(k) = m.next_key::<Key<'de>>()? {
                    let v: &'de RawValue = m.next_value()?;
                    out.push((k, v));
                }
                Ok(Members(out))
            }
        }
        d.deserialize_map(V)
    }
}

/// The end of the string whose opening quote is at `i` (the index after its closing quote).
fn skip_string(b: &[u8], mut i: usize) -> Option<usize> {
    i += 1;
    loop {
        let at = i + memchr::memchr2(b'"', b'\\', &b[i..])?;
        if b[at] == b'"' {
            return Some(at + 1);
        }
        i = at + 2;
        if i > b.len() {
            return None;
        }
    }
}

/// The end of the value starting at `i` (no leading space).
fn skip_value(b: &[u8], i: usize) -> Option<usize> {
    match *b.get(i)? {
        b'"' => skip_string(b, i),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut j = i;
            while j < b.len() {
                match b[j] {
                    b'"' => {
                        j = skip_string(b, j)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            None
        }
        _ => {
            let n = b[i..]
                .iter()
                .position(|c| matches!(c, b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t'))?;
            (n > 0).then_some(i + n)
        }
    }
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && matches!(b[i], b' ' | b'\n' | b'\r' | b'\t') {
        i += 1;
    }
    i
}

/// The scanner: writes `object` without the members `cut` drops to `out` and says whether
/// it removed any (when it did not, `out` is as it was); None (with `out` as it was) when
/// the text is not what it expects. Kept members are copied to `out` as they are found.
fn scan_into(object: &str, cut: &Cut, out: &mut String) -> Option<bool> {
    let mark = out.len();
    let done = scan_members(object, cut, out);
    if done != Some(true) {
        out.truncate(mark);
    }
    done
}

fn scan_members(object: &str, cut: &Cut, out: &mut String) -> Option<bool> {
    let b = object.as_bytes();
    let mut i = skip_ws(b, 0);
    if b.get(i) != Some(&b'{') {
        return None;
    }
    i = skip_ws(b, i + 1);
    out.push('{');
    let mut first = true;
    let mut removed = false;
    if b.get(i) != Some(&b'}') {
        loop {
            if b.get(i) != Some(&b'"') {
                return None;
            }
            let start = i;
            let key_end = skip_string(b, i)?;
            let key = &object[i + 1..key_end - 1];
            i = skip_ws(b, key_end);
            if b.get(i) != Some(&b':') {
                return None;
            }
            i = skip_ws(b, i + 1);
            let end = skip_value(b, i)?;
            // An escaped name might spell one the cut names: the general way decides.
            if key.as_bytes().contains(&b'\\') {
                return None;
            }
            if cut.drops(key) {
                removed = true;
            } else {
                if !first {
                    out.push(',');
                }
                first = false;
                out.push_str(&object[start..end]);
            }
            i = skip_ws(b, end);
            match b.get(i) {
                Some(b',') => i = skip_ws(b, i + 1),
                Some(b'}') => break,
                _ => return None,
            }
        }
    }
    if skip_ws(b, i + 1) != b.len() {
        return None;
    }
    out.push('}');
    Some(removed)
}

/// `object` (JSON text) without the members named in `deny`; the text as it is when it has
/// none of them. (The page path, `strip_row_into`, writes straight into the page; this is
/// the same for one object, which the tests compare with serde_json.)
#[cfg(test)]
fn strip_members<'a>(object: &'a str, deny: &[String]) -> serde_json::Result<Cow<'a, str>> {
    let mut out = String::new();
    let cut = Cut::Deny(deny);
    match scan_into(object, &cut, &mut out) {
        Some(false) => return Ok(Cow::Borrowed(object)),
        Some(true) => return Ok(Cow::Owned(out)),
        None => {}
    }
    strip_members_parsed(object, &cut)
}

/// The general way: the members split by serde_json.
fn strip_members_parsed<'a>(object: &'a str, cut: &Cut) -> serde_json::Result<Cow<'a, str>> {
    let members: Members = serde_json::from_str(object)?;
    if !members.0.iter().any(|(k, _)| cut.drops(&k.0)) {
        return Ok(Cow::Borrowed(object));
    }
    let mut out = String::with_capacity(object.len());
    out.push('{');
    for (k, v) in members.0.iter().filter(|(k, _)| !cut.drops(&k.0)) {
        if out.len() > 1 {
            out.push(',');
        }
        out.push_str(&serde_json::to_string(&k.0)?);
        out.push(':');
        out.push_str(v.get());
    }
    out.push('}');
    Ok(Cow::Owned(out))
}

/// The member that page rows (`service::listing`) end with: `…,"data":{…}}`. Every member
/// before it is a number or a quoted text, in which a bare `"` cannot occur, so the first
/// occurrence of this text is the member.
const DATA: &str = ",\"data\":";

/// A page row with the members of its `data` that `cut` drops removed, appended to `out`.
pub fn strip_row_into(row: &str, cut: &Cut, out: &mut String) -> serde_json::Result<()> {
    let found = memchr::memmem::find(row.as_bytes(), DATA.as_bytes());
    let Some((head, data)) = found.and_then(|at| {
        let (head, rest) = row.split_at(at + DATA.len());
        Some((head, rest.strip_suffix('}')?))
    }) else {
        // Not laid out as SQLite's page rows (PostgreSQL's `json_build_object` spaces its
        // members): the row's members split by serde_json.
        let members: Members = serde_json::from_str(row)?;
        out.push('{');
        for (i, (k, v)) in members.0.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&serde_json::to_string(&k.0)?);
            out.push(':');
            if k.0 == "data" {
                cut_into(v.get(), cut, out)?;
            } else {
                out.push_str(v.get());
            }
        }
        out.push('}');
        return Ok(());
    };
    out.push_str(head);
    cut_into(data, cut, out)?;
    out.push('}');
    Ok(())
}

/// `object` with the members `cut` drops removed, appended to `out`.
fn cut_into(object: &str, cut: &Cut, out: &mut String) -> serde_json::Result<()> {
    match scan_into(object, cut, out) {
        Some(true) => {}
        Some(false) => out.push_str(object),
        None => out.push_str(&strip_members_parsed(object, cut)?),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn deny(keys: &[&str]) -> Vec<String> {
        keys.iter().map(|k| (*k).to_owned()).collect()
    }

    #[test]
    fn denied_members_go_and_the_rest_stay_as_written() {
        let text = r#"{"a":1,"fee":12.5,"b":{"fee":3},"c":"x,\"fee\":2","d":[1,{"fee":1}]}"#;
        let out = strip_members(text, &deny(&["fee"])).unwrap();
        assert_eq!(
            out,
            r#"{"a":1,"b":{"fee":3},"c":"x,\"fee\":2","d":[1,{"fee":1}]}"#
        );
        // Nothing to remove: the same text, not a copy.
        assert!(matches!(
            strip_members(text, &deny(&["nope"])).unwrap(),
            Cow::Borrowed(_)
        ));
        // Everything removed; escaped names are matched and written back escaped.
        assert_eq!(
            strip_members(r#"{"fee":1,"n\u00e4me":"x"}"#, &deny(&["fee", "näme"])).unwrap(),
            "{}"
        );
        let kept = strip_members(r#"{"fee":1,"q\"uote":2}"#, &deny(&["fee"])).unwrap();
        assert_eq!(
            serde_json::from_str::<Value>(&kept).unwrap(),
            json!({"q\"uote": 2})
        );
        assert!(strip_members("[1]", &deny(&["fee"])).is_err());
    }

    /// A random JSON value of some depth, as text, with odd strings (escapes, quotes,
    /// braces, non-ASCII) and spacing.
    fn random_json(rng: &mut rand_chacha::ChaCha8Rng, depth: u32) -> String {
        use rand::Rng;
        let strings = [
            "a", "", "x\\\"y", "{[}]", "协和", "\\\\", "a,b:c", "\\u00e4",
        ];
        let sp = |rng: &mut rand_chacha::ChaCha8Rng| if rng.random_bool(0.2) { " " } else { "" };
        match rng.random_range(0..if depth == 0 { 4 } else { 6 }) {
            0 => format!("{}", rng.random_range(-1000..1000) as f64 / 8.0),
            1 => ["true", "false", "null"][rng.random_range(0..3)].to_owned(),
            2 | 3 => format!("\"{}\"", strings[rng.random_range(0..strings.len())]),
            4 => {
                let n = rng.random_range(0..4);
                let items: Vec<String> = (0..n).map(|_| random_json(rng, depth - 1)).collect();
                format!("[{}{}]", sp(rng), items.join(&format!(",{}", sp(rng))))
            }
            _ => random_object(rng, depth - 1),
        }
    }

    fn random_object(rng: &mut rand_chacha::ChaCha8Rng, depth: u32) -> String {
        use rand::Rng;
        let keys = ["fee", "a", "b", "status", "fee2", "f\\u0065e", "cost"];
        let n = rng.random_range(0..6);
        let mut used = Vec::new();
        let members: Vec<String> = (0..n)
            .filter_map(|_| {
                let k = keys[rng.random_range(0..keys.len())];
                if used.contains(&k) {
                    return None;
                }
                used.push(k);
                let sp = if rng.random_bool(0.3) { " " } else { "" };
                Some(format!("\"{k}\"{sp}:{sp}{}", random_json(rng, depth)))
            })
            .collect();
        format!("{{{}}}", members.join(","))
    }

    #[test]
    fn the_scanner_agrees_with_serde_json_on_random_objects() {
        use rand::SeedableRng;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let deny = deny(&["fee", "cost"]);
        let (mut scanned, mut fell_back) = (0, 0);
        for _ in 0..3000 {
            let text = random_object(&mut rng, 3);
            let expected: Value = {
                let mut v: Value = serde_json::from_str(&text).unwrap();
                let o = v.as_object_mut().unwrap();
                o.remove("fee");
                o.remove("cost");
                v
            };
            let mut out = String::new();
            match scan_into(&text, &Cut::Deny(&deny), &mut out) {
                Some(true) => scanned += 1,
                Some(false) => out = text.clone(),
                None => {
                    fell_back += 1;
                    out = strip_members_parsed(&text, &Cut::Deny(&deny))
                        .unwrap()
                        .into_owned();
                }
            }
            let got: Value =
                serde_json::from_str(&out).unwrap_or_else(|e| panic!("{text} → {out}: {e}"));
            assert_eq!(got, expected, "{text} → {out}");
            assert_eq!(strip_members(&text, &deny).unwrap(), out, "{text}");
        }
        assert!(
            scanned > 500 && fell_back > 0,
            "{scanned} scanned, {fell_back} fell back"
        );
        // Not JSON at all: the general way says so.
        assert!(strip_members("{\"a\":", &deny).is_err());
    }

    fn strip_row(row: &str, deny: &[String]) -> String {
        let mut out = String::new();
        strip_row_into(row, &Cut::Deny(deny), &mut out).unwrap();
        out
    }

    #[test]
    fn a_page_row_loses_the_denied_fields_of_its_data_only() {
        let row = r#"{"id":7,"created_by":"a,\"data\":{\"fee\":1}","deleted_at":"2026-01-01T00:00:00Z","data":{"fee":9,"status":"ok"}}"#;
        let out = strip_row(row, &deny(&["fee", "created_by"]));
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["data"], json!({"status": "ok"}));
        assert_eq!(v["created_by"], r#"a,"data":{"fee":1}"#);
        assert_eq!(v["deleted_at"], "2026-01-01T00:00:00Z");
        assert_eq!(strip_row(row, &deny(&["other"])), row);
        // A row whose data the scanner cannot take (an escaped name) goes the general way.
        let odd = r#"{"id":1,"data":{"f\u0065e":2,"a":1}}"#;
        assert_eq!(
            strip_row(odd, &deny(&["fee"])),
            r#"{"id":1,"data":{"a":1}}"#
        );
    }

    #[test]
    fn a_keep_cut_leaves_only_the_named_members() {
        let keep = deny(&["status", "c", "nope"]);
        let row = r#"{"id":7,"data":{"fee":9,"status":"ok","b":{"status":1},"c":"x"}}"#;
        let mut out = String::new();
        strip_row_into(row, &Cut::Keep(&keep), &mut out).unwrap();
        assert_eq!(out, r#"{"id":7,"data":{"status":"ok","c":"x"}}"#);
        // An escaped name that spells a kept one is kept (the general way decides).
        let odd = r#"{"id":1,"data":{"st\u0061tus":2,"a":1}}"#;
        out.clear();
        strip_row_into(odd, &Cut::Keep(&keep), &mut out).unwrap();
        assert_eq!(out, r#"{"id":1,"data":{"status":2}}"#);
        // A row as PostgreSQL writes it (spaced members), with denied and kept cuts.
        let spaced = r#"{"id" : 3, "note" : "x, \"data\" : {}", "data" : {"c": "y", "fee": 2, "status": "ok"}}"#;
        out.clear();
        strip_row_into(spaced, &Cut::Keep(&keep), &mut out).unwrap();
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(
            v,
            json!({"id": 3, "note": "x, \"data\" : {}", "data": {"c": "y", "status": "ok"}})
        );
        out.clear();
        strip_row_into(spaced, &Cut::Deny(&deny(&["fee"])), &mut out).unwrap();
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["data"], json!({"c": "y", "status": "ok"}));
    }
}
