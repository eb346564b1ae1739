FROM layercake-test/busybox:1
COPY bin/ /usr/local/bin/
COPY out/ /out/
WORKDIR /app
RUN echo '{"name":"app","version":"1.0.0"}' > package.json
RUN npm install nosuchpkg-layercake-xyz; npm run build
COPY . .
