//! The audit reader on the kernel's own denials (the VM tests' golden
//! logs), and on any input.

mod common;

use cilgen::audit::{Outcome, Reader, parse_line};
use common::manifest_dir;
use proptest::prelude::*;

/// The golden logs with their normalised fields given values again.
fn kernel_lines() -> Vec<(String, String)> {
    let dir = manifest_dir().join("tests/golden/vm");
    let mut out = Vec::new();
    for f in common::files_with_extension(&dir, "log") {
        let text = std::fs::read_to_string(&f).unwrap();
        for line in text.lines() {
            let line = line
                .replace("TIME:SERIAL", "1732870000.123:4242")
                .replace("pid=PID", "pid=812")
                .replace("ino=INO", "ino=4026532");
            out.push((f.file_name().unwrap().to_string_lossy().into(), line));
        }
    }
    out
}

#[test]
fn every_kernel_denial_of_the_vm_tests_reads() {
    let lines = kernel_lines();
    assert!(lines.len() > 100, "only {} lines", lines.len());
    for (file, line) in &lines {
        let r = parse_line(line)
            .unwrap_or_else(|| panic!("{file}: not a record: {line}"))
            .unwrap_or_else(|e| panic!("{file}: {e}: {line}"));
        assert_eq!(r.outcome, Outcome::Denied, "{line}");
        assert!(!r.permissions.is_empty());
        assert_eq!(r.serial, Some(4242));
        assert_eq!(r.pid, Some(812));
        assert_eq!(r.comm.as_deref(), Some("vmprobe"), "{line}");
        assert!(!r.source.ty.is_empty() && !r.target.ty.is_empty() && !r.class.is_empty());
        // The VM tests run each policy enforcing, then permissive.
        let want = file.contains(".permissive.");
        assert_eq!(r.permissive, Some(want), "{file}: {line}");
    }
}

#[test]
fn a_log_streams_through_the_reader() {
    let text: String = kernel_lines()
        .into_iter()
        .flat_map(|(_, l)| [l, "type=SYSCALL msg=audit(1.2:3): arch=c000003e".into()])
        .map(|l| l + "\n")
        .collect();
    let records: Vec<_> = Reader::new(text.as_bytes()).collect();
    assert_eq!(records.len(), kernel_lines().len());
    assert!(records.iter().all(Result::is_ok));
    // Lines are numbered in the file: every other line is a syscall record.
    assert_eq!(records[1].as_ref().unwrap().line, 3);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn no_line_makes_the_reader_panic(
        prefix in prop::sample::select(vec!["type=AVC ", "type=USER_AVC ", "type=SELINUX_ERR ", "audit: type=1400 ", "node=x type=AVC ", ""]),
        body in "[ -~]{0,120}",
    ) {
        let line = format!("{prefix}{body}");
        let _ = parse_line(&line);
        let _ = Reader::new(line.as_bytes()).count();
    }

    #[test]
    fn mutated_kernel_denials_never_panic(
        at in any::<prop::sample::Index>(),
        cut in 0usize..40,
        insert in "[ {}()=\":'a-z0-9]{0,6}",
    ) {
        let lines = kernel_lines();
        let (_, line) = &lines[at.index(lines.len())];
        let mut i = at.index(line.len().max(1)).min(line.len());
        while !line.is_char_boundary(i) {
            i -= 1;
        }
        let end = (i + cut).min(line.len());
        let mutated = format!("{}{insert}{}", &line[..i], &line[end..]);
        let _ = parse_line(&mutated);
    }
}

/// With a rule group left out, the kernel's denials (kept by the VM tests)
/// each name that group.
#[test]
fn each_group_left_out_is_named_by_the_kernels_denials() {
    use cilgen::audit::{Explanation, explain, group};
    use cilgen::virt_launcher::Group;
    let lines = kernel_lines();
    let mut named = 0;
    for g in [Group::Multiqueue, Group::Hugepages, Group::Virtiofs] {
        if !g.is_compiled_in() {
            continue;
        }
        let prefix = format!("d-without-{}.", g.name());
        let records = lines
            .iter()
            .filter(|(f, _)| f.starts_with(&prefix))
            .map(|(_, l)| parse_line(l).unwrap().unwrap());
        let groups = group(records);
        assert!(!groups.is_empty(), "no denial without {g}");
        for d in &groups {
            match explain(d, "virt_launcher.process", None) {
                Explanation::RuleGroups(found) => {
                    assert!(found.contains(&g), "{d:?}: {found:?}");
                    named += 1;
                }
                other => panic!("without {g}: {d:?} explained as {other:?}"),
            }
        }
    }
    assert!(named >= 3, "{named}");
}

