//! Deterministic demo data for any app, driven by its form schemas and the package's
//! `demo.json` (counts per scale) plus `x-demo` hints. Records go through the normal
//! record service (validation, serial numbers, operation log), in bulk chunks.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::path::Path;

use crate::error::DomainError;
use crate::schema::field_types::{FieldKind, uscc_with_check};
use crate::schema::model::FieldSpec;
use crate::startup::Services;
use crate::store::oplog::Actor;

const CHUNK: usize = 500;
const REGIONS: &[(&str, &str, &str)] = &[
    ("北京市", "北京市", "东城区"),
    ("上海市", "上海市", "徐汇区"),
    ("广东省", "广州市", "越秀区"),
    ("广东省", "深圳市", "南山区"),
    ("浙江省", "杭州市", "西湖区"),
    ("四川省", "成都市", "武侯区"),
    ("湖北省", "武汉市", "洪山区"),
    ("江苏省", "南京市", "鼓楼区"),
];

pub async fn generate(
    services: &Services,
    package: &Path,
    scale: &str,
    seed: Option<u64>,
    if_empty: bool,
) -> anyhow::Result<String> {
    let (app_def, _) = super::package::load(package)?;
    let app = app_def["key"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("app.json has no key"))?
        .to_owned();
    let demo: Value = serde_json::from_str(&std::fs::read_to_string(package.join("demo.json"))?)?;
    let counts = demo["scales"][scale]
        .as_object()
        .ok_or_else(|| anyhow::anyhow!("demo.json has no scale {scale:?}"))?
        .clone();
    if if_empty {
        let row = services
            .db
            .query_one(
                "SELECT COUNT(*) AS n FROM records WHERE app = $1",
                vec![app.clone().into()],
            )
            .await?;
        if row
            .map(|r| r.try_get::<i64>("", "n"))
            .transpose()?
            .unwrap_or(0)
            > 0
        {
            return Ok(format!(
                "app {app} already has records; no demo data generated"
            ));
        }
    }
    let people = demo_people(services, &app, &demo).await?;
    let seed = seed.or_else(|| demo["seed"].as_u64()).unwrap_or(1);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut caller = crate::auth::Caller::system();
    caller.actor = Actor {
        user: "demo".into(),
        department: None,
        address: None,
        client: Some("formwork demo-data".into()),
    };
    let mut ids: HashMap<String, Vec<i64>> = HashMap::new();
    let mut summary = Vec::new();
    let started = std::time::Instant::now();
    for (form, count) in &counts {
        let count = count.as_u64().unwrap_or(0) as usize;
        let compiled = services.forms.current(&app, form).await?;
        let mut made = Vec::with_capacity(count);
        let mut skipped = 0;
        let mut guarded = 0;
        let mut last_reason: Option<String> = None;
        let mut n = 0;
        while n < count {
            let size = CHUNK.min(count - n);
            let mut bodies: Vec<Value> = (0..size)
                .map(|i| json!({"data": record(&compiled.model.fields, n + i + 1, &ids, &mut rng)}))
                .collect();
            let mut attempt = 0;
            loop {
                match services
                    .records
                    .create_many(&app, form, bodies.clone(), &caller, true)
                    .await
                {
                    Ok(created) => {
                        made.extend(created.iter().filter_map(|r| r["id"].as_i64()));
                        break;
                    }
                    // A before-write guard refused items (e.g. an order for a customer
                    // without a licence): leave them out, as a clerk would be stopped.
                    Err(DomainError::Invalid { details, .. })
                        if !details.is_empty() && details.iter().all(|d| d.rule == "guard") =>
                    {
                        let mut bad: Vec<usize> = details
                            .iter()
                            .filter_map(|d| {
                                d.pointer
                                    .strip_prefix("/items/")?
                                    .split('/')
                                    .next()?
                                    .parse()
                                    .ok()
                            })
                            .collect();
                        bad.sort_unstable();
                        bad.dedup();
                        if bad.is_empty() {
                            return Err(anyhow::anyhow!("{form}: {}", details[0].message));
                        }
                        for i in bad.iter().rev() {
                            bodies.remove(*i);
                            guarded += 1;
                        }
                        if bodies.is_empty() {
                            break;
                        }
                    }
                    Err(DomainError::Invalid { details, .. }) if attempt < 6 => {
                        attempt += 1;
                        let mut bad: Vec<usize> = details
                            .iter()
                            .filter_map(|d| {
                                d.pointer
                                    .strip_prefix("/items/")?
                                    .split('/')
                                    .next()?
                                    .parse()
                                    .ok()
                            })
                            .collect();
                        bad.sort_unstable();
                        bad.dedup();
                        for i in bad.iter().rev() {
                            if attempt < 5 {
                                bodies[*i] = json!({"data": record(&compiled.model.fields, n + i + 1, &ids, &mut rng)});
                            } else {
                                bodies.remove(*i);
                                skipped += 1;
                                if last_reason.is_none() {
                                    last_reason = details
                                        .iter()
                                        .find(|d| d.pointer.starts_with(&format!("/items/{i}/")))
                                        .map(|d| format!("{} {}", d.pointer, d.message));
                                }
                            }
                        }
                        if bodies.is_empty() {
                            break;
                        }
                    }
                    Err(e) => return Err(anyhow::anyhow!("{form}: {e}")),
                }
            }
            n += size;
        }
        summary.push(format!(
            "{form}: {}{}{}",
            made.len(),
            match (&last_reason, skipped) {
                (_, 0) => String::new(),
                (Some(r), n) =>
                    format!(" ({n} skipped: generated values break the form's rules, e.g. {r})"),
                (None, n) => format!(" ({n} skipped)"),
            },
            if guarded > 0 {
                format!(" ({guarded} refused by a before-write guard)")
            } else {
                String::new()
            }
        ));
        ids.insert(form.clone(), made);
    }
    Ok(format!(
        "demo data for {app} ({scale}, seed {seed}) in {:.1}s\n  {}{people}",
        started.elapsed().as_secs_f64(),
        summary.join("\n  ")
    ))
}

