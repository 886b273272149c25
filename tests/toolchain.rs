//! The virt-launcher module against the real SELinux toolchain: `secilc`
//! compiles every combination, `semodule -p ROOT` installs into a private
//! copy of the system store, and `sesearch`/`seinfo` prove what the policy
//! grants. See `tests/support/prepare-policy.sh` for the policy compiled
//! against (Debian's default policy + the reference `container` module +
//! a small module declaring Fedora's container attributes).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use cilgen::virt_launcher::{Group, VirtLauncher};
use cilgen::{Name, Ref};
use common::{run, temp_dir, tool};

/// The document's rules by group: (target, class, permissions); `self` is
/// the domain itself.
fn document_rules(group: Group) -> Vec<(&'static str, &'static str, &'static str)> {
    match group {
        Group::Base => vec![
            ("proc_type", "file", "getattr open read"),
            ("self", "netlink_audit_socket", "nlmsg_relay"),
        ],
        Group::Multiqueue => vec![("self", "tun_socket", "relabelfrom relabelto attach_queue")],
        Group::Hugepages => vec![
            (
                "hugetlbfs_t",
                "dir",
                "add_name create write remove_name rmdir setattr",
            ),
            ("hugetlbfs_t", "file", "create unlink"),
        ],
        Group::Virtiofs => vec![
            ("nfs_t", "dir", "mounton"),
            ("proc_t", "dir", "mounton"),
            ("proc_t", "filesystem", "mount unmount"),
        ],
        Group::Passt => vec![
            ("tmpfs_t", "filesystem", "mount unmount"),
            ("tmpfs_t", "file", "getattr map"),
        ],
    }
}

/// One permission granted: (target, class, permission), `self` normalized.
use common::Grant;

fn expected(groups: &[Group]) -> BTreeSet<Grant> {
    groups
        .iter()
        .flat_map(|g| document_rules(*g))
        .flat_map(|(t, c, perms)| {
            perms
                .split_whitespace()
                .map(move |p| (t.to_string(), c.to_string(), p.to_string()))
        })
        .collect()
}

struct Env {
    dir: PathBuf,
    secilc: PathBuf,
    sesearch: PathBuf,
    seinfo: PathBuf,
    semodule: PathBuf,
}

impl Env {
    /// Debian's modules (base first), the container module and, for a
    /// Fedora node, the attribute module.
    fn policy_files(&self, fedora: bool) -> Vec<PathBuf> {
        let mut files = common::debian_modules(&self.dir);
        files.push(self.dir.join("container.cil"));
        if fedora {
            files.push(self.dir.join("fedora_attrs.cil"));
        }
        files
    }

    /// Compiles the policy plus `extra` with secilc; `neverallow` turns
    /// the neverallow checks on (semodule leaves them off).
    fn secilc(&self, extra: &[PathBuf], neverallow: bool, out: &Path) -> (bool, String) {
        let mut cmd = Command::new(&self.secilc);
        if !neverallow {
            cmd.arg("-N");
        }
        cmd.arg("-o").arg(out).args(["-f", "/dev/null"]);
        cmd.args(self.policy_files(true)).args(extra);
        run(&mut cmd)
    }

    /// A private copy of the system store, as `semodule -p ROOT` wants it.
    fn store_copy(&self, label: &str) -> PathBuf {
        let root = temp_dir(label);
        common::store_copy(&root);
        root
    }

    fn semodule(&self, root: &Path, args: &[&str], files: &[PathBuf]) -> (bool, String) {
        run(Command::new(&self.semodule)
            .arg("-p")
            .arg(root)
            .args(["-s", "default", "-n", "-X", "400"])
            .args(args)
            .args(files.iter().flat_map(|f| [Path::new("-i"), f.as_path()])))
    }

    fn modules(&self, root: &Path) -> BTreeSet<String> {
        let (ok, log) = run(Command::new(&self.semodule)
            .arg("-p")
            .arg(root)
            .args(["-s", "default", "-l"]));
        assert!(ok, "{log}");
        log.lines()
            .filter_map(|l| l.split_whitespace().next())
            .map(String::from)
            .collect()
    }

