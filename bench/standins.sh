#!/usr/bin/env bash
# Local stand-ins for the official base images the issue-10 projects use
# (bench/review.sh), tagged with the official names, because no registry is
# reachable here and BuildKit uses a local tag such as `node:22` without
# pulling. Each is made from a Debian bookworm minbase root (debootstrap) with
# Debian's packages, sized like the real image, and flattened into one layer
# with `docker import --change` so that its ENV/USER/WORKDIR/CMD are the real
# image's:
#
#   tag                               real size (uncompressed)  made of
#   node:22                           ~1.1 GB    buildpack-deps:bookworm-like toolchain
#                                                (gcc, g++, make, python3, git, curl,
#                                                lib*-dev, imagemagick) + nodejs + npm,
#                                                user `node` (1000)
#   node:22-slim                      ~220 MB    slim minbase + nodejs + npm, user `node`
#                                                (npm 10 from the npm registry in
#                                                /usr/local, as the official images
#                                                have it; Debian's npm pulls ~150 MB of
#                                                node-* packages and libssl-dev)
#   python:3.9-slim                   ~125 MB    slim minbase + python3 + pip + venv
#   python:3.11-slim                  ~130 MB    the same + libpython3.11, netbase, sqlite3
#                                                (a different package set, so a bump
#                                                shows a change)
#   golang:1.23                       ~810 MB    buildpack-deps:bookworm-scm-like + gcc,
#                                                g++, make, pkg-config + Go (bookworm-
#                                                backports' golang-1.23 when the mirror
#                                                has it, else bookworm's golang-go 1.19)
#   gcr.io/distroless/base            ~20 MB     libc6, libssl3, ca-certificates, tzdata,
#                                                netbase, base-files; passwd with root,
#                                                nobody, nonroot (65532); no shell
#   gcr.io/distroless/static:nonroot  ~2-3 MB    ca-certificates, tzdata, netbase,
#                                                base-files; USER 65532; no shell
#
# The host's own certificate authorities (/usr/local/share/ca-certificates/*.crt,
# such as a TLS-intercepting egress proxy's) are added to every stand-in's
# trust store, so that RUN steps can reach npm and PyPI from this machine; a
# real official image trusts only Debian's CAs.
#
# What is not real: Debian's Node.js is 18 and its Python 3.11 (bookworm has no
# other), so `node:22` runs Node 18 and `python:3.9-slim` runs Python 3.11; the
# images differ in their package sets, not their interpreter. Pip is installed
# from Debian and its EXTERNALLY-MANAGED marker removed, so `pip install` works
# as in the official images.
#
#   bench/standins.sh [--rebuild] [TAG...]     (default: every tag above)
#
# A tag that already exists is left alone unless --rebuild is given. The root
# filesystem is cached as $LAYERCAKE_BENCH_DIR/bookworm-minbase.tar (the same
# file bench/images.sh makes) and imported as layercake-bench/debian:bookworm.
# Prints each tag's `docker image inspect` .Size at the end.
#
# Environment: LAYERCAKE_BENCH_DIR (default /var/tmp/layercake-bench),
# LAYERCAKE_BENCH_DOCKER (default /usr/bin/docker, Debian's client, whose
# `docker build` honours DOCKER_BUILDKIT=1), DEBIAN_MIRROR (default
# http://deb.debian.org/debian).
#
# Needs: root, a docker daemon, debootstrap (installed with apt-get if missing).
set -euo pipefail

bench_dir="${LAYERCAKE_BENCH_DIR:-/var/tmp/layercake-bench}"
docker="${LAYERCAKE_BENCH_DOCKER:-/usr/bin/docker}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
debian_image=layercake-bench/debian:bookworm
all_tags=(node:22 node:22-slim python:3.9-slim python:3.11-slim golang:1.23
    gcr.io/distroless/base gcr.io/distroless/static:nonroot)

die() { echo "standins.sh: $*" >&2; exit 2; }
log() { echo "[$(date +%T)] $*" >&2; }

