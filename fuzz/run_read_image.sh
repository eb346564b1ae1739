#!/usr/bin/env bash
# Fuzzes `read_image`: arbitrary bytes as an image archive and as a layer's
# tar-split metadata (layercake_fuzz::check_read_image).
#
#   fuzz/run_read_image.sh [SECONDS] [extra libFuzzer flags...]   (default: 600 seconds)
#
# Seeds: a `docker save` archive of a tiny image made with `docker import`, and
# the tar-split metadata of the smallest layers in the local engine's layer
# store (decompressed, as the target reads its input), when docker and the
# store are there. Needs the nightly toolchain and cargo-fuzz. One worker, one
# core. Crashes land in fuzz/artifacts/read_image/; the corpus in
# fuzz/corpus/read_image/ (both gitignored).
set -euo pipefail

seconds="${1:-600}"
shift || true

fuzz_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(git -C "$fuzz_dir" rev-parse --show-toplevel)"
corpus="$fuzz_dir/corpus/read_image"
docker="${LAYERCAKE_DOCKER:-/usr/bin/docker}"
mkdir -p "$corpus"

if "$docker" version >/dev/null 2>&1; then
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' EXIT
    mkdir -p "$work/root/etc" "$work/root/var/lib/dpkg"
    echo 'root:x:0:0:root:/root:/bin/sh' >"$work/root/etc/passwd"
    printf 'Package: gcc-12\nStatus: install ok installed\nInstalled-Size: 10\n\n' \
        >"$work/root/var/lib/dpkg/status"
    tar -C "$work/root" -cf "$work/root.tar" .
    "$docker" import "$work/root.tar" layercake-fuzz/seed:1 >/dev/null
    "$docker" save layercake-fuzz/seed:1 >"$corpus/seed-docker-save.tar"
    "$docker" image rm layercake-fuzz/seed:1 >/dev/null
    root="$("$docker" info --format '{{.DockerRootDir}}')"
    if [[ -r "$root/image/overlay2/layerdb/sha256" ]]; then
        seeded=0
        while IFS= read -r -d '' file && ((seeded < 20)); do
            zcat "$file" >"$corpus/seed-tar-split-$(sha1sum "$file" | cut -c1-16).json"
            seeded=$((seeded + 1))
        done < <(find "$root/image/overlay2/layerdb/sha256" -name tar-split.json.gz -size -8k -print0)
    fi
else
    echo "warning: no docker; fuzzing read_image from scratch" >&2
fi

cd "$repo_root"
exec cargo +nightly fuzz run --fuzz-dir "$fuzz_dir" read_image "$corpus" -- \
    -max_total_time="$seconds" \
    -print_final_stats=1 \
    "$@"
