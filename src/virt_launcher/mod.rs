//! The SELinux policy module KubeVirt's `virt-launcher` pods need.
//!
//! OpenShift Virtualization documents rules that extend the `container_t`
//! policy for virt-launcher: tun multi-queue, `/proc` reads, netlink audit
//! relay, huge pages and virtiofs. The rules live as CIL in
//! `templates/virt_launcher/` (one file per group, each rule with its
//! reason as a comment), are parsed by this crate's own parser and composed
//! on the AST.
//!
//! By default the rules go to a dedicated domain, `virt_launcher.process`,
//! declared in `(block virt_launcher ...)` as KubeVirt shipped it; the extend
//! mode adds them to an existing domain such as `container_t` instead, which
//! grants them to **every** pod of that domain.
//!
//! ```
//! use cilgen::virt_launcher::{Group, VirtLauncher};
//!
//! let module = VirtLauncher::new().only([Group::Multiqueue]).generate()?;
//! let text = module.to_string();
//! assert!(text.contains("(block virt_launcher\n"));
//! assert!(text.contains("    (allow process self (tun_socket (relabelfrom relabelto attach_queue)))\n"));
//! assert!(!text.contains("hugetlbfs_t"));
//! # Ok::<(), cilgen::virt_launcher::GenerateError>(())
//! ```

#[cfg(feature = "serde")]
pub mod scc;
#[cfg(feature = "spo")]
pub mod spo;

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use crate::ast::*;
use crate::builder::comments;
use crate::error::ParseError;
use crate::span::Span;

/// A group of rules, compiled in by the Cargo feature of the same name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Group {
    /// Always on: `/proc` reads and netlink audit relay.
    Base,
    /// Network multi-queue on tun/tap devices (feature `multiqueue`, default).
    Multiqueue,
    /// Guest memory on huge pages (feature `hugepages`, default).
    Hugepages,
    /// Volumes shared through virtiofs (feature `virtiofs`, default).
    Virtiofs,
    /// User-mode networking with passt (feature `passt`, off by default).
    Passt,
}

const DOMAIN: &str = include_str!("../../templates/virt_launcher/domain.cil");
const NARROW_PROC: &str = include_str!("../../templates/virt_launcher/narrow_proc.cil");
const BASE: &str = include_str!("../../templates/virt_launcher/base.cil");
#[cfg(feature = "multiqueue")]
const MULTIQUEUE: Option<&str> = Some(include_str!("../../templates/virt_launcher/multiqueue.cil"));
#[cfg(not(feature = "multiqueue"))]
const MULTIQUEUE: Option<&str> = None;
#[cfg(feature = "hugepages")]
const HUGEPAGES: Option<&str> = Some(include_str!("../../templates/virt_launcher/hugepages.cil"));
#[cfg(not(feature = "hugepages"))]
const HUGEPAGES: Option<&str> = None;
#[cfg(feature = "virtiofs")]
const VIRTIOFS: Option<&str> = Some(include_str!("../../templates/virt_launcher/virtiofs.cil"));
#[cfg(not(feature = "virtiofs"))]
const VIRTIOFS: Option<&str> = None;
#[cfg(feature = "passt")]
const PASST: Option<&str> = Some(include_str!("../../templates/virt_launcher/passt.cil"));
#[cfg(not(feature = "passt"))]
const PASST: Option<&str> = None;

/// Attributes that only Fedora's container-selinux declares.
pub const FEDORA_ONLY_ATTRIBUTES: [&str; 2] = ["svirt_sandbox_domain", "sandbox_net_domain"];

impl Group {
    /// Every group, in output order.
    pub const ALL: [Group; 5] = [
        Group::Base,
        Group::Multiqueue,
        Group::Hugepages,
        Group::Virtiofs,
        Group::Passt,
    ];

    /// The groups that can be switched off and on.
    pub const OPTIONAL: [Group; 4] = [
        Group::Multiqueue,
        Group::Hugepages,
        Group::Virtiofs,
        Group::Passt,
    ];

