//! SELinux records of an audit log, read line by line.
//!
//! Each line that holds an SELinux record becomes a [`Record`]: kernel AVC
//! records (`type=AVC msg=audit(SECONDS:SERIAL): avc:  denied  { ... } for
//! ...`), the same in the kernel log's form (`audit: type=1400
//! audit(...): ...`), behind a journal's or syslog's prefix, behind a
//! `node=` prefix, as `ausearch -i` prints them (local time, symbolic ioctl
//! numbers, values unquoted), userspace AVCs (`type=USER_AVC ...
//! msg='avc: ...'`) and `SELINUX_ERR` records. Other lines are not SELinux
//! records and are passed over; a line that starts like one and does not
//! read as one is reported with its line number ([`Malformed`]) and
//! skipped. [`Reader`] holds one line at a time, so a log of any size
//! streams in bounded memory.
//!
//! ```
//! use cilgen::audit::{parse_line, Outcome};
//!
//! let line = r#"type=AVC msg=audit(1732870000.123:42): avc:  denied  { attach_queue } for  pid=812 comm="qemu-kvm" scontext=system_u:system_r:virt_launcher.process:s0:c1,c2 tcontext=system_u:system_r:virt_launcher.process:s0:c1,c2 tclass=tun_socket permissive=0"#;
//! let record = parse_line(line).unwrap().unwrap();
//! assert_eq!(record.outcome, Outcome::Denied);
//! assert_eq!(record.permissions, ["attach_queue"]);
//! assert_eq!(record.source.ty, "virt_launcher.process");
//! assert_eq!(record.source.level.as_deref(), Some("s0:c1,c2"));
//! assert_eq!(record.class, "tun_socket");
//! assert_eq!(record.permissive, Some(false));
//! ```

use std::io::BufRead;

mod explain;
pub use explain::{Denials, Explanation, explain, group, propose, risk, rule_groups};

/// What kind of SELinux record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Kind {
    /// A kernel access decision (`type=AVC`, `type=1400`).
    Avc,
    /// A userspace object manager's decision (`type=USER_AVC`, `1107`).
    UserAvc,
    /// A kernel SELinux error (`type=SELINUX_ERR`, `1401`): an invalid
    /// context, a failed transition.
    SelinuxErr,
}

/// Whether the access was denied or granted (audited by `auditallow`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Outcome {
    /// `denied`
    #[default]
    Denied,
    /// `granted`
    Granted,
}

/// A security context as a record writes it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct Context {
    /// The SELinux user.
    pub user: String,
    /// The role.
    pub role: String,
    /// The type.
    pub ty: String,
    /// The MLS level or range, with categories, when the policy has MLS.
    pub level: Option<String>,
}

impl Context {
    /// `user:role:type[:level]`; `None` when it has fewer than three parts.
    pub fn parse(text: &str) -> Option<Context> {
        let mut parts = text.splitn(4, ':');
        let (user, role, ty) = (parts.next()?, parts.next()?, parts.next()?);
        if user.is_empty() || role.is_empty() || ty.is_empty() {
            return None;
        }
        Some(Context {
            user: user.into(),
            role: role.into(),
            ty: ty.into(),
            level: parts.next().map(String::from),
        })
    }
}

/// One SELinux record.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Record {
    /// The line it was read from (1-based).
    pub line: usize,
    /// What kind of record.
    pub kind: Option<Kind>,
    /// The host, from a `node=` prefix.
    pub node: Option<String>,
    /// The time stamp as written: `1732870000.123` (seconds since the
    /// epoch), or `ausearch -i`'s local time.
    pub time: Option<String>,
    /// The event's serial number.
    pub serial: Option<u64>,
    /// Denied or granted.
    pub outcome: Outcome,
    /// The permissions, in the order written.
    pub permissions: Vec<String>,
    /// The process.
    pub pid: Option<u32>,
    /// Its command name, decoded when the log hex-encodes it.
    pub comm: Option<String>,
    /// The object's path.
    pub path: Option<String>,
    /// The object's name.
    pub name: Option<String>,
    /// The device.
    pub dev: Option<String>,
    /// The inode.
    pub ino: Option<u64>,
    /// The ioctl command: a number (`0x8910`) or, from `ausearch -i`, a
    /// symbolic name (`TUNSETIFF`).
    pub ioctlcmd: Option<String>,
    /// For a capability check, its number.
    pub capability: Option<u32>,
    /// The source context.
    pub source: Context,
    /// The target context.
    pub target: Context,
    /// The target class.
    pub class: String,
    /// Whether the domain (or the system) was permissive: the access went
    /// through anyway. Absent on kernels before 4.17.
    pub permissive: Option<bool>,
    /// For a `SELINUX_ERR`: what it says (`op=...`, `invalid_context=...`)
    /// without the contexts and class.
    pub detail: Option<String>,
}

