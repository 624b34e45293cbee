//! Checking a form definition before it is saved or published: the document's shape, the
//! schema against the JSON Schema 2020-12 meta-schema, and every platform `x-` annotation.
//! Problems are reported as JSON pointers into the definition.

use jsonschema::{Draft, Validator};
use serde_json::{Map, Value};
use std::sync::Arc;

use super::field_types::{FieldKind, x_type_keyword};
use super::model::FormModel;
use crate::error::{Detail, DomainError, DomainResult};
use crate::keys::is_key;

pub const DRAFT_2020_12: &str = "https://json-schema.org/draft/2020-12/schema";

const ANNOTATIONS: &[&str] = &[
    "x-type",
    "x-label",
    "x-help",
    "x-options",
    "x-ref",
    "x-serial",
    "x-formula",
    "x-indexed",
    "x-unique",
    "x-currency",
    "x-accept",
    "x-max-size",
    "x-demo",
    "x-confidential",
];

/// Keywords whose value is a schema / a map of schemas / a list of schemas.
const SUB_SCHEMA: &[&str] = &[
    "items",
    "additionalProperties",
    "unevaluatedProperties",
    "unevaluatedItems",
    "contains",
    "propertyNames",
    "if",
    "then",
    "else",
    "not",
    "contentSchema",
];
const SUB_SCHEMA_MAP: &[&str] = &[
    "properties",
    "patternProperties",
    "$defs",
    "definitions",
    "dependentSchemas",
];
const SUB_SCHEMA_LIST: &[&str] = &["allOf", "anyOf", "oneOf", "prefixItems"];

/// A form definition that passed every check, with its compiled validator.
#[derive(Debug)]
pub struct CompiledForm {
    pub app: String,
    pub key: String,
    pub version: i64,
    pub definition: Value,
    pub validator: Validator,
    pub model: FormModel,
}

impl CompiledForm {
    pub fn schema(&self) -> &Value {
        &self.definition["schema"]
    }
}

/// Build the validator every write uses: draft 2020-12 plus the `x-type` keyword.
/// Remote `$ref`s are not fetched (the build has no HTTP retriever): they make the schema invalid.
pub fn build_validator(schema: &Value) -> Result<Validator, String> {
    jsonschema::options()
        .with_draft(Draft::Draft202012)
        .with_keyword("x-type", x_type_keyword)
        .build(schema)
        .map_err(|e| e.to_string())
}

/// Check a whole form definition document; `Ok` carries the compiled form.
pub fn compile(app: &str, version: i64, def: &Value) -> DomainResult<Arc<CompiledForm>> {
    let mut details = Vec::new();
    let Some(obj) = def.as_object() else {
        return Err(DomainError::invalid_one(
            "",
            "type",
            "a form definition is a JSON object",
        ));
    };
    for k in obj.keys() {
        if ![
            "key",
            "label",
            "schema",
            "layout",
            "description",
            "indexes",
            "print",
        ]
        .contains(&k.as_str())
        {
            details.push(Detail::new(
                format!("/{k}"),
                "unknown_property",
                format!("unknown property {k:?}"),
            ));
        }
    }
    let key = match obj.get("key").and_then(Value::as_str) {
        Some(k) if is_key(k) => k.to_owned(),
        _ => {
            details.push(Detail::new(
                "/key",
                "key",
                "key is required: lower-case letters, digits and _, starting with a letter, at most 63",
            ));
            String::new()
        }
    };
    check_label(obj.get("label"), "/label", true, &mut details);
    if let Some(layout) = obj.get("layout")
        && !layout.is_object()
    {
        details.push(Detail::new(
            "/layout",
            "type",
            "layout is a JSON object (a UI-schema tree)",
        ));
    }
    let Some(schema) = obj.get("schema") else {
        details.push(Detail::new("/schema", "required", "schema is required"));
        return Err(DomainError::invalid(details));
    };
    check_schema(schema, &mut details);
    if let Some(layout) = obj.get("layout") {
        check_layout(layout, schema, "/layout", &mut details);
    }
    if let Some(indexes) = obj.get("indexes") {
        check_indexes(indexes, schema, &mut details);
    }
    if let Some(print) = obj.get("print") {
        crate::service::print::check_templates(print, &mut details);
    }
    if !details.is_empty() {
        return Err(DomainError::invalid(details));
    }
    let validator =
        build_validator(schema).map_err(|m| DomainError::invalid_one("/schema", "schema", m))?;
    Ok(Arc::new(CompiledForm {
        app: app.to_owned(),
        key,
        version,
        definition: def.clone(),
        validator,
        model: FormModel::from_schema(schema),
    }))
}

