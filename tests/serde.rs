//! Deserialising the AST checks what the constructors check: no JSON can
//! make a tree that prints as more, or other, statements than it holds.
#![cfg(feature = "serde")]

mod common;

use cilgen::Policy;
use common::{cil_files, manifest_dir};

fn from_json(json: &str) -> Result<Policy, serde_json::Error> {
    serde_json::from_str(json)
}

#[test]
fn a_comment_cannot_carry_a_statement() {
    for text in [
        r#" hi\n(allow evil_t self (file (write)))"#,
        r#" hi\r(allow evil_t self (file (write)))"#,
    ] {
        let json = format!(r#"{{"statements":[{{"Comment":{{"text":"{text}"}}}}]}}"#);
        let err = from_json(&json).unwrap_err().to_string();
        assert!(err.contains("cannot contain"), "{err}");
    }
    let ok = from_json(r#"{"statements":[{"Comment":{"text":" hi (allow)"}}]}"#).unwrap();
    assert_eq!(ok.to_string(), "; hi (allow)\n");
}

#[test]
fn names_strings_and_line_marks_are_checked() {
    for json in [
        r#"{"statements":[{"Type":{"name":"a) (allow b self (file (write))"}}]}"#,
        r#"{"statements":[{"LineMark":{"Start":{"expanded":false,"line":1,"path":"a\r(type x)"}}}]}"#,
        r#"{"statements":[{"LineMark":{"Start":{"expanded":false,"line":1,"path":"a\n(type x)"}}}]}"#,
        r#"{"statements":[{"AvRule":{"kind":"Allow","source":"a","target":"self","classperms":{"Anonymous":{"class":"file","perms":{"List":[{"Leaf":"read)) (allow x"}]}}}}}]}"#,
    ] {
        assert!(from_json(json).is_err(), "accepted: {json}");
    }
}

/// A name that is a valid identifier but reserved for its kind deserialises
/// (a block may be named `self`); the checked printer and the validator
/// refuse it where its kind does not allow it.
#[test]
fn a_reserved_name_is_caught_by_kind() {
    let tree = from_json(r#"{"statements":[{"Type":{"name":"self"}}]}"#).unwrap();
    assert!(tree.to_checked_string().is_err());
    assert_eq!(
        cilgen::validate::validate(&tree, &Default::default()).len(),
        1
    );
    let block =
        from_json(r#"{"statements":[{"Block":{"name":"self","body":[{"Type":{"name":"t"}}]}}]}"#)
            .unwrap();
    assert_eq!(
        block.to_checked_string().unwrap(),
        "(block self\n    (type t)\n)\n"
    );
}

#[test]
fn every_valid_golden_file_survives_json() {
    for file in cil_files(&manifest_dir().join("tests/golden/valid")) {
        let src = std::fs::read_to_string(&file).unwrap();
        let policy = cilgen::parse(&src).unwrap();
        let json = serde_json::to_string(&policy).unwrap();
        let back = from_json(&json).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert_eq!(back, policy, "{}", file.display());
        assert_eq!(back.to_string(), policy.to_string());
    }
}