    /// Its name, as `--only` takes it.
    pub fn name(self) -> &'static str {
        match self {
            Group::Base => "base",
            Group::Multiqueue => "multiqueue",
            Group::Hugepages => "hugepages",
            Group::Virtiofs => "virtiofs",
            Group::Passt => "passt",
        }
    }

    /// The Cargo feature that compiles it in (`None` for the base group).
    pub fn cargo_feature(self) -> Option<&'static str> {
        match self {
            Group::Base => None,
            g => Some(g.name()),
        }
    }

    /// Whether its template is compiled into this build.
    pub fn is_compiled_in(self) -> bool {
        self.template().is_some()
    }

    /// Whether [`VirtLauncher::new`] selects it.
    pub fn is_default(self) -> bool {
        !matches!(self, Group::Passt)
    }

    /// One line on what it is for.
    pub fn summary(self) -> &'static str {
        match self {
            Group::Base => "read /proc (CPU facts, uptime); relay netlink audit messages",
            Group::Multiqueue => "network multi-queue: throughput scales with the number of vCPUs",
            Group::Hugepages => "guest memory backed by huge pages in hugetlbfs",
            Group::Virtiofs => "share volumes with the guest through virtiofs (NFS included)",
            Group::Passt => "user-mode networking with passt (beyond the source document)",
        }
    }

    /// Its CIL template, if compiled in.
    pub fn template(self) -> Option<&'static str> {
        match self {
            Group::Base => Some(BASE),
            Group::Multiqueue => MULTIQUEUE,
            Group::Hugepages => HUGEPAGES,
            Group::Virtiofs => VIRTIOFS,
            Group::Passt => PASST,
        }
    }
}

impl fmt::Display for Group {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Group {
    type Err = GenerateError;
    fn from_str(s: &str) -> Result<Group, GenerateError> {
        Group::ALL
            .into_iter()
            .find(|g| g.name() == s)
            .ok_or_else(|| GenerateError::UnknownGroup(s.to_string()))
    }
}

/// Why a module could not be generated.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum GenerateError {
    /// A group name that does not exist.
    #[error("unknown rule group `{0}` (groups: multiqueue, hugepages, virtiofs, passt)")]
    UnknownGroup(String),
    /// A group whose Cargo feature is off in this build.
    #[error("rule group `{group}` is not compiled in: enable the Cargo feature `{feature}`")]
    NotCompiledIn {
        /// The group.
        group: Group,
        /// The feature to enable.
        feature: &'static str,
    },
    /// `portable` with extend mode, which declares no attribute memberships.
    #[error(
        "the portable option applies to the dedicated domain's attribute memberships; extend mode declares none"
    )]
    PortableNeedsDedicated,
    /// An embedded template failed to parse (a bug the tests rule out).
    #[error("template of group `{group}` does not parse: {error}")]
    Template {
        /// The group.
        group: &'static str,
        /// The error.
        error: Box<ParseError>,
    },
}

/// Where the rules go.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum DomainMode {
    /// `(block NAME ...)` declaring its own domain type `process`.
    Dedicated {
        /// The block, and so the domain `NAME.process`.
        block: Name,
    },
    /// Flat rules added to an existing domain type, with no declarations.
    /// Every pod of that domain gets the rules.
    Extend {
        /// The domain, e.g. `container_t`.
        domain: Ref,
    },
}

/// Options for the virt-launcher module; [`VirtLauncher::generate`] makes it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct VirtLauncher {
    groups: BTreeSet<Group>,
    mode: DomainMode,
    portable: bool,
    narrow_proc: bool,
}

impl Default for VirtLauncher {
    fn default() -> VirtLauncher {
        VirtLauncher::new()
    }
}

impl VirtLauncher {
    /// The default module: a dedicated `virt_launcher` block with the groups
    /// that are on by default (multiqueue, hugepages, virtiofs). A build
    /// without one of their Cargo features cannot generate it:
    /// [`generate`](VirtLauncher::generate) names the feature, and a
    /// smaller module is an explicit choice ([`only`](VirtLauncher::only),
    /// [`without`](VirtLauncher::without)), never a silent one.
    pub fn new() -> VirtLauncher {
        VirtLauncher {
            groups: Group::OPTIONAL
                .into_iter()
                .filter(|g| g.is_default())
                .collect(),
            mode: DomainMode::Dedicated {
                block: Name::new_unchecked("virt_launcher"),
            },
            portable: false,
            narrow_proc: false,
        }
    }

