//! The most common statements read straight from their text:
//! `(allow SOURCE TARGET (CLASS (PERM ...)))` (and the other access vector
//! rules) whose permission list has been read before, `(type NAME)`, and
//! `(block NAME ...)` of such statements, written with single spaces as
//! `checkpolicy -C` and the canonical printer write them (a block's
//! statements may stand on lines of their own).
//!
//! Three quarters of Debian's policy are such lines. Anything else (other
//! spacing, a comment, a string, an expression, a name that does not
//! validate, a permission list not seen yet) returns `None` and the form
//! goes through the general reader and parser, which give the same tree
//! for what this accepts and the errors for what it does not.

use std::cell::RefCell;
use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::{Checked, Interner, Nesting};
use crate::ast::names::NameKind;
use crate::ast::{AvKind, AvRule, Block, ClassPerms, Expr, Name, Ref, Statement, Type};
use crate::span::Span;
use crate::syntax::symbol_end;

/// The symbol at `i` and the position after it and the single space that
/// must follow it.
fn word_then_space(b: &[u8], i: usize) -> Option<(usize, usize)> {
    let end = symbol_end(b, i);
    (end > i && b.get(end) == Some(&b' ')).then_some((end, end + 1))
}

/// What the shortcut reads with: the text, the part's interner and
/// permission lists, and a stack the statements of blocks are gathered on
/// (shared by nested blocks, each taking its own run off the top, so each
/// body is allocated once, at its length, as the general parse allocates
/// it).
pub(super) struct Shortcut<'s, 'a> {
    pub src: &'a str,
    pub names: &'s RefCell<Interner>,
    pub perms: &'s RefCell<FxHashMap<&'a str, Arc<Expr>>>,
    pub scratch: Vec<Statement>,
}

impl Shortcut<'_, '_> {
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
            "type" | "block" => None,
            _ => Some(AvKind::from_keyword(keyword)?),
        };
        if super::statements::forbidden_by(keyword, nest).is_some() {
            return None;
        }
        match (keyword, kind) {
            ("type", _) if room >= 1 => self.type_declaration(at, keyword_end),
            ("block", _) if room >= 1 => self.block(at, keyword_end, nest, room),
            (_, Some(kind)) if room >= 3 => self.av_rule(at, keyword_end, kind),
            _ => None,
        }
    }

    /// `(block NAME STATEMENT...)` whose statements all take the shortcut,
    /// separated by blanks and line breaks.
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
        if name_end == keyword_end + 1
            || !matches!(b.get(name_end), Some(b' ' | b'\t' | b'\n' | b'\r'))
        {
            return None;
        }
        let text = &self.src[keyword_end + 1..name_end];
        let name = Name::from_sym(self.names.borrow().declared(text).ok()?);
        let mut i = name_end;
        let base = self.scratch.len();
        let body = loop {
            while matches!(b.get(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
                i += 1;
            }
            let child = match b.get(i) {
                Some(b')') if self.scratch.len() > base => {
                    break Some(self.scratch.split_off(base));
                }
                Some(b'(') => self.statement(i, nest, room - 1),
                _ => None,
            };
            match child {
                Some((statement, end)) => {
                    self.scratch.push(statement);
                    i = end;
                }
                None => break None,
            }
        };
        let Some(body) = body else {
            self.scratch.truncate(base);
            return None;
        };
        let end = i + 1;
        let block = Block {
            name,
            body,
            span: Span::new(at, end),
        };
        Some((Statement::from(block), end))
    }

    /// `(type NAME)`.
    fn type_declaration(&self, at: usize, keyword_end: usize) -> Option<(Statement, usize)> {
        let b = self.src.as_bytes();
        if b.get(keyword_end) != Some(&b' ') {
            return None;
        }
        let name_at = keyword_end + 1;
        let name_end = symbol_end(b, name_at);
        if name_end == name_at || b.get(name_end) != Some(&b')') {
            return None;
        }
        let text = &self.src[name_at..name_end];
        NameKind::Type.check(text).ok()?;
        let name = Name::from_sym(self.names.borrow().declared(text).ok()?);
        let end = name_end + 1;
        let declaration = Type {
            name,
            span: Span::new(at, end),
        };
        Some((Statement::from(declaration), end))
    }

    /// The `kind` rule at `at` (a `(`), its keyword ending at
    /// `keyword_end`, and where its text ends; or `None`.
    fn av_rule(&self, at: usize, keyword_end: usize, kind: AvKind) -> Option<(Statement, usize)> {
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
        // PERM PERM ... PERM) with single spaces.
        let mut i = list_at + 1;
        loop {
            let end = symbol_end(b, i);
            if end == i {
                return None;
            }
            match b.get(end)? {
                b' ' => i = end + 1,
                b')' => {
                    i = end + 1;
                    break;
                }
                _ => return None,
            }
        }
        let list_end = i;
        if b.get(list_end..list_end + 2) != Some(b"))") {
            return None;
        }
        let end = list_end + 2;
        let perms = self.perms.borrow().get(&src[list_at..list_end]).cloned()?;
        let mut names = self.names.borrow_mut();
        let mut name = |from: usize, to: usize| {
            names
                .intern(&src[from..to], Checked::Ref)
                .ok()
                .map(Ref::from_sym)
        };
        let source = name(source_at, source_end)?;
        let target = name(target_at, target_end)?;
        let class = name(open_at + 1, class_end)?;
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
    use super::super::{DEFAULT_MAX_DEPTH, Nesting, parse_part_with};
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
            parse_part_with(
                src,
                max_depth,
                0,
                src.len(),
                Nesting::default(),
                0,
                shortcut,
            )
            .map(|(statements, _)| statements)
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
                    prop::sample::select(vec!["allow", "dontaudit", "neverallow", "deny", "type", "allowx"]),
                    prop::sample::select(vec!["a", "b_t", ".x.y", "self", "all", "a.", "9", "x$y"]),
                    prop::sample::select(vec!["a", "self", "c.d", "not", "b_t"]),
                    prop::sample::select(vec!["file", "dir", "9c", "all"]),
                    prop::sample::select(vec!["read", "read write", "read  write", "all", "and read", ""]),
                    prop::sample::select(vec![" ", " ", " ", "  ", "\n", "\t"]),
                    0..3usize,
                ),
                1..8,
            )
        ) {
            let mut src = String::from("(allow z z (file (read)))\n(allow z z (file (read write)))\n");
            for (keyword, source, target, class, perms, sep, blocks) in statements {
                let statement = if keyword == "type" {
                    format!("(type{sep}{source})")
                } else {
                    format!("({keyword}{sep}{source} {target} ({class} ({perms})))")
                };
                let mut text = statement;
                for depth in 0..blocks {
                    text = format!("(block b{depth}{sep}{text}{sep}(type t{depth}))");
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
