//! What a policy means: names resolved in their namespaces, optionals
//! decided, tunables decided, attributes expanded, and every access-vector
//! rule with where it came from.
//!
//! This is the first layer of resolution. It follows libsepol's rules for
//! what it covers: declarations in the global namespace and in blocks
//! (names are looked up in the statement's block, then its enclosing
//! blocks, then the global namespace; a leading `.` starts at the global
//! namespace); `optional` blocks, disabled, with the reason kept, when a
//! name inside does not resolve (and again, until nothing changes, since a
//! disabled optional takes its declarations with it); `tunableif` decided
//! by its tunables; `booleanif` rules kept with their condition; type
//! aliases; type and role attribute expressions (`and or xor not all`);
//! classes, commons, class permissions and class maps; `in` (its
//! statements join the block), `blockinherit` (the block's contents are
//! collected again in the inheriting block; names not found around the
//! copy are looked up around the original) and `blockabstract`; macros and
//! calls (the macro's body is collected at the call: names it declares go
//! to the call's namespace, parameters stand for the call's arguments,
//! named or written in place, such as a class permission
//! `(file (read))`, other names are looked up from the macro's namespace;
//! a call with too few or too many arguments, a list for a parameter that
//! takes a name, or a macro called inside its own expansion is refused).
//! The model holds access-vector rules (permissions expanded per class,
//! class maps through their mappings), type transitions, changes and
//! members, and extended-permission rules (values expanded to ranges),
//! each with its origin. Every problem is a
//! [`Diagnostic`] with its code and related
//! places ([`Unresolved::to_diagnostic`], [`OptionalBlock::to_diagnostic`]).
//!
//! ```
//! use cilgen::resolve::{resolve, Input};
//!
//! let base = cilgen::parse("
//!     (class file (read write))
//!     (classorder (file))
//!     (type a_t) (type b_t)
//!     (typeattribute readers)
//!     (typeattributeset readers (a_t))
//!     (allow readers b_t (file (read)))
//!     (optional needs_c (allow a_t c_t (file (write))))
//! ")?;
//! let model = resolve(&[Input::new("base.cil", &base)]);
//! assert!(model.diagnostics.is_empty());
//! assert_eq!(model.allowed("a_t", "b_t", "file"), ["read"].into_iter().map(String::from).collect());
//! // The optional names a type that does not exist: it is dropped, and why is kept.
//! assert_eq!(model.disabled_optionals()[0].name, "needs_c");
//! # Ok::<(), cilgen::ParseError>(())
//! ```

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::RangeInclusive;

use crate::ast::visit::{HasNames, RefKind, Visit};
use crate::ast::*;
use crate::diagnostic::{Code, Diagnostic, Label, Pointer, SourceFile};
use crate::span::Span;

mod neverallow;
mod tree;
pub use neverallow::Violation;
use tree::{Found, NodeId, Tree};

/// A resolved name: shared, so the model's many copies of one name cost
/// no allocation.
pub type Sym = std::sync::Arc<str>;

/// One file of the policy.
#[derive(Clone, Copy, Debug)]
pub struct Input<'a> {
    /// Its name, for provenance.
    pub file: &'a str,
    /// Its statements.
    pub policy: &'a Policy,
}

impl<'a> Input<'a> {
    /// A file and its parsed policy.
    pub fn new(file: &'a str, policy: &'a Policy) -> Input<'a> {
        Input { file, policy }
    }
}

/// The symbol table a name lives in, as libsepol's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum SymbolKind {
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
    /// Commons.
    Common,
    /// Named class-permission sets.
    ClassPermission,
    /// Sensitivities and their aliases.
    Sensitivity,
    /// Categories, category aliases and category sets.
    Category,
    /// Named levels.
    Level,
    /// Named level ranges.
    LevelRange,
    /// Named contexts.
    Context,
    /// Initial SIDs.
    Sid,
    /// Named ip addresses.
    IpAddr,
    /// Named extended permission sets.
    PermissionX,
    /// Blocks (for `blockinherit` and `in`).
    Block,
    /// Macros (for `call`).
    Macro,
}

/// What a declaration declares.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DeclKind {
    /// `type`
    Type,
    /// `typeattribute`
    TypeAttribute,
    /// `typealias`
    TypeAlias,
    /// `role`
    Role,
    /// `roleattribute`
    RoleAttribute,
    /// `user`
    User,
    /// `userattribute`
    UserAttribute,
    /// `boolean`
    Boolean,
    /// `tunable`
    Tunable,
    /// `class`
    Class,
    /// `classmap`
    ClassMap,
    /// `common`
    Common,
    /// `classpermission`
    ClassPermission,
    /// Any other declaration.
    Other,
}

/// A declaration, with its full (dotted) name.
#[derive(Clone, Debug)]
pub struct Decl {
    /// Its full name: `virt_launcher.process`.
    pub name: Sym,
    /// What it declares.
    pub kind: DeclKind,
    /// The file it is in (index into the inputs).
    pub file: usize,
    /// Where.
    pub span: Span,
    opt: Option<usize>,
}

/// An `optional` block and, if it was dropped, why.
#[derive(Clone, Debug)]
pub struct OptionalBlock {
    /// Its full name.
    pub name: String,
    /// The file it is in.
    pub file: usize,
    /// Where.
    pub span: Span,
    /// The first name that did not resolve inside it, when it is dropped.
    pub disabled_by: Option<String>,
    /// That name's statement, when it is dropped.
    pub disabled_at: Option<Unresolved>,
    parent: Option<usize>,
}

/// Where a rule came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    /// The file (index into the inputs).
    pub file: usize,
    /// The statement.
    pub span: Span,
    /// The calls, inherits and `in` statements that put it there,
    /// outermost first.
    pub via: Vec<Via>,
}

/// One step of a rule's provenance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Via {
    /// `call NAME`, `blockinherit NAME` or `in NAME` (and, closing the
    /// chain of a recursive call's diagnostic, `macro NAME`).
    pub what: String,
    /// The file of that statement.
    pub file: usize,
    /// That statement.
    pub span: Span,
}

/// The target of an expanded rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RuleTarget {
    /// A type or attribute, by full name.
    Name(Sym),
    /// `self`
    SelfTarget,
    /// `notself`
    NotSelf,
    /// `other`
    Other,
}

/// An access-vector rule with its names resolved and its permissions
/// expanded per class.
#[derive(Clone, Debug)]
pub struct Rule {
    /// Which rule.
    pub kind: AvKind,
    /// The source type or attribute, by full name.
    pub source: Sym,
    /// The target.
    pub target: RuleTarget,
    /// Class and permissions (a class permission set can name several).
    /// Rules that write the same permission list share one set.
    pub perms: PermsPerClass,
    /// For a rule inside `booleanif`: the condition as written, and the
    /// branch (`true` or `false`).
    pub condition: Option<(String, bool)>,
    /// Where it was written.
    pub origin: Origin,
}

/// Which type rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TypeRuleKind {
    /// `typetransition`
    Transition,
    /// `typechange`
    Change,
    /// `typemember`
    Member,
}

/// A type rule with its names resolved (aliases to their types).
#[derive(Clone, Debug)]
pub struct TypeRule {
    /// Which rule.
    pub kind: TypeRuleKind,
    /// The source type or attribute.
    pub source: Sym,
    /// The target.
    pub target: RuleTarget,
    /// The object class.
    pub class: Sym,
    /// For a name-based transition, the object's name.
    pub object_name: Option<String>,
    /// The type the object (or process) gets.
    pub result: Sym,
    /// For a rule inside `booleanif`: its condition and branch.
    pub condition: Option<(String, bool)>,
    /// Where it was written.
    pub origin: Origin,
}

/// An extended-permission rule (`allowx`, `auditallowx`, `dontauditx`,
/// `neverallowx`) with its names resolved and its values expanded.
#[derive(Clone, Debug)]
pub struct XpermRule {
    /// Which rule.
    pub kind: AvxKind,
    /// The source type or attribute.
    pub source: Sym,
    /// The target.
    pub target: RuleTarget,
    /// The class.
    pub class: Sym,
    /// `ioctl` or `nlmsg`.
    pub xkind: PermxKind,
    /// The values, as sorted, disjoint ranges.
    pub values: Vec<RangeInclusive<u16>>,
    /// For a rule inside `booleanif`: its condition and branch.
    pub condition: Option<(String, bool)>,
    /// Where it was written.
    pub origin: Origin,
}

/// A name that does not resolve, outside any optional; or a statement
/// that cannot be expanded (`in` or `blockinherit` of no block, `call` of
/// no macro, expansions nested too deep).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unresolved {
    /// What kind of problem: [`Code::Unresolved`],
    /// [`Code::UnresolvedPermission`], [`Code::MissingBlock`],
    /// [`Code::MissingMacro`], [`Code::Recursive`] or [`Code::BadArgument`].
    pub code: Code,
    /// The name as written (for a permission, `CLASS.PERM` with the
    /// class's full name).
    pub name: String,
    /// What it should have been.
    pub kind: SymbolKind,
    /// The file.
    pub file: usize,
    /// The statement.
    pub span: Span,
    /// The token in the statement.
    pub pointer: Pointer,
    /// The calls, inherits and `in` statements that put the statement
    /// there, outermost first.
    pub via: Vec<Via>,
}

impl Unresolved {
    fn new(code: Code, name: String, kind: SymbolKind, file: usize, span: Span) -> Unresolved {
        let pointer = match code {
            Code::Unresolved | Code::MissingBlock => Pointer::Atom(name.clone()),
            Code::MissingMacro => Pointer::Arg(0),
            _ => Pointer::Keyword,
        };
        Unresolved {
            code,
            name,
            kind,
            file,
            span,
            pointer,
            via: Vec::new(),
        }
    }

