//! The typed CIL syntax tree.
//!
//! One [`Statement`] variant per keyword family, each wrapping its own
//! struct. Every struct carries the [`Span`] it was parsed from (ignored by
//! equality) and documents the CIL it stands for.

pub mod expr;
pub mod names;
pub mod values;

use std::fmt;

use crate::span::Span;
pub use expr::{Expr, PermxValue, Radix, Term};
pub use names::{Name, QString, Ref};
pub use values::*;

/// Defines a statement whose arguments have a fixed shape: the struct, its
/// keyword and usage, and its parse and print through [`crate::parse::Arg`].
/// A field written `name: Type = parser` is read by `parser` instead of
/// `Type`'s own rule (numbers whose radix and range depend on the statement).
macro_rules! simple_statements {
    (@arg $args:ident $cx:ident $fty:ty) => {
        $args.next_arg::<$fty>($cx)?
    };
    (@arg $args:ident $cx:ident $fty:ty, $parser:path) => {
        $args.next_with($cx, $parser)?
    };
    (@names $v:ident $e:expr, Plain) => {};
    (@names $v:ident $e:expr, $kind:ident) => {
        crate::ast::visit::HasNames::names($e, crate::ast::visit::RefKind::$kind, $v)
    };
    (@names_mut $v:ident $e:expr, Plain) => {};
    (@names_mut $v:ident $e:expr, $kind:ident) => {
        crate::ast::visit::HasNames::names_mut($e, crate::ast::visit::RefKind::$kind, $v)
    };
    // Each statement: its doc, keyword, form and fields; each field says
    // what its names name (`as Type`), or `as Plain` for a value without
    // names. Parsing, printing and the name visitors come from this table.
    (
        // The parser of this group's statements, by keyword: a `match`,
        // which the parser tries after its own special cases.
        parser $group:ident;
        $(
            $(#[$doc:meta])*
            $ty:ident $kw:literal $usage:literal {
                $( $(#[$fdoc:meta])* $field:ident : $fty:ty $(= $parser:path)? as $kind:ident ),* $(,)?
            }
        )*
    ) => {
        pub(crate) fn $group(
            keyword: &str,
            cx: &crate::parse::Cx<'_, '_>,
            list: usize,
        ) -> Option<crate::error::DResult<Statement>> {
            match keyword {
                $( $kw => Some(crate::parse::simple::<$ty>(cx, list)), )*
                _ => None,
            }
        }
        $(
        $(#[$doc])*
        #[doc = ""]
        #[doc = concat!("CIL: `", $usage, "`")]
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
        pub struct $ty {
            $( $(#[$fdoc])* pub $field: $fty, )*
            /// Where it was parsed from ([`Span::DUMMY`] when built in code).
            #[cfg_attr(feature = "serde", serde(skip))]
            pub span: Span,
        }

        impl $ty {
            /// The statement's keyword.
            pub const KEYWORD: &'static str = $kw;
            /// The statement's form, as error messages show it.
            pub const USAGE: &'static str = $usage;
        }

        impl crate::parse::SimpleStatement for $ty {
            const KEYWORD: &'static str = $kw;
            fn parse_args(cx: &crate::parse::Cx<'_, '_>, list: usize) -> crate::error::DResult<Self> {
                let mut args = cx.args(list, $kw, $usage, &[$(<$fty as crate::parse::Arg>::OPTIONAL),*])?;
                Ok($ty {
                    $( $field: simple_statements!(@arg args cx $fty $(, $parser)?), )*
                    span: cx.span(list),
                })
            }
            fn print_args(&self, p: &mut crate::print::Printer) {
                $( crate::parse::Arg::print(&self.$field, p); )*
            }
        }

        impl crate::parse::Shape for $ty {
            fn print_fixed(&self, p: &mut crate::print::Printer) -> bool {
                p.simple(self);
                true
            }
        }

        impl Spanned for $ty {
            fn span(&self) -> Span {
                self.span
            }
        }

        impl crate::ast::visit::HasNames for $ty {
            fn names<'v>(&'v self, _: crate::ast::visit::RefKind, v: &mut dyn crate::ast::visit::Visit<'v>) {
                // Statements of plain values only leave `v` unused.
                let _ = &v;
                $( simple_statements!(@names v &self.$field, $kind); )*
            }
            fn names_mut(
                &mut self,
                _: crate::ast::visit::RefKind,
                v: &mut dyn crate::ast::visit::VisitMut,
            ) {
                let _ = &v;
                $( simple_statements!(@names_mut v &mut self.$field, $kind); )*
            }
        }
    )*};
}

mod labeling;
mod security;
pub mod visit;
pub use labeling::*;
pub use security::*;

/// A whole CIL file: statements, comments and line marks in order.
///
/// `Display` prints the canonical text; `FromStr` parses.
///
/// ```
/// let policy: cilgen::Policy = "(type  process )(allow process self (tun_socket (attach_queue)))".parse()?;
/// assert_eq!(
///     policy.to_string(),
///     "(type process)\n(allow process self (tun_socket (attach_queue)))\n"
/// );
/// # Ok::<(), cilgen::ParseError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Policy {
    /// Top-level statements in source order.
    pub statements: Vec<Statement>,
}

impl Policy {
    /// An empty policy.
    pub fn new() -> Policy {
        Policy::default()
    }

    /// Appends a statement.
    pub fn push(&mut self, s: impl Into<Statement>) -> &mut Policy {
        self.statements.push(s.into());
        self
    }

    /// Every statement, containers' contents included, depth first.
    pub fn walk(&self) -> Walk<'_> {
        Walk {
            stack: vec![self.statements.iter()],
        }
    }

    /// The canonical text, checked: it reads back as this very tree, or
    /// the policy is refused with what would go wrong.
    ///
    /// `Display` prints any tree. A tree parsed from text always reads
    /// back, but one built in code can hold what CIL cannot say: an empty
    /// list, a port past 65535, a name where the parser would read an
    /// operator (`(typeattributeset a (all))` from a leaf named `all`), a
    /// branch with no statement, a block inside a macro. Print trees built
    /// in code with this method.
    ///
    /// ```
    /// use cilgen::{Policy, Ref, Term, Expr};
    /// use cilgen::builder::typeattributeset;
    ///
    /// let mut policy = Policy::new();
    /// let leaf = Term::Leaf(Ref::new("all")?);
    /// policy.push(typeattributeset(Ref::new("a")?, Expr::List(vec![leaf])));
    /// let err = policy.to_checked_string().unwrap_err();
    /// assert!(err.to_string().contains("reads back as"), "{err}");
    /// # Ok::<(), cilgen::NameError>(())
    /// ```
    pub fn to_checked_string(&self) -> Result<String, crate::error::PrintError> {
        let text = self.to_string();
        let back = crate::parse::ParseOptions::new()
            .threads(1)
            .file_name("<printed>")
            .parse(&text)
            .map_err(|e| crate::error::PrintError::Unreadable { error: Box::new(e) })?;
        if back == *self {
            return Ok(text);
        }
        let index = self
            .statements
            .iter()
            .zip(&back.statements)
            .position(|(a, b)| a != b)
            .unwrap_or(self.statements.len().min(back.statements.len()));
        let show = |s: Option<&Statement>| {
            s.map(|s| {
                crate::print::print_body(std::slice::from_ref(s))
                    .trim_end()
                    .to_string()
            })
            .unwrap_or_else(|| "nothing".into())
        };
        Err(crate::error::PrintError::Changed {
            index,
            printed: show(self.statements.get(index)),
            reads_as: show(back.statements.get(index)),
        })
    }
}

impl FromIterator<Statement> for Policy {
    fn from_iter<I: IntoIterator<Item = Statement>>(iter: I) -> Policy {
        Policy {
            statements: iter.into_iter().collect(),
        }
    }
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut p = crate::print::Printer::to_sink(f);
        p.body(&self.statements);
        p.finish_sink()
    }
}

/// Depth-first iterator over statements, from [`Policy::walk`].
pub struct Walk<'a> {
    stack: Vec<std::slice::Iter<'a, Statement>>,
}

impl<'a> Iterator for Walk<'a> {
    type Item = &'a Statement;
    fn next(&mut self) -> Option<&'a Statement> {
        loop {
            let top = self.stack.last_mut()?;
            match top.next() {
                Some(s) => {
                    for body in s.bodies().rev() {
                        self.stack.push(body.iter());
                    }
                    return Some(s);
                }
                None => {
                    self.stack.pop();
                }
            }
        }
    }
}

