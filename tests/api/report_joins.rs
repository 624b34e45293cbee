//! The report engine against SQL over joined forms (docs/reports.md): random reports over
//! `part` records, whose `sample` reference joins the `sample` form, equal a SQL `LEFT JOIN
//! … GROUP BY` computed independently on the same data, on SQLite and PostgreSQL — as the
//! administrator, and as a reader whose row scope on the joined form leaves samples out
//! (their parts join as empty values). Floating point: 1e-9 relative, as the main property.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::BTreeMap;

use crate::helpers::{Store, TestApp, expect, settings_for};
use crate::on_both_stores;
use crate::reports::{close, lab, norm, seed_samples, sql_value};

/// A dimension or measure of the random reports: its definition and its SQL per store
/// (`p` is the part, `s` the joined sample).
struct Part {
    def: Value,
    sqlite: &'static str,
    postgres: &'static str,
}

fn dims() -> Vec<Part> {
    vec![
        Part {
            def: json!({"field": "sample.category"}),
            sqlite: "json_extract(s.data, '$.category')",
            postgres: "s.data->>'category'",
        },
        Part {
            def: json!({"field": "label"}),
            sqlite: "json_extract(p.data, '$.label')",
            postgres: "p.data->>'label'",
        },
        Part {
            def: json!({"field": "sample.d", "bucket": "month", "key": "sdm"}),
            sqlite: "substr(json_extract(s.data, '$.d'), 1, 7)",
            postgres: "substr(s.data->>'d', 1, 7)",
        },
        Part {
            def: json!({"field": "sample.flag"}),
            sqlite: "CASE json_type(s.data, '$.flag') WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' END",
            postgres: "s.data->>'flag'",
        },
    ]
}

fn measures() -> Vec<Part> {
    vec![
        Part {
            def: json!({"agg": "count"}),
            sqlite: "COUNT(*)",
            postgres: "COUNT(*)",
        },
        Part {
            def: json!({"agg": "sum", "field": "w"}),
            sqlite: "SUM(json_extract(p.data, '$.w'))",
            postgres: "SUM((p.data->>'w')::float8)",
        },
        Part {
            def: json!({"agg": "avg", "field": "sample.n"}),
            sqlite: "AVG(json_extract(s.data, '$.n'))",
            postgres: "AVG((s.data->>'n')::float8)",
        },
        Part {
            def: json!({"agg": "count_distinct", "field": "sample"}),
            sqlite: "COUNT(DISTINCT json_extract(p.data, '$.sample'))",
            postgres: "COUNT(DISTINCT p.data->>'sample')",
        },
        Part {
            def: json!({"agg": "max", "field": "sample.k"}),
            sqlite: "MAX(json_extract(s.data, '$.k'))",
            postgres: "MAX((s.data->>'k')::int)",
        },
        Part {
            def: json!({"agg": "count", "where": {"==": [{"var": "sample.flag"}, true]}}),
            sqlite: "SUM(CASE WHEN json_type(s.data, '$.flag') = 'true' THEN 1 ELSE 0 END)",
            postgres: "SUM(CASE WHEN s.data->>'flag' = 'true' THEN 1 ELSE 0 END)",
        },
    ]
}

/// Pick `n` of `0..len` in random order.
fn pick(rng: &mut ChaCha8Rng, len: usize, n: usize) -> Vec<usize> {
    let mut all: Vec<usize> = (0..len).collect();
    for i in (1..all.len()).rev() {
        all.swap(i, rng.random_range(0..=i));
    }
    all.truncate(n);
    all
}

