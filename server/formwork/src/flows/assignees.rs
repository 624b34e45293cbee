//! Assignees: who a task, a deadline's escalation or an inbox message goes to — named
//! users, the members of a role (or of several), a member field of the record (directly or through a
//! reference), the initiator, or the department head of the initiator, of the record's
//! owner or of a member/department field, climbing the department tree.

use sea_orm::{ConnectionTrait, DatabaseTransaction};
use serde_json::Value;

use super::store::Instance;
use crate::error::DomainResult;
use crate::store::writer::Batch;

/// The users an assignee spec names (enabled users only).
pub(crate) async fn resolve(
    txn: &DatabaseTransaction,
    batch: &Batch,
    inst: &Instance,
    data: &Value,
    a: &Value,
) -> DomainResult<Vec<String>> {
    let mut names: Vec<String> = Vec::new();
    if let Some(u) = a.get("user").and_then(Value::as_str) {
        names.push(u.to_owned());
    } else if let Some(us) = a.get("users").and_then(Value::as_array) {
        names.extend(us.iter().filter_map(Value::as_str).map(str::to_owned));
    } else if a.get("role").is_some() || a.get("roles").is_some() {
        let roles: Vec<&str> = match (a.get("role"), a.get("roles")) {
            (Some(r), _) => r.as_str().into_iter().collect(),
            (None, Some(rs)) => rs
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect(),
            _ => vec![],
        };
        for r in roles {
            let rows = txn
                .query_all_raw(batch.stmt(
                    "SELECT v0 FROM auth_rules WHERE ptype = 'g' AND v1 = $1 AND v2 = $2 ORDER BY v0",
                    vec![format!("r:{r}").into(), inst.app.clone().into()],
                ))
                .await?;
            for row in rows {
                let s: String = row.try_get("", "v0")?;
                if let Some(u) = s.strip_prefix("u:") {
                    names.push(u.to_owned());
                }
            }
        }
    } else if let Some(f) = a.get("field").and_then(Value::as_str) {
        names.extend(field_values(txn, batch, inst, data, f).await?);
    } else if let Some(h) = a.get("head_of") {
        // Where to start looking for a head, and who is not their own approver.
        let mut starts: Vec<(String, Option<String>)> = Vec::new();
        match h {
            Value::String(s) if s == "initiator" => {
                if let Some(d) = user_department(txn, batch, &inst.initiator).await? {
                    starts.push((d, Some(inst.initiator.clone())));
                }
            }
            Value::String(s) if s == "record" => {
                if let Some(id) = inst.record_id
                    && let Some(row) = txn
                        .query_one_raw(batch.stmt(
                            "SELECT owner_user, owner_dept FROM records WHERE id = $1",
                            vec![id.into()],
                        ))
                        .await?
                    && let Some(d) = row.try_get::<Option<String>>("", "owner_dept")?
                {
                    starts.push((d, row.try_get("", "owner_user")?));
                }
            }
            _ => {
                let f = h.get("field").and_then(Value::as_str).unwrap_or("");
                for v in field_values(txn, batch, inst, data, f).await? {
                    // A member field names a user; a department field a department.
                    match user_department(txn, batch, &v).await? {
                        Some(d) => starts.push((d, Some(v))),
                        None => starts.push((v, None)),
                    }
                }
            }
        }
        for (dept, person) in starts {
            if let Some(head) = head_above(txn, batch, dept, person.as_deref()).await? {
                names.push(head);
            }
        }
    } else if a.get("initiator") == Some(&Value::Bool(true)) {
        names.push(inst.initiator.clone());
    }
    let mut out = Vec::new();
    for n in names {
        let row = txn
            .query_one_raw(batch.stmt(
                "SELECT disabled FROM users WHERE username = $1",
                vec![n.clone().into()],
            ))
            .await?;
        if let Some(r) = row
            && r.try_get::<i64>("", "disabled")? == 0
            && !out.contains(&n)
        {
            out.push(n);
        }
    }
    Ok(out)
}

