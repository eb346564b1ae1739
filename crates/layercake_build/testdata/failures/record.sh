#!/bin/sh
# Records each context/NAME.Dockerfile's failing build as NAME.log, on the Docker
# Engine at hand (these were recorded on Debian's docker.io 20.10.24), from the
# test kit's busybox base image (`layercake-test/busybox:1`).
set -u
cd "$(dirname "$0")/context" || exit 1
for file in *.Dockerfile; do
    name=${file%.Dockerfile}
    DOCKER_BUILDKIT=1 /usr/bin/docker build --progress=plain --no-cache \
        -f "$file" -t "layercake-record/$name:1" . > "../$name.log" 2>&1
    echo "$name: exit $?"
done