/// A comment: `; text`. `text` is what follows the first `;` and holds no
/// line break.
///
/// A comment on its own line between statements stands where it is. A
/// comment written inside a statement's parentheses (`(typeattributeset a
/// (kernel_t ; why\n))`) follows that statement in the list, with
/// [`inside`](Comment::inside) saying after which of the statement's tokens
/// it was (each atom, `(` and `)` counts one, the statement's own `(` is
/// the first): the printer puts it back there, so no comment is lost.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
// Deserialised through the constructor, so JSON cannot smuggle a line break
// (and with it a statement) into a comment.
#[cfg_attr(feature = "serde", serde(try_from = "CommentFields"))]
pub struct Comment {
    text: String,
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "Option::is_none"))]
    inside: Option<u32>,
    /// Where it was parsed from.
    #[cfg_attr(feature = "serde", serde(skip))]
    pub span: Span,
}

impl Comment {
    /// A comment; `text` follows the `;` as given (so `" why"` prints
    /// `; why`). Fails on a line break.
    pub fn new(text: impl Into<String>) -> Result<Comment, crate::error::NameError> {
        let text = text.into();
        if let Some(ch) = text.chars().find(|c| matches!(c, '\n' | '\r')) {
            return Err(crate::error::NameError::StringChar { ch });
        }
        Ok(Comment {
            text,
            inside: None,
            span: Span::DUMMY,
        })
    }

    /// This comment, written inside the previous statement after its
    /// `token`th token (1 is the statement's own `(`).
    pub fn inside_after(mut self, token: u32) -> Comment {
        self.inside = Some(token);
        self
    }

    /// For a comment written inside the previous statement: after which of
    /// its tokens.
    pub fn inside(&self) -> Option<u32> {
        self.inside
    }

    /// `; text` with one space after the `;`, the usual look.
    pub fn line(text: &str) -> Result<Comment, crate::error::NameError> {
        Comment::new(if text.is_empty() {
            String::new()
        } else {
            format!(" {text}")
        })
    }

    pub(crate) fn parsed(text: &str, span: Span) -> Comment {
        Comment {
            text: text.to_string(),
            inside: None,
            span,
        }
    }

