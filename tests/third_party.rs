//! Policies written by others, as secilc compiles them: the hand-written
//! CIL projects and secilc's own test policies of `../shared/corpus` (or
//! `CILGEN_CORPUS`). Each is compiled by secilc and resolved by cilgen, and
//! everything is compared, not sampled: the problems found (none where
//! secilc compiles), the optionals dropped, every `allow`, `auditallow` and
//! `dontaudit` rule per class and permission as `sesearch` lists them
//! (conditional ones with their booleans and branch), every attribute's
//! members, every role's types and every user's roles.
//!
//! The data is not in the repository: `scripts/test-corpus` runs these
//! tests, and they fail when the data is missing. Every test is named
//! `third_party_*` so that `scripts/test` can leave them out.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use std::collections::BTreeSet;

use cilgen::diagnostic::{Diagnostic, Severity};
use cilgen::resolve::{Input, resolve};
use cilgen::validate::{ValidateOptions, catalog_of, validate_with};
use common::exhaustive::{Mls, assert_same, errors, read_all, secilc};
use common::{manifest_dir, run, temp_dir};

/// The folder of the archives.
fn corpus() -> PathBuf {
    let dir = std::env::var_os("CILGEN_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest_dir().join("../shared/corpus"));
    assert!(
        dir.join("README.md").exists(),
        "the corpus is missing at {} (set CILGEN_CORPUS)",
        dir.display()
    );
    dir
}

/// `archive` unpacked into a fresh folder.
fn unpack(archive: &str) -> PathBuf {
    let dir = temp_dir(&format!("corpus-{archive}"));
    let (ok, log) = run(Command::new("tar")
        .arg("xzf")
        .arg(corpus().join(archive))
        .arg("-C")
        .arg(&dir));
    assert!(ok, "tar: {log}");
    dir
}

/// Every `.cil` file under `dir`, in path order.
fn cil_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "cil") {
                out.push(p);
            }
        }
    }
    out.sort_by(|a, b| {
        a.as_os_str()
            .as_encoded_bytes()
            .cmp(b.as_os_str().as_encoded_bytes())
    });
    out
}

/// A project as one policy, as the corpus README says: its files in path
/// order, with the two policy capabilities libsepol 3.4 does not know
/// removed.
fn project(archive: &str) -> PathBuf {
    let dir = unpack(archive);
    let mut all = String::new();
    for f in cil_files(&dir) {
        all.push_str(&std::fs::read_to_string(&f).unwrap());
        all.push('\n');
    }
    for cap in ["userspace_initial_context", "netlink_xperm"] {
        for form in [
            format!("(policycap \"{cap}\")"),
            format!("(policycap {cap})"),
        ] {
            all = all.replace(&form, "");
        }
    }
    let file = dir.join("all.cil");
    std::fs::write(&file, all).unwrap();
    file
}

fn project_test(archive: &str) {
    let file = project(archive);
    eprintln!("{}", assert_same(&[file], Mls::Forced));
}

/// The stores `scripts/build-platforms` made (`CILGEN_PLATFORM_STORES`,
/// which `scripts/test-corpus` sets).
fn platform(name: &str) -> Vec<PathBuf> {
    let stores = std::env::var_os("CILGEN_PLATFORM_STORES")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest_dir().join("target/platforms"));
    let dir = stores.join(name).join("cil");
    assert!(
        dir.is_dir(),
        "no {name} store at {} (scripts/build-platforms makes it; scripts/test-corpus runs it)",
        dir.display()
    );
    common::cil_files(&dir)
}

/// A platform's modules and the default virt-launcher module: the rules
/// as secilc compiles them, and the neverallows it finds violated.
fn platform_test(name: &str) {
    let files = platform(name);
    assert!(files.len() > 300, "{name}: {} modules", files.len());
    eprintln!("{}", assert_same(&files, Mls::Forced));
    let mut with = files.clone();
    with.push(common::default_module(&format!("platform-{name}")));
    eprintln!("{}", assert_same(&with, Mls::Forced));
}

#[test]
#[ignore = "needs ../shared/corpus: scripts/test-corpus runs it"]
fn third_party_hydrogen_resolves_as_secilc_compiles_it() {
    project_test("WavyEbuilder-hydrogen.tar.gz");
}

