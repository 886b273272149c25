//! Prefix expressions: type, role and permission sets, boolean conditions,
//! category sets and extended-permission values.

use super::names::Ref;

/// A parenthesized expression, as CIL writes it in prefix form.
///
/// The leaf type `L` is [`Ref`] for names and [`PermxValue`] for the numbers
/// of extended permissions.
///
/// | CIL | value |
/// |---|---|
/// | `(a b (c d))` | `Expr::List(...)` |
/// | `(not a)` | `Expr::Not(...)` |
/// | `(and a (not b))` | `Expr::And(...)` |
/// | `(all)` | `Expr::All` |
/// | `(eq a b)` (booleans) | `Expr::Eq(...)` |
/// | `(range c0 c5)` (categories, ioctl numbers) | `Expr::Range(...)` |
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Expr<L = Ref> {
    /// A list of names and sub-expressions: `(a b (and c d))`.
    List(Vec<Term<L>>),
    /// `(not X)`.
    Not(Box<Term<L>>),
    /// `(and X Y)`.
    And(Box<Term<L>>, Box<Term<L>>),
    /// `(or X Y)`.
    Or(Box<Term<L>>, Box<Term<L>>),
    /// `(xor X Y)`.
    Xor(Box<Term<L>>, Box<Term<L>>),
    /// `(all)`: everything of the kind.
    All,
    /// `(eq X Y)`, in boolean conditions.
    Eq(Box<Term<L>>, Box<Term<L>>),
    /// `(neq X Y)`, in boolean conditions.
    Neq(Box<Term<L>>, Box<Term<L>>),
    /// `(range LOW HIGH)`, for categories and extended permissions.
    Range(L, L),
}

/// One operand: a leaf (a name) or a parenthesized expression.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Term<L = Ref> {
    /// A name, or a number for extended permissions.
    Leaf(L),
    /// A parenthesized expression (boxed: most operands are leaves, and a
    /// leaf-sized term keeps permission lists compact).
    Expr(Box<Expr<L>>),
}

impl<L> Expr<L> {
    /// `(a b c)`: a plain list of leaves.
    pub fn list(items: impl IntoIterator<Item = L>) -> Expr<L> {
        Expr::List(items.into_iter().map(Term::Leaf).collect())
    }

    /// The leaves, left to right.
    pub fn leaves(&self) -> Vec<&L> {
        let mut out = Vec::new();
        collect_expr(self, &mut out);
        out
    }

    /// The CIL operator word, if this is an operator form.
    pub fn operator(&self) -> Option<&'static str> {
        Some(match self {
            Expr::List(_) => return None,
            Expr::Not(_) => "not",
            Expr::And(..) => "and",
            Expr::Or(..) => "or",
            Expr::Xor(..) => "xor",
            Expr::All => "all",
            Expr::Eq(..) => "eq",
            Expr::Neq(..) => "neq",
            Expr::Range(..) => "range",
        })
    }
}

fn collect_expr<'a, L>(e: &'a Expr<L>, out: &mut Vec<&'a L>) {
    match e {
        Expr::List(items) => items.iter().for_each(|t| collect_term(t, out)),
        Expr::Not(a) => collect_term(a, out),
        Expr::And(a, b) | Expr::Or(a, b) | Expr::Xor(a, b) | Expr::Eq(a, b) | Expr::Neq(a, b) => {
            collect_term(a, out);
            collect_term(b, out);
        }
        Expr::All => {}
        Expr::Range(a, b) => {
            out.push(a);
            out.push(b);
        }
    }
}

fn collect_term<'a, L>(t: &'a Term<L>, out: &mut Vec<&'a L>) {
    match t {
        Term::Leaf(l) => out.push(l),
        Term::Expr(e) => collect_expr(e, out),
    }
}

impl<L> From<Expr<L>> for Term<L> {
    fn from(e: Expr<L>) -> Term<L> {
        Term::Expr(Box::new(e))
    }
}

impl From<Ref> for Term<Ref> {
    fn from(r: Ref) -> Term<Ref> {
        Term::Leaf(r)
    }
}

/// How a number was written, kept so it prints back the same way.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Radix {
    /// `35088`
    Decimal,
    /// `0x8910`
    Hex,
    /// `0104420` (a leading zero, as C's `strtol` with base 0 reads it)
    Octal,
}

/// A 16-bit extended-permission value (an ioctl command number or a netlink
/// message type), with the radix it was written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct PermxValue {
    /// The value, at most `0xffff`.
    pub value: u16,
    /// How it prints.
    pub radix: Radix,
}

impl PermxValue {
    /// A value printed in hex, as ioctl numbers usually are.
    pub fn hex(value: u16) -> PermxValue {
        PermxValue {
            value,
            radix: Radix::Hex,
        }
    }

    /// Reads `0x..` hex, `0..` octal or decimal, as libsepol does.
    pub fn parse(s: &str) -> Option<PermxValue> {
        let n = super::values::Number::parse(s, true, 0xffff)?;
        Some(PermxValue {
            value: u16::try_from(n.value).ok()?,
            radix: n.radix,
        })
    }
}

impl std::fmt::Display for PermxValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = super::values::Number {
            value: self.value.into(),
            radix: self.radix,
        };
        std::fmt::Display::fmt(&n, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permx_values_read_like_strtol_base_zero() {
        assert_eq!(PermxValue::parse("0x8910"), Some(PermxValue::hex(0x8910)));
        assert_eq!(PermxValue::parse("010").map(|v| v.value), Some(8));
        assert_eq!(
            PermxValue::parse("0").map(|v| v.radix),
            Some(Radix::Decimal)
        );
        assert_eq!(PermxValue::parse("65535").map(|v| v.value), Some(65535));
        for bad in ["65536", "0x10000", "", "0x", "x1", "-1", "08", "1a"] {
            assert_eq!(PermxValue::parse(bad), None, "{bad}");
        }
        for s in ["0x8910", "00", "017", "12"] {
            assert_eq!(PermxValue::parse(s).unwrap().to_string(), s);
        }
    }
}
