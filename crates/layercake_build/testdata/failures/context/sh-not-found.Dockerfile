FROM layercake-test/busybox:1
RUN echo start && yarn install --frozen-lockfile
