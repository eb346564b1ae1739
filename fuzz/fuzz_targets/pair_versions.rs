//! Two versions of a Dockerfile from arbitrary bytes, paired and their
//! findings classified; see `layercake_fuzz::check_pair_versions`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    layercake_fuzz::check_pair_versions(data);
});
