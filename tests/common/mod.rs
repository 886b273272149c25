//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod exhaustive;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use pretty_assertions::assert_eq;

/// `src` is canonical: it parses, prints back byte for byte, and the
/// reprint parses to the same AST.
pub fn assert_roundtrip(src: &str) {
    assert_parses_to(src, src);
}

/// `src` parses and prints as `canonical`, which is itself canonical.
pub fn assert_parses_to(src: &str, canonical: &str) {
    let policy = cilgen::parse(src).unwrap_or_else(|e| panic!("{e}"));
    let printed = policy.to_string();
    assert_eq!(printed, canonical);
    let again = cilgen::parse(&printed).unwrap_or_else(|e| panic!("reprint: {e}"));
    assert_eq!(again, policy);
    assert_eq!(again.to_string(), printed);
}

/// Whether golden files are to be rewritten (`CILGEN_BLESS=1 cargo test`).
pub fn bless() -> bool {
    std::env::var_os("CILGEN_BLESS").is_some_and(|v| v == "1")
}

pub fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `*.cil` files of a folder, sorted.
pub fn cil_files(dir: &Path) -> Vec<PathBuf> {
    files_with_extension(dir, "cil")
}

/// The files of `dir` ending in `.EXT`, sorted.
pub fn files_with_extension(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    files.sort();
    files
}

/// The SELinux tool `name`. The tests that need the toolchain are
/// `#[ignore]`d, so a plain `cargo test` reports them as ignored, never as
/// passed; run on purpose (`scripts/test`, `--include-ignored`), a missing
/// tool fails them with the command that installs it.
pub fn tool(name: &str) -> PathBuf {
    for dir in ["/usr/bin", "/usr/sbin", "/sbin"] {
        let path = Path::new(dir).join(name);
        if path.exists() {
            return path;
        }
    }
    if Command::new(name).arg("--help").output().is_ok() {
        return PathBuf::from(name);
    }
    panic!(
        "`{name}` is not installed: scripts/install-toolchain installs it (apt-get install secilc \
         semodule-utils policycoreutils setools checkpolicy selinux-policy-default \
         selinux-policy-dev selinux-policy-src)"
    );
}

/// Runs a command; returns (success, combined output).
pub fn run(cmd: &mut Command) -> (bool, String) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// Where integration tests keep their files: cargo's folder for them,
/// under whatever target directory the build uses (`CARGO_TARGET_DIR`
/// included), never the source tree.
pub fn tmp_root() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
}

