//! Spanned S-expressions → typed statements.
//!
//! Each keyword has a fixed shape checked here, with errors in CIL's own
//! words (`allow expects (allow SOURCE TARGET CLASSPERMS), found 2
//! arguments`). Fixed-shape statements get their parse from the
//! `simple_statements!` declarations through the `Arg` trait; containers and
//! irregular forms are written out in the `statements` module.

mod args;
mod fast;
mod statements;
mod values;

pub(crate) use values::{
    ib_port, iomem_range, ioport_range, pci_device, pirq, pkey_range, port_range,
};

pub(crate) use args::Arg;
use args::Flavor;
pub(crate) use statements::simple;

use std::cell::RefCell;
use std::sync::Arc;

use rustc_hash::{FxHashMap, FxHashSet};

use crate::ast::names::Sym;
use crate::ast::{Comment, Expr, LineMark, Policy, QString, Statement};
use crate::error::{DResult, Diag, ErrorKind, NameError, ParseError};
use crate::span::Span;
use crate::syntax::{Kind, LineMarkParts, Node, Reader, Top, line_mark_parts};

/// Default limit of open parentheses, as secilc's.
pub const DEFAULT_MAX_DEPTH: usize = 4096;

pub use crate::syntax::MAX_TREE_DEPTH;

/// How to parse: the file name used in messages and the nesting limit.
///
/// ```
/// use cilgen::ParseOptions;
/// let err = ParseOptions::new().file_name("virt.cil").parse("(allow a b)").unwrap_err();
/// assert_eq!(err.to_string(), "\
/// virt.cil:1:1: `allow` expects (allow SOURCE TARGET CLASSPERMS), found 2 arguments
/// (allow a b)
/// ^^^^^^^^^^^");
/// ```
#[derive(Clone, Debug)]
pub struct ParseOptions {
    file_name: String,
    max_depth: usize,
    threads: usize,
}

impl Default for ParseOptions {
    fn default() -> ParseOptions {
        ParseOptions {
            file_name: "<input>".into(),
            max_depth: DEFAULT_MAX_DEPTH,
            threads: 0,
        }
    }
}

/// Inputs smaller than this are parsed on the calling thread.
const PARALLEL_MIN_PART: usize = 512 * 1024;

impl ParseOptions {
    /// File name `<input>`, nesting limit 4096.
    pub fn new() -> ParseOptions {
        ParseOptions::default()
    }

    /// The name errors are reported under.
    pub fn file_name(mut self, name: impl Into<String>) -> ParseOptions {
        self.file_name = name.into();
        self
    }

    /// The most parentheses open at once (secilc: 4096). At least 1.
    /// Independently of it, a statement nested deeper than
    /// [`MAX_TREE_DEPTH`] (256, libsepol 3.12's own limit) is rejected.
    pub fn max_depth(mut self, depth: usize) -> ParseOptions {
        self.max_depth = depth.max(1);
        self
    }

    /// How many threads may parse a large input: `0` (the default) uses the
    /// machine's parallelism, `1` parses on the calling thread only. An
    /// input is split only between top-level statements, into parts of at
    /// least 512 KiB; the result, and the error reported, are the same as
    /// a single-threaded parse gives.
    pub fn threads(mut self, threads: usize) -> ParseOptions {
        self.threads = threads;
        self
    }

    /// Parses `src`.
    pub fn parse(&self, src: &str) -> Result<Policy, ParseError> {
        let threads = match self.threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get().min(8)),
            n => n,
        };
        parse_policy(src, self.max_depth, threads).map_err(|d| {
            let (kind, span) = d.into_parts();
            ParseError::new(kind, span, src, &self.file_name)
        })
    }
}

/// Parses CIL text with default [`ParseOptions`].
///
/// ```
/// let policy = cilgen::parse("(allow process self (tun_socket (attach_queue)))")?;
/// assert_eq!(policy.statements.len(), 1);
/// # Ok::<(), cilgen::ParseError>(())
/// ```
pub fn parse(src: &str) -> Result<Policy, ParseError> {
    ParseOptions::default().parse(src)
}

impl std::str::FromStr for Policy {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Policy, ParseError> {
        parse(s)
    }
}

fn check(s: &str, kind: Checked) -> Result<(), NameError> {
    use crate::ast::names::{check_name, check_qstring, check_ref};
    match kind {
        Checked::Name => check_name(s),
        Checked::Ref => check_ref(s),
        Checked::QString => check_qstring(s),
    }
}

