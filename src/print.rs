//! The canonical printer.
//!
//! One statement per line, 4 spaces per level; a container opens on its
//! keyword's line and closes with `)` alone on its own line; a comment that
//! follows a statement is preceded by one blank line, so a commented group
//! reads as a paragraph. Line marks always start at column 0 (where secilc
//! recognizes them) and a comment that would read as one there gets a
//! leading space.

use crate::ast::names::is_symbol;
use crate::ast::*;
use crate::parse::{Arg, SimpleStatement};

/// Writes CIL text: into a string, or through a writer in pieces.
pub(crate) struct Printer<'w> {
    out: String,
    /// Where to write `out` whenever a statement ends and it has grown past
    /// [`CHUNK`]: a policy printed through `Display` is never held whole
    /// twice (once here, once in the writer's string).
    sink: Option<&'w mut dyn std::fmt::Write>,
    /// The sink's first error.
    failed: bool,
    indent: usize,
    space: bool,
    /// Tokens of the current statement written so far.
    tokens: u32,
    /// Comments to write inside the current statement: (after token, text),
    /// in order.
    inside: Vec<(u32, String)>,
    /// A comment ended the line: the next token starts a new one.
    broken: bool,
}

/// How much text a printer with a sink holds before writing it.
const CHUNK: usize = 1 << 16;

impl Printer<'static> {
    pub fn new() -> Printer<'static> {
        Printer::with(String::new(), None)
    }

    pub fn finish(self) -> String {
        self.out
    }
}

impl<'w> Printer<'w> {
    /// A printer that writes its text to `sink` in pieces.
    pub fn to_sink(sink: &'w mut dyn std::fmt::Write) -> Printer<'w> {
        Printer::with(String::with_capacity(2 * CHUNK), Some(sink))
    }

    fn with(out: String, sink: Option<&'w mut dyn std::fmt::Write>) -> Printer<'w> {
        Printer {
            out,
            sink,
            failed: false,
            indent: 0,
            space: false,
            tokens: 0,
            inside: Vec::new(),
            broken: false,
        }
    }

    /// Writes what is left to the sink.
    pub fn finish_sink(mut self) -> std::fmt::Result {
        self.flush();
        if self.failed {
            Err(std::fmt::Error)
        } else {
            Ok(())
        }
    }

    fn flush(&mut self) {
        if let Some(sink) = &mut self.sink {
            if !self.failed && sink.write_str(&self.out).is_err() {
                self.failed = true;
            }
            self.out.clear();
        }
    }
}

impl Printer<'_> {
    #[inline]
    fn sep(&mut self) {
        if self.broken {
            // A line inside a statement, after a comment: one level in.
            self.out.push('\n');
            for _ in 0..=self.indent {
                self.out.push_str("    ");
            }
            self.broken = false;
        } else if self.space {
            self.out.push(' ');
        }
    }

    /// Counts a token and writes the comments that follow it.
    #[inline]
    fn token(&mut self) {
        self.tokens += 1;
        if !self.inside.is_empty() {
            self.comments_after_token();
        }
    }

    /// Writes the comments written after the token just counted.
    #[cold]
    fn comments_after_token(&mut self) {
        while self
            .inside
            .first()
            .is_some_and(|(at, _)| *at == self.tokens)
        {
            let (_, text) = self.inside.remove(0);
            if self.broken {
                self.sep();
            } else {
                self.out.push(' ');
            }
            self.out.push(';');
            self.out.push_str(&text);
            self.broken = true;
            self.space = false;
        }
    }

    /// A bare symbol.
    #[inline]
    pub fn word(&mut self, s: &str) {
        self.sep();
        self.out.push_str(s);
        self.space = true;
        self.token();
    }

    /// A value's `Display` form as a bare symbol, without a temporary string.
    pub fn display(&mut self, v: impl std::fmt::Display) {
        use std::fmt::Write;
        self.sep();
        // Writing to a String cannot fail.
        let _ = write!(self.out, "{v}");
        self.space = true;
        self.token();
    }

    /// A string, always in quotes.
    pub fn quoted(&mut self, s: &str) {
        self.sep();
        self.out.push('"');
        self.out.push_str(s);
        self.out.push('"');
        self.space = true;
        self.token();
    }

    /// A symbol or string: bare when it can be.
    pub fn atom(&mut self, s: &str) {
        if is_symbol(s) {
            self.word(s);
        } else {
            self.quoted(s);
        }
    }

    #[inline]
    pub fn open(&mut self) {
        self.sep();
        self.out.push('(');
        self.space = false;
        self.token();
    }

    #[inline]
    pub fn close(&mut self) {
        if self.broken {
            self.sep();
        }
        self.out.push(')');
        self.space = true;
        self.token();
    }

    /// `(KIND SOURCE TARGET (CLASS (PERM ...)))`, the commonest statement,
    /// written in one go when no comment is to go inside it; `false` (and
    /// nothing written) for any other shape, which prints token by token.
    fn plain_rule(&mut self, r: &AvRule) -> bool {
        let ClassPerms::Anonymous { class, perms } = &r.classperms else {
            return false;
        };
        let Expr::List(terms) = &**perms else {
            return false;
        };
        if self.broken || !self.inside.is_empty() {
            return false;
        }
        let mut names = 0;
        for term in terms {
            let Term::Leaf(name) = term else {
                return false;
            };
            names += name.as_str().len() + 1;
        }
        let (keyword, source, target, class) = (
            r.kind.keyword(),
            r.source.as_str(),
            r.target.as_str(),
            class.as_str(),
        );
        self.sep();
        let out = &mut self.out;
        out.reserve(keyword.len() + source.len() + target.len() + class.len() + names + 12);
        out.push('(');
        out.push_str(keyword);
        out.push(' ');
        out.push_str(source);
        out.push(' ');
        out.push_str(target);
        out.push_str(" (");
        out.push_str(class);
        out.push_str(" (");
        for (i, term) in terms.iter().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            if let Term::Leaf(name) = term {
                out.push_str(name.as_str());
            }
        }
        out.push_str(")))");
        self.space = true;
        // As written token by token: three lists opened and closed, the
        // keyword, two names, the class and the permissions.
        self.tokens += 10 + terms.len() as u32;
        true
    }

