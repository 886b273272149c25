//! Values inside statements: levels, ranges, contexts, category sets,
//! constraint expressions, numbers and addresses.

use std::fmt;

use super::expr::{Radix, Term};
use super::names::{QString, Ref};

/// A category set: a named `categoryset` or category, or an expression
/// such as `(c0 c1)` or `((range c0 c1023))`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Categories(pub Term);

/// An MLS level: named, or `(SENSITIVITY [CATEGORIES])`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Level {
    /// A named `level`.
    Named(Ref),
    /// `(s0)` or `(s0 (c0 c1))`.
    Anonymous {
        /// The sensitivity.
        sensitivity: Ref,
        /// Its categories, if any.
        categories: Option<Categories>,
    },
}

impl Level {
    /// `(SENSITIVITY)`.
    pub fn sensitivity(s: Ref) -> Level {
        Level::Anonymous {
            sensitivity: s,
            categories: None,
        }
    }
}

/// An MLS range: named, or `(LOW HIGH)`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum LevelRange {
    /// A named `levelrange`.
    Named(Ref),
    /// `((s0) (s0 (c0)))`.
    Anonymous {
        /// Low level.
        low: Level,
        /// High level.
        high: Level,
    },
}

/// A security context: named, or `(USER ROLE TYPE RANGE)`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Context {
    /// A named `context`.
    Named(Ref),
    /// `(system_u object_r etc_t ((s0) (s0)))`.
    Anonymous {
        /// SELinux user.
        user: Ref,
        /// Role.
        role: Ref,
        /// Type.
        ty: Ref,
        /// MLS range.
        range: LevelRange,
    },
}

/// An operand of a constraint expression.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[allow(missing_docs)]
pub enum Operand {
    U1,
    U2,
    U3,
    R1,
    R2,
    R3,
    T1,
    T2,
    T3,
    L1,
    L2,
    H1,
    H2,
}

impl Operand {
    /// Every operand.
    pub const ALL: [Operand; 13] = [
        Operand::U1,
        Operand::U2,
        Operand::U3,
        Operand::R1,
        Operand::R2,
        Operand::R3,
        Operand::T1,
        Operand::T2,
        Operand::T3,
        Operand::L1,
        Operand::L2,
        Operand::H1,
        Operand::H2,
    ];

    /// The keyword (`t1`).
    pub fn keyword(self) -> &'static str {
        match self {
            Operand::U1 => "u1",
            Operand::U2 => "u2",
            Operand::U3 => "u3",
            Operand::R1 => "r1",
            Operand::R2 => "r2",
            Operand::R3 => "r3",
            Operand::T1 => "t1",
            Operand::T2 => "t2",
            Operand::T3 => "t3",
            Operand::L1 => "l1",
            Operand::L2 => "l2",
            Operand::H1 => "h1",
            Operand::H2 => "h2",
        }
    }

    /// The operand for a keyword.
    pub fn from_keyword(s: &str) -> Option<Operand> {
        Operand::ALL.into_iter().find(|o| o.keyword() == s)
    }
}

/// A comparison operator of a constraint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum CompareOp {
    /// `eq`
    Eq,
    /// `neq`
    Neq,
    /// `dom` (levels)
    Dom,
    /// `domby` (levels)
    DomBy,
    /// `incomp` (levels)
    Incomp,
}

impl CompareOp {
    /// The keyword.
    pub fn keyword(self) -> &'static str {
        match self {
            CompareOp::Eq => "eq",
            CompareOp::Neq => "neq",
            CompareOp::Dom => "dom",
            CompareOp::DomBy => "domby",
            CompareOp::Incomp => "incomp",
        }
    }

    /// The operator for a keyword.
    pub fn from_keyword(s: &str) -> Option<CompareOp> {
        [
            CompareOp::Eq,
            CompareOp::Neq,
            CompareOp::Dom,
            CompareOp::DomBy,
            CompareOp::Incomp,
        ]
        .into_iter()
        .find(|o| o.keyword() == s)
    }
}

/// The right side of a comparison: another operand, or names.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Rhs {
    /// `u2`, `t2`, `h1`...
    Operand(Operand),
    /// A user, role or type name (not itself an operand keyword).
    Name(Ref),
    /// `(a b c)`.
    Names(Vec<Ref>),
}

/// A constraint expression: `(and (eq u1 u2) (not (eq t1 t2)))`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum ConstraintExpr {
    /// `(and X Y)`
    And(Box<ConstraintExpr>, Box<ConstraintExpr>),
    /// `(or X Y)`
    Or(Box<ConstraintExpr>, Box<ConstraintExpr>),
    /// `(not X)`
    Not(Box<ConstraintExpr>),
    /// `(OP LEFT RIGHT)`
    Compare {
        /// The operator.
        op: CompareOp,
        /// The left operand.
        left: Operand,
        /// The right side.
        right: Rhs,
    },
}

/// An unsigned number with the radix it was written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Number {
    /// The value.
    pub value: u64,
    /// How it prints.
    pub radix: Radix,
}