fn parse_policy(src: &str, max_depth: usize, threads: usize) -> DResult<Policy> {
    let parts = threads.min(src.len() / PARALLEL_MIN_PART);
    if src.len() >= PARALLEL_MIN_PART {
        // A large file that is one container is read part by part even on
        // one thread: never as one arena of all its nodes.
        if let Some(policy) = parse_container(src, max_depth, parts.max(1)) {
            return Ok(policy);
        }
        if parts > 1
            && let Some(policy) = parse_parallel(src, max_depth, parts)?
        {
            return Ok(policy);
        }
    }
    let (statements, _) = parse_part(src, max_depth, 0, src.len(), Nesting::default(), 0)?;
    Ok(Policy { statements })
}

/// A file that is one `block` or `optional` (comments before it aside):
/// its body is split between its statements near equal shares and the
/// parts are read on scoped threads (one part: on this thread), each as a
/// run of statements inside the container. `None` (the other strategies follow) when the file does
/// not start with such a container and end with its `)`, when the header
/// holds anything but the keyword and the name, or when any part fails or
/// does not end where the next begins: a container that closes before the
/// file's last `)` leaves a part with an unmatched `)`, and the sequential
/// parse then reports the same first error as always.
fn parse_container(src: &str, max_depth: usize, parts: usize) -> Option<Policy> {
    let b = src.as_bytes();
    let mut open = 0;
    loop {
        match b.get(open)? {
            &c if crate::syntax::is_blank(c) => open += 1,
            b';' => {
                open += b[open..]
                    .iter()
                    .position(|&c| c == b'\n' || c == b'\r')
                    .unwrap_or(b.len() - open)
            }
            b'(' => break,
            _ => return None,
        }
    }
    let close = src
        .trim_end_matches([' ', '\t', '\n', '\r'])
        .len()
        .checked_sub(1)?;
    if close <= open || b[close] != b')' {
        return None;
    }
    let skip_space = |mut p: usize| {
        while p < close && crate::syntax::is_blank(b[p]) {
            p += 1;
        }
        p
    };
    // `b[close]` is `)`: no symbol runs past it.
    let symbol = |p: usize| {
        let e = crate::syntax::symbol_end(b, p);
        (e > p).then_some(e)
    };
    let keyword_start = skip_space(open + 1);
    let keyword_end = symbol(keyword_start)?;
    let nest = match &src[keyword_start..keyword_end] {
        "block" => Nesting::default(),
        "optional" => Nesting {
            in_optional: true,
            ..Nesting::default()
        },
        _ => return None,
    };
    let name_start = skip_space(keyword_end);
    let name_end = symbol(name_start)?;
    let name = crate::ast::Name::new(&src[name_start..name_end]).ok()?;
    // The body: from after the name (a comment there is the body's) to the
    // closing parenthesis.
    let bounds = body_split_points(b, name_end, close, parts)?;
    let results = if bounds.len() == 2 {
        vec![parse_part_with(
            src,
            max_depth,
            name_end,
            close,
            nest,
            1,
            Mode::WHOLE,
        )]
    } else {
        parse_parts(src, max_depth, &bounds, nest, 1)?
    };
    let mut parts = Vec::new();
    for (result, window) in results.into_iter().zip(bounds.windows(2)) {
        let (part, stopped) = result.ok()?;
        if stopped != window[1] {
            return None;
        }
        parts.push(part);
    }
    let body = join(parts);
    let span = Span::new(open, close + 1);
    let container = if nest.in_optional {
        Statement::from(crate::ast::Optional { name, body, span })
    } else {
        Statement::from(crate::ast::Block { name, body, span })
    };
    let (mut statements, _) = parse_part(src, max_depth, 0, open, Nesting::default(), 0).ok()?;
    statements.push(container);
    Some(Policy { statements })
}

/// Splits `src` between top-level statements near equal shares and parses
/// the parts on scoped threads. The split points come from a quick scan of
/// the parentheses; should the parser still disagree (text the scan reads
/// differently, such as an invalid token), a part's last form runs past the
/// next part's start and `None` asks for a sequential parse. Of several
/// errors, the first in the file wins.
fn parse_parallel(src: &str, max_depth: usize, parts: usize) -> DResult<Option<Policy>> {
    let mut bounds = split_points(src.as_bytes(), 0, src.len(), parts, b"");
    bounds.push(src.len());
    bounds.dedup();
    if bounds.len() < 3 {
        return Ok(None);
    }
    let results = parse_parts(src, max_depth, &bounds, Nesting::default(), 0);
    let Some(results) = results else {
        return Ok(None);
    };
    let mut parts = Vec::new();
    for (result, window) in results.into_iter().zip(bounds.windows(2)) {
        let (part, stopped) = match result {
            Ok(part) => part,
            // Line marks pair up across the whole file: after one, a part
            // may fail on a pairing that the whole file completes (each
            // part that reads to its end has closed all of its own). The
            // sequential parse tells.
            Err(_) if src[..window[1]].contains(";;*") => return Ok(None),
            Err(e) => return Err(e),
        };
        if stopped != window[1] {
            return Ok(None);
        }
        parts.push(part);
    }
    Ok(Some(Policy {
        statements: join(parts),
    }))
}

