//! Arbitrary bytes through the parser, the linter and every renderer; see
//! `layercake_fuzz::check_parse_and_lint` for the invariants.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    layercake_fuzz::check_parse_and_lint(data);
});
