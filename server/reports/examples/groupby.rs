//! The engine alone over N synthetic service orders: month × priority with count, average
//! satisfaction and sum of fees — the report of the benchmark, without HTTP, the
//! database or permissions. `cargo run --release -p formwork-reports --example groupby [N]`
use formwork_reports::*;
use std::time::Instant;

fn main() {
    let n: i64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let tz: chrono_tz::Tz = "Asia/Shanghai".parse().unwrap();
    let cols = vec![
        ("_id".to_owned(), ColType::Int),
        ("reported_at".to_owned(), ColType::Datetime),
        ("priority".to_owned(), ColType::Text),
        ("satisfaction".to_owned(), ColType::Int),
        ("service_fee".to_owned(), ColType::Float),
        ("pcode".to_owned(), ColType::Int),
    ];
    let start = 1_732_233_600_000i64; // 2024-11-22
    let span = 2 * 365 * 24 * 3_600_000i64;
    let pri = ["urgent", "high", "normal", "low"];
    let mut x: u64 = 0x9E3779B97F4A7C15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let t = Instant::now();
    let mut b = CacheBuilder::new(cols, tz).unwrap();
    let mut page = Vec::new();
    for id in 0..n {
        let r = next();
        page.push(vec![
            Cell::Int(id + 1),
            Cell::Int(start + (r % span as u64) as i64),
            Cell::Text(pri[(r >> 40) as usize % 4].to_owned()),
            if r % 5 == 0 {
                Cell::Null
            } else {
                Cell::Int(60 + (r >> 20) as i64 % 41)
            },
            Cell::Float(((r >> 8) % 500_000) as f64 / 100.0),
            Cell::Int((r >> 40) as i64 % 4),
        ]);
        if page.len() == 10_000 {
            b.push(&page).unwrap();
            page.clear();
        }
    }
    b.push(&page).unwrap();
    let cache = b.finish().unwrap();
    println!(
        "built {n} rows in {:.0} ms",
        t.elapsed().as_secs_f64() * 1000.0
    );
    let engine = Engine::new(tz);
    engine.install("o", cache);
    // Time the computation: without reuse every run computes (reuse is timed at the end),
    // and first over every live row (groups kept per base are timed after the writes).
    engine.set_reuse(false);
    engine.set_incremental(false);
    let q = Query {
        filter: None,
        dimensions: vec![
            Dim::column("reported_at", Some(Bucket::Time(TimeBucket::Month))),
            Dim::column("priority", None),
        ],
        measures: vec![
            Measure {
                agg: Agg::Count,
                value: None,
                filter: None,
                q: None,
                ratio: None,
                formula: None,
            },
            Measure {
                agg: Agg::Avg,
                value: Some(Value_::Column("satisfaction".into())),
                filter: None,
                q: None,
                ratio: None,
                formula: None,
            },
            Measure {
                agg: Agg::Sum,
                value: Some(Value_::Column("service_fee".into())),
                filter: None,
                q: None,
                ratio: None,
                formula: None,
            },
        ],
        sort: vec![],
        limit: None,
        others: false,
        ids: None,
    };
    let src = Source {
        form: "o".into(),
        allowed: None,
        joins: vec![],
    };
    let t = Instant::now();
    let out = engine.run(&src, &q).unwrap();
    println!(
        "first run (computes the month buckets): {:.1} ms, {} rows",
        t.elapsed().as_secs_f64() * 1000.0,
        out.rows.len()
    );
    let (med, best, worst) = time30(|| {
        engine.run(&src, &q).unwrap();
    });
    println!(
        "warm: median {:.1} ms, best {:.1} ms, worst {:.1} ms (30 runs)",
        med, best, worst
    );
    let mut q2 = q.clone();
    q2.dimensions[1].value = formwork_reports::Value_::Column("pcode".into());
    let (med, best, _worst) = time30(|| {
        engine.run(&src, &q2).unwrap();
    });
    println!(
        "integer codes instead of text: median {:.1} ms, best {:.1} ms",
        med, best
    );
    let mut q3 = q.clone();
    q3.dimensions.truncate(1);
    let (med, best, _worst) = time30(|| {
        engine.run(&src, &q3).unwrap();
    });
    println!("month only: median {:.1} ms, best {:.1} ms", med, best);
    // Right after a write: one new record in the delta before each run (what the API's
    // "after a write" runs see), then the same with an update (a dead base row as well).
    let mut next_id = n + 1;
    let mut write = |update: bool| {
        let cache = engine.get("o").unwrap();
        let mut c = cache.lock().unwrap();
        let id = if update { 1 + next_id % n } else { next_id };
        next_id += 1;
        c.upsert(vec![
            Cell::Int(id),
            Cell::Int(start + span / 2),
            Cell::Text("urgent".into()),
            Cell::Int(90),
            Cell::Float(100.0),
            Cell::Int(0),
        ])
        .unwrap();
    };
    for (label, update, incremental) in [
        ("a create, grouping every row", false, false),
        ("an update, grouping every row", true, false),
        ("a create, base groups kept", false, true),
        ("an update, base groups kept", true, true),
    ] {
        engine.set_incremental(incremental);
        engine.run(&src, &q).unwrap();
        let mut times: Vec<f64> = (0..30)
            .map(|_| {
                write(update);
                let t = Instant::now();
                engine.run(&src, &q).unwrap();
                t.elapsed().as_secs_f64() * 1000.0
            })
            .collect();
        times.sort_by(f64::total_cmp);
        println!(
            "right after {label}: median {:.1} ms, best {:.1} ms",
            times[15], times[0]
        );
    }
    engine.set_reuse(true);
    engine.run(&src, &q).unwrap();
    let (med, best, _worst) = time30(|| {
        engine.run(&src, &q).unwrap();
    });
    println!(
        "reused (nothing changed since the last run): median {:.2} ms, best {:.2} ms",
        med, best
    );
    raw_polars(&engine);
}

