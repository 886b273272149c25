//! Checks that need no base policy: permissions that do not exist for their
//! class, names declared twice in one namespace, and statements too new for
//! the libsepol release a policy targets.
//!
//! ```
//! use cilgen::validate::{validate, ValidateOptions};
//! let src = "(allow process self (tun_socket (attch_queue)))";
//! let policy = cilgen::parse(src)?;
//! let problems = validate(&policy, &ValidateOptions::default());
//! assert_eq!(
//!     problems[0].render(src, "virt.cil"),
//!     "\
//! virt.cil:1:34: error[E0101]: class `tun_socket` has no permission `attch_queue`
//!   |
//! 1 | (allow process self (tun_socket (attch_queue)))
//!   |                                  ^^^^^^^^^^^ not a permission of this class"
//! );
//! # Ok::<(), cilgen::ParseError>(())
//! ```

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use crate::ast::names::NameKind;
use crate::ast::*;
use crate::catalog::Catalog;
use crate::error::NameError;
use crate::span::Span;

/// A libsepol release, for the dialect check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[allow(missing_docs)]
pub enum Release {
    V3_2,
    V3_3,
    V3_4,
    V3_5,
    V3_6,
    V3_7,
    V3_8,
    V3_9,
}

impl Release {
    /// Every release the dialect check knows, oldest first.
    pub const ALL: [Release; 8] = [
        Release::V3_2,
        Release::V3_3,
        Release::V3_4,
        Release::V3_5,
        Release::V3_6,
        Release::V3_7,
        Release::V3_8,
        Release::V3_9,
    ];

    /// `"3.4"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Release::V3_2 => "3.2",
            Release::V3_3 => "3.3",
            Release::V3_4 => "3.4",
            Release::V3_5 => "3.5",
            Release::V3_6 => "3.6",
            Release::V3_7 => "3.7",
            Release::V3_8 => "3.8",
            Release::V3_9 => "3.9",
        }
    }
}

impl fmt::Display for Release {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Release {
    type Err = String;
    fn from_str(s: &str) -> Result<Release, String> {
        Release::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown libsepol release `{s}`; known: {}",
                    Release::ALL.map(Release::as_str).join(", ")
                )
            })
    }
}

/// What a check found.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Problem {
    /// A permission the class does not have.
    #[error("class `{class}` has no permission `{perm}`")]
    UnknownPermission {
        /// The class.
        class: String,
        /// The permission.
        perm: String,
    },
    /// A permission the class does not have, inside a macro: secilc
    /// resolves a macro's body only where it is called, so this is an
    /// error at each call and nothing while there is none.
    #[error(
        "class `{class}` has no permission `{perm}` (in macro `{macro_name}`: an error wherever it is called; secilc does not look at a macro that is never called)"
    )]
    UnknownPermissionInMacro {
        /// The class.
        class: String,
        /// The permission.
        perm: String,
        /// The macro, as written.
        macro_name: String,
    },
    /// A name declared twice in one namespace.
    #[error("`{name}` is already declared in this namespace (as {first})")]
    Duplicate {
        /// The name.
        name: String,
        /// The keyword of the first declaration.
        first: &'static str,
    },
    /// A declared name that libsepol reserves for its kind (only trees built
    /// in code can hold one: the parser refuses it).
    #[error("`{name}` is a reserved word: {kind} cannot be named so")]
    ReservedName {
        /// The name.
        name: String,
        /// What it names.
        kind: &'static str,
    },
    /// A statement or form the target release rejects.
    #[error("{what} needs libsepol {since} or later; the target is {target}")]
    TooNew {
        /// What is too new.
        what: String,
        /// First release that accepts it.
        since: Release,
        /// The target.
        target: Release,
    },
}

/// A problem and where it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// What.
    pub problem: Problem,
    /// The statement it was found in.
    pub span: Span,
    /// For a duplicate, the first declaration.
    pub related: Option<Span>,
}

