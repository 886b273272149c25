//! Parses a CIL file and reports the time taken, for the benchmark script.
//!
//! ```text
//! cargo run --release --example parse_file -- FILE [ROUNDS] [--print] [--threads N]
//! ```
//!
//! Prints `parse_ms=...` (best of ROUNDS, default 1) and, with `--print`,
//! `print_ms=...`; peak memory is measured from outside (`/usr/bin/time`).
//! `--threads 1` parses on one thread; the default uses every core.

use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.first() else {
        eprintln!("usage: parse_file FILE [ROUNDS] [--print]");
        return ExitCode::from(2);
    };
    let rounds: usize = args.get(1).and_then(|r| r.parse().ok()).unwrap_or(1).max(1);
    let print = args.iter().any(|a| a == "--print");
    let threads = args
        .iter()
        .position(|a| a == "--threads")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let src = match std::fs::read_to_string(path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{path}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut best_parse = f64::MAX;
    let mut best_print = f64::MAX;
    let mut statements = 0;
    for _ in 0..rounds {
        let t = Instant::now();
        let options = cilgen::ParseOptions::new().file_name(path).threads(threads);
        let policy = match options.parse(&src) {
            Ok(p) => p,
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::FAILURE;
            }
        };
        best_parse = best_parse.min(t.elapsed().as_secs_f64());
        statements = policy.statements.len();
        if print {
            let t = Instant::now();
            let text = policy.to_string();
            best_print = best_print.min(t.elapsed().as_secs_f64());
            std::hint::black_box(text);
        }
        drop(policy);
    }
    println!("bytes={} statements={statements}", src.len());
    println!("parse_ms={:.2}", best_parse * 1e3);
    if print {
        println!("print_ms={:.2}", best_print * 1e3);
    }
    ExitCode::SUCCESS
}
