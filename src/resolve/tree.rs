//! The policy as libsepol's resolver sees it: a tree of nodes with a
//! symbol table in each namespace, expanded by the passes of
//! `cil_resolve_ast.c` (`CIL_PASS_TIF` to `CIL_PASS_CALL1`), and names
//! looked up as `cil_resolve_name` looks them up.
//!
//! Statements are borrowed from the parsed policies: a copy made by
//! `blockinherit`, `in`, a chosen `tunableif` branch or a `call` is a new
//! node that points at the same statement under another parent, which is
//! all that libsepol's copy changes for resolution (names are looked up
//! from the node's parents, declarations go to the new parent's table).

use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::{Code, Decl, OptionalBlock, SymbolKind, Unresolved, Via, declares};
use crate::ast::*;
use crate::diagnostic::Pointer;

/// A node's index in [`Tree::nodes`].
pub(super) type NodeId = usize;

/// The root node.
pub(super) const ROOT: NodeId = 0;

/// How many nodes expansion may create before the policy is refused as a
/// degenerate inheritance or call chain (libsepol refuses those too,
/// `CIL_DEGENERATE_INHERITANCE_*`); bounds memory on hostile input.
const MAX_NODES: usize = 20_000_000;

/// What a node is.
#[derive(Clone, Copy, Debug)]
pub(super) enum Kind<'a> {
    /// The global namespace.
    Root,
    /// A block (index into [`Tree::blocks`]: copies of one block merged
    /// into the same namespace share it, as libsepol's datum).
    Block(usize),
    /// A macro, with its own symbol table.
    Macro(&'a Macro, usize),
    /// A call: once expanded, its children are the macro's body.
    Call {
        call: &'a Call,
        /// The macro node it calls, once found.
        mac: Option<NodeId>,
        copied: bool,
    },
    /// A `blockinherit`: once copied, its children are the block's.
    Inherit {
        bi: &'a BlockInherit,
        block: Option<usize>,
    },
    /// An `in` before it is resolved (it has a table of its own then).
    In(&'a In, usize),
    /// An `optional` (index into [`Tree::optionals`]).
    Optional(usize, &'a Optional),
    /// A `booleanif`, and its statement (its condition is resolved).
    BoolIf(&'a Conditional, &'a Statement),
    /// A `tunableif` before it is decided.
    TunIf(&'a Conditional),
    /// A branch of a conditional: which, and for a `tunableif` the table
    /// its declarations live in until it is decided.
    Branch(bool, Option<usize>),
    /// Any other statement.
    Stmt(&'a Statement),
}

pub(super) struct Node<'a> {
    pub parent: NodeId,
    pub kind: Kind<'a>,
    pub children: Vec<NodeId>,
    /// The file of the statement (spans are per file).
    pub file: usize,
    /// The innermost optional around it.
    pub opt: Option<usize>,
    /// The calls, inherits and `in`s that put it here, outermost first.
    pub via: Arc<Vec<Via>>,
}

/// A block's datum: shared by the copies merged into one namespace.
pub(super) struct BlockDatum<'a> {
    /// Its full, dotted name.
    pub full: String,
    pub tab: usize,
    pub is_abstract: bool,
    /// The first node (`NODE(datum)` in libsepol).
    pub first: NodeId,
    /// The `blockinherit` nodes that inherit it.
    pub bi_nodes: Vec<NodeId>,
    pub block: &'a Block,
}

/// What a symbol table holds under a name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Entry {
    /// A declaration (index into [`Tree::decls`]).
    Decl(usize),
    /// A block, macro or optional node (table [`SymbolKind::Block`]).
    Node(NodeId),
    /// A call's argument written in place (libsepol's anonymous datum):
    /// the call node and the argument's position.
    Arg(NodeId, usize),
}

/// What a name stands for.
pub(super) enum Found<'a> {
    /// A declaration (index into the declarations).
    Decl(usize),
    /// A call's argument written in place, and the call node (names in it
    /// are looked up from there).
    Anonymous(&'a Value, NodeId),
    /// Nothing.
    Missing,
}

type Table<'a> = FxHashMap<(SymbolKind, &'a str), Entry>;

