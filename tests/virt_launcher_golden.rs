//! Golden files for the generated module: every combination of groups in
//! both domain modes, plus the portable and narrow-proc variants of the
//! default, in `tests/golden/virt_launcher/`. `CILGEN_BLESS=1 cargo test
//! --all-features --test virt_launcher_golden` rewrites them.

mod common;

use cilgen::Ref;
use cilgen::virt_launcher::{Group, VirtLauncher};
use common::{check_golden, manifest_dir};

fn variants() -> Vec<(String, VirtLauncher)> {
    let mut out = Vec::new();
    for mask in 0..16u8 {
        let groups: Vec<Group> = Group::OPTIONAL
            .into_iter()
            .enumerate()
            .filter(|(i, _)| mask & (1 << i) != 0)
            .map(|(_, g)| g)
            .collect();
        let mut label: Vec<&str> = vec!["base"];
        label.extend(groups.iter().map(|g| g.name()));
        let label = label.join("+");
        let module = VirtLauncher::new().only(groups);
        out.push((format!("dedicated-{label}"), module.clone()));
        out.push((
            format!("extend-{label}"),
            module.extend(Ref::new("container_t").unwrap()),
        ));
    }
    out.push((
        "default-portable".into(),
        VirtLauncher::new().portable(true),
    ));
    out.push((
        "default-narrow-proc".into(),
        VirtLauncher::new().narrow_proc(true),
    ));
    out.push((
        "default-portable-narrow-proc".into(),
        VirtLauncher::new().portable(true).narrow_proc(true),
    ));
    out
}

#[test]
fn generated_modules_match_their_golden_files() {
    let dir = manifest_dir().join("tests/golden/virt_launcher");
    let mut failures = Vec::new();
    let mut checked = 0;
    for (name, module) in variants() {
        let text = match module.generate() {
            Ok(p) => p.to_string(),
            Err(e) => {
                // A group whose Cargo feature is off: `--all-features` checks it.
                assert!(
                    matches!(
                        e,
                        cilgen::virt_launcher::GenerateError::NotCompiledIn { .. }
                    ),
                    "{e}"
                );
                continue;
            }
        };
        // Output is canonical CIL and deterministic.
        assert_eq!(cilgen::parse(&text).unwrap().to_string(), text, "{name}");
        assert_eq!(module.generate().unwrap().to_string(), text, "{name}");
        if let Err(e) = check_golden(&dir.join(format!("{name}.cil")), &text) {
            failures.push(e);
        }
        checked += 1;
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(checked >= 19, "only {checked} variants checked");
}
