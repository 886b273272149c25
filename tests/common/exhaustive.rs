//! Everything a policy means, compared with secilc's binary: no error but
//! the neverallows secilc finds violated (the same ones), the same optionals
//! dropped, every `allow`, `auditallow` and `dontaudit` rule per class and
//! permission as `sesearch` lists them (conditional ones with their booleans
//! and branch), every attribute's members, every role's types and every
//! user's roles. Not a sample.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use cilgen::AvKind;
use cilgen::diagnostic::Severity;
use cilgen::resolve::{Input, Model, RuleTarget, resolve};
use cilgen::validate::{ValidateOptions, catalog_of, validate_with};

use super::{Members, roles_and_users, run, tool};

/// An access-vector rule as sesearch lists it, one permission at a time:
/// keyword, source, target, class, permission, and for a conditional rule
/// the booleans of its condition and its branch.
pub type Quad = (
    String,
    String,
    String,
    String,
    String,
    Option<(BTreeSet<String>, bool)>,
);

/// The boolean names of a condition, in CIL's prefix form or sesearch's
/// infix one.
pub fn booleans(condition: &str) -> BTreeSet<String> {
    condition
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-'))
        .filter(|w| !w.is_empty() && !["and", "or", "not", "xor", "eq", "neq"].contains(w))
        .map(String::from)
        .collect()
}

pub fn binary_rules(bin: &Path) -> BTreeSet<Quad> {
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
pub fn model_rules(model: &Model) -> BTreeSet<Quad> {
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

pub fn binary_attributes(bin: &Path) -> Members {
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
pub fn differ<T: Ord + std::fmt::Debug>(
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

/// Whether secilc is told the policy is MLS (`-M true`), as the corpus's
/// README compiles its projects, or left to the policy's `mls` statement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mls {
    /// `-M true`.
    Forced,
    /// The policy's own.
    AsWritten,
}

/// What secilc does with `files`: whether it compiles, the neverallows it
/// finds violated (`FILE:LINE`, the file by its name; none are looked for
/// with `neverallow` false, as `-N`), and its log.
pub fn secilc(
    files: &[PathBuf],
    bin: &Path,
    neverallow: bool,
    mls: Mls,
) -> (bool, BTreeSet<String>, String) {
    let mut cmd = Command::new(tool("secilc"));
    if mls == Mls::Forced {
        cmd.args(["-M", "true"]);
    }
    if !neverallow {
        cmd.arg("-N");
    }
    let (ok, log) = run(cmd.arg("-o").arg(bin).args(["-f", "/dev/null"]).args(files));
    let failed = log
        .lines()
        .filter_map(|l| l.strip_prefix("neverallow check failed at "))
        .map(|at| at.rsplit('/').next().unwrap_or(at).to_string())
        .collect();
    (ok, failed, log)
}

/// The names of the optionals secilc disables (`-vv`, its log alone: in
/// verbose mode secilc 3.4 also refuses duplicate `filecon` lines it
/// otherwise accepts, after resolution).
pub fn disabled_optionals(files: &[PathBuf], bin: &Path, mls: Mls) -> BTreeSet<String> {
    let mut cmd = Command::new(tool("secilc"));
    cmd.args(["-vv", "-N"]);
    if mls == Mls::Forced {
        cmd.args(["-M", "true"]);
    }
    let (_, log) = run(cmd.arg("-o").arg(bin).args(["-f", "/dev/null"]).args(files));
    log.lines()
        .filter_map(|l| l.split_once("Disabling optional '"))
        .filter_map(|(_, rest)| rest.split_once('\''))
        .map(|(name, _)| name.to_string())
        .collect()
}

/// cilgen's errors on `files` (the validator's, with every file's classes,
/// and the resolver's), the neverallows it finds violated (`FILE:LINE`),
/// and the model.
pub fn errors(files: &[(String, String)]) -> (Vec<String>, BTreeSet<String>, Option<Model>) {
    let mut policies = Vec::new();
    for (name, text) in files {
        match cilgen::parse(text) {
            Ok(p) => policies.push(p),
            Err(e) => return (vec![format!("{name}: {e}")], BTreeSet::new(), None),
        }
    }
    let all: Vec<&cilgen::Policy> = policies.iter().collect();
    let catalog = catalog_of(&all);
    let mut found: Vec<String> = policies
        .iter()
        .flat_map(|p| validate_with(p, &ValidateOptions::default(), &catalog))
        .map(|d| d.to_diagnostic(0))
        .filter(|d| d.severity == Severity::Error)
        .map(|d| d.message)
        .collect();
    let inputs: Vec<Input<'_>> = files
        .iter()
        .zip(&policies)
        .map(|((name, _), p)| Input::new(name, p))
        .collect();
    let model = resolve(&inputs);
    found.extend(model.diagnostics.iter().map(|u| u.message()));
    let violated = model
        .neverallow_violations()
        .iter()
        .map(|v| {
            let (name, text) = &files[v.neverallow.file];
            let line = text[..v.neverallow.span.start as usize]
                .matches('\n')
                .count()
                + 1;
            format!("{}:{line}", name.rsplit('/').next().unwrap_or(name))
        })
        .collect();
    (found, violated, Some(model))
}

pub fn read_all(files: &[PathBuf]) -> Vec<(String, String)> {
    files
        .iter()
        .map(|f| (f.display().to_string(), std::fs::read_to_string(f).unwrap()))
        .collect()
}

/// Compiles `files` with secilc and resolves them with cilgen: no error
/// but the neverallows secilc finds violated (the same ones), the same
/// optionals dropped, the same rules, attributes, roles and users.
pub fn assert_same(files: &[PathBuf], mls: Mls) -> String {
    let label = files[0].parent().unwrap().display().to_string();
    // Not beside the inputs, nor shared: tests run at once, in one process.
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let bin = super::temp_dir(&format!("exhaustive-{n}")).join("policy.bin");
    let disabled = disabled_optionals(files, &bin, mls);
    let (mut ok, failed, mut log) = secilc(files, &bin, true, mls);
    if !ok && !failed.is_empty() {
        // Refused for its neverallows alone: the binary without the check.
        (ok, _, log) = secilc(files, &bin, false, mls);
    }
    assert!(ok, "secilc refuses {label}: {log}");
    let (errors, violated, model) = errors(&read_all(files));
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
    problems.extend(differ("violated neverallows", &failed, &violated));
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
        "{label}: {} rule permissions, {} attributes, {} roles, {} users, {} dropped optionals and {} violated neverallows agree",
        want.len(),
        attributes.len(),
        roles.len(),
        users.len(),
        disabled.len(),
        failed.len()
    )
}
