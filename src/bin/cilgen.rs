//! `cilgen`: emit the virt-launcher module, format, check and query CIL.
//!
//! Exit status: 0 done (and clean), 1 findings (parse errors, problems,
//! names that do not resolve, optionals that would drop, files not
//! formatted), 2 usage errors.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use cilgen::diagnostic::{Code, Diagnostic, Label, Pointer, SourceFile};
use cilgen::resolve::{Input, Model, RuleTarget, resolve};
use cilgen::validate::{Release, ValidateOptions, catalog_of, validate_with};
use cilgen::virt_launcher::{Group, VirtLauncher};
use cilgen::{AvKind, Name, Policy, Ref};

#[derive(Parser)]
#[command(
    name = "cilgen",
    version,
    about = "SELinux CIL: the virt-launcher module, formatting, checks and queries"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the virt-launcher SELinux module (CIL), or its Security Profiles
    /// Operator manifests (YAML), on standard output
    Emit {
        #[command(flatten)]
        module: EmitArgs,
        /// cil: the module; spo: a SelinuxProfile (declares NAME.process) and
        /// the SecurityProfilesOperatorDaemon setting it needs; spo-raw: a
        /// RawSelinuxProfile extending the domain given with --domain
        #[arg(long, value_enum, default_value = "cil")]
        format: EmitFormat,
        /// The SPO profile's name (spo, spo-raw): pods of a SelinuxProfile run
        /// as NAME.process
        #[arg(long, value_name = "NAME", default_value = "virt-launcher")]
        name: String,
    },
    /// Print the kubevirt-controller SecurityContextConstraints (JSON)
    Scc {
        /// Namespace of the kubevirt-controller service account
        #[arg(long, default_value = "kubevirt")]
        namespace: String,
        /// Leave a capability out (SYS_NICE, NET_BIND_SERVICE, SYS_PTRACE)
        #[arg(long = "without-capability", value_name = "CAP")]
        without: Vec<String>,
    },
    /// Print CIL files in canonical form
    Fmt {
        /// Print nothing; exit 1 if a file is not canonical
        #[arg(long)]
        check: bool,
        /// Rewrite the files in place
        #[arg(short = 'w', long = "write", conflicts_with = "check")]
        write: bool,
        /// Files (none, or `-`: standard input)
        files: Vec<PathBuf>,
    },
    /// Parse, validate and resolve: every problem, with its place
    Check {
        /// libsepol release the files must compile with (3.2 to 3.9)
        #[arg(long, value_name = "X.Y")]
        release: Option<String>,
        /// A node's policy to resolve against (`semodule --cil -E all`
        /// output, or `checkpolicy -C`): report the names it lacks, the
        /// optionals that would drop, and rules it already grants
        #[arg(long, value_name = "FILE")]
        against: Vec<PathBuf>,
        /// Do not check neverallow and neverallowx rules (as `secilc -N`)
        #[arg(long)]
        no_neverallow: bool,
        /// The files to check
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Which rules allow what, with where each is written (sesearch's
    /// meaning: a type matches rules on attributes that contain it)
    Query {
        /// Search allow rules (the only kind for now)
        #[arg(long, required = true)]
        allow: bool,
        /// Source type or attribute
        #[arg(short = 's', long = "source")]
        source: Option<String>,
        /// Target type or attribute
        #[arg(short = 't', long = "target")]
        target: Option<String>,
        /// Class
        #[arg(short = 'c', long = "class")]
        class: Option<String>,
        /// A permission the rule must grant
        #[arg(short = 'p', long = "perm")]
        perm: Option<String>,
        /// JSON output
        #[arg(long)]
        json: bool,
        /// The policy's files
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Install the virt-launcher module into a policy store, only if it
    /// differs from the installed one; check it against the store's policy
    /// first and verify the store afterwards
    Install {
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        module: EmitArgs,
    },
    /// Group the SELinux denials of audit logs by (source, target, class)
    /// and say what grants each: a rule group of the module, the node's
    /// policy (and why the kernel refused anyway), or a proposed rule
    Audit {
        /// The node's policy (CIL files, e.g. `semodule --cil -E` of every
        /// module): does it allow a denial, and why was it refused anyway
        #[arg(long, value_name = "FILE")]
        policy: Vec<PathBuf>,
        /// table, json or cil (a module of the proposed rules)
        #[arg(long, default_value = "table")]
        format: String,
        /// The launcher's domain, whose denials are matched to rule groups
        #[arg(long, value_name = "TYPE", default_value = "virt_launcher.process")]
        domain: String,
        /// Audit logs (none, or `-`: standard input)
        logs: Vec<PathBuf>,
    },
    /// Remove the module from the store
    Remove {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Whether the module is installed, whether it is what `install` would
    /// install, and its groups and options
    Status {
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        module: EmitArgs,
    },
}

/// Which store, as `semodule -p ROOT -s STORE -X PRIORITY`.
#[derive(Args)]
struct StoreArgs {
    /// Root the store lives under (`semodule -p`): a copy of a node's
    /// `/var/lib/selinux` and `/etc/selinux`
    #[arg(long, value_name = "DIR")]
    root: Option<PathBuf>,
    /// The store's name
    #[arg(long = "store", value_name = "NAME", default_value = "default")]
    store: String,
    /// The module's priority
    #[arg(long, default_value_t = 400)]
    priority: u16,
    /// The module's name in the store
    #[arg(
        long = "module-name",
        value_name = "NAME",
        default_value = "virt_launcher"
    )]
    module_name: String,
}

impl StoreArgs {
    fn store(&self) -> cilgen::install::Store {
        let mut store = cilgen::install::Store::new()
            .store(&self.store)
            .priority(self.priority);
        if let Some(root) = &self.root {
            store = store.root(root);
        }
        store
    }
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum EmitFormat {
    /// The CIL module
    Cil,
    /// SelinuxProfile and SecurityProfilesOperatorDaemon (YAML)
    Spo,
    /// RawSelinuxProfile (YAML)
    SpoRaw,
}

#[derive(Args)]
struct EmitArgs {
    /// Exactly these rule groups (comma-separated; `''` for the base group only)
    #[arg(long, value_name = "LIST")]
    only: Option<String>,
    /// The default groups minus these
    #[arg(long, value_name = "LIST")]
    without: Option<String>,
    /// Extend an existing domain (e.g. container_t) instead of declaring
    /// virt_launcher.process: every pod of that domain gets the rules
    #[arg(long, value_name = "TYPE")]
    domain: Option<String>,
    /// Name of the dedicated domain's block
    #[arg(long, value_name = "NAME")]
    block: Option<String>,
    /// Fedora-only attribute memberships in optionals
    #[arg(long)]
    portable: bool,
    /// /proc reads without proc_kcore_t and proc_kmsg_t
    #[arg(long = "narrow-proc")]
    narrow_proc: bool,
}

/// A command's outcome: findings (exit 1) or a usage error (exit 2).
enum Failure {
    Findings,
    Usage(String),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Emit {
            module,
            format,
            name,
        } => emit(&module, format, &name),
        Command::Scc { namespace, without } => scc(&namespace, &without),
        Command::Fmt {
            check,
            write,
            files,
        } => fmt(check, write, &files),
        Command::Check {
            release,
            against,
            no_neverallow,
            files,
        } => check(release.as_deref(), &against, !no_neverallow, &files),
        Command::Query {
            source,
            target,
            class,
            perm,
            json,
            files,
            ..
        } => query(
            source.as_deref(),
            target.as_deref(),
            class.as_deref(),
            perm.as_deref(),
            json,
            &files,
        ),
        Command::Install { store, module } => install(&store, &module),
        Command::Remove { store } => remove(&store),
        Command::Audit {
            policy,
            format,
            domain,
            logs,
        } => audit(&policy, &format, &domain, &logs),
        Command::Status { store, module } => status(&store, &module),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Findings) => ExitCode::from(1),
        Err(Failure::Usage(message)) => {
            eprintln!("cilgen: {message}");
            ExitCode::from(2)
        }
    }
}

