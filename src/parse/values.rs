//! Levels, ranges, contexts, constraint expressions, numbers, addresses,
//! and the labeling statements whose numbers follow per-statement rules.

use super::args::{Arg, Flavor, term};
use super::{Cx, shape};
use crate::ast::*;
use crate::error::{DResult, Diag, ErrorKind, NameError};
use crate::print::Printer;

fn atom<'a>(cx: &Cx<'_, 'a>, i: usize, what: &'static str) -> DResult<&'a str> {
    cx.atom(i).ok_or_else(|| cx.expected(what, i))
}

impl Arg for Categories {
    fn parse(cx: &Cx<'_, '_>, i: usize) -> DResult<Self> {
        term(cx, i, Flavor::Cat).map(Categories)
    }

    fn print(&self, p: &mut Printer) {
        super::args::print_term(&self.0, p);
    }
}

impl Arg for Level {
    fn parse(cx: &Cx<'_, '_>, i: usize) -> DResult<Self> {
        if !cx.is_list(i) {
            return Ref::parse(cx, i).map(Level::Named);
        }
        let items = cx.items(i)?;
        match &*items {
            [s] if !cx.is_list(*s) => Ok(Level::Anonymous {
                sensitivity: Ref::parse(cx, *s)?,
                categories: None,
            }),
            [s, c] if !cx.is_list(*s) => Ok(Level::Anonymous {
                sensitivity: Ref::parse(cx, *s)?,
                categories: Some(Categories::parse(cx, *c)?),
            }),
            _ => Err(cx.expected("a level: a name or (SENSITIVITY [CATEGORIES])", i)),
        }
    }

    fn print(&self, p: &mut Printer) {
        match self {
            Level::Named(r) => r.print(p),
            Level::Anonymous {
                sensitivity,
                categories,
            } => {
                p.open();
                sensitivity.print(p);
                categories.print(p);
                p.close();
            }
        }
    }
}

impl Arg for LevelRange {
    fn parse(cx: &Cx<'_, '_>, i: usize) -> DResult<Self> {
        if !cx.is_list(i) {
            return Ref::parse(cx, i).map(LevelRange::Named);
        }
        match &*cx.items(i)? {
            [low, high] => Ok(LevelRange::Anonymous {
                low: Level::parse(cx, *low)?,
                high: Level::parse(cx, *high)?,
            }),
            _ => Err(cx.expected("a range: a name or (LOW HIGH)", i)),
        }
    }

    fn print(&self, p: &mut Printer) {
        match self {
            LevelRange::Named(r) => r.print(p),
            LevelRange::Anonymous { low, high } => {
                p.open();
                low.print(p);
                high.print(p);
                p.close();
            }
        }
    }
}

impl Arg for Context {
    fn parse(cx: &Cx<'_, '_>, i: usize) -> DResult<Self> {
        if !cx.is_list(i) {
            return Ref::parse(cx, i).map(Context::Named);
        }
        match &*cx.items(i)? {
            [u, r, t, range] => Ok(Context::Anonymous {
                user: Ref::parse(cx, *u)?,
                role: Ref::parse(cx, *r)?,
                ty: Ref::parse(cx, *t)?,
                range: LevelRange::parse(cx, *range)?,
            }),
            _ => Err(cx.expected("a context: a name or (USER ROLE TYPE RANGE)", i)),
        }
    }

    fn print(&self, p: &mut Printer) {
        match self {
            Context::Named(r) => r.print(p),
            Context::Anonymous {
                user,
                role,
                ty,
                range,
            } => {
                p.open();
                user.print(p);
                role.print(p);
                ty.print(p);
                range.print(p);
                p.close();
            }
        }
    }
}

