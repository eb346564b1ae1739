#!/usr/bin/env bash
# The issue-10 review benchmark: on a project made by bench/project.sh, times in
# one session the builds a pull request's CI runs today against the review that
# replaces them, and keeps what the review says.
#
#   bench/review.sh PROJECT [RUNS]      PROJECT: express, vote, httpbin or all;
#                                       RUNS (default 1) repeats the sequence
#
# For each project and run, in this order:
#
#   1. plain: `docker builder prune -af`, then `DOCKER_BUILDKIT=1
#      /usr/bin/docker build --no-cache` of the checkout at `main`, then at
#      `pr` (the work tree, as CI builds it; the images are removed
#      afterwards). Reported: each wall time and their sum. The prune makes
#      the plain builds start as cold as the review does (a fresh CI runner).
#   2. cold: `docker builder prune -af`, then `layercake diff --base main`
#      (head: `pr`) with a fresh, empty `--image-cache` directory. "Cold"
#      clears BuildKit's whole build cache (every cached step, cache mounts
#      included: the engine is shared, so this is every user's cache) and
#      layercake's image analyses. It does not clear the stand-in base images
#      (bench/standins.sh; they stay tagged and unpacked in the engine), the
#      kernel's page cache, or anything the registries' mirrors cache.
#   3. rerun: the same `layercake diff --base main` again on the unchanged
#      refs, with BuildKit's cache and the image cache from step 2.
#
# Both layercake runs use the release build (`cargo build --release -p
# layercake`), `--docker /usr/bin/docker`, and write the JSON report beside
# their output: the cold run prints text, the rerun Markdown. They are kept in
# $LAYERCAKE_BENCH_NOTES (default /work/notes) as bench-PROJECT-cold.txt,
# bench-PROJECT-cold.json, bench-PROJECT-rerun.md, bench-PROJECT-rerun.json
# (the last run's), with layercake's stderr in the logs directory.
#
# Prints a Markdown table (one row per project and run: the wall times, the
# cold review's own build time from its JSON report, and how many Dockerfile
# steps the rerun's builds executed rather than took from the cache) and
# `uptime` before each project: the machine is shared, so the load is part of
# the figures.
#
# Environment: LAYERCAKE_BENCH_DIR (default /var/tmp/layercake-bench; logs in
# its logs/), LAYERCAKE_BENCH_DOCKER (default /usr/bin/docker),
# LAYERCAKE_BENCH_NOTES (see above).
#
# Needs: the stand-ins (bench/standins.sh), cargo, git, root (as docker).
set -euo pipefail

project_arg="${1:-}"
runs="${2:-1}"
bench_dir="${LAYERCAKE_BENCH_DIR:-/var/tmp/layercake-bench}"
docker="${LAYERCAKE_BENCH_DOCKER:-/usr/bin/docker}"
notes="${LAYERCAKE_BENCH_NOTES:-/work/notes}"
repo_root="$(git -C "$(dirname "${BASH_SOURCE[0]}")" rev-parse --show-toplevel)"
layercake="${CARGO_TARGET_DIR:-$repo_root/target}/release/layercake"

die() { echo "review.sh: $*" >&2; exit 2; }
log() { echo "[$(date +%T)] $*" >&2; }

case "$project_arg" in
    all) projects=(express vote httpbin) ;;
    express | vote | httpbin) projects=("$project_arg") ;;
    *) die "usage: bench/review.sh express|vote|httpbin|all [RUNS]" ;;
esac
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive number, not '$runs'"
"$docker" version >/dev/null || die "$docker cannot reach a docker daemon"
base_images_of() {
    case "$1" in
        express) echo node:22 node:22-slim ;;
        vote) echo python:3.9-slim python:3.11-slim ;;
        httpbin) echo golang:1.23 gcr.io/distroless/base gcr.io/distroless/static:nonroot ;;
    esac
}
for project in "${projects[@]}"; do
    for image in $(base_images_of "$project"); do
        "$docker" image inspect "$image" >/dev/null 2>&1 \
            || die "no $image: run bench/standins.sh first"
    done
done

log "building layercake (release)..."
cargo build --release --quiet -p layercake --manifest-path "$repo_root/Cargo.toml"
mkdir -p "$bench_dir/logs" "$notes"
logs="$bench_dir/logs"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

now() { date +%s.%N; }
seconds() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

