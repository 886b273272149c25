//! Denials grouped by (source, target, class), and for each what grants
//! it: a rule group of the virt-launcher module, the policy already (and
//! why the kernel refused anyway), or nothing yet (a proposed rule).

use std::collections::{BTreeMap, BTreeSet};

use super::{Kind, Outcome, Record};
use crate::ast::{ClassPerms, Statement};
use crate::resolve::Model;
use crate::virt_launcher::Group;

/// Denials of one source type on one target type in one class.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Denials {
    /// The source type.
    pub source: String,
    /// The target type.
    pub target: String,
    /// The class.
    pub class: String,
    /// Every permission denied.
    pub permissions: BTreeSet<String>,
    /// How many records.
    pub count: usize,
    /// The commands that were refused.
    pub comms: BTreeSet<String>,
    /// Records of a domain (or system) in enforcing mode: refused.
    pub enforcing: usize,
    /// Records in permissive mode: logged, let through.
    pub permissive: usize,
    /// The ioctl commands, as the records write them.
    pub ioctls: BTreeSet<String>,
    /// The source and target levels seen (MLS/MCS).
    pub levels: BTreeSet<(String, String)>,
    /// The lines of the first records (at most 5).
    pub lines: Vec<usize>,
}

/// Groups the denied AVC and USER_AVC records by (source, target, class),
/// in the order first seen.
pub fn group(records: impl IntoIterator<Item = Record>) -> Vec<Denials> {
    let mut order: Vec<(String, String, String)> = Vec::new();
    let mut groups: BTreeMap<(String, String, String), Denials> = BTreeMap::new();
    for r in records {
        if r.outcome != Outcome::Denied || r.kind == Some(Kind::SelinuxErr) {
            continue;
        }
        let key = (r.source.ty.clone(), r.target.ty.clone(), r.class.clone());
        let g = groups.entry(key.clone()).or_insert_with(|| {
            order.push(key.clone());
            Denials {
                source: key.0.clone(),
                target: key.1.clone(),
                class: key.2.clone(),
                ..Denials::default()
            }
        });
        g.permissions.extend(r.permissions.iter().cloned());
        g.count += 1;
        g.comms.extend(r.comm.clone());
        match r.permissive {
            Some(true) => g.permissive += 1,
            // Without the field (kernels before 4.17) the record was an
            // enforced denial unless the whole system was permissive.
            _ => g.enforcing += 1,
        }
        g.ioctls.extend(r.ioctlcmd.clone());
        if let (Some(s), Some(t)) = (&r.source.level, &r.target.level) {
            g.levels.insert((s.clone(), t.clone()));
        }
        if g.lines.len() < 5 {
            g.lines.push(r.line);
        }
    }
    order
        .into_iter()
        .filter_map(|k| groups.remove(&k))
        .collect()
}

/// What grants a group of denials.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Explanation {
    /// These rule groups of the virt-launcher module grant every
    /// permission denied: the module is missing them or lacks them.
    RuleGroups(Vec<Group>),
    /// The policy grants every permission by type, yet the kernel refused:
    /// why, in words.
    AllowedYetDenied(String),
    /// Nothing grants it, and the policy `dontaudit`s it: it is refused
    /// silently in normal operation (the log shows it because dontaudit
    /// rules are off, `semodule -DB`). No rule is proposed.
    Dontaudited,
    /// Nothing grants it, and the domain is permissive (`typepermissive`):
    /// the access was logged and let through. A rule is proposed.
    PermissiveDomain,
    /// Nothing grants it: a rule is proposed.
    Missing,
}

/// Permissions and targets that weaken the isolation of a container when
/// granted: proposed only with a warning.
pub fn risk(d: &Denials) -> Vec<String> {
    const PERMISSIONS: [&str; 9] = [
        "relabelfrom",
        "relabelto",
        "mounton",
        "sys_admin",
        "load_policy",
        "setenforce",
        "setbool",
        "mac_admin",
        "sys_module",
    ];
    const TARGETS: [&str; 5] = [
        "kernel_t",
        "security_t",
        "kmem_t",
        "shadow_t",
        "unlabeled_t",
    ];
    let mut out: Vec<String> = d
        .permissions
        .iter()
        .filter(|p| PERMISSIONS.contains(&p.as_str()))
        .map(|p| format!("`{p}` weakens isolation"))
        .collect();
    if TARGETS.contains(&d.target.as_str()) {
        out.push(format!("access to `{}` weakens isolation", d.target));
    }
    out
}

