#!/usr/bin/env bash
# Installs the layercake binary for the GitHub Action (action.yml).
#
#   LAYERCAKE_VERSION   a release (`0.1.0`) or `source` (build this checkout with cargo)
#   LAYERCAKE_DOWNLOAD_BASE  where releases live (default: the project's GitHub releases)
#   LAYERCAKE_CHECKSUMS      the pinned checksums (default: scripts/checksums.txt beside this script)
#   RUNNER_OS, RUNNER_ARCH, RUNNER_TEMP, GITHUB_PATH: set by the runner
#
# A release is downloaded as layercake-<version>-<target>.tar.gz and installed
# only if its SHA-256 is the one pinned in the checksums file for that exact
# name; anything else stops the job. Inputs arrive as environment variables
# and are never interpolated into this script.
set -euo pipefail

version=${LAYERCAKE_VERSION:?LAYERCAKE_VERSION is not set}
here=$(cd "$(dirname "$0")" && pwd)
dest="${RUNNER_TEMP:-/tmp}/layercake/bin"
mkdir -p "$dest"

if [ "$version" = "source" ]; then
  cargo build --release --locked -p layercake --manifest-path "$here/../Cargo.toml"
  cp "$here/../target/release/layercake" "$dest/layercake"
else
  case "$version" in
    *[!0-9A-Za-z.+-]*|"") echo "layercake: invalid version '$version'" >&2; exit 1 ;;
  esac
  case "${RUNNER_OS:-Linux}/${RUNNER_ARCH:-X64}" in
    Linux/X64) target=x86_64-unknown-linux-musl ;;
    Linux/ARM64) target=aarch64-unknown-linux-musl ;;
    macOS/X64) target=x86_64-apple-darwin ;;
    macOS/ARM64) target=aarch64-apple-darwin ;;
    *) echo "layercake: no release for ${RUNNER_OS:-?}/${RUNNER_ARCH:-?}" >&2; exit 1 ;;
  esac
  name="layercake-$version-$target.tar.gz"
  checksums=${LAYERCAKE_CHECKSUMS:-$here/checksums.txt}
  expected=$(awk -v n="$name" '$2 == n { print $1 }' "$checksums" | head -n 1)
  if [ -z "$expected" ]; then
    echo "layercake: no checksum is pinned for $name in $checksums; refusing to install an unverified binary" >&2
    exit 1
  fi
  base=${LAYERCAKE_DOWNLOAD_BASE:-https://github.com/layercake-dev/layercake/releases/download}
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  curl --fail --silent --show-error --location --retry 3 --output "$work/$name" "$base/v$version/$name"
  if command -v sha256sum >/dev/null; then
    actual=$(sha256sum "$work/$name" | awk '{ print $1 }')
  else
    actual=$(shasum -a 256 "$work/$name" | awk '{ print $1 }')
  fi
  if [ "$actual" != "$expected" ]; then
    echo "layercake: checksum mismatch for $name: expected $expected, got $actual" >&2
    exit 1
  fi
  tar -xzf "$work/$name" -C "$work"
  install -m 0755 "$work/layercake" "$dest/layercake"
fi

if [ -n "${GITHUB_PATH:-}" ]; then
  echo "$dest" >> "$GITHUB_PATH"
fi
"$dest/layercake" --version