async fn joined(app: TestApp) {
    lab(&app).await;
    app.publish_ok(
        "lab",
        "part",
        json!({"type": "object", "properties": {
            "sample": {"type": "integer", "x-type": "reference", "x-ref": {"form": "sample"}},
            "w": {"type": "number", "x-type": "number"},
            "label": {"type": "string", "x-type": "select", "enum": ["x", "y", "z"]}}}),
    )
    .await;
    let pg = app.store == Store::Postgres;
    let seed = 20261207 + u64::from(pg);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    seed_samples(&app, &mut rng, 80).await;
    let settings = settings_for(app.store, app.dir.path(), &app.db_url);
    let db = formwork::store::db::Db::connect(&settings.database)
        .await
        .unwrap();
    let ids: Vec<i64> = db
        .query_all(
            "SELECT id FROM records WHERE app = 'lab' AND form = 'sample' ORDER BY id",
            vec![],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get::<i64>("", "id").unwrap())
        .collect();
    for _ in 0..150 {
        let mut data = serde_json::Map::new();
        if rng.random_bool(0.85) {
            data.insert("sample".into(), json!(ids[rng.random_range(0..ids.len())]));
        }
        if rng.random_bool(0.9) {
            data.insert("w".into(), json!(rng.random_range(0..1000) as f64 / 10.0));
        }
        if rng.random_bool(0.9) {
            data.insert(
                "label".into(),
                json!(["x", "y", "z"][rng.random_range(0..3)]),
            );
        }
        app.create_ok("lab", "part", Value::Object(data)).await;
    }
    // A reader of every part but only the samples with k below 50.
    let role = json!({"key": "low_k", "label": {"en": "Low k"}, "permissions": {
        "sample": {"actions": ["read"], "rows": {"filter": {"<": [{"var": "k"}, 50]}}, "read": ["*"]},
        "part": {"actions": ["read"], "rows": "all", "read": ["*"]}}});
    expect(
        app.put("/apps/lab/roles/low_k", &role).await,
        StatusCode::OK,
    )
    .await;
    let reader = crate::flows::user(&app, "joiner").await;
    expect(
        app.put("/admin/users/joiner/roles", &json!({"lab": ["low_k"]}))
            .await,
        StatusCode::OK,
    )
    .await;

    let (all_dims, all_measures) = (dims(), measures());
    let sql_of = |p: &Part| if pg { p.postgres } else { p.sqlite };
    let mut reader_cases = 0;
    for case in 0..24 {
        let n_dims = rng.random_range(1..=2);
        let ds = pick(&mut rng, all_dims.len(), n_dims);
        let n_measures = rng.random_range(1..=3);
        let ms = pick(&mut rng, all_measures.len(), n_measures);
        let filtered = rng.random_bool(0.3);
        let as_reader = case % 3 == 1;
        let mut def = json!({
            "form": "part",
            "dimensions": ds.iter().map(|&i| all_dims[i].def.clone()).collect::<Vec<_>>(),
            "measures": ms.iter().enumerate().map(|(j, &i)| {
                let mut m = all_measures[i].def.clone();
                m["key"] = json!(format!("m{j}"));
                m
            }).collect::<Vec<_>>(),
        });
        if filtered {
            def["filter"] = json!({"==": [{"var": "sample.flag"}, true]});
        }
        let got = if as_reader {
            reader_cases += 1;
            expect(
                app.put(&format!("/apps/lab/reports/joined_{case}"), &def)
                    .await,
                StatusCode::OK,
            )
            .await;
            let r = reader
                .post(app.url(&format!("/apps/lab/reports/joined_{case}/run")))
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

        // The same from SQL: parts LEFT JOIN the samples the caller may see.
        let (sample_id, scope) = if pg {
            ("(p.data->>'sample')::bigint", "(s.data->>'k')::int < 50")
        } else {
            (
                "json_extract(p.data, '$.sample')",
                "CAST(json_extract(s.data, '$.k') AS INTEGER) < 50",
            )
        };
        let mut select: Vec<String> = ds
            .iter()
            .enumerate()
            .map(|(i, &d)| format!("{} AS d{i}", sql_of(&all_dims[d])))
            .collect();
        select.extend(
            ms.iter()
                .enumerate()
                .map(|(i, &m)| format!("{} AS m{i}", sql_of(&all_measures[m]))),
        );
        select.push("COUNT(*) AS n_rows".into());
        let mut sql = format!(
            "SELECT {} FROM records p LEFT JOIN records s ON s.app = 'lab' AND s.form = 'sample' \
             AND s.deleted_at IS NULL AND s.id = {sample_id}{} \
             WHERE p.app = 'lab' AND p.form = 'part' AND p.deleted_at IS NULL",
            select.join(", "),
            if as_reader {
                format!(" AND {scope}")
            } else {
                String::new()
            }
        );
        if filtered {
            sql.push_str(if pg {
                " AND s.data->>'flag' = 'true'"
            } else {
                " AND json_type(s.data, '$.flag') = 'true'"
            });
        }
        sql.push_str(&format!(
            " GROUP BY {}",
            (1..=ds.len())
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
        let rows = db.query_all(&sql, vec![]).await.unwrap();
        let mut want: BTreeMap<Vec<String>, (Vec<Value>, i64)> = BTreeMap::new();
        for r in &rows {
            let k = (0..ds.len())
                .map(|i| norm(&sql_value(r, &format!("d{i}"))))
                .collect();
            let v = (0..ms.len())
                .map(|i| sql_value(r, &format!("m{i}")))
                .collect();
            want.insert(k, (v, sql_value(r, "n_rows").as_i64().unwrap()));
        }
        let keys: Vec<String> = got["columns"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["kind"] == "dimension")
            .map(|c| c["key"].as_str().unwrap().to_owned())
            .collect();
        let mut have: BTreeMap<Vec<String>, (Vec<Value>, i64)> = BTreeMap::new();
        for r in got["rows"].as_array().unwrap() {
            let k = keys.iter().map(|k| norm(&r["cells"][k])).collect();
            let v = (0..ms.len())
                .map(|j| r["cells"][format!("m{j}")].clone())
                .collect();
            have.insert(k, (v, r["rows"].as_i64().unwrap()));
        }
        let context = format!("seed {seed} case {case} (reader: {as_reader}): {def}\nSQL: {sql}");
        assert_eq!(
            have.keys().collect::<Vec<_>>(),
            want.keys().collect::<Vec<_>>(),
            "{context}"
        );
        for (k, (hv, hn)) in &have {
            let (wv, wn) = &want[k];
            assert_eq!(hn, wn, "rows behind {k:?}: {context}");
            for (j, (h, w)) in hv.iter().zip(wv).enumerate() {
                assert!(
                    close(h, w),
                    "measure m{j} of {k:?}: report {h}, SQL {w}\n{context}"
                );
            }
        }
    }
    assert!(reader_cases > 0);
}

on_both_stores!(
    polars_results_over_joined_forms_equal_a_sql_left_join,
    joined
);
