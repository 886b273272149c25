//! Prints the virt-launcher SELinux module (or its SCC).
//!
//! ```text
//! cargo run --example emit > virt_launcher.cil
//! semodule -i virt_launcher.cil
//! ```
//!
//! Run with `--help` for the options. Bad flags or names print an error to
//! standard error, nothing to standard output, and exit with status 2.

use std::io::Write;
use std::process::ExitCode;

use cilgen::virt_launcher::{Group, VirtLauncher};
use cilgen::{Name, Ref};

const HELP: &str = "\
Prints the SELinux CIL module for KubeVirt's virt-launcher pods.

usage: emit [OPTIONS] > virt_launcher.cil

Options:
  --only LIST        exactly these rule groups (comma-separated; may be empty)
  --without LIST     the default groups minus these
  --domain TYPE      extend an existing domain (e.g. container_t) with flat
                     rules instead of declaring virt_launcher.process; every
                     pod of that domain gets the rules
  --block NAME       name of the dedicated domain's block (default virt_launcher)
  --portable         wrap Fedora-only attribute memberships in optionals so the
                     module loads without Fedora's container-selinux
  --narrow-proc      read /proc through proc_type minus proc_kcore_t and
                     proc_kmsg_t, passing the base policy's neverallow checks
  --format FORMAT    cil (default): the module; spo: a SecurityProfilesOperator
                     SelinuxProfile declaring NAME.process, and the daemon
                     setting it needs; spo-raw: a RawSelinuxProfile with the
                     rules for the domain given with --domain (YAML)
  --name NAME        the SPO profile's name (default virt-launcher)
  --scc              print the kubevirt-controller SecurityContextConstraints
                     (JSON) instead of the module
  --namespace NS     namespace of the kubevirt-controller service account
                     for --scc (default kubevirt)
  --without-capability CAP
                     leave a capability out of the SCC (SYS_NICE,
                     NET_BIND_SERVICE, SYS_PTRACE)
  -h, --help         this text

Rule groups: base (always on), multiqueue, hugepages, virtiofs (default on),
passt (off by default). A group needs its Cargo feature compiled in.";

struct Args {
    only: Option<Vec<Group>>,
    without: Vec<Group>,
    domain: Option<Ref>,
    block: Option<Name>,
    portable: bool,
    narrow_proc: bool,
    format: String,
    name: String,
    scc: bool,
    namespace: String,
    without_caps: Vec<String>,
}

fn groups(list: &str) -> Result<Vec<Group>, String> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<Group>().map_err(|e| e.to_string()))
        .collect()
}

fn parse_args() -> Result<Option<Args>, String> {
    let mut args = Args {
        only: None,
        without: Vec::new(),
        domain: None,
        block: None,
        portable: false,
        narrow_proc: false,
        format: "cil".into(),
        name: "virt-launcher".into(),
        scc: false,
        namespace: "kubevirt".into(),
        without_caps: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| it.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(None),
            "--only" => args.only = Some(groups(&value("--only")?)?),
            "--without" => args.without.extend(groups(&value("--without")?)?),
            "--domain" => {
                let v = value("--domain")?;
                args.domain = Some(Ref::new(&v).map_err(|e| format!("--domain: {e}"))?);
            }
            "--block" => {
                let v = value("--block")?;
                args.block = Some(Name::new(&v).map_err(|e| format!("--block: {e}"))?);
            }
            "--portable" => args.portable = true,
            "--narrow-proc" => args.narrow_proc = true,
            "--format" => {
                let v = value("--format")?;
                if !["cil", "spo", "spo-raw"].contains(&v.as_str()) {
                    return Err(format!("--format: `{v}` is not cil, spo or spo-raw"));
                }
                args.format = v;
            }
            "--name" => args.name = value("--name")?,
            "--scc" => args.scc = true,
            "--namespace" => args.namespace = value("--namespace")?,
            "--without-capability" => args.without_caps.push(value("--without-capability")?),
            other => return Err(format!("unknown option `{other}` (see --help)")),
        }
    }
    if args.domain.is_some() && args.block.is_some() {
        return Err("--domain and --block exclude each other".into());
    }
    if args.format != "cil" && args.block.is_some() {
        return Err(
            "--block names the CIL module's block; an SPO profile's block is its name: use --name"
                .into(),
        );
    }
    Ok(Some(args))
}

fn build(args: &Args) -> Result<String, String> {
    let module = options(args);
    match args.format.as_str() {
        "spo" | "spo-raw" => spo(args, &module),
        // Checked printing: the text reads back as the module, or nothing
        // is printed at all.
        _ => {
            let policy = module.generate().map_err(|e| e.to_string())?;
            policy.to_checked_string().map_err(|e| e.to_string())
        }
    }
}

#[cfg(feature = "spo")]
fn spo(args: &Args, module: &VirtLauncher) -> Result<String, String> {
    use cilgen::virt_launcher::spo;
    let manifests = if args.format == "spo" {
        spo::selinux_profile(module, &args.name)
    } else {
        spo::raw_selinux_profile(module, &args.name)
    };
    manifests.map(|m| m.to_yaml()).map_err(|e| e.to_string())
}

#[cfg(not(feature = "spo"))]
fn spo(_: &Args, _: &VirtLauncher) -> Result<String, String> {
    Err("--format spo and spo-raw need the Cargo feature `spo`".into())
}

fn options(args: &Args) -> VirtLauncher {
    let mut module = VirtLauncher::new();
    if let Some(only) = &args.only {
        module = module.only(only.iter().copied());
    }
    for g in &args.without {
        module = module.without(*g);
    }
    if let Some(domain) = &args.domain {
        module = module.extend(domain.clone());
    }
    if let Some(block) = &args.block {
        module = module.dedicated(block.clone());
    }
    module.portable(args.portable).narrow_proc(args.narrow_proc)
}

#[cfg(feature = "serde")]
fn scc(args: &Args) -> Result<String, String> {
    use cilgen::virt_launcher::scc::{Capability, SecurityContextConstraints};
    let mut scc = SecurityContextConstraints::kubevirt_controller(&args.namespace)
        .map_err(|e| e.to_string())?;
    for name in &args.without_caps {
        let cap = Capability::ALL
            .into_iter()
            .find(|c| c.name() == name.as_str())
            .ok_or_else(|| {
                format!("unknown capability `{name}` (SYS_NICE, NET_BIND_SERVICE, SYS_PTRACE)")
            })?;
        scc = scc.without_capability(cap);
    }
    Ok(scc.to_json())
}

#[cfg(not(feature = "serde"))]
fn scc(_: &Args) -> Result<String, String> {
    Err("--scc needs the Cargo feature `serde`".into())
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(Some(a)) => a,
        Ok(None) => {
            println!("{HELP}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("emit: {e}");
            return ExitCode::from(2);
        }
    };
    let out = if args.scc { scc(&args) } else { build(&args) };
    match out {
        Ok(text) => {
            let mut stdout = std::io::stdout().lock();
            if stdout
                .write_all(text.as_bytes())
                .and_then(|()| stdout.flush())
                .is_err()
            {
                return ExitCode::FAILURE;
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("emit: {e}");
            ExitCode::from(2)
        }
    }
}
