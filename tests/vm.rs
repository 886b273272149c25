//! The virt-launcher module proven by the kernel.
//!
//! Boots Debian's kernel under qemu with SELinux, loads policies that
//! `semodule` built (Debian's base policy, the reference `container` module,
//! the generated module and the harness module of `tests/support/vm/`), and
//! runs the probe (`vm-probe/`) in the launcher's domain, enforcing and then
//! permissive. Each operation the probe performs is listed in [`OPS`] with the
//! rule permissions it needs; the test predicts every outcome from the
//! variant's rules and the base policy (what `sesearch` says the base grants
//! or dontaudits), and the kernel must agree:
//!
//! - with every group on, every operation succeeds and the kernel logs no
//!   denial for the domain;
//! - with a group, a rule or one permission off, exactly the operations that
//!   need it fail (EACCES or EPERM), and the kernel logs exactly the
//!   permissions taken away (permissive run: every check, none refused);
//! - every permission of every template is either shown necessary this way
//!   or listed in [`REDUNDANT_ON_DEBIAN`], checked against the base policy.
//!
//! The AVC lines of each run are kept in `tests/golden/vm/` (normalised).
//! It is ignored by a plain `cargo test`: `scripts/test` and `scripts/vm-test`
//! run it (`cargo test --test vm -- --include-ignored`).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use cilgen::ast::{ClassPerms, Expr, Term};
use cilgen::virt_launcher::{Group, VirtLauncher};
use cilgen::{Policy, Ref, Statement};
use common::{check_golden, manifest_dir, run};

/// A permission of a template rule as an operation needs it: the rule's
/// target, class and permission as the template writes them, and the type
/// the kernel checks (`self`: the domain).
#[derive(Clone, Copy, Debug)]
struct Need {
    rule_target: &'static str,
    class: &'static str,
    perm: &'static str,
    object: &'static str,
}

const fn need(
    rule_target: &'static str,
    class: &'static str,
    perm: &'static str,
    object: &'static str,
) -> Need {
    Need {
        rule_target,
        class,
        perm,
        object,
    }
}

/// One operation of the probe (`vm-probe/src/main.rs`, same names, same
/// order).
struct Op {
    name: &'static str,
    group: Group,
    what: &'static str,
    /// Operations that must have succeeded for this one to be tried.
    after: &'static [&'static str],
    /// The template permissions it needs; anything else it needs is granted
    /// by the base policy or the harness module.
    needs: &'static [Need],
}

const PROC_READ: [&str; 3] = ["getattr", "open", "read"];

macro_rules! proc_read {
    ($object:literal) => {
        &[
            need("proc_type", "file", PROC_READ[0], $object),
            need("proc_type", "file", PROC_READ[1], $object),
            need("proc_type", "file", PROC_READ[2], $object),
        ]
    };
}