/// The departments and staff of demo.json, each user with their roles in the app. Their
/// password is `FORMWORK_DEMO_PASSWORD` or a generated one, shown once in the summary.
async fn demo_people(services: &Services, app: &str, demo: &Value) -> anyhow::Result<String> {
    let caller = crate::auth::Caller::system();
    let empty = vec![];
    let departments = demo["departments"].as_array().unwrap_or(&empty);
    let users = demo["users"].as_array().unwrap_or(&empty);
    if users.is_empty() && departments.is_empty() {
        return Ok(String::new());
    }
    let existing: Vec<String> = services
        .auth
        .list_departments()
        .await?
        .iter()
        .filter_map(|d| d["id"].as_str().map(str::to_owned))
        .collect();
    // Heads are users, so a new department gets its head once the users exist.
    let mut new_departments = Vec::new();
    for d in departments {
        let id = d["id"].as_str().unwrap_or_default();
        if !existing.iter().any(|e| e == id) {
            let mut without_head = d.clone();
            if let Some(o) = without_head.as_object_mut() {
                o.remove("head");
            }
            services
                .auth
                .put_department(&caller, id, &without_head)
                .await?;
            new_departments.push(d);
        }
    }
    let password = std::env::var("FORMWORK_DEMO_PASSWORD")
        .ok()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| crate::auth::password::random_secret()[..16].to_owned());
    let mut made = Vec::new();
    for u in users {
        let name = u["username"].as_str().unwrap_or_default();
        if services.auth.user_row(name).await.is_ok() {
            continue;
        }
        let mut body = u.clone();
        body["password"] = json!(password);
        body["roles"] = json!({ app: u["roles"] });
        services.auth.create_user(&caller, &body).await?;
        made.push(name.to_owned());
    }
    for d in new_departments {
        if d.get("head").is_some_and(Value::is_string) {
            let id = d["id"].as_str().unwrap_or_default();
            services.auth.put_department(&caller, id, d).await?;
        }
    }
    if made.is_empty() {
        return Ok(String::new());
    }
    Ok(format!(
        "\n  demo staff ({}): password {password:?}",
        made.join(", ")
    ))
}

