//! `neverallow` and `neverallowx` checked as libsepol checks them
//! (`check_assertion` in `assertion.c`, called by `cil_binary.c` for each
//! rule): over the rules the binary policy would hold, conditional ones
//! included, with attributes standing for their types.
//!
//! An `allow` rule violates `(neverallow S T (C (P...)))` when it grants a
//! permission of `P` in class `C` to a pair of types with the source in
//! `S` and the target in `T`; for a `self` target, to a type of `S` on
//! itself. It violates `(neverallowx S T (ioctl C (V...)))` when it grants
//! `ioctl` so to a pair of types for which no `allowx` rule of the same
//! table (unconditional or conditional) narrows the commands, or one does
//! and allows a value of `V`.

use rustc_hash::FxHashMap as HashMap;

use super::{Model, Origin, Rule, RuleTarget, XpermRule};
use crate::ast::{AvKind, AvxKind, PermxKind};
use crate::diagnostic::{Code, Diagnostic, Label, Pointer};

/// A `neverallow` or `neverallowx` that an allow rule violates.
#[derive(Clone, Debug)]
pub struct Violation {
    /// `neverallow` or `neverallowx`.
    pub keyword: &'static str,
    /// Where the neverallow is written.
    pub neverallow: Origin,
    /// The allow rules that grant what it forbids, in the order written.
    pub offending: Vec<Origin>,
}

impl Violation {
    /// An error at the neverallow, with each offending rule as a related
    /// place (and the expansions that put each there).
    pub fn to_diagnostic(&self) -> Diagnostic {
        let n = self.offending.len();
        let mut d = Diagnostic::new(
            Code::Neverallow,
            format!(
                "{} check failed: {n} allow rule{} grant{} what it forbids",
                self.keyword,
                if n == 1 { "" } else { "s" },
                if n == 1 { "s" } else { "" },
            ),
            Label::new(
                self.neverallow.file,
                self.neverallow.span,
                Pointer::Keyword,
                "this neverallow",
            ),
        );
        for v in self.neverallow.via.iter().rev() {
            d = d.related(Label::new(
                v.file,
                v.span,
                Pointer::Keyword,
                format!("the neverallow comes from this `{}`", v.what),
            ));
        }
        for o in &self.offending {
            d = d.related(Label::new(o.file, o.span, Pointer::Keyword, "grants it"));
        }
        d
    }
}

/// Sets of types as bits, one per declared type, for every name the
/// rules use; read-only once made, so the cores share it.
struct Types<'m> {
    bits: HashMap<&'m str, Vec<u64>>,
    words: usize,
    none: Vec<u64>,
}

impl<'m> Types<'m> {
    fn new(model: &'m Model) -> Types<'m> {
        let mut index: HashMap<&str, usize> = HashMap::default();
        for d in model.decls.values() {
            if d.kind == super::DeclKind::Type {
                let next = index.len();
                index.entry(&*d.name).or_insert(next);
            }
        }
        let words = index.len().div_ceil(64).max(1);
        let mut bits: HashMap<&'m str, Vec<u64>> = HashMap::default();
        let mut add = |name: &'m str| {
            if bits.contains_key(name) {
                return;
            }
            let mut set = vec![0u64; words];
            let mut one = |t: &str| {
                if let Some(&i) = index.get(t) {
                    set[i / 64] |= 1 << (i % 64);
                }
            };
            match model.attribute_types.get(name) {
                Some(members) => members.iter().for_each(|t| one(t)),
                None => one(model.aliases.get(name).map_or(name, |a| &**a)),
            }
            bits.insert(name, set);
        };
        let targets = |t: &'m RuleTarget| match t {
            RuleTarget::Name(n) => Some(&**n),
            _ => None,
        };
        for r in &model.rules {
            add(&r.source);
            targets(&r.target).into_iter().for_each(&mut add);
        }
        for x in &model.xperm_rules {
            add(&x.source);
            targets(&x.target).into_iter().for_each(&mut add);
        }
        Types {
            bits,
            words,
            none: vec![0u64; words],
        }
    }

    /// The types `name` (a type, alias or attribute) stands for.
    fn of(&self, name: &str) -> &[u64] {
        self.bits.get(name).map_or(&self.none, Vec::as_slice)
    }

    fn bit(&self, t: usize) -> Vec<u64> {
        let mut bits = vec![0u64; self.words];
        bits[t / 64] |= 1 << (t % 64);
        bits
    }
}

fn and(a: &[u64], b: &[u64]) -> Vec<u64> {
    a.iter().zip(b).map(|(x, y)| x & y).collect()
}

