FROM layercake-test/busybox:1
WORKDIR /app
COPY package.json package-lock.json ./
RUN echo never
