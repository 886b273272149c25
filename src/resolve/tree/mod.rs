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

mod lookup;
mod passes;

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
    /// Its full, dotted name and a dot: the prefix of what it declares.
    pub prefix: String,
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
    fn prefix_of(&self, mut n: NodeId) -> &str {
        loop {
            match self.nodes[n].kind {
                Kind::Root => return "",
                Kind::Block(d) => return &self.blocks[d].prefix,
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
        let prefix = format!("{}{}.", self.prefix_of(parent), b.name);
        let own = self.new_tab();
        let d = self.blocks.len();
        let node = self.add(parent, Kind::Block(d), file, via);
        self.blocks.push(BlockDatum {
            prefix,
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
        let declared = declares(s);
        if declared.is_empty() {
            return;
        }
        let tab = self.symtab_of(self.nodes[node].parent);
        let prefix = self.prefix_of(self.nodes[node].parent).to_string();
        for (kind, what, name) in declared {
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
}