/// A line that starts like an SELinux record and does not read as one.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct Malformed {
    /// The line (1-based).
    pub line: usize,
    /// What is wrong.
    pub reason: String,
}

/// Reads the SELinux records of a log, one line at a time.
pub struct Reader<R> {
    input: R,
    line: usize,
    buf: Vec<u8>,
}

impl<R: BufRead> Reader<R> {
    /// Records from `input`.
    pub fn new(input: R) -> Reader<R> {
        Reader {
            input,
            line: 0,
            buf: Vec::new(),
        }
    }
}

impl<R: BufRead> Iterator for Reader<R> {
    type Item = Result<Record, Malformed>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            self.buf.clear();
            match self.input.read_until(b'\n', &mut self.buf) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(e) => {
                    self.line += 1;
                    return Some(Err(Malformed {
                        line: self.line,
                        reason: format!("cannot read: {e}"),
                    }));
                }
            }
            self.line += 1;
            // A log is text; bytes that are not UTF-8 are replaced.
            let text = String::from_utf8_lossy(&self.buf);
            match parse_line(text.trim_end_matches(['\n', '\r'])) {
                None => continue,
                Some(Ok(mut r)) => {
                    r.line = self.line;
                    return Some(Ok(r));
                }
                Some(Err(reason)) => {
                    return Some(Err(Malformed {
                        line: self.line,
                        reason,
                    }));
                }
            }
        }
    }
}

/// The record a line holds: `None` when the line is no SELinux record,
/// `Some(Err(reason))` when it starts like one and does not read as one.
pub fn parse_line(line: &str) -> Option<Result<Record, String>> {
    let kind = if line.contains("type=AVC ") || line.contains("type=1400 ") {
        Kind::Avc
    } else if line.contains("type=USER_AVC ") || line.contains("type=1107 ") {
        Kind::UserAvc
    } else if line.contains("type=SELINUX_ERR ") || line.contains("type=1401 ") {
        Kind::SelinuxErr
    } else {
        return None;
    };
    Some(parse_record(line, kind))
}