const OPS: &[Op] = &[
    Op {
        name: "proc-cpuinfo",
        group: Group::Base,
        what: "stat, open and read /proc/cpuinfo (proc_t)",
        after: &[],
        needs: proc_read!("proc_t"),
    },
    Op {
        name: "proc-uptime",
        group: Group::Base,
        what: "stat, open and read /proc/uptime (proc_t)",
        after: &[],
        needs: proc_read!("proc_t"),
    },
    Op {
        name: "proc-kcore",
        group: Group::Base,
        what: "stat, open and read /proc/kcore (proc_kcore_t), which proc_type also covers",
        after: &[],
        needs: proc_read!("proc_kcore_t"),
    },
    Op {
        name: "audit-relay",
        group: Group::Base,
        what: "send libvirt's AUDIT_VIRT_CONTROL message on a netlink audit socket",
        after: &[],
        needs: &[need("self", "netlink_audit_socket", "nlmsg_relay", "self")],
    },
    Op {
        name: "tun-open",
        group: Group::Multiqueue,
        what: "open /dev/net/tun (tun_tap_device_t) twice",
        after: &[],
        needs: &[],
    },
    Op {
        name: "tun-create",
        group: Group::Multiqueue,
        what: "TUNSETIFF IFF_TAP|IFF_NO_PI|IFF_MULTI_QUEUE: create the tap device, queue 1",
        after: &["tun-open"],
        needs: &[],
    },
    Op {
        name: "queue-detach",
        group: Group::Multiqueue,
        what: "TUNSETQUEUE IFF_DETACH_QUEUE on queue 1",
        after: &["tun-create"],
        needs: &[],
    },
    Op {
        name: "queue-attach",
        group: Group::Multiqueue,
        what: "TUNSETQUEUE IFF_ATTACH_QUEUE: attach queue 1 again",
        after: &["queue-detach"],
        needs: &[need("self", "tun_socket", "attach_queue", "self")],
    },
    Op {
        name: "queue-open",
        group: Group::Multiqueue,
        what: "TUNSETIFF on the second descriptor: open queue 2 of the device",
        after: &["tun-create"],
        needs: &[
            need("self", "tun_socket", "relabelfrom", "self"),
            need("self", "tun_socket", "relabelto", "self"),
        ],
    },
    Op {
        name: "hp-mkdir",
        group: Group::Hugepages,
        what: "mkdir a per-VM directory in the hugetlbfs mount",
        after: &[],
        needs: &[
            need("hugetlbfs_t", "dir", "write", "hugetlbfs_t"),
            need("hugetlbfs_t", "dir", "add_name", "hugetlbfs_t"),
            need("hugetlbfs_t", "dir", "create", "hugetlbfs_t"),
        ],
    },
    Op {
        name: "hp-setattr",
        group: Group::Hugepages,
        what: "chmod the directory",
        after: &["hp-mkdir"],
        needs: &[need("hugetlbfs_t", "dir", "setattr", "hugetlbfs_t")],
    },
    Op {
        name: "hp-create",
        group: Group::Hugepages,
        what: "create the memory backing file (mknod S_IFREG)",
        after: &["hp-mkdir"],
        needs: &[
            need("hugetlbfs_t", "dir", "write", "hugetlbfs_t"),
            need("hugetlbfs_t", "dir", "add_name", "hugetlbfs_t"),
            need("hugetlbfs_t", "file", "create", "hugetlbfs_t"),
        ],
    },
    Op {
        name: "hp-unlink",
        group: Group::Hugepages,
        what: "unlink the backing file",
        after: &["hp-create"],
        needs: &[
            need("hugetlbfs_t", "dir", "write", "hugetlbfs_t"),
            need("hugetlbfs_t", "dir", "remove_name", "hugetlbfs_t"),
            need("hugetlbfs_t", "file", "unlink", "hugetlbfs_t"),
        ],
    },
    Op {
        name: "hp-rmdir",
        group: Group::Hugepages,
        what: "remove the directory (tried once it is empty)",
        after: &["hp-mkdir"],
        needs: &[
            need("hugetlbfs_t", "dir", "write", "hugetlbfs_t"),
            need("hugetlbfs_t", "dir", "remove_name", "hugetlbfs_t"),
            need("hugetlbfs_t", "dir", "rmdir", "hugetlbfs_t"),
        ],
    },
    Op {
        name: "mount-ns",
        group: Group::Virtiofs,
        what: "unshare(CLONE_NEWNS): a mount namespace of its own (virtiofsd, passt)",
        after: &[],
        needs: &[],
    },
    Op {
        name: "nfs-bind",
        group: Group::Virtiofs,
        what: "bind-mount the shared directory (nfs_t) over itself",
        after: &["mount-ns"],
        needs: &[need("nfs_t", "dir", "mounton", "nfs_t")],
    },
    Op {
        name: "proc-mount",
        group: Group::Virtiofs,
        what: "mount a fresh proc over /proc (proc_t)",
        after: &["mount-ns"],
        needs: &[
            need("proc_t", "dir", "mounton", "proc_t"),
            need("proc_t", "filesystem", "mount", "proc_t"),
        ],
    },
    Op {
        name: "proc-umount",
        group: Group::Virtiofs,
        what: "unmount that proc",
        after: &["proc-mount"],
        needs: &[need("proc_t", "filesystem", "unmount", "proc_t")],
    },
    Op {
        name: "nfs-umount",
        group: Group::Virtiofs,
        what: "unmount the bind mount",
        after: &["nfs-bind"],
        needs: &[],
    },
    Op {
        name: "tmpfs-mount",
        group: Group::Passt,
        what: "mount a tmpfs as passt's new root",
        after: &["mount-ns"],
        needs: &[need("tmpfs_t", "filesystem", "mount", "tmpfs_t")],
    },
    Op {
        name: "tmpfs-file",
        group: Group::Passt,
        what: "write a file on that tmpfs",
        after: &["tmpfs-mount"],
        needs: &[],
    },
    Op {
        name: "tmpfs-stat",
        group: Group::Passt,
        what: "stat the file",
        after: &["tmpfs-file"],
        needs: &[need("tmpfs_t", "file", "getattr", "tmpfs_t")],
    },
    Op {
        name: "tmpfs-map",
        group: Group::Passt,
        what: "mmap the file",
        after: &["tmpfs-file"],
        needs: &[need("tmpfs_t", "file", "map", "tmpfs_t")],
    },
    Op {
        name: "tmpfs-umount",
        group: Group::Passt,
        what: "unmount the tmpfs",
        after: &["tmpfs-mount"],
        needs: &[need("tmpfs_t", "filesystem", "unmount", "tmpfs_t")],
    },
];

/// Template permissions that no operation can be denied for on Debian's
/// policy, because the reference policy's container module already grants
/// them to every container domain. The test checks with `sesearch` that the
/// base policy grants each, and that no other permission is in that case;
/// the template and the README say the same.
const REDUNDANT_ON_DEBIAN: &[(&str, &str, &str, &str)] = &[(
    "proc_type",
    "file",
    "getattr",
    "container_domain has getattr on every proc_type file",
)];

/// A template permission: (rule target, class, permission).
type Perm = (String, String, String);
/// A kernel check: (object type, class, permission).
type Check = (String, String, String);

fn perm(target: &str, class: &str, p: &str) -> Perm {
    (target.to_string(), class.to_string(), p.to_string())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Mode {
    /// `virt_launcher.process`, declared by the module.
    Dedicated,
    /// `container_t`, extended by the module.
    Extend,
}

impl Mode {
    fn domain(self) -> &'static str {
        match self {
            Mode::Dedicated => "virt_launcher.process",
            Mode::Extend => "container_t",
        }
    }
}

/// One policy loaded in the VM.
struct Variant {
    name: String,
    mode: Mode,
    /// The generated module, edited; `None`: no module at all.
    module: Option<Policy>,
    /// Template permissions the module lacks, compared with every group on.
    removed: BTreeSet<Perm>,
    narrow_proc: bool,
    /// Every group on but one permission.
    one_permission: bool,
}

fn full(mode: Mode) -> VirtLauncher {
    let module = VirtLauncher::new().with(Group::Passt);
    match mode {
        Mode::Dedicated => module,
        Mode::Extend => module.extend(Ref::new("container_t").unwrap()),
    }
}

/// Applies `f` to every allow rule, recursing into blocks; a rule for which
/// `f` returns false is dropped.
fn edit_rules(stmts: &mut Vec<Statement>, f: &mut dyn FnMut(&mut cilgen::ast::AvRule) -> bool) {
    stmts.retain_mut(|s| match s {
        Statement::AvRule(r) => f(r),
        Statement::Block(b) => {
            edit_rules(&mut b.body, f);
            true
        }
        _ => true,
    });
}

fn perm_names(classperms: &ClassPerms) -> (String, Vec<String>) {
    let ClassPerms::Anonymous { class, perms } = classperms else {
        panic!("the templates name their permissions")
    };
    let Expr::List(terms) = &**perms else {
        panic!("the templates list their permissions")
    };
    let names = terms
        .iter()
        .map(|t| match t {
            Term::Leaf(p) => p.to_string(),
            Term::Expr(_) => panic!("the templates list their permissions"),
        })
        .collect();
    (class.to_string(), names)
}

