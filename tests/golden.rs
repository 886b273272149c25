//! The golden corpus: `tests/golden/valid/input/*.cil` must print as
//! `valid/expected/*.cil`; `tests/golden/invalid/*.cil` must fail with the
//! rendered error in the `.err` file beside it. `CILGEN_BLESS=1 cargo test
//! --test golden` rewrites the expected files; review them as diffs.
//! Every failure is reported, not only the first.

mod common;

use common::{check_golden, cil_files, manifest_dir};

#[test]
fn valid_files_print_as_expected_and_round_trip() {
    let dir = manifest_dir().join("tests/golden/valid");
    let inputs = cil_files(&dir.join("input"));
    assert!(inputs.len() >= 10, "golden corpus is missing");
    let mut failures = Vec::new();
    for input in &inputs {
        let name = input.file_name().unwrap().to_string_lossy().to_string();
        let src = std::fs::read_to_string(input).unwrap();
        let policy = match cilgen::ParseOptions::new().file_name(&name).parse(&src) {
            Ok(p) => p,
            Err(e) => {
                failures.push(format!("{name}: does not parse:\n{e}"));
                continue;
            }
        };
        let printed = policy.to_string();
        if let Err(e) = check_golden(&dir.join("expected").join(&name), &printed) {
            failures.push(e);
        }
        match cilgen::parse(&printed) {
            Ok(again) if again == policy && again.to_string() == printed => {}
            Ok(_) => failures.push(format!("{name}: reprint does not round-trip")),
            Err(e) => failures.push(format!("{name}: reprint does not parse:\n{e}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn invalid_files_fail_with_the_expected_error() {
    let dir = manifest_dir().join("tests/golden/invalid");
    let inputs = cil_files(&dir);
    assert!(inputs.len() >= 40, "invalid corpus is missing");
    let mut failures = Vec::new();
    for input in &inputs {
        let name = input.file_name().unwrap().to_string_lossy().to_string();
        let src = std::fs::read_to_string(input).unwrap();
        let rendered = match cilgen::ParseOptions::new().file_name(&name).parse(&src) {
            Ok(_) => {
                failures.push(format!("{name}: parsed, but must fail"));
                continue;
            }
            Err(e) => format!("{e}\n"),
        };
        if let Err(e) = check_golden(&input.with_extension("err"), &rendered) {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