impl Number {
    /// A decimal number.
    pub fn decimal(value: u64) -> Number {
        Number {
            value,
            radix: Radix::Decimal,
        }
    }

    /// Reads decimal, and where `hex` is set also `0x` hex and `0` octal
    /// (C's `strtoull` with base 0), up to `max`.
    pub fn parse(s: &str, hex: bool, max: u64) -> Option<Number> {
        let (digits, radix) = if !hex {
            (s, Radix::Decimal)
        } else if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
            (h, Radix::Hex)
        } else if s.len() > 1 && s.starts_with('0') {
            (&s[1..], Radix::Octal)
        } else {
            (s, Radix::Decimal)
        };
        let base = match radix {
            Radix::Decimal => 10,
            Radix::Hex => 16,
            Radix::Octal => 8,
        };
        if digits.is_empty() || !digits.bytes().all(|b| (b as char).is_digit(base)) {
            return None;
        }
        let value = u64::from_str_radix(digits, base).ok()?;
        (value <= max).then_some(Number { value, radix })
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.radix {
            Radix::Decimal => write!(f, "{}", self.value),
            Radix::Hex => write!(f, "0x{:x}", self.value),
            Radix::Octal if self.value == 0 => write!(f, "00"),
            Radix::Octal => write!(f, "0{:o}", self.value),
        }
    }
}

/// A number or an inclusive range `(LOW HIGH)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum NumberRange {
    /// One value.
    Single(Number),
    /// `(LOW HIGH)`.
    Range(Number, Number),
}

/// An IPv4 or IPv6 address, kept as written.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "String", into = "String"))]
pub struct IpAddress(String);

impl IpAddress {
    /// Validates: with a `:` an IPv6 address, else an IPv4 one.
    pub fn new(s: &str) -> Result<IpAddress, crate::error::NameError> {
        let ok = if s.contains(':') {
            s.parse::<std::net::Ipv6Addr>().is_ok()
        } else {
            s.parse::<std::net::Ipv4Addr>().is_ok()
        };
        if ok {
            Ok(IpAddress(s.to_string()))
        } else {
            Err(crate::error::NameError::Value {
                message: format!("`{s}` is not an IPv4 or IPv6 address"),
            })
        }
    }

    /// The address.
    pub fn addr(&self) -> std::net::IpAddr {
        self.0
            .parse()
            .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED))
    }

    /// As written.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for IpAddress {
    type Error = crate::error::NameError;
    fn try_from(s: String) -> Result<IpAddress, Self::Error> {
        IpAddress::new(&s)
    }
}

impl From<IpAddress> for String {
    fn from(a: IpAddress) -> String {
        a.0
    }
}

/// An address argument: a named `ipaddr`, or `(ADDRESS)`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum IpArg {
    /// A named `ipaddr`.
    Named(Ref),
    /// `(192.168.1.0)`.
    Literal(IpAddress),
    /// `192.168.1.0`, without parentheses (libsepol 3.6 and later).
    Bare(IpAddress),
}

/// A string printed bare when CIL reads it the same way (file system and
/// interface names, prefixes, Linux user names).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Word(pub QString);

/// One reference, or a parenthesized list of them (one prints bare).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Refs(pub Vec<Ref>);

macro_rules! keyword_enum {
    ($(#[$doc:meta])* $ty:ident { $($(#[$vdoc:meta])* $v:ident = $kw:literal),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
        pub enum $ty {
            $( $(#[$vdoc])* #[doc = concat!("`", $kw, "`")] $v, )*
        }

        impl $ty {
            /// Every value.
            pub const ALL: &'static [$ty] = &[$($ty::$v),*];

            /// The keyword.
            pub fn keyword(self) -> &'static str {
                match self {
                    $($ty::$v => $kw,)*
                }
            }

            /// The value for a keyword.
            pub fn from_keyword(s: &str) -> Option<$ty> {
                match s {
                    $($kw => Some($ty::$v),)*
                    _ => None,
                }
            }
        }
    };
}

keyword_enum!(
    /// The kind of file a `filecon` or `genfscon` applies to.
    FileType { File = "file", Dir = "dir", Char = "char", Block = "block", Socket = "socket", Pipe = "pipe", Symlink = "symlink", Any = "any" }
);
keyword_enum!(
    /// How a file system is labeled by `fsuse`.
    FsUseKind { Xattr = "xattr", Task = "task", Trans = "trans" }
);
keyword_enum!(
    /// A `portcon` protocol.
    Protocol { Tcp = "tcp", Udp = "udp", Dccp = "dccp", Sctp = "sctp" }
);
keyword_enum!(
    /// What the kernel does with unknown classes and permissions.
    UnknownAction { Allow = "allow", Deny = "deny", Reject = "reject" }
);
keyword_enum!(
    /// Which context a default is taken from.
    DefaultSide { Source = "source", Target = "target" }
);
keyword_enum!(
    /// What `defaultrange` takes.
    RangeDefault {
        SourceLow = "source low", SourceHigh = "source high", SourceLowHigh = "source low-high",
        TargetLow = "target low", TargetHigh = "target high", TargetLowHigh = "target low-high",
        Glblub = "glblub",
    }
);
