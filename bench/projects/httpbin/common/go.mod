module example.com/httpbin

go 1.19
