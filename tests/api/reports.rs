//! Reports (docs/reports.md): the polars engine against SQL `GROUP BY` on random data and
//! random definitions, permissions before aggregation, freshness after writes and after a
//! restart, drill-down counts, and the CRM's reports.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::BTreeMap;

use crate::crm::{self, AMOUNT_A, AMOUNT_B, FEE_1, FEE_2};
use crate::helpers::{Store, TestApp, expect, settings_for};
use crate::on_both_stores;

const CATEGORIES: &[&str] = &["a", "b", "c", "d", "e"];

pub(crate) async fn lab(app: &TestApp) {
    app.app("lab").await;
    app.publish_ok(
        "lab",
        "sample",
        json!({
            "type": "object",
            "properties": {
                "category": {"type": "string", "x-type": "select", "enum": CATEGORIES},
                "n": {"type": "number", "x-type": "number"},
                "k": {"type": "integer", "x-type": "integer"},
                "d": {"type": "string", "x-type": "date"},
                "t": {"type": "string", "x-type": "datetime"},
                "t2": {"type": "string", "x-type": "datetime"},
                "flag": {"type": "boolean", "x-type": "boolean"}
            }
        }),
    )
    .await;
}

/// Random records; every field is sometimes missing.
/// Create `n` random samples; their ids.
pub(crate) async fn seed_samples(app: &TestApp, rng: &mut ChaCha8Rng, n: usize) -> Vec<i64> {
    let mut ids = Vec::new();
    for _ in 0..n {
        let created = app.create_ok("lab", "sample", sample(rng)).await;
        ids.push(created["id"].as_i64().unwrap());
    }
    ids
}

/// A random sample's data.
fn sample(rng: &mut ChaCha8Rng) -> Value {
    {
        let mut data = serde_json::Map::new();
        if rng.random_bool(0.9) {
            data.insert(
                "category".into(),
                json!(CATEGORIES[rng.random_range(0..CATEGORIES.len())]),
            );
        }
        if rng.random_bool(0.85) {
            data.insert(
                "n".into(),
                json!((rng.random_range(0..20_000) as f64) / 100.0),
            );
        }
        if rng.random_bool(0.85) {
            data.insert("k".into(), json!(rng.random_range(0..100)));
        }
        if rng.random_bool(0.9) {
            data.insert(
                "d".into(),
                json!(format!(
                    "2025-{:02}-{:02}",
                    rng.random_range(1..=12),
                    rng.random_range(1..=28)
                )),
            );
        }
        if rng.random_bool(0.9) {
            // Some instants late in the evening UTC: the next day in Shanghai.
            let (day, hour) = (rng.random_range(1..=28), rng.random_range(0..24));
            let offset = if rng.random_bool(0.5) { "Z" } else { "+08:00" };
            let month = rng.random_range(1..=12);
            data.insert(
                "t".into(),
                json!(format!("2025-{month:02}-{day:02}T{hour:02}:30:00{offset}")),
            );
            // A later instant, up to four days on, to the minute.
            if rng.random_bool(0.8) {
                let t = chrono::DateTime::parse_from_rfc3339(&format!(
                    "2025-{month:02}-{day:02}T{hour:02}:30:00{offset}"
                ))
                .unwrap()
                    + chrono::Duration::minutes(rng.random_range(0..5760));
                data.insert("t2".into(), json!(t.to_rfc3339()));
            }
        }
        if rng.random_bool(0.9) {
            data.insert("flag".into(), json!(rng.random_bool(0.4)));
        }
        Value::Object(data)
    }
}

/// A dimension of the random reports: its definition and its SQL per store.
struct SqlDim {
    def: Value,
    sqlite: &'static str,
    postgres: &'static str,
}

fn dims() -> Vec<SqlDim> {
    vec![
        SqlDim {
            def: json!({"field": "category"}),
            sqlite: "json_extract(data, '$.category')",
            postgres: "data->>'category'",
        },
        SqlDim {
            def: json!({"field": "flag"}),
            sqlite: "CASE json_type(data, '$.flag') WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' END",
            postgres: "data->>'flag'",
        },
        SqlDim {
            def: json!({"field": "d", "bucket": "month"}),
            sqlite: "substr(json_extract(data, '$.d'), 1, 7)",
            postgres: "substr(data->>'d', 1, 7)",
        },
        SqlDim {
            def: json!({"field": "d", "bucket": "quarter", "key": "dq"}),
            sqlite: "substr(json_extract(data, '$.d'), 1, 4) || '-Q' || ((CAST(substr(json_extract(data, '$.d'), 6, 2) AS INTEGER) + 2) / 3)",
            postgres: "to_char((data->>'d')::date, 'YYYY-\"Q\"Q')",
        },
        SqlDim {
            def: json!({"field": "t", "bucket": "day"}),
            sqlite: "strftime('%Y-%m-%d', json_extract(data, '$.t'), '+8 hours')",
            postgres: "to_char((data->>'t')::timestamptz AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD')",
        },
        SqlDim {
            def: json!({"field": "t", "bucket": "month", "key": "tm"}),
            sqlite: "strftime('%Y-%m', json_extract(data, '$.t'), '+8 hours')",
            postgres: "to_char((data->>'t')::timestamptz AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM')",
        },
        SqlDim {
            def: json!({"field": "k", "bucket": {"width": 10}}),
            sqlite: "(CAST(json_extract(data, '$.k') AS INTEGER) / 10) * 10",
            postgres: "((data->>'k')::int / 10) * 10",
        },
        // ISO weeks (Monday) of a date; years of an instant in Shanghai.
        SqlDim {
            def: json!({"field": "d", "bucket": "week", "key": "dw"}),
            sqlite: "strftime('%G-W%V', json_extract(data, '$.d'))",
            postgres: "to_char((data->>'d')::date, 'IYYY-\"W\"IW')",
        },
        SqlDim {
            def: json!({"field": "t", "bucket": "year", "key": "ty"}),
            sqlite: "strftime('%Y', json_extract(data, '$.t'), '+8 hours')",
            postgres: "to_char((data->>'t')::timestamptz AT TIME ZONE 'Asia/Shanghai', 'YYYY')",
        },
        // ISO weeks and quarters of an instant in Shanghai (an evening in UTC may be the
        // next week's or quarter's there).
        SqlDim {
            def: json!({"field": "t", "bucket": "week", "key": "tw"}),
            sqlite: "strftime('%G-W%V', json_extract(data, '$.t'), '+8 hours')",
            postgres: "to_char((data->>'t')::timestamptz AT TIME ZONE 'Asia/Shanghai', 'IYYY-\"W\"IW')",
        },
        SqlDim {
            def: json!({"field": "t", "bucket": "quarter", "key": "tq"}),
            sqlite: "strftime('%Y', json_extract(data, '$.t'), '+8 hours') || '-Q' || ((CAST(strftime('%m', json_extract(data, '$.t'), '+8 hours') AS INTEGER) + 2) / 3)",
            postgres: "to_char((data->>'t')::timestamptz AT TIME ZONE 'Asia/Shanghai', 'YYYY-\"Q\"Q')",
        },
        // A number in bands of 12.5 (values are ≥ 0: truncation is the floor).
        SqlDim {
            def: json!({"field": "n", "bucket": {"width": 12.5}, "key": "nb"}),
            sqlite: "CAST(json_extract(data, '$.n') / 12.5 AS INTEGER) * 12.5",
            postgres: "floor((data->>'n')::float8 / 12.5) * 12.5",
        },
        // Days from a date to an instant's local date, in bands of 30 (floored: the
        // difference may be negative).
        SqlDim {
            def: json!({"key": "gap", "duration": {"from": "d", "to": "t", "unit": "days"}, "bucket": {"width": 30}}),
            sqlite: "(CAST(julianday(date(json_extract(data, '$.t'), '+8 hours')) - julianday(json_extract(data, '$.d')) AS INTEGER) - ((CAST(julianday(date(json_extract(data, '$.t'), '+8 hours')) - julianday(json_extract(data, '$.d')) AS INTEGER) % 30 + 30) % 30))",
            postgres: "((((data->>'t')::timestamptz AT TIME ZONE 'Asia/Shanghai')::date - (data->>'d')::date) - ((((data->>'t')::timestamptz AT TIME ZONE 'Asia/Shanghai')::date - (data->>'d')::date) % 30 + 30) % 30)",
        },
    ]
}

