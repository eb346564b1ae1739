FROM layercake-test/busybox:1
COPY bin/ /usr/local/bin/
COPY out/ /out/
RUN apk add --no-cache nosuchpkg-layercake-xyz