/// Which operands a comparison may pair, as libsepol checks them while it
/// builds its tree (`cil_verify_constraint_leaf_expr_syntax`); the rule
/// that depends on the statement (u3, r3 and t3 only in validatetrans) is
/// [`validatetrans_only`]'s.
fn leaf_problem(op: CompareOp, left: Operand, right: &Rhs) -> Option<&'static str> {
    use Operand::*;
    let equality = matches!(op, CompareOp::Eq | CompareOp::Neq);
    match right {
        Rhs::Name(_) | Rhs::Names(_) => matches!(left, L1 | L2 | H1 | H2).then_some(
            "l1, l2, h1 and h2 cannot be used on the left side with a name or list on the right side",
        ),
        Rhs::Operand(r) => match r {
            U1 | R1 | T1 => Some("u1, r1 and t1 are not allowed on the right side"),
            U3 | R3 | T3 => Some("u3, r3 and t3 are not allowed on the right side"),
            U2 if !equality => Some("u2 on the right side must be used with eq or neq"),
            U2 => (left != U1).then_some("u2 on the right side must be used with u1 on the left"),
            R2 => (left != R1).then_some("r2 on the right side must be used with r1 on the left"),
            T2 if !equality => Some("t2 on the right side must be used with eq or neq"),
            T2 => (left != T1).then_some("t2 on the right side must be used with t1 on the left"),
            L2 => (!matches!(left, L1 | H1))
                .then_some("l2 on the right side must be used with l1 or h1 on the left"),
            H2 => (!matches!(left, L1 | L2 | H1))
                .then_some("h2 on the right side must be used with l1, l2 or h1 on the left"),
            H1 => (left != L1).then_some("h1 on the right side must be used with l1 on the left"),
            L1 => None,
        },
    }
}

/// In `constrain` and `mlsconstrain`, the first comparison of u3, r3 or t3
/// with a name or list (the object's new context exists only in
/// validatetrans): its node, for the error.
pub(crate) fn validatetrans_only(cx: &Cx<'_, '_>, i: usize) -> DResult<Option<usize>> {
    if !cx.is_list(i) {
        return Ok(None);
    }
    let items = cx.items(i)?;
    match items.first().and_then(|&f| cx.atom(f)) {
        Some("and" | "or" | "not") => {
            for &sub in &items[1..] {
                if let Some(found) = validatetrans_only(cx, sub)? {
                    return Ok(Some(found));
                }
            }
            Ok(None)
        }
        _ => {
            let left = items.get(1).and_then(|&l| cx.atom(l));
            // With an operand on the right, the other leaf rules decide.
            let names_on_right = items.get(2).is_some_and(|&r| {
                cx.atom(r)
                    .is_none_or(|a| Operand::from_keyword(a).is_none())
            });
            Ok((matches!(left, Some("u3" | "r3" | "t3")) && names_on_right).then_some(i))
        }
    }
}

