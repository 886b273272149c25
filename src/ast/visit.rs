//! Every name of a policy, with what it names: visitors over declared names
//! and references, and a mutable walk over statement lists that knows the
//! containers around each.
//!
//! The names of the fixed-shape statements come from the same table that
//! defines them (each field says what its names are); the others are
//! written out here. The resolver finds what a statement refers to through
//! this module, so a statement's names are listed once.
//!
//! Renaming a type everywhere:
//!
//! ```
//! use cilgen::ast::visit::{RefKind, VisitMut};
//! use cilgen::{Name, Ref};
//!
//! struct Rename;
//! impl VisitMut for Rename {
//!     fn declared(&mut self, name: &mut Name, kind: RefKind) {
//!         if kind == RefKind::Type && name.as_str() == "old_t" {
//!             *name = Name::new("new_t").unwrap();
//!         }
//!     }
//!     fn referenced(&mut self, name: &mut Ref, kind: RefKind) {
//!         if kind == RefKind::Type && name.as_str() == "old_t" {
//!             *name = Ref::new("new_t").unwrap();
//!         }
//!     }
//! }
//!
//! let mut policy = cilgen::parse(
//!     "(type old_t) (class old_t (read)) (allow old_t self (old_t (read)))",
//! )?;
//! policy.visit_mut(&mut Rename);
//! // The class of the same name is left alone.
//! assert_eq!(
//!     policy.to_string(),
//!     "(type new_t)\n(class old_t (read))\n(allow new_t self (old_t (read)))\n"
//! );
//! # Ok::<(), cilgen::ParseError>(())
//! ```
//!
//! Adding a rule to one block:
//!
//! ```
//! use cilgen::ast::visit::Container;
//!
//! let mut policy = cilgen::parse("(block vl (type process))")?;
//! let rule = cilgen::parse("(allow process self (tun_socket (attach_queue)))")?;
//! policy.for_each_body_mut(&mut |path, body| {
//!     if matches!(path, [Container::Block(name)] if name.as_str() == "vl") {
//!         body.extend(rule.statements.iter().cloned());
//!     }
//! });
//! assert_eq!(
//!     policy.to_string(),
//!     "(block vl\n    (type process)\n    (allow process self (tun_socket (attach_queue)))\n)\n"
//! );
//! # Ok::<(), cilgen::ParseError>(())
//! ```

use std::sync::Arc;

use super::*;

/// What a name names: the symbol table libsepol looks it up in, or what
/// else it is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum RefKind {
    /// Types, type attributes and type aliases.
    Type,
    /// Roles and role attributes.
    Role,
    /// Users and user attributes.
    User,
    /// Booleans.
    Boolean,
    /// Tunables.
    Tunable,
    /// Classes and class maps.
    Class,
    /// Permissions of a class, common or class map.
    Permission,
    /// Commons.
    Common,
    /// Named class permission sets.
    ClassPermission,
    /// Sensitivities and their aliases.
    Sensitivity,
    /// Categories, their aliases and category sets.
    Category,
    /// Named levels.
    Level,
    /// Named level ranges.
    LevelRange,
    /// Named contexts.
    Context,
    /// Initial SIDs.
    Sid,
    /// Named addresses.
    IpAddr,
    /// Named extended permission sets.
    PermissionX,
    /// Blocks.
    Block,
    /// Macros.
    Macro,
    /// Optional blocks.
    Optional,
    /// Policy capabilities.
    PolicyCap,
}

/// Sees every name: declared names and references, each with its kind,
/// borrowed for as long as the policy (`'v`). The methods do nothing
/// unless implemented.
pub trait Visit<'v> {
    /// A name a statement declares.
    fn declared(&mut self, name: &'v Name, kind: RefKind) {
        let _ = (name, kind);
    }
    /// A name a statement refers to (never the keywords `self`, `notself`
    /// and `other`).
    fn referenced(&mut self, name: &'v Ref, kind: RefKind) {
        let _ = (name, kind);
    }
    /// An argument of a `call`: what it names depends on the macro.
    fn argument(&mut self, value: &'v Value) {
        let _ = value;
    }
}

