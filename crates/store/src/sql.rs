//! A statement and its arguments, built once and run on either backend.
//!
//! Placeholders are `$1, $2, …` on both backends (SQLite accepts `$NNN`). Dynamic parts
//! (lists of tenant ids, optional filters) are appended with numbering kept right here,
//! so no caller concatenates values into SQL.

use drifta_core::{Permission, Scope};

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Arg {
    Text(String),
    OptText(Option<String>),
    Int(i64),
    OptInt(Option<i64>),
    Bool(bool),
    Bytes(Vec<u8>),
}

impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Arg::Text(v.to_string())
    }
}
impl From<String> for Arg {
    fn from(v: String) -> Self {
        Arg::Text(v)
    }
}
impl From<&String> for Arg {
    fn from(v: &String) -> Self {
        Arg::Text(v.clone())
    }
}
impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Self {
        Arg::OptText(v)
    }
}
impl From<Option<&str>> for Arg {
    fn from(v: Option<&str>) -> Self {
        Arg::OptText(v.map(str::to_string))
    }
}
impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Arg::Int(v)
    }
}
impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Self {
        Arg::OptInt(v)
    }
}
impl From<Vec<u8>> for Arg {
    fn from(v: Vec<u8>) -> Self {
        Arg::Bytes(v)
    }
}
impl From<bool> for Arg {
    fn from(v: bool) -> Self {
        Arg::Bool(v)
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Sql {
    pub(crate) text: String,
    pub(crate) args: Vec<Arg>,
}

impl Sql {
    /// `text` may already hold `$1…$n`; supply their values with [`Sql::arg`] in order.
    pub(crate) fn new(text: impl Into<String>) -> Self {
        Sql {
            text: text.into(),
            args: Vec::new(),
        }
    }

    pub(crate) fn arg(mut self, value: impl Into<Arg>) -> Self {
        self.args.push(value.into());
        self
    }

    pub(crate) fn push(mut self, text: &str) -> Self {
        self.text.push_str(text);
        self
    }

    /// Appends a placeholder for `value` at the end of the text.
    pub(crate) fn push_arg(mut self, value: impl Into<Arg>) -> Self {
        self.args.push(value.into());
        self.text.push_str(&format!("${}", self.args.len()));
        self
    }

    /// Appends `column IN ($k, …)`, or a condition that is false when the list is empty
    /// (an empty `IN ()` is a syntax error in PostgreSQL, and an empty scope sees nothing).
    pub(crate) fn push_in<I, T>(mut self, column: &str, values: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: Into<Arg>,
    {
        let mut placeholders = Vec::new();
        for v in values {
            self.args.push(v.into());
            placeholders.push(format!("${}", self.args.len()));
        }
        if placeholders.is_empty() {
            self.text.push_str("1 = 0");
        } else {
            self.text
                .push_str(&format!("{column} IN ({})", placeholders.join(", ")));
        }
        self
    }

    /// Appends the tenant filter: `column` must be one of the tenants where the actor's
    /// roles allow `permission`. The one way store code restricts rows to a scope.
    pub(crate) fn in_scope(self, scope: &Scope, permission: Permission, column: &str) -> Self {
        let tenants: Vec<String> = scope
            .tenants_allowing(permission)
            .into_iter()
            .map(|t| t.to_string())
            .collect();
        self.push_in(column, tenants)
    }

    /// Like [`Sql::in_scope`], for the tenants where the actor's roles allow `permission`
    /// but not `unless`: the rows a narrower rule must still reach after a broader one has
    /// covered its tenants.
    pub(crate) fn in_scope_unless(
        self,
        scope: &Scope,
        permission: Permission,
        unless: Permission,
        column: &str,
    ) -> Self {
        let tenants: Vec<String> = scope
            .tenants_allowing(permission)
            .into_iter()
            .filter(|t| !scope.can(t, unless))
            .map(|t| t.to_string())
            .collect();
        self.push_in(column, tenants)
    }

    /// The statement with anonymous `?` placeholders in order of appearance, each `$n`
    /// replaced and its argument repeated where it is used twice. For SQLite: it looks up a
    /// numbered parameter's name by scanning a list of all of them, once per bound value,
    /// so a statement with n `$n` parameters cost O(n²) (perf: 87% of a 20,000-row import
    /// in `sqlite3_bind_parameter_name` with 500-row inserts). `$` inside a quoted literal
    /// is left alone.
    pub(crate) fn positional(self) -> Sql {
        // Statements written with `?` already (the bulk loaders) pass through unchanged.
        if !self.text.contains('$') {
            return self;
        }
        let mut text = String::with_capacity(self.text.len());
        let mut args = Vec::with_capacity(self.args.len());
        let mut chars = self.text.char_indices().peekable();
        let mut quoted = false;
        while let Some((_, c)) = chars.next() {
            if c == '\'' {
                quoted = !quoted;
                text.push(c);
                continue;
            }
            if c == '$' && !quoted {
                let mut number = String::new();
                while let Some((_, d)) = chars.peek().copied().filter(|(_, d)| d.is_ascii_digit()) {
                    number.push(d);
                    chars.next();
                }
                if let Some(arg) = number
                    .parse::<usize>()
                    .ok()
                    .and_then(|n| n.checked_sub(1))
                    .and_then(|i| self.args.get(i))
                {
                    text.push('?');
                    args.push(arg.clone());
                    continue;
                }
                text.push('$');
                text.push_str(&number);
                continue;
            }
            text.push(c);
        }
        Sql { text, args }
    }

    /// Puts this statement inside another: `before` and `after` must hold no placeholders,
    /// so the numbering of this statement's arguments stays right.
    pub(crate) fn nest(self, before: &str, after: &str) -> Self {
        Sql {
            text: format!("{before}{}{after}", self.text),
            args: self.args,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positional_placeholders_follow_their_uses() {
        let sql = Sql::new("SELECT '$1', $2 WHERE a = $1 OR b = $1 AND c = $10")
            .arg("x")
            .arg(2i64)
            .arg("3")
            .arg("4")
            .arg("5")
            .arg("6")
            .arg("7")
            .arg("8")
            .arg("9")
            .arg("ten")
            .positional();
        assert_eq!(sql.text, "SELECT '$1', ? WHERE a = ? OR b = ? AND c = ?");
        assert_eq!(
            sql.args,
            vec![
                Arg::Int(2),
                Arg::Text("x".into()),
                Arg::Text("x".into()),
                Arg::Text("ten".into())
            ]
        );
        let anonymous = Sql::new("INSERT INTO t VALUES (?, ?)")
            .arg("a")
            .arg("b")
            .positional();
        assert_eq!(anonymous.args.len(), 2, "already positional");
        let unknown = Sql::new("SELECT $3").arg("a").positional();
        assert_eq!(unknown.text, "SELECT $3", "left for the database to refuse");
    }
    use drifta_core::{Actor, Role, TenantId};

    #[test]
    fn numbers_placeholders_after_existing_ones() {
        let sql = Sql::new("SELECT 1 FROM t WHERE a = $1 AND ")
            .arg("x")
            .push_in("b", ["p", "q"])
            .push(" AND c = ")
            .push_arg(7i64);
        assert_eq!(
            sql.text,
            "SELECT 1 FROM t WHERE a = $1 AND b IN ($2, $3) AND c = $4"
        );
        assert_eq!(sql.args.len(), 4);
    }

    #[test]
    fn empty_list_matches_nothing() {
        let sql = Sql::new("SELECT 1 WHERE ").push_in("x", Vec::<String>::new());
        assert_eq!(sql.text, "SELECT 1 WHERE 1 = 0");
    }

    #[test]
    fn narrower_rule_reaches_only_tenants_the_broader_one_does_not() {
        let (a, b) = (TenantId::generate(), TenantId::generate());
        let scope = Scope::new(
            Actor::system("t"),
            [(a.clone(), Role::Technician), (b.clone(), Role::Requester)],
        );
        let sql = Sql::new("WHERE ").in_scope_unless(
            &scope,
            Permission::Request,
            Permission::ReadAll,
            "tenant_id",
        );
        assert_eq!(sql.text, "WHERE tenant_id IN ($1)");
        assert_eq!(sql.args, vec![Arg::Text(b.to_string())]);
        let technician = Scope::new(Actor::system("t"), [(a, Role::Technician)]);
        let sql = Sql::new("WHERE ").in_scope_unless(
            &technician,
            Permission::Request,
            Permission::ReadAll,
            "tenant_id",
        );
        assert_eq!(sql.text, "WHERE 1 = 0");
    }

    #[test]
    fn nesting_keeps_placeholders() {
        let inner = Sql::new("SELECT id FROM t WHERE a = ").push_arg(1i64);
        let sql = inner.nest("SELECT * FROM t WHERE id IN (", ") ORDER BY id");
        assert_eq!(
            sql.text,
            "SELECT * FROM t WHERE id IN (SELECT id FROM t WHERE a = $1) ORDER BY id"
        );
        assert_eq!(sql.args, vec![Arg::Int(1)]);
    }

    #[test]
    fn scope_filter_lists_only_permitted_tenants() {
        let (a, b) = (TenantId::generate(), TenantId::generate());
        let scope = Scope::new(
            Actor::system("t"),
            [(a.clone(), Role::Auditor), (b.clone(), Role::Requester)],
        );
        let sql = Sql::new("WHERE ").in_scope(&scope, Permission::ReadAudit, "tenant_id");
        assert_eq!(sql.text, "WHERE tenant_id IN ($1)");
        assert_eq!(sql.args, vec![Arg::Text(a.to_string())]);
    }
}
