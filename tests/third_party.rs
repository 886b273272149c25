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

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use cilgen::AvKind;
use cilgen::diagnostic::Severity;
use cilgen::resolve::{Input, Model, RuleTarget, resolve};
use cilgen::validate::{ValidateOptions, validate};
use common::{Members, manifest_dir, roles_and_users, run, temp_dir, tool};

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

/// An access-vector rule as sesearch lists it, one permission at a time:
/// keyword, source, target, class, permission, and for a conditional rule
/// the booleans of its condition and its branch.
type Quad = (
    String,
    String,
    String,
    String,
    String,
    Option<(BTreeSet<String>, bool)>,
);

/// The boolean names of a condition, in CIL's prefix form or sesearch's
/// infix one.
fn booleans(condition: &str) -> BTreeSet<String> {
    condition
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-'))
        .filter(|w| !w.is_empty() && !["and", "or", "not", "xor", "eq", "neq"].contains(w))
        .map(String::from)
        .collect()
}

fn binary_rules(bin: &Path) -> BTreeSet<Quad> {
    let (ok, dump) = run(Command::new(tool("sesearch"))
        .args(["--allow", "--auditallow", "--dontaudit"])
        .arg(bin));
    assert!(ok, "sesearch: {dump}");
    let mut out = BTreeSet::new();
    for line in dump.lines() {
        let (rule, cond) = match line.split_once("; [") {
            Some((rule, cond)) => {
                let (expr, branch) = cond.rsplit_once("]:").unwrap();
                (rule, Some((booleans(expr), branch.trim() == "True")))
            }
            None => (line.trim_end_matches(';'), None),
        };
        let mut words = rule.split_whitespace();
        let (Some(kind), Some(s), Some(tc)) = (words.next(), words.next(), words.next()) else {
            continue;
        };
        let (t, c) = tc.split_once(':').unwrap();
        for p in words.filter(|w| *w != "{" && *w != "}") {
            out.insert((
                kind.to_string(),
                s.to_string(),
                t.to_string(),
                c.to_string(),
                p.to_string(),
                cond.clone(),
            ));
        }
    }
    out
}

/// The model's rules as the binary holds them: an attribute with no
/// member leaves no rule (secilc expands attributes of fewer than one
/// type), and `self` is each source type with itself.
fn model_rules(model: &Model) -> BTreeSet<Quad> {
    let names = |n: &str| -> Vec<String> {
        match model.attributes().get(n) {
            Some(m) if m.is_empty() => Vec::new(),
            _ => vec![n.to_string()],
        }
    };
    let mut out = BTreeSet::new();
    for r in &model.rules {
        let kind = match r.kind {
            AvKind::Allow => "allow",
            AvKind::AuditAllow => "auditallow",
            AvKind::DontAudit => "dontaudit",
            _ => continue,
        };
        let pairs: Vec<(String, String)> = match &r.target {
            RuleTarget::Name(t) => names(&r.source)
                .into_iter()
                .flat_map(|s| names(t).into_iter().map(move |t| (s.clone(), t)))
                .collect(),
            _ => model
                .types_of(&r.source)
                .into_iter()
                .map(|s| (s.clone(), s))
                .collect(),
        };
        let cond = r.condition.as_ref().map(|(e, b)| (booleans(e), *b));
        for (s, t) in &pairs {
            for (c, perms) in &r.perms {
                for p in perms.iter() {
                    out.insert((
                        kind.to_string(),
                        s.clone(),
                        t.clone(),
                        c.to_string(),
                        p.clone(),
                        cond.clone(),
                    ));
                }
            }
        }
    }
    out
}

fn binary_attributes(bin: &Path) -> Members {
    let (ok, text) = run(Command::new(tool("seinfo")).args(["-a", "-x"]).arg(bin));
    assert!(ok, "seinfo: {text}");
    let mut out = Members::new();
    let mut current = None;
    for line in text.lines() {
        if let Some(a) = line.trim().strip_prefix("attribute ") {
            let a = a.trim_end_matches(';').to_string();
            out.insert(a.clone(), BTreeSet::new());
            current = Some(a);
        } else if line.starts_with('\t')
            && line.trim() != "<empty attribute>"
            && let Some(a) = &current
        {
            out.get_mut(a).unwrap().insert(line.trim().to_string());
        }
    }
    out
}

/// The differences between two sets, at most 20 of each side, or `None`.
fn differ<T: Ord + std::fmt::Debug>(
    label: &str,
    secilc: &BTreeSet<T>,
    cilgen: &BTreeSet<T>,
) -> Option<String> {
    let only_s: Vec<&T> = secilc.difference(cilgen).collect();
    let only_c: Vec<&T> = cilgen.difference(secilc).collect();
    (!only_s.is_empty() || !only_c.is_empty()).then(|| {
        format!(
            "{label}: {} only in secilc's, {} only in cilgen's\nsecilc only: {:#?}\ncilgen only: {:#?}",
            only_s.len(),
            only_c.len(),
            &only_s[..only_s.len().min(20)],
            &only_c[..only_c.len().min(20)]
        )
    })
}