/// Every (target, class, permission) the module's allow rules grant, with
/// the targets as the templates write them.
fn rule_perms(policy: &Policy, mode: Mode) -> BTreeSet<Perm> {
    let mut out = BTreeSet::new();
    let mut stmts = policy.statements.clone();
    edit_rules(&mut stmts, &mut |r| {
        let (class, perms) = perm_names(&r.classperms);
        let target = match r.target.as_str() {
            t if t == mode.domain() => "self",
            "proc_readable" => "proc_type",
            t => t,
        }
        .to_string();
        for p in perms {
            out.insert((target.clone(), class.clone(), p));
        }
        true
    });
    out
}

/// The module without one permission (a rule whose last permission goes is
/// dropped).
fn without_perm(policy: &Policy, mode: Mode, gone: &Perm) -> Policy {
    let mut policy = policy.clone();
    edit_rules(&mut policy.statements, &mut |r| {
        let target = if r.target.as_str() == "self" || r.target.as_str() == mode.domain() {
            "self"
        } else {
            r.target.as_str()
        };
        let (class, _) = perm_names(&r.classperms);
        if target != gone.0 || class != gone.1 {
            return true;
        }
        let ClassPerms::Anonymous { perms, .. } = &mut r.classperms else {
            unreachable!()
        };
        let Expr::List(terms) = std::sync::Arc::make_mut(perms) else {
            unreachable!()
        };
        terms.retain(|t| !matches!(t, Term::Leaf(p) if p.as_str() == gone.2));
        !terms.is_empty()
    });
    policy
}

fn without_rules(policy: &Policy) -> Policy {
    let mut policy = policy.clone();
    edit_rules(&mut policy.statements, &mut |_| false);
    policy
}

fn variants() -> Vec<Variant> {
    let mut out = Vec::new();
    for mode in [Mode::Dedicated, Mode::Extend] {
        let prefix = match mode {
            Mode::Dedicated => "d",
            Mode::Extend => "x",
        };
        let module = full(mode).generate().unwrap();
        let all = rule_perms(&module, mode);
        let mut push =
            |name: String, module: Option<Policy>, narrow_proc: bool, one_permission: bool| {
                let removed = match &module {
                    Some(m) => all.difference(&rule_perms(m, mode)).cloned().collect(),
                    None => all.clone(),
                };
                out.push(Variant {
                    name: format!("{prefix}-{name}"),
                    mode,
                    module,
                    removed,
                    narrow_proc,
                    one_permission,
                });
            };
        push("all".into(), Some(module.clone()), false, false);
        push(
            "no-rules".into(),
            Some(without_rules(&module)),
            false,
            false,
        );
        match mode {
            Mode::Dedicated => {
                for group in Group::OPTIONAL {
                    let m = full(mode).without(group).generate().unwrap();
                    push(format!("without-{group}"), Some(m), false, false);
                }
                let narrow = full(mode).narrow_proc(true).generate().unwrap();
                push("narrow-proc".into(), Some(narrow), true, false);
                for p in &all {
                    let m = without_perm(&module, mode, p);
                    push(
                        format!("without-{}-{}-{}", p.0, p.1, p.2),
                        Some(m),
                        false,
                        true,
                    );
                }
            }
            Mode::Extend => {
                let base = full(mode).only([]).generate().unwrap();
                push("base-only".into(), Some(base), false, false);
                push("no-module".into(), None, false, false);
            }
        }
    }
    out
}

/// What the kernel and the tools live in.
struct Vm {
    dir: PathBuf,
    semodule: PathBuf,
    sesearch: PathBuf,
    qemu: PathBuf,
    busybox: PathBuf,
}

fn required(name: &str, candidates: &[&str]) -> PathBuf {
    for c in candidates {
        let p = Path::new(c);
        if p.exists() {
            return p.to_path_buf();
        }
    }
    panic!(
        "`{name}` is missing: the VM tests need qemu-system-x86 busybox-static cpio and the SELinux \
         toolchain (scripts/vm-test installs them)"
    );
}

fn vm() -> Vm {
    let dir = common::tmp_root().join("vm");
    std::fs::create_dir_all(&dir).unwrap();
    Vm {
        semodule: required("semodule", &["/usr/sbin/semodule", "/sbin/semodule"]),
        sesearch: required("sesearch", &["/usr/bin/sesearch"]),
        qemu: required("qemu-system-x86_64", &["/usr/bin/qemu-system-x86_64"]),
        busybox: required("busybox", &["/bin/busybox", "/usr/bin/busybox"]),
        dir,
    }
}

/// The Debian policy pieces the toolchain tests also use.
fn prepared_policy() -> PathBuf {
    common::prepared_policy()
}

fn build_probe(vm: &Vm) -> PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let target_dir = vm.dir.join("probe");
    let (ok, log) = run(Command::new(cargo)
        .current_dir(manifest_dir())
        .env("RUSTFLAGS", "-C target-feature=+crt-static")
        .args([
            "build",
            "--release",
            "-p",
            "vmprobe",
            "--target",
            "x86_64-unknown-linux-gnu",
            "--target-dir",
        ])
        .arg(&target_dir));
    assert!(ok, "building the probe: {log}");
    target_dir.join("x86_64-unknown-linux-gnu/release/vmprobe")
}

fn fetch_kernel(vm: &Vm) -> PathBuf {
    let dir = vm.dir.join("kernel");
    let (ok, log) = run(Command::new("bash")
        .arg(manifest_dir().join("tests/support/vm/kernel.sh"))
        .arg(&dir));
    assert!(ok, "fetching Debian's kernel: {log}");
    dir
}