    fn grants(&self, policy: &Path, regex: &str) -> BTreeMap<String, BTreeSet<Grant>> {
        common::allow_grants(&self.sesearch, policy, regex)
    }

    fn attributes(&self, policy: &Path, ty: &str) -> BTreeSet<String> {
        common::type_attributes(&self.seinfo, policy, ty)
    }
}

fn env() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(|| {
        let secilc = tool("secilc");
        let sesearch = tool("sesearch");
        let seinfo = tool("seinfo");
        let semodule = tool("semodule");
        tool("checkmodule");
        let dir = common::prepared_policy();
        Env {
            dir,
            secilc,
            sesearch,
            seinfo,
            semodule,
        }
    })
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn combinations() -> Vec<Vec<Group>> {
    common::group_combinations()
}

fn block_for(groups: &[Group]) -> String {
    let mut name = String::from("vl");
    for g in groups {
        name.push('_');
        name.push_str(g.name());
    }
    name
}

#[test]
#[ignore = "needs the SELinux toolchain: scripts/test runs it (cargo test -- --include-ignored)"]
fn every_combination_compiles_and_grants_exactly_its_groups_rules() {
    let env = env();
    let dir = temp_dir("combinations");
    // Each combination in a block of its own, all compiled in one run: each
    // block declares its own domain, so the union compiles exactly when
    // every combination does, and sesearch can tell them apart.
    let mut files = Vec::new();
    for groups in combinations() {
        let block = block_for(&groups);
        let module = VirtLauncher::new()
            .only(groups.iter().copied())
            .dedicated(Name::new(&block).unwrap())
            .generate()
            .unwrap();
        files.push(write(&dir, &format!("{block}.cil"), &module.to_string()));
    }
    for (name, module) in [
        ("vl_portable", VirtLauncher::new().portable(true)),
        ("vl_narrow", VirtLauncher::new().narrow_proc(true)),
    ] {
        let text = module
            .dedicated(Name::new(name).unwrap())
            .generate()
            .unwrap()
            .to_string();
        files.push(write(&dir, &format!("{name}.cil"), &text));
    }
    let out = dir.join("dedicated.bin");
    let (ok, log) = env.secilc(&files, false, &out);
    assert!(ok, "secilc rejected a combination:\n{log}");

    let grants = env.grants(&out, r"^vl.*\.process$");
    let baseline = &grants["vl.process"];
    assert!(
        expected(&[Group::Base]).is_subset(baseline),
        "base rules missing: {:?}",
        expected(&[Group::Base])
            .difference(baseline)
            .collect::<Vec<_>>()
    );
    for groups in combinations() {
        let source = format!("{}.process", block_for(&groups));
        let added: BTreeSet<Grant> = grants[&source].difference(baseline).cloned().collect();
        assert_eq!(
            added,
            expected(&groups),
            "{source}: rules beyond the base group"
        );
    }
    let default: Vec<Group> = vec![
        Group::Base,
        Group::Multiqueue,
        Group::Hugepages,
        Group::Virtiofs,
    ];
    for name in ["vl_portable.process", "vl_narrow.process"] {
        let added: BTreeSet<Grant> = grants[name].difference(baseline).cloned().collect();
        let mut want = expected(&default);
        want.retain(|g| !expected(&[Group::Base]).contains(g));
        if name == "vl_narrow.process" {
            // Reads /proc through the narrowed attribute instead of proc_type.
            assert!(!grants[name].contains(&("proc_type".into(), "file".into(), "read".into())));
            assert!(grants[name].contains(&(
                "vl_narrow.proc_readable".into(),
                "file".into(),
                "read".into()
            )));
        }
        assert!(want.is_subset(&added), "{name}");
    }

    // Extend mode: flat rules, all combinations in one run.
    let mut files = Vec::new();
    for groups in combinations() {
        let text = VirtLauncher::new()
            .only(groups.iter().copied())
            .extend(Ref::new("container_t").unwrap())
            .generate()
            .unwrap()
            .to_string();
        files.push(write(
            &dir,
            &format!("extend_{}.cil", block_for(&groups)),
            &text,
        ));
    }
    let (ok, log) = env.secilc(&files, false, &dir.join("extend.bin"));
    assert!(ok, "secilc rejected an extend-mode combination:\n{log}");
}

