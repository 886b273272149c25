//! The VM tests' probe: performs virt-launcher's kernel operations inside
//! an SELinux domain and reports each as `ok` or its errno.
//!
//! It runs in a test VM as a static binary, next to busybox:
//!
//! - `vmprobe load FILE`: loads a binary policy (one `write()`: the kernel
//!   refuses a policy that arrives in pieces).
//! - `vmprobe label PATH CONTEXT`: sets a file's SELinux label.
//! - `vmprobe enter CONTEXT RUN`: asks for `CONTEXT` on the next exec (as
//!   container runtimes do, through `/proc/self/attr/exec`) and executes
//!   itself as `vmprobe run RUN`, which is how a process enters a domain.
//! - `vmprobe run RUN`: performs every operation and prints one line each:
//!   `VMPROBE run=RUN op=NAME result=ok|EACCES|...|skipped`.
//!
//! The operations are what libvirt, QEMU, virtiofsd and passt do in a
//! virt-launcher pod; `tests/vm.rs` says which rule each one needs. Where an
//! operation can only be tried after another succeeded (a queue of a tap
//! device that could not be created), it reports `skipped`.

use std::ffi::CString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitCode};

// <linux/if_tun.h>
const TUNSETIFF: libc::c_ulong = 0x4004_54ca;
const TUNSETQUEUE: libc::c_ulong = 0x4004_54d9;
const IFF_TAP: libc::c_short = 0x0002;
const IFF_NO_PI: libc::c_short = 0x1000;
const IFF_MULTI_QUEUE: libc::c_short = 0x0100;
const IFF_ATTACH_QUEUE: libc::c_short = 0x0200;
const IFF_DETACH_QUEUE: libc::c_short = 0x0400;
// <linux/audit.h>: the first of libvirt's messages (AUDIT_VIRT_CONTROL), in
// the user message range that SELinux checks as `nlmsg_relay`.
const AUDIT_VIRT_CONTROL: u16 = 2500;

/// The tap device the multi-queue operations create.
const TAP: &str = "vmprobe0";
/// Where the harness mounted hugetlbfs.
const HUGEPAGES: &str = "/dev/hugepages";
/// A directory labelled `nfs_t` (a tmpfs mounted with that context, as an
/// NFS volume is labelled).
const NFS_DIR: &str = "/srv/nfs";
/// An empty directory the passt operations mount a tmpfs on.
const PASST_MOUNTPOINT: &str = "/run/passt-root";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.get(1..) {
        Some(["load", file]) => load(file),
        Some(["label", path, context]) => label(path, context),
        Some(["enter", context, run]) => enter(context, run),
        Some(["run", run]) => {
            probe(run);
            Ok(())
        }
        _ => {
            eprintln!(
                "usage: vmprobe load FILE | label PATH CONTEXT | enter CONTEXT RUN | run RUN"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("vmprobe {}: {e}", args[1..].join(" "));
            ExitCode::FAILURE
        }
    }
}

fn load(file: &str) -> io::Result<()> {
    let policy = fs::read(file)?;
    let mut load = OpenOptions::new()
        .write(true)
        .open("/sys/fs/selinux/load")?;
    let written = load.write(&policy)?;
    if written != policy.len() {
        return Err(io::Error::other(format!(
            "the kernel took {written} of {} bytes",
            policy.len()
        )));
    }
    Ok(())
}

fn label(path: &str, context: &str) -> io::Result<()> {
    let path = cstring(path)?;
    let name = c"security.selinux";
    // SAFETY: both strings are NUL-terminated and outlive the call; the value
    // is a valid buffer of the given length.
    let rc = unsafe {
        libc::lsetxattr(
            path.as_ptr(),
            name.as_ptr(),
            context.as_ptr().cast(),
            context.len(),
            0,
        )
    };
    check(rc)
}

