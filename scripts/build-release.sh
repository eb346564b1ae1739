#!/usr/bin/env bash
# Builds one release archive of layercake and its checksum line: the one
# recipe the release workflow (.github/workflows/release.yml) runs per target,
# and the install test runs on this machine.
#
#   scripts/build-release.sh [--target TRIPLE] [--version VERSION] [--out DIR] [--binary PATH]
#
#   --target   the Rust target triple (default: the host's, from `rustc -vV`)
#   --version  the version the archive must carry (default: the binary's own);
#              the workflow passes the tag, so a tag that disagrees with
#              Cargo.toml stops the release
#   --out      where the archive goes (default: dist/)
#   --binary   pack this already-built binary instead of running cargo (the
#              install test packs the test build; it must run on this machine)
#
# Writes DIR/layercake-<version>-<target>.tar.gz (the binary `layercake` and
# README.md, owners and times zeroed, so the same binary packs to the same
# bytes) and DIR/layercake-<version>-<target>.tar.gz.sha256, one line
# `<sha256>  <name>`: the format of scripts/checksums.txt and SHA256SUMS.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
target=""
version=""
out="dist"
binary=""
while [ $# -gt 0 ]; do
  case "$1" in
    --target) target=${2:?--target needs a triple}; shift 2 ;;
    --version) version=${2:?--version needs a version}; shift 2 ;;
    --out) out=${2:?--out needs a directory}; shift 2 ;;
    --binary) binary=${2:?--binary needs a path}; shift 2 ;;
    *) echo "build-release: unknown argument '$1'" >&2; exit 2 ;;
  esac
done

if [ -z "$target" ]; then
  target=$(rustc -vV | awk '/^host: / { print $2 }')
fi
if [ -z "$binary" ]; then
  target_dir=${CARGO_TARGET_DIR:-$root/target}
  cargo build --release --locked -p layercake --target "$target" --manifest-path "$root/Cargo.toml"
  binary="$target_dir/$target/release/layercake"
fi
if [ ! -x "$binary" ]; then
  echo "build-release: no executable at $binary" >&2
  exit 1
fi

# The binary says its own version (`layercake 0.1.0`); the archive is named
# after it, so an archive can never claim a version its binary does not have.
own_version=$("$binary" --version | awk '{ print $2 }')
if [ -z "$version" ]; then
  version=$own_version
elif [ "$version" != "$own_version" ]; then
  echo "build-release: asked for version $version, but the binary is $own_version (Cargo.toml's version)" >&2
  exit 1
fi

name="layercake-$version-$target.tar.gz"
mkdir -p "$out"
out=$(cd "$out" && pwd)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp "$binary" "$stage/layercake"
chmod 0755 "$stage/layercake"
cp "$root/README.md" "$stage/README.md"
chmod 0644 "$stage/README.md"
# The commit's time, not now, so a rebuild of the same commit is identical.
epoch=${SOURCE_DATE_EPOCH:-$(git -C "$root" log -1 --format=%ct 2>/dev/null || echo 0)}
if tar --version 2>/dev/null | grep -q 'GNU tar'; then
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" \
    -cf - -C "$stage" layercake README.md
else
  # bsdtar (macOS): no --sort or --mtime; the names are given in order.
  TZ=UTC touch -t "$(date -u -r "$epoch" +%Y%m%d%H%M.%S 2>/dev/null || echo 197001010000)" \
    "$stage/layercake" "$stage/README.md"
  tar --uid 0 --gid 0 --uname root --gname root -cf - -C "$stage" layercake README.md
fi | gzip -n > "$out/$name"

if command -v sha256sum >/dev/null; then
  sum=$(sha256sum "$out/$name" | awk '{ print $1 }')
else
  sum=$(shasum -a 256 "$out/$name" | awk '{ print $1 }')
fi
echo "$sum  $name" > "$out/$name.sha256"
echo "$out/$name"
echo "$sum  $name"
