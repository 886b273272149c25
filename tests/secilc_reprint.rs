//! The reprint of every valid golden file compiles with `secilc` to the same
//! binary policy as its original (both compiled on top of
//! `tests/support/base.cil`, a small complete policy).

mod common;

use std::process::Command;

use common::{cil_files, manifest_dir, run, temp_dir, tool};

/// Golden files that use statements secilc 3.4 (Debian 12) rejects; every
/// other golden file must compile.
const NEWER_THAN_3_4: &[&str] = &[
    "av_rules_new.cil",
    "av_rules_x_new.cil",
    "newer_syntax_3_6_3_8.cil",
    "types_new.cil",
];

fn compile(
    secilc: &std::path::Path,
    dir: &std::path::Path,
    file: &std::path::Path,
    out: &str,
) -> (bool, String) {
    let base = manifest_dir().join("tests/support/base.cil");
    run(Command::new(secilc)
        .current_dir(dir)
        .arg("-o")
        .arg(out)
        .args(["-f", "/dev/null"])
        .arg(base)
        .arg(file))
}

#[test]
#[ignore = "needs the SELinux toolchain: scripts/test runs it (cargo test -- --include-ignored)"]
fn reprints_compile_to_identical_binaries() {
    let secilc = tool("secilc");
    let dir = temp_dir("secilc-reprint");
    let mut failures = Vec::new();
    let mut compared = 0;
    for input in cil_files(&manifest_dir().join("tests/golden/valid/input")) {
        let name = input.file_name().unwrap().to_string_lossy().to_string();
        let (ok, log) = compile(&secilc, &dir, &input, "original.bin");
        if !ok {
            if !NEWER_THAN_3_4.contains(&name.as_str()) {
                failures.push(format!("{name}: the original does not compile:\n{log}"));
            }
            continue;
        }
        let src = std::fs::read_to_string(&input).unwrap();
        let reprint = dir.join(&name);
        std::fs::write(&reprint, cilgen::parse(&src).unwrap().to_string()).unwrap();
        let (ok, log) = compile(&secilc, &dir, &reprint, "reprint.bin");
        if !ok {
            failures.push(format!("{name}: the reprint does not compile:\n{log}"));
            continue;
        }
        let a = std::fs::read(dir.join("original.bin")).unwrap();
        let b = std::fs::read(dir.join("reprint.bin")).unwrap();
        if a != b {
            failures.push(format!("{name}: binaries differ"));
        }
        compared += 1;
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(compared >= 10, "only {compared} golden files were compared");
}

/// The invalid golden files named `secilc_*` are constructs secilc itself
/// refuses (while building its tree); cilgen refuses them too (the golden
/// test), and this checks that secilc still does.
#[test]
#[ignore = "needs the SELinux toolchain: scripts/test runs it (cargo test -- --include-ignored)"]
fn secilc_refuses_what_cilgen_refuses_as_secilc_does() {
    let secilc = tool("secilc");
    let dir = temp_dir("secilc-invalid");
    let mut checked = 0;
    let mut failures = Vec::new();
    for input in cil_files(&manifest_dir().join("tests/golden/invalid")) {
        let name = input.file_name().unwrap().to_string_lossy().to_string();
        if !name.starts_with("secilc_") {
            continue;
        }
        let (ok, _) = compile(&secilc, &dir, &input, "out.bin");
        if ok {
            failures.push(format!("{name}: secilc compiles it"));
        }
        checked += 1;
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked >= 18, "only {checked} files checked");
}