fn enter(context: &str, run: &str) -> io::Result<()> {
    let mut exec = OpenOptions::new()
        .write(true)
        .open("/proc/self/attr/exec")?;
    let written = exec.write(context.as_bytes())?;
    if written != context.len() {
        return Err(io::Error::other("short write to /proc/self/attr/exec"));
    }
    drop(exec);
    let me = std::env::current_exe()?;
    // Only returns on failure.
    Err(Command::new(me).arg0("vmprobe").args(["run", run]).exec())
}

/// Prints each operation's outcome as the test reads it.
struct Report<'a> {
    run: &'a str,
}

impl Report<'_> {
    fn op(&self, name: &str, result: io::Result<()>) -> bool {
        let text = match &result {
            Ok(()) => "ok".to_string(),
            Err(e) => errno_name(e),
        };
        println!("VMPROBE run={} op={name} result={text}", self.run);
        result.is_ok()
    }

    fn skipped(&self, name: &str) {
        println!("VMPROBE run={} op={name} result=skipped", self.run);
    }

    fn op_if(&self, ready: bool, name: &str, f: impl FnOnce() -> io::Result<()>) -> bool {
        if ready {
            self.op(name, f())
        } else {
            self.skipped(name);
            false
        }
    }
}

fn probe(run: &str) {
    let context = fs::read_to_string("/proc/self/attr/current").unwrap_or_default();
    println!(
        "VMPROBE run={run} pid={} context={}",
        std::process::id(),
        context.trim_end_matches(['\0', '\n'])
    );
    let r = Report { run };

    // Group base: host facts under /proc, and libvirt's audit relay.
    r.op("proc-cpuinfo", read_file("/proc/cpuinfo"));
    r.op("proc-uptime", read_file("/proc/uptime"));
    r.op("proc-kcore", read_file("/proc/kcore"));
    r.op("audit-relay", audit_relay());

    // Group multiqueue: one queue per vCPU on the VM's tap device.
    let first = open_tun();
    let second = open_tun();
    let opened = r.op(
        "tun-open",
        match (&first, &second) {
            (Ok(_), Ok(_)) => Ok(()),
            (Err(e), _) | (_, Err(e)) => Err(io::Error::from_raw_os_error(
                e.raw_os_error().unwrap_or(libc::EIO),
            )),
        },
    );
    let (first, second) = (first.ok(), second.ok());
    let created = r.op_if(opened, "tun-create", || {
        tun_ioctl(
            first.as_ref(),
            TUNSETIFF,
            IFF_TAP | IFF_NO_PI | IFF_MULTI_QUEUE,
        )
    });
    let detached = r.op_if(created, "queue-detach", || {
        tun_ioctl(first.as_ref(), TUNSETQUEUE, IFF_DETACH_QUEUE)
    });
    r.op_if(detached, "queue-attach", || {
        tun_ioctl(first.as_ref(), TUNSETQUEUE, IFF_ATTACH_QUEUE)
    });
    r.op_if(created, "queue-open", || {
        tun_ioctl(
            second.as_ref(),
            TUNSETIFF,
            IFF_TAP | IFF_NO_PI | IFF_MULTI_QUEUE,
        )
    });
    drop((first, second));

    // Group hugepages: what libvirt does in the hugetlbfs mount for a VM.
    let dir = format!("{HUGEPAGES}/vmprobe");
    let file = format!("{dir}/memory");
    let made = r.op("hp-mkdir", fs::DirBuilder::new().mode(0o700).create(&dir));
    r.op_if(made, "hp-setattr", || {
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o750))
    });
    let created = r.op_if(made, "hp-create", || mknod_regular(&file));
    let unlinked = r.op_if(created, "hp-unlink", || fs::remove_file(&file));
    r.op_if(made && (unlinked || !created), "hp-rmdir", || {
        fs::remove_dir(&dir)
    });

    // Group virtiofs: virtiofsd's sandbox, in a mount namespace of its own.
    // Every mount below stays in that namespace and ends with the process.
    // SAFETY: unshare takes flags only.
    let private = r.op(
        "mount-ns",
        check(unsafe { libc::unshare(libc::CLONE_NEWNS) }),
    );
    let bound = r.op_if(private, "nfs-bind", || {
        mount(Some(NFS_DIR), NFS_DIR, None, libc::MS_BIND, None)
    });
    let proc_mounted = r.op_if(private, "proc-mount", || {
        mount(
            Some("proc"),
            "/proc",
            Some("proc"),
            libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
            None,
        )
    });
    r.op_if(proc_mounted, "proc-umount", || umount("/proc"));
    r.op_if(bound, "nfs-umount", || umount(NFS_DIR));

    // Group passt: a tmpfs-rooted mount namespace, and a file on that tmpfs
    // checked and mapped.
    let tmpfs = r.op_if(private, "tmpfs-mount", || {
        mount(
            Some("tmpfs"),
            PASST_MOUNTPOINT,
            Some("tmpfs"),
            libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
            Some("size=64k"),
        )
    });
    let file = format!("{PASST_MOUNTPOINT}/data");
    let made = r.op_if(tmpfs, "tmpfs-file", || fs::write(&file, [0u8; 4096]));
    r.op_if(made, "tmpfs-stat", || fs::metadata(&file).map(drop));
    r.op_if(made, "tmpfs-map", || map_file(&file));
    r.op_if(tmpfs, "tmpfs-umount", || umount(PASST_MOUNTPOINT));

    println!("VMPROBE run={run} done");
}

