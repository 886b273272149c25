//! Prints CIL files in canonical form.
//!
//! ```text
//! cargo run --example fmt -- [--check] [FILE...]
//! ```
//!
//! With no file, or `-`, reads standard input. `--check` prints nothing and
//! exits 1 when any file is not already canonical. A parse error is shown as
//! `FILE:LINE:COL: message`, the line and a caret on standard error, nothing
//! is written to standard output, and the exit status is 1. Usage errors
//! exit 2.

use std::io::{Read, Write};
use std::process::ExitCode;

const USAGE: &str = "usage: fmt [--check] [FILE...]   (no FILE or `-`: standard input)";

fn read(path: &str) -> Result<Vec<u8>, String> {
    if path == "-" {
        let mut buf = Vec::new();
        std::io::stdin()
            .read_to_end(&mut buf)
            .map_err(|e| format!("<stdin>: {e}"))?;
        Ok(buf)
    } else {
        std::fs::read(path).map_err(|e| format!("{path}: {e}"))
    }
}

fn main() -> ExitCode {
    let mut check = false;
    let mut files = Vec::new();
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--check" => check = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            "-" => files.push(arg),
            s if s.starts_with('-') => {
                eprintln!("fmt: unknown option `{s}`\n{USAGE}");
                return ExitCode::from(2);
            }
            _ => files.push(arg),
        }
    }
    if files.is_empty() {
        files.push("-".into());
    }

    let mut output = String::new();
    let mut failed = false;
    for path in &files {
        let name = if path == "-" {
            "<stdin>"
        } else {
            path.as_str()
        };
        let bytes = match read(path) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("fmt: {e}");
                failed = true;
                continue;
            }
        };
        let text = match std::str::from_utf8(&bytes) {
            Ok(t) => t,
            Err(e) => {
                eprintln!(
                    "{name}: not valid UTF-8 at byte {}: CIL is ASCII outside strings and comments",
                    e.valid_up_to()
                );
                failed = true;
                continue;
            }
        };
        match cilgen::ParseOptions::new().file_name(name).parse(text) {
            Ok(policy) => {
                let canonical = policy.to_string();
                if check {
                    if canonical != text {
                        eprintln!("{name}: not in canonical form");
                        failed = true;
                    }
                } else {
                    output.push_str(&canonical);
                }
            }
            Err(e) => {
                eprintln!("{e}");
                failed = true;
            }
        }
    }
    if failed {
        return ExitCode::FAILURE;
    }
    let mut stdout = std::io::stdout().lock();
    if stdout
        .write_all(output.as_bytes())
        .and_then(|()| stdout.flush())
        .is_err()
    {
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
