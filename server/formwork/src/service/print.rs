//! Printing a record (the `print` action): the form's print template for the locale — a
//! Handlebars template in the definition's `print` (`{"zh-CN": "<html…>", "en": …}`) — or,
//! without one, a default layout of every field, rendered as one HTML page from what the
//! caller may read: the record through their field mask, reference labels only from
//! records they may read, nothing else. Templates cannot emit raw HTML (`{{{…}}}` and
//! `{{&…}}` are refused when the definition is saved), so a value never becomes markup;
//! the page is also served with a Content-Security-Policy that runs no script.

use handlebars::Handlebars;
use serde_json::{Map, Value, json};
use std::collections::{BTreeSet, HashMap};

use super::records::RecordService;
use crate::auth::Caller;
use crate::error::{Detail, DomainError, DomainResult};
use crate::schema::field_types::FieldKind;
use crate::schema::model::{FieldSpec, FormModel};

/// The locales a print template may be written for.
pub const LOCALES: &[&str] = &["zh-CN", "en"];

/// Check a definition's `print` (pointer `/print/<locale>`).
pub fn check_templates(print: &Value, details: &mut Vec<Detail>) {
    let Some(map) = print.as_object() else {
        details.push(Detail::new(
            "/print",
            "type",
            "print is an object of locale → Handlebars template",
        ));
        return;
    };
    for (locale, t) in map {
        let at = format!("/print/{locale}");
        if !LOCALES.contains(&locale.as_str()) {
            details.push(Detail::new(
                at,
                "locale",
                format!("a print template is for one of {}", LOCALES.join(", ")),
            ));
            continue;
        }
        let Some(text) = t.as_str() else {
            details.push(Detail::new(at, "type", "a print template is a string"));
            continue;
        };
        if text.len() > 100_000 {
            details.push(Detail::new(
                at,
                "maxLength",
                "a print template has at most 100,000 characters",
            ));
        } else if text.contains("{{{") || text.contains("{{&") || text.contains("{{~{") {
            details.push(Detail::new(
                at,
                "raw_html",
                "values are always escaped: {{{…}}} and {{&…}} are not allowed",
            ));
        } else if text.contains("{{>") || text.contains("{{#>") || text.contains("{{#*inline") {
            details.push(Detail::new(at, "partial", "partials are not available"));
        } else if let Err(e) = Handlebars::new().register_template_string("t", text) {
            details.push(Detail::new(at, "template", e.to_string()));
        }
    }
}

/// What a page is made of besides the record: names of people, departments and referenced
/// records (ids → text), in the caller's sight.
#[derive(Default)]
struct Names {
    users: HashMap<String, String>,
    departments: HashMap<String, String>,
    /// (form, id) → the referenced record's data, through the caller's mask.
    records: HashMap<(String, i64), Value>,
}

impl RecordService {
    /// The record as a printable HTML page in `locale` (the app's default when None).
    pub async fn print(
        &self,
        app: &str,
        form: &str,
        id: i64,
        locale: Option<&str>,
        caller: &Caller,
    ) -> DomainResult<String> {
        let decision = self.auth.decide(caller, app, form).await?;
        decision.require("read")?;
        decision.require("print")?;
        let row = self.fetch(app, form, id, false, caller).await?;
        let mut rec = row.to_api();
        decision.project(&mut rec["data"]);
        let compiled = self.forms.current(app, form).await?;
        let app_def = self.forms.get_app(app).await?;
        let locale = match locale {
            Some(l) if LOCALES.contains(&l) => l.to_owned(),
            Some(l) => {
                return Err(DomainError::bad_request(
                    "/locale",
                    "enum",
                    format!("{l:?} is not one of {}", LOCALES.join(", ")),
                ));
            }
            None => app_def["default_locale"]
                .as_str()
                .filter(|l| LOCALES.contains(l))
                .unwrap_or("zh-CN")
                .to_owned(),
        };
        let tz = self.forms.zone(app).await?;
        let names = self
            .names(app, &compiled.model, &rec["data"], caller)
            .await?;
        let fields = &compiled.model.fields;
        let display = display_all(fields, &rec["data"], &locale, &names, tz);
        let labels: Map<String, Value> = fields
            .iter()
            .map(|(k, f)| (k.clone(), json!(label(&f.schema, k, &locale))))
            .collect();
        let columns: Map<String, Value> = fields
            .iter()
            .filter(|(_, f)| f.kind == Some(FieldKind::SubTable))
            .map(|(k, f)| {
                let cols: Map<String, Value> = f
                    .children
                    .iter()
                    .map(|(c, s)| (c.clone(), json!(label(&s.schema, c, &locale))))
                    .collect();
                (k.clone(), Value::Object(cols))
            })
            .collect();
        let form_label = label(&compiled.definition, form, &locale);
        let now = self.db.clock.utc().with_timezone(&tz);
        let ctx = json!({
            "form": {"key": form, "label": form_label},
            "app": {"key": app, "label": label(&app_def, app, &locale)},
            "record": {"id": rec["id"], "created_at": rec["created_at"], "updated_at": rec["updated_at"],
                       "created_by": rec["created_by"], "row_version": rec["row_version"]},
            "data": rec["data"],
            "display": display,
            "labels": labels,
            "columns": columns,
            "printed_at": now.format("%Y-%m-%d %H:%M").to_string(),
            "printed_by": caller.principal.display_name,
            "locale": locale,
        });
        let body = match compiled.definition["print"][locale.as_str()].as_str() {
            Some(t) => {
                let hb = Handlebars::new();
                hb.render_template(t, &ctx).map_err(|e| {
                    DomainError::bad_request(
                        &format!("/print/{locale}"),
                        "template",
                        format!("the form's print template does not render: {e}"),
                    )
                })?
            }
            None => default_body(fields, &rec["data"], &ctx),
        };
        Ok(page(&format!("{form_label} #{id}"), &locale, &body))
    }