fn read_file(path: &str) -> io::Result<()> {
    fs::metadata(path)?;
    let mut buf = [0u8; 64];
    File::open(path)?.read(&mut buf).map(drop)
}

fn audit_relay() -> io::Result<()> {
    // SAFETY: socket takes integers only; a valid descriptor is owned below.
    let fd = unsafe {
        libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            libc::NETLINK_AUDIT,
        )
    };
    check(fd)?;
    // SAFETY: fd is a new descriptor that nothing else owns.
    let sock = unsafe { OwnedFd::from_raw_fd(fd) };
    let text = b"op=vmprobe-relay msg=cilgen-vm-test\0";
    let len = 16 + text.len();
    let mut msg = Vec::with_capacity(len);
    msg.extend_from_slice(&(len as u32).to_ne_bytes());
    msg.extend_from_slice(&AUDIT_VIRT_CONTROL.to_ne_bytes());
    msg.extend_from_slice(&((libc::NLM_F_REQUEST | libc::NLM_F_ACK) as u16).to_ne_bytes());
    msg.extend_from_slice(&1u32.to_ne_bytes()); // sequence
    msg.extend_from_slice(&0u32.to_ne_bytes()); // port: the kernel assigns it
    msg.extend_from_slice(text);
    // SAFETY: an all-zero sockaddr_nl is valid; it addresses the kernel.
    let mut kernel: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
    kernel.nl_family = libc::AF_NETLINK as libc::sa_family_t;
    // SAFETY: msg and kernel are valid for the lengths passed.
    let sent = unsafe {
        libc::sendto(
            sock.as_raw_fd(),
            msg.as_ptr().cast(),
            msg.len(),
            0,
            (&raw const kernel).cast(),
            size_of::<libc::sockaddr_nl>() as libc::socklen_t,
        )
    };
    check(sent as libc::c_int)?;
    // The kernel's acknowledgement carries its verdict (CAP_AUDIT_WRITE).
    // The audit subsystem handles the message during sendto, so the
    // acknowledgement is already queued: no need to wait for it.
    let mut ack = [0u8; 256];
    // SAFETY: ack is a writable buffer of the given length.
    let got = unsafe {
        libc::recv(
            sock.as_raw_fd(),
            ack.as_mut_ptr().cast(),
            ack.len(),
            libc::MSG_DONTWAIT,
        )
    };
    check(got as libc::c_int)?;
    let kind = u16::from_ne_bytes([ack[4], ack[5]]);
    if got >= 20 && kind == libc::NLMSG_ERROR as u16 {
        let error = i32::from_ne_bytes([ack[16], ack[17], ack[18], ack[19]]);
        if error != 0 {
            return Err(io::Error::from_raw_os_error(-error));
        }
        return Ok(());
    }
    Err(io::Error::other(
        "no acknowledgement from the audit subsystem",
    ))
}