fn usage(e: impl std::fmt::Display) -> Failure {
    Failure::Usage(e.to_string())
}

fn groups(list: &str) -> Result<Vec<Group>, Failure> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<Group>().map_err(usage))
        .collect()
}

fn emit(args: &EmitArgs, format: EmitFormat, name: &str) -> Result<(), Failure> {
    use cilgen::virt_launcher::spo;
    let module = module_options(args)?;
    match format {
        EmitFormat::Cil => out(&module_text(args)?),
        EmitFormat::Spo | EmitFormat::SpoRaw if args.block.is_some() => Err(usage(
            "--block names the CIL module's block; an SPO profile's block is its name: use --name",
        )),
        EmitFormat::Spo => out(&spo::selinux_profile(&module, name)
            .map_err(usage)?
            .to_yaml()),
        EmitFormat::SpoRaw => out(&spo::raw_selinux_profile(&module, name)
            .map_err(usage)?
            .to_yaml()),
    }
}

/// The module the emit options describe, as printed.
fn module_text(args: &EmitArgs) -> Result<String, Failure> {
    let policy = module_options(args)?.generate().map_err(usage)?;
    policy.to_checked_string().map_err(usage)
}

/// The module the emit options describe.
fn module_options(args: &EmitArgs) -> Result<VirtLauncher, Failure> {
    let mut module = VirtLauncher::new();
    if let Some(only) = &args.only {
        module = module.only(groups(only)?);
    }
    if let Some(without) = &args.without {
        for g in groups(without)? {
            module = module.without(g);
        }
    }
    if let Some(domain) = &args.domain {
        module = module.extend(Ref::new(domain).map_err(usage)?);
    }
    if let Some(block) = &args.block {
        module = module.dedicated(Name::new(block).map_err(usage)?);
    }
    Ok(module.portable(args.portable).narrow_proc(args.narrow_proc))
}

