//! CIL text → spanned S-expressions.
//!
//! The token rules (symbols, quoted strings, comments, line marks, blanks)
//! are nom parsers over bytes; nesting is an explicit stack, so no input can
//! overflow the call stack. Each top-level form is read into a flat arena of
//! nodes in pre-order (a list records where its descendants end), which the
//! typed parser walks and then clears for the next form: memory stays
//! proportional to the largest statement, not the file.

use nom::IResult;
use nom::Parser;
use nom::bytes::complete::{take_till, take_while, take_while1};

use crate::ast::names::is_symbol_byte;
use crate::error::{DResult, Diag, ErrorKind};
use crate::span::Span;

/// Deepest nesting of the typed tree: libsepol 3.12+ walks trees at most
/// this deep, and every recursive operation on the AST (parse, print, the
/// derived `Drop`, `Clone` and `PartialEq`) stays well inside a 2 MiB thread
/// stack at this depth, even unoptimized.
pub const MAX_TREE_DEPTH: usize = 256;

/// What a node is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A bare symbol.
    Symbol,
    /// A quoted string; `text` is its content without quotes.
    Quoted,
    /// A list; its descendants are `nodes[i + 1..end]`.
    List { end: u32 },
    /// A comment; `text` is what follows the `;`.
    Comment,
    /// A `;;*` line mark; `text` is the rest of its line.
    LineMark,
}

/// One node of the arena: 16 bytes, its text recovered from the span.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Node {
    pub kind: Kind,
    pub span: Span,
}

impl Node {
    /// A symbol's text, a string's content, what follows a comment's `;`,
    /// or what follows a line mark's `;;*`.
    pub fn text<'a>(&self, src: &'a str) -> &'a str {
        let (start, end) = (self.span.start as usize, self.span.end as usize);
        match self.kind {
            Kind::Symbol => &src[start..end],
            Kind::Quoted => &src[start + 1..end - 1],
            Kind::Comment => &src[start + 1..end],
            Kind::LineMark => &src[start + 3..end],
            Kind::List { .. } => "",
        }
    }
}

/// A top-level item of a file.
#[derive(Debug)]
pub(crate) enum Top<'a> {
    /// A list, read into the arena (root at index 0).
    List,
    /// A comment between statements.
    Comment(&'a str, Span),
    /// A line mark between statements.
    LineMark(&'a str, Span),
}

fn blanks(i: &[u8]) -> IResult<&[u8], &[u8]> {
    take_while(|b| b == b' ' || b == b'\t')(i)
}

fn symbol(i: &[u8]) -> IResult<&[u8], &[u8]> {
    take_while1(is_symbol_byte)(i)
}

fn rest_of_line(i: &[u8]) -> IResult<&[u8], &[u8]> {
    take_till(|b| b == b'\n' || b == b'\r')(i)
}

fn string_body(i: &[u8]) -> IResult<&[u8], &[u8]> {
    take_till(|b| b == b'"' || b == b'\n' || b == b'\0')(i)
}

fn len_of(r: IResult<&[u8], &[u8]>) -> usize {
    r.map(|(_, o)| o.len()).unwrap_or(0)
}

/// Reads top-level forms one at a time.
pub(crate) struct Reader<'a> {
    src: &'a str,
    pos: usize,
    /// Where top-level reading stops (a form that starts before it is read
    /// to its end).
    end: usize,
    max_depth: usize,
    /// How many lists enclose the forms read (for a container's body read
    /// on its own), counted against the depth limits.
    base_depth: usize,
    /// Whether the last list read holds a comment anywhere.
    list_comments: bool,
    /// The `lms`/`lmx` marks not closed yet, innermost last.
    open_line_marks: Vec<Span>,
    stack: Vec<usize>,
}

