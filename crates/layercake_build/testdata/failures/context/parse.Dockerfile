FROM layercake-test/busybox:1
RUNN echo hi