/// Sees every name and may change it. A permission list the parse shares
/// between statements is copied for the statement being visited.
pub trait VisitMut {
    /// A name a statement declares.
    fn declared(&mut self, name: &mut Name, kind: RefKind) {
        let _ = (name, kind);
    }
    /// A name a statement refers to.
    fn referenced(&mut self, name: &mut Ref, kind: RefKind) {
        let _ = (name, kind);
    }
    /// An argument of a `call`.
    fn argument(&mut self, value: &mut Value) {
        let _ = value;
    }
}

/// A value that holds names. For a statement, the names of the statement
/// itself: a container's header (a block's name, a macro's parameters), not
/// its body.
pub trait HasNames {
    /// Shows each name to `v`; `kind` is what bare names in this value
    /// name (values that know better, such as a context, ignore it).
    fn names<'v>(&'v self, kind: RefKind, v: &mut dyn Visit<'v>);
    /// Shows each name to `v`, mutably.
    fn names_mut(&mut self, kind: RefKind, v: &mut dyn VisitMut);
}

/// A container around a statement list, outermost first in a path.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Container {
    /// `(block NAME ...)`
    Block(Name),
    /// `(optional NAME ...)`
    Optional(Name),
    /// `(in NAME ...)`
    In(Ref),
    /// `(macro NAME ...)`
    Macro(Name),
    /// A branch of `booleanif` or `tunableif`.
    Branch {
        /// Which conditional.
        kind: CondKind,
        /// `true` or `false`.
        value: bool,
    },
}

impl Policy {
    /// Shows every name of every statement, containers' bodies included,
    /// in the order written.
    pub fn visit<'v>(&'v self, v: &mut dyn Visit<'v>) {
        for s in self.walk() {
            s.names(RefKind::Type, v);
        }
    }

    /// Shows every name of every statement, mutably.
    pub fn visit_mut(&mut self, v: &mut dyn VisitMut) {
        visit_list_mut(&mut self.statements, v);
    }

    /// Calls `f` with each statement list (the file's, then every
    /// container's body, depth first) and the containers around it.
    pub fn for_each_body_mut(&mut self, f: &mut dyn FnMut(&[Container], &mut Vec<Statement>)) {
        let mut path = Vec::new();
        bodies_mut(&mut self.statements, &mut path, f);
    }
}

fn visit_list_mut(list: &mut [Statement], v: &mut dyn VisitMut) {
    for s in list {
        s.names_mut(RefKind::Type, v);
        for body in s.bodies_mut() {
            visit_list_mut(body, v);
        }
    }
}

fn bodies_mut(
    list: &mut Vec<Statement>,
    path: &mut Vec<Container>,
    f: &mut dyn FnMut(&[Container], &mut Vec<Statement>),
) {
    f(path, list);
    for s in list.iter_mut() {
        let containers: Vec<(Container, &mut Vec<Statement>)> = match s {
            Statement::Block(b) => vec![(Container::Block(b.name.clone()), &mut b.body)],
            Statement::Optional(o) => vec![(Container::Optional(o.name.clone()), &mut o.body)],
            Statement::In(i) => vec![(Container::In(i.container.clone()), &mut i.body)],
            Statement::Macro(m) => vec![(Container::Macro(m.name.clone()), &mut m.body)],
            Statement::Conditional(c) => {
                let kind = c.kind;
                [(true, &mut c.if_true), (false, &mut c.if_false)]
                    .into_iter()
                    .filter_map(|(value, b)| Some((Container::Branch { kind, value }, b.as_mut()?)))
                    .collect()
            }
            _ => Vec::new(),
        };
        for (c, body) in containers {
            path.push(c);
            bodies_mut(body, path, f);
            path.pop();
        }
    }
}