    /// What follows the `;`.
    pub fn text(&self) -> &str {
        &self.text
    }
}

/// A [`Comment`] as serialised, before its text is checked.
#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
struct CommentFields {
    text: String,
    #[serde(default)]
    inside: Option<u32>,
}

#[cfg(feature = "serde")]
impl TryFrom<CommentFields> for Comment {
    type Error = crate::error::NameError;
    fn try_from(fields: CommentFields) -> Result<Comment, Self::Error> {
        Ok(Comment {
            inside: fields.inside,
            ..Comment::new(fields.text)?
        })
    }
}

/// A source line mark, `;;* lms LINE PATH`, `;;* lmx LINE PATH` or
/// `;;* lme`, as high-level language compilers emit them. Always printed at
/// column 0, where secilc recognizes them.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
// Deserialised through a check: a `\r` in the path would end the line mark
// early when printed.
#[cfg_attr(feature = "serde", serde(try_from = "LineMarkFields"))]
pub enum LineMark {
    /// `lms` (not expanded) or `lmx` (expanded): following statements come
    /// from `path` starting at `line`.
    Start {
        /// `lmx` rather than `lms`.
        expanded: bool,
        /// The original line.
        line: u32,
        /// The original file; it cannot hold a `\r`, which would end the
        /// line mark.
        path: QString,
        /// Where it was parsed from.
        #[cfg_attr(feature = "serde", serde(skip))]
        span: Span,
    },
    /// `lme`: the end of the innermost open mark.
    End {
        /// Where it was parsed from.
        #[cfg_attr(feature = "serde", serde(skip))]
        span: Span,
    },
}

/// A [`LineMark`] as serialised, before its path is checked.
#[cfg(feature = "serde")]
#[derive(serde::Deserialize)]
enum LineMarkFields {
    Start {
        expanded: bool,
        line: u32,
        path: QString,
    },
    End {},
}

#[cfg(feature = "serde")]
impl TryFrom<LineMarkFields> for LineMark {
    type Error = crate::error::NameError;
    fn try_from(fields: LineMarkFields) -> Result<LineMark, Self::Error> {
        Ok(match fields {
            LineMarkFields::Start {
                expanded,
                line,
                path,
            } => {
                if path.as_str().contains('\r') {
                    return Err(crate::error::NameError::StringChar { ch: '\r' });
                }
                LineMark::Start {
                    expanded,
                    line,
                    path,
                    span: Span::DUMMY,
                }
            }
            LineMarkFields::End {} => LineMark::End { span: Span::DUMMY },
        })
    }
}

/// The kind of an access-vector rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum AvKind {
    /// `allow`
    Allow,
    /// `auditallow`
    AuditAllow,
    /// `dontaudit`
    DontAudit,
    /// `neverallow`
    NeverAllow,
    /// `deny` (libsepol 3.6+)
    Deny,
}

impl AvKind {
    /// The keyword.
    pub fn keyword(self) -> &'static str {
        match self {
            AvKind::Allow => "allow",
            AvKind::AuditAllow => "auditallow",
            AvKind::DontAudit => "dontaudit",
            AvKind::NeverAllow => "neverallow",
            AvKind::Deny => "deny",
        }
    }
}

/// The kind of an extended-permission rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum AvxKind {
    /// `allowx`
    Allow,
    /// `auditallowx`
    AuditAllow,
    /// `dontauditx`
    DontAudit,
    /// `neverallowx`
    NeverAllow,
}

impl AvxKind {
    /// The keyword.
    pub fn keyword(self) -> &'static str {
        match self {
            AvxKind::Allow => "allowx",
            AvxKind::AuditAllow => "auditallowx",
            AvxKind::DontAudit => "dontauditx",
            AvxKind::NeverAllow => "neverallowx",
        }
    }
}

/// The class-permission argument of a rule: a named `classpermission` or
/// one anonymous `(CLASS (PERMS...))` whose permissions may be an expression.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum ClassPerms {
    /// A named `classpermission`.
    Named(Ref),
    /// `(CLASS (PERM ...))` or `(CLASS (and (all) (not (PERM))))`.
    Anonymous {
        /// The class (or class map).
        class: Ref,
        /// The permissions. Shared: a parse gives every occurrence of the
        /// same permission list one `Expr` (a policy repeats a few thousand
        /// lists across a hundred thousand rules); `Arc::make_mut` edits one
        /// rule's copy.
        perms: std::sync::Arc<Expr>,
    },
}

impl ClassPerms {
    /// `(class (perm ...))` with a plain list of permissions.
    pub fn new(class: Ref, perms: impl IntoIterator<Item = Ref>) -> ClassPerms {
        ClassPerms::Anonymous {
            class,
            perms: std::sync::Arc::new(Expr::list(perms)),
        }
    }
}

/// The kind of an extended permission.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum PermxKind {
    /// `ioctl`
    Ioctl,
    /// `nlmsg` (libsepol 3.8+)
    Nlmsg,
}

impl PermxKind {
    /// The keyword.
    pub fn keyword(self) -> &'static str {
        match self {
            PermxKind::Ioctl => "ioctl",
            PermxKind::Nlmsg => "nlmsg",
        }
    }
}

