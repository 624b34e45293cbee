//! Turning a client's record data into what is stored: server-assigned fields (serial
//! numbers, computed fields) are refused from clients and filled by the server, and the
//! result is validated against the form's published schema.

use serde_json::{Map, Value};

use crate::error::{Detail, DomainError, DomainResult};
use crate::schema::definition::{CompiledForm, escape};
use crate::schema::field_types::FieldKind;
use crate::schema::serial::SerialPattern;

/// Keys of a record's API representation that only the server sets.
pub const SYSTEM_KEYS: &[&str] = &[
    "id",
    "form_version",
    "row_version",
    "created_at",
    "created_by",
    "updated_at",
    "updated_by",
    "owner",
    "deleted_at",
    "expand",
];

/// A write request body: `{"data": …, "reason": "…"}`.
pub struct WriteBody {
    pub data: Value,
    pub reason: Option<String>,
}

/// Split and check a write body; `prefix` is its pointer in the request (`""` or `/items/3`).
pub fn parse_body(body: Value, prefix: &str) -> DomainResult<WriteBody> {
    let Value::Object(mut obj) = body else {
        return Err(DomainError::invalid_one(
            prefix,
            "type",
            "the body is a JSON object: {\"data\": {…}}",
        ));
    };
    let mut details = Vec::new();
    for k in obj.keys() {
        if SYSTEM_KEYS.contains(&k.as_str()) {
            details.push(Detail::new(
                format!("{prefix}/{}", escape(k)),
                "read_only",
                format!("{k} is set by the server"),
            ));
        } else if k != "data" && k != "reason" {
            details.push(Detail::new(
                format!("{prefix}/{}", escape(k)),
                "unknown_property",
                format!("unknown property {k:?}; record fields go in data"),
            ));
        }
    }
    let reason = match obj.remove("reason") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(_) => {
            details.push(Detail::new(
                format!("{prefix}/reason"),
                "type",
                "reason is text",
            ));
            None
        }
    };
    let data = obj.remove("data");
    if data.is_none() {
        details.push(Detail::new(
            format!("{prefix}/data"),
            "required",
            "data is required",
        ));
    }
    if !details.is_empty() {
        return Err(DomainError::invalid(details));
    }
    Ok(WriteBody {
        data: data.unwrap_or(Value::Null),
        reason,
    })
}

/// Fill server-assigned fields and validate. Returns the serial fields still to number
/// (their values are placeholders until the writer assigns them).
pub fn prepare(
    form: &CompiledForm,
    data: &mut Value,
    existing: Option<&Value>,
    today: chrono::NaiveDate,
    tz: chrono_tz::Tz,
    prefix: &str,
) -> DomainResult<Vec<(String, SerialPattern)>> {
    let mut details = Vec::new();
    let mut to_number = Vec::new();
    in_app_zone(form, data, existing, tz);
    if let Value::Object(obj) = data {
        for f in form
            .model
            .fields
            .values()
            .filter(|f| f.is_server_assigned())
        {
            let old = existing.and_then(|e| e.get(&f.key));
            if let Some(given) = obj.get(&f.key)
                && Some(given) != old
            {
                details.push(Detail::new(
                    format!("{prefix}/data/{}", escape(&f.key)),
                    "read_only",
                    format!("{} is assigned by the server", f.key),
                ));
                continue;
            }
            match f.kind {
                Some(FieldKind::Serial) => match old {
                    Some(v) => {
                        obj.insert(f.key.clone(), v.clone());
                    }
                    None => {
                        let pattern = SerialPattern::parse(f.serial.as_deref().unwrap_or_default())
                            .map_err(|m| DomainError::Internal(anyhow::anyhow!(m)))?;
                        obj.insert(f.key.clone(), Value::String(pattern.render(today, 0)));
                        to_number.push((f.key.clone(), pattern));
                    }
                },
                Some(FieldKind::Computed) => {
                    obj.remove(&f.key);
                    let formula = f.formula.clone().unwrap_or(Value::Null);
                    match compute(&formula, &Value::Object(obj.clone())) {
                        Ok(Value::Null) => {}
                        Ok(v) => {
                            obj.insert(f.key.clone(), v);
                        }
                        Err(m) => details.push(Detail::new(
                            format!("{prefix}/data/{}", escape(&f.key)),
                            "x-formula",
                            format!("the formula could not be computed: {m}"),
                        )),
                    }
                }
                _ => {}
            }
        }
    }
    find_nul(data, &format!("{prefix}/data"), &mut details);
    if details.is_empty() {
        validate(form, data, prefix, &mut details);
    }
    if details.is_empty() {
        Ok(to_number)
    } else {
        Err(DomainError::invalid(details))
    }
}

