//! The meaning of a policy, as `resolve` gives it: declarations, rules
//! with their origin, attributes, roles and users, and the queries on them.

use super::*;

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
    pub(super) opt: Option<usize>,
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
    pub(super) parent: Option<usize>,
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
    pub(super) attribute_types: BTreeMap<Sym, BTreeSet<Sym>>,
    /// Permissive domains (`typepermissive`).
    pub(super) permissive: BTreeSet<Sym>,
    /// Role attributes: their member roles, expanded.
    pub(super) role_attributes: BTreeMap<Sym, BTreeSet<Sym>>,
    /// User attributes: their member users, expanded.
    pub(super) user_attributes: BTreeMap<Sym, BTreeSet<Sym>>,
    /// Each role's types (`roletype`), attributes expanded.
    pub(super) role_types: BTreeMap<Sym, BTreeSet<Sym>>,
    /// Each user's roles (`userrole`), attributes expanded.
    pub(super) user_roles: BTreeMap<Sym, BTreeSet<Sym>>,
    /// Type aliases: their actual types.
    pub(super) aliases: rustc_hash::FxHashMap<Sym, Sym>,
    /// Class permissions: (class, permissions) pairs.
    pub(super) class_permissions: BTreeMap<Sym, PermsPerClass>,
    /// Class maps: for each permission, the (class, permissions) pairs its
    /// `classmapping` statements give.
    pub(super) class_mappings: BTreeMap<Sym, BTreeMap<String, PermsPerClass>>,
    /// For [`Model::allowed`], built on first use.
    pub(super) index: std::sync::OnceLock<AllowIndex>,
}

/// Unconditional allow rules by class and source name, and for each type
/// the names that stand for it (itself and its attributes).
#[derive(Clone, Debug, Default)]
pub(super) struct AllowIndex {
    pub(super) names: HashMap<Sym, Vec<Sym>>,
    /// By class, then by source name.
    pub(super) rules: HashMap<Sym, HashMap<Sym, Vec<usize>>>,
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
    pub(super) fn target_matches(&self, r: &Rule, source: &str, target: &str) -> bool {
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

    pub(super) fn reaches(
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

    pub(super) fn build_index(&self) -> AllowIndex {
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
