FROM layercake-test/busybox:1
COPY bin11/ /usr/local/bin/
COPY out/ /out/
WORKDIR /app
RUN npm ci --omit=dev
