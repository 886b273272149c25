//! Resolution against the real compiler: the permissions cilgen's model
//! gives (unconditional `allow` rules, attributes expanded, optionals
//! decided) equal the permissions in secilc's binary, as `sesearch` and
//! `seinfo` read it, over a large sample of (source type, target type,
//! class) triples. On Debian's whole policy as one file (`checkpolicy -C`)
//! and on its 331 modules plus the reference container module, where
//! about 1,500 optionals drop.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;

use cilgen::PermxKind;
use cilgen::resolve::{Input, Model, RuleTarget, TypeRuleKind, resolve};
use common::{Members, manifest_dir, roles_and_users, run, temp_dir, tool};

/// The type rules of a binary: keyword, source, target, class, object
/// name, result.
type BinTypeRule = (String, String, String, String, Option<String>, String);

fn binary_type_rules(policy: &Path) -> Vec<BinTypeRule> {
    let (ok, dump) = run(Command::new(tool("sesearch"))
        .args(["-T", "--type_change", "--type_member"])
        .arg(policy));
    assert!(ok, "sesearch: {dump}");
    dump.lines()
        .filter_map(|l| {
            // type_transition S T:C RESULT [NAME];
            let words: Vec<&str> = l.trim_end_matches(';').split_whitespace().collect();
            let [kind, s, tc, result, rest @ ..] = words.as_slice() else {
                return None;
            };
            let (t, c) = tc.split_once(':')?;
            let name = rest.first().map(|n| n.trim_matches('"').to_string());
            Some((
                kind.to_string(),
                s.to_string(),
                t.to_string(),
                c.to_string(),
                name,
                result.to_string(),
            ))
        })
        .collect()
}

/// The unconditional `allowxperm` ioctl rules of a binary: source, target,
/// class, values.
fn binary_xperms(policy: &Path) -> Vec<(String, String, String, BTreeSet<u16>)> {
    let (ok, dump) = run(Command::new(tool("sesearch")).arg("--allowx").arg(policy));
    assert!(ok, "sesearch: {dump}");
    let number = |w: &str| u16::from_str_radix(w.trim_start_matches("0x"), 16).unwrap();
    dump.lines()
        .filter(|l| l.starts_with("allowxperm ") && !l.contains('['))
        .filter_map(|l| {
            let words: Vec<&str> = l.trim_end_matches(';').split_whitespace().collect();
            let [_, s, tc, "ioctl", values @ ..] = words.as_slice() else {
                return None;
            };
            let (t, c) = tc.split_once(':')?;
            let mut set = BTreeSet::new();
            for w in values.iter().filter(|w| !matches!(**w, "{" | "}")) {
                match w.split_once('-') {
                    Some((lo, hi)) => set.extend(number(lo)..=number(hi)),
                    None => {
                        set.insert(number(w));
                    }
                }
            }
            Some((s.to_string(), t.to_string(), c.to_string(), set))
        })
        .collect()
}

/// An unconditional allow rule of the binary: source, target, class, perms.
type BinRule = (String, String, String, BTreeSet<String>);

struct Binary {
    rules: HashMap<String, Vec<BinRule>>,
    attributes: HashMap<String, BTreeSet<String>>,
    /// (class, source name) → rules; type → its attributes.
    by_source: HashMap<(String, String), Vec<usize>>,
    all: Vec<BinRule>,
    names: HashMap<String, Vec<String>>,
    /// Conditional allow rules: the rule, the booleans of its condition,
    /// and its branch.
    conditional: Vec<(BinRule, BTreeSet<String>, bool)>,
}

/// The boolean names of a condition, however it is written (CIL's prefix
/// form or sesearch's infix one).
fn booleans(condition: &str) -> BTreeSet<String> {
    condition
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
        .filter(|w| !w.is_empty() && !["and", "or", "not", "xor", "eq", "neq"].contains(w))
        .map(String::from)
        .collect()
}

/// Per (branch, booleans of the condition), the permissions conditional
/// allow rules give a triple.
type Conditional = BTreeMap<(bool, BTreeSet<String>), BTreeSet<String>>;

