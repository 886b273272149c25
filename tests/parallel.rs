//! A large input parsed on several threads gives exactly what a
//! single-threaded parse gives: the same AST, or the same first error.

use cilgen::{ParseOptions, Policy, Span};
use pretty_assertions::assert_eq;

/// Every statement's span, in walk order: `Span`'s `==` is always true (so
/// a parsed node equals a built one), so trees compare equal whatever their
/// spans; these are compared on their own.
fn spans(policy: &Policy) -> Vec<(usize, usize)> {
    policy
        .walk()
        .map(|s| {
            let span: Span = s.span();
            (span.start as usize, span.end as usize)
        })
        .collect()
}

/// The same tree, the same spans, or the same error.
fn assert_same(one: &Result<Policy, String>, many: &Result<Policy, String>) {
    assert!(one == many);
    if let (Ok(a), Ok(b)) = (one, many) {
        let (a, b) = (spans(a), spans(b));
        assert!(a.iter().all(|&(s, e)| s < e), "a statement without a span");
        assert!(a == b, "spans differ");
    }
}

/// About 3 MB of flat statements.
fn flat() -> String {
    let mut s = String::new();
    for i in 0..40_000 {
        s.push_str(&format!(
            "(type t{i})\n(allow t{i} self (file (read write getattr)))\n"
        ));
    }
    s
}

fn both(
    src: &str,
) -> (
    Result<cilgen::Policy, String>,
    Result<cilgen::Policy, String>,
) {
    let one = ParseOptions::new()
        .threads(1)
        .parse(src)
        .map_err(|e| e.to_string());
    let many = ParseOptions::new()
        .threads(4)
        .parse(src)
        .map_err(|e| e.to_string());
    (one, many)
}

#[test]
fn flat_input_parses_the_same_on_several_threads() {
    let src = flat();
    let (one, many) = both(&src);
    assert_eq!(one.as_ref().unwrap().statements.len(), 80_000);
    assert_same(&one, &many);
}

#[test]
fn a_split_inside_a_container_falls_back_to_one_thread() {
    // Every line of the block starts with `(`, so every split candidate in
    // the middle of the file lies inside it.
    let mut src = String::from("(block outer\n");
    for i in 0..60_000 {
        src.push_str(&format!("(allow t{i} self (file (read write getattr)))\n"));
    }
    src.push_str(")\n(type after)\n");
    let (one, many) = both(&src);
    assert!(one.is_ok());
    assert_same(&one, &many);
}

#[test]
fn errors_are_the_first_in_the_file_whichever_part_holds_them() {
    let base = flat();
    let late = format!("{base}(allow a b)\n");
    let (one, many) = both(&late);
    assert!(
        one.as_ref()
            .unwrap_err()
            .contains(":80001:1: `allow` expects"),
        "{one:?}"
    );
    assert_eq!(one, many);

    let two = format!("(alow x)\n{base}(allow a b)\n");
    let (one, many) = both(&two);
    assert!(
        one.as_ref()
            .unwrap_err()
            .contains(":1:2: unknown keyword `alow`")
    );
    assert_eq!(one, many);

    let unbalanced = format!("{base})\n");
    let (one, many) = both(&unbalanced);
    assert!(one.as_ref().unwrap_err().contains("unbalanced"));
    assert_eq!(one, many);
}

#[test]
fn spans_point_into_the_whole_file_not_into_a_part() {
    let src = flat();
    let (one, many) = both(&src);
    assert_same(&one, &many);
    // The last statement's span ends at the end of the file.
    let last = spans(many.as_ref().unwrap()).last().copied().unwrap();
    assert_eq!(last.1, src.trim_end().len());
}

#[test]
fn line_marks_keep_their_pairing_across_the_whole_file() {
    let base = flat();
    let src = format!(";;* lms 1 a.te\n{base};;* lme\n");
    let (one, many) = both(&src);
    assert!(one.is_ok());
    assert_same(&one, &many);
}

/// `flat()` with a line mark pair (or what `pair` makes of it) around
/// every 1,000th statement.
fn marked(pair: impl Fn(usize, &str) -> String) -> String {
    flat()
        .lines()
        .enumerate()
        .map(|(i, line)| {
            if i % 1_000 == 0 {
                pair(i, line)
            } else {
                format!("{line}\n")
            }
        })
        .collect()
}

#[test]
fn line_marks_that_pair_inside_each_part_parse_the_same() {
    let src = marked(|i, line| format!(";;* lms {i} a.te\n{line}\n;;* lme\n"));
    let (one, many) = both(&src);
    assert!(one.is_ok(), "{one:?}");
    assert_same(&one, &many);
    // The same in one container's body.
    let block = format!("(block outer\n{src})\n");
    let (one, many) = all_three(&block);
    assert!(one.is_ok(), "{one:?}");
    assert_same(&one, &many);
}

