//! Who is calling and what they may do: authentication of sessions and API tokens, the
//! loaded casbin rules (reloaded when the policy epoch moves), per-form decisions and the
//! row-scope SQL.

use casbin::function_map::OperatorFunction;
use casbin::prelude::*;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use super::adapter::{RulesAdapter, obj_match_fn};
use super::decision::{Decision, PolicyIndex};
use super::policy::{
    MODEL, RowRule, UserVars, obj_match, role_subject, substitute_user, user_subject,
};
use super::refs::RefView;
use crate::config::AuthSettings;
use crate::error::{DomainError, DomainResult};
use crate::query::fields::Scope;
use crate::query::filter::Filter;
use crate::query::sql::{Params, compile, reference_and_id};
use crate::service::forms::FormService;
use crate::store::db::{Backend, Db};
use crate::store::oplog::Actor;
use crate::store::records::form_scope;
use crate::store::writer::Writer;

/// The platform-wide roles a user may hold besides app roles.
pub const PLATFORM_ADMIN: &str = "admin";
pub const PLATFORM_AUDITOR: &str = "auditor";

/// How the caller authenticated.
#[derive(Debug, Clone)]
pub enum Via {
    /// A login session; the digest identifies the session row.
    Session { digest: String },
    /// An API token, optionally bound to one role of one app.
    Token {
        id: String,
        app: Option<String>,
        role: Option<String>,
    },
    /// The server itself (CLI, demo data, later flows running as the system).
    System,
}

#[derive(Debug, Clone)]
pub struct Principal {
    pub username: String,
    pub display_name: String,
    pub department: Option<String>,
    pub platform_role: Option<String>,
    pub attributes: Value,
    pub via: Via,
    /// The policy epoch read with the credentials.
    pub epoch: i64,
}

/// The caller of one request: who, and the address and client for the log.
#[derive(Debug, Clone)]
pub struct Caller {
    pub actor: Actor,
    pub principal: Arc<Principal>,
    /// The one role this request acts with (the `X-Formwork-Role` header): of the caller's
    /// roles in an app only this one counts. A user whose roles reach different rows thus
    /// sees each role's fields on that role's rows, one role at a time, instead of the
    /// fields every role allows (auth/decision.rs). Administrators are not narrowed.
    pub acting: Option<String>,
}

impl Caller {
    /// The server acting on its own behalf: every permission.
    pub fn system() -> Caller {
        Caller {
            actor: Actor::system(),
            principal: Arc::new(Principal {
                username: "system".into(),
                display_name: "Formwork".into(),
                department: None,
                platform_role: Some(PLATFORM_ADMIN.into()),
                attributes: json!({}),
                via: Via::System,
                epoch: 0,
            }),
            acting: None,
        }
    }

    /// A platform administrator (or the system); API tokens bound to a role never are.
    pub fn is_admin(&self) -> bool {
        let bound = matches!(&self.principal.via, Via::Token { role: Some(_), .. });
        !bound && self.principal.platform_role.as_deref() == Some(PLATFORM_ADMIN)
    }

    /// An auditor (or administrator); a token bound to an app role is neither.
    pub fn is_auditor(&self) -> bool {
        let bound = matches!(&self.principal.via, Via::Token { role: Some(_), .. });
        self.is_admin()
            || (!bound && self.principal.platform_role.as_deref() == Some(PLATFORM_AUDITOR))
    }

    pub fn require_admin(&self) -> DomainResult<()> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(DomainError::forbidden(
                "",
                "admin",
                "only a platform administrator may do this",
            ))
        }
    }
}

/// Rules as loaded at one policy epoch.
pub struct Loaded {
    pub epoch: i64,
    pub enforcer: Enforcer,
    pub index: PolicyIndex,
    /// Department → its direct children.
    children: HashMap<String, Vec<String>>,
    decisions: Mutex<HashMap<(String, String, String), Arc<Decision>>>,
}

impl Loaded {
    /// How many rules casbin holds (`p` and `g`).
    pub fn enforcer_rule_count(&self) -> usize {
        self.enforcer.get_policy().len() + self.enforcer.get_grouping_policy().len()
    }

