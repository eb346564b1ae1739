FROM layercake-test/busybox:1
COPY bin/ /usr/local/bin/
COPY out/ /out/
RUN pip install --no-cache-dir nosuchpkg-layercake-xyz
