//! Building statements in Rust.
//!
//! Constructors take already-validated names ([`Name`], [`Ref`]) and cannot
//! fail; the `TryFrom<&str>` impls of those types are the one place string
//! input is checked, so no caller can inject a statement through a name.