/// Date-times are kept in the app's time zone: a value is rewritten as the same instant
/// with the zone's offset (`+00:00` for UTC), whole seconds unless it has a fraction
/// (milliseconds, micro- or nanoseconds as needed). So the values of one app, in one
/// format and one offset, compare as text in time order — list filters, sorts, indexes and
/// report drills compare them as text — and their date part is the app's date. A value
/// the write leaves as it was stored is kept as it is; one that is not a date-time is
/// left for validation to refuse. (In a zone with summer time, the hour repeated in
/// autumn sorts by offset, not time.)
fn in_app_zone(form: &CompiledForm, data: &mut Value, existing: Option<&Value>, tz: chrono_tz::Tz) {
    fn fix(v: &mut Value, old: Option<&Value>, tz: chrono_tz::Tz) {
        if old == Some(&*v) {
            return;
        }
        if let Some(t) = v
            .as_str()
            .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        {
            *v = Value::String(crate::time::in_zone(t, tz));
        }
    }
    let Value::Object(obj) = data else {
        return;
    };
    for f in form.model.fields.values() {
        let old = existing.and_then(|e| e.get(&f.key));
        match f.kind {
            Some(FieldKind::Datetime) => {
                if let Some(v) = obj.get_mut(&f.key) {
                    fix(v, old, tz);
                }
            }
            Some(FieldKind::SubTable) => {
                let columns: Vec<&str> = f
                    .children
                    .values()
                    .filter(|c| c.kind == Some(FieldKind::Datetime))
                    .map(|c| c.key.as_str())
                    .collect();
                if columns.is_empty() {
                    continue;
                }
                let old_rows = old.and_then(Value::as_array);
                for (i, row) in obj
                    .get_mut(&f.key)
                    .and_then(Value::as_array_mut)
                    .into_iter()
                    .flatten()
                    .enumerate()
                {
                    let old_row = old_rows.and_then(|r| r.get(i));
                    for c in &columns {
                        if let Some(v) = row.get_mut(*c) {
                            fix(v, old_row.and_then(|r| r.get(*c)), tz);
                        }
                    }
                }
            }
            _ => {}
        }
    }
}

/// Whether any text or key in `v` holds a NUL (a pass without allocating: pointers are
/// built only for the rare value that has one).
fn has_nul(v: &Value) -> bool {
    match v {
        Value::String(s) => s.as_bytes().contains(&0),
        Value::Array(a) => a.iter().any(has_nul),
        Value::Object(m) => m
            .iter()
            .any(|(k, x)| k.as_bytes().contains(&0) || has_nul(x)),
        _ => false,
    }
}

/// Text may not contain NUL characters (PostgreSQL cannot store them; refused everywhere
/// so that both stores accept the same records).
fn find_nul(v: &Value, ptr: &str, details: &mut Vec<Detail>) {
    if !has_nul(v) {
        return;
    }
    match v {
        Value::String(s) if s.contains('\0') => details.push(Detail::new(
            ptr,
            "nul",
            "text may not contain NUL (\\u0000) characters",
        )),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, x)| find_nul(x, &format!("{ptr}/{i}"), details)),
        Value::Object(m) => m.iter().for_each(|(k, x)| {
            if k.contains('\0') {
                details.push(Detail::new(
                    ptr,
                    "nul",
                    "keys may not contain NUL (\\u0000) characters",
                ));
            }
            find_nul(x, &format!("{ptr}/{}", escape(k)), details)
        }),
        _ => {}
    }
}