impl Diagnostic {
    /// The diagnostic in the shape every layer shares: its code, the token
    /// it is about (the permission, the declared name) and, for a
    /// duplicate, the first declaration; `file` is the index of the
    /// policy's file among those given to
    /// [`render`](crate::diagnostic::Diagnostic::render).
    pub fn to_diagnostic(&self, file: usize) -> crate::diagnostic::Diagnostic {
        use crate::diagnostic::{Code, Diagnostic as D, Label, Pointer};
        let (code, pointer, label) = match &self.problem {
            Problem::UnknownPermission { class, perm } => (
                Code::UnknownPermission,
                Pointer::Permission {
                    class: class.clone(),
                    perm: perm.clone(),
                },
                "not a permission of this class",
            ),
            Problem::UnknownPermissionInMacro { class, perm, .. } => (
                Code::MacroPermission,
                Pointer::Permission {
                    class: class.clone(),
                    perm: perm.clone(),
                },
                "not a permission of this class",
            ),
            Problem::Duplicate { .. } => (Code::Duplicate, Pointer::Arg(0), "declared again"),
            Problem::ReservedName { name, .. } => {
                (Code::ReservedName, Pointer::Atom(name.clone()), "reserved")
            }
            Problem::TooNew { .. } => (Code::TooNew, Pointer::Keyword, ""),
        };
        let mut d = D::new(
            code,
            self.problem.to_string(),
            Label::new(file, self.span, pointer, label),
        );
        if let Some(first) = self.related {
            d = d.related(Label::new(
                file,
                first,
                Pointer::Arg(0),
                "first declared here",
            ));
        }
        d
    }

    /// [`to_diagnostic`](Diagnostic::to_diagnostic) rendered against the
    /// text of its file: `file:line:col: error[CODE]: message`, then the
    /// source with the offending token underlined.
    pub fn render(&self, src: &str, file: &str) -> String {
        self.to_diagnostic(0)
            .render(&[crate::diagnostic::SourceFile::new(file, src)])
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (bytes {:?})", self.problem, self.span.range())
    }
}

/// What to check against.
#[derive(Clone, Debug, Default)]
pub struct ValidateOptions {
    /// Report statements the release rejects; `None` skips the check.
    pub release: Option<Release>,
}

impl ValidateOptions {
    /// Also check against a libsepol release.
    pub fn release(release: Release) -> ValidateOptions {
        ValidateOptions {
            release: Some(release),
        }
    }
}

/// Runs every check; an empty result means nothing was found. Permissions
/// are checked against the kernel's catalog, where the policy declares a
/// class, against its declaration.
pub fn validate(policy: &Policy, options: &ValidateOptions) -> Vec<Diagnostic> {
    validate_with(policy, options, &catalog_of(&[policy]))
}

/// The kernel's catalog with what `policies` declare: a class they declare
/// has the permissions they declare (and its common's), whatever the
/// kernel's catalog says; class maps are added. Give it every file of a
/// policy, to check each file with [`validate_with`].
pub fn catalog_of(policies: &[&Policy]) -> Catalog {
    // A classcommon may come before its common, or in another file: those
    // are applied after the walk.
    let mut catalog = Catalog::kernel().clone();
    let mut commons: HashMap<&str, Vec<&str>> = HashMap::new();
    let mut class_commons = Vec::new();
    for s in policies.iter().flat_map(|p| p.walk()) {
        match s {
            Statement::Common(c) => {
                commons.insert(
                    c.name.as_str(),
                    c.perms.iter().map(|p| p.as_str()).collect(),
                );
            }
            Statement::Class(c) => catalog.set_class(&c.name, c.perms.iter().map(|p| p.as_str())),
            Statement::ClassMap(c) => {
                catalog.add_class(&c.name, c.perms.iter().map(|p| p.as_str()));
            }
            Statement::ClassCommon(cc) => class_commons.push((cc.class.base(), cc.common.base())),
            _ => {}
        }
    }
    for (class, common) in class_commons {
        if let Some(perms) = commons.get(common) {
            catalog.add_class(class, perms.iter().copied());
        }
    }
    catalog
}

