//! The model built from the checked statements: aliases, attributes,
//! roles and users, class permissions and maps, and every rule with its
//! names resolved and its permissions expanded.

use super::*;

impl<'a> Resolver<'a> {
    /// The declarations of enabled statements.
    pub(super) fn active_decls(&self) -> Vec<(SymbolKind, &Decl)> {
        self.tree
            .decls
            .iter()
            .enumerate()
            .filter(|(d, _)| self.tree.live(*d))
            .map(|(_, (k, d))| (*k, d))
            .collect()
    }

    pub(super) fn build(self, hard: Vec<Unresolved>) -> Model {
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
    pub(super) fn build_roles_and_users(
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
    pub(super) fn build_type_and_xperm_rules(
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
        // Copies of a rule (inherited, called) share its statement: its
        // values, 65,536 bits to read, are expanded once.
        let mut ranges: rustc_hash::FxHashMap<usize, Vec<RangeInclusive<u16>>> = Default::default();
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
                        PermxArg::Anonymous(x) => full(SymbolKind::Class, &x.class, ns).map(|c| {
                            let values = ranges
                                .entry(&x.values as *const _ as usize)
                                .or_insert_with(|| permx_ranges(&x.values))
                                .clone();
                            (x.kind, c, values)
                        }),
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
