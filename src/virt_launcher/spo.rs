//! Security Profiles Operator (SPO) manifests for the virt-launcher module.
//!
//! SPO distributes SELinux policy to every node of a cluster: its daemon
//! turns each profile object into a CIL module and installs it with
//! `semodule`. Two kinds of object carry policy, both at
//! `security-profiles-operator.x-k8s.io/v1` and both cluster-scoped:
//!
//! - **`SelinuxProfile`** ([`selinux_profile`]): SPO writes
//!   `(block NAME (blockinherit container) ... (allow process TYPE (CLASS (PERMS))) ...)`.
//!   The domain is `NAME.process`; `container` and `net_container` are
//!   udica's templates. Only allow rules with `process` as the source can
//!   be expressed, and SPO refuses some types, classes and permissions
//!   unless the `SecurityProfilesOperatorDaemon` lifts them: the manifest
//!   carries that override as its own document.
//! - **`RawSelinuxProfile`** ([`raw_selinux_profile`]): SPO writes
//!   `(block NAME_ POLICY)` and, since SPO 1.0, refuses any policy that uses
//!   `blockinherit`, `roletype` and the other directives of
//!   [`RESTRICTED_DIRECTIVES`]. Without them a raw profile cannot declare a
//!   domain a pod can run in, so it carries the extend mode's flat rules
//!   for an existing domain (`container_t`, or the `SelinuxProfile`'s own
//!   `NAME.process`).
//!
//! ```
//! use cilgen::virt_launcher::VirtLauncher;
//! use cilgen::virt_launcher::spo;
//!
//! let manifests = spo::selinux_profile(&VirtLauncher::new(), "virt-launcher")?;
//! let yaml = manifests.to_yaml();
//! assert!(yaml.contains("kind: SelinuxProfile\n"));
//! assert!(yaml.contains("\n  name: virt-launcher\n"));
//! assert_eq!(manifests.domain, "virt-launcher.process");
//! // tun queues relabel the socket: SPO refuses relabelfrom and relabelto
//! // unless the daemon lifts them.
//! let spod = manifests.daemon.as_ref().unwrap();
//! assert!(spod.spec.selinux.options.allowed_permissions.contains(&"relabelto".to_string()));
//! # Ok::<(), spo::SpoError>(())
//! ```

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::{DomainMode, FEDORA_ONLY_ATTRIBUTES, GenerateError, Group, VirtLauncher};
use crate::ast::{AvKind, ClassPerms, Expr, Statement, Term};

/// The API version of SPO's profile and daemon objects.
pub const API_VERSION: &str = "security-profiles-operator.x-k8s.io/v1";

/// The name of SPO's daemon configuration object.
pub const DAEMON_NAME: &str = "spod";

/// The namespace SPO runs in by default.
pub const DAEMON_NAMESPACE: &str = "security-profiles-operator";

/// The system profiles every generated `SelinuxProfile` inherits: udica's
/// `container` template (the domain, its role and the container
/// attributes) and `net_container` (network access).
pub const INHERITED: [&str; 2] = ["container", "net_container"];

/// The attributes the inherited templates put `process` in: udica's
/// `container` gives `domain`, `container_domain` and
/// `svirt_sandbox_domain`; `net_container` gives `sandbox_net_domain`.
pub const INHERITED_ATTRIBUTES: [&str; 4] = [
    "domain",
    "container_domain",
    "svirt_sandbox_domain",
    "sandbox_net_domain",
];

/// Types SPO refuses in a `SelinuxProfile` unless the daemon's
/// `allowedTypes` lifts them.
pub const DENIED_TYPES: [&str; 4] = ["kernel_t", "kmem_t", "security_t", "shadow_t"];

/// Classes SPO refuses unless the daemon's `allowedClasses` lifts them.
pub const DENIED_CLASSES: [&str; 4] = ["capability", "capability2", "security", "system"];

/// Permissions SPO refuses unless the daemon's `allowedPermissions` lifts
/// them.
pub const DENIED_PERMISSIONS: [&str; 8] = [
    "load_policy",
    "mac_admin",
    "mounton",
    "relabelto",
    "relabelfrom",
    "setbool",
    "setenforce",
    "setsecparam",
];