impl Statement {
    /// The statement lists it holds: a container's body, a conditional's
    /// branches.
    pub fn bodies_mut(&mut self) -> Vec<&mut Vec<Statement>> {
        match self {
            Statement::Block(b) => vec![&mut b.body],
            Statement::Optional(o) => vec![&mut o.body],
            Statement::In(i) => vec![&mut i.body],
            Statement::Macro(m) => vec![&mut m.body],
            Statement::Conditional(c) => [c.if_true.as_mut(), c.if_false.as_mut()]
                .into_iter()
                .flatten()
                .collect(),
            _ => Vec::new(),
        }
    }
}

impl HasNames for Name {
    fn names<'v>(&'v self, kind: RefKind, v: &mut dyn Visit<'v>) {
        v.declared(self, kind);
    }
    fn names_mut(&mut self, kind: RefKind, v: &mut dyn VisitMut) {
        v.declared(self, kind);
    }
}

impl HasNames for Ref {
    fn names<'v>(&'v self, kind: RefKind, v: &mut dyn Visit<'v>) {
        v.referenced(self, kind);
    }
    fn names_mut(&mut self, kind: RefKind, v: &mut dyn VisitMut) {
        v.referenced(self, kind);
    }
}

impl<T: HasNames> HasNames for Vec<T> {
    fn names<'v>(&'v self, kind: RefKind, v: &mut dyn Visit<'v>) {
        self.iter().for_each(|x| x.names(kind, v));
    }
    fn names_mut(&mut self, kind: RefKind, v: &mut dyn VisitMut) {
        self.iter_mut().for_each(|x| x.names_mut(kind, v));
    }
}

impl<T: HasNames> HasNames for Option<T> {
    fn names<'v>(&'v self, kind: RefKind, v: &mut dyn Visit<'v>) {
        if let Some(x) = self {
            x.names(kind, v);
        }
    }
    fn names_mut(&mut self, kind: RefKind, v: &mut dyn VisitMut) {
        if let Some(x) = self {
            x.names_mut(kind, v);
        }
    }
}

impl<T: HasNames> HasNames for Box<T> {
    fn names<'v>(&'v self, kind: RefKind, v: &mut dyn Visit<'v>) {
        (**self).names(kind, v);
    }
    fn names_mut(&mut self, kind: RefKind, v: &mut dyn VisitMut) {
        (**self).names_mut(kind, v);
    }
}

impl HasNames for Refs {
    fn names<'v>(&'v self, kind: RefKind, v: &mut dyn Visit<'v>) {
        self.0.names(kind, v);
    }
    fn names_mut(&mut self, kind: RefKind, v: &mut dyn VisitMut) {
        self.0.names_mut(kind, v);
    }
}

impl HasNames for Term {
    fn names<'v>(&'v self, kind: RefKind, v: &mut dyn Visit<'v>) {
        match self {
            Term::Leaf(r) => v.referenced(r, kind),
            Term::Expr(e) => e.names(kind, v),
        }
    }
    fn names_mut(&mut self, kind: RefKind, v: &mut dyn VisitMut) {
        match self {
            Term::Leaf(r) => v.referenced(r, kind),
            Term::Expr(e) => e.names_mut(kind, v),
        }
    }
}

impl HasNames for Expr {
    fn names<'v>(&'v self, kind: RefKind, v: &mut dyn Visit<'v>) {
        match self {
            Expr::List(terms) => terms.names(kind, v),
            Expr::Not(a) => a.names(kind, v),
            Expr::And(a, b)
            | Expr::Or(a, b)
            | Expr::Xor(a, b)
            | Expr::Eq(a, b)
            | Expr::Neq(a, b) => {
                a.names(kind, v);
                b.names(kind, v);
            }
            Expr::Range(a, b) => {
                v.referenced(a, kind);
                v.referenced(b, kind);
            }
            Expr::All => {}
        }
    }
    fn names_mut(&mut self, kind: RefKind, v: &mut dyn VisitMut) {
        match self {
            Expr::List(terms) => terms.names_mut(kind, v),
            Expr::Not(a) => a.names_mut(kind, v),
            Expr::And(a, b)
            | Expr::Or(a, b)
            | Expr::Xor(a, b)
            | Expr::Eq(a, b)
            | Expr::Neq(a, b) => {
                a.names_mut(kind, v);
                b.names_mut(kind, v);
            }
            Expr::Range(a, b) => {
                v.referenced(a, kind);
                v.referenced(b, kind);
            }
            Expr::All => {}
        }
    }
}