/// Validate data against the form's schema, adding one detail per error.
pub fn validate(form: &CompiledForm, data: &Value, prefix: &str, details: &mut Vec<Detail>) {
    for e in form.validator.iter_errors(data) {
        let rule = e.kind().keyword().to_owned();
        let mut pointer = format!("{prefix}/data{}", e.instance_path());
        // A missing property is reported at the property, not at its parent object.
        if let jsonschema::error::ValidationErrorKind::Required { property } = e.kind()
            && let Some(name) = property.as_str()
        {
            pointer = format!("{pointer}/{}", escape(name));
        }
        details.push(Detail::new(pointer, rule, e.to_string()));
    }
}

/// Evaluate a JSON Logic formula over the record's data. Besides the standard operators
/// the platform adds date operators (docs/field-types.md#formulas): `add_days`
/// `[date, n]` → the date n days later (`YYYY-MM-DD`), and `days_between` `[a, b]` → whole
/// days from a to b, both reading the date part of dates and datetimes; `hours_between`
/// and `minutes_between` `[a, b]` → the time from date-time a to date-time b (RFC 3339
/// with an offset), fractional. All give null for anything else.
pub fn compute(formula: &Value, data: &Value) -> Result<Value, String> {
    let out = engine()
        .eval_str(&formula.to_string(), &data.to_string())
        .map_err(|e| e.to_string())?;
    serde_json::from_str(&out).map_err(|e| e.to_string())
}

fn engine() -> &'static datalogic_rs::Engine {
    static ENGINE: std::sync::OnceLock<datalogic_rs::Engine> = std::sync::OnceLock::new();
    ENGINE.get_or_init(|| {
        datalogic_rs::Engine::builder()
            .add_operator("add_days", AddDays)
            .add_operator("days_between", DaysBetween)
            .add_operator("hours_between", TimeBetween(3_600.0))
            .add_operator("minutes_between", TimeBetween(60.0))
            .build()
    })
}

fn date_arg(v: Option<&&datalogic_rs::DataValue<'_>>) -> Option<chrono::NaiveDate> {
    let s = v?.as_str()?;
    chrono::NaiveDate::parse_from_str(s.get(..10)?, "%Y-%m-%d").ok()
}

struct AddDays;

impl datalogic_rs::CustomOperator for AddDays {
    fn evaluate<'a>(
        &self,
        args: &[&'a datalogic_rs::DataValue<'a>],
        _ctx: &mut datalogic_rs::operator::EvalContext<'_, 'a>,
        arena: &'a datalogic_rs::bumpalo::Bump,
    ) -> datalogic_rs::Result<&'a datalogic_rs::DataValue<'a>> {
        use datalogic_rs::ArenaExt;
        let n = args
            .get(1)
            .and_then(|v| v.as_f64())
            .map(|n| n.trunc() as i64);
        match (date_arg(args.first()), n) {
            (Some(d), Some(n)) => match d.checked_add_signed(chrono::Duration::days(n)) {
                Some(out) => Ok(arena.string(&out.format("%Y-%m-%d").to_string())),
                None => Ok(arena.null()),
            },
            _ => Ok(arena.null()),
        }
    }
}

struct DaysBetween;

impl datalogic_rs::CustomOperator for DaysBetween {
    fn evaluate<'a>(
        &self,
        args: &[&'a datalogic_rs::DataValue<'a>],
        _ctx: &mut datalogic_rs::operator::EvalContext<'_, 'a>,
        arena: &'a datalogic_rs::bumpalo::Bump,
    ) -> datalogic_rs::Result<&'a datalogic_rs::DataValue<'a>> {
        use datalogic_rs::ArenaExt;
        match (date_arg(args.first()), date_arg(args.get(1))) {
            (Some(a), Some(b)) => Ok(arena.i64((b - a).num_days())),
            _ => Ok(arena.null()),
        }
    }
}

fn datetime_arg(
    v: Option<&&datalogic_rs::DataValue<'_>>,
) -> Option<chrono::DateTime<chrono::FixedOffset>> {
    chrono::DateTime::parse_from_rfc3339(v?.as_str()?).ok()
}

/// The time between two date-times in units of `.0` seconds.
struct TimeBetween(f64);

