// Command httpbin serves package httpbin on $PORT (default 8080).
package main

import (
	"log"
	"net/http"
	"os"
	"time"

	"example.com/httpbin/httpbin"
)

func main() {
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	server := &http.Server{
		Addr:              ":" + port,
		Handler:           httpbin.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
	}
	log.Printf("httpbin listening on %s", server.Addr)
	log.Fatal(server.ListenAndServe())
}
