//! The passes of `cil_resolve_ast.c` that change the tree, in libsepol's
//! order: `tunableif`, `in` (before), `blockinherit` (link, loop check,
//! copy), `blockabstract`, `in` (after), `call`.

use super::*;
use crate::span::Span;

impl<'a> Tree<'a> {
    /// The provenance of what an expansion copies under `dest`: `dest`'s,
    /// then the statement (`what`, written at node `at`, `span`) that
    /// expands.
    fn expanded_by(&self, dest: NodeId, what: String, at: NodeId, span: Span) -> Arc<Vec<Via>> {
        let mut via = (*self.nodes[dest].via).clone();
        via.push(Via {
            what,
            file: self.nodes[at].file,
            span,
        });
        Arc::new(via)
    }

    /// Every node in tree order, from `start`, as the walk finds them:
    /// children added while walking are walked too. `enter` says whether
    /// to go into a node's children.
    pub(super) fn walk(
        &mut self,
        mut visit: impl FnMut(&mut Tree<'a>, NodeId),
        enter: impl Fn(&Tree<'a>, NodeId) -> bool,
    ) {
        let mut stack: Vec<(NodeId, usize)> = vec![(ROOT, 0)];
        while let Some((n, i)) = stack.pop() {
            let Some(&c) = self.nodes[n].children.get(i) else {
                continue;
            };
            stack.push((n, i + 1));
            if !self.enabled(self.nodes[c].opt)
                || matches!(self.nodes[c].kind, Kind::Optional(o, _) if !self.optional_enabled(o))
            {
                continue;
            }
            visit(self, c);
            if enter(self, c) {
                stack.push((c, 0));
            }
        }
    }

    /// Whether an optional and those around it are enabled.
    pub fn enabled(&self, opt: Option<usize>) -> bool {
        let mut at = opt;
        while let Some(o) = at {
            if self.optionals[o].disabled_by.is_some() {
                return false;
            }
            at = self.optionals[o].parent;
        }
        true
    }

    pub(super) fn optional_enabled(&self, o: usize) -> bool {
        self.enabled(Some(o))
    }

    /// Disables optional `o` for `why`, unless it already is.
    pub fn disable(&mut self, o: usize, why: Unresolved) {
        if self.optionals[o].disabled_by.is_none() {
            self.optionals[o].disabled_by = Some(why.name.clone());
            self.optionals[o].disabled_at = Some(why);
            self.any_disabled = true;
        }
    }

    /// A statement at `node` failed: its optional is disabled (the first
    /// failure is kept as the reason), or, outside any, it is an error.
    pub(super) fn fail(&mut self, node: NodeId, f: Failure) {
        let mut u = self.unresolved(node, f);
        u.via = (*self.nodes[node].via).clone();
        match self.nodes[node].opt {
            Some(o) => self.disable(o, u),
            None => self.errors.push(u),
        }
    }

    pub(super) fn unresolved(&self, node: NodeId, f: Failure) -> Unresolved {
        let n = &self.nodes[node];
        let span = match n.kind {
            Kind::Stmt(s) => s.span(),
            Kind::Call { call, .. } => call.span,
            Kind::Inherit { bi, .. } => bi.span,
            Kind::In(i, _) => i.span,
            Kind::Macro(m, _) => m.span,
            Kind::Block(d) => self.blocks[d].block.span,
            Kind::TunIf(c) | Kind::BoolIf(c, _) => c.span,
            Kind::Optional(o, _) => self.optionals[o].span,
            Kind::Root | Kind::Branch(..) => crate::span::Span::default(),
        };
        let mut u = Unresolved::new(f.code, f.name, f.kind, n.file, span);
        if let Some(p) = f.pointer {
            u.pointer = p;
        }
        u
    }

    /// `CIL_PASS_TIF`: each `tunableif` keeps the branch its tunables
    /// choose, moved into its parent.
    pub(super) fn pass_tunableif(&mut self) {
        self.walk(
            |t, n| {
                let Kind::TunIf(c) = t.nodes[n].kind else {
                    return;
                };
                let value = match t.eval_tunables(n, &c.condition) {
                    Ok(v) => v,
                    Err(name) => {
                        let f = Failure {
                            code: Code::Unresolved,
                            name: name.clone(),
                            kind: SymbolKind::Tunable,
                            pointer: Some(Pointer::Atom(name)),
                        };
                        t.fail(n, f);
                        t.nodes[n].children.clear();
                        return;
                    }
                };
                let chosen = t.nodes[n]
                    .children
                    .iter()
                    .copied()
                    .find(|&b| matches!(t.nodes[b].kind, Kind::Branch(v, _) if v == value));
                let parent = t.nodes[n].parent;
                if let Some(b) = chosen {
                    let via = t.nodes[parent].via.clone();
                    t.copy_children(b, parent, &via, false);
                }
                t.nodes[n].children.clear();
            },
            |t, n| !matches!(t.nodes[n].kind, Kind::TunIf(_)),
        );
    }

    /// A tunable expression's value, or the first name that is no tunable.
    pub(super) fn eval_tunables(&self, node: NodeId, term: &Term) -> Result<bool, String> {
        match term {
            Term::Leaf(r) => match self.resolve(node, SymbolKind::Tunable, r.as_str(), None) {
                Some(Entry::Decl(d)) => match self.nodes[self.decl_nodes[d]].kind {
                    Kind::Stmt(Statement::Tunable(tun)) => Ok(tun.value),
                    _ => Err(r.to_string()),
                },
                _ => Err(r.to_string()),
            },
            Term::Expr(e) => Ok(match &**e {
                Expr::Not(a) => !self.eval_tunables(node, a)?,
                Expr::And(a, b) => self.eval_tunables(node, a)? && self.eval_tunables(node, b)?,
                Expr::Or(a, b) => self.eval_tunables(node, a)? || self.eval_tunables(node, b)?,
                Expr::Xor(a, b) | Expr::Neq(a, b) => {
                    self.eval_tunables(node, a)? != self.eval_tunables(node, b)?
                }
                Expr::Eq(a, b) => self.eval_tunables(node, a)? == self.eval_tunables(node, b)?,
                Expr::List(items) if items.len() == 1 => self.eval_tunables(node, &items[0])?,
                _ => return Err(String::from("(expression)")),
            }),
        }
    }

    /// `CIL_PASS_IN_BEFORE` (`after` false) and `CIL_PASS_IN_AFTER`: the
    /// `in` statements, gathered in reverse order of the walk, resolved
    /// until none resolves any more; each one's statements are copied to
    /// the end of its container.
    pub(super) fn pass_in(&mut self, after: bool) {
        let mut list: Vec<NodeId> = Vec::new();
        self.walk(
            |t, n| {
                if let Kind::In(i, _) = t.nodes[n].kind
                    && matches!(i.position, Some(InPosition::After)) == after
                {
                    list.push(n);
                }
            },
            |t, n| !after || !t.is_abstract_block(n),
        );
        list.reverse();
        loop {
            let mut resolved = 0;
            list.retain(|&n| {
                let Kind::In(i, _) = self.nodes[n].kind else {
                    return false;
                };
                let Some(Entry::Node(target)) =
                    self.resolve(n, SymbolKind::Block, i.container.as_str(), None)
                else {
                    return true;
                };
                let target = match self.nodes[target].kind {
                    Kind::Block(d) => self.blocks[d].first,
                    _ => target,
                };
                let via = self.expanded_by(target, format!("in {}", i.container), n, i.span);
                self.copy_children(n, target, &via, false);
                self.nodes[n].children.clear();
                resolved += 1;
                false
            });
            if list.is_empty() || resolved == 0 {
                break;
            }
        }
        for n in list {
            let Kind::In(i, _) = self.nodes[n].kind else {
                continue;
            };
            let f = Failure {
                code: Code::MissingBlock,
                name: i.container.to_string(),
                kind: SymbolKind::Block,
                pointer: None,
            };
            self.fail(n, f);
            self.nodes[n].children.clear();
        }
    }

    pub(super) fn is_abstract_block(&self, n: NodeId) -> bool {
        matches!(self.nodes[n].kind, Kind::Block(d) if self.blocks[d].is_abstract)
    }

    /// `CIL_PASS_BLKIN_LINK`: each `blockinherit` finds its block.
    pub(super) fn pass_inherit_link(&mut self) {
        self.walk(
            |t, n| {
                let Kind::Inherit { bi, block: None } = t.nodes[n].kind else {
                    return;
                };
                match t.resolve(n, SymbolKind::Block, bi.block.as_str(), None) {
                    Some(Entry::Node(b)) if matches!(t.nodes[b].kind, Kind::Block(_)) => {
                        let Kind::Block(d) = t.nodes[b].kind else {
                            return;
                        };
                        t.nodes[n].kind = Kind::Inherit { bi, block: Some(d) };
                        t.blocks[d].bi_nodes.push(n);
                    }
                    _ => {
                        let f = Failure {
                            code: Code::MissingBlock,
                            name: bi.block.to_string(),
                            kind: SymbolKind::Block,
                            pointer: None,
                        };
                        t.fail(n, f);
                    }
                }
            },
            |_, _| true,
        );
    }

    /// `cil_check_for_bad_inheritance`: a block that inherits itself,
    /// directly or through others, is refused (and not copied).
    pub(super) fn check_inheritance_loops(&mut self) {
        // Which blocks each block's subtree inherits.
        let mut edges: Vec<Vec<(usize, NodeId)>> = vec![Vec::new(); self.blocks.len()];
        for n in 0..self.nodes.len() {
            let Kind::Inherit {
                block: Some(target),
                ..
            } = self.nodes[n].kind
            else {
                continue;
            };
            let mut at = self.nodes[n].parent;
            while at != ROOT {
                if let Kind::Block(d) = self.nodes[at].kind {
                    edges[d].push((target, n));
                }
                at = self.nodes[at].parent;
            }
        }
        // 0: not seen, 1: on the path, 2: done.
        let mut state = vec![0u8; self.blocks.len()];
        let mut bad: Vec<NodeId> = Vec::new();
        for start in 0..self.blocks.len() {
            if state[start] != 0 {
                continue;
            }
            let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
            state[start] = 1;
            while let Some(&mut (d, ref mut i)) = stack.last_mut() {
                if let Some(&(next, via)) = edges[d].get(*i) {
                    *i += 1;
                    match state[next] {
                        0 => {
                            state[next] = 1;
                            stack.push((next, 0));
                        }
                        1 => bad.push(via),
                        _ => {}
                    }
                } else {
                    state[d] = 2;
                    stack.pop();
                }
            }
        }
        bad.sort_unstable();
        bad.dedup();
        for n in bad {
            let Kind::Inherit { bi, block: Some(d) } = self.nodes[n].kind else {
                continue;
            };
            self.blocks[d].bi_nodes.retain(|&x| x != n);
            self.nodes[n].kind = Kind::Inherit { bi, block: None };
            let f = Failure {
                code: Code::Recursive,
                name: format!("blockinherit {}", bi.block),
                kind: SymbolKind::Block,
                pointer: Some(Pointer::Arg(0)),
            };
            let mut u = self.unresolved(n, f);
            u.via = (*self.nodes[n].via).clone();
            self.errors.push(u);
        }
    }

    /// `CIL_PASS_BLKIN_COPY`: each inherited block's statements, copied
    /// into every `blockinherit` of it, in tree order.
    pub(super) fn pass_inherit_copy(&mut self) {
        self.walk(
            |t, n| {
                let Kind::Block(d) = t.nodes[n].kind else {
                    return;
                };
                if t.blocks[d].first != n {
                    return;
                }
                let mut i = 0;
                while let Some(&bi_node) = t.blocks[d].bi_nodes.get(i) {
                    i += 1;
                    if !t.enabled(t.nodes[bi_node].opt) {
                        continue;
                    }
                    let Kind::Inherit { bi, .. } = t.nodes[bi_node].kind else {
                        continue;
                    };
                    let what = format!("blockinherit {}", bi.block);
                    let via = t.expanded_by(bi_node, what, bi_node, bi.span);
                    t.copy_children(n, bi_node, &via, true);
                    if t.nodes.len() >= MAX_NODES {
                        let f = Failure {
                            code: Code::Recursive,
                            name: format!("blockinherit {}", bi.block),
                            kind: SymbolKind::Block,
                            pointer: Some(Pointer::Arg(0)),
                        };
                        t.fail(bi_node, f);
                        return;
                    }
                }
            },
            |_, _| true,
        );
    }

    /// `CIL_PASS_BLKABS`: blocks marked abstract, with the blocks inside.
    pub(super) fn pass_abstract(&mut self) {
        let mut marked: Vec<NodeId> = Vec::new();
        self.walk(
            |t, n| {
                let Kind::Stmt(Statement::BlockAbstract(a)) = t.nodes[n].kind else {
                    return;
                };
                match t.resolve(n, SymbolKind::Block, a.block.as_str(), None) {
                    Some(Entry::Node(b)) if matches!(t.nodes[b].kind, Kind::Block(_)) => {
                        marked.push(b)
                    }
                    _ => {
                        let f = Failure {
                            code: Code::MissingBlock,
                            name: a.block.to_string(),
                            kind: SymbolKind::Block,
                            pointer: None,
                        };
                        t.fail(n, f);
                    }
                }
            },
            |t, n| !t.is_abstract_block(n),
        );
        while let Some(b) = marked.pop() {
            if let Kind::Block(d) = self.nodes[b].kind {
                self.blocks[d].is_abstract = true;
            }
            for &c in &self.nodes[b].children {
                if matches!(self.nodes[c].kind, Kind::Block(_)) {
                    marked.push(c);
                }
            }
        }
    }

    /// `CIL_PASS_CALL1`: each call outside macros and abstract blocks finds
    /// its macro, has its arguments counted and checked, and gets a copy of
    /// the macro's body; calls in that copy are expanded in the same walk.
    pub(super) fn pass_call(&mut self) {
        self.walk(
            |t, n| {
                let Kind::Call {
                    call,
                    copied: false,
                    ..
                } = t.nodes[n].kind
                else {
                    return;
                };
                let mac = match t.resolve(n, SymbolKind::Block, call.name.as_str(), None) {
                    Some(Entry::Node(m)) if matches!(t.nodes[m].kind, Kind::Macro(..)) => m,
                    _ => {
                        let f = Failure {
                            code: Code::MissingMacro,
                            name: call.name.to_string(),
                            kind: SymbolKind::Macro,
                            pointer: Some(Pointer::Arg(0)),
                        };
                        t.fail(n, f);
                        return;
                    }
                };
                let Kind::Macro(m, _) = t.nodes[mac].kind else {
                    return;
                };
                let refusal = if t.recursive_call(n, mac) || t.nodes.len() >= MAX_NODES {
                    Some((
                        Code::Recursive,
                        format!("call {}", call.name),
                        Pointer::Arg(0),
                    ))
                } else {
                    crate::resolve::bad_arguments(m, call)
                        .map(|(message, pointer)| (Code::BadArgument, message, pointer))
                };
                if let Some((code, name, pointer)) = refusal {
                    // The macro closes the chain: the call is refused against it.
                    let mut u = t.unresolved(
                        n,
                        Failure {
                            code,
                            name,
                            kind: SymbolKind::Macro,
                            pointer: Some(pointer),
                        },
                    );
                    u.via = (*t.nodes[n].via).clone();
                    u.via.push(Via {
                        what: format!("macro {}", m.name),
                        file: t.nodes[mac].file,
                        span: m.span,
                    });
                    match t.nodes[n].opt {
                        Some(o) => t.disable(o, u),
                        None => t.errors.push(u),
                    }
                    return;
                }
                t.nodes[n].kind = Kind::Call {
                    call,
                    mac: Some(mac),
                    copied: true,
                };
                let via = t.expanded_by(n, format!("call {}", call.name), n, call.span);
                t.copy_children(mac, n, &via, false);
            },
            |t, n| !matches!(t.nodes[n].kind, Kind::Macro(..)) && !t.is_abstract_block(n),
        );
    }

    /// `cil_check_recursive_call`: whether call node `n` is inside an
    /// expansion of macro `mac`.
    pub(super) fn recursive_call(&self, n: NodeId, mac: NodeId) -> bool {
        let mut at = self.nodes[n].parent;
        loop {
            match self.nodes[at].kind {
                Kind::Call { mac: Some(m), .. } if m == mac => return true,
                Kind::Macro(..) => return at == mac,
                Kind::Root => return false,
                _ => {}
            }
            at = self.nodes[at].parent;
        }
    }
}