/// Values without names.
macro_rules! no_names {
    ($($ty:ty),* $(,)?) => {$(
        impl HasNames for $ty {
            fn names<'v>(&'v self, _: RefKind, _: &mut dyn Visit<'v>) {}
            fn names_mut(&mut self, _: RefKind, _: &mut dyn VisitMut) {}
        }
    )*};
}

no_names!(
    bool,
    QString,
    Word,
    Number,
    NumberRange,
    IpAddress,
    FileType,
    FsUseKind,
    Protocol,
    UnknownAction,
    DefaultSide,
    RangeDefault,
    Comment,
    LineMark,
);

impl HasNames for ClassPerms {
    fn names<'v>(&'v self, _: RefKind, v: &mut dyn Visit<'v>) {
        match self {
            ClassPerms::Named(r) => v.referenced(r, RefKind::ClassPermission),
            ClassPerms::Anonymous { class, perms } => {
                v.referenced(class, RefKind::Class);
                perms.names(RefKind::Permission, v);
            }
        }
    }
    fn names_mut(&mut self, _: RefKind, v: &mut dyn VisitMut) {
        match self {
            ClassPerms::Named(r) => v.referenced(r, RefKind::ClassPermission),
            ClassPerms::Anonymous { class, perms } => {
                v.referenced(class, RefKind::Class);
                Arc::make_mut(perms).names_mut(RefKind::Permission, v);
            }
        }
    }
}

impl HasNames for Permx {
    fn names<'v>(&'v self, _: RefKind, v: &mut dyn Visit<'v>) {
        v.referenced(&self.class, RefKind::Class);
    }
    fn names_mut(&mut self, _: RefKind, v: &mut dyn VisitMut) {
        v.referenced(&mut self.class, RefKind::Class);
    }
}

impl HasNames for PermxArg {
    fn names<'v>(&'v self, _: RefKind, v: &mut dyn Visit<'v>) {
        match self {
            PermxArg::Named(r) => v.referenced(r, RefKind::PermissionX),
            PermxArg::Anonymous(p) => p.names(RefKind::Class, v),
        }
    }
    fn names_mut(&mut self, _: RefKind, v: &mut dyn VisitMut) {
        match self {
            PermxArg::Named(r) => v.referenced(r, RefKind::PermissionX),
            PermxArg::Anonymous(p) => p.names_mut(RefKind::Class, v),
        }
    }
}

impl HasNames for Categories {
    fn names<'v>(&'v self, _: RefKind, v: &mut dyn Visit<'v>) {
        self.0.names(RefKind::Category, v);
    }
    fn names_mut(&mut self, _: RefKind, v: &mut dyn VisitMut) {
        self.0.names_mut(RefKind::Category, v);
    }
}

impl HasNames for Level {
    fn names<'v>(&'v self, _: RefKind, v: &mut dyn Visit<'v>) {
        match self {
            Level::Named(r) => v.referenced(r, RefKind::Level),
            Level::Anonymous {
                sensitivity,
                categories,
            } => {
                v.referenced(sensitivity, RefKind::Sensitivity);
                categories.names(RefKind::Category, v);
            }
        }
    }
    fn names_mut(&mut self, _: RefKind, v: &mut dyn VisitMut) {
        match self {
            Level::Named(r) => v.referenced(r, RefKind::Level),
            Level::Anonymous {
                sensitivity,
                categories,
            } => {
                v.referenced(sensitivity, RefKind::Sensitivity);
                categories.names_mut(RefKind::Category, v);
            }
        }
    }
}

