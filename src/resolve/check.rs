//! The resolver: the expanded tree's statements checked name by name, and
//! optionals disabled until nothing changes (libsepol restarts its
//! resolution the same way).

use super::*;

pub(super) struct Resolver<'a> {
    pub(super) tree: Tree<'a>,
    pub(super) items: Vec<Item<'a>>,
    /// The expanded calls: their arguments are resolved where they stand.
    pub(super) calls: Vec<NodeId>,
}

impl<'a> Resolver<'a> {
    pub(super) fn enabled(&self, opt: Option<usize>) -> bool {
        self.tree.enabled(opt)
    }

    /// The declaration `name` refers to from node `ns`, as libsepol
    /// searches (`cil_resolve_name`).
    pub(super) fn lookup(&self, kind: SymbolKind, name: &str, ns: NodeId) -> Option<usize> {
        match self.tree.find(ns, kind, name) {
            Found::Decl(d) => Some(d),
            Found::Anonymous(..) | Found::Missing => None,
        }
    }

    /// What `name` stands for from node `ns`: a declaration, or a call's
    /// anonymous argument (a class permission, level, range, category set
    /// or address written in place) with the call's node.
    pub(super) fn find(&self, kind: SymbolKind, name: &str, ns: NodeId) -> Found<'a> {
        self.tree.find(ns, kind, name)
    }

    /// The first argument of call node `n` that does not resolve where the
    /// call stands (`CIL_PASS_CALL2`).
    pub(super) fn missing_argument(&self, n: NodeId) -> Option<Unresolved> {
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

    pub(super) fn finish(mut self) -> Model {
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
    pub(super) fn class_perms(&self) -> ClassPermsTable {
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
    pub(super) fn missing<'s>(
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
}
