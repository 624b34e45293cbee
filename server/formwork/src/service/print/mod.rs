//! Printing a record (the `print` action): the form's print template for the locale — a
//! Handlebars template in the definition's `print` (`{"zh-CN": "<html…>", "en": …}`) — or,
//! without one, a default layout of every field, rendered as one HTML page from what the
//! caller may read: the record through their field mask, reference labels only from
//! records they may read, nothing else. Templates cannot emit raw HTML (`{{{…}}}` and
//! `{{&…}}` are refused when the definition is saved), so a value never becomes markup;
//! the page is also served with a Content-Security-Policy that runs no script.

mod display;
mod page;

use handlebars::Handlebars;
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;

use super::records::RecordService;
use crate::auth::Caller;
use crate::error::{Detail, DomainError, DomainResult};
use crate::schema::field_types::FieldKind;
use crate::schema::model::{FieldSpec, FormModel};
use display::{Names, display_all, label};
use page::{default_body, page};

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
        // Labels of what the caller may read only: a hidden field is absent, label and all.
        let labels: Map<String, Value> = fields
            .iter()
            .filter(|(k, _)| decision.can_read(k))
            .map(|(k, f)| (k.clone(), json!(label(&f.schema, k, &locale))))
            .collect();
        let columns: Map<String, Value> = fields
            .iter()
            .filter(|(k, f)| f.kind == Some(FieldKind::SubTable) && decision.can_read(k))
            .map(|(k, f)| {
                let cols: Map<String, Value> = f
                    .children
                    .iter()
                    .filter(|(c, _)| decision.require_read(&format!("{k}.{c}"), "").is_ok())
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
        assert_eq!(
            page::esc("<b a=\"1\">&'"),
            "&lt;b a=&quot;1&quot;&gt;&amp;&#39;"
        );
        let hb = Handlebars::new();
        let out = hb
            .render_template("{{data.x}}", &json!({"data": {"x": "<script>"}}))
            .unwrap();
        assert_eq!(out, "&lt;script&gt;");
    }
}
