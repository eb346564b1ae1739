#!/usr/bin/env bash
# Seeds the fuzz corpus with the conformance corpus and fuzzes a Dockerfile
# target: `parse_and_lint` (default) or `pair_versions` (FUZZ_TARGET=...).
#
#   [FUZZ_TARGET=pair_versions] fuzz/run.sh [SECONDS] [extra libFuzzer flags...]
#   (default: 600 seconds)
#
# Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`).
# Runs libFuzzer in-process with one worker (no -jobs/-fork), so it uses one core. Crashes land in
# fuzz/artifacts/TARGET/; the corpus in fuzz/corpus/ (both gitignored).
set -euo pipefail

seconds="${1:-600}"
shift || true

fuzz_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(git -C "$fuzz_dir" rev-parse --show-toplevel)"
target="${FUZZ_TARGET:-parse_and_lint}"
seeds="${LAYERCAKE_CORPUS:-$repo_root/../shared/corpus}/dockerfiles"
corpus="$fuzz_dir/corpus/$target"

mkdir -p "$corpus"
if [[ -d "$seeds" ]]; then
    # Flat, content-named copies, so re-seeding never duplicates a file.
    while IFS= read -r -d '' file; do
        cp "$file" "$corpus/seed-$(sha1sum "$file" | cut -c1-16)"
    done < <(find "$seeds" -type f -name 'Dockerfile*' -print0)
else
    echo "warning: no seed corpus at $seeds; fuzzing from scratch" >&2
fi
# Past crashes are good seeds too.
for file in "$fuzz_dir"/regressions/*; do
    [[ -f "$file" && "$(basename "$file")" != README.md ]] && cp "$file" "$corpus/"
done

cd "$repo_root"
exec cargo +nightly fuzz run --fuzz-dir "$fuzz_dir" "$target" "$corpus" -- \
    -dict="$fuzz_dir/dockerfile.dict" \
    -max_total_time="$seconds" \
    -print_final_stats=1 \
    "$@"
