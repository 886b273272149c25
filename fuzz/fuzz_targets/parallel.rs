//! Inputs of 1 MiB and more, built around the fuzz input (non-ASCII
//! included), at the top level or inside one container: several threads
//! give the same tree, the same spans and the same first error as one.
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
    // The input in the middle, where the split points fall, as the
    // repeated body of the whole file, or in the middle of one container's
    // body (which is split inside).
    let text = match mode % 4 {
        _ if piece.trim().is_empty() => format!("{}{}\n{}", filler(), piece, filler()),
        0 => format!("{}{}\n{}", filler(), piece, filler()),
        1 => {
            let copies = (1 << 20) / (piece.len() + 1) + 1;
            format!("{piece}\n").repeat(copies)
        }
        2 => format!("(block outer\n{}{}\n{})\n", filler(), piece, filler()),
        _ => format!("; c\n(optional outer\n{}{}\n{})\n", filler(), piece, filler()),
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
