//! The page: the default layout of a record's fields and the HTML around a body.

use serde_json::Value;

use crate::schema::field_types::FieldKind;
use crate::schema::model::FieldSpec;

/// Escape text for HTML.
pub(super) fn esc(s: &str) -> String {
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
pub(super) fn default_body(
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
pub(super) fn page(title: &str, locale: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"{locale}\"><head><meta charset=\"utf-8\"><title>{}</title>\n<style>\nbody{{font-family:system-ui,\"PingFang SC\",\"Noto Sans CJK SC\",sans-serif;margin:2em;color:#111}}\nh1{{font-size:1.4em;margin:0 0 .2em}}\n.meta{{color:#555;font-size:.85em}}\ntable{{border-collapse:collapse;width:100%}}\nth,td{{border:1px solid #999;padding:.3em .5em;text-align:left;vertical-align:top}}\ntable.fields>tbody>tr>th,table.fields>tr>th{{width:25%;background:#f3f3f3}}\ntable.rows th{{background:#f3f3f3}}\nimg{{max-height:8em;max-width:100%}}\n@media print{{body{{margin:0}}}}\n</style></head>\n<body>\n{body}</body></html>\n",
        esc(title)
    )
}