/// [`validate`] with permissions checked against `catalog` (see
/// [`catalog_of`]).
pub fn validate_with(
    policy: &Policy,
    options: &ValidateOptions,
    catalog: &Catalog,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    check_statements(&policy.statements, None, catalog, options, &mut out);
    let mut seen = Scope::default();
    check_duplicates(&policy.statements, &mut seen, &mut out);
    out
}

/// The per-statement checks, through every container; `in_macro` is the
/// macro the statements are in.
fn check_statements(
    stmts: &[Statement],
    in_macro: Option<&str>,
    catalog: &Catalog,
    options: &ValidateOptions,
    out: &mut Vec<Diagnostic>,
) {
    for s in stmts {
        check_permissions(s, in_macro, catalog, out);
        if let Some(target) = options.release {
            check_release(s, target, out);
        }
        let inner = match s {
            Statement::Macro(m) => Some(m.name.as_str()),
            _ => in_macro,
        };
        for body in s.bodies() {
            check_statements(body, inner, catalog, options, out);
        }
    }
}

fn check_classperms(
    cp: &ClassPerms,
    span: Span,
    in_macro: Option<&str>,
    catalog: &Catalog,
    out: &mut Vec<Diagnostic>,
) {
    let ClassPerms::Anonymous { class, perms } = cp else {
        return;
    };
    let name = class.base();
    // Unknown classes may be declared by another module: nothing to check.
    let Some(known) = catalog.permissions(name) else {
        return;
    };
    for perm in perms.leaves() {
        if !known.iter().any(|k| k == perm.as_str()) {
            let (class, perm) = (name.to_string(), perm.to_string());
            out.push(Diagnostic {
                problem: match in_macro {
                    Some(m) => Problem::UnknownPermissionInMacro {
                        class,
                        perm,
                        macro_name: m.to_string(),
                    },
                    None => Problem::UnknownPermission { class, perm },
                },
                span,
                related: None,
            });
        }
    }
}

fn check_permissions(
    s: &Statement,
    in_macro: Option<&str>,
    catalog: &Catalog,
    out: &mut Vec<Diagnostic>,
) {
    match s {
        Statement::AvRule(r) => check_classperms(&r.classperms, r.span, in_macro, catalog, out),
        Statement::ClassPermissionSet(c) => {
            check_classperms(&c.classperms, c.span, in_macro, catalog, out)
        }
        Statement::ClassMapping(c) => {
            check_classperms(&c.classperms, c.span, in_macro, catalog, out)
        }
        _ => {}
    }
}

fn too_new(out: &mut Vec<Diagnostic>, what: String, since: Release, target: Release, span: Span) {
    if target < since {
        out.push(Diagnostic {
            problem: Problem::TooNew {
                what,
                since,
                target,
            },
            span,
            related: None,
        });
    }
}

/// `notself` and `other` as targets came with libsepol 3.6.
fn check_target(rule_target: &Ref, span: Span, target: Release, out: &mut Vec<Diagnostic>) {
    if matches!(rule_target.as_str(), "notself" | "other") {
        too_new(
            out,
            format!("target `{rule_target}`"),
            Release::V3_6,
            target,
            span,
        );
    }
}