/// The rule groups (compiled in) whose templates grant every permission
/// of `d` to the launcher's domain `domain`; names written on attributes
/// match through `model` (the node's policy) when given.
pub fn rule_groups(d: &Denials, domain: &str, model: Option<&Model>) -> Vec<Group> {
    if d.source != domain {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (g, rules) in template_rules() {
        let mut granted: BTreeSet<&str> = BTreeSet::new();
        for (target, class, perms) in rules {
            if *class != d.class {
                continue;
            }
            let reaches = match target.as_str() {
                "self" => d.source == d.target,
                t => t == d.target || model.is_some_and(|m| m.matches(t, &d.target)),
            };
            if reaches {
                granted.extend(perms.iter().map(String::as_str));
            }
        }
        if d.permissions.iter().all(|p| granted.contains(p.as_str())) {
            out.push(*g);
        }
    }
    out
}

/// An allow rule of a template: target, class, permissions.
type TemplateRule = (String, String, Vec<String>);

/// Each compiled-in group's allow rules, read from its template once.
fn template_rules() -> &'static [(Group, Vec<TemplateRule>)] {
    static RULES: std::sync::OnceLock<Vec<(Group, Vec<TemplateRule>)>> = std::sync::OnceLock::new();
    RULES.get_or_init(|| {
        Group::ALL
            .into_iter()
            .filter_map(|g| {
                let policy = crate::parse(g.template()?).ok()?;
                let rules = policy
                    .walk()
                    .filter_map(|s| {
                        let Statement::AvRule(r) = s else { return None };
                        if r.kind != crate::AvKind::Allow {
                            return None;
                        }
                        let ClassPerms::Anonymous { class, perms } = &r.classperms else {
                            return None;
                        };
                        Some((
                            r.target.to_string(),
                            class.to_string(),
                            perms.leaves().into_iter().map(|p| p.to_string()).collect(),
                        ))
                    })
                    .collect();
                Some((g, rules))
            })
            .collect()
    })
}

/// Why a group of denials happened, against the node's policy when given.
pub fn explain(d: &Denials, domain: &str, model: Option<&Model>) -> Explanation {
    let groups = rule_groups(d, domain, model);
    if !groups.is_empty() {
        return Explanation::RuleGroups(groups);
    }
    let Some(m) = model else {
        return Explanation::Missing;
    };
    let allowed = m.allowed(&d.source, &d.target, &d.class);
    if d.permissions.iter().all(|p| allowed.contains(p)) {
        let differ = d.levels.iter().find(|(s, t)| s != t);
        let why = match differ {
            Some((s, t)) => format!(
                "the policy allows it by type; an MLS/MCS constraint refused it (levels {s} and {t} differ)"
            ),
            None => "the policy allows it by type; a constraint refused it, or the node runs another policy".to_string(),
        };
        return Explanation::AllowedYetDenied(why);
    }
    // A rule inside a boolean's branch.
    let conditional = m.rules.iter().find(|r| {
        r.kind == crate::AvKind::Allow
            && r.condition.is_some()
            && m.matches(&r.source, &d.source)
            && match &r.target {
                crate::resolve::RuleTarget::Name(t) => m.matches(t, &d.target),
                crate::resolve::RuleTarget::SelfTarget => d.source == d.target,
                _ => false,
            }
            && r.perms
                .iter()
                .any(|(c, p)| **c == *d.class && d.permissions.iter().all(|x| p.contains(x)))
    });
    if let Some(r) = conditional
        && let Some((cond, branch)) = &r.condition
    {
        return Explanation::AllowedYetDenied(format!(
            "the policy allows it only when the boolean condition `{cond}` is {branch}"
        ));
    }
    if m.rules_covering(
        crate::AvKind::DontAudit,
        &d.source,
        &d.target,
        &d.class,
        &d.permissions,
    )
    .next()
    .is_some()
    {
        return Explanation::Dontaudited;
    }
    if m.is_permissive(&d.source) {
        return Explanation::PermissiveDomain;
    }
    Explanation::Missing
}

/// A module of the proposed rules, each with its denials as comments:
/// `allow` for the permissions, `allowx` for numeric ioctl commands, a
/// warning for what weakens isolation.
pub fn propose(groups: &[(Denials, Explanation)], module: &str) -> crate::Policy {
    use crate::builder::{allow, class_perms, comments};
    use crate::{Ref, Statement};
    let mut policy = crate::Policy::new();
    policy.statements.extend(comments(&format!(
        "{module}: rules proposed by cilgen audit for denials nothing grants.\nRead each before installing it."
    )));
    for (d, e) in groups {
        if !matches!(e, Explanation::Missing | Explanation::PermissiveDomain) {
            continue;
        }
        let (Ok(source), Ok(target), Ok(class)) =
            (Ref::new(&d.source), Ref::new(&d.target), Ref::new(&d.class))
        else {
            continue;
        };
        let perms: Vec<Ref> = d
            .permissions
            .iter()
            .filter_map(|p| Ref::new(p).ok())
            .collect();
        let mut note = format!(
            "{} denial(s) of {{ {} }}, {} enforcing, {} permissive; comm {}; lines {:?}",
            d.count,
            d.permissions.iter().cloned().collect::<Vec<_>>().join(" "),
            d.enforcing,
            d.permissive,
            d.comms.iter().cloned().collect::<Vec<_>>().join(", "),
            d.lines
        );
        for w in risk(d) {
            note.push_str(&format!("\nWARNING: {w}"));
        }
        policy.statements.extend(comments(&note));
        let target_ref = if d.source == d.target {
            Ref::self_target()
        } else {
            target
        };
        policy.push(Statement::AvRule(allow(
            source.clone(),
            target_ref.clone(),
            class_perms(class.clone(), perms),
        )));
        let numbers: Vec<crate::PermxValue> = d
            .ioctls
            .iter()
            .filter_map(|c| crate::PermxValue::parse(c))
            .collect();
        if d.permissions.contains("ioctl") && !numbers.is_empty() {
            policy.push(Statement::AvRuleX(Box::new(crate::AvRuleX {
                kind: crate::AvxKind::Allow,
                source,
                target: target_ref,
                permx: crate::PermxArg::Anonymous(crate::Permx {
                    kind: crate::PermxKind::Ioctl,
                    class,
                    values: crate::Expr::list(numbers),
                }),
                span: crate::Span::DUMMY,
            })));
        }
    }
    policy
}