impl Arg for ConstraintExpr {
    fn parse(cx: &Cx<'_, '_>, i: usize) -> DResult<Self> {
        const WHAT: &str =
            "a constraint expression (and|or|not ...) or (eq|neq|dom|domby|incomp OPERAND OPERAND)";
        if !cx.is_list(i) {
            return Err(cx.expected(WHAT, i));
        }
        let items = cx.items(i)?;
        let Some(op) = items.first().and_then(|&f| cx.atom(f)) else {
            return Err(cx.expected(WHAT, i));
        };
        let args = &items[1..];
        let sub = |k: usize| ConstraintExpr::parse(cx, args[k]).map(Box::new);
        let arity = |n: usize| {
            if args.len() == n {
                Ok(())
            } else {
                Err(Diag::new(
                    ErrorKind::Invalid(format!(
                        "`{op}` takes {n} operand{}, found {}",
                        if n == 1 { "" } else { "s" },
                        args.len()
                    )),
                    cx.span(i),
                ))
            }
        };
        match op {
            "and" | "or" => {
                arity(2)?;
                let (a, b) = (sub(0)?, sub(1)?);
                Ok(if op == "and" {
                    ConstraintExpr::And(a, b)
                } else {
                    ConstraintExpr::Or(a, b)
                })
            }
            "not" => {
                arity(1)?;
                Ok(ConstraintExpr::Not(sub(0)?))
            }
            _ => {
                let Some(cmp) = CompareOp::from_keyword(op) else {
                    return Err(cx.expected(WHAT, items[0]));
                };
                arity(2)?;
                let left = atom(cx, args[0], "an operand (u1 r1 t1 l1 h1 ...)")?;
                let left = Operand::from_keyword(left).ok_or_else(|| {
                    cx.expected(
                        "an operand (u1 u2 u3 r1 r2 r3 t1 t2 t3 l1 l2 h1 h2)",
                        args[0],
                    )
                })?;
                let right = if cx.is_list(args[1]) {
                    Rhs::Names(Vec::parse(cx, args[1])?)
                } else {
                    let text = atom(cx, args[1], "an operand or a name")?;
                    match Operand::from_keyword(text) {
                        Some(Operand::U3 | Operand::R3 | Operand::T3) => {
                            return Err(Diag::new(
                                ErrorKind::Invalid(
                                    "u3, r3 and t3 are allowed only on the left side".into(),
                                ),
                                cx.span(args[1]),
                            ));
                        }
                        Some(o) => Rhs::Operand(o),
                        None => Rhs::Name(Ref::parse(cx, args[1])?),
                    }
                };
                if let Some(problem) = leaf_problem(cmp, left, &right) {
                    return Err(Diag::new(ErrorKind::Invalid(problem.into()), cx.span(i)));
                }
                Ok(ConstraintExpr::Compare {
                    op: cmp,
                    left,
                    right,
                })
            }
        }
    }

    fn print(&self, p: &mut Printer) {
        p.open();
        match self {
            ConstraintExpr::And(a, b) | ConstraintExpr::Or(a, b) => {
                p.word(if matches!(self, ConstraintExpr::And(..)) {
                    "and"
                } else {
                    "or"
                });
                a.print(p);
                b.print(p);
            }
            ConstraintExpr::Not(a) => {
                p.word("not");
                a.print(p);
            }
            ConstraintExpr::Compare { op, left, right } => {
                p.word(op.keyword());
                p.word(left.keyword());
                match right {
                    Rhs::Operand(o) => p.word(o.keyword()),
                    Rhs::Name(r) => r.print(p),
                    Rhs::Names(rs) => rs.print(p),
                }
            }
        }
        p.close();
    }
}

impl Arg for Word {
    fn parse(cx: &Cx<'_, '_>, i: usize) -> DResult<Self> {
        QString::parse(cx, i).map(Word)
    }

    fn print(&self, p: &mut Printer) {
        p.atom(self.0.as_str());
    }
}

impl Arg for Refs {
    fn parse(cx: &Cx<'_, '_>, i: usize) -> DResult<Self> {
        let refs = if cx.is_list(i) {
            Vec::parse(cx, i)?
        } else {
            vec![Ref::parse(cx, i)?]
        };
        if refs.is_empty() {
            return Err(cx.expected("at least one name", i));
        }
        Ok(Refs(refs))
    }

    fn print(&self, p: &mut Printer) {
        match self.0.as_slice() {
            [one] => one.print(p),
            many => {
                p.open();
                for r in many {
                    r.print(p);
                }
                p.close();
            }
        }
    }
}

impl Arg for IpAddress {
    fn parse(cx: &Cx<'_, '_>, i: usize) -> DResult<Self> {
        let s = atom(cx, i, "an IP address")?;
        IpAddress::new(s).map_err(|e| cx.name_error(e, i))
    }

    fn print(&self, p: &mut Printer) {
        p.word(self.as_str());
    }
}

