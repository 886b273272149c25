//! Building statements in Rust.
//!
//! The constructors here take already-validated names ([`Name`], [`Ref`])
//! and cannot fail; [`Name::new`], [`Ref::new`] and [`refs`] are where
//! string input is checked, so no caller can inject a statement through a
//! name. Every constructor returns the statement's own struct, whose fields
//! are public for editing, and which converts into [`Statement`].
//!
//! ```
//! use cilgen::builder::{allow, block, class_perms, refs, roletype, ty};
//! use cilgen::{Name, Policy, Ref};
//!
//! let process = Name::new("process")?;
//! let mut policy = Policy::new();
//! policy.push(block(
//!     Name::new("virt_launcher")?,
//!     [
//!         ty(process.clone()).into(),
//!         roletype(Ref::new("system_r")?, &process).into(),
//!         allow(
//!             &process,
//!             Ref::self_target(),
//!             class_perms(Ref::new("tun_socket")?, refs("relabelfrom relabelto attach_queue")?),
//!         )
//!         .into(),
//!     ],
//! ));
//! assert_eq!(
//!     policy.to_string(),
//!     "\
//! (block virt_launcher
//!     (type process)
//!     (roletype system_r process)
//!     (allow process self (tun_socket (relabelfrom relabelto attach_queue)))
//! )
//! "
//! );
//! # Ok::<(), cilgen::NameError>(())
//! ```

use crate::ast::*;
use crate::error::NameError;
use crate::span::Span;

impl Ref {
    /// The built-in target `self`.
    pub fn self_target() -> Ref {
        Ref::new_unchecked("self")
    }
}

/// Validates a whitespace-separated list of references:
/// `refs("read write")` is `[read, write]`.
pub fn refs(words: &str) -> Result<Vec<Ref>, NameError> {
    words.split_whitespace().map(Ref::new).collect()
}

/// Validates a whitespace-separated list of declared names.
pub fn names(words: &str) -> Result<Vec<Name>, NameError> {
    words.split_whitespace().map(Name::new).collect()
}

/// `(CLASS (PERMS...))`.
pub fn class_perms(class: impl Into<Ref>, perms: impl IntoIterator<Item = Ref>) -> ClassPerms {
    ClassPerms::new(class.into(), perms)
}

/// `(KIND SOURCE TARGET CLASSPERMS)` for any access-vector rule kind.
pub fn av_rule(
    kind: AvKind,
    source: impl Into<Ref>,
    target: impl Into<Ref>,
    classperms: ClassPerms,
) -> AvRule {
    AvRule {
        kind,
        source: source.into(),
        target: target.into(),
        classperms,
        span: Span::DUMMY,
    }
}

/// `(allow SOURCE TARGET CLASSPERMS)`.
pub fn allow(source: impl Into<Ref>, target: impl Into<Ref>, classperms: ClassPerms) -> AvRule {
    av_rule(AvKind::Allow, source, target, classperms)
}

/// `(neverallow SOURCE TARGET CLASSPERMS)`.
pub fn neverallow(
    source: impl Into<Ref>,
    target: impl Into<Ref>,
    classperms: ClassPerms,
) -> AvRule {
    av_rule(AvKind::NeverAllow, source, target, classperms)
}

/// `(type NAME)`.
pub fn ty(name: Name) -> Type {
    Type {
        name,
        span: Span::DUMMY,
    }
}

/// `(typeattribute NAME)`.
pub fn typeattribute(name: Name) -> TypeAttribute {
    TypeAttribute {
        name,
        span: Span::DUMMY,
    }
}

/// `(typeattributeset ATTRIBUTE EXPR)`.
pub fn typeattributeset(attribute: impl Into<Ref>, expr: impl Into<Term>) -> TypeAttributeSet {
    TypeAttributeSet {
        attribute: attribute.into(),
        expr: expr.into(),
        span: Span::DUMMY,
    }
}

/// `(roletype ROLE TYPE)`.
pub fn roletype(role: impl Into<Ref>, ty: impl Into<Ref>) -> RoleType {
    RoleType {
        role: role.into(),
        ty: ty.into(),
        span: Span::DUMMY,
    }
}