fn record(
    fields: &indexmap::IndexMap<String, FieldSpec>,
    n: usize,
    ids: &HashMap<String, Vec<i64>>,
    rng: &mut ChaCha8Rng,
) -> Value {
    let mut out = Map::new();
    for f in fields.values() {
        let required = true;
        if !required && rng.random_bool(0.2) {
            continue;
        }
        if let Some(v) = value(f, n, ids, rng) {
            out.insert(f.key.clone(), v);
        }
    }
    // `{"after": field, "hours" | "days": [min, max]}`: a time some while after another
    // field of the same record (accepted after reported, resolved after arrived, …), so
    // durations between them come out positive. Chains resolve in as many passes as needed.
    let mut pending: Vec<&FieldSpec> = fields
        .values()
        .filter(|f| {
            f.schema
                .get("x-demo")
                .and_then(|h| h.get("after"))
                .is_some()
        })
        .collect();
    let mut done: std::collections::HashSet<String> = std::collections::HashSet::new();
    for _ in 0..pending.len() + 1 {
        let before = pending.len();
        pending.retain(|f| {
            let h = &f.schema["x-demo"];
            let base = h["after"].as_str().unwrap_or("");
            let waits = fields.values().any(|g| {
                g.key == base
                    && g.schema
                        .get("x-demo")
                        .and_then(|x| x.get("after"))
                        .is_some()
            }) && !done.contains(base);
            if waits {
                return true;
            }
            match after(out.get(base), h, f.kind, rng) {
                Some(v) => {
                    out.insert(f.key.clone(), v);
                }
                None => {
                    out.remove(&f.key);
                }
            }
            done.insert(f.key.clone());
            false
        });
        if pending.len() == before {
            break;
        }
    }
    Value::Object(out)
}

/// A date or date-time `hint.hours` / `hint.days` ([min, max]) after `base`; none when the
/// base is missing or not a date.
fn after(
    base: Option<&Value>,
    hint: &Value,
    kind: Option<FieldKind>,
    rng: &mut ChaCha8Rng,
) -> Option<Value> {
    let text = base?.as_str()?;
    let (unit, range) = match (hint.get("hours"), hint.get("days")) {
        (Some(r), _) => (3600.0, r),
        (None, Some(r)) => (86_400.0, r),
        _ => return None,
    };
    let lo = range.get(0)?.as_f64()?;
    let hi = range.get(1)?.as_f64()?.max(lo);
    let secs = (rng.random_range(lo..=hi) * unit) as i64;
    if kind == Some(FieldKind::Date) {
        let d = chrono::NaiveDate::parse_from_str(text.get(..10)?, "%Y-%m-%d").ok()?;
        return Some(Value::String(
            (d + chrono::Duration::seconds(secs))
                .format("%Y-%m-%d")
                .to_string(),
        ));
    }
    let t = chrono::DateTime::parse_from_rfc3339(text).ok()?;
    let later = t + chrono::Duration::seconds(secs - secs % 60);
    Some(Value::String(
        later.to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
    ))
}

