//! Roles as documents, compiled to casbin rules; the casbin model and our adapter over the
//! `auth_rules` table; the index that turns rules into one [`Decision`] per
//! (roles, app, form).
//!
//! Casbin is the authority on what the rules mean: `enforce` answers single questions (the
//! explain endpoint and the golden decision table use it), and the hot path uses the
//! [`Decision`] computed from the same loaded rules, which the test suite checks agrees with
//! `enforce` cell by cell.

use indexmap::IndexMap;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::{BTreeSet, HashMap};

use crate::error::{Detail, DomainError, DomainResult};
use crate::query::fields::Scope;
use crate::query::filter::Filter;
use crate::schema::model::FormModel;

/// The actions a role may be given on a form.
pub const ACTIONS: &[&str] = &[
    "create", "read", "update", "delete", "import", "export", "print", "approve",
];

/// The casbin model. Exact tuples; the only wildcard is a whole `*` path segment, matched by
/// [`obj_match`] (no regular expressions). Deny wins over allow.
pub const MODEL: &str = r#"
[request_definition]
r = sub, dom, obj, act

[policy_definition]
p = sub, dom, obj, act, eft

[role_definition]
g = _, _, _

[policy_effect]
e = some(where (p.eft == allow)) && !some(where (p.eft == deny))

[matchers]
m = g(r.sub, p.sub, r.dom) && r.dom == p.dom && r.act == p.act && objMatch(r.obj, p.obj)
"#;

/// `form/service_order` matches `form/service_order` and `form/*`;
/// `field/service_order/fee` matches itself, `field/service_order/*` and `field/*/*`.
pub fn obj_match(request: &str, policy: &str) -> bool {
    let r: Vec<&str> = request.split('/').collect();
    let p: Vec<&str> = policy.split('/').collect();
    r.len() == p.len() && r.iter().zip(&p).all(|(a, b)| *b == "*" || a == b)
}

pub fn user_subject(username: &str) -> String {
    format!("u:{username}")
}

pub fn role_subject(role: &str) -> String {
    format!("r:{role}")
}

/// Which rows of a form a role reaches.
#[derive(Debug, Clone, PartialEq)]
pub enum RowRule {
    All,
    /// Records the user owns (created).
    Own,
    /// Records owned by the user's department.
    Department,
    /// Records owned by the user's department or one below it.
    DepartmentTree,
    /// A JSON Logic filter over the record; `{"var": "$user.id"}`, `$user.department`,
    /// `$user.departments` and `$user.attributes.<key>` stand for the current user.
    Filter(Value),
    /// Records whose reference field points at a record of the target form the user reaches.
    Through(String),
}

impl RowRule {
    pub fn parse(v: &Value) -> Result<RowRule, String> {
        match v {
            Value::String(s) => match s.as_str() {
                "all" => Ok(RowRule::All),
                "own" => Ok(RowRule::Own),
                "department" => Ok(RowRule::Department),
                "department_tree" => Ok(RowRule::DepartmentTree),
                other => Err(format!(
                    "rows is all, own, department, department_tree, {{\"filter\": …}} or {{\"through\": field}}, not {other:?}"
                )),
            },
            Value::Object(o) if o.len() == 1 && o.contains_key("filter") => {
                Ok(RowRule::Filter(o["filter"].clone()))
            }
            Value::Object(o) if o.len() == 1 && o.get("through").is_some_and(Value::is_string) => {
                Ok(RowRule::Through(o["through"].as_str().unwrap_or_default().to_owned()))
            }
            _ => Err("rows is all, own, department, department_tree, {\"filter\": …} or {\"through\": field}".into()),
        }
    }

    /// The text stored in a casbin rule.
    pub fn encode(&self) -> String {
        match self {
            RowRule::All => "all".into(),
            RowRule::Own => "own".into(),
            RowRule::Department => "department".into(),
            RowRule::DepartmentTree => "department_tree".into(),
            RowRule::Filter(f) => format!("filter:{}", crate::store::oplog::canonical(f)),
            RowRule::Through(field) => format!("through:{field}"),
        }
    }

    pub fn decode(s: &str) -> Option<RowRule> {
        if let Some(f) = s.strip_prefix("filter:") {
            return serde_json::from_str(f).ok().map(RowRule::Filter);
        }
        if let Some(f) = s.strip_prefix("through:") {
            return Some(RowRule::Through(f.to_owned()));
        }
        RowRule::parse(&Value::String(s.to_owned())).ok()
    }