    /// casbin's answer to one question at this epoch (`sub` is `u:name` or `r:role`).
    pub fn enforce(&self, sub: &str, app: &str, obj: &str, act: &str) -> DomainResult<bool> {
        self.enforcer
            .enforce((sub, app, obj, act))
            .map_err(|e| DomainError::Internal(anyhow::anyhow!("casbin: {e}")))
    }

    /// The department and every department below it.
    pub fn subtree(&self, dept: &str) -> Vec<String> {
        let mut out = vec![dept.to_owned()];
        let mut i = 0;
        while i < out.len() && out.len() < 100_000 {
            if let Some(c) = self.children.get(&out[i]) {
                for d in c {
                    if !out.contains(d) {
                        out.push(d.clone());
                    }
                }
            }
            i += 1;
        }
        out
    }
}

#[derive(Clone)]
pub struct AuthService {
    pub(super) db: Db,
    pub(super) writer: Writer,
    pub(super) forms: FormService,
    pub(super) settings: AuthSettings,
    loaded: Arc<RwLock<Option<Arc<Loaded>>>>,
    reload: Arc<tokio::sync::Mutex<()>>,
    /// Credentials read, by `s:<session digest>` / `t:<token id>` (SQLite only).
    pub(super) credentials: Arc<RwLock<HashMap<String, Arc<super::account::Credential>>>>,
}

impl AuthService {
    pub fn new(db: Db, writer: Writer, forms: FormService, settings: AuthSettings) -> Self {
        AuthService {
            db,
            writer,
            forms,
            settings,
            loaded: Default::default(),
            reload: Default::default(),
            credentials: Default::default(),
        }
    }

    pub fn writer(&self) -> &Writer {
        &self.writer
    }