    /// What is wrong, in words.
    pub fn message(&self) -> String {
        match self.code {
            Code::UnresolvedPermission => match self.name.rsplit_once('.') {
                Some((class, perm)) => format!("class `{class}` has no permission `{perm}`"),
                None => format!("no permission `{}`", self.name),
            },
            Code::MissingBlock => format!("there is no block `{}`", self.name),
            Code::MissingMacro => format!("there is no macro `{}`", self.name),
            Code::Recursive => format!(
                "`{}` is inside its own expansion: libsepol refuses recursion",
                self.name
            ),
            Code::BadArgument | Code::Duplicate => self.name.clone(),
            _ => format!(
                "`{}` does not resolve ({} was expected)",
                self.name,
                self.kind.describe()
            ),
        }
    }

    /// The diagnostic: the token that does not resolve, and each call,
    /// inherit or `in` that put its statement there as a related place.
    pub fn to_diagnostic(&self) -> Diagnostic {
        let label = match (self.code, &self.pointer) {
            (Code::Unresolved, _) => "not declared",
            (Code::UnresolvedPermission, _) => "not a permission of this class",
            (Code::BadArgument, Pointer::Path(_)) => "this argument",
            (Code::BadArgument, _) => "called here",
            _ => "",
        };
        let mut d = Diagnostic::new(
            self.code,
            self.message(),
            Label::new(self.file, self.span, self.pointer.clone(), label),
        );
        for v in self.via.iter().rev() {
            let text = match v.what.strip_prefix("macro ") {
                Some(name) => format!("macro `{name}` is declared here"),
                None => format!("expanded by this `{}`", v.what),
            };
            let name = v.what.rsplit(' ').next().unwrap_or_default();
            d = d.related(Label::new(
                v.file,
                v.span,
                Pointer::Atom(name.to_string()),
                text,
            ));
        }
        d
    }

    /// `file:line:col: error[CODE]: message` and the source, against the
    /// text of its file (related places in other files are left out: use
    /// [`to_diagnostic`](Unresolved::to_diagnostic) with every file).
    pub fn render(&self, src: &str, file: &str) -> String {
        let mut d = self.to_diagnostic();
        d.primary.file = 0;
        let own = self.file;
        d.related.retain(|r| r.file == own);
        for r in &mut d.related {
            r.file = 0;
        }
        d.render(&[SourceFile::new(file, src)])
    }
}

impl OptionalBlock {
    /// For a dropped optional: a warning at the name that did not resolve,
    /// with the optional and the expansions that put the statement there
    /// as related places. `None` for an enabled optional.
    pub fn to_diagnostic(&self) -> Option<Diagnostic> {
        let at = self.disabled_at.as_ref()?;
        let mut d = at.to_diagnostic();
        d.code = Code::DroppedOptional;
        d.severity = Code::DroppedOptional.severity();
        d.message = format!(
            "optional `{}` would be dropped without a message: {}",
            self.name,
            at.message()
        );
        d.related.insert(
            0,
            Label::new(
                self.file,
                self.span,
                Pointer::Keyword,
                "this optional is dropped",
            ),
        );
        Some(d)
    }
}

impl SymbolKind {
    /// What a name of this table is, in words.
    pub fn describe(self) -> &'static str {
        match self {
            SymbolKind::Type => "a type or type attribute",
            SymbolKind::Role => "a role",
            SymbolKind::User => "a user",
            SymbolKind::Boolean => "a boolean",
            SymbolKind::Tunable => "a tunable",
            SymbolKind::Class => "a class or permission",
            SymbolKind::Common => "a common",
            SymbolKind::ClassPermission => "a classpermission",
            SymbolKind::Sensitivity => "a sensitivity",
            SymbolKind::Category => "a category",
            SymbolKind::Level => "a level",
            SymbolKind::LevelRange => "a levelrange",
            SymbolKind::Context => "a context",
            SymbolKind::Sid => "a sid",
            SymbolKind::IpAddr => "an ipaddr",
            SymbolKind::PermissionX => "a permissionx",
            SymbolKind::Block => "a block",
            SymbolKind::Macro => "a macro",
        }
    }
}

/// (class, permissions) pairs; the sets are shared between the rules that
/// write the same list.
pub type PermsPerClass = Vec<(Sym, std::sync::Arc<BTreeSet<String>>)>;

/// The meaning of a policy.
#[derive(Clone, Debug, Default)]
pub struct Model {
    /// Every active declaration, by symbol table and full name.
    pub decls: BTreeMap<(SymbolKind, String), Decl>,
    /// Every optional block, enabled or not.
    pub optionals: Vec<OptionalBlock>,
    /// Access-vector rules of enabled statements.
    pub rules: Vec<Rule>,
    /// Type transitions, changes and members of enabled statements.
    pub type_rules: Vec<TypeRule>,
    /// Extended-permission rules of enabled statements.
    pub xperm_rules: Vec<XpermRule>,
    /// Names that do not resolve outside optionals (secilc would refuse the
    /// policy), and statements this layer does not resolve yet.
    pub diagnostics: Vec<Unresolved>,
    /// Type attributes: their member types, expanded.
    attribute_types: BTreeMap<Sym, BTreeSet<Sym>>,
    /// Permissive domains (`typepermissive`).
    permissive: BTreeSet<Sym>,
    /// Role attributes: their member roles, expanded.
    role_attributes: BTreeMap<Sym, BTreeSet<Sym>>,
    /// User attributes: their member users, expanded.
    user_attributes: BTreeMap<Sym, BTreeSet<Sym>>,
    /// Each role's types (`roletype`), attributes expanded.
    role_types: BTreeMap<Sym, BTreeSet<Sym>>,
    /// Each user's roles (`userrole`), attributes expanded.
    user_roles: BTreeMap<Sym, BTreeSet<Sym>>,
    /// Type aliases: their actual types.
    aliases: rustc_hash::FxHashMap<Sym, Sym>,
    /// Class permissions: (class, permissions) pairs.
    class_permissions: BTreeMap<Sym, PermsPerClass>,
    /// Class maps: for each permission, the (class, permissions) pairs its
    /// `classmapping` statements give.
    class_mappings: BTreeMap<Sym, BTreeMap<String, PermsPerClass>>,
    /// For [`Model::allowed`], built on first use.
    index: std::sync::OnceLock<AllowIndex>,
}

/// Unconditional allow rules by class and source name, and for each type
/// the names that stand for it (itself and its attributes).
#[derive(Clone, Debug, Default)]
struct AllowIndex {
    names: HashMap<Sym, Vec<Sym>>,
    /// By class, then by source name.
    rules: HashMap<Sym, HashMap<Sym, Vec<usize>>>,
}

impl Model {
    /// The optionals that were dropped, and why.
    pub fn disabled_optionals(&self) -> Vec<&OptionalBlock> {
        self.optionals
            .iter()
            .filter(|o| o.disabled_by.is_some())
            .collect()
    }

    /// The types a type, alias or attribute stands for.
    pub fn types_of(&self, name: &str) -> BTreeSet<String> {
        if let Some(t) = self.attribute_types.get(name) {
            return t.iter().map(|t| t.to_string()).collect();
        }
        let actual = self.aliases.get(name).map_or(name, |a| &**a);
        match self.decls.get(&(SymbolKind::Type, actual.to_string())) {
            Some(d) if d.kind == DeclKind::Type => [actual.to_string()].into(),
            _ => BTreeSet::new(),
        }
    }

    /// Whether `ty` (a type) is one of the types `name` stands for.
    pub fn matches(&self, name: &str, ty: &str) -> bool {
        if let Some(t) = self.attribute_types.get(name) {
            return t.contains(ty);
        }
        self.aliases.get(name).map_or(name, |a| &**a) == ty
    }

    /// Every role attribute with its member roles.
    pub fn role_attributes(&self) -> &BTreeMap<Sym, BTreeSet<Sym>> {
        &self.role_attributes
    }

    /// Every user attribute with its member users.
    pub fn user_attributes(&self) -> &BTreeMap<Sym, BTreeSet<Sym>> {
        &self.user_attributes
    }

    /// The types a role may hold (`roletype`, attributes on either side
    /// expanded), as `seinfo -r ROLE -x` lists them.
    pub fn types_of_role(&self, role: &str) -> BTreeSet<Sym> {
        self.role_types.get(role).cloned().unwrap_or_default()
    }

    /// The roles a user may take (`userrole`, attributes on either side
    /// expanded), as `seinfo -u USER -x` lists them.
    pub fn roles_of_user(&self, user: &str) -> BTreeSet<Sym> {
        self.user_roles.get(user).cloned().unwrap_or_default()
    }

    /// Every type attribute with its member types.
    pub fn attributes(&self) -> &BTreeMap<Sym, BTreeSet<Sym>> {
        &self.attribute_types
    }

