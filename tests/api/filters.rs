//! Filters, sorts and cursors: the SQL the server runs selects and orders exactly the
//! records that an in-memory evaluation of the same filter does, on both databases — an
//! evaluator written here from the documented rules, independent of the server's.

use formwork::query::fields::Scope;
use formwork::query::filter::Filter;
use formwork::query::sort::{compare_records, parse_sort};
use formwork::schema::model::FormModel;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Value, json};

use crate::helpers::{TestApp, expect};
use crate::on_both_stores;

const WORDS: &[&str] = &[
    "alpha",
    "beta",
    "Alpha",
    "gamma",
    "协和",
    "协和医院",
    "",
    "b",
];
const PARTS: &[&str] = &["P1", "P2", "P3"];

fn schema() -> Value {
    json!({"type": "object", "properties": {
        "s": {"type": ["string", "null"], "x-indexed": true},
        "n": {"type": ["number", "null"], "x-indexed": true},
        "i": {"type": ["integer", "null"]},
        "b": {"type": ["boolean", "null"]},
        "tags": {"type": ["array", "null"], "items": {"type": "string"}},
        "region": {"type": ["object", "null"], "properties": {"province": {"type": "string"}}},
        "lines": {"type": ["array", "null"], "items": {"type": "object", "properties": {
            "part": {"type": "string"}, "qty": {"type": "integer"}
        }}}
    }})
}

fn pick<'a, T>(rng: &mut ChaCha8Rng, xs: &'a [T]) -> &'a T {
    &xs[rng.random_range(0..xs.len())]
}

fn random_record(rng: &mut ChaCha8Rng) -> Value {
    let mut d = serde_json::Map::new();
    let mut maybe = |rng: &mut ChaCha8Rng, k: &str, v: Value| match rng.random_range(0..10) {
        0 => {}
        1 => {
            d.insert(k.into(), Value::Null);
        }
        _ => {
            d.insert(k.into(), v);
        }
    };
    let s = json!(pick(rng, WORDS));
    maybe(rng, "s", s);
    let n = json!(rng.random_range(-5..6) as f64 / 2.0);
    maybe(rng, "n", n);
    let i = json!(rng.random_range(-3..4));
    maybe(rng, "i", i);
    let b = json!(rng.random_bool(0.5));
    maybe(rng, "b", b);
    let tags: Vec<Value> = (0..rng.random_range(0..3))
        .map(|_| json!(pick(rng, WORDS)))
        .collect();
    maybe(rng, "tags", Value::Array(tags));
    let region = json!({"province": pick(rng, &["北京市", "上海市"])});
    maybe(rng, "region", region);
    let lines: Vec<Value> = (0..rng.random_range(0..3))
        .map(|_| json!({"part": pick(rng, PARTS), "qty": rng.random_range(0..4)}))
        .collect();
    maybe(rng, "lines", Value::Array(lines));
    Value::Object(d)
}

fn leaf(rng: &mut ChaCha8Rng, ids: &[i64]) -> Value {
    let cmp = *pick(rng, &["==", "!=", "<", "<=", ">", ">="]);
    match rng.random_range(0..13) {
        0 => json!({cmp: [{"var": "s"}, pick(rng, WORDS)]}),
        1 => json!({cmp: [{"var": "n"}, rng.random_range(-5..6) as f64 / 2.0]}),
        2 => json!({cmp: [rng.random_range(-3..4), {"var": "i"}]}),
        3 => json!({*pick(rng, &["==", "!="]): [{"var": "b"}, rng.random_bool(0.5)]}),
        4 => {
            json!({*pick(rng, &["<", "<="]): [rng.random_range(-3..1), {"var": "n"}, rng.random_range(0..3)]})
        }
        5 => json!({"in": [{"var": "s"}, [pick(rng, WORDS), pick(rng, WORDS)]]}),
        6 => json!({"in": [pick(rng, &["al", "协和", "a", "医院"]), {"var": "s"}]}),
        7 => json!({"in": [pick(rng, WORDS), {"var": "tags"}]}),
        8 => json!({"starts_with": [{"var": "s"}, pick(rng, &["al", "Al", "协", ""])]}),
        9 => {
            json!({*pick(rng, &["==", "!="]): [{"var": *pick(rng, &["s", "n", "tags", "lines", "region.province"])}, null]})
        }
        10 => {
            json!({*pick(rng, &["some", "none"]): [{"var": "lines"}, {"and": [{"==": [{"var": "part"}, pick(rng, PARTS)]}, {">=": [{"var": "qty"}, rng.random_range(0..4)]}]}]})
        }
        11 => match rng.random_range(0..3) {
            0 => json!({cmp: [{"var": "_id"}, ids[rng.random_range(0..ids.len())]]}),
            1 => json!({cmp: [{"var": "_row_version"}, rng.random_range(0..3)]}),
            _ => {
                json!({cmp: [{"var": *pick(rng, &["_created_by", "_owner"])}, pick(rng, &["admin", "nobody"])]})
            }
        },
        _ => json!({"==": [{"var": "region.province"}, pick(rng, &["北京市", "上海市"])]}),
    }
}