/// A measure of the random reports and its SQL aggregate per store. SQLite has no
/// percentile aggregate: there the SQL gathers each group's values (`json_group_array`)
/// and [`sqlite_quantile`] interpolates them as PostgreSQL's `percentile_cont` does.
fn measure(i: usize) -> (Value, &'static str, &'static str) {
    match i {
        0 => (json!({"agg": "count"}), "COUNT(*)", "COUNT(*)"),
        1 => (
            json!({"agg": "sum", "field": "n"}),
            "SUM(json_extract(data, '$.n'))",
            "SUM((data->>'n')::float8)",
        ),
        2 => (
            json!({"agg": "avg", "field": "n"}),
            "AVG(json_extract(data, '$.n'))",
            "AVG((data->>'n')::float8)",
        ),
        3 => (
            json!({"agg": "min", "field": "n"}),
            "MIN(json_extract(data, '$.n'))",
            "MIN((data->>'n')::float8)",
        ),
        4 => (
            json!({"agg": "max", "field": "k"}),
            "MAX(json_extract(data, '$.k'))",
            "MAX((data->>'k')::int)",
        ),
        5 => (
            json!({"agg": "count_distinct", "field": "category"}),
            "COUNT(DISTINCT json_extract(data, '$.category'))",
            "COUNT(DISTINCT data->>'category')",
        ),
        6 => (
            json!({"agg": "count_values", "field": "n"}),
            "COUNT(json_extract(data, '$.n'))",
            "COUNT(data->>'n')",
        ),
        7 => (
            json!({"agg": "share", "where": {"==": [{"var": "flag"}, true]}}),
            "AVG(CASE WHEN json_type(data, '$.flag') = 'true' THEN 1.0 ELSE 0.0 END)",
            "AVG(CASE WHEN data->>'flag' = 'true' THEN 1.0::float8 ELSE 0.0::float8 END)",
        ),
        8 => (
            json!({"agg": "count", "where": {">": [{"var": "n"}, 50]}}),
            "SUM(CASE WHEN json_extract(data, '$.n') > 50 THEN 1 ELSE 0 END)",
            "SUM(CASE WHEN (data->>'n')::float8 > 50 THEN 1 ELSE 0 END)",
        ),
        9 => (
            json!({"agg": "avg", "duration": {"from": "t", "to": "t2", "unit": "hours"}}),
            "AVG((strftime('%s', json_extract(data, '$.t2')) - strftime('%s', json_extract(data, '$.t'))) / 3600.0)",
            "AVG(EXTRACT(EPOCH FROM ((data->>'t2')::timestamptz - (data->>'t')::timestamptz))::float8 / 3600.0)",
        ),
        10 => (
            json!({"agg": "max", "duration": {"from": "d", "to": "t", "unit": "days"}}),
            "MAX(julianday(date(json_extract(data, '$.t'), '+8 hours')) - julianday(json_extract(data, '$.d')))",
            "MAX((((data->>'t')::timestamptz AT TIME ZONE 'Asia/Shanghai')::date - (data->>'d')::date)::float8)",
        ),
        // A formula over two measures of its own (keys h{j}a, h{j}b; see `expand`).
        11 => (
            json!({"agg": "formula", "expr": {"-": [{"var": "a"}, {"*": [{"var": "b"}, 2]}]}}),
            "COALESCE(SUM(json_extract(data, '$.n')), 0) - COUNT(*) * 2",
            "COALESCE(SUM((data->>'n')::float8), 0) - COUNT(*) * 2",
        ),
        // A ratio of two measures of its own (`a` / `b`, as the formula's).
        14 => (
            json!({"agg": "ratio", "of": ["a", "b"]}),
            "SUM(json_extract(data, '$.n')) * 1.0 / COUNT(*)",
            "SUM((data->>'n')::float8) / COUNT(*)",
        ),
        12 => (
            json!({"agg": "median", "field": "n"}),
            "json_group_array(json_extract(data, '$.n'))",
            "percentile_cont(0.5) WITHIN GROUP (ORDER BY (data->>'n')::float8)",
        ),
        13 => (
            json!({"agg": "percentile", "q": 0.9, "field": "k"}),
            "json_group_array(json_extract(data, '$.k'))",
            "percentile_cont(0.9) WITHIN GROUP (ORDER BY (data->>'k')::int)",
        ),
        _ => unreachable!("measure {i}"),
    }
}

/// On SQLite, measure `i`'s value from the gathered values of a group (the median and
/// percentile measures); other measures' SQL values as they are.
fn sqlite_quantile(i: usize, sql: Value) -> Value {
    let q = match i {
        12 => 0.5,
        13 => 0.9,
        _ => return sql,
    };
    let values: Vec<Value> = serde_json::from_str(sql.as_str().unwrap()).unwrap();
    let mut v: Vec<f64> = values.iter().filter_map(Value::as_f64).collect();
    if v.is_empty() {
        return Value::Null;
    }
    v.sort_by(f64::total_cmp);
    let pos = q * (v.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    json!(v[lo] + (v[hi] - v[lo]) * (pos - lo as f64))
}

/// The report's measures for measure `i` at position `j`: itself, keyed `m{j}`, after the
/// measures a formula reads (`a` → `h{j}a`: the sum of n; `b` → `h{j}b`: the rows).
fn expand(i: usize, j: usize) -> Vec<Value> {
    let mut m = measure(i).0;
    m["key"] = json!(format!("m{j}"));
    if m["agg"] != "formula" && m["agg"] != "ratio" {
        return vec![m];
    }
    let member = if m["agg"] == "formula" { "expr" } else { "of" };
    let text = m[member]
        .to_string()
        .replace("\"a\"", &format!("\"h{j}a\""))
        .replace("\"b\"", &format!("\"h{j}b\""));
    m[member] = serde_json::from_str(&text).unwrap();
    vec![
        json!({"key": format!("h{j}a"), "agg": "sum", "field": "n"}),
        json!({"key": format!("h{j}b"), "agg": "count"}),
        m,
    ]
}

/// A report filter and its SQL per store.
fn filter(i: usize) -> (Value, &'static str, &'static str) {
    match i {
        0 => (
            json!({">": [{"var": "n"}, 80]}),
            "json_extract(data, '$.n') > 80",
            "(data->>'n')::float8 > 80",
        ),
        1 => (
            json!({"in": [{"var": "category"}, ["a", "c"]]}),
            "json_extract(data, '$.category') IN ('a', 'c')",
            "data->>'category' IN ('a', 'c')",
        ),
        2 => (
            json!({"!=": [{"var": "category"}, "b"]}),
            "(json_extract(data, '$.category') IS NULL OR json_extract(data, '$.category') <> 'b')",
            "(data->>'category' IS NULL OR data->>'category' <> 'b')",
        ),
        _ => (
            json!({"and": [{">=": [{"var": "d"}, "2025-04-01"]}, {"==": [{"var": "flag"}, false]}]}),
            "json_extract(data, '$.d') >= '2025-04-01' AND json_type(data, '$.flag') = 'false'",
            "data->>'d' >= '2025-04-01' AND data->>'flag' = 'false'",
        ),
    }
}

/// A value as a comparable key: numbers as numbers, everything else as text.
pub(crate) fn norm(v: &Value) -> String {
    match v {
        Value::Null => "∅".into(),
        Value::Number(n) => format!("{:.6}", n.as_f64().unwrap()),
        Value::String(s) => match s.parse::<f64>() {
            Ok(f) if !s.contains('-') => format!("{f:.6}"),
            _ => s.clone(),
        },
        Value::Bool(b) => b.to_string(),
        other => other.to_string(),
    }
}

pub(crate) fn close(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0),
        _ => a.is_null() && b.is_null(),
    }
}

/// The cell of a SQL result column as JSON (numbers may come back as text or integers).
pub(crate) fn sql_value(r: &sea_orm::QueryResult, col: &str) -> Value {
    if let Ok(Some(v)) = r.try_get::<Option<f64>>("", col) {
        return json!(v);
    }
    if let Ok(Some(v)) = r.try_get::<Option<i64>>("", col) {
        return json!(v);
    }
    if let Ok(Some(v)) = r.try_get::<Option<i32>>("", col) {
        return json!(v);
    }
    if let Ok(Some(v)) = r.try_get::<Option<String>>("", col) {
        return json!(v);
    }
    Value::Null
}