impl Binary {
    fn read(policy: &Path) -> Binary {
        let (ok, dump) = run(Command::new(tool("sesearch")).arg("--allow").arg(policy));
        assert!(ok, "sesearch: {dump}");
        let mut rules: HashMap<String, Vec<BinRule>> = HashMap::new();
        for line in dump
            .lines()
            .filter(|l| l.starts_with("allow ") && !l.contains('['))
        {
            let body = line.trim_end_matches(';');
            let mut words = body.split_whitespace().skip(1);
            let (Some(s), Some(tc)) = (words.next(), words.next()) else {
                continue;
            };
            let Some((t, c)) = tc.split_once(':') else {
                continue;
            };
            let perms = words
                .filter(|w| *w != "{" && *w != "}")
                .map(String::from)
                .collect();
            rules.entry(c.to_string()).or_default().push((
                s.to_string(),
                t.to_string(),
                c.to_string(),
                perms,
            ));
        }
        let mut conditional = Vec::new();
        for line in dump
            .lines()
            .filter(|l| l.starts_with("allow ") && l.contains('['))
        {
            let Some((rule, cond)) = line.split_once("; [") else {
                continue;
            };
            let Some((expr, branch)) = cond.rsplit_once("]:") else {
                continue;
            };
            let mut words = rule.split_whitespace().skip(1);
            let (Some(s), Some(tc)) = (words.next(), words.next()) else {
                continue;
            };
            let Some((t, c)) = tc.split_once(':') else {
                continue;
            };
            let perms = words
                .filter(|w| *w != "{" && *w != "}")
                .map(|w| w.trim_end_matches(';').to_string())
                .collect();
            conditional.push((
                (s.to_string(), t.to_string(), c.to_string(), perms),
                booleans(expr),
                branch.trim() == "True",
            ));
        }
        let (ok, text) = run(Command::new(tool("seinfo")).arg("-a").arg("-x").arg(policy));
        assert!(ok, "seinfo: {text}");
        let mut attributes: HashMap<String, BTreeSet<String>> = HashMap::new();
        let mut current = None;
        for line in text.lines() {
            if let Some(a) = line.trim().strip_prefix("attribute ") {
                let a = a.trim_end_matches(';').to_string();
                attributes.insert(a.clone(), BTreeSet::new());
                current = Some(a);
            } else if line.starts_with('\t')
                && let Some(a) = &current
            {
                attributes
                    .get_mut(a)
                    .unwrap()
                    .insert(line.trim().to_string());
            }
        }
        let all: Vec<BinRule> = rules.values().flatten().cloned().collect();
        let mut by_source: HashMap<(String, String), Vec<usize>> = HashMap::new();
        for (i, (s, _, c, _)) in all.iter().enumerate() {
            by_source.entry((c.clone(), s.clone())).or_default().push(i);
        }
        let mut names: HashMap<String, Vec<String>> = HashMap::new();
        for (a, members) in &attributes {
            for m in members {
                names.entry(m.clone()).or_default().push(a.clone());
            }
        }
        Binary {
            rules,
            attributes,
            by_source,
            all,
            names,
            conditional,
        }
    }

    fn matches(&self, name: &str, ty: &str) -> bool {
        match self.attributes.get(name) {
            Some(members) => members.contains(ty),
            None => name == ty,
        }
    }

    fn allowed(&self, s: &str, t: &str, c: &str) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        let own = [s.to_string()];
        let attrs = self.names.get(s).cloned().unwrap_or_default();
        for n in own.iter().chain(&attrs) {
            for &i in self
                .by_source
                .get(&(c.to_string(), n.clone()))
                .map(Vec::as_slice)
                .unwrap_or_default()
            {
                let (_, rt, _, perms) = &self.all[i];
                if self.matches(rt, t) {
                    out.extend(perms.iter().cloned());
                }
            }
        }
        out
    }

    fn conditional(&self, s: &str, t: &str, c: &str) -> Conditional {
        let mut out = Conditional::new();
        for ((rs, rt, rc, perms), bools, branch) in &self.conditional {
            if rc == c && self.matches(rs, s) && self.matches(rt, t) {
                out.entry((*branch, bools.clone()))
                    .or_default()
                    .extend(perms.iter().cloned());
            }
        }
        out
    }

    fn types(&self, name: &str) -> Vec<String> {
        match self.attributes.get(name) {
            Some(m) => m.iter().cloned().collect(),
            None => vec![name.to_string()],
        }
    }
}