fn any(a: &[u64]) -> bool {
    a.iter().any(|&w| w != 0)
}

fn meet(a: &[u64], b: &[u64]) -> bool {
    a.iter().zip(b).any(|(x, y)| x & y != 0)
}

fn meet3(a: &[u64], b: &[u64], c: &[u64]) -> bool {
    a.iter().zip(b).zip(c).any(|((x, y), z)| x & y & z != 0)
}

fn ones(a: &[u64]) -> impl Iterator<Item = usize> + '_ {
    a.iter().enumerate().flat_map(|(w, &bits)| {
        (0..64)
            .filter(move |b| bits >> b & 1 == 1)
            .map(move |b| w * 64 + b)
    })
}

/// An `allowx` with its source types and target types (`None` for
/// `self`).
type Narrowing<'m> = (&'m XpermRule, Vec<u64>, Option<Vec<u64>>);

/// One avtab key an allow rule gives: its source and target types (a
/// `self` rule gives one key per source type).
struct Key {
    source: Vec<u64>,
    target: Vec<u64>,
}

/// Allow rules by class, then by permission list (shared between the rules
/// that write the same list): a neverallow tests each list once.
type ByClass<'m> = HashMap<&'m str, Vec<(&'m std::collections::BTreeSet<String>, Vec<&'m Rule>)>>;

impl Model {
    /// Every `neverallow` and `neverallowx` an allow rule violates, in the
    /// order the neverallows are written, as `secilc` (without `-N`)
    /// reports them.
    pub fn neverallow_violations(&self) -> Vec<Violation> {
        let types = Types::new(self);
        let mut groups: HashMap<(&str, usize), usize> = HashMap::default();
        let mut by_class: ByClass<'_> = HashMap::default();
        for r in self.rules.iter().filter(|r| r.kind == AvKind::Allow) {
            for (c, p) in &r.perms {
                let list = by_class.entry(&**c).or_default();
                let at = *groups
                    .entry((&**c, std::sync::Arc::as_ptr(p) as usize))
                    .or_insert_with(|| {
                        list.push((&**p, Vec::new()));
                        list.len() - 1
                    });
                let rules = &mut list[at].1;
                if !rules.last().is_some_and(|l| std::ptr::eq(*l, r)) {
                    rules.push(r);
                }
            }
        }
        let never: Vec<&Rule> = self
            .rules
            .iter()
            .filter(|r| r.kind == AvKind::NeverAllow)
            .collect();
        let found =
            super::parallel_filter_map(&never, |n, _: &mut ()| self.violated(&types, &by_class, n));
        let mut out: Vec<Violation> = found.into_iter().map(|(_, v)| v).collect();
        for n in self
            .xperm_rules
            .iter()
            .filter(|x| x.kind == AvxKind::NeverAllow)
        {
            let perm = match n.xkind {
                PermxKind::Ioctl => "ioctl",
                PermxKind::Nlmsg => "nlmsg",
            };
            let mut offending: Vec<Origin> = Vec::new();
            for (perms, rules) in by_class
                .get(&*n.class)
                .map(Vec::as_slice)
                .unwrap_or_default()
            {
                if !perms.contains(perm) {
                    continue;
                }
                for r in rules {
                    let keys = self.keys(&types, &n.source, &n.target, r);
                    if keys.iter().any(|k| self.xperms_violated(&types, n, r, k))
                        && !offending.contains(&r.origin)
                    {
                        offending.push(r.origin.clone());
                    }
                }
            }
            if !offending.is_empty() {
                offending.sort_by_key(|o| (o.file, o.span.start));
                out.push(Violation {
                    keyword: "neverallowx",
                    neverallow: n.origin.clone(),
                    offending,
                });
            }
        }
        out
    }