/// `(typetransition SOURCE TARGET CLASS [NAME] RESULT)`.
pub fn typetransition(
    source: impl Into<Ref>,
    target: impl Into<Ref>,
    class: impl Into<Ref>,
    object_name: Option<QString>,
    result: impl Into<Ref>,
) -> TypeTransition {
    TypeTransition {
        source: source.into(),
        target: target.into(),
        class: class.into(),
        object_name,
        result: result.into(),
        span: Span::DUMMY,
    }
}

/// `(block NAME STATEMENTS...)`.
pub fn block(name: Name, body: impl IntoIterator<Item = Statement>) -> Block {
    Block {
        name,
        body: body.into_iter().collect(),
        span: Span::DUMMY,
    }
}

/// `(optional NAME STATEMENTS...)`.
pub fn optional(name: Name, body: impl IntoIterator<Item = Statement>) -> Optional {
    Optional {
        name,
        body: body.into_iter().collect(),
        span: Span::DUMMY,
    }
}

/// `(blockinherit BLOCK)`.
pub fn blockinherit(block: impl Into<Ref>) -> BlockInherit {
    BlockInherit {
        block: block.into(),
        span: Span::DUMMY,
    }
}

/// `(call MACRO (ARGS...))`.
pub fn call(name: impl Into<Ref>, args: impl IntoIterator<Item = Value>) -> Call {
    Call {
        name: name.into(),
        args: args.into_iter().collect(),
        span: Span::DUMMY,
    }
}

/// `(boolean NAME VALUE)`.
pub fn boolean(name: Name, value: bool) -> Boolean {
    Boolean {
        name,
        value,
        span: Span::DUMMY,
    }
}

/// One `; text` comment per line of `text` (so any text can be given).
pub fn comments(text: &str) -> Vec<Statement> {
    // Every line break CIL knows ends a comment line: `\n`, `\r\n` and a
    // lone `\r` (which `str::lines` would keep inside a line).
    let text = text.strip_suffix('\n').unwrap_or(text);
    let text = text.strip_suffix('\r').unwrap_or(text);
    if text.is_empty() {
        return Vec::new();
    }
    text.split("\r\n")
        .flat_map(|l| l.split(['\n', '\r']))
        .filter_map(|l| Comment::line(l).ok())
        .map(Statement::Comment)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_split_at_every_line_break() {
        let text = |stmts: Vec<Statement>| {
            stmts
                .iter()
                .map(|s| match s {
                    Statement::Comment(c) => c.text().to_string(),
                    _ => unreachable!(),
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(text(comments("a\rb")), [" a", " b"]);
        assert_eq!(text(comments("a\r\nb\n\nc\n")), [" a", " b", "", " c"]);
        assert_eq!(text(comments("")), Vec::<String>::new());
        let mut policy = Policy::new();
        policy.statements = comments("one\rtwo");
        assert_eq!(policy.to_string(), "; one\n; two\n");
    }

    #[test]
    fn built_nodes_equal_parsed_nodes() {
        let p = Name::new("process").unwrap();
        let built = allow(
            &p,
            Ref::self_target(),
            class_perms(
                Ref::new("tun_socket").unwrap(),
                refs("attach_queue").unwrap(),
            ),
        );
        let parsed = crate::parse("(allow process self (tun_socket (attach_queue)))").unwrap();
        assert_eq!(parsed.statements, vec![Statement::from(built.clone())]);
        assert_eq!(
            built.to_string(),
            "(allow process self (tun_socket (attach_queue)))"
        );
    }

    #[test]
    fn string_input_cannot_inject_statements() {
        assert!(refs("x) (allow y").is_err());
        assert!(Name::new("x)").is_err());
    }

    #[test]
    fn multi_line_comments_become_one_comment_per_line() {
        let c = comments("first\n\nsecond");
        let p: Policy = c.into_iter().collect();
        assert_eq!(p.to_string(), "; first\n;\n; second\n");
    }
}
