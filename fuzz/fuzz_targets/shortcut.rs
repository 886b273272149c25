//! The shortcut (the commonest statements read straight from their text)
//! reads what the general parser reads: the same text with tabs for its
//! spaces (each the same length, so every span stays where it was) takes
//! the general path at every statement, and gives the same tree and spans,
//! or an error at the same place. Texts with strings or comments are left
//! out: a tab there changes what they hold.
#![no_main]

use libfuzzer_sys::fuzz_target;

fn spans(policy: &cilgen::Policy) -> Vec<(u32, u32)> {
    policy
        .walk()
        .map(|s| (s.span().start, s.span().end))
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if text.contains(['"', ';']) {
        return;
    }
    let parse = |src: &str| cilgen::ParseOptions::new().threads(1).parse(src);
    match (parse(text), parse(&text.replace(' ', "\t"))) {
        (Ok(fast), Ok(general)) => {
            assert!(fast == general, "the trees differ");
            assert_eq!(spans(&fast), spans(&general), "the spans differ");
        }
        (Err(fast), Err(general)) => {
            // (Spans take no part in `==`: compare their offsets.)
            let at = |e: &cilgen::ParseError| (e.span().start, e.span().end);
            assert_eq!(at(&fast), at(&general), "the errors differ: {fast} / {general}");
        }
        (fast, general) => panic!("one parse fails: {:?} / {:?}", fast.err(), general.err()),
    }
});