    /// The unconditional `allow` rules that give `source` (a type) access
    /// to `target` (a type) in `class`, as `sesearch --allow -s -t -c`
    /// finds them (rules written on attributes that contain the types
    /// included), in the order they were written.
    pub fn allow_rules<'m>(
        &'m self,
        source: &'m str,
        target: &'m str,
        class: &'m str,
    ) -> impl Iterator<Item = &'m Rule> + 'm {
        let index = self.index.get_or_init(|| self.build_index());
        let own = [Sym::from(source)];
        let names = index.names.get(source).map_or(&own[..], Vec::as_slice);
        let mut found: Vec<usize> = Vec::new();
        if let Some(by_source) = index.rules.get(class) {
            for n in names {
                found.extend(by_source.get(n).map(Vec::as_slice).unwrap_or_default());
            }
        }
        found.sort_unstable();
        found.dedup();
        found
            .into_iter()
            .map(|i| &self.rules[i])
            .filter(move |r| self.target_matches(r, source, target))
    }

    /// Whether rule `r`, whose source stands for type `source`, reaches
    /// type `target`.
    fn target_matches(&self, r: &Rule, source: &str, target: &str) -> bool {
        match &r.target {
            RuleTarget::Name(t) => self.matches(t, target),
            RuleTarget::SelfTarget => source == target,
            RuleTarget::NotSelf | RuleTarget::Other => {
                source != target && self.matches(&r.source, target)
            }
        }
    }

    /// The permissions unconditional `allow` rules give `source` on
    /// `target` in `class`.
    pub fn allowed(&self, source: &str, target: &str, class: &str) -> BTreeSet<String> {
        self.allow_rules(source, target, class)
            .flat_map(|r| r.perms.iter())
            .filter(|(c, _)| &**c == class)
            .flat_map(|(_, p)| p.iter().cloned())
            .collect()
    }

    /// Whether a rule written on `rule_source` and `rule_target` applies
    /// to the pair of types `source` and `target`.
    /// Whether `ty` is a permissive domain (`typepermissive`): its denials
    /// are logged and let through.
    pub fn is_permissive(&self, ty: &str) -> bool {
        self.permissive.contains(ty)
    }

    /// The rules of `kind` (unconditional) that cover every permission of
    /// `perms` for a pair of types in `class`.
    pub fn rules_covering<'m>(
        &'m self,
        kind: AvKind,
        source: &'m str,
        target: &'m str,
        class: &'m str,
        perms: &'m BTreeSet<String>,
    ) -> impl Iterator<Item = &'m Rule> + 'm {
        self.rules.iter().filter(move |r| {
            r.kind == kind
                && r.condition.is_none()
                && self.reaches(&r.source, &r.target, source, target)
                && r.perms
                    .iter()
                    .any(|(c, p)| &**c == class && perms.iter().all(|x| p.contains(x)))
        })
    }

    fn reaches(
        &self,
        rule_source: &str,
        rule_target: &RuleTarget,
        source: &str,
        target: &str,
    ) -> bool {
        self.matches(rule_source, source)
            && match rule_target {
                RuleTarget::Name(t) => self.matches(t, target),
                RuleTarget::SelfTarget => source == target,
                RuleTarget::NotSelf | RuleTarget::Other => {
                    source != target && self.matches(rule_source, target)
                }
            }
    }

    /// The unconditional type rules of `kind` for a pair of types and a
    /// class, as `sesearch -T -s -t -c` finds them, in the order written.
    pub fn type_rules_for<'m>(
        &'m self,
        kind: TypeRuleKind,
        source: &'m str,
        target: &'m str,
        class: &'m str,
    ) -> impl Iterator<Item = &'m TypeRule> + 'm {
        self.type_rules.iter().filter(move |r| {
            r.kind == kind
                && r.condition.is_none()
                && &*r.class == class
                && self.reaches(&r.source, &r.target, source, target)
        })
    }

    /// The values unconditional `allowx` rules of `xkind` give a pair of
    /// types in `class`, as sorted, disjoint ranges.
    pub fn allowed_xperms(
        &self,
        source: &str,
        target: &str,
        class: &str,
        xkind: PermxKind,
    ) -> Vec<RangeInclusive<u16>> {
        let mut all: Vec<RangeInclusive<u16>> = self
            .xperm_rules
            .iter()
            .filter(|r| {
                r.kind == AvxKind::Allow
                    && r.condition.is_none()
                    && r.xkind == xkind
                    && &*r.class == class
                    && self.reaches(&r.source, &r.target, source, target)
            })
            .flat_map(|r| r.values.iter().cloned())
            .collect();
        all.sort_by_key(|r| *r.start());
        let mut out: Vec<RangeInclusive<u16>> = Vec::new();
        for r in all {
            match out.last_mut() {
                Some(last) if u32::from(*r.start()) <= u32::from(*last.end()) + 1 => {
                    if r.end() > last.end() {
                        *last = *last.start()..=*r.end();
                    }
                }
                _ => out.push(r),
            }
        }
        out
    }

    fn build_index(&self) -> AllowIndex {
        let mut index = AllowIndex::default();
        for (attr, types) in &self.attribute_types {
            for t in types {
                index.names.entry(t.clone()).or_default().push(attr.clone());
            }
        }
        for ((kind, _), d) in &self.decls {
            if *kind == SymbolKind::Type && d.kind == DeclKind::Type {
                index
                    .names
                    .entry(d.name.clone())
                    .or_default()
                    .push(d.name.clone());
            }
        }
        for (i, r) in self.rules.iter().enumerate() {
            if r.kind != AvKind::Allow || r.condition.is_some() {
                continue;
            }
            for (c, _) in &r.perms {
                let list = index
                    .rules
                    .entry(c.clone())
                    .or_default()
                    .entry(r.source.clone())
                    .or_default();
                if list.last() != Some(&i) {
                    list.push(i);
                }
            }
        }
        index
    }
}

/// Each class's (and class map's) permissions, its common's included, by
/// full name.
type ClassPermsTable = rustc_hash::FxHashMap<String, BTreeSet<String>>;

/// A statement in its place.
struct Item<'a> {
    stmt: &'a Statement,
    /// Its node in the expanded tree: names are looked up from there.
    ns: NodeId,
    opt: Option<usize>,
    condition: Option<(String, bool)>,
    file: usize,
    via: std::sync::Arc<Vec<Via>>,
}

/// Resolves a policy made of `inputs` (a node's modules, or one file).
pub fn resolve(inputs: &[Input<'_>]) -> Model {
    let tree = Tree::expand(inputs);
    let mut items = Vec::new();
    let mut calls = Vec::new();
    for (n, condition) in tree.statements() {
        let node = &tree.nodes[n];
        match tree.stmt(n) {
            Some(stmt) => items.push(Item {
                stmt,
                ns: n,
                opt: node.opt,
                condition,
                file: node.file,
                via: node.via.clone(),
            }),
            None => calls.push(n),
        }
    }
    Resolver { tree, items, calls }.finish()
}

/// The statement that declares what an anonymous argument of `kind` is,
/// for reading and checking it: `(level anonymous (s0 (c0)))`.
fn anonymous_statement(kind: ParamKind, arg: &Value) -> Option<Result<Statement, String>> {
    let text = value_text(arg);
    let source = match kind {
        ParamKind::Level => format!("(level anonymous {text})"),
        ParamKind::LevelRange => format!("(levelrange anonymous {text})"),
        ParamKind::CategorySet => format!("(categoryset anonymous {text})"),
        ParamKind::IpAddr => format!(
            "(ipaddr anonymous {})",
            text.trim_start_matches('(').trim_end_matches(')')
        ),
        _ => return None,
    };
    Some(match crate::parse(&source) {
        Ok(mut p) if p.statements.len() == 1 => Ok(p.statements.remove(0)),
        Ok(_) => Err(format!("`{text}` is not one {}", kind.keyword())),
        Err(e) => Err(e.message()),
    })
}

/// Why libsepol refuses a call's arguments, and where: too few or too
/// many ("Missing arguments", "Unexpected arguments"), a list where the
/// parameter takes a name ("Invalid macro parameter"), a list that is not
/// a class permission for a `classpermission` parameter.
fn bad_arguments(m: &Macro, call: &Call) -> Option<(String, Pointer)> {
    let (given, taken) = (call.args.len(), m.params.len());
    if given != taken {
        let what = if given < taken { "too few" } else { "too many" };
        return Some((
            format!(
                "`call {}` gives {given} argument{}, {what}: macro `{}` takes {taken}",
                call.name,
                if given == 1 { "" } else { "s" },
                m.name
            ),
            Pointer::Arg(0),
        ));
    }
    for (k, (param, arg)) in m.params.iter().zip(&call.args).enumerate() {
        let Value::List(_) = arg else { continue };
        let fits = match param.kind {
            ParamKind::ClassPermission => classperms_of(arg).is_some(),
            ParamKind::CategorySet
            | ParamKind::Level
            | ParamKind::LevelRange
            | ParamKind::IpAddr => match anonymous_statement(param.kind, arg) {
                Some(Err(why)) => {
                    return Some((
                        format!(
                            "argument `{}` of `call {}` is not a {}: {why}",
                            value_text(arg),
                            call.name,
                            param.kind.keyword()
                        ),
                        Pointer::Path(vec![2, k]),
                    ));
                }
                _ => true,
            },
            _ => false,
        };
        if !fits {
            let wanted = match param.kind {
                ParamKind::ClassPermission => "a class permission `(CLASS (PERM ...))` or a name",
                _ => "a name",
            };
            return Some((
                format!(
                    "argument `{}` of `call {}` is a list; parameter `{}` ({}) takes {wanted}",
                    value_text(arg),
                    call.name,
                    param.name,
                    param.kind.keyword()
                ),
                Pointer::Path(vec![2, k]),
            ));
        }
    }
    None
}

/// An anonymous class permission written as a call argument:
/// `(CLASS (PERM ...))` or `(CLASS (and (all) (not (PERM))))`.
fn classperms_of(v: &Value) -> Option<ClassPerms> {
    let Value::List(items) = v else { return None };
    let [Value::Atom(class), perms @ Value::List(_)] = items.as_slice() else {
        return None;
    };
    Some(ClassPerms::Anonymous {
        class: Ref::new(class.as_str()).ok()?,
        perms: std::sync::Arc::new(expr_of(perms)?),
    })
}

/// A permission expression written as a list of values.
fn expr_of(v: &Value) -> Option<Expr> {
    let Value::List(items) = v else { return None };
    let term = |v: &Value| -> Option<Term> {
        match v {
            Value::Atom(a) => Some(Term::Leaf(Ref::new(a.as_str()).ok()?)),
            list => Some(Term::Expr(Box::new(expr_of(list)?))),
        }
    };
    let operands = |n: usize| -> Option<Vec<Term>> {
        (items.len() == n + 1)
            .then(|| items[1..].iter().map(term).collect::<Option<Vec<_>>>())
            .flatten()
    };
    let op = match items.first() {
        Some(Value::Atom(a)) => a.as_str(),
        _ => "",
    };
    Some(match op {
        "all" if items.len() == 1 => Expr::All,
        "not" => {
            let [a] = <[Term; 1]>::try_from(operands(1)?).ok()?;
            Expr::Not(Box::new(a))
        }
        "and" | "or" | "xor" => {
            let [a, b] = <[Term; 2]>::try_from(operands(2)?).ok()?;
            let (a, b) = (Box::new(a), Box::new(b));
            match op {
                "and" => Expr::And(a, b),
                "or" => Expr::Or(a, b),
                _ => Expr::Xor(a, b),
            }
        }
        "all" => return None,
        _ => Expr::List(items.iter().map(term).collect::<Option<Vec<_>>>()?),
    })
}

/// A value as written, for messages.
fn value_text(v: &Value) -> String {
    match v {
        Value::Atom(a) => a.as_str().to_string(),
        Value::List(items) => format!(
            "({})",
            items.iter().map(value_text).collect::<Vec<_>>().join(" ")
        ),
    }
}

struct Resolver<'a> {
    tree: Tree<'a>,
    items: Vec<Item<'a>>,
    /// The expanded calls: their arguments are resolved where they stand.
    calls: Vec<NodeId>,
}

