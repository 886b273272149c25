//! Statement arguments: how each kind of value is read and printed.

use super::{Checked, Cx};
use crate::ast::names::OPERATOR_WORDS;
use crate::ast::{
    AvKind, AvxKind, ClassPerms, Expr, Name, Permx, PermxArg, PermxKind, PermxValue, QString, Ref,
    Term, Value,
};
use crate::error::{DResult, Diag, ErrorKind, NameError};
use crate::print::Printer;
use crate::span::Span;

/// One argument kind.
pub(crate) trait Arg: Sized {
    /// May be left out (only as the last arguments).
    const OPTIONAL: bool = false;

    fn parse(cx: &Cx<'_, '_>, i: usize) -> DResult<Self>;

    fn parse_slot(cx: &Cx<'_, '_>, i: Option<usize>, stmt: Span) -> DResult<Self> {
        match i {
            Some(i) => Self::parse(cx, i),
            None => Err(Diag::new(
                ErrorKind::Invalid("missing argument".into()),
                stmt,
            )),
        }
    }

    fn print(&self, p: &mut Printer);
}

impl<T: Arg> Arg for Option<T> {
    const OPTIONAL: bool = true;

    fn parse(cx: &Cx<'_, '_>, i: usize) -> DResult<Self> {
        T::parse(cx, i).map(Some)
    }

    fn parse_slot(cx: &Cx<'_, '_>, i: Option<usize>, _: Span) -> DResult<Self> {
        i.map(|i| T::parse(cx, i)).transpose()
    }

    fn print(&self, p: &mut Printer) {
        if let Some(v) = self {
            v.print(p);
        }
    }
}

fn atom<'a>(cx: &Cx<'_, 'a>, i: usize, what: &'static str) -> DResult<&'a str> {
    cx.atom(i).ok_or_else(|| cx.expected(what, i))
}

impl Arg for Name {
    /// A declared name is not interned: most are declared once, so a
    /// shared copy would only cost a lookup that misses and a table entry
    /// (a third of the time of a file of a million declarations).
    fn parse(cx: &Cx<'_, '_>, i: usize) -> DResult<Self> {
        let s = atom(cx, i, "a name")?;
        Ok(Name::from_sym(cx.declared(s, i)?))
    }

    fn print(&self, p: &mut Printer) {
        p.word(self.as_str());
    }
}

impl Arg for Ref {
    fn parse(cx: &Cx<'_, '_>, i: usize) -> DResult<Self> {
        let s = atom(cx, i, "a name")?;
        Ok(Ref::from_sym(cx.intern(s, Checked::Ref, i)?))
    }

    fn print(&self, p: &mut Printer) {
        p.word(self.as_str());
    }
}

/// Fields typed `QString` are strings by meaning (paths, object names) and
/// always print quoted.
impl Arg for QString {
    fn parse(cx: &Cx<'_, '_>, i: usize) -> DResult<Self> {
        let s = atom(cx, i, "a string")?;
        Ok(QString::from_sym(cx.intern(s, Checked::QString, i)?))
    }

    fn print(&self, p: &mut Printer) {
        p.quoted(self.as_str());
    }
}

impl Arg for bool {
    fn parse(cx: &Cx<'_, '_>, i: usize) -> DResult<Self> {
        match cx.atom(i) {
            Some("true") => Ok(true),
            Some("false") => Ok(false),
            _ => Err(cx.expected("`true` or `false`", i)),
        }
    }

    fn print(&self, p: &mut Printer) {
        p.word(if *self { "true" } else { "false" });
    }
}

/// A parenthesized list of names: `(read write)`.
impl<T: Arg + ListItem> Arg for Vec<T> {
    fn parse(cx: &Cx<'_, '_>, i: usize) -> DResult<Self> {
        if !cx.is_list(i) {
            return Err(cx.expected(T::LIST, i));
        }
        let items = cx.items(i)?;
        let mut out = Vec::with_capacity(items.len());
        for &c in items.iter() {
            out.push(T::parse(cx, c)?);
        }
        Ok(out)
    }

    fn print(&self, p: &mut Printer) {
        p.open();
        for item in self {
            item.print(p);
        }
        p.close();
    }
}

/// What a list of these is called in messages.
pub(crate) trait ListItem {
    const LIST: &'static str;
}

impl ListItem for Name {
    const LIST: &'static str = "a list of names";
}

impl ListItem for Ref {
    const LIST: &'static str = "a list of names";
}

impl Arg for ClassPerms {
    fn parse(cx: &Cx<'_, '_>, i: usize) -> DResult<Self> {
        const WHAT: &str = "a classpermission name or (CLASS (PERMS...))";
        if !cx.is_list(i) {
            return Ref::parse(cx, i).map(ClassPerms::Named);
        }
        let items = cx.items(i)?;
        match &*items {
            [class, perms] if !cx.is_list(*class) && cx.is_list(*perms) => {
                Ok(ClassPerms::Anonymous {
                    class: Ref::parse(cx, *class)?,
                    perms: cx.shared_perms(*perms)?,
                })
            }
            _ => Err(cx.expected(WHAT, i)),
        }
    }