/// The parts' statements in one vector: the first run's grown once to the
/// exact total (a large vector grows in place, where the allocator can
/// remap it), the other runs moved in and freed one by one, so the peak is
/// the statements and one run, not the statements and a copy of a part.
fn join(parts: Vec<Vec<Vec<Statement>>>) -> Vec<Statement> {
    let total: usize = parts.iter().flatten().map(Vec::len).sum();
    let mut runs = parts.into_iter().flatten();
    let mut out = runs.next().unwrap_or_default();
    out.reserve_exact(total - out.len());
    for run in runs {
        out.extend(run);
    }
    out
}

/// Parses `src` between each pair of consecutive `bounds` on a scoped
/// thread of its own (`parse_part` with `nest` and `depth`); `None` if a
/// thread cannot be started (the caller then parses on its own thread).
fn parse_parts(
    src: &str,
    max_depth: usize,
    bounds: &[usize],
    nest: Nesting,
    depth: usize,
) -> Option<Vec<DResult<Runs>>> {
    std::thread::scope(|scope| {
        let mut handles = Vec::new();
        for (i, w) in bounds.windows(2).enumerate() {
            let (start, end) = (w[0], w[1]);
            // The first part's vector becomes the whole: it grows as it
            // fills; the others are copied into it, run by run.
            let mode = Mode {
                run: if i == 0 { usize::MAX } else { RUN },
                ..Mode::WHOLE
            };
            let handle = std::thread::Builder::new()
                .spawn_scoped(scope, move || {
                    parse_part_with(src, max_depth, start, end, nest, depth, mode)
                })
                .ok()?;
            handles.push(handle);
        }
        Some(
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                .collect(),
        )
    })
}

/// Where to split a container's body (`src[start..end]`, from after its
/// name to its `)`) into `parts`: between lines that open a statement with
/// the indentation of its first one. One part (read on this thread) when
/// `parts` is 1 or the body has no such layout (its first statement on the
/// header's line, a comment before it); `None` when `parts` asks for more
/// and no split point is found (the caller tries the other strategies).
fn body_split_points(b: &[u8], start: usize, end: usize, parts: usize) -> Option<Vec<usize>> {
    let one = vec![start, end];
    if parts <= 1 {
        return Some(one);
    }
    let Some(first) = b[start..end]
        .iter()
        .position(|&c| c == b'(')
        .map(|p| start + p)
    else {
        return Some(one);
    };
    let line_start = b[..first]
        .iter()
        .rposition(|&c| c == b'\n')
        .map_or(first, |n| n + 1);
    if line_start <= start
        || !b[line_start..first]
            .iter()
            .all(|&c| c == b' ' || c == b'\t')
    {
        return Some(one);
    }
    let mut bounds = split_points(b, start, end, parts, &b[line_start..first]);
    bounds.push(end);
    bounds.dedup();
    (bounds.len() >= 3).then_some(bounds)
}

/// Where to split `src[start..end]` into `parts` shares: for each share's
/// nominal start, the first `(` after it that begins a line indented by
/// exactly `indent` (nothing for top-level statements; a container body's
/// own indentation), after a leading `start`. Fewer than `parts` when no
/// such line follows a nominal start.
///
/// A `(` that begins a line is never inside a comment or a quoted string
/// (neither spans lines), but it may be inside a statement of a file laid
/// out otherwise; then the part before it reads past it, the parts do not
/// align, and the caller parses another way. So the split costs a few
/// lines' reading, not a scan of the file: it works on bytes, and every
/// byte it splits before is ASCII.
fn split_points(src: &[u8], start: usize, end: usize, parts: usize, indent: &[u8]) -> Vec<usize> {
    let mut bounds = vec![start];
    for k in 1..parts {
        let target = start + (end - start) / parts * k;
        let mut i = target.max(bounds[bounds.len() - 1] + 1);
        let found = loop {
            let Some(newline) = src
                .get(i..end)
                .and_then(|s| s.iter().position(|&b| b == b'\n'))
            else {
                break None;
            };
            let line = i + newline + 1;
            if src.get(line..line + indent.len()) == Some(indent)
                && src.get(line + indent.len()) == Some(&b'(')
                && line + indent.len() < end
            {
                break Some(line + indent.len());
            }
            i = line;
        };
        match found {
            Some(at) => bounds.push(at),
            None => break,
        }
    }
    bounds
}