#[test]
#[ignore = "needs ../shared/platforms: scripts/test-corpus runs it"]
fn third_party_fedora_resolves_as_secilc_compiles_it() {
    platform_test("fedora");
}

#[test]
#[ignore = "needs ../shared/platforms: scripts/test-corpus runs it"]
fn third_party_rhel9_resolves_as_secilc_compiles_it() {
    platform_test("rhel9");
}

#[test]
#[ignore = "needs ../shared/corpus: scripts/test-corpus runs it"]
fn third_party_mercury_resolves_as_secilc_compiles_it() {
    project_test("WavyEbuilder-mercury.tar.gz");
}

#[test]
#[ignore = "needs ../shared/corpus: scripts/test-corpus runs it"]
fn third_party_sierra_resolves_as_secilc_compiles_it() {
    project_test("WavyEbuilder-sierra.tar.gz");
}

#[test]
#[ignore = "needs ../shared/corpus: scripts/test-corpus runs it"]
fn third_party_tungstenos_resolves_as_secilc_compiles_it() {
    project_test("tungstenos-sepolicy.tar.gz");
}

/// What cilgen does not check yet, so finds nothing wrong where secilc
/// refuses: each is named here with what is missing, and the test fails
/// when the list is wrong either way. (`deny_rule_test1.cil` is refused:
/// its neverallows fail, `deny` not being applied, as in secilc 3.4.)
const NOT_YET_REFUSED: &[(&str, &str)] = &[
    ("bounds.cil", "typebounds are not checked"),
    (
        "deny_rule_test2.cil",
        "`deny` is refused only with --release 3.4",
    ),
    (
        "notself_and_other.cil",
        "`notself` is refused only with --release 3.4",
    ),
    (
        "policy.cil",
        "`typeneveraudit` is refused only with --release 3.4",
    ),
];

/// secilc's own test policies: each one secilc 3.4 compiles resolves to
/// the same policy; each one it refuses, cilgen refuses too (but for the
/// listed gaps).
#[test]
#[ignore = "needs ../shared/corpus: scripts/test-corpus runs it"]
fn third_party_secilc_test_policies() {
    let dir = unpack("selinux-secilc-tests.tar.gz");
    let files = cil_files(&dir);
    assert!(files.len() >= 10, "{files:?}");
    let mut failures = Vec::new();
    let mut compiled = 0;
    for file in &files {
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        let bin = file.with_extension("bin");
        let (ok, ..) = secilc(std::slice::from_ref(file), &bin, true, Mls::Forced);
        if ok {
            match std::panic::catch_unwind(|| assert_same(std::slice::from_ref(file), Mls::Forced))
            {
                Ok(line) => {
                    eprintln!("{line}");
                    compiled += 1;
                }
                Err(e) => failures.push(format!(
                    "{name}: {}",
                    e.downcast_ref::<String>().cloned().unwrap_or_default()
                )),
            }
            continue;
        }
        let (mut errors, violated, _) = errors(&read_all(std::slice::from_ref(file)));
        errors.extend(violated);
        let gap = NOT_YET_REFUSED.iter().find(|(f, _)| *f == name);
        match (errors.is_empty(), gap) {
            (true, None) => {
                failures.push(format!("{name}: secilc refuses it, cilgen finds nothing"))
            }
            (false, Some((_, why))) => failures.push(format!(
                "{name}: listed as a gap ({why}) but refused: {errors:?}"
            )),
            _ => {}
        }
    }
    assert!(compiled >= 5, "only {compiled} compiled");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The lines (1-based) of a file that cilgen's errors on it name: each
/// error's place and its related places (the expansions that put it
/// there, the first declaration of a duplicate).
fn error_lines(text: &str) -> BTreeSet<usize> {
    let Ok(policy) = cilgen::parse(text) else {
        return BTreeSet::from([0]);
    };
    let catalog = catalog_of(&[&policy]);
    let mut found: Vec<Diagnostic> = validate_with(&policy, &ValidateOptions::default(), &catalog)
        .iter()
        .map(|d| d.to_diagnostic(0))
        .collect();
    let model = resolve(&[Input::new("all.cil", &policy)]);
    found.extend(model.diagnostics.iter().map(|u| u.to_diagnostic()));
    found.extend(
        model
            .neverallow_violations()
            .iter()
            .map(|v| v.to_diagnostic()),
    );
    let line = |at: u32| text[..at as usize].matches('\n').count() + 1;
    found
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .flat_map(|d| std::iter::once(&d.primary).chain(&d.related))
        .map(|l| line(l.span.start))
        .collect()
}

/// The lines of `all.cil` secilc names in its refusal.
fn secilc_lines(log: &str) -> BTreeSet<usize> {
    log.split_whitespace()
        .filter_map(|w| w.rsplit_once("all.cil:"))
        .filter_map(|(_, n)| n.trim_end_matches([',', '.', ')']).parse().ok())
        .collect()
}

/// A change to one line: the new line, or `None` where it does not apply.
type Mutation = fn(&str) -> Option<String>;

/// Changes to a project that break it as people break policies: a type
/// declaration removed, a macro renamed, a block inherited twice; five of
/// each, spread over the file. Each keeps the line count, so lines compare.
fn mutants(text: &str) -> Vec<(String, String)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let kinds: [(&str, Mutation); 3] = [
        ("a type declaration removed", |l| {
            let t = l.trim();
            (t.starts_with("(type ") && t.ends_with(')') && !t[6..t.len() - 1].contains([' ', '(']))
                .then(String::new)
        }),
        ("a macro renamed", |l| {
            let at = l.find("(macro ")?;
            Some(format!("{}(macro renamed_{}", &l[..at], &l[at + 7..]))
        }),
        ("a block inherited twice", |l| {
            let t = l.trim();
            (t.starts_with("(blockinherit ")
                && t.ends_with(')')
                && t.matches('(').count() == 1
                && t.matches(')').count() == 1)
                .then(|| format!("{l} {t}"))
        }),
    ];
    for (what, change) in kinds {
        let candidates: Vec<usize> = (0..lines.len())
            .filter(|&i| change(lines[i]).is_some())
            .collect();
        for k in 1..=5 {
            let Some(&i) = candidates.get(candidates.len() * k / 6) else {
                continue;
            };
            let mut changed: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
            changed[i] = change(lines[i]).unwrap();
            out.push((
                format!("{what} at line {}", i + 1),
                changed.join("\n") + "\n",
            ));
        }
    }
    out
}