fn open_tun() -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/net/tun")
}

fn tun_ioctl(file: Option<&File>, request: libc::c_ulong, flags: libc::c_short) -> io::Result<()> {
    let Some(file) = file else {
        return Err(io::Error::from_raw_os_error(libc::EBADF));
    };
    // struct ifreq: the name, then the flags, padded to 40 bytes.
    let mut ifreq = [0u8; 40];
    ifreq[..TAP.len()].copy_from_slice(TAP.as_bytes());
    ifreq[16..18].copy_from_slice(&flags.to_ne_bytes());
    // SAFETY: both requests read a struct ifreq, which ifreq is in size and
    // layout.
    check(unsafe { libc::ioctl(file.as_raw_fd(), request, ifreq.as_mut_ptr()) })
}

fn mknod_regular(path: &str) -> io::Result<()> {
    let path = cstring(path)?;
    // SAFETY: path is NUL-terminated.
    check(unsafe { libc::mknod(path.as_ptr(), libc::S_IFREG | 0o600, 0) })
}

fn mount(
    source: Option<&str>,
    target: &str,
    fstype: Option<&str>,
    flags: libc::c_ulong,
    data: Option<&str>,
) -> io::Result<()> {
    let source = source.map(cstring).transpose()?;
    let target = cstring(target)?;
    let fstype = fstype.map(cstring).transpose()?;
    let data = data.map(cstring).transpose()?;
    let ptr = |s: &Option<CString>| s.as_ref().map_or(std::ptr::null(), |s| s.as_ptr());
    // SAFETY: every pointer is NUL-terminated or null, as mount(2) allows.
    check(unsafe {
        libc::mount(
            ptr(&source),
            target.as_ptr(),
            ptr(&fstype),
            flags,
            ptr(&data).cast(),
        )
    })
}

fn umount(target: &str) -> io::Result<()> {
    let target = cstring(target)?;
    // SAFETY: target is NUL-terminated.
    check(unsafe { libc::umount2(target.as_ptr(), 0) })
}

fn map_file(path: &str) -> io::Result<()> {
    let file = File::open(path)?;
    // SAFETY: a new shared read-only mapping of an open file; unmapped below
    // and never dereferenced.
    let addr = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            4096,
            libc::PROT_READ,
            libc::MAP_SHARED,
            file.as_raw_fd(),
            0,
        )
    };
    if addr == libc::MAP_FAILED {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: addr is the mapping made above, of that length.
    check(unsafe { libc::munmap(addr, 4096) })
}

fn cstring(s: &str) -> io::Result<CString> {
    CString::new(s).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
}

fn check(rc: libc::c_int) -> io::Result<()> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

fn errno_name(e: &io::Error) -> String {
    let Some(code) = e.raw_os_error() else {
        return format!("error({e})").replace(' ', "_");
    };
    let name = match code {
        libc::EACCES => "EACCES",
        libc::EPERM => "EPERM",
        libc::EINVAL => "EINVAL",
        libc::ENOENT => "ENOENT",
        libc::EEXIST => "EEXIST",
        libc::EBUSY => "EBUSY",
        libc::EBADF => "EBADF",
        libc::EBADFD => "EBADFD",
        libc::ENODEV => "ENODEV",
        libc::ENOTDIR => "ENOTDIR",
        libc::ENOTEMPTY => "ENOTEMPTY",
        libc::ENOMEM => "ENOMEM",
        libc::ENOSPC => "ENOSPC",
        libc::ECONNREFUSED => "ECONNREFUSED",
        libc::EOPNOTSUPP => "EOPNOTSUPP",
        libc::EAGAIN => "EAGAIN",
        libc::EIO => "EIO",
        _ => return format!("errno{code}"),
    };
    name.to_string()
}