/// Directives SPO 1.0 and later refuse anywhere in a `RawSelinuxProfile`'s
/// policy, in any letter case.
pub const RESTRICTED_DIRECTIVES: [&str; 34] = [
    "block",
    "blockinherit",
    "blockstart",
    "booleanif",
    "category",
    "categoryorder",
    "class",
    "classmap",
    "classmapping",
    "classorder",
    "context",
    "dominance",
    "filecon",
    "genfscon",
    "level",
    "levelrange",
    "mls",
    "netifcon",
    "nodecon",
    "optional",
    "policycap",
    "portcon",
    "role",
    "roletype",
    "sensitivity",
    "sensitivityorder",
    "sid",
    "sidcontext",
    "sidorder",
    "tunable",
    "tunableif",
    "typepermissive",
    "user",
    "userrole",
];

/// The longest policy a `RawSelinuxProfile` may hold, in characters.
pub const RAW_POLICY_MAX_CHARS: usize = 500_000;

/// Why no manifest could be made.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SpoError {
    /// The module could not be generated.
    #[error(transparent)]
    Generate(#[from] GenerateError),
    /// The object name is not both a Kubernetes object name and a CIL block
    /// name.
    #[error(
        "`{name}` cannot name an SPO profile: {reason} (lowercase letters, digits and `-`, starting with a letter, at most 63 characters)"
    )]
    InvalidName {
        /// The name.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A `SelinuxProfile` declares its own domain; extend mode has none.
    #[error(
        "a SelinuxProfile always declares its own domain NAME.process; to add rules to an existing domain use a RawSelinuxProfile with --domain"
    )]
    ProfileNeedsDedicated,
    /// A `RawSelinuxProfile` cannot declare a domain.
    #[error(
        "a RawSelinuxProfile cannot declare a domain: SPO 1.0 refuses blockinherit and roletype in raw policies, so its process would have no role; use the SelinuxProfile (--format spo) for a dedicated domain, or extend an existing one with --domain (container_t, or NAME.process of a SelinuxProfile)"
    )]
    RawNeedsExtend,
    /// An option whose statements a `SelinuxProfile` cannot hold.
    #[error("{option} cannot be expressed in a SelinuxProfile: {why}")]
    NotExpressible {
        /// The option.
        option: &'static str,
        /// Why not.
        why: &'static str,
    },
    /// A statement of the module that is not a plain allow rule on
    /// `process` (a template change the tests rule out).
    #[error("a SelinuxProfile holds only allow rules on process, not `{0}`")]
    NotAnAllowRule(String),
    /// The raw policy would be refused by SPO's check.
    #[error("SPO would refuse the raw policy: {0}")]
    RawPolicy(String),
}

/// `metadata` of an object.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectMeta {
    /// The object's name.
    pub name: String,
    /// Its namespace (only the daemon object is namespaced).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// A profile to inherit: `{kind: System, name: container}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyRef {
    /// `System` (a policy installed on the node) or `SelinuxProfile`.
    pub kind: String,
    /// Its name.
    pub name: String,
}

/// `spec` of a `SelinuxProfile`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelinuxProfileSpec {
    /// The profiles it inherits.
    pub inherit: Vec<PolicyRef>,
    /// `Enforcing` or `Permissive`.
    pub mode: String,
    /// Target type (or `@self`), then class, then permissions.
    pub allow: BTreeMap<String, BTreeMap<String, Vec<String>>>,
}

/// A `SelinuxProfile` object.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SelinuxProfile {
    /// [`API_VERSION`].
    pub api_version: String,
    /// `SelinuxProfile`.
    pub kind: String,
    /// Name only: the object is cluster-scoped.
    pub metadata: ObjectMeta,
    /// What SPO translates to CIL.
    pub spec: SelinuxProfileSpec,
}

/// `spec` of a `RawSelinuxProfile`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSelinuxProfileSpec {
    /// The CIL SPO wraps in `(block NAME_ ...)`.
    pub policy: String,
}

