//! casbin's adapter over our `auth_rules` table.

use casbin::{Adapter, Model};

use super::policy::obj_match;

/// casbin adapter over our `auth_rules` table. Loading reads the table; writes go through
/// the platform's writer (rule rows, log entry and epoch bump in one transaction), never
/// through casbin, so the mutating methods refuse.
pub struct RulesAdapter {
    pub(super) rows: Vec<(String, Vec<String>)>,
}

#[async_trait::async_trait]
impl Adapter for RulesAdapter {
    async fn load_policy(&mut self, m: &mut dyn Model) -> casbin::Result<()> {
        for (ptype, rule) in &self.rows {
            let sec = &ptype[..1];
            if let Some(ast) = m
                .get_mut_model()
                .get_mut(sec)
                .and_then(|t| t.get_mut(ptype.as_str()))
            {
                ast.get_mut_policy().insert(rule.clone());
            }
        }
        Ok(())
    }
    async fn load_filtered_policy<'a>(
        &mut self,
        m: &mut dyn Model,
        _f: casbin::Filter<'a>,
    ) -> casbin::Result<()> {
        self.load_policy(m).await
    }
    async fn save_policy(&mut self, _m: &mut dyn Model) -> casbin::Result<()> {
        Ok(())
    }
    async fn clear_policy(&mut self) -> casbin::Result<()> {
        Ok(())
    }
    fn is_filtered(&self) -> bool {
        false
    }
    async fn add_policy(&mut self, _: &str, _: &str, _: Vec<String>) -> casbin::Result<bool> {
        Ok(false)
    }
    async fn add_policies(
        &mut self,
        _: &str,
        _: &str,
        _: Vec<Vec<String>>,
    ) -> casbin::Result<bool> {
        Ok(false)
    }
    async fn remove_policy(&mut self, _: &str, _: &str, _: Vec<String>) -> casbin::Result<bool> {
        Ok(false)
    }
    async fn remove_policies(
        &mut self,
        _: &str,
        _: &str,
        _: Vec<Vec<String>>,
    ) -> casbin::Result<bool> {
        Ok(false)
    }
    async fn remove_filtered_policy(
        &mut self,
        _: &str,
        _: &str,
        _: usize,
        _: Vec<String>,
    ) -> casbin::Result<bool> {
        Ok(false)
    }
}

/// The matcher's `objMatch`: a `*` stands for one whole path segment.
pub(super) fn obj_match_fn(
    a: casbin::rhai::Dynamic,
    b: casbin::rhai::Dynamic,
) -> casbin::rhai::Dynamic {
    let a = a.into_string().unwrap_or_default();
    let b = b.into_string().unwrap_or_default();
    obj_match(&a, &b).into()
}
