FROM layercake-test/nosuchbase:9
RUN echo hi