fn parse_record(line: &str, kind: Kind) -> Result<Record, String> {
    let mut r = Record {
        kind: Some(kind),
        ..Record::default()
    };
    if let Some(rest) = line.strip_prefix("node=") {
        r.node = rest.split_whitespace().next().map(String::from);
    }
    // audit(TIME:SERIAL): the time may hold spaces and colons (`ausearch
    // -i`: `audit(11/29/2026 10:00:00.123:42)`); the serial is after the
    // last colon.
    let open = line
        .find("audit(")
        .ok_or("no `audit(TIME:SERIAL)` header")?;
    let header = &line[open + 6..];
    let close = header
        .find(')')
        .ok_or("the `audit(` header is not closed")?;
    let stamp = &header[..close];
    let (time, serial) = stamp
        .rsplit_once(':')
        .ok_or("the header has no `:SERIAL`")?;
    r.time = Some(time.to_string());
    r.serial = Some(
        serial
            .parse()
            .map_err(|_| format!("the serial `{serial}` is not a number"))?,
    );
    let body = &header[close + 1..];
    // `ausearch -i` prints values as they read, without quotes or hex.
    let interpreted = body.starts_with(" : ") || time.contains('/');
    let body = match kind {
        Kind::UserAvc => {
            // The AVC is inside msg='...'.
            let at = body
                .find("msg='")
                .ok_or("a USER_AVC record without `msg='...'`")?;
            let inner = &body[at + 5..];
            inner.strip_suffix('\'').unwrap_or(inner)
        }
        _ => body,
    };
    let fields_text = match kind {
        Kind::SelinuxErr => body,
        Kind::Avc | Kind::UserAvc => {
            let avc = body.find("avc:").ok_or("no `avc:` in the record")?;
            let rest = &body[avc + 4..];
            let open = rest.find('{').ok_or("no `{ permissions }`")?;
            let verdict = rest[..open].trim();
            r.outcome = match verdict {
                "denied" => Outcome::Denied,
                "granted" => Outcome::Granted,
                other => return Err(format!("`{other}` is neither `denied` nor `granted`")),
            };
            let close = rest[open..]
                .find('}')
                .ok_or("the `{ permissions }` list is not closed")?
                + open;
            r.permissions = rest[open + 1..close]
                .split_whitespace()
                .map(String::from)
                .collect();
            if r.permissions.is_empty() {
                return Err("no permission between `{` and `}`".into());
            }
            let after = rest[close + 1..].trim_start();
            after.strip_prefix("for").unwrap_or(after)
        }
    };
    let mut detail = Vec::new();
    for (key, value, quoted) in fields(fields_text)? {
        let decoded = || {
            if quoted || interpreted {
                value.to_string()
            } else {
                hex_decode(value).unwrap_or_else(|| value.to_string())
            }
        };
        match key {
            "pid" => r.pid = value.parse().ok(),
            "comm" => r.comm = Some(decoded()),
            "path" => r.path = Some(decoded()),
            "name" => r.name = Some(decoded()),
            "dev" => r.dev = Some(value.to_string()),
            "ino" => r.ino = value.parse().ok(),
            "ioctlcmd" => r.ioctlcmd = Some(value.to_string()),
            "capability" => r.capability = value.parse().ok(),
            "scontext" => {
                r.source =
                    Context::parse(value).ok_or_else(|| format!("`{value}` is not a context"))?;
            }
            "tcontext" => {
                r.target =
                    Context::parse(value).ok_or_else(|| format!("`{value}` is not a context"))?;
            }
            "tclass" => r.class = value.to_string(),
            "permissive" => {
                r.permissive = match value {
                    "0" => Some(false),
                    "1" => Some(true),
                    other => return Err(format!("permissive=`{other}` is neither 0 nor 1")),
                };
            }
            _ if kind == Kind::SelinuxErr => detail.push(format!("{key}={value}")),
            _ => {}
        }
    }
    if kind == Kind::SelinuxErr {
        r.detail = Some(detail.join(" "));
        return Ok(r);
    }
    if r.source.ty.is_empty() || r.target.ty.is_empty() || r.class.is_empty() {
        return Err("an AVC record needs scontext, tcontext and tclass".into());
    }
    Ok(r)
}

