//! Names looked up as `cil_resolve_name` looks them up, and what the
//! expanded tree holds: its statements, their conditions, the declarations
//! that are part of the policy.

use super::*;

impl<'a> Tree<'a> {
    /// What the table `tab` holds under `name`, leaving out what disabled
    /// optionals (and, for a call's argument, the call itself) declare.
    pub(super) fn get(
        &self,
        tab: usize,
        kind: SymbolKind,
        name: &str,
        hide: Option<NodeId>,
    ) -> Option<Entry> {
        let e = *self.tabs[tab].get(&(kind, name))?;
        let node = match e {
            Entry::Decl(d) => {
                if !self.any_disabled && hide.is_none() {
                    return Some(e);
                }
                if self.any_disabled && !self.enabled(self.decls[d].1.opt) {
                    return None;
                }
                self.decl_nodes[d]
            }
            Entry::Node(n) => {
                if let Kind::Optional(o, _) = self.nodes[n].kind
                    && !self.optional_enabled(o)
                {
                    return None;
                }
                n
            }
            Entry::Arg(..) => return Some(e),
        };
        if let Some(call) = hide
            && self.is_under(node, call)
        {
            return None;
        }
        Some(e)
    }

    pub(super) fn is_under(&self, mut n: NodeId, ancestor: NodeId) -> bool {
        while n != ROOT {
            if n == ancestor {
                return true;
            }
            n = self.nodes[n].parent;
        }
        false
    }

    /// `cil_resolve_name`: the entry `name` refers to from node `from`.
    pub fn resolve(
        &self,
        from: NodeId,
        kind: SymbolKind,
        name: &str,
        hide: Option<NodeId>,
    ) -> Option<Entry> {
        let parent = self.nodes[from].parent;
        // No declared name holds a dot, so a plain search finds nothing for
        // a dotted one: it is tried first, and the dotted walk only when it
        // fails (most names are found, and need no scan for a dot).
        let plain = if parent == ROOT {
            self.get(0, kind, name, hide)
        } else {
            self.with_parents(parent, kind, name, hide)
                .or_else(|| self.get(0, kind, name, hide))
        };
        if plain.is_some() || !name.contains('.') {
            return plain;
        }
        let mut parts = name.split('.').filter(|p| !p.is_empty());
        let mut current = parts.next()?;
        let mut tab = if name.starts_with('.') {
            0
        } else {
            let first = self
                .with_parents(parent, SymbolKind::Block, current, hide)
                .or_else(|| self.get(0, SymbolKind::Block, current, hide))?;
            match first {
                Entry::Node(n) => self.symtab_of(self.nodes[n].parent),
                Entry::Decl(_) | Entry::Arg(..) => return None,
            }
        };
        let in_stmt = matches!(self.nodes[from].kind, Kind::In(..));
        for next in parts {
            match self.get(tab, SymbolKind::Block, current, hide)? {
                Entry::Node(n) => match self.nodes[n].kind {
                    Kind::Block(d) => tab = self.blocks[d].tab,
                    // Only `in` may name a macro or an optional on the way;
                    // an optional's names live in the table it is in.
                    Kind::Macro(_, t) if in_stmt => tab = t,
                    Kind::Optional(..) if in_stmt => {}
                    _ => return None,
                },
                Entry::Decl(_) | Entry::Arg(..) => return None,
            }
            current = next;
        }
        self.get(tab, kind, current, hide)
    }

    /// `__cil_resolve_name_with_parents`.
    pub(super) fn with_parents(
        &self,
        mut n: NodeId,
        kind: SymbolKind,
        name: &str,
        hide: Option<NodeId>,
    ) -> Option<Entry> {
        loop {
            match self.nodes[n].kind {
                Kind::Root => return None,
                Kind::Block(d) => {
                    if !self.blocks[d].is_abstract
                        && let Some(e) = self.get(self.blocks[d].tab, kind, name, hide)
                    {
                        return Some(e);
                    }
                }
                Kind::Inherit { block: Some(d), .. } => {
                    return self
                        .with_parents(self.nodes[n].parent, kind, name, hide)
                        .or_else(|| {
                            self.with_parents(
                                self.nodes[self.blocks[d].first].parent,
                                kind,
                                name,
                                hide,
                            )
                        });
                }
                Kind::Macro(_, tab) => {
                    if let Some(e) = self.get(tab, kind, name, hide) {
                        return Some(e);
                    }
                }
                Kind::Call {
                    mac: Some(mac),
                    call,
                    ..
                } => {
                    let Kind::Macro(m, tab) = self.nodes[mac].kind else {
                        return None;
                    };
                    // A name the macro declares is the copy's, on the
                    // call's side; otherwise a parameter, then the names
                    // around the macro.
                    if self.get(tab, kind, name, None).is_none() {
                        if let Some(found) = self.call_argument(n, m, call, kind, name) {
                            return found;
                        }
                        if let Some(e) = self.with_parents(self.nodes[mac].parent, kind, name, hide)
                        {
                            return Some(e);
                        }
                    }
                }
                _ => {}
            }
            n = self.nodes[n].parent;
        }
    }

    /// `cil_resolve_name_call_args`: for a parameter of `name` whose kind
    /// fits, what its argument stands for: an argument written in place,
    /// or what a named one resolves to from the call (`None` when it does
    /// not resolve: the search stops there, as libsepol's does).
    pub(super) fn call_argument(
        &self,
        call_node: NodeId,
        m: &Macro,
        call: &Call,
        kind: SymbolKind,
        name: &str,
    ) -> Option<Option<Entry>> {
        let (k, (param, arg)) =
            m.params
                .iter()
                .zip(&call.args)
                .enumerate()
                .find(|(_, (p, _))| {
                    p.name.as_str() == name && crate::resolve::param_fits(p.kind, kind)
                })?;
        Some(match arg {
            _ if Self::written_in_place(param.kind, arg) => Some(Entry::Arg(call_node, k)),
            Value::Atom(a) => self.resolve(call_node, kind, a.as_str(), Some(call_node)),
            Value::List(_) => None,
        })
    }