fn install(store: &StoreArgs, module: &EmitArgs) -> Result<(), Failure> {
    let text = module_text(module)?;
    let name = &store.module_name;
    match store.store().install(name, &text) {
        Ok(cilgen::install::Outcome::Unchanged) => {
            println!("{name}: already installed, unchanged");
            Ok(())
        }
        Ok(cilgen::install::Outcome::Installed { rules_verified }) => {
            println!(
                "{name}: installed at priority {}; the rebuilt policy grants its {rules_verified} allow rules (class by class)",
                store.priority
            );
            Ok(())
        }
        Err(e) => {
            eprintln!("cilgen: {name}: {e}");
            Err(Failure::Findings)
        }
    }
}

fn audit(policy: &[PathBuf], format: &str, domain: &str, logs: &[PathBuf]) -> Result<(), Failure> {
    use cilgen::audit::{Explanation, Reader, explain, group, propose, risk};
    use std::io::BufRead;
    if !matches!(format, "table" | "json" | "cil") {
        return Err(usage(format!(
            "unknown format `{format}`: table, json or cil"
        )));
    }
    let (texts, policies, failed) = load(policy)?;
    if failed {
        return Err(Failure::Findings);
    }
    let model = (!policy.is_empty()).then(|| resolve(&inputs(&texts, &policies)));
    // Each log streams: only the groups are kept.
    let stdin = [PathBuf::from("-")];
    let logs = if logs.is_empty() { &stdin[..] } else { logs };
    let mut groups = Vec::new();
    for log in logs {
        let input: Box<dyn BufRead> = if log.as_os_str() == "-" {
            Box::new(std::io::stdin().lock())
        } else {
            let file =
                std::fs::File::open(log).map_err(|e| usage(format!("{}: {e}", display(log))))?;
            Box::new(std::io::BufReader::new(file))
        };
        let name = display(log);
        let reader = Reader::new(input).filter_map(|r| match r {
            Ok(r) => Some(r),
            Err(e) => {
                eprintln!("{name}:{}: skipped: {}", e.line, e.reason);
                None
            }
        });
        groups.extend(group(reader));
    }
    // The same (source, target, class) across logs: one group.
    let explained: Vec<_> = merge(groups)
        .into_iter()
        .map(|d| {
            let e = explain(&d, domain, model.as_ref());
            (d, e)
        })
        .collect();
    for (d, _) in &explained {
        for w in risk(d) {
            eprintln!(
                "cilgen: warning: {} {} {}: {w}",
                d.source, d.target, d.class
            );
        }
    }
    let words = |e: &Explanation| {
        match e {
        Explanation::RuleGroups(g) => format!(
            "rule group {}",
            g.iter().map(|g| g.name()).collect::<Vec<_>>().join(", ")
        ),
        Explanation::AllowedYetDenied(why) => why.clone(),
        Explanation::Missing => "nothing grants it: a rule is proposed (--format cil)".into(),
        Explanation::Dontaudited => {
            "nothing grants it and the policy dontaudits it (seen with dontaudit rules off): no rule is proposed".into()
        }
        Explanation::PermissiveDomain => {
            "nothing grants it; the domain is permissive, so it was let through: a rule is proposed (--format cil)".into()
        }
        _ => String::new(),
    }
    };
    match format {
        "json" => {
            let rows: Vec<_> = explained
                .iter()
                .map(|(d, e)| {
                    serde_json::json!({
                        "source": d.source, "target": d.target, "class": d.class,
                        "permissions": d.permissions, "count": d.count,
                        "enforcing": d.enforcing, "permissive": d.permissive,
                        "comms": d.comms, "ioctls": d.ioctls, "lines": d.lines,
                        "explanation": words(e),
                        "rule_groups": match e {
                            Explanation::RuleGroups(g) => g.iter().map(|g| g.name()).collect::<Vec<_>>(),
                            _ => Vec::new(),
                        },
                        "warnings": risk(d),
                    })
                })
                .collect();
            out(&format!("{:#}\n", serde_json::json!(rows)))?;
        }
        "cil" => {
            let module = propose(&explained, "audit");
            out(&module.to_checked_string().map_err(usage)?)?;
        }
        _ => {
            let mut text = String::new();
            for (d, e) in &explained {
                text.push_str(&format!(
                    "{} {} {} {{ {} }}: {} denial(s), {} enforcing, {} permissive; comm {}\n    {}\n",
                    d.source,
                    d.target,
                    d.class,
                    d.permissions.iter().cloned().collect::<Vec<_>>().join(" "),
                    d.count,
                    d.enforcing,
                    d.permissive,
                    d.comms.iter().cloned().collect::<Vec<_>>().join(", "),
                    words(e)
                ));
            }
            out(&text)?;
        }
    }
    if explained.is_empty() {
        Ok(())
    } else {
        Err(Failure::Findings)
    }
}