/// An extended permission set: `(ioctl CLASS (VALUES...))`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Permx {
    /// `ioctl` or `nlmsg`.
    pub kind: PermxKind,
    /// The class.
    pub class: Ref,
    /// The values: `(0x8910 (range 0x8900 0x89ff))`.
    pub values: Expr<PermxValue>,
}

/// The extended-permission argument of an `allowx` rule.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum PermxArg {
    /// A named `permissionx`.
    Named(Ref),
    /// An anonymous set.
    Anonymous(Permx),
}

/// Position of an `in` statement's contents relative to the container's own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum InPosition {
    /// `(in before CONTAINER ...)`
    Before,
    /// `(in after CONTAINER ...)`
    After,
}

/// The kind of a macro parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[allow(missing_docs)]
pub enum ParamKind {
    Type,
    Role,
    User,
    Sensitivity,
    Category,
    CategorySet,
    Level,
    LevelRange,
    Class,
    IpAddr,
    ClassMap,
    ClassPermission,
    Boolean,
    String,
    Name,
}

impl ParamKind {
    /// Every kind, in the reference guide's order.
    pub const ALL: [ParamKind; 15] = [
        ParamKind::Type,
        ParamKind::Role,
        ParamKind::User,
        ParamKind::Sensitivity,
        ParamKind::Category,
        ParamKind::CategorySet,
        ParamKind::Level,
        ParamKind::LevelRange,
        ParamKind::Class,
        ParamKind::IpAddr,
        ParamKind::ClassMap,
        ParamKind::ClassPermission,
        ParamKind::Boolean,
        ParamKind::String,
        ParamKind::Name,
    ];

    /// The keyword (`boolean`, as the compiler reads it, not the guide's `bool`).
    pub fn keyword(self) -> &'static str {
        match self {
            ParamKind::Type => "type",
            ParamKind::Role => "role",
            ParamKind::User => "user",
            ParamKind::Sensitivity => "sensitivity",
            ParamKind::Category => "category",
            ParamKind::CategorySet => "categoryset",
            ParamKind::Level => "level",
            ParamKind::LevelRange => "levelrange",
            ParamKind::Class => "class",
            ParamKind::IpAddr => "ipaddr",
            ParamKind::ClassMap => "classmap",
            ParamKind::ClassPermission => "classpermission",
            ParamKind::Boolean => "boolean",
            ParamKind::String => "string",
            ParamKind::Name => "name",
        }
    }

    /// The kind for a keyword.
    pub fn from_keyword(s: &str) -> Option<ParamKind> {
        ParamKind::ALL.into_iter().find(|k| k.keyword() == s)
    }
}

/// One macro parameter: `(type t)`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Param {
    /// What the argument must be.
    pub kind: ParamKind,
    /// The name used in the body.
    pub name: Name,
}

/// A `call` argument: a symbol or string, or an anonymous list (a level, a
/// range, a class-permission set...), interpreted by the macro's parameter.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum Value {
    /// A symbol or quoted string (CIL reads both the same way); printed bare
    /// when it can be.
    Atom(QString),
    /// A parenthesized list.
    List(Vec<Value>),
}

/// Which conditional: `booleanif` or `tunableif`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum CondKind {
    /// `booleanif`: decided at run time.
    Boolean,
    /// `tunableif`: decided at compile time.
    Tunable,
}

impl CondKind {
    /// The keyword.
    pub fn keyword(self) -> &'static str {
        match self {
            CondKind::Boolean => "booleanif",
            CondKind::Tunable => "tunableif",
        }
    }
}

/// `(booleanif COND (true ...) (false ...))` or the same with `tunableif`.
/// At least one branch is present; `true` prints first.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Conditional {
    /// `booleanif` or `tunableif`.
    pub kind: CondKind,
    /// A boolean name or an expression with `and or xor not eq neq`.
    pub condition: Term,
    /// Statements when the condition holds.
    pub if_true: Option<Vec<Statement>>,
    /// Statements when it does not.
    pub if_false: Option<Vec<Statement>>,
    /// Where it was parsed from.
    #[cfg_attr(feature = "serde", serde(skip))]
    pub span: Span,
}

/// `(block NAME STATEMENTS...)`: a namespace.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Block {
    /// The block's name.
    pub name: Name,
    /// Its statements.
    pub body: Vec<Statement>,
    /// Where it was parsed from.
    #[cfg_attr(feature = "serde", serde(skip))]
    pub span: Span,
}

/// `(optional NAME STATEMENTS...)`: dropped, silently, when anything in it
/// does not resolve.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Optional {
    /// The optional's name.
    pub name: Name,
    /// Its statements.
    pub body: Vec<Statement>,
    /// Where it was parsed from.
    #[cfg_attr(feature = "serde", serde(skip))]
    pub span: Span,
}

/// `(in [before|after] CONTAINER STATEMENTS...)`: adds to a block or
/// macro declared elsewhere.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct In {
    /// `before` or `after` (libsepol 3.3+), if written.
    pub position: Option<InPosition>,
    /// The container.
    pub container: Ref,
    /// The statements to add.
    pub body: Vec<Statement>,
    /// Where it was parsed from.
    #[cfg_attr(feature = "serde", serde(skip))]
    pub span: Span,
}

/// `(macro NAME ((KIND PARAM)...) STATEMENTS...)`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Macro {
    /// The macro's name.
    pub name: Name,
    /// Its parameters.
    pub params: Vec<Param>,
    /// Its statements.
    pub body: Vec<Statement>,
    /// Where it was parsed from.
    #[cfg_attr(feature = "serde", serde(skip))]
    pub span: Span,
}

