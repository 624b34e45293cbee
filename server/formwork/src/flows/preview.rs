//! A message template's preview on a real record, for the flow designer: the templates are
//! rendered the way a step renders them (strict Handlebars, through the recipient's field
//! mask), on a record the designer may read. `as_user` (or `as_role`) previews what that
//! recipient would get; without it, what the designer would get.

use serde_json::{Map, Value, json};

use super::FlowService;
use super::engine::render_strict;
use super::store::Instance;
use crate::auth::Caller;
use crate::error::{DomainError, DomainResult};

impl FlowService {
    /// `{form, record, templates: {name: template}, as_user?, as_role?}` →
    /// `{results: {name: {text} | {error}}, as}`.
    pub async fn preview(
        &self,
        app: &str,
        flow: &str,
        req: &Value,
        caller: &Caller,
    ) -> DomainResult<Value> {
        caller.require_admin()?;
        let bad = |p: &str, rule: &str, m: &str| DomainError::bad_request(p, rule, m.to_owned());
        let form = req
            .get("form")
            .and_then(Value::as_str)
            .filter(|f| !f.is_empty())
            .ok_or_else(|| {
                bad(
                    "/form",
                    "required",
                    "form is the form of the record to preview on",
                )
            })?;
        let id = req.get("record").and_then(Value::as_i64).ok_or_else(|| {
            bad(
                "/record",
                "required",
                "record is the id of a record of the form",
            )
        })?;
        let templates = req
            .get("templates")
            .and_then(Value::as_object)
            .filter(|t| !t.is_empty() && t.values().all(Value::is_string))
            .ok_or_else(|| {
                bad(
                    "/templates",
                    "type",
                    "templates is an object of name → template text",
                )
            })?;
        let inner = &self.engine.inner;
        // The designer reads the record under their own rules (a 404 / 403 as on the API).
        let record = inner.records.get(app, form, id, false, caller).await?;
        let who: Caller =
            match (
                req.get("as_user").and_then(Value::as_str),
                req.get("as_role").and_then(Value::as_str),
            ) {
                (Some(_), Some(_)) => {
                    return Err(bad(
                        "/as_role",
                        "exclusive",
                        "give as_user or as_role, not both",
                    ));
                }
                (Some(u), None) => inner
                    .auth
                    .caller_for(u)
                    .await
                    .map_err(|_| bad("/as_user", "user", &format!("no active user {u}")))?,
                (None, Some(r)) => {
                    inner.auth.get_role(app, r).await.map_err(|_| {
                        bad("/as_role", "role", &format!("no role {r} in app {app}"))
                    })?;
                    inner.auth.caller_for_role(app, r).await?
                }
                (None, None) => caller.clone(),
            };
        // The server's time and the app's date, as a step sees them (read now: an app's
        // time zone may just have changed).
        let now = inner.db.clock.now();
        let tz = crate::time::zone_of(&inner.forms.get_app(app).await?);
        let today = crate::time::parse(&now)
            .with_timezone(&tz)
            .date_naive()
            .to_string();
        let inst = Instance {
            id: 0,
            app: app.to_owned(),
            flow: flow.to_owned(),
            version: 0,
            form: Some(form.to_owned()),
            record_id: Some(id),
            status: "running".into(),
            vars: json!({"vars": {}, "task": {"outcome": "approved", "comment": "", "by": caller.principal.username, "node": ""}}),
            initiator: caller.principal.username.clone(),
            started_at: now.clone(),
            ended_at: None,
            error: None,
            today,
            now,
        };
        let ctx = super::mask::context_for(inner, &inst, &record["data"], Some(&who)).await;
        let mut results = Map::new();
        for (name, t) in templates {
            let t = t.as_str().unwrap_or_default();
            results.insert(
                name.clone(),
                match render_strict(t, &ctx) {
                    Ok(text) => json!({"text": text}),
                    Err(e) => json!({"error": e}),
                },
            );
        }
        Ok(json!({"results": results, "as": who.principal.username}))
    }
}
