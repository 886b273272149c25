//! Diagnostics of every layer in one shape: a code, a severity, a message,
//! a primary place and related places, rendered as a compiler renders them.
//!
//! The first line is `file:line:col: error[E0201]: message`, so editors and
//! `grep` find the place; below it the source lines with the primary token
//! underlined and the related places labelled (the first declaration of a
//! duplicate, the call that expanded a macro), rendered by
//! `annotate-snippets`, the crate rustc and cargo use.
//!
//! ```
//! use cilgen::diagnostic::SourceFile;
//! use cilgen::validate::{validate, ValidateOptions};
//!
//! let src = "(type a_t)\n(type a_t)\n";
//! let policy = cilgen::parse(src)?;
//! let found = validate(&policy, &ValidateOptions::default());
//! let d = found[0].to_diagnostic(0);
//! assert_eq!(
//!     d.render(&[SourceFile::new("x.cil", src)]),
//!     "\
//! x.cil:2:7: error[E0102]: `a_t` is already declared in this namespace (as type)
//!   |
//! 1 | (type a_t)
//!   |       --- first declared here
//! 2 | (type a_t)
//!   |       ^^^ declared again"
//! );
//! # Ok::<(), cilgen::ParseError>(())
//! ```

use std::fmt;

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};

use crate::span::Span;
use crate::syntax::{Kind, Node, Reader};

/// What kind of problem a diagnostic reports; stable, so scripts and
/// suppressions can name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Code {
    /// `E0001`: text the reader refuses (characters, strings, parentheses,
    /// line marks, size and depth limits).
    Syntax,
    /// `E0002`: a statement of the wrong shape (keyword, arguments, place).
    Shape,
    /// `E0003`: a name or value refused (reserved word, bad character,
    /// number out of range).
    Name,
    /// `E0101`: a permission the kernel's class does not have.
    UnknownPermission,
    /// `E0102`: a name declared twice in one namespace.
    Duplicate,
    /// `E0103`: a name libsepol reserves for its kind.
    ReservedName,
    /// `E0104`: a statement the target libsepol release rejects.
    TooNew,
    /// `E0201`: a name that does not resolve outside any optional.
    Unresolved,
    /// `E0202`: a permission its class (as the policy declares it) lacks.
    UnresolvedPermission,
    /// `E0203`: `in` or `blockinherit` names no block.
    MissingBlock,
    /// `E0204`: `call` names no macro.
    MissingMacro,
    /// `E0205`: a macro called inside its own expansion, or a block
    /// inherited inside itself.
    Recursive,
    /// `E0206`: a call argument that does not fit its parameter.
    BadArgument,
    /// `E0301`: an allow rule grants what a `neverallow` or `neverallowx`
    /// forbids (secilc's "neverallow check failed").
    Neverallow,
    /// `W0101`: a permission its class lacks, in a macro's body: an error
    /// wherever the macro is called, nothing where it is not.
    MacroPermission,
    /// `W0201`: an optional block that would be dropped without a word.
    DroppedOptional,
    /// `N0201`: a rule the node's policy already grants.
    Redundant,
}

impl Code {
    /// Every code, in order.
    pub const ALL: [Code; 17] = [
        Code::Syntax,
        Code::Shape,
        Code::Name,
        Code::UnknownPermission,
        Code::Duplicate,
        Code::ReservedName,
        Code::TooNew,
        Code::Unresolved,
        Code::UnresolvedPermission,
        Code::MissingBlock,
        Code::MissingMacro,
        Code::Recursive,
        Code::BadArgument,
        Code::Neverallow,
        Code::MacroPermission,
        Code::DroppedOptional,
        Code::Redundant,
    ];

    /// `"E0201"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Syntax => "E0001",
            Code::Shape => "E0002",
            Code::Name => "E0003",
            Code::UnknownPermission => "E0101",
            Code::Duplicate => "E0102",
            Code::ReservedName => "E0103",
            Code::TooNew => "E0104",
            Code::Unresolved => "E0201",
            Code::UnresolvedPermission => "E0202",
            Code::MissingBlock => "E0203",
            Code::MissingMacro => "E0204",
            Code::Recursive => "E0205",
            Code::BadArgument => "E0206",
            Code::Neverallow => "E0301",
            Code::MacroPermission => "W0101",
            Code::DroppedOptional => "W0201",
            Code::Redundant => "N0201",
        }
    }

    /// How serious a diagnostic of this code is.
    pub fn severity(self) -> Severity {
        match self {
            Code::DroppedOptional | Code::MacroPermission => Severity::Warning,
            Code::Redundant => Severity::Note,
            _ => Severity::Error,
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How serious a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// secilc (or the kernel's classes) would refuse the policy.
    Error,
    /// The policy compiles, but not as its author probably meant.
    Warning,
    /// Worth knowing.
    Note,
}

impl Severity {
    /// `"error"`, `"warning"`, `"note"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        }
    }
}