/// A fresh temporary folder under [`tmp_root`].
pub fn temp_dir(label: &str) -> PathBuf {
    let dir = tmp_root().join(format!("{label}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Compares `actual` with the golden file at `path` (rewriting it first
/// under `CILGEN_BLESS=1`); returns a readable failure.
pub fn check_golden(path: &Path, actual: &str) -> Result<(), String> {
    let name = path.file_name().unwrap().to_string_lossy();
    if bless() {
        std::fs::write(path, actual).unwrap();
    }
    match std::fs::read_to_string(path) {
        Ok(expected) if expected == actual => Ok(()),
        Ok(expected) => Err(format!(
            "{name}: differs from the golden file:\n{}",
            pretty_assertions::StrComparison::new(&expected, actual)
        )),
        Err(_) => Err(format!("{name}: no golden file (run with CILGEN_BLESS=1)")),
    }
}

/// The Debian policy pieces the toolchain tests compile against
/// (`tests/support/prepare-policy.sh`), prepared once per target
/// directory: in a folder of its own first, then renamed into place, so a
/// test never reads a half-written module, and once per process.
pub fn prepared_policy() -> PathBuf {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tmp_root().join("policy");
        if !dir.join("ready").exists() {
            let scratch = tmp_root().join(format!("policy-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&scratch);
            let (ok, log) = run(Command::new("bash")
                .arg(manifest_dir().join("tests/support/prepare-policy.sh"))
                .arg(&scratch));
            assert!(ok, "preparing the policy: {log}");
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::rename(&scratch, &dir).unwrap();
        }
        dir
    })
    .clone()
}

/// Runs `program` with `args`, `stdin` on its standard input; returns
/// (exit code, standard output, standard error).
pub fn run_with_input(program: &Path, args: &[&str], stdin: &str) -> (i32, String, String) {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
    // A program may exit before reading all its input (a usage error, a
    // refusal): what it printed and its exit code are what the tests check.
    if let Err(e) = child.stdin.take().unwrap().write_all(stdin.as_bytes()) {
        assert_eq!(
            e.kind(),
            std::io::ErrorKind::BrokenPipe,
            "writing to {}: {e}",
            program.display()
        );
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// Debian's modules as CIL in `prepared/modules`, base first, then sorted:
/// the order a store compiles them in.
pub fn debian_modules(prepared: &Path) -> Vec<PathBuf> {
    let mods = prepared.join("modules");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&mods)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "cil"))
        .filter(|p| p.file_name().is_some_and(|n| n != "base.cil"))
        .collect();
    files.sort();
    files.insert(0, mods.join("base.cil"));
    files
}

/// A private copy of the system store under `root`, as `semodule -p ROOT`
/// wants it (with `semanage.conf`, so it behaves as on a node).
pub fn store_copy(root: &Path) {
    std::fs::create_dir_all(root.join("var/lib/selinux")).unwrap();
    std::fs::create_dir_all(root.join("etc/selinux")).unwrap();
    let (ok, log) = run(Command::new("cp")
        .arg("-a")
        .arg("/var/lib/selinux/default")
        .arg(root.join("var/lib/selinux/")));
    assert!(ok, "copying the store: {log}");
    std::fs::copy(
        "/etc/selinux/semanage.conf",
        root.join("etc/selinux/semanage.conf"),
    )
    .unwrap();
}

/// An allow rule's (target, class, permission); `self` where the target
/// is the source.
pub type Grant = (String, String, String);

/// Unconditional allow rules by source, of the sources `regex` matches
/// exactly (`sesearch -ds`: not through their attributes). One sesearch
/// call: each takes most of a second.
pub fn allow_grants(
    sesearch: &Path,
    policy: &Path,
    regex: &str,
) -> BTreeMap<String, BTreeSet<Grant>> {
    let (ok, log) = run(Command::new(sesearch)
        .args(["--allow", "-rs", "-ds", "-s", regex])
        .arg(policy));
    assert!(ok, "sesearch: {log}");
    let mut out: BTreeMap<String, BTreeSet<Grant>> = BTreeMap::new();
    for line in log
        .lines()
        .filter(|l| l.starts_with("allow ") && !l.contains("]:"))
    {
        let body = line.trim_end_matches(';').trim_end();
        let mut words = body.split_whitespace().skip(1);
        let source = words.next().unwrap().to_string();
        let (target, class) = words.next().unwrap().split_once(':').unwrap();
        let target = if target == source { "self" } else { target };
        let entry = out.entry(source.clone()).or_default();
        for perm in words.filter(|w| *w != "{" && *w != "}") {
            entry.insert((target.to_string(), class.to_string(), perm.to_string()));
        }
    }
    out
}

/// The attributes of type `ty` (`seinfo -t TY -x`).
pub fn type_attributes(seinfo: &Path, policy: &Path, ty: &str) -> BTreeSet<String> {
    let (ok, log) = run(Command::new(seinfo).arg(policy).args(["-t", ty, "-x"]));
    assert!(ok, "seinfo: {log}");
    let line = log
        .lines()
        .find(|l| l.trim_start().starts_with(&format!("type {ty}")))
        .unwrap_or_else(|| panic!("seinfo does not list {ty}:\n{log}"));
    line.trim()
        .trim_end_matches(';')
        .split(", ")
        .skip(1)
        .map(String::from)
        .collect()
}

/// Every subset of the virt-launcher module's optional groups that this
/// build has compiled in (all of them under `--all-features`, as
/// `scripts/test` runs).
pub fn group_combinations() -> Vec<Vec<cilgen::virt_launcher::Group>> {
    use cilgen::virt_launcher::Group;
    (0..16u8)
        .map(|mask| {
            Group::OPTIONAL
                .into_iter()
                .enumerate()
                .filter(|(i, _)| mask & (1 << i) != 0)
                .map(|(_, g)| g)
                .collect::<Vec<_>>()
        })
        .filter(|gs| gs.iter().all(|g| g.is_compiled_in()))
        .collect()
}

/// The kernel's `object_r` holds every type implicitly and is listed
/// empty: it is left out, and so are users' `object_r`.
pub type Members = BTreeMap<String, BTreeSet<String>>;

pub fn roles_and_users(policy: &Path) -> (Members, Members) {
    let read = |flag: &str, keyword: &str, list: &str| -> Members {
        let (ok, text) = run(Command::new(tool("seinfo")).args([flag, "-x"]).arg(policy));
        assert!(ok, "seinfo: {text}");
        let mut out = Members::new();
        for line in text.lines().map(str::trim) {
            let Some(rest) = line.strip_prefix(keyword) else {
                continue;
            };
            let mut words = rest.split_whitespace();
            let Some(name) = words.next() else { continue };
            if name == "object_r" || words.next() != Some(list) {
                continue;
            }
            let mut members = BTreeSet::new();
            let first = words.next().unwrap_or_default();
            if first == "{" {
                for w in words.by_ref() {
                    if w == "};" || w == "}" {
                        break;
                    }
                    members.insert(w.to_string());
                }
            } else {
                members.insert(first.trim_end_matches(';').to_string());
            }
            out.insert(name.to_string(), members);
        }
        out
    };
    (read("-r", "role ", "types"), read("-u", "user ", "roles"))
}

/// The default virt-launcher module, written to `virt_launcher.cil` in a
/// fresh folder named after `label`.
pub fn default_module(label: &str) -> PathBuf {
    let module = temp_dir(label).join("virt_launcher.cil");
    let text = cilgen::virt_launcher::VirtLauncher::new()
        .generate()
        .unwrap()
        .to_string();
    std::fs::write(&module, text).unwrap();
    module
}