fn check_schema(schema: &Value, details: &mut Vec<Detail>) {
    if let Some(s) = schema.get("$schema")
        && s.as_str() != Some(DRAFT_2020_12)
    {
        details.push(Detail::new(
            "/schema/$schema",
            "draft",
            format!("only JSON Schema 2020-12 is supported ({DRAFT_2020_12})"),
        ));
        return;
    }
    match jsonschema::meta::validator_for(schema) {
        Ok(meta) => {
            for e in meta.iter_errors(schema) {
                details.push(Detail::new(
                    format!("/schema{}", e.instance_path()),
                    e.kind().keyword().to_owned(),
                    e.to_string(),
                ));
            }
        }
        Err(e) => details.push(Detail::new("/schema", "$schema", e.to_string())),
    }
    if details.is_empty() {
        walk(schema, "/schema", false, details);
    }
}

/// Visit every schema object, checking its `x-` annotations.
fn walk(schema: &Value, ptr: &str, in_sub_table: bool, details: &mut Vec<Detail>) {
    let Some(obj) = schema.as_object() else {
        return;
    };
    check_annotations(obj, ptr, in_sub_table, details);
    let nested_in_table = in_sub_table
        || obj.get("x-type").and_then(Value::as_str) == Some(FieldKind::SubTable.name());
    for (k, v) in obj {
        let p = format!("{ptr}/{}", escape(k));
        if SUB_SCHEMA.contains(&k.as_str()) {
            walk(v, &p, nested_in_table, details);
        } else if SUB_SCHEMA_MAP.contains(&k.as_str()) {
            if let Some(m) = v.as_object() {
                for (name, sub) in m {
                    walk(
                        sub,
                        &format!("{p}/{}", escape(name)),
                        nested_in_table,
                        details,
                    );
                }
            }
        } else if SUB_SCHEMA_LIST.contains(&k.as_str())
            && let Some(list) = v.as_array()
        {
            for (i, sub) in list.iter().enumerate() {
                walk(sub, &format!("{p}/{i}"), nested_in_table, details);
            }
        }
    }
}

fn check_annotations(
    obj: &Map<String, Value>,
    ptr: &str,
    in_sub_table: bool,
    details: &mut Vec<Detail>,
) {
    for (k, v) in obj {
        if !k.starts_with("x-") {
            continue;
        }
        let p = format!("{ptr}/{}", escape(k));
        if !ANNOTATIONS.contains(&k.as_str()) {
            details.push(Detail::new(
                &p,
                "x-annotation",
                format!("unknown platform annotation {k:?}"),
            ));
            continue;
        }
        let ok = match k.as_str() {
            "x-label" | "x-help" => {
                check_label(Some(v), &p, false, details);
                true
            }
            "x-indexed" | "x-unique" | "x-confidential" => v.is_boolean(),
            "x-currency" => v
                .as_str()
                .is_some_and(|c| c.len() == 3 && c.chars().all(|c| c.is_ascii_uppercase())),
            "x-max-size" => v.as_u64().is_some_and(|n| n > 0),
            "x-accept" => v.as_array().is_some_and(|a| {
                a.iter()
                    .all(|m| m.as_str().is_some_and(|m| m.contains('/')))
            }),
            "x-demo" => v.is_object(),
            "x-formula" => v.is_object() || v.is_array() || v.is_string() || v.is_number(),
            "x-serial" => v
                .as_str()
                .is_some_and(|s| crate::schema::serial::SerialPattern::parse(s).is_ok()),
            "x-ref" => v.get("form").and_then(Value::as_str).is_some_and(is_key),
            "x-options" => v
                .as_object()
                .is_some_and(|m| m.values().all(Value::is_object)),
            "x-type" => check_x_type(obj, v, &p, in_sub_table, details),
            _ => true,
        };
        if !ok {
            details.push(Detail::new(
                &p,
                k.as_str(),
                format!("{k} has an invalid value: {v}"),
            ));
        }
    }
}