/// The harness module for a domain: `tests/support/vm/harness.cil` in
/// `(block vmtest ...)` with `process` an alias of the domain.
fn harness(mode: Mode) -> String {
    let text =
        std::fs::read_to_string(manifest_dir().join("tests/support/vm/harness.cil")).unwrap();
    let body = cilgen::parse(&text).unwrap();
    let alias = cilgen::parse(&format!(
        "(typealias process)\n(typealiasactual process {})\n",
        mode.domain()
    ))
    .unwrap();
    let mut policy = Policy::new();
    let mut block_body = alias.statements;
    block_body.extend(body.statements);
    policy.push(cilgen::ast::Block {
        name: cilgen::Name::new("vmtest").unwrap(),
        body: block_body,
        span: cilgen::Span::DUMMY,
    });
    policy.to_string()
}

/// Builds the variant's policy as a node would: `semodule -i` into a copy of
/// Debian's store holding the container module (and, for the dedicated
/// domain, Fedora's two container attributes), then the module and the
/// harness; returns `policy.33`.
fn build_policy(vm: &Vm, prepared: &Path, v: &Variant) -> PathBuf {
    let work = vm.dir.join("policies").join(&v.name);
    let policy = work.join("policy.33");
    let mut files = vec![
        prepared.join("container/container.pp"),
        prepared.join("fedora_attrs.cil"),
    ];
    let mut modules = Vec::new();
    if let Some(module) = &v.module {
        modules.push(("virt_launcher.cil", module.to_string()));
    }
    modules.push(("vmtest.cil", harness(v.mode)));
    // A rebuild costs seconds: reuse the last one when nothing it was built
    // from has changed (CI starts from a clean tree and always builds).
    let mut inputs = base_fingerprint(prepared);
    for (name, text) in &modules {
        inputs.push_str(&format!("== {name}\n{text}"));
    }
    if std::fs::read_to_string(work.join("inputs")).is_ok_and(|i| i == inputs) && policy.exists() {
        return policy;
    }
    let _ = std::fs::remove_dir_all(&work);
    let root = work.join("root");
    common::store_copy(&root);
    for (name, text) in &modules {
        let file = work.join(name);
        std::fs::write(&file, text).unwrap();
        files.push(file);
    }
    let (ok, log) = run(Command::new(&vm.semodule)
        .arg("-p")
        .arg(&root)
        .args(["-s", "default", "-n", "-X", "400"])
        .args(files.iter().flat_map(|f| [Path::new("-i"), f.as_path()])));
    assert!(ok, "{}: semodule -i failed:\n{log}", v.name);
    std::fs::copy(root.join("etc/selinux/default/policy/policy.33"), &policy).unwrap();
    let _ = std::fs::remove_dir_all(&root);
    std::fs::write(work.join("inputs"), inputs).unwrap();
    policy
}

/// What the store and the fixture modules are: the installed policy
/// package's version and the fixtures' bytes.
fn base_fingerprint(prepared: &Path) -> String {
    let (_, version) = run(Command::new("dpkg-query").args([
        "-W",
        "selinux-policy-default",
        "semodule-utils",
        "libsemanage2",
    ]));
    let mut out = version;
    for f in ["container.cil", "fedora_attrs.cil"] {
        out.push_str(&std::fs::read_to_string(prepared.join(f)).unwrap_or_default());
    }
    out
}

/// What the base policy (a variant without the module's rules) grants and
/// dontaudits for the domain on the objects the operations touch, by
/// `sesearch` (rules through attributes included, enabled conditionals only).
struct Base {
    allowed: BTreeSet<Check>,
    dontaudit: BTreeSet<Check>,
}

fn base_rules(vm: &Vm, policy: &Path, mode: Mode) -> Base {
    let objects: BTreeSet<&str> = OPS
        .iter()
        .flat_map(|o| o.needs.iter().map(|n| n.object))
        .collect();
    let mut base = Base {
        allowed: BTreeSet::new(),
        dontaudit: BTreeSet::new(),
    };
    for object in objects {
        let target = if object == "self" {
            mode.domain()
        } else {
            object
        };
        for (flag, set) in [
            ("--allow", &mut base.allowed),
            ("--dontaudit", &mut base.dontaudit),
        ] {
            let (ok, log) = run(Command::new(&vm.sesearch)
                .args([flag, "-s", mode.domain(), "-t", target])
                .arg(policy));
            assert!(ok, "sesearch: {log}");
            for line in log.lines() {
                let enabled = !line.contains('[') || line.trim_end().ends_with("]:True");
                let Some(rest) = line.strip_prefix(&flag[2..]) else {
                    continue;
                };
                if !enabled {
                    continue;
                }
                let mut words = rest.split_whitespace().skip(1);
                let Some(target_class) = words.next() else {
                    continue;
                };
                let class = target_class.split(':').nth(1).unwrap_or_default();
                for p in words
                    .take_while(|w| !w.starts_with('['))
                    .map(|w| w.trim_end_matches(';'))
                    .filter(|w| !w.is_empty() && *w != "{" && *w != "}")
                {
                    set.insert((object.to_string(), class.to_string(), p.to_string()));
                }
            }
        }
    }
    base
}

/// What a variant's module grants, and so what each operation should do.
struct Expect<'a> {
    variant: &'a Variant,
    base: &'a Base,
}

impl Expect<'_> {
    fn check(n: &Need) -> Check {
        (
            n.object.to_string(),
            n.class.to_string(),
            n.perm.to_string(),
        )
    }

    fn granted(&self, n: &Need) -> bool {
        if self.base.allowed.contains(&Self::check(n)) {
            return true;
        }
        let narrowed = self.variant.narrow_proc
            && n.rule_target == "proc_type"
            && ["proc_kcore_t", "proc_kmsg_t"].contains(&n.object);
        !narrowed
            && !self
                .variant
                .removed
                .contains(&perm(n.rule_target, n.class, n.perm))
    }

    /// ok, denied or skipped, in the probe's order, for an enforcing run.
    fn outcomes(&self) -> BTreeMap<&'static str, &'static str> {
        let mut out = BTreeMap::new();
        for op in OPS {
            let ready = op.after.iter().all(|a| out.get(a) == Some(&"ok"));
            // The probe removes the directory only once the file is gone.
            let file_left = op.name == "hp-rmdir"
                && out.get("hp-create") == Some(&"ok")
                && out.get("hp-unlink") != Some(&"ok");
            let outcome = if !ready || file_left {
                "skipped"
            } else if op.needs.iter().all(|n| self.granted(n)) {
                "ok"
            } else {
                "denied"
            };
            out.insert(op.name, outcome);
        }
        out
    }

    /// The checks the kernel refuses and logs (not dontaudited) when every
    /// operation is tried (the permissive run).
    fn logged(&self) -> BTreeSet<Check> {
        OPS.iter()
            .flat_map(|op| op.needs.iter())
            .filter(|n| !self.granted(n))
            .map(Self::check)
            .filter(|c| !self.base.dontaudit.contains(c))
            .collect()
    }
}