/// The statements of one part of a file and where reading it stopped.
type Part = (Vec<Statement>, usize);

/// The statements of one part of a file, in runs of [`RUN`] or so (the last
/// shorter), and where reading it stopped.
type Runs = (Vec<Vec<Statement>>, usize);

/// How many top-level statements a part read on a thread of its own, other
/// than the first, holds in one run. The join copies such a part into the
/// first part's vector run by run and frees each run as soon as it is
/// copied, so the copy never doubles the part: 4096 statements are 192 KiB,
/// above glibc's default threshold (128 KiB) for an allocation with a
/// mapping of its own, whose pages go back to the system when it is freed.
/// (glibc raises that threshold once a process frees a larger mapping; a
/// later parse's runs then come from its heap, which keeps them.)
const RUN: usize = 4096;

/// Parses the forms that start in `start..end`, each a statement inside
/// `depth` enclosing lists nested as `nest` says; returns them and where
/// reading stopped.
fn parse_part(
    src: &str,
    max_depth: usize,
    start: usize,
    end: usize,
    nest: Nesting,
    depth: usize,
) -> DResult<Part> {
    let (mut runs, stopped) =
        parse_part_with(src, max_depth, start, end, nest, depth, Mode::WHOLE)?;
    Ok((runs.pop().unwrap_or_default(), stopped))
}

/// How [`parse_part_with`] reads a part.
#[derive(Clone, Copy)]
struct Mode {
    /// The shortcut for the commonest statements ([`fast`]) on or off (the
    /// tests compare the two).
    shortcut: bool,
    /// How many top-level statements a run holds before the next begins
    /// (`usize::MAX`: one run, grown as it fills).
    run: usize,
}

impl Mode {
    /// With the shortcut, in one run.
    const WHOLE: Mode = Mode {
        shortcut: true,
        run: usize::MAX,
    };
}

/// [`parse_part`], in runs and with the shortcut as `mode` says.
fn parse_part_with(
    src: &str,
    max_depth: usize,
    start: usize,
    end: usize,
    nest: Nesting,
    depth: usize,
    mode: Mode,
) -> DResult<Runs> {
    let mut reader = Reader::new(src, max_depth)?.range(start, end).nested(depth);
    let mut nodes = Vec::new();
    let names = RefCell::new(Interner::default());
    let perms = RefCell::new(FxHashMap::default());
    let mut runs = Vec::new();
    let mut statements = Vec::new();
    let room = reader.depth_room();
    let mut fast = fast::Shortcut {
        src,
        names: &names,
        perms: &perms,
        plain_perms: FxHashMap::default(),
        scratch: Vec::new(),
    };
    loop {
        if statements.len() >= mode.run {
            runs.push(std::mem::replace(
                &mut statements,
                Vec::with_capacity(mode.run),
            ));
        }
        if mode.shortcut
            && let Some(at) = reader.next_start()
            && let Some((rule, end)) = fast.statement(at, nest, room)
        {
            statements.push(rule);
            reader.skip_to(end);
            continue;
        }
        let Some(top) = reader.next(&mut nodes)? else {
            break;
        };
        match top {
            Top::List => {
                let cx = Cx {
                    nodes: &nodes,
                    src,
                    names: &names,
                    perms: &perms,
                    comments: reader.list_has_comment(),
                };
                statements::statement_into(&cx, 0, nest, &mut statements)?;
                // One huge form (a booleanif of tens of thousands of rules)
                // must not keep its arena for the rest of the file.
                if nodes.capacity() > 1 << 16 {
                    nodes = Vec::new();
                }
            }
            Top::Comment(text, span) => {
                statements.push(Statement::Comment(Comment::parsed(text, span)))
            }
            Top::LineMark(text, span) => {
                statements.push(Statement::LineMark(line_mark(text, span)?))
            }
        }
    }
    // A part of the file that leaves a line mark open may have its end in
    // a later part: the caller reads the whole file in one piece instead.
    if let Some(open) = reader.open_line_mark() {
        return Err(Diag::new(ErrorKind::LineMarkNotClosed, open));
    }
    runs.push(statements);
    Ok((runs, reader.position()))
}