/// Groups of several logs merged by (source, target, class), in order.
fn merge(groups: Vec<cilgen::audit::Denials>) -> Vec<cilgen::audit::Denials> {
    let mut out: Vec<cilgen::audit::Denials> = Vec::new();
    for g in groups {
        match out
            .iter_mut()
            .find(|o| o.source == g.source && o.target == g.target && o.class == g.class)
        {
            Some(o) => {
                o.permissions.extend(g.permissions);
                o.count += g.count;
                o.comms.extend(g.comms);
                o.enforcing += g.enforcing;
                o.permissive += g.permissive;
                o.ioctls.extend(g.ioctls);
                o.levels.extend(g.levels);
            }
            None => out.push(g),
        }
    }
    out
}

fn remove(store: &StoreArgs) -> Result<(), Failure> {
    let name = &store.module_name;
    match store.store().remove(name) {
        Ok(true) => {
            println!("{name}: removed");
            Ok(())
        }
        Ok(false) => {
            println!("{name}: not installed");
            Ok(())
        }
        Err(e) => {
            eprintln!("cilgen: {name}: {e}");
            Err(Failure::Findings)
        }
    }
}

fn status(store: &StoreArgs, module: &EmitArgs) -> Result<(), Failure> {
    let expected = module_text(module)?;
    let name = &store.module_name;
    let installed = store.store().installed(name).map_err(|e| {
        eprintln!("cilgen: {name}: {e}");
        Failure::Findings
    })?;
    let Some(text) = installed else {
        println!("{name}: not installed at priority {}", store.priority);
        return Err(Failure::Findings);
    };
    let same = text == expected;
    println!(
        "{name}: installed at priority {}, {}",
        store.priority,
        if same {
            "the same as `install` would install"
        } else {
            "different from what `install` would install"
        }
    );
    // The header the generator writes says what the module holds.
    for line in text.lines().take_while(|l| l.starts_with(';')) {
        for key in ["Generated by", "Rule groups:", "Domain:", "Options:"] {
            if let Some(at) = line.find(key) {
                println!("  {}", &line[at..]);
            }
        }
    }
    if same { Ok(()) } else { Err(Failure::Findings) }
}