    /// Names of the members, departments and referenced records the data names.
    async fn names(
        &self,
        app: &str,
        model: &FormModel,
        data: &Value,
        caller: &Caller,
    ) -> DomainResult<Names> {
        let mut users = BTreeSet::new();
        let mut departments = BTreeSet::new();
        let mut refs: BTreeSet<(String, i64)> = BTreeSet::new();
        let mut visit = |f: &FieldSpec, v: &Value| match f.kind {
            Some(FieldKind::Member) => {
                if let Some(s) = v.as_str() {
                    users.insert(s.to_owned());
                }
            }
            Some(FieldKind::Department) => {
                if let Some(s) = v.as_str() {
                    departments.insert(s.to_owned());
                }
            }
            Some(FieldKind::Reference) => {
                if let (Some(form), Some(id)) = (&f.ref_form, v.as_i64()) {
                    refs.insert((form.clone(), id));
                }
            }
            _ => {}
        };
        for (k, f) in &model.fields {
            let v = &data[k];
            if f.kind == Some(FieldKind::SubTable) {
                for row in v.as_array().into_iter().flatten() {
                    for (c, cf) in &f.children {
                        visit(cf, &row[c]);
                    }
                }
            } else {
                visit(f, v);
            }
        }
        let mut names = Names::default();
        for (table, key, set, out) in [
            (
                "users",
                ("username", "display_name"),
                &users,
                &mut names.users,
            ),
            (
                "departments",
                ("id", "name"),
                &departments,
                &mut names.departments,
            ),
        ] {
            if set.is_empty() {
                continue;
            }
            let marks: Vec<String> = (1..=set.len()).map(|i| format!("${i}")).collect();
            let rows = self
                .db
                .query_all(
                    &format!(
                        "SELECT {} AS k, {} AS v FROM {table} WHERE {} IN ({})",
                        key.0,
                        key.1,
                        key.0,
                        marks.join(", ")
                    ),
                    set.iter().map(|s| s.clone().into()).collect(),
                )
                .await?;
            for r in rows {
                if let (Ok(k), Ok(v)) = (r.try_get::<String>("", "k"), r.try_get::<String>("", "v"))
                {
                    out.insert(k, v);
                }
            }
        }
        // Referenced records as the caller may read them (in their rows, through their
        // mask); one they may not read keeps the label `#id`.
        for (form, id) in refs {
            if let Ok(r) = self.get(app, &form, id, false, caller).await {
                names.records.insert((form, id), r["data"].clone());
            }
        }
        Ok(names)
    }
}

/// A label in the locale, else in any, else the key.
fn label(schema: &Value, key: &str, locale: &str) -> String {
    let l = schema.get("x-label").or_else(|| schema.get("label"));
    match l {
        Some(Value::Object(m)) => m
            .get(locale)
            .or_else(|| m.values().next())
            .and_then(Value::as_str)
            .unwrap_or(key)
            .to_owned(),
        Some(Value::String(s)) => s.clone(),
        _ => key.to_owned(),
    }
}

fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Every field's display text (a sub-table: a list of rows of display texts).
fn display_all(
    fields: &indexmap::IndexMap<String, FieldSpec>,
    data: &Value,
    locale: &str,
    names: &Names,
    tz: chrono_tz::Tz,
) -> Value {
    let mut out = Map::new();
    for (k, f) in fields {
        let v = &data[k];
        if v.is_null() {
            continue;
        }
        let shown = if f.kind == Some(FieldKind::SubTable) {
            Value::Array(
                v.as_array()
                    .into_iter()
                    .flatten()
                    .map(|row| {
                        Value::Object(
                            f.children
                                .iter()
                                .filter(|(c, _)| !row[c.as_str()].is_null())
                                .map(|(c, cf)| {
                                    (c.clone(), json!(text(cf, &row[c], locale, names, tz)))
                                })
                                .collect(),
                        )
                    })
                    .collect(),
            )
        } else {
            json!(text(f, v, locale, names, tz))
        };
        out.insert(k.clone(), shown);
    }
    Value::Object(out)
}

/// One value as text, the way staff read it.
fn text(f: &FieldSpec, v: &Value, locale: &str, names: &Names, tz: chrono_tz::Tz) -> String {
    let zh = locale == "zh-CN";
    let option = |s: &str| {
        f.schema
            .pointer("/x-options")
            .or_else(|| f.schema.pointer("/items/x-options"))
            .and_then(|o| o.get(s))
            .map(|l| label(&json!({"label": l}), s, locale))
            .unwrap_or_else(|| s.to_owned())
    };
    match (f.kind, v) {
        (Some(FieldKind::Select), Value::String(s)) => option(s),
        (Some(FieldKind::MultiSelect), Value::Array(a)) => a
            .iter()
            .map(|x| option(&plain(x)))
            .collect::<Vec<_>>()
            .join(if zh { "、" } else { ", " }),
        (_, Value::Bool(b)) => match (b, zh) {
            (true, true) => "是".into(),
            (false, true) => "否".into(),
            (true, false) => "Yes".into(),
            (false, false) => "No".into(),
        },
        (Some(FieldKind::Money), Value::Number(n)) => {
            let amount = format!("{:.2}", n.as_f64().unwrap_or(0.0));
            match f.schema["x-currency"].as_str() {
                Some(c) => format!("{amount} {c}"),
                None => amount,
            }
        }
        (Some(FieldKind::Datetime), Value::String(s)) => chrono::DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_else(|_| s.clone()),
        (Some(FieldKind::Member), Value::String(s)) => {
            names.users.get(s).cloned().unwrap_or_else(|| s.clone())
        }
        (Some(FieldKind::Department), Value::String(s)) => names
            .departments
            .get(s)
            .cloned()
            .unwrap_or_else(|| s.clone()),
        (Some(FieldKind::Reference), Value::Number(n)) => {
            let id = n.as_i64().unwrap_or_default();
            // The field `x-ref.display` names, when the caller may read it.
            f.ref_form
                .as_ref()
                .and_then(|form| names.records.get(&(form.clone(), id)))
                .zip(f.schema["x-ref"]["display"].as_str())
                .and_then(|(d, field)| d.get(field).filter(|v| !v.is_null()))
                .map(plain)
                .unwrap_or_else(|| format!("#{id}"))
        }
        (Some(FieldKind::Region), Value::Object(m)) => ["province", "city", "district"]
            .iter()
            .filter_map(|k| m.get(*k).and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(" / "),
        (Some(FieldKind::Attachment), Value::Array(a)) => a
            .iter()
            .filter_map(|x| x["name"].as_str())
            .collect::<Vec<_>>()
            .join(", "),
        (Some(FieldKind::Signature), Value::Object(m)) => {
            m.get("name").map(plain).unwrap_or_default()
        }
        (_, other) => plain(other),
    }
}

/// Escape text for HTML.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A file's link, for images shown on the page (served by `/api/v1/files/{sha}` under the
/// same rules as any download).
fn image(file: &Value) -> Option<String> {
    let sha = file["sha256"].as_str()?;
    if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    Some(format!(
        "<img src=\"/api/v1/files/{sha}\" alt=\"{}\">",
        esc(file["name"].as_str().unwrap_or(""))
    ))
}

/// The default layout: a title, then every field the caller may read with its label, a
/// sub-table as a table, a signature as its image.
fn default_body(
    fields: &indexmap::IndexMap<String, FieldSpec>,
    data: &Value,
    ctx: &Value,
) -> String {
    let display = &ctx["display"];
    let mut rows = String::new();
    for (k, f) in fields {
        if data.get(k).is_none() {
            continue;
        }
        let label = esc(ctx["labels"][k].as_str().unwrap_or(k));
        let cell = match f.kind {
            Some(FieldKind::SubTable) => {
                let cols = &ctx["columns"][k];
                let head: String = f
                    .children
                    .keys()
                    .map(|c| format!("<th>{}</th>", esc(cols[c].as_str().unwrap_or(c))))
                    .collect();
                let body: String = display[k]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|row| {
                        let tds: String = f
                            .children
                            .keys()
                            .map(|c| format!("<td>{}</td>", esc(row[c].as_str().unwrap_or(""))))
                            .collect();
                        format!("<tr>{tds}</tr>")
                    })
                    .collect();
                format!("<table class=\"rows\"><tr>{head}</tr>{body}</table>")
            }
            Some(FieldKind::Signature) => image(&data[k]).unwrap_or_default(),
            Some(FieldKind::Attachment) => {
                let files = data[k].as_array().cloned().unwrap_or_default();
                let images: String = files
                    .iter()
                    .filter(|x| {
                        x["content_type"]
                            .as_str()
                            .is_some_and(|t| t.starts_with("image/"))
                    })
                    .filter_map(image)
                    .collect();
                format!("{}{images}", esc(display[k].as_str().unwrap_or("")))
            }
            _ => esc(display[k].as_str().unwrap_or("")),
        };
        rows.push_str(&format!(
            "<tr data-field=\"{}\"><th>{label}</th><td>{cell}</td></tr>\n",
            esc(k)
        ));
    }
    let zh = ctx["locale"] == "zh-CN";
    format!(
        "<h1>{}</h1>\n<p class=\"meta\">{} #{} · {} {} · {}</p>\n<table class=\"fields\">\n{rows}</table>\n",
        esc(ctx["form"]["label"].as_str().unwrap_or("")),
        esc(ctx["app"]["label"].as_str().unwrap_or("")),
        ctx["record"]["id"],
        if zh { "打印于" } else { "Printed" },
        esc(ctx["printed_at"].as_str().unwrap_or("")),
        esc(ctx["printed_by"].as_str().unwrap_or("")),
    )
}

