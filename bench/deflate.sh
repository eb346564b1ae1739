#!/usr/bin/env bash
# What the compressed (gzip-6) figure costs a cold `layercake diff`: a pull
# request on a ~1 GB image, timed against the two plain `docker build
# --no-cache` runs it replaces, then rerun on unchanged refs.
#
#   bench/deflate.sh [RUNS] [LAYERCAKE...]    (default 3 runs; the layercake
#                                             binary: target/release/layercake)
#
# Several layercake binaries may be given (say, one built before a change and
# one after): each run times every one of them, interleaved, on the same images.
#
# Steps:
#
#   1. The stand-in base image layercake-bench/deflate-from:1 (made once, kept):
#      a static busybox and this machine's /usr/lib/x86_64-linux-gnu, imported
#      with `docker import` (one layer, ~0.7 GB of real shared libraries, about
#      as compressible as a distribution's), then this machine's
#      /usr/lib/llvm-14 (~0.36 GB) in a second layer. Real binaries, so that
#      deflate costs what it costs on a real base image. No registry needed.
#   2. Per run, a git repository with two commits: base, whose Dockerfile is
#      FROM that image, copies a fresh nonce (so no build step of the run is in
#      BuildKit's cache), an "app" (/usr/lib/python3.11, ~54 MB) and writes a
#      version file; head, which changes the version file and adds ~150 MB
#      (/usr/lib/gcc, ~120 MB, and 30 MB of random bytes). base and head share
#      the two base image layers and the nonce and app layers.
#   3. Timed, per run: the plain `DOCKER_BUILDKIT=1 docker build --no-cache` of
#      base and of head (their own nonce: the cold builds `layercake diff`
#      replaces); then for each layercake binary: a cold `layercake diff`
#      (a fresh nonce, a fresh image cache directory) and a rerun on the same
#      refs and cache. The diff's progress lines on stderr are stamped with
#      the time since its start, which splits its wall time into: before the
#      first build (git worktrees, lint), the builds (as the JSON report gives
#      them), base's read (from base's "built" to head's "building"), and what
#      follows head's build (head's read, the compressed sizes, removing the
#      images and worktrees). The compressed sizes are checked to be the same
#      in the cold run and the rerun.
#   4. A Markdown table of medians on stdout, with `uptime`'s load before each
#      run (other work on the machine slows every figure), and what reading
#      and measuring both images cost cold: base's read plus what follows
#      head's build, less the same in the rerun (which reads nothing: only
#      the clean-up is left). Logs and reports in $LAYERCAKE_BENCH_DIR/deflate.
#
# Environment: LAYERCAKE_BENCH_DIR (default /var/tmp/layercake-bench),
# LAYERCAKE_BENCH_DOCKER (default /usr/bin/docker). Needs root (the layer store
# is read as root, as `layercake diff` does when it can), busybox-static, jq.
set -euo pipefail

