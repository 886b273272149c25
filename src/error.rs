//! Typed errors with spans, rendered as `file:line:col`, the line and a caret.

use std::fmt;

use crate::span::Span;

/// Why a name, reference or quoted string was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NameError {
    /// The empty string.
    #[error("a name cannot be empty")]
    Empty,
    /// 2048 characters or more (secilc's limit).
    #[error("a name has at most 2047 characters, this one has {len}")]
    TooLong {
        /// Length in bytes.
        len: usize,
    },
    /// The first character is not an ASCII letter.
    #[error("`{name}` must start with a letter")]
    BadStart {
        /// The rejected text.
        name: String,
    },
    /// A character outside letters, digits, `_` and `-`.
    #[error("`{name}` contains {ch:?}; names use letters, digits, `_` and `-`")]
    BadChar {
        /// The rejected text.
        name: String,
        /// The offending character.
        ch: char,
    },
    /// A dot in a name that declares something.
    #[error("`{name}` contains a dot: a declared name cannot be qualified")]
    Dotted {
        /// The rejected text.
        name: String,
    },
    /// A reserved word (`and or xor not all eq neq range`, and for declared
    /// names also `self notself other`).
    #[error("`{name}` is a reserved word in CIL")]
    Reserved {
        /// The rejected text.
        name: String,
    },
    /// A word libsepol reserves for names of this kind.
    #[error("`{name}` is a reserved word: {kind} cannot be named so")]
    ReservedFor {
        /// The rejected text.
        name: String,
        /// The kind of name.
        kind: &'static str,
    },
    /// A character a quoted string cannot hold.
    #[error("a quoted string cannot contain {ch:?}")]
    StringChar {
        /// The offending character.
        ch: char,
    },
    /// A value that is not of the expected form (a number, an address...).
    #[error("{message}")]
    Value {
        /// What is wrong.
        message: String,
    },
}

/// What went wrong while reading CIL text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A `)` with no open list.
    #[error("unbalanced `)`: no list is open here")]
    UnmatchedClose,
    /// A `(` that is never closed.
    #[error("this `(` is never closed")]
    Unclosed,
    /// A `"` with no closing quote on its line.
    #[error("quoted string is not terminated")]
    UnterminatedString,
    /// A newline inside a quoted string.
    #[error("a quoted string cannot contain a line break")]
    NewlineInString,
    /// A NUL byte inside a quoted string.
    #[error("a quoted string cannot contain a NUL byte")]
    NulInString,
    /// A character the CIL lexer rejects, outside strings and comments.
    #[error("invalid character {ch:?} (U+{code:04X}): outside strings and comments CIL allows only ASCII symbols, parentheses, spaces and tabs", code = *ch as u32)]
    InvalidCharacter {
        /// The character.
        ch: char,
    },
    /// A UTF-8 byte order mark at the start of the file.
    #[error("the file starts with a UTF-8 byte order mark, which secilc rejects")]
    ByteOrderMark,
    /// A symbol or string at top level.
    #[error("`{text}` is outside any list: every statement is a parenthesized list")]
    AtomOutsideList {
        /// The symbol.
        text: String,
    },
    /// Nesting deeper than the limit.
    #[error("more than {limit} nested parentheses")]
    TooDeep {
        /// The limit in force.
        limit: usize,
    },
    /// A statement nested deeper than the typed tree allows.
    #[error(
        "nesting deeper than {limit} levels: libsepol 3.12 and later reject it, and cilgen does not build typed trees this deep"
    )]
    TreeTooDeep {
        /// The limit, [`MAX_TREE_DEPTH`](crate::parse::MAX_TREE_DEPTH).
        limit: usize,
    },
    /// Input of 4 GiB or more.
    #[error("input is too large: at most 4 GiB of CIL can be parsed")]
    TooLarge,
    /// A malformed `;;*` line mark.
    #[error(
        "invalid line mark: {reason} (expected `;;* lms LINE PATH`, `;;* lmx LINE PATH` or `;;* lme`)"
    )]
    InvalidLineMark {
        /// What is wrong.
        reason: String,
    },
    /// `;;* lme` with no open `lms`/`lmx`.
    #[error("line mark end `;;* lme` without a matching `lms` or `lmx`")]
    LineMarkEndWithoutStart,
    /// `;;* lms` or `;;* lmx` with no `;;* lme` before the end of the file.
    #[error("line mark `;;* lms`/`lmx` is never closed by a `;;* lme`")]
    LineMarkNotClosed,
    /// A line mark inside a statement's parentheses.
    #[error("a line mark can stand only between statements")]
    LineMarkInStatement,
    /// `()` where a statement was expected.
    #[error("empty list: a statement starts with its keyword")]
    EmptyStatement,
    /// A list whose first element is not a keyword.
    #[error("keyword expected after `(`, found {found}")]
    KeywordExpected {
        /// What stood there.
        found: String,
    },
    /// A keyword CIL does not have.
    #[error("unknown keyword `{keyword}`")]
    UnknownKeyword {
        /// The keyword.
        keyword: String,
    },
    /// A statement with the wrong number or kind of arguments.
    #[error("`{keyword}` expects {usage}, found {found}")]
    Shape {
        /// The statement keyword.
        keyword: &'static str,
        /// The expected form, e.g. `(allow SOURCE TARGET CLASSPERMS)`.
        usage: &'static str,
        /// What was found, e.g. `2 arguments`.
        found: String,
    },
    /// An argument of the wrong kind.
    #[error("expected {expected}, found {found}")]
    Expected {
        /// What the statement needs here.
        expected: &'static str,
        /// What stood there.
        found: String,
    },
    /// A bad name or value.
    #[error("{0}")]
    Name(#[from] NameError),
    /// A statement the compiler forbids inside a container.
    #[error("`{keyword}` is not allowed in `{container}`")]
    NotAllowedIn {
        /// The statement keyword.
        keyword: String,
        /// The enclosing container keyword.
        container: &'static str,
    },
    /// Anything else, with its explanation.
    #[error("{0}")]
    Invalid(String),
}

