//! Benchmarks (filled in with the parser benchmarks).
fn main() {}