fn scc(namespace: &str, without: &[String]) -> Result<(), Failure> {
    use cilgen::virt_launcher::scc::{Capability, SecurityContextConstraints};
    let mut scc = SecurityContextConstraints::kubevirt_controller(namespace).map_err(usage)?;
    for name in without {
        let cap = Capability::ALL
            .into_iter()
            .find(|c| c.name() == name.as_str())
            .ok_or_else(|| {
                usage(format!(
                    "unknown capability `{name}` (SYS_NICE, NET_BIND_SERVICE, SYS_PTRACE)"
                ))
            })?;
        scc = scc.without_capability(cap);
    }
    out(&format!("{}\n", scc.to_json()))
}

fn out(text: &str) -> Result<(), Failure> {
    std::io::stdout()
        .write_all(text.as_bytes())
        .map_err(|e| usage(format!("writing standard output: {e}")))
}

/// A file's text, `-` for standard input.
fn read(path: &Path) -> Result<String, Failure> {
    let bytes = if path == Path::new("-") {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .map_err(|e| usage(format!("<stdin>: {e}")))?;
        buf
    } else {
        std::fs::read(path).map_err(|e| usage(format!("{}: {e}", path.display())))?
    };
    String::from_utf8(bytes).map_err(|e| usage(format!("{}: not UTF-8: {e}", path.display())))
}

fn display(path: &Path) -> String {
    if path == Path::new("-") {
        "<stdin>".into()
    } else {
        path.display().to_string()
    }
}

fn fmt(check: bool, write: bool, files: &[PathBuf]) -> Result<(), Failure> {
    let stdin = [PathBuf::from("-")];
    let files = if files.is_empty() { &stdin[..] } else { files };
    if write && files.iter().any(|f| f == Path::new("-")) {
        return Err(usage("-w needs files, not standard input"));
    }
    let mut printed = String::new();
    let mut findings = false;
    for f in files {
        let text = read(f)?;
        let policy = match cilgen::ParseOptions::new()
            .file_name(display(f))
            .parse(&text)
        {
            Ok(p) => p,
            Err(e) => {
                eprintln!("{e}");
                findings = true;
                continue;
            }
        };
        let canonical = policy.to_string();
        if check {
            if canonical != text {
                eprintln!("{}: not in canonical form", display(f));
                findings = true;
            }
        } else if write {
            if canonical != text {
                std::fs::write(f, &canonical)
                    .map_err(|e| usage(format!("{}: {e}", f.display())))?;
            }
        } else {
            printed.push_str(&canonical);
        }
    }
    if findings {
        return Err(Failure::Findings);
    }
    out(&printed)
}

/// Files read and parsed, in order: (name, text) of each, their policies,
/// and whether a parse error was printed.
type Loaded = (Vec<(String, String)>, Vec<Policy>, bool);

