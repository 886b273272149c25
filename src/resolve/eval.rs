//! Sets and values: attribute and permission expressions evaluated,
//! extended permissions as ranges, and the work shared out between cores.

use super::*;

/// The values an extended-permission expression stands for, as sorted,
/// disjoint, non-adjacent ranges.
pub(super) fn permx_ranges(e: &Expr<PermxValue>) -> Vec<RangeInclusive<u16>> {
    const WORDS: usize = 1 << 10;
    pub(super) fn leaf(t: &Term<PermxValue>) -> Vec<u64> {
        match t {
            Term::Leaf(v) => {
                let mut bits = vec![0u64; WORDS];
                bits[usize::from(v.value) / 64] |= 1 << (v.value % 64);
                bits
            }
            Term::Expr(e) => eval(e),
        }
    }
    pub(super) fn zip(a: Vec<u64>, b: Vec<u64>, f: fn(u64, u64) -> u64) -> Vec<u64> {
        a.into_iter().zip(b).map(|(x, y)| f(x, y)).collect()
    }
    pub(super) fn eval(e: &Expr<PermxValue>) -> Vec<u64> {
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
    for (w, &word) in bits.iter().enumerate() {
        // A word that neither starts nor ends a range is passed whole.
        match (word, start) {
            (0, None) | (u64::MAX, Some(_)) => continue,
            _ => {}
        }
        for b in 0..64u16 {
            let v = w as u16 * 64 + b;
            let on = word >> b & 1 == 1;
            match (on, start) {
                (true, None) => start = Some(v),
                (false, Some(s)) => {
                    out.push(s..=v - 1);
                    start = None;
                }
                _ => {}
            }
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
pub(super) type Scratch<'s> = (
    Vec<(SymbolKind, &'s str)>,
    rustc_hash::FxHashSet<(usize, usize)>,
);

/// `f` over `items`, shared out between the cores in order-keeping
/// chunks, each with a scratch buffer of its own; the results in the
/// items' order. Small inputs stay on the calling thread.
pub(super) fn parallel_filter_map<'s, T: Sync, R: Send, B: Default>(
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

pub(super) fn resolve_alias(aliases: &rustc_hash::FxHashMap<Sym, Sym>, name: Sym) -> Sym {
    aliases.get(&name).cloned().unwrap_or(name)
}

pub(super) type Lookup<'l> = dyn Fn(SymbolKind, &str, usize) -> Option<Sym> + 'l;

#[allow(clippy::too_many_arguments)]
pub(super) fn expand_attribute(
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
pub(super) fn eval_set<T: Ord + Clone>(
    t: &Term,
    universe: &BTreeSet<T>,
    leaf: &mut dyn FnMut(&Ref) -> BTreeSet<T>,
) -> BTreeSet<T> {
    match t {
        Term::Leaf(r) => leaf(r),
        Term::Expr(e) => eval_set_expr(e, universe, leaf),
    }
}

pub(super) fn eval_set_expr<T: Ord + Clone>(
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
pub(super) fn expand_classperms(
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
pub(super) fn unknown_permission(
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

pub(super) fn term_leaves<'t>(t: &'t Term, out: &mut Vec<&'t Ref>) {
    match t {
        Term::Leaf(r) => out.push(r),
        Term::Expr(e) => expr_leaves(e, out),
    }
}

pub(super) fn expr_leaves<'t>(e: &'t Expr, out: &mut Vec<&'t Ref>) {
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