# plain_build PROJECT REPO SIDE: prints the wall time of the plain build of SIDE.
plain_build() {
    local project="$1" repo="$2" side="$3" tag="layercake-bench/review-$1:$3" start end
    git -C "$repo" checkout -q "$side"
    start="$(now)"
    DOCKER_BUILDKIT=1 "$docker" build --no-cache --progress=plain -t "$tag" "$repo" \
        >"$logs/review-$project-plain-$side.log" 2>&1 \
        || die "plain build of $project at $side failed; see $logs/review-$project-plain-$side.log"
    end="$(now)"
    "$docker" image rm "$tag" >/dev/null
    seconds "$start" "$end"
}

# review NAME REPO CACHE FORMAT: runs layercake diff; prints "seconds exit".
review() {
    local name="$1" repo="$2" cache="$3" format="$4" start end status=0 extension
    case "$format" in text) extension=txt ;; markdown) extension=md ;; esac
    start="$(now)"
    "$layercake" diff --repo "$repo" --base main --head pr --docker "$docker" \
        --image-cache "$cache" --format "$format" --report "$work/$name.json" \
        >"$work/$name.$extension" 2>"$logs/review-$name.log" || status=$?
    end="$(now)"
    cp "$work/$name.$extension" "$notes/bench-$name.$extension"
    cp "$work/$name.json" "$notes/bench-$name.json" 2>/dev/null || true
    echo "$(seconds "$start" "$end") $status"
}

# build_facts REPORT seconds|steps: from a JSON report, the two builds' summed
# duration, or the Dockerfile steps they executed (not cached), as "base + head".
build_facts() {
    python3 - "$1" "$2" <<'PY'
import json, sys
report, what = sys.argv[1], sys.argv[2]
try:
    builds = [json.load(open(report))["images"][0][side].get("build") or {} for side in ("base", "head")]
except (OSError, ValueError, KeyError, IndexError):
    print("?")
    sys.exit()
if what == "seconds":
    total = sum(b.get("duration_seconds", 0) for b in builds)
    print(f"{total:.1f}")
else:
    print(" + ".join(str(b.get("executed_steps", "?")) for b in builds))
PY
}

rows=()
for project in "${projects[@]}"; do
    echo "uptime before $project: $(uptime)"
    for run in $(seq "$runs"); do
        repo="$work/$project-$run"
        "$repo_root/bench/project.sh" "$project" "$repo"
        log "$project run $run: plain builds..."
        # Both the plain builds and the review start from an empty BuildKit
        # cache, as on a fresh CI runner.
        "$docker" builder prune -af >/dev/null
        plain_base="$(plain_build "$project" "$repo" main)"
        plain_head="$(plain_build "$project" "$repo" pr)"
        git -C "$repo" checkout -q pr
        plain_sum="$(awk -v a="$plain_base" -v b="$plain_head" 'BEGIN { printf "%.1f", a + b }')"

        log "$project run $run: cold review..."
        "$docker" builder prune -af >/dev/null
        cache="$work/$project-$run-image-cache"
        mkdir "$cache"
        read -r cold cold_status <<<"$(review "$project-cold" "$repo" "$cache" text)"
        log "$project run $run: rerun..."
        read -r rerun rerun_status <<<"$(review "$project-rerun" "$repo" "$cache" markdown)"
        cold_builds="$(build_facts "$work/$project-cold.json" seconds)"
        rerun_steps="$(build_facts "$work/$project-rerun.json" steps)"
        ratio="$(awk -v a="$cold" -v b="$plain_sum" 'BEGIN { printf "%.2f", a / b }')"
        rows+=("| $project | $run | $plain_base s | $plain_head s | $plain_sum s | $cold s (exit $cold_status) | $cold_builds s | ${ratio}× | $rerun s (exit $rerun_status) | $rerun_steps |")
    done
done
echo "uptime after: $(uptime)"
echo
echo "Measured $(date -u +%Y-%m-%d) at commit \`$(git -C "$repo_root" rev-parse --short HEAD)\`$(git -C "$repo_root" diff --quiet HEAD 2>/dev/null || echo " (working tree has uncommitted changes)"); $(nproc) cores; docker $("$docker" version --format '{{.Server.Version}}')."
echo
echo "| project | run | plain build, main | plain build, pr | plain, sum | layercake diff, cold | of which builds (base + head) | cold ÷ plain (target ≤ 1.2×) | rerun, unchanged refs (target < 2 s) | rerun: steps run, base + head |"
echo "|---|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
