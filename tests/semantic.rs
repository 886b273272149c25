//! Semantic errors: files that parse but that secilc refuses while it
//! resolves names (`tests/golden/semantic/`). cilgen's resolution refuses
//! each too, with every problem rendered at its place (the `.err` golden
//! files), and at the statement secilc names.

mod common;

use std::process::Command;

use cilgen::diagnostic::SourceFile;
use cilgen::resolve::{Input, resolve};
use common::{check_golden, cil_files, manifest_dir, run, temp_dir, tool};

fn base() -> (String, cilgen::Policy) {
    let text = std::fs::read_to_string(manifest_dir().join("tests/support/base.cil")).unwrap();
    let policy = cilgen::parse(&text).unwrap();
    (text, policy)
}

/// The rendered diagnostics of `file` resolved on top of the base policy,
/// and the line of the first.
fn diagnose(name: &str, text: &str) -> (String, Option<usize>) {
    let (base_text, base) = base();
    let policy = cilgen::parse(text).unwrap_or_else(|e| panic!("{e}"));
    let model = resolve(&[Input::new("base.cil", &base), Input::new(name, &policy)]);
    let ours: Vec<_> = model.diagnostics.iter().filter(|d| d.file == 1).collect();
    assert!(
        model.diagnostics.iter().all(|d| d.file == 1),
        "the base policy resolves: {:?}",
        model.diagnostics
    );
    let files = [
        SourceFile::new("base.cil", &base_text),
        SourceFile::new(name, text),
    ];
    let rendered: String = ours
        .iter()
        .map(|d| d.to_diagnostic().render(&files) + "\n")
        .collect();
    let line = ours.first().map(|d| cilgen::error::locate(d.span, text).0);
    (rendered, line)
}

#[test]
fn every_semantic_error_is_found_and_rendered() {
    let dir = manifest_dir().join("tests/golden/semantic");
    let files = cil_files(&dir);
    assert!(files.len() >= 15, "semantic corpus is missing");
    let mut failures = Vec::new();
    for f in files {
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        let text = std::fs::read_to_string(&f).unwrap();
        let (rendered, line) = diagnose(&name, &text);
        if line.is_none() {
            failures.push(format!("{name}: resolution finds nothing wrong"));
            continue;
        }
        if let Err(e) = check_golden(&f.with_extension("err"), &rendered) {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
#[ignore = "needs the SELinux toolchain: scripts/test runs it (cargo test -- --include-ignored)"]
fn secilc_refuses_each_at_the_same_statement() {
    let secilc = tool("secilc");
    let dir = manifest_dir().join("tests/golden/semantic");
    let work = temp_dir("semantic");
    let mut failures = Vec::new();
    for f in cil_files(&dir) {
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        let (ok, log) = run(Command::new(&secilc)
            .current_dir(&dir)
            .args(["-N", "-o"])
            .arg(work.join("out.bin"))
            .args(["-f", "/dev/null"])
            .arg(manifest_dir().join("tests/support/base.cil"))
            .arg(&name));
        if ok {
            failures.push(format!("{name}: secilc compiles it"));
            continue;
        }
        // "Failed to resolve allow statement at FILE:LINE"; a recursive
        // call names the macro's line and the call's.
        let theirs: Vec<usize> = log
            .lines()
            .filter_map(|l| {
                let at = l.rfind(&format!("{name}:"))?;
                l[at + name.len() + 1..].trim().parse::<usize>().ok()
            })
            .collect();
        let text = std::fs::read_to_string(&f).unwrap();
        let (_, ours) = diagnose(&name, &text);
        let agrees = match (theirs.as_slice(), ours) {
            ([one], Some(line)) => *one == line,
            (many, Some(line)) => many.contains(&line),
            _ => false,
        };
        if !agrees {
            failures.push(format!(
                "{name}: secilc at lines {theirs:?}, cilgen at {ours:?}:\n{log}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