rebuild=false
tags=()
for arg in "$@"; do
    case "$arg" in
        --rebuild) rebuild=true ;;
        -*) die "unknown option $arg" ;;
        *) tags+=("$arg") ;;
    esac
done
(( ${#tags[@]} )) || tags=("${all_tags[@]}")

"$docker" version >/dev/null || die "$docker cannot reach a docker daemon"
mkdir -p "$bench_dir/logs"
logs="$bench_dir/logs"

# --- the Debian root ----------------------------------------------------------
if ! command -v debootstrap >/dev/null; then
    log "installing debootstrap..."
    apt-get install -y debootstrap >/dev/null 2>&1 \
        || { apt-get update >/dev/null && apt-get install -y debootstrap >/dev/null; } \
        || die "cannot install debootstrap"
fi
rootfs_tar="$bench_dir/bookworm-minbase.tar"
if [[ ! -f "$rootfs_tar" ]]; then
    log "debootstrap --variant=minbase bookworm ($mirror)..."
    rootfs="$bench_dir/rootfs.partial"
    rm -rf "$rootfs"
    debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$logs/debootstrap.log" 2>&1 \
        || die "debootstrap failed; see $logs/debootstrap.log"
    # As Debian's own images: no apt lists, caches, downloaded .debs or /dev nodes.
    rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin \
        "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/dev/*
    tar --numeric-owner -C "$rootfs" -cf "$rootfs_tar.partial" .
    mv "$rootfs_tar.partial" "$rootfs_tar"
    rm -rf "$rootfs"
fi
if ! "$docker" image inspect "$debian_image" >/dev/null 2>&1; then
    log "importing $rootfs_tar as $debian_image..."
    "$docker" import --change 'CMD ["bash"]' "$rootfs_tar" "$debian_image" >/dev/null
fi

# --- recipes ------------------------------------------------------------------
# Every recipe is a Dockerfile body run FROM the Debian root; the result is
# flattened with `docker export` (or, for distroless, the tree the recipe left
# in /out) and imported under the official tag with the real image's config.
default_path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# As debian:bookworm-slim: dpkg leaves out docs, man pages and locales.
slim_dpkg='RUN printf "%s\n" \
      "path-exclude /usr/share/doc/*" "path-include /usr/share/doc/*/copyright" \
      "path-exclude /usr/share/man/*" "path-exclude /usr/share/info/*" \
      "path-exclude /usr/share/locale/*" "path-include /usr/share/locale/locale.alias" \
      "path-exclude /usr/share/lintian/*" > /etc/dpkg/dpkg.cfg.d/docker-slim \
 && find /usr/share/doc -mindepth 1 -not -name copyright -not -type d -delete \
 && rm -rf /usr/share/man/* /usr/share/info/* /usr/share/lintian/* \
 && find /usr/share/locale -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +'

# buildpack-deps:bookworm-curl and -scm, as Debian packages.
scm_packages="ca-certificates curl gnupg dirmngr netbase wget git mercurial openssh-client subversion procps"
# buildpack-deps:bookworm: compilers, autotools and the -dev headers native
# extensions usually need.
toolchain_packages="$scm_packages autoconf automake bzip2 default-libmysqlclient-dev dpkg-dev file
    g++ gcc imagemagick libbz2-dev libc6-dev libcurl4-openssl-dev libdb-dev libevent-dev libffi-dev
    libgdbm-dev libglib2.0-dev libgmp-dev libjpeg-dev libkrb5-dev liblzma-dev libmagickcore-dev
    libmagickwand-dev libmaxminddb-dev libncurses-dev libpng-dev libpq-dev libreadline-dev
    libsqlite3-dev libssl-dev libtool libwebp-dev libxml2-dev libxslt1-dev libyaml-dev make patch
    unzip xz-utils zlib1g-dev python3"
apt_install() { # PACKAGES...: one RUN that installs them and drops apt's lists
    echo "RUN apt-get update \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $* \\
 && apt-get clean && rm -rf /var/lib/apt/lists/*"
}
# npm as the official images have it: npm's own package in /usr/local (one
# directory, its dependencies bundled), installed by Debian's npm, which then
# goes with the ~150 MB of node-* libraries (and libssl-dev) it depends on.
npm_from_registry='RUN npm install --global --prefix /usr/local npm@10.9.2 \
 && apt-get purge -y npm && apt-get autoremove -y --purge && rm -rf /root/.npm'
node_user='RUN groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node'

recipe() { # TAG: prints the Dockerfile body
    # The host's CAs, trusted once ca-certificates is (re)configured below.
    echo 'COPY local-ca/ /usr/local/share/ca-certificates/'
    case "$1" in
        node:22)
            apt_install "$(echo $toolchain_packages) nodejs npm"
            echo "$npm_from_registry"
            echo "$node_user" ;;
        node:22-slim)
            echo "$slim_dpkg"
            apt_install ca-certificates nodejs npm
            echo "$npm_from_registry"
            echo "$node_user" ;;
        python:3.9-slim | python:3.11-slim)
            echo "$slim_dpkg"
            if [[ "$1" == python:3.11-slim ]]; then
                apt_install ca-certificates python3 python3-pip python3-venv python-is-python3 libpython3.11 netbase sqlite3
            else
                apt_install ca-certificates python3 python3-pip python3-venv python-is-python3
            fi
            # `pip` and `pip install` as in the official images (no PEP 668 marker).
            echo 'RUN ln -s /usr/bin/pip3 /usr/local/bin/pip && rm -f /usr/lib/python3*/EXTERNALLY-MANAGED'
            ;;
        golang:1.23)
            # bookworm-backports' Go 1.23 when the mirror has it, else bookworm's 1.19.
            echo "RUN echo 'deb $mirror bookworm-backports main' > /etc/apt/sources.list.d/backports.list \\
 && apt-get update \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $(echo $scm_packages) g++ gcc libc6-dev make pkg-config \\
 && (DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends -t bookworm-backports golang-1.23-go \\
     && ln -s /usr/lib/go-1.23 /usr/local/go \\
     || (DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends golang-go && ln -s /usr/lib/go /usr/local/go)) \\
 && rm /etc/apt/sources.list.d/backports.list && apt-get clean && rm -rf /var/lib/apt/lists/* \\
 && mkdir -p /go/src /go/bin && chmod -R 1777 /go"
            ;;
        gcr.io/distroless/base | gcr.io/distroless/static:nonroot)
            local packages="base-files netbase tzdata ca-certificates"
            [[ "$1" == gcr.io/distroless/base ]] && packages="$packages libc6 libssl3"
            apt_install ca-certificates tzdata netbase libssl3
            # The packages' files (no docs), a dpkg status.d entry per package as
            # distroless has, the users, /tmp and the home of nonroot; no shell.
            cat <<EOF
RUN set -e; mkdir -p /out/var/lib/dpkg/status.d /out/etc/ssl/certs /out/tmp /out/root /out/home/nonroot \\
      /out/usr/bin /out/usr/lib /out/usr/lib64 /out/usr/sbin; \\
    for d in bin lib lib64 sbin; do ln -s usr/\$d /out/\$d; done; \\
    for p in $packages; do \\
      dpkg -L \$p | grep -v -e '^/usr/share/doc' -e '^/usr/share/man' -e '^/usr/share/lintian' -e '^/usr/sbin' -e '^/usr/bin' -e '^/sbin' -e '^/bin' \\
        | while read -r f; do if [ -L "\$f" ] || [ -f "\$f" ]; then echo "\$f"; fi; done > /tmp/files; \\
      tar -cf - --no-recursion -T /tmp/files 2>/dev/null | tar -xf - -C /out; \\
      dpkg -s \$p | grep -v '^Conffiles' > /out/var/lib/dpkg/status.d/\$p; \\
    done; \\
    cp /etc/ssl/certs/ca-certificates.crt /out/etc/ssl/certs/; \\
    printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' > /out/etc/passwd; \\
    printf 'root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n' > /out/etc/group; \\
    chmod 1777 /out/tmp; chmod 700 /out/root; chown 65532:65532 /out/home/nonroot
EOF
            ;;
        *) die "no recipe for $1 (known: ${all_tags[*]})" ;;
    esac
}

changes() { # TAG: the --change options of the real image's config
    case "$1" in
        node:22 | node:22-slim)
            printf '%s\n' "ENV PATH=$default_path" "ENV NODE_VERSION=$2" 'CMD ["node"]' ;;
        python:3.9-slim | python:3.11-slim)
            local version="${1#python:}"
            printf '%s\n' "ENV PATH=$default_path" "ENV LANG=C.UTF-8" \
                "ENV PYTHON_VERSION=${version%-slim}" 'CMD ["python3"]'
            ;;
        golang:1.23)
            printf '%s\n' "ENV PATH=/go/bin:/usr/local/go/bin:$default_path" "ENV GOPATH=/go" \
                "ENV GOLANG_VERSION=$2" "ENV GOTOOLCHAIN=local" "WORKDIR /go" ;;
        gcr.io/distroless/base)
            printf '%s\n' "ENV PATH=$default_path" "ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt" ;;
        gcr.io/distroless/static:nonroot)
            printf '%s\n' "ENV PATH=$default_path" "ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt" \
                "USER 65532" "WORKDIR /home/nonroot" ;;
    esac
}

version_probe() { # TAG: a command printing the version the config names
    case "$1" in
        node:*) echo 'node --version | tr -d v' ;;
        golang:*) echo '/usr/local/go/bin/go version | cut -d" " -f3 | sed s/^go//' ;;
        *) echo 'true' ;;
    esac
}

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir "$work/local-ca"
cp /usr/local/share/ca-certificates/*.crt "$work/local-ca/" 2>/dev/null || true
for tag in "${tags[@]}"; do
    if ! $rebuild && "$docker" image inspect "$tag" >/dev/null 2>&1; then
        log "$tag exists (bench/standins.sh --rebuild $tag makes it again)"
        continue
    fi
    log "building $tag..."
    name="$(tr -c 'a-z0-9\n' - <<<"$tag")"
    staging="layercake-bench/standin-staging:$name"
    { echo "FROM $debian_image"; recipe "$tag"; } > "$work/Dockerfile"
    DOCKER_BUILDKIT=1 "$docker" build --progress=plain -t "$staging" "$work" >"$logs/standin-$name.log" 2>&1 \
        || die "building $tag failed; see $logs/standin-$name.log"
    version="$("$docker" run --rm "$staging" sh -c "$(version_probe "$tag")")"
    change_args=()
    while IFS= read -r change; do change_args+=(--change "$change"); done < <(changes "$tag" "$version")
    case "$tag" in
        gcr.io/distroless/*)
            "$docker" run --rm "$staging" tar --numeric-owner -C /out -cf - . \
                | "$docker" import "${change_args[@]}" - "$tag" >/dev/null ;;
        *)
            container="$("$docker" create "$staging" true)"
            "$docker" export "$container" | "$docker" import "${change_args[@]}" - "$tag" >/dev/null
            "$docker" rm "$container" >/dev/null ;;
    esac
    "$docker" image rm "$staging" >/dev/null
done

echo "| tag | size (\`docker image inspect\` .Size) | layers |"
echo "|---|---|---|"
for tag in "${tags[@]}"; do
    size="$("$docker" image inspect --format '{{.Size}}' "$tag")"
    layers="$("$docker" image inspect --format '{{len .RootFS.Layers}}' "$tag")"
    echo "| \`$tag\` | $(awk -v b="$size" 'BEGIN { printf "%.1f MB", b / 1e6 }') | $layers |"
done