    /// Exactly these optional groups (the base group is always on).
    pub fn only(mut self, groups: impl IntoIterator<Item = Group>) -> VirtLauncher {
        self.groups = groups.into_iter().filter(|g| *g != Group::Base).collect();
        self
    }

    /// Adds a group.
    pub fn with(mut self, group: Group) -> VirtLauncher {
        if group != Group::Base {
            self.groups.insert(group);
        }
        self
    }

    /// Removes a group.
    pub fn without(mut self, group: Group) -> VirtLauncher {
        self.groups.remove(&group);
        self
    }

    /// Dedicated domain in `(block NAME ...)`.
    pub fn dedicated(mut self, block: Name) -> VirtLauncher {
        self.mode = DomainMode::Dedicated { block };
        self
    }

    /// Extend an existing domain (such as `container_t`) with flat rules:
    /// every pod of that domain gets them.
    pub fn extend(mut self, domain: Ref) -> VirtLauncher {
        self.mode = DomainMode::Extend { domain };
        self
    }

    /// Wrap the Fedora-only attribute memberships in `optional` blocks, so the
    /// module loads on policies without Fedora's container-selinux.
    pub fn portable(mut self, on: bool) -> VirtLauncher {
        self.portable = on;
        self
    }

    /// Read `/proc` through `proc_type` minus `proc_kcore_t` and
    /// `proc_kmsg_t`, so the module passes the base policy's neverallows.
    pub fn narrow_proc(mut self, on: bool) -> VirtLauncher {
        self.narrow_proc = on;
        self
    }

    /// The selected groups, base first.
    pub fn groups(&self) -> Vec<Group> {
        std::iter::once(Group::Base)
            .chain(self.groups.iter().copied())
            .collect()
    }

    /// Where the rules go.
    pub fn mode(&self) -> &DomainMode {
        &self.mode
    }

    /// The `emit` example's flags that produce this module.
    pub fn to_args(&self) -> String {
        let mut args = vec![format!(
            "--only {}",
            if self.groups.is_empty() {
                "''".to_string()
            } else {
                self.groups
                    .iter()
                    .map(|g| g.name())
                    .collect::<Vec<_>>()
                    .join(",")
            }
        )];
        match &self.mode {
            DomainMode::Dedicated { block } if block.as_str() != "virt_launcher" => {
                args.push(format!("--block {block}"));
            }
            DomainMode::Dedicated { .. } => {}
            DomainMode::Extend { domain } => args.push(format!("--domain {domain}")),
        }
        if self.portable {
            args.push("--portable".into());
        }
        if self.narrow_proc {
            args.push("--narrow-proc".into());
        }
        args.join(" ")
    }

    /// Builds the module.
    pub fn generate(&self) -> Result<Policy, GenerateError> {
        for g in &self.groups {
            if !g.is_compiled_in() {
                return Err(GenerateError::NotCompiledIn {
                    group: *g,
                    feature: g.cargo_feature().unwrap_or("default"),
                });
            }
        }
        if self.portable && matches!(self.mode, DomainMode::Extend { .. }) {
            return Err(GenerateError::PortableNeedsDedicated);
        }
        let narrow_attr = match &self.mode {
            DomainMode::Dedicated { .. } => "proc_readable".to_string(),
            DomainMode::Extend { .. } => format!("{}_proc_readable", self.module_name()),
        };

        let mut rules = Vec::new();
        if self.narrow_proc {
            let mut narrow = template("narrow_proc", NARROW_PROC)?;
            for s in &mut narrow {
                match s {
                    Statement::TypeAttribute(t) => t.name = Name::new_unchecked(&narrow_attr),
                    Statement::TypeAttributeSet(t) => {
                        t.attribute = Ref::new_unchecked(&narrow_attr)
                    }
                    _ => {}
                }
            }
            rules.extend(narrow);
        }
        for group in self.groups() {
            let text = group.template().unwrap_or_default();
            let mut stmts = template(group.name(), text)?;
            for s in &mut stmts {
                if let Statement::AvRule(r) = s {
                    if self.narrow_proc && r.target.as_str() == "proc_type" {
                        r.target = Ref::new_unchecked(&narrow_attr);
                    }
                    if let DomainMode::Extend { domain } = &self.mode {
                        if r.source.as_str() == "process" {
                            r.source = domain.clone();
                        }
                        if r.target.as_str() == "process" {
                            r.target = domain.clone();
                        }
                    }
                }
            }
            rules.extend(stmts);
        }

        let mut policy = Policy::new();
        policy.statements.extend(self.header());
        match &self.mode {
            DomainMode::Dedicated { block } => {
                let mut body = self.domain()?;
                body.extend(rules);
                policy.push(Block {
                    name: block.clone(),
                    body,
                    span: Span::DUMMY,
                });
            }
            DomainMode::Extend { .. } => policy.statements.extend(rules),
        }
        Ok(policy)
    }