/// A `RawSelinuxProfile` object.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RawSelinuxProfile {
    /// [`API_VERSION`].
    pub api_version: String,
    /// `RawSelinuxProfile`.
    pub kind: String,
    /// Name only: the object is cluster-scoped.
    pub metadata: ObjectMeta,
    /// The policy.
    pub spec: RawSelinuxProfileSpec,
}

/// `spec.selinux.options` of the daemon object: what this module needs
/// lifted from SPO's denylist, and the system profiles it inherits.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SelinuxOptions {
    /// System profiles a `SelinuxProfile` may inherit.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_system_profiles: Vec<String>,
    /// Types lifted from the denylist.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_types: Vec<String>,
    /// Classes lifted from the denylist.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_classes: Vec<String>,
    /// Permissions lifted from the denylist.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed_permissions: Vec<String>,
}

/// `spec.selinux` of the daemon object.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DaemonSelinux {
    /// The options.
    pub options: SelinuxOptions,
}

/// `spec` of the daemon object, with only what this module sets.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DaemonSpec {
    /// SELinux settings.
    pub selinux: DaemonSelinux,
}

/// The `SecurityProfilesOperatorDaemon` fields this module needs, to apply
/// with `kubectl apply --server-side`: its lists are sets, so server-side
/// apply adds these entries and keeps everyone else's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecurityProfilesOperatorDaemon {
    /// [`API_VERSION`].
    pub api_version: String,
    /// `SecurityProfilesOperatorDaemon`.
    pub kind: String,
    /// `spod` in `security-profiles-operator`.
    pub metadata: ObjectMeta,
    /// The options.
    pub spec: DaemonSpec,
}

/// The profile object of a manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Profile {
    /// A `SelinuxProfile`.
    Selinux(SelinuxProfile),
    /// A `RawSelinuxProfile`.
    Raw(RawSelinuxProfile),
}

/// What `emit --format spo|spo-raw` prints: an explaining header, the
/// daemon override when one is needed, then the profile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Manifests {
    /// Lines of the header comment (without `# `).
    pub header: Vec<String>,
    /// The daemon settings the profile needs, if any.
    pub daemon: Option<SecurityProfilesOperatorDaemon>,
    /// The profile.
    pub profile: Profile,
    /// The domain the rules are for: the profile's `NAME.process`, or the
    /// domain a raw profile extends.
    pub domain: String,
}

impl Manifests {
    /// The manifests as a YAML stream: the header as comments, then one
    /// document per object (the daemon's first, so that SPO accepts the
    /// profile the first time it reconciles it).
    pub fn to_yaml(&self) -> String {
        let mut out = String::new();
        for line in &self.header {
            if line.is_empty() {
                out.push_str("#\n");
            } else {
                out.push_str("# ");
                out.push_str(line);
                out.push('\n');
            }
        }
        let mut docs = Vec::new();
        if let Some(daemon) = &self.daemon {
            docs.push(yaml(daemon));
        }
        docs.push(match &self.profile {
            Profile::Selinux(p) => yaml(p),
            Profile::Raw(p) => yaml(p),
        });
        for doc in docs {
            out.push_str("---\n");
            out.push_str(&doc);
        }
        out
    }

    /// The CIL module SPO's daemon installs for the profile: its
    /// translation of a `SelinuxProfile`, or its wrapping of a
    /// `RawSelinuxProfile`, written as SPO writes them.
    pub fn installed_cil(&self) -> String {
        match &self.profile {
            Profile::Selinux(p) => p.installed_cil(),
            Profile::Raw(p) => p.installed_cil(),
        }
    }
}

fn yaml<T: Serialize>(value: &T) -> String {
    // Plain strings, maps and lists: serialization cannot fail.
    serde_norway::to_string(value).unwrap_or_else(|e| unreachable!("YAML of a manifest: {e}"))
}

impl SelinuxProfile {
    /// How pods name the domain: `NAME.process`.
    pub fn usage(&self) -> String {
        format!("{}.process", self.metadata.name)
    }

