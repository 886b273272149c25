//! Parse, print and round trip on Debian's whole policy as CIL (about
//! 11 MB), generated with `checkpolicy -C` into `target/bench/` on first
//! use, or the file named by `CILGEN_BENCH_FILE`; and parse (one thread and
//! every core) and print on the two synthetic shapes of
//! `scripts/bench-vs-libsepol`: a million distinct type names, and one
//! block holding 200,000 small blocks.
//!
//! ```text
//! cargo bench --bench parse
//! ```

// criterion_group! generates an undocumented public function.
#![allow(missing_docs)]

use std::path::PathBuf;
use std::process::Command;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn corpus() -> Option<String> {
    if let Some(path) = std::env::var_os("CILGEN_BENCH_FILE") {
        return std::fs::read_to_string(path).ok();
    }
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench/policy.cil");
    if !path.exists() {
        std::fs::create_dir_all(path.parent()?).ok()?;
        let ok = Command::new("checkpolicy")
            .args(["-b", "-C", "-M", "-o"])
            .arg(&path)
            .arg("/etc/selinux/default/policy/policy.33")
            .status()
            .ok()?
            .success();
        if !ok {
            return None;
        }
    }
    std::fs::read_to_string(path).ok()
}

fn benches(c: &mut Criterion) {
    let Some(src) = corpus() else {
        eprintln!(
            "no corpus: install checkpolicy and selinux-policy-default (scripts/install-toolchain) or set CILGEN_BENCH_FILE"
        );
        return;
    };
    let policy = cilgen::parse(&src).expect("the corpus parses");
    let printed = policy.to_string();
    let mut group = c.benchmark_group("reference_policy");
    group.sample_size(20);
    group.throughput(Throughput::Bytes(src.len() as u64));
    group.bench_function("parse", |b| b.iter(|| cilgen::parse(&src).unwrap()));
    group.throughput(Throughput::Bytes(printed.len() as u64));
    group.bench_function("print", |b| b.iter(|| policy.to_string()));
    group.throughput(Throughput::Bytes(src.len() as u64));
    group.bench_function("round_trip", |b| {
        b.iter(|| cilgen::parse(&src).unwrap().to_string())
    });
    group.finish();
}

/// The synthetic shapes, built in memory as the script writes them.
fn shapes() -> Vec<(&'static str, String)> {
    let names: String = (0..1_000_000).map(|i| format!("(type t{i})\n")).collect();
    let mut blocks = String::from("(block outer\n");
    for i in 0..200_000 {
        blocks.push_str(&format!(
            "    (block b{i} (type process) (allow process self (file (read write))))\n"
        ));
    }
    blocks.push_str(")\n");
    vec![("names", names), ("blocks", blocks)]
}

fn shape_benches(c: &mut Criterion) {
    for (name, src) in shapes() {
        let policy = cilgen::parse(&src).expect("the shape parses");
        let mut group = c.benchmark_group(name);
        group.sample_size(10);
        group.throughput(Throughput::Bytes(src.len() as u64));
        group.bench_function("parse_one_thread", |b| {
            b.iter(|| cilgen::ParseOptions::new().threads(1).parse(&src).unwrap())
        });
        group.bench_function("parse", |b| b.iter(|| cilgen::parse(&src).unwrap()));
        group.bench_function("print", |b| b.iter(|| policy.to_string()));
        group.finish();
    }
}

criterion_group!(parse, benches, shape_benches);
criterion_main!(parse);