impl<'a> Reader<'a> {
    pub fn new(src: &'a str, max_depth: usize) -> DResult<Reader<'a>> {
        if u32::try_from(src.len()).is_err() {
            return Err(Diag::new(ErrorKind::TooLarge, Span::new(0, 0)));
        }
        if src.starts_with('\u{feff}') {
            return Err(Diag::new(ErrorKind::ByteOrderMark, Span::new(0, 3)));
        }
        Ok(Reader {
            src,
            pos: 0,
            end: src.len(),
            max_depth,
            base_depth: 0,
            list_comments: false,
            open_line_marks: Vec::new(),
            stack: Vec::new(),
        })
    }

    /// Reads only the top-level forms that start in `start..end`.
    pub fn range(mut self, start: usize, end: usize) -> Reader<'a> {
        self.pos = start;
        self.end = end;
        self
    }

    /// Reads forms that `depth` lists enclose: the body of a container
    /// read on its own.
    pub fn nested(mut self, depth: usize) -> Reader<'a> {
        self.base_depth = depth;
        self
    }

    /// Whether the list [`next`](Self::next) read last holds a comment
    /// (or a line mark) anywhere: most do not, and their statements need
    /// no search for one.
    pub fn list_has_comment(&self) -> bool {
        self.list_comments
    }

    /// Skips blanks and line breaks; where the next top-level item starts,
    /// if it starts before the end of the range.
    pub fn next_start(&mut self) -> Option<usize> {
        self.skip_space();
        (self.pos < self.end).then_some(self.pos)
    }

    /// Goes on reading at `pos`: after a form read by other means.
    pub fn skip_to(&mut self, pos: usize) {
        self.pos = pos;
    }

    /// How many lists may open inside a top-level form before a depth
    /// limit is reached.
    pub fn depth_room(&self) -> usize {
        self.max_depth
            .min(MAX_TREE_DEPTH)
            .saturating_sub(self.base_depth)
    }

    /// Where reading has got to.
    pub fn position(&self) -> usize {
        self.pos
    }

    fn bytes(&self) -> &'a [u8] {
        &self.src.as_bytes()[self.pos..]
    }

    fn at_line_start(&self, at: usize) -> bool {
        at == 0 || matches!(self.src.as_bytes()[at - 1], b'\n' | b'\r')
    }

    fn invalid_char(&self, at: usize) -> Diag {
        let ch = self.src[at..].chars().next().unwrap_or('\0');
        Diag::new(
            ErrorKind::InvalidCharacter { ch },
            Span::new(at, at + ch.len_utf8()),
        )
    }

    /// Skips blanks and line breaks.
    fn skip_space(&mut self) {
        let b = self.src.as_bytes();
        while self.pos < b.len() {
            match b[self.pos] {
                c if is_blank(c) => self.pos += 1,
                _ => break,
            }
        }
    }

    /// Reads a comment or line mark starting at `self.pos` (a `;`).
    fn comment(&mut self) -> DResult<(Kind, &'a str, Span)> {
        let start = self.pos;
        let len = len_of(rest_of_line(self.bytes()));
        self.pos += len;
        let span = Span::new(start, self.pos);
        let full = &self.src[start..self.pos];
        if self.at_line_start(start) && full.starts_with(";;*") {
            let text = &full[3..];
            self.check_line_mark(text, span)?;
            if self.pos >= self.src.len() {
                return Err(Diag::new(
                    ErrorKind::InvalidLineMark {
                        reason: "a line mark must end with a line break".into(),
                    },
                    span,
                ));
            }
            return Ok((Kind::LineMark, text, span));
        }
        Ok((Kind::Comment, &full[1..], span))
    }

    fn check_line_mark(&mut self, text: &str, span: Span) -> DResult<()> {
        let bad = |reason: &str| {
            Diag::new(
                ErrorKind::InvalidLineMark {
                    reason: reason.into(),
                },
                span,
            )
        };
        let parts = line_mark_parts(text).map_err(|r| bad(&r))?;
        match parts {
            LineMarkParts::End => {
                if self.open_line_marks.pop().is_none() {
                    return Err(Diag::new(ErrorKind::LineMarkEndWithoutStart, span));
                }
            }
            LineMarkParts::Start { .. } => self.open_line_marks.push(span),
        }
        Ok(())
    }

    /// Reads a quoted string at `self.pos` (a `"`); returns its content.
    fn quoted(&mut self) -> DResult<(&'a str, Span)> {
        let start = self.pos;
        let body = len_of(string_body(&self.bytes()[1..]));
        let close = start + 1 + body;
        match self.src.as_bytes().get(close) {
            Some(b'"') => {
                self.pos = close + 1;
                Ok((&self.src[start + 1..close], Span::new(start, self.pos)))
            }
            Some(b'\0') => Err(Diag::new(
                ErrorKind::NulInString,
                Span::new(start, close + 1),
            )),
            Some(_) => Err(Diag::new(
                ErrorKind::NewlineInString,
                Span::new(start, close),
            )),
            None => Err(Diag::new(
                ErrorKind::UnterminatedString,
                Span::new(start, close),
            )),
        }
    }

    /// The innermost line mark still open, if any.
    pub fn open_line_mark(&self) -> Option<Span> {
        self.open_line_marks.last().copied()
    }

    /// Reads the next top-level item, filling `nodes` for a list.
    pub fn next(&mut self, nodes: &mut Vec<Node>) -> DResult<Option<Top<'a>>> {
        nodes.clear();
        self.skip_space();
        if self.pos >= self.src.len() {
            // secilc refuses a file that leaves a line mark open.
            if let Some(&open) = self.open_line_marks.last() {
                return Err(Diag::new(ErrorKind::LineMarkNotClosed, open));
            }
        }
        if self.pos >= self.end {
            return Ok(None);
        }
        let Some(&b) = self.src.as_bytes().get(self.pos) else {
            return Ok(None);
        };
        match b {
            b';' => {
                let (kind, text, span) = self.comment()?;
                Ok(Some(if kind == Kind::LineMark {
                    Top::LineMark(text, span)
                } else {
                    Top::Comment(text, span)
                }))
            }
            b'(' => {
                self.list(nodes)?;
                Ok(Some(Top::List))
            }
            b')' => Err(Diag::new(
                ErrorKind::UnmatchedClose,
                Span::new(self.pos, self.pos + 1),
            )),
            b'"' => {
                let (text, span) = self.quoted()?;
                Err(Diag::new(
                    ErrorKind::AtomOutsideList {
                        text: format!("\"{text}\""),
                    },
                    span,
                ))
            }
            _ if is_symbol_byte(b) => {
                let start = self.pos;
                let len = len_of(symbol(self.bytes()));
                Err(Diag::new(
                    ErrorKind::AtomOutsideList {
                        text: self.src[start..start + len].to_string(),
                    },
                    Span::new(start, start + len),
                ))
            }
            _ => Err(self.invalid_char(self.pos)),
        }
    }

    /// Reads one list starting at `self.pos` (a `(`) into `nodes`.
    ///
    /// The hot loop of the whole parser: it keeps the position in a local,
    /// scans symbols and blanks with the byte-class table, and leaves the
    /// rare tokens (strings, comments) to their own functions.
    fn list(&mut self, nodes: &mut Vec<Node>) -> DResult<()> {
        self.stack.clear();
        self.list_comments = false;
        let b = self.src.as_bytes();
        let depth_limit = self.max_depth.min(MAX_TREE_DEPTH);
        let mut pos = self.pos;
        loop {
            let Some(&c) = b.get(pos) else {
                self.pos = pos;
                let open = *self.stack.last().unwrap_or(&0);
                let at = nodes[open].span.start as usize;
                return Err(Diag::new(ErrorKind::Unclosed, Span::new(at, at + 1)));
            };
            match c {
                b' ' | b'\t' | b'\n' | b'\r' => pos += 1,
                b'(' => {
                    if self.stack.len() + self.base_depth >= depth_limit {
                        return Err(self.too_deep(pos));
                    }
                    self.stack.push(nodes.len());
                    nodes.push(Node {
                        kind: Kind::List { end: 0 },
                        span: Span::new(pos, pos + 1),
                    });
                    pos += 1;
                }
                b')' => {
                    pos += 1;
                    // The loop returns when its outermost list closes, so a
                    // list is always open here; an error beats a panic all
                    // the same.
                    let Some(open) = self.stack.pop() else {
                        return Err(Diag::new(
                            ErrorKind::UnmatchedClose,
                            Span::new(pos - 1, pos),
                        ));
                    };
                    let end = nodes.len() as u32;
                    let node = &mut nodes[open];
                    node.kind = Kind::List { end };
                    node.span.end = pos as u32;
                    if self.stack.is_empty() {
                        self.pos = pos;
                        return Ok(());
                    }
                }
                b'"' => {
                    self.pos = pos;
                    let (_, span) = self.quoted()?;
                    pos = self.pos;
                    nodes.push(Node {
                        kind: Kind::Quoted,
                        span,
                    });
                }
                b';' => {
                    self.pos = pos;
                    let (kind, _, span) = self.comment()?;
                    pos = self.pos;
                    self.list_comments = true;
                    nodes.push(Node { kind, span });
                }
                _ if is_symbol_byte(c) => {
                    let start = pos;
                    pos = symbol_end(b, pos + 1);
                    nodes.push(Node {
                        kind: Kind::Symbol,
                        span: Span::new(start, pos),
                    });
                }
                _ => return Err(self.invalid_char(pos)),
            }
        }
    }

    #[cold]
    fn too_deep(&self, pos: usize) -> Diag {
        if self.stack.len() + self.base_depth >= self.max_depth {
            Diag::new(
                ErrorKind::TooDeep {
                    limit: self.max_depth,
                },
                Span::new(pos, pos + 1),
            )
        } else {
            Diag::new(
                ErrorKind::TreeTooDeep {
                    limit: MAX_TREE_DEPTH,
                },
                Span::new(pos, pos + 1),
            )
        }
    }
}