    /// The module SPO's translator writes for this profile (its
    /// `Object2CIL`, with the system profiles inherited and no other
    /// profile): `container` first, the other inherits in order, then one
    /// allow line per target and class, both sorted, permissions sorted
    /// and unique, `@self` standing for [`usage`](Self::usage).
    pub fn installed_cil(&self) -> String {
        let mut out = format!("(block {}\n", self.metadata.name);
        out.push_str("(blockinherit container)\n");
        for inherit in &self.spec.inherit {
            if inherit.name != "container" {
                out.push_str(&format!("(blockinherit {})\n", inherit.name));
            }
        }
        if self.spec.mode == "Permissive" {
            out.push_str("(typepermissive process)\n");
        }
        for (target, classes) in &self.spec.allow {
            let target = if target == "@self" {
                self.usage()
            } else {
                target.clone()
            };
            for (class, perms) in classes {
                let perms: BTreeSet<&str> = perms.iter().map(String::as_str).collect();
                let perms: Vec<&str> = perms.into_iter().collect();
                out.push_str(&format!(
                    "(allow process {target} ( {class} ( {} )))\n",
                    perms.join(" ")
                ));
            }
        }
        out.push_str(")\n");
        out
    }
}

impl RawSelinuxProfile {
    /// The module SPO's daemon writes: the policy, trimmed and indented,
    /// in `(block NAME_NAMESPACE ...)`; the object is cluster-scoped, so
    /// the namespace part is empty and the block is `NAME_`.
    pub fn installed_cil(&self) -> String {
        let policy = self.spec.policy.trim().replace('\n', "\n    ");
        format!("(block {}_\n    {}\n)", self.metadata.name, policy.trim())
    }
}

/// Checks a raw policy as SPO 1.0's admission does: not empty, no NUL,
/// at most [`RAW_POLICY_MAX_CHARS`], parentheses balanced and never
/// closing more than they open (comments are not skipped: SPO reads every
/// character), and no directive of [`RESTRICTED_DIRECTIVES`] right after an
/// opening parenthesis.
pub fn check_raw_policy(policy: &str) -> Result<(), String> {
    if policy.trim().is_empty() {
        return Err("policy must not be empty".into());
    }
    if policy.contains('\0') {
        return Err("policy must not contain null bytes".into());
    }
    let chars = policy.chars().count();
    if chars > RAW_POLICY_MAX_CHARS {
        return Err(format!(
            "policy has {chars} characters, more than {RAW_POLICY_MAX_CHARS}"
        ));
    }
    let mut depth = 0usize;
    let mut word = String::new();
    let mut at_directive = false;
    let check = |word: &str, at_directive: bool| -> Result<(), String> {
        let lower = word.to_lowercase();
        if at_directive && RESTRICTED_DIRECTIVES.contains(&lower.as_str()) {
            return Err(format!(
                "use of restricted global directive '{lower}' is not allowed"
            ));
        }
        Ok(())
    };
    for c in policy.chars() {
        match c {
            '(' => {
                check(&word, at_directive)?;
                depth += 1;
                word.clear();
                at_directive = true;
            }
            ')' => {
                check(&word, at_directive)?;
                depth = depth
                    .checked_sub(1)
                    .ok_or("unmatched closing parenthesis ')' allows block escape")?;
                word.clear();
                at_directive = false;
            }
            c if c.is_alphanumeric() || c == '_' || c == '-' => word.push(c),
            _ => {
                if !word.is_empty() {
                    check(&word, at_directive)?;
                    word.clear();
                    at_directive = false;
                }
            }
        }
    }
    check(&word, at_directive)?;
    if depth != 0 {
        return Err("unbalanced parentheses".into());
    }
    Ok(())
}

