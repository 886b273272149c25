//! Validated identifiers and strings.
//!
//! Every name in the AST went through one of these constructors, so printing
//! can never produce text that reads back as something else.

use std::fmt;
use std::str::FromStr;

use crate::error::NameError;

/// Longest declared name secilc accepts, in bytes.
pub const MAX_NAME_LEN: usize = 2047;

/// Words that are operators in CIL expressions. Which of them a name may
/// be depends on its kind ([`NameKind::reserved`]); a reference to a
/// declaration of a kind that may use them (`(call all ...)` for a macro
/// named `all`) is a plain reference.
pub const OPERATOR_WORDS: [&str; 8] = ["and", "or", "xor", "not", "all", "eq", "neq", "range"];

/// The built-in targets of access-vector rules.
pub const BUILTIN_TARGETS: [&str; 3] = ["self", "notself", "other"];

/// What a declared name names, as far as libsepol reserves words for it
/// (`cil_verify.c`, `__cil_is_reserved_name`): only names that can stand in
/// an expression have reserved words.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NameKind {
    /// Types, type attributes and type aliases.
    Type,
    /// Booleans and tunables.
    Boolean,
    /// Permissions of classes, commons and class maps.
    Permission,
    /// Users and user attributes.
    User,
    /// Roles and role attributes.
    Role,
    /// Categories, category sets and category aliases.
    Category,
    /// Named extended permission sets.
    PermissionX,
    /// Everything else (blocks, macros, optionals, classes, SIDs, contexts,
    /// levels, sensitivities...): no reserved words.
    Other,
}

impl NameKind {
    /// The words a name of this kind cannot be.
    pub fn reserved(self) -> &'static [&'static str] {
        const OPS: [&str; 4] = ["and", "or", "xor", "not"];
        match self {
            NameKind::Type => &["and", "or", "xor", "not", "all", "self", "notself", "other"],
            NameKind::Boolean => &["and", "or", "xor", "not", "eq", "neq"],
            NameKind::Permission | NameKind::User | NameKind::Role => {
                &["and", "or", "xor", "not", "all"]
            }
            NameKind::Category | NameKind::PermissionX => {
                &["and", "or", "xor", "not", "all", "range"]
            }
            NameKind::Other => {
                let _ = OPS;
                &[]
            }
        }
    }

    /// The kind a declaration keyword declares (`type`, `boolean`...).
    pub fn of_keyword(keyword: &str) -> NameKind {
        match keyword {
            "type" | "typeattribute" | "typealias" => NameKind::Type,
            "boolean" | "tunable" => NameKind::Boolean,
            "user" | "userattribute" => NameKind::User,
            "role" | "roleattribute" => NameKind::Role,
            "category" | "categoryset" | "categoryalias" => NameKind::Category,
            "permissionx" => NameKind::PermissionX,
            _ => NameKind::Other,
        }
    }

    /// What it is called in messages.
    pub fn describe(self) -> &'static str {
        match self {
            NameKind::Type => "a type, type attribute or type alias",
            NameKind::Boolean => "a boolean or tunable",
            NameKind::Permission => "a permission",
            NameKind::User => "a user or user attribute",
            NameKind::Role => "a role or role attribute",
            NameKind::Category => "a category, category set or category alias",
            NameKind::PermissionX => "a permissionx",
            NameKind::Other => "a name",
        }
    }

    /// Checks a declared name of this kind against its reserved words.
    pub fn check(self, name: &str) -> Result<(), NameError> {
        // Every reserved word is two to seven lowercase letters starting
        // with one of these: most names are told apart by their length or
        // first byte alone.
        if !(2..=7).contains(&name.len())
            || !matches!(
                name.as_bytes()[0],
                b'a' | b'e' | b'n' | b'o' | b'r' | b's' | b'x'
            )
        {
            return Ok(());
        }
        if self.reserved().contains(&name) {
            return Err(NameError::ReservedFor {
                name: name.into(),
                kind: self.describe(),
            });
        }
        Ok(())
    }
}

