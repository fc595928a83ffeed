// fasthttp peer for the TechEmpower "json" test: GET /json marshals a fresh
// {"message":"Hello, World!"} per request with encoding/json and writes it with
// Content-Type: application/json (fasthttp adds Server, Date and Content-Length).
// Any other path: 404.
// Usage: fasthttp-json [ADDR]   (default 127.0.0.1:8080; env ADDR also works)
// GOMAXPROCS comes from env THREADS (default 1).
package main

import (
	"encoding/json"
	"log"
	"os"
	"runtime"
	"strconv"

	"github.com/valyala/fasthttp"
)

type message struct {
	Message string `json:"message"`
}

func handler(ctx *fasthttp.RequestCtx) {
	if string(ctx.Path()) != "/json" {
		ctx.Error("Not Found", fasthttp.StatusNotFound)
		return
	}
	body, err := json.Marshal(&message{Message: "Hello, World!"})
	if err != nil {
		ctx.Error(err.Error(), fasthttp.StatusInternalServerError)
		return
	}
	ctx.SetContentType("application/json")
	ctx.Write(body)
}

func main() {
	threads := 1
	if v, err := strconv.Atoi(os.Getenv("THREADS")); err == nil && v > 0 {
		threads = v
	}
	runtime.GOMAXPROCS(threads)
	addr := "127.0.0.1:8080"
	if v := os.Getenv("ADDR"); v != "" {
		addr = v
	}
	if len(os.Args) > 1 {
		addr = os.Args[1]
	}
	log.Printf("fasthttp-json listening on %s with GOMAXPROCS=%d", addr, threads)
	if err := fasthttp.ListenAndServe(addr, handler); err != nil {
		log.Fatal(err)
	}
}
