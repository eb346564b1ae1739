#!/usr/bin/env bash
# Runs BuildKit's own Dockerfile checks (the linter of `docker build --check`)
# over the 666-file conformance corpus, offline, and writes one JSON line per
# warning or build error: what bench/compare_hadolint.py reads for its
# per-BuildKit-check section (docs/comparison.md, section (f)).
#
#   BUILDKIT_SRC=/tmp/buildkit-v0.24.0 GO=/usr/lib/go-1.23/bin/go \
#       bench/buildkit_checks.sh [OUT]        (default OUT: /tmp/buildkit-checks.jsonl)
#   BUILDKIT_CHECKS=/tmp/buildkit-checks.jsonl python3 bench/compare_hadolint.py
#
# Inputs (neither is part of this repository, and neither may be committed):
#   GO            Go 1.23 or newer (BuildKit v0.24.0's go.mod says go 1.23.0).
#                 Debian bookworm's own golang is 1.19; its backports suite has
#                 1.23:
#                   echo 'deb http://deb.debian.org/debian bookworm-backports main' \
#                       > /etc/apt/sources.list.d/backports.list
#                   apt-get update
#                   apt-get install -y -t bookworm-backports golang-1.23-go
#                 which installs /usr/lib/go-1.23/bin/go.
#   BUILDKIT_SRC  BuildKit's source at tag v0.24.0, which carries its vendor/
#                 directory, so the build needs no module proxy:
#                   mkdir -p /tmp/buildkit-v0.24.0
#                   git -C <a clone of github.com/moby/buildkit> archive v0.24.0 \
#                       | tar -x -C /tmp/buildkit-v0.24.0
#   BUILDKIT_VERSION  recorded in the output's first line (default v0.24.0).
#
# bench/buildkit-checks/main.go (ours) is compiled inside that tree as the
# package cmd/layercake-bkchecks through `go build -overlay`, so BUILDKIT_SRC is
# only read. The build runs with -mod=vendor and GOPROXY=off. The corpus is
# $LAYERCAKE_CORPUS (default ../shared/corpus beside the repository root); its
# files are linted from its dockerfiles/ directory and named relative to it.
set -euo pipefail

repo_root="$(git -C "$(dirname "${BASH_SOURCE[0]}")" rev-parse --show-toplevel)"
corpus_root="${LAYERCAKE_CORPUS:-$repo_root/../shared/corpus}"
out="$(realpath -m "${1:-/tmp/buildkit-checks.jsonl}")"
: "${BUILDKIT_SRC:?set BUILDKIT_SRC to BuildKit v0.24.0 source (see this script's header)}"
: "${GO:?set GO to a Go 1.23 binary, e.g. /usr/lib/go-1.23/bin/go (see this script's header)}"
buildkit_version="${BUILDKIT_VERSION:-v0.24.0}"
buildkit_src="$(realpath "$BUILDKIT_SRC")"

[[ -f "$corpus_root/expected.tsv" ]] || { echo "no corpus at $corpus_root (set LAYERCAKE_CORPUS)" >&2; exit 2; }
grep -q '^module github.com/moby/buildkit$' "$buildkit_src/go.mod" 2>/dev/null ||
    { echo "$buildkit_src is not BuildKit's source tree (no go.mod of github.com/moby/buildkit)" >&2; exit 2; }
[[ -d "$buildkit_src/vendor" ]] || { echo "$buildkit_src has no vendor/ directory (use tag v0.24.0)" >&2; exit 2; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
printf '{"Replace": {"%s": "%s"}}\n' \
    "$buildkit_src/cmd/layercake-bkchecks/main.go" "$repo_root/bench/buildkit-checks/main.go" \
    > "$work/overlay.json"

echo "building layercake-bkchecks against $buildkit_src ($("$GO" version))..." >&2
(cd "$buildkit_src" &&
    GOFLAGS=-mod=vendor GOPROXY=off GOTOOLCHAIN=local GOWORK=off \
        "$GO" build -mod=vendor -overlay "$work/overlay.json" \
        -o "$work/layercake-bkchecks" ./cmd/layercake-bkchecks)

# Every check of this BuildKit, from its rule set: the comparison lists those
# that found nothing too. Experimental ones run only where a file's
# `# check=experimental=…` asks; deprecated ones never run.
checks="$(awk '
    /= LinterRule\[/ { name = ""; experimental = "false"; deprecated = "false" }
    /^[[:space:]]*Name:/ { split($0, q, "\""); name = q[2] }
    /^[[:space:]]*Experimental:[[:space:]]*true/ { experimental = "true" }
    /^[[:space:]]*Deprecated:[[:space:]]*true/ { deprecated = "true" }
    /^\t}/ && name != "" {
        printf "%s{\"name\":\"%s\",\"experimental\":%s,\"deprecated\":%s}", sep, name, experimental, deprecated
        sep = ","; name = ""
    }' "$buildkit_src/frontend/dockerfile/linter/ruleset.go")"
[[ -n "$checks" ]] || { echo "found no checks in $buildkit_src/frontend/dockerfile/linter/ruleset.go" >&2; exit 2; }

cd "$corpus_root/dockerfiles"
awk -F'\t' '!/^#/ && !seen[$1]++ { print $1 }' "$corpus_root/expected.tsv" > "$work/files"
{
    printf '{"meta":{"buildkit":"%s","go":"%s","files":%d,"date":"%s","checks":[%s]}}\n' \
        "$buildkit_version" "$("$GO" env GOVERSION)" "$(wc -l < "$work/files")" "$(date -u +%F)" "$checks"
    tr '\n' '\0' < "$work/files" | xargs -0 "$work/layercake-bkchecks"
} > "$out.tmp"
mv "$out.tmp" "$out"
echo "wrote $out: $(($(wc -l < "$out") - 1)) lines" >&2
