//! What parses prints as text that parses to the same tree and prints the
//! same again; the checked printer accepts every parsed tree.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(policy) = cilgen::ParseOptions::new().threads(1).parse(text) else {
        return;
    };
    let printed = policy.to_string();
    let again = cilgen::parse(&printed)
        .unwrap_or_else(|e| panic!("the reprint does not parse: {e}\n{printed}"));
    assert!(
        again == policy,
        "the reprint reads back differently:\n{printed}"
    );
    assert_eq!(again.to_string(), printed, "printing is not stable");
    let checked = policy
        .to_checked_string()
        .unwrap_or_else(|e| panic!("a parsed tree was refused: {e}"));
    assert_eq!(checked, printed);
});
