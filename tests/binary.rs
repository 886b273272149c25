//! The `cilgen` command as a user runs it: its output, its messages and its
//! exit status (0 done, 1 findings, 2 usage).
#![cfg(feature = "cli")]

mod common;

use indoc::indoc;

fn cilgen(args: &[&str], stdin: &str) -> (i32, String, String) {
    common::run_with_input(
        std::path::Path::new(env!("CARGO_BIN_EXE_cilgen")),
        args,
        stdin,
    )
}

fn file(dir: &std::path::Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

const NODE: &str = indoc! {"
    (class file (read write getattr))
    (classorder (file))
    (type proc_t)
    (type kernel_t)
    (typeattribute domain)
    (typeattributeset domain (kernel_t))
    (allow domain proc_t (file (getattr)))
"};

#[test]
fn emit_prints_the_module_and_refuses_bad_options() {
    let (code, out, err) = cilgen(&["emit"], "");
    assert_eq!(code, 0, "{err}");
    let expected = cilgen::virt_launcher::VirtLauncher::new()
        .generate()
        .unwrap()
        .to_string();
    assert_eq!(out, expected);
    let (code, out, err) = cilgen(&["emit", "--only", "bogus"], "");
    assert_eq!((code, out.as_str()), (2, ""));
    assert!(err.contains("unknown rule group `bogus`"), "{err}");
    let (code, _, _) = cilgen(&["emit", "--no-such-flag"], "");
    assert_eq!(code, 2);
    let (code, out, _) = cilgen(&["scc", "--namespace", "kv"], "");
    assert_eq!(code, 0);
    assert!(out.contains("system:serviceaccount:kv:kubevirt-controller"));
}

#[test]
fn emit_writes_spo_manifests_and_refuses_what_spo_cannot_take() {
    use cilgen::virt_launcher::{VirtLauncher, spo};
    let (code, out, err) = cilgen(&["emit", "--format", "spo"], "");
    assert_eq!(code, 0, "{err}");
    let expected = spo::selinux_profile(&VirtLauncher::new(), "virt-launcher").unwrap();
    assert_eq!(out, expected.to_yaml());
    let (code, out, err) = cilgen(
        &[
            "emit",
            "--format",
            "spo-raw",
            "--name",
            "vl-extra",
            "--domain",
            "virt-launcher.process",
            "--only",
            "multiqueue",
        ],
        "",
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("kind: RawSelinuxProfile\n"), "{out}");
    assert!(
        out.contains("(allow virt-launcher.process self (tun_socket"),
        "{out}"
    );
    for (args, message) in [
        (
            &["emit", "--format", "spo-raw"][..],
            "cannot declare a domain",
        ),
        (
            &["emit", "--format", "spo", "--domain", "container_t"],
            "declares its own domain",
        ),
        (
            &["emit", "--format", "spo", "--name", "Virt"],
            "cannot name",
        ),
        (&["emit", "--format", "spo", "--block", "vl"], "use --name"),
        (
            &["emit", "--format", "spo", "--narrow-proc"],
            "--narrow-proc",
        ),
        (&["emit", "--format", "yaml"], "invalid value"),
    ] {
        let (code, out, err) = cilgen(args, "");
        assert_eq!((code, out.as_str()), (2, ""), "{args:?}");
        assert!(err.contains(message), "{args:?}: {err}");
    }
}

#[test]
fn fmt_checks_and_rewrites() {
    let dir = common::temp_dir("binary-fmt");
    let messy = file(&dir, "messy.cil", "(type  a )\n");
    let (code, _, err) = cilgen(&["fmt", "--check", &messy], "");
    assert_eq!(code, 1);
    assert!(err.contains("not in canonical form"), "{err}");
    let (code, _, _) = cilgen(&["fmt", "-w", &messy], "");
    assert_eq!(code, 0);
    assert_eq!(std::fs::read_to_string(&messy).unwrap(), "(type a)\n");
    let (code, out, _) = cilgen(&["fmt"], "(allow a  b (file (read)))");
    assert_eq!((code, out.as_str()), (0, "(allow a b (file (read)))\n"));
    let (code, out, err) = cilgen(&["fmt"], "(allow a b)");
    assert_eq!((code, out.as_str()), (1, ""));
    assert!(err.starts_with("<stdin>:1:1: `allow` expects"), "{err}");
}

#[test]
fn check_reports_every_problem_at_its_place() {
    let dir = common::temp_dir("binary-check");
    let node = file(&dir, "node.cil", NODE);
    let clean = file(&dir, "clean.cil", "(allow kernel_t proc_t (file (read)))\n");
    let (code, _, err) = cilgen(&["check", "--against", &node, &clean], "");
    assert_eq!(code, 0, "{err}");
    let broken = file(
        &dir,
        "broken.cil",
        indoc! {"
            (allow kernel_t proc_t (file (raed)))
            (allow kernel_t nowhere_t (file (read)))
            (optional extra
                (allow kernel_t gone_t (file (write)))
            )
        "},
    );
    let (code, _, err) = cilgen(&["check", "--against", &node, &broken], "");
    assert_eq!(code, 1);
    assert!(
        err.contains(indoc! {"
            broken.cil:2:17: error[E0201]: `nowhere_t` does not resolve (a type or type attribute was expected)
              |
            2 | (allow kernel_t nowhere_t (file (read)))
              |                 ^^^^^^^^^ not declared
        "}),
        "{err}"
    );
    assert!(
        err.contains(indoc! {"
            broken.cil:4:21: warning[W0201]: optional `extra` would be dropped without a message: `gone_t` does not resolve (a type or type attribute was expected)
              |
            3 | (optional extra
              | --------- this optional is dropped
            4 |     (allow kernel_t gone_t (file (write)))
              |                     ^^^^^^ not declared
        "}),
        "{err}"
    );
    // Found by the validator and by the resolver, said once.
    assert_eq!(
        err.matches("class `file` has no permission `raed`").count(),
        1,
        "{err}"
    );
    // A rule the node already grants is a note, not a finding.
    let redundant = file(
        &dir,
        "redundant.cil",
        "(allow kernel_t proc_t (file (getattr)))\n",
    );
    let (code, _, err) = cilgen(&["check", "--against", &node, &redundant], "");
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("note[N0201]: the node's policy already grants this rule"),
        "{err}"
    );
    let (code, _, err) = cilgen(&["check", "--release", "9.9", &clean], "");
    assert_eq!(code, 2, "{err}");
}

#[test]
fn query_finds_rules_through_attributes_with_their_place() {
    let dir = common::temp_dir("binary-query");
    let node = file(&dir, "node.cil", NODE);
    let module = file(
        &dir,
        "module.cil",
        "(allow kernel_t proc_t (file (read)))\n",
    );
    let (code, out, err) = cilgen(
        &[
            "query", "--allow", "-s", "kernel_t", "-t", "proc_t", "-c", "file", &node, &module,
        ],
        "",
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        format!(
            "{node}:7:1: allow domain proc_t:file {{ getattr }};\n\
             {module}:1:1: allow kernel_t proc_t:file {{ read }};\n\
             permissions per class:\n  file: getattr read\n"
        )
    );
    let (code, out, _) = cilgen(
        &[
            "query", "--allow", "-s", "kernel_t", "-p", "read", "--json", &node, &module,
        ],
        "",
    );
    assert_eq!(code, 0);
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(json["rules"].as_array().unwrap().len(), 1);
    assert_eq!(json["rules"][0]["line"], 1);
    assert_eq!(json["permissions"]["file"], serde_json::json!(["read"]));
}

/// `cilgen audit` on a log: the groups with what grants each, as a table,
/// JSON or a module of proposed rules; a malformed line is reported and
/// skipped.
#[test]
fn audit_groups_denials_and_says_what_grants_them() {
    let log = indoc! {r#"
        type=AVC msg=audit(1.2:3): avc:  denied  { attach_queue } for  pid=1 comm="qemu-kvm" scontext=system_u:system_r:virt_launcher.process:s0 tcontext=system_u:system_r:virt_launcher.process:s0 tclass=tun_socket permissive=0
        type=AVC msg=audit(1.2:4): avc:  denied  { attach_queue } for  pid=1 comm="qemu-kvm" scontext=system_u:system_r:virt_launcher.process:s0 tcontext=system_u:system_r:virt_launcher.process:s0 tclass=tun_socket permissive=1
        type=AVC msg=audit(1.2:5): avc:  denied  { read }
        type=AVC msg=audit(1.2:6): avc:  denied  { write } for  pid=1 comm="qemu-kvm" scontext=system_u:system_r:virt_launcher.process:s0 tcontext=system_u:object_r:etc_t:s0 tclass=file permissive=0
    "#};
    let (code, table, err) = cilgen(&["audit"], log);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("<stdin>:3: skipped:") || err.contains("-:3: skipped:"),
        "{err}"
    );
    assert!(
        table.contains("tun_socket { attach_queue }: 2 denial(s), 1 enforcing, 1 permissive"),
        "{table}"
    );
    assert!(table.contains("rule group multiqueue"), "{table}");
    assert!(table.contains("nothing grants it"), "{table}");
    let (_, json, _) = cilgen(&["audit", "--format", "json"], log);
    let rows: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(rows[0]["rule_groups"][0], "multiqueue", "{json}");
    assert_eq!(rows[1]["count"], 1);
    let (_, cil, _) = cilgen(&["audit", "--format", "cil"], log);
    let module = cilgen::parse(&cil).unwrap();
    assert!(
        cil.contains("(allow virt_launcher.process etc_t (file (write)))"),
        "{cil}"
    );
    assert_eq!(module.to_string(), cil);
    let (code, _, err) = cilgen(&["audit", "--format", "yaml"], log);
    assert_eq!(code, 2, "{err}");
}
