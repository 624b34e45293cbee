//! A caller's decision on one form (actions, field masks, row rules) and the index of the
//! loaded rules that computes it.

use std::collections::{BTreeSet, HashMap, HashSet};

use super::policy::{ACTIONS, RowRule, user_subject};
use crate::error::{DomainError, DomainResult};
use serde_json::Value;

/// Allowed and denied fields of one kind (read or write); `*` allows all.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldMask {
    pub all: bool,
    pub allow: HashSet<String>,
    pub deny: HashSet<String>,
}

impl FieldMask {
    pub fn full() -> FieldMask {
        FieldMask {
            all: true,
            ..Default::default()
        }
    }

    pub fn allows(&self, field: &str) -> bool {
        (self.all || self.allow.contains(field)) && !self.deny.contains(field)
    }

    pub fn is_full(&self) -> bool {
        self.all && self.deny.is_empty()
    }

    /// A sub-table column: its table allowed and `table.column` not denied. (Columns are
    /// only ever denied; a table allowed allows its other columns.)
    pub fn allows_column(&self, table: &str, column: &str) -> bool {
        self.allows(table) && !self.deny.contains(&format!("{table}.{column}"))
    }

    /// The columns of `table` denied here (entries `table.column`).
    pub fn denied_columns<'a>(&'a self, table: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.deny
            .iter()
            .filter_map(move |d| d.strip_prefix(table)?.strip_prefix('.'))
    }
}

/// What one caller may do with one form: computed once per (roles, app, form) and policy
/// epoch, then reused for every row and field of every request.
#[derive(Debug, Clone, Default)]
pub struct Decision {
    pub form: String,
    pub actions: BTreeSet<String>,
    pub read: FieldMask,
    /// Fields writable (before intersecting with `read`: use [`Decision::can_write`]).
    pub write: FieldMask,
    /// Row rules, any of which admits a row; `None` means unrestricted (admin, system or
    /// a role with `all`).
    pub rows: Option<Vec<RowRule>>,
}

impl Decision {
    pub fn full(form: &str) -> Decision {
        Decision {
            form: form.to_owned(),
            actions: ACTIONS.iter().map(|a| a.to_string()).collect(),
            read: FieldMask::full(),
            write: FieldMask::full(),
            rows: None,
        }
    }

    pub fn allows(&self, action: &str) -> bool {
        self.actions.contains(action)
    }

    pub fn can_read(&self, field: &str) -> bool {
        self.read.allows(field)
    }

    /// A field may be written when it is readable and writable, and, for a sub-table, when
    /// every column of it is readable: a client cannot send back rows whose hidden values
    /// it never saw without the server guessing which stored row each one was.
    pub fn can_write(&self, field: &str) -> bool {
        self.read.allows(field)
            && self.write.allows(field)
            && self.read.denied_columns(field).next().is_none()
    }

    /// Columns of a sub-table the caller may not read.
    pub fn hidden_columns<'a>(&'a self, table: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.read.denied_columns(table)
    }

    /// Columns of a writable sub-table the caller may read but not change: kept as stored
    /// in existing rows, empty in new ones.
    pub fn fixed_columns<'a>(&'a self, table: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.write.denied_columns(table)
    }

    /// 403 unless the action is allowed (404 when the caller may not even read the form,
    /// so its existence is not confirmed to someone with no access at all).
    pub fn require(&self, action: &str) -> DomainResult<()> {
        if self.allows(action) {
            return Ok(());
        }
        if self.actions.is_empty() {
            return Err(DomainError::NotFound(format!("form {}", self.form)));
        }
        Err(DomainError::forbidden(
            "",
            "action",
            format!("your roles do not allow {action} on {}", self.form),
        ))
    }

    /// 403 naming the field unless it is readable (for `table.column`, the column too).
    pub fn require_read(&self, field: &str, pointer: &str) -> DomainResult<()> {
        let mut parts = field.split('.');
        let top = parts.next().unwrap_or(field);
        if crate::query::fields::SysCol::parse(top).is_some() {
            return Ok(());
        }
        if !self.can_read(top) {
            return Err(DomainError::forbidden(
                pointer,
                "field_read",
                format!("you may not read the field {top}"),
            ));
        }
        if let Some(column) = parts.next()
            && !self.read.allows_column(top, column)
        {
            return Err(DomainError::forbidden(
                pointer,
                "field_read",
                format!("you may not read the field {top}.{column}"),
            ));
        }
        Ok(())
    }

    /// Remove the fields this caller may not read from a record's `data` object, and the
    /// hidden columns from every row of its sub-tables.
    pub fn project(&self, data: &mut Value) {
        if self.read.is_full() {
            return;
        }
        if let Value::Object(o) = data {
            o.retain(|k, _| self.read.allows(k));
            for column in self.read.deny.iter().filter(|d| d.contains('.')) {
                let Some((table, column)) = column.split_once('.') else {
                    continue;
                };
                if let Some(Value::Array(rows)) = o.get_mut(table) {
                    for row in rows {
                        if let Value::Object(r) = row {
                            r.remove(column);
                        }
                    }
                }
            }
        }
    }
}

