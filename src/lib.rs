//! # cilgen
//!
//! Read, build, check and write SELinux policy in CIL, the Common
//! Intermediate Language that `secilc` and `semodule` compile; and generate
//! the policy module KubeVirt's `virt-launcher` pods need.
//!
//! ```
//! use cilgen::{parse, Policy};
//!
//! // Parse: typed statements with spans; errors point at the place.
//! let policy: Policy = parse("(allow process self (tun_socket (relabelfrom relabelto attach_queue)))")?;
//!
//! // Print: one canonical format, deterministic.
//! assert_eq!(
//!     policy.to_string(),
//!     "(allow process self (tun_socket (relabelfrom relabelto attach_queue)))\n"
//! );
//! # Ok::<(), cilgen::ParseError>(())
//! ```
//!
//! Layers: a private `syntax` module reads text into spanned S-expressions
//! (nom, bounded nesting, no recursion); [`parse()`] turns them into the
//! typed [`Statement`]s of [`ast`] (every CIL keyword up to libsepol 3.9);
//! [`Policy`]'s `Display` prints canonical text; [`builder`] makes
//! statements from Rust with validated names; [`validate`] checks
//! permissions against the kernel [`catalog`], duplicate declarations and
//! the libsepol release a policy targets; [`resolve`] gives a policy's
//! meaning (names resolved, optionals decided, attributes expanded, rules
//! with their origin); [`virt_launcher`] generates the KubeVirt module from
//! its templates.
//!
//! Comments are never dropped: those on their own lines between statements
//! stay in place; one inside a statement's parentheses follows the
//! statement in the tree ([`Comment::inside`]) and prints back after the
//! token it followed.

pub mod ast;
pub mod audit;
pub mod builder;
pub mod catalog;
pub mod diagnostic;
pub mod error;
pub mod install;
#[cfg(feature = "serde")]
pub mod json;
pub mod parse;
mod print;
pub mod resolve;
pub mod span;
mod syntax;
pub mod validate;
pub mod virt_launcher;

pub use ast::{
    AvKind, AvRule, AvRuleX, AvxKind, Block, Call, ClassPerms, Comment, CondKind, Conditional,
    Expr, InPosition, LineMark, Macro, Name, Optional, Param, ParamKind, Permx, PermxArg,
    PermxKind, PermxValue, Policy, QString, Radix, Ref, Spanned, Statement, Term, Value,
};
pub use error::{ErrorKind, NameError, ParseError, PrintError};

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
pub use parse::{ParseOptions, parse};
pub use span::Span;
