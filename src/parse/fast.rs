//! The most common statements read straight from their text:
//! `(allow SOURCE TARGET (CLASS (PERM ...)))` (and the other access vector
//! rules) whose permission list is a list of names, `(type NAME)`,
//! `(typetransition SOURCE TARGET CLASS RESULT)`, `(roletype ROLE TYPE)`,
//! and the containers of such statements: `(block NAME ...)` and
//! `(booleanif CONDITION (true ...) (false ...))` (or `tunableif`), whose
//! condition is a name or an operator expression of names. They are read
//! as `checkpolicy -C` and the canonical printer write them: single spaces
//! inside a statement, a container's statements separated by blanks and
//! line breaks.
//!
//! 97% of the statements of Debian's policy are read so. Anything else
//! (other spacing, a comment, a string, a list argument, a name that does
//! not validate, a permission expression) returns `None` and the form goes
//! through the general reader and parser, which give the same tree for
//! what this accepts and the errors for what it does not.

use std::cell::RefCell;
use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::{Checked, Interner, Nesting};
use crate::ast::names::{NameKind, OPERATOR_WORDS};
use crate::ast::{
    AvKind, AvRule, Block, ClassPerms, CondKind, Conditional, Expr, Name, Ref, RoleType, Statement,
    Term, Type, TypeTransition,
};
use crate::span::Span;
use crate::syntax::{is_blank, symbol_end};

/// How deep a condition's operators may nest on the shortcut (the deepest
/// of Debian's is 3); deeper ones take the general path, so the shortcut's
/// recursion stays shallow whatever the depth limit.
const MAX_CONDITION_DEPTH: usize = 8;

/// How far a name's end is looked for: a longer name goes the general way.
const NAME_WINDOW: usize = 256;

/// How far a permission list's `)` is looked for.
const LIST_WINDOW: usize = 1024;