impl<'a> Resolver<'a> {
    fn enabled(&self, opt: Option<usize>) -> bool {
        self.tree.enabled(opt)
    }

    /// The declaration `name` refers to from node `ns`, as libsepol
    /// searches (`cil_resolve_name`).
    fn lookup(&self, kind: SymbolKind, name: &str, ns: NodeId) -> Option<usize> {
        match self.tree.find(ns, kind, name) {
            Found::Decl(d) => Some(d),
            Found::Anonymous(..) | Found::Missing => None,
        }
    }

    /// What `name` stands for from node `ns`: a declaration, or a call's
    /// anonymous argument (a class permission, level, range, category set
    /// or address written in place) with the call's node.
    fn find(&self, kind: SymbolKind, name: &str, ns: NodeId) -> Found<'a> {
        self.tree.find(ns, kind, name)
    }

    /// The first argument of call node `n` that does not resolve where the
    /// call stands (`CIL_PASS_CALL2`).
    fn missing_argument(&self, n: NodeId) -> Option<Unresolved> {
        let (call, Some(m)) = self.tree.call(n)? else {
            return None;
        };
        for (k, (param, arg)) in m.params.iter().zip(&call.args).enumerate() {
            let Value::Atom(a) = arg else { continue };
            if param.kind == ParamKind::IpAddr && a.as_str().contains(['.', ':']) {
                continue;
            }
            let Some(kind) = param_symbol_kind(param.kind) else {
                continue;
            };
            if self.tree.resolve(n, kind, a.as_str(), Some(n)).is_none() {
                let mut u = Unresolved::new(
                    Code::Unresolved,
                    a.as_str().to_string(),
                    kind,
                    self.tree.nodes[n].file,
                    call.span,
                );
                u.pointer = Pointer::Path(vec![2, k]);
                u.via = (*self.tree.nodes[n].via).clone();
                return Some(u);
            }
        }
        None
    }

    fn finish(mut self) -> Model {
        // Drop optionals whose names do not resolve, until nothing changes
        // (libsepol restarts its resolution the same way).
        let mut hard: Vec<Unresolved> = Vec::new();
        loop {
            let perms = self.class_perms();
            hard.clear();
            let mut changed = false;
            let mut disable: Vec<(usize, Unresolved)> = Vec::new();
            // Each statement is checked on its own against the same tables:
            // the statements are shared out between the cores, and the
            // results taken in order.
            let found = parallel_filter_map(&self.items, |item, scratch: &mut Scratch<'_>| {
                if !self.enabled(item.opt) {
                    return None;
                }
                self.missing(item, &perms, scratch)
            });
            let mut found: Vec<(Option<usize>, Unresolved)> = found
                .into_iter()
                .map(|(item, mut missing)| {
                    missing.via = (*item.via).clone();
                    (item.opt, missing)
                })
                .collect();
            // Call arguments (`CIL_PASS_CALL2`).
            for &n in &self.calls {
                let opt = self.tree.nodes[n].opt;
                if self.enabled(opt)
                    && let Some(missing) = self.missing_argument(n)
                {
                    found.push((opt, missing));
                }
            }
            for (opt, missing) in found {
                match opt {
                    Some(o) => {
                        // Other failures in this pass are found against
                        // the same tables; the next pass sees what this
                        // optional took with it.
                        if disable.iter().all(|(d, _)| *d != o) {
                            disable.push((o, missing));
                        }
                        changed = true;
                    }
                    None => hard.push(missing),
                }
            }
            for (o, missing) in disable {
                self.tree.disable(o, missing);
            }
            if !changed {
                break;
            }
        }
        self.build(hard)
    }

    /// Each live class's (and class map's) permissions, its common's
    /// included, by full name.
    fn class_perms(&self) -> ClassPermsTable {
        let mut own = ClassPermsTable::default();
        let mut commons: HashMap<Sym, BTreeSet<String>> = HashMap::new();
        for (d, (_, decl)) in self.tree.decls.iter().enumerate() {
            if !matches!(
                decl.kind,
                DeclKind::Class | DeclKind::ClassMap | DeclKind::Common
            ) || !self.tree.live(d)
            {
                continue;
            }
            let perms = match self.tree.stmt(self.tree.decl_nodes[d]) {
                Some(Statement::Class(c)) => &c.perms,
                Some(Statement::ClassMap(c)) => &c.perms,
                Some(Statement::Common(c)) => &c.perms,
                _ => continue,
            };
            let set = perms.iter().map(|p| p.to_string());
            if decl.kind == DeclKind::Common {
                commons.entry(decl.name.clone()).or_default().extend(set);
            } else {
                own.entry(decl.name.to_string()).or_default().extend(set);
            }
        }
        for item in &self.items {
            if let Statement::ClassCommon(cc) = item.stmt
                && self.enabled(item.opt)
                && let Some(class) = self.lookup(SymbolKind::Class, &cc.class, item.ns)
                && let Some(common) = self.lookup(SymbolKind::Common, &cc.common, item.ns)
                && let Some(p) = commons.get(&self.tree.decls[common].1.name)
            {
                own.entry(self.tree.decls[class].1.name.to_string())
                    .or_default()
                    .extend(p.iter().cloned());
            }
        }
        own
    }

    /// The first name of `item` that does not resolve against `table`,
    /// or the first permission its class lacks.
    fn missing<'s>(
        &self,
        item: &'s Item<'a>,
        perms: &ClassPermsTable,
        scratch: &mut Scratch<'s>,
    ) -> Option<Unresolved> {
        let (refs, checked) = scratch;
        references(item.stmt, refs);
        // libsepol 3.4 and later take `self` as the target of a type rule
        // as of an access-vector rule (`cil_resolve_type_rule`).
        let self_target = match item.stmt {
            Statement::TypeTransition(t) => t.target.as_str() == "self",
            Statement::TypeChange(t) => t.target.as_str() == "self",
            Statement::TypeMember(t) => t.target.as_str() == "self",
            _ => false,
        };
        if self_target {
            refs.retain(|&(kind, name)| !(kind == SymbolKind::Type && name == "self"));
        }
        refs.iter()
            .copied()
            .find_map(|(kind, name)| {
                let missing = match self.find(kind, name, item.ns) {
                    Found::Missing => (kind, name.to_string()),
                    // A level, range or category set written in the call:
                    // its names are looked up where the call is, when the
                    // macro uses it (as libsepol does).
                    Found::Anonymous(arg, site) => {
                        let param = match kind {
                            SymbolKind::Level => ParamKind::Level,
                            SymbolKind::LevelRange => ParamKind::LevelRange,
                            SymbolKind::Category => ParamKind::CategorySet,
                            _ => return None,
                        };
                        let Some(Ok(stmt)) = anonymous_statement(param, arg) else {
                            return None;
                        };
                        let mut inner = Vec::new();
                        references(&stmt, &mut inner);
                        inner
                            .into_iter()
                            .find(|(k, n)| matches!(self.find(*k, n, site), Found::Missing))
                            .map(|(k, n)| (k, n.to_string()))?
                    }
                    Found::Decl(_) => return None,
                };
                let mut u = Unresolved::new(
                    Code::Unresolved,
                    missing.1,
                    missing.0,
                    item.file,
                    item.stmt.span(),
                );
                // The caret goes under the name as the statement writes it.
                u.pointer = Pointer::Atom(name.to_string());
                Some(u)
            })
            .or_else(|| {
                let this = self;
                let full_name = |scope: usize| {
                    move |k: SymbolKind, n: &str| {
                        this.lookup(k, n, scope)
                            .map(|d| this.tree.decls[d].1.name.clone())
                    }
                };
                let mut key = None;
                let (cp, scope, named) = match item.stmt {
                    Statement::AvRule(AvRule {
                        classperms: ClassPerms::Named(name),
                        ..
                    }) => {
                        // A class permission written in a call,
                        // used by name in the macro.
                        let Found::Anonymous(arg, site) =
                            this.find(SymbolKind::ClassPermission, name, item.ns)
                        else {
                            return None;
                        };
                        (classperms_of(arg)?, site, Some(name))
                    }
                    Statement::AvRule(AvRule { classperms, .. })
                    | Statement::ClassPermissionSet(ClassPermissionSet { classperms, .. })
                    | Statement::ClassMapping(ClassMapping { classperms, .. }) => {
                        // A parse shares one permission list between the
                        // statements that write it: each (class, list) is
                        // found complete once. (Only completeness is kept:
                        // each statement with a missing permission is
                        // reported, or drops its optional.)
                        if let ClassPerms::Anonymous { class, perms: list } = classperms
                            && let Some(d) = this.lookup(SymbolKind::Class, class, item.ns)
                        {
                            let k = (d, std::sync::Arc::as_ptr(list) as usize);
                            if checked.contains(&k) {
                                return None;
                            }
                            key = Some(k);
                        }
                        (classperms.clone(), item.ns, None)
                    }
                    _ => return None,
                };
                let Some((written, full, perm)) = unknown_permission(&cp, perms, &full_name(scope))
                else {
                    checked.extend(key);
                    return None;
                };
                let mut u = Unresolved::new(
                    Code::UnresolvedPermission,
                    format!("{full}.{perm}"),
                    SymbolKind::Class,
                    item.file,
                    item.stmt.span(),
                );
                u.pointer = match named {
                    Some(name) => Pointer::Atom(name.to_string()),
                    None => Pointer::Permission {
                        class: written,
                        perm,
                    },
                };
                Some(u)
            })
    }

    /// The declarations of enabled statements.
    fn active_decls(&self) -> Vec<(SymbolKind, &Decl)> {
        self.tree
            .decls
            .iter()
            .enumerate()
            .filter(|(d, _)| self.tree.live(*d))
            .map(|(_, (k, d))| (*k, d))
            .collect()
    }

    fn build(self, hard: Vec<Unresolved>) -> Model {
        let decls = self.active_decls();
        let full = |kind: SymbolKind, name: &str, ns: usize| -> Option<Sym> {
            self.lookup(kind, name, ns)
                .map(|d| self.tree.decls[d].1.name.clone())
        };
        let active: Vec<&Item<'_>> = self.items.iter().filter(|i| self.enabled(i.opt)).collect();

        let mut diagnostics: Vec<Unresolved> = hard
            .into_iter()
            .chain(self.tree.errors.iter().cloned())
            .collect();
        // In the order of the text, each statement's problems as found.
        diagnostics.sort_by_key(|u| (u.file, u.span.start));
        let mut model = Model {
            diagnostics,
            ..Model::default()
        };

        // Aliases.
        for item in &active {
            if let Statement::TypeAliasActual(a) = item.stmt
                && let (Some(alias), Some(actual)) = (
                    full(SymbolKind::Type, &a.alias, item.ns),
                    full(SymbolKind::Type, &a.actual, item.ns),
                )
            {
                model.aliases.insert(alias, actual);
            }
        }

        // Type attributes: every typeattributeset, evaluated over types.
        let all_types: BTreeSet<Sym> = decls
            .iter()
            .filter(|(_, d)| d.kind == DeclKind::Type)
            .map(|(_, d)| d.name.clone())
            .collect();
        let mut sets: BTreeMap<Sym, Vec<(&Term, usize)>> = BTreeMap::new();
        for (_, d) in &decls {
            if d.kind == DeclKind::TypeAttribute {
                sets.entry(d.name.clone()).or_default();
            }
        }
        for item in &active {
            if let Statement::TypeAttributeSet(t) = item.stmt
                && let Some(attr) = full(SymbolKind::Type, &t.attribute, item.ns)
            {
                sets.entry(attr).or_default().push((&t.expr, item.ns));
            }
        }
        let mut done: BTreeMap<Sym, BTreeSet<Sym>> = BTreeMap::new();
        let names: Vec<Sym> = sets.keys().cloned().collect();
        for name in names {
            let mut visiting = BTreeSet::new();
            expand_attribute(
                SymbolKind::Type,
                &name,
                &sets,
                &mut done,
                &mut visiting,
                &all_types,
                &model.aliases,
                &full,
            );
        }
        model.attribute_types = done;
        self.build_roles_and_users(&decls, &active, &full, &mut model);

        // Class permissions and class maps.
        let perms = self.class_perms();
        let lookup = |k: SymbolKind, n: &str, ns: usize| full(k, n, ns);
        for (_, d) in &decls {
            if d.kind == DeclKind::ClassMap {
                model.class_mappings.entry(d.name.clone()).or_default();
            }
        }
        // Class permissions may name class maps and mappings may name
        // class permissions: permission sets, then mappings over them,
        // then the sets again over the mappings.
        for pass in 0..2 {
            let mut sets: BTreeMap<Sym, PermsPerClass> = BTreeMap::new();
            for item in &active {
                if let Statement::ClassPermissionSet(c) = item.stmt
                    && let Some(name) = full(SymbolKind::ClassPermission, &c.name, item.ns)
                {
                    let expanded =
                        expand_classperms(&c.classperms, item.ns, &perms, &model, &lookup);
                    sets.entry(name).or_default().extend(expanded);
                }
            }
            model.class_permissions = sets;
            if pass == 1 {
                break;
            }
            for item in &active {
                if let Statement::ClassMapping(m) = item.stmt
                    && let Some(map) = full(SymbolKind::Class, &m.classmap, item.ns)
                {
                    let expanded =
                        expand_classperms(&m.classperms, item.ns, &perms, &model, &lookup);
                    model
                        .class_mappings
                        .entry(map)
                        .or_default()
                        .entry(m.perm.to_string())
                        .or_default()
                        .extend(expanded);
                }
            }
        }

        // Rules. A parse shares one permission list between the rules that
        // write it: each (class, list) is expanded once. (Shared out
        // between cores this loop runs slower: the threads contend on the
        // reference counts of the same few names.)
        let mut expanded: rustc_hash::FxHashMap<(Sym, usize), PermsPerClass> = Default::default();
        for item in &active {
            let Statement::AvRule(r) = item.stmt else {
                continue;
            };
            let Some(source) = full(SymbolKind::Type, &r.source, item.ns) else {
                continue;
            };
            let target = match r.target.as_str() {
                "self" => RuleTarget::SelfTarget,
                "notself" => RuleTarget::NotSelf,
                "other" => RuleTarget::Other,
                t => match full(SymbolKind::Type, t, item.ns) {
                    Some(t) => RuleTarget::Name(t),
                    None => continue,
                },
            };
            let rule_perms = match &r.classperms {
                // A macro's classpermission parameter may stand for a
                // class permission written in the call.
                ClassPerms::Named(name) => {
                    match self.find(SymbolKind::ClassPermission, name, item.ns) {
                        Found::Anonymous(arg, site) => classperms_of(arg)
                            .map(|cp| expand_classperms(&cp, site, &perms, &model, &lookup))
                            .unwrap_or_default(),
                        _ => expand_classperms(&r.classperms, item.ns, &perms, &model, &lookup),
                    }
                }
                ClassPerms::Anonymous { class, perms: list } => {
                    match full(SymbolKind::Class, class, item.ns) {
                        Some(c) => expanded
                            .entry((c, std::sync::Arc::as_ptr(list) as usize))
                            .or_insert_with(|| {
                                expand_classperms(&r.classperms, item.ns, &perms, &model, &lookup)
                            })
                            .clone(),
                        None => Vec::new(),
                    }
                }
            };
            model.rules.push(Rule {
                kind: r.kind,
                source: resolve_alias(&model.aliases, source),
                target: match target {
                    RuleTarget::Name(t) => RuleTarget::Name(resolve_alias(&model.aliases, t)),
                    other => other,
                },
                perms: rule_perms,
                condition: item.condition.clone(),
                origin: Origin {
                    file: item.file,
                    span: r.span,
                    via: (*item.via).clone(),
                },
            });
        }
        self.build_type_and_xperm_rules(&active, &full, &mut model);
        for item in &active {
            if let Statement::TypePermissive(t) = item.stmt
                && let Some(ty) = full(SymbolKind::Type, &t.ty, item.ns)
            {
                model.permissive.insert(resolve_alias(&model.aliases, ty));
            }
        }
        model.optionals = self.tree.optionals.clone();
        model.decls = decls
            .into_iter()
            .map(|(k, d)| ((k, d.name.to_string()), d.clone()))
            .collect();
        model
    }
}

