//! Arbitrary bytes as an image archive and as a layer's tar-split metadata;
//! see `layercake_fuzz::check_read_image`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    layercake_fuzz::check_read_image(data);
});
