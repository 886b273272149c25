//! Installing a module into a node's policy store, once and safely.
//!
//! [`Store::install`] compares the module with the one the store holds
//! (`semodule --cil -E`, which gives back the installed text byte for
//! byte) and does nothing when they are the same, so a node agent can call
//! it on every start for the cost of one extraction instead of a policy
//! rebuild. When they differ it first resolves the module against the
//! store's own modules (the preflight of [`crate::resolve`]) and refuses
//! with the names the node lacks; then `semodule -i` installs it; then the
//! store is asked again: the module must be listed, hold the text just
//! installed, and the rebuilt policy must grant the module's rules
//! (`sesearch`). libsemanage works on a copy of the store and replaces it
//! only when everything succeeded, so a failure leaves the store as it was.
//!
//! Every path goes through `semodule -p ROOT -s STORE` when a root is
//! given, as for a store copied from a node or mounted into a container.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::resolve::{Input, RuleTarget, resolve};

/// A policy store: `semodule -p ROOT -s NAME`, modules at one priority.
#[derive(Clone, Debug)]
pub struct Store {
    root: Option<PathBuf>,
    name: String,
    priority: u16,
}

impl Default for Store {
    fn default() -> Store {
        Store::new()
    }
}

/// What [`Store::install`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The store already held this exact module: nothing was done.
    Unchanged,
    /// The module was installed (or replaced) and verified.
    Installed {
        /// How many of the module's allow rules the rebuilt policy was
        /// checked to grant.
        rules_verified: usize,
    },
}

/// Whether a module is installed, and whether it is the one expected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    /// Not in the store at this priority.
    Absent,
    /// Installed with exactly the expected text.
    Current,
    /// Installed, with other text.
    Different,
}

/// Why an install, removal or query failed. The store is unchanged.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InstallError {
    /// `semodule` could not be run.
    #[error("cannot run semodule: {0}")]
    Spawn(#[from] std::io::Error),
    /// `semodule` failed; its output.
    #[error("semodule failed:\n{0}")]
    Semodule(String),
    /// The module names what the node's policy lacks.
    #[error(
        "the node's policy lacks what module `{module}` uses: {}; nothing was installed (`--portable` puts Fedora-only memberships in optionals)",
        .missing.join(", ")
    )]
    Preflight {
        /// The module.
        module: String,
        /// The names, each with what it should have been.
        missing: Vec<String>,
    },
    /// The store, asked after installing, does not hold what was installed.
    #[error("after installing, the store does not hold module `{module}` as installed: {why}")]
    Verify {
        /// The module.
        module: String,
        /// What is wrong.
        why: String,
    },
}

impl Store {
    /// The system's default store, priority 400.
    pub fn new() -> Store {
        Store {
            root: None,
            name: "default".into(),
            priority: 400,
        }
    }

    /// The store under `root` (`semodule -p ROOT`).
    pub fn root(mut self, root: impl Into<PathBuf>) -> Store {
        self.root = Some(root.into());
        self
    }

    /// The store's name (`semodule -s NAME`; `default`).
    pub fn store(mut self, name: impl Into<String>) -> Store {
        self.name = name.into();
        self
    }

    /// The priority modules are installed, read and removed at (400).
    pub fn priority(mut self, priority: u16) -> Store {
        self.priority = priority;
        self
    }

    fn semodule(&self) -> Command {
        let mut c = Command::new("semodule");
        if let Some(root) = &self.root {
            c.arg("-p").arg(root);
        }
        c.args(["-s", &self.name]);
        c
    }

    /// The store's directory (`var/lib/selinux/NAME`).
    fn store_dir(&self) -> PathBuf {
        let base = self.root.clone().unwrap_or_else(|| PathBuf::from("/"));
        base.join("var/lib/selinux").join(&self.name)
    }

    /// Runs a `semodule` that changes the store. libsemanage builds the
    /// new store in `tmp` and swaps it in only on success; after a failure
    /// it leaves `tmp` behind, which is removed here when it was not there
    /// before, so the store is as it was, file for file.
    fn transaction(&self, cmd: &mut Command) -> Result<String, InstallError> {
        let sandbox = self.store_dir().join("tmp");
        let existed = sandbox.exists();
        let result = run(cmd);
        if result.is_err() && !existed && sandbox.exists() {
            let _ = std::fs::remove_dir_all(&sandbox);
        }
        result
    }

    /// The binary policy the store builds.
    pub fn policy_file(&self) -> PathBuf {
        let base = self.root.clone().unwrap_or_else(|| PathBuf::from("/"));
        base.join("etc/selinux").join(&self.name).join("policy")
    }

    /// The modules the store lists (`semodule -l`).
    pub fn modules(&self) -> Result<BTreeSet<String>, InstallError> {
        let out = run(self.semodule().arg("-l"))?;
        Ok(out
            .lines()
            .filter_map(|l| l.split_whitespace().next())
            .map(String::from)
            .collect())
    }