/// An error with its position, found while reading CIL text.
///
/// `Display` renders the whole diagnostic:
///
/// ```text
/// virt.cil:1:1: `allow` expects (allow SOURCE TARGET CLASSPERMS), found 2 arguments
/// (allow a b)
/// ^^^^^^^^^^^
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError(Box<Located>);

#[derive(Clone, Debug, PartialEq, Eq)]
struct Located {
    kind: ErrorKind,
    span: Span,
    file: String,
    line: usize,
    column: usize,
    /// The line, or a window of it around the error.
    source_line: String,
    /// Characters of `source_line` before the caret.
    pad_chars: usize,
    caret_width: usize,
}

/// Bytes of a long line shown before the error, under the caret, and after.
const WINDOW_BEFORE: usize = 80;
const WINDOW_CARET: usize = 80;
const WINDOW_AFTER: usize = 40;

/// `text` cut to 60 characters with `...`, for messages that quote input.
pub(crate) fn shorten(text: &str) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(60) {
        Some((at, _)) => format!("{}...", &text[..at]).into(),
        None => text.into(),
    }
}

impl ErrorKind {
    /// The diagnostic code of this error.
    pub fn code(&self) -> crate::diagnostic::Code {
        use crate::diagnostic::Code;
        match self {
            ErrorKind::Name(_) => Code::Name,
            ErrorKind::EmptyStatement
            | ErrorKind::KeywordExpected { .. }
            | ErrorKind::UnknownKeyword { .. }
            | ErrorKind::Shape { .. }
            | ErrorKind::Expected { .. }
            | ErrorKind::NotAllowedIn { .. }
            | ErrorKind::Invalid(_) => Code::Shape,
            _ => Code::Syntax,
        }
    }
}

impl ParseError {
    /// The error as a [`Diagnostic`](crate::diagnostic::Diagnostic) of
    /// file `file` (an index into the files given to its `render`).
    pub fn to_diagnostic(&self, file: usize) -> crate::diagnostic::Diagnostic {
        use crate::diagnostic::{Diagnostic, Label, Pointer};
        Diagnostic::new(
            self.0.kind.code(),
            self.message(),
            Label::new(file, self.span(), Pointer::Exact, ""),
        )
    }