    #[inline]
    fn line_start(&mut self) {
        for _ in 0..self.indent {
            self.out.push_str("    ");
        }
        self.space = false;
    }

    /// Statements one per line at the current indent, each ending in `\n`.
    /// Comments written inside a statement (they follow it, with
    /// [`Comment::inside`]) go back inside it.
    pub fn body(&mut self, stmts: &[Statement]) {
        let mut prev: Option<&Statement> = None;
        let mut i = 0;
        while i < stmts.len() {
            let s = &stmts[i];
            i += 1;
            if matches!(s, Statement::Comment(_)) && prev.is_some_and(|p| !p.is_trivia()) {
                self.out.push('\n');
            }
            match s {
                Statement::LineMark(_) => {}
                _ => self.line_start(),
            }
            let mut inside = Vec::new();
            if !s.is_trivia() {
                while let Some(Statement::Comment(c)) = stmts.get(i) {
                    let Some(at) = c.inside() else { break };
                    inside.push((at, c.text().to_string()));
                    i += 1;
                }
            }
            // A statement's own tokens and comments; those of a container's
            // body are its statements', so the state is saved around them
            // (the comment lists only when there are any: most statements
            // have none, and no container header is being written).
            let tokens = std::mem::replace(&mut self.tokens, 0);
            let broken = std::mem::replace(&mut self.broken, false);
            let outer = (!inside.is_empty() || !self.inside.is_empty())
                .then(|| std::mem::replace(&mut self.inside, inside));
            self.statement(s);
            // Comments that found no token (built in code) still print.
            if !self.inside.is_empty() {
                for (_, text) in std::mem::take(&mut self.inside) {
                    self.out.push_str(" ;");
                    self.out.push_str(&text);
                }
            }
            self.tokens = tokens;
            self.broken = broken;
            if let Some(outer) = outer {
                self.inside = outer;
            }
            self.out.push('\n');
            if self.out.len() >= CHUNK {
                self.flush();
            }
            prev = Some(s);
        }
    }