pub(crate) fn line_mark(text: &str, span: Span) -> DResult<LineMark> {
    let invalid = |reason: String| Diag::new(ErrorKind::InvalidLineMark { reason }, span);
    match line_mark_parts(text).map_err(invalid)? {
        LineMarkParts::End => Ok(LineMark::End { span }),
        LineMarkParts::Start {
            expanded,
            line,
            path,
        } => Ok(LineMark::Start {
            expanded,
            line,
            path: QString::new(path).map_err(|e| invalid(e.to_string()))?,
            span,
        }),
    }
}

/// Which containers enclose a statement, for the compiler's nesting rules.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Nesting {
    pub in_optional: bool,
    pub in_macro: bool,
    pub in_in: Option<bool>,
    pub in_booleanif: bool,
    pub in_tunableif: bool,
}

impl Nesting {
    /// The nesting of a `booleanif`'s or `tunableif`'s branches.
    pub fn in_conditional(self, kind: crate::ast::CondKind) -> Nesting {
        match kind {
            crate::ast::CondKind::Boolean => Nesting {
                in_booleanif: true,
                ..self
            },
            crate::ast::CondKind::Tunable => Nesting {
                in_tunableif: true,
                ..self
            },
        }
    }
}

/// The arena of the form being parsed, and the names seen so far.
pub(crate) struct Cx<'s, 'a> {
    pub nodes: &'s [Node],
    pub src: &'a str,
    /// Every distinct name text shares one allocation across the file, and
    /// is validated once per kind of name.
    pub names: &'s RefCell<Interner>,
    /// Permission lists by their source text: a repeated list is parsed once
    /// and shared.
    pub perms: &'s RefCell<FxHashMap<&'a str, Arc<Expr>>>,
    /// Whether the form holds a comment anywhere (if not, no statement of
    /// it needs to look for one).
    pub comments: bool,
}

/// Every distinct name text of a parse, shared, kept by how it was
/// validated. A set holds only the shared text (one pointer per entry, the
/// text itself is the key), so that a file of a million distinct names
/// does not spend more on its interner than on its names.
#[derive(Default)]
pub(crate) struct Interner {
    /// Valid as a declared name, so as a reference and a quoted string too.
    idents: FxHashSet<Sym>,
    /// Valid as a reference, and dotted (so not an identifier).
    refs: FxHashSet<Sym>,
    /// Valid as a quoted string.
    strings: FxHashSet<Sym>,
}

impl Interner {
    /// A fresh text for the declared name `s`, validated; the shared one if
    /// `s` was referenced already.
    fn declared(&self, s: &str) -> Result<Sym, NameError> {
        if let Some(sym) = self.idents.get(s) {
            return Ok(sym.clone());
        }
        check(s, Checked::Name)?;
        Ok(Sym::from(s))
    }

    /// The shared text for `s`, validated as `kind` (once per text).
    fn intern(&mut self, s: &str, kind: Checked) -> Result<Sym, NameError> {
        // An identifier is also a valid reference and quoted string.
        if let Some(sym) = self.idents.get(s) {
            return Ok(sym.clone());
        }
        let other = match kind {
            Checked::Name => None,
            Checked::Ref if !s.contains('.') => None,
            Checked::Ref => Some(&mut self.refs),
            Checked::QString => Some(&mut self.strings),
        };
        if let Some(set) = &other
            && let Some(sym) = set.get(s)
        {
            return Ok(sym.clone());
        }
        check(s, kind)?;
        let sym = Sym::from(s);
        other.unwrap_or(&mut self.idents).insert(sym.clone());
        Ok(sym)
    }
}

/// The kinds of name a text can be validated as.
#[derive(Clone, Copy)]
pub(crate) enum Checked {
    Name,
    Ref,
    QString,
}

impl<'s, 'a> Cx<'s, 'a> {
    /// The permission expression at list `i`, shared with every earlier list
    /// of the same text.
    pub fn shared_perms(&self, i: usize) -> DResult<Arc<Expr>> {
        let span = self.span(i);
        let text = &self.src[span.range()];
        if let Some(e) = self.perms.borrow().get(text) {
            return Ok(e.clone());
        }
        let e = Arc::new(args::expr(self, i, Flavor::Set)?);
        self.perms.borrow_mut().insert(text, e.clone());
        Ok(e)
    }

    /// A fresh text for the declared name `s`, validated.
    pub fn declared(&self, s: &'a str, i: usize) -> DResult<Sym> {
        self.names
            .borrow()
            .declared(s)
            .map_err(|e| self.name_error(e, i))
    }

    /// The shared text for `s`, validated as `kind` (once per text).
    pub fn intern(&self, s: &'a str, kind: Checked, i: usize) -> DResult<Sym> {
        self.names
            .borrow_mut()
            .intern(s, kind)
            .map_err(|e| self.name_error(e, i))
    }

