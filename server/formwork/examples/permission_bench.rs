//! Permission decision latency with many rules: 200 roles × 50 forms (12 fields each) on a
//! fresh SQLite file. Prints the time to load the rules, to compute one decision (cold), to
//! answer from the decision cache (warm), casbin's `enforce` for one question, and the
//! reload after a role change.
//!
//!   cargo run --release -p formwork --example permission_bench [ROLES] [FORMS]

use formwork::auth::Caller;
use formwork::auth::service::{Principal, Via};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Instant;

fn ms(d: std::time::Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1000.0)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let roles = *args.first().unwrap_or(&200);
    let forms = *args.get(1).unwrap_or(&50);
    let dir = tempfile::tempdir()?;
    let mut settings = formwork::config::Settings::defaults();
    settings.database.url =
        formwork::config::SecretUrl::new(format!("sqlite://{}", dir.path().join("p.db").display()));
    settings.storage.files_dir = dir.path().join("files");
    settings.audit.signing_key = dir.path().join("audit-signing.key");
    let services = formwork::startup::Services::start(&settings).await?;
    let system = Caller::system();
    services
        .forms
        .put_app(
            "bench",
            json!({"key": "bench", "label": {"en": "bench"}, "time_zone": "UTC"}),
            &system.actor,
        )
        .await?;
    let fields: Vec<String> = (0..12).map(|i| format!("f{i}")).collect();
    let props: serde_json::Map<String, Value> = fields
        .iter()
        .map(|f| (f.clone(), json!({"type": "string", "x-type": "text"})))
        .collect();
    for f in 0..forms {
        let key = format!("form{f}");
        let def = json!({"key": key, "label": {"en": key}, "schema": {"type": "object", "properties": props}});
        services
            .forms
            .save_draft("bench", &key, def, &system.actor)
            .await?;
        services.forms.publish("bench", &key, &system.actor).await?;
    }
    let started = Instant::now();
    for r in 0..roles {
        let mut perms = serde_json::Map::new();
        for f in 0..forms {
            perms.insert(
                format!("form{f}"),
                json!({
                    "actions": ["read", "update", "export"],
                    "rows": if r % 2 == 0 { json!("own") } else { json!({"filter": {"==": [{"var": "f1"}, {"var": "$user.id"}]}}) },
                    "read": ["*"], "deny_read": [format!("f{}", r % 12)],
                    "write": ["f2", "f3", "f4"]
                }),
            );
        }
        let key = format!("role{r}");
        services
            .auth
            .put_role(
                &system,
                "bench",
                &key,
                &json!({"key": key, "label": {"en": key}, "permissions": perms}),
            )
            .await?;
    }
    println!(
        "setup: {roles} roles × {forms} forms written in {}",
        ms(started.elapsed())
    );
    services
        .auth
        .create_user(&system, &json!({"username": "u1", "display_name": "u1", "roles": {"bench": ["role7", "role8"]}}))
        .await?;
    let epoch = services.auth.current_epoch().await?;
    let t = Instant::now();
    let loaded = services.auth.rules(epoch).await?;
    println!(
        "load rules into casbin and the index: {} ({} rules)",
        ms(t.elapsed()),
        loaded.enforcer_rule_count()
    );
    let caller = Caller {
        actor: system.actor.clone(),
        principal: Arc::new(Principal {
            username: "u1".into(),
            display_name: "u1".into(),
            department: None,
            platform_role: None,
            attributes: json!({}),
            via: Via::Session {
                digest: String::new(),
            },
            epoch,
        }),
        acting: None,
    };
    let t = Instant::now();
    for f in 0..forms {
        services
            .auth
            .decide(&caller, "bench", &format!("form{f}"))
            .await?;
    }
    println!(
        "decision, cold (computed from the rules): {} per form",
        ms(t.elapsed() / forms as u32)
    );
    let n = 100_000;
    let t = Instant::now();
    for i in 0..n {
        services
            .auth
            .decide(&caller, "bench", &format!("form{}", i % forms))
            .await?;
    }
    println!(
        "decision, warm (cached per roles and form): {:.2} µs",
        t.elapsed().as_secs_f64() * 1e6 / n as f64
    );
    let t = Instant::now();
    let mut params = formwork::query::sql::Params::default();
    for _ in 0..1000 {
        params = formwork::query::sql::Params::default();
        services
            .auth
            .row_scope(&caller, "bench", "form3", services.db.backend, &mut params)
            .await?;
    }
    println!(
        "row scope to SQL: {:.2} µs",
        t.elapsed().as_secs_f64() * 1e6 / 1000.0
    );
    let _ = params;
    let q: u32 = 200;
    let t = Instant::now();
    for i in 0..q {
        let i = i as usize;
        loaded.enforce(
            "u:u1",
            "bench",
            &format!("field/form{}/f{}", i % forms, i % 12),
            "read",
        )?;
    }
    println!("casbin enforce, one question: {}", ms(t.elapsed() / q));
    // A role change: the next request reloads.
    let t = Instant::now();
    services
        .auth
        .put_role(&system, "bench", "role7", &json!({"key": "role7", "label": {"en": "changed"}, "permissions": {"form0": {"actions": ["read"], "rows": "all", "read": ["*"]}}}))
        .await?;
    let write = t.elapsed();
    let t = Instant::now();
    let epoch = services.auth.current_epoch().await?;
    services.auth.rules(epoch).await?;
    println!(
        "role change: written in {}, reloaded in {}",
        ms(write),
        ms(t.elapsed())
    );
    services.finish().await;
    Ok(())
}
