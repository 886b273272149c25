//! Any input: the parser returns a tree or an error, renders the error,
//! and the validator runs on what parsed; nothing panics or overflows.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match cilgen::ParseOptions::new().threads(1).parse(text) {
        Ok(policy) => {
            let _ = cilgen::validate::validate(&policy, &Default::default());
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
