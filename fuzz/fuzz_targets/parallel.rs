//! Inputs of 1 MiB and more, built around the fuzz input (non-ASCII
//! included): several threads give the same tree, the same spans and the
//! same first error as one.
#![no_main]

use std::sync::OnceLock;

use cilgen::{ParseOptions, Policy};
use libfuzzer_sys::fuzz_target;

/// 600 KB of flat statements, with non-ASCII comments.
fn filler() -> &'static str {
    static FILLER: OnceLock<String> = OnceLock::new();
    FILLER.get_or_init(|| {
        let mut s = String::new();
        let mut i = 0;
        while s.len() < 600 * 1024 {
            s.push_str(&format!(
                "(type t{i})\n; é{i} ü\n(allow t{i} self (file (read)))\n"
            ));
            i += 1;
        }
        s
    })
}

fn spans(p: &Policy) -> Vec<(u32, u32)> {
    p.walk().map(|s| (s.span().start, s.span().end)).collect()
}

fuzz_target!(|data: &[u8]| {
    let (&mode, rest) = data.split_first().unwrap_or((&0, &[]));
    let piece = String::from_utf8_lossy(rest);
    // The input in the middle, where the split points fall, or as the
    // repeated body of the whole file.
    let text = if mode % 2 == 0 || piece.trim().is_empty() {
        format!("{}{}\n{}", filler(), piece, filler())
    } else {
        let copies = (1 << 20) / (piece.len() + 1) + 1;
        format!("{piece}\n").repeat(copies)
    };
    {
        let one = ParseOptions::new().threads(1).parse(&text);
        let many = ParseOptions::new().threads(4).parse(&text);
        match (&one, &many) {
            (Ok(a), Ok(b)) => {
                assert!(a == b, "trees differ");
                assert_eq!(spans(a), spans(b), "spans differ");
            }
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
            _ => panic!(
                "one thread: {:?}\nseveral: {:?}",
                one.as_ref().err().map(|e| e.to_string()),
                many.as_ref().err().map(|e| e.to_string())
            ),
        }
    }
});