/// polars alone on the cache's frame (month column already bucketed): the floor the
/// engine's own work sits on.
fn raw_polars(engine: &formwork_reports::Engine) {
    use polars::prelude::*;
    let df = engine
        .get("o")
        .unwrap()
        .lock()
        .unwrap()
        .frame(&[("reported_at".into(), TimeBucket::Month)])
        .unwrap()
        .collect()
        .unwrap();
    let month = cache::bucket_column("reported_at", TimeBucket::Month);
    let group = |frame: &DataFrame, keys: Vec<Expr>| {
        let (med, best, _) = time30(|| {
            frame
                .clone()
                .lazy()
                .group_by(keys.clone())
                .agg([len(), col("satisfaction").mean(), col("service_fee").sum()])
                .collect()
                .unwrap();
        });
        (med, best)
    };
    let (m, b) = group(&df, vec![col(month.as_str()), col("priority")]);
    println!("polars alone, month × priority: median {m:.1} ms, best {b:.1} ms");
    let (m, b) = group(&df, vec![col(month.as_str()), col("pcode")]);
    println!("polars alone, month × integer code: median {m:.1} ms, best {b:.1} ms");
    let (m, b) = group(&df, vec![col(month.as_str())]);
    println!("polars alone, month: median {m:.1} ms, best {b:.1} ms");
    let combined = df
        .clone()
        .lazy()
        .with_column((col(month.as_str()) * lit(8i64) + col("pcode")).alias("mk"))
        .collect()
        .unwrap();
    let (m, b) = group(&combined, vec![col("mk")]);
    println!("polars alone, one combined integer key: median {m:.1} ms, best {b:.1} ms");
}

/// Median, best and worst of 30 timed calls of `f`, in milliseconds.
fn time30(mut f: impl FnMut()) -> (f64, f64, f64) {
    let mut times: Vec<f64> = (0..30)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    (times[15], times[0], times[29])
}