fn load(files: &[PathBuf]) -> Result<Loaded, Failure> {
    let mut texts = Vec::new();
    let mut policies = Vec::new();
    let mut failed = false;
    for f in files {
        let text = read(f)?;
        let name = display(f);
        match cilgen::ParseOptions::new().file_name(&name).parse(&text) {
            Ok(p) => policies.push(p),
            Err(e) => {
                let file = [SourceFile::new(&name, &text)];
                eprintln!("{}", e.to_diagnostic(0).render(&file));
                failed = true;
                policies.push(Policy::new());
            }
        }
        texts.push((name, text));
    }
    Ok((texts, policies, failed))
}

/// The loaded files as resolution inputs.
fn inputs<'a>(texts: &'a [(String, String)], policies: &'a [Policy]) -> Vec<Input<'a>> {
    texts
        .iter()
        .zip(policies)
        .map(|((name, _), p)| Input::new(name, p))
        .collect()
}

fn check(
    release: Option<&str>,
    against: &[PathBuf],
    neverallow: bool,
    files: &[PathBuf],
) -> Result<(), Failure> {
    let release = release
        .map(|r| r.parse::<Release>().map_err(usage))
        .transpose()?;
    let all: Vec<PathBuf> = against.iter().chain(files).cloned().collect();
    let (texts, policies, mut findings) = load(&all)?;
    let first = against.len();
    let options = ValidateOptions { release };
    let inputs = inputs(&texts, &policies);
    // The validator and the resolver read the same trees: one runs on a
    // second core while the other does.
    let (mut found, model) = std::thread::scope(|scope| {
        let validated = scope.spawn(|| {
            // Every file's classes count: a module's permissions are those
            // of the classes its base declares.
            let all: Vec<&cilgen::Policy> = policies.iter().collect();
            let catalog = catalog_of(&all);
            let mut found: Vec<Diagnostic> = Vec::new();
            for (i, policy) in policies.iter().enumerate().skip(first) {
                found.extend(
                    validate_with(policy, &options, &catalog)
                        .iter()
                        .map(|d| d.to_diagnostic(i)),
                );
            }
            found
        });
        let model = resolve(&inputs);
        let found = validated
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (found, model)
    });
    found.extend(
        model
            .diagnostics
            .iter()
            .filter(|d| d.file >= first)
            .map(|d| d.to_diagnostic()),
    );
    found.extend(
        model
            .optionals
            .iter()
            .filter(|o| o.file >= first)
            .filter_map(|o| o.to_diagnostic()),
    );
    if neverallow {
        // A node's own violations are its baseline: a violation is the
        // files' when the neverallow or a rule that breaks it is theirs.
        found.extend(
            model
                .neverallow_violations()
                .iter()
                .filter(|v| {
                    v.neverallow.file >= first || v.offending.iter().any(|o| o.file >= first)
                })
                .map(|v| v.to_diagnostic()),
        );
    }
    findings |= !found.is_empty();
    if !against.is_empty() {
        let node = resolve(&inputs[..first]);
        found.extend(redundant(&model, &node, first));
    }
    let files: Vec<SourceFile<'_>> = texts
        .iter()
        .map(|(name, text)| SourceFile::new(name, text))
        .collect();
    // The validator and the resolver both find a permission the kernel's
    // class lacks: say it once.
    let mut said = std::collections::HashSet::new();
    for d in &found {
        let file = d.primary.file;
        let at = files
            .get(file)
            .map(|f| d.primary.resolve_span(f.text).range());
        if said.insert((file, at, d.message.clone())) {
            eprintln!("{}", d.render(&files));
        }
    }
    // The process ends here: freeing the trees and the model piece by
    // piece would only cost time.
    std::mem::forget(model);
    std::mem::forget(policies);
    if findings {
        Err(Failure::Findings)
    } else {
        Ok(())
    }
}