/// Which token of a statement a label points at. Spans in the tree are
/// spans of statements; the token is found in the statement's text by its
/// place in the S-expression, never by searching the text, so the caret
/// cannot land on another token that reads the same (a comment, a class
/// named like the permission).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Pointer {
    /// The statement's `(` and keyword.
    Keyword,
    /// Argument `n` (0 is the first after the keyword).
    Arg(usize),
    /// The first symbol or string that reads `text`, after the keyword.
    Atom(String),
    /// Permission `perm` inside the list that starts with class `class`.
    Permission {
        /// The class.
        class: String,
        /// The permission.
        perm: String,
    },
    /// The element at this path of child positions from the statement's
    /// list (0 is the keyword; `[2, 1]`: the second element of the second
    /// argument).
    Path(Vec<usize>),
    /// The span as it is.
    Exact,
}

/// A place in a file, with what to say there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    /// The file (index into the [`SourceFile`]s given to
    /// [`Diagnostic::render`]).
    pub file: usize,
    /// The statement (or, with [`Pointer::Exact`], the exact bytes).
    pub span: Span,
    /// The token inside the statement.
    pub pointer: Pointer,
    /// What to say under it; may be empty.
    pub text: String,
}

impl Label {
    /// A label at `pointer` inside the statement at `span`.
    pub fn new(file: usize, span: Span, pointer: Pointer, text: impl Into<String>) -> Label {
        Label {
            file,
            span,
            pointer,
            text: text.into(),
        }
    }

    /// The bytes the label underlines in `src`: the token the pointer
    /// names when it can be found, else the statement's keyword, always
    /// inside `src` and on character boundaries.
    pub fn resolve_span(&self, src: &str) -> Span {
        let clamped = clamp(self.span, src);
        let found = match &self.pointer {
            Pointer::Exact => Some(clamped),
            pointer => {
                locate(src, clamped, pointer).or_else(|| locate(src, clamped, &Pointer::Keyword))
            }
        };
        found.unwrap_or(clamped)
    }
}

/// A file's name and text, for rendering; it finds lines through an
/// index it builds on first use, so rendering many diagnostics of one file
/// does not count its lines again each time.
#[derive(Clone, Debug)]
pub struct SourceFile<'a> {
    /// As shown in `file:line:col`.
    pub name: &'a str,
    /// The text the spans point into.
    pub text: &'a str,
    lines: std::sync::OnceLock<Vec<u32>>,
}

impl<'a> SourceFile<'a> {
    /// A file by name and text.
    pub fn new(name: &'a str, text: &'a str) -> SourceFile<'a> {
        SourceFile {
            name,
            text,
            lines: std::sync::OnceLock::new(),
        }
    }

    /// The 1-based line and column (in characters) of byte `offset`, as
    /// parse errors count them (a CRLF pair is one line break, a lone CR
    /// or LF one each).
    pub fn locate(&self, offset: usize) -> (usize, usize) {
        let text = self.text;
        let lines = self.lines.get_or_init(|| {
            let bytes = text.as_bytes();
            // A line starts after each CR, and after each LF that does
            // not follow a CR.
            let mut starts = vec![0u32];
            for (i, &b) in bytes.iter().enumerate() {
                let brk = b == b'\r' || (b == b'\n' && (i == 0 || bytes[i - 1] != b'\r'));
                if brk {
                    starts.push((i + 1) as u32);
                }
            }
            starts
        });
        let mut at = offset.min(text.len());
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        let line = lines.partition_point(|&s| s as usize <= at);
        let mut start = lines[line - 1] as usize;
        // The LF of a CRLF belongs to the break, once passed.
        if start < at
            && text.as_bytes()[start] == b'\n'
            && start > 0
            && text.as_bytes()[start - 1] == b'\r'
        {
            start += 1;
        }
        (line, text[start..at].chars().count() + 1)
    }
}

/// One problem: its code, message, primary place and related places.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// What kind of problem.
    pub code: Code,
    /// How serious; [`Code::severity`] unless changed.
    pub severity: Severity,
    /// What is wrong, in one line.
    pub message: String,
    /// Where.
    pub primary: Label,
    /// Places that explain it, in order.
    pub related: Vec<Label>,
    /// Lines of advice shown after the source.
    pub notes: Vec<String>,
}