/// Per (branch, booleans), the permissions the model's conditional allow
/// rules give a triple.
fn model_conditional(model: &Model, s: &str, t: &str, c: &str) -> Conditional {
    let mut out = Conditional::new();
    for r in &model.rules {
        let Some((expr, branch)) = &r.condition else {
            continue;
        };
        if r.kind != cilgen::AvKind::Allow || !model.matches(&r.source, s) {
            continue;
        }
        let hit = match &r.target {
            RuleTarget::Name(n) => model.matches(n, t),
            _ => s == t,
        };
        if !hit {
            continue;
        }
        for (class, perms) in &r.perms {
            if &**class == c {
                out.entry((*branch, booleans(expr)))
                    .or_default()
                    .extend(perms.iter().cloned());
            }
        }
    }
    out
}

/// Every `step`th rule of each side, with a member of its source and of
/// its target picked by the rule's position: a deterministic sample that
/// covers rules on attributes and on types.
fn triples(model: &Model, binary: &Binary, step: usize) -> BTreeSet<(String, String, String)> {
    let mut out = BTreeSet::new();
    // CILGEN_RESOLVE_SEED picks other members of the same rules.
    let seed: usize = std::env::var("CILGEN_RESOLVE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut n = seed;
    let mut classes: Vec<&String> = binary.rules.keys().collect();
    classes.sort();
    for rules in classes.into_iter().map(|c| &binary.rules[c]) {
        for (s, t, c, _) in rules {
            n += 1;
            if !n.is_multiple_of(step) {
                continue;
            }
            let ss = binary.types(s);
            let tt = binary.types(t);
            if ss.is_empty() || tt.is_empty() {
                continue;
            }
            out.insert((
                ss[n % ss.len()].clone(),
                tt[n % tt.len()].clone(),
                c.clone(),
            ));
        }
    }
    for (i, r) in model.rules.iter().enumerate() {
        let i = i + seed;
        if !i.is_multiple_of(step) || r.kind != cilgen::AvKind::Allow || r.condition.is_some() {
            continue;
        }
        let ss: Vec<String> = model.types_of(&r.source).into_iter().collect();
        if ss.is_empty() {
            continue;
        }
        let s = ss[i % ss.len()].clone();
        let t = match &r.target {
            RuleTarget::Name(t) => {
                let tt: Vec<String> = model.types_of(t).into_iter().collect();
                if tt.is_empty() {
                    continue;
                }
                tt[i % tt.len()].clone()
            }
            _ => s.clone(),
        };
        for (c, _) in &r.perms {
            out.insert((s.clone(), t.clone(), c.to_string()));
        }
    }
    out
}

fn compare(files: &[PathBuf], label: &str, step: usize) {
    let secilc = tool("secilc");
    let dir = temp_dir(label);
    let bin = dir.join("policy.bin");
    let (ok, log) = run(Command::new(&secilc)
        .arg("-N")
        .arg("-o")
        .arg(&bin)
        .args(["-f", "/dev/null"])
        .args(files));
    assert!(ok, "secilc: {log}");
    let binary = Binary::read(&bin);

    let texts: Vec<(String, String)> = files
        .iter()
        .map(|f| (f.display().to_string(), std::fs::read_to_string(f).unwrap()))
        .collect();
    let policies: Vec<(String, cilgen::Policy)> = texts
        .iter()
        .map(|(f, s)| {
            (
                f.clone(),
                cilgen::parse(s).unwrap_or_else(|e| panic!("{e}")),
            )
        })
        .collect();
    let inputs: Vec<Input<'_>> = policies.iter().map(|(f, p)| Input::new(f, p)).collect();
    let model = resolve(&inputs);
    assert!(
        model.diagnostics.is_empty(),
        "{:?}",
        &model.diagnostics[..5.min(model.diagnostics.len())]
    );

    let sample = triples(&model, &binary, step);
    assert!(sample.len() > 2000, "only {} triples", sample.len());
    let mut differ = Vec::new();
    for (s, t, c) in &sample {
        let want = binary.allowed(s, t, c);
        let got = model.allowed(s, t, c);
        if want != got {
            differ.push(format!(
                "{s} {t} {c}: secilc only {:?}, cilgen only {:?}",
                want.difference(&got).collect::<Vec<_>>(),
                got.difference(&want).collect::<Vec<_>>()
            ));
        }
    }
    assert!(
        differ.is_empty(),
        "{} of {} triples differ:\n{}",
        differ.len(),
        sample.len(),
        differ[..differ.len().min(20)].join("\n")
    );
    eprintln!("{label}: {} triples agree", sample.len());

    // Conditional rules: per branch and booleans of the condition.
    let mut conditional = BTreeSet::new();
    for (i, ((s, t, c, _), _, _)) in binary.conditional.iter().enumerate() {
        if i % (step / 4).max(1) != 0 {
            continue;
        }
        let ss = binary.types(s);
        let tt = binary.types(t);
        if !ss.is_empty() && !tt.is_empty() {
            conditional.insert((
                ss[i % ss.len()].clone(),
                tt[i % tt.len()].clone(),
                c.clone(),
            ));
        }
    }
    assert!(
        conditional.len() > 100,
        "only {} conditional triples",
        conditional.len()
    );
    let mut differ = Vec::new();
    for (s, t, c) in &conditional {
        let want = binary.conditional(s, t, c);
        let got = model_conditional(&model, s, t, c);
        if want != got {
            differ.push(format!("{s} {t} {c}: secilc {want:?}, cilgen {got:?}"));
        }
    }
    assert!(
        differ.is_empty(),
        "{} of {} conditional triples differ:\n{}",
        differ.len(),
        conditional.len(),
        differ[..differ.len().min(10)].join("\n")
    );
    eprintln!("{label}: {} conditional triples agree", conditional.len());

    // Roles and users: each role's types and each user's roles.
    let (roles, users) = assert_roles_and_users(&model, &bin);
    assert!(roles.len() >= 2 && !users.is_empty(), "{roles:?} {users:?}");
    eprintln!(
        "{label}: the types of {} roles and the roles of {} users agree",
        roles.len(),
        users.len()
    );
}

/// Each role's types and each user's roles in the model equal seinfo's on
/// the binary; returns seinfo's.
fn assert_roles_and_users(model: &Model, bin: &Path) -> (Members, Members) {
    let (roles, users) = roles_and_users(bin);
    for (role, want) in &roles {
        let ours: BTreeSet<String> = model
            .types_of_role(role)
            .iter()
            .map(|t| t.to_string())
            .collect();
        assert_eq!(&ours, want, "types of role {role}");
    }
    for (user, want) in &users {
        // seinfo does not list `object_r`, which every user has.
        let ours: BTreeSet<String> = model
            .roles_of_user(user)
            .iter()
            .filter(|r| &***r != "object_r")
            .map(|r| r.to_string())
            .collect();
        assert_eq!(&ours, want, "roles of user {user}");
    }
    (roles, users)
}

/// `seinfo -r -x` and `seinfo -u -x`: each role's types, each user's roles.
fn prepared() -> PathBuf {
    common::prepared_policy()
}

#[test]
#[ignore = "needs the SELinux toolchain: scripts/test runs it (cargo test -- --include-ignored)"]
fn the_whole_debian_policy_resolves_to_secilcs_permissions() {
    let dir = temp_dir("resolve-flat");
    let flat = dir.join("policy.cil");
    let (ok, log) = run(Command::new(tool("checkpolicy"))
        .args(["-b", "-C", "-M", "-o"])
        .arg(&flat)
        .arg("/etc/selinux/default/policy/policy.33"));
    assert!(ok, "checkpolicy: {log}");
    compare(&[flat], "resolve-flat-bin", 41);
}

#[test]
#[ignore = "needs the SELinux toolchain: scripts/test runs it (cargo test -- --include-ignored)"]
fn the_debian_modules_resolve_to_secilcs_permissions_optionals_included() {
    let dir = prepared();
    let mut files = common::debian_modules(&dir);
    files.push(dir.join("container.cil"));
    let step = std::env::var("CILGEN_RESOLVE_STEP")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(97);
    compare(&files, "resolve-modules", step);
}

/// The virt-launcher module against Debian's policy without the container
/// module: resolution names exactly the attributes the node lacks, at the
/// statements that use them; `--portable` turns Fedora's two into
/// optionals that drop, with the reason.
#[test]
#[ignore = "needs the SELinux toolchain: scripts/test runs it (cargo test -- --include-ignored)"]
fn the_virt_launcher_module_against_a_node_without_the_container_module() {
    use cilgen::virt_launcher::VirtLauncher;
    let files = common::debian_modules(&prepared());
    let texts: Vec<String> = files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect();
    let node: Vec<cilgen::Policy> = texts.iter().map(|t| cilgen::parse(t).unwrap()).collect();
    for (portable, hard, dropped) in [
        (
            false,
            vec![
                "container_domain",
                "container_net_domain",
                "svirt_sandbox_domain",
                "sandbox_net_domain",
            ],
            vec![],
        ),
        (
            true,
            vec!["container_domain", "container_net_domain"],
            vec![
                (
                    "virt_launcher.svirt_sandbox_domain_membership",
                    "svirt_sandbox_domain",
                ),
                (
                    "virt_launcher.sandbox_net_domain_membership",
                    "sandbox_net_domain",
                ),
            ],
        ),
    ] {
        let module = VirtLauncher::new().portable(portable).generate().unwrap();
        let mut inputs: Vec<Input<'_>> = files
            .iter()
            .zip(&node)
            .map(|(f, p)| Input::new(f.to_str().unwrap(), p))
            .collect();
        inputs.push(Input::new("virt_launcher.cil", &module));
        let model = resolve(&inputs);
        let missing: Vec<&str> = model.diagnostics.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(missing, hard, "portable: {portable}");
        assert!(model.diagnostics.iter().all(|d| d.file == inputs.len() - 1));
        let gone: Vec<(&str, &str)> = model
            .disabled_optionals()
            .into_iter()
            .filter(|o| o.file == inputs.len() - 1)
            .map(|o| (o.name.as_str(), o.disabled_by.as_deref().unwrap()))
            .collect();
        assert_eq!(gone, dropped, "portable: {portable}");
        // The rules that resolve are the module's: the domain reads /proc.
        assert!(
            model
                .allowed("virt_launcher.process", "proc_t", "file")
                .contains("read")
        );
    }
}

/// Blocks, `blockabstract`, `blockinherit`, `in`, macros and calls (with
/// declarations in the macro, parameters, and a macro reached through an
/// inherited block): every permission between every pair of types, and
/// nothing else, as secilc compiles it.
#[test]
#[ignore = "needs the SELinux toolchain: scripts/test runs it (cargo test -- --include-ignored)"]
fn namespaces_inheritance_in_and_macros_resolve_as_secilc_does() {
    let base = manifest_dir().join("tests/support/base.cil");
    let file = manifest_dir().join("tests/support/resolve/namespaces.cil");
    let dir = temp_dir("resolve-namespaces");
    let bin = dir.join("policy.bin");
    let (ok, log) = run(Command::new(tool("secilc"))
        .arg("-N")
        .arg("-o")
        .arg(&bin)
        .args(["-f", "/dev/null"])
        .arg(&base)
        .arg(&file));
    assert!(ok, "secilc: {log}");
    let binary = Binary::read(&bin);
    let texts = [
        std::fs::read_to_string(&base).unwrap(),
        std::fs::read_to_string(&file).unwrap(),
    ];
    let policies: Vec<cilgen::Policy> = texts.iter().map(|t| cilgen::parse(t).unwrap()).collect();
    let model = resolve(&[
        Input::new("base.cil", &policies[0]),
        Input::new("namespaces.cil", &policies[1]),
    ]);
    assert!(model.diagnostics.is_empty(), "{:?}", model.diagnostics);
    let types: Vec<String> = model
        .decls
        .values()
        .filter(|d| d.kind == cilgen::resolve::DeclKind::Type)
        .map(|d| d.name.to_string())
        .collect();
    assert!(types.contains(&"b3.made_t".to_string()), "{types:?}");
    let classes: BTreeSet<String> = binary.rules.keys().cloned().collect();
    let mut compared = 0;
    for s in &types {
        for t in &types {
            for c in &classes {
                assert_eq!(
                    model.allowed(s, t, c),
                    binary.allowed(s, t, c),
                    "{s} {t} {c}"
                );
                compared += 1;
            }
        }
    }
    assert!(compared > 50);
    // Type rules and extended permissions: per pair of types and class,
    // what sesearch reads from the binary.
    let type_rules = binary_type_rules(&bin);
    let xperms = binary_xperms(&bin);
    let kinds = [
        ("type_transition", TypeRuleKind::Transition),
        ("type_change", TypeRuleKind::Change),
        ("type_member", TypeRuleKind::Member),
    ];
    let (mut type_pairs, mut xperm_pairs) = (0, 0);
    let every_class: Vec<String> = model
        .decls
        .values()
        .filter(|d| d.kind == cilgen::resolve::DeclKind::Class)
        .map(|d| d.name.to_string())
        .collect();
    for s in &types {
        for t in &types {
            for c in &every_class {
                for (word, kind) in kinds {
                    let ours: BTreeSet<(Option<String>, String)> = model
                        .type_rules_for(kind, s, t, c)
                        .map(|r| (r.object_name.clone(), r.result.to_string()))
                        .collect();
                    let theirs: BTreeSet<(Option<String>, String)> = type_rules
                        .iter()
                        .filter(|(k, rs, rt, rc, ..)| {
                            k == word && rc == c && binary.matches(rs, s) && binary.matches(rt, t)
                        })
                        .map(|(.., name, result)| (name.clone(), result.clone()))
                        .collect();
                    assert_eq!(ours, theirs, "{word} {s} {t} {c}");
                    type_pairs += usize::from(!ours.is_empty());
                }
                let ours: BTreeSet<u16> = model
                    .allowed_xperms(s, t, c, PermxKind::Ioctl)
                    .into_iter()
                    .flatten()
                    .collect();
                let theirs: BTreeSet<u16> = xperms
                    .iter()
                    .filter(|(rs, rt, rc, _)| {
                        rc == c && binary.matches(rs, s) && binary.matches(rt, t)
                    })
                    .flat_map(|(.., values)| values.iter().copied())
                    .collect();
                assert_eq!(ours, theirs, "allowx {s} {t} {c}");
                xperm_pairs += usize::from(!ours.is_empty());
            }
        }
    }
    // Two transitions (one from an attribute), one change, one member;
    // four pairs with ioctl values.
    assert_eq!((type_pairs, xperm_pairs), (4, 4));
    // Roles and users through their attributes.
    let (roles, users) = assert_roles_and_users(&model, &bin);
    assert_eq!(
        roles.get("ns2_r").map(BTreeSet::len),
        Some(1),
        "ns2_r holds anon_t through the attribute: {roles:?}"
    );
    assert_eq!(users.get("ns_u").map(BTreeSet::len), Some(2), "{users:?}");
    // Provenance: the rule that a call put in b3 says so.
    let rule = model
        .rules
        .iter()
        .find(|r| {
            &*r.source == "app1.process"
                && matches!(&r.target, RuleTarget::Name(t) if &**t == "b3.made_t")
        })
        .unwrap();
    let via: Vec<&str> = rule.origin.via.iter().map(|v| v.what.as_str()).collect();
    assert_eq!(via, ["call m_local"]);
}