/// `x-type` names a known kind whose JSON type agrees with the schema; kind-specific
/// annotations are present.
fn check_x_type(
    obj: &Map<String, Value>,
    v: &Value,
    p: &str,
    in_sub_table: bool,
    details: &mut Vec<Detail>,
) -> bool {
    let Some(kind) = v.as_str().and_then(FieldKind::parse) else {
        let known: Vec<&str> = FieldKind::ALL.iter().map(|k| k.name()).collect();
        details.push(Detail::new(
            p,
            "x-type",
            format!("unknown field type {v}; known: {}", known.join(", ")),
        ));
        return true;
    };
    if let Some(types) = kind.required_json_type() {
        let declared = obj.get("type").and_then(Value::as_str);
        if !declared.is_some_and(|t| types.contains(&t)) {
            details.push(Detail::new(
                p,
                "x-type",
                format!(
                    "a {} field must declare \"type\": {}",
                    kind.name(),
                    types.join(" or ")
                ),
            ));
        }
    }
    let base = p.trim_end_matches("/x-type");
    let need = |key: &str, details: &mut Vec<Detail>| {
        if !obj.contains_key(key) {
            details.push(Detail::new(
                format!("{base}/{key}"),
                "required",
                format!("a {} field needs {key}", kind.name()),
            ));
        }
    };
    match kind {
        FieldKind::Reference => need("x-ref", details),
        FieldKind::Serial => need("x-serial", details),
        FieldKind::Computed => need("x-formula", details),
        FieldKind::Select => need("enum", details),
        FieldKind::SubTable if in_sub_table => details.push(Detail::new(
            p,
            "x-type",
            "sub-tables cannot be nested inside sub-tables",
        )),
        _ => {}
    }
    true
}

/// `indexes`: composite indexes for lists that filter by some fields and sort by another,
/// e.g. `[["status", "reported_at"]]`; each name is a root text, number, date or boolean field.
fn check_indexes(indexes: &Value, schema: &Value, details: &mut Vec<Detail>) {
    let Some(list) = indexes.as_array() else {
        details.push(Detail::new(
            "/indexes",
            "type",
            "indexes is a list of field lists, e.g. [[\"status\", \"reported_at\"]]",
        ));
        return;
    };
    for (i, fields) in list.iter().enumerate() {
        let names = fields.as_array().filter(|a| (1..=4).contains(&a.len()));
        let Some(names) = names else {
            details.push(Detail::new(
                format!("/indexes/{i}"),
                "type",
                "an index is a list of 1 to 4 field keys",
            ));
            continue;
        };
        for (j, n) in names.iter().enumerate() {
            let prop = n
                .as_str()
                .and_then(|k| schema.pointer(&format!("/properties/{}", escape(k))));
            let scalar = prop.is_some_and(|p| {
                matches!(
                    super::model::JsonType::of_schema(p),
                    super::model::JsonType::String
                        | super::model::JsonType::Number
                        | super::model::JsonType::Boolean
                )
            });
            if !scalar {
                details.push(Detail::new(
                    format!("/indexes/{i}/{j}"),
                    "index",
                    format!("{n} is not a text, number or boolean field of this form"),
                ));
            }
        }
    }
}

