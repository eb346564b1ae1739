FROM layercake-test/busybox:1 AS build
COPY bingo/ /usr/local/bin/
COPY out/ /out/
WORKDIR /src
RUN go mod download

FROM layercake-test/busybox:1
COPY --from=build /src /src