runs="${1:-3}"
shift || true
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
binaries=("$@")
if ((${#binaries[@]} == 0)); then
    cargo build --release --quiet -p layercake --manifest-path "$repo_root/Cargo.toml"
    binaries=("$repo_root/target/release/layercake")
fi
docker="${LAYERCAKE_BENCH_DOCKER:-/usr/bin/docker}"
bench_dir="${LAYERCAKE_BENCH_DIR:-/var/tmp/layercake-bench}/deflate"
from_image="layercake-bench/deflate-from:1"
logs="$bench_dir/logs"
mkdir -p "$logs"
die() { echo "deflate.sh: $*" >&2; exit 1; }
log() { echo "[$(date +%T)] $*" >&2; }
now() { date +%s.%N; }
seconds() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
export DOCKER_BUILDKIT=1

# --- 1. the stand-in base image -------------------------------------------------
if ! "$docker" image inspect "$from_image" >/dev/null 2>&1; then
    log "making $from_image..."
    busybox="$(command -v busybox)" || die "needs busybox (apt-get install busybox-static)"
    rootfs="$bench_dir/rootfs"
    rm -rf "$rootfs" "$bench_dir/from"
    mkdir -p "$rootfs/bin" "$rootfs/usr/lib" "$rootfs/etc" "$rootfs/tmp" "$rootfs/root"
    cp "$busybox" "$rootfs/bin/busybox"
    for applet in sh ls cat echo head mkdir rm cp mv true; do ln -s busybox "$rootfs/bin/$applet"; done
    echo 'root:x:0:0:root:/root:/bin/sh' >"$rootfs/etc/passwd"
    cp -a /usr/lib/x86_64-linux-gnu "$rootfs/usr/lib/"
    tar --numeric-owner -C "$rootfs" -cf "$bench_dir/rootfs.tar" .
    rm -rf "$rootfs"
    "$docker" import "$bench_dir/rootfs.tar" layercake-bench/deflate-import:1 >/dev/null
    rm -f "$bench_dir/rootfs.tar"
    mkdir -p "$bench_dir/from"
    cp -a /usr/lib/llvm-14 "$bench_dir/from/llvm-14"
    printf 'FROM layercake-bench/deflate-import:1\nCOPY llvm-14 /usr/lib/llvm-14\n' >"$bench_dir/from/Dockerfile"
    "$docker" build -q -t "$from_image" "$bench_dir/from" >/dev/null
    rm -rf "$bench_dir/from"
fi

# --- 2. the project -------------------------------------------------------------------
# make_project DIR NONCE: base's tree in DIR/base, head's in DIR/head.
make_project() {
    local dir="$1" nonce="$2"
    rm -rf "$dir"
    mkdir -p "$dir/base" "$dir/head"
    echo "$nonce" >"$dir/base/nonce"
    cp -a /usr/lib/python3.11 "$dir/base/app"
    cat >"$dir/base/Dockerfile" <<EOF
FROM $from_image
COPY nonce /nonce
COPY app /app
RUN echo 1 > /app/VERSION
EOF
    cp -a "$dir/base/." "$dir/head/"
    cp -a /usr/lib/gcc "$dir/head/gcc"
    cat >"$dir/head/Dockerfile" <<EOF
FROM $from_image
COPY nonce /nonce
COPY app /app
RUN echo 2 > /app/VERSION
COPY gcc /usr/lib/gcc
RUN head -c 30000000 /dev/urandom > /app/model.bin
EOF
}

# make_repo DIR NONCE: a git repository whose `base` and `head` branches hold the project.
make_repo() {
    local dir="$1" nonce="$2"
    make_project "$dir.trees" "$nonce"
    rm -rf "$dir"
    mkdir -p "$dir"
    git -C "$dir" init -q -b base
    cp -a "$dir.trees/base/." "$dir/"
    git -C "$dir" add -A
    git -C "$dir" -c user.name=bench -c user.email=bench@example.com commit -qm base
    git -C "$dir" checkout -qb head
    rm -rf "${dir:?}"/*
    cp -a "$dir.trees/head/." "$dir/"
    git -C "$dir" add -A
    git -C "$dir" -c user.name=bench -c user.email=bench@example.com commit -qm head
    rm -rf "$dir.trees"
}

# --- 3. the timed runs ------------------------------------------------------------------
# timed_diff NAME BINARY REPO CACHE: runs `diff`, stamping each progress line on
# stderr with the seconds since the start; sets figures[NAME] (wall) and the
# phases read from the progress lines: until the base build starts (git,
# lint), base's read (from "base … built" to "building head"), and what follows
# head's build (head's read, the compressed sizes, removing the images).
timed_diff() {
    local name="$1" binary="$2" repo="$3" cache="$4" start end status=0
    start="$(now)"
    { "$binary" diff --repo "$repo" --base base --head head --image-cache "$cache" --no-probe \
        --format json >"$logs/$name.json" 2> >(while IFS= read -r line; do
            printf '%s %s\n' "$(seconds "$start" "$(now)")" "$line"; done >"$logs/$name.err"); } \
        || status=$?
    end="$(now)"
    sleep 0.2 # the stamping loop finishes writing
    [[ $status == 0 || $status == 1 ]] || die "layercake diff failed ($status); see $logs/$name.err"
    figures[$name]="$(seconds "$start" "$end")"
    local at_base_start at_base_built at_head_start at_head_built
    at_base_start="$(awk '/building base / { print $1; exit }' "$logs/$name.err")"
    at_base_built="$(awk '/ base .*: built in / { print $1; exit }' "$logs/$name.err")"
    at_head_start="$(awk '/building head / { print $1; exit }' "$logs/$name.err")"
    at_head_built="$(awk '/ head .*: built in / { print $1; exit }' "$logs/$name.err")"
    figures[$name-setup]="$at_base_start"
    figures[$name-base-read]="$(seconds "$at_base_built" "$at_head_start")"
    figures[$name-after-head]="$(seconds "$at_head_built" "${figures[$name]}")"
    figures[$name-measure]="$(awk -v a="${figures[$name-base-read]}" -v b="${figures[$name-after-head]}" 'BEGIN { printf "%.2f", a + b }')"
    figures[$name-builds]="$(jq '[.images[] | (.base.build.duration_seconds, .head.build.duration_seconds)] | add' "$logs/$name.json")"
}

declare -A figures
for run in $(seq "$runs"); do
    load="$(uptime | sed 's/.*load average: //')"
    figures[load-$run]="$load"
    log "run $run of $runs (load $load): plain docker build --no-cache of base and head..."
    make_project "$bench_dir/plain" "plain-$run-$(now)"
    start="$(now)"
    "$docker" build --no-cache -q -t layercake-bench/deflate-plain:base "$bench_dir/plain/base" >/dev/null
    middle="$(now)"
    "$docker" build --no-cache -q -t layercake-bench/deflate-plain:head "$bench_dir/plain/head" >/dev/null
    end="$(now)"
    figures[plain-base-$run]="$(seconds "$start" "$middle")"
    figures[plain-head-$run]="$(seconds "$middle" "$end")"
    figures[plain-$run]="$(seconds "$start" "$end")"
    "$docker" image rm layercake-bench/deflate-plain:base layercake-bench/deflate-plain:head >/dev/null
    for i in "${!binaries[@]}"; do
        repo="$bench_dir/repo-$i"
        cache="$bench_dir/cache-$i"
        make_repo "$repo" "diff-$i-$run-$(now)"
        rm -rf "$cache"
        log "run $run: ${binaries[$i]} diff, cold..."
        timed_diff "cold-$i-$run" "${binaries[$i]}" "$repo" "$cache"
        log "run $run: ${binaries[$i]} diff, rerun on the same refs..."
        timed_diff "warm-$i-$run" "${binaries[$i]}" "$repo" "$cache"
        sizes() { jq -S '.images[] | {base, head, delta_bytes, compressed_delta_bytes} | del(.base.build, .head.build)' "$1"; }
        cmp -s <(sizes "$logs/cold-$i-$run.json") <(sizes "$logs/warm-$i-$run.json") \
            || log "warning: the rerun's sizes differ from the cold run's ($logs/{cold,warm}-$i-$run.json)"
        figures[sizes-$i]="$(jq -r '.images[0] | "base \(.base.compressed_bytes), head \(.head.compressed_bytes), change \(.compressed_delta_bytes)"' "$logs/cold-$i-$run.json")"
    done
done

# --- 4. the figures ------------------------------------------------------------------------
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
column() { local key="$1" run values=(); for run in $(seq "$runs"); do values+=("${figures[$key-$run]}"); done; echo "${values[*]}"; }
# phase KIND I PHASE: the runs' values of one phase.
phase() { local run values=(); for run in $(seq "$runs"); do values+=("${figures[$1-$2-$run-$3]}"); done; echo "${values[*]}"; }
loads=()
for run in $(seq "$runs"); do loads+=("${figures[load-$run]}"); done
plain="$(median $(column plain))"
echo "Measured $(date -u +%Y-%m-%d) at commit \`$(git -C "$repo_root" rev-parse --short HEAD)\`; $(nproc) cores; docker $("$docker" version --format '{{.Server.Version}}'); $runs runs; load averages (1, 5, 15 min) before each run: $(printf '%s; ' "${loads[@]}")"
echo
echo "| command | median wall | each run | builds | base's read | after head's build (head's read, compressed sizes, clean-up) | before the first build (git, lint) | ÷ plain builds |"
echo "|---|---|---|---|---|---|---|---|"
echo "| plain \`docker build --no-cache\` of base, then head | $plain s | $(column plain) s | base $(median $(column plain-base)) s, head $(median $(column plain-head)) s | | | | 1.00 |"
for i in "${!binaries[@]}"; do
    for kind in cold warm; do
        wall="$(median $(column $kind-$i))"
        ratio="$(awk -v a="$wall" -v b="$plain" 'BEGIN { printf "%.2f", a / b }')"
        what="cold"
        [[ $kind == warm ]] && what="rerun on the same refs"
        echo "| \`$(basename "${binaries[$i]}") diff\`, $what | $wall s | $(column $kind-$i) s | $(median $(phase $kind $i builds)) s | $(median $(phase $kind $i base-read)) s | $(median $(phase $kind $i after-head)) s | $(median $(phase $kind $i setup)) s | $ratio |"
    done
done
echo
for i in "${!binaries[@]}"; do
    measure=()
    for run in $(seq "$runs"); do
        measure+=("$(awk -v a="${figures[cold-$i-$run-measure]}" -v b="${figures[warm-$i-$run-after-head]}" 'BEGIN { printf "%.2f", a - b }')")
    done
    echo "- \`$(basename "${binaries[$i]}")\`: reading and measuring both images, cold: $(median "${measure[@]}") s (each run: ${measure[*]} s); compressed sizes (last cold run): ${figures[sizes-$i]}"
done