#[test]
#[ignore = "needs the SELinux toolchain: scripts/test runs it (cargo test -- --include-ignored)"]
fn extend_mode_grants_the_enabled_groups_to_container_t() {
    let env = env();
    let root = env.store_copy("extend");
    let fixtures = [
        env.dir.join("container/container.pp"),
        env.dir.join("fedora_attrs.cil"),
    ];
    let (ok, log) = env.semodule(&root, &[], &fixtures);
    assert!(ok, "{log}");
    let policy = root.join("etc/selinux/default/policy/policy.33");
    let before = env
        .grants(&policy, "^container_t$")
        .remove("container_t")
        .unwrap_or_default();

    let module = VirtLauncher::new()
        .without(Group::Hugepages)
        .extend(Ref::new("container_t").unwrap())
        .generate()
        .unwrap();
    let dir = temp_dir("extend-module");
    let file = write(&dir, "virt_launcher.cil", &module.to_string());
    let (ok, log) = env.semodule(&root, &[], &[file]);
    assert!(ok, "{log}");
    assert!(env.modules(&root).contains("virt_launcher"));
    let after = env
        .grants(&policy, "^container_t$")
        .remove("container_t")
        .unwrap_or_default();
    let want = expected(&[Group::Base, Group::Multiqueue, Group::Virtiofs]);
    assert!(
        want.is_subset(&after),
        "missing: {:?}",
        want.difference(&after).collect::<Vec<_>>()
    );
    let added: BTreeSet<Grant> = after.difference(&before).cloned().collect();
    assert!(
        added.is_subset(&want),
        "extra rules: {:?}",
        added.difference(&want).collect::<Vec<_>>()
    );
    assert!(
        !added.iter().any(|(t, _, _)| t == "hugetlbfs_t"),
        "a disabled group's rule was granted"
    );
}

#[test]
#[ignore = "needs the SELinux toolchain: scripts/test runs it (cargo test -- --include-ignored)"]
fn the_default_module_installs_with_semodule_and_grants_the_document_rules() {
    let env = env();
    let root = env.store_copy("default");
    let dir = temp_dir("default-module");
    let module = write(
        &dir,
        "virt_launcher.cil",
        &VirtLauncher::new().generate().unwrap().to_string(),
    );
    let files = [
        env.dir.join("container/container.pp"),
        env.dir.join("fedora_attrs.cil"),
        module,
    ];
    let (ok, log) = env.semodule(&root, &[], &files);
    assert!(ok, "semodule -i failed:\n{log}");
    assert!(env.modules(&root).contains("virt_launcher"));

    let policy = root.join("etc/selinux/default/policy/policy.33");
    let grants = env.grants(&policy, r"^virt_launcher\.process$");
    let granted = &grants["virt_launcher.process"];
    let document = expected(&[
        Group::Base,
        Group::Multiqueue,
        Group::Hugepages,
        Group::Virtiofs,
    ]);
    assert!(
        document.is_subset(granted),
        "missing: {:?}",
        document.difference(granted).collect::<Vec<_>>()
    );
    assert!(
        !granted.iter().any(|(t, _, _)| t == "tmpfs_t"),
        "passt is off by default"
    );
    let attrs = env.attributes(&policy, "virt_launcher.process");
    for a in [
        "domain",
        "mcs_constrained_type",
        "container_domain",
        "container_net_domain",
        "svirt_sandbox_domain",
        "sandbox_net_domain",
    ] {
        assert!(attrs.contains(a), "{a} missing from {attrs:?}");
    }

    // And it is removed again.
    let (ok, log) = run(Command::new(&env.semodule).arg("-p").arg(&root).args([
        "-s",
        "default",
        "-n",
        "-r",
        "virt_launcher",
    ]));
    assert!(ok, "{log}");
    assert!(!env.modules(&root).contains("virt_launcher"));
}

