//! The CRM's golden decision table: role × form × field × action → allow/deny, computed on
//! the request path (one decision per role and form) and checked cell by cell against
//! casbin's own `enforce` over the same rules, against the checked-in table
//! `tests/golden/crm-decisions.tsv` (regenerate with FORMWORK_BLESS=1 and review the
//! diff), and against the rules of ../shared/domain/MEDICAL_DEVICE_CRM.md.

use formwork::auth::Caller;
use formwork::auth::service::{Principal, Via};
use serde_json::json;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use crate::helpers::{Store, settings_for};

const ACTIONS: &[&str] = &[
    "create", "read", "update", "delete", "import", "export", "print", "approve",
];

fn golden_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("golden/crm-decisions.tsv")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_crm_decision_table_matches_casbin_the_golden_file_and_the_domain_rules() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("d.db").display());
    let settings = settings_for(Store::Sqlite, dir.path(), &url);
    let services = formwork::startup::Services::start(&settings).await.unwrap();
    let system = Caller::system();
    formwork::service::package::import(&services.package(), &crate::crm::crm_dir(), &system)
        .await
        .unwrap();
    let roles = crate::crm::role_keys();
    assert!(roles.len() >= 8, "{roles:?}");
    let epoch = services.auth.current_epoch().await.unwrap();
    let mut table = String::from("role\tform\tfield\taction\tdecision\n");
    // (role, form, field, action) → allowed
    let mut cells: BTreeMap<(String, String, String, String), bool> = BTreeMap::new();
    let forms = services.forms.form_keys("crm").await.unwrap();
    for role in &roles {
        let user = format!("user_{role}");
        services
            .auth
            .create_user(
                &system,
                &json!({"username": user, "display_name": user, "roles": {"crm": [role]}}),
            )
            .await
            .unwrap();
        let epoch = services.auth.current_epoch().await.unwrap().max(epoch);
        let caller = Caller {
            actor: formwork::store::oplog::Actor::system(),
            principal: Arc::new(Principal {
                username: user.clone(),
                display_name: user.clone(),
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
        let sub = format!("u:{user}");
        let rules = services.auth.rules(epoch).await.unwrap();
        for form in &forms {
            let d = services.auth.decide(&caller, "crm", form).await.unwrap();
            for a in ACTIONS {
                let mine = d.allows(a);
                let casbin = rules
                    .enforce(&sub, "crm", &format!("form/{form}"), a)
                    .unwrap();
                assert_eq!(
                    mine, casbin,
                    "{role} {form} {a}: decision {mine}, casbin {casbin}"
                );
                table.push_str(&format!(
                    "{role}\t{form}\t*\t{a}\t{}\n",
                    if mine { "allow" } else { "deny" }
                ));
                cells.insert(
                    (role.clone(), form.clone(), "*".into(), a.to_string()),
                    mine,
                );
            }
            let compiled = services.forms.current("crm", form).await.unwrap();
            // Computed fields derived from a field casbin hides are hidden too (their value
            // would give the hidden one away); worked out here independently.
            let casbin_read = |f: &str| {
                rules
                    .enforce(&sub, "crm", &format!("field/{form}/{f}"), "read")
                    .unwrap()
            };
            let mut derived_hidden: std::collections::HashSet<String> = Default::default();
            loop {
                let before = derived_hidden.len();
                for (k, spec) in &compiled.model.fields {
                    let Some(formula) = &spec.formula else {
                        continue;
                    };
                    let text = formula.to_string();
                    let names = |f: &str| {
                        text.contains(&format!("\"var\":\"{f}\""))
                            || text.contains(&format!("\"var\":[\"{f}\""))
                    };
                    let reads_hidden = compiled.model.fields.iter().any(|(other, o)| {
                        names(other)
                            && (!casbin_read(other)
                                || derived_hidden.contains(other)
                                // a formula over the rows of a table, naming a hidden column
                                || o.children
                                    .keys()
                                    .any(|c| names(c) && !casbin_read(&format!("{other}.{c}"))))
                    });
                    if reads_hidden {
                        derived_hidden.insert(k.clone());
                    }
                }
                if derived_hidden.len() == before {
                    break;
                }
            }
            for field in compiled.model.fields.keys() {
                let obj = format!("field/{form}/{field}");
                let read_rule = casbin_read(field) && !derived_hidden.contains(field);
                let write_rule = rules.enforce(&sub, "crm", &obj, "write").unwrap();
                // A field is readable with the form's read action and a read rule; writable
                // when also readable and a write rule allows it.
                let read = d.allows("read") && d.can_read(field);
                let write = d.can_write(field) && read;
                assert_eq!(d.can_read(field), read_rule, "{role} {form}.{field} read");
                assert_eq!(
                    d.can_write(field),
                    write_rule && read_rule,
                    "{role} {form}.{field} write"
                );
                for (a, v) in [("read", read), ("write", write)] {
                    table.push_str(&format!(
                        "{role}\t{form}\t{field}\t{a}\t{}\n",
                        if v { "allow" } else { "deny" }
                    ));
                    cells.insert(
                        (role.clone(), form.clone(), field.clone(), a.to_string()),
                        v,
                    );
                }
            }
        }
    }
    services.finish().await;

    let golden = golden_path();
    if std::env::var("FORMWORK_BLESS").is_ok() {
        std::fs::create_dir_all(golden.parent().unwrap()).unwrap();
        std::fs::write(&golden, &table).unwrap();
    }
    let expected = std::fs::read_to_string(&golden)
        .expect("tests/golden/crm-decisions.tsv exists (FORMWORK_BLESS=1 writes it)");
    if expected != table {
        let diff: Vec<String> = expected
            .lines()
            .zip(table.lines())
            .filter(|(a, b)| a != b)
            .take(20)
            .map(|(a, b)| format!("golden: {a}\n   now: {b}"))
            .collect();
        panic!(
            "the CRM decision table changed ({} vs {} lines); review and bless:\n{}",
            expected.lines().count(),
            table.lines().count(),
            diff.join("\n")
        );
    }

    // The domain's rules, independently of the file.
    let allowed = |r: &str, f: &str, field: &str, a: &str| {
        *cells
            .get(&(r.into(), f.into(), field.into(), a.into()))
            .unwrap_or_else(|| panic!("no cell {r} {f} {field} {a}"))
    };
    for r in &roles {
        let money = ["crm_admin", "finance", "sales", "service_director"].contains(&r.as_str());
        assert_eq!(
            allowed(r, "contract", "amount", "read"),
            money,
            "{r} reads contract amounts?"
        );
        let review = ["crm_admin", "compliance"].contains(&r.as_str());
        for f in ["review_status", "review_comment"] {
            assert_eq!(
                allowed(r, "qualification", f, "write"),
                review,
                "{r} writes {f}?"
            );
        }
    }
    assert!(!allowed("engineer", "service_order", "service_fee", "read"));
    // The customer's grade is computed from the credit score and purchase amount, which
    // engineers may not read: the grade is hidden from them too.
    assert!(!allowed("engineer", "customer", "credit_score", "read"));
    assert!(!allowed("engineer", "customer", "grade", "read"));
    assert!(allowed("sales", "customer", "grade", "read"));
    assert!(!allowed("engineer", "service_order", "priority", "write"));
    assert!(!allowed("engineer", "service_order", "customer", "write"));
    for f in [
        "cause",
        "resolution",
        "parts_used",
        "customer_signature",
        "arrived_at",
    ] {
        assert!(
            allowed("engineer", "service_order", f, "write"),
            "engineer writes {f}"
        );
    }
    assert!(
        allowed("service_manager", "service_order", "engineer", "write"),
        "managers dispatch"
    );
    assert!(
        allowed("customer_service", "service_order", "*", "create"),
        "customer service registers orders"
    );
    assert!(
        allowed("sales", "qualification", "*", "create"),
        "sales submit qualifications"
    );
    for ((r, _, field, a), v) in &cells {
        if r == "finance"
            && (a == "write" || ["create", "update", "delete", "import"].contains(&a.as_str()))
        {
            assert!(!v, "finance writes nothing ({field} {a})");
        }
    }
}
