// Package httpbin answers HTTP requests with a description of themselves,
// for testing HTTP clients: the Go service of bench/review.sh.
package httpbin

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Echo is what most endpoints answer: the request as the server saw it.
type Echo struct {
	Method  string              `json:"method"`
	URL     string              `json:"url"`
	Args    map[string][]string `json:"args"`
	Headers map[string][]string `json:"headers"`
	Origin  string              `json:"origin"`
	Body    string              `json:"body,omitempty"`
}

// Handler serves the endpoints.
func Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/get", only(http.MethodGet, echo))
	mux.HandleFunc("/post", only(http.MethodPost, echo))
	mux.HandleFunc("/anything", echo)
	mux.HandleFunc("/anything/", echo)
	mux.HandleFunc("/headers", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"headers": r.Header})
	})
	mux.HandleFunc("/ip", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"origin": origin(r)})
	})
	mux.HandleFunc("/status/", status)
	mux.HandleFunc("/delay/", delay)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
	})
	return mux
}

func only(method string, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != method {
			w.Header().Set("Allow", method)
			writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "method not allowed"})
			return
		}
		next(w, r)
	}
}

func echo(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, Echo{
		Method:  r.Method,
		URL:     r.URL.String(),
		Args:    r.URL.Query(),
		Headers: r.Header,
		Origin:  origin(r),
		Body:    string(body),
	})
}

func status(w http.ResponseWriter, r *http.Request) {
	code, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/status/"))
	if err != nil || code < 100 || code > 599 {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid status code"})
		return
	}
	w.WriteHeader(code)
}

func delay(w http.ResponseWriter, r *http.Request) {
	seconds, err := strconv.ParseFloat(strings.TrimPrefix(r.URL.Path, "/delay/"), 64)
	if err != nil || seconds < 0 || seconds > 10 {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "delay must be 0-10 seconds"})
		return
	}
	select {
	case <-time.After(time.Duration(seconds * float64(time.Second))):
		echo(w, r)
	case <-r.Context().Done():
	}
}

func origin(r *http.Request) string {
	if forwarded := r.Header.Get("X-Forwarded-For"); forwarded != "" {
		return strings.TrimSpace(strings.Split(forwarded, ",")[0])
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func writeJSON(w http.ResponseWriter, code int, value any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	encoder := json.NewEncoder(w)
	encoder.SetIndent("", "  ")
	if err := encoder.Encode(value); err != nil {
		fmt.Println("httpbin: writing a response:", err)
	}
}