    pub fn to_json(&self) -> Value {
        match self {
            RowRule::Filter(f) => json!({"filter": f}),
            RowRule::Through(t) => json!({"through": t}),
            other => json!(other.encode()),
        }
    }
}

/// One form's part of a role document.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct FormRule {
    #[serde(default)]
    pub actions: Vec<String>,
    #[serde(default)]
    pub rows: Option<Value>,
    #[serde(default)]
    pub read: Vec<String>,
    #[serde(default)]
    pub deny_read: Vec<String>,
    #[serde(default)]
    pub write: Vec<String>,
    #[serde(default)]
    pub deny_write: Vec<String>,
}

/// A role of an app: `{"key", "label", "permissions": {form or "*": FormRule}}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleDoc {
    pub key: String,
    pub label: Value,
    #[serde(default)]
    pub description: Option<Value>,
    #[serde(default)]
    pub permissions: IndexMap<String, FormRule>,
}

/// A casbin rule row: `ptype` and its values.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Rule {
    pub ptype: String,
    pub values: Vec<String>,
}

pub fn is_key(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && s.chars().next().is_some_and(|c| c.is_ascii_lowercase())
}

impl RoleDoc {
    /// Parse and check a role document against the app's forms (`models`: current published
    /// model of each form). Problems point into the document.
    pub fn check(
        doc: &Value,
        key: &str,
        models: &HashMap<String, FormModel>,
    ) -> DomainResult<RoleDoc> {
        let role: RoleDoc = serde_json::from_value(doc.clone()).map_err(|e| {
            DomainError::invalid_one("", "role", format!("not a role document: {e}"))
        })?;
        let mut details = Vec::new();
        if role.key != key {
            details.push(Detail::new(
                "/key",
                "key",
                format!("the key is {key:?}, as in the URL"),
            ));
        }
        if !is_key(&role.key) {
            details.push(Detail::new(
                "/key",
                "pattern",
                "a role key is lowercase letters, digits and _, starting with a letter",
            ));
        }
        if !role.label.is_object() {
            details.push(Detail::new(
                "/label",
                "type",
                "label is an object of language → text",
            ));
        }
        for (form, rule) in &role.permissions {
            let p = format!("/permissions/{}", crate::schema::definition::escape(form));
            let model = if form == "*" {
                None
            } else {
                match models.get(form) {
                    Some(m) => Some(m),
                    None => {
                        details.push(Detail::new(
                            &p,
                            "unknown_form",
                            format!("the app has no published form {form:?}"),
                        ));
                        continue;
                    }
                }
            };
            for (i, a) in rule.actions.iter().enumerate() {
                if !ACTIONS.contains(&a.as_str()) {
                    details.push(Detail::new(
                        format!("{p}/actions/{i}"),
                        "enum",
                        format!("actions are {}", ACTIONS.join(", ")),
                    ));
                }
            }
            for (list, name) in [
                (&rule.read, "read"),
                (&rule.deny_read, "deny_read"),
                (&rule.write, "write"),
                (&rule.deny_write, "deny_write"),
            ] {
                for (i, f) in list.iter().enumerate() {
                    if let Some((table, column)) = f.split_once('.')
                        && let Some(m) = model
                    {
                        // A sub-table column: only ever denied (a table allowed allows its
                        // other columns).
                        let is_column = m.field(table).is_some_and(|t| {
                            t.kind == Some(crate::schema::field_types::FieldKind::SubTable)
                                && t.children.contains_key(column)
                        });
                        if !is_column {
                            details.push(Detail::new(
                                format!("{p}/{name}/{i}"),
                                "unknown_field",
                                format!("form {form} has no sub-table column {f:?}"),
                            ));
                        } else if !name.starts_with("deny_") {
                            details.push(Detail::new(
                                format!("{p}/{name}/{i}"),
                                "column_rule",
                                format!("a sub-table column can only be denied (deny_read or deny_write), not listed in {name}: allow the table {table:?} instead"),
                            ));
                        }
                        continue;
                    }
                    let known = f == "*" || model.is_some_and(|m| m.field(f).is_some());
                    if !known {
                        details.push(Detail::new(
                            format!("{p}/{name}/{i}"),
                            "unknown_field",
                            match model {
                                Some(_) => format!("form {form} has no field {f:?}"),
                                None => "rules for all forms (\"*\") name fields only as \"*\""
                                    .to_string(),
                            },
                        ));
                    }
                }
            }
            if let Some(rows) = &rule.rows {
                match RowRule::parse(rows) {
                    Err(m) => details.push(Detail::new(format!("{p}/rows"), "rows", m)),
                    Ok(RowRule::Filter(f)) => match model {
                        None => details.push(Detail::new(
                            format!("{p}/rows"),
                            "rows",
                            "a filter needs a named form",
                        )),
                        Some(m) => {
                            let probe = substitute_user(&f, &UserVars::probe());
                            check_row_filter(
                                &probe,
                                m,
                                models,
                                &format!("{p}/rows/filter"),
                                0,
                                &mut details,
                            );
                        }
                    },
                    Ok(RowRule::Through(field)) => {
                        let ok = model
                            .and_then(|m| m.field(&field))
                            .and_then(|f| f.ref_form.as_ref())
                            .is_some();
                        if !ok {
                            details.push(Detail::new(
                                format!("{p}/rows/through"),
                                "reference",
                                format!("{field:?} is not a reference field of {form}"),
                            ));
                        }
                    }
                    Ok(_) => {}
                }
            }
        }
        DomainError::unless_any(details)?;
        Ok(role)
    }