    fn print(&self, p: &mut Printer) {
        match self {
            ClassPerms::Named(r) => r.print(p),
            ClassPerms::Anonymous { class, perms } => {
                p.open();
                class.print(p);
                print_expr(perms, p);
                p.close();
            }
        }
    }
}

impl Arg for Permx {
    fn parse(cx: &Cx<'_, '_>, i: usize) -> DResult<Self> {
        const WHAT: &str = "(ioctl|nlmsg CLASS (VALUES...))";
        if !cx.is_list(i) {
            return Err(cx.expected(WHAT, i));
        }
        let items = cx.items(i)?;
        let [kind, class, values] = &*items else {
            return Err(cx.expected(WHAT, i));
        };
        let kind = match cx.atom(*kind) {
            Some("ioctl") => PermxKind::Ioctl,
            Some("nlmsg") => PermxKind::Nlmsg,
            _ => return Err(cx.expected("`ioctl` or `nlmsg`", *kind)),
        };
        if !cx.is_list(*values) {
            return Err(cx.expected("a parenthesized list of values", *values));
        }
        Ok(Permx {
            kind,
            class: Ref::parse(cx, *class)?,
            values: expr(cx, *values, Flavor::Permx)?,
        })
    }

    fn print(&self, p: &mut Printer) {
        p.open();
        p.word(self.kind.keyword());
        self.class.print(p);
        print_expr(&self.values, p);
        p.close();
    }
}

impl Arg for PermxArg {
    fn parse(cx: &Cx<'_, '_>, i: usize) -> DResult<Self> {
        if cx.is_list(i) {
            Permx::parse(cx, i).map(PermxArg::Anonymous)
        } else {
            Ref::parse(cx, i).map(PermxArg::Named)
        }
    }

    fn print(&self, p: &mut Printer) {
        match self {
            PermxArg::Named(r) => r.print(p),
            PermxArg::Anonymous(x) => x.print(p),
        }
    }
}

/// A name or expression of types, roles or permissions.
impl Arg for Term {
    fn parse(cx: &Cx<'_, '_>, i: usize) -> DResult<Self> {
        term(cx, i, Flavor::Set)
    }

    fn print(&self, p: &mut Printer) {
        print_term(self, p);
    }
}

impl Arg for Value {
    fn parse(cx: &Cx<'_, '_>, i: usize) -> DResult<Self> {
        if cx.is_list(i) {
            let items = cx.items(i)?;
            let mut values = Vec::with_capacity(items.len());
            for &c in items.iter() {
                values.push(Value::parse(cx, c)?);
            }
            return Ok(Value::List(values));
        }
        QString::parse(cx, i).map(Value::Atom)
    }

    fn print(&self, p: &mut Printer) {
        match self {
            Value::Atom(s) => p.atom(s.as_str()),
            Value::List(items) => {
                p.open();
                for v in items {
                    v.print(p);
                }
                p.close();
            }
        }
    }
}

impl ListItem for Value {
    const LIST: &'static str = "a list of arguments";
}

impl AvKind {
    pub(crate) fn from_keyword(s: &str) -> Option<AvKind> {
        Some(match s {
            "allow" => AvKind::Allow,
            "auditallow" => AvKind::AuditAllow,
            "dontaudit" => AvKind::DontAudit,
            "neverallow" => AvKind::NeverAllow,
            "deny" => AvKind::Deny,
            _ => return None,
        })
    }
}

impl AvxKind {
    pub(crate) fn from_keyword(s: &str) -> Option<AvxKind> {
        Some(match s {
            "allowx" => AvxKind::Allow,
            "auditallowx" => AvxKind::AuditAllow,
            "dontauditx" => AvxKind::DontAudit,
            "neverallowx" => AvxKind::NeverAllow,
            _ => return None,
        })
    }
}

/// Which operators an expression may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flavor {
    /// Types, roles, users, permissions: `and or xor not all`.
    Set,
    /// Boolean and tunable conditions: `and or xor not eq neq`.
    Bool,
    /// Categories: `and or xor not all range`.
    #[allow(dead_code)]
    Cat,
    /// Extended-permission values: `and or xor not all range`.
    Permx,
}

impl Flavor {
    fn allows(self, op: &str) -> bool {
        match op {
            "and" | "or" | "xor" | "not" => true,
            "all" => self != Flavor::Bool,
            "eq" | "neq" => self == Flavor::Bool,
            "range" => matches!(self, Flavor::Cat | Flavor::Permx),
            _ => false,
        }
    }
}

