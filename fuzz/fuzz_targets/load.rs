//! Fuzz target (a): any bytes as a scenario file, with and without an override, through parse and validation.
//! Errors are expected; a panic, an error of more than one line, or an error without the file name is a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for overrides in [vec![], vec!["duration=1d".to_string()]] {
        if let Err(e) = settlesim::scenario::load("fuzz.toml", text, &overrides) {
            let line = e.to_string();
            assert!(!line.contains('\n'), "error of more than one line: {line}");
            assert!(
                line.starts_with("fuzz.toml") || line.starts_with("--set "),
                "error that names neither the file nor the override: {line}"
            );
        }
    }
});