/// `(call MACRO (ARGS...))`; an empty argument list prints as `(call MACRO)`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Call {
    /// The macro.
    pub name: Ref,
    /// Its arguments.
    pub args: Vec<Value>,
    /// Where it was parsed from.
    #[cfg_attr(feature = "serde", serde(skip))]
    pub span: Span,
}

/// `(typetransition SOURCE TARGET CLASS ["OBJECT_NAME"] RESULT)`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct TypeTransition {
    /// Source type.
    pub source: Ref,
    /// Target type.
    pub target: Ref,
    /// Object class.
    pub class: Ref,
    /// Object name (always printed quoted), for name-based transitions.
    pub object_name: Option<QString>,
    /// Resulting type.
    pub result: Ref,
    /// Where it was parsed from.
    #[cfg_attr(feature = "serde", serde(skip))]
    pub span: Span,
}

/// `(classorder ([unordered] CLASS...))`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ClassOrder {
    /// Starts with `unordered`: these classes go anywhere after the ordered ones.
    pub unordered: bool,
    /// The classes.
    pub classes: Vec<Ref>,
    /// Where it was parsed from.
    #[cfg_attr(feature = "serde", serde(skip))]
    pub span: Span,
}

/// An access-vector rule: `(allow SOURCE TARGET CLASSPERMS)`, or
/// `auditallow`, `dontaudit`, `neverallow`, `deny` with the same shape.
/// The target may be `self`, `notself` or `other`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct AvRule {
    /// Which rule.
    pub kind: AvKind,
    /// Source type or attribute.
    pub source: Ref,
    /// Target type or attribute, or `self`, `notself`, `other`.
    pub target: Ref,
    /// Class and permissions.
    pub classperms: ClassPerms,
    /// Where it was parsed from.
    #[cfg_attr(feature = "serde", serde(skip))]
    pub span: Span,
}

/// An extended-permission rule: `(allowx SOURCE TARGET PERMISSIONX)`, or
/// `auditallowx`, `dontauditx`, `neverallowx` with the same shape.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct AvRuleX {
    /// Which rule.
    pub kind: AvxKind,
    /// Source type or attribute.
    pub source: Ref,
    /// Target type or attribute, or `self`, `notself`, `other`.
    pub target: Ref,
    /// Extended permissions.
    pub permx: PermxArg,
    /// Where it was parsed from.
    #[cfg_attr(feature = "serde", serde(skip))]
    pub span: Span,
}