    /// The module's name: the block name, or `virt_launcher` in extend mode.
    pub fn module_name(&self) -> &str {
        match &self.mode {
            DomainMode::Dedicated { block } => block.as_str(),
            DomainMode::Extend { .. } => "virt_launcher",
        }
    }

    fn domain(&self) -> Result<Vec<Statement>, GenerateError> {
        let mut out = Vec::new();
        let mut explained = false;
        for s in template("domain", DOMAIN)? {
            match s {
                Statement::TypeAttributeSet(t)
                    if self.portable && FEDORA_ONLY_ATTRIBUTES.contains(&t.attribute.as_str()) =>
                {
                    if !explained {
                        out.extend(comments(&format!(
                            "Portable: each membership below is an optional. Where the\n\
                             attribute does not exist, secilc and semodule drop the optional\n\
                             without a message and process is not in that attribute; see\n\
                             which took effect with: seinfo -t {}.process -x POLICY",
                            self.module_name()
                        )));
                        explained = true;
                    }
                    let name = Name::new_unchecked(&format!("{}_membership", t.attribute));
                    out.push(Statement::Optional(Optional {
                        name,
                        body: vec![Statement::TypeAttributeSet(t)],
                        span: Span::DUMMY,
                    }));
                }
                other => out.push(other),
            }
        }
        Ok(out)
    }

    fn header(&self) -> Vec<Statement> {
        let groups: Vec<&str> = self.groups().iter().map(|g| g.name()).collect();
        let name = self.module_name();
        let domain = match &self.mode {
            DomainMode::Dedicated { block } => format!(
                "Domain: dedicated; pods run as {block}.process, declared in block {block}."
            ),
            DomainMode::Extend { domain } => format!(
                "Domain: extends {domain}. Every pod running as {domain} on the node\n\
                 gets these rules, not only virt-launcher pods."
            ),
        };
        let source = match &self.mode {
            DomainMode::Dedicated { block } => format!("{block}.process"),
            DomainMode::Extend { domain } => domain.to_string(),
        };
        let mut header = comments(&format!(
            "{name}: SELinux policy module for KubeVirt's virt-launcher pods.\n\
             Generated by cilgen {version}: cargo run --example emit -- {args}\n\
             Rule groups: {groups}.\n\
             {domain}\n\
             Options: portable {portable}, narrow-proc {narrow}.\n\
             \n\
             Install: semodule -i {name}.cil\n\
             Check:   sesearch --allow -s {source} -ds\n\
             Remove:  semodule -r {name}",
            version = env!("CARGO_PKG_VERSION"),
            args = self.to_args(),
            groups = groups.join(", "),
            portable = if self.portable { "on" } else { "off" },
            narrow = if self.narrow_proc { "on" } else { "off" },
        ));
        // Flat rules follow the header directly: an empty comment line keeps
        // it apart from the first group's comment.
        if matches!(self.mode, DomainMode::Extend { .. }) {
            header.push(Statement::Comment(
                Comment::new("").unwrap_or_else(|_| unreachable!("an empty comment is valid")),
            ));
        }
        header
    }
}