    /// The casbin `p` rules of this role in `app`.
    pub fn rules(&self, app: &str) -> Vec<Rule> {
        let sub = role_subject(&self.key);
        let mut out = BTreeSet::new();
        let mut p = |obj: String, act: &str, eft: &str| {
            out.insert(Rule {
                ptype: "p".into(),
                values: vec![
                    sub.clone(),
                    app.to_owned(),
                    obj,
                    act.to_owned(),
                    eft.to_owned(),
                ],
            });
        };
        for (form, rule) in &self.permissions {
            for a in &rule.actions {
                p(format!("form/{form}"), a, "allow");
            }
            for f in &rule.read {
                p(format!("field/{form}/{f}"), "read", "allow");
            }
            for f in &rule.deny_read {
                p(format!("field/{form}/{f}"), "read", "deny");
            }
            for f in &rule.write {
                p(format!("field/{form}/{f}"), "write", "allow");
            }
            for f in &rule.deny_write {
                p(format!("field/{form}/{f}"), "write", "deny");
            }
            if let Some(rows) = rule.rows.as_ref().and_then(|r| RowRule::parse(r).ok()) {
                p(format!("rows/{form}"), &rows.encode(), "allow");
            }
        }
        out.into_iter().collect()
    }
}

fn error_details(e: DomainError) -> Vec<Detail> {
    match e {
        DomainError::BadRequest { details, .. } | DomainError::Invalid { details, .. } => details,
        other => vec![Detail::new("", "rows", other.to_string())],
    }
}

/// The current user as row-scope filters see it.
#[derive(Debug, Clone)]
pub struct UserVars {
    pub id: String,
    pub department: Option<String>,
    pub departments: Vec<String>,
    pub attributes: Value,
}

impl UserVars {
    fn probe() -> UserVars {
        UserVars {
            id: String::new(),
            department: Some(String::new()),
            departments: vec![String::new()],
            attributes: json!({}),
        }
    }
}

/// How deep `ref`s may nest in a row filter (list filters allow one more level).
pub const MAX_RULE_REF_DEPTH: usize = 3;

/// Check a row filter (user variables already substituted) against its form, and each
/// `ref` in it against the referenced form: a rule may select records by the records they
/// refer to ("devices whose customer is in my provinces").
fn check_row_filter(
    logic: &Value,
    model: &FormModel,
    models: &HashMap<String, FormModel>,
    pointer: &str,
    depth: usize,
    details: &mut Vec<Detail>,
) {
    let mut parsed = match Filter::parse(logic, &Scope::Root(model), pointer) {
        Ok(f) => f,
        Err(e) => return details.extend(error_details(e)),
    };
    for node in parsed.refs_mut() {
        let Filter::Ref {
            form,
            inner,
            pointer,
            ..
        } = node
        else {
            continue;
        };
        if depth >= MAX_RULE_REF_DEPTH {
            details.push(Detail::new(
                pointer.as_str(),
                "filter",
                format!("ref nests at most {MAX_RULE_REF_DEPTH} deep"),
            ));
            continue;
        }
        match models.get(form.as_str()) {
            Some(target) => check_row_filter(inner, target, models, pointer, depth + 1, details),
            None => details.push(Detail::new(
                pointer.as_str(),
                "unknown_form",
                format!("the app has no published form {form:?}"),
            )),
        }
    }
}

