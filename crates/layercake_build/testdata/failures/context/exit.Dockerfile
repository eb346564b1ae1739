FROM layercake-test/busybox:1
RUN echo about to fail && echo 'checking the config' && exit 3