/// The proposed module reads back, keeps the denials as comments and
/// warns about what weakens isolation.
#[test]
fn proposed_rules_read_back_with_their_denials_and_warnings() {
    use cilgen::audit::{explain, group, propose};
    let log = [
        r#"type=AVC msg=audit(1.2:3): avc:  denied  { ioctl } for  pid=1 comm="qemu-kvm" path="/dev/vhost-net" dev="devtmpfs" ino=9 ioctlcmd=0xaf01 scontext=system_u:system_r:virt_launcher.process:s0:c1,c2 tcontext=system_u:object_r:vhost_device_t:s0 tclass=chr_file permissive=0"#,
        r#"type=AVC msg=audit(1.2:4): avc:  denied  { relabelto } for  pid=1 comm="qemu-kvm" scontext=system_u:system_r:virt_launcher.process:s0:c1,c2 tcontext=system_u:object_r:shadow_t:s0 tclass=file permissive=0"#,
    ];
    let groups = group(log.iter().map(|l| parse_line(l).unwrap().unwrap()));
    let explained: Vec<_> = groups
        .into_iter()
        .map(|d| {
            let e = explain(&d, "virt_launcher.process", None);
            (d, e)
        })
        .collect();
    let module = propose(&explained, "audit");
    let text = module.to_checked_string().unwrap();
    assert_eq!(cilgen::parse(&text).unwrap(), module);
    assert!(
        text.contains("(allow virt_launcher.process vhost_device_t (chr_file (ioctl)))"),
        "{text}"
    );
    assert!(
        text.contains("(allowx virt_launcher.process vhost_device_t (ioctl chr_file (0xaf01)))"),
        "{text}"
    );
    assert!(
        text.contains("WARNING: `relabelto` weakens isolation"),
        "{text}"
    );
    assert!(
        text.contains("WARNING: access to `shadow_t` weakens isolation"),
        "{text}"
    );
    assert!(text.contains("comm qemu-kvm"), "{text}");
}

/// Against the node's policy (Debian's modules and the container module):
/// a rule group written on an attribute is named through it, and a denial
/// the policy allows by type is put down to the MCS constraint when the
/// levels differ.
#[test]
#[ignore = "needs the SELinux toolchain: scripts/test runs it (cargo test -- --include-ignored)"]
fn against_the_nodes_policy_attributes_and_constraints_explain() {
    use cilgen::audit::{Explanation, explain, group};
    use cilgen::resolve::{Input, resolve};
    use cilgen::virt_launcher::Group;
    let dir = common::prepared_policy();
    let mut files = common::debian_modules(&dir);
    files.push(dir.join("container.cil"));
    let texts: Vec<(String, String)> = files
        .iter()
        .map(|f| (f.display().to_string(), std::fs::read_to_string(f).unwrap()))
        .collect();
    let policies: Vec<cilgen::Policy> = texts
        .iter()
        .map(|(_, t)| cilgen::parse(t).unwrap())
        .collect();
    let inputs: Vec<Input<'_>> = texts
        .iter()
        .zip(&policies)
        .map(|((f, _), p)| Input::new(f, p))
        .collect();
    let model = resolve(&inputs);
    let log = [
        // The base group reads /proc through the attribute proc_type.
        r#"type=AVC msg=audit(1.2:3): avc:  denied  { read } for  pid=1 comm="virt-launcher" name="cpuinfo" scontext=system_u:system_r:container_t:s0:c1,c2 tcontext=system_u:object_r:proc_t:s0 tclass=file permissive=0"#,
        // Another pod's file: the type is allowed, the categories are not.
        r#"type=AVC msg=audit(1.2:4): avc:  denied  { read } for  pid=1 comm="cat" name="data" scontext=system_u:system_r:container_t:s0:c1,c2 tcontext=system_u:object_r:container_file_t:s0:c3,c4 tclass=file permissive=0"#,
    ];
    let groups = group(log.iter().map(|l| parse_line(l).unwrap().unwrap()));
    let proc = explain(&groups[0], "container_t", Some(&model));
    assert!(
        matches!(&proc, Explanation::RuleGroups(g) if g.contains(&Group::Base)),
        "{proc:?}"
    );
    // Without the node's policy the attribute cannot be read.
    assert_eq!(
        explain(&groups[0], "container_t", None),
        Explanation::Missing
    );
    let mcs = explain(&groups[1], "container_t", Some(&model));
    let Explanation::AllowedYetDenied(why) = &mcs else {
        panic!("{mcs:?}");
    };
    assert!(why.contains("MLS/MCS") && why.contains("s0:c1,c2"), "{why}");

    // What nothing grants is proposed, and the proposal compiles against
    // the policy it was meant for.
    let missing = [
        r#"type=AVC msg=audit(1.2:5): avc:  denied  { read } for  pid=1 comm="cat" scontext=system_u:system_r:container_t:s0:c1,c2 tcontext=system_u:object_r:shadow_t:s0 tclass=file permissive=0"#,
        r#"type=AVC msg=audit(1.2:6): avc:  denied  { ioctl } for  pid=1 comm="qemu-kvm" ioctlcmd=0xaf01 scontext=system_u:system_r:container_t:s0:c1,c2 tcontext=system_u:object_r:device_t:s0 tclass=chr_file permissive=0"#,
    ];
    let explained: Vec<_> = group(missing.iter().map(|l| parse_line(l).unwrap().unwrap()))
        .into_iter()
        .map(|d| {
            let e = explain(&d, "container_t", Some(&model));
            (d, e)
        })
        .collect();
    assert!(
        explained.iter().all(|(_, e)| *e == Explanation::Missing),
        "{explained:?}"
    );
    let proposal = cilgen::audit::propose(&explained, "proposal")
        .to_checked_string()
        .unwrap();
    assert!(
        proposal.contains("(allowx container_t device_t (ioctl chr_file (0xaf01)))"),
        "{proposal}"
    );
    let work = common::temp_dir("audit-proposal");
    let module = work.join("proposal.cil");
    std::fs::write(&module, &proposal).unwrap();
    let (ok, log) = common::run(
        std::process::Command::new(common::tool("secilc"))
            .arg("-N")
            .arg("-o")
            .arg(work.join("policy.bin"))
            .args(["-f", "/dev/null"])
            .args(&files)
            .arg(&module),
    );
    assert!(ok, "secilc refuses the proposal:\n{proposal}\n{log}");
}