impl Resolver<'_> {
    /// Role and user attributes expanded, the types of each role
    /// (`roletype`) and the roles of each user (`userrole`), attributes on
    /// either side standing for their members.
    fn build_roles_and_users(
        &self,
        decls: &[(SymbolKind, &Decl)],
        active: &[&Item<'_>],
        full: &dyn Fn(SymbolKind, &str, usize) -> Option<Sym>,
        model: &mut Model,
    ) {
        let no_aliases = rustc_hash::FxHashMap::default();
        let attributes = |kind: SymbolKind, decl: DeclKind, attr: DeclKind| {
            let all: BTreeSet<Sym> = decls
                .iter()
                .filter(|(_, d)| d.kind == decl)
                .map(|(_, d)| d.name.clone())
                .collect();
            let mut sets: BTreeMap<Sym, Vec<(&Term, usize)>> = decls
                .iter()
                .filter(|(_, d)| d.kind == attr)
                .map(|(_, d)| (d.name.clone(), Vec::new()))
                .collect();
            for item in active {
                let set = match item.stmt {
                    Statement::RoleAttributeSet(s) if kind == SymbolKind::Role => {
                        Some((&s.attribute, &s.expr))
                    }
                    Statement::UserAttributeSet(s) if kind == SymbolKind::User => {
                        Some((&s.attribute, &s.expr))
                    }
                    _ => None,
                };
                if let Some((attribute, expr)) = set
                    && let Some(a) = full(kind, attribute, item.ns)
                {
                    sets.entry(a).or_default().push((expr, item.ns));
                }
            }
            let mut done = BTreeMap::new();
            let names: Vec<Sym> = sets.keys().cloned().collect();
            for name in names {
                let mut visiting = BTreeSet::new();
                expand_attribute(
                    kind,
                    &name,
                    &sets,
                    &mut done,
                    &mut visiting,
                    &all,
                    &no_aliases,
                    full,
                );
            }
            done
        };
        model.role_attributes =
            attributes(SymbolKind::Role, DeclKind::Role, DeclKind::RoleAttribute);
        model.user_attributes =
            attributes(SymbolKind::User, DeclKind::User, DeclKind::UserAttribute);
        let members = |attrs: &BTreeMap<Sym, BTreeSet<Sym>>, name: Sym| -> BTreeSet<Sym> {
            attrs.get(&name).cloned().unwrap_or_else(|| [name].into())
        };
        for item in active {
            match item.stmt {
                Statement::RoleType(r) => {
                    let (Some(role), Some(ty)) = (
                        full(SymbolKind::Role, &r.role, item.ns),
                        full(SymbolKind::Type, &r.ty, item.ns),
                    ) else {
                        continue;
                    };
                    let types: BTreeSet<Sym> = match model.attribute_types.get(&ty) {
                        Some(t) => t.clone(),
                        None => [resolve_alias(&model.aliases, ty)].into(),
                    };
                    for role in members(&model.role_attributes, role) {
                        model
                            .role_types
                            .entry(role)
                            .or_default()
                            .extend(types.iter().cloned());
                    }
                }
                Statement::UserRole(u) => {
                    let (Some(user), Some(role)) = (
                        full(SymbolKind::User, &u.user, item.ns),
                        full(SymbolKind::Role, &u.role, item.ns),
                    ) else {
                        continue;
                    };
                    let roles = members(&model.role_attributes, role);
                    for user in members(&model.user_attributes, user) {
                        model
                            .user_roles
                            .entry(user)
                            .or_default()
                            .extend(roles.iter().cloned());
                    }
                }
                _ => {}
            }
        }
    }

    /// Type transitions, changes and members, and extended-permission
    /// rules, with their names resolved.
    fn build_type_and_xperm_rules(
        &self,
        active: &[&Item<'_>],
        full: &dyn Fn(SymbolKind, &str, usize) -> Option<Sym>,
        model: &mut Model,
    ) {
        let ty = |name: &str, ns: usize| -> Option<Sym> {
            full(SymbolKind::Type, name, ns).map(|t| resolve_alias(&model.aliases, t))
        };
        let target = |name: &str, ns: usize| -> Option<RuleTarget> {
            Some(match name {
                "self" => RuleTarget::SelfTarget,
                "notself" => RuleTarget::NotSelf,
                "other" => RuleTarget::Other,
                t => RuleTarget::Name(ty(t, ns)?),
            })
        };
        // Named extended-permission sets first: rules may come before them.
        let mut named: HashMap<Sym, (PermxKind, Sym, Vec<RangeInclusive<u16>>)> = HashMap::new();
        for item in active {
            if let Statement::PermissionX(x) = item.stmt
                && let Some(name) = full(SymbolKind::PermissionX, &x.name, item.ns)
                && let Some(class) = full(SymbolKind::Class, &x.permx.class, item.ns)
            {
                named.insert(name, (x.permx.kind, class, permx_ranges(&x.permx.values)));
            }
        }
        let mut type_rules = Vec::new();
        let mut xperm_rules = Vec::new();
        for item in active {
            let origin = |span: Span| Origin {
                file: item.file,
                span,
                via: (*item.via).clone(),
            };
            let ns = item.ns;
            let (kind, source, tgt, class, object_name, result, span) = match item.stmt {
                Statement::TypeTransition(t) => (
                    TypeRuleKind::Transition,
                    &t.source,
                    &t.target,
                    &t.class,
                    t.object_name.as_ref().map(|n| n.as_str().to_string()),
                    &t.result,
                    t.span,
                ),
                Statement::TypeChange(t) => (
                    TypeRuleKind::Change,
                    &t.source,
                    &t.target,
                    &t.class,
                    None,
                    &t.result,
                    t.span,
                ),
                Statement::TypeMember(t) => (
                    TypeRuleKind::Member,
                    &t.source,
                    &t.target,
                    &t.class,
                    None,
                    &t.result,
                    t.span,
                ),
                Statement::AvRuleX(r) => {
                    let (Some(source), Some(target)) = (ty(&r.source, ns), target(&r.target, ns))
                    else {
                        continue;
                    };
                    let set = match &r.permx {
                        PermxArg::Named(n) => full(SymbolKind::PermissionX, n, ns)
                            .and_then(|n| named.get(&n).cloned()),
                        PermxArg::Anonymous(x) => full(SymbolKind::Class, &x.class, ns)
                            .map(|c| (x.kind, c, permx_ranges(&x.values))),
                    };
                    let Some((xkind, class, values)) = set else {
                        continue;
                    };
                    xperm_rules.push(XpermRule {
                        kind: r.kind,
                        source,
                        target,
                        class,
                        xkind,
                        values,
                        condition: item.condition.clone(),
                        origin: origin(r.span),
                    });
                    continue;
                }
                _ => continue,
            };
            let (Some(source), Some(target), Some(class), Some(result)) = (
                ty(source, ns),
                target(tgt, ns),
                full(SymbolKind::Class, class, ns),
                ty(result, ns),
            ) else {
                continue;
            };
            type_rules.push(TypeRule {
                kind,
                source,
                target,
                class,
                object_name,
                result,
                condition: item.condition.clone(),
                origin: origin(span),
            });
        }
        model.type_rules = type_rules;
        model.xperm_rules = xperm_rules;
    }
}

/// The values an extended-permission expression stands for, as sorted,
/// disjoint, non-adjacent ranges.
fn permx_ranges(e: &Expr<PermxValue>) -> Vec<RangeInclusive<u16>> {
    const WORDS: usize = 1 << 10;
    fn leaf(t: &Term<PermxValue>) -> Vec<u64> {
        match t {
            Term::Leaf(v) => {
                let mut bits = vec![0u64; WORDS];
                bits[usize::from(v.value) / 64] |= 1 << (v.value % 64);
                bits
            }
            Term::Expr(e) => eval(e),
        }
    }
    fn zip(a: Vec<u64>, b: Vec<u64>, f: fn(u64, u64) -> u64) -> Vec<u64> {
        a.into_iter().zip(b).map(|(x, y)| f(x, y)).collect()
    }
    fn eval(e: &Expr<PermxValue>) -> Vec<u64> {
        match e {
            Expr::List(terms) => terms
                .iter()
                .map(leaf)
                .fold(vec![0u64; WORDS], |a, b| zip(a, b, |x, y| x | y)),
            Expr::Not(t) => leaf(t).into_iter().map(|x| !x).collect(),
            Expr::And(a, b) => zip(leaf(a), leaf(b), |x, y| x & y),
            Expr::Or(a, b) => zip(leaf(a), leaf(b), |x, y| x | y),
            Expr::Xor(a, b) => zip(leaf(a), leaf(b), |x, y| x ^ y),
            Expr::All => vec![u64::MAX; WORDS],
            Expr::Range(lo, hi) => {
                let mut bits = vec![0u64; WORDS];
                for v in lo.value..=hi.value {
                    bits[usize::from(v) / 64] |= 1 << (v % 64);
                }
                bits
            }
            // Not in extended permissions: nothing.
            Expr::Eq(..) | Expr::Neq(..) => vec![0u64; WORDS],
        }
    }
    let bits = eval(e);
    let mut out: Vec<RangeInclusive<u16>> = Vec::new();
    let mut start: Option<u16> = None;
    for v in 0..=u16::MAX {
        let on = bits[usize::from(v) / 64] >> (v % 64) & 1 == 1;
        match (on, start) {
            (true, None) => start = Some(v),
            (false, Some(s)) => {
                out.push(s..=v - 1);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push(s..=u16::MAX);
    }
    out
}

/// A core's scratch space while checking statements: the names of the
/// statement at hand, and the (class, permission list) pairs already
/// checked.
type Scratch<'s> = (
    Vec<(SymbolKind, &'s str)>,
    rustc_hash::FxHashSet<(usize, usize)>,
);

/// `f` over `items`, shared out between the cores in order-keeping
/// chunks, each with a scratch buffer of its own; the results in the
/// items' order. Small inputs stay on the calling thread.
fn parallel_filter_map<'s, T: Sync, R: Send, B: Default>(
    items: &'s [T],
    f: impl Fn(&'s T, &mut B) -> Option<R> + Sync,
) -> Vec<(&'s T, R)> {
    const SERIAL_BELOW: usize = 20_000;
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let run = |chunk: &'s [T]| -> Vec<(&'s T, R)> {
        let mut scratch = B::default();
        chunk
            .iter()
            .filter_map(|item| f(item, &mut scratch).map(|r| (item, r)))
            .collect()
    };
    if threads < 2 || items.len() < SERIAL_BELOW {
        return run(items);
    }
    let size = items.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(size)
            .map(|chunk| scope.spawn(|| run(chunk)))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    })
}