/// Checks `name` as both a Kubernetes object name and a CIL block name:
/// lowercase letters, digits and `-`, starting with a letter and ending
/// with a letter or digit, at most 63 characters (SPO's block name is also
/// the module's file name and a part of the pod's label).
pub fn check_name(name: &str) -> Result<(), SpoError> {
    let bad = |reason| {
        Err(SpoError::InvalidName {
            name: name.to_string(),
            reason,
        })
    };
    if name.is_empty() {
        return bad("it is empty");
    }
    if name.len() > 63 {
        return bad("it is longer than 63 characters");
    }
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        return bad("it does not start with a lowercase letter");
    }
    if !name.ends_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit()) {
        return bad("it does not end with a letter or digit");
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        return bad("it has a character other than a lowercase letter, digit or `-`");
    }
    Ok(())
}

/// The `SelinuxProfile` for `module`'s groups, named `name` (the block
/// SPO writes, so pods run as `NAME.process`), with the daemon override
/// its rules need. The module's dedicated block name is not used: the
/// profile's name is the block.
pub fn selinux_profile(module: &VirtLauncher, name: &str) -> Result<Manifests, SpoError> {
    check_name(name)?;
    if matches!(module.mode, DomainMode::Extend { .. }) {
        return Err(SpoError::ProfileNeedsDedicated);
    }
    if module.portable {
        return Err(SpoError::NotExpressible {
            option: "--portable",
            why: "the profile's attribute memberships come from the inherited container templates",
        });
    }
    if module.narrow_proc {
        return Err(SpoError::NotExpressible {
            option: "--narrow-proc",
            why: "it declares an attribute, and a SelinuxProfile holds only allow rules",
        });
    }
    let policy = module.generate()?;
    let body = policy
        .statements
        .iter()
        .find_map(|s| match s {
            Statement::Block(b) => Some(&b.body),
            _ => None,
        })
        .ok_or_else(|| SpoError::NotAnAllowRule("a module without its block".into()))?;

    let mut allow: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    let mut memberships = BTreeSet::new();
    for s in body {
        match s {
            Statement::Comment(_) | Statement::Type(_) | Statement::RoleType(_) => {}
            Statement::TypeAttributeSet(t) => {
                memberships.insert(t.attribute.as_str().to_string());
            }
            Statement::AvRule(r) if r.kind == AvKind::Allow && r.source.as_str() == "process" => {
                let target = match r.target.as_str() {
                    "self" | "process" => "@self".to_string(),
                    t => t.to_string(),
                };
                let (class, perms) = plain_classperms(&r.classperms).ok_or_else(|| {
                    SpoError::NotAnAllowRule(Statement::AvRule(r.clone()).to_string())
                })?;
                allow
                    .entry(target)
                    .or_default()
                    .entry(class)
                    .or_default()
                    .extend(perms);
            }
            other => return Err(SpoError::NotAnAllowRule(other.to_string())),
        }
    }

    let mut options = SelinuxOptions {
        allowed_system_profiles: INHERITED.iter().map(|s| s.to_string()).collect(),
        ..SelinuxOptions::default()
    };
    let mut lifted_types = BTreeSet::new();
    let mut lifted_classes = BTreeSet::new();
    let mut lifted_perms = BTreeSet::new();
    for (target, classes) in &allow {
        if DENIED_TYPES.contains(&target.as_str()) {
            lifted_types.insert(target.clone());
        }
        for (class, perms) in classes {
            if DENIED_CLASSES.contains(&class.as_str()) {
                lifted_classes.insert(class.clone());
            }
            for p in perms {
                if DENIED_PERMISSIONS.contains(&p.as_str()) {
                    lifted_perms.insert(p.clone());
                }
            }
        }
    }
    options.allowed_types = lifted_types.into_iter().collect();
    options.allowed_classes = lifted_classes.into_iter().collect();
    options.allowed_permissions = lifted_perms.into_iter().collect();

    let profile = SelinuxProfile {
        api_version: API_VERSION.into(),
        kind: "SelinuxProfile".into(),
        metadata: ObjectMeta {
            name: name.to_string(),
            namespace: None,
        },
        spec: SelinuxProfileSpec {
            inherit: INHERITED
                .iter()
                .map(|n| PolicyRef {
                    kind: "System".into(),
                    name: n.to_string(),
                })
                .collect(),
            mode: "Enforcing".into(),
            allow: allow
                .into_iter()
                .map(|(t, classes)| {
                    let classes = classes
                        .into_iter()
                        .map(|(c, perms)| (c, perms.into_iter().collect()))
                        .collect();
                    (t, classes)
                })
                .collect(),
        },
    };
    let daemon = SecurityProfilesOperatorDaemon {
        api_version: API_VERSION.into(),
        kind: "SecurityProfilesOperatorDaemon".into(),
        metadata: ObjectMeta {
            name: DAEMON_NAME.into(),
            namespace: Some(DAEMON_NAMESPACE.into()),
        },
        spec: DaemonSpec {
            selinux: DaemonSelinux { options },
        },
    };

    let header = profile_header(module, &profile, &daemon, &memberships);
    Ok(Manifests {
        header,
        domain: profile.usage(),
        daemon: Some(daemon),
        profile: Profile::Selinux(profile),
    })
}

