// Go's net/http client against a Shockwave server (tests/clients.rs starts it and runs this
// with `go run`, GO111MODULE=off). Usage: client BASE_URL. Exits non-zero with a message on
// the first wrong answer.
package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

var base string
var client = &http.Client{
	Timeout:   30 * time.Second,
	Transport: &http.Transport{MaxIdleConnsPerHost: 4, ExpectContinueTimeout: 5 * time.Second},
}

func fail(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "go client: "+format+"\n", a...)
	os.Exit(1)
}

func do(req *http.Request) (int, []byte) {
	resp, err := client.Do(req)
	if err != nil {
		fail("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		fail("%s %s: reading the body: %v", req.Method, req.URL.Path, err)
	}
	return resp.StatusCode, b
}

func body(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + i%26)
	}
	return b
}

// onlyReader hides the length, so the request goes out chunked.
type onlyReader struct{ io.Reader }

func main() {
	base = os.Args[1]
	for i := 0; i < 20; i++ {
		req, _ := http.NewRequest("GET", fmt.Sprintf("%s/g%d", base, i), nil)
		if st, b := do(req); st != 200 || string(b) != fmt.Sprintf("GET /g%d 0", i) {
			fail("GET: %d %q", st, b)
		}
	}
	for _, n := range []int{0, 10, 70000, 300000, 2000000} {
		for _, chunked := range []bool{false, true} {
			var r io.Reader = bytes.NewReader(body(n))
			if chunked {
				r = onlyReader{r}
			}
			req, _ := http.NewRequest("POST", base+"/echo", r)
			if st, b := do(req); st != 200 || !bytes.Equal(b, body(n)) {
				fail("POST /echo %d bytes (chunked %v): %d, %d bytes back", n, chunked, st, len(b))
			}
			// a handler that answers without reading the upload: the answer must arrive
			req, _ = http.NewRequest("POST", base+"/ignore", bytes.NewReader(body(n)))
			if st, b := do(req); st != 200 || string(b) != "ignored" {
				fail("POST /ignore %d bytes: %d %q", n, st, b)
			}
		}
	}
	req, _ := http.NewRequest("PUT", base+"/echo", bytes.NewReader(body(300000)))
	req.Header.Set("Expect", "100-continue")
	if st, b := do(req); st != 200 || len(b) != 300000 {
		fail("Expect: 100-continue: %d, %d bytes", st, len(b))
	}
	req, _ = http.NewRequest("GET", base+"/stream", nil)
	if st, b := do(req); st != 200 || strings.Count(string(b), "\n") != 5000 {
		fail("GET /stream: %d", st)
	}
	fmt.Println("ok")
}