/// The loaded rules, indexed for computing decisions.
#[derive(Debug, Default)]
pub struct PolicyIndex {
    /// (app, role subject) → form or `*` → rules of that form.
    roles: HashMap<(String, String), HashMap<String, RoleForm>>,
    /// (user subject, app) → role subjects.
    members: HashMap<(String, String), Vec<String>>,
}

#[derive(Debug, Default, Clone)]
struct RoleForm {
    actions: HashSet<String>,
    read: FieldMask,
    write: FieldMask,
    rows: Vec<RowRule>,
}

impl PolicyIndex {
    pub fn build(p: &[Vec<String>], g: &[Vec<String>]) -> PolicyIndex {
        let mut idx = PolicyIndex::default();
        for r in p {
            let [sub, app, obj, act, eft] = r.as_slice() else {
                continue;
            };
            let forms = idx.roles.entry((app.clone(), sub.clone())).or_default();
            let parts: Vec<&str> = obj.split('/').collect();
            match parts.as_slice() {
                ["form", form] if eft == "allow" => {
                    forms
                        .entry(form.to_string())
                        .or_default()
                        .actions
                        .insert(act.clone());
                }
                ["rows", form] => {
                    if let Some(rule) = RowRule::decode(act) {
                        forms.entry(form.to_string()).or_default().rows.push(rule);
                    }
                }
                ["field", form, field] => {
                    let rf = forms.entry(form.to_string()).or_default();
                    let mask = if act == "read" {
                        &mut rf.read
                    } else {
                        &mut rf.write
                    };
                    match (eft.as_str(), *field) {
                        ("allow", "*") => mask.all = true,
                        ("allow", f) => {
                            mask.allow.insert(f.to_owned());
                        }
                        (_, f) => {
                            mask.deny.insert(f.to_owned());
                        }
                    }
                }
                _ => {}
            }
        }
        for r in g {
            if let [user, role, app] = r.as_slice() {
                idx.members
                    .entry((user.clone(), app.clone()))
                    .or_default()
                    .push(role.clone());
            }
        }
        idx
    }

    /// The role subjects of a user in an app.
    pub fn roles_of(&self, username: &str, app: &str) -> Vec<String> {
        let mut r = self
            .members
            .get(&(user_subject(username), app.to_owned()))
            .cloned()
            .unwrap_or_default();
        r.sort();
        r.dedup();
        r
    }

    /// Combine the rules of `roles` for one form: actions and row rules add up, a deny
    /// anywhere wins (as casbin's effect), and allowed fields add up among roles that
    /// reach the same rows. Across roles that reach different rows a field is readable
    /// (writable) only where that holds on every row the caller reaches: when every such
    /// role allows it, or a role reaching all rows does. Otherwise a field one role shows
    /// on its own rows would show on another role's rows too, where that role hides it
    /// ([`combine_masks`]).
    pub fn decide(&self, app: &str, roles: &[String], form: &str) -> Decision {
        let mut d = Decision {
            form: form.to_owned(),
            rows: Some(vec![]),
            ..Default::default()
        };
        let mut unrestricted = false;
        let mut per_role: Vec<RoleForm> = Vec::new();
        for role in roles {
            let Some(forms) = self.roles.get(&(app.to_owned(), role.clone())) else {
                continue;
            };
            let mut mine = RoleForm::default();
            let mut any = false;
            for key in [form, "*"] {
                let Some(rf) = forms.get(key) else { continue };
                any = true;
                mine.actions.extend(rf.actions.iter().cloned());
                for (into, from) in [(&mut mine.read, &rf.read), (&mut mine.write, &rf.write)] {
                    into.all |= from.all;
                    into.allow.extend(from.allow.iter().cloned());
                    into.deny.extend(from.deny.iter().cloned());
                }
                mine.rows.extend(rf.rows.iter().cloned());
            }
            if !any {
                continue;
            }
            d.actions.extend(mine.actions.iter().cloned());
            for r in &mine.rows {
                if *r == RowRule::All {
                    unrestricted = true;
                } else if let Some(rows) = d.rows.as_mut() {
                    rows.push(r.clone());
                }
            }
            per_role.push(mine);
        }
        if unrestricted {
            d.rows = None;
        }
        let acting = |acts: &[&str]| -> Vec<&RoleForm> {
            let some: Vec<&RoleForm> = per_role
                .iter()
                .filter(|r| acts.iter().any(|a| r.actions.contains(*a)))
                .collect();
            if some.is_empty() {
                per_role.iter().collect()
            } else {
                some
            }
        };
        d.read = combine_masks(&acting(&["read"]), |r| &r.read);
        d.write = combine_masks(&acting(&["create", "update"]), |r| &r.write);
        d
    }
}