fn template(group: &'static str, text: &str) -> Result<Vec<Statement>, GenerateError> {
    crate::parse::ParseOptions::new()
        .file_name(format!("templates/virt_launcher/{group}.cil"))
        .parse(text)
        .map(|p| p.statements)
        .map_err(|error| GenerateError::Template {
            group,
            error: Box::new(error),
        })
}

/// Every template that is compiled in, with its name, for checks.
pub fn templates() -> Vec<(&'static str, &'static str)> {
    let mut out = vec![("domain", DOMAIN), ("narrow_proc", NARROW_PROC)];
    out.extend(
        Group::ALL
            .into_iter()
            .filter_map(|g| g.template().map(|t| (g.name(), t))),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::{ValidateOptions, validate};

    #[test]
    fn every_template_parses_and_every_permission_exists() {
        for (name, text) in templates() {
            let policy = crate::parse::ParseOptions::new()
                .file_name(name)
                .parse(text)
                .unwrap_or_else(|e| panic!("{e}"));
            let problems = validate(&policy, &ValidateOptions::default());
            assert!(
                problems.is_empty(),
                "{}",
                problems
                    .iter()
                    .map(|d| d.render(text, name))
                    .collect::<Vec<_>>()
                    .join("\n")
            );
            assert_eq!(policy.to_string(), text, "template {name} is not canonical");
        }
    }

    #[test]
    fn a_misspelt_permission_is_caught_with_its_position() {
        let text = MULTIQUEUE
            .unwrap_or("(allow process self (tun_socket (attach_queue)))\n")
            .replace("attach_queue", "attch_queue");
        let policy = crate::parse(&text).unwrap();
        let problems = validate(&policy, &ValidateOptions::default());
        assert_eq!(problems.len(), 1);
        let rendered = problems[0].render(&text, "multiqueue.cil");
        assert!(
            rendered.contains(": class `tun_socket` has no permission `attch_queue`"),
            "{rendered}"
        );
        assert!(
            rendered.ends_with("^^^^^^^^^^^ not a permission of this class"),
            "{rendered}"
        );
    }

    /// The default groups this build has (all of them with default
    /// features).
    fn available() -> VirtLauncher {
        VirtLauncher::new().only(
            Group::OPTIONAL
                .into_iter()
                .filter(|g| g.is_default() && g.is_compiled_in()),
        )
    }

    #[test]
    fn the_default_module_needs_its_features() {
        let result = VirtLauncher::new().generate();
        match Group::OPTIONAL
            .into_iter()
            .find(|g| g.is_default() && !g.is_compiled_in())
        {
            Some(missing) => assert_eq!(
                result.unwrap_err(),
                GenerateError::NotCompiledIn {
                    group: missing,
                    feature: missing.name()
                }
            ),
            None => assert!(result.is_ok()),
        }
        // Fewer groups are an explicit choice.
        assert!(VirtLauncher::new().only([]).generate().is_ok());
    }

    #[test]
    fn output_is_deterministic() {
        let a = available().portable(true).narrow_proc(true);
        assert_eq!(
            a.generate().unwrap().to_string(),
            a.generate().unwrap().to_string()
        );
    }

    #[test]
    fn extend_mode_rewrites_the_subject_and_declares_nothing() {
        let text = available()
            .extend(Ref::new("container_t").unwrap())
            .generate()
            .unwrap()
            .to_string();
        assert!(!text.contains("(type "));
        assert!(!text.contains("(block "));
        assert!(text.contains("(allow container_t proc_type (file (getattr open read)))"));
        assert!(!text.contains(" process "));
    }

    #[test]
    fn options_that_cannot_work_are_errors() {
        let err = available()
            .extend(Ref::new("container_t").unwrap())
            .portable(true)
            .generate()
            .unwrap_err();
        assert_eq!(err, GenerateError::PortableNeedsDedicated);
        assert!("bogus".parse::<Group>().is_err());
        if !Group::Passt.is_compiled_in() {
            let err = VirtLauncher::new()
                .only([Group::Passt])
                .generate()
                .unwrap_err();
            assert_eq!(
                err.to_string(),
                "rule group `passt` is not compiled in: enable the Cargo feature `passt`"
            );
        }
    }
}
