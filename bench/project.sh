#!/usr/bin/env bash
# Makes one of the issue-10 benchmark projects as a git repository: branch
# `main` with the project before its pull request, branch `pr` (checked out)
# with the pull request applied, one commit each.
#
#   bench/project.sh PROJECT DIR     (DIR must not exist, or be empty)
#
# PROJECT is a directory under bench/projects/: `common/` holds the files both
# branches share, `Dockerfile-main` and `Dockerfile-pr` each side's
# Dockerfile (named so that layercake's own review of this repository does
# not take them for Dockerfiles to build). The projects, written for this
# benchmark:
#
#   express  a TypeScript Express service (express, typescript, @types; a
#            package-lock.json generated with npm): a single-stage
#            `FROM node:22` build → a builder on node:22 and a node:22-slim
#            runtime with `npm ci --omit=dev` and `USER node`
#   vote     a Flask voting front end (Flask, redis, gunicorn from PyPI):
#            python:3.9-slim → python:3.11-slim, reorganised as teams do: the
#            stage named `AS base`, a `dev` stage with a `pip install` of a
#            dev tool that the final target does not build, a `final` stage,
#            the pip RUN reformatted over two lines
#   httpbin  a Go HTTP service (standard library only): the runtime moved
#            from gcr.io/distroless/base to gcr.io/distroless/static:nonroot,
#            built with CGO_ENABLED=0
#
# The base images are bench/standins.sh's stand-ins.
set -euo pipefail

die() { echo "project.sh: $*" >&2; exit 2; }
(( $# == 2 )) || die "usage: bench/project.sh PROJECT DIR"
project="$1"
dir="$2"
source_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/projects/$project"
[[ -d "$source_dir/common" && -f "$source_dir/Dockerfile-main" && -f "$source_dir/Dockerfile-pr" ]] \
    || die "no project '$project' (see bench/projects/)"
mkdir -p "$dir"
[[ -z "$(ls -A "$dir")" ]] || die "$dir is not empty"

git_() {
    git -C "$dir" -c user.name="layercake bench" -c user.email=bench@example.invalid \
        -c commit.gpgsign=false "$@"
}
git_ init -q -b main
cp -a "$source_dir/common/." "$dir/"
cp "$source_dir/Dockerfile-main" "$dir/Dockerfile"
git_ add -A
git_ commit -q -m "$project: before the pull request"
git_ checkout -q -b pr
cp "$source_dir/Dockerfile-pr" "$dir/Dockerfile"
git_ add -A
git_ commit -q -m "$project: the pull request"