    /// The text of module `name` at this store's priority, if installed.
    pub fn installed(&self, name: &str) -> Result<Option<String>, InstallError> {
        let dir = scratch()?;
        let mut cmd = self.semodule();
        cmd.current_dir(dir.path())
            .args(["-X", &self.priority.to_string(), "--cil", "-E", name]);
        let output = cmd.output()?;
        let text = std::fs::read_to_string(dir.path().join(format!("{name}.cil")));
        match (output.status.success(), text) {
            (true, Ok(text)) => Ok(Some(text)),
            // `semodule -E` of a module that is not there fails, naming it.
            _ => Ok(None),
        }
    }

    /// Whether `name` is installed with `expected` as its text.
    pub fn status(&self, name: &str, expected: &str) -> Result<Status, InstallError> {
        Ok(match self.installed(name)? {
            None => Status::Absent,
            Some(text) if text == expected => Status::Current,
            Some(_) => Status::Different,
        })
    }

    /// Every module of the store as CIL (one `semodule --cil -E NAME ...`
    /// for all the modules `semodule -l` lists: libsemanage 3.4 has no
    /// `-E all`), module `except` left out: the node's policy, for the
    /// preflight.
    pub fn policy_cil(&self, except: &str) -> Result<Vec<(String, String)>, InstallError> {
        let dir = scratch()?;
        let mut cmd = self.semodule();
        cmd.current_dir(dir.path()).arg("--cil");
        for module in self.modules()? {
            if module != except {
                cmd.arg("-E").arg(module);
            }
        }
        run(&mut cmd)?;
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir.path())?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "cil"))
            .filter(|p| p.file_stem().is_some_and(|s| s != except))
            .collect();
        files.sort();
        files
            .into_iter()
            .map(|p| {
                let text = std::fs::read_to_string(&p)?;
                Ok((
                    p.file_name().unwrap_or_default().to_string_lossy().into(),
                    text,
                ))
            })
            .collect()
    }

    /// Installs module `name` with text `cil`, unless the store already
    /// holds exactly that; see the module documentation for the steps.
    pub fn install(&self, name: &str, cil: &str) -> Result<Outcome, InstallError> {
        if self.installed(name)?.as_deref() == Some(cil) {
            return Ok(Outcome::Unchanged);
        }
        self.preflight(name, cil)?;
        let dir = scratch()?;
        let file = dir.path().join(format!("{name}.cil"));
        std::fs::write(&file, cil)?;
        let mut cmd = self.semodule();
        cmd.args(["-n", "-X", &self.priority.to_string(), "-i"])
            .arg(&file);
        self.transaction(&mut cmd)?;
        let rules_verified = self.verify(name, cil)?;
        Ok(Outcome::Installed { rules_verified })
    }

    /// Removes module `name` at this priority; `false` when it was not
    /// installed.
    pub fn remove(&self, name: &str) -> Result<bool, InstallError> {
        if self.installed(name)?.is_none() {
            return Ok(false);
        }
        let mut cmd = self.semodule();
        cmd.args(["-n", "-X", &self.priority.to_string(), "-r", name]);
        self.transaction(&mut cmd)?;
        if self.installed(name)?.is_some() {
            return Err(InstallError::Verify {
                module: name.into(),
                why: "it is still installed".into(),
            });
        }
        Ok(true)
    }

    /// The module resolved against the store's other modules: the names
    /// the node lacks, outside optionals.
    fn preflight(&self, name: &str, cil: &str) -> Result<(), InstallError> {
        let node = self.policy_cil(name)?;
        let module = crate::parse(cil).map_err(|e| InstallError::Preflight {
            module: name.into(),
            missing: vec![e.to_string()],
        })?;
        let file = format!("{name}.cil");
        let model = resolve_texts(&node, Some((&file, &module))).map_err(|(f, e)| {
            InstallError::Semodule(format!("the store's module {f} does not parse: {e}"))
        })?;
        let ours = node.len();
        let missing: BTreeSet<String> = model
            .diagnostics
            .iter()
            .filter(|d| d.file == ours)
            .map(|d| d.message())
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(InstallError::Preflight {
                module: name.into(),
                missing: missing.into_iter().collect(),
            })
        }
    }

    /// The store lists the module and holds the text installed, and the
    /// rebuilt policy grants each unconditional allow rule of the module
    /// (`sesearch` on the store's binary policy). Returns how many rules
    /// were checked.
    fn verify(&self, name: &str, cil: &str) -> Result<usize, InstallError> {
        let fail = |why: String| InstallError::Verify {
            module: name.into(),
            why,
        };
        if !self.modules()?.contains(name) {
            return Err(fail("`semodule -l` does not list it".into()));
        }
        if self.installed(name)?.as_deref() != Some(cil) {
            return Err(fail("`semodule -E` gives other text".into()));
        }
        // The module's rules as the node's policy resolves them (its names
        // are the node's too).
        let all = self.policy_cil("")?;
        let file = format!("{name}.cil");
        let ours = all
            .iter()
            .position(|(f, _)| *f == file)
            .ok_or_else(|| fail("`semodule -E all` does not give it".into()))?;
        let model = resolve_texts(&all, None).map_err(|(f, e)| fail(format!("{f}: {e}")))?;
        let binary = newest_policy(&self.policy_file()).ok_or_else(|| {
            fail(format!(
                "no binary policy in {}",
                self.policy_file().display()
            ))
        })?;
        // One `sesearch` per source (each reads the whole policy): the
        // rules it lists with exactly that source, by target and class.
        let rules: Vec<&crate::resolve::Rule> = model
            .rules
            .iter()
            .filter(|r| {
                r.origin.file == ours && r.kind == crate::AvKind::Allow && r.condition.is_none()
            })
            .collect();
        let sources: BTreeSet<&str> = rules.iter().map(|r| &*r.source).collect();
        let mut granted: std::collections::HashMap<(String, String, String), BTreeSet<String>> =
            std::collections::HashMap::new();
        for source in sources {
            let mut cmd = Command::new("sesearch");
            cmd.args(["--allow", "-ds", "-s", source]).arg(&binary);
            for line in run(&mut cmd)?.lines() {
                // allow SOURCE TARGET:CLASS { PERMS };  or  ... PERM;
                let words: Vec<&str> = line.trim_end_matches(';').split_whitespace().collect();
                let [_, s, tc, perms @ ..] = words.as_slice() else {
                    continue;
                };
                let Some((t, c)) = tc.split_once(':') else {
                    continue;
                };
                granted
                    .entry((s.to_string(), t.to_string(), c.to_string()))
                    .or_default()
                    .extend(
                        perms
                            .iter()
                            .filter(|p| !matches!(**p, "{" | "}"))
                            .map(|p| p.to_string()),
                    );
            }
        }
        let mut checked = 0;
        for rule in rules {
            let target = match &rule.target {
                RuleTarget::Name(t) => t.to_string(),
                RuleTarget::SelfTarget => "self".to_string(),
                _ => continue,
            };
            for (class, perms) in &rule.perms {
                // A rule on `self` is listed as written or with the
                // source in its place.
                let mut have: BTreeSet<&String> = BTreeSet::new();
                let targets = [target.clone(), rule.source.to_string()];
                let count = if target == "self" { 2 } else { 1 };
                for t in &targets[..count] {
                    let key = (rule.source.to_string(), t.clone(), class.to_string());
                    have.extend(granted.get(&key).into_iter().flatten());
                }
                if let Some(p) = perms.iter().find(|p| !have.contains(*p)) {
                    return Err(fail(format!(
                        "the rebuilt policy does not grant `{p}` on {class} to {} (target {target})",
                        rule.source
                    )));
                }
                checked += 1;
            }
        }
        Ok(checked)
    }
}

