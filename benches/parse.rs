//! Parse, print and round trip on Debian's whole policy as CIL (about
//! 11 MB), generated with `checkpolicy -C` into `target/bench/` on first
//! use, or the file named by `CILGEN_BENCH_FILE`.
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

criterion_group!(parse, benches);
criterion_main!(parse);