    /// Every ten minutes, drop expired sessions and failed logins older than the window
    /// (the log keeps its own record of both).
    pub fn start_cleanup(&self) -> tokio::task::JoinHandle<()> {
        let writer = self.writer.clone();
        let window = self.settings.failure_window;
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(600));
            loop {
                tick.tick().await;
                let now = crate::time::now();
                let cutoff = (chrono::Utc::now() - chrono::Duration::seconds(window as i64))
                    .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
                let op = super::ops::AuthWrite {
                    stmts: vec![
                        (
                            "DELETE FROM sessions WHERE expires_at <= $1".into(),
                            vec![now.into()],
                        ),
                        (
                            "DELETE FROM login_failures WHERE at <= $1".into(),
                            vec![cutoff.into()],
                        ),
                    ],
                    must_affect: None,
                    entry: None,
                    bump: false,
                    // Expired sessions are refused by their kept expiry already.
                    revokes: false,
                    result: Value::Null,
                };
                if let Err(e) = writer.submit(op).await {
                    tracing::warn!(error = %e, "removing expired sessions failed");
                    if writer.is_closed() {
                        return;
                    }
                }
            }
        })
    }

    /// A caller for `username` as if they made a request (flows rendering through a
    /// recipient's field mask, task pages). Disabled users are refused.
    pub async fn caller_for(&self, username: &str) -> DomainResult<Caller> {
        let u = self.user_row(username).await?;
        if u["disabled"] == json!(true) {
            return Err(DomainError::NotFound(format!("user {username}")));
        }
        let department = u["department"].as_str().map(str::to_owned);
        Ok(Caller {
            actor: Actor {
                user: username.to_owned(),
                department: department.clone(),
                address: None,
                client: Some("formwork flow".into()),
            },
            principal: Arc::new(Principal {
                username: username.to_owned(),
                display_name: u["display_name"].as_str().unwrap_or(username).to_owned(),
                department,
                platform_role: u["platform_role"].as_str().map(str::to_owned),
                attributes: u["attributes"].clone(),
                via: Via::System,
                epoch: self.current_epoch().await?,
            }),
            acting: None,
        })
    }

    /// A caller holding exactly one role of one app and nothing else, for rendering what a
    /// flow sends outside (email to an address, a webhook) through that role's field mask.
    pub async fn caller_for_role(&self, app: &str, role: &str) -> DomainResult<Caller> {
        Ok(Caller {
            actor: Actor {
                user: format!("role:{role}"),
                department: None,
                address: None,
                client: Some("formwork flow".into()),
            },
            principal: Arc::new(Principal {
                username: format!("role:{role}"),
                display_name: role.to_owned(),
                department: None,
                platform_role: None,
                attributes: json!({}),
                via: Via::Token {
                    id: "flow".into(),
                    app: Some(app.to_owned()),
                    role: Some(role.to_owned()),
                },
                epoch: self.current_epoch().await?,
            }),
            acting: None,
        })
    }

    pub async fn current_epoch(&self) -> DomainResult<i64> {
        let row = self
            .db
            .query_one("SELECT epoch FROM auth_state WHERE id = 1", vec![])
            .await?;
        Ok(row
            .map(|r| r.try_get::<i64>("", "epoch"))
            .transpose()?
            .unwrap_or(0))
    }

    /// The rules at `epoch` or later, reloading when this process is behind.
    pub async fn rules(&self, epoch: i64) -> DomainResult<Arc<Loaded>> {
        if let Some(l) = self.loaded.read().ok().and_then(|g| g.clone())
            && l.epoch >= epoch
        {
            return Ok(l);
        }
        let _one = self.reload.lock().await;
        if let Some(l) = self.loaded.read().ok().and_then(|g| g.clone())
            && l.epoch >= epoch
        {
            return Ok(l);
        }
        let loaded = Arc::new(self.load().await?);
        if let Ok(mut g) = self.loaded.write() {
            *g = Some(loaded.clone());
        }
        Ok(loaded)
    }

    async fn load(&self) -> DomainResult<Loaded> {
        // The epoch is read first: a change committed during loading moves it again, so
        // the next request reloads.
        let epoch = self.current_epoch().await?;
        let rows = self
            .db
            .query_all(
                "SELECT ptype, v0, v1, v2, v3, v4 FROM auth_rules ORDER BY ptype, v0, v1, v2, v3, v4",
                vec![],
            )
            .await?;
        let mut rules = Vec::with_capacity(rows.len());
        for r in rows {
            let ptype: String = r.try_get("", "ptype")?;
            let n = if ptype == "p" { 5 } else { 3 };
            let mut values = Vec::with_capacity(n);
            for i in 0..n {
                values.push(r.try_get::<String>("", &format!("v{i}"))?);
            }
            rules.push((ptype, values));
        }
        let model = DefaultModel::from_str(MODEL)
            .await
            .map_err(|e| anyhow::anyhow!("casbin model: {e}"))?;
        let mut enforcer = Enforcer::new(model, RulesAdapter { rows: rules })
            .await
            .map_err(|e| anyhow::anyhow!("casbin: {e}"))?;
        enforcer.add_function("objMatch", OperatorFunction::Arg2(obj_match_fn));
        enforcer.enable_auto_save(false);
        let index = PolicyIndex::build(&enforcer.get_policy(), &enforcer.get_grouping_policy());
        let mut children: HashMap<String, Vec<String>> = HashMap::new();
        for r in self
            .db
            .query_all("SELECT id, parent FROM departments", vec![])
            .await?
        {
            let id: String = r.try_get("", "id")?;
            if let Some(p) = r.try_get::<Option<String>>("", "parent")? {
                children.entry(p).or_default().push(id);
            }
        }
        Ok(Loaded {
            epoch,
            enforcer,
            index,
            children,
            decisions: Default::default(),
        })
    }

    /// The role subjects the caller acts with in `app`: their roles there, narrowed to the
    /// acting role when the request names one (none when they do not hold it).
    pub fn roles_in(&self, loaded: &Loaded, caller: &Caller, app: &str) -> Vec<String> {
        let mut roles = self.held_roles(loaded, caller, app);
        if let Some(acting) = &caller.acting {
            let subject = role_subject(acting);
            roles.retain(|r| *r == subject);
        }
        roles
    }

    /// The caller's roles in `app` (a token bound to a role: that role only).
    fn held_roles(&self, loaded: &Loaded, caller: &Caller, app: &str) -> Vec<String> {
        match &caller.principal.via {
            Via::Token {
                app: Some(a),
                role: Some(r),
                ..
            } => {
                if a == app {
                    vec![role_subject(r)]
                } else {
                    vec![]
                }
            }
            _ => loaded.index.roles_of(&caller.principal.username, app),
        }
    }

    /// Whether the caller acts with `role` in `app` (administrators hold every role).
    pub async fn holds_role(&self, caller: &Caller, app: &str, role: &str) -> DomainResult<bool> {
        if caller.is_admin() {
            return Ok(true);
        }
        let loaded = self.rules(caller.principal.epoch).await?;
        Ok(self
            .roles_in(&loaded, caller, app)
            .contains(&role_subject(role)))
    }

    /// What the caller may do with a form; computed once per roles, form and epoch.
    pub async fn decide(
        &self,
        caller: &Caller,
        app: &str,
        form: &str,
    ) -> DomainResult<Arc<Decision>> {
        if caller.is_admin() {
            return Ok(Arc::new(Decision::full(form)));
        }
        let loaded = self.rules(caller.principal.epoch).await?;
        let roles = self.roles_in(&loaded, caller, app);
        if let Some(acting) = &caller.acting
            && roles.is_empty()
        {
            return Err(DomainError::forbidden(
                "",
                "acting_role",
                format!(
                    "the request acts as {acting:?} (X-Formwork-Role), a role you do not hold in {app}"
                ),
            ));
        }
        // The form's version is part of the key: computed-field masking follows formulas.
        let compiled = self.forms.current(app, form).await.ok();
        let version = compiled.as_ref().map(|c| c.version).unwrap_or(0);
        let key = (roles.join(","), app.to_owned(), format!("{form}@{version}"));
        if let Some(d) = loaded
            .decisions
            .lock()
            .ok()
            .and_then(|m| m.get(&key).cloned())
        {
            return Ok(d);
        }
        let mut decision = loaded.index.decide(app, &roles, form);
        if let Some(c) = &compiled {
            hide_derived(&mut decision, &c.model);
        }
        let d = Arc::new(decision);
        if let Ok(mut m) = loaded.decisions.lock() {
            if m.len() > 10_000 {
                m.clear();
            }
            m.insert(key, d.clone());
        }
        Ok(d)
    }

    /// The SQL condition selecting the rows of `form` the caller reaches (`None`: all).
    pub async fn row_scope(
        &self,
        caller: &Caller,
        app: &str,
        form: &str,
        backend: Backend,
        params: &mut Params,
    ) -> DomainResult<Option<String>> {
        self.row_scope_at(caller, app, form, backend, params, 0)
            .await
    }

    fn row_scope_at<'a>(
        &'a self,
        caller: &'a Caller,
        app: &'a str,
        form: &'a str,
        backend: Backend,
        params: &'a mut Params,
        depth: usize,
    ) -> futures::future::BoxFuture<'a, DomainResult<Option<String>>> {
        Box::pin(async move {
            let d = self.decide(caller, app, form).await?;
            let Some(rules) = &d.rows else {
                return Ok(None);
            };
            let p = &caller.principal;
            let mut parts = Vec::new();
            for rule in rules {
                match rule {
                    RowRule::All => return Ok(None),
                    RowRule::Own => {
                        parts.push(format!("owner_user = {}", params.push(p.username.clone())))
                    }
                    RowRule::Department => match &p.department {
                        Some(dep) => {
                            parts.push(format!("owner_dept = {}", params.push(dep.clone())))
                        }
                        None => parts.push("1 = 0".into()),
                    },
                    RowRule::DepartmentTree => match &p.department {
                        Some(dep) => {
                            let loaded = self.rules(p.epoch).await?;
                            let ph: Vec<String> = loaded
                                .subtree(dep)
                                .into_iter()
                                .map(|d| params.push(d))
                                .collect();
                            parts.push(format!("owner_dept IN ({})", ph.join(", ")));
                        }
                        None => parts.push("1 = 0".into()),
                    },
                    RowRule::Filter(logic) => {
                        let vars = self.user_vars(caller).await?;
                        let compiled = self.forms.current(app, form).await?;
                        let logic = substitute_user(logic, &vars);
                        let tz = self.forms.zone(app).await?;
                        let parsed =
                            match Filter::parse(&logic, &Scope::Root(&compiled.model), "/rows") {
                                Ok(mut f) => {
                                    f.in_zone(tz);
                                    self.plan_refs(
                                        app,
                                        &mut f,
                                        RefView::Rule,
                                        backend,
                                        params,
                                        super::policy::MAX_RULE_REF_DEPTH,
                                    )
                                    .await
                                    .map(|()| f)
                                }
                                Err(e) => Err(e),
                            };
                        match parsed {
                            Ok(f) => parts.push(format!("({})", compile(backend, &f, params))),
                            Err(e) => {
                                tracing::warn!(app, form, error = %e, "a row filter no longer fits the form; it admits no rows");
                                parts.push("1 = 0".into());
                            }
                        }
                    }
                    RowRule::Through(field) => {
                        let compiled = self.forms.current(app, form).await?;
                        let Some(target) =
                            compiled.model.field(field).and_then(|f| f.ref_form.clone())
                        else {
                            parts.push("1 = 0".into());
                            continue;
                        };
                        let target_decision = self.decide(caller, app, &target).await?;
                        if !target_decision.allows("read") || depth >= 3 {
                            parts.push("1 = 0".into());
                            continue;
                        }
                        let inner = self
                            .row_scope_at(caller, app, &target, backend, params, depth + 1)
                            .await?;
                        let (expr, id) = reference_and_id(backend, field);
                        parts.push(format!(
                            "{expr} IN (SELECT {id} FROM records WHERE {} AND deleted_at IS NULL{})",
                            form_scope(app, &target),
                            inner.map(|c| format!(" AND {c}")).unwrap_or_default()
                        ));
                    }
                }
            }
            if parts.is_empty() {
                return Ok(Some("1 = 0".into()));
            }
            Ok(Some(format!("({})", parts.join(" OR "))))
        })
    }

    async fn user_vars(&self, caller: &Caller) -> DomainResult<UserVars> {
        let p = &caller.principal;
        let departments = match &p.department {
            Some(d) => self.rules(p.epoch).await?.subtree(d),
            None => vec![],
        };
        Ok(UserVars {
            id: p.username.clone(),
            department: p.department.clone(),
            departments,
            attributes: p.attributes.clone(),
        })
    }

    /// casbin's answer to one question, for `sub` (`u:name` or `r:role`).
    pub async fn enforce(&self, sub: &str, app: &str, obj: &str, act: &str) -> DomainResult<bool> {
        let epoch = self.current_epoch().await?;
        let loaded = self.rules(epoch).await?;
        loaded
            .enforcer
            .enforce((sub, app, obj, act))
            .map_err(|e| DomainError::Internal(anyhow::anyhow!("casbin: {e}")))
    }

    /// Why a user may or may not do something: the roles, the matching rules and casbin's
    /// answer, beside the decision the request path uses.
    pub async fn explain(
        &self,
        username: &str,
        app: &str,
        form: &str,
        action: &str,
        field: Option<&str>,
    ) -> DomainResult<Value> {
        let user = self.user_row(username).await?;
        let epoch = self.current_epoch().await?;
        let loaded = self.rules(epoch).await?;
        let sub = user_subject(username);
        let (obj, act) = match field {
            Some(f) => (format!("field/{form}/{f}"), action.to_owned()),
            None => (format!("form/{form}"), action.to_owned()),
        };
        let roles = loaded.index.roles_of(username, app);
        let admin = user.get("platform_role").and_then(Value::as_str) == Some(PLATFORM_ADMIN);
        let casbin_allows = loaded
            .enforcer
            .enforce((sub.as_str(), app, obj.as_str(), act.as_str()))
            .map_err(|e| DomainError::Internal(anyhow::anyhow!("casbin: {e}")))?;
        let matched: Vec<Value> = loaded
            .enforcer
            .get_policy()
            .into_iter()
            .filter(|r| {
                r.len() == 5
                    && roles.contains(&r[0])
                    && r[1] == app
                    && r[3] == act
                    && obj_match(&obj, &r[2])
            })
            .map(|r| json!({"role": r[0].trim_start_matches("r:"), "object": r[2], "action": r[3], "effect": r[4]}))
            .collect();
        let mut allowed = admin || casbin_allows;
        if field.is_some() && !admin {
            // A field needs the form's read action too (and write needs read).
            let read_form = loaded
                .enforcer
                .enforce((sub.as_str(), app, format!("form/{form}").as_str(), "read"))
                .unwrap_or(false);
            let read_field = loaded
                .enforcer
                .enforce((sub.as_str(), app, obj.as_str(), "read"))
                .unwrap_or(false);
            allowed = allowed && read_form && read_field;
        }
        let d = loaded.index.decide(app, &roles, form);
        // Roles reaching different rows: a field one of them allows may still be held back
        // (PolicyIndex::decide).
        let mut narrowed = false;
        if let Some(f) = field
            && allowed
            && !admin
        {
            let top = f.split('.').next().unwrap_or(f);
            let kept = match action {
                "read" => d.read.allows(top),
                "write" => d.read.allows(top) && d.write.allows(top),
                _ => true,
            };
            narrowed = !kept;
            allowed = kept;
        }
        let rows = match (&d.rows, admin) {
            (_, true) | (None, _) => json!("all"),
            (Some(r), _) => Value::Array(r.iter().map(RowRule::to_json).collect()),
        };
        let reason = if admin {
            "platform administrator: every permission".to_string()
        } else if roles.is_empty() {
            format!("{username} has no role in {app}")
        } else if allowed {
            "allowed by the rules listed".to_string()
        } else if narrowed {
            "a role allows it on the rows it reaches, but the user's roles reach different rows and another of them does not allow it; a field is only shown (or taken) where it holds on every row the user reaches: allow it in every role, or in one that reaches all rows, or let the user act as one role at a time (the X-Formwork-Role header; the role switch in the staff app)".to_string()
        } else if matched.iter().any(|m| m["effect"] == "deny") {
            "denied by a deny rule".to_string()
        } else {
            "no rule of the user's roles allows it".to_string()
        };
        Ok(json!({
            "user": username,
            "app": app,
            "form": form,
            "action": action,
            "field": field,
            "allowed": allowed,
            "reason": reason,
            "platform_role": user.get("platform_role"),
            "roles": roles.iter().map(|r| r.trim_start_matches("r:")).collect::<Vec<_>>(),
            "matched_rules": matched,
            "rows": rows,
        }))
    }
}

/// A computed field whose formula reads a field (or a sub-table column) the caller may not
/// read is not readable either: its value would leak the hidden one (a customer's grade is
/// derived from the credit score and purchase amount; an order's parts cost from its parts'
/// unit costs). Repeated until stable, for formulas over formulas.
fn hide_derived(d: &mut Decision, model: &crate::schema::model::FormModel) {
    if d.read.is_full() {
        return;
    }
    loop {
        let mut changed = false;
        for f in model.fields.values() {
            let Some(formula) = &f.formula else { continue };
            if !d.read.allows(&f.key) {
                continue;
            }
            let mut names = Vec::new();
            crate::schema::definition::logic_field_paths(formula, &mut names);
            let hidden = names.iter().any(|n| {
                let mut parts = n.split('.');
                let top = parts.next().unwrap_or(n);
                model.field(top).is_some()
                    && (!d.read.allows(top)
                        || parts.next().is_some_and(|c| !d.read.allows_column(top, c)))
            });
            if hidden {
                d.read.deny.insert(f.key.clone());
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
}
