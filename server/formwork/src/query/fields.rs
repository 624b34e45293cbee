//! Resolving a name used in a filter or sort (`status`, `region.province`, `_created_at`)
//! to a typed column of a record.

use serde_json::Value;

use crate::error::DomainError;
use crate::schema::model::{FieldSpec, FormModel, JsonType};

/// The platform's own columns, addressed with a leading underscore.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SysCol {
    Id,
    FormVersion,
    RowVersion,
    CreatedAt,
    CreatedBy,
    UpdatedAt,
    UpdatedBy,
    Owner,
}

impl SysCol {
    pub const ALL: &'static [(&'static str, SysCol)] = &[
        ("_id", SysCol::Id),
        ("_form_version", SysCol::FormVersion),
        ("_row_version", SysCol::RowVersion),
        ("_created_at", SysCol::CreatedAt),
        ("_created_by", SysCol::CreatedBy),
        ("_updated_at", SysCol::UpdatedAt),
        ("_updated_by", SysCol::UpdatedBy),
        ("_owner", SysCol::Owner),
    ];

    pub fn parse(name: &str) -> Option<SysCol> {
        Self::ALL.iter().find(|(n, _)| *n == name).map(|(_, c)| *c)
    }

    /// The SQL column.
    pub fn column(self) -> &'static str {
        match self {
            SysCol::Id => "id",
            SysCol::FormVersion => "form_version",
            SysCol::RowVersion => "row_version",
            SysCol::CreatedAt => "created_at",
            SysCol::CreatedBy => "created_by",
            SysCol::UpdatedAt => "updated_at",
            SysCol::UpdatedBy => "updated_by",
            SysCol::Owner => "owner_user",
        }
    }

    /// The key in a record's API representation.
    pub fn api_key(self) -> &'static str {
        match self {
            SysCol::Owner => "owner",
            other => other.column(),
        }
    }

    pub fn json_type(self) -> JsonType {
        match self {
            SysCol::Id | SysCol::FormVersion | SysCol::RowVersion => JsonType::Number,
            _ => JsonType::String,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Col {
    System(SysCol),
    /// A path into the record's data (or into a sub-table row inside `some`).
    Data(Vec<String>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct FieldRef {
    pub col: Col,
    pub ty: JsonType,
    /// The name as written, for messages.
    pub name: String,
    /// The field's type (data fields).
    pub kind: Option<crate::schema::field_types::FieldKind>,
}

impl FieldRef {
    /// The value of this field in a record's API representation (`{id, …, data}`), or in a
    /// sub-table row when `item` is true. JSON null counts as absent.
    pub fn get<'a>(&self, record: &'a Value, item: bool) -> Option<&'a Value> {
        let v = match &self.col {
            Col::System(c) => record.get(c.api_key()),
            Col::Data(path) => {
                let mut cur = if item { record } else { record.get("data")? };
                for seg in path {
                    cur = cur.get(seg)?;
                }
                Some(cur)
            }
        };
        v.filter(|v| !v.is_null())
    }
}

/// Where names are looked up: the form's root fields, or the fields of a sub-table's rows.
pub enum Scope<'a> {
    Root(&'a FormModel),
    Item(&'a FieldSpec),
}

impl Scope<'_> {
    pub fn resolve(&self, name: &str, pointer: &str) -> Result<FieldRef, DomainError> {
        if let Scope::Root(_) = self
            && let Some(c) = SysCol::parse(name)
        {
            return Ok(FieldRef {
                col: Col::System(c),
                ty: c.json_type(),
                name: name.to_owned(),
                kind: None,
            });
        }
        let mut segs = name.split('.');
        let first = segs.next().unwrap_or_default();
        let mut spec = match self {
            Scope::Root(model) => model.field(first),
            Scope::Item(table) => table.children.get(first),
        }
        .ok_or_else(|| {
            DomainError::bad_request(pointer, "unknown_field", format!("no field {name:?}"))
        })?;
        let mut path = vec![first.to_owned()];
        for seg in segs {
            spec = spec.children.get(seg).ok_or_else(|| {
                DomainError::bad_request(pointer, "unknown_field", format!("no field {name:?}"))
            })?;
            path.push(seg.to_owned());
        }
        Ok(FieldRef {
            col: Col::Data(path),
            ty: spec.json_type,
            name: name.to_owned(),
            kind: spec.kind,
        })
    }

    pub fn sub_table(&self, name: &str, pointer: &str) -> Result<&FieldSpec, DomainError> {
        match self {
            Scope::Root(model) => model
                .field(name)
                .filter(|f| f.json_type == JsonType::Array && !f.children.is_empty())
                .ok_or_else(|| {
                    DomainError::bad_request(
                        pointer,
                        "unknown_field",
                        format!("{name:?} is not a sub-table"),
                    )
                }),
            Scope::Item(_) => Err(DomainError::bad_request(
                pointer,
                "nesting",
                "some/none/all cannot be nested",
            )),
        }
    }
}