/// One probe run as the console shows it.
#[derive(Default, Debug)]
struct Run {
    context: String,
    pid: String,
    results: Vec<(String, String)>,
    done: bool,
    /// AVC lines of this run's process, as printed.
    avcs: Vec<String>,
}

/// The denials of a run for the domain: (object type, class, permission),
/// self as `self`.
fn denials(run: &Run, domain: &str) -> BTreeSet<Check> {
    let mut out = BTreeSet::new();
    for line in &run.avcs {
        let field = |name: &str| {
            line.split_whitespace()
                .find_map(|w| w.strip_prefix(name))
                .unwrap_or_default()
                .to_string()
        };
        let ty = |ctx: String| ctx.split(':').nth(2).unwrap_or_default().to_string();
        if ty(field("scontext=")) != domain {
            continue;
        }
        let target = ty(field("tcontext="));
        let target = if target == domain {
            "self".to_string()
        } else {
            target
        };
        let class = field("tclass=");
        let perms = line
            .split_once("{ ")
            .and_then(|(_, r)| r.split_once(" }"))
            .map(|(p, _)| p)
            .unwrap_or_default();
        for p in perms.split_whitespace() {
            out.insert((target.clone(), class.clone(), p.to_string()));
        }
    }
    out
}

fn parse_console(console: &str) -> BTreeMap<String, Run> {
    let mut runs: BTreeMap<String, Run> = BTreeMap::new();
    let mut by_pid: BTreeMap<String, String> = BTreeMap::new();
    // The probe's lines first: AVC lines can come before the run's own
    // header (the audit thread prints later), so pids are mapped first.
    // The kernel prints to the same serial console: one of its messages can
    // land on a probe's line, before or after the probe's text
    // (`...result=ok[   43.65] audit: ...`). The probe's text is found
    // where it starts, and a result ends where a kernel timestamp begins.
    for line in console.lines() {
        let Some(at) = line.find("VMPROBE run=") else {
            continue;
        };
        let rest = &line[at + "VMPROBE run=".len()..];
        let (name, rest) = rest.split_once(' ').unwrap_or((rest, ""));
        let run = runs.entry(name.to_string()).or_default();
        if let Some(op) = rest.strip_prefix("op=") {
            let (op, result) = op.split_once(" result=").unwrap_or((op, "?"));
            let result = result.split(['[', ' ']).next().unwrap_or_default();
            run.results.push((op.to_string(), result.to_string()));
        } else if rest == "done" {
            run.done = true;
        } else {
            for w in rest.split_whitespace() {
                if let Some(pid) = w.strip_prefix("pid=") {
                    run.pid = pid.to_string();
                    by_pid.insert(pid.to_string(), name.to_string());
                } else if let Some(c) = w.strip_prefix("context=") {
                    run.context = c.to_string();
                }
            }
        }
    }
    for line in console.lines() {
        let Some(at) = line.find("audit: type=1400 ") else {
            continue;
        };
        let avc = &line[at..];
        let pid = avc
            .split_whitespace()
            .find_map(|w| w.strip_prefix("pid="))
            .unwrap_or_default();
        if let Some(name) = by_pid.get(pid) {
            runs.get_mut(name).unwrap().avcs.push(avc.to_string());
        }
    }
    runs
}

