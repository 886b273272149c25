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