    /// Locates `span` in `src` (a CRLF pair counts as one line break, a lone
    /// `\r` or `\n` as one each) and keeps the line for rendering.
    pub(crate) fn new(kind: ErrorKind, span: Span, src: &str, file: &str) -> ParseError {
        let start = (span.start as usize).min(src.len());
        let start = floor_char_boundary(src, start);
        let bytes = src.as_bytes();
        let mut line = 1;
        let mut line_start = 0;
        let mut i = 0;
        while i < start {
            match bytes[i] {
                b'\n' => {
                    line += 1;
                    line_start = i + 1;
                }
                b'\r' => {
                    if bytes.get(i + 1) == Some(&b'\n') && i + 1 < start {
                        i += 1;
                    }
                    line += 1;
                    line_start = i + 1;
                }
                _ => {}
            }
            i += 1;
        }
        let line_end = src[line_start..]
            .find(['\n', '\r'])
            .map_or(src.len(), |n| line_start + n);
        let column = src[line_start..start].chars().count() + 1;
        let end = (span.end as usize).clamp(start, line_end);
        let end = floor_char_boundary(src, end);
        // A long line (a generated policy on one line) is shown as a window
        // around the error, so the message stays readable and small.
        let long = line_end - line_start > WINDOW_BEFORE + WINDOW_CARET + WINDOW_AFTER;
        let (from, shown_end, to) = if long {
            let from =
                floor_char_boundary(src, start.saturating_sub(WINDOW_BEFORE).max(line_start));
            let shown_end = floor_char_boundary(src, end.min(start + WINDOW_CARET));
            (
                from,
                shown_end,
                floor_char_boundary(src, (shown_end + WINDOW_AFTER).min(line_end)),
            )
        } else {
            (line_start, end, line_end)
        };
        let mut source_line = String::new();
        if from > line_start {
            source_line.push_str("...");
        }
        let prefix = source_line.chars().count();
        source_line.push_str(&src[from..to]);
        if to < line_end {
            source_line.push_str("...");
        }
        let pad_chars = prefix + src[from..start].chars().count();
        let caret_width = src[start..shown_end].chars().count().max(1);
        ParseError(Box::new(Located {
            kind,
            span,
            file: file.to_string(),
            line,
            column,
            source_line,
            pad_chars,
            caret_width,
        }))
    }

    /// What went wrong.
    pub fn kind(&self) -> &ErrorKind {
        &self.0.kind
    }

    /// Where, in bytes.
    pub fn span(&self) -> Span {
        self.0.span
    }

    /// The file name given in [`ParseOptions`](crate::ParseOptions).
    pub fn file(&self) -> &str {
        &self.0.file
    }

    /// 1-based line.
    pub fn line(&self) -> usize {
        self.0.line
    }

    /// 1-based column, in characters.
    pub fn column(&self) -> usize {
        self.0.column
    }

    /// The message alone, without position.
    pub fn message(&self) -> String {
        self.0.kind.to_string()
    }

    /// The source line the error is on; for a long line, a window of it
    /// around the error, with `...` where it was cut.
    pub fn source_line(&self) -> &str {
        &self.0.source_line
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{}:{}:{}: {}",
            self.0.file, self.0.line, self.0.column, self.0.kind
        )?;
        writeln!(f, "{}", self.0.source_line)?;
        // Tabs are kept so the caret lines up under tab-indented source.
        let pad: String = self
            .0
            .source_line
            .chars()
            .take(self.0.pad_chars)
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        write!(f, "{pad}{}", "^".repeat(self.0.caret_width))
    }
}

impl std::error::Error for ParseError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0.kind)
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The 1-based line and column (in characters) where `span` starts in
/// `src`, counted as parse errors count them.
pub fn locate(span: Span, src: &str) -> (usize, usize) {
    let start = floor_char_boundary(src, (span.start as usize).min(src.len()));
    let prefix = &src.as_bytes()[..start];
    // Without a carriage return, counting newlines is all (and fast:
    // diagnostics of a large module locate thousands of places).
    if !prefix.contains(&b'\r') {
        let line = prefix.iter().filter(|&&b| b == b'\n').count() + 1;
        let line_start = prefix
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        return (line, src[line_start..start].chars().count() + 1);
    }
    let e = ParseError::new(ErrorKind::Invalid(String::new()), span, src, "");
    (e.line(), e.column())
}

/// `file:line:col: message`, the source line and a caret under `span`, as
/// parse errors are shown: for messages found after parsing (resolution,
/// validation).
pub fn render(message: &str, span: Span, src: &str, file: &str) -> String {
    ParseError::new(ErrorKind::Invalid(message.to_string()), span, src, file).to_string()
}