pub(super) struct Tree<'a> {
    pub nodes: Vec<Node<'a>>,
    pub blocks: Vec<BlockDatum<'a>>,
    tabs: Vec<Table<'a>>,
    /// Every declaration, live or not (see [`Tree::live`]).
    pub decls: Vec<(SymbolKind, Decl)>,
    /// The node of each declaration.
    pub decl_nodes: Vec<NodeId>,
    pub optionals: Vec<OptionalBlock>,
    /// Problems no optional absorbs.
    pub errors: Vec<Unresolved>,
    /// Whether any optional is disabled: until one is, a lookup need not
    /// ask whether a declaration is in one.
    any_disabled: bool,
    /// How many nodes of each kind that a pass works on were made: a pass
    /// with nothing to do does not walk the tree.
    work: Work,
}

/// Counts of the nodes the passes work on.
#[derive(Default)]
struct Work {
    tunableifs: usize,
    ins: usize,
    inherits: usize,
    abstracts: usize,
    calls: usize,
}

/// A failure of one statement, for [`Tree::fail`].
struct Failure {
    code: Code,
    name: String,
    kind: SymbolKind,
    pointer: Option<Pointer>,
}

impl<'a> Tree<'a> {
    /// The tree of `inputs`, expanded: tunables decided, `in` statements
    /// moved into their blocks, blocks inherited, macros copied into their
    /// calls.
    pub fn expand(inputs: &[super::Input<'a>]) -> Tree<'a> {
        let mut t = Tree {
            nodes: vec![Node {
                parent: ROOT,
                kind: Kind::Root,
                children: Vec::new(),
                file: 0,
                opt: None,
                via: Arc::default(),
            }],
            blocks: Vec::new(),
            tabs: vec![Table::default()],
            decls: Vec::new(),
            decl_nodes: Vec::new(),
            optionals: Vec::new(),
            errors: Vec::new(),
            any_disabled: false,
            work: Work::default(),
        };
        for (file, input) in inputs.iter().enumerate() {
            t.build(&input.policy.statements, ROOT, file);
        }
        // Each pass's nodes are counted as they are made (copies
        // included): a pass none of whose nodes exists is skipped.
        if t.work.tunableifs > 0 {
            t.pass_tunableif();
        }
        if t.work.ins > 0 {
            t.pass_in(false);
        }
        if t.work.inherits > 0 {
            t.pass_inherit_link();
            t.check_inheritance_loops();
            t.pass_inherit_copy();
        }
        if t.work.abstracts > 0 {
            t.pass_abstract();
        }
        if t.work.ins > 0 {
            t.pass_in(true);
        }
        if t.work.calls > 0 {
            t.pass_call();
        }
        t
    }

    // ---- building and copying -------------------------------------------

    fn add(&mut self, parent: NodeId, kind: Kind<'a>, file: usize, via: Arc<Vec<Via>>) -> NodeId {
        let opt = match self.nodes[parent].kind {
            Kind::Optional(i, _) => Some(i),
            _ => self.nodes[parent].opt,
        };
        match kind {
            Kind::TunIf(_) => self.work.tunableifs += 1,
            Kind::In(..) => self.work.ins += 1,
            Kind::Inherit { .. } => self.work.inherits += 1,
            Kind::Stmt(Statement::BlockAbstract(_)) => self.work.abstracts += 1,
            Kind::Call { .. } => self.work.calls += 1,
            _ => {}
        }
        let id = self.nodes.len();
        self.nodes.push(Node {
            parent,
            kind,
            children: Vec::new(),
            file,
            opt,
            via,
        });
        self.nodes[parent].children.push(id);
        id
    }

    fn new_tab(&mut self) -> usize {
        self.tabs.push(Table::default());
        self.tabs.len() - 1
    }

    /// The table declarations under `n` go to (`cil_get_symtab`).
    fn symtab_of(&self, mut n: NodeId) -> usize {
        loop {
            match self.nodes[n].kind {
                Kind::Root => return 0,
                Kind::Block(d) => return self.blocks[d].tab,
                Kind::Macro(_, tab) | Kind::In(_, tab) | Kind::Branch(_, Some(tab)) => return tab,
                _ => n = self.nodes[n].parent,
            }
        }
    }

    /// The dotted prefix of names declared under `n`.
    fn prefix_of(&self, mut n: NodeId) -> String {
        loop {
            match self.nodes[n].kind {
                Kind::Root => return String::new(),
                Kind::Block(d) => return format!("{}.", self.blocks[d].full),
                _ => n = self.nodes[n].parent,
            }
        }
    }

    fn optional_node(
        &mut self,
        o: &'a Optional,
        parent: NodeId,
        file: usize,
        via: Arc<Vec<Via>>,
    ) -> NodeId {
        let index = self.optionals.len();
        let enclosing = match self.nodes[parent].kind {
            Kind::Optional(i, _) => Some(i),
            _ => self.nodes[parent].opt,
        };
        self.optionals.push(OptionalBlock {
            name: format!("{}{}", self.prefix_of(parent), o.name),
            file,
            span: o.span,
            disabled_by: None,
            disabled_at: None,
            parent: enclosing,
        });
        let node = self.add(parent, Kind::Optional(index, o), file, via);
        let tab = self.symtab_of(parent);
        self.tabs[tab]
            .entry((SymbolKind::Block, o.name.as_str()))
            .or_insert(Entry::Node(node));
        node
    }

    /// A new block datum and its node; `None` when the name is taken in
    /// that namespace by something that is not a block.
    fn block_node(
        &mut self,
        b: &'a Block,
        parent: NodeId,
        file: usize,
        via: Arc<Vec<Via>>,
        merge: bool,
    ) -> Result<NodeId, Option<NodeId>> {
        let tab = self.symtab_of(parent);
        let existing = self.tabs[tab]
            .get(&(SymbolKind::Block, b.name.as_str()))
            .copied();
        if let Some(Entry::Node(n)) = existing {
            return match self.nodes[n].kind {
                Kind::Block(d) if merge => Ok(self.add(parent, Kind::Block(d), file, via)),
                _ => Err(Some(n)),
            };
        }
        let full = format!("{}{}", self.prefix_of(parent), b.name);
        let own = self.new_tab();
        let d = self.blocks.len();
        let node = self.add(parent, Kind::Block(d), file, via);
        self.blocks.push(BlockDatum {
            full,
            tab: own,
            is_abstract: false,
            first: node,
            bi_nodes: Vec::new(),
            block: b,
        });
        self.tabs[tab].insert((SymbolKind::Block, b.name.as_str()), Entry::Node(node));
        Ok(node)
    }

    /// Declares what statement node `node` declares in its table; a name
    /// already there is reported when `report` (a copy: libsepol refuses
    /// it; a name written twice is the validator's to report).
    fn declare(&mut self, node: NodeId, s: &'a Statement, report: bool) {
        let tab = self.symtab_of(self.nodes[node].parent);
        let prefix = self.prefix_of(self.nodes[node].parent);
        for (kind, what, name) in declares(s) {
            let key = (kind, name.as_str());
            if self.tabs[tab].contains_key(&key) {
                if report {
                    let f = Failure {
                        code: Code::Duplicate,
                        name: format!(
                            "`{prefix}{name}` is declared twice in one namespace by this expansion"
                        ),
                        kind,
                        pointer: Some(Pointer::Atom(name.to_string())),
                    };
                    let mut u = self.unresolved(node, f);
                    u.via = (*self.nodes[node].via).clone();
                    self.errors.push(u);
                }
                continue;
            }
            let d = self.decls.len();
            self.decls.push((
                kind,
                Decl {
                    name: format!("{prefix}{name}").into(),
                    kind: what,
                    file: self.nodes[node].file,
                    span: s.span(),
                    opt: self.nodes[node].opt,
                },
            ));
            self.decl_nodes.push(node);
            self.tabs[tab].insert(key, Entry::Decl(d));
        }
    }

    /// `cil_build_ast`: the statements as written.
    fn build(&mut self, stmts: &'a [Statement], parent: NodeId, file: usize) {
        let via = self.nodes[parent].via.clone();
        for s in stmts {
            match s {
                Statement::Block(b) => {
                    // A block written twice: the validator reports it.
                    let node = match self.block_node(b, parent, file, via.clone(), true) {
                        Ok(n) => n,
                        Err(_) => continue,
                    };
                    self.build(&b.body, node, file);
                }
                Statement::Macro(m) => {
                    let tab = self.new_tab();
                    let node = self.add(parent, Kind::Macro(m, tab), file, via.clone());
                    let at = self.symtab_of(parent);
                    self.tabs[at]
                        .entry((SymbolKind::Block, m.name.as_str()))
                        .or_insert(Entry::Node(node));
                    self.build(&m.body, node, file);
                }
                Statement::Call(c) => {
                    self.add(
                        parent,
                        Kind::Call {
                            call: c,
                            mac: None,
                            copied: false,
                        },
                        file,
                        via.clone(),
                    );
                }
                Statement::BlockInherit(bi) => {
                    self.add(parent, Kind::Inherit { bi, block: None }, file, via.clone());
                }
                Statement::In(i) => {
                    let tab = self.new_tab();
                    let node = self.add(parent, Kind::In(i, tab), file, via.clone());
                    self.build(&i.body, node, file);
                }
                Statement::Optional(o) => {
                    let node = self.optional_node(o, parent, file, via.clone());
                    self.build(&o.body, node, file);
                }
                Statement::Conditional(c) => {
                    let tunable = c.kind == CondKind::Tunable;
                    let kind = if tunable {
                        Kind::TunIf(c)
                    } else {
                        Kind::BoolIf(c, s)
                    };
                    let node = self.add(parent, kind, file, via.clone());
                    for (body, value) in [(&c.if_true, true), (&c.if_false, false)] {
                        if let Some(body) = body {
                            let tab = tunable.then(|| self.new_tab());
                            let branch =
                                self.add(node, Kind::Branch(value, tab), file, via.clone());
                            self.build(body, branch, file);
                        }
                    }
                }
                _ => {
                    let node = self.add(parent, Kind::Stmt(s), file, via.clone());
                    self.declare(node, s, false);
                }
            }
        }
    }

    /// `cil_copy_ast`: copies `from`'s children under `dest`. `via` is the
    /// provenance of the copies (the suffix of each child's own beyond
    /// `from`'s is kept); `inherit` is true for a `blockinherit`, where a
    /// block already there is merged and a macro already there is kept.
    fn copy_children(&mut self, from: NodeId, dest: NodeId, via: &Arc<Vec<Via>>, inherit: bool) {
        let base = self.nodes[from].via.len();
        let children = self.nodes[from].children.clone();
        for c in children {
            if self.nodes.len() >= MAX_NODES {
                return;
            }
            let own = &self.nodes[c].via;
            let v = if own.len() <= base {
                via.clone()
            } else {
                let mut v = (**via).clone();
                v.extend(own[base..].iter().cloned());
                Arc::new(v)
            };
            self.copy_node(c, dest, v, inherit);
        }
    }

    fn copy_node(&mut self, c: NodeId, dest: NodeId, via: Arc<Vec<Via>>, inherit: bool) {
        let file = self.nodes[c].file;
        let kind = self.nodes[c].kind;
        let new = match kind {
            Kind::Root => return,
            Kind::Block(d) => {
                let b = self.blocks[d].block;
                match self.block_node(b, dest, file, via.clone(), inherit) {
                    Ok(n) => n,
                    Err(_) => {
                        let f = Failure {
                            code: Code::Duplicate,
                            name: format!("block `{}` is declared again by this expansion", b.name),
                            kind: SymbolKind::Block,
                            pointer: Some(Pointer::Arg(0)),
                        };
                        let mut u = self.unresolved(c, f);
                        u.via = (*via).clone();
                        self.errors.push(u);
                        return;
                    }
                }
            }
            Kind::Macro(m, _) => {
                let at = self.symtab_of(dest);
                if let Some(Entry::Node(n)) = self.tabs[at]
                    .get(&(SymbolKind::Block, m.name.as_str()))
                    .copied()
                {
                    // A block's own macro wins over the one it inherits.
                    if inherit && matches!(self.nodes[n].kind, Kind::Macro(..)) {
                        return;
                    }
                    let f = Failure {
                        code: Code::Duplicate,
                        name: format!("macro `{}` is declared again by this expansion", m.name),
                        kind: SymbolKind::Macro,
                        pointer: Some(Pointer::Arg(0)),
                    };
                    let mut u = self.unresolved(c, f);
                    u.via = (*via).clone();
                    self.errors.push(u);
                    return;
                }
                let tab = self.new_tab();
                let node = self.add(dest, Kind::Macro(m, tab), file, via.clone());
                self.tabs[at].insert((SymbolKind::Block, m.name.as_str()), Entry::Node(node));
                node
            }
            Kind::Optional(_, o) => self.optional_node(o, dest, file, via.clone()),
            Kind::Inherit { bi, block } => {
                let n = self.add(dest, Kind::Inherit { bi, block }, file, via.clone());
                if let Some(d) = block {
                    self.blocks[d].bi_nodes.push(n);
                }
                n
            }
            Kind::In(i, _) => {
                let tab = self.new_tab();
                self.add(dest, Kind::In(i, tab), file, via.clone())
            }
            Kind::Branch(v, tab) => {
                let tab = tab.map(|_| self.new_tab());
                self.add(dest, Kind::Branch(v, tab), file, via.clone())
            }
            Kind::Call { .. } | Kind::BoolIf(..) | Kind::TunIf(_) => {
                self.add(dest, kind, file, via.clone())
            }
            Kind::Stmt(s) => {
                let n = self.add(dest, kind, file, via.clone());
                self.declare(n, s, true);
                n
            }
        };
        self.copy_children(c, new, &via, inherit);
    }

    // ---- the passes ----------------------------------------------------------

    /// Every node in tree order, from `start`, as the walk finds them:
    /// children added while walking are walked too. `enter` says whether
    /// to go into a node's children.
    fn walk(
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

    fn optional_enabled(&self, o: usize) -> bool {
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
    fn fail(&mut self, node: NodeId, f: Failure) {
        let mut u = self.unresolved(node, f);
        u.via = (*self.nodes[node].via).clone();
        match self.nodes[node].opt {
            Some(o) => self.disable(o, u),
            None => self.errors.push(u),
        }
    }

    fn unresolved(&self, node: NodeId, f: Failure) -> Unresolved {
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
    fn pass_tunableif(&mut self) {
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
    fn eval_tunables(&self, node: NodeId, term: &Term) -> Result<bool, String> {
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
    fn pass_in(&mut self, after: bool) {
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
                let mut via = (*self.nodes[target].via).clone();
                via.push(Via {
                    what: format!("in {}", i.container),
                    file: self.nodes[n].file,
                    span: i.span,
                });
                let via = Arc::new(via);
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

    fn is_abstract_block(&self, n: NodeId) -> bool {
        matches!(self.nodes[n].kind, Kind::Block(d) if self.blocks[d].is_abstract)
    }

    /// `CIL_PASS_BLKIN_LINK`: each `blockinherit` finds its block.
    fn pass_inherit_link(&mut self) {
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
    fn check_inheritance_loops(&mut self) {
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
    fn pass_inherit_copy(&mut self) {
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
                    let mut via = (*t.nodes[bi_node].via).clone();
                    via.push(Via {
                        what: format!("blockinherit {}", bi.block),
                        file: t.nodes[bi_node].file,
                        span: bi.span,
                    });
                    let via = Arc::new(via);
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
    fn pass_abstract(&mut self) {
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
    fn pass_call(&mut self) {
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
                    super::bad_arguments(m, call)
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
                let mut via = (*t.nodes[n].via).clone();
                via.push(Via {
                    what: format!("call {}", call.name),
                    file: t.nodes[n].file,
                    span: call.span,
                });
                let via = Arc::new(via);
                t.copy_children(mac, n, &via, false);
            },
            |t, n| !matches!(t.nodes[n].kind, Kind::Macro(..)) && !t.is_abstract_block(n),
        );
    }

    /// `cil_check_recursive_call`: whether call node `n` is inside an
    /// expansion of macro `mac`.
    fn recursive_call(&self, n: NodeId, mac: NodeId) -> bool {
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

    // ---- names --------------------------------------------------------------

    /// What the table `tab` holds under `name`, leaving out what disabled
    /// optionals (and, for a call's argument, the call itself) declare.
    fn get(&self, tab: usize, kind: SymbolKind, name: &str, hide: Option<NodeId>) -> Option<Entry> {
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

    fn is_under(&self, mut n: NodeId, ancestor: NodeId) -> bool {
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
    fn with_parents(
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
    fn call_argument(
        &self,
        call_node: NodeId,
        m: &Macro,
        call: &Call,
        kind: SymbolKind,
        name: &str,
    ) -> Option<Option<Entry>> {
        let (k, (param, arg)) = m
            .params
            .iter()
            .zip(&call.args)
            .enumerate()
            .find(|(_, (p, _))| p.name.as_str() == name && super::param_fits(p.kind, kind))?;
        Some(match arg {
            _ if Self::written_in_place(param.kind, arg) => Some(Entry::Arg(call_node, k)),
            Value::Atom(a) => self.resolve(call_node, kind, a.as_str(), Some(call_node)),
            Value::List(_) => None,
        })
    }

    /// Whether a call's argument for a parameter of `kind` is written in
    /// place: a list, or for an `ipaddr` an address (`cil_build_call_args`
    /// reads a name with `.` or `:` as one).
    fn written_in_place(kind: ParamKind, arg: &Value) -> bool {
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
                    Some((super::term_text(&self.qualified(written, &c.condition)), v))
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
    fn qualified(&self, node: NodeId, t: &Term) -> Term {
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