fn resolve_alias(aliases: &rustc_hash::FxHashMap<Sym, Sym>, name: Sym) -> Sym {
    aliases.get(&name).cloned().unwrap_or(name)
}

type Lookup<'l> = dyn Fn(SymbolKind, &str, usize) -> Option<Sym> + 'l;

#[allow(clippy::too_many_arguments)]
fn expand_attribute(
    kind: SymbolKind,
    name: &Sym,
    sets: &BTreeMap<Sym, Vec<(&Term, usize)>>,
    done: &mut BTreeMap<Sym, BTreeSet<Sym>>,
    visiting: &mut BTreeSet<Sym>,
    all: &BTreeSet<Sym>,
    aliases: &rustc_hash::FxHashMap<Sym, Sym>,
    full: &Lookup<'_>,
) -> BTreeSet<Sym> {
    if let Some(d) = done.get(name) {
        return d.clone();
    }
    if !visiting.insert(name.clone()) {
        // A cycle: libsepol refuses it; nothing more to add here.
        return BTreeSet::new();
    }
    let mut out = BTreeSet::new();
    for (expr, ns) in sets.get(name).map(Vec::as_slice).unwrap_or_default() {
        let mut leaf = |r: &Ref| -> BTreeSet<Sym> {
            let Some(n) = full(kind, r, *ns) else {
                return BTreeSet::new();
            };
            if sets.contains_key(&n) {
                expand_attribute(kind, &n, sets, done, visiting, all, aliases, full)
            } else {
                [aliases.get(&n).cloned().unwrap_or(n)].into()
            }
        };
        out.extend(eval_set(expr, all, &mut leaf));
    }
    visiting.remove(name);
    done.insert(name.clone(), out.clone());
    out
}

/// A set expression over `universe`, leaves from `leaf`.
fn eval_set<T: Ord + Clone>(
    t: &Term,
    universe: &BTreeSet<T>,
    leaf: &mut dyn FnMut(&Ref) -> BTreeSet<T>,
) -> BTreeSet<T> {
    match t {
        Term::Leaf(r) => leaf(r),
        Term::Expr(e) => eval_set_expr(e, universe, leaf),
    }
}