    pub fn node(&self, i: usize) -> &Node {
        &self.nodes[i]
    }

    /// The text of node `i` (see [`Node::text`]).
    pub fn text(&self, i: usize) -> &'a str {
        self.nodes[i].text(self.src)
    }

    pub fn span(&self, i: usize) -> Span {
        self.nodes[i].span
    }

    /// Whether a comment stands anywhere inside the list at `i`.
    pub fn has_comment(&self, i: usize) -> bool {
        self.comments
            && self.nodes[i + 1..self.skip(i)]
                .iter()
                .any(|n| n.kind == Kind::Comment)
    }

    /// One past the node's last descendant.
    pub fn skip(&self, i: usize) -> usize {
        match self.nodes[i].kind {
            Kind::List { end } => end as usize,
            _ => i + 1,
        }
    }

    pub fn is_list(&self, i: usize) -> bool {
        matches!(self.nodes[i].kind, Kind::List { .. })
    }

    /// The text of a symbol or quoted string.
    pub fn atom(&self, i: usize) -> Option<&'a str> {
        let n = &self.nodes[i];
        matches!(n.kind, Kind::Symbol | Kind::Quoted).then(|| n.text(self.src))
    }

    /// Direct children of a list, comments included.
    pub fn children(&self, list: usize) -> Children<'_, 's, 'a> {
        let end = self.skip(list);
        Children {
            cx: self,
            next: list + 1,
            end,
        }
    }

    /// Direct children that are not comments; a line mark here is an error.
    pub fn items(&self, list: usize) -> DResult<Items> {
        let mut out = Items::default();
        if !self.comments {
            // No comment or line mark anywhere in the form: every child is
            // an item.
            for i in self.children(list) {
                out.push(i);
            }
            return Ok(out);
        }
        for i in self.children(list) {
            match self.nodes[i].kind {
                Kind::Comment => {}
                Kind::LineMark => {
                    return Err(Diag::new(ErrorKind::LineMarkInStatement, self.span(i)));
                }
                _ => out.push(i),
            }
        }
        Ok(out)
    }

    /// How a node reads in a message: `` `name` ``, `"text"` or `a list`.
    pub fn describe(&self, i: usize) -> String {
        let n = &self.nodes[i];
        match n.kind {
            Kind::Symbol => format!("`{}`", crate::error::shorten(n.text(self.src))),
            Kind::Quoted => format!("\"{}\"", crate::error::shorten(n.text(self.src))),
            Kind::List { .. } => "a list".into(),
            Kind::Comment => "a comment".into(),
            Kind::LineMark => "a line mark".into(),
        }
    }

    pub fn expected(&self, what: &'static str, i: usize) -> Diag {
        Diag::new(
            ErrorKind::Expected {
                expected: what,
                found: self.describe(i),
            },
            self.span(i),
        )
    }

    pub fn name_error(&self, e: NameError, i: usize) -> Diag {
        Diag::new(ErrorKind::Name(e), self.span(i))
    }

    /// The arguments of a fixed-shape statement, after its keyword, checked
    /// against the number its shape allows.
    pub fn args(
        &self,
        list: usize,
        keyword: &'static str,
        usage: &'static str,
        optional: &[bool],
    ) -> DResult<ArgList> {
        let items = self.items(list)?;
        let found = items.len().saturating_sub(1);
        let max = optional.len();
        let min = optional.iter().filter(|o| !**o).count();
        if found < min || found > max {
            return Err(shape(keyword, usage, found, self.span(list)));
        }
        Ok(ArgList {
            items,
            next: 1,
            span: self.span(list),
        })
    }
}

pub(crate) fn shape(keyword: &'static str, usage: &'static str, found: usize, span: Span) -> Diag {
    Diag::new(
        ErrorKind::Shape {
            keyword,
            usage,
            found: match found {
                0 => "no arguments".into(),
                1 => "1 argument".into(),
                n => format!("{n} arguments"),
            },
        },
        span,
    )
}

/// The items of one list: held inline up to 8 (every statement's own
/// arguments, most permission lists), so parsing allocates only for what the
/// AST keeps.
#[derive(Default)]
pub(crate) struct Items {
    inline: [usize; 8],
    len: usize,
    spill: Vec<usize>,
}

impl Items {
    fn push(&mut self, i: usize) {
        if self.len < self.inline.len() {
            self.inline[self.len] = i;
        } else {
            if self.spill.is_empty() {
                self.spill.extend_from_slice(&self.inline);
            }
            self.spill.push(i);
        }
        self.len += 1;
    }
}