simple_statements! {
    parser parse_fixed_types_and_classes;
    /// A named extended permission set.
    PermissionX "permissionx" "(permissionx NAME (KIND CLASS (VALUES...)))" {
        /// Its name.
        name: Name as PermissionX,
        /// The set.
        permx: Permx as Class,
    }
    /// Declares a type.
    Type "type" "(type NAME)" {
        /// The type.
        name: Name as Type,
    }
    /// Declares a type alias.
    TypeAlias "typealias" "(typealias NAME)" {
        /// The alias.
        name: Name as Type,
    }
    /// Binds an alias to its type.
    TypeAliasActual "typealiasactual" "(typealiasactual ALIAS TYPE)" {
        /// The alias.
        alias: Ref as Type,
        /// The type.
        actual: Ref as Type,
    }
    /// Expands attributes in the binary policy, or keeps them; one attribute
    /// prints bare.
    ExpandTypeAttribute "expandtypeattribute" "(expandtypeattribute (ATTRIBUTE...) true|false)" {
        /// The attributes.
        attributes: Refs as Type,
        /// Whether to expand them.
        expand: bool as Plain,
    }
    /// Declares a type attribute.
    TypeAttribute "typeattribute" "(typeattribute NAME)" {
        /// The attribute.
        name: Name as Type,
    }
    /// Sets which types an attribute holds.
    TypeAttributeSet "typeattributeset" "(typeattributeset ATTRIBUTE EXPR)" {
        /// The attribute.
        attribute: Ref as Type,
        /// A type or attribute, or an expression.
        expr: Term as Type,
    }
    /// Bounds a child type by its parent.
    TypeBounds "typebounds" "(typebounds PARENT CHILD)" {
        /// The bounding type.
        parent: Ref as Type,
        /// The bounded type.
        child: Ref as Type,
    }
    /// Makes a type permissive.
    TypePermissive "typepermissive" "(typepermissive TYPE)" {
        /// The type.
        ty: Ref as Type,
    }
    /// Silences the audit of a type's denials (libsepol 3.9+).
    TypeNeverAudit "typeneveraudit" "(typeneveraudit TYPE)" {
        /// The type.
        ty: Ref as Type,
    }
    /// A relabeling type rule.
    TypeChange "typechange" "(typechange SOURCE TARGET CLASS RESULT)" {
        /// Source type.
        source: Ref as Type,
        /// Target type.
        target: Ref as Type,
        /// Object class.
        class: Ref as Class,
        /// Resulting type.
        result: Ref as Type,
    }
    /// A polyinstantiation type rule.
    TypeMember "typemember" "(typemember SOURCE TARGET CLASS RESULT)" {
        /// Source type.
        source: Ref as Type,
        /// Target type.
        target: Ref as Type,
        /// Object class.
        class: Ref as Class,
        /// Resulting type.
        result: Ref as Type,
    }
    /// Declares permissions shared by classes.
    Common "common" "(common NAME (PERMS...))" {
        /// The common's name.
        name: Name as Common,
        /// Its permissions.
        perms: Vec<Name> as Permission,
    }
    /// Gives a class a common's permissions.
    ClassCommon "classcommon" "(classcommon CLASS COMMON)" {
        /// The class.
        class: Ref as Class,
        /// The common.
        common: Ref as Common,
    }
    /// Declares a kernel object class.
    Class "class" "(class NAME (PERMS...))" {
        /// The class.
        name: Name as Class,
        /// Its own permissions.
        perms: Vec<Name> as Permission,
    }
    /// Declares a named class-permission set.
    ClassPermission "classpermission" "(classpermission NAME)" {
        /// Its name.
        name: Name as ClassPermission,
    }
    /// Adds to a named class-permission set.
    ClassPermissionSet "classpermissionset" "(classpermissionset CLASSPERMISSION CLASSPERMS)" {
        /// The set.
        name: Ref as ClassPermission,
        /// What it adds.
        classperms: ClassPerms as Class,
    }
    /// Declares a class map.
    ClassMap "classmap" "(classmap NAME (PERMS...))" {
        /// Its name.
        name: Name as Class,
        /// Its mapped permissions.
        perms: Vec<Name> as Permission,
    }
    /// Maps one class-map permission to real class permissions.
    ClassMapping "classmapping" "(classmapping CLASSMAP PERM CLASSPERMS)" {
        /// The class map.
        classmap: Ref as Class,
        /// The mapped permission.
        perm: Ref as Permission,
        /// What it maps to.
        classperms: ClassPerms as Class,
    }
    /// Marks the enclosing block as a template.
    BlockAbstract "blockabstract" "(blockabstract BLOCK)" {
        /// The block.
        block: Ref as Block,
    }
    /// Copies a block's contents here.
    BlockInherit "blockinherit" "(blockinherit BLOCK)" {
        /// The block.
        block: Ref as Block,
    }
    /// Declares a run-time boolean.
    Boolean "boolean" "(boolean NAME true|false)" {
        /// Its name.
        name: Name as Boolean,
        /// Its default.
        value: bool as Plain,
    }
    /// Declares a compile-time tunable.
    Tunable "tunable" "(tunable NAME true|false)" {
        /// Its name.
        name: Name as Tunable,
        /// Its value.
        value: bool as Plain,
    }
    /// Declares a role.
    Role "role" "(role NAME)" {
        /// The role.
        name: Name as Role,
    }
    /// Lets a role hold a type.
    RoleType "roletype" "(roletype ROLE TYPE)" {
        /// The role.
        role: Ref as Role,
        /// The type or attribute.
        ty: Ref as Type,
    }
    /// Declares a role attribute.
    RoleAttribute "roleattribute" "(roleattribute NAME)" {
        /// The attribute.
        name: Name as Role,
    }
    /// Sets which roles a role attribute holds.
    RoleAttributeSet "roleattributeset" "(roleattributeset ATTRIBUTE EXPR)" {
        /// The attribute.
        attribute: Ref as Role,
        /// A role or an expression.
        expr: Term as Role,
    }
    /// Allows a role transition.
    RoleAllow "roleallow" "(roleallow SOURCE TARGET)" {
        /// From.
        source: Ref as Role,
        /// To.
        target: Ref as Role,
    }
    /// A role transition rule.
    RoleTransition "roletransition" "(roletransition ROLE TYPE CLASS RESULT)" {
        /// Current role.
        source: Ref as Role,
        /// Target type.
        target: Ref as Type,
        /// Object class.
        class: Ref as Class,
        /// New role.
        result: Ref as Role,
    }
    /// Bounds a child role by its parent.
    RoleBounds "rolebounds" "(rolebounds PARENT CHILD)" {
        /// The bounding role.
        parent: Ref as Role,
        /// The bounded role.
        child: Ref as Role,
    }
}