/// An AVC line without what changes from boot to boot: time stamp, serial,
/// pid and inode numbers.
fn normalise(avc: &str) -> String {
    avc.split(' ')
        .map(|w| {
            if w.starts_with("audit(") {
                "audit(TIME:SERIAL):".to_string()
            } else if let Some((key, _)) = w
                .split_once('=')
                .filter(|(k, _)| ["pid", "ino"].contains(k))
            {
                format!("{key}={}", key.to_uppercase())
            } else {
                w.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn write_initramfs(
    vm: &Vm,
    probe: &Path,
    kernel: &Path,
    policies: &[(&Variant, PathBuf)],
) -> PathBuf {
    let root = vm.dir.join("initramfs");
    let _ = std::fs::remove_dir_all(&root);
    for d in [
        "bin", "lib", "policies", "proc", "sys", "dev", "srv", "run", "tmp",
    ] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    std::fs::copy(&vm.busybox, root.join("bin/busybox")).unwrap();
    for applet in [
        "sh", "mount", "mkdir", "echo", "cat", "insmod", "rm", "sleep", "poweroff",
    ] {
        std::os::unix::fs::symlink("busybox", root.join("bin").join(applet)).unwrap();
    }
    std::fs::copy(probe, root.join("bin/vmprobe")).unwrap();
    std::fs::copy(kernel.join("tun.ko"), root.join("lib/tun.ko")).unwrap();
    std::fs::copy(
        manifest_dir().join("tests/support/vm/init"),
        root.join("init"),
    )
    .unwrap();
    for (v, policy) in policies {
        std::fs::copy(policy, root.join(format!("policies/{}.33", v.name))).unwrap();
        std::fs::write(
            root.join(format!("policies/{}.context", v.name)),
            format!("system_u:system_r:{}:s0", v.mode.domain()),
        )
        .unwrap();
    }
    let image = vm.dir.join("initramfs.cpio");
    let (ok, log) = run(Command::new("sh").current_dir(&root).arg("-c").arg(format!(
        "find . | LC_ALL=C sort | cpio -o -H newc --owner=0:0 --quiet > '{}'",
        image.display()
    )));
    assert!(ok, "cpio: {log}");
    image
}

/// Boots the VM and returns its console. KVM when a boot with it reaches
/// init within 10 s, else TCG.
fn boot(vm: &Vm, kernel: &Path, initramfs: &Path) -> (String, &'static str) {
    let console = vm.dir.join("console.log");
    let kvm = Path::new("/dev/kvm").exists();
    for accel in if kvm { vec!["kvm", "tcg"] } else { vec!["tcg"] } {
        let _ = std::fs::remove_file(&console);
        let mut child = Command::new(&vm.qemu)
            .args(["-accel", accel, "-m", "1024", "-smp", "1"])
            .args(["-nographic", "-no-reboot", "-monitor", "none"])
            .arg("-serial")
            .arg(format!("file:{}", console.display()))
            .arg("-kernel")
            .arg(kernel.join("vmlinuz"))
            .arg("-initrd")
            .arg(initramfs)
            .args([
                "-append",
                "console=ttyS0 panic=-1 lsm=selinux,capability security=selinux selinux=1",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting qemu");
        let start = Instant::now();
        let mut reached_init = false;
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                let text = std::fs::read_to_string(&console).unwrap_or_default();
                if text.contains("VMTEST end") {
                    return (text, accel);
                }
                let mut err = String::new();
                child
                    .stderr
                    .take()
                    .unwrap()
                    .read_to_string(&mut err)
                    .unwrap();
                if accel == "kvm" {
                    eprintln!("a KVM boot failed ({status}): {err}; trying TCG");
                    break;
                }
                panic!("the VM stopped before the end ({status}): {err}\n{text}");
            }
            if !reached_init {
                reached_init =
                    std::fs::read_to_string(&console).is_ok_and(|t| t.contains("VMTEST ready"));
            }
            let elapsed = start.elapsed();
            if !reached_init && accel == "kvm" && elapsed > Duration::from_secs(10) {
                eprintln!("a KVM boot did not reach init in 10 s; trying TCG");
                let _ = child.kill();
                let _ = child.wait();
                break;
            }
            if elapsed > Duration::from_secs(240) {
                let _ = child.kill();
                let _ = child.wait();
                let text = std::fs::read_to_string(&console).unwrap_or_default();
                panic!("the VM did not finish in 240 s:\n{text}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    unreachable!("TCG either finishes or panics")
}

fn cell(result: &str) -> &str {
    match result {
        "ok" => "ok",
        "skipped" => "-",
        r => r,
    }
}

#[test]
#[ignore = "boots a VM: scripts/vm-test, or cargo test --test vm -- --include-ignored"]
fn every_rule_is_proven_by_the_kernel() {
    let started = Instant::now();
    let vm = vm();
    let prepared = prepared_policy();
    let probe = build_probe(&vm);
    let kernel = fetch_kernel(&vm);
    let variants = variants();

    // semodule rebuilds the whole policy (about 5 s) per variant: one
    // worker per core.
    let queue = Mutex::new(variants.iter().collect::<Vec<_>>());
    let built = Mutex::new(Vec::new());
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    let Some(v) = queue.lock().unwrap().pop() else {
                        break;
                    };
                    let policy = build_policy(&vm, &prepared, v);
                    built.lock().unwrap().push((v, policy));
                }
            });
        }
    });
    let mut policies = built.into_inner().unwrap();
    policies.sort_by(|a, b| a.0.name.cmp(&b.0.name));
    let built_in = started.elapsed();

    // What the base policy gives the domain: the policy of the module
    // without its rules (the dedicated domain exists only with the module).
    let base: BTreeMap<Mode, Base> = [
        (Mode::Dedicated, "d-no-rules"),
        (Mode::Extend, "x-no-rules"),
    ]
    .into_iter()
    .map(|(mode, name)| {
        let (_, policy) = policies.iter().find(|(v, _)| v.name == name).unwrap();
        (mode, base_rules(&vm, policy, mode))
    })
    .collect();

    let initramfs = write_initramfs(&vm, &probe, &kernel, &policies);
    let boot_start = Instant::now();
    let (console, accel) = boot(&vm, &kernel, &initramfs);
    let booted_in = boot_start.elapsed();
    let runs = parse_console(&console);

    let mut failures = Vec::new();
    let mut table = String::new();
    let mut shown_necessary: BTreeSet<Perm> = BTreeSet::new();
    let golden = manifest_dir().join("tests/golden/vm");
    std::fs::create_dir_all(&golden).unwrap();
    let mut golden_files = BTreeSet::new();

    for (v, _) in &policies {
        if console.contains(&format!("VMTEST load-failed {}\n", v.name)) {
            failures.push(format!("{}: the kernel refused the policy", v.name));
            continue;
        }
        let expect = Expect {
            variant: v,
            base: &base[&v.mode],
        };
        let outcomes = expect.outcomes();
        let logged = expect.logged();
        for mode in ["enforcing", "permissive"] {
            let key = format!("{}.{mode}", v.name);
            let Some(r) = runs.get(&key) else {
                failures.push(format!("{key}: the probe did not run"));
                continue;
            };
            let context = format!("system_u:system_r:{}:s0", v.mode.domain());
            if r.context != context || !r.done {
                failures.push(format!(
                    "{key}: ran as {:?} (want {context}), finished: {}",
                    r.context, r.done
                ));
            }
            let got: BTreeMap<&str, &str> = r
                .results
                .iter()
                .map(|(o, res)| (o.as_str(), res.as_str()))
                .collect();
            let names: Vec<&str> = r.results.iter().map(|(o, _)| o.as_str()).collect();
            let want_names: Vec<&str> = OPS.iter().map(|o| o.name).collect();
            if names != want_names {
                failures.push(format!("{key}: the probe reported {names:?}"));
            }
            for op in OPS {
                let want = if mode == "permissive" {
                    "ok"
                } else {
                    outcomes[op.name]
                };
                let result = got.get(op.name).copied().unwrap_or("missing");
                let agrees = match want {
                    "denied" => result == "EACCES" || result == "EPERM",
                    w => result == w,
                };
                if !agrees {
                    failures.push(format!("{key}: {} gave {result}, expected {want}", op.name));
                }
            }
            let denied = denials(r, v.mode.domain());
            if mode == "permissive" && denied != logged {
                failures.push(format!(
                    "{key}: the kernel logged {denied:?}, expected exactly {logged:?}"
                ));
            }
            if mode == "enforcing" && !denied.is_subset(&logged) {
                failures.push(format!(
                    "{key}: the kernel logged {:?}, which the variant's rules should grant",
                    denied.difference(&logged).collect::<Vec<_>>()
                ));
            }
            let text: String = r.avcs.iter().map(|l| normalise(l) + "\n").collect();
            let file = golden.join(format!("{key}.log"));
            golden_files.insert(file.file_name().unwrap().to_owned());
            if let Err(e) = check_golden(&file, &text) {
                failures.push(e);
            }
        }
        // A template permission is shown necessary where taking it away
        // makes an operation fail in the enforcing run.
        if let Some(r) = runs.get(&format!("{}.enforcing", v.name)) {
            for op in OPS {
                let failed = r
                    .results
                    .iter()
                    .any(|(o, res)| o == op.name && (res == "EACCES" || res == "EPERM"));
                if failed && v.mode == Mode::Dedicated {
                    for n in op.needs.iter().filter(|n| !expect.granted(n)) {
                        if v.one_permission {
                            shown_necessary.insert(perm(n.rule_target, n.class, n.perm));
                        }
                    }
                }
            }
        }
    }

    // Stale golden files would hide a variant that no longer runs.
    for e in std::fs::read_dir(&golden).unwrap() {
        let name = e.unwrap().file_name();
        if !golden_files.contains(&name) {
            failures.push(format!(
                "tests/golden/vm/{}: no such variant",
                name.to_string_lossy()
            ));
        }
    }

    // Every permission of every template: necessary, or redundant on this
    // base policy as documented.
    let all = rule_perms(&full(Mode::Dedicated).generate().unwrap(), Mode::Dedicated);
    let exercised: BTreeSet<Perm> = OPS
        .iter()
        .flat_map(|o| o.needs.iter())
        .map(|n| perm(n.rule_target, n.class, n.perm))
        .collect();
    for p in &all {
        if !exercised.contains(p) {
            failures.push(format!("{p:?}: no operation exercises it"));
        }
    }
    let redundant: BTreeSet<Perm> = all.difference(&shown_necessary).cloned().collect();
    let documented: BTreeSet<Perm> = REDUNDANT_ON_DEBIAN
        .iter()
        .map(|(t, c, p, _)| perm(t, c, p))
        .collect();
    if redundant != documented {
        failures.push(format!(
            "permissions no operation is denied without: {redundant:?}; documented: {documented:?}"
        ));
    }
    for (t, c, p, why) in REDUNDANT_ON_DEBIAN {
        let objects: BTreeSet<&str> = OPS
            .iter()
            .flat_map(|o| o.needs.iter())
            .filter(|n| (n.rule_target, n.class, n.perm) == (*t, *c, *p))
            .map(|n| n.object)
            .collect();
        for object in objects {
            if !base[&Mode::Dedicated].allowed.contains(&(
                object.to_string(),
                c.to_string(),
                p.to_string(),
            )) {
                failures.push(format!("({t} {c} {p}) on {object}: documented as granted by the base policy ({why}), but sesearch says it is not"));
            }
        }
    }

    // The table.
    let columns: Vec<&Variant> = policies
        .iter()
        .map(|(v, _)| *v)
        .filter(|v| !v.one_permission)
        .collect();
    writeln!(
        table,
        "VM: {accel}, {} policies, built in {:.0?}, boot and probe runs {:.0?}",
        policies.len(),
        built_in,
        booted_in
    )
    .unwrap();
    writeln!(table, "operations and the template permissions they need:").unwrap();
    for op in OPS {
        let needs: BTreeSet<String> = op
            .needs
            .iter()
            .map(|n| format!("{} {} {} on {}", n.rule_target, n.class, n.perm, n.object))
            .collect();
        writeln!(
            table,
            "  {:<10} {:<13} {}; needs {}",
            op.group.name(),
            op.name,
            op.what,
            if needs.is_empty() {
                "no template rule".to_string()
            } else {
                needs.into_iter().collect::<Vec<_>>().join(", ")
            }
        )
        .unwrap();
    }
    writeln!(
        table,
        "enforcing results (- skipped: a prerequisite failed):"
    )
    .unwrap();
    write!(table, "{:<14}", "operation").unwrap();
    for v in &columns {
        write!(table, " {:>16}", v.name).unwrap();
    }
    writeln!(table).unwrap();
    for op in OPS {
        write!(table, "{:<14}", op.name).unwrap();
        for v in &columns {
            let r = runs
                .get(&format!("{}.enforcing", v.name))
                .and_then(|r| r.results.iter().find(|(o, _)| o == op.name))
                .map_or("?", |(_, res)| res.as_str());
            write!(table, " {:>16}", cell(r)).unwrap();
        }
        writeln!(table).unwrap();
    }
    writeln!(table, "one permission taken away (enforcing run):").unwrap();
    for (v, _) in &policies {
        if !v.one_permission {
            continue;
        }
        let p = v.removed.iter().next().unwrap();
        let r = runs.get(&format!("{}.enforcing", v.name));
        let failed: Vec<String> = r
            .map(|r| {
                r.results
                    .iter()
                    .filter(|(_, res)| res != "ok" && res != "skipped")
                    .map(|(o, res)| format!("{o} {res}"))
                    .collect()
            })
            .unwrap_or_default();
        let logged: Vec<String> = r
            .map(|r| {
                denials(r, v.mode.domain())
                    .into_iter()
                    .map(|(t, c, p)| format!("{t}:{c} {p}"))
                    .collect()
            })
            .unwrap_or_default();
        writeln!(
            table,
            "  ({} ({} ({}))): fails {}; kernel denies {}",
            p.0,
            p.1,
            p.2,
            if failed.is_empty() {
                "nothing".into()
            } else {
                failed.join(", ")
            },
            if logged.is_empty() {
                "nothing (logged)".into()
            } else {
                logged.join(", ")
            }
        )
        .unwrap();
    }
    writeln!(table, "total {:.0?}", started.elapsed()).unwrap();
    println!("{table}");
    std::fs::write(vm.dir.join("table.txt"), &table).unwrap();
    assert!(
        failures.is_empty(),
        "{} mismatches between the kernel and the rules:\n{}\n\n{table}",
        failures.len(),
        failures.join("\n")
    );
}

/// The harness module grants nothing that a rule group grants, so no group
/// can pass in the VM thanks to the harness.
// Every group's rules are compared: `passt` must be compiled in.
#[cfg(feature = "passt")]
#[test]
fn the_harness_grants_nothing_a_group_grants() {
    let text =
        std::fs::read_to_string(manifest_dir().join("tests/support/vm/harness.cil")).unwrap();
    let harness = cilgen::parse(&text).unwrap();
    let mut granted = BTreeSet::new();
    let mut stmts = harness.statements.clone();
    edit_rules(&mut stmts, &mut |r| {
        let (class, perms) = perm_names(&r.classperms);
        if r.source.as_str() == "process" {
            let target = match r.target.as_str() {
                "process" => "self",
                t => t,
            };
            for p in perms {
                granted.insert(perm(target, &class, &p));
            }
        }
        true
    });
    assert!(granted.len() > 10, "{granted:?}");
    let groups = rule_perms(&full(Mode::Dedicated).generate().unwrap(), Mode::Dedicated);
    let both: Vec<_> = granted.intersection(&groups).collect();
    assert!(both.is_empty(), "the harness grants {both:?}");
}

/// Every variant differs from the full module in what its name says.
// Every group's rules are compared: `passt` must be compiled in.
#[cfg(feature = "passt")]
#[test]
fn variants_take_away_what_they_say() {
    let vs = variants();
    let all = rule_perms(&full(Mode::Dedicated).generate().unwrap(), Mode::Dedicated);
    assert_eq!(all.len(), 23);
    let singles: Vec<&Variant> = vs.iter().filter(|v| v.one_permission).collect();
    assert_eq!(singles.len(), all.len());
    for v in singles {
        assert_eq!(v.removed.len(), 1, "{}", v.name);
        let p = v.removed.iter().next().unwrap();
        assert_eq!(v.name, format!("d-without-{}-{}-{}", p.0, p.1, p.2));
    }
    let by_name = |n: &str| vs.iter().find(|v| v.name == n).unwrap();
    assert!(by_name("d-all").removed.is_empty());
    assert!(by_name("x-all").removed.is_empty());
    assert_eq!(by_name("d-no-rules").removed, all);
    assert_eq!(
        by_name("d-without-multiqueue").removed,
        ["relabelfrom", "relabelto", "attach_queue"]
            .iter()
            .map(|p| perm("self", "tun_socket", p))
            .collect()
    );
    assert!(by_name("d-narrow-proc").narrow_proc && by_name("d-narrow-proc").removed.is_empty());
    let base_only = &by_name("x-base-only").removed;
    assert!(base_only.iter().all(|(t, _, _)| t != "proc_type"));
    assert_eq!(base_only.len(), all.len() - 4);
}

/// The console reader on lines as the kernel and the probe print them.
#[test]
fn console_lines_are_read_and_normalised() {
    let console = "\
[    2.06] audit: type=1400 audit(1795933626.375:5): avc:  denied  { transition } for  pid=94 comm=\"vmprobe\" path=\"/bin/vmprobe\" dev=\"rootfs\" ino=20 scontext=system_u:system_r:kernel_t:s0 tcontext=system_u:system_r:d.process:s0 tclass=process permissive=0
VMPROBE run=v.enforcing pid=94 context=system_u:system_r:d.process:s0
VMPROBE run=v.enforcing op=queue-open result=EACCES
VMPROBE run=v.enforcing op=hp-mkdir result=ok[    2.14] audit: type=1400 audit(1795933626.452:20): avc:  denied  { relabelfrom relabelto } for  pid=94 comm=\"vmprobe\" scontext=system_u:system_r:d.process:s0 tcontext=system_u:system_r:d.process:s0 tclass=tun_socket permissive=1
[    2.15] audit: type=1400 audit(1795933626.452:21): avc:  denied  { read } for  pid=95 comm=\"vmprobe\" ino=7 scontext=system_u:system_r:d.process:s0 tcontext=system_u:object_r:proc_kcore_t:s0 tclass=file permissive=1
VMPROBE run=v.enforcing done
";
    let runs = parse_console(console);
    let r = &runs["v.enforcing"];
    assert_eq!(r.pid, "94");
    assert_eq!(r.context, "system_u:system_r:d.process:s0");
    assert!(r.done);
    // A kernel message printed onto the probe's line is not its result.
    assert_eq!(
        r.results,
        [
            ("queue-open".to_string(), "EACCES".to_string()),
            ("hp-mkdir".to_string(), "ok".to_string())
        ]
    );
    // pid 95 is another process: its line is not this run's.
    assert_eq!(r.avcs.len(), 2);
    assert_eq!(
        denials(r, "d.process"),
        [
            (
                "self".to_string(),
                "tun_socket".to_string(),
                "relabelfrom".to_string()
            ),
            (
                "self".to_string(),
                "tun_socket".to_string(),
                "relabelto".to_string()
            ),
        ]
        .into_iter()
        .collect()
    );
    assert_eq!(
        normalise(&r.avcs[0]),
        "audit: type=1400 audit(TIME:SERIAL): avc:  denied  { transition } for  pid=PID comm=\"vmprobe\" path=\"/bin/vmprobe\" dev=\"rootfs\" ino=INO scontext=system_u:system_r:kernel_t:s0 tcontext=system_u:system_r:d.process:s0 tclass=process permissive=0"
    );
}