fn random_filter(rng: &mut ChaCha8Rng, ids: &[i64], depth: u32) -> Value {
    if depth == 0 || rng.random_bool(0.4) {
        return leaf(rng, ids);
    }
    match rng.random_range(0..3) {
        0 => {
            json!({"and": (0..rng.random_range(1..4)).map(|_| random_filter(rng, ids, depth - 1)).collect::<Vec<_>>()})
        }
        1 => {
            json!({"or": (0..rng.random_range(1..4)).map(|_| random_filter(rng, ids, depth - 1)).collect::<Vec<_>>()})
        }
        _ => json!({"!": random_filter(rng, ids, depth - 1)}),
    }
}

/// The reference the SQL is checked against, written here from the filter language's
/// documented rules (docs/api.md, "Filters") and sharing no code with the server's parser
/// or evaluator: a field compares only when it holds a value (a missing or null field makes
/// every comparison false, so `!=` is true for it); `in` is membership in a list, a
/// substring of a text or an element of a list field; `some`/`none` look at a sub-table's
/// rows; numbers compare as numbers, texts by code point.
fn reference(logic: &Value, record: &Value, row: Option<&Value>) -> bool {
    fn lookup<'a>(var: &Value, record: &'a Value, row: Option<&'a Value>) -> Option<&'a Value> {
        let name = var.get("var")?.as_str()?;
        let base = match (row, name) {
            (Some(r), _) => r,
            // System fields: `_id`, `_created_by`, `_row_version`, … of the record.
            (None, n) if n.starts_with('_') => return record.get(&n[1..]).filter(|v| !v.is_null()),
            (None, _) => &record["data"],
        };
        let mut v = base;
        for seg in name.split('.') {
            v = v.get(seg)?;
        }
        (!v.is_null()).then_some(v)
    }
    fn order(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
        match (a, b) {
            (Value::Number(x), Value::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
            (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
            (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
            _ => None,
        }
    }
    let (op, args) = logic.as_object().unwrap().iter().next().unwrap();
    let args: Vec<&Value> = match args {
        Value::Array(a) => a.iter().collect(),
        one => vec![one],
    };
    // (a field and a literal, either way round; `flipped` when the literal came first)
    let field_and_value = || -> (Option<&Value>, &Value, bool) {
        if args[0].get("var").is_some() {
            (lookup(args[0], record, row), args[1], false)
        } else {
            (lookup(args[1], record, row), args[0], true)
        }
    };
    use std::cmp::Ordering::*;
    match op.as_str() {
        "and" => args.iter().all(|a| reference(a, record, row)),
        "or" => args.iter().any(|a| reference(a, record, row)),
        "!" => !reference(args[0], record, row),
        "==" | "!=" if args.iter().any(|a| a.is_null()) => {
            let (field, _, _) = field_and_value();
            field.is_none() == (op == "==")
        }
        "==" => {
            let (field, v, _) = field_and_value();
            field.is_some_and(|f| order(f, v) == Some(Equal))
        }
        "!=" => {
            let (field, v, _) = field_and_value();
            field.is_none_or(|f| order(f, v) != Some(Equal))
        }
        "<" | "<=" | ">" | ">=" if args.len() == 3 => {
            // between: lo < x < hi (or <=)
            let Some(x) = lookup(args[1], record, row) else {
                return false;
            };
            let ok = |o: Option<std::cmp::Ordering>| {
                matches!(
                    (op.as_str(), o),
                    ("<", Some(Less)) | ("<=", Some(Less | Equal))
                )
            };
            ok(order(args[0], x)) && ok(order(x, args[2]))
        }
        "<" | "<=" | ">" | ">=" => {
            let (field, v, flipped) = field_and_value();
            let Some(f) = field else { return false };
            let o = if flipped { order(v, f) } else { order(f, v) };
            matches!(
                (op.as_str(), o),
                ("<", Some(Less))
                    | ("<=", Some(Less | Equal))
                    | (">", Some(Greater))
                    | (">=", Some(Greater | Equal))
            )
        }
        "in" => match (args[0].get("var"), args[1]) {
            (Some(_), Value::Array(list)) => lookup(args[0], record, row)
                .is_some_and(|f| list.iter().any(|x| order(f, x) == Some(Equal))),
            _ => match lookup(args[1], record, row) {
                Some(Value::String(text)) => text.contains(args[0].as_str().unwrap()),
                Some(Value::Array(items)) => items.iter().any(|x| order(x, args[0]) == Some(Equal)),
                _ => false,
            },
        },
        "starts_with" => match lookup(args[0], record, row) {
            Some(Value::String(text)) => text.starts_with(args[1].as_str().unwrap()),
            _ => false,
        },
        "some" | "none" => {
            let rows = lookup(args[0], record, None)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let some = rows
                .iter()
                .filter(|r| r.is_object())
                .any(|r| reference(args[1], record, Some(r)));
            some == (op == "some")
        }
        other => panic!("the reference has no {other}"),
    }
}

async fn seed(app: &TestApp, rng: &mut ChaCha8Rng) -> Vec<Value> {
    app.app("q").await;
    app.publish_ok("q", "rec", schema()).await;
    let items: Vec<Value> = (0..90)
        .map(|_| json!({"data": random_record(rng)}))
        .collect();
    let created = expect(
        app.post("/apps/q/forms/rec/records/bulk", &json!({"items": items}))
            .await,
        reqwest::StatusCode::CREATED,
    )
    .await;
    created["items"].as_array().unwrap().clone()
}

async fn fetch_all(
    app: &TestApp,
    filter: Option<&Value>,
    sort: Option<&str>,
    page: usize,
) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut q = vec![("limit", page.to_string())];
        if let Some(f) = filter {
            q.push(("filter", f.to_string()));
        }
        if let Some(s) = sort {
            q.push(("sort", s.to_owned()));
        }
        if let Some(c) = &cursor {
            q.push(("cursor", c.clone()));
        }
        let body = app.list("q", "rec", &q).await;
        out.extend(body["items"].as_array().unwrap().iter().cloned());
        match body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return out,
        }
        assert!(out.len() <= 1000, "pagination does not end");
    }
}