/// Whether `c` is a blank between tokens (space, tab or line break).
pub(crate) fn is_blank(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r')
}

/// One past the symbol that starts at `i` (`i` itself if none does): the
/// lexer's rule for where a symbol ends, for every reader of raw text.
pub(crate) fn symbol_end(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && is_symbol_byte(b[i]) {
        i += 1;
    }
    i
}

/// The parts of a line mark after `;;*`.
pub(crate) enum LineMarkParts<'a> {
    Start {
        expanded: bool,
        line: u32,
        path: &'a str,
    },
    End,
}

/// Splits the text after `;;*` into its parts, as secilc's lexer does.
pub(crate) fn line_mark_parts(text: &str) -> Result<LineMarkParts<'_>, String> {
    let mut i = text.as_bytes();
    let mut words: Vec<(&str, bool)> = Vec::with_capacity(3);
    loop {
        i = blanks(i).map(|(r, _)| r).unwrap_or(i);
        match i.first() {
            None => break,
            Some(b'"') => {
                let body = len_of(string_body(&i[1..]));
                if i.get(1 + body) != Some(&b'"') {
                    return Err("unterminated path string".into());
                }
                let off = text.len() - i.len();
                words.push((&text[off + 1..off + 1 + body], true));
                i = &i[body + 2..];
            }
            Some(_) => match symbol.parse(i) {
                Ok((rest, w)) => {
                    let off = text.len() - i.len();
                    words.push((&text[off..off + w.len()], false));
                    i = rest;
                }
                Err(_) => return Err("unexpected text".into()),
            },
        }
    }
    match words.as_slice() {
        [("lme", false)] => Ok(LineMarkParts::End),
        [(kind @ ("lms" | "lmx"), false), (line, false), (path, _)] => {
            let line = if line.bytes().all(|b| b.is_ascii_digit()) {
                line.parse::<u32>()
                    .map_err(|_| format!("line number {line} is out of range"))?
            } else {
                return Err(format!("`{line}` is not a line number"));
            };
            Ok(LineMarkParts::Start {
                expanded: *kind == "lmx",
                line,
                path,
            })
        }
        [] => Err("missing `lms`, `lmx` or `lme`".into()),
        _ => Err("wrong kind or number of parts".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(src: &str) -> Result<Vec<String>, ErrorKind> {
        let mut r = Reader::new(src, 4096).map_err(|d| d.into_parts().0)?;
        let mut nodes = Vec::new();
        let mut out = Vec::new();
        while let Some(top) = r.next(&mut nodes).map_err(|d| d.into_parts().0)? {
            out.push(match top {
                Top::List => format!("list of {}", nodes.len()),
                Top::Comment(t, _) => format!("comment {t}"),
                Top::LineMark(t, _) => format!("mark {t}"),
            });
        }
        Ok(out)
    }

    #[test]
    fn reads_lists_comments_and_marks() {
        let got =
            read_all("; hi\n(a (b \"c d\") ; x\n e)\n;;* lms 3 f.te\n(x)\n;;* lme\n").unwrap();
        assert_eq!(
            got,
            [
                "comment  hi",
                "list of 7",
                "mark  lms 3 f.te",
                "list of 2",
                "mark  lme"
            ]
        );
    }

    #[test]
    fn lexer_errors() {
        let cases: &[(&str, ErrorKind)] = &[
            (")", ErrorKind::UnmatchedClose),
            ("(a", ErrorKind::Unclosed),
            ("(\"a", ErrorKind::UnterminatedString),
            ("(\"a\nb\")", ErrorKind::NewlineInString),
            ("(\"a\0b\")", ErrorKind::NulInString),
            ("(a\u{c}b)", ErrorKind::InvalidCharacter { ch: '\u{c}' }),
            ("(é)", ErrorKind::InvalidCharacter { ch: 'é' }),
            ("(a\\b)", ErrorKind::InvalidCharacter { ch: '\\' }),
            ("\u{feff}(a)", ErrorKind::ByteOrderMark),
            ("a", ErrorKind::AtomOutsideList { text: "a".into() }),
            (";;* lme\n", ErrorKind::LineMarkEndWithoutStart),
        ];
        for (src, kind) in cases {
            assert_eq!(read_all(src).unwrap_err(), *kind, "{src:?}");
        }
        assert!(matches!(
            read_all(";;*****\n").unwrap_err(),
            ErrorKind::InvalidLineMark { .. }
        ));
    }

    #[test]
    fn comments_may_hold_anything_and_indented_marks_are_comments() {
        assert_eq!(read_all("; é ( \" \\\n").unwrap(), ["comment  é ( \" \\"]);
        assert_eq!(read_all("  ;;*****\n").unwrap(), ["comment ;*****"]);
    }

    #[test]
    fn unclosed_points_at_the_innermost_open_paren() {
        let mut r = Reader::new("(a\n  (b c)\n  (d", 4096).unwrap();
        let e = r.next(&mut Vec::new()).unwrap_err();
        assert_eq!(e.span.range(), 13..14);
    }

    #[test]
    fn depth_is_bounded_without_recursion() {
        let src = "(".repeat(1_000_000);
        let mut r = Reader::new(&src, 4096).unwrap();
        let e = r.next(&mut Vec::new()).unwrap_err();
        assert_eq!(
            e.kind,
            ErrorKind::TreeTooDeep {
                limit: MAX_TREE_DEPTH
            }
        );
        assert_eq!(e.span.start, 256);
        let mut r = Reader::new(&src, 100).unwrap();
        let e = r.next(&mut Vec::new()).unwrap_err();
        assert_eq!(e.kind, ErrorKind::TooDeep { limit: 100 });
        let ok = format!("{}{}", "(".repeat(256), ")".repeat(256));
        assert!(read_all(&ok).is_ok());
    }
}