fn check_release(s: &Statement, target: Release, out: &mut Vec<Diagnostic>) {
    match s {
        Statement::AvRule(r) => {
            if r.kind == AvKind::Deny {
                too_new(out, "`deny`".into(), Release::V3_6, target, r.span);
            }
            check_target(&r.target, r.span, target, out);
        }
        Statement::AvRuleX(r) => {
            check_target(&r.target, r.span, target, out);
            if let PermxArg::Anonymous(p) = &r.permx
                && p.kind == PermxKind::Nlmsg
            {
                too_new(
                    out,
                    "`nlmsg` extended permissions".into(),
                    Release::V3_8,
                    target,
                    r.span,
                );
            }
        }
        Statement::PermissionX(p) if p.permx.kind == PermxKind::Nlmsg => {
            too_new(
                out,
                "`nlmsg` extended permissions".into(),
                Release::V3_8,
                target,
                p.span,
            );
        }
        Statement::TypeNeverAudit(t) => {
            too_new(
                out,
                "`typeneveraudit`".into(),
                Release::V3_9,
                target,
                t.span,
            );
        }
        Statement::GenFsCon(g) if g.file_type.is_some() => {
            too_new(
                out,
                "a `genfscon` file type".into(),
                Release::V3_4,
                target,
                g.span,
            );
        }
        Statement::NodeCon(n)
            if matches!(n.address, IpArg::Bare(_)) || matches!(n.mask, IpArg::Bare(_)) =>
        {
            too_new(
                out,
                "a `nodecon` address without parentheses".into(),
                Release::V3_6,
                target,
                n.span,
            );
        }
        Statement::Conditional(c) if c.kind == CondKind::Boolean => {
            for s in c.if_true.iter().chain(&c.if_false).flatten() {
                if let Statement::AvRuleX(r) = s {
                    too_new(
                        out,
                        format!("`{}` inside `booleanif`", r.kind.keyword()),
                        Release::V3_8,
                        target,
                        r.span,
                    );
                }
            }
        }
        Statement::In(i) if i.position.is_some() => {
            too_new(
                out,
                "`in before` / `in after`".into(),
                Release::V3_3,
                target,
                i.span,
            );
        }
        _ => {}
    }
}

/// Declared names of one namespace, by symbol table, and the order they
/// were declared in (so a conditional branch's names can be taken back).
#[derive(Default)]
struct Scope<'p> {
    names: rustc_hash::FxHashMap<(&'static str, &'p str), (&'static str, Span)>,
    order: Vec<(&'static str, &'p str)>,
}

/// The symbol table a declaration goes into, and its keyword.
fn declaration(s: &Statement) -> Option<(&'static str, &'static str, &Name)> {
    Some(match s {
        Statement::Type(x) => ("types", "type", &x.name),
        Statement::TypeAlias(x) => ("types", "typealias", &x.name),
        Statement::TypeAttribute(x) => ("types", "typeattribute", &x.name),
        Statement::Role(x) => ("roles", "role", &x.name),
        Statement::RoleAttribute(x) => ("roles", "roleattribute", &x.name),
        Statement::Class(x) => ("classes", "class", &x.name),
        Statement::ClassMap(x) => ("classes", "classmap", &x.name),
        Statement::Common(x) => ("commons", "common", &x.name),
        Statement::ClassPermission(x) => ("classpermissions", "classpermission", &x.name),
        Statement::PermissionX(x) => ("permissionxs", "permissionx", &x.name),
        Statement::Boolean(x) => ("booleans", "boolean", &x.name),
        Statement::Tunable(x) => ("tunables", "tunable", &x.name),
        Statement::Block(x) => ("blocks", "block", &x.name),
        Statement::Optional(x) => ("blocks", "optional", &x.name),
        Statement::Macro(x) => ("blocks", "macro", &x.name),
        Statement::User(x) => ("users", "user", &x.name),
        Statement::UserAttribute(x) => ("users", "userattribute", &x.name),
        Statement::Sensitivity(x) => ("sensitivities", "sensitivity", &x.name),
        Statement::SensitivityAlias(x) => ("sensitivities", "sensitivityalias", &x.name),
        Statement::Category(x) => ("categories", "category", &x.name),
        Statement::CategoryAlias(x) => ("categories", "categoryalias", &x.name),
        Statement::CategorySet(x) => ("categories", "categoryset", &x.name),
        Statement::Level(x) => ("levels", "level", &x.name),
        Statement::LevelRange(x) => ("levelranges", "levelrange", &x.name),
        Statement::Context(x) => ("contexts", "context", &x.name),
        Statement::IpAddr(x) => ("ipaddrs", "ipaddr", &x.name),
        Statement::Sid(x) => ("sids", "sid", &x.name),
        Statement::PolicyCap(x) => ("policycaps", "policycap", &x.name),
        _ => return None,
    })
}