/// The `key=value` fields of a record: a value is a word, or a quoted
/// string that may hold spaces.
fn fields(text: &str) -> Result<Vec<(&str, &str, bool)>, String> {
    use nom::Parser;
    use nom::bytes::complete::{is_not, tag, take_till, take_while1};
    use nom::sequence::delimited;
    let mut out = Vec::new();
    let mut rest = text;
    loop {
        // Any whitespace, Unicode's included, separates fields.
        rest = rest.trim_start();
        if rest.is_empty() {
            return Ok(out);
        }
        let key_result: nom::IResult<&str, &str> =
            take_while1(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-').parse(rest);
        let Ok((r, key)) = key_result else {
            // A word that is no field (such as `for`): skip it.
            rest = skip_word(rest);
            continue;
        };
        let eq: nom::IResult<&str, &str> = tag("=").parse(r);
        let Ok((r, _)) = eq else {
            rest = skip_word(rest);
            continue;
        };
        let quoted: nom::IResult<&str, &str> =
            delimited(tag("\""), take_till(|c| c == '"'), tag("\"")).parse(r);
        match quoted {
            Ok((r, value)) => {
                out.push((key, value, true));
                rest = r;
            }
            Err(_) if r.starts_with('"') => {
                return Err(format!(
                    "the value of `{key}` opens a quote it never closes"
                ));
            }
            Err(_) => {
                let word: nom::IResult<&str, &str> = is_not(" \t").parse(r);
                let (r, value) = word.unwrap_or((r, ""));
                out.push((key, value, false));
                rest = r;
            }
        }
    }
}

/// `text` after its first word (at least one character, so a field loop
/// always moves on).
fn skip_word(text: &str) -> &str {
    let end = text
        .char_indices()
        .skip(1)
        .find(|(_, c)| c.is_whitespace())
        .map_or(text.len(), |(i, _)| i);
    &text[end..]
}

/// An unquoted value the kernel hex-encoded (it holds a space, a quote or
/// a control character): `6D7920636F6D6D` is `my comm`.
fn hex_decode(value: &str) -> Option<String> {
    if value.len() < 2
        || !value.len().is_multiple_of(2)
        || !value.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..value.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&value[i..i + 2], 16).ok())
        .collect();
    Some(String::from_utf8_lossy(&bytes?).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form_of_record_reads() {
        let lines = [
            // auditd
            r#"type=AVC msg=audit(1732870000.123:42): avc:  denied  { read } for  pid=12 comm="cat" name="kcore" dev="proc" ino=4026532 scontext=system_u:system_r:container_t:s0:c1,c2 tcontext=system_u:object_r:proc_kcore_t:s0 tclass=file permissive=0"#,
            // kernel log
            r#"[   12.345678] audit: type=1400 audit(1732870000.123:42): avc:  denied  { read } for  pid=12 comm="cat" name="kcore" dev="proc" ino=4026532 scontext=system_u:system_r:container_t:s0:c1,c2 tcontext=system_u:object_r:proc_kcore_t:s0 tclass=file permissive=0"#,
            // journal
            r#"Nov 29 10:00:00 node1 kernel: audit: type=1400 audit(1732870000.123:42): avc:  denied  { read } for  pid=12 comm="cat" name="kcore" dev="proc" ino=4026532 scontext=system_u:system_r:container_t:s0:c1,c2 tcontext=system_u:object_r:proc_kcore_t:s0 tclass=file permissive=0"#,
            // node= prefix
            r#"node=node1 type=AVC msg=audit(1732870000.123:42): avc:  denied  { read } for  pid=12 comm="cat" name="kcore" dev="proc" ino=4026532 scontext=system_u:system_r:container_t:s0:c1,c2 tcontext=system_u:object_r:proc_kcore_t:s0 tclass=file permissive=0"#,
        ];
        for line in lines {
            let r = parse_line(line).unwrap().unwrap();
            assert_eq!(r.permissions, ["read"], "{line}");
            assert_eq!(r.source.ty, "container_t");
            assert_eq!(r.target.ty, "proc_kcore_t");
            assert_eq!(r.class, "file");
            assert_eq!(r.serial, Some(42));
            assert_eq!(r.comm.as_deref(), Some("cat"));
            assert_eq!(r.name.as_deref(), Some("kcore"));
            assert_eq!(r.ino, Some(4026532));
            assert_eq!(r.permissive, Some(false));
        }
        assert_eq!(
            parse_line(lines[3]).unwrap().unwrap().node.as_deref(),
            Some("node1")
        );
    }

    #[test]
    fn ausearch_interpreted_records_read() {
        let line = "type=AVC msg=audit(11/29/2026 10:00:00.123:42) : avc:  denied  { ioctl } for  pid=812 comm=qemu-kvm path=/dev/net/tun dev=\"devtmpfs\" ino=87 ioctlcmd=TUNSETIFF scontext=system_u:system_r:container_t:s0:c1,c2 tcontext=system_u:object_r:tun_tun_device_t:s0 tclass=chr_file permissive=1";
        let r = parse_line(line).unwrap().unwrap();
        assert_eq!(r.time.as_deref(), Some("11/29/2026 10:00:00.123"));
        assert_eq!(r.ioctlcmd.as_deref(), Some("TUNSETIFF"));
        assert_eq!(r.comm.as_deref(), Some("qemu-kvm"));
        assert_eq!(r.path.as_deref(), Some("/dev/net/tun"));
        assert_eq!(r.permissive, Some(true));
    }

    #[test]
    fn hex_encoded_values_are_decoded_and_missing_permissive_is_absent() {
        let line = r#"type=AVC msg=audit(1.5:7): avc:  denied  { attach_queue } for  pid=3 comm=71656D75206B766D scontext=u:r:t:s0 tcontext=u:r:t:s0 tclass=tun_socket"#;
        let r = parse_line(line).unwrap().unwrap();
        assert_eq!(r.comm.as_deref(), Some("qemu kvm"));
        assert_eq!(r.permissive, None);
    }

    #[test]
    fn user_avc_and_selinux_err_records_read() {
        let user = r#"type=USER_AVC msg=audit(1732870000.5:9): pid=1 uid=0 auid=4294967295 ses=4294967295 subj=system_u:system_r:init_t:s0 msg='avc:  denied  { start } for auid=0 uid=0 gid=0 path="/usr/lib/systemd/system/x.service" cmdline="" scontext=system_u:system_r:init_t:s0 tcontext=system_u:object_r:systemd_unit_file_t:s0 tclass=service permissive=0 exe="/usr/lib/systemd/systemd" sauid=0 hostname=? addr=? terminal=?'"#;
        let r = parse_line(user).unwrap().unwrap();
        assert_eq!(r.kind, Some(Kind::UserAvc));
        assert_eq!(r.permissions, ["start"]);
        assert_eq!(r.class, "service");
        let err = r#"type=SELINUX_ERR msg=audit(1732870000.5:10): op=security_compute_sid invalid_context="system_u:object_r:x_t:s0" scontext=system_u:system_r:init_t:s0 tcontext=system_u:object_r:bin_t:s0 tclass=process"#;
        let r = parse_line(err).unwrap().unwrap();
        assert_eq!(r.kind, Some(Kind::SelinuxErr));
        assert_eq!(r.class, "process");
        assert!(r.detail.unwrap().contains("op=security_compute_sid"));
    }

    #[test]
    fn malformed_records_say_why_and_other_lines_pass() {
        assert_eq!(
            parse_line("type=SYSCALL msg=audit(1.2:3): arch=c000003e"),
            None
        );
        assert_eq!(parse_line("hello"), None);
        for (bad, why) in [
            (
                "type=AVC msg=audit(1.2:3): avc:  denied  { read } for  pid=1",
                "needs scontext",
            ),
            (
                "type=AVC msg=audit(1.2:x): avc:  denied  { read }",
                "serial",
            ),
            (
                "type=AVC msg=audit(1.2:3): avc:  denied  { read for",
                "not closed",
            ),
            (
                "type=AVC msg=audit(1.2:3): avc:  maybe  { read } for",
                "neither",
            ),
            (
                "type=AVC msg=audit(1.2:3): avc:  denied  { } for",
                "no permission",
            ),
            ("type=AVC msg=audit(1.2:3: avc:", "not closed"),
            ("type=AVC avc: denied { read }", "header"),
            (
                r#"type=AVC msg=audit(1.2:3): avc:  denied  { read } for comm="x scontext=a:b:c"#,
                "quote",
            ),
            (
                "type=AVC msg=audit(1.2:3): avc:  denied  { read } for scontext=a:b tcontext=a:b:c tclass=f",
                "not a context",
            ),
        ] {
            let e = parse_line(bad).unwrap().unwrap_err();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn any_whitespace_separates_fields_and_the_field_loop_ends() {
        // A vertical tab and a no-break space, which `split_whitespace`
        // knows and ASCII blanks do not (the fuzzer's find: it looped).
        for sep in ["\u{b}", "\u{a0}", "\u{2028}", "\u{b}{"] {
            let line = format!(
                "type=AVC msg=audit(1.2:3): avc:  denied  {{ read }} for{sep}pid=1{sep}scontext=a:b:c tcontext=a:b:c tclass=file"
            );
            let _ = parse_line(&line);
        }
    }

    #[test]
    fn the_reader_numbers_lines_and_goes_on_after_a_bad_one() {
        let log = "noise\ntype=AVC msg=audit(1.2:3): avc:  denied  { read }\ntype=AVC msg=audit(1.2:4): avc:  denied  { read } for scontext=a:b:c tcontext=a:b:d tclass=file\n";
        let items: Vec<_> = Reader::new(log.as_bytes()).collect();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].as_ref().unwrap_err().line, 2);
        assert_eq!(items[1].as_ref().unwrap().line, 3);
    }
}
