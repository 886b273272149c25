//! The `emit` and `fmt` examples as a user runs them.

mod common;

use std::path::PathBuf;

fn example(name: &str) -> PathBuf {
    // Integration tests live in target/<profile>/deps; examples beside it.
    let exe = std::env::current_exe().unwrap();
    let path = exe
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples")
        .join(name);
    assert!(
        path.exists(),
        "{} is not built (cargo test builds examples)",
        path.display()
    );
    path
}

fn run(name: &str, args: &[&str], stdin: &str) -> (i32, String, String) {
    common::run_with_input(&example(name), args, stdin)
}

#[test]
fn emit_without_arguments_prints_the_default_module() {
    let (code, out, err) = run("emit", &[], "");
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        cilgen::virt_launcher::VirtLauncher::new()
            .generate()
            .unwrap()
            .to_string()
    );
    assert!(out.contains("(block virt_launcher\n"));
    for rule in [
        "(allow process self (tun_socket (relabelfrom relabelto attach_queue)))",
        "(allow process proc_type (file (getattr open read)))",
        "(allow process self (netlink_audit_socket (nlmsg_relay)))",
        "(allow process hugetlbfs_t (dir (add_name create write remove_name rmdir setattr)))",
        "(allow process hugetlbfs_t (file (create unlink)))",
        "(allow process nfs_t (dir (mounton)))",
        "(allow process proc_t (dir (mounton)))",
        "(allow process proc_t (filesystem (mount unmount)))",
    ] {
        assert!(out.contains(rule), "{rule}");
    }
    let (_, again, _) = run("emit", &[], "");
    assert_eq!(again, out, "output must be byte-identical from run to run");
}

#[test]
fn emit_options_select_groups_and_modes() {
    let (code, out, _) = run("emit", &["--only", "multiqueue"], "");
    assert_eq!(code, 0);
    assert!(out.contains("tun_socket") && !out.contains("hugetlbfs_t") && !out.contains("nfs_t"));
    let (code, out, _) = run("emit", &["--without", "hugepages,virtiofs"], "");
    assert_eq!(code, 0);
    assert!(out.contains("tun_socket") && !out.contains("hugetlbfs_t"));
    let (code, out, _) = run("emit", &["--domain", "container_t"], "");
    assert_eq!(code, 0);
    assert!(out.contains("(allow container_t self (tun_socket") && !out.contains("(block"));
    assert!(out.contains("Every pod running as container_t"));
    let (code, out, _) = run(
        "emit",
        &["--block", "kv_launcher", "--portable", "--narrow-proc"],
        "",
    );
    assert_eq!(code, 0);
    assert!(
        out.contains("(block kv_launcher\n")
            && out.contains("(optional svirt_sandbox_domain_membership")
    );
    assert!(out.contains("(allow process proc_readable (file (getattr open read)))"));
    let (code, out, _) = run("emit", &["--help"], "");
    assert_eq!(code, 0);
    assert!(out.contains("--narrow-proc"));
}

#[test]
fn emit_rejects_bad_input_with_nothing_on_stdout() {
    for args in [
        &["--domain", "x) (allow y"][..],
        &["--block", "a.b"],
        &["--only", "multiqueue,bogus"],
        &["--frobnicate"],
        &["--domain"],
        &["--domain", "container_t", "--portable"],
        &["--scc", "--namespace", "Not_A_Namespace"],
        &["--format", "yaml"],
        &["--format", "spo", "--block", "vl"],
        &["--format", "spo-raw"],
        &["--format", "spo", "--name", "virt_launcher"],
    ] {
        let (code, out, err) = run("emit", args, "");
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(out.is_empty(), "{args:?} printed {out}");
        assert!(err.starts_with("emit: "), "{args:?}: {err}");
    }
}

#[test]
fn emit_scc_prints_the_constraints_as_json() {
    let (code, out, err) = run("emit", &["--scc", "--namespace", "openshift-cnv"], "");
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("\"system:serviceaccount:openshift-cnv:kubevirt-controller\""));
    assert!(out.contains("\"allowPrivilegedContainer\": false"));
    let (code, out, _) = run("emit", &["--scc", "--without-capability", "SYS_PTRACE"], "");
    assert_eq!(code, 0);
    assert!(!out.contains("SYS_PTRACE") && out.contains("SYS_NICE"));
}

#[test]
fn fmt_prints_canonical_text_and_checks() {
    let (code, out, _) = run("fmt", &[], "(type  a )( allow a self (file (read)))");
    assert_eq!(code, 0);
    assert_eq!(out, "(type a)\n(allow a self (file (read)))\n");
    let (code, out, _) = run("fmt", &["--check"], "(type a)\n");
    assert_eq!((code, out.as_str()), (0, ""));
    let (code, out, err) = run("fmt", &["--check", "-"], "(type  a)");
    assert_eq!((code, out.as_str()), (1, ""));
    assert!(err.contains("not in canonical form"));
}

#[test]
fn fmt_reports_errors_with_position_and_writes_nothing() {
    let (code, out, err) = run("fmt", &["-"], "(type a)\n(allow a b)\n");
    assert_eq!(code, 1);
    assert!(out.is_empty());
    assert_eq!(
        err,
        "<stdin>:2:1: `allow` expects (allow SOURCE TARGET CLASSPERMS), found 2 arguments\n(allow a b)\n^^^^^^^^^^^\n"
    );
    let dir = common::temp_dir("fmt-cli");
    let bad = dir.join("bad.cil");
    std::fs::write(&bad, b"(type \xff)").unwrap();
    let (code, out, err) = run("fmt", &[bad.to_str().unwrap()], "");
    assert_eq!(code, 1);
    assert!(out.is_empty());
    assert!(err.contains("not valid UTF-8 at byte 6"), "{err}");
    let (code, _, _) = run("fmt", &["--bogus"], "");
    assert_eq!(code, 2);
    let (code, out, _) = run("fmt", &[dir.join("missing.cil").to_str().unwrap()], "");
    assert_eq!((code, out.as_str()), (1, ""));
}