async fn property(app: TestApp) {
    lab(&app).await;
    let seed = 20261123 + if app.store == Store::Postgres { 1 } else { 0 };
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut ids = seed_samples(&app, &mut rng, 220).await;
    let settings = settings_for(app.store, app.dir.path(), &app.db_url);
    let db = formwork::store::db::Db::connect(&settings.database)
        .await
        .unwrap();
    let pg = app.store == Store::Postgres;
    // A reader who sees the samples with k below 50 only: their runs count those rows.
    let role = json!({"key": "low_k", "label": {"en": "Low k"}, "permissions": {
        "sample": {"actions": ["read"], "rows": {"filter": {"<": [{"var": "k"}, 50]}}, "read": ["*"]}}});
    expect(
        app.put("/apps/lab/roles/low_k", &role).await,
        StatusCode::OK,
    )
    .await;
    let reader = crate::flows::user(&app, "low_k_reader").await;
    expect(
        app.put(
            "/admin/users/low_k_reader/roles",
            &json!({"lab": ["low_k"]}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let scope_sql = if pg {
        "(data->>'k')::int < 50"
    } else {
        "CAST(json_extract(data, '$.k') AS INTEGER) < 50"
    };
    let all_dims = dims();
    let (mut top_n_cases, mut reader_cases, mut sorted_cases) = (0, 0, 0);
    for case in 0..80 {
        // Between runs, now and then, a few writes: a run must see them (the report
        // cache's new rows and dead rows, and any groups it keeps per base).
        if case % 3 == 2 {
            for _ in 0..rng.random_range(1..=4) {
                match rng.random_range(0..3) {
                    0 => {
                        let id = ids[rng.random_range(0..ids.len())];
                        let data = sample(&mut rng);
                        expect(
                            app.put(
                                &format!("/apps/lab/forms/sample/records/{id}"),
                                &json!({ "data": data }),
                            )
                            .await,
                            StatusCode::OK,
                        )
                        .await;
                    }
                    1 => {
                        let id = ids.swap_remove(rng.random_range(0..ids.len()));
                        expect(
                            app.delete(&format!("/apps/lab/forms/sample/records/{id}"))
                                .await,
                            StatusCode::OK,
                        )
                        .await;
                    }
                    _ => {
                        let created = app.create_ok("lab", "sample", sample(&mut rng)).await;
                        ids.push(created["id"].as_i64().unwrap());
                    }
                }
            }
        }
        let mut picked: Vec<usize> = (0..all_dims.len()).collect();
        // A random subset of 0–2 dimensions, in random order.
        for i in (1..picked.len()).rev() {
            picked.swap(i, rng.random_range(0..=i));
        }
        picked.truncate(rng.random_range(0..=2));
        // Every fifth case: the top 3 categories by rows, the rest gathered.
        let top_n = case % 5 == 0;
        if top_n {
            picked = vec![0];
        }
        let mut ms: Vec<usize> = (0..15).collect();
        for i in (1..ms.len()).rev() {
            ms.swap(i, rng.random_range(0..=i));
        }
        ms.truncate(rng.random_range(1..=3));
        let f = rng.random_bool(0.6).then(|| rng.random_range(0..4));
        let mut def = json!({
            "form": "sample",
            "dimensions": picked.iter().map(|&i| all_dims[i].def.clone()).collect::<Vec<_>>(),
            "measures": ms.iter().enumerate().flat_map(|(j, &i)| expand(i, j)).collect::<Vec<_>>(),
        });
        if let Some(f) = f {
            def["filter"] = filter(f).0;
        }
        if top_n {
            def["limit"] = json!(3);
            def["others"] = json!(true);
            top_n_cases += 1;
        }
        // Now and then sorted by the first measure, either way (checked below).
        let sort_desc = (!top_n && rng.random_bool(0.5)).then(|| rng.random_bool(0.5));
        if let Some(desc) = sort_desc {
            def["sort"] = json!([{"by": "m0", "desc": desc}]);
            sorted_cases += 1;
        }
        let as_reader = rng.random_bool(0.3);
        let got = if as_reader {
            reader_cases += 1;
            expect(
                app.put(&format!("/apps/lab/reports/case_{case}"), &def)
                    .await,
                StatusCode::OK,
            )
            .await;
            let r = reader
                .post(app.url(&format!("/apps/lab/reports/case_{case}/run")))
                .json(&json!({}))
                .send()
                .await
                .unwrap();
            expect(r, StatusCode::OK).await
        } else {
            expect(
                app.post("/apps/lab/report-preview", &json!({"definition": def}))
                    .await,
                StatusCode::OK,
            )
            .await
        };
        // The same numbers from SQL.
        let keys: Vec<String> = got["columns"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["kind"] == "dimension")
            .map(|c| c["key"].as_str().unwrap().to_owned())
            .collect();
        let dim_sql: Vec<&str> = picked
            .iter()
            .map(|&i| {
                if pg {
                    all_dims[i].postgres
                } else {
                    all_dims[i].sqlite
                }
            })
            .collect();
        let agg_sql: Vec<&str> = ms
            .iter()
            .map(|&i| if pg { measure(i).2 } else { measure(i).1 })
            .collect();
        let mut select: Vec<String> = dim_sql
            .iter()
            .enumerate()
            .map(|(i, s)| format!("{s} AS d{i}"))
            .collect();
        select.extend(
            agg_sql
                .iter()
                .enumerate()
                .map(|(i, s)| format!("{s} AS m{i}")),
        );
        select.push("COUNT(*) AS n_rows".into());
        let mut sql = format!(
            "SELECT {} FROM records WHERE app = 'lab' AND form = 'sample' AND deleted_at IS NULL",
            select.join(", ")
        );
        if let Some(f) = f {
            sql.push_str(&format!(
                " AND ({})",
                if pg { filter(f).2 } else { filter(f).1 }
            ));
        }
        if as_reader {
            sql.push_str(&format!(" AND {scope_sql}"));
        }
        if !dim_sql.is_empty() {
            sql.push_str(&format!(
                " GROUP BY {}",
                (1..=dim_sql.len())
                    .map(|i| i.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        let rows = db.query_all(&sql, vec![]).await.unwrap();
        let mut want: BTreeMap<Vec<String>, (Vec<Value>, i64)> = BTreeMap::new();
        for r in &rows {
            let k: Vec<String> = (0..dim_sql.len())
                .map(|i| norm(&sql_value(r, &format!("d{i}"))))
                .collect();
            let v: Vec<Value> = (0..ms.len())
                .map(|i| {
                    let v = sql_value(r, &format!("m{i}"));
                    if pg { v } else { sqlite_quantile(ms[i], v) }
                })
                .collect();
            want.insert(k, (v, sql_value(r, "n_rows").as_i64().unwrap()));
        }
        // A top-N keeps the groups with the most rows (ties: by value, empty last) and
        // gathers the rest into one row; only its row count is additive.
        if top_n {
            let mut groups: Vec<(Vec<String>, i64)> =
                want.iter().map(|(k, (_, n))| (k.clone(), *n)).collect();
            groups.sort_by(|a, b| {
                b.1.cmp(&a.1)
                    .then((a.0[0] == "∅").cmp(&(b.0[0] == "∅")))
                    .then(a.0.cmp(&b.0))
            });
            let rest: i64 = groups.iter().skip(3).map(|g| g.1).sum();
            for (k, _) in groups.iter().skip(3) {
                want.remove(k);
            }
            if rest > 0 {
                want.insert(vec!["others".into()], (vec![], rest));
            }
        }
        let mut have: BTreeMap<Vec<String>, (Vec<Value>, i64)> = BTreeMap::new();
        for r in got["rows"].as_array().unwrap() {
            if r["others"] == true {
                have.insert(vec!["others".into()], (vec![], r["rows"].as_i64().unwrap()));
                continue;
            }
            let k: Vec<String> = keys.iter().map(|k| norm(&r["cells"][k])).collect();
            let v: Vec<Value> = (0..ms.len())
                .map(|j| r["cells"][format!("m{j}")].clone())
                .collect();
            have.insert(k, (v, r["rows"].as_i64().unwrap()));
        }
        let context = format!("seed {seed} case {case} (reader: {as_reader}): {def}\nSQL: {sql}");
        // Sorted by m0: the values run that way, empty ones last, the gathered rest last.
        if let Some(desc) = sort_desc {
            let rows = got["rows"].as_array().unwrap();
            let others: Vec<bool> = rows.iter().map(|r| r["others"] == true).collect();
            assert!(
                others.iter().skip_while(|o| !**o).all(|o| *o),
                "others last: {context}"
            );
            let values: Vec<Option<f64>> = rows
                .iter()
                .filter(|r| r["others"] != true)
                .map(|r| r["cells"]["m0"].as_f64())
                .collect();
            let present = values.iter().take_while(|v| v.is_some()).count();
            assert!(
                values[present..].iter().all(Option::is_none),
                "empty values last: {values:?} {context}"
            );
            for w in values[..present].windows(2) {
                let (a, b) = (w[0].unwrap(), w[1].unwrap());
                assert!(
                    if desc { a >= b } else { a <= b },
                    "sorted {}: {values:?} {context}",
                    if desc { "descending" } else { "ascending" }
                );
            }
        }
        // A report with no dimensions over no rows still has its one row; so has SQL.
        assert_eq!(
            have.keys().collect::<Vec<_>>(),
            want.keys().collect::<Vec<_>>(),
            "{context}"
        );
        for (k, (hv, hn)) in &have {
            let (wv, wn) = &want[k];
            assert_eq!(hn, wn, "rows behind {k:?}: {context}");
            for (j, (h, w)) in hv.iter().zip(wv).enumerate() {
                // SQL's COUNT of nothing is 0 where a share of nothing is empty.
                assert!(
                    close(h, w),
                    "measure m{j} of {k:?}: report {h}, SQL {w}\n{context}"
                );
            }
        }
    }
    assert!(
        top_n_cases > 0 && reader_cases > 0 && sorted_cases > 0,
        "top-N cases {top_n_cases}, reader cases {reader_cases}, sorted {sorted_cases}"
    );
}

on_both_stores!(
    polars_results_equal_sql_group_by_on_random_data_and_definitions,
    property
);

/// An API client for a user with roles (see crm::user).
pub(crate) async fn crm_app(app: &TestApp) -> crm::Data {
    crm::install(app).await;
    for (id, parent) in [
        ("svc", None),
        ("svc_east", Some("svc")),
        ("svc_west", Some("svc")),
    ] {
        crm::department(app, id, parent).await;
    }
    let data = crm::seed(app).await;
    for entry in std::fs::read_dir(crm::crm_dir().join("reports")).unwrap() {
        let p = entry.unwrap().path();
        let key = p.file_stem().unwrap().to_str().unwrap().to_owned();
        let def: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
        expect(
            app.put(&format!("/apps/crm/reports/{key}"), &def).await,
            StatusCode::OK,
        )
        .await;
    }
    data
}

fn report_keys() -> Vec<String> {
    let mut keys: Vec<String> = std::fs::read_dir(crm::crm_dir().join("reports"))
        .unwrap()
        .map(|e| {
            e.unwrap()
                .path()
                .file_stem()
                .unwrap()
                .to_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    keys.sort();
    keys
}

async fn engineer_never_learns_amounts_or_fees(app: TestApp) {
    let d = crm_app(&app).await;
    let eng = crm::user(&app, "engineer1", &["engineer"], Some("svc_east")).await;
    let secrets = [AMOUNT_A, AMOUNT_B, FEE_1, FEE_2, FEE_1 + FEE_2].map(|v| v.to_string());
    let mut ran = 0;
    for key in report_keys() {
        let r = eng
            .post(app.url(&format!("/apps/crm/reports/{key}/run")))
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        if status == StatusCode::OK {
            ran += 1;
        } else {
            // A report over what the engineer may not read is refused, and says why.
            assert!(
                status == StatusCode::FORBIDDEN || status == StatusCode::NOT_FOUND,
                "{key}: {status} {text}"
            );
        }
        for s in &secrets {
            assert!(!text.contains(s.as_str()), "{key} shows {s}: {text}");
        }
        for format in ["csv", "xlsx"] {
            let r = eng
                .get(app.url(&format!("/apps/crm/reports/{key}/run?format={format}")))
                .send()
                .await
                .unwrap();
            let ok = r.status() == StatusCode::OK;
            let body = r.bytes().await.unwrap();
            // An XLSX file is zipped: its cells are read back, not its bytes searched.
            let text = if ok && format == "xlsx" {
                crate::transfer::xlsx_text(&body)
            } else {
                String::from_utf8_lossy(&body).into_owned()
            };
            if ok {
                assert!(text.lines().count() >= 1, "{key}.{format} has a header");
            }
            for s in &secrets {
                assert!(!text.contains(s.as_str()), "{key}.{format} shows {s}");
            }
        }
    }
    assert!(ran >= 5, "the engineer runs the service reports ({ran})");
    // The fee measure is withheld, not zeroed; and the rows are the engineer's own.
    let r = expect(
        eng.post(app.url("/apps/crm/reports/orders_by_month/run"))
            .json(&json!({}))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    assert!(
        r["withheld"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["field"] == "service_fee"),
        "{r}"
    );
    assert!(
        r["columns"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["key"] != "service_fees"),
        "{r}"
    );
    assert_eq!(r["total_rows"], 1, "engineer1 has one order: {r}");
    // Filtering or grouping by a fee is refused, naming the field.
    let r = eng
        .post(app.url("/apps/crm/reports/orders_by_month/run"))
        .json(&json!({"filter": {">": [{"var": "service_fee"}, 5000]}}))
        .send()
        .await
        .unwrap();
    let body = expect(r, StatusCode::FORBIDDEN).await;
    assert!(
        body["message"].as_str().unwrap().contains("service_fee"),
        "{body}"
    );
    let by_fee = json!({"form": "service_order", "dimensions": [{"field": "service_fee", "bucket": {"width": 1000}}], "measures": [{"key": "n", "agg": "count"}]});
    expect(
        app.put("/apps/crm/reports/by_fee", &by_fee).await,
        StatusCode::OK,
    )
    .await;
    let r = eng
        .post(app.url("/apps/crm/reports/by_fee/run"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    expect(r, StatusCode::FORBIDDEN).await;
    // Through a join: the amount of the device's contract.
    let by_amount = json!({"form": "service_order", "dimensions": [{"field": "device.contract.amount", "bucket": {"width": 1000}}], "measures": [{"key": "n", "agg": "count"}]});
    expect(
        app.put("/apps/crm/reports/by_amount", &by_amount).await,
        StatusCode::OK,
    )
    .await;
    let r = eng
        .post(app.url("/apps/crm/reports/by_amount/run"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    assert!(status == StatusCode::FORBIDDEN, "{status} {text}");
    assert!(!text.contains(&AMOUNT_A.to_string()));
    // Drill-down goes through the list API under the engineer's own scope.
    let r = expect(
        eng.post(app.url("/apps/crm/reports/engineer_performance/run"))
            .json(&json!({}))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    for row in r["rows"].as_array().unwrap() {
        let filter = row["drill"].to_string();
        let list = expect(
            eng.get(app.url("/apps/crm/forms/service_order/records"))
                .query(&[("filter", filter.as_str()), ("total", "true")])
                .send()
                .await
                .unwrap(),
            StatusCode::OK,
        )
        .await;
        assert_eq!(list["total"], row["rows"], "drill of {row}");
    }
    let _ = d;
}

on_both_stores!(
    an_engineer_never_learns_contract_amounts_or_service_fees_from_a_report,
    engineer_never_learns_amounts_or_fees
);

async fn sales_rep_counts_own_customers(app: TestApp) {
    let d = crm_app(&app).await;
    let sales = crm::user(&app, "sales1", &["sales"], None).await;
    let def = json!({"form": "customer", "measures": [{"key": "n", "agg": "count"}]});
    expect(
        app.put("/apps/crm/reports/customer_count", &def).await,
        StatusCode::OK,
    )
    .await;
    let mine = expect(
        sales
            .post(app.url("/apps/crm/reports/customer_count/run"))
            .json(&json!({}))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    let all = expect(
        app.post("/apps/crm/reports/customer_count/run", &json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(all["rows"][0]["cells"]["n"], 2);
    assert_eq!(
        mine["rows"][0]["cells"]["n"], 1,
        "sales1 owns one of the two customers: {mine}"
    );
    // Reference dimensions carry the referenced record's name (when it may be read).
    let def = json!({"form": "service_order", "dimensions": [{"field": "customer"}, {"field": "engineer"}], "measures": [{"key": "n", "agg": "count"}]});
    expect(
        app.put("/apps/crm/reports/by_customer", &def).await,
        StatusCode::OK,
    )
    .await;
    let r = expect(
        app.post("/apps/crm/reports/by_customer/run", &json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    let mut labels: Vec<(Value, Value, Value)> = r["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["cells"]["customer"].clone(),
                x["labels"]["customer"].clone(),
                x["labels"]["engineer"].clone(),
            )
        })
        .collect();
    labels.sort_by_key(|l| l.0.as_i64());
    assert_eq!(
        labels,
        vec![
            (json!(d.customer_a), json!("协和医院"), json!("engineer1")),
            (json!(d.customer_b), json!("华山医院"), json!("engineer2"))
        ]
    );
    // Nor through a join: no name of sales2's customer.
    let def = json!({"form": "contract", "dimensions": [{"field": "customer.name"}], "measures": [{"key": "n", "agg": "count"}]});
    expect(
        app.put("/apps/crm/reports/contracts_by_customer", &def)
            .await,
        StatusCode::OK,
    )
    .await;
    let r = sales
        .post(app.url("/apps/crm/reports/contracts_by_customer/run"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let text = r.text().await.unwrap();
    assert!(!text.contains("华山医院"), "{text}");
    let _ = d;
}

on_both_stores!(
    a_sales_rep_counts_only_their_own_customers,
    sales_rep_counts_own_customers
);

async fn run(app: &TestApp) -> Value {
    expect(
        app.post("/apps/lab/reports/by_category/run", &json!({}))
            .await,
        StatusCode::OK,
    )
    .await
}

async fn fresh_after_writes_and_restart(app: TestApp) {
    lab(&app).await;
    let def = json!({"form": "sample", "dimensions": [{"field": "category"}], "measures": [{"key": "n", "agg": "count"}, {"key": "s", "agg": "sum", "field": "n"}]});
    expect(
        app.put("/apps/lab/reports/by_category", &def).await,
        StatusCode::OK,
    )
    .await;
    let cells = |r: &Value| -> Vec<(Value, Value, Value)> {
        r["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["cells"]["category"].clone(),
                    r["cells"]["n"].clone(),
                    r["cells"]["s"].clone(),
                )
            })
            .collect()
    };
    assert!(cells(&run(&app).await).is_empty());
    let a = app
        .create_ok("lab", "sample", json!({"category": "a", "n": 1.5}))
        .await;
    app.create_ok("lab", "sample", json!({"category": "b", "n": 2}))
        .await;
    assert_eq!(
        cells(&run(&app).await),
        vec![
            (json!("a"), json!(1), json!(1.5)),
            (json!("b"), json!(1), json!(2.0))
        ]
    );
    // An update and a delete are seen by the next run.
    let id = a["id"].as_i64().unwrap();
    let v = a["row_version"].as_i64().unwrap();
    let r = app
        .client
        .patch(app.url(&format!("/apps/lab/forms/sample/records/{id}")))
        .header("If-Match", format!("\"{v}\""))
        .json(&json!({"data": {"category": "b", "n": 10}}))
        .send()
        .await
        .unwrap();
    expect(r, StatusCode::OK).await;
    assert_eq!(
        cells(&run(&app).await),
        vec![(json!("b"), json!(2), json!(12.0))]
    );
    let c = app
        .create_ok("lab", "sample", json!({"category": "c", "n": 3}))
        .await;
    let r = app
        .client
        .delete(app.url(&format!("/apps/lab/forms/sample/records/{}", c["id"])))
        .header("If-Match", format!("\"{}\"", c["row_version"]))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let before = cells(&run(&app).await);
    assert_eq!(before, vec![(json!("b"), json!(2), json!(12.0))]);
    // Many writes at once (an import's worth) are caught up in one run.
    for i in 0..40 {
        app.create_ok(
            "lab",
            "sample",
            json!({"category": if i % 2 == 0 { "d" } else { "e" }, "n": i}),
        )
        .await;
    }
    let before = cells(&run(&app).await);
    assert_eq!(before.len(), 3);
    // A restart builds the caches from the database to the same answers.
    let store = app.store;
    let (dir, url) = app.stop().await;
    let app = TestApp::spawn_with(store, dir, url).await;
    assert_eq!(cells(&run(&app).await), before);
}

on_both_stores!(
    a_write_is_in_the_next_run_and_a_restart_gives_the_same_answers,
    fresh_after_writes_and_restart
);

async fn definitions_are_checked_and_logged(app: TestApp) {
    lab(&app).await;
    let bad = json!({"form": "sample", "dimensions": [{"field": "n", "bucket": "month"}, {"field": "nope"}], "measures": [{"key": "s", "agg": "sum", "field": "category"}, {"key": "r", "agg": "ratio", "of": ["s", "zz"]}], "chart": {"kind": "radar"}});
    let body = expect(
        app.put("/apps/lab/reports/bad", &bad).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let pointers: Vec<&str> = body["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["pointer"].as_str().unwrap())
        .collect();
    for p in [
        "/dimensions/0/bucket",
        "/dimensions/1/field",
        "/measures/0/field",
        "/measures/1/of",
        "/chart/kind",
    ] {
        assert!(pointers.contains(&p), "{p} in {body}");
    }
    let good = json!({"form": "sample", "dimensions": [{"field": "t", "bucket": "week"}], "measures": [{"key": "n", "agg": "count"}]});
    let first = expect(
        app.put("/apps/lab/reports/weekly", &good).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(first["version"], 1);
    let again = expect(
        app.put("/apps/lab/reports/weekly", &good).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(
        again["published"], false,
        "an unchanged definition is no new version"
    );
    let audit = expect(
        app.get("/audit?action=report.publish").await,
        StatusCode::OK,
    )
    .await;
    assert!(audit.to_string().contains("weekly"), "{audit}");
    // Only administrators publish.
    let body = json!({"username": "someone", "display_name": "someone", "password": crm::password_of("someone")});
    expect(app.post("/admin/users", &body).await, StatusCode::CREATED).await;
    let someone = crate::helpers::client_with(
        &crate::helpers::token_for(&app.base, "someone", &crm::password_of("someone"), None).await,
    );
    let r = someone
        .put(app.url("/apps/lab/reports/weekly"))
        .json(&good)
        .send()
        .await
        .unwrap();
    expect(r, StatusCode::FORBIDDEN).await;
    // Nor does someone who may not read the form learn its fields by probing a filter.
    let r = someone
        .post(app.url("/apps/lab/reports/weekly/run"))
        .json(&json!({"filter": {"==": [{"var": "secret"}, 1]}}))
        .send()
        .await
        .unwrap();
    expect(r, StatusCode::NOT_FOUND).await;
    // A dashboard names published reports and maps its filters to date fields.
    let dash = json!({"label": {"en": "Lab"}, "filters": [{"key": "period", "type": "date_range"}], "widgets": [{"report": "weekly", "x": 0, "y": 0, "w": 6, "h": 4, "filters": {"period": "category"}}, {"report": "missing", "x": 6, "y": 0, "w": 6, "h": 4}]});
    let body = expect(
        app.put("/apps/lab/dashboards/lab", &dash).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    let text = body.to_string();
    assert!(
        text.contains("/widgets/0/filters/period") && text.contains("/widgets/1/report"),
        "{body}"
    );
    // A choice filter maps to text-valued fields: a select, not a date or a number.
    let dash = |field: &str| {
        json!({"label": {"en": "Lab"},
            "filters": [{"key": "period", "type": "date_range"}, {"key": "cat", "type": "select"}],
            "widgets": [{"report": "weekly", "x": 0, "y": 0, "w": 6, "h": 4,
                         "filters": {"period": "d", "cat": field}}]})
    };
    for bad in ["d", "n"] {
        let body = expect(
            app.put("/apps/lab/dashboards/lab", &dash(bad)).await,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
        assert_eq!(
            body["details"][0]["pointer"], "/widgets/0/filters/cat",
            "{body}"
        );
    }
    expect(
        app.put("/apps/lab/dashboards/lab", &dash("category")).await,
        StatusCode::OK,
    )
    .await;
}

on_both_stores!(
    report_and_dashboard_definitions_are_checked_versioned_and_logged,
    definitions_are_checked_and_logged
);

/// S11: the director opens the service dashboard over two years of demo data and drills
/// from a bar to the orders behind it.
async fn s11(store: Store) {
    let dir = tempfile::tempdir().unwrap();
    let url = match store {
        Store::Sqlite => format!("sqlite://{}", dir.path().join("formwork.db").display()),
        Store::Postgres => crate::helpers::fresh_pg_database().await,
    };
    let settings = settings_for(store, dir.path(), &url);
    let services = formwork::startup::Services::start(&settings).await.unwrap();
    let system = formwork::auth::Caller::system();
    formwork::service::package::import(&services.package(), &crm::crm_dir(), &system)
        .await
        .unwrap();
    formwork::service::demo::generate(&services, &crm::crm_dir(), "small", Some(11), false)
        .await
        .unwrap();
    services.finish().await;
    let app = TestApp::spawn_with(store, dir, url).await;
    expect(
        app.patch(
            "/admin/users/director",
            &json!({"password": crm::password_of("director")}),
        )
        .await,
        StatusCode::OK,
    )
    .await;
    let director = crate::helpers::client_with(
        &crate::helpers::token_for(&app.base, "director", &crm::password_of("director"), None)
            .await,
    );
    let get = |path: String| {
        let req = director.get(app.url(&path)).send();
        async move { expect(req.await.unwrap(), StatusCode::OK).await }
    };
    // The dashboards of the director's roles, the service dashboard among them.
    let list = get("/apps/crm/dashboards".into()).await;
    let service = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["key"] == "service")
        .expect("a service dashboard");
    assert!(
        service["roles"]
            .as_array()
            .unwrap()
            .contains(&json!("service_director")),
        "{service}"
    );
    // Every widget of every dashboard of the director's runs, over the last twelve months
    // of the two years; on the service dashboard nothing is withheld.
    let (from, to) = ("2025-11-22T00:00:00+08:00", "2026-11-22T00:00:00+08:00");
    let mut over_rows = 0;
    for d in list["items"].as_array().unwrap() {
        let key = d["key"].as_str().unwrap();
        let dash = get(format!("/apps/crm/dashboards/{key}")).await;
        for w in dash["definition"]["widgets"].as_array().unwrap() {
            let report = w["report"].as_str().unwrap();
            let mut body = json!({});
            if let Some(field) = w["filters"]["period"].as_str() {
                // A date field takes dates, a date-time field instants.
                let def = get(format!("/apps/crm/reports/{report}")).await;
                let form = def["definition"]["form"].as_str().unwrap();
                let f = get(format!("/apps/crm/forms/{form}")).await;
                let (from, to) =
                    if f["definition"]["schema"]["properties"][field]["x-type"] == "date" {
                        (&from[..10], &to[..10])
                    } else {
                        (from, to)
                    };
                body["filter"] =
                    json!({"and": [{">=": [{"var": field}, from]}, {"<": [{"var": field}, to]}]});
            }
            let r = director
                .post(app.url(&format!("/apps/crm/reports/{report}/run")))
                .json(&body)
                .send()
                .await
                .unwrap();
            let out = expect(r, StatusCode::OK).await;
            if key == "service" {
                assert!(
                    out["withheld"].as_array().unwrap().is_empty(),
                    "the director reads everything on the service dashboard: {out}"
                );
            }
            // A widget over a sub-table's rows says how many records are behind each row.
            if let Some(row) = out["rows"].as_array().unwrap().first()
                && row.get("records").is_some()
            {
                assert!(row["records"].as_i64().unwrap() >= 1, "{report}: {row}");
                over_rows += 1;
            }
        }
    }
    assert!(
        over_rows > 0,
        "a dashboard of the director's counts sub-table rows"
    );
    // Two years by month: about 25 months, every order counted once.
    let r = expect(
        director
            .post(app.url("/apps/crm/reports/orders_by_month/run"))
            .json(&json!({}))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    let months: std::collections::BTreeSet<&str> = r["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["cells"]["reported_at"].as_str().unwrap_or(""))
        .collect();
    assert!(months.len() >= 24, "{months:?}");
    let all = get("/apps/crm/forms/service_order/records?total=true&limit=1".into()).await;
    let with_date = get(format!(
        "/apps/crm/forms/service_order/records?total=true&limit=1&filter={}",
        urlencode(&json!({"!=": [{"var": "reported_at"}, null]}).to_string())
    ))
    .await;
    assert_eq!(
        r["total_rows"], with_date["total"],
        "every order with a date is in one bar"
    );
    assert!(all["total"].as_i64().unwrap() >= with_date["total"].as_i64().unwrap());
    // Drill from the biggest bar to its orders.
    let bar = r["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["cells"]["reported_at"].is_string())
        .max_by_key(|x| x["rows"].as_i64())
        .unwrap();
    let drill = bar["drill"].to_string();
    let orders = get(format!(
        "/apps/crm/forms/service_order/records?total=true&limit=200&filter={}",
        urlencode(&drill)
    ))
    .await;
    assert_eq!(orders["total"], bar["rows"], "{bar}");
    let month = bar["cells"]["reported_at"].as_str().unwrap();
    let tz: chrono_tz::Tz = "Asia/Shanghai".parse().unwrap();
    for o in orders["items"].as_array().unwrap() {
        assert_eq!(o["data"]["priority"], bar["cells"]["priority"]);
        let at = chrono::DateTime::parse_from_rfc3339(o["data"]["reported_at"].as_str().unwrap())
            .unwrap()
            .with_timezone(&tz);
        assert_eq!(at.format("%Y-%m").to_string(), month);
    }
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn s11_the_director_drills_from_the_service_dashboard_over_two_years_sqlite() {
    s11(Store::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn s11_the_director_drills_from_the_service_dashboard_over_two_years_postgres() {
    s11(Store::Postgres).await;
}

/// A scheduled (here: triggered) delivery: a flow's report node runs a report as a role and
/// a notify node sends the rows; the role's field mask shapes what is sent.
async fn report_node_delivers(app: TestApp) {
    lab(&app).await;
    let role = json!({"key": "viewer", "label": {"en": "viewer"}, "permissions": {"sample": {"actions": ["read"], "rows": "all", "read": ["category", "flag"]}}});
    expect(
        app.put("/apps/lab/roles/viewer", &role).await,
        StatusCode::OK,
    )
    .await;
    let def = json!({"form": "sample", "dimensions": [{"field": "category"}], "measures": [{"key": "n", "agg": "count"}, {"key": "total", "agg": "sum", "field": "n"}]});
    expect(
        app.put("/apps/lab/reports/by_category", &def).await,
        StatusCode::OK,
    )
    .await;
    let flow = |report: &str| {
        json!({
            "key": "digest", "label": {"en": "digest"},
            "trigger": {"type": "record_created", "form": "sample", "condition": {"==": [{"var": "record.category"}, "e"]}},
            "nodes": [
                {"id": "start", "type": "start"},
                {"id": "run", "type": "report", "report": report, "as_role": "viewer", "name": "digest"},
                // A value computed from the report carries its role along.
                {"id": "copy", "type": "set_var", "name": "rows_copy", "value": {"var": "vars.digest.body.rows"}},
                {"id": "send", "type": "notify", "to": {"users": ["admin", "viewer1", "outsider"]}, "title": "Digest", "body": "{{#each vars.rows_copy}}{{this.cells.category}}={{this.cells.n}};{{/each}} hidden: {{#each vars.digest.body.withheld}}{{this.field}}{{/each}}"},
                {"id": "end", "type": "end"}
            ],
            "edges": [{"from": "start", "to": "run"}, {"from": "run", "to": "copy"}, {"from": "copy", "to": "send"}, {"from": "send", "to": "end"}]
        })
    };
    // A holder of the report's role, and someone who reads every sample but does not
    // hold it (their rows and fields may differ from the role's).
    let full = json!({"key": "full", "label": {"en": "full"}, "permissions": {"sample": {"actions": ["read"], "rows": "all", "read": ["*"]}}});
    expect(app.put("/apps/lab/roles/full", &full).await, StatusCode::OK).await;
    let mut clients = Vec::new();
    for (user, role) in [("viewer1", "viewer"), ("outsider", "full")] {
        clients.push(crate::flows::user(&app, user).await);
        expect(
            app.put(
                &format!("/admin/users/{user}/roles"),
                &json!({"lab": [role]}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
    }
    let v = expect(
        app.post("/apps/lab/flows/digest/publish", &flow("nope"))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_eq!(v["details"][0]["pointer"], "/nodes/1/report", "{v}");
    expect(
        app.post("/apps/lab/flows/digest/publish", &flow("by_category"))
            .await,
        StatusCode::CREATED,
    )
    .await;
    app.create_ok("lab", "sample", json!({"category": "a", "n": 1000.25}))
        .await;
    app.create_ok("lab", "sample", json!({"category": "e", "n": 2}))
        .await;
    let mut body = String::new();
    for _ in 0..100 {
        let inbox = expect(app.get("/inbox").await, StatusCode::OK).await;
        if let Some(m) = inbox["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["title"] == "Digest")
        {
            body = m["body"].as_str().unwrap().to_owned();
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(body, "a=1;e=1; hidden: n");
    assert!(!body.contains("1000.25"));
    // The role's holder gets the report; the other recipient does not: to them the
    // variable is not there, which the strict template reports instead of the rows.
    for (client, holder) in clients.iter().zip([true, false]) {
        let inbox: Value = client
            .get(app.url("/inbox"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let m = inbox["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["title"] == "Digest")
            .cloned()
            .unwrap_or_else(|| panic!("no digest in {inbox}"));
        let body = m["body"].as_str().unwrap();
        if holder {
            assert_eq!(body, "a=1;e=1; hidden: n", "{inbox}");
        } else {
            assert!(
                // The template fails at the copy: the first thing it may not see.
                !body.contains("a=1;") && body.contains("strict mode Some(\"vars.rows_copy\")"),
                "{inbox}"
            );
        }
    }
}

on_both_stores!(
    a_flow_report_node_sends_a_report_as_a_role,
    report_node_delivers
);

/// The CRM's scheduled delivery: every Monday at 08:00 the service orders by status, run
/// as the service director, land in the directors' inboxes — driven by the test clock.
async fn weekly_digest(app: TestApp) {
    crm::install(&app).await;
    crm::install_flows(&app).await;
    let director = crm::user(&app, "director", &["service_director"], None).await;
    let customer = app
        .create_ok(
            "crm",
            "customer",
            json!({"name": "华山医院", "customer_type": "hospital"}),
        )
        .await["id"]
        .clone();
    for (priority, status) in [
        ("urgent", "reported"),
        ("normal", "reported"),
        ("normal", "accepted"),
    ] {
        app.create_ok(
            "crm",
            "service_order",
            json!({"kind": "repair", "priority": priority, "customer": customer,
                   "fault_description": "digest probe", "status": status}),
        )
        .await;
    }
    let digests = || async {
        let inbox: Value = director
            .get(app.url("/inbox"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        inbox["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| {
                m["title"]
                    .as_str()
                    .unwrap_or("")
                    .contains("Weekly service orders")
            })
            .cloned()
            .collect::<Vec<Value>>()
    };
    assert!(digests().await.is_empty(), "nothing before Monday 08:00");
    // What the director's own run of the report says, line by line.
    let run = expect(
        director
            .post(app.url("/apps/crm/reports/orders_by_status/run"))
            .json(&json!({}))
            .send()
            .await
            .unwrap(),
        StatusCode::OK,
    )
    .await;
    let expected: String = run["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{}: {} ({} urgent)\n",
                r["cells"]["status"].as_str().unwrap(),
                r["cells"]["orders"],
                r["cells"]["urgent"]
            )
        })
        .collect();
    assert!(expected.contains("reported: 2 (1 urgent)"), "{expected}");
    // A week passes: Monday 08:00 (Asia/Shanghai) comes once.
    app.advance(7.0 * 86_400.0).await;
    let mut got = Vec::new();
    for _ in 0..150 {
        got = digests().await;
        if !got.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(got.len(), 1, "one digest: {got:?}");
    assert_eq!(got[0]["body"], expected, "{got:?}");
}

on_both_stores!(the_crm_delivers_a_weekly_digest_on_schedule, weekly_digest);

/// A crash (kill -9) after runs that built caches and took writes: the restarted server
/// rebuilds the caches of its published reports from the database at start (before any
/// run asks; its log says so) to the same answers. On both stores.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn after_kill_9_the_caches_are_rebuilt_to_the_same_answers_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("formwork.db").display());
    caches_rebuilt_after_kill_9(&url, dir.path()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn after_kill_9_the_caches_are_rebuilt_to_the_same_answers_postgres() {
    let dir = tempfile::tempdir().unwrap();
    let url = crate::helpers::fresh_pg_database().await;
    caches_rebuilt_after_kill_9(&url, dir.path()).await;
}

async fn caches_rebuilt_after_kill_9(url: &str, dir: &std::path::Path) {
    use crate::process::ServerProcess;
    let server = ServerProcess::start(url, dir).await;
    let admin = server.admin().await;
    let call = |method: reqwest::Method, base: String, path: &str, body: Value| {
        let req = admin
            .request(method, format!("{base}/api/v1{path}"))
            .json(&body)
            .send();
        async move {
            let r = req.await.unwrap();
            let status = r.status();
            let v: Value = r.json().await.unwrap_or(Value::Null);
            assert!(status.is_success(), "{status} {v}");
            v
        }
    };
    let base = server.base.clone();
    call(
        reqwest::Method::PUT,
        base.clone(),
        "/apps/lab",
        json!({"key": "lab", "label": {"en": "lab"}, "time_zone": "Asia/Shanghai"}),
    )
    .await;
    call(reqwest::Method::POST, base.clone(), "/apps/lab/forms/sample/publish", json!({"key": "sample", "label": {"en": "sample"}, "schema": {"type": "object", "properties": {"category": {"type": "string", "x-type": "text"}, "t": {"type": "string", "x-type": "datetime"}, "n": {"type": "number", "x-type": "number"}}}})).await;
    let def = json!({"form": "sample", "dimensions": [{"field": "t", "bucket": "month"}, {"field": "category"}], "measures": [{"key": "n", "agg": "count"}, {"key": "avg", "agg": "avg", "field": "n"}, {"key": "p50", "agg": "median", "field": "n"}]});
    call(
        reqwest::Method::PUT,
        base.clone(),
        "/apps/lab/reports/monthly",
        def,
    )
    .await;
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    for i in 0..60 {
        let category = ["x", "y", "z"][i % 3];
        let data = json!({"category": category, "t": format!("2026-{:02}-{:02}T23:30:00Z", rng.random_range(1..=12), rng.random_range(1..=28)), "n": rng.random_range(0..1000)});
        call(
            reqwest::Method::POST,
            base.clone(),
            "/apps/lab/forms/sample/records",
            json!({"data": data}),
        )
        .await;
        if i == 30 {
            // Half the records are in the cache, half arrive as writes after it.
            call(
                reqwest::Method::POST,
                base.clone(),
                "/apps/lab/reports/monthly/run",
                json!({}),
            )
            .await;
        }
    }
    let before = call(
        reqwest::Method::POST,
        base.clone(),
        "/apps/lab/reports/monthly/run",
        json!({}),
    )
    .await;
    assert_eq!(before["total_rows"], 60);
    server.kill_9().await;
    let log = dir.join("restart.log");
    let server = ServerProcess::start_logging(url, dir, &log).await;
    let mut built = String::new();
    for _ in 0..100 {
        // (The log is coloured: its escape sequences are left out.)
        let mut text = String::new();
        let mut escaped = false;
        for c in std::fs::read_to_string(&log).unwrap_or_default().chars() {
            match (escaped, c) {
                (false, '\u{1b}') => escaped = true,
                (true, 'm') => escaped = false,
                (true, _) => {}
                (false, c) => text.push(c),
            }
        }
        built = text
            .lines()
            .find(|l| l.contains("report caches built"))
            .unwrap_or_default()
            .to_owned();
        if !built.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(built.contains("caches=1"), "built at start: {built:?}");
    let admin = server.admin().await;
    let r = admin
        .post(server.url("/apps/lab/reports/monthly/run"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    let after: Value = r.json().await.unwrap();
    assert_eq!(after["rows"], before["rows"]);
    server.kill_9().await;
}

/// A saved filter with relative dates ("today", add_days) counts against the server's
/// date at each run: moving the clock moves the window; a drill gets the dates resolved.
async fn relative_dates(app: TestApp) {
    lab(&app).await;
    // The lab app's date (Asia/Shanghai).
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive();
    let day = |n: i64| (today + chrono::Duration::days(n)).to_string();
    for (k, d) in [(0, 5), (1, 20), (2, 45), (3, -3)] {
        app.create_ok(
            "lab",
            "sample",
            json!({"category": "a", "k": k, "d": day(d)}),
        )
        .await;
    }
    let def = json!({"form": "sample", "dimensions": [{"field": "category"}],
        "filter": {"and": [{">=": [{"var": "d"}, {"var": "today"}]},
                           {"<": [{"var": "d"}, {"add_days": [{"var": "today"}, 30]}]}]},
        "measures": [{"key": "n", "agg": "count"},
                     {"key": "soon", "agg": "share", "where": {"<": [{"var": "d"}, {"add_days": [{"var": "today"}, 10]}]}}]});
    expect(
        app.put("/apps/lab/reports/window", &def).await,
        StatusCode::OK,
    )
    .await;
    let run = || async {
        expect(
            app.post("/apps/lab/reports/window/run", &json!({})).await,
            StatusCode::OK,
        )
        .await
    };
    // Which samples (by k) a drill lists.
    let drilled = |r: Value| {
        let app = &app;
        async move {
            let drill = r["rows"][0]["drill"].clone();
            assert!(!drill.to_string().contains("today"), "{drill}");
            let listed = app
                .list(
                    "lab",
                    "sample",
                    &[("filter", drill.to_string()), ("sort", "k".into())],
                )
                .await;
            listed["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["data"]["k"].as_i64().unwrap())
                .collect::<Vec<i64>>()
        }
    };
    let r = run().await;
    assert_eq!(r["rows"][0]["cells"]["n"], 2, "{r}");
    assert_eq!(r["rows"][0]["cells"]["soon"], 0.5, "{r}");
    assert_eq!(drilled(r).await, vec![0, 1]);
    // Ten days later: only the 20-day sample is inside [today, today + 30).
    app.advance(10.0 * 86_400.0).await;
    let r = run().await;
    assert_eq!(r["rows"][0]["cells"]["n"], 1, "{r}");
    assert_eq!(drilled(r).await, vec![1]);
    // Forty days later: the 45-day sample.
    app.advance(30.0 * 86_400.0).await;
    assert_eq!(drilled(run().await).await, vec![2]);
    // A relative date that does not resolve is refused with its place.
    let bad = json!({"form": "sample", "dimensions": [{"field": "category"}],
        "filter": {">=": [{"var": "d"}, {"add_days": [{"var": "today"}, "soon"]}]},
        "measures": [{"key": "n", "agg": "count"}]});
    let body = expect(
        app.put("/apps/lab/reports/bad_window", &bad).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(
        body["details"][0]["pointer"]
            .as_str()
            .unwrap()
            .starts_with("/filter"),
        "{body}"
    );
}

on_both_stores!(
    relative_dates_in_saved_filters_follow_the_servers_date,
    relative_dates
);

/// Every row of every CRM report that offers a drill lists exactly the records behind it,
/// for the administrator and for a sales rep (whose rows reach through customers); the
/// reports grouped through references (order → device → product) drill on every row; and a
/// count over some of the rows (`where`) drills to exactly its value.
async fn every_drill_lists_its_rows(app: TestApp) {
    crm_app(&app).await;
    let sales = crm::user(&app, "sales1", &["sales"], None).await;
    let joined = [
        "failures_by_model",
        "fault_codes_by_model",
        "failures_by_batch",
    ];
    let mut through_refs = 0;
    let mut measure_drills = 0;
    let mut rows_drills = 0;
    let mut id_drills = 0;
    for (who, c) in [("admin", app.client.clone()), ("sales1", sales)] {
        for key in report_keys() {
            let r = c
                .post(app.url(&format!("/apps/crm/reports/{key}/run")))
                .json(&json!({}))
                .send()
                .await
                .unwrap();
            if r.status() != StatusCode::OK {
                continue; // refusals are the permission tests' subject
            }
            let body: Value = r.json().await.unwrap();
            let form = body["form"].as_str().unwrap().to_owned();
            let rows = body["rows"].as_array().unwrap();
            if who == "admin" && joined.contains(&key.as_str()) {
                assert!(
                    rows.iter().all(|r| r.get("drill").is_some()),
                    "{key}: {body}"
                );
            }
            for row in rows {
                // Every row drills: by a filter describing it, else (a duration dimension,
                // a plain date-time) by the ids of its records.
                let drill = row
                    .get("drill")
                    .unwrap_or_else(|| panic!("{who} {key}: no drill for {row}"));
                through_refs += usize::from(drill.to_string().contains("\"ref\""));
                id_drills += usize::from(
                    drill
                        .get("in")
                        .is_some_and(|i| i[0] == json!({"var": "_id"})),
                );
                let list = expect(
                    c.get(app.url(&format!("/apps/crm/forms/{form}/records")))
                        .query(&[("filter", drill.to_string()), ("total", "true".into())])
                        .send()
                        .await
                        .unwrap(),
                    StatusCode::OK,
                )
                .await;
                // Over a sub-table's rows the drill lists the records they belong to.
                let behind = row.get("records").unwrap_or(&row["rows"]);
                assert_eq!(&list["total"], behind, "{who} {key}: drill of {row}");
                rows_drills += usize::from(row.get("records").is_some());
                // A count over some of the rows drills to exactly its value.
                for (m, f) in row["drills"].as_object().into_iter().flatten() {
                    let list = expect(
                        c.get(app.url(&format!("/apps/crm/forms/{form}/records")))
                            .query(&[("filter", f.to_string()), ("total", "true".into())])
                            .send()
                            .await
                            .unwrap(),
                        StatusCode::OK,
                    )
                    .await;
                    let counted = body["columns"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|col| col["key"] == *m && col["agg"] == "count");
                    if counted {
                        assert_eq!(list["total"], row["cells"][m], "{who} {key}.{m}: {row}");
                        measure_drills += 1;
                    }
                }
            }
        }
    }
    assert!(through_refs > 0);
    assert!(measure_drills > 0);
    assert!(rows_drills > 0, "a report over sub-table rows drilled");
    assert!(
        id_drills > 0,
        "a report grouped by a duration drilled by ids"
    );
}

on_both_stores!(
    every_drill_lists_the_rows_behind_it,
    every_drill_lists_its_rows
);

/// Dashboards show a non-administrator only the widgets whose report they may see (they
/// may read its form, as for `GET …/reports/{key}`), and a dashboard with none of those
/// not at all: no side door to report keys, forms or fields.
async fn dashboards_show_what_the_caller_may_run(app: TestApp) {
    crm_app(&app).await;
    let mut keys = Vec::new();
    for entry in std::fs::read_dir(crm::crm_dir().join("dashboards")).unwrap() {
        let p = entry.unwrap().path();
        let key = p.file_stem().unwrap().to_str().unwrap().to_owned();
        let def: Value = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
        expect(
            app.put(&format!("/apps/crm/dashboards/{key}"), &def).await,
            StatusCode::OK,
        )
        .await;
        keys.push((key, def));
    }
    let eng = crm::user(&app, "engineer1", &["engineer"], Some("svc_east")).await;
    let stranger = crm::user(&app, "stranger", &[], None).await;
    let listed = |c: reqwest::Client| {
        let url = app.url("/apps/crm/dashboards");
        async move {
            let v: Value = c.get(url).send().await.unwrap().json().await.unwrap();
            v["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["key"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert!(listed(stranger.clone()).await.is_empty());
    let (mut shown, mut hidden) = (0, 0);
    let eng_listed = listed(eng.clone()).await;
    for (key, def) in &keys {
        let s = stranger
            .get(app.url(&format!("/apps/crm/dashboards/{key}")))
            .send()
            .await
            .unwrap();
        assert_eq!(s.status(), StatusCode::NOT_FOUND, "{key}");
        // The widgets whose report the engineer may see (as the report API decides).
        let mut runnable = Vec::new();
        for w in def["widgets"].as_array().unwrap() {
            let r = eng
                .get(app.url(&format!(
                    "/apps/crm/reports/{}",
                    w["report"].as_str().unwrap()
                )))
                .send()
                .await
                .unwrap();
            if r.status() == StatusCode::OK {
                runnable.push(w["report"].clone());
            }
        }
        let r = eng
            .get(app.url(&format!("/apps/crm/dashboards/{key}")))
            .send()
            .await
            .unwrap();
        if runnable.is_empty() {
            assert_eq!(r.status(), StatusCode::NOT_FOUND, "{key}");
            assert!(!eng_listed.contains(key), "{key}");
            hidden += 1;
        } else {
            let body = expect(r, StatusCode::OK).await;
            let got: Vec<Value> = body["definition"]["widgets"]
                .as_array()
                .unwrap()
                .iter()
                .map(|w| w["report"].clone())
                .collect();
            assert_eq!(got, runnable, "{key}");
            assert!(eng_listed.contains(key), "{key}");
            shown += 1;
        }
    }
    assert!(shown > 0 && hidden > 0, "shown {shown}, hidden {hidden}");
}

on_both_stores!(
    dashboards_show_only_what_the_caller_may_run,
    dashboards_show_what_the_caller_may_run
);

/// A report's CSV and XLSX carry the columns' labels in the asked language and the names
/// of referenced records, not keys and ids.
async fn files_read_as_the_report_shows(app: TestApp) {
    crm_app(&app).await;
    let run = expect(
        app.post("/apps/crm/reports/service_cost_by_customer/run", &json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    let top = &run["rows"][0];
    let name = top["labels"]["customer"].as_str().unwrap().to_owned();
    let file = |format: &'static str, lang: &'static str| {
        let c = app.client.clone();
        let url = app.url(&format!(
            "/apps/crm/reports/service_cost_by_customer/run?format={format}&lang={lang}"
        ));
        async move {
            let r = c.get(url).send().await.unwrap();
            assert_eq!(r.status(), StatusCode::OK);
            let bytes = r.bytes().await.unwrap();
            if format == "xlsx" {
                crate::transfer::xlsx_text(&bytes)
            } else {
                String::from_utf8(bytes.to_vec())
                    .unwrap()
                    .replace(',', "\t")
            }
        }
    };
    for format in ["csv", "xlsx"] {
        let zh = file(format, "zh-CN").await;
        let mut lines = zh.lines();
        assert_eq!(
            lines.next().unwrap(),
            "客户\t工单数\t服务费收入\t备件成本\t工时合计\t人工成本(¥300/小时)\t服务成本(备件+人工)\t服务毛利\t成本/服务费\t单均服务费\t记录数",
            "{format}"
        );
        assert!(
            lines.next().unwrap().starts_with(&format!("{name}\t")),
            "{format}: {zh}"
        );
        let en = file(format, "en").await;
        assert!(
            en.starts_with("Customer\tOrders\tService fees\tParts cost\tLabour hours"),
            "{format}: {en}"
        );
    }
    let r = app
        .get("/apps/crm/reports/service_cost_by_customer/run?format=csv&lang=fr")
        .await;
    let body = expect(r, StatusCode::BAD_REQUEST).await;
    assert_eq!(body["details"][0]["pointer"], "/lang");

    // A pivot report's file is the pivot table: a row per kind, a column per priority and
    // measure, the records behind each row last — the run's numbers, moved.
    let def = json!({"form": "service_order", "label": {"en": "Kinds by priority"},
        "dimensions": [{"field": "kind", "label": {"en": "Kind"}}, {"field": "priority", "label": {"en": "Priority"}}],
        "measures": [{"key": "orders", "agg": "count", "label": {"en": "Orders"}}],
        "chart": {"kind": "pivot"}});
    expect(
        app.put("/apps/crm/reports/kinds_by_priority", &def).await,
        StatusCode::OK,
    )
    .await;
    let run = expect(
        app.post("/apps/crm/reports/kinds_by_priority/run", &json!({}))
            .await,
        StatusCode::OK,
    )
    .await;
    let r = app
        .get("/apps/crm/reports/kinds_by_priority/run?format=csv&lang=en")
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let text = r.text().await.unwrap();
    let mut lines = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = lines.headers().unwrap().iter().map(str::to_owned).collect();
    assert_eq!(header[0], "Kind");
    assert_eq!(header.last().unwrap(), "Records");
    let rows: Vec<Vec<String>> = lines
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect();
    let mut kinds: Vec<String> = Vec::new();
    for row in run["rows"].as_array().unwrap() {
        let (kind, priority) = (&row["cells"]["kind"], &row["cells"]["priority"]);
        let kind = kind.as_str().unwrap_or("—").to_owned();
        if !kinds.contains(&kind) {
            kinds.push(kind.clone());
        }
        let column = format!("{} · Orders", priority.as_str().unwrap_or("—"));
        let at = header
            .iter()
            .position(|h| *h == column)
            .unwrap_or_else(|| panic!("no column {column}: {header:?}"));
        let line = rows.iter().find(|r| r[0] == kind).unwrap();
        assert_eq!(
            line[at],
            row["cells"]["orders"].to_string(),
            "{kind} {column}"
        );
    }
    assert_eq!(
        rows.iter().map(|r| r[0].clone()).collect::<Vec<_>>(),
        kinds,
        "a row per kind, in the run's order"
    );
    let total: i64 = rows
        .iter()
        .map(|r| r.last().unwrap().parse::<i64>().unwrap())
        .sum();
    assert_eq!(json!(total), run["total_rows"]);
}

on_both_stores!(
    report_files_read_as_the_report_shows,
    files_read_as_the_report_shows
);
