use super::*;
use serde_json::json;

fn orders() -> FormCache {
    let cols = vec![
        ("_id".to_owned(), ColType::Int),
        ("priority".to_owned(), ColType::Text),
        ("fee".to_owned(), ColType::Float),
        ("reported_on".to_owned(), ColType::Date),
        ("device".to_owned(), ColType::Int),
    ];
    // 2026-01-10 is day 20463; 2026-02-10 is day 20494.
    let rows = vec![
        vec![
            Cell::Int(1),
            Cell::Text("high".into()),
            Cell::Float(10.0),
            Cell::Int(20463),
            Cell::Int(100),
        ],
        vec![
            Cell::Int(2),
            Cell::Text("low".into()),
            Cell::Float(20.0),
            Cell::Int(20463),
            Cell::Int(101),
        ],
        vec![
            Cell::Int(3),
            Cell::Text("high".into()),
            Cell::Null,
            Cell::Int(20494),
            Cell::Null,
        ],
    ];
    FormCache::build(cols, chrono_tz::Asia::Shanghai, rows).unwrap()
}

fn devices() -> FormCache {
    let cols = vec![
        ("_id".to_owned(), ColType::Int),
        ("model".to_owned(), ColType::Text),
    ];
    let rows = vec![
        vec![Cell::Int(100), Cell::Text("CT-1".into())],
        vec![Cell::Int(101), Cell::Text("MR-2".into())],
    ];
    FormCache::build(cols, chrono_tz::Asia::Shanghai, rows).unwrap()
}

fn query(dims: Vec<Dim>, measures: Vec<Measure>) -> Query {
    Query {
        filter: None,
        dimensions: dims,
        measures,
        sort: vec![],
        limit: None,
        others: false,
        ids: None,
    }
}

fn measure(agg: Agg, field: Option<&str>) -> Measure {
    Measure {
        agg,
        value: field.map(|f| Value_::Column(f.into())),
        filter: None,
        q: None,
        ratio: None,
        formula: None,
    }
}

fn source_of(form: &str) -> Source {
    Source {
        form: form.into(),
        allowed: None,
        joins: vec![],
    }
}

fn source(allowed: Option<Vec<i64>>) -> Source {
    Source {
        form: "crm/order".into(),
        allowed,
        joins: vec![],
    }
}