/// Each project broken as people break policies: where secilc refuses a
/// mutant, cilgen reports an error at a line secilc names; where secilc
/// compiles it (the change fell in an optional that now drops), cilgen
/// reports no error.
#[test]
#[ignore = "needs ../shared/corpus: scripts/test-corpus runs it"]
fn third_party_mutants_are_refused_where_secilc_refuses_them() {
    let mut failures = Vec::new();
    let mut refused = 0;
    for archive in [
        "WavyEbuilder-hydrogen.tar.gz",
        "WavyEbuilder-mercury.tar.gz",
        "WavyEbuilder-sierra.tar.gz",
        "tungstenos-sepolicy.tar.gz",
    ] {
        let file = project(archive);
        let text = std::fs::read_to_string(&file).unwrap();
        let list = mutants(&text);
        assert!(list.len() >= 10, "{archive}: only {} mutants", list.len());
        for (what, changed) in list {
            let path = file.with_file_name("all.cil");
            std::fs::write(&path, &changed).unwrap();
            let bin = file.with_file_name("mutant.bin");
            let (ok, _, log) = secilc(std::slice::from_ref(&path), &bin, true, Mls::Forced);
            let ours = error_lines(&changed);
            if ok {
                if !ours.is_empty() {
                    failures.push(format!(
                        "{archive}, {what}: secilc compiles it, cilgen reports lines {ours:?}"
                    ));
                }
                continue;
            }
            refused += 1;
            let theirs = secilc_lines(&log);
            if theirs.is_disjoint(&ours) {
                failures.push(format!(
                    "{archive}, {what}: secilc names lines {theirs:?}, cilgen {ours:?}\n{}",
                    log.lines().take(6).collect::<Vec<_>>().join("\n")
                ));
            }
        }
        std::fs::write(file.with_file_name("all.cil"), &text).unwrap();
    }
    assert!(refused >= 20, "only {refused} mutants refused by secilc");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    eprintln!(
        "{refused} mutants refused by secilc, each at a line cilgen names too; the others compile in both"
    );
}