/// Defines [`Statement`] and what is generic over its variants.
macro_rules! statement_enum {
    ($( $(#[$doc:meta])* $variant:ident($(#[$boxed:ident])? $ty:ident) ),* $(,)?) => {
        /// One CIL statement, comment or line mark.
        ///
        /// Variants whose statement is larger than an access-vector rule
        /// hold it in a `Box`, so a `Statement` is as large as an `AvRule`
        /// (48 bytes; the rule's `kind` holds the variant's tag) and a file
        /// of them stays compact.
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
        #[non_exhaustive]
        pub enum Statement {
            $( $(#[$doc])* $variant(statement_enum!(@ty $($boxed)? $ty)), )*
        }

        $(
            impl From<$ty> for Statement {
                fn from(s: $ty) -> Statement {
                    Statement::$variant(statement_enum!(@new $($boxed)? s))
                }
            }

            /// Canonical CIL text, as the statement prints in a policy.
            impl fmt::Display for $ty {
                fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    fmt::Display::fmt(&Statement::from(self.clone()), f)
                }
            }
        )*

        impl Statement {
            /// Where the statement was parsed from ([`Span::DUMMY`] when
            /// built in code).
            pub fn span(&self) -> Span {
                match self {
                    $( Statement::$variant(x) => x.span(), )*
                }
            }
        }

        impl Statement {
            /// Prints a fixed-shape statement through the table; `false`
            /// for the others.
            pub(crate) fn print_fixed(&self, p: &mut crate::print::Printer) -> bool {
                match self {
                    $( Statement::$variant(x) => crate::parse::Shape::print_fixed(x, p), )*
                }
            }
        }

        /// The statement's own names (a container's header, not its body).
        impl visit::HasNames for Statement {
            fn names<'v>(&'v self, kind: visit::RefKind, v: &mut dyn visit::Visit<'v>) {
                match self {
                    $( Statement::$variant(x) => x.names(kind, v), )*
                }
            }
            fn names_mut(&mut self, kind: visit::RefKind, v: &mut dyn visit::VisitMut) {
                match self {
                    $( Statement::$variant(x) => x.names_mut(kind, v), )*
                }
            }
        }
    };
    (@ty boxed $ty:ident) => { Box<$ty> };
    (@ty $ty:ident) => { $ty };
    (@new boxed $e:ident) => { Box::new($e) };
    (@new $e:ident) => { $e };
}

/// Nodes that carry the span they were parsed from.
pub trait Spanned {
    /// The span ([`Span::DUMMY`] when built in code).
    fn span(&self) -> Span;
}

macro_rules! spanned_by_field {
    ($($ty:ty),* $(,)?) => {$(
        impl Spanned for $ty {
            fn span(&self) -> Span {
                self.span
            }
        }
    )*};
}

// Fixed-shape statements get theirs from the table.
spanned_by_field!(
    Comment,
    AvRule,
    AvRuleX,
    TypeTransition,
    ClassOrder,
    Block,
    In,
    Optional,
    Macro,
    Call,
    Conditional,
    FileCon,
    GenFsCon,
    DefaultRange,
);

/// The statement types whose shape is not fixed: parsed and printed by
/// code of their own.
macro_rules! shaped_by_hand {
    ($($ty:ty),* $(,)?) => {$( impl crate::parse::Shape for $ty {} )*};
}

shaped_by_hand!(
    Comment,
    LineMark,
    AvRule,
    AvRuleX,
    TypeTransition,
    ClassOrder,
    Block,
    In,
    Optional,
    Macro,
    Call,
    Conditional,
    FileCon,
    GenFsCon,
    DefaultRange,
);

impl Spanned for LineMark {
    fn span(&self) -> Span {
        match self {
            LineMark::Start { span, .. } | LineMark::End { span } => *span,
        }
    }
}

statement_enum! {
    /// `; ...`
    Comment(Comment),
    /// `;;* lms|lmx|lme ...`
    LineMark(LineMark),
    /// `allow auditallow dontaudit neverallow deny`
    AvRule(AvRule),
    /// `allowx auditallowx dontauditx neverallowx`
    AvRuleX(#[boxed] AvRuleX),
    /// `permissionx`
    PermissionX(#[boxed] PermissionX),
    /// `type`
    Type(Type),
    /// `typealias`
    TypeAlias(TypeAlias),
    /// `typealiasactual`
    TypeAliasActual(TypeAliasActual),
    /// `typeattribute`
    TypeAttribute(TypeAttribute),
    /// `typeattributeset`
    TypeAttributeSet(TypeAttributeSet),
    /// `expandtypeattribute`
    ExpandTypeAttribute(ExpandTypeAttribute),
    /// `typebounds`
    TypeBounds(TypeBounds),
    /// `typepermissive`
    TypePermissive(TypePermissive),
    /// `typeneveraudit`
    TypeNeverAudit(TypeNeverAudit),
    /// `typetransition`
    TypeTransition(#[boxed] TypeTransition),
    /// `typechange`
    TypeChange(TypeChange),
    /// `typemember`
    TypeMember(TypeMember),
    /// `common`
    Common(Common),
    /// `classcommon`
    ClassCommon(ClassCommon),
    /// `class`
    Class(Class),
    /// `classorder`
    ClassOrder(ClassOrder),
    /// `classpermission`
    ClassPermission(ClassPermission),
    /// `classpermissionset`
    ClassPermissionSet(ClassPermissionSet),
    /// `classmap`
    ClassMap(ClassMap),
    /// `classmapping`
    ClassMapping(ClassMapping),
    /// `block`
    Block(Block),
    /// `blockabstract`
    BlockAbstract(BlockAbstract),
    /// `blockinherit`
    BlockInherit(BlockInherit),
    /// `in`
    In(#[boxed] In),
    /// `optional`
    Optional(Optional),
    /// `macro`
    Macro(#[boxed] Macro),
    /// `call`
    Call(Call),
    /// `boolean`
    Boolean(Boolean),
    /// `tunable`
    Tunable(Tunable),
    /// `booleanif`, `tunableif`
    Conditional(#[boxed] Conditional),
    /// `role`
    Role(Role),
    /// `roletype`
    RoleType(RoleType),
    /// `roleattribute`
    RoleAttribute(RoleAttribute),
    /// `roleattributeset`
    RoleAttributeSet(RoleAttributeSet),
    /// `roleallow`
    RoleAllow(RoleAllow),
    /// `roletransition`
    RoleTransition(RoleTransition),
    /// `rolebounds`
    RoleBounds(RoleBounds),
    /// `user`
    User(User),
    /// `userrole`
    UserRole(UserRole),
    /// `userattribute`
    UserAttribute(UserAttribute),
    /// `userattributeset`
    UserAttributeSet(UserAttributeSet),
    /// `userlevel`
    UserLevel(UserLevel),
    /// `userrange`
    UserRange(#[boxed] UserRange),
    /// `userbounds`
    UserBounds(UserBounds),
    /// `userprefix`
    UserPrefix(UserPrefix),
    /// `selinuxuser`
    SelinuxUser(#[boxed] SelinuxUser),
    /// `selinuxuserdefault`
    SelinuxUserDefault(#[boxed] SelinuxUserDefault),
    /// `sensitivity`
    Sensitivity(Sensitivity),
    /// `sensitivityalias`
    SensitivityAlias(SensitivityAlias),
    /// `sensitivityaliasactual`
    SensitivityAliasActual(SensitivityAliasActual),
    /// `sensitivityorder`
    SensitivityOrder(SensitivityOrder),
    /// `category`
    Category(Category),
    /// `categoryalias`
    CategoryAlias(CategoryAlias),
    /// `categoryaliasactual`
    CategoryAliasActual(CategoryAliasActual),
    /// `categoryorder`
    CategoryOrder(CategoryOrder),
    /// `categoryset`
    CategorySet(CategorySet),
    /// `sensitivitycategory`
    SensitivityCategory(SensitivityCategory),
    /// `level`
    Level(LevelDecl),
    /// `levelrange`
    LevelRange(#[boxed] LevelRangeDecl),
    /// `rangetransition`
    RangeTransition(#[boxed] RangeTransition),
    /// `context`
    Context(#[boxed] ContextDecl),
    /// `constrain`
    Constrain(#[boxed] Constrain),
    /// `mlsconstrain`
    MlsConstrain(#[boxed] MlsConstrain),
    /// `validatetrans`
    ValidateTrans(#[boxed] ValidateTrans),
    /// `mlsvalidatetrans`
    MlsValidateTrans(#[boxed] MlsValidateTrans),
    /// `defaultuser`
    DefaultUser(DefaultUser),
    /// `defaultrole`
    DefaultRole(DefaultRole),
    /// `defaulttype`
    DefaultType(DefaultType),
    /// `defaultrange`
    DefaultRange(DefaultRange),
    /// `filecon`
    FileCon(#[boxed] FileCon),
    /// `fsuse`
    FsUse(#[boxed] FsUse),
    /// `genfscon`
    GenFsCon(#[boxed] GenFsCon),
    /// `ipaddr`
    IpAddr(IpAddr),
    /// `netifcon`
    NetIfCon(#[boxed] NetIfCon),
    /// `nodecon`
    NodeCon(#[boxed] NodeCon),
    /// `portcon`
    PortCon(#[boxed] PortCon),
    /// `ibpkeycon`
    IbPkeyCon(#[boxed] IbPkeyCon),
    /// `ibendportcon`
    IbEndPortCon(#[boxed] IbEndPortCon),
    /// `iomemcon`
    IoMemCon(#[boxed] IoMemCon),
    /// `ioportcon`
    IoPortCon(#[boxed] IoPortCon),
    /// `pcidevicecon`
    PciDeviceCon(#[boxed] PciDeviceCon),
    /// `pirqcon`
    PirqCon(#[boxed] PirqCon),
    /// `devicetreecon`
    DeviceTreeCon(#[boxed] DeviceTreeCon),
    /// `sid`
    Sid(Sid),
    /// `sidorder`
    SidOrder(SidOrder),
    /// `sidcontext`
    SidContext(#[boxed] SidContext),
    /// `mls`
    Mls(Mls),
    /// `handleunknown`
    HandleUnknown(HandleUnknown),
    /// `policycap`
    PolicyCap(PolicyCap),
}

impl Statement {
    /// The statements this one contains (a block's body, both branches of a
    /// conditional...), empty for the rest.
    pub fn bodies(&self) -> impl DoubleEndedIterator<Item = &[Statement]> {
        let (first, second): (Option<&[Statement]>, Option<&[Statement]>) = match self {
            Statement::Block(b) => (Some(&b.body), None),
            Statement::Optional(o) => (Some(&o.body), None),
            Statement::In(i) => (Some(&i.body), None),
            Statement::Macro(m) => (Some(&m.body), None),
            Statement::Conditional(c) => (c.if_true.as_deref(), c.if_false.as_deref()),
            _ => (None, None),
        };
        first.into_iter().chain(second)
    }

    /// Whether this is a comment or line mark rather than a statement.
    pub fn is_trivia(&self) -> bool {
        matches!(self, Statement::Comment(_) | Statement::LineMark(_))
    }
}

/// Canonical CIL text of one statement (containers over several lines,
/// without a final line break).
impl fmt::Display for Statement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut p = crate::print::Printer::new();
        p.statement(self);
        f.write_str(p.finish().trim_end_matches('\n'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A parsed file is mostly a vector of statements: every byte here is
    /// a megabyte on a policy of a million statements.
    #[test]
    fn a_statement_is_no_larger_than_an_access_vector_rule() {
        assert_eq!(std::mem::size_of::<AvRule>(), 48);
        assert_eq!(std::mem::size_of::<Statement>(), 48);
        assert_eq!(std::mem::size_of::<Option<Statement>>(), 48);
    }
}
