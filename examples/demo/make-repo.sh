#!/usr/bin/env bash
# Creates the demo repository: a small Node-shaped service whose `main`
# branch has a good multi-stage-free Dockerfile, and a branch `pr` that
# breaks its cache order and adds a large file. Usage: make-repo.sh DIR
#
# Its base image, layercake-demo/node:22, is made locally by `base-image.sh`
# (busybox plus an `npm` script), because no registry is needed or used.
set -euo pipefail
dir=${1:?usage: make-repo.sh DIR}
mkdir -p "$dir"
cd "$dir"
git init -q -b main
git config user.name "layercake demo"
git config user.email "demo@layercake.invalid"
git config commit.gpgsign false

mkdir -p src
cat > package.json <<'JSON'
{ "name": "demo-service", "version": "1.0.0", "scripts": { "start": "node src/index.js" } }
JSON
echo '{ "lockfileVersion": 3 }' > package-lock.json
echo "console.log('hello from the demo service');" > src/index.js
printf 'node_modules\n.git\n' > .dockerignore
cat > Dockerfile <<'DOCKERFILE'
FROM layercake-demo/node:22
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY src/ ./src/
USER 1000
CMD ["node", "src/index.js"]
DOCKERFILE
git add -A && git commit -q -m "demo service"

git checkout -q -b pr
# The pull request: copy everything first (so any source change re-runs
# `npm ci`), ship a 4 MB fixture, and leave a download behind.
mkdir -p fixtures
head -c 4000000 /dev/zero > fixtures/sample.bin
echo "console.log('hello, reviewers');" > src/index.js
cat > Dockerfile <<'DOCKERFILE'
FROM layercake-demo/node:22
WORKDIR /app
COPY . .
RUN npm ci
RUN wget -q -O /tmp/tool.tgz http://127.0.0.1:9/tool.tgz || head -c 2000000 /dev/zero > /tmp/tool.tgz
RUN rm /tmp/tool.tgz
USER 1000
CMD ["node", "src/index.js"]
DOCKERFILE
git add -A && git commit -q -m "simplify the Dockerfile, add fixtures"