impl HasNames for LevelRange {
    fn names<'v>(&'v self, _: RefKind, v: &mut dyn Visit<'v>) {
        match self {
            LevelRange::Named(r) => v.referenced(r, RefKind::LevelRange),
            LevelRange::Anonymous { low, high } => {
                low.names(RefKind::Level, v);
                high.names(RefKind::Level, v);
            }
        }
    }
    fn names_mut(&mut self, _: RefKind, v: &mut dyn VisitMut) {
        match self {
            LevelRange::Named(r) => v.referenced(r, RefKind::LevelRange),
            LevelRange::Anonymous { low, high } => {
                low.names_mut(RefKind::Level, v);
                high.names_mut(RefKind::Level, v);
            }
        }
    }
}

impl HasNames for Context {
    fn names<'v>(&'v self, _: RefKind, v: &mut dyn Visit<'v>) {
        match self {
            Context::Named(r) => v.referenced(r, RefKind::Context),
            Context::Anonymous {
                user,
                role,
                ty,
                range,
            } => {
                v.referenced(user, RefKind::User);
                v.referenced(role, RefKind::Role);
                v.referenced(ty, RefKind::Type);
                range.names(RefKind::LevelRange, v);
            }
        }
    }
    fn names_mut(&mut self, _: RefKind, v: &mut dyn VisitMut) {
        match self {
            Context::Named(r) => v.referenced(r, RefKind::Context),
            Context::Anonymous {
                user,
                role,
                ty,
                range,
            } => {
                v.referenced(user, RefKind::User);
                v.referenced(role, RefKind::Role);
                v.referenced(ty, RefKind::Type);
                range.names_mut(RefKind::LevelRange, v);
            }
        }
    }
}

impl HasNames for IpArg {
    fn names<'v>(&'v self, _: RefKind, v: &mut dyn Visit<'v>) {
        if let IpArg::Named(r) = self {
            v.referenced(r, RefKind::IpAddr);
        }
    }
    fn names_mut(&mut self, _: RefKind, v: &mut dyn VisitMut) {
        if let IpArg::Named(r) = self {
            v.referenced(r, RefKind::IpAddr);
        }
    }
}

/// What the names on the right of a comparison name, by its left operand.
fn operand_kind(left: Operand) -> Option<RefKind> {
    match left {
        Operand::U1 | Operand::U2 | Operand::U3 => Some(RefKind::User),
        Operand::R1 | Operand::R2 | Operand::R3 => Some(RefKind::Role),
        Operand::T1 | Operand::T2 | Operand::T3 => Some(RefKind::Type),
        Operand::L1 | Operand::L2 | Operand::H1 | Operand::H2 => None,
    }
}

impl HasNames for ConstraintExpr {
    fn names<'v>(&'v self, _: RefKind, v: &mut dyn Visit<'v>) {
        // Depth is bounded by the parser's tree limit.
        match self {
            ConstraintExpr::And(a, b) | ConstraintExpr::Or(a, b) => {
                a.names(RefKind::Type, v);
                b.names(RefKind::Type, v);
            }
            ConstraintExpr::Not(a) => a.names(RefKind::Type, v),
            ConstraintExpr::Compare { left, right, .. } => {
                let Some(kind) = operand_kind(*left) else {
                    return;
                };
                match right {
                    Rhs::Operand(_) => {}
                    Rhs::Name(r) => v.referenced(r, kind),
                    Rhs::Names(rs) => rs.names(kind, v),
                }
            }
        }
    }
    fn names_mut(&mut self, _: RefKind, v: &mut dyn VisitMut) {
        match self {
            ConstraintExpr::And(a, b) | ConstraintExpr::Or(a, b) => {
                a.names_mut(RefKind::Type, v);
                b.names_mut(RefKind::Type, v);
            }
            ConstraintExpr::Not(a) => a.names_mut(RefKind::Type, v),
            ConstraintExpr::Compare { left, right, .. } => {
                let Some(kind) = operand_kind(*left) else {
                    return;
                };
                match right {
                    Rhs::Operand(_) => {}
                    Rhs::Name(r) => v.referenced(r, kind),
                    Rhs::Names(rs) => rs.names_mut(kind, v),
                }
            }
        }
    }
}