/// Why [`Policy::to_checked_string`](crate::Policy::to_checked_string)
/// refused a tree: its text would not read back as the same tree.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PrintError {
    /// The text does not parse; the error points into the printed text.
    #[error("the printed text does not read back:\n{error}")]
    Unreadable {
        /// The parse error, against the printed text.
        error: Box<ParseError>,
    },
    /// The text parses to another tree.
    #[error("top-level statement {index} prints as `{printed}`, which reads back as `{reads_as}`")]
    Changed {
        /// Index of the first top-level statement that differs.
        index: usize,
        /// How it prints.
        printed: String,
        /// What that text reads back as.
        reads_as: String,
    },
}

/// An error before rendering: what and where. Boxed, so that the
/// `DResult` every parsing step returns is as small as its value: an
/// unboxed error made each `Result` 64 bytes, copied at every return.
#[derive(Clone, Debug)]
pub(crate) struct Diag(Box<DiagParts>);

/// What a [`Diag`] holds.
#[derive(Clone, Debug)]
pub(crate) struct DiagParts {
    pub kind: ErrorKind,
    pub span: Span,
}

impl Diag {
    #[cold]
    pub fn new(kind: impl Into<ErrorKind>, span: Span) -> Diag {
        Diag(Box::new(DiagParts {
            kind: kind.into(),
            span,
        }))
    }

    /// The error and its place, taken out.
    pub fn into_parts(self) -> (ErrorKind, Span) {
        let DiagParts { kind, span } = *self.0;
        (kind, span)
    }
}

impl std::ops::Deref for Diag {
    type Target = DiagParts;
    fn deref(&self) -> &DiagParts {
        &self.0
    }
}

impl std::ops::DerefMut for Diag {
    fn deref_mut(&mut self) -> &mut DiagParts {
        &mut self.0
    }
}

pub(crate) type DResult<T> = Result<T, Diag>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_file_line_column_and_caret() {
        let src = "(type a)\n\t(allow a b)\n";
        let e = ParseError::new(
            ErrorKind::Invalid("bad".into()),
            Span::new(10, 21),
            src,
            "x.cil",
        );
        assert_eq!(e.line(), 2);
        assert_eq!(e.column(), 2);
        assert_eq!(
            e.to_string(),
            "x.cil:2:2: bad\n\t(allow a b)\n\t^^^^^^^^^^^"
        );
    }

    #[test]
    fn a_long_line_is_shown_as_a_window_around_the_error() {
        let src = format!(
            "{}(bad x){}",
            "(type a)".repeat(1_000_000),
            "(type b)".repeat(1000)
        );
        let at = 8_000_000;
        let e = ParseError::new(
            ErrorKind::Invalid("bad".into()),
            Span::new(at, at + 7),
            &src,
            "big.cil",
        );
        assert_eq!((e.line(), e.column()), (1, at + 1));
        let text = e.to_string();
        assert!(text.len() < 400, "{} bytes", text.len());
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "big.cil:1:8000001: bad");
        assert!(lines[1].starts_with("...(type a)") && lines[1].ends_with("..."));
        // The caret sits under `(bad x)`.
        let col = lines[2].find('^').unwrap();
        assert_eq!(&lines[1][col..col + 7], "(bad x)");
        assert_eq!(lines[2].trim_start(), "^^^^^^^");
        // Short lines are shown whole.
        let e = ParseError::new(ErrorKind::Unclosed, Span::new(0, 1), "(a b", "f");
        assert_eq!(e.source_line(), "(a b");
    }

    #[test]
    fn crlf_is_one_line_break_and_lone_cr_is_one() {
        let src = "a\r\nb\rc\nd";
        let e = ParseError::new(ErrorKind::Unclosed, Span::new(7, 8), src, "f");
        assert_eq!((e.line(), e.column()), (4, 1));
        assert_eq!(e.source_line(), "d");
    }

    #[test]
    fn caret_is_at_least_one_wide_even_at_end_of_file() {
        let e = ParseError::new(ErrorKind::Unclosed, Span::new(3, 3), "abc", "f");
        assert_eq!(e.to_string(), "f:1:4: this `(` is never closed\nabc\n   ^");
    }
}
