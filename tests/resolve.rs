//! Resolution against the real compiler: everything cilgen's model gives
//! (every allow, auditallow and dontaudit rule, conditional ones included,
//! attribute members, role types, user roles, the optionals that drop, the
//! neverallows broken) equals what secilc does, as `sesearch` and `seinfo`
//! read its binary (`common::exhaustive`). On Debian's whole policy as one
//! file (`checkpolicy -C`), on its 331 modules plus the reference container
//! module, where about 1,500 optionals drop, and with the virt-launcher
//! module; and, pair by pair, on a policy of namespaces.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;

use cilgen::PermxKind;
use cilgen::resolve::{Input, Model, RuleTarget, TypeRuleKind, resolve};
use common::exhaustive::{Mls, assert_same};
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
}

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
    eprintln!("{}", assert_same(&[flat], Mls::AsWritten));
}

#[test]
#[ignore = "needs the SELinux toolchain: scripts/test runs it (cargo test -- --include-ignored)"]
fn the_debian_modules_resolve_to_secilcs_permissions_optionals_included() {
    let dir = prepared();
    let mut files = common::debian_modules(&dir);
    files.push(dir.join("container.cil"));
    eprintln!("{}", assert_same(&files, Mls::AsWritten));
}

/// Debian's modules with the container module and the default
/// virt-launcher module (and the Fedora attributes it names): secilc
/// refuses the module's `proc_type` rule through two of Debian's
/// neverallows, and so does cilgen, at the same two.
#[test]
#[ignore = "needs the SELinux toolchain: scripts/test runs it (cargo test -- --include-ignored)"]
fn the_debian_modules_with_the_virt_launcher_module_break_the_same_neverallows() {
    let dir = prepared();
    let mut files = common::debian_modules(&dir);
    files.push(dir.join("container.cil"));
    files.push(dir.join("fedora_attrs.cil"));
    files.push(common::default_module("resolve-module"));
    let line = assert_same(&files, Mls::AsWritten);
    assert!(line.contains(" 2 violated neverallows"), "{line}");
    eprintln!("{line}");
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