impl Arg for IpArg {
    fn parse(cx: &Cx<'_, '_>, i: usize) -> DResult<Self> {
        if !cx.is_list(i) {
            // No name reads as an address (a name starts with a letter and
            // holds no `:`), so an address here is one written bare.
            if let Some(addr) = cx.atom(i).and_then(|a| IpAddress::new(a).ok()) {
                return Ok(IpArg::Bare(addr));
            }
            return Ref::parse(cx, i).map(IpArg::Named);
        }
        match &*cx.items(i)? {
            [a] => IpAddress::parse(cx, *a).map(IpArg::Literal),
            _ => Err(cx.expected("an ipaddr name or (ADDRESS)", i)),
        }
    }

    fn print(&self, p: &mut Printer) {
        match self {
            IpArg::Named(r) => r.print(p),
            IpArg::Bare(a) => a.print(p),
            IpArg::Literal(a) => {
                p.open();
                a.print(p);
                p.close();
            }
        }
    }
}

macro_rules! keyword_args {
    ($($ty:ty => $what:literal),* $(,)?) => {$(
        impl Arg for $ty {
            fn parse(cx: &Cx<'_, '_>, i: usize) -> DResult<Self> {
                cx.atom(i)
                    .and_then(<$ty>::from_keyword)
                    .ok_or_else(|| cx.expected($what, i))
            }

            fn print(&self, p: &mut Printer) {
                p.word(self.keyword());
            }
        }
    )*};
}

keyword_args!(
    FileType => "a file type (file dir char block socket pipe symlink any)",
    FsUseKind => "`xattr`, `task` or `trans`",
    Protocol => "a protocol (tcp udp dccp sctp)",
    UnknownAction => "`allow`, `deny` or `reject`",
    DefaultSide => "`source` or `target`",
);

impl Arg for Number {
    fn parse(cx: &Cx<'_, '_>, i: usize) -> DResult<Self> {
        number(cx, i, false, u64::MAX)
    }

    fn print(&self, p: &mut Printer) {
        p.display(self);
    }
}

impl Arg for NumberRange {
    fn parse(cx: &Cx<'_, '_>, i: usize) -> DResult<Self> {
        number_range(cx, i, false, u64::MAX)
    }

    fn print(&self, p: &mut Printer) {
        match self {
            NumberRange::Single(n) => n.print(p),
            NumberRange::Range(a, b) => {
                p.open();
                a.print(p);
                b.print(p);
                p.close();
            }
        }
    }
}

fn number(cx: &Cx<'_, '_>, i: usize, hex: bool, max: u64) -> DResult<Number> {
    let s = atom(cx, i, "a number")?;
    Number::parse(s, hex, max).ok_or_else(|| {
        cx.name_error(
            NameError::Value {
                message: format!(
                    "`{s}` is not a {} number of at most {max}",
                    if hex {
                        "decimal, 0x hex or 0 octal"
                    } else {
                        "decimal"
                    }
                ),
            },
            i,
        )
    })
}

fn number_range(cx: &Cx<'_, '_>, i: usize, hex: bool, max: u64) -> DResult<NumberRange> {
    if !cx.is_list(i) {
        return number(cx, i, hex, max).map(NumberRange::Single);
    }
    match &*cx.items(i)? {
        [a, b] => {
            let (a, b) = (number(cx, *a, hex, max)?, number(cx, *b, hex, max)?);
            if a.value > b.value {
                return Err(Diag::new(
                    ErrorKind::Invalid(format!("range ({a} {b}) is reversed")),
                    cx.span(i),
                ));
            }
            Ok(NumberRange::Range(a, b))
        }
        _ => Err(cx.expected("a number or (LOW HIGH)", i)),
    }
}

/// The items of a statement whose argument count is one of `counts`.
fn items_of(
    cx: &Cx<'_, '_>,
    list: usize,
    keyword: &'static str,
    usage: &'static str,
    counts: &[usize],
) -> DResult<super::Items> {
    let items = cx.items(list)?;
    if !counts.contains(&(items.len() - 1)) {
        return Err(shape(keyword, usage, items.len() - 1, cx.span(list)));
    }
    Ok(items)
}