/// A denial the policy dontaudits, and one of a permissive domain, are
/// told apart from a missing rule.
#[test]
fn dontaudited_and_permissive_domain_denials_are_told_apart() {
    use cilgen::audit::{Explanation, explain, group, propose};
    use cilgen::resolve::{Input, resolve};
    let policy = cilgen::parse(
        "(class file (read write)) (classorder (file))
         (type quiet_t) (type loud_t) (type etc_t)
         (dontaudit quiet_t etc_t (file (read)))
         (typepermissive loud_t)",
    )
    .unwrap();
    let model = resolve(&[Input::new("p.cil", &policy)]);
    let record = |s: &str, perm: &str, permissive: u8| {
        format!(
            "type=AVC msg=audit(1.2:3): avc:  denied  {{ {perm} }} for  pid=1 comm=\"x\" scontext=u:r:{s}:s0 tcontext=u:r:etc_t:s0 tclass=file permissive={permissive}"
        )
    };
    let lines = [
        record("quiet_t", "read", 0),
        record("quiet_t", "write", 0),
        record("loud_t", "read", 1),
    ];
    let groups = group(lines.iter().map(|l| parse_line(l).unwrap().unwrap()));
    let explained: Vec<_> = groups
        .into_iter()
        .map(|d| {
            let e = explain(&d, "virt_launcher.process", Some(&model));
            (d, e)
        })
        .collect();
    // read and write of quiet_t are one group: the dontaudit covers read
    // only, so the group needs a rule.
    assert_eq!(explained[0].1, Explanation::Missing);
    assert_eq!(explained[1].1, Explanation::PermissiveDomain);
    let only_read = group([parse_line(&lines[0]).unwrap().unwrap()]);
    assert_eq!(
        explain(&only_read[0], "virt_launcher.process", Some(&model)),
        Explanation::Dontaudited
    );
    let text = propose(&explained, "p").to_string();
    assert!(
        text.contains("(allow loud_t etc_t (file (read)))"),
        "{text}"
    );
    assert!(
        text.contains("(allow quiet_t etc_t (file (read write)))"),
        "{text}"
    );
}

/// A corpus of record forms (`tests/golden/audit/variants.log`) and of
/// malformed records (`malformed.log`): what each reads as, reviewed as
/// golden files.
#[test]
fn the_record_corpora_read_as_their_golden_files() {
    let dir = manifest_dir().join("tests/golden/audit");
    for (log, want_ok) in [("variants", true), ("malformed", false)] {
        let text = std::fs::read_to_string(dir.join(format!("{log}.log"))).unwrap();
        let mut rendered = String::new();
        for item in Reader::new(text.as_bytes()) {
            match item {
                Ok(r) => {
                    assert!(want_ok, "{log}: line {} reads: {r:?}", r.line);
                    rendered.push_str(&format!("{r:#?}\n"));
                }
                Err(e) => {
                    assert!(!want_ok, "{log}: {e}");
                    rendered.push_str(&format!("{e}\n"));
                }
            }
        }
        let lines = text.lines().count();
        if !want_ok {
            // Every line is reported, none read.
            assert_eq!(rendered.lines().count(), lines, "{rendered}");
        }
        common::check_golden(&dir.join(format!("{log}.out")), &rendered).unwrap();
    }
}