    /// The violation of neverallow `n`, if an allow rule breaks it
    /// (`check_assertion_avtab_match`).
    fn violated(&self, types: &Types<'_>, by_class: &ByClass<'_>, n: &Rule) -> Option<Violation> {
        let nsrc = types.of(&n.source);
        let ntgt = match &n.target {
            RuleTarget::Name(t) => Some(types.of(t)),
            RuleTarget::SelfTarget => None,
            // `notself` and `other` (libsepol 3.6+) are not checked.
            RuleTarget::NotSelf | RuleTarget::Other => return None,
        };
        let mut offending: Vec<&Rule> = Vec::new();
        for (class, perms) in &n.perms {
            for (granted, rules) in by_class
                .get(&**class)
                .map(Vec::as_slice)
                .unwrap_or_default()
            {
                if granted.is_disjoint(perms) {
                    continue;
                }
                for r in rules {
                    let rsrc = types.of(&r.source);
                    let hit = meet(nsrc, rsrc)
                        && match (&r.target, ntgt) {
                            (RuleTarget::Name(t), Some(nt)) => meet(nt, types.of(t)),
                            // A self neverallow: a matching source that the
                            // key's target holds.
                            (RuleTarget::Name(t), None) => meet3(nsrc, rsrc, types.of(t)),
                            // The binary's keys of a self rule are (s, s).
                            (RuleTarget::SelfTarget, Some(nt)) => meet3(nsrc, rsrc, nt),
                            (RuleTarget::SelfTarget, None) => true,
                            _ => false,
                        };
                    if hit && !offending.iter().any(|o| std::ptr::eq(*o, *r)) {
                        offending.push(r);
                    }
                }
            }
        }
        if offending.is_empty() {
            return None;
        }
        offending.sort_by_key(|r| (r.origin.file, r.origin.span.start));
        Some(Violation {
            keyword: "neverallow",
            neverallow: n.origin.clone(),
            offending: offending.into_iter().map(|r| r.origin.clone()).collect(),
        })
    }

    /// The keys of allow rule `r` that a neverallow of `n_source` and
    /// `n_target` matches, each narrowed to the types that match: the
    /// source to the neverallow's sources, the target to its targets (for
    /// a `self` neverallow, to the matching sources the key's target
    /// holds).
    fn keys(&self, types: &Types<'_>, n_source: &str, n_target: &RuleTarget, r: &Rule) -> Vec<Key> {
        let nsrc = types.of(n_source);
        let rsrc = types.of(&r.source);
        let src = and(nsrc, rsrc);
        if !any(&src) {
            return Vec::new();
        }
        let ntgt = match n_target {
            RuleTarget::Name(t) => Some(types.of(t)),
            RuleTarget::SelfTarget => None,
            RuleTarget::NotSelf | RuleTarget::Other => return Vec::new(),
        };
        let rule_keys: Vec<(Vec<u64>, Vec<u64>)> = match &r.target {
            RuleTarget::Name(t) => vec![(rsrc.to_vec(), types.of(t).to_vec())],
            RuleTarget::SelfTarget => ones(&src).map(|t| (types.bit(t), types.bit(t))).collect(),
            RuleTarget::NotSelf | RuleTarget::Other => Vec::new(),
        };
        let mut out = Vec::new();
        for (ks, kt) in rule_keys {
            let source = and(nsrc, &ks);
            if !any(&source) {
                continue;
            }
            let target = match ntgt {
                Some(t) => and(t, &kt),
                None => and(&source, &kt),
            };
            if any(&target) {
                out.push(Key { source, target });
            }
        }
        out
    }

    /// `check_assertion_extended_permissions`: whether for a pair of the
    /// key's types no `allowx` of the allow rule's table narrows the
    /// commands, or one allows a value `n` forbids.
    fn xperms_violated(&self, types: &Types<'_>, n: &XpermRule, r: &Rule, key: &Key) -> bool {
        let self_rule = n.target == RuleTarget::SelfTarget;
        // Each allowx of the same table: its values, source types and
        // target types (`None` for `self`).
        let narrowing: Vec<Narrowing<'_>> = self
            .xperm_rules
            .iter()
            .filter(|x| {
                x.kind == AvxKind::Allow
                    && x.xkind == n.xkind
                    && x.class == n.class
                    && x.condition.is_some() == r.condition.is_some()
            })
            .filter_map(|x| {
                let target = match &x.target {
                    RuleTarget::Name(t) => Some(types.of(t).to_vec()),
                    RuleTarget::SelfTarget => None,
                    RuleTarget::NotSelf | RuleTarget::Other => return None,
                };
                Some((x, types.of(&x.source).to_vec(), target))
            })
            .collect();
        let overlaps = |x: &XpermRule| {
            x.values.iter().any(|a| {
                n.values
                    .iter()
                    .any(|b| a.start() <= b.end() && b.start() <= a.end())
            })
        };
        let has = |bits: &[u64], i: usize| bits[i / 64] >> (i % 64) & 1 == 1;
        for s in ones(&key.source) {
            for t in ones(&key.target) {
                if self_rule && s != t {
                    continue;
                }
                let mut found = false;
                for (x, xs, xt) in &narrowing {
                    let hit_target = match xt {
                        Some(xt) => has(xt, t),
                        None => s == t,
                    };
                    if has(xs, s) && hit_target {
                        found = true;
                        if overlaps(x) {
                            return true;
                        }
                    }
                }
                if !found {
                    return true;
                }
            }
        }
        false
    }
}