/// The store's modules (file, text) parsed and resolved together, with
/// `extra` after them; or the first that does not parse.
fn resolve_texts(
    texts: &[(String, String)],
    extra: Option<(&str, &crate::Policy)>,
) -> Result<crate::resolve::Model, (String, crate::ParseError)> {
    let policies = texts
        .iter()
        .map(|(f, text)| crate::parse(text).map_err(|e| (f.clone(), e)))
        .collect::<Result<Vec<_>, _>>()?;
    let mut inputs: Vec<Input<'_>> = texts
        .iter()
        .zip(&policies)
        .map(|((f, _), p)| Input::new(f, p))
        .collect();
    inputs.extend(extra.map(|(f, p)| Input::new(f, p)));
    Ok(resolve(&inputs))
}

/// The binary policy file with the highest version in `dir`
/// (`policy.33`...).
fn newest_policy(dir: &Path) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter_map(|p| {
            let v: u32 = p.extension()?.to_str()?.parse().ok()?;
            p.file_stem()
                .is_some_and(|s| s == "policy")
                .then_some((v, p))
        })
        .max()
        .map(|(_, p)| p)
}

/// Runs a command; its standard output, or its whole output as the error.
fn run(cmd: &mut Command) -> Result<String, InstallError> {
    let out = cmd.output()?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if out.status.success() {
        Ok(stdout)
    } else {
        let stderr = String::from_utf8_lossy(&out.stderr);
        Err(InstallError::Semodule(
            format!("{stdout}{stderr}").trim().to_string(),
        ))
    }
}

/// A directory of its own, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn scratch() -> std::io::Result<Scratch> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    let n = COUNT.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("cilgen-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    Ok(Scratch(dir))
}