/// An expression leaf.
pub(crate) trait Leaf: Sized {
    fn parse_leaf(cx: &Cx<'_, '_>, i: usize) -> DResult<Self>;
    fn print_leaf(&self, p: &mut Printer);
}

impl Leaf for Ref {
    fn parse_leaf(cx: &Cx<'_, '_>, i: usize) -> DResult<Self> {
        atom(cx, i, "a name")?;
        Ref::parse(cx, i)
    }

    fn print_leaf(&self, p: &mut Printer) {
        p.word(self.as_str());
    }
}

impl Leaf for PermxValue {
    fn parse_leaf(cx: &Cx<'_, '_>, i: usize) -> DResult<Self> {
        let s = atom(cx, i, "a number")?;
        PermxValue::parse(s).ok_or_else(|| {
            cx.name_error(
                NameError::Value {
                    message: format!(
                        "`{s}` is not an extended permission value (decimal, 0x hex or 0 octal, at most 0xffff)"
                    ),
                },
                i,
            )
        })
    }

    fn print_leaf(&self, p: &mut Printer) {
        p.display(self);
    }
}

/// A name or a parenthesized expression.
pub(crate) fn term<L: Leaf>(cx: &Cx<'_, '_>, i: usize, flavor: Flavor) -> DResult<Term<L>> {
    if cx.is_list(i) {
        return expr(cx, i, flavor).map(Term::from);
    }
    // Outside the operator's place, libsepol refuses every operator word,
    // whatever the expression ("Operator (all) not in an expression"), even
    // where a name of that kind may be spelt so (a boolean named `all`).
    if let Some(s) = cx.atom(i).filter(|s| OPERATOR_WORDS.contains(s)) {
        return Err(Diag::new(
            ErrorKind::Invalid(format!(
                "operator `{s}` must come first in its parenthesized expression"
            )),
            cx.span(i),
        ));
    }
    L::parse_leaf(cx, i).map(Term::Leaf)
}

/// A parenthesized expression.
pub(crate) fn expr<L: Leaf>(cx: &Cx<'_, '_>, i: usize, flavor: Flavor) -> DResult<Expr<L>> {
    let items = cx.items(i)?;
    let Some(&first) = items.first() else {
        return Err(Diag::new(
            ErrorKind::Invalid("empty expression `()`".into()),
            cx.span(i),
        ));
    };
    let op = cx.atom(first).filter(|s| OPERATOR_WORDS.contains(s));
    let Some(op) = op else {
        let mut terms = Vec::with_capacity(items.len());
        for &c in items.iter() {
            terms.push(term(cx, c, flavor)?);
        }
        return Ok(Expr::List(terms));
    };
    if !flavor.allows(op) {
        return Err(Diag::new(
            ErrorKind::Invalid(format!("operator `{op}` is not allowed in this expression")),
            cx.span(first),
        ));
    }
    let operands = &items[1..];
    let want = match op {
        "all" => 0,
        "not" => 1,
        _ => 2,
    };
    if operands.len() != want {
        return Err(Diag::new(
            ErrorKind::Invalid(format!(
                "operator `{op}` takes {want} operand{}, found {}",
                if want == 1 { "" } else { "s" },
                operands.len()
            )),
            cx.span(i),
        ));
    }
    let t = |k: usize| term(cx, operands[k], flavor).map(Box::new);
    Ok(match op {
        "all" => Expr::All,
        "not" => Expr::Not(t(0)?),
        "and" => Expr::And(t(0)?, t(1)?),
        "or" => Expr::Or(t(0)?, t(1)?),
        "xor" => Expr::Xor(t(0)?, t(1)?),
        "eq" => Expr::Eq(t(0)?, t(1)?),
        "neq" => Expr::Neq(t(0)?, t(1)?),
        _ => Expr::Range(
            L::parse_leaf(cx, operands[0])?,
            L::parse_leaf(cx, operands[1])?,
        ),
    })
}

pub(crate) fn print_term<L: Leaf>(t: &Term<L>, p: &mut Printer) {
    match t {
        Term::Leaf(l) => l.print_leaf(p),
        Term::Expr(e) => print_expr(e, p),
    }
}

pub(crate) fn print_expr<L: Leaf>(e: &Expr<L>, p: &mut Printer) {
    p.open();
    match e {
        Expr::List(items) => items.iter().for_each(|t| print_term(t, p)),
        Expr::All => p.word("all"),
        Expr::Not(a) => {
            p.word("not");
            print_term(a, p);
        }
        Expr::And(a, b) | Expr::Or(a, b) | Expr::Xor(a, b) | Expr::Eq(a, b) | Expr::Neq(a, b) => {
            p.word(e.operator().unwrap_or_default());
            print_term(a, p);
            print_term(b, p);
        }
        Expr::Range(a, b) => {
            p.word("range");
            a.print_leaf(p);
            b.print_leaf(p);
        }
    }
    p.close();
}
