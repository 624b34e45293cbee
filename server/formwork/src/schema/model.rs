//! What the platform understands of a form schema: its root fields, their kinds, JSON types
//! and platform annotations. Built once per published version.

use indexmap::IndexMap;
use serde_json::Value;

use super::field_types::FieldKind;

/// The JSON type a field's values take, as far as filters and sorts are concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonType {
    String,
    Number,
    Boolean,
    Array,
    Object,
    Any,
}

impl JsonType {
    /// The declared type; `["string", "null"]` (a nullable field) counts as string.
    pub fn of_schema(schema: &Value) -> JsonType {
        let declared = match schema.get("type") {
            Some(Value::Array(types)) => {
                let non_null: Vec<&Value> = types
                    .iter()
                    .filter(|t| t.as_str() != Some("null"))
                    .collect();
                match non_null.as_slice() {
                    [one] => Some(*one),
                    _ => None,
                }
            }
            other => other,
        };
        match declared {
            Some(Value::String(t)) => match t.as_str() {
                "string" => JsonType::String,
                "number" | "integer" => JsonType::Number,
                "boolean" => JsonType::Boolean,
                "array" => JsonType::Array,
                "object" => JsonType::Object,
                _ => JsonType::Any,
            },
            _ => JsonType::Any,
        }
    }
}

#[derive(Debug, Clone)]
pub struct FieldSpec {
    pub key: String,
    pub kind: Option<FieldKind>,
    pub json_type: JsonType,
    /// Target form of a reference.
    pub ref_form: Option<String>,
    /// Serial-number pattern.
    pub serial: Option<String>,
    /// JSON Logic formula of a computed field.
    pub formula: Option<Value>,
    pub indexed: bool,
    pub unique: bool,
    pub accept: Vec<String>,
    pub max_size: Option<u64>,
    /// Fields of a sub-table's rows, or of an object (region).
    pub children: IndexMap<String, FieldSpec>,
    /// The property's schema (with `$ref`s of `#/$defs/...` left as they are).
    pub schema: Value,
}

impl FieldSpec {
    pub fn from_schema(key: &str, schema: &Value) -> FieldSpec {
        let kind = schema
            .get("x-type")
            .and_then(Value::as_str)
            .and_then(FieldKind::parse);
        let mut children = IndexMap::new();
        let object_props = match (kind, JsonType::of_schema(schema)) {
            (Some(FieldKind::SubTable), _) | (_, JsonType::Array) => {
                schema.pointer("/items/properties")
            }
            _ => schema.get("properties"),
        };
        if let Some(Value::Object(props)) = object_props {
            for (k, s) in props {
                children.insert(k.clone(), FieldSpec::from_schema(k, s));
            }
        }
        let json_type = match kind {
            Some(FieldKind::Signature) => JsonType::Object,
            _ => JsonType::of_schema(schema),
        };
        FieldSpec {
            key: key.to_owned(),
            kind,
            json_type,
            ref_form: schema
                .pointer("/x-ref/form")
                .and_then(Value::as_str)
                .map(str::to_owned),
            serial: schema
                .get("x-serial")
                .and_then(Value::as_str)
                .map(str::to_owned),
            formula: schema.get("x-formula").cloned(),
            indexed: schema.get("x-indexed") == Some(&Value::Bool(true)),
            unique: schema.get("x-unique") == Some(&Value::Bool(true)),
            accept: schema
                .get("x-accept")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
            max_size: schema.get("x-max-size").and_then(Value::as_u64),
            children,
            schema: schema.clone(),
        }
    }

    /// Server-assigned fields that clients may not set.
    pub fn is_server_assigned(&self) -> bool {
        matches!(self.kind, Some(FieldKind::Serial | FieldKind::Computed))
    }
}

/// The root fields of a form schema (empty when the root is not an object schema).
#[derive(Debug, Clone, Default)]
pub struct FormModel {
    pub fields: IndexMap<String, FieldSpec>,
}

impl FormModel {
    pub fn from_schema(schema: &Value) -> FormModel {
        let mut fields = IndexMap::new();
        if let Some(Value::Object(props)) = schema.get("properties") {
            for (k, s) in props {
                fields.insert(k.clone(), FieldSpec::from_schema(k, s));
            }
        }
        FormModel { fields }
    }

    pub fn field(&self, key: &str) -> Option<&FieldSpec> {
        self.fields.get(key)
    }

    /// Whether any field, at the root or inside a sub-table, holds uploaded files.
    pub fn holds_files(&self) -> bool {
        self.of_kind(FieldKind::Attachment).next().is_some()
            || self.of_kind(FieldKind::Signature).next().is_some()
    }

    /// Reference fields, at the root and inside sub-tables: (path to the array or None, field).
    pub fn references(&self) -> impl Iterator<Item = (Option<&str>, &FieldSpec)> {
        self.of_kind(FieldKind::Reference)
    }

    /// Root fields and sub-table columns of one kind, with the sub-table they sit in.
    pub fn of_kind(&self, kind: FieldKind) -> impl Iterator<Item = (Option<&str>, &FieldSpec)> {
        self.fields.values().flat_map(move |f| {
            let own = (f.kind == Some(kind)).then_some((None, f));
            let nested = f
                .children
                .values()
                .filter(move |c| f.kind == Some(FieldKind::SubTable) && c.kind == Some(kind))
                .map(move |c| (Some(f.key.as_str()), c));
            own.into_iter().chain(nested)
        })
    }
}