fn value(
    f: &FieldSpec,
    n: usize,
    ids: &HashMap<String, Vec<i64>>,
    rng: &mut ChaCha8Rng,
) -> Option<Value> {
    let s = &f.schema;
    let hint = s.get("x-demo");
    if let Some(list) = hint
        .and_then(|h| h.get("values"))
        .and_then(Value::as_array)
        .filter(|l| !l.is_empty())
    {
        return Some(list[rng.random_range(0..list.len())].clone());
    }
    if let Some(t) = hint.and_then(|h| h.get("template")).and_then(Value::as_str) {
        return Some(Value::String(t.replace("{n}", &n.to_string())));
    }
    let range = hint.and_then(|h| h.get("range")).and_then(Value::as_array);
    let num_range = |lo: f64, hi: f64| -> (f64, f64) {
        match range {
            Some(r) if r.len() == 2 => (r[0].as_f64().unwrap_or(lo), r[1].as_f64().unwrap_or(hi)),
            _ => (
                s.get("minimum").and_then(Value::as_f64).unwrap_or(lo),
                s.get("maximum").and_then(Value::as_f64).unwrap_or(hi),
            ),
        }
    };
    let day_range = || -> (i64, i64) {
        let parse = |v: &Value| {
            v.as_str()
                .and_then(|t| {
                    chrono::NaiveDate::parse_from_str(&t[..t.len().min(10)], "%Y-%m-%d").ok()
                })
                .map(|d| d.num_days_from_ce() as i64)
        };
        match range {
            Some(r) if r.len() == 2 => (
                parse(&r[0]).unwrap_or(738_886),
                parse(&r[1]).unwrap_or(739_556),
            ),
            _ => (738_886, 739_556),
        }
    };
    let enum_values = |s: &Value| {
        s.get("enum")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    use chrono::Datelike;
    Some(match f.kind? {
        FieldKind::Text | FieldKind::LongText => {
            Value::String(format!("{} {n}", f.key.replace('_', " ")))
        }
        FieldKind::Number => {
            let (lo, hi) = num_range(0.0, 1000.0);
            json!((rng.random_range(lo..=hi) * 10.0).round() / 10.0)
        }
        FieldKind::Integer => {
            let (lo, hi) = num_range(0.0, 100.0);
            json!(rng.random_range(lo as i64..=hi as i64))
        }
        FieldKind::Money => {
            let (lo, hi) = num_range(0.0, 100_000.0);
            json!((rng.random_range(lo..=hi) * 100.0).round() / 100.0)
        }
        FieldKind::Date | FieldKind::Datetime => {
            let (lo, hi) = day_range();
            let d = chrono::NaiveDate::from_num_days_from_ce_opt(rng.random_range(lo..=hi) as i32)?;
            if f.kind == Some(FieldKind::Date) {
                Value::String(d.format("%Y-%m-%d").to_string())
            } else {
                let secs = rng.random_range(8 * 3600..20 * 3600);
                Value::String(format!(
                    "{}T{:02}:{:02}:00+08:00",
                    d.format("%Y-%m-%d"),
                    secs / 3600,
                    (secs / 60) % 60
                ))
            }
        }
        FieldKind::Select => {
            let e = enum_values(s);
            if e.is_empty() {
                return None;
            }
            e[rng.random_range(0..e.len())].clone()
        }
        FieldKind::MultiSelect => {
            let e = enum_values(s.get("items")?);
            let mut pick: Vec<Value> = e.into_iter().filter(|_| rng.random_bool(0.4)).collect();
            pick.truncate(3);
            Value::Array(pick)
        }
        FieldKind::Boolean => Value::Bool(rng.random_bool(0.5)),
        FieldKind::Email => Value::String(format!("user{n}@example.cn")),
        FieldKind::CnMobile => {
            Value::String(format!("13{:09}", rng.random_range(0..1_000_000_000u64)))
        }
        FieldKind::Uscc => {
            Value::String(uscc_with_check(&format!("91110108MA{:07}", n % 10_000_000)))
        }
        FieldKind::Region => {
            let (p, c, d) = REGIONS[rng.random_range(0..REGIONS.len())];
            json!({"province": p, "city": c, "district": d})
        }
        FieldKind::Member => Value::String(format!("user{}", rng.random_range(1..=20))),
        FieldKind::Department => Value::String(format!("dept{}", rng.random_range(1..=5))),
        FieldKind::Reference => {
            let pool = ids.get(f.ref_form.as_deref()?)?;
            if pool.is_empty() {
                return None;
            }
            json!(pool[rng.random_range(0..pool.len())])
        }
        FieldKind::SubTable => {
            // Rows whose required columns cannot be filled (say, a reference to a form
            // with no records yet) are left out rather than sent invalid.
            let required: Vec<&str> = s
                .pointer("/items/required")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let rows = rng.random_range(0..=3);
            Value::Array(
                (0..rows)
                    .map(|i| record(&f.children, n * 10 + i, ids, rng))
                    .filter(|row| required.iter().all(|k| row.get(*k).is_some()))
                    .collect(),
            )
        }
        FieldKind::Attachment | FieldKind::Signature | FieldKind::Serial | FieldKind::Computed => {
            return None;
        }
    })
}
