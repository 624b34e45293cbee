//! The platform OpenAPI document against the router: every route documented, no other.

use std::collections::BTreeSet;

/// `(path, method)` of every route the router in `api/mod.rs` declares (records
/// routes under their nest), read from its source.
fn routes() -> BTreeSet<(String, String)> {
    let src = include_str!("mod.rs");
    let start = src.find("pub fn router(").expect("the router");
    let src = &src[start..];
    let nest = "/apps/{app}/forms/{form}/records";
    let records_end = src.find("let public").expect("the public routes");
    // (The web UI's routes, after the API's, are not API routes.)
    let src = &src[..src.find("let api = public").expect("the API router")];
    let mut out = BTreeSet::new();
    for (at, _) in src.match_indices(".route(") {
        let rest = &src[at + ".route(".len()..];
        let q1 = rest.find('"').unwrap();
        let q2 = q1 + 1 + rest[q1 + 1..].find('"').unwrap();
        let path = &rest[q1 + 1..q2];
        // The handler chain runs to the `)` closing `.route(`.
        let mut depth = 1;
        let mut end = 0;
        for (i, c) in rest.char_indices() {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        end = i;
                        break;
                    }
                }
                _ => {}
            }
        }
        let chain = &rest[q2 + 1..end];
        let full = if at < records_end {
            format!("{nest}{}", path.trim_end_matches('/'))
        } else {
            path.to_owned()
        };
        for m in ["get", "post", "put", "patch", "delete"] {
            let called = chain.match_indices(&format!("{m}(")).any(|(i, _)| {
                i == 0
                    || !chain.as_bytes()[i - 1].is_ascii_alphanumeric()
                        && chain.as_bytes()[i - 1] != b'_'
            });
            if called {
                out.insert((full.clone(), m.to_owned()));
            }
        }
    }
    out
}

/// Every route of the API is in the platform OpenAPI document, with its method, and
/// the document names no route that does not exist.
#[tokio::test]
async fn every_route_is_documented() {
    let declared = routes();
    assert!(declared.len() > 60, "{declared:?}");
    let doc = super::platform().await.0;
    let mut documented = BTreeSet::new();
    for (p, item) in doc["paths"].as_object().unwrap() {
        for m in item.as_object().unwrap().keys() {
            if ["get", "post", "put", "patch", "delete"].contains(&m.as_str()) {
                documented.insert((p.clone(), m.clone()));
            }
        }
    }
    let missing: Vec<_> = declared.difference(&documented).collect();
    let extra: Vec<_> = documented.difference(&declared).collect();
    assert!(
        missing.is_empty(),
        "routes missing from the OpenAPI document: {missing:?}"
    );
    assert!(
        extra.is_empty(),
        "documented routes that do not exist: {extra:?}"
    );
}