fn eval_set_expr<T: Ord + Clone>(
    e: &Expr,
    universe: &BTreeSet<T>,
    leaf: &mut dyn FnMut(&Ref) -> BTreeSet<T>,
) -> BTreeSet<T> {
    match e {
        Expr::List(items) => {
            let mut out = BTreeSet::new();
            for t in items {
                out.extend(eval_set(t, universe, leaf));
            }
            out
        }
        Expr::All => universe.clone(),
        Expr::Not(a) => universe
            .difference(&eval_set(a, universe, leaf))
            .cloned()
            .collect(),
        Expr::And(a, b) => {
            let a = eval_set(a, universe, leaf);
            let b = eval_set(b, universe, leaf);
            a.intersection(&b).cloned().collect()
        }
        Expr::Or(a, b) => {
            let mut a = eval_set(a, universe, leaf);
            a.extend(eval_set(b, universe, leaf));
            a
        }
        Expr::Xor(a, b) => {
            let a = eval_set(a, universe, leaf);
            let b = eval_set(b, universe, leaf);
            a.symmetric_difference(&b).cloned().collect()
        }
        _ => BTreeSet::new(),
    }
}

/// The (class, permissions) pairs a class-permission argument stands for.
fn expand_classperms(
    cp: &ClassPerms,
    ns: usize,
    perms: &ClassPermsTable,
    model: &Model,
    lookup: &Lookup<'_>,
) -> PermsPerClass {
    static NONE: BTreeSet<String> = BTreeSet::new();
    match cp {
        ClassPerms::Named(r) => lookup(SymbolKind::ClassPermission, r, ns)
            .and_then(|n| model.class_permissions.get(&n).cloned())
            .unwrap_or_default(),
        ClassPerms::Anonymous { class, perms: expr } => {
            let Some(class) = lookup(SymbolKind::Class, class, ns) else {
                return Vec::new();
            };
            let universe = perms.get(&*class).unwrap_or(&NONE);
            let mut leaf = |r: &Ref| -> BTreeSet<String> { [r.to_string()].into() };
            let set = eval_set_expr(expr, universe, &mut leaf);
            match model.class_mappings.get(&class) {
                // A class map's permissions stand for what they map to.
                Some(mapping) => set
                    .iter()
                    .filter_map(|p| mapping.get(p))
                    .flatten()
                    .cloned()
                    .collect(),
                None => vec![(class, std::sync::Arc::new(set))],
            }
        }
    }
}

/// The first permission of an anonymous class permission that its class
/// lacks: the class as written, its full name and the permission.
fn unknown_permission(
    cp: &ClassPerms,
    perms: &ClassPermsTable,
    lookup: &dyn Fn(SymbolKind, &str) -> Option<Sym>,
) -> Option<(String, Sym, String)> {
    let ClassPerms::Anonymous { class, perms: expr } = cp else {
        return None;
    };
    let full = lookup(SymbolKind::Class, class)?;
    let known = perms.get(&*full)?;
    let mut leaves = Vec::new();
    expr_leaves(expr, &mut leaves);
    leaves
        .into_iter()
        .find(|r| !known.contains(r.as_str()))
        .map(|r| (class.to_string(), full, r.to_string()))
}

fn term_leaves<'t>(t: &'t Term, out: &mut Vec<&'t Ref>) {
    match t {
        Term::Leaf(r) => out.push(r),
        Term::Expr(e) => expr_leaves(e, out),
    }
}

fn expr_leaves<'t>(e: &'t Expr, out: &mut Vec<&'t Ref>) {
    match e {
        Expr::List(items) => items.iter().for_each(|t| term_leaves(t, out)),
        Expr::Not(a) => term_leaves(a, out),
        Expr::And(a, b) | Expr::Or(a, b) | Expr::Xor(a, b) | Expr::Eq(a, b) | Expr::Neq(a, b) => {
            term_leaves(a, out);
            term_leaves(b, out);
        }
        _ => {}
    }
}

/// What a statement declares: (table, kind, name). Names of containers
/// (blocks, macros, optionals) are not in symbol tables the resolver
/// keeps; the names come from the statement tables (`ast::visit`).
fn declares(s: &Statement) -> Vec<(SymbolKind, DeclKind, &Name)> {
    struct Declared<'s>(Vec<(SymbolKind, &'s Name)>);
    impl<'s> Visit<'s> for Declared<'s> {
        fn declared(&mut self, name: &'s Name, kind: RefKind) {
            if let Some(k) = symbol_kind(kind)
                && !matches!(k, SymbolKind::Block | SymbolKind::Macro)
            {
                self.0.push((k, name));
            }
        }
    }
    if matches!(
        s,
        Statement::Block(_) | Statement::Macro(_) | Statement::Optional(_)
    ) {
        return Vec::new();
    }
    let mut found = Declared(Vec::new());
    s.names(RefKind::Type, &mut found);
    let what = match s {
        Statement::Type(_) => DeclKind::Type,
        Statement::TypeAttribute(_) => DeclKind::TypeAttribute,
        Statement::TypeAlias(_) => DeclKind::TypeAlias,
        Statement::Role(_) => DeclKind::Role,
        Statement::RoleAttribute(_) => DeclKind::RoleAttribute,
        Statement::User(_) => DeclKind::User,
        Statement::UserAttribute(_) => DeclKind::UserAttribute,
        Statement::Boolean(_) => DeclKind::Boolean,
        Statement::Tunable(_) => DeclKind::Tunable,
        Statement::Class(_) => DeclKind::Class,
        Statement::ClassMap(_) => DeclKind::ClassMap,
        Statement::Common(_) => DeclKind::Common,
        Statement::ClassPermission(_) => DeclKind::ClassPermission,
        _ => DeclKind::Other,
    };
    found.0.into_iter().map(|(k, n)| (k, what, n)).collect()
}

/// The symbol table names of a kind live in; `None` for permissions
/// (checked against their class), optionals and policy capabilities.
fn symbol_kind(kind: RefKind) -> Option<SymbolKind> {
    Some(match kind {
        RefKind::Type => SymbolKind::Type,
        RefKind::Role => SymbolKind::Role,
        RefKind::User => SymbolKind::User,
        RefKind::Boolean => SymbolKind::Boolean,
        RefKind::Tunable => SymbolKind::Tunable,
        RefKind::Class => SymbolKind::Class,
        RefKind::Common => SymbolKind::Common,
        RefKind::ClassPermission => SymbolKind::ClassPermission,
        RefKind::Sensitivity => SymbolKind::Sensitivity,
        RefKind::Category => SymbolKind::Category,
        RefKind::Level => SymbolKind::Level,
        RefKind::LevelRange => SymbolKind::LevelRange,
        RefKind::Context => SymbolKind::Context,
        RefKind::Sid => SymbolKind::Sid,
        RefKind::IpAddr => SymbolKind::IpAddr,
        RefKind::PermissionX => SymbolKind::PermissionX,
        RefKind::Block => SymbolKind::Block,
        RefKind::Macro => SymbolKind::Macro,
        _ => return None,
    })
}

/// The names a statement refers to, into `out` (cleared first: one buffer
/// serves every statement), from the statement tables (`ast::visit`).
/// Blocks and macros are found by `blockinherit`, `in` and `call`
/// themselves.
fn references<'s>(s: &'s Statement, out: &mut Vec<(SymbolKind, &'s str)>) {
    struct Referenced<'o, 's>(&'o mut Vec<(SymbolKind, &'s str)>);
    impl<'s> Visit<'s> for Referenced<'_, 's> {
        fn referenced(&mut self, name: &'s Ref, kind: RefKind) {
            if let Some(k) = symbol_kind(kind)
                && !matches!(k, SymbolKind::Block | SymbolKind::Macro)
            {
                self.0.push((k, name.as_str()));
            }
        }
    }
    out.clear();
    s.names(RefKind::Type, &mut Referenced(out));
}

/// The symbol table a named argument of a parameter of kind `param` is
/// looked up in; `None` for `string` and `name` (no declaration).
fn param_symbol_kind(param: ParamKind) -> Option<SymbolKind> {
    Some(match param {
        ParamKind::Type => SymbolKind::Type,
        ParamKind::Role => SymbolKind::Role,
        ParamKind::User => SymbolKind::User,
        ParamKind::Boolean => SymbolKind::Boolean,
        ParamKind::Sensitivity => SymbolKind::Sensitivity,
        ParamKind::Category | ParamKind::CategorySet => SymbolKind::Category,
        ParamKind::Level => SymbolKind::Level,
        ParamKind::LevelRange => SymbolKind::LevelRange,
        ParamKind::Class | ParamKind::ClassMap => SymbolKind::Class,
        ParamKind::ClassPermission => SymbolKind::ClassPermission,
        ParamKind::IpAddr => SymbolKind::IpAddr,
        _ => return None,
    })
}

/// Whether a macro parameter of kind `param` stands for names of `kind`.
fn param_fits(param: ParamKind, kind: SymbolKind) -> bool {
    matches!(
        (param, kind),
        (ParamKind::Type, SymbolKind::Type)
            | (ParamKind::Role, SymbolKind::Role)
            | (ParamKind::User, SymbolKind::User)
            | (ParamKind::Boolean, SymbolKind::Boolean)
            | (ParamKind::Sensitivity, SymbolKind::Sensitivity)
            | (
                ParamKind::Category | ParamKind::CategorySet,
                SymbolKind::Category
            )
            | (ParamKind::Level, SymbolKind::Level)
            | (ParamKind::LevelRange, SymbolKind::LevelRange)
            | (ParamKind::Class | ParamKind::ClassMap, SymbolKind::Class)
            | (ParamKind::ClassPermission, SymbolKind::ClassPermission)
            | (ParamKind::IpAddr, SymbolKind::IpAddr)
    )
}

