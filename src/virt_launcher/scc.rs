//! The OpenShift `SecurityContextConstraints` for KubeVirt's
//! `kubevirt-controller` service account.
//!
//! ```
//! use cilgen::virt_launcher::scc::{Capability, SecurityContextConstraints};
//!
//! let scc = SecurityContextConstraints::kubevirt_controller("kubevirt")?
//!     .without_capability(Capability::SysPtrace);
//! let json = scc.to_json();
//! assert!(json.contains("\"system:serviceaccount:kubevirt:kubevirt-controller\""));
//! assert!(!json.contains("SYS_PTRACE"));
//! # Ok::<(), cilgen::virt_launcher::scc::InvalidNamespace>(())
//! ```

use serde::{Deserialize, Serialize};

/// A Linux capability virt-launcher may add.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Capability {
    /// `SYS_NICE`: set the CPU affinity and scheduling of vCPU threads
    /// (dedicated CPUs, real-time VMs).
    #[serde(rename = "SYS_NICE")]
    SysNice,
    /// `NET_BIND_SERVICE`: bind ports below 1024, to serve DHCP to the guest
    /// and for slirp networking.
    #[serde(rename = "NET_BIND_SERVICE")]
    NetBindService,
    /// `SYS_PTRACE`: lets libvirt older than 8.1.0 find the PID of `swtpm`,
    /// the software TPM emulator; newer libvirt does not need it.
    #[serde(rename = "SYS_PTRACE")]
    SysPtrace,
}

impl Capability {
    /// The three capabilities the document lists, in its order.
    pub const ALL: [Capability; 3] = [
        Capability::SysNice,
        Capability::NetBindService,
        Capability::SysPtrace,
    ];

    /// The capability's name without `CAP_`.
    pub fn name(self) -> &'static str {
        match self {
            Capability::SysNice => "SYS_NICE",
            Capability::NetBindService => "NET_BIND_SERVICE",
            Capability::SysPtrace => "SYS_PTRACE",
        }
    }

    /// Why virt-launcher needs it.
    pub fn reason(self) -> &'static str {
        match self {
            Capability::SysNice => "sets the CPU affinity of vCPU threads",
            Capability::NetBindService => "serves DHCP to the guest and slirp networking",
            Capability::SysPtrace => {
                "lets libvirt before 8.1.0 find the PID of swtpm (software TPM)"
            }
        }
    }
}

/// `metadata` of the object.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    /// `kubevirt-controller`.
    pub name: String,
}

/// A strategy such as `{"type": "RunAsAny"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Strategy {
    /// `RunAsAny`.
    #[serde(rename = "type")]
    pub kind: String,
}

/// `security.openshift.io/v1` `SecurityContextConstraints`.
///
/// Besides what the document names, the object sets the other required
/// host-access flags to `false` (least privilege) so it validates as is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecurityContextConstraints {
    /// `security.openshift.io/v1`.
    pub api_version: String,
    /// `SecurityContextConstraints`.
    pub kind: String,
    /// The object's name.
    pub metadata: Metadata,
    /// `false`: virt-launcher never runs privileged.
    pub allow_privileged_container: bool,
    /// `true`: VMs may use hostPath volumes.
    pub allow_host_dir_volume_plugin: bool,
    /// `false`.
    #[serde(rename = "allowHostIPC")]
    pub allow_host_ipc: bool,
    /// `false`.
    pub allow_host_network: bool,
    /// `false`.
    #[serde(rename = "allowHostPID")]
    pub allow_host_pid: bool,
    /// `false`.
    pub allow_host_ports: bool,
    /// `false`.
    pub read_only_root_filesystem: bool,
    /// Capabilities pods may add.
    pub allowed_capabilities: Vec<Capability>,
    /// `RunAsAny`.
    pub run_as_user: Strategy,
    /// `RunAsAny`.
    #[serde(rename = "seLinuxContext")]
    pub se_linux_context: Strategy,
    /// `system:serviceaccount:NAMESPACE:kubevirt-controller`.
    pub users: Vec<String>,
}

/// A namespace that is not a Kubernetes DNS label.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a Kubernetes namespace: 1 to 63 lowercase letters, digits and `-`, starting and ending with a letter or digit"
)]
pub struct InvalidNamespace(pub String);

fn is_dns_label(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

impl SecurityContextConstraints {
    /// The SCC for `kubevirt-controller` in `namespace`.
    pub fn kubevirt_controller(
        namespace: &str,
    ) -> Result<SecurityContextConstraints, InvalidNamespace> {
        if !is_dns_label(namespace) {
            return Err(InvalidNamespace(namespace.to_string()));
        }
        Ok(SecurityContextConstraints {
            api_version: "security.openshift.io/v1".into(),
            kind: "SecurityContextConstraints".into(),
            metadata: Metadata {
                name: "kubevirt-controller".into(),
            },
            allow_privileged_container: false,
            allow_host_dir_volume_plugin: true,
            allow_host_ipc: false,
            allow_host_network: false,
            allow_host_pid: false,
            allow_host_ports: false,
            read_only_root_filesystem: false,
            allowed_capabilities: Capability::ALL.to_vec(),
            run_as_user: Strategy {
                kind: "RunAsAny".into(),
            },
            se_linux_context: Strategy {
                kind: "RunAsAny".into(),
            },
            users: vec![format!(
                "system:serviceaccount:{namespace}:kubevirt-controller"
            )],
        })
    }

    /// Leaves a capability out (e.g. `SYS_PTRACE` with libvirt 8.1.0+).
    pub fn without_capability(mut self, cap: Capability) -> SecurityContextConstraints {
        self.allowed_capabilities.retain(|c| *c != cap);
        self
    }

    /// Pretty-printed JSON with a final line break (`oc apply -f -` reads it).
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self)
            .unwrap_or_else(|e| unreachable!("plain data always serializes: {e}"));
        s.push('\n');
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serializes_as_the_document_describes() {
        let scc = SecurityContextConstraints::kubevirt_controller("kubevirt").unwrap();
        let v: serde_json::Value = serde_json::from_str(&scc.to_json()).unwrap();
        assert_eq!(v["apiVersion"], "security.openshift.io/v1");
        assert_eq!(v["kind"], "SecurityContextConstraints");
        assert_eq!(v["metadata"]["name"], "kubevirt-controller");
        assert_eq!(v["allowPrivilegedContainer"], false);
        assert_eq!(v["allowHostDirVolumePlugin"], true);
        assert_eq!(
            v["allowedCapabilities"],
            serde_json::json!(["SYS_NICE", "NET_BIND_SERVICE", "SYS_PTRACE"])
        );
        assert_eq!(v["runAsUser"]["type"], "RunAsAny");
        assert_eq!(v["seLinuxContext"]["type"], "RunAsAny");
        assert_eq!(
            v["users"],
            serde_json::json!(["system:serviceaccount:kubevirt:kubevirt-controller"])
        );
        let back: SecurityContextConstraints = serde_json::from_value(v).unwrap();
        assert_eq!(back, scc);
    }

    #[test]
    fn namespaces_are_validated() {
        for bad in ["", "Kubevirt", "-a", "a-", "a_b", "a:b", &"a".repeat(64)] {
            assert!(
                SecurityContextConstraints::kubevirt_controller(bad).is_err(),
                "{bad}"
            );
        }
        assert!(SecurityContextConstraints::kubevirt_controller("openshift-cnv").is_ok());
    }
}