#[test]
#[ignore = "needs the SELinux toolchain: scripts/test runs it (cargo test -- --include-ignored)"]
fn the_portable_module_installs_where_the_fedora_attributes_are_missing() {
    let env = env();
    let root = env.store_copy("portable");
    let dir = temp_dir("portable-module");
    let container = env.dir.join("container/container.pp");

    let strict = write(
        &dir,
        "virt_launcher.cil",
        &VirtLauncher::new().generate().unwrap().to_string(),
    );
    let (ok, log) = env.semodule(&root, &[], &[container.clone(), strict]);
    assert!(
        !ok,
        "the non-portable module must not load without Fedora's attributes"
    );
    assert!(log.contains("typeattributeset"), "{log}");

    let portable = VirtLauncher::new()
        .portable(true)
        .generate()
        .unwrap()
        .to_string();
    let file = write(&dir, "virt_launcher.cil", &portable);
    let (ok, log) = env.semodule(&root, &[], &[container, file]);
    assert!(ok, "the portable module must load:\n{log}");
    let policy = root.join("etc/selinux/default/policy/policy.33");
    let attrs = env.attributes(&policy, "virt_launcher.process");
    assert!(
        attrs.contains("container_domain") && attrs.contains("mcs_constrained_type"),
        "{attrs:?}"
    );
    assert!(!attrs.contains("svirt_sandbox_domain"), "{attrs:?}");
    let grants = env.grants(&policy, r"^virt_launcher\.process$");
    let document = expected(&[
        Group::Base,
        Group::Multiqueue,
        Group::Hugepages,
        Group::Virtiofs,
    ]);
    assert!(document.is_subset(&grants["virt_launcher.process"]));
}

#[test]
#[ignore = "needs the SELinux toolchain: scripts/test runs it (cargo test -- --include-ignored)"]
fn narrow_proc_passes_the_neverallow_checks_the_document_rule_fails() {
    let env = env();
    let dir = temp_dir("neverallow");
    let broad = write(
        &dir,
        "broad.cil",
        &VirtLauncher::new().generate().unwrap().to_string(),
    );
    let (ok, log) = env.secilc(&[broad], true, &dir.join("broad.bin"));
    assert!(
        !ok,
        "the document's proc rule must fail the neverallow check"
    );
    assert!(
        log.contains("neverallow") && log.contains("proc_type"),
        "{log}"
    );

    let narrow = write(
        &dir,
        "narrow.cil",
        &VirtLauncher::new()
            .narrow_proc(true)
            .generate()
            .unwrap()
            .to_string(),
    );
    let (ok, log) = env.secilc(&[narrow], true, &dir.join("narrow.bin"));
    assert!(
        ok,
        "the narrowed module must pass the neverallow check:\n{log}"
    );
}

fn digest(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.is_file() {
                out.push((p.clone(), std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[test]
#[ignore = "needs the SELinux toolchain: scripts/test runs it (cargo test -- --include-ignored)"]
fn a_broken_permission_is_rejected_and_the_store_is_left_unchanged() {
    let env = env();
    let broken = VirtLauncher::new()
        .generate()
        .unwrap()
        .to_string()
        .replace("attach_queue", "attch_queue");

    // cilgen reports it first, with its position.
    let policy = cilgen::parse(&broken).unwrap();
    let problems = cilgen::validate::validate(&policy, &Default::default());
    assert_eq!(problems.len(), 1);
    assert!(
        problems[0]
            .render(&broken, "virt_launcher.cil")
            .contains("no permission `attch_queue`")
    );

    let root = env.store_copy("broken");
    // `active/` is the installed store; a failed transaction leaves only its
    // scratch copy in `tmp/` behind.
    let store = root.join("var/lib/selinux/default/active");
    let before = digest(&store);
    let modules_before = env.modules(&root);
    let dir = temp_dir("broken-module");
    let file = write(&dir, "virt_launcher.cil", &broken);
    let files = [
        env.dir.join("container/container.pp"),
        env.dir.join("fedora_attrs.cil"),
        file,
    ];
    let (ok, log) = env.semodule(&root, &[], &files);
    assert!(!ok, "semodule accepted a broken permission");
    assert!(log.contains("attch_queue"), "{log}");
    assert_eq!(env.modules(&root), modules_before);
    assert!(
        digest(&store) == before,
        "the store changed after a failed install"
    );
}