/// The module's unconditional allow rules whose every permission the node
/// already grants.
fn redundant(model: &Model, node: &Model, first: usize) -> Vec<Diagnostic> {
    let mut notes = Vec::new();
    for r in &model.rules {
        if r.origin.file < first || r.kind != AvKind::Allow || r.condition.is_some() {
            continue;
        }
        let sources = node.types_of(&r.source);
        if sources.is_empty() || sources != model.types_of(&r.source) {
            continue;
        }
        let granted = sources.iter().all(|s| {
            let targets: BTreeSet<String> = match &r.target {
                RuleTarget::Name(t) => node.types_of(t),
                _ => [s.clone()].into(),
            };
            !targets.is_empty()
                && targets.iter().all(|t| {
                    r.perms
                        .iter()
                        .all(|(c, p)| node.allowed(s, t, c).is_superset(p))
                })
        });
        if granted {
            notes.push(Diagnostic::new(
                Code::Redundant,
                "the node's policy already grants this rule",
                Label::new(r.origin.file, r.origin.span, Pointer::Keyword, "redundant"),
            ));
        }
    }
    notes
}

fn query(
    source: Option<&str>,
    target: Option<&str>,
    class: Option<&str>,
    perm: Option<&str>,
    json: bool,
    files: &[PathBuf],
) -> Result<(), Failure> {
    let (texts, policies, failed) = load(files)?;
    if failed {
        return Err(Failure::Findings);
    }
    let inputs = inputs(&texts, &policies);
    let model = resolve(&inputs);
    // sesearch's meaning: a type matches rules on attributes that contain
    // it; an attribute matches rules on the attribute or on its types.
    let overlaps = |rule_side: &str, wanted: &str| {
        let want = model.types_of(wanted);
        rule_side == wanted || model.types_of(rule_side).iter().any(|t| want.contains(t))
    };
    let mut found = Vec::new();
    let mut per_class: std::collections::BTreeMap<String, BTreeSet<String>> = Default::default();
    for r in &model.rules {
        if r.kind != AvKind::Allow {
            continue;
        }
        if source.is_some_and(|s| !overlaps(&r.source, s)) {
            continue;
        }
        let target_name = match &r.target {
            RuleTarget::Name(t) => t.clone(),
            RuleTarget::SelfTarget => "self".into(),
            RuleTarget::NotSelf => "notself".into(),
            RuleTarget::Other => "other".into(),
        };
        if let Some(t) = target {
            let hit = match &r.target {
                RuleTarget::Name(n) => overlaps(n, t),
                _ => overlaps(&r.source, t),
            };
            if !hit {
                continue;
            }
        }
        for (c, perms) in &r.perms {
            if class.is_some_and(|want| want != &**c) || perm.is_some_and(|p| !perms.contains(p)) {
                continue;
            }
            let (file, text) = &texts[r.origin.file];
            let (line, column) = cilgen::error::locate(r.origin.span, text);
            per_class
                .entry(c.to_string())
                .or_default()
                .extend(perms.iter().cloned());
            found.push(serde_json::json!({
                "file": file,
                "line": line,
                "column": column,
                "source": r.source,
                "target": target_name,
                "class": c,
                "perms": perms,
                "condition": r.condition.as_ref().map(|(c, b)| serde_json::json!({"expr": c, "branch": b})),
            }));
        }
    }
    if json {
        let doc = serde_json::json!({ "rules": found, "permissions": per_class });
        return out(&format!("{doc:#}\n"));
    }
    let mut text = String::new();
    for f in &found {
        let perms: Vec<&str> = f["perms"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p.as_str())
            .collect();
        let cond = match f["condition"].as_object() {
            Some(c) => format!(
                " [ {} ]:{}",
                c["expr"].as_str().unwrap_or_default(),
                c["branch"]
            ),
            None => String::new(),
        };
        text.push_str(&format!(
            "{}:{}:{}: allow {} {}:{} {{ {} }};{cond}\n",
            f["file"].as_str().unwrap_or_default(),
            f["line"],
            f["column"],
            f["source"].as_str().unwrap_or_default(),
            f["target"].as_str().unwrap_or_default(),
            f["class"].as_str().unwrap_or_default(),
            perms.join(" "),
        ));
    }
    if !per_class.is_empty() {
        text.push_str("permissions per class:\n");
        for (c, p) in &per_class {
            text.push_str(&format!(
                "  {c}: {}\n",
                p.iter().cloned().collect::<Vec<_>>().join(" ")
            ));
        }
    }
    out(&text)
}