impl Diagnostic {
    /// A diagnostic of `code` at `primary`.
    pub fn new(code: Code, message: impl Into<String>, primary: Label) -> Diagnostic {
        Diagnostic {
            code,
            severity: code.severity(),
            message: message.into(),
            primary,
            related: Vec::new(),
            notes: Vec::new(),
        }
    }

    /// With a related place.
    pub fn related(mut self, label: Label) -> Diagnostic {
        self.related.push(label);
        self
    }

    /// With a note.
    pub fn note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }

    /// The 1-based line and column (in characters) of the primary token.
    pub fn position(&self, files: &[SourceFile<'_>]) -> (usize, usize) {
        match files.get(self.primary.file) {
            Some(f) => f.locate(self.primary.resolve_span(f.text).start as usize),
            None => (1, 1),
        }
    }

    /// `file:line:col: error[CODE]: message`, then the source with the
    /// primary token underlined and the related places labelled. A label
    /// whose file is not in `files` is left out.
    pub fn render(&self, files: &[SourceFile<'_>]) -> String {
        let name = files.get(self.primary.file).map_or("<unknown>", |f| f.name);
        let (line, col) = self.position(files);
        let mut out = format!(
            "{name}:{line}:{col}: {}[{}]: {}",
            self.severity.as_str(),
            self.code,
            self.message
        );
        let level = match self.severity {
            Severity::Error => Level::ERROR,
            Severity::Warning => Level::WARNING,
            Severity::Note => Level::NOTE,
        };
        // One snippet per file, the primary's first, in order of first use.
        let mut order: Vec<usize> = vec![self.primary.file];
        for r in &self.related {
            if !order.contains(&r.file) {
                order.push(r.file);
            }
        }
        let mut group = Group::with_level(level);
        let mut shown = false;
        for file in order {
            let Some(f) = files.get(file) else { continue };
            let mut labels: Vec<(AnnotationKind, Span, &str)> = Vec::new();
            if file == self.primary.file {
                let span = self.primary.resolve_span(f.text);
                labels.push((AnnotationKind::Primary, span, &self.primary.text));
            }
            for r in self.related.iter().filter(|r| r.file == file) {
                labels.push((AnnotationKind::Context, r.resolve_span(f.text), &r.text));
            }
            // Only the lines the labels are on (and those between) go to
            // the renderer, which reads its whole source: a module's
            // thousand warnings must not each read the whole file.
            let lo = labels.iter().map(|l| l.1.start as usize).min().unwrap_or(0);
            let hi = labels.iter().map(|l| l.1.end as usize).max().unwrap_or(0);
            let start = f.text[..lo].rfind('\n').map_or(0, |i| i + 1);
            let end = f.text[hi..].find('\n').map_or(f.text.len(), |i| hi + i);
            let mut snippet = Snippet::source(&f.text[start..end])
                .line_start(f.locate(start).0)
                .path(f.name);
            for (kind, span, text) in labels {
                let range = span.start as usize - start..span.end as usize - start;
                snippet = snippet.annotation(kind.span(range).label(non_empty(text)));
            }
            group = group.element(snippet);
            shown = true;
        }
        for n in &self.notes {
            group = group.element(Level::NOTE.message(n.as_str()));
        }
        if !shown && self.notes.is_empty() {
            return out;
        }
        let body = Renderer::plain().render(&[group]);
        // The first line already says where: drop the renderer's ` --> `.
        let mut lines = body.lines();
        let mut first = lines.next();
        if first.is_some_and(|l| l.trim_start().starts_with("-->")) {
            first = lines.next();
        }
        for l in first.into_iter().chain(lines) {
            out.push('\n');
            out.push_str(l.trim_end());
        }
        out
    }
}

fn non_empty(text: &str) -> Option<&str> {
    (!text.is_empty()).then_some(text)
}

/// `span` inside `src`, on character boundaries.
fn clamp(span: Span, src: &str) -> Span {
    let floor = |mut i: usize| {
        i = i.min(src.len());
        while !src.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let start = floor(span.start as usize);
    let end = floor(span.end as usize).max(start);
    Span::new(start, end)
}

/// The token `pointer` names in the statement at `span` of `src`.
pub(crate) fn locate(src: &str, span: Span, pointer: &Pointer) -> Option<Span> {
    let mut nodes: Vec<Node> = Vec::new();
    let mut reader = Reader::new(src, crate::parse::DEFAULT_MAX_DEPTH)
        .ok()?
        .range(span.start as usize, span.end as usize);
    reader.next(&mut nodes).ok()??;
    let root = nodes.first()?;
    if root.span.start != span.start {
        return None;
    }
    let kids = children(&nodes, 0);
    match pointer {
        Pointer::Exact => Some(span),
        Pointer::Keyword => {
            let kw = nodes.get(*kids.first()?)?;
            Some(Span::new(root.span.start as usize, kw.span.end as usize))
        }
        Pointer::Arg(n) => kids.get(n + 1).map(|&i| nodes[i].span),
        Pointer::Path(path) => {
            let mut at = 0;
            for &step in path {
                at = *children(&nodes, at).get(step)?;
            }
            Some(nodes[at].span)
        }
        Pointer::Atom(text) => {
            let after_keyword = kids.first().map_or(1, |&k| k + 1);
            atoms(&nodes, after_keyword, nodes.len())
                .find(|&i| nodes[i].text(src) == text)
                .map(|i| nodes[i].span)
        }
        Pointer::Permission { class, perm } => (0..nodes.len()).find_map(|i| {
            let Kind::List { end } = nodes[i].kind else {
                return None;
            };
            let list = children(&nodes, i);
            let (&head, _) = list.split_first()?;
            if nodes[head].kind != Kind::Symbol || nodes[head].text(src) != class {
                return None;
            }
            atoms(&nodes, head + 1, end as usize)
                .find(|&j| nodes[j].text(src) == perm)
                .map(|j| nodes[j].span)
        }),
    }
}

/// The direct children of list node `i`, comments and line marks left out.
fn children(nodes: &[Node], i: usize) -> Vec<usize> {
    let Kind::List { end } = nodes[i].kind else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut at = i + 1;
    while at < end as usize {
        let node = &nodes[at];
        match node.kind {
            Kind::List { end } => {
                out.push(at);
                at = end as usize;
            }
            Kind::Comment | Kind::LineMark => at += 1,
            Kind::Symbol | Kind::Quoted => {
                out.push(at);
                at += 1;
            }
        }
    }
    out
}

/// Symbols and strings among `nodes[from..to]`, in order.
fn atoms(nodes: &[Node], from: usize, to: usize) -> impl Iterator<Item = usize> + '_ {
    (from..to.min(nodes.len())).filter(|&i| matches!(nodes[i].kind, Kind::Symbol | Kind::Quoted))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(src: &str, pointer: Pointer) -> &str {
        let span = locate(src, Span::new(0, src.len()), &pointer).expect("found");
        &src[span.range()]
    }

    #[test]
    fn pointers_find_tokens_by_place_not_by_text() {
        let src = "(allow file ; file read\n file (file (read file)))";
        assert_eq!(at(src, Pointer::Keyword), "(allow");
        assert_eq!(at(src, Pointer::Arg(1)), "file");
        assert_eq!(at(src, Pointer::Path(vec![3, 1])), "(read file)");
        assert_eq!(at(src, Pointer::Path(vec![3, 1, 0])), "read");
        let perm = Pointer::Permission {
            class: "file".into(),
            perm: "file".into(),
        };
        let span = locate(src, Span::new(0, src.len()), &perm).unwrap();
        assert_eq!(span.start as usize, src.rfind("file").unwrap());
        let read = Pointer::Permission {
            class: "file".into(),
            perm: "read".into(),
        };
        let span = locate(src, Span::new(0, src.len()), &read).unwrap();
        assert_eq!(span.start as usize, src.rfind("read").unwrap());
        // Not the keyword, not the comment.
        let span = locate(src, Span::new(0, src.len()), &Pointer::Atom("file".into())).unwrap();
        assert_eq!(span.start, 7);
    }

    #[test]
    fn a_label_out_of_range_or_mid_character_is_clamped() {
        let src = "(type é)";
        let label = Label::new(0, Span::new(7, 99), Pointer::Exact, "");
        assert_eq!(label.resolve_span(src).range(), 6..9);
        let d = Diagnostic::new(Code::Unresolved, "m", label);
        assert!(
            d.render(&[SourceFile::new("x", src)])
                .starts_with("x:1:7: error[E0201]: m")
        );
        // A file index that is not there renders the first line alone.
        let d = Diagnostic::new(
            Code::Unresolved,
            "m",
            Label::new(3, Span::DUMMY, Pointer::Keyword, ""),
        );
        assert_eq!(d.render(&[]), "<unknown>:1:1: error[E0201]: m");
    }

    #[test]
    fn lines_are_counted_as_parse_errors_count_them() {
        for text in ["a\nbc\r\nd\re\n\nfé g", "", "x", "\r\n\r\n", "ab\r"] {
            let file = SourceFile::new("f", text);
            for at in 0..=text.len() + 2 {
                assert_eq!(
                    file.locate(at),
                    crate::error::locate(Span::new(at, at), text),
                    "{text:?} at {at}"
                );
            }
        }
    }

    #[test]
    fn codes_are_distinct() {
        let mut seen: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), Code::ALL.len());
    }
}
