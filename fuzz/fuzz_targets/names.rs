//! Any string given to a constructor, a builder or a deserialiser: what is
//! accepted prints as exactly the statement it was put in, never a second.
#![no_main]

use cilgen::builder::comments;
use cilgen::{Comment, Name, Policy, QString, Ref, Statement};
use libfuzzer_sys::fuzz_target;

/// `text` parses to exactly `want` statements, equal to `policy`'s.
fn reads_back(policy: &Policy, want: usize) {
    let text = policy.to_string();
    let back = cilgen::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text:?}"));
    assert_eq!(back.statements.len(), want, "{text:?}");
    assert!(back == *policy, "{text:?}");
}

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(name) = Name::new(s) {
        // A block may take any valid identifier.
        let block = format!("(block {name} (type t))");
        let p = cilgen::parse(&block).unwrap_or_else(|e| panic!("{e}\n{block}"));
        reads_back(&p, 1);
    }
    if let Ok(r) = Ref::new(s) {
        let mut p = Policy::new();
        p.push(cilgen::builder::blockinherit(r));
        reads_back(&p, 1);
    }
    if let Ok(q) = QString::new(s) {
        let text = format!("(typetransition a b c \"{}\" d)", q.as_str());
        if let Ok(p) = cilgen::parse(&text) {
            reads_back(&p, 1);
        }
    }
    if let Ok(c) = Comment::new(s) {
        let mut p = Policy::new();
        p.push(Statement::Comment(c));
        let back = cilgen::parse(&p.to_string()).unwrap();
        assert_eq!(back.statements.len(), 1);
        assert!(matches!(back.statements[0], Statement::Comment(_)));
    }
    let lines = comments(s);
    let mut p = Policy::new();
    p.statements = lines.clone();
    let back = cilgen::parse(&p.to_string()).unwrap();
    assert_eq!(back.statements.len(), lines.len());
    assert!(
        back.statements
            .iter()
            .all(|s| matches!(s, Statement::Comment(_)))
    );
    // Deserialised, the same checks hold.
    let json = serde_json::json!({ "statements": [ { "Comment": { "text": s } } ] }).to_string();
    if let Ok(p) = cilgen::json::from_json(&json) {
        reads_back(&p, 1);
    }
    let json = serde_json::json!({ "statements": [ { "Type": { "name": s } } ] }).to_string();
    if let Ok(p) = cilgen::json::from_json(&json) {
        // The checked printer refuses a reserved name; otherwise one type.
        if let Ok(text) = p.to_checked_string() {
            assert_eq!(cilgen::parse(&text).unwrap().statements.len(), 1);
        }
    }
});