/// Replace `{"var": "$user…"}` with the user's values. A user value a record field is
/// looked up `in` is a list: a missing attribute is the empty list, a single value a list
/// of one (so a rule like "the models in my attributes" checks, and admits nothing for a
/// user without them).
pub fn substitute_user(logic: &Value, user: &UserVars) -> Value {
    let is_user_var = |v: &Value| {
        v.get("var")
            .and_then(Value::as_str)
            .is_some_and(|n| n.starts_with("$user."))
    };
    if let Some(Value::Array(args)) = logic.get("in")
        && logic.as_object().is_some_and(|o| o.len() == 1)
        && args.len() == 2
        && args[0].get("var").is_some()
        && !is_user_var(&args[0])
        && is_user_var(&args[1])
    {
        let list = match substitute_user(&args[1], user) {
            Value::Array(a) => Value::Array(a),
            Value::String(s) if s.is_empty() => json!([]),
            Value::Null => json!([]),
            other => json!([other]),
        };
        return json!({"in": [args[0].clone(), list]});
    }
    match logic {
        Value::Object(o) if o.len() == 1 => {
            if let Some(Value::String(name)) = o.get("var")
                && let Some(rest) = name.strip_prefix("$user.")
            {
                return match rest {
                    "id" => json!(user.id),
                    "department" => json!(user.department.clone().unwrap_or_default()),
                    "departments" => json!(user.departments),
                    other => match other.strip_prefix("attributes.") {
                        Some(k) => user.attributes.get(k).cloned().unwrap_or(json!("")),
                        None => json!(""),
                    },
                };
            }
            Value::Object(
                o.iter()
                    .map(|(k, v)| (k.clone(), substitute_user(v, user)))
                    .collect(),
            )
        }
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| (k.clone(), substitute_user(v, user)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(|v| substitute_user(v, user)).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_wildcards_are_whole_segments() {
        assert!(obj_match("form/service_order", "form/service_order"));
        assert!(obj_match("form/service_order", "form/*"));
        assert!(!obj_match("form/service_order", "form/service"));
        assert!(!obj_match("form/service_orderx", "form/service_order"));
        assert!(obj_match("field/contract/amount", "field/contract/*"));
        assert!(obj_match("field/contract/amount", "field/*/*"));
        assert!(!obj_match("field/contract/amount", "field/*"));
        assert!(!obj_match("field/contract/amount", "form/*"));
        assert!(!obj_match("field/contract/amount/x", "field/contract/*"));
    }

    #[test]
    fn row_rules_round_trip() {
        for r in [
            RowRule::All,
            RowRule::Own,
            RowRule::DepartmentTree,
            RowRule::Through("customer".into()),
            RowRule::Filter(json!({"==": [{"var": "engineer"}, {"var": "$user.id"}]})),
        ] {
            assert_eq!(RowRule::decode(&r.encode()), Some(r));
        }
    }

    #[test]
    fn row_filter_refs_nest_three_deep_at_most() {
        let node = FormModel::from_schema(&json!({"type": "object", "properties": {
            "name": {"type": "string"},
            "parent": {"type": "integer", "x-type": "reference", "x-ref": {"form": "node"}}}}));
        let models = HashMap::from([("node".to_owned(), node)]);
        let nest = |n: usize| {
            (0..n).fold(
                json!({"==": [{"var": "name"}, "root"]}),
                |inner, _| json!({"ref": [{"var": "parent"}, inner]}),
            )
        };
        for (n, ok) in [(1, true), (3, true), (4, false)] {
            let mut details = Vec::new();
            check_row_filter(
                &nest(n),
                &models["node"],
                &models,
                "/rows/filter",
                0,
                &mut details,
            );
            assert_eq!(details.is_empty(), ok, "{n} deep: {details:?}");
        }
        // In a user list: a missing attribute is none, one value a list of one.
        let mut user = UserVars::probe();
        let rule = json!({"in": [{"var": "name"}, {"var": "$user.attributes.names"}]});
        assert_eq!(
            substitute_user(&rule, &user),
            json!({"in": [{"var": "name"}, []]})
        );
        user.attributes = json!({"names": "a"});
        assert_eq!(
            substitute_user(&rule, &user),
            json!({"in": [{"var": "name"}, ["a"]]})
        );
    }
}