    /// Ends a container's header: writes the header's comments that are
    /// left (built in code with a token past the header); whether any
    /// comment ended the header's last line.
    fn end_header(&mut self) -> bool {
        for (_, text) in std::mem::take(&mut self.inside) {
            self.out.push_str(" ;");
            self.out.push_str(&text);
            self.broken = true;
        }
        std::mem::replace(&mut self.broken, false)
    }

    /// A container's `(KEYWORD HEADER` is written; writes its body and `)`.
    fn container_body(&mut self, stmts: &[Statement]) {
        let commented = self.end_header();
        if stmts.is_empty() {
            if commented {
                self.out.push('\n');
                self.line_start();
            }
            self.close();
            return;
        }
        self.out.push('\n');
        self.indent += 1;
        self.body(stmts);
        self.indent -= 1;
        self.line_start();
        self.close();
    }

    pub(crate) fn simple<T: SimpleStatement>(&mut self, s: &T) {
        self.open();
        self.word(T::KEYWORD);
        s.print_args(self);
        self.close();
    }

    /// One statement, from the current position, without a final line break.
    pub fn statement(&mut self, s: &Statement) {
        match s {
            Statement::Comment(c) => {
                if self.indent == 0 && c.text().starts_with(";*") {
                    self.out.push(' ');
                }
                self.out.push(';');
                self.out.push_str(c.text());
            }
            Statement::LineMark(m) => match m {
                LineMark::Start {
                    expanded,
                    line,
                    path,
                    ..
                } => {
                    self.out
                        .push_str(if *expanded { ";;* lmx " } else { ";;* lms " });
                    self.space = false;
                    self.display(line);
                    self.atom(path.as_str());
                }
                LineMark::End { .. } => self.out.push_str(";;* lme"),
            },
            Statement::AvRule(r) if self.plain_rule(r) => {}
            // The commonest declaration, in one go when no comment is to go
            // inside it.
            Statement::Type(t) if !self.broken && self.inside.is_empty() => {
                self.sep();
                self.out.push_str("(type ");
                self.out.push_str(t.name.as_str());
                self.out.push(')');
                self.space = true;
                self.tokens += 4;
            }
            Statement::AvRule(r) => {
                self.open();
                self.word(r.kind.keyword());
                r.source.print(self);
                r.target.print(self);
                r.classperms.print(self);
                self.close();
            }
            Statement::AvRuleX(r) => {
                self.open();
                self.word(r.kind.keyword());
                r.source.print(self);
                r.target.print(self);
                r.permx.print(self);
                self.close();
            }
            Statement::TypeTransition(x) => {
                self.open();
                self.word("typetransition");
                x.source.print(self);
                x.target.print(self);
                x.class.print(self);
                x.object_name.print(self);
                x.result.print(self);
                self.close();
            }
            Statement::ClassOrder(x) => {
                self.open();
                self.word("classorder");
                self.open();
                if x.unordered {
                    self.word("unordered");
                }
                for c in &x.classes {
                    c.print(self);
                }
                self.close();
                self.close();
            }
            Statement::Block(b) => {
                self.open();
                self.word("block");
                b.name.print(self);
                self.container_body(&b.body);
            }
            Statement::In(x) => {
                self.open();
                self.word("in");
                match x.position {
                    Some(InPosition::Before) => self.word("before"),
                    Some(InPosition::After) => self.word("after"),
                    None => {}
                }
                x.container.print(self);
                self.container_body(&x.body);
            }
            Statement::Optional(o) => {
                self.open();
                self.word("optional");
                o.name.print(self);
                self.container_body(&o.body);
            }
            Statement::Macro(m) => {
                self.open();
                self.word("macro");
                m.name.print(self);
                self.open();
                for p in &m.params {
                    self.open();
                    self.word(p.kind.keyword());
                    p.name.print(self);
                    self.close();
                }
                self.close();
                self.container_body(&m.body);
            }
            Statement::Call(c) => {
                self.open();
                self.word("call");
                c.name.print(self);
                if !c.args.is_empty() {
                    c.args.print(self);
                }
                self.close();
            }
            Statement::Conditional(c) => {
                self.open();
                self.word(c.kind.keyword());
                c.condition.print(self);
                self.end_header();
                self.out.push('\n');
                self.indent += 1;
                for (word, branch) in [("true", &c.if_true), ("false", &c.if_false)] {
                    if let Some(stmts) = branch {
                        self.line_start();
                        self.open();
                        self.word(word);
                        self.container_body(stmts);
                        self.out.push('\n');
                    }
                }
                self.indent -= 1;
                self.line_start();
                self.close();
            }
            Statement::DefaultRange(x) => {
                self.open();
                self.word("defaultrange");
                x.classes.print(self);
                for word in x.default.keyword().split(' ') {
                    self.word(word);
                }
                self.close();
            }
            Statement::FileCon(x) => {
                self.open();
                self.word("filecon");
                x.path.print(self);
                self.word(x.file_type.keyword());
                match &x.context {
                    Some(c) => c.print(self),
                    None => {
                        self.open();
                        self.close();
                    }
                }
                self.close();
            }
            Statement::GenFsCon(x) => {
                self.open();
                self.word("genfscon");
                x.fs.print(self);
                x.path.print(self);
                if let Some(t) = x.file_type {
                    self.word(t.keyword());
                }
                x.context.print(self);
                self.close();
            }
            // Fixed-shape statements print through the statement table.
            _ => {
                let printed = s.print_fixed(self);
                debug_assert!(printed, "a statement with no printer");
            }
        }
    }
}