/// `(CLASS (PERM ...))` with a plain list, as the templates write rules.
fn plain_classperms(cp: &ClassPerms) -> Option<(String, Vec<String>)> {
    let ClassPerms::Anonymous { class, perms } = cp else {
        return None;
    };
    let Expr::List(items) = perms.as_ref() else {
        return None;
    };
    let perms = items
        .iter()
        .map(|t| match t {
            Term::Leaf(p) => Some(p.as_str().to_string()),
            Term::Expr(_) => None,
        })
        .collect::<Option<Vec<_>>>()?;
    Some((class.as_str().to_string(), perms))
}

fn generated_by(module: &VirtLauncher, format: &str, name: &str) -> String {
    let args = module.to_args();
    // The profile's name is its block: a dedicated block name has no part.
    let args = args.split(" --block ").next().unwrap_or_default();
    format!(
        "Generated by cilgen {}: cilgen emit --format {format} --name {name} {args}",
        env!("CARGO_PKG_VERSION")
    )
}

fn group_lines(module: &VirtLauncher) -> Vec<String> {
    let groups: Vec<&str> = module.groups().iter().map(|g| g.name()).collect();
    let mut lines = vec![format!("Rule groups: {}.", groups.join(", "))];
    for g in module.groups() {
        lines.push(format!("  {}: {}", g.name(), g.summary()));
    }
    lines
}