/// A rule's target: `self`, `notself` and `other` are keywords, not names.
fn target_is_name(r: &Ref) -> bool {
    !matches!(r.as_str(), "self" | "notself" | "other")
}

impl HasNames for AvRule {
    fn names<'v>(&'v self, _: RefKind, v: &mut dyn Visit<'v>) {
        v.referenced(&self.source, RefKind::Type);
        if target_is_name(&self.target) {
            v.referenced(&self.target, RefKind::Type);
        }
        self.classperms.names(RefKind::Class, v);
    }
    fn names_mut(&mut self, _: RefKind, v: &mut dyn VisitMut) {
        v.referenced(&mut self.source, RefKind::Type);
        if target_is_name(&self.target) {
            v.referenced(&mut self.target, RefKind::Type);
        }
        self.classperms.names_mut(RefKind::Class, v);
    }
}

impl HasNames for AvRuleX {
    fn names<'v>(&'v self, _: RefKind, v: &mut dyn Visit<'v>) {
        v.referenced(&self.source, RefKind::Type);
        if target_is_name(&self.target) {
            v.referenced(&self.target, RefKind::Type);
        }
        self.permx.names(RefKind::PermissionX, v);
    }
    fn names_mut(&mut self, _: RefKind, v: &mut dyn VisitMut) {
        v.referenced(&mut self.source, RefKind::Type);
        if target_is_name(&self.target) {
            v.referenced(&mut self.target, RefKind::Type);
        }
        self.permx.names_mut(RefKind::PermissionX, v);
    }
}

impl HasNames for TypeTransition {
    fn names<'v>(&'v self, _: RefKind, v: &mut dyn Visit<'v>) {
        v.referenced(&self.source, RefKind::Type);
        v.referenced(&self.target, RefKind::Type);
        v.referenced(&self.class, RefKind::Class);
        v.referenced(&self.result, RefKind::Type);
    }
    fn names_mut(&mut self, _: RefKind, v: &mut dyn VisitMut) {
        v.referenced(&mut self.source, RefKind::Type);
        v.referenced(&mut self.target, RefKind::Type);
        v.referenced(&mut self.class, RefKind::Class);
        v.referenced(&mut self.result, RefKind::Type);
    }
}

impl HasNames for ClassOrder {
    fn names<'v>(&'v self, _: RefKind, v: &mut dyn Visit<'v>) {
        self.classes.names(RefKind::Class, v);
    }
    fn names_mut(&mut self, _: RefKind, v: &mut dyn VisitMut) {
        self.classes.names_mut(RefKind::Class, v);
    }
}

impl HasNames for Block {
    fn names<'v>(&'v self, _: RefKind, v: &mut dyn Visit<'v>) {
        v.declared(&self.name, RefKind::Block);
    }
    fn names_mut(&mut self, _: RefKind, v: &mut dyn VisitMut) {
        v.declared(&mut self.name, RefKind::Block);
    }
}

impl HasNames for Optional {
    fn names<'v>(&'v self, _: RefKind, v: &mut dyn Visit<'v>) {
        v.declared(&self.name, RefKind::Optional);
    }
    fn names_mut(&mut self, _: RefKind, v: &mut dyn VisitMut) {
        v.declared(&mut self.name, RefKind::Optional);
    }
}

impl HasNames for In {
    fn names<'v>(&'v self, _: RefKind, v: &mut dyn Visit<'v>) {
        v.referenced(&self.container, RefKind::Block);
    }
    fn names_mut(&mut self, _: RefKind, v: &mut dyn VisitMut) {
        v.referenced(&mut self.container, RefKind::Block);
    }
}

