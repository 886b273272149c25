//! The installer against real stores: copies of this machine's policy
//! store, modified only through `semodule -p`.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use cilgen::install::{InstallError, Outcome, Status, Store};
use cilgen::virt_launcher::VirtLauncher;
use common::{prepared_policy, run, store_copy, temp_dir, tool};

/// A store copy; with `container`, the container module and the Fedora
/// attribute module installed, as on a node that runs containers.
fn node(label: &str, container: bool) -> (PathBuf, Store) {
    let root = temp_dir(label);
    store_copy(&root);
    if container {
        let policy = prepared_policy();
        let (ok, log) = run(Command::new(tool("semodule"))
            .arg("-p")
            .arg(&root)
            .args(["-s", "default", "-n", "-X", "400", "-i"])
            .arg(policy.join("container.cil"))
            .arg(policy.join("fedora_attrs.cil")));
        assert!(ok, "semodule: {log}");
    }
    (root.clone(), Store::new().root(root))
}

/// The paths whose content differs between two snapshots.
fn changed(a: &BTreeMap<PathBuf, Vec<u8>>, b: &BTreeMap<PathBuf, Vec<u8>>) -> Vec<PathBuf> {
    a.keys()
        .chain(b.keys())
        .filter(|k| a.get(*k) != b.get(*k))
        .cloned()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// The store under `root` holds exactly the files of `before`.
fn assert_unchanged(root: &Path, before: &BTreeMap<PathBuf, Vec<u8>>) {
    let differ = changed(&snapshot(root), before);
    assert!(
        differ.is_empty(),
        "the store changed: {:?}",
        &differ[..differ.len().min(10)]
    );
}

/// Every file of the store and of its `etc/selinux`, by path.
fn snapshot(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.join("var/lib/selinux"), root.join("etc/selinux")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path
                .file_name()
                .is_some_and(|n| n != "semanage.read.LOCK" && n != "semanage.trans.LOCK")
            {
                out.insert(
                    path.strip_prefix(root).unwrap().to_path_buf(),
                    std::fs::read(&path).unwrap(),
                );
            }
        }
    }
    out
}

fn module(narrow_proc: bool) -> String {
    VirtLauncher::new()
        .narrow_proc(narrow_proc)
        .generate()
        .unwrap()
        .to_checked_string()
        .unwrap()
}

#[test]
#[ignore = "needs root and the SELinux toolchain: scripts/test runs it (cargo test -- --include-ignored)"]
fn install_once_verify_replace_and_remove() {
    let (_root, store) = node("install-cycle", true);
    let first = module(false);
    assert_eq!(
        store.status("virt_launcher", &first).unwrap(),
        Status::Absent
    );
    match store.install("virt_launcher", &first).unwrap() {
        Outcome::Installed { rules_verified } => assert!(rules_verified >= 5, "{rules_verified}"),
        other => panic!("{other:?}"),
    }
    // The second run finds the same text and does nothing.
    assert_eq!(
        store.install("virt_launcher", &first).unwrap(),
        Outcome::Unchanged
    );
    assert_eq!(
        store.status("virt_launcher", &first).unwrap(),
        Status::Current
    );
    assert!(store.modules().unwrap().contains("virt_launcher"));
    // Other options: another module, which replaces the first.
    let second = module(true);
    assert_eq!(
        store.status("virt_launcher", &second).unwrap(),
        Status::Different
    );
    assert!(matches!(
        store.install("virt_launcher", &second).unwrap(),
        Outcome::Installed { .. }
    ));
    assert_eq!(
        store.installed("virt_launcher").unwrap().as_deref(),
        Some(second.as_str())
    );
    assert!(store.remove("virt_launcher").unwrap());
    assert_eq!(store.installed("virt_launcher").unwrap(), None);
    assert!(!store.remove("virt_launcher").unwrap());
}

#[test]
#[ignore = "needs root and the SELinux toolchain: scripts/test runs it (cargo test -- --include-ignored)"]
fn a_module_semodule_refuses_leaves_the_store_byte_identical() {
    let (root, store) = node("install-refused", true);
    let before = snapshot(&root);
    // The preflight cannot see it (a type the base module declares, once
    // more); semodule refuses it.
    let err = store
        .install("redeclares", "(type kernel_t)\n")
        .unwrap_err();
    assert!(matches!(err, InstallError::Semodule(_)), "{err}");
    assert_unchanged(&root, &before);
}

#[test]
#[ignore = "needs root and the SELinux toolchain: scripts/test runs it (cargo test -- --include-ignored)"]
fn a_store_without_the_container_module_is_refused_by_name() {
    let (root, store) = node("install-preflight", false);
    let before = snapshot(&root);
    let err = store.install("virt_launcher", &module(false)).unwrap_err();
    let InstallError::Preflight { missing, .. } = &err else {
        panic!("{err}");
    };
    for name in [
        "container_domain",
        "container_net_domain",
        "svirt_sandbox_domain",
        "sandbox_net_domain",
    ] {
        assert!(
            missing.iter().any(|m| m.contains(name)),
            "{name} not in {missing:?}"
        );
    }
    assert!(err.to_string().contains("--portable"), "{err}");
    assert_unchanged(&root, &before);
}

#[test]
#[ignore = "needs root and the SELinux toolchain: scripts/test runs it (cargo test -- --include-ignored)"]
fn a_read_only_store_is_reported_and_left_alone() {
    let (root, store) = node("install-readonly", true);
    let before = snapshot(&root);
    let lib = root.join("var/lib/selinux");
    let (ok, log) = run(Command::new("mount").arg("--bind").arg(&lib).arg(&lib));
    assert!(ok, "a read-only store needs `mount --bind` (root): {log}");
    let (ok, log) = run(Command::new("mount")
        .args(["-o", "remount,bind,ro"])
        .arg(&lib));
    let result = ok.then(|| store.install("virt_launcher", &module(false)));
    let (unmounted, ulog) = run(Command::new("umount").arg(&lib));
    assert!(ok, "remounting read-only: {log}");
    assert!(unmounted, "umount: {ulog}");
    let err = result.unwrap().unwrap_err();
    assert!(matches!(err, InstallError::Semodule(_)), "{err}");
    assert_unchanged(&root, &before);
}