/// The whole page around a body.
fn page(title: &str, locale: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"{locale}\"><head><meta charset=\"utf-8\"><title>{}</title>\n<style>\nbody{{font-family:system-ui,\"PingFang SC\",\"Noto Sans CJK SC\",sans-serif;margin:2em;color:#111}}\nh1{{font-size:1.4em;margin:0 0 .2em}}\n.meta{{color:#555;font-size:.85em}}\ntable{{border-collapse:collapse;width:100%}}\nth,td{{border:1px solid #999;padding:.3em .5em;text-align:left;vertical-align:top}}\ntable.fields>tbody>tr>th,table.fields>tr>th{{width:25%;background:#f3f3f3}}\ntable.rows th{{background:#f3f3f3}}\nimg{{max-height:8em;max-width:100%}}\n@media print{{body{{margin:0}}}}\n</style></head>\n<body>\n{body}</body></html>\n",
        esc(title)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_cannot_emit_raw_html_or_partials() {
        for (t, rule) in [
            ("<p>{{{data.note}}}</p>", "raw_html"),
            ("<p>{{& data.note}}</p>", "raw_html"),
            ("{{> other}}", "partial"),
            ("{{#if data.x}}", "template"),
        ] {
            let mut d = Vec::new();
            check_templates(&json!({"en": t}), &mut d);
            assert_eq!(d.len(), 1, "{t}");
            assert_eq!(d[0].rule, rule, "{t}");
            assert_eq!(d[0].pointer, "/print/en");
        }
        let mut d = Vec::new();
        check_templates(
            &json!({"zh-CN": "<h1>{{form.label}}</h1>{{#each display.lines}}{{this.qty}}{{/each}}", "fr": "x"}),
            &mut d,
        );
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].pointer, "/print/fr");
    }

    #[test]
    fn values_are_escaped() {
        assert_eq!(esc("<b a=\"1\">&'"), "&lt;b a=&quot;1&quot;&gt;&amp;&#39;");
        let hb = Handlebars::new();
        let out = hb
            .render_template("{{data.x}}", &json!({"data": {"x": "<script>"}}))
            .unwrap();
        assert_eq!(out, "&lt;script&gt;");
    }
}