/// Names a statement declares that libsepol reserves for their kind.
fn check_reserved(s: &Statement, out: &mut Vec<Diagnostic>) {
    let mut names: Vec<(NameKind, &Name)> = Vec::new();
    match s {
        Statement::Class(c) => names.extend(c.perms.iter().map(|p| (NameKind::Permission, p))),
        Statement::ClassMap(c) => names.extend(c.perms.iter().map(|p| (NameKind::Permission, p))),
        Statement::Common(c) => names.extend(c.perms.iter().map(|p| (NameKind::Permission, p))),
        Statement::Macro(m) => names.extend(m.params.iter().map(|p| {
            let kind = match p.kind {
                ParamKind::Type => NameKind::Type,
                ParamKind::Role => NameKind::Role,
                ParamKind::User => NameKind::User,
                ParamKind::Category | ParamKind::CategorySet => NameKind::Category,
                ParamKind::Boolean => NameKind::Boolean,
                _ => NameKind::Other,
            };
            (kind, &p.name)
        })),
        _ => {}
    }
    if let Some((_, keyword, name)) = declaration(s) {
        names.push((NameKind::of_keyword(keyword), name));
    }
    for (kind, name) in names {
        if let Err(NameError::ReservedFor { name, kind }) = kind.check(name) {
            out.push(Diagnostic {
                problem: Problem::ReservedName { name, kind },
                span: s.span(),
                related: None,
            });
        }
    }
}