#[test]
fn line_marks_out_of_pair_give_the_same_first_error() {
    for (what, src) in [
        // An end without a start, late in the file.
        (
            "without",
            marked(|i, line| {
                let mark = if i == 60_000 { ";;* lme\n" } else { "" };
                format!("{mark}{line}\n")
            }),
        ),
        // A start never closed, early in the file.
        (
            "never closed",
            marked(|i, line| {
                let mark = if i == 1_000 { ";;* lms 1 a.te\n" } else { "" };
                format!("{mark}{line}\n")
            }),
        ),
        // A pair open across every part boundary, then an error late.
        (
            "unknown keyword",
            format!(";;* lms 1 a.te\n{};;* lme\n(alow a b)\n", flat()),
        ),
        // A bad statement after pairs that close, in a later part.
        (
            "unknown keyword",
            marked(|i, line| {
                if i == 70_000 {
                    "(alow a b)\n".to_string()
                } else {
                    format!(";;* lms {i} a.te\n{line}\n;;* lme\n")
                }
            }),
        ),
    ] {
        let (one, many) = both(&src);
        let err = one.as_ref().unwrap_err();
        assert!(err.contains(what), "{what}: {err}");
        assert_eq!(one, many, "{what}");
        let block = format!("(block outer\n{src})\n");
        let (one, many) = all_three(&block);
        assert!(one.is_err(), "{what} in a block");
        assert_eq!(one, many, "{what} in a block");
    }
}

/// The single-threaded parse without the container strategy: the file
/// with a comment after its last `)`, which that strategy does not take,
/// and that comment taken off the tree again.
fn without_container_strategy(src: &str) -> Result<Policy, String> {
    let mut policy = ParseOptions::new()
        .threads(1)
        .parse(&format!("{src}; end\n"))
        .map_err(|e| e.to_string())?;
    assert!(matches!(
        policy.statements.pop(),
        Some(cilgen::Statement::Comment(_))
    ));
    Ok(policy)
}

/// `both`, and the first against the parse without the container strategy.
fn all_three(src: &str) -> (Result<Policy, String>, Result<Policy, String>) {
    let (one, many) = both(src);
    assert_same(&without_container_strategy(src), &one);
    (one, many)
}

/// One container holding about 3 MB of statements, with comments before it
/// and in its body.
fn one_container(keyword: &str) -> String {
    let mut s = format!("; before\n({keyword} outer ; after the name\n");
    for i in 0..40_000 {
        s.push_str(&format!(
            "    (allow t{i} self (file (read write getattr)))\n"
        ));
        if i % 10_000 == 0 {
            s.push_str("    ; a comment of the body\n");
        }
    }
    s.push_str(")\n");
    s
}

#[test]
fn one_container_parses_the_same_on_several_threads() {
    for keyword in ["block", "optional"] {
        let src = one_container(keyword);
        let (one, many) = all_three(&src);
        assert_eq!(one.as_ref().unwrap().statements.len(), 2, "{keyword}");
        assert_same(&one, &many);
    }
    // A comment in the header, a comment after the container, and a
    // container that closes before the file's last `)`: the other
    // strategies, the same tree.
    for src in [
        one_container("block").replacen("(block outer", "(block ; in the header\n outer", 1),
        format!("{}; after\n", one_container("block")),
        one_container("block").replacen(
            "    (allow t20000 ",
            ")\n(block second\n    (allow t20000 ",
            1,
        ),
    ] {
        let (one, many) = both(&src);
        assert!(one.is_ok(), "{one:?}");
        assert_same(&one, &many);
    }
}

#[test]
fn one_container_reports_the_same_first_error() {
    let src = one_container("block");
    for (from, to, message) in [
        ("(allow t30000 ", "(alow t30000 ", "unknown keyword `alow`"),
        ("(allow t30000 ", "stray (allow t30000 ", "a statement"),
        ("(allow t5 self", "(allow t5", "`allow` expects"),
        (
            "(allow t39999 ",
            "(block inner (allow t39999 ",
            "never closed",
        ),
    ] {
        let bad = src.replacen(from, to, 1);
        let (one, many) = all_three(&bad);
        let err = one.as_ref().unwrap_err();
        assert!(err.contains(message), "{to}: {err}");
        assert_eq!(one, many, "{to}");
    }
    // An optional's body may not declare a block, whichever part holds it.
    let bad = one_container("optional").replacen("(allow t30000 ", "(block b) (allow t30000 ", 1);
    let (one, many) = all_three(&bad);
    assert!(one.as_ref().unwrap_err().contains("optional"), "{one:?}");
    assert_eq!(one, many);
}

#[test]
fn one_container_counts_its_own_parenthesis_against_the_depth_limit() {
    let src = one_container("block");
    // A statement nested 8 lists deep inside the block is 9 deep in all.
    let deep = src.replacen(
        "(allow t30000 self (file (read write getattr)))",
        "(optional a (optional b (optional c (optional d (optional e (allow t30000 self (file (read))))))))",
        1,
    );
    for limit in [8, 9] {
        let options = |threads| {
            ParseOptions::new()
                .max_depth(limit)
                .threads(threads)
                .parse(&deep)
                .map_err(|e| e.to_string())
        };
        let (one, many) = (options(1), options(4));
        assert_eq!(one.is_ok(), limit == 9, "limit {limit}: {one:?}");
        assert_same(&one, &many);
        // Without the container strategy (a comment after the last `)`).
        let reference = ParseOptions::new()
            .max_depth(limit)
            .threads(1)
            .parse(&format!("{deep}; end\n"))
            .map_err(|e| e.to_string())
            .map(|mut p| {
                p.statements.pop();
                p
            });
        assert_same(&reference, &one);
    }
}
