// Go's net/http server for the client's interop tests (tests/client_peers.rs runs it with
// `go run`, GO111MODULE=off). Listens on 127.0.0.1:0 and prints "listening on ADDR".
//
//	/hello     "hello" with Content-Length
//	/chunked   three flushed pieces (chunked on the wire) and a trailer X-Sum
//	/count     reads the request body (net/http answers Expect: 100-continue when the handler
//	           reads) and answers "N bytes"
//	/redirect  307 to /count (the method and body must follow)
//	/conn      the client's address, to see connection reuse
package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"
)

func main() {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/hello", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "hello")
	})
	mux.HandleFunc("/chunked", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Trailer", "X-Sum")
		f := w.(http.Flusher)
		sum := 0
		for _, p := range []string{"one ", "two ", "three"} {
			io.WriteString(w, p)
			sum += len(p)
			f.Flush()
		}
		w.Header().Set("X-Sum", fmt.Sprint(sum))
	})
	mux.HandleFunc("/count", func(w http.ResponseWriter, r *http.Request) {
		n, err := io.Copy(io.Discard, r.Body)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		fmt.Fprintf(w, "%s %d bytes expect=%q", r.Method, n, r.Header.Get("Expect"))
	})
	mux.HandleFunc("/redirect", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/count", http.StatusTemporaryRedirect)
	})
	mux.HandleFunc("/conn", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.RemoteAddr)
	})
	fmt.Printf("listening on %s\n", l.Addr())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 30 * time.Second}
	srv.Serve(l)
}
