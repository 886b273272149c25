//! Any input as an audit log: the reader reports or skips each line, the
//! denials group and explain, and the proposed module prints; nothing
//! panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let records = cilgen::audit::Reader::new(data).filter_map(Result::ok);
    let explained: Vec<_> = cilgen::audit::group(records)
        .into_iter()
        .map(|d| {
            let e = cilgen::audit::explain(&d, "virt_launcher.process", None);
            (d, e)
        })
        .collect();
    let module = cilgen::audit::propose(&explained, "fuzz");
    let _ = module.to_checked_string();
});