fn profile_header(
    module: &VirtLauncher,
    profile: &SelinuxProfile,
    daemon: &SecurityProfilesOperatorDaemon,
    memberships: &BTreeSet<String>,
) -> Vec<String> {
    let name = &profile.metadata.name;
    let usage = profile.usage();
    let mut h = vec![
        format!("{name}: Security Profiles Operator manifests for KubeVirt's virt-launcher pods."),
        generated_by(module, "spo", name),
    ];
    h.extend(group_lines(module));
    h.extend([
        String::new(),
        format!(
            "The SelinuxProfile declares the domain {usage}: SPO installs (block {name} \
             (blockinherit container) (blockinherit net_container) (allow process ...) ...), \
             where container and net_container are udica's templates, bundled with SPO's \
             selinuxd."
        ),
        format!(
            "Run virt-launcher pods with securityContext.seLinuxOptions.type: {usage}; for \
             KubeVirt, set spec.configuration.selinuxLauncherType: {usage} in the KubeVirt object."
        ),
        "Each allow entry is one rule of the CIL module (cilgen emit), whose comments say why \
         it is needed; @self is the domain itself."
            .into(),
    ]);
    let missing: Vec<&str> = memberships
        .iter()
        .map(String::as_str)
        .filter(|a| !INHERITED_ATTRIBUTES.contains(a) && !FEDORA_ONLY_ATTRIBUTES.contains(a))
        .collect();
    if !missing.is_empty() {
        h.push(String::new());
        h.push(format!(
            "Not expressible here: membership in {}. A SelinuxProfile holds only allow rules, \
             and the inherited templates give domain, container_domain, svirt_sandbox_domain \
             and sandbox_net_domain only; the CIL module (cilgen emit) declares every membership.",
            missing.join(", ")
        ));
        if missing.contains(&"mcs_constrained_type") {
            h.push(
                "Without mcs_constrained_type, where container_domain is not itself \
                 MCS-constrained (Debian's reference policy), pods of this domain are not kept \
                 apart by their MCS categories."
                    .into(),
            );
        }
        if missing.contains(&"container_net_domain") {
            h.push(
                "Without container_net_domain, where it carries the container network rules \
                 (Debian's reference policy), the pods get no network through it; Fedora's \
                 container-selinux grants network through sandbox_net_domain, which \
                 net_container gives."
                    .into(),
            );
        }
    }
    let o = &daemon.spec.selinux.options;
    let mut lifted = Vec::new();
    for (what, list) in [
        ("types", &o.allowed_types),
        ("classes", &o.allowed_classes),
        ("permissions", &o.allowed_permissions),
    ] {
        if !list.is_empty() {
            lifted.push(format!("the {what} {}", list.join(", ")));
        }
    }
    h.push(String::new());
    let mut needs = format!(
        "The first document is the SecurityProfilesOperatorDaemon setting this profile needs: \
         it inherits {} (allowedSystemProfiles; SPO allows only container by default)",
        INHERITED.join(" and ")
    );
    if lifted.is_empty() {
        needs.push('.');
        h.push(needs);
    } else {
        needs.push_str(&format!(
            " and uses {}, which SPO refuses unless the daemon lifts them:",
            lifted.join("; ")
        ));
        h.push(needs);
        for g in module.groups() {
            if let Some(why) = lift_reason(g) {
                h.push(format!("  {}: {why}", g.name()));
            }
        }
        h.push(format!(
            "Lifting them applies to every SelinuxProfile of the cluster. To keep the denylist, \
             leave those groups out (--without) and add their rules to {usage} with a \
             RawSelinuxProfile (--format spo-raw --domain {usage} --only ...)."
        ));
    }
    h.push(
        "Apply with: kubectl apply --server-side -f FILE (the daemon's lists are sets: \
         server-side apply adds these entries and keeps the ones already there). SPO's \
         SELinux support must be on (spec.selinux.enable: true in the daemon object)."
            .into(),
    );
    wrap(&h)
}

/// Wraps each logical line at 78 columns; a line starting with two spaces
/// (a list item) continues with four.
fn wrap(lines: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for line in lines {
        if line.is_empty() {
            out.push(String::new());
            continue;
        }
        let indent = if line.starts_with("  ") { "    " } else { "" };
        let mut current = String::new();
        for word in line.split(' ') {
            if word.is_empty() {
                // The leading spaces of a list item.
                if current.chars().all(|c| c == ' ') {
                    current.push(' ');
                }
                continue;
            }
            let fits = current.trim().is_empty() || current.len() + 1 + word.len() <= 78;
            if !fits {
                out.push(std::mem::take(&mut current));
                current.push_str(indent);
            } else if !current.trim().is_empty() {
                current.push(' ');
            }
            current.push_str(word);
        }
        out.push(current);
    }
    out
}

/// Why a group needs a permission SPO's denylist holds.
fn lift_reason(group: Group) -> Option<&'static str> {
    match group {
        Group::Multiqueue => {
            Some("relabelfrom, relabelto: each new queue's tun socket is relabelled to the domain")
        }
        Group::Virtiofs => {
            Some("mounton: the virtiofs daemon mounts over the shared directories and /proc")
        }
        _ => None,
    }
}