impl datalogic_rs::CustomOperator for TimeBetween {
    fn evaluate<'a>(
        &self,
        args: &[&'a datalogic_rs::DataValue<'a>],
        _ctx: &mut datalogic_rs::operator::EvalContext<'_, 'a>,
        arena: &'a datalogic_rs::bumpalo::Bump,
    ) -> datalogic_rs::Result<&'a datalogic_rs::DataValue<'a>> {
        use datalogic_rs::ArenaExt;
        match (datetime_arg(args.first()), datetime_arg(args.get(1))) {
            (Some(a), Some(b)) => {
                let ms = (b - a).num_milliseconds() as f64;
                Ok(arena.f64(ms / 1000.0 / self.0))
            }
            _ => Ok(arena.null()),
        }
    }
}

/// RFC 7396 JSON merge patch.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                *target = Value::Object(Map::new());
            }
            if let Value::Object(t) = target {
                for (k, v) in p {
                    if v.is_null() {
                        t.remove(k);
                    } else {
                        merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
                    }
                }
            }
        }
        other => *target = other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn formulas_compute_over_sub_tables() {
        let f = json!({"reduce": [{"map": [{"var": "parts"}, {"*": [{"var": "qty"}, {"var": "unit_cost"}]}]}, {"+": [{"var": "current"}, {"var": "accumulator"}]}, 0]});
        let d = json!({"parts": [{"qty": 2, "unit_cost": 10.5}, {"qty": 1, "unit_cost": 4}]});
        assert_eq!(compute(&f, &d).unwrap().as_f64(), Some(25.0));
    }

    #[test]
    fn date_operators_add_days_and_count_days_between() {
        let d = json!({"last": "2026-01-31", "at": "2026-03-02T10:00:00Z"});
        let f = json!({"add_days": [{"var": "last"}, 30]});
        assert_eq!(compute(&f, &d).unwrap(), json!("2026-03-02"));
        let f = json!({"add_days": [{"var": "last"}, -31]});
        assert_eq!(compute(&f, &d).unwrap(), json!("2025-12-31"));
        let f = json!({"days_between": [{"var": "last"}, {"var": "at"}]});
        assert_eq!(compute(&f, &d).unwrap(), json!(30));
        let f = json!({"days_between": [{"var": "at"}, {"var": "last"}]});
        assert_eq!(compute(&f, &d).unwrap(), json!(-30));
        let f = json!({"days_between": [{"var": "missing"}, {"var": "last"}]});
        assert_eq!(compute(&f, &d).unwrap(), Value::Null);
        let f = json!({">": [{"days_between": [{"var": "last"}, "2026-05-02"]}, 90]});
        assert_eq!(compute(&f, &d).unwrap(), json!(true));
    }

    #[test]
    fn time_operators_count_hours_and_minutes_across_offsets() {
        let d = json!({"reported": "2026-03-02T10:00:00+08:00", "created": "2026-03-02T02:20:30Z", "day": "2026-03-02"});
        let f = json!({"minutes_between": [{"var": "reported"}, {"var": "created"}]});
        assert_eq!(compute(&f, &d).unwrap().as_f64(), Some(20.5));
        let f = json!({"hours_between": [{"var": "created"}, {"var": "reported"}]});
        let h = compute(&f, &d).unwrap().as_f64().unwrap();
        assert!((h + 20.5 / 60.0).abs() < 1e-9, "{h}");
        // a date is not a date-time: no answer rather than a guessed midnight
        let f = json!({"minutes_between": [{"var": "day"}, {"var": "created"}]});
        assert_eq!(compute(&f, &d).unwrap(), Value::Null);
        let f = json!({">": [{"minutes_between": [{"var": "reported"}, {"var": "created"}]}, 15]});
        assert_eq!(compute(&f, &d).unwrap(), json!(true));
    }

    #[test]
    fn merge_patch_removes_nulls_and_merges_objects() {
        let mut t = json!({"a": 1, "b": {"c": 2, "d": 3}});
        merge_patch(&mut t, &json!({"a": null, "b": {"c": 5}}));
        assert_eq!(t, json!({"b": {"c": 5, "d": 3}}));
    }
}
