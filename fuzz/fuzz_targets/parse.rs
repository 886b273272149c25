//! Any input: the parser returns a tree or an error, renders the error,
//! and the validator and the resolver run on what parsed, their
//! diagnostics rendered; nothing panics or overflows.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match cilgen::ParseOptions::new().threads(1).parse(text) {
        Ok(policy) => {
            let files = [cilgen::diagnostic::SourceFile::new("f.cil", text)];
            for d in cilgen::validate::validate(&policy, &Default::default()) {
                let _ = d.to_diagnostic(0).render(&files);
            }
            let model = cilgen::resolve::resolve(&[cilgen::resolve::Input::new("f.cil", &policy)]);
            for d in &model.diagnostics {
                let _ = d.to_diagnostic().render(&files);
            }
            for o in &model.optionals {
                if let Some(d) = o.to_diagnostic() {
                    let _ = d.render(&files);
                }
            }
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
