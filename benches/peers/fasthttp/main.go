// fasthttp peer: plaintext "Hello, World!" for any path.
// Usage: fasthttp-hello [ADDR]   (default 127.0.0.1:8080; env ADDR also works)
// GOMAXPROCS comes from env THREADS (default 1). With env SLEEP_MS, requests to paths under
// /sleep wait that long first (time.Sleep, as a handler waiting on a database would).
package main

import (
	"bytes"
	"log"
	"os"
	"runtime"
	"strconv"
	"time"

	"github.com/valyala/fasthttp"
)

var body = []byte("Hello, World!")
var sleep time.Duration

func handler(ctx *fasthttp.RequestCtx) {
	if sleep > 0 && bytes.HasPrefix(ctx.Path(), []byte("/sleep")) {
		time.Sleep(sleep)
	}
	ctx.SetContentType("text/plain")
	ctx.Write(body)
}

func main() {
	threads := 1
	if v, err := strconv.Atoi(os.Getenv("THREADS")); err == nil && v > 0 {
		threads = v
	}
	runtime.GOMAXPROCS(threads)
	if v, err := strconv.Atoi(os.Getenv("SLEEP_MS")); err == nil && v > 0 {
		sleep = time.Duration(v) * time.Millisecond
	}
	addr := "127.0.0.1:8080"
	if v := os.Getenv("ADDR"); v != "" {
		addr = v
	}
	if len(os.Args) > 1 {
		addr = os.Args[1]
	}
	log.Printf("fasthttp-hello listening on %s with GOMAXPROCS=%d", addr, threads)
	if err := fasthttp.ListenAndServe(addr, handler); err != nil {
		log.Fatal(err)
	}
}