/// The first `byte` at or after `i` and before `i + window`, eight bytes at
/// a time. Bounded, so that a statement the shortcut refuses costs a
/// bounded scan, never one to the end of the file.
fn find_within(b: &[u8], i: usize, byte: u8, window: usize) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let b = b.get(..(i + window).min(b.len()))?;
    let pattern = u64::from_ne_bytes([byte; 8]);
    let mut at = i;
    while let Some(chunk) = b.get(at..at + 8) {
        let word = u64::from_le_bytes(chunk.try_into().ok()?) ^ pattern;
        // The lowest byte that was `byte` (higher ones may be false hits).
        let found = word.wrapping_sub(ONES) & !word & HIGHS;
        if found != 0 {
            return Some(at + (found.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    b.get(at..)?.iter().position(|&c| c == byte).map(|p| at + p)
}

/// The name at `i`, up to the single space that must follow it, and the
/// position after that space. The text up to the first space is taken as
/// the name: the caller validates it as a name (or finds it among names
/// validated before), and a name holds only symbol bytes, so it is the
/// symbol the lexer reads there.
fn word_then_space(b: &[u8], i: usize) -> Option<(usize, usize)> {
    let end = find_within(b, i, b' ', NAME_WINDOW)?;
    (end > i).then_some((end, end + 1))
}

/// Whether `c` separates a container's statements.
fn blank(c: Option<&u8>) -> bool {
    c.is_some_and(|&c| is_blank(c))
}

/// What the shortcut reads with: the text, the part's interner and
/// permission lists, and a stack the statements of containers are gathered
/// on (shared by nested containers, each taking its own run off the top, so
/// each body is allocated once, at its length, as the general parse
/// allocates it).
pub(super) struct Shortcut<'s, 'a> {
    pub src: &'a str,
    pub names: &'s RefCell<Interner>,
    pub perms: &'s RefCell<FxHashMap<&'a str, Arc<Expr>>>,
    /// The permission lists the shortcut has read, by their text: names
    /// separated by single spaces (the general parse's may hold comments).
    pub plain_perms: FxHashMap<&'a str, Arc<Expr>>,
    pub scratch: Vec<Statement>,
}

impl<'a> Shortcut<'_, 'a> {
    /// The statement at `at` (a `(`) inside containers nested as `nest`
    /// says, with room for `room` more open lists before a depth limit,
    /// and where its text ends; or `None`.
    pub(super) fn statement(
        &mut self,
        at: usize,
        nest: Nesting,
        room: usize,
    ) -> Option<(Statement, usize)> {
        let b = self.src.as_bytes();
        if b.get(at) != Some(&b'(') {
            return None;
        }
        let keyword_end = symbol_end(b, at + 1);
        let keyword = &self.src[at + 1..keyword_end];
        // Only the keywords the shortcut reads are checked against the
        // enclosing containers; any other goes the general way at once.
        let kind = match keyword {
            "type" | "block" | "typetransition" | "roletype" | "booleanif" | "tunableif" => None,
            _ => Some(AvKind::from_keyword(keyword)?),
        };
        if super::statements::forbidden_by(keyword, nest).is_some() {
            return None;
        }
        match (keyword, kind) {
            ("type", _) if room >= 1 => self.type_declaration(at, keyword_end),
            ("typetransition", _) if room >= 1 => self.type_transition(at, keyword_end),
            ("roletype", _) if room >= 1 => self.role_type(at, keyword_end),
            ("block", _) if room >= 1 => self.block(at, keyword_end, nest, room),
            ("booleanif", _) if room >= 2 => {
                self.conditional(at, keyword_end, CondKind::Boolean, nest, room)
            }
            ("tunableif", _) if room >= 2 => {
                self.conditional(at, keyword_end, CondKind::Tunable, nest, room)
            }
            (_, Some(kind)) if room >= 3 => self.av_rule(at, keyword_end, kind),
            _ => None,
        }
    }

    /// The statements from `i` (after a container's header) to the
    /// container's `)`, at least one, separated by blanks and line breaks,
    /// each with `room` open lists left; and the position after the `)`.
    fn body(
        &mut self,
        mut i: usize,
        nest: Nesting,
        room: usize,
    ) -> Option<(Vec<Statement>, usize)> {
        let b = self.src.as_bytes();
        let base = self.scratch.len();
        loop {
            while blank(b.get(i)) {
                i += 1;
            }
            let child = match b.get(i) {
                Some(b')') if self.scratch.len() > base => {
                    return Some((self.scratch.split_off(base), i + 1));
                }
                Some(b'(') => self.statement(i, nest, room),
                _ => None,
            };
            match child {
                Some((statement, end)) => {
                    self.scratch.push(statement);
                    i = end;
                }
                None => {
                    self.scratch.truncate(base);
                    return None;
                }
            }
        }
    }

    /// `(block NAME STATEMENT...)` whose statements all take the shortcut.
    fn block(
        &mut self,
        at: usize,
        keyword_end: usize,
        nest: Nesting,
        room: usize,
    ) -> Option<(Statement, usize)> {
        let b = self.src.as_bytes();
        if b.get(keyword_end) != Some(&b' ') {
            return None;
        }
        let name_end = symbol_end(b, keyword_end + 1);
        if name_end == keyword_end + 1 || !blank(b.get(name_end)) {
            return None;
        }
        let text = &self.src[keyword_end + 1..name_end];
        let name = Name::from_sym(self.names.borrow().declared(text).ok()?);
        let (body, end) = self.body(name_end, nest, room - 1)?;
        let block = Block {
            name,
            body,
            span: Span::new(at, end),
        };
        Some((Statement::from(block), end))
    }

    /// `(booleanif CONDITION BRANCH [BRANCH])` (or `tunableif`), each
    /// branch `(true STATEMENT...)` or `(false STATEMENT...)` on the
    /// shortcut, at most one of each.
    fn conditional(
        &mut self,
        at: usize,
        keyword_end: usize,
        kind: CondKind,
        nest: Nesting,
        room: usize,
    ) -> Option<(Statement, usize)> {
        let b = self.src.as_bytes();
        if b.get(keyword_end) != Some(&b' ') {
            return None;
        }
        let depth = (room - 1).min(MAX_CONDITION_DEPTH);
        let (condition, mut i) = self.term(keyword_end + 1, depth)?;
        let inner = nest.in_conditional(kind);
        let mut if_true = None;
        let mut if_false = None;
        loop {
            let after = i;
            while blank(b.get(i)) {
                i += 1;
            }
            match b.get(i) {
                Some(b')') if if_true.is_some() || if_false.is_some() => break,
                Some(b'(') if i > after => {}
                _ => return None,
            }
            let word_end = symbol_end(b, i + 1);
            let which = match &self.src[i + 1..word_end] {
                "true" => &mut if_true,
                "false" => &mut if_false,
                _ => return None,
            };
            if which.is_some() || !blank(b.get(word_end)) {
                return None;
            }
            let (branch, end) = self.body(word_end, inner, room - 2)?;
            *which = Some(branch);
            i = end;
        }
        let end = i + 1;
        let conditional = Conditional {
            kind,
            condition,
            if_true,
            if_false,
            span: Span::new(at, end),
        };
        Some((Statement::from(conditional), end))
    }

    /// A condition's term at `i`: a name, or `(OPERATOR TERM [TERM])` of
    /// the operators a condition takes, with `depth` more lists allowed;
    /// and where it ends.
    fn term(&self, i: usize, depth: usize) -> Option<(Term, usize)> {
        let b = self.src.as_bytes();
        if b.get(i) != Some(&b'(') {
            let end = symbol_end(b, i);
            // An operator word alone is an error the general parse reports.
            if end == i || OPERATOR_WORDS.contains(&&self.src[i..end]) {
                return None;
            }
            return Some((Term::Leaf(self.reference(i, end)?), end));
        }
        if depth == 0 {
            return None;
        }
        let op_end = symbol_end(b, i + 1);
        let op = &self.src[i + 1..op_end];
        if !matches!(op, "not" | "and" | "or" | "xor" | "eq" | "neq") {
            return None;
        }
        if b.get(op_end) != Some(&b' ') {
            return None;
        }
        let (first, mut j) = self.term(op_end + 1, depth - 1)?;
        let first = Box::new(first);
        let expr = if op == "not" {
            Expr::Not(first)
        } else {
            if b.get(j) != Some(&b' ') {
                return None;
            }
            let (second, end) = self.term(j + 1, depth - 1)?;
            j = end;
            let second = Box::new(second);
            match op {
                "and" => Expr::And(first, second),
                "or" => Expr::Or(first, second),
                "xor" => Expr::Xor(first, second),
                "eq" => Expr::Eq(first, second),
                _ => Expr::Neq(first, second),
            }
        };
        if b.get(j) != Some(&b')') {
            return None;
        }
        Some((Term::Expr(Box::new(expr)), j + 1))
    }

    /// `(type NAME)`.
    fn type_declaration(&self, at: usize, keyword_end: usize) -> Option<(Statement, usize)> {
        let ([(from, to)], end) = self.words(keyword_end)?;
        let text = &self.src[from..to];
        NameKind::Type.check(text).ok()?;
        let name = Name::from_sym(self.names.borrow().declared(text).ok()?);
        let declaration = Type {
            name,
            span: Span::new(at, end),
        };
        Some((Statement::from(declaration), end))
    }

    /// `(typetransition SOURCE TARGET CLASS RESULT)` (with an object name,
    /// a string, it takes the general path).
    fn type_transition(&self, at: usize, keyword_end: usize) -> Option<(Statement, usize)> {
        let ([source, target, class, result], end) = self.words(keyword_end)?;
        let rule = TypeTransition {
            source: self.reference(source.0, source.1)?,
            target: self.reference(target.0, target.1)?,
            class: self.reference(class.0, class.1)?,
            object_name: None,
            result: self.reference(result.0, result.1)?,
            span: Span::new(at, end),
        };
        Some((Statement::from(rule), end))
    }

    /// `(roletype ROLE TYPE)`.
    fn role_type(&self, at: usize, keyword_end: usize) -> Option<(Statement, usize)> {
        let ([role, ty], end) = self.words(keyword_end)?;
        let statement = RoleType {
            role: self.reference(role.0, role.1)?,
            ty: self.reference(ty.0, ty.1)?,
            span: Span::new(at, end),
        };
        Some((Statement::from(statement), end))
    }

    /// `N` symbols after the keyword ending at `keyword_end`, each after a
    /// single space, then the statement's `)`: where each symbol is, and
    /// the position after the `)`.
    fn words<const N: usize>(&self, keyword_end: usize) -> Option<([(usize, usize); N], usize)> {
        let b = self.src.as_bytes();
        let mut words = [(0, 0); N];
        let mut i = keyword_end;
        for word in &mut words {
            if b.get(i) != Some(&b' ') {
                return None;
            }
            let end = symbol_end(b, i + 1);
            if end == i + 1 {
                return None;
            }
            *word = (i + 1, end);
            i = end;
        }
        (b.get(i) == Some(&b')')).then_some((words, i + 1))
    }

    /// The reference spelt from `from` to `to`, if it validates.
    fn reference(&self, from: usize, to: usize) -> Option<Ref> {
        self.names
            .borrow_mut()
            .intern(&self.src[from..to], Checked::Ref)
            .ok()
            .map(Ref::from_sym)
    }

    /// The permission list from `from` to `to`, `(PERM ...)` with single
    /// spaces: shared with every earlier list of the same text, as the
    /// general parse shares them.
    fn perms(&mut self, from: usize, to: usize) -> Option<Arc<Expr>> {
        let src: &'a str = self.src;
        let text = &src[from..to];
        if let Some(perms) = self.plain_perms.get(text) {
            return Some(perms.clone());
        }
        let b = src.as_bytes();
        let mut names = Vec::new();
        let mut i = from + 1;
        loop {
            let end = symbol_end(b, i);
            // An operator word makes an expression, or an error.
            if end == i || OPERATOR_WORDS.contains(&&src[i..end]) {
                return None;
            }
            names.push((i, end));
            match b.get(end)? {
                b' ' => i = end + 1,
                b')' if end + 1 == to => break,
                _ => return None,
            }
        }
        let shared = self.perms.borrow().get(text).cloned();
        let perms = match shared {
            Some(perms) => perms,
            None => {
                let mut terms = Vec::with_capacity(names.len());
                for (from, to) in names {
                    terms.push(Term::Leaf(self.reference(from, to)?));
                }
                let perms = Arc::new(Expr::List(terms));
                self.perms.borrow_mut().insert(text, perms.clone());
                perms
            }
        };
        self.plain_perms.insert(text, perms.clone());
        Some(perms)
    }

    /// The `kind` rule at `at` (a `(`), its keyword ending at
    /// `keyword_end`, and where its text ends; or `None`.
    fn av_rule(
        &mut self,
        at: usize,
        keyword_end: usize,
        kind: AvKind,
    ) -> Option<(Statement, usize)> {
        let src = self.src;
        let b = src.as_bytes();
        if b.get(keyword_end) != Some(&b' ') {
            return None;
        }
        let source_at = keyword_end + 1;
        let (source_end, target_at) = word_then_space(b, source_at)?;
        let (target_end, open_at) = word_then_space(b, target_at)?;
        if b.get(open_at) != Some(&b'(') {
            return None;
        }
        let (class_end, list_at) = word_then_space(b, open_at + 1)?;
        if b.get(list_at) != Some(&b'(') {
            return None;
        }
        // (PERM PERM ... PERM) with single spaces, then the rule's `))`.
        let list_end = find_within(b, list_at, b')', LIST_WINDOW)? + 1;
        if b.get(list_end..list_end + 2) != Some(b"))") {
            return None;
        }
        let end = list_end + 2;
        let perms = self.perms(list_at, list_end)?;
        let source = self.reference(source_at, source_end)?;
        let target = self.reference(target_at, target_end)?;
        let class = self.reference(open_at + 1, class_end)?;
        let rule = AvRule {
            kind,
            source,
            target,
            classperms: ClassPerms::Anonymous { class, perms },
            span: Span::new(at, end),
        };
        Some((Statement::from(rule), end))
    }
}

#[cfg(test)]
mod tests {
    use super::super::{DEFAULT_MAX_DEPTH, Mode, Nesting, parse_part_with};
    use crate::ast::Statement;
    use proptest::prelude::*;

    /// Every statement's span, in walk order (spans do not take part in
    /// `==`).
    fn spans(statements: &[Statement]) -> Vec<(u32, u32)> {
        let policy = crate::ast::Policy {
            statements: statements.to_vec(),
        };
        policy
            .walk()
            .map(|s| (s.span().start, s.span().end))
            .collect()
    }

    /// The same text with the shortcut on and off: the same tree and
    /// spans, or the same error.
    fn same(src: &str, max_depth: usize) {
        let read = |shortcut| {
            // Runs of three statements with the shortcut, one run without:
            // the join's runs are checked here too.
            let run = if shortcut { 3 } else { usize::MAX };
            let mode = Mode { shortcut, run };
            parse_part_with(src, max_depth, 0, src.len(), Nesting::default(), 0, mode)
                .map(|(runs, _)| runs.concat())
                .map_err(|d| format!("{:?}", d.into_parts()))
        };
        let (fast, general) = (read(true), read(false));
        assert_eq!(fast, general, "{src:?}");
        if let (Ok(a), Ok(b)) = (&fast, &general) {
            assert_eq!(spans(a), spans(b), "{src:?}");
        }
    }

    #[test]
    fn the_shortcut_reads_what_the_general_parser_reads() {
        let lines = [
            "(allow a b (file (read write)))",
            "(dontaudit a self (file (read write)))",
            "(auditallow .x.y b (file (read write)))",
            "(neverallow a b (file (read write)))",
            "(deny a b (file (read write)))",
            "(allow a b (file (read  write)))",
            "(allow a b (file (read write) ))",
            "(allow a b (file (read write)) )",
            "(allow a b (file (read write)))(allow c d (file (read write)))",
            "(allow a b (file (read write ; c\n)))",
            "(allow all b (file (read write)))",
            "(allow a b (file (and (read) (write))))",
            "(allow a b (file (read write)) extra)",
            "(allow a b (9x (read write)))",
            "(allow a b.c. (file (read write)))",
            "(allow a b (file (read write))",
            "(allowx a b (ioctl file (1)))",
            "(allow a b (file ()))",
            "(allow a b cp)",
            "(type t)",
            "(type self)",
            "(type all)",
            "(type a.b)",
            "(type 9)",
            "(type t )",
            "(type  t)",
            "(type t u)",
            "(type (t))",
            "(type)",
            "(type t",
            "(block b (type p) (allow p self (file (read write))))",
            "(block b\n    (type p)\n    (allow p self (file (read write)))\n)",
            "(block b (block c (type p)) (type q))",
            "(block b)",
            "(block b ; c\n (type p))",
            "(block b (type p) x)",
            "(block b (typeattribute p))",
            "(block b.c (type p))",
            "(block all (type p))",
            "(block b (type p)",
            "(block (type p))",
            "(allow a b (file (open)))",
            "(allow a b (file (open read all)))",
            "(allow a b (file (all)))",
            "(allow a b (file (not read)))",
            "(allow a b (file (x.y)))",
            "(allow a b (file (read read)))",
            "(allow a b (file (read 9)))",
            "(allow a b (file (read ; )\n write)))",
            "(allow a b (file (read ; c\n)))",
            "(allow a\nb (file (read write)))",
            "(allow a b\n(file (read write)))",
            "(allow a b (file\n(read write)))",
            "(allow a(b) (file (read write)))",
            "(allow a b (file (read)write)))",
            "(allow a b (file (read) ))",
            "(allow a b (file (read\twrite)))",
            "(allow a b (file ( read)))",
            "(allow a b (file (read )))",
            "(allow a b (file (read)))x",
            "(allow a b (file (read (write))))",
            "(allow a b (file (\"read\" write)))",
            "(typetransition a b file c)",
            "(typetransition a b file \"n\" c)",
            "(typetransition a b file)",
            "(typetransition a b file c d e)",
            "(typetransition a  b file c)",
            "(typetransition a b (file) c)",
            "(typetransition .a.b self file c.)",
            "(typetransition a b file c",
            "(roletype r t)",
            "(roletype object_r all)",
            "(roletype r)",
            "(roletype r t u)",
            "(roletype r (t))",
            "(roletype r t )",
            "(booleanif b (true (allow a b (file (read write)))))",
            "(booleanif b (false (allow a b (file (read)))) (true (allow a b (file (write)))))",
            "(booleanif b (true (allow a b (file (read)))) (false (allow a b (file (write)))))",
            "(booleanif b\n    (true\n        (allow a b (file (read write)))\n        (typetransition a b file c)\n    )\n)",
            "(booleanif (and b c) (true (allow a b (file (read)))))",
            "(booleanif (not b) (true (allow a b (file (read)))))",
            "(booleanif (and (or a b) (not (xor c (eq d (neq e f))))) (true (allow a b (file (read)))))",
            "(booleanif (all) (true (allow a b (file (read)))))",
            "(booleanif (and a) (true (allow a b (file (read)))))",
            "(booleanif (not a b) (true (allow a b (file (read)))))",
            "(booleanif (a b) (true (allow a b (file (read)))))",
            "(booleanif (range a b) (true (allow a b (file (read)))))",
            "(booleanif and (true (allow a b (file (read)))))",
            "(booleanif b.c (true (allow a b (file (read)))))",
            "(booleanif 9 (true (allow a b (file (read)))))",
            "(booleanif b (true))",
            "(booleanif b)",
            "(booleanif b (true (allow a b (file (read)))) (true (allow a b (file (read)))))",
            "(booleanif b (true (allow a b (file (read)))) (false (allow a b (file (read)))) (false (allow a b (file (read)))))",
            "(booleanif b (true (type t)))",
            "(booleanif b (true (roletype r t)))",
            "(booleanif b (true (neverallow a b (file (read)))))",
            "(booleanif b (true (booleanif c (true (allow a b (file (read)))))))",
            "(booleanif b (true (block c (allow a b (file (read))))))",
            "(booleanif b(true (allow a b (file (read)))))",
            "(booleanif b (true (allow a b (file (read))))(false (allow a b (file (read)))))",
            "(booleanif b (maybe (allow a b (file (read)))))",
            "(booleanif b (true (allow a b (file (read)))) x)",
            "(booleanif b (true ; c\n (allow a b (file (read)))))",
            "(booleanif b (true (allow a b (file (read))))",
            "(tunableif t (true (allow a b (file (read)))))",
            "(tunableif t (true (tunableif u (true (allow a b (file (read)))))))",
            "(tunableif t (false (booleanif u (true (allow a b (file (read)))))))",
            "(block b (booleanif c (true (allow a b (file (read))))))",
            "(block b (tunableif c (true (type t))))",
        ];
        // Each line twice, so that the second meets a permission list read
        // before, and after another rule with the same list.
        for line in lines {
            same(
                &format!("(allow z z (file (read write)))\n{line}\n{line}\n"),
                DEFAULT_MAX_DEPTH,
            );
        }
        // At the depth limit the shortcut gives way to the general parse.
        for limit in [1, 2, 3, 4, 5, 6] {
            same(
                "(allow a b (file (read)))\n(allow a b (file (read)))\n",
                limit,
            );
            same(
                "(allow a b (file (read)))\n(block b (block c (allow a b (file (read)))))\n",
                limit,
            );
            same("(block b (block c (type t)))\n", limit);
            same("(roletype r t)\n(typetransition a b c d)\n", limit);
            same(
                "(booleanif b (true (allow a b (file (read)))))\n(allow a b (file (read)))\n",
                limit,
            );
            same(
                "(booleanif (and (not a) b) (true (typetransition a b c d)))\n",
                limit,
            );
            same(
                "(block b (tunableif (not (not (not a))) (false (roletype r t))))\n",
                limit,
            );
        }
        // Past the shortcut's own depth of conditions.
        let mut deep = "a".to_string();
        for _ in 0..12 {
            deep = format!("(not {deep})");
        }
        same(
            &format!("(booleanif {deep} (true (allow a b (file (read)))))\n"),
            DEFAULT_MAX_DEPTH,
        );
        // Names and lists past the shortcut's windows, and just inside.
        for n in [250, 256, 257, 300] {
            let name = "n".repeat(n);
            same(
                &format!("(allow {name} {name} ({name} (read)))\n(allow {name} b (file (read)))\n"),
                DEFAULT_MAX_DEPTH,
            );
        }
        for n in [200, 204, 205, 300] {
            let list = vec!["read"; n].join(" ");
            same(
                &format!("(allow a b (file ({list})))\n(allow a b (file ({list})))\n"),
                DEFAULT_MAX_DEPTH,
            );
        }
        // A list the general parse read with a comment in it, then the
        // same text again.
        same(
            "(allow a b (file (read ; c\n)))\n(allow a b (file (read ; c\n)))\n(allow a b (file (read)))\n",
            DEFAULT_MAX_DEPTH,
        );
        // A permission list the shortcut reads first.
        same("(allow a b (file (read write)))\n", DEFAULT_MAX_DEPTH);
    }

    /// What the shortcut is for: the canonical forms take it (a change that
    /// sent them the general way would still read the same trees, only
    /// slower).
    #[test]
    fn the_canonical_forms_take_the_shortcut() {
        use super::Shortcut;
        use std::cell::RefCell;
        for src in [
            "(allow a_t b_t (file (read write getattr open ioctl lock)))",
            "(dontaudit a_t .b.c_t (file (read)))",
            "(allow abcdefgh abcdefghi (abcdefg (a b c d e f g h i)))",
            "(type abcdefgh_t)",
            "(typetransition a_t b_t file c_t)",
            "(roletype system_r a_t)",
            "(booleanif (and (not a) (or b c))\n    (true\n        (allow a b (file (read)))\n    )\n    (false\n        (typetransition a b file c)\n    )\n)",
            "(tunableif t (true (allow a b (file (read)))))",
            "(block b\n    (type p)\n    (allow p self (file (read write)))\n)",
        ] {
            let names = RefCell::default();
            let perms = RefCell::default();
            let mut shortcut = Shortcut {
                src,
                names: &names,
                perms: &perms,
                plain_perms: Default::default(),
                scratch: Vec::new(),
            };
            let read = shortcut.statement(0, Nesting::default(), DEFAULT_MAX_DEPTH);
            assert_eq!(read.map(|(_, end)| end), Some(src.len()), "{src}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Rules and declarations shaped as the shortcut reads them, from
        /// keywords, names (some that do not validate or are reserved),
        /// permission lists and separators (some it does not take), inside
        /// blocks or not, each twice: most of them take the shortcut.
        #[test]
        fn shaped_statements_read_the_same_with_and_without_the_shortcut(
            statements in proptest::collection::vec(
                (
                    prop::sample::select(vec![
                        "allow", "dontaudit", "neverallow", "deny", "type", "allowx",
                        "typetransition", "roletype",
                    ]),
                    prop::sample::select(vec!["a", "b_t", ".x.y", "self", "all", "a.", "9", "x$y"]),
                    prop::sample::select(vec!["a", "self", "c.d", "not", "b_t"]),
                    prop::sample::select(vec!["file", "dir", "9c", "all"]),
                    prop::sample::select(vec!["read", "read write", "read  write", "all", "and read", ""]),
                    prop::sample::select(vec![" ", " ", " ", "  ", "\n", "\t"]),
                    proptest::collection::vec(
                        (
                            prop::sample::select(vec!["block", "booleanif", "tunableif"]),
                            prop::sample::select(vec![
                                "b", "(and b c)", "(not (or b c))", "(eq b c)", "and",
                                "(and b)", "(all)", "b.c", "(b c)",
                            ]),
                            prop::sample::select(vec!["true", "false"]),
                        ),
                        0..3,
                    ),
                ),
                1..8,
            )
        ) {
            let mut src = String::from("(allow z z (file (read)))\n(allow z z (file (read write)))\n");
            for (keyword, source, target, class, perms, sep, containers) in statements {
                let statement = match keyword {
                    "type" => format!("(type{sep}{source})"),
                    "typetransition" => format!("(typetransition{sep}{source} {target} {class} {source})"),
                    "roletype" => format!("(roletype{sep}{source} {target})"),
                    _ => format!("({keyword}{sep}{source} {target} ({class} ({perms})))"),
                };
                let mut text = statement;
                for (depth, (container, condition, branch)) in containers.into_iter().enumerate() {
                    text = if container == "block" {
                        format!("(block b{depth}{sep}{text}{sep}(type t{depth}))")
                    } else {
                        format!("({container} {condition}{sep}({branch}{sep}{text}{sep}(allow a b (file (read)))))")
                    };
                }
                src.push_str(&format!("{text}\n{text}\n"));
            }
            same(&src, DEFAULT_MAX_DEPTH);
        }

        /// Rules made of words, names that do and do not validate,
        /// parentheses, spaces, tabs, line breaks and comments, each twice.
        #[test]
        fn any_rule_reads_the_same_with_and_without_the_shortcut(
            parts in proptest::collection::vec(
                prop_oneof![
                    Just("(".to_string()), Just(")".to_string()), Just(" ".to_string()),
                    Just("  ".to_string()), Just("\t".to_string()), Just("\n".to_string()),
                    Just("; c\n".to_string()), Just("allow".to_string()),
                    Just("dontaudit".to_string()), Just("file".to_string()),
                    Just("read".to_string()), Just("write".to_string()), Just("self".to_string()),
                    Just("all".to_string()), Just(".a.b".to_string()), Just("a.".to_string()),
                    Just("9".to_string()), Just("\"s\"".to_string()), Just("x$".to_string()),
                    Just("type".to_string()), Just("(type t)".to_string()),
                    Just("block".to_string()), Just("(block b".to_string()),
                ],
                0..24,
            )
        ) {
            let rule: String = parts.concat();
            let src = format!("(allow a b (file (read)))\n{rule}\n{rule}\n");
            same(&src, DEFAULT_MAX_DEPTH);
            let src = format!("(allow a b (file (read write)))\n(allow a b (file (read write)))\n{rule}\n");
            same(&src, DEFAULT_MAX_DEPTH);
        }
    }
}
