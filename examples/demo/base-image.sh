#!/usr/bin/env bash
# Makes the demo's base image, layercake-demo/node:22, with `docker import`:
# a static busybox, and an `npm` that "installs" for a second, so `npm ci`
# behaves like a dependency install without a registry.
# Usage: base-image.sh DOCKER   (exits 1 with a reason if it cannot)
set -euo pipefail
docker=${1:?usage: base-image.sh DOCKER}
if "$docker" image inspect layercake-demo/node:22 >/dev/null 2>&1; then
  exit 0
fi
busybox=$(command -v busybox || true)
if [ -z "$busybox" ] || ldd "$busybox" >/dev/null 2>&1; then
  echo "a static busybox is needed for the demo's base image (Debian: apt-get install busybox-static)" >&2
  exit 1
fi
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,etc,tmp,root,usr/local/bin}
chmod 1777 "$root/tmp"
cp "$busybox" "$root/bin/busybox"
for applet in sh ls cat echo mkdir rm cp mv head dd wget sleep true false env id chmod; do
  ln -s busybox "$root/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000:node:/app:/bin/sh\n' > "$root/etc/passwd"
printf 'root:x:0:\nnode:x:1000:\n' > "$root/etc/group"
cat > "$root/usr/local/bin/npm" <<'NPM'
#!/bin/sh
# A stand-in for npm: "installs" dependencies in a second.
sleep 1
mkdir -p node_modules/left-pad
head -c 300000 /dev/zero > node_modules/left-pad/index.js
NPM
chmod +x "$root/usr/local/bin/npm"
tar -C "$root" -c . | "$docker" import \
  --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
  --change 'CMD ["/bin/sh"]' \
  - layercake-demo/node:22 >/dev/null