on_both_stores!(
    sql_filters_select_exactly_what_in_memory_evaluation_selects,
    |app: TestApp| async move {
        let mut rng = ChaCha8Rng::seed_from_u64(0xF0F0 + app.store as u64);
        let records = seed(&app, &mut rng).await;
        let ids: Vec<i64> = records.iter().map(|r| r["id"].as_i64().unwrap()).collect();
        let model = FormModel::from_schema(&schema());
        let scope = Scope::Root(&model);
        for case in 0..150 {
            let logic = random_filter(&mut rng, &ids, 3);
            let filter = Filter::parse(&logic, &scope, "/filter")
                .unwrap_or_else(|e| panic!("case {case}: {logic}: {e}"));
            let mut expected: Vec<i64> = records
                .iter()
                .filter(|r| reference(&logic, r, None))
                .map(|r| r["id"].as_i64().unwrap())
                .collect();
            expected.sort_unstable();
            // The server's own in-memory evaluation (flows' conditions, views) agrees.
            let mut evaluated: Vec<i64> = records
                .iter()
                .filter(|r| filter.matches(r, false))
                .map(|r| r["id"].as_i64().unwrap())
                .collect();
            evaluated.sort_unstable();
            assert_eq!(
                evaluated, expected,
                "case {case}: in memory, filter {logic}"
            );
            let body = app
                .list(
                    "q",
                    "rec",
                    &[
                        ("filter", logic.to_string()),
                        ("limit", "1000".into()),
                        ("total", "true".into()),
                    ],
                )
                .await;
            let mut got: Vec<i64> = body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["id"].as_i64().unwrap())
                .collect();
            got.sort_unstable();
            assert_eq!(got, expected, "case {case}: filter {logic}");
            assert_eq!(
                body["total"],
                expected.len(),
                "case {case}: total for {logic}"
            );
        }
    }
);