/// How many tokens (atoms, `(` and `)`) the canonical text of `s` has.
pub(crate) fn token_count(s: &Statement) -> u32 {
    let mut p = Printer::new();
    p.statement(s);
    p.tokens
}

/// Canonical text of a list of top-level statements.
pub(crate) fn print_body(stmts: &[Statement]) -> String {
    let mut p = Printer::new();
    p.body(stmts);
    p.finish()
}

#[cfg(test)]
mod tests {
    use super::token_count;

    /// The tokens of a statement's canonical text, counted from the text:
    /// each parenthesis and each word.
    fn tokens_in(text: &str) -> u32 {
        let parens = text.bytes().filter(|&b| b == b'(' || b == b')').count();
        let words = text
            .split(|c: char| c == '(' || c == ')' || c.is_whitespace())
            .filter(|w| !w.is_empty())
            .count();
        (parens + words) as u32
    }

    #[test]
    fn token_counts_match_the_printed_text() {
        let policy = crate::parse(
            "(allow a b (file (read)))\n\
             (dontaudit a self (file (read write getattr)))\n\
             (allow a b (file (and (read) (not (write)))))\n\
             (allow a b cp)\n\
             (typetransition a b file c)\n\
             (roletype r t)\n\
             (type t)\n",
        )
        .unwrap();
        for s in &policy.statements {
            let text = crate::print::print_body(std::slice::from_ref(s));
            assert_eq!(token_count(s), tokens_in(&text), "{text}");
        }
    }

    #[test]
    fn a_comment_before_a_rules_last_parenthesis_stays_there() {
        let src = "(allow a b (file (read write)) ; inside\n)\n";
        let policy = crate::parse(src).unwrap();
        let printed = policy.to_string();
        assert_eq!(printed, "(allow a b (file (read write)) ; inside\n    )\n");
        assert_eq!(crate::parse(&printed).unwrap(), policy, "{printed}");
    }
}
