// Go's net/http client against Shockwave's Compress middleware (tests/compress.rs runs this
// with `go run`, GO111MODULE=off). Go asks for gzip on its own and decodes it transparently,
// reporting resp.Uncompressed. Usage: client BASE_URL. Prints "ok" or exits non-zero.
package main

import (
	"bufio"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"strings"
	"time"
)

var fail = log.Fatalf

func main() {
	base := os.Args[1]
	client := &http.Client{Timeout: 30 * time.Second}

	resp, err := client.Get(base + "/json")
	if err != nil {
		fail("GET /json: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		fail("reading /json: %v", err)
	}
	if !resp.Uncompressed || len(body) != 100000 || !strings.HasPrefix(string(body), `[{"id":0,`) {
		fail("/json: uncompressed=%v len=%d", resp.Uncompressed, len(body))
	}
	if resp.Header.Get("Vary") != "Accept-Encoding" {
		fail("/json: Vary %q", resp.Header.Get("Vary"))
	}

	resp, err = client.Get(base + "/stream")
	if err != nil {
		fail("GET /stream: %v", err)
	}
	n := 0
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if sc.Text() != fmt.Sprintf("line %d of a streamed response, compressed on the fly", n) {
			fail("/stream line %d: %q", n, sc.Text())
		}
		n++
	}
	resp.Body.Close()
	if sc.Err() != nil || n != 2000 || !resp.Uncompressed {
		fail("/stream: %d lines, err %v, uncompressed=%v", n, sc.Err(), resp.Uncompressed)
	}

	// a request that says it takes identity only gets it
	req, _ := http.NewRequest("GET", base+"/json", nil)
	req.Header.Set("Accept-Encoding", "identity")
	resp, err = client.Do(req)
	if err != nil {
		fail("GET /json identity: %v", err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Header.Get("Content-Encoding") != "" || len(body) != 100000 {
		fail("/json identity: %q, %d bytes", resp.Header.Get("Content-Encoding"), len(body))
	}
	fmt.Println("ok")
}
