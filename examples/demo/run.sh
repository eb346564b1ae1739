#!/usr/bin/env bash
# The README's first command: builds layercake, creates the demo repository
# in a temporary directory, and runs `layercake diff --base main` on it —
# building base and head with BuildKit when a Docker Engine is running,
# lint-only (and saying why) when none is. No network, no GitHub account.
# Exits as layercake does: 1, because the demo pull request has findings.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../.."
cargo build --release --quiet -p layercake
layercake=$PWD/target/release/layercake
repo=$(mktemp -d "${TMPDIR:-/tmp}/layercake-demo.XXXXXX")
trap 'rm -rf "$repo"' EXIT
bash "$here/make-repo.sh" "$repo"

# Prefer a docker CLI that can use BuildKit; layercake checks this too.
docker=""
for candidate in ${LAYERCAKE_DOCKER:-} $(type -ap docker) /usr/bin/docker; do
  if [ -x "$candidate" ] && "$candidate" version >/dev/null 2>&1; then docker=$candidate; break; fi
done
extra=()
if [ -n "$docker" ]; then
  if ! bash "$here/base-image.sh" "$docker"; then
    echo "layercake demo: cannot make the base image, so this report is lint-only" >&2
    extra+=(--no-build)
  fi
fi
"$layercake" diff --base main --repo "$repo" "${extra[@]}" "$@"
