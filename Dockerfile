# layercake's image: the webhook server (`layercake serve`) and the
# `docker://` variant of the GitHub Action. Multi-stage: the toolchain and
# the sources stay in the build stages; the runtime has the binary, git
# (worktrees, clones) and the docker CLI (builds go to the host's or a
# remote BuildKit), and runs as an unprivileged user.

ARG RUST_VERSION=1.95
ARG DEBIAN_RELEASE=bookworm

FROM rust:${RUST_VERSION}-slim-${DEBIAN_RELEASE} AS build
WORKDIR /src
# Manifests first, so a source change does not refetch the dependencies.
COPY Cargo.toml Cargo.lock ./
COPY crates ./crates
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p layercake \
    && cp target/release/layercake /usr/local/bin/layercake

# Only the docker CLI binary from Debian's package, not the engine it ships with.
FROM debian:${DEBIAN_RELEASE}-slim AS docker-cli
WORKDIR /tmp/docker
RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \
    --mount=type=cache,target=/var/lib/apt/lists,sharing=locked \
    apt-get update \
    && apt-get download docker.io \
    && dpkg-deb -x docker.io_*.deb /tmp/docker/root

FROM debian:${DEBIAN_RELEASE}-slim AS runtime
RUN --mount=type=cache,target=/var/cache/apt,sharing=locked \
    --mount=type=cache,target=/var/lib/apt/lists,sharing=locked \
    apt-get update \
    && apt-get install -y --no-install-recommends git ca-certificates
COPY --from=docker-cli /tmp/docker/root/usr/bin/docker /usr/local/bin/docker
COPY --from=build /usr/local/bin/layercake /usr/local/bin/layercake
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/layercake"]
CMD ["--help"]