/// The values of a member (or department) field: `engineer`, a multi-member field, or
/// through a reference `customer.owner`.
async fn field_values(
    txn: &DatabaseTransaction,
    batch: &Batch,
    inst: &Instance,
    data: &Value,
    f: &str,
) -> DomainResult<Vec<String>> {
    let mut names = Vec::new();
    match f.split_once('.') {
        None => match data.get(f) {
            Some(Value::String(u)) => names.push(u.clone()),
            // A multi-member field: one task per member (instances known at run time).
            Some(Value::Array(us)) => {
                names.extend(us.iter().filter_map(Value::as_str).map(str::to_owned))
            }
            _ => {}
        },
        // Through a reference: the member field of the referenced record.
        Some((r, member)) => {
            if let Some(id) = data.get(r).and_then(Value::as_i64)
                && let Some(row) = txn
                    .query_one_raw(batch.stmt(
                        "SELECT data FROM records WHERE id = $1 AND app = $2 AND deleted_at IS NULL",
                        vec![id.into(), inst.app.clone().into()],
                    ))
                    .await?
            {
                let target = crate::store::records::data_of(batch.backend, &row)?;
                if let Some(u) = target.get(member).and_then(Value::as_str) {
                    names.push(u.to_owned());
                }
            }
        }
    }
    Ok(names)
}

/// A user's department; `None` for an unknown user or one without a department.
async fn user_department(
    txn: &DatabaseTransaction,
    batch: &Batch,
    username: &str,
) -> DomainResult<Option<String>> {
    let row = txn
        .query_one_raw(batch.stmt(
            "SELECT department FROM users WHERE username = $1",
            vec![username.to_owned().into()],
        ))
        .await?;
    Ok(match row {
        Some(r) => r.try_get("", "department")?,
        None => None,
    })
}

/// The head of `dept`, or of the nearest department above it that has one: a department
/// without a head, a disabled head, or a head who is `person` (nobody approves their own
/// request) passes the question up, as in the familiar approval apps.
async fn head_above(
    txn: &DatabaseTransaction,
    batch: &Batch,
    dept: String,
    person: Option<&str>,
) -> DomainResult<Option<String>> {
    let mut seen = std::collections::HashSet::new();
    let mut at = Some(dept);
    while let Some(d) = at {
        if !seen.insert(d.clone()) {
            break;
        }
        let Some(row) = txn
            .query_one_raw(batch.stmt(
                "SELECT d.head, d.parent, u.disabled FROM departments d \
                 LEFT JOIN users u ON u.username = d.head WHERE d.id = $1",
                vec![d.into()],
            ))
            .await?
        else {
            break;
        };
        let head: Option<String> = row.try_get("", "head")?;
        let disabled: Option<i64> = row.try_get("", "disabled")?;
        if let Some(h) = head
            && disabled == Some(0)
            && Some(h.as_str()) != person
        {
            return Ok(Some(h));
        }
        at = row.try_get("", "parent")?;
    }
    Ok(None)
}

/// The users of an assignee spec as the `users` node lists them: enabled, by name, each
/// `{username, display_name, department}`.
pub(crate) async fn listed(
    txn: &DatabaseTransaction,
    batch: &Batch,
    inst: &Instance,
    data: &Value,
    a: &Value,
) -> DomainResult<Vec<Value>> {
    let names = resolve(txn, batch, inst, data, a).await?;
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let marks: Vec<String> = (1..=names.len()).map(|i| format!("${i}")).collect();
    let rows = txn
        .query_all_raw(batch.stmt(
            &format!(
                "SELECT username, display_name, department FROM users WHERE username IN ({}) ORDER BY username",
                marks.join(", ")
            ),
            names.into_iter().map(Into::into).collect(),
        ))
        .await?;
    rows.iter()
        .map(|r| {
            Ok(serde_json::json!({
                "username": r.try_get::<String>("", "username")?,
                "display_name": r.try_get::<String>("", "display_name")?,
                "department": r.try_get::<Option<String>>("", "department")?,
            }))
        })
        .collect()
}