/// The `RawSelinuxProfile` named `name` carrying `module`'s rules for an
/// existing domain (the module must be in extend mode). SPO installs it
/// as `(block NAME_ ...)`; the rules name their domain, so the block only
/// keeps the module's own names (the narrow-proc attribute) apart.
pub fn raw_selinux_profile(module: &VirtLauncher, name: &str) -> Result<Manifests, SpoError> {
    check_name(name)?;
    let DomainMode::Extend { domain } = &module.mode else {
        return Err(SpoError::RawNeedsExtend);
    };
    let domain = domain.as_str().to_string();
    let mut policy = module.generate()?;
    // The module's header speaks of semodule; the manifest's header says
    // how SPO installs it instead.
    let skip = module.header().len();
    policy.statements.drain(..skip.min(policy.statements.len()));
    let mut text = String::new();
    let groups: Vec<&str> = module.groups().iter().map(|g| g.name()).collect();
    text.push_str(&format!(
        "; virt-launcher rules for {domain}: {}.\n",
        groups.join(", ")
    ));
    text.push_str(
        &policy
            .to_checked_string()
            .map_err(|e| SpoError::RawPolicy(e.to_string()))?,
    );
    check_raw_policy(&text).map_err(SpoError::RawPolicy)?;

    let mut h = vec![
        format!(
            "{name}: a Security Profiles Operator RawSelinuxProfile for KubeVirt's virt-launcher pods."
        ),
        generated_by(module, "spo-raw", name),
    ];
    h.extend(group_lines(module));
    h.push(String::new());
    h.push(format!(
        "The rules extend the existing domain {domain}. SPO installs them as (block {name}_ \
         ...); the rules name {domain} itself, so the block changes nothing about what they \
         grant. SPO 1.0 refuses blockinherit and roletype in a raw policy, so a \
         RawSelinuxProfile cannot declare a domain of its own."
    ));
    if domain == "container_t" {
        h.push(
            "Every pod running as container_t on the node gets these rules, not only \
             virt-launcher pods: a dedicated domain (cilgen emit --format spo) grants them to \
             virt-launcher alone."
                .into(),
        );
    } else {
        h.push(format!(
            "Pods of {domain} get these rules; KubeVirt runs virt-launcher there when its \
             spec.configuration.selinuxLauncherType is {domain}."
        ));
    }
    h.push(
        "SPO checks a raw policy against its restricted directives, not against its \
         denylist: no daemon setting is needed."
            .into(),
    );
    h.push("Apply with: kubectl apply -f FILE".into());
    let h = wrap(&h);

    Ok(Manifests {
        header: h,
        daemon: None,
        profile: Profile::Raw(RawSelinuxProfile {
            api_version: API_VERSION.into(),
            kind: "RawSelinuxProfile".into(),
            metadata: ObjectMeta {
                name: name.to_string(),
                namespace: None,
            },
            spec: RawSelinuxProfileSpec { policy: text },
        }),
        domain,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_must_suit_kubernetes_and_cil() {
        for ok in ["virt-launcher", "a", "vl2", "a-b-c"] {
            assert!(check_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "virt_launcher",
            "Virt",
            "9a",
            "a-",
            "a.b",
            &"a".repeat(64),
        ] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_raw_policy_check_refuses_what_spo_refuses() {
        assert!(check_raw_policy("(allow container_t shadow_t (file (read open)))").is_ok());
        assert!(check_raw_policy("(allow typepermissive file (read))").is_ok());
        assert!(check_raw_policy("(type my_t) (typealias my_alias_t (my_t))").is_ok());
        assert!(check_raw_policy("(((( )))) () (())").is_ok());
        for (bad, why) in [
            ("", "empty"),
            ("  \n", "empty"),
            ("(allow a b (c (d)))\0", "null"),
            (") (typepermissive spc_t) (block x", "unmatched closing"),
            ("(allow container_t (file (read)", "unbalanced"),
            ("(typepermissive spc_t)", "'typepermissive'"),
            ("( \t \n typepermissive spc_t)", "'typepermissive'"),
            ("(TYPEPERMISSIVE spc_t)", "'typepermissive'"),
            ("(blockinherit container)", "'blockinherit'"),
            ("(allow a b (c (d))) (mls (sensitivity s0))", "'mls'"),
            // SPO does not know comments: a parenthesis in one counts.
            ("; 1) first\n(allow a b (c (d)))", "unmatched closing"),
            ("; see (roletype x)\n", "'roletype'"),
        ] {
            let err = check_raw_policy(bad).unwrap_err();
            assert!(err.contains(why), "{bad:?}: {err}");
        }
        let long = "a".repeat(RAW_POLICY_MAX_CHARS + 1);
        assert!(check_raw_policy(&long).unwrap_err().contains("characters"));
    }
}
