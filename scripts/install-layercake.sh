#!/usr/bin/env bash
# Installs the layercake binary for the GitHub Action (action.yml).
#
#   LAYERCAKE_VERSION        a release (`0.1.0`, `0.2.0-rc.1`) or `source` (build this checkout with cargo)
#   LAYERCAKE_DOWNLOAD_BASE  where releases live: the archive is fetched from
#                            <base>/v<version>/<archive> (default: the project's GitHub releases;
#                            the install test serves a local directory over HTTP)
#   LAYERCAKE_CHECKSUMS      the pinned checksums (default: scripts/checksums.txt beside this script)
#   LAYERCAKE_SOURCE_CACHED  `true` when action.yml restored a binary built from this very
#                            source (its actions/cache key); `source` then skips cargo
#   RUNNER_OS, RUNNER_ARCH, RUNNER_TEMP, GITHUB_PATH: set by the runner
#
# A release is downloaded as layercake-<version>-<target>.tar.gz (the name
# scripts/build-release.sh gives it) and installed only if its SHA-256 is the
# one pinned in the checksums file for that exact name; anything else stops
# the job. Inputs arrive as environment variables and are never interpolated
# into this script.
set -euo pipefail

version=${LAYERCAKE_VERSION:?LAYERCAKE_VERSION is not set}
here=$(cd "$(dirname "$0")" && pwd)
dest="${RUNNER_TEMP:-/tmp}/layercake/bin"
mkdir -p "$dest"

sha256_of() {
  if command -v sha256sum >/dev/null; then
    sha256sum "$1" | awk '{ print $1 }'
  else
    shasum -a 256 "$1" | awk '{ print $1 }'
  fi
}

if [ "$version" = "source" ]; then
  if [ "${LAYERCAKE_SOURCE_CACHED:-}" = "true" ] && [ -x "$dest/layercake" ]; then
    echo "layercake: using the binary cached for this source (no build)"
  else
    target_dir=${CARGO_TARGET_DIR:-$here/../target}
    CARGO_TARGET_DIR=$target_dir cargo build --release --locked -p layercake --manifest-path "$here/../Cargo.toml"
    cp "$target_dir/release/layercake" "$dest/layercake"
  fi
else
  # A release version as the release workflow tags it (v<version>): numbers,
  # optionally a pre-release suffix. Anything else (`v0.1.0`, `latest`, a
  # path) is a mistake in the workflow, and would otherwise become part of a URL.
  if ! [[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z]+(\.[0-9A-Za-z]+)*)?$ ]]; then
    echo "layercake: '$version' is not a release version: write it as 1.2.3 (no leading v), or 'source' to build from source" >&2
    exit 1
  fi
  case "${RUNNER_OS:-Linux}/${RUNNER_ARCH:-X64}" in
    Linux/X64) target=x86_64-unknown-linux-musl ;;
    Linux/ARM64) target=aarch64-unknown-linux-musl ;;
    macOS/ARM64) target=aarch64-apple-darwin ;;
    *) echo "layercake: no release binary for ${RUNNER_OS:-?}/${RUNNER_ARCH:-?}; use version: source" >&2; exit 1 ;;
  esac
  name="layercake-$version-$target.tar.gz"
  checksums=${LAYERCAKE_CHECKSUMS:-$here/checksums.txt}
  if [ ! -r "$checksums" ]; then
    echo "layercake: the checksums file $checksums cannot be read; refusing to install an unverified binary" >&2
    exit 1
  fi
  expected=$(awk -v n="$name" '$2 == n { print $1; exit }' "$checksums")
  if [ -z "$expected" ]; then
    echo "layercake: no checksum is pinned for $name in $checksums; refusing to install an unverified binary" >&2
    exit 1
  fi
  base=${LAYERCAKE_DOWNLOAD_BASE:-https://github.com/layercake-dev/layercake/releases/download}
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  url="$base/v$version/$name"
  if ! curl --fail --silent --show-error --location --retry 3 --output "$work/$name" "$url"; then
    echo "layercake: could not download $url" >&2
    exit 1
  fi
  actual=$(sha256_of "$work/$name")
  if [ "$actual" != "$expected" ]; then
    echo "layercake: checksum mismatch for $name: expected $expected, got $actual; refusing to install it" >&2
    exit 1
  fi
  tar -xzf "$work/$name" -C "$work" layercake
  reported=$("$work/layercake" --version)
  if [ "$reported" != "layercake $version" ]; then
    echo "layercake: $name holds '$reported', not layercake $version" >&2
    exit 1
  fi
  install -m 0755 "$work/layercake" "$dest/layercake"
fi

if [ -n "${GITHUB_PATH:-}" ]; then
  echo "$dest" >> "$GITHUB_PATH"
fi
"$dest/layercake" --version