on_both_stores!(
    cursor_pages_follow_the_sort_order_without_gaps_or_repeats,
    |app: TestApp| async move {
        let mut rng = ChaCha8Rng::seed_from_u64(0xABC + app.store as u64);
        let records = seed(&app, &mut rng).await;
        let model = FormModel::from_schema(&schema());
        let scope = Scope::Root(&model);
        for sort in [
            "s",
            "-s",
            "n,-i",
            "-n,s",
            "b,-_id",
            "_created_at",
            "region.province,-n",
            "",
        ] {
            let keys = parse_sort(Some(sort), &scope).unwrap();
            let mut expected = records.clone();
            expected.sort_by(|a, b| compare_records(&keys, a, b));
            let expected: Vec<i64> = expected.iter().map(|r| r["id"].as_i64().unwrap()).collect();
            let got: Vec<i64> = fetch_all(&app, None, Some(sort).filter(|s| !s.is_empty()), 7)
                .await
                .iter()
                .map(|r| r["id"].as_i64().unwrap())
                .collect();
            assert_eq!(got, expected, "sort {sort:?}");
        }
        // Filter, sort and pages together.
        let logic = json!({"!=": [{"var": "s"}, "beta"]});
        let filter = Filter::parse(&logic, &scope, "").unwrap();
        let keys = parse_sort(Some("-s,n"), &scope).unwrap();
        let mut expected: Vec<&Value> = records
            .iter()
            .filter(|r| filter.matches(r, false))
            .collect();
        expected.sort_by(|a, b| compare_records(&keys, a, b));
        let expected: Vec<i64> = expected.iter().map(|r| r["id"].as_i64().unwrap()).collect();
        let got: Vec<i64> = fetch_all(&app, Some(&logic), Some("-s,n"), 5)
            .await
            .iter()
            .map(|r| r["id"].as_i64().unwrap())
            .collect();
        assert_eq!(got, expected);
    }
);

on_both_stores!(
    field_selection_and_expansion_shape_the_page,
    |app: TestApp| async move {
        app.app("q").await;
        app.publish_ok("q", "customer", json!({"type": "object", "properties": {"name": {"type": "string"}, "city": {"type": "string"}}})).await;
        app.publish_ok("q", "order", json!({"type": "object", "properties": {
        "customer": {"type": "integer", "x-type": "reference", "x-ref": {"form": "customer"}},
        "amount": {"type": "number"}, "note": {"type": "string"}
    }})).await;
        let c = app
            .create_ok("q", "customer", json!({"name": "协和", "city": "北京"}))
            .await;
        app.create_ok(
            "q",
            "order",
            json!({"customer": c["id"], "amount": 5, "note": "x"}),
        )
        .await;
        let page = app
            .list(
                "q",
                "order",
                &[
                    ("fields", "customer,amount".into()),
                    ("expand", "customer".into()),
                ],
            )
            .await;
        let item = &page["items"][0];
        assert_eq!(item["data"], json!({"customer": c["id"], "amount": 5}));
        assert_eq!(item["expand"]["customer"]["data"]["name"], "协和");
        // `fields` alone (the page cut as text, not parsed): exactly the asked fields.
        let shaped = app
            .list("q", "order", &[("fields", "amount,note".into())])
            .await;
        assert_eq!(
            shaped["items"][0]["data"],
            json!({"amount": 5, "note": "x"})
        );
        // The system columns are the same however the page is built (a plain list goes
        // out as JSON from the database, a shaped one is parsed first) and as a single read.
        let plain = app.list("q", "order", &[]).await;
        let one = expect(
            app.get(&format!("/apps/q/forms/order/records/{}", item["id"]))
                .await,
            reqwest::StatusCode::OK,
        )
        .await;
        for key in [
            "id",
            "form_version",
            "row_version",
            "created_at",
            "created_by",
            "updated_at",
            "updated_by",
            "owner",
        ] {
            assert_eq!(
                item[key], plain["items"][0][key],
                "{key}: shaped vs plain list"
            );
            assert_eq!(item[key], one[key], "{key}: list vs read");
        }
        let customer = expect(
            app.get(&format!("/apps/q/forms/customer/records/{}", c["id"]))
                .await,
            reqwest::StatusCode::OK,
        )
        .await;
        assert_eq!(
            item["expand"]["customer"], customer,
            "an expanded record is the record as read"
        );
        let r = app
            .client
            .get(app.url("/apps/q/forms/order/records"))
            .query(&[("expand", "note")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
        let r = app
            .client
            .get(app.url("/apps/q/forms/order/records"))
            .query(&[("fields", "nope")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
        let r = app
            .client
            .get(app.url("/apps/q/forms/order/records"))
            .query(&[("sort", "nope")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
        let r = app
            .client
            .get(app.url("/apps/q/forms/order/records"))
            .query(&[("filter", r#"{"<": [{"var": "note"}, 5]}"#)])
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status(),
            400,
            "comparing a text field with a number is refused"
        );
    }
);
