//! Trees built in code: a parsed policy edited through its JSON the way any
//! code could build one (any word, empty lists, any number, statements
//! anywhere). `Display` never panics, and the checked printer gives text
//! that reads back as the tree, or refuses it.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

const SEEDS: [&str; 6] = [
    include_str!("../../tests/golden/valid/input/av_rules.cil"),
    include_str!("../../tests/golden/valid/input/constraints.cil"),
    include_str!("../../tests/golden/valid/input/containers.cil"),
    include_str!("../../tests/golden/valid/input/labeling.cil"),
    include_str!("../../tests/golden/valid/input/macros.cil"),
    include_str!("../../tests/golden/valid/input/mls.cil"),
];

#[derive(Arbitrary, Debug)]
enum Edit {
    Word(u16, String),
    Empty(u16),
    Number(u16, u64),
    Flip(u16),
    Insert(u16, u8),
}

#[derive(Arbitrary, Debug)]
struct Input {
    seed: u8,
    edits: Vec<Edit>,
}

fn each(v: &mut Value, body: bool, f: &mut dyn FnMut(&mut Value, bool)) {
    f(v, body);
    match v {
        Value::Object(m) => {
            for (k, c) in m.iter_mut() {
                let body = matches!(k.as_str(), "body" | "if_true" | "if_false" | "statements");
                each(c, body, f);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|c| each(c, false, f)),
        _ => {}
    }
}

fn apply(v: &mut Value, edit: &Edit) {
    let fits = |n: &Value, body: bool| match edit {
        Edit::Word(..) => n.is_string(),
        Edit::Number(..) => n.is_u64(),
        Edit::Flip(_) => n.is_boolean(),
        Edit::Empty(_) => n.as_array().is_some_and(|a| !a.is_empty()),
        Edit::Insert(..) => body && n.is_array(),
    };
    let mut count = 0;
    each(v, false, &mut |n, b| count += usize::from(fits(n, b)));
    if count == 0 {
        return;
    }
    let (Edit::Word(at, _)
    | Edit::Number(at, _)
    | Edit::Flip(at)
    | Edit::Empty(at)
    | Edit::Insert(at, _)) = edit;
    let target = usize::from(*at) % count;
    let mut seen = 0;
    each(v, false, &mut |n, b| {
        if !fits(n, b) {
            return;
        }
        if seen == target {
            match edit {
                Edit::Word(_, w) => *n = Value::String(w.clone()),
                Edit::Number(_, k) => *n = Value::from(*k),
                Edit::Flip(_) => *n = Value::Bool(!n.as_bool().unwrap_or(false)),
                Edit::Empty(_) => *n = Value::Array(Vec::new()),
                Edit::Insert(_, k) => {
                    if let Value::Array(items) = n {
                        items.push(match k % 4 {
                            0 => serde_json::json!({"Type": {"name": "t_new"}}),
                            1 => serde_json::json!({"Block": {"name": "b_new", "body": []}}),
                            2 => serde_json::json!({"Tunable": {"name": "tu_new", "value": true}}),
                            _ => serde_json::json!({"Comment": {"text": " note"}}),
                        });
                    }
                }
            }
        }
        seen += 1;
    });
}

fuzz_target!(|input: Input| {
    let seed = SEEDS[usize::from(input.seed) % SEEDS.len()];
    let policy = cilgen::parse(seed).expect("golden files parse");
    let mut json = serde_json::to_value(&policy).unwrap();
    for e in input.edits.iter().take(8) {
        apply(&mut json, e);
    }
    let Ok(tree) = serde_json::from_value::<cilgen::Policy>(json) else {
        return;
    };
    let _ = tree.to_string();
    let _ = cilgen::validate::validate(&tree, &Default::default());
    if let Ok(text) = tree.to_checked_string() {
        let back = cilgen::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert!(back == tree, "{text}");
    }
});
