#!/usr/bin/env bash
# Lints every Dockerfile of the conformance corpus and prints one line per
# finding (file:line:column code severity message), sorted: the record to diff
# before and after a change that must not change findings.
#
#   scripts/corpus-findings.sh [LAYERCAKE_BINARY] > findings.txt
#
# The corpus is $LAYERCAKE_CORPUS (default ../shared/corpus beside the
# repository root); the binary defaults to target/debug/layercake (built here).
set -euo pipefail

repo_root="$(git -C "$(dirname "${BASH_SOURCE[0]}")" rev-parse --show-toplevel)"
corpus_root="${LAYERCAKE_CORPUS:-$repo_root/../shared/corpus}"
[[ -f "$corpus_root/expected.tsv" ]] || { echo "no corpus at $corpus_root (set LAYERCAKE_CORPUS)" >&2; exit 2; }
layercake="${1:+$(realpath "$1")}"
if [[ -z "$layercake" ]]; then
    cargo build --quiet -p layercake --manifest-path "$repo_root/Cargo.toml"
    layercake="$repo_root/target/debug/layercake"
fi

cd "$corpus_root/dockerfiles"
awk -F'\t' '!/^#/ && !seen[$1]++ { print $1 }' "$corpus_root/expected.tsv" |
    tr '\n' '\0' |
    xargs -0 "$layercake" lint --format json --fail-on none |
    python3 -c '
import json, sys
for f in json.load(sys.stdin)["findings"]:
    print("%(file)s:%(line)s:%(column)s-%(end_line)s:%(end_column)s %(code)s %(severity)s %(message)s" % f)
' | sort