fn term_text(t: &Term) -> String {
    let mut p = crate::print::Printer::new();
    crate::parse::Arg::print(t, &mut p);
    p.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(src: &str) -> Model {
        let p = crate::parse(src).unwrap();
        resolve(&[Input::new("t.cil", &p)])
    }

    const BASE: &str = "
        (class file (read write getattr))
        (class dir (search))
        (classorder (file dir))
        (common cfile (ioctl))
        (classcommon file cfile)
    ";

    #[test]
    fn blocks_are_namespaces_searched_outward() {
        let m = model(&format!(
            "{BASE}
            (type global_t)
            (typeattribute domain)
            (block vl
                (type process)
                (typeattributeset domain (process))
                (allow process global_t (file (read)))
                (allow process .global_t (dir (search)))
            )"
        ));
        assert!(m.diagnostics.is_empty(), "{:?}", m.diagnostics);
        assert!(
            m.decls
                .contains_key(&(SymbolKind::Type, "vl.process".into()))
        );
        assert_eq!(
            m.allowed("vl.process", "global_t", "file"),
            ["read".to_string()].into()
        );
        assert_eq!(
            m.allowed("vl.process", "global_t", "dir"),
            ["search".to_string()].into()
        );
        assert!(m.matches("domain", "vl.process"));
        assert_eq!(m.rules[0].origin.file, 0);
    }

    #[test]
    fn optionals_drop_in_cascade_with_the_reason() {
        let m = model(&format!(
            "{BASE}
            (type a_t)
            (optional first (type b_t) (allow a_t missing_t (file (read))))
            (optional second (allow a_t b_t (file (write))))
            (optional third (allow a_t a_t (file (bogus))))
            (optional fourth (allow a_t a_t (file (ioctl))))"
        ));
        let dropped: Vec<(&str, &str)> = m
            .disabled_optionals()
            .iter()
            .map(|o| (o.name.as_str(), o.disabled_by.as_deref().unwrap()))
            .collect();
        assert_eq!(
            dropped,
            [
                ("first", "missing_t"),
                ("second", "b_t"),
                ("third", "file.bogus")
            ]
        );
        // A common's permission counts as the class's.
        assert_eq!(
            m.allowed("a_t", "a_t", "file"),
            ["ioctl".to_string()].into()
        );
        assert!(!m.decls.contains_key(&(SymbolKind::Type, "b_t".into())));
    }

    #[test]
    fn attribute_expressions_expand_over_types() {
        let m = model(&format!(
            "{BASE}
            (type a) (type b) (type c)
            (typealias c_alias) (typealiasactual c_alias c)
            (typeattribute ab) (typeattributeset ab (a b))
            (typeattribute not_a) (typeattributeset not_a (not (a)))
            (typeattribute b_only) (typeattributeset b_only (and ab not_a))
            (typeattribute everything) (typeattributeset everything (all))
            (typeattribute via_alias) (typeattributeset via_alias (c_alias))
            (allow b_only c_alias (file (all)))"
        ));
        let set = |n: &str| m.types_of(n).into_iter().collect::<Vec<_>>();
        assert_eq!(set("ab"), ["a", "b"]);
        assert_eq!(set("not_a"), ["b", "c"]);
        assert_eq!(set("b_only"), ["b"]);
        assert_eq!(set("everything"), ["a", "b", "c"]);
        assert_eq!(set("via_alias"), ["c"]);
        // `all` permissions: the class's own and its common's.
        assert_eq!(m.allowed("b", "c", "file").len(), 4);
        assert!(m.allowed("a", "c", "file").is_empty());
    }

    #[test]
    fn tunables_decide_and_booleans_keep_their_condition() {
        let m = model(&format!(
            "{BASE}
            (type a)
            (tunable on true)
            (boolean flag false)
            (tunableif on (true (allow a a (file (read)))) (false (allow a a (file (write)))))
            (booleanif flag (true (allow a a (file (getattr)))))"
        ));
        assert_eq!(m.allowed("a", "a", "file"), ["read".to_string()].into());
        let conditional: Vec<&Rule> = m.rules.iter().filter(|r| r.condition.is_some()).collect();
        assert_eq!(conditional.len(), 1);
        assert_eq!(conditional[0].condition, Some(("flag".to_string(), true)));
    }

    #[test]
    fn neverallows_are_checked_as_libsepol_checks_them() {
        let m = model(&format!(
            "{BASE}
            (type a) (type b) (type c)
            (typeattribute doms) (typeattributeset doms (a b))
            (typeattribute none) (typeattributeset none (and a (not a)))
            (neverallow doms c (file (write)))
            (allow a c (file (read)))
            (allow b c (file (write read)))
            (neverallow doms self (file (read)))
            (allow a b (file (read)))
            (allow doms self (file (read)))
            (neverallow none c (file (read)))
            (allow a c (file (getattr)))
            (booleanif flag (true (allow a c (file (write)))))
            (boolean flag false)"
        ));
        let found: Vec<(u32, usize)> = m
            .neverallow_violations()
            .iter()
            .map(|v| (v.neverallow.span.start, v.offending.len()))
            .collect();
        // The first: `b` writes `c`, and so does `a` in a conditional rule
        // (libsepol checks those too); the second: `doms self`, not `a` on
        // `b`; the third names no type.
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found[0].1, 2);
        assert_eq!(found[1].1, 1);
        let d = m.neverallow_violations()[0].to_diagnostic();
        assert_eq!(d.code, Code::Neverallow);
        assert_eq!(d.related.len(), 2);
    }

    #[test]
    fn neverallowx_needs_an_allowx_that_narrows() {
        let m = model(&format!(
            "{BASE}
            (type a) (type b) (type c)
            (neverallowx a b (ioctl file (0x10)))
            (allow a b (file (ioctl)))
            (neverallowx a c (ioctl file (0x10)))
            (allow a c (file (ioctl)))
            (allowx a c (ioctl file (0x20)))
            (neverallowx b c (ioctl file (range 0x1 0x30)))
            (allow b c (file (ioctl)))
            (allowx b c (ioctl file (0x20)))"
        ));
        let found: Vec<&str> = m
            .neverallow_violations()
            .iter()
            .map(|v| v.keyword)
            .collect();
        // `a b`: ioctl with no allowx at all; `b c`: an allowx inside the
        // forbidden range. `a c` is narrowed to an allowed command.
        assert_eq!(found, ["neverallowx", "neverallowx"]);
        let v = m.neverallow_violations();
        assert!(v[1].neverallow.span.start > v[0].neverallow.span.start);
    }

    #[test]
    fn a_missing_name_outside_an_optional_is_a_diagnostic() {
        let m = model(&format!(
            "{BASE} (type a) (allow a nowhere_t (file (read)))"
        ));
        assert_eq!(m.diagnostics.len(), 1);
        assert_eq!(m.diagnostics[0].name, "nowhere_t");
        assert_eq!(m.diagnostics[0].kind, SymbolKind::Type);
    }

    #[test]
    fn macros_inheritance_and_in_follow_libsepol() {
        let m = model(&format!(
            "{BASE}
            (type g_t)
            (block tmpl
                (blockabstract tmpl)
                (type process)
                (allow process g_t (file (read)))
            )
            (block app (blockinherit tmpl))
            (in app (allow process g_t (file (write))))
            (macro make ((type t))
                (type made_t)
                (allow t made_t (file (getattr)))
            )
            (block b (call make (app.process)))
            (in nowhere (type x))
            (call no_macro (g_t))"
        ));
        // The abstract block itself declares nothing.
        assert!(
            !m.decls
                .contains_key(&(SymbolKind::Type, "tmpl.process".into()))
        );
        assert_eq!(
            m.allowed("app.process", "g_t", "file"),
            ["read".to_string(), "write".to_string()].into()
        );
        assert_eq!(
            m.allowed("app.process", "b.made_t", "file"),
            ["getattr".to_string()].into()
        );
        let via = |src: &str| {
            m.rules
                .iter()
                .filter(|r| &*r.source == src)
                .map(|r| {
                    r.origin
                        .via
                        .iter()
                        .map(|v| v.what.clone())
                        .collect::<Vec<_>>()
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(
            via("app.process"),
            [
                vec!["blockinherit tmpl".to_string()],
                vec!["in app".to_string()],
                vec!["call make".to_string()]
            ]
        );
        let missing: Vec<(SymbolKind, &str)> = m
            .diagnostics
            .iter()
            .map(|d| (d.kind, d.name.as_str()))
            .collect();
        assert_eq!(
            missing,
            [
                (SymbolKind::Block, "nowhere"),
                (SymbolKind::Macro, "no_macro")
            ]
        );
    }

    #[test]
    fn every_statement_with_a_shared_bad_permission_list_is_caught() {
        // The parse shares one `(bogus)` list between the four rules; the
        // check of a list is kept only when it passes.
        let m = model(
            "(class file (read)) (classorder (file)) (type a)
             (allow a a (file (read)))
             (optional o1 (allow a a (file (bogus))))
             (optional o2 (allow a a (file (bogus))))
             (allow a a (file (bogus)))
             (allow a a (file (bogus)))",
        );
        let dropped: Vec<&str> = m
            .disabled_optionals()
            .iter()
            .map(|o| o.name.as_str())
            .collect();
        assert_eq!(dropped, ["o1", "o2"]);
        assert_eq!(m.diagnostics.len(), 2, "{:?}", m.diagnostics);
    }

    #[test]
    fn extended_permission_values_expand_to_ranges() {
        let ranges = |src: &str| {
            let p = crate::parse(&format!("(permissionx p (ioctl c {src}))")).unwrap();
            let Statement::PermissionX(x) = &p.statements[0] else {
                panic!()
            };
            permx_ranges(&x.permx.values)
        };
        assert_eq!(ranges("(1 2 3 7 (range 5 6))"), [1..=3, 5..=7]);
        assert_eq!(ranges("(not (range 1 0xfffe))"), [0..=0, 0xffff..=0xffff]);
        assert_eq!(ranges("(and (range 0 9) (not (4)))"), [0..=3, 5..=9]);
        assert_eq!(ranges("(xor (range 0 4) (range 2 6))"), [0..=1, 5..=6]);
    }

    #[test]
    fn class_permissions_expand() {
        let m = model(&format!(
            "{BASE}
            (type a)
            (classpermission rw)
            (classpermissionset rw (file (read write)))
            (allow a a rw)"
        ));
        assert_eq!(
            m.allowed("a", "a", "file"),
            ["read".to_string(), "write".to_string()].into()
        );
    }
}