/// Byte classes, so the lexer and the name checks do one table lookup per
/// byte.
const SYMBOL: u8 = 1;
const IDENT: u8 = 2;
const ALPHA: u8 = 4;

static CLASSES: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        let mut class = 0;
        if c.is_ascii_alphanumeric() {
            class |= SYMBOL | IDENT;
        }
        if c.is_ascii_alphabetic() {
            class |= ALPHA;
        }
        if c == b'_' || c == b'-' {
            class |= IDENT;
        }
        let extra = b"[].@=/*-_$%+!|&^:~`#{}'<>?,";
        let mut k = 0;
        while k < extra.len() {
            if extra[k] == c {
                class |= SYMBOL;
            }
            k += 1;
        }
        t[b] = class;
        b += 1;
    }
    t
};

fn check_identifier(s: &str) -> Result<(), NameError> {
    let bytes = s.as_bytes();
    let Some(&first) = bytes.first() else {
        return Err(NameError::Empty);
    };
    if bytes.len() > MAX_NAME_LEN {
        return Err(NameError::TooLong { len: s.len() });
    }
    if CLASSES[first as usize] & ALPHA == 0 {
        return Err(NameError::BadStart { name: s.into() });
    }
    if let Some(at) = bytes.iter().position(|&b| CLASSES[b as usize] & IDENT == 0) {
        if bytes[at] == b'.' {
            return Err(NameError::Dotted { name: s.into() });
        }
        let ch = s[at..].chars().next().unwrap_or('?');
        return Err(NameError::BadChar { name: s.into(), ch });
    }
    Ok(())
}

/// Whether `s` may be written as a bare CIL symbol (no quotes needed).
pub fn is_symbol(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_symbol_byte)
}

/// The lexer's symbol characters.
#[inline]
pub(crate) fn is_symbol_byte(b: u8) -> bool {
    CLASSES[b as usize] & SYMBOL != 0
}

/// The shared text of a name: one pointer wide, so AST nodes stay small,
/// one allocation (count and text together), and shared between every
/// occurrence of the same name in a parsed file.
pub(crate) type Sym = arcstr::ArcStr;

