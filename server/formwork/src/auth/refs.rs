//! Planning the `ref`s of a filter (query/filter.rs): each becomes a WHERE over the
//! referenced form's live records that match its inner filter. A list filter selects them
//! as the caller sees them (their rights on the form and its fields, their row scope); a
//! role's row rule selects them by the rule alone.

use crate::error::{DomainError, DomainResult};
use crate::query::fields::Scope;
use crate::query::filter::Filter;
use crate::query::sql::{Params, compile};
use crate::store::db::Backend;
use crate::store::records::form_scope;

use super::service::{AuthService, Caller};

/// Whose view the referenced records are selected in.
#[derive(Clone, Copy)]
pub enum RefView<'a> {
    /// The caller's: they must read the referenced form and every field the inner filter
    /// names there, and a record out of their row scope matches no `ref` (so `!ref` holds
    /// for it), as in reports, where such a record joins as empty values.
    Caller(&'a Caller),
    /// A row rule's: the rule is the administrator's, so it reads the referenced records
    /// whatever the user may see of them (the user learns no field value from it, only
    /// which rows they reach).
    Rule,
}

impl AuthService {
    /// Check and compile each `ref` of `filter`, nested at most `max_depth` deep.
    pub fn plan_refs<'a>(
        &'a self,
        app: &'a str,
        filter: &'a mut Filter,
        view: RefView<'a>,
        backend: Backend,
        params: &'a mut Params,
        max_depth: usize,
    ) -> futures::future::BoxFuture<'a, DomainResult<()>> {
        self.plan_refs_at(app, filter, view, backend, params, max_depth, 0)
    }

    #[allow(clippy::too_many_arguments)]
    fn plan_refs_at<'a>(
        &'a self,
        app: &'a str,
        filter: &'a mut Filter,
        view: RefView<'a>,
        backend: Backend,
        params: &'a mut Params,
        max_depth: usize,
        depth: usize,
    ) -> futures::future::BoxFuture<'a, DomainResult<()>> {
        Box::pin(async move {
            for node in filter.refs_mut() {
                let Filter::Ref {
                    field,
                    form,
                    inner,
                    pointer,
                    sql,
                } = node
                else {
                    continue;
                };
                if depth >= max_depth {
                    return Err(DomainError::bad_request(
                        pointer,
                        "filter",
                        format!("ref nests at most {max_depth} deep"),
                    ));
                }
                let decision = match view {
                    RefView::Caller(caller) => {
                        let d = self.decide(caller, app, form).await?;
                        if !d.allows("read") {
                            return Err(DomainError::forbidden(
                                pointer,
                                "form_read",
                                format!("you may not read {form}, which {} refers to", field.name),
                            ));
                        }
                        Some(d)
                    }
                    RefView::Rule => None,
                };
                let target = self.forms.current(app, form).await?;
                let mut parsed = Filter::parse(inner, &Scope::Root(&target.model), pointer)?;
                parsed.in_zone(self.forms.zone(app).await?);
                if let Some(d) = &decision {
                    for name in parsed.fields() {
                        d.require_read(&name, pointer)?;
                    }
                }
                let mut w = format!("{} AND deleted_at IS NULL", form_scope(app, form));
                self.plan_refs_at(
                    app,
                    &mut parsed,
                    view,
                    backend,
                    params,
                    max_depth,
                    depth + 1,
                )
                .await?;
                if let RefView::Caller(caller) = view
                    && let Some(rows) = self.row_scope(caller, app, form, backend, params).await?
                {
                    w = format!("{w} AND {rows}");
                }
                *sql = Some(format!("{w} AND {}", compile(backend, &parsed, params)));
            }
            Ok(())
        })
    }
}