fn check_label(label: Option<&Value>, ptr: &str, required: bool, details: &mut Vec<Detail>) {
    match label {
        None if !required => {}
        Some(Value::Object(m)) if !m.is_empty() && m.values().all(Value::is_string) => {}
        _ => details.push(Detail::new(
            ptr,
            "label",
            "a label is an object of locale → text, e.g. {\"zh-CN\": \"客户\", \"en\": \"Customer\"}",
        )),
    }
}

/// Every `Control.scope` in the layout points at a property of the schema, and every
/// show/hide `rule` is `{effect: SHOW|HIDE, condition: JSON Logic}` whose variables name
/// fields of the form.
fn check_layout(layout: &Value, schema: &Value, ptr: &str, details: &mut Vec<Detail>) {
    if let Some(rule) = layout.get("rule") {
        check_rule(rule, schema, &format!("{ptr}/rule"), details);
    }
    if let Some(scope) = layout.get("scope").and_then(Value::as_str) {
        let target = scope.strip_prefix('#').and_then(|p| schema.pointer(p));
        if target.is_none() {
            details.push(Detail::new(
                format!("{ptr}/scope"),
                "scope",
                format!("{scope} does not point at a property of the schema"),
            ));
        }
    }
    if let Some(Value::Array(elements)) = layout.get("elements") {
        for (i, el) in elements.iter().enumerate() {
            check_layout(el, schema, &format!("{ptr}/elements/{i}"), details);
        }
    }
}

fn check_rule(rule: &Value, schema: &Value, ptr: &str, details: &mut Vec<Detail>) {
    let Some(o) = rule.as_object() else {
        details.push(Detail::new(
            ptr,
            "rule",
            "a rule is {\"effect\": \"SHOW\" or \"HIDE\", \"condition\": JSON Logic}",
        ));
        return;
    };
    if let Some(k) = o.keys().find(|k| *k != "effect" && *k != "condition") {
        details.push(Detail::new(
            format!("{ptr}/{}", escape(k)),
            "unknown_property",
            format!("a rule has only effect and condition, not {k}"),
        ));
    }
    if !matches!(
        o.get("effect").and_then(Value::as_str),
        Some("SHOW" | "HIDE")
    ) {
        details.push(Detail::new(
            format!("{ptr}/effect"),
            "rule",
            "effect is \"SHOW\" or \"HIDE\"",
        ));
    }
    match o.get("condition") {
        None => details.push(Detail::new(
            format!("{ptr}/condition"),
            "required",
            "a rule needs a JSON Logic condition",
        )),
        Some(c) => {
            let mut vars = Vec::new();
            logic_vars(c, &mut vars);
            let props = schema.get("properties").and_then(Value::as_object);
            for v in vars {
                let top = v.split('.').next().unwrap_or(&v);
                if !props.is_some_and(|p| p.contains_key(top)) {
                    details.push(Detail::new(
                        format!("{ptr}/condition"),
                        "rule",
                        format!("the condition reads {v}, which is not a field of this form"),
                    ));
                }
            }
        }
    }
}

/// The variable names a JSON Logic expression reads (`{"var": "x"}`, `{"var": ["x", d]}`).
pub fn logic_vars(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                if k == "var" {
                    if let Some(n) = var_name(x).filter(|n| !n.is_empty()) {
                        out.push(n.to_owned());
                    }
                } else {
                    logic_vars(x, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| logic_vars(x, out)),
        _ => {}
    }
}

/// The name in a `var` operand: `"x"` or `["x", default]`.
fn var_name(operand: &Value) -> Option<&str> {
    match operand {
        Value::Array(a) => a.first().and_then(Value::as_str),
        other => other.as_str(),
    }
}