    /// Whether a call's argument for a parameter of `kind` is written in
    /// place: a list, or for an `ipaddr` an address (`cil_build_call_args`
    /// reads a name with `.` or `:` as one).
    pub(super) fn written_in_place(kind: ParamKind, arg: &Value) -> bool {
        match arg {
            Value::List(_) => true,
            Value::Atom(a) => kind == ParamKind::IpAddr && a.as_str().contains(['.', ':']),
        }
    }

    /// What `name` stands for from statement node `from`: a declaration,
    /// an argument written in place, or nothing.
    pub fn find(&self, from: NodeId, kind: SymbolKind, name: &str) -> Found<'a> {
        match self.resolve(from, kind, name, None) {
            Some(Entry::Decl(d)) => Found::Decl(d),
            Some(Entry::Arg(call, k)) => match self.nodes[call].kind {
                Kind::Call { call: c, .. } => Found::Anonymous(&c.args[k], call),
                _ => Found::Missing,
            },
            _ => Found::Missing,
        }
    }

    /// The statement nodes that are part of the policy, in tree order:
    /// not in a macro's body, an abstract block or an undecided `in` or
    /// `tunableif`; calls too (their arguments are resolved), with the
    /// condition of the `booleanif` branch each is in.
    pub fn statements(&self) -> Vec<(NodeId, Option<(String, bool)>)> {
        let mut out = Vec::new();
        let mut stack: Vec<(NodeId, Option<(String, bool)>)> = vec![(ROOT, None)];
        while let Some((n, cond)) = stack.pop() {
            match self.nodes[n].kind {
                Kind::Stmt(_) | Kind::Call { .. } | Kind::BoolIf(..) => out.push((n, cond.clone())),
                Kind::Macro(..) | Kind::In(..) | Kind::TunIf(_) => continue,
                Kind::Block(d) if self.blocks[d].is_abstract => continue,
                _ => {}
            }
            let own = match (self.nodes[n].kind, self.nodes[self.nodes[n].parent].kind) {
                (Kind::Branch(v, None), Kind::BoolIf(c, _)) => {
                    let written = self.nodes[n].parent;
                    Some((
                        crate::resolve::term_text(&self.qualified(written, &c.condition)),
                        v,
                    ))
                }
                _ => cond,
            };
            for &c in self.nodes[n].children.iter().rev() {
                stack.push((c, own.clone()));
            }
        }
        out
    }

    /// A boolean condition with each boolean by its full name, as the
    /// binary policy names it (a name that does not resolve stays as
    /// written: the statement reports it).
    pub(super) fn qualified(&self, node: NodeId, t: &Term) -> Term {
        let leaf = |r: &Ref| match self.resolve(node, SymbolKind::Boolean, r.as_str(), None) {
            Some(Entry::Decl(d)) => Ref::new(&*self.decls[d].1.name).unwrap_or_else(|_| r.clone()),
            _ => r.clone(),
        };
        let term = |t: &Term| self.qualified(node, t);
        match t {
            Term::Leaf(r) => Term::Leaf(leaf(r)),
            Term::Expr(e) => Term::Expr(Box::new(match &**e {
                Expr::List(items) => Expr::List(items.iter().map(term).collect()),
                Expr::Not(a) => Expr::Not(Box::new(term(a))),
                Expr::And(a, b) => Expr::And(Box::new(term(a)), Box::new(term(b))),
                Expr::Or(a, b) => Expr::Or(Box::new(term(a)), Box::new(term(b))),
                Expr::Xor(a, b) => Expr::Xor(Box::new(term(a)), Box::new(term(b))),
                Expr::Eq(a, b) => Expr::Eq(Box::new(term(a)), Box::new(term(b))),
                Expr::Neq(a, b) => Expr::Neq(Box::new(term(a)), Box::new(term(b))),
                other => other.clone(),
            })),
        }
    }

    /// Whether declaration `d` is part of the policy (see
    /// [`statements`](Tree::statements)) and enabled.
    pub fn live(&self, d: usize) -> bool {
        if !self.enabled(self.decls[d].1.opt) {
            return false;
        }
        let mut n = self.decl_nodes[d];
        while n != ROOT {
            match self.nodes[n].kind {
                Kind::Macro(..) | Kind::In(..) | Kind::TunIf(_) => return false,
                Kind::Block(d) if self.blocks[d].is_abstract => return false,
                _ => {}
            }
            n = self.nodes[n].parent;
        }
        true
    }

    /// The statement of a statement node.
    pub fn stmt(&self, n: NodeId) -> Option<&'a Statement> {
        match self.nodes[n].kind {
            Kind::Stmt(s) | Kind::BoolIf(_, s) => Some(s),
            _ => None,
        }
    }

    /// The call of a call node.
    pub fn call(&self, n: NodeId) -> Option<(&'a Call, Option<&'a Macro>)> {
        match self.nodes[n].kind {
            Kind::Call { call, mac, .. } => Some((
                call,
                mac.and_then(|m| match self.nodes[m].kind {
                    Kind::Macro(m, _) => Some(m),
                    _ => None,
                }),
            )),
            _ => None,
        }
    }
}
