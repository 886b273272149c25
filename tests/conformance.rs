//! The parser and printer against the reference compiler on real policy,
//! generated at test time from the installed Debian packages (never
//! committed):
//!
//! - Debian's whole kernel policy as one CIL file (`checkpolicy -C`, about
//!   11 MB): original and reprint compile with `secilc` to byte-identical
//!   binaries, and formatting the reprint changes nothing;
//! - every packaged module as CIL (331 files from `hll/pp`, plus the
//!   reference policy's container module): the whole set compiled with
//!   `secilc -N` from the originals and from the reprints gives
//!   byte-identical binaries and file contexts.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use cilgen::validate::{Release, ValidateOptions, validate};
use common::{manifest_dir, run, temp_dir, tool};

fn reprint(src: &str, name: &str) -> String {
    let policy = cilgen::ParseOptions::new()
        .file_name(name)
        .parse(src)
        .unwrap_or_else(|e| panic!("{e}"));
    policy.to_string()
}

fn compile(secilc: &Path, files: &[PathBuf], out: &Path, fc: &Path, neverallow: bool) {
    let mut cmd = Command::new(secilc);
    if !neverallow {
        cmd.arg("-N");
    }
    cmd.arg("-o").arg(out).arg("-f").arg(fc).args(files);
    let (ok, log) = run(&mut cmd);
    assert!(ok, "secilc failed:\n{log}");
}

#[test]
#[ignore = "needs the SELinux toolchain: scripts/test runs it (cargo test -- --include-ignored)"]
fn the_whole_reference_policy_reprints_to_an_identical_binary() {
    let checkpolicy = tool("checkpolicy");
    let secilc = tool("secilc");
    let dir = temp_dir("conformance-policy");
    let original = dir.join("policy.cil");
    let (ok, log) = run(Command::new(&checkpolicy)
        .args(["-b", "-C", "-M", "-o"])
        .arg(&original)
        .arg("/etc/selinux/default/policy/policy.33"));
    assert!(ok, "checkpolicy: {log}");
    let src = std::fs::read_to_string(&original).unwrap();
    assert!(
        src.len() > 5_000_000,
        "the policy is only {} bytes",
        src.len()
    );

    let printed = reprint(&src, "policy.cil");
    assert_eq!(
        reprint(&printed, "reprint.cil"),
        printed,
        "fmt of the reprint is not a no-op"
    );
    let reprinted = dir.join("reprint.cil");
    std::fs::write(&reprinted, &printed).unwrap();

    // Parsed on one thread or several, the AST is the same.
    let policy = cilgen::parse(&src).unwrap();
    let sequential = cilgen::ParseOptions::new().threads(1).parse(&src).unwrap();
    assert!(
        policy == sequential,
        "parallel and sequential parses differ"
    );

    // The same text with tabs for spaces (each the same length, so every
    // span stays where it was) takes the general path at every statement:
    // what the shortcut reads is what the general parse reads, to the span.
    let tabbed = cilgen::ParseOptions::new()
        .threads(1)
        .parse(&src.replace(' ', "\t"))
        .unwrap();
    assert!(
        policy == tabbed,
        "the shortcut and the general parse differ"
    );
    // (Spans take no part in `==`: compare their offsets.)
    let spans = |p: &cilgen::Policy| {
        p.walk()
            .map(|s| (s.span().start, s.span().end))
            .collect::<Vec<_>>()
    };
    assert!(
        spans(&policy) == spans(&tabbed),
        "the shortcut and the general parse differ in spans"
    );

    // The real policy uses only real permissions and libsepol 3.4 syntax.
    let problems = validate(&policy, &ValidateOptions::release(Release::V3_4));
    assert!(
        problems.is_empty(),
        "{}",
        problems
            .iter()
            .take(5)
            .map(|d| d.render(&src, "policy.cil"))
            .collect::<Vec<_>>()
            .join("\n")
    );

    compile(
        &secilc,
        &[original],
        &dir.join("original.bin"),
        &dir.join("original.fc"),
        true,
    );
    compile(
        &secilc,
        &[reprinted],
        &dir.join("reprint.bin"),
        &dir.join("reprint.fc"),
        true,
    );
    let a = std::fs::read(dir.join("original.bin")).unwrap();
    let b = std::fs::read(dir.join("reprint.bin")).unwrap();
    assert!(
        a == b,
        "binary policies differ ({} vs {} bytes)",
        a.len(),
        b.len()
    );
}

#[test]
#[ignore = "needs the SELinux toolchain: scripts/test runs it (cargo test -- --include-ignored)"]
fn every_packaged_module_reprints_to_an_identical_binary() {
    let secilc = tool("secilc");
    tool("checkmodule");
    let policy_dir = common::tmp_root().join("policy");
    if !policy_dir.join("ready").exists() {
        let (ok, log) = run(Command::new("bash")
            .arg(manifest_dir().join("tests/support/prepare-policy.sh"))
            .arg(&policy_dir));
        assert!(ok, "preparing the policy: {log}");
    }
    let mut originals: Vec<PathBuf> = std::fs::read_dir(policy_dir.join("modules"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    originals.sort_by_key(|p| (p.file_name().unwrap() != "base.cil", p.clone()));
    originals.push(policy_dir.join("container.cil"));
    assert!(originals.len() >= 300, "only {} modules", originals.len());

    let dir = temp_dir("conformance-modules");
    let out = dir.join("reprints");
    std::fs::create_dir_all(&out).unwrap();
    let mut reprints = Vec::new();
    for file in &originals {
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        let src = std::fs::read_to_string(file).unwrap();
        let printed = reprint(&src, &name);
        assert_eq!(
            reprint(&printed, &name),
            printed,
            "{name}: fmt of the reprint is not a no-op"
        );
        let path = out.join(&name);
        std::fs::write(&path, printed).unwrap();
        reprints.push(path);
    }
    compile(
        &secilc,
        &originals,
        &dir.join("original.bin"),
        &dir.join("original.fc"),
        false,
    );
    compile(
        &secilc,
        &reprints,
        &dir.join("reprint.bin"),
        &dir.join("reprint.fc"),
        false,
    );
    for ext in ["bin", "fc"] {
        let a = std::fs::read(dir.join(format!("original.{ext}"))).unwrap();
        let b = std::fs::read(dir.join(format!("reprint.{ext}"))).unwrap();
        assert!(
            a == b,
            "{ext} outputs differ ({} vs {} bytes)",
            a.len(),
            b.len()
        );
    }
}