impl std::ops::Deref for Items {
    type Target = [usize];
    fn deref(&self) -> &[usize] {
        if self.len <= self.inline.len() {
            &self.inline[..self.len]
        } else {
            &self.spill
        }
    }
}

/// Iterator over a list's direct children.
pub(crate) struct Children<'c, 's, 'a> {
    cx: &'c Cx<'s, 'a>,
    next: usize,
    end: usize,
}

impl Iterator for Children<'_, '_, '_> {
    type Item = usize;
    fn next(&mut self) -> Option<usize> {
        (self.next < self.end).then(|| {
            let i = self.next;
            self.next = self.cx.skip(i);
            i
        })
    }
}

/// The checked arguments of one statement.
pub(crate) struct ArgList {
    items: Items,
    next: usize,
    span: Span,
}

impl ArgList {
    pub fn next_arg<T: Arg>(&mut self, cx: &Cx<'_, '_>) -> DResult<T> {
        let i = self.items.get(self.next).copied();
        self.next += 1;
        T::parse_slot(cx, i, self.span)
    }

    /// The next argument, read by `parse` (a required argument).
    pub fn next_with<T>(
        &mut self,
        cx: &Cx<'_, '_>,
        parse: fn(&Cx<'_, '_>, usize) -> DResult<T>,
    ) -> DResult<T> {
        let i = self.items.get(self.next).copied();
        self.next += 1;
        match i {
            Some(i) => parse(cx, i),
            None => Err(Diag::new(
                ErrorKind::Invalid("missing argument".into()),
                self.span,
            )),
        }
    }
}

/// A statement with a fixed shape, parsed and printed through [`Arg`].
pub(crate) trait SimpleStatement: Sized {
    const KEYWORD: &'static str;
    fn parse_args(cx: &Cx<'_, '_>, list: usize) -> DResult<Self>;
    fn print_args(&self, p: &mut crate::print::Printer);
}

/// What the statement table (`simple_statements!`) gives a statement type
/// with a fixed shape for printing (its parsing comes from the table's
/// `parser` functions). The printer dispatches through it, so a
/// fixed-shape statement is listed once, in the table. Other statement
/// types keep the default.
pub(crate) trait Shape {
    /// Prints a fixed-shape statement and says so; `false` for the others.
    fn print_fixed(&self, p: &mut crate::print::Printer) -> bool {
        let _ = p;
        false
    }
}

impl<T: Shape> Shape for Box<T> {
    fn print_fixed(&self, p: &mut crate::print::Printer) -> bool {
        (**self).print_fixed(p)
    }
}