/// What a macro parameter's name stands for in the body.
pub fn param_kind(kind: ParamKind) -> Option<RefKind> {
    Some(match kind {
        ParamKind::Type => RefKind::Type,
        ParamKind::Role => RefKind::Role,
        ParamKind::User => RefKind::User,
        ParamKind::Sensitivity => RefKind::Sensitivity,
        ParamKind::Category | ParamKind::CategorySet => RefKind::Category,
        ParamKind::Level => RefKind::Level,
        ParamKind::LevelRange => RefKind::LevelRange,
        ParamKind::Class | ParamKind::ClassMap => RefKind::Class,
        ParamKind::IpAddr => RefKind::IpAddr,
        ParamKind::ClassPermission => RefKind::ClassPermission,
        ParamKind::Boolean => RefKind::Boolean,
        ParamKind::String | ParamKind::Name => return None,
    })
}

impl HasNames for Macro {
    /// The macro's name, then each parameter's name with the kind it
    /// stands for (`string` and `name` parameters are not shown: they
    /// name no symbol).
    fn names<'v>(&'v self, _: RefKind, v: &mut dyn Visit<'v>) {
        v.declared(&self.name, RefKind::Macro);
        for p in &self.params {
            if let Some(kind) = param_kind(p.kind) {
                v.declared(&p.name, kind);
            }
        }
    }
    fn names_mut(&mut self, _: RefKind, v: &mut dyn VisitMut) {
        v.declared(&mut self.name, RefKind::Macro);
        for p in &mut self.params {
            if let Some(kind) = param_kind(p.kind) {
                v.declared(&mut p.name, kind);
            }
        }
    }
}

impl HasNames for Call {
    fn names<'v>(&'v self, _: RefKind, v: &mut dyn Visit<'v>) {
        v.referenced(&self.name, RefKind::Macro);
        self.args.iter().for_each(|a| v.argument(a));
    }
    fn names_mut(&mut self, _: RefKind, v: &mut dyn VisitMut) {
        v.referenced(&mut self.name, RefKind::Macro);
        self.args.iter_mut().for_each(|a| v.argument(a));
    }
}

impl HasNames for Conditional {
    fn names<'v>(&'v self, _: RefKind, v: &mut dyn Visit<'v>) {
        let kind = match self.kind {
            CondKind::Boolean => RefKind::Boolean,
            CondKind::Tunable => RefKind::Tunable,
        };
        self.condition.names(kind, v);
    }
    fn names_mut(&mut self, _: RefKind, v: &mut dyn VisitMut) {
        let kind = match self.kind {
            CondKind::Boolean => RefKind::Boolean,
            CondKind::Tunable => RefKind::Tunable,
        };
        self.condition.names_mut(kind, v);
    }
}

impl HasNames for FileCon {
    fn names<'v>(&'v self, _: RefKind, v: &mut dyn Visit<'v>) {
        self.context.names(RefKind::Context, v);
    }
    fn names_mut(&mut self, _: RefKind, v: &mut dyn VisitMut) {
        self.context.names_mut(RefKind::Context, v);
    }
}

impl HasNames for GenFsCon {
    fn names<'v>(&'v self, _: RefKind, v: &mut dyn Visit<'v>) {
        self.context.names(RefKind::Context, v);
    }
    fn names_mut(&mut self, _: RefKind, v: &mut dyn VisitMut) {
        self.context.names_mut(RefKind::Context, v);
    }
}

impl HasNames for DefaultRange {
    fn names<'v>(&'v self, _: RefKind, v: &mut dyn Visit<'v>) {
        self.classes.names(RefKind::Class, v);
    }
    fn names_mut(&mut self, _: RefKind, v: &mut dyn VisitMut) {
        self.classes.names_mut(RefKind::Class, v);
    }
}
