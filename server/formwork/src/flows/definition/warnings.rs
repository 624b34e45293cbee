//! What publishing allows but an admin should know (warnings, not refusals).

use super::*;

/// What publishing allows but an admin should know: assignees and recipients by a role
/// nobody holds yet resolve to nobody until someone does. (Not refused: an app package is
/// imported before its users exist.)
pub fn publish_warnings(def: &Value, facts: &AppFacts) -> Vec<Detail> {
    fn walk(v: &Value, p: &str, facts: &AppFacts, out: &mut Vec<Detail>) {
        match v {
            Value::Object(o) => {
                let single = o.len() == 1;
                for (k, x) in o {
                    let at = format!("{p}/{k}");
                    let roles: Vec<(String, &str)> = match (single, k.as_str(), x) {
                        (true, "role", Value::String(r)) => vec![(at.clone(), r.as_str())],
                        (true, "roles", Value::Array(list)) => list
                            .iter()
                            .enumerate()
                            .filter_map(|(i, r)| Some((format!("{at}/{i}"), r.as_str()?)))
                            .collect(),
                        _ => Vec::new(),
                    };
                    for (pointer, r) in roles {
                        if facts.roles.contains(r) && !facts.staffed_roles.contains(r) {
                            out.push(d(
                                pointer,
                                "nobody",
                                format!("no enabled user holds the role {r} yet: until someone does, this resolves to nobody"),
                            ));
                        }
                    }
                    walk(x, &at, facts, out);
                }
            }
            Value::Array(a) => {
                for (i, x) in a.iter().enumerate() {
                    walk(x, &format!("{p}/{i}"), facts, out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(&def["nodes"], "/nodes", facts, &mut out);
    // An approval assigned to a role that may not approve the flow's form: its tasks can
    // be decided by nobody (completing one is refused with 403 rule `action`).
    if let Some(form) = def["trigger"]["form"].as_str() {
        for (i, n) in def["nodes"].as_array().into_iter().flatten().enumerate() {
            let Some(role) = n["assignee"]["role"].as_str() else {
                continue;
            };
            let may = |f: &str| facts.approvers.contains(&(role.to_owned(), f.to_owned()));
            if n["type"] == "approval" && facts.roles.contains(role) && !may(form) && !may("*") {
                out.push(d(
                    format!("/nodes/{i}/assignee/role"),
                    "approve",
                    format!("the role {role} may not approve {form}: until it may, nobody can decide this approval"),
                ));
            }
        }
    }
    out
}