#[test]
fn month_by_priority_with_writes_and_scope() {
    let engine = Engine::new(chrono_tz::Asia::Shanghai);
    let cache = engine.install("crm/order", orders());
    let q = query(
        vec![
            Dim::column("reported_on", Some(Bucket::Time(TimeBucket::Month))),
            Dim::column("priority", None),
        ],
        vec![measure(Agg::Count, None), measure(Agg::Sum, Some("fee"))],
    );
    let out = engine.run(&source(None), &q).unwrap();
    let got: Vec<_> = out
        .rows
        .iter()
        .map(|r| {
            (
                r.dims[0].value.clone(),
                r.dims[1].value.clone(),
                r.measures.clone(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (json!("2026-01"), json!("high"), vec![json!(1), json!(10.0)]),
            (json!("2026-01"), json!("low"), vec![json!(1), json!(20.0)]),
            (json!("2026-02"), json!("high"), vec![json!(1), Value::Null]),
        ]
    );
    assert_eq!(
        out.rows[0].dims[0].range,
        Some((json!("2026-01-01"), json!("2026-02-01")))
    );

    // A write is seen by the next run; so is a delete.
    cache
        .lock()
        .unwrap()
        .upsert(vec![
            Cell::Int(3),
            Cell::Text("low".into()),
            Cell::Float(5.0),
            Cell::Int(20463),
            Cell::Null,
        ])
        .unwrap();
    cache.lock().unwrap().remove(2);
    let out = engine.run(&source(None), &q).unwrap();
    let got: Vec<_> = out
        .rows
        .iter()
        .map(|r| (r.dims[1].value.clone(), r.rows))
        .collect();
    assert_eq!(got, vec![(json!("high"), 1), (json!("low"), 1)]);

    // Only the allowed rows are aggregated.
    let out = engine.run(&source(Some(vec![1])), &q).unwrap();
    assert_eq!(out.total_rows, 1);
}

#[test]
fn joins_top_n_and_others() {
    let engine = Engine::new(chrono_tz::Asia::Shanghai);
    engine.install("crm/order", orders());
    engine.install("crm/device", devices());
    let mut src = source(None);
    src.joins.push(Join {
        via: "device".into(),
        form: "crm/device".into(),
        allowed: Some(vec![100]),
        columns: vec!["model".into()],
    });
    let q = query(
        vec![Dim::column("device.model", None)],
        vec![measure(Agg::Count, None)],
    );
    let out = engine.run(&src, &q).unwrap();
    let got: Vec<_> = out
        .rows
        .iter()
        .map(|r| (r.dims[0].value.clone(), r.rows))
        .collect();
    // Device 101 is outside the caller's rows: its order joins as no model.
    assert_eq!(got, vec![(json!("CT-1"), 1), (Value::Null, 2)]);

    let mut q = query(
        vec![Dim::column("priority", None)],
        vec![measure(Agg::Avg, Some("fee"))],
    );
    q.limit = Some(1);
    q.others = true;
    let out = engine.run(&source(None), &q).unwrap();
    let got: Vec<_> = out
        .rows
        .iter()
        .map(|r| {
            (
                r.dims[0].value.clone(),
                r.others,
                r.rows,
                r.measures[0].clone(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (json!("high"), false, 2, json!(10.0)),
            (Value::Null, true, 1, json!(20.0))
        ]
    );
    assert_eq!(out.top, Some(vec![json!("high")]));
}

#[test]
fn filters_and_errors_name_the_place() {
    let engine = Engine::new(chrono_tz::Asia::Shanghai);
    engine.install("crm/order", orders());
    let mut q = query(vec![], vec![measure(Agg::Count, None)]);
    q.filter = Some(
        json!({"and": [{">=": [{"var": "reported_on"}, "2026-02-01"]}, {"!=": [{"var": "priority"}, "low"]}]}),
    );
    assert_eq!(engine.run(&source(None), &q).unwrap().rows[0].rows, 1);
    q.filter = Some(json!({"!=": [{"var": "fee"}, 10]}));
    // A missing fee passes "!=".
    assert_eq!(engine.run(&source(None), &q).unwrap().rows[0].rows, 2);
    q.filter = Some(json!({"<": [{"var": "reported_on"}, 5]}));
    let err = engine.run(&source(None), &q).unwrap_err().to_string();
    assert!(err.contains("/filter/<") && err.contains("date"), "{err}");
    let q = query(vec![], vec![measure(Agg::Sum, Some("priority"))]);
    let err = engine.run(&source(None), &q).unwrap_err().to_string();
    assert!(err.contains("/measures/0/field"), "{err}");
}

#[test]
fn durations_and_two_fields_compare_in_filters() {
    let engine = Engine::new(chrono_tz::Asia::Shanghai);
    let cols = vec![
        ("_id".to_owned(), ColType::Int),
        ("at".to_owned(), ColType::Datetime),
        ("done".to_owned(), ColType::Datetime),
        ("priority".to_owned(), ColType::Text),
        ("limit_h".to_owned(), ColType::Float),
    ];
    let h = 3_600_000;
    let rows = vec![
        vec![
            Cell::Int(1),
            Cell::Int(0),
            Cell::Int(3 * h),
            Cell::Text("urgent".into()),
            Cell::Float(4.0),
        ],
        vec![
            Cell::Int(2),
            Cell::Int(0),
            Cell::Int(6 * h),
            Cell::Text("urgent".into()),
            Cell::Float(4.0),
        ],
        vec![
            Cell::Int(3),
            Cell::Int(0),
            Cell::Int(20 * h),
            Cell::Text("normal".into()),
            Cell::Float(24.0),
        ],
        vec![
            Cell::Int(4),
            Cell::Int(0),
            Cell::Null,
            Cell::Text("normal".into()),
            Cell::Float(24.0),
        ],
    ];
    engine.install(
        "o",
        FormCache::build(cols, chrono_tz::Asia::Shanghai, rows).unwrap(),
    );
    let src = Source {
        form: "o".into(),
        allowed: None,
        joins: vec![],
    };
    // Within SLA: the resolution hours at most the order's own limit; an open order is not.
    let within =
        json!({"<=": [{"hours_between": [{"var": "at"}, {"var": "done"}]}, {"var": "limit_h"}]});
    let mut q = query(
        vec![Dim::column("priority", None)],
        vec![Measure {
            agg: Agg::Share,
            value: None,
            filter: Some(within),
            q: None,
            ratio: None,
            formula: None,
        }],
    );
    let out = engine.run(&src, &q).unwrap();
    let got: Vec<_> = out
        .rows
        .iter()
        .map(|r| (r.dims[0].value.clone(), r.measures[0].clone()))
        .collect();
    assert_eq!(
        got,
        vec![(json!("normal"), json!(0.5)), (json!("urgent"), json!(0.5))]
    );
    q.filter = Some(json!({">": [{"hours_between": [{"var": "at"}, {"var": "done"}]}, 5]}));
    let out = engine.run(&src, &q).unwrap();
    assert_eq!(out.total_rows, 2);
    q.filter = Some(json!({"<": [{"hours_between": [{"var": "at"}, {"var": "priority"}]}, 5]}));
    let err = engine.run(&src, &q).unwrap_err().to_string();
    assert!(
        err.contains("hours_between takes two date-time fields"),
        "{err}"
    );
}

#[test]
fn results_are_reused_only_while_their_data_stands() {
    let engine = Engine::new(chrono_tz::Asia::Shanghai);
    engine.install("crm/order", orders());
    let q = query(
        vec![Dim::column("priority", None)],
        vec![measure(Agg::Count, None)],
    );
    let count = |out: &Output| -> i64 {
        out.rows
            .iter()
            .map(|r| r.measures[0].as_i64().unwrap())
            .sum()
    };
    let first = engine.run(&source(None), &q).unwrap();
    assert_eq!(count(&first), 3);
    // Another caller's rows: not the first caller's result.
    assert_eq!(count(&engine.run(&source(Some(vec![1])), &q).unwrap()), 1);
    assert_eq!(count(&engine.run(&source(None), &q).unwrap()), 3);
    // A rebuilt cache under the same name (after a restart or a new form version) is new
    // data, even though nothing was written through this cache.
    let rebuilt = orders();
    let c = engine.install("crm/order", rebuilt);
    c.lock().unwrap().remove(1);
    assert_eq!(count(&engine.run(&source(None), &q).unwrap()), 2);
    engine.forget("crm/order");
    engine.install("crm/order", orders());
    assert_eq!(count(&engine.run(&source(None), &q).unwrap()), 3);
}

#[test]
fn relative_dates_resolve_to_plain_dates() {
    use crate::logic::resolve_dates;
    let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 30).unwrap();
    let f = json!({"and": [{">=": [{"var": "d"}, {"var": "today"}]},
                           {"<": [{"var": "d"}, {"add_days": [{"var": "today"}, 3]}]},
                           {"==": [{"var": "k"}, 1]}]});
    assert_eq!(
        resolve_dates(&f, today),
        json!({"and": [{">=": [{"var": "d"}, "2026-12-30"]},
                       {"<": [{"var": "d"}, "2027-01-02"]},
                       {"==": [{"var": "k"}, 1]}]})
    );
    assert_eq!(
        resolve_dates(&json!({"add_days": ["2026-03-01", -1]}), today),
        json!("2026-02-28")
    );
    // not resolvable: left as it is (resolved inside) for the checks to refuse
    assert_eq!(
        resolve_dates(&json!({"add_days": [{"var": "today"}, "x"]}), today),
        json!({"add_days": ["2026-12-30", "x"]})
    );
    // The start of this week (Wednesday 2026-12-30 → Monday 2026-12-28), month, quarter,
    // year; and of last week.
    let starts: Vec<Value> = ["day", "week", "month", "quarter", "year"]
        .iter()
        .map(|b| resolve_dates(&json!({"start_of": [b, {"var": "today"}]}), today))
        .collect();
    assert_eq!(
        starts,
        vec![
            json!("2026-12-30"),
            json!("2026-12-28"),
            json!("2026-12-01"),
            json!("2026-10-01"),
            json!("2026-01-01")
        ]
    );
    assert_eq!(
        resolve_dates(
            &json!({"start_of": ["week", {"add_days": [{"var": "today"}, -7]}]}),
            today
        ),
        json!("2026-12-21")
    );
    assert_eq!(
        resolve_dates(&json!({"start_of": ["fortnight", {"var": "today"}]}), today),
        json!({"start_of": ["fortnight", "2026-12-30"]})
    );
}

fn visits() -> FormCache {
    // A device made on `made` (a date) and visited at `at` (a date-time, UTC millis);
    // Shanghai is UTC+8, so 2026-01-09T20:00Z is 2026-01-10 there.
    let cols = vec![
        ("_id".to_owned(), ColType::Int),
        ("made".to_owned(), ColType::Date),
        ("at".to_owned(), ColType::Datetime),
        ("parts".to_owned(), ColType::Float),
        ("hours".to_owned(), ColType::Float),
    ];
    let day = |y, m, d| {
        Cell::Int(bucket::day_number(
            chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap(),
        ))
    };
    let at = |s: &str| {
        Cell::Int(
            chrono::DateTime::parse_from_rfc3339(s)
                .unwrap()
                .timestamp_millis(),
        )
    };
    let rows = vec![
        // 0 days old on its local date (UTC date is the day before).
        vec![
            Cell::Int(1),
            day(2026, 1, 10),
            at("2026-01-09T20:00:00Z"),
            Cell::Float(100.0),
            Cell::Float(2.0),
        ],
        // 1.5 years (549 days) old.
        vec![
            Cell::Int(2),
            day(2024, 7, 10),
            at("2026-01-09T20:00:00Z"),
            Cell::Null,
            Cell::Float(1.0),
        ],
        // 3 years old; no parts, no hours.
        vec![
            Cell::Int(3),
            day(2023, 1, 10),
            at("2026-01-10T04:00:00Z"),
            Cell::Null,
            Cell::Null,
        ],
        // No production date: no age.
        vec![
            Cell::Int(4),
            Cell::Null,
            at("2026-01-10T04:00:00Z"),
            Cell::Float(50.0),
            Cell::Null,
        ],
    ];
    FormCache::build(cols, chrono_tz::Asia::Shanghai, rows).unwrap()
}

#[test]
fn a_duration_dimension_between_a_date_and_a_date_time_counts_local_days() {
    let engine = Engine::new(chrono_tz::Asia::Shanghai);
    engine.install("crm/order", visits());
    let age = |unit, bucket| Dim {
        value: Value_::Duration {
            from: "made".into(),
            to: "at".into(),
            unit,
        },
        bucket,
    };
    let q = query(
        vec![age(DurationUnit::Years, Some(Bucket::Width(1.0)))],
        vec![measure(Agg::Count, None)],
    );
    let out = engine.run(&source(None), &q).unwrap();
    let got: Vec<_> = out
        .rows
        .iter()
        .map(|r| (r.dims[0].value.clone(), r.dims[0].range.clone(), r.rows))
        .collect();
    assert_eq!(
        got,
        vec![
            (json!(0.0), Some((json!(0.0), json!(1.0))), 1),
            (json!(1.0), Some((json!(1.0), json!(2.0))), 1),
            // 1096 days / 365.25 = 3.0007 years.
            (json!(3.0), Some((json!(3.0), json!(4.0))), 1),
            (Value::Null, None, 1),
        ]
    );
    // In days, unbucketed: the local dates, not the UTC ones.
    let q = query(
        vec![age(DurationUnit::Days, None)],
        vec![measure(Agg::Count, None)],
    );
    let out = engine.run(&source(None), &q).unwrap();
    let days: Vec<_> = out.rows.iter().map(|r| r.dims[0].value.clone()).collect();
    assert_eq!(
        days,
        vec![json!(0.0), json!(549.0), json!(1096.0), Value::Null]
    );
    // A duration has no time buckets.
    let q = query(
        vec![age(
            DurationUnit::Days,
            Some(Bucket::Time(TimeBucket::Month)),
        )],
        vec![measure(Agg::Count, None)],
    );
    assert!(matches!(
        engine.run(&source(None), &q),
        Err(ReportError::Invalid { .. })
    ));
}

#[test]
fn formulas_add_measures_as_sums_and_divide_safely() {
    use crate::{Formula as F, FormulaOp as Op};
    let engine = Engine::new(chrono_tz::Asia::Shanghai);
    engine.install("crm/order", visits());
    let formula = |f: F| Measure {
        formula: Some(f),
        ..measure(Agg::Formula, None)
    };
    // cost = parts + hours × 300, per row group of "has a production date".
    let cost = F::Op(
        Op::Add,
        vec![
            F::Measure(0),
            F::Op(Op::Mul, vec![F::Measure(1), F::Number(300.0)]),
        ],
    );
    let mut q = query(
        vec![Dim::column("_id", None)],
        vec![
            measure(Agg::Sum, Some("parts")),
            measure(Agg::Sum, Some("hours")),
            formula(cost.clone()),
            // Derived from a derived measure before it; a division by 0 is missing.
            formula(F::Op(
                Op::Div,
                vec![
                    F::Measure(2),
                    F::Op(Op::Sub, vec![F::Measure(1), F::Number(1.0)]),
                ],
            )),
            formula(F::Op(Op::Sub, vec![F::Measure(0)])),
        ],
    );
    let out = engine.run(&source(None), &q).unwrap();
    let got: Vec<_> = out.rows.iter().map(|r| r.measures.clone()).collect();
    assert_eq!(
        got,
        vec![
            vec![
                json!(100.0),
                json!(2.0),
                json!(700.0),
                json!(700.0),
                json!(-100.0)
            ],
            // No parts: they count as 0 in the sum; hours − 1 = 0 divides by 0.
            vec![
                Value::Null,
                json!(1.0),
                json!(300.0),
                Value::Null,
                Value::Null
            ],
            // Neither: the cost is missing, not 0.
            vec![
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null,
                Value::Null
            ],
            // A product with a missing operand is missing; the sum keeps the parts.
            vec![
                json!(50.0),
                Value::Null,
                json!(50.0),
                Value::Null,
                json!(-50.0)
            ],
        ]
    );
    // A formula may not read itself, nor a derived measure listed after it.
    q.measures[2] = formula(F::Op(Op::Add, vec![F::Measure(3), F::Number(1.0)]));
    assert!(matches!(
        engine.run(&source(None), &q),
        Err(ReportError::Invalid { .. })
    ));
    q.measures[2] = formula(F::Measure(2));
    assert!(matches!(
        engine.run(&source(None), &q),
        Err(ReportError::Invalid { .. })
    ));
}

/// Runs after writes regroup only the rows written since the base (and the base's dead
/// rows); they must give what grouping every live row gives, for random rows, writes,
/// scopes, joins, filters, dimensions and measures.
#[test]
fn runs_after_writes_equal_grouping_every_row() {
    let mut x: u64 = 0x5EED_1234_ABCD_0001;
    let mut next = move |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    };
    let cols = vec![
        ("_id".to_owned(), ColType::Int),
        // A field named like the engine's own working columns once were.
        ("v0".to_owned(), ColType::Text),
        ("fee".to_owned(), ColType::Float),
        ("on".to_owned(), ColType::Date),
        ("ok".to_owned(), ColType::Bool),
        ("n".to_owned(), ColType::Int),
        ("device".to_owned(), ColType::Int),
    ];
    let row = |id: i64, next: &mut dyn FnMut(u64) -> u64| -> Vec<Cell> {
        let maybe = |v: Cell, r: u64| if r == 0 { Cell::Null } else { v };
        vec![
            Cell::Int(id),
            maybe(
                Cell::Text(["a", "b", "c"][next(3) as usize].into()),
                next(6),
            ),
            maybe(Cell::Float(next(10_000) as f64 / 100.0), next(5)),
            maybe(Cell::Int(20_400 + next(200) as i64), next(8)),
            maybe(Cell::Bool(next(2) == 0), next(6)),
            maybe(Cell::Int(next(50) as i64), next(7)),
            maybe(Cell::Int(100 + next(4) as i64), next(9)),
        ]
    };
    let rows: Vec<Vec<Cell>> = (1..=400).map(|id| row(id, &mut next)).collect();
    let device_rows =
        || (100..104).map(|id| vec![Cell::Int(id), Cell::Text(format!("model-{}", id % 2))]);
    let device_cols = vec![
        ("_id".to_owned(), ColType::Int),
        ("model".to_owned(), ColType::Text),
    ];
    let tz = chrono_tz::Asia::Shanghai;
    let kept = Engine::new(tz);
    let every = Engine::new(tz);
    every.set_incremental(false);
    for e in [&kept, &every] {
        e.set_reuse(false);
        e.install(
            "t/o",
            FormCache::build(cols.clone(), tz, rows.clone()).unwrap(),
        );
        e.install(
            "t/d",
            FormCache::build(device_cols.clone(), tz, device_rows()).unwrap(),
        );
    }
    // The engine's working columns do not shadow a field of the same name.
    let by_v0 = query(
        vec![Dim::column("v0", None)],
        vec![measure(Agg::Sum, Some("fee"))],
    );
    for e in [&kept, &every] {
        let out = e.run(&source_of("t/o"), &by_v0).unwrap();
        let groups: Vec<Value> = out.rows.iter().map(|r| r.dims[0].value.clone()).collect();
        assert_eq!(groups, [json!("a"), json!("b"), json!("c"), Value::Null]);
    }
    let dims = [
        Dim::column("v0", None),
        Dim::column("on", Some(Bucket::Time(TimeBucket::Month))),
        Dim::column("ok", None),
        Dim::column("n", Some(Bucket::Width(10.0))),
        Dim::column("device.model", None),
    ];
    let measures = |next: &mut dyn FnMut(u64) -> u64| -> Vec<Measure> {
        let mut out = vec![];
        for _ in 0..1 + next(4) {
            let mut m = match next(6) {
                0 => measure(Agg::Count, None),
                1 => measure(Agg::CountValues, Some("fee")),
                2 => measure(Agg::Sum, Some("fee")),
                3 => measure(Agg::Avg, Some("n")),
                4 => measure(Agg::Share, None),
                _ => measure(Agg::Sum, Some("n")),
            };
            if m.agg == Agg::Share || next(3) == 0 {
                m.filter = Some(json!({">": [{"var": "n"}, 20]}));
            }
            out.push(m);
        }
        if out.len() >= 2 {
            out.push(Measure {
                ratio: Some((0, 1)),
                ..measure(Agg::Ratio, None)
            });
        }
        out
    };
    let mut next_id = 401;
    for round in 0..60 {
        // A few writes: creates, updates, deletes; now and then the delta is folded in.
        for _ in 0..next(6) {
            let (id, delete) = match next(4) {
                0 => (1 + next(next_id as u64 - 1) as i64, true),
                1 => {
                    next_id += 1;
                    (next_id - 1, false)
                }
                _ => (1 + next(next_id as u64 - 1) as i64, false),
            };
            let r = row(id, &mut next);
            for e in [&kept, &every] {
                let c = e.get("t/o").unwrap();
                let mut c = c.lock().unwrap();
                if delete {
                    c.remove(id);
                } else {
                    c.upsert(r.clone()).unwrap();
                }
            }
        }
        if round % 17 == 16 {
            for e in [&kept, &every] {
                e.get("t/o").unwrap().lock().unwrap().compact().unwrap();
            }
        }
        let mut q = query(
            (0..next(3))
                .map(|_| dims[next(dims.len() as u64) as usize].clone())
                .collect(),
            measures(&mut next),
        );
        q.dimensions
            .dedup_by(|a, b| format!("{a:?}") == format!("{b:?}"));
        if next(3) == 0 {
            q.filter = Some(json!({"!=": [{"var": "v0"}, "c"]}));
        }
        // Now and then a top-N, ranked by rows, the first dimension or the first measure.
        if !q.dimensions.is_empty() && next(3) == 0 {
            q.limit = Some(1 + next(3) as usize);
            q.others = next(2) == 0;
            q.sort = match next(3) {
                0 => vec![],
                1 => vec![(SortBy::Dim(0), next(2) == 0)],
                _ => vec![(SortBy::Measure(0), next(2) == 0)],
            };
        }
        let src = Source {
            form: "t/o".into(),
            allowed: (next(3) == 0).then(|| (1..next_id).filter(|i| i % 3 != 0).collect()),
            joins: vec![Join {
                via: "device".into(),
                form: "t/d".into(),
                allowed: None,
                columns: vec!["model".into()],
            }],
        };
        // Twice: the first run of a query keeps its base groups, the second uses them.
        for _ in 0..2 {
            let (a, b) = (kept.run(&src, &q).unwrap(), every.run(&src, &q).unwrap());
            assert_eq!(a.total_rows, b.total_rows, "round {round}: {q:?}");
            assert_eq!(a.rows.len(), b.rows.len(), "round {round}: {q:?}");
            for (ra, rb) in a.rows.iter().zip(&b.rows) {
                let dims = |r: &OutRow| r.dims.iter().map(|d| d.value.clone()).collect::<Vec<_>>();
                assert_eq!(dims(ra), dims(rb), "round {round}: {q:?}");
                assert_eq!(ra.rows, rb.rows, "round {round}: {q:?}");
                for (ma, mb) in ra.measures.iter().zip(&rb.measures) {
                    match (ma.as_f64(), mb.as_f64()) {
                        // Sums regrouped in another order: equal to 1e-9 relative.
                        (Some(fa), Some(fb)) => assert!(
                            (fa - fb).abs() <= 1e-9 * fa.abs().max(fb.abs()).max(1.0),
                            "round {round}: {fa} vs {fb} in {q:?}"
                        ),
                        _ => assert_eq!(ma, mb, "round {round}: {q:?}"),
                    }
                }
            }
        }
    }
}

/// A cache of sub-table rows: each record's rows under `record << ROW_BITS` + i, the row
/// scope by `_record`; replacing a record's rows (fewer, more, none) leaves exactly the new
/// ones, through the incremental path as through grouping every row.
#[test]
fn sub_table_rows_follow_their_records() {
    let cols = vec![
        ("_id".to_owned(), ColType::Int),
        ("_record".to_owned(), ColType::Int),
        ("parts.part".to_owned(), ColType::Text),
        ("parts.qty".to_owned(), ColType::Int),
    ];
    let row = |record: i64, i: i64, part: &str, qty: i64| {
        vec![
            Cell::Int((record << ROW_BITS) + i),
            Cell::Int(record),
            Cell::Text(part.into()),
            Cell::Int(qty),
        ]
    };
    let rows = vec![
        row(1, 0, "fan", 2),
        row(1, 1, "belt", 1),
        row(1, 2, "fan", 3),
        row(2, 0, "fan", 10),
    ];
    let q = query(
        vec![Dim::column("parts.part", None)],
        vec![
            measure(Agg::Sum, Some("parts.qty")),
            measure(Agg::Count, None),
        ],
    );
    let sums = |engine: &Engine, allowed: Option<Vec<i64>>| {
        let source = Source {
            form: "o#parts".into(),
            allowed,
            joins: vec![],
        };
        engine
            .run(&source, &q)
            .unwrap()
            .rows
            .iter()
            .map(|r| (r.dims[0].value.clone(), r.measures[0].clone(), r.rows))
            .collect::<Vec<_>>()
    };
    for incremental in [false, true] {
        let engine = Engine::new(chrono_tz::Asia::Shanghai);
        engine.set_incremental(incremental);
        let cache = engine.install(
            "o#parts",
            FormCache::build(cols.clone(), chrono_tz::Asia::Shanghai, rows.clone()).unwrap(),
        );
        assert_eq!(
            sums(&engine, None),
            vec![
                (json!("belt"), json!(1.0), 1),
                (json!("fan"), json!(15.0), 3)
            ]
        );
        assert_eq!(
            sums(&engine, Some(vec![1])),
            vec![
                (json!("belt"), json!(1.0), 1),
                (json!("fan"), json!(5.0), 2)
            ],
            "the scope keeps the rows of record 1"
        );
        // Record 1 now has one row; record 2 gets two; then record 1 has none.
        let mut c = cache.lock().unwrap();
        c.replace_rows(1, vec![row(1, 0, "belt", 4)]).unwrap();
        c.replace_rows(2, vec![row(2, 0, "fan", 7), row(2, 1, "pump", 1)])
            .unwrap();
        drop(c);
        assert_eq!(
            sums(&engine, None),
            vec![
                (json!("belt"), json!(4.0), 1),
                (json!("fan"), json!(7.0), 1),
                (json!("pump"), json!(1.0), 1)
            ]
        );
        let mut c = cache.lock().unwrap();
        c.replace_rows(1, vec![]).unwrap();
        c.replace_rows(2, vec![row(2, 0, "pump", 5)]).unwrap();
        drop(c);
        assert_eq!(sums(&engine, None), vec![(json!("pump"), json!(5.0), 1)]);
        assert_eq!(sums(&engine, Some(vec![1])), vec![]);
    }
}
