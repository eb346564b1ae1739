//! Replays every input in `fuzz/regressions/` (crashes the fuzzer once found)
//! through the fuzz target's checks, on the stable toolchain.

use std::fs;
use std::path::Path;

#[test]
fn regressions_pass_the_fuzz_checks() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("regressions");
    let mut entries: Vec<_> = fs::read_dir(&dir)
        .expect("fuzz/regressions exists")
        .map(|entry| entry.expect("readable directory entry").path())
        .filter(|path| path.is_file() && path.file_name().is_some_and(|name| name != "README.md"))
        .collect();
    entries.sort();
    for path in entries {
        let data = fs::read(&path).expect("readable regression input");
        eprintln!("replaying {}", path.display());
        layercake_fuzz::check_parse_and_lint(&data);
        layercake_fuzz::check_pair_versions(&data);
    }
}
