//! Security Profiles Operator manifests: they read back as YAML with the
//! field names and constraints of SPO's v1 CRDs, match their golden files,
//! and the CIL SPO makes of them (its translation of a SelinuxProfile, its
//! wrapping of a RawSelinuxProfile) compiles with secilc next to container
//! templates like udica's and grants exactly the module's rules.

#![cfg(feature = "spo")]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use cilgen::Ref;
use cilgen::virt_launcher::spo::{self, Manifests, Profile, SpoError};
use cilgen::virt_launcher::{Group, VirtLauncher};
use common::{check_golden, manifest_dir, run, temp_dir, tool};
use serde::Deserialize;

/// The objects as SPO's v1 CRDs define them (field names from
/// `api/selinuxprofile/v1` and `api/spod/v1`), written here independently
/// of the crate's types: an unknown field fails the read. Fields the tests
/// do not look at are still declared, so that they are known.
#[allow(dead_code)]
mod crd {
    use super::*;

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Metadata {
        pub name: String,
        pub namespace: Option<String>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct PolicyRef {
        pub kind: Option<String>,
        pub name: String,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct SelinuxProfileSpec {
        pub inherit: Option<Vec<PolicyRef>>,
        pub mode: Option<String>,
        pub state: Option<String>,
        pub allow: Option<BTreeMap<String, BTreeMap<String, Vec<String>>>>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct RawSelinuxProfileSpec {
        pub policy: Option<String>,
        pub state: Option<String>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    pub struct SelinuxOptions {
        pub allowed_system_profiles: Option<Vec<String>>,
        pub denied_types: Option<Vec<String>>,
        pub denied_classes: Option<Vec<String>>,
        pub denied_permissions: Option<Vec<String>>,
        pub allowed_types: Option<Vec<String>>,
        pub allowed_classes: Option<Vec<String>>,
        pub allowed_permissions: Option<Vec<String>>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    pub struct SpodSelinux {
        pub enable: Option<bool>,
        pub enable_raw_selinux_profiles: Option<bool>,
        pub type_tag: Option<String>,
        pub options: Option<SelinuxOptions>,
        pub custom_templates_config_map: Option<String>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct SpodSpec {
        pub selinux: SpodSelinux,
    }

    #[derive(Deserialize)]
    #[serde(tag = "kind", deny_unknown_fields)]
    pub enum Object {
        SelinuxProfile {
            #[serde(rename = "apiVersion")]
            api_version: String,
            metadata: Metadata,
            spec: SelinuxProfileSpec,
        },
        RawSelinuxProfile {
            #[serde(rename = "apiVersion")]
            api_version: String,
            metadata: Metadata,
            spec: RawSelinuxProfileSpec,
        },
        SecurityProfilesOperatorDaemon {
            #[serde(rename = "apiVersion")]
            api_version: String,
            metadata: Metadata,
            spec: SpodSpec,
        },
    }
}

/// Reads every document of a YAML stream as an SPO object.
fn objects(yaml: &str) -> Vec<crd::Object> {
    serde_norway::Deserializer::from_str(yaml)
        .map(|doc| crd::Object::deserialize(doc).unwrap_or_else(|e| panic!("{e}\n{yaml}")))
        .collect()
}

/// Checks what SPO's CRDs and admission ask of an object beyond its field
/// names: the API version, the kinds and modes its enums allow, a
/// namespace only on the (namespaced) daemon, SPO's controller patterns
/// for allow keys, classes and permissions, and the raw policy's length.
fn check_constraints(object: &crd::Object) {
    let key = |s: &str| {
        s == "@self"
            || (!s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-_".contains(c)))
    };
    let word = |s: &str| key(s) && s != "@self";
    // Both profile kinds: the v1 API, and no namespace (cluster-scoped).
    let profile = |api_version: &str, metadata: &crd::Metadata| {
        assert_eq!(api_version, spo::API_VERSION);
        assert!(metadata.namespace.is_none(), "profiles are cluster-scoped");
    };
    match object {
        crd::Object::SelinuxProfile {
            api_version,
            metadata,
            spec,
        } => {
            profile(api_version, metadata);
            for inherit in spec.inherit.iter().flatten() {
                let kind = inherit.kind.as_deref().unwrap_or("System");
                assert!(["System", "SelinuxProfile"].contains(&kind), "{kind}");
                assert!(!inherit.name.is_empty());
            }
            let mode = spec.mode.as_deref().unwrap_or("Enforcing");
            assert!(["Enforcing", "Permissive"].contains(&mode), "{mode}");
            assert!(spec.state.is_none());
            for (target, classes) in spec.allow.iter().flatten() {
                assert!(key(target), "allow key {target}");
                for (class, perms) in classes {
                    assert!(word(class), "class {class}");
                    assert!(!perms.is_empty(), "{target} {class}: no permissions");
                    for p in perms {
                        assert!(word(p), "permission {p}");
                    }
                }
            }
        }
        crd::Object::RawSelinuxProfile {
            api_version,
            metadata,
            spec,
        } => {
            profile(api_version, metadata);
            let policy = spec.policy.as_deref().unwrap_or_default();
            let chars = policy.chars().count();
            assert!(
                (1..=500_000).contains(&chars),
                "policy of {chars} characters"
            );
            spo::check_raw_policy(policy).unwrap();
        }
        crd::Object::SecurityProfilesOperatorDaemon {
            api_version,
            metadata,
            spec,
        } => {
            assert_eq!(api_version, spo::API_VERSION);
            assert_eq!(metadata.name, "spod");
            assert_eq!(
                metadata.namespace.as_deref(),
                Some("security-profiles-operator")
            );
            let options = spec.selinux.options.as_ref().expect("options");
            let profiles = options.allowed_system_profiles.as_ref().expect("profiles");
            assert!(profiles.contains(&"container".to_string()));
            for list in [
                &options.allowed_types,
                &options.allowed_classes,
                &options.allowed_permissions,
            ]
            .into_iter()
            .flatten()
            {
                let set: BTreeSet<&String> = list.iter().collect();
                assert_eq!(set.len(), list.len(), "a set lists each entry once");
            }
        }
    }
}

fn combinations() -> Vec<Vec<Group>> {
    common::group_combinations()
}

fn profile(groups: &[Group], name: &str) -> Manifests {
    spo::selinux_profile(&VirtLauncher::new().only(groups.iter().copied()), name).unwrap()
}

fn raw(groups: &[Group], domain: &str, name: &str, narrow: bool) -> Manifests {
    let module = VirtLauncher::new()
        .only(groups.iter().copied())
        .extend(Ref::new(domain).unwrap())
        .narrow_proc(narrow);
    spo::raw_selinux_profile(&module, name).unwrap()
}

#[test]
fn every_manifest_reads_back_with_the_crds_field_names_and_constraints() {
    for groups in combinations() {
        for manifests in [
            profile(&groups, "virt-launcher"),
            raw(&groups, "container_t", "virt-launcher", false),
            raw(&groups, "container_t", "virt-launcher", true),
            raw(
                &groups,
                "virt-launcher.process",
                "virt-launcher-extra",
                false,
            ),
        ] {
            let yaml = manifests.to_yaml();
            let objects = objects(&yaml);
            assert_eq!(objects.len(), 1 + usize::from(manifests.daemon.is_some()));
            for o in &objects {
                check_constraints(o);
            }
            // The daemon's setting comes first, so that SPO accepts the
            // profile the first time it sees it.
            if manifests.daemon.is_some() {
                assert!(matches!(
                    objects[0],
                    crd::Object::SecurityProfilesOperatorDaemon { .. }
                ));
            }
            // The same options, the same bytes.
            assert_eq!(yaml, manifests.to_yaml());
        }
    }
}

#[test]
fn the_daemon_lifts_exactly_what_the_rules_need() {
    let needed = |groups: &[Group]| {
        let m = profile(groups, "virt-launcher");
        let o = m.daemon.unwrap().spec.selinux.options;
        assert!(o.allowed_types.is_empty() && o.allowed_classes.is_empty());
        assert_eq!(o.allowed_system_profiles, ["container", "net_container"]);
        o.allowed_permissions
    };
    assert!(needed(&[]).is_empty());
    if Group::Multiqueue.is_compiled_in() {
        assert_eq!(needed(&[Group::Multiqueue]), ["relabelfrom", "relabelto"]);
    }
    if Group::Virtiofs.is_compiled_in() {
        assert_eq!(needed(&[Group::Virtiofs]), ["mounton"]);
    }
    if Group::Hugepages.is_compiled_in() {
        assert!(needed(&[Group::Hugepages]).is_empty());
    }
    // Every permission the profile uses that SPO's denylist holds is lifted.
    for groups in combinations() {
        let m = profile(&groups, "virt-launcher");
        let lifted = m.daemon.unwrap().spec.selinux.options.allowed_permissions;
        let Profile::Selinux(p) = m.profile else {
            unreachable!()
        };
        for classes in p.spec.allow.values() {
            for perms in classes.values() {
                for perm in perms {
                    assert_eq!(
                        spo::DENIED_PERMISSIONS.contains(&perm.as_str()),
                        lifted.contains(perm),
                        "{perm}"
                    );
                }
            }
        }
    }
}

#[test]
fn options_a_profile_cannot_hold_are_refused_with_the_reason() {
    let module = VirtLauncher::new().only([]);
    let err = |r: Result<Manifests, SpoError>| r.unwrap_err().to_string();
    assert!(
        err(spo::raw_selinux_profile(&module, "virt-launcher"))
            .contains("refuses blockinherit and roletype")
    );
    assert!(
        err(spo::selinux_profile(
            &module.clone().extend(Ref::new("container_t").unwrap()),
            "virt-launcher"
        ))
        .contains("declares its own domain")
    );
    assert!(
        err(spo::selinux_profile(
            &module.clone().narrow_proc(true),
            "virt-launcher"
        ))
        .contains("--narrow-proc")
    );
    assert!(
        err(spo::selinux_profile(
            &module.clone().portable(true),
            "virt-launcher"
        ))
        .contains("--portable")
    );
    assert!(err(spo::selinux_profile(&module, "virt_launcher")).contains("cannot name"));
}

#[test]
fn golden_manifests() {
    let dir = manifest_dir().join("tests/golden/spo");
    let default: Vec<Group> = Group::OPTIONAL
        .into_iter()
        .filter(|g| g.is_default())
        .collect();
    if !default.iter().all(|g| g.is_compiled_in()) {
        return;
    }
    let cases = [
        ("selinux-profile.yaml", profile(&default, "virt-launcher")),
        (
            "raw-container_t.yaml",
            raw(&default, "container_t", "virt-launcher", false),
        ),
    ];
    let mut failures = Vec::new();
    for (file, manifests) in cases {
        if let Err(e) = check_golden(&dir.join(file), &manifests.to_yaml()) {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_cil_spo_installs_is_what_its_translator_writes() {
    let m = profile(&[], "virt-launcher");
    assert_eq!(
        m.installed_cil(),
        "(block virt-launcher\n\
         (blockinherit container)\n\
         (blockinherit net_container)\n\
         (allow process virt-launcher.process ( netlink_audit_socket ( nlmsg_relay )))\n\
         (allow process proc_type ( file ( getattr open read )))\n\
         )\n"
    );
    let r = raw(&[], "container_t", "vl", false);
    let cil = r.installed_cil();
    assert!(cil.starts_with("(block vl_\n    ; virt-launcher rules for container_t: base.\n"));
    assert!(cil.ends_with("(allow container_t self (netlink_audit_socket (nlmsg_relay)))\n)"));
    // The crate's own parser reads both.
    for text in [m.installed_cil(), cil] {
        cilgen::parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    }
}

/// Blocks with the interface of udica's `container` and `net_container`
/// templates, which SPO's profiles inherit: the domain `process`, its
/// role, and the attributes the templates put it in.
const CONTAINER_TEMPLATES: &str = "\
(block container
    (type process)
    (type socket)
    (roletype system_r process)
    (typeattributeset domain (process))
    (typeattributeset container_domain (process))
    (typeattributeset svirt_sandbox_domain (process))
    (typeattributeset file_type (socket))
    (allow process socket (sock_file (create getattr open read write unlink)))
    (allow process proc_type (file (getattr open read)))
)
(block net_container
    (optional net_container_optional
        (typeattributeset sandbox_net_domain (process))
    )
)
";

use common::Grant;

/// The allow rules of the CIL module for `groups`, read from its AST:
/// (target, class, permission), `self` for the domain itself.
fn module_rules(groups: &[Group]) -> BTreeSet<Grant> {
    let module = VirtLauncher::new()
        .only(groups.iter().copied())
        .generate()
        .unwrap();
    let mut out = BTreeSet::new();
    let mut visit = |s: &cilgen::Statement| {
        if let cilgen::Statement::AvRule(r) = s {
            let cilgen::ClassPerms::Anonymous { class, perms } = &r.classperms else {
                panic!("{s}");
            };
            let target = match r.target.as_str() {
                "process" => "self",
                t => t,
            };
            for p in perms.leaves() {
                out.insert((target.into(), class.to_string(), p.to_string()));
            }
        }
    };
    for s in &module.statements {
        if let cilgen::Statement::Block(b) = s {
            b.body.iter().for_each(&mut visit);
        }
    }
    out
}

struct Toolchain {
    dir: PathBuf,
    secilc: PathBuf,
    sesearch: PathBuf,
    seinfo: PathBuf,
}

impl Toolchain {
    fn new() -> Toolchain {
        Toolchain {
            secilc: tool("secilc"),
            sesearch: tool("sesearch"),
            seinfo: tool("seinfo"),
            dir: common::prepared_policy(),
        }
    }

    /// Compiles Debian's policy, the container module, Fedora's attributes,
    /// the templates and `extra` (neverallows off, as semodule does).
    fn compile(&self, work: &Path, extra: &[(&str, String)]) -> PathBuf {
        let mut files = common::debian_modules(&self.dir);
        files.push(self.dir.join("container.cil"));
        files.push(self.dir.join("fedora_attrs.cil"));
        let templates = work.join("templates.cil");
        std::fs::write(&templates, CONTAINER_TEMPLATES).unwrap();
        files.push(templates);
        for (name, text) in extra {
            let path = work.join(name);
            std::fs::write(&path, text).unwrap();
            files.push(path);
        }
        let out = work.join("policy.bin");
        let (ok, log) = run(Command::new(&self.secilc)
            .args(["-N", "-f", "/dev/null", "-o"])
            .arg(&out)
            .args(&files));
        assert!(ok, "secilc:\n{log}");
        out
    }

    fn grants(&self, policy: &Path, regex: &str) -> BTreeMap<String, BTreeSet<Grant>> {
        common::allow_grants(&self.sesearch, policy, regex)
    }

    fn attributes(&self, policy: &Path, ty: &str) -> BTreeSet<String> {
        common::type_attributes(&self.seinfo, policy, ty)
    }

    fn role_types(&self, policy: &Path, role: &str) -> BTreeSet<String> {
        let (ok, log) = run(Command::new(&self.seinfo)
            .arg(policy)
            .args(["-r", role, "-x"]));
        assert!(ok, "seinfo: {log}");
        log.split_whitespace()
            .map(|w| w.trim_end_matches(';').to_string())
            .collect()
    }
}

#[test]
#[ignore = "needs the SELinux toolchain: scripts/test runs it (cargo test -- --include-ignored)"]
fn what_spo_installs_compiles_and_grants_exactly_the_modules_rules() {
    let tc = Toolchain::new();
    let work = temp_dir("spo");
    let mut extra = Vec::new();
    // Per combination: the SelinuxProfile as SPO translates it, the CIL
    // module in a block of its own (the reference), and the raw profile for
    // container_t as SPO wraps it (each raw profile extends container_t, so
    // only one can be told apart: the default groups, below).
    for groups in combinations() {
        let tag: String = groups.iter().map(|g| format!("-{}", g.name())).collect();
        let name = format!("vl{tag}");
        let m = profile(&groups, &name);
        extra.push((format!("{name}.cil"), m.installed_cil()));
        let module = VirtLauncher::new()
            .only(groups.iter().copied())
            .dedicated(cilgen::Name::new(format!("ref{}", tag.replace('-', "_"))).unwrap())
            .generate()
            .unwrap();
        extra.push((format!("ref{tag}.cil"), module.to_string()));
        // The profile and its reference, plus SPO's raw wrapping of the
        // raw profile's policy for the same groups, narrow-proc included.
        let r = raw(&groups, "container_t", &format!("raw{tag}"), true);
        extra.push((format!("raw{tag}.cil"), r.installed_cil()));
    }
    // The split that keeps SPO's denylist: a SelinuxProfile without the
    // groups that need lifted permissions, and a raw profile adding them to
    // its domain.
    let lifted: Vec<Group> = [Group::Multiqueue, Group::Virtiofs]
        .into_iter()
        .filter(|g| g.is_compiled_in())
        .collect();
    let kept: Vec<Group> = Group::OPTIONAL
        .into_iter()
        .filter(|g| g.is_default() && g.is_compiled_in() && !lifted.contains(g))
        .collect();
    let all: Vec<Group> = Group::OPTIONAL
        .into_iter()
        .filter(|g| g.is_default() && g.is_compiled_in())
        .collect();
    let split = profile(&kept, "split");
    extra.push(("split.cil".into(), split.installed_cil()));
    let split_raw = raw(&lifted, "split.process", "split-extra", false);
    extra.push(("split-extra.cil".into(), split_raw.installed_cil()));
    let extra: Vec<(&str, String)> = extra.iter().map(|(n, t)| (n.as_str(), t.clone())).collect();
    let policy = tc.compile(&work, &extra);

    // The template's own domain: what inheriting it gives, its socket type
    // renamed to the profile's.
    let grants = tc.grants(
        &policy,
        r"^((vl|ref|split|container)[-_a-z]*\.process|container_t)$",
    );
    let of = |source: &str| grants.get(source).cloned().unwrap_or_default();
    let container = of("container.process");
    let inherited = |block: &str| -> BTreeSet<Grant> {
        container
            .iter()
            .map(|(t, c, p)| {
                let t = t.replace("container.", &format!("{block}."));
                (t, c.clone(), p.clone())
            })
            .collect()
    };
    for groups in combinations() {
        let tag: String = groups.iter().map(|g| format!("-{}", g.name())).collect();
        let domain = format!("vl{tag}.process");
        let got = of(&domain);
        let want: BTreeSet<Grant> = inherited(&format!("vl{tag}"))
            .union(&module_rules(&groups))
            .cloned()
            .collect();
        assert_eq!(
            got, want,
            "{domain}: the profile's rules are not the template's plus the module's"
        );

        let attributes = tc.attributes(&policy, &domain);
        for a in spo::INHERITED_ATTRIBUTES {
            assert!(
                attributes.contains(a),
                "{domain} is not in {a}: {attributes:?}"
            );
        }
        // What the manifest's header says a SelinuxProfile cannot give...
        for a in ["mcs_constrained_type", "container_net_domain"] {
            assert!(!attributes.contains(a), "{domain} is in {a}");
        }
        assert!(
            tc.role_types(&policy, "system_r").contains(&domain),
            "{domain} has no role"
        );
        // ...and what that costs on Debian's policy: the container network
        // rules, which the CIL module's domain has.
        let reference = of(&format!("ref{}.process", tag.replace('-', "_")));
        let tcp: Grant = ("self".into(), "tcp_socket".into(), "create".into());
        assert!(reference.contains(&tcp) && !got.contains(&tcp), "{domain}");
    }

    // The split profile plus its raw complement grant what the whole
    // module grants.
    let got = of("split.process");
    let want: BTreeSet<Grant> = inherited("split")
        .union(&module_rules(&all))
        .cloned()
        .collect();
    assert_eq!(got, want, "split.process");

    // The raw profiles for container_t: container_t gains every group's
    // rules, with /proc read through each raw block's narrowed attribute.
    let container_t = of("container_t");
    let raw_tag: String = all.iter().map(|g| format!("-{}", g.name())).collect();
    let narrowed = format!("raw{raw_tag}_.virt_launcher_proc_readable");
    for (target, class, perm) in module_rules(&all) {
        let target = if target == "proc_type" {
            narrowed.clone()
        } else {
            target
        };
        assert!(
            container_t.contains(&(target.clone(), class.clone(), perm.clone())),
            "container_t lacks {target} {class} {perm}"
        );
    }
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Any valid name and any groups: the YAML reads back as the same
        /// objects through the crate's types, and the raw profile's policy
        /// passes SPO's check.
        #[test]
        fn manifests_round_trip(name in "[a-z]([a-z0-9-]{0,61}[a-z0-9])?", mask in 0u8..16) {
            let groups: Vec<Group> = Group::OPTIONAL
                .into_iter()
                .enumerate()
                .filter(|(i, g)| mask & (1 << i) != 0 && g.is_compiled_in())
                .map(|(_, g)| g)
                .collect();
            let m = profile(&groups, &name);
            let yaml = m.to_yaml();
            let mut docs = serde_norway::Deserializer::from_str(&yaml);
            let daemon = spo::SecurityProfilesOperatorDaemon::deserialize(docs.next().unwrap()).unwrap();
            let back = spo::SelinuxProfile::deserialize(docs.next().unwrap()).unwrap();
            prop_assert!(docs.next().is_none());
            prop_assert_eq!(Some(daemon), m.daemon);
            prop_assert_eq!(Profile::Selinux(back), m.profile);

            let r = raw(&groups, "container_t", &name, mask % 2 == 0);
            let yaml = r.to_yaml();
            let back = spo::RawSelinuxProfile::deserialize(
                serde_norway::Deserializer::from_str(&yaml).next().unwrap(),
            )
            .unwrap();
            prop_assert!(spo::check_raw_policy(&back.spec.policy).is_ok());
            prop_assert_eq!(Profile::Raw(back), r.profile);
        }

        /// Names and policies of any text: an answer, never a panic.
        #[test]
        fn checks_take_any_text(text in "\\PC*") {
            let _ = spo::check_name(&text);
            let _ = spo::check_raw_policy(&text);
        }
    }
}