macro_rules! string_newtype {
    ($(#[$doc:meta])* $ty:ident, $check:expr) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
        #[cfg_attr(feature = "serde", serde(try_from = "String", into = "String"))]
        pub struct $ty(Sym);

        impl $ty {
            /// Validates `s`.
            pub fn new(s: impl AsRef<str>) -> Result<$ty, NameError> {
                let s = s.as_ref();
                let check: fn(&str) -> Result<(), NameError> = $check;
                check(s)?;
                Ok($ty(Sym::from(s)))
            }

            /// For the parser, after it has validated `s` itself.
            #[allow(dead_code)]
            pub(crate) fn new_unchecked(s: &str) -> $ty {
                debug_assert!(($check as fn(&str) -> Result<(), NameError>)(s).is_ok(), "{s:?}");
                $ty(Sym::from(s))
            }

            /// For the parser: an interned text it has validated.
            pub(crate) fn from_sym(sym: Sym) -> $ty {
                $ty(sym)
            }

            /// The text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($ty), self.0.as_str())
            }
        }

        impl AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::ops::Deref for $ty {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $ty {
            type Err = NameError;
            fn from_str(s: &str) -> Result<$ty, NameError> {
                $ty::new(s)
            }
        }

        impl TryFrom<&str> for $ty {
            type Error = NameError;
            fn try_from(s: &str) -> Result<$ty, NameError> {
                $ty::new(s)
            }
        }

        impl TryFrom<String> for $ty {
            type Error = NameError;
            fn try_from(s: String) -> Result<$ty, NameError> {
                $ty::new(s)
            }
        }

        impl From<$ty> for String {
            fn from(n: $ty) -> String {
                String::from(n.0.as_str())
            }
        }

        impl PartialEq<str> for $ty {
            fn eq(&self, other: &str) -> bool {
                self.0.as_str() == other
            }
        }

        impl PartialEq<&str> for $ty {
            fn eq(&self, other: &&str) -> bool {
                self.0.as_str() == *other
            }
        }
    };
}

pub(crate) fn check_name(s: &str) -> Result<(), NameError> {
    check_identifier(s)
}

pub(crate) fn check_ref(s: &str) -> Result<(), NameError> {
    let body = s.strip_prefix('.').unwrap_or(s);
    // Errors name the whole reference, not the part that failed.
    let whole = |e: NameError| match e {
        NameError::Empty => NameError::BadChar {
            name: s.into(),
            ch: '.',
        },
        NameError::BadStart { .. } => NameError::BadStart { name: s.into() },
        NameError::BadChar { ch, .. } => NameError::BadChar { name: s.into(), ch },
        other => other,
    };
    if body.is_empty() {
        return Err(NameError::Empty);
    }
    // One table-driven pass for the common name without dots; the parts of
    // a dotted name are checked one by one.
    match check_identifier(body) {
        Ok(()) => {}
        Err(NameError::Dotted { .. }) => {
            for part in body.split('.') {
                check_identifier(part).map_err(whole)?;
            }
        }
        Err(e) => return Err(whole(e)),
    }
    Ok(())
}

pub(crate) fn check_qstring(s: &str) -> Result<(), NameError> {
    match s.bytes().find(|c| matches!(c, b'"' | b'\n' | b'\0')) {
        Some(b) => Err(NameError::StringChar { ch: b as char }),
        None => Ok(()),
    }
}

string_newtype!(
    /// A declared name: `(type NAME)`, `(block NAME ...)`.
    ///
    /// An ASCII letter, then letters, digits, `_` or `-`; at most 2047
    /// characters; no dot. Words reserved for some kinds of names (a type
    /// named `self`, a category named `range`) are checked where the kind is
    /// known: by the parser, and by [`validate`](crate::validate) for trees
    /// built in code ([`NameKind`]).
    ///
    /// ```
    /// use cilgen::Name;
    /// assert!(Name::new("virt_launcher").is_ok());
    /// assert!(Name::new("a.b").is_err());
    /// assert!(Name::new("x) (allow y").is_err());
    /// ```
    Name,
    check_name
);

string_newtype!(
    /// A reference to something declared: `process`, `blk.process`, or
    /// `.global_t` (leading dot: the global namespace).
    ///
    /// Each dot-separated part follows the rules of [`Name`]; `self`,
    /// `notself` and `other` are valid references (the built-in targets),
    /// and so is a macro or block named `all`. Inside an expression the
    /// parser reads an operator word as the operator.
    ///
    /// ```
    /// use cilgen::Ref;
    /// assert!(Ref::new("virt_launcher.process").is_ok());
    /// assert!(Ref::new(".tmpfs_t").is_ok());
    /// assert!(Ref::new("a..b").is_err());
    /// ```
    Ref,
    check_ref
);

string_newtype!(
    /// The text of a quoted string: any characters but `"`, a line feed and
    /// NUL (CIL has no escapes). Printed in quotes where the statement calls
    /// for a string (`typetransition` object names, file paths) and bare
    /// where a bare symbol means the same and needs no quotes.
    ///
    /// ```
    /// use cilgen::QString;
    /// assert!(QString::new("/usr/bin/virt-launcher").is_ok());
    /// assert!(QString::new("a\"b").is_err());
    /// ```
    QString,
    check_qstring
);

impl QString {
    /// Whether it needs quotes to be read back as one token with this text.
    pub fn needs_quotes(&self) -> bool {
        !is_symbol(&self.0)
    }
}

impl From<Name> for Ref {
    fn from(n: Name) -> Ref {
        Ref(n.0)
    }
}

impl From<&Name> for Ref {
    fn from(n: &Name) -> Ref {
        Ref(n.0.clone())
    }
}

impl From<Name> for QString {
    fn from(n: Name) -> QString {
        QString(n.0)
    }
}

impl From<Ref> for QString {
    fn from(n: Ref) -> QString {
        QString(n.0)
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for Ref {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Shows the string as CIL writes it: bare when it is a symbol, else quoted.
impl fmt::Display for QString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.needs_quotes() {
            write!(f, "\"{}\"", self.0)
        } else {
            f.write_str(&self.0)
        }
    }
}

impl Ref {
    /// Whether this is the built-in target `self`.
    pub fn is_self(&self) -> bool {
        self.0.as_str() == "self"
    }

    /// The last dot-separated part: `process` for `virt_launcher.process`.
    pub fn base(&self) -> &str {
        self.0.rsplit('.').next().unwrap_or(&self.0)
    }
}

/// Whether `s` is a valid declared name (see [`Name`]).
pub fn is_valid_name(s: &str) -> bool {
    Name::new(s).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reserved_word_passes_the_quick_filter() {
        for kind in [
            NameKind::Type,
            NameKind::Boolean,
            NameKind::Permission,
            NameKind::User,
            NameKind::Role,
            NameKind::Category,
            NameKind::PermissionX,
        ] {
            for word in kind.reserved() {
                assert!((2..=7).contains(&word.len()), "{word}");
                assert!(word.bytes().all(|b| b.is_ascii_lowercase()), "{word}");
                assert!(b"aenorsx".contains(&word.as_bytes()[0]), "{word}");
                assert!(kind.check(word).is_err(), "{word}");
            }
        }
    }

    #[test]
    fn names_follow_secilc_rules() {
        for ok in ["a", "A-b_9", "process", &"x".repeat(2047)] {
            assert!(Name::new(ok).is_ok(), "{ok}");
        }
        assert_eq!(Name::new(""), Err(NameError::Empty));
        assert_eq!(
            Name::new("x".repeat(2048)),
            Err(NameError::TooLong { len: 2048 })
        );
        assert!(matches!(Name::new("9a"), Err(NameError::BadStart { .. })));
        assert!(matches!(Name::new("_a"), Err(NameError::BadStart { .. })));
        assert!(matches!(
            Name::new("a$"),
            Err(NameError::BadChar { ch: '$', .. })
        ));
        assert!(matches!(Name::new("a.b"), Err(NameError::Dotted { .. })));
        assert!(matches!(
            Name::new("héllo"),
            Err(NameError::BadChar { ch: 'é', .. })
        ));
        // Which words a name may be depends on its kind (libsepol's table).
        for word in OPERATOR_WORDS.iter().chain(&BUILTIN_TARGETS) {
            assert!(Name::new(word).is_ok(), "{word}");
            assert!(NameKind::Other.check(word).is_ok());
        }
        assert!(NameKind::Type.check("self").is_err());
        assert!(NameKind::Type.check("range").is_ok());
        assert!(NameKind::Boolean.check("all").is_ok());
        assert!(NameKind::Boolean.check("eq").is_err());
        assert!(NameKind::Category.check("range").is_err());
        assert!(NameKind::User.check("self").is_ok());
        // Keywords are not reserved: (type allow) compiles.
        assert!(Name::new("allow").is_ok());
    }

    #[test]
    fn refs_may_be_dotted_or_global() {
        // A macro or block may be named `all` and called or inherited.
        for ok in [
            "a", "a.b.c", ".a", ".a.b", "self", "notself", "all", "b.and",
        ] {
            assert!(Ref::new(ok).is_ok(), "{ok}");
        }
        for bad in ["", ".", "a.", "a..b", "..a", ".9", "a b"] {
            assert!(Ref::new(bad).is_err(), "{bad}");
        }
        assert_eq!(Ref::new("blk.process").unwrap().base(), "process");
    }

    #[test]
    fn quoted_strings_reject_quote_newline_and_nul_only() {
        assert!(QString::new("").is_ok());
        assert!(QString::new("a b\\c\r\t;()").is_ok());
        for bad in ["\"", "a\nb", "\0"] {
            assert!(QString::new(bad).is_err());
        }
        assert!(QString::new("a b").unwrap().needs_quotes());
        assert!(!QString::new("/usr/bin").unwrap().needs_quotes());
        assert_eq!(QString::new("").unwrap().to_string(), "\"\"");
    }
}