/// Large statements are boxed inside [`Statement`].
impl<T: SimpleStatement> SimpleStatement for Box<T> {
    const KEYWORD: &'static str = T::KEYWORD;
    fn parse_args(cx: &Cx<'_, '_>, list: usize) -> DResult<Self> {
        T::parse_args(cx, list).map(Box::new)
    }
    fn print_args(&self, p: &mut crate::print::Printer) {
        (**self).print_args(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flat(n: usize) -> String {
        (0..n)
            .map(|i| format!("(type t{i})\n(allow t{i} self (file (read)))\n"))
            .collect()
    }

    #[test]
    fn flat_input_is_split_and_every_part_aligns() {
        let src = flat(40_000);
        assert!(src.len() / PARALLEL_MIN_PART >= 2);
        let parallel = parse_parallel(&src, DEFAULT_MAX_DEPTH, 3)
            .unwrap()
            .expect("split points between top-level statements align");
        let (sequential, stopped) =
            parse_part(&src, DEFAULT_MAX_DEPTH, 0, src.len(), Nesting::default(), 0).unwrap();
        assert_eq!(stopped, src.len());
        assert_eq!(parallel.statements, sequential);
    }

    #[test]
    fn a_split_inside_a_container_is_refused() {
        let mut src = String::from("(block outer\n");
        for i in 0..60_000 {
            src.push_str(&format!("(allow t{i} self (file (read write)))\n"));
        }
        src.push_str(")\n");
        assert!(
            parse_parallel(&src, DEFAULT_MAX_DEPTH, 2)
                .unwrap()
                .is_none()
        );
        assert_eq!(
            parse_policy(&src, DEFAULT_MAX_DEPTH, 2)
                .unwrap()
                .statements
                .len(),
            1
        );
    }

    #[test]
    fn one_big_container_is_not_split() {
        let mut src = String::from("(block outer\n");
        for i in 0..60_000 {
            src.push_str(&format!("(allow t{i} self (file (read write)))\n"));
        }
        src.push_str(")\n");
        // Its statements start lines, so a split is tried and refused.
        assert_eq!(split_points(src.as_bytes(), 0, src.len(), 2, b"").len(), 2);
        assert!(
            parse_parallel(&src, DEFAULT_MAX_DEPTH, 2)
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn split_points_are_lines_that_open_with_the_indentation() {
        let src = b"(a)\n; (x\n(b \"(\")\n(c)\n(d)\n";
        // Shares of 6 bytes: the first line opening with `(` after 6, 12
        // and 18: `(b` at 9, `(c` at 17, `(d` at 21; the comment's `(` is
        // not at a line's start.
        assert_eq!(split_points(src, 0, src.len(), 4, b""), [0, 9, 17, 21]);
        let src = b"(block a\n    (b)\n    (c (d\n        (e)))\n    (f)\n)\n";
        // Inside the block: only lines indented as its first statement.
        let close = src.len() - 2;
        assert_eq!(split_points(src, 8, close, 2, b"    "), [8, 45]);
        assert_eq!(split_points(src, 8, close, 8, b"    ").len(), 3);
    }

    #[test]
    fn a_split_inside_a_multibyte_character_does_not_panic() {
        // The nominal half falls inside an `é` (two bytes).
        let src = format!("; {}\n", "é".repeat(524_288));
        assert!(!src.is_char_boundary(src.len() / 2));
        let policy = parse_policy(&src, DEFAULT_MAX_DEPTH, 2).unwrap();
        assert_eq!(policy.statements.len(), 1);
        let src = format!("(type a)\n; {}\n(type b)\n", "é".repeat(524_288));
        assert_eq!(crate::parse(&src).unwrap().statements.len(), 3);
    }

    #[test]
    fn a_comment_where_the_canonical_text_has_no_token_stays_inside() {
        // Found by fuzzing: `()` of an empty argument list prints as
        // nothing, so the comment written in it moves before the `)`.
        for src in ["(call m (;)\n)\n)\n", "(call m ( ; a\n ; b\n))"] {
            let p = crate::parse(src).unwrap();
            let printed = p.to_string();
            let again = crate::parse(&printed).unwrap();
            assert_eq!(again, p, "{printed}");
            assert_eq!(again.to_string(), printed);
        }
        assert_eq!(
            crate::parse("(call m (;)\n)\n)\n").unwrap().to_string(),
            "(call m ;)\n    )\n"
        );
    }

    #[test]
    fn one_container_is_split_inside_and_other_shapes_are_not() {
        let body: String = (0..60_000)
            .map(|i| format!("    (allow t{i} self (file (read write)))\n"))
            .collect();
        for keyword in ["block", "optional"] {
            let src = format!("; c\n({keyword} outer ; body\n{body})\n");
            let (sequential, _) =
                parse_part(&src, DEFAULT_MAX_DEPTH, 0, src.len(), Nesting::default(), 0).unwrap();
            for parts in [1, 2, 3] {
                let split = parse_container(&src, DEFAULT_MAX_DEPTH, parts)
                    .unwrap_or_else(|| panic!("{keyword} is not read part by part"));
                assert_eq!(split.statements, sequential);
            }
        }
        for src in [
            format!("(block ; header\n outer\n{body})\n"),
            format!("(block outer\n{body}); after\n"),
            format!("(macro m ()\n{body})\n"),
            format!("(type a)\n(block outer\n{body})\n"),
            format!("(block outer\n{body}\n(type a))\n").replacen(
                "(allow t30000",
                ")(block b (allow t30000",
                1,
            ),
        ] {
            assert!(parse_container(&src, DEFAULT_MAX_DEPTH, 2).is_none());
        }
    }

    #[test]
    fn line_marks_that_pair_across_parts_are_read_in_one_piece() {
        // Split, the later part would meet `lme` without its `lms`.
        let src = format!(";;* lms 1 a.te\n{};;* lme\n", flat(40_000));
        assert!(
            parse_parallel(&src, DEFAULT_MAX_DEPTH, 4)
                .unwrap()
                .is_none()
        );
        assert!(parse_policy(&src, DEFAULT_MAX_DEPTH, 4).is_ok());
        // Pairs that close before each part ends do not stop the split.
        let paired: String = (0..40_000)
            .map(|i| format!(";;* lms {i} a.te\n;;* lme\n(type t{i})\n"))
            .collect();
        let split = parse_parallel(&paired, DEFAULT_MAX_DEPTH, 4).unwrap();
        assert_eq!(split.unwrap().statements.len(), 120_000);
    }
}
