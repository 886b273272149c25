//! What a policy means: names resolved in their namespaces, optionals
//! decided, tunables decided, attributes expanded, and every access-vector
//! rule with where it came from.
//!
//! It reads a policy as secilc reads it, stage by stage as libsepol's
//! resolver does:
//!
//! - `tree`: the statements as a tree with a symbol table in each block,
//!   macro and (until it is resolved) `in`; `tree::passes` expands it in
//!   `cil_resolve_ast.c`'s order (`tunableif` decided, `in` before
//!   inheritance, `blockinherit` linked, checked for loops and copied,
//!   `blockabstract`, `in` after, each call given a copy of its macro);
//!   `tree::lookup` finds names as `cil_resolve_name` does (the statement's
//!   parents, an inherited copy's original surroundings, a macro's own
//!   names, then the call's arguments, then the macro's surroundings; the
//!   global namespace; dotted names block by block);
//! - `check`: every statement's names, permissions and call arguments,
//!   optionals disabled (with the reason kept) until nothing changes;
//! - `build`: the model, from the statements that remain (`eval`:
//!   attribute, role, user and permission expressions, extended
//!   permissions as ranges); `names`: what each statement declares and
//!   names, and what a call's arguments stand for;
//! - `neverallow`: `neverallow` and `neverallowx` checked as libsepol's
//!   `check_assertion` checks them ([`Model::neverallow_violations`]);
//! - `model` and `problems`: the public types.
//!
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

mod build;
mod check;
mod eval;
mod model;
mod names;
mod problems;

use check::Resolver;
use eval::*;
pub use model::*;
use names::*;
pub use problems::*;

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