/// The fields a JSON Logic expression reads, as [`logic_vars`], except that variables inside
/// `map`, `filter`, `all`, `some`, `none` and `reduce` over a field `{"var": T}` are named
/// `T.column` (in `reduce`, `current.column`; `accumulator` is no field): so a formula over
/// a sub-table's rows says which of its columns it reads.
pub fn logic_field_paths(v: &Value, out: &mut Vec<String>) {
    field_paths(v, Inside::Record, out)
}

/// What a `var` names where it stands.
#[derive(Clone, Copy)]
enum Inside<'a> {
    /// The record: a field.
    Record,
    /// The rows of a sub-table (`reduce`: with `current` and `accumulator`).
    Rows { table: &'a str, reduce: bool },
    /// Items computed by another expression, whose fields that expression names already.
    Computed,
}

fn field_paths(v: &Value, inside: Inside<'_>, out: &mut Vec<String>) {
    match v {
        Value::Object(o) => {
            for (k, x) in o {
                if k == "var" {
                    let Some(name) = var_name(x) else { continue };
                    match inside {
                        Inside::Record if !name.is_empty() => out.push(name.to_owned()),
                        Inside::Rows { table, reduce } => {
                            let column = if reduce {
                                name.strip_prefix("current").and_then(|rest| {
                                    rest.strip_prefix('.').or(rest.is_empty().then_some(""))
                                })
                            } else {
                                Some(name)
                            };
                            match column {
                                Some("") => out.push(table.to_owned()),
                                Some(c) => out.push(format!("{table}.{c}")),
                                None => {} // the accumulator
                            }
                        }
                        _ => {}
                    }
                    continue;
                }
                let over = matches!(
                    k.as_str(),
                    "map" | "filter" | "all" | "some" | "none" | "reduce"
                );
                match x.as_array() {
                    Some(args) if over && !args.is_empty() => {
                        field_paths(&args[0], inside, out);
                        let table = args[0]
                            .get("var")
                            .and_then(Value::as_str)
                            .filter(|t| !t.is_empty());
                        let reduce = k == "reduce";
                        let rows = match (inside, table) {
                            (Inside::Record, Some(table)) => Inside::Rows { table, reduce },
                            _ => Inside::Computed,
                        };
                        for (i, a) in args.iter().enumerate().skip(1) {
                            // reduce's third argument, the initial value, is outside the rows.
                            field_paths(a, if reduce && i == 2 { inside } else { rows }, out);
                        }
                    }
                    _ => field_paths(x, inside, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| field_paths(x, inside, out)),
        _ => {}
    }
}

/// JSON-pointer escaping of one reference token.
pub fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::logic_field_paths;
    use serde_json::json;

    fn paths(v: serde_json::Value) -> Vec<String> {
        let mut out = Vec::new();
        logic_field_paths(&v, &mut out);
        out.sort();
        out.dedup();
        out
    }

    #[test]
    fn formulas_over_sub_table_rows_name_the_columns_they_read() {
        // The CRM's parts cost: a sum over the rows of qty × unit cost.
        let parts_cost = json!({"reduce": [
            {"map": [{"var": "parts_used"}, {"*": [{"var": "qty"}, {"var": "unit_cost"}]}]},
            {"+": [{"var": "current"}, {"var": "accumulator"}]}, 0]});
        assert_eq!(
            paths(parts_cost),
            ["parts_used", "parts_used.qty", "parts_used.unit_cost"]
        );
        let reduce = json!({"reduce": [{"var": "parts_used"},
            {"+": [{"var": "accumulator"}, {"var": "current.qty"}]}, {"var": "base"}]});
        assert_eq!(paths(reduce), ["base", "parts_used", "parts_used.qty"]);
        let plain = json!({"if": [{">": [{"var": "amount"}, 10]}, {"var": ["grade", "C"]}, "D"]});
        assert_eq!(paths(plain), ["amount", "grade"]);
        let some = json!({"some": [{"var": "parts_used"}, {"==": [{"var": "part"}, 3]}]});
        assert_eq!(paths(some), ["parts_used", "parts_used.part"]);
    }
}
