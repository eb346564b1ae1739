FROM layercake-test/busybox:1 AS deps
COPY bin/ /usr/local/bin/
COPY out/ /out/
RUN sleep 1 && apt-get update && apt-get install -y python nosuchpackage-xyz

FROM layercake-test/busybox:1 AS assets
RUN i=0; while [ $i -lt 60 ]; do echo "compiling asset $i"; i=$((i+1)); sleep 0.05; done

FROM layercake-test/busybox:1
COPY --from=deps /out /out
COPY --from=assets /etc/hostname /h