/// What secilc does with a file: whether it compiles, and the names of
/// the optionals it disables.
fn secilc(file: &Path, bin: &Path) -> (bool, BTreeSet<String>, String) {
    let (ok, log) = run(Command::new(tool("secilc"))
        .args(["-vv", "-M", "true", "-o"])
        .arg(bin)
        .args(["-f", "/dev/null"])
        .arg(file));
    let disabled = log
        .lines()
        .filter_map(|l| l.split_once("Disabling optional '"))
        .filter_map(|(_, rest)| rest.split_once('\''))
        .map(|(name, _)| name.to_string())
        .collect();
    (ok, disabled, log)
}

/// cilgen's errors on a file: the validator's and the resolver's.
fn errors(text: &str, name: &str) -> (Vec<String>, Option<Model>) {
    let policy = match cilgen::parse(text) {
        Ok(p) => p,
        Err(e) => return (vec![e.to_string()], None),
    };
    let mut found: Vec<String> = validate(&policy, &ValidateOptions::default())
        .iter()
        .map(|d| d.to_diagnostic(0))
        .filter(|d| d.severity == Severity::Error)
        .map(|d| d.message)
        .collect();
    let model = resolve(&[Input::new(name, &policy)]);
    found.extend(model.diagnostics.iter().map(|u| u.message()));
    (found, Some(model))
}

/// Compiles `file` with secilc and resolves it with cilgen: no error, the
/// same optionals dropped, the same rules, attributes, roles and users.
fn assert_same(file: &Path) -> String {
    let label = file.display().to_string();
    let bin = file.with_extension("bin");
    let (ok, disabled, log) = secilc(file, &bin);
    assert!(ok, "secilc refuses {label}: {log}");
    let text = std::fs::read_to_string(file).unwrap();
    let (errors, model) = errors(&text, &label);
    assert!(
        errors.is_empty(),
        "{label}: {} errors where secilc compiles:\n{}",
        errors.len(),
        errors[..errors.len().min(20)].join("\n")
    );
    let model = model.unwrap();
    let dropped: BTreeSet<String> = model
        .disabled_optionals()
        .iter()
        .map(|o| o.name.rsplit('.').next().unwrap_or_default().to_string())
        .collect();
    let mut problems: Vec<String> = Vec::new();
    problems.extend(differ("disabled optionals", &disabled, &dropped));
    let (want, got) = (binary_rules(&bin), model_rules(&model));
    problems.extend(differ("rules", &want, &got));
    let attributes = binary_attributes(&bin);
    let ours: Members = attributes
        .keys()
        .map(|a| {
            let members = model
                .attributes()
                .get(a.as_str())
                .map(|m| m.iter().map(|t| t.to_string()).collect())
                .unwrap_or_default();
            (a.clone(), members)
        })
        .collect();
    let as_set = |m: &Members| -> BTreeSet<(String, String)> {
        m.iter()
            .flat_map(|(a, ms)| ms.iter().map(move |t| (a.clone(), t.clone())))
            .chain(m.keys().map(|a| (a.clone(), String::new())))
            .collect()
    };
    problems.extend(differ(
        "attribute members",
        &as_set(&attributes),
        &as_set(&ours),
    ));
    let (roles, users) = roles_and_users(&bin);
    let our_roles: Members = roles
        .keys()
        .map(|r| {
            (
                r.clone(),
                model
                    .types_of_role(r)
                    .iter()
                    .map(|t| t.to_string())
                    .collect(),
            )
        })
        .collect();
    let our_users: Members = users
        .keys()
        .map(|u| {
            (
                u.clone(),
                model
                    .roles_of_user(u)
                    .iter()
                    // seinfo lists no user's `object_r`: every user has it.
                    .filter(|r| &***r != "object_r")
                    .map(|r| r.to_string())
                    .collect(),
            )
        })
        .collect();
    problems.extend(differ("role types", &as_set(&roles), &as_set(&our_roles)));
    problems.extend(differ("user roles", &as_set(&users), &as_set(&our_users)));
    assert!(problems.is_empty(), "{label}:\n{}", problems.join("\n\n"));
    assert!(!want.is_empty(), "{label}: no rule compared");
    format!(
        "{label}: {} rule permissions, {} attributes, {} roles, {} users and {} dropped optionals agree",
        want.len(),
        attributes.len(),
        roles.len(),
        users.len(),
        disabled.len()
    )
}

fn project_test(archive: &str) {
    let file = project(archive);
    eprintln!("{}", assert_same(&file));
}

#[test]
#[ignore = "needs ../shared/corpus: scripts/test-corpus runs it"]
fn third_party_hydrogen_resolves_as_secilc_compiles_it() {
    project_test("WavyEbuilder-hydrogen.tar.gz");
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
/// when the list is wrong either way.
const NOT_YET_REFUSED: &[(&str, &str)] = &[
    ("bounds.cil", "typebounds are not checked"),
    ("neverallow.cil", "neverallow rules are not checked"),
    (
        "deny_rule_test1.cil",
        "`deny` is refused only with --release 3.4",
    ),
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
        let (ok, ..) = secilc(file, &bin);
        if ok {
            match std::panic::catch_unwind(|| assert_same(file)) {
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
        let text = std::fs::read_to_string(file).unwrap();
        let (errors, _) = errors(&text, &name);
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