pub(crate) fn default_range(cx: &Cx<'_, '_>, list: usize) -> DResult<Statement> {
    const USAGE: &str =
        "(defaultrange CLASSES source|target low|high|low-high) or (defaultrange CLASSES glblub)";
    let items = items_of(cx, list, "defaultrange", USAGE, &[2, 3])?;
    let words: Vec<&str> = items[2..].iter().filter_map(|&i| cx.atom(i)).collect();
    let default = RangeDefault::from_keyword(&words.join(" "))
        .ok_or_else(|| cx.expected("source|target low|high|low-high, or glblub", items[2]))?;
    Ok(Statement::from(DefaultRange {
        classes: Refs::parse(cx, items[1])?,
        default,
        span: cx.span(list),
    }))
}

pub(crate) fn filecon(cx: &Cx<'_, '_>, list: usize) -> DResult<Statement> {
    const USAGE: &str = "(filecon \"PATH\" FILETYPE CONTEXT)";
    let items = items_of(cx, list, "filecon", USAGE, &[3])?;
    let context = if cx.is_list(items[3]) && cx.items(items[3])?.is_empty() {
        None
    } else {
        Some(Context::parse(cx, items[3])?)
    };
    Ok(Statement::from(FileCon {
        path: QString::parse(cx, items[1])?,
        file_type: FileType::parse(cx, items[2])?,
        context,
        span: cx.span(list),
    }))
}

pub(crate) fn genfscon(cx: &Cx<'_, '_>, list: usize) -> DResult<Statement> {
    const USAGE: &str = "(genfscon FILESYSTEM \"PATH\" [FILETYPE] CONTEXT)";
    let items = items_of(cx, list, "genfscon", USAGE, &[3, 4])?;
    Ok(Statement::from(GenFsCon {
        fs: Word::parse(cx, items[1])?,
        path: QString::parse(cx, items[2])?,
        file_type: if items.len() == 5 {
            Some(FileType::parse(cx, items[3])?)
        } else {
            None
        },
        context: Context::parse(cx, items[items.len() - 1])?,
        span: cx.span(list),
    }))
}

/// `portcon` ports: decimal, at most 65535.
pub(crate) fn port_range(cx: &Cx<'_, '_>, i: usize) -> DResult<NumberRange> {
    number_range(cx, i, false, 65535)
}

/// `ibpkeycon` keys: hex allowed, at most 0xffff.
pub(crate) fn pkey_range(cx: &Cx<'_, '_>, i: usize) -> DResult<NumberRange> {
    number_range(cx, i, true, 0xffff)
}

/// `ibendportcon` port: decimal, at most 255.
pub(crate) fn ib_port(cx: &Cx<'_, '_>, i: usize) -> DResult<Number> {
    number(cx, i, false, 255)
}

/// `iomemcon` addresses: 64-bit, hex allowed.
pub(crate) fn iomem_range(cx: &Cx<'_, '_>, i: usize) -> DResult<NumberRange> {
    number_range(cx, i, true, u64::MAX)
}

/// `ioportcon` ports: 32-bit, hex allowed.
pub(crate) fn ioport_range(cx: &Cx<'_, '_>, i: usize) -> DResult<NumberRange> {
    number_range(cx, i, true, u32::MAX.into())
}

/// `pcidevicecon` device: 32-bit, hex allowed.
pub(crate) fn pci_device(cx: &Cx<'_, '_>, i: usize) -> DResult<Number> {
    number(cx, i, true, u32::MAX.into())
}

/// `pirqcon` IRQ: decimal, 32-bit.
pub(crate) fn pirq(cx: &Cx<'_, '_>, i: usize) -> DResult<Number> {
    number(cx, i, false, u32::MAX.into())
}
