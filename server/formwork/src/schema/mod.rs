//! Forms as JSON Schema: field types, definition checks, the platform's model of a schema.

pub mod definition;
pub mod field_types;
pub mod model;
pub mod serial;