fn check_duplicates<'p>(stmts: &'p [Statement], scope: &mut Scope<'p>, out: &mut Vec<Diagnostic>) {
    for s in stmts {
        check_reserved(s, out);
        if let Some((table, keyword, name)) = declaration(s) {
            let key = (table, name.as_str());
            if let Some(&(first, at)) = scope.names.get(&key) {
                // libsepol lets optionals share a name
                // (`cil_allow_multiple_decls`); not a block and an optional.
                let shared = first == "optional" && matches!(s, Statement::Optional(_));
                if !shared {
                    out.push(Diagnostic {
                        problem: Problem::Duplicate {
                            name: name.to_string(),
                            first,
                        },
                        span: s.span(),
                        related: Some(at),
                    });
                }
            } else {
                scope.names.insert(key, (keyword, s.span()));
                scope.order.push(key);
            }
        }
        match s {
            // Blocks and macros are namespaces of their own.
            Statement::Block(b) => check_duplicates(&b.body, &mut Scope::default(), out),
            Statement::Macro(m) => check_duplicates(&m.body, &mut Scope::default(), out),
            // An optional declares into the enclosing namespace.
            Statement::Optional(o) => check_duplicates(&o.body, scope, out),
            // Only one branch survives, so each branch is checked on its own.
            Statement::Conditional(c) => {
                for branch in [&c.if_true, &c.if_false].into_iter().flatten() {
                    let mark = scope.order.len();
                    check_duplicates(branch, scope, out);
                    for key in scope.order.drain(mark..) {
                        scope.names.remove(&key);
                    }
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(src: &str, release: Option<Release>) -> Vec<String> {
        let p = crate::parse(src).unwrap();
        validate(&p, &ValidateOptions { release })
            .iter()
            .map(|d| d.render(src, "t.cil"))
            .collect()
    }

    #[test]
    fn unknown_permissions_point_at_the_permission() {
        assert_eq!(
            problems("(allow a b (file (read wrtie)))", None),
            [indoc::indoc! {"
                t.cil:1:24: error[E0101]: class `file` has no permission `wrtie`
                  |
                1 | (allow a b (file (read wrtie)))
                  |                        ^^^^^ not a permission of this class"}]
        );
        // The caret is under the permission, not under the class that
        // reads the same.
        let found = problems("(class file (read))(allow a b (file (file)))", None);
        assert!(
            found[0].starts_with("t.cil:1:38: error[E0101]"),
            "{found:?}"
        );
        assert!(problems("(allow a b (file (and (all) (not (write)))))", None).is_empty());
        // Unknown classes may come from other modules: not reported.
        assert!(problems("(allow a b (my_class (anything)))", None).is_empty());
        // A class declared here is checked against its declaration.
        assert!(
            problems(
                "(common c (x))(class k (y))(classcommon k c)(allow a b (k (x y)))",
                None
            )
            .is_empty()
        );
        assert_eq!(problems("(class k (y))(allow a b (k (z)))", None).len(), 1);
    }

    #[test]
    fn optionals_may_share_a_name_as_in_libsepol() {
        let p = crate::parse(
            "(type t) (optional o (allow t t (file (read)))) (optional o (type t) (allow t t (file (write))))
             (block o (type u))",
        )
        .unwrap();
        let found = validate(&p, &ValidateOptions::default());
        // Two optionals of one name pass, and the second's body is still
        // checked (`t` again); a block of that name does not pass.
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(matches!(
            found[0].problem,
            Problem::Duplicate { first: "type", .. }
        ));
        assert!(matches!(
            found[1].problem,
            Problem::Duplicate {
                first: "optional",
                ..
            }
        ));
    }

    #[test]
    fn duplicates_are_per_namespace() {
        assert_eq!(
            problems("(user u)(userattribute u)(sid s)(sid s)", None).len(),
            2
        );
        let found = problems("(type a)(typeattribute a)(block b (type a))(role a)", None);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            found[0],
            indoc::indoc! {"
                t.cil:1:24: error[E0102]: `a` is already declared in this namespace (as type)
                  |
                1 | (type a)(typeattribute a)(block b (type a))(role a)
                  |       -                ^ declared again
                  |       |
                  |       first declared here"}
        );
        assert!(problems("(tunableif t (true (type x)) (false (type x)))", None).is_empty());
        assert_eq!(problems("(type x)(optional o (type x))", None).len(), 1);
    }

    #[test]
    fn built_trees_with_reserved_names_are_reported() {
        use crate::builder::*;
        let mut policy = Policy::new();
        policy.push(ty(Name::new("self").unwrap()));
        policy.push(Block {
            name: Name::new("all").unwrap(),
            body: vec![],
            span: Span::DUMMY,
        });
        let found: Vec<String> = validate(&policy, &ValidateOptions::default())
            .iter()
            .map(|d| d.problem.to_string())
            .collect();
        assert_eq!(
            found,
            ["`self` is a reserved word: a type, type attribute or type alias cannot be named so"]
        );
    }

    #[test]
    fn release_check_names_what_is_too_new() {
        let src = "(deny a b (file (read)))(allow a notself (file (read)))(typeneveraudit a)\
                   (allowx a b (nlmsg netlink_route_socket (1)))(in before b (type t))\
                   (genfscon sysfs \"/\" dir (u r t ((s0) (s0))))\
                   (nodecon 10.0.0.0 (255.0.0.0) ctx)\
                   (booleanif b (true (allowx a b (ioctl tcp_socket (1)))))";
        assert_eq!(problems(src, Some(Release::V3_4)).len(), 6);
        assert_eq!(problems(src, Some(Release::V3_3)).len(), 7);
        assert_eq!(problems(src, Some(Release::V3_2)).len(), 8);
        assert_eq!(problems(src, Some(Release::V3_6)).len(), 3);
        assert_eq!(problems(src, Some(Release::V3_8)).len(), 1);
        assert!(problems(src, Some(Release::V3_9)).is_empty());
        assert!(problems(src, None).is_empty());
        assert_eq!("3.7".parse::<Release>(), Ok(Release::V3_7));
        assert!("4.0".parse::<Release>().is_err());
    }
}
