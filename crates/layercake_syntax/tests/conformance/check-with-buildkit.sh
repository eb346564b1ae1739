#!/usr/bin/env bash
# Checks expected.tsv beside this script against a real Docker Engine: for every
# case in dockerfiles/, the verdict (OK, or ERROR with BuildKit's message) and
# the instruction count must be what the engine's parser makes of the file.
#
#   crates/layercake_syntax/tests/conformance/check-with-buildkit.sh
#
# Needs a running Docker Engine with BuildKit and a static busybox (/bin/busybox,
# Debian's busybox-static); no registry: the cases build FROM
# layercake-conformance-base, which this script makes with `docker import`.
# DOCKER picks the client (default /usr/bin/docker when it exists: a client that
# drives BuildKit with DOCKER_BUILDKIT=1).
#
# How the engine is asked, per case (a copy of its directory is the context):
#
# 1. BuildKit (DOCKER_BUILDKIT=1 docker build): the build succeeds, or fails
#    with "failed to create LLB definition: MESSAGE". BuildKit's frontend runs
#    the parser, then turns the tree into instructions, then builds, and reports
#    failures of all three the same way, so its message alone cannot say which
#    step refused the file.
# 2. The engine's other builder (DOCKER_BUILDKIT=0) runs the same parser package
#    (BuildKit's frontend/dockerfile/parser, compiled into the same dockerd) and
#    reports a parser failure as "failed to parse Dockerfile: MESSAGE", anything
#    later without that prefix; before running step 1 it prints "Step 1/N",
#    N being the number of instructions the parser found.
#
# Verdict ERROR: BuildKit fails with exactly expected.tsv's message, and the
# parser is what refused it. Verdict OK: BuildKit builds the file, or refuses it
# after parsing (an unknown instruction, no FROM); the count is then checked
# when the engine gets as far as "Step 1/N".
#
# Heredocs need BuildKit's Dockerfile frontend 1.4 or later (Docker Engine 23+);
# Engine 20.10 embeds an older frontend, which reads `RUN <<EOF` as a plain
# command. The script asks the engine whether it knows heredocs; when it does
# not, the cases with heredocs (a `<<` in the file) are listed as not checked
# here, and their rows rest on the corpus, which was made with BuildKit's parser
# at a version with heredocs (docs/parser.md).
#
# Exit 0 when every checked case agrees; 1 when any disagrees.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
if [ -z "${DOCKER:-}" ]; then
  if [ -x /usr/bin/docker ]; then DOCKER=/usr/bin/docker; else DOCKER=docker; fi
fi
base=layercake-conformance-base
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# The base image: a static busybox as /bin/sh and a few applets.
if ! "$DOCKER" image inspect "$base" >/dev/null 2>&1; then
  busybox="$(command -v busybox || true)"
  if [ -z "$busybox" ] || ldd "$busybox" >/dev/null 2>&1; then
    echo "check-with-buildkit: needs a static busybox (Debian: busybox-static)" >&2
    exit 2
  fi
  mkdir -p "$work/rootfs/bin" "$work/rootfs/tmp"
  cp "$busybox" "$work/rootfs/bin/busybox"
  for applet in sh echo cat true; do ln -s busybox "$work/rootfs/bin/$applet"; done
  tar -C "$work/rootfs" -c . | "$DOCKER" import -c 'ENV PATH=/bin' - "$base" >/dev/null
fi

# Builds directory $1 with BuildKit; prints OK, or the error after "failed to create LLB definition: ".
buildkit_result() {
  local out
  if out="$(DOCKER_BUILDKIT=1 "$DOCKER" build --progress=plain --no-cache --iidfile "$1.iid" "$1" 2>&1)"; then
    "$DOCKER" image rm -f "$(cat "$1.iid")" >/dev/null 2>&1 || true
    echo OK
  else
    printf '%s\n' "$out" | sed -n 's/.*failed to create LLB definition: //p' | tail -n 1
  fi
}

# Builds directory $1 with the engine's other builder, stopping at its first
# line: "count N", "parser MESSAGE" or "later MESSAGE".
classic_result() {
  local out
  # Without colour codes: warnings (empty continuation lines) come in red.
  out="$(DOCKER_BUILDKIT=0 "$DOCKER" build --no-cache --force-rm --iidfile "$1.classic.iid" "$1" 2>&1 | sed 's/\x1b\[[0-9;]*m//g' || true)"
  [ -s "$1.classic.iid" ] && "$DOCKER" image rm -f "$(cat "$1.classic.iid")" >/dev/null 2>&1
  local step parse_error
  step="$(printf '%s\n' "$out" | sed -n 's|^Step 1/\([0-9]*\) : .*|\1|p' | head -n 1)"
  parse_error="$(printf '%s\n' "$out" | sed -n 's/.*failed to parse Dockerfile: //p' | head -n 1)"
  if [ -n "$step" ]; then
    echo "count $step"
  elif [ -n "$parse_error" ]; then
    echo "parser $parse_error"
  else
    echo "later $(printf '%s\n' "$out" | grep -v '^Sending build context' | tail -n 1)"
  fi
}

# Does this engine's frontend know heredocs?
mkdir -p "$work/heredoc-probe"
printf 'FROM %s\nRUN <<EOF\ntrue\nEOF\n' "$base" >"$work/heredoc-probe/Dockerfile"
if [ "$(buildkit_result "$work/heredoc-probe")" = OK ]; then heredocs=yes; else heredocs=no; fi

agree=0 disagree=0 unchecked=0
while IFS=$'\t' read -r path verdict rest; do
  case "$path" in "#"*) continue ;; esac
  case "$verdict" in OK | ERROR) ;; *) continue ;; esac
  name="${path%/Dockerfile}"
  if [ "$heredocs" = no ] && grep -q '<<' "$here/dockerfiles/$path"; then
    echo "not checked  $name (heredocs; this engine's frontend predates them)"
    unchecked=$((unchecked + 1))
    continue
  fi
  ctx="$work/$name"
  cp -R "$here/dockerfiles/$name" "$ctx"
  bk="$(buildkit_result "$ctx")"
  classic="$(classic_result "$ctx")"
  problem=""
  if [ "$verdict" = ERROR ]; then
    if [ "$bk" != "$rest" ]; then
      problem="BuildKit: ${bk:-no message}; expected ERROR $rest"
    elif [ "$classic" != "parser $rest" ]; then
      problem="not refused by the parser ($classic)"
    fi
    seen="ERROR $bk"
  else
    case "$classic" in
      parser*) problem="the parser refuses it: ${classic#parser }" ;;
      "count $rest") ;;
      count*) problem="${classic#count } instructions, expected $rest" ;;
      later*) [ "$bk" != OK ] || problem="BuildKit builds it but the other builder fails: ${classic#later }" ;;
    esac
    case "$classic" in
      count*) seen="OK, ${classic#count } instructions" ;;
      *) seen="OK (refused after parsing: $bk)" ;;
    esac
  fi
  if [ -z "$problem" ]; then
    echo "agrees       $name: $seen"
    agree=$((agree + 1))
  else
    echo "DISAGREES    $name: $problem"
    disagree=$((disagree + 1))
  fi
done <"$here/expected.tsv"

echo "$agree agree, $disagree disagree, $unchecked not checked (heredocs: $heredocs)"
[ "$disagree" -eq 0 ]