/// One field mask for several roles (see [`PolicyIndex::decide`]). Roles with the same row
/// rules form a group whose masks add up exactly (they reach the same rows). With one
/// group that is the answer; with several, a field is allowed when every group allows it
/// or a group reaching all rows does. Denies of every role are kept (a deny wins).
fn combine_masks(roles: &[&RoleForm], mask: impl Fn(&RoleForm) -> &FieldMask) -> FieldMask {
    let mut groups: Vec<(Vec<RowRule>, FieldMask)> = Vec::new();
    let mut deny = HashSet::new();
    for r in roles {
        let m = mask(r);
        deny.extend(m.deny.iter().cloned());
        let rows = if r.rows.contains(&RowRule::All) {
            vec![RowRule::All]
        } else {
            r.rows.clone()
        };
        let same = |g: &Vec<RowRule>| {
            g.len() == rows.len()
                && g.iter().all(|x| rows.contains(x))
                && rows.iter().all(|x| g.contains(x))
        };
        match groups.iter_mut().find(|(g, _)| same(g)) {
            Some((_, into)) => {
                into.all |= m.all;
                into.allow.extend(m.allow.iter().cloned());
            }
            None => groups.push((
                rows,
                FieldMask {
                    all: m.all,
                    allow: m.allow.clone(),
                    deny: HashSet::new(),
                },
            )),
        }
    }
    let mut out = match groups.as_slice() {
        [] => FieldMask::default(),
        [(_, one)] => one.clone(),
        [(_, first), rest @ ..] => {
            let mut every = rest.iter().fold(first.clone(), |acc, (_, m)| FieldMask {
                all: acc.all && m.all,
                allow: acc
                    .allow
                    .iter()
                    .filter(|f| m.all || m.allow.contains(*f))
                    .chain(m.allow.iter().filter(|_| acc.all))
                    .cloned()
                    .collect(),
                deny: HashSet::new(),
            });
            for (rows, m) in &groups {
                if rows.as_slice() == [RowRule::All] {
                    every.all |= m.all;
                    every.allow.extend(m.allow.iter().cloned());
                }
            }
            every
        }
    };
    out.deny = deny;
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Casbin policy rows of one role on form `f`: its actions, row rule and read list.
    fn role(name: &str, rows: &RowRule, read: &[&str]) -> Vec<Vec<String>> {
        let s = |x: &str| x.to_owned();
        let sub = format!("r:{name}");
        let mut out = vec![
            vec![s(&sub), s("a"), s("form/f"), s("read"), s("allow")],
            vec![s(&sub), s("a"), s("rows/f"), rows.encode(), s("allow")],
        ];
        for field in read {
            out.push(vec![
                s(&sub),
                s("a"),
                format!("field/f/{field}"),
                s("read"),
                s("allow"),
            ]);
        }
        out
    }

    fn readable(roles: &[(&str, RowRule, &[&str])], fields: &[&str]) -> Vec<String> {
        let p: Vec<Vec<String>> = roles.iter().flat_map(|(n, r, f)| role(n, r, f)).collect();
        let idx = PolicyIndex::build(&p, &[]);
        let names: Vec<String> = roles.iter().map(|(n, _, _)| format!("r:{n}")).collect();
        let d = idx.decide("a", &names, "f");
        fields
            .iter()
            .filter(|f| d.can_read(f))
            .map(|f| f.to_string())
            .collect()
    }

    #[test]
    fn fields_add_up_only_among_roles_that_reach_the_same_rows() {
        let all = ["title", "fee", "team"];
        // Same rows: a plain union.
        assert_eq!(
            readable(
                &[
                    ("x", RowRule::Own, &["title"]),
                    ("y", RowRule::Own, &["fee"])
                ],
                &all
            ),
            ["title", "fee"]
        );
        // Different rows: what every role allows, or what a role reaching all rows allows.
        assert_eq!(
            readable(
                &[
                    ("owner", RowRule::Own, &["*"]),
                    ("clerk", RowRule::All, &["title"])
                ],
                &all
            ),
            ["title"]
        );
        assert_eq!(
            readable(
                &[
                    ("owner", RowRule::Own, &["*"]),
                    ("dept", RowRule::Department, &["title", "team"])
                ],
                &all
            ),
            ["title", "team"]
        );
        assert_eq!(
            readable(
                &[
                    ("owner", RowRule::Own, &["*"]),
                    ("clerk", RowRule::All, &["title"]),
                    ("boss", RowRule::All, &["*"])
                ],
                &all
            ),
            all
        );
        // One role: its own mask.
        assert_eq!(
            readable(&[("owner", RowRule::Own, &["fee"])], &all),
            ["fee"]
        );
    }

    /// Random role sets against a model with concrete rows: every field the decision lets
    /// through is allowed, on every row the roles reach, by some role reaching that row
    /// (and denied by none); with one row rule for all roles it is exactly their union.
    #[test]
    fn a_combined_mask_never_shows_a_field_on_a_row_no_role_there_allows() {
        let rules = [
            (RowRule::All, vec![0, 1, 2, 3, 4]),
            (RowRule::Own, vec![0, 1]),
            (RowRule::Department, vec![1, 2]),
            (
                RowRule::Filter(serde_json::json!({"==": [{"var": "a"}, 1]})),
                vec![3],
            ),
            (
                RowRule::Filter(serde_json::json!({"==": [{"var": "b"}, 1]})),
                vec![2, 3],
            ),
        ];
        let fields = ["f0", "f1", "f2", "f3"];
        let mut x: u64 = 0x2545F4914F6CDD1D;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for _ in 0..2000 {
            let n = 1 + next() % 3;
            let same_rule = next() % 4 == 0;
            let first_rule = (next() % rules.len() as u64) as usize;
            let mut roles: Vec<(usize, FieldMask)> = Vec::new();
            for _ in 0..n {
                let rule = if same_rule {
                    first_rule
                } else {
                    (next() % rules.len() as u64) as usize
                };
                let bits = next();
                let mask = FieldMask {
                    all: bits & 1 == 1,
                    allow: fields
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| bits >> (1 + i) & 1 == 1)
                        .map(|(_, f)| f.to_string())
                        .collect(),
                    deny: fields
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| bits >> (8 + 3 * i) & 7 == 0)
                        .map(|(_, f)| f.to_string())
                        .collect(),
                };
                roles.push((rule, mask));
            }
            let forms: Vec<RoleForm> = roles
                .iter()
                .map(|(rule, mask)| RoleForm {
                    actions: ["read".to_string()].into(),
                    read: mask.clone(),
                    write: FieldMask::default(),
                    rows: vec![rules[*rule].0.clone()],
                })
                .collect();
            let refs: Vec<&RoleForm> = forms.iter().collect();
            let got = combine_masks(&refs, |r| &r.read);
            let reached: HashSet<usize> = roles
                .iter()
                .flat_map(|(r, _)| rules[*r].1.clone())
                .collect();
            for f in fields {
                let denied = roles.iter().any(|(_, m)| m.deny.contains(f));
                let lets = |m: &FieldMask| m.all || m.allow.contains(f);
                if got.allows(f) {
                    assert!(!denied, "{f} denied somewhere: {roles:?}");
                    for row in &reached {
                        assert!(
                            roles
                                .iter()
                                .any(|(r, m)| rules[*r].1.contains(row) && lets(m)),
                            "{f} shown on row {row} where no role allows it: {roles:?} → {got:?}"
                        );
                    }
                }
                if same_rule {
                    assert_eq!(
                        got.allows(f),
                        !denied && roles.iter().any(|(_, m)| lets(m)),
                        "{roles:?}"
                    );
                }
            }
        }
    }
}
