// Go's net/http client against a Shockwave static file server (tests/fs.rs builds and runs
// this with GO111MODULE=off). Usage: client BASE_URL. Exits non-zero with a message on the
// first wrong answer; prints "ok" when every check passed.
package main

import (
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"time"
)

var client = &http.Client{Timeout: 30 * time.Second}

func fail(format string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, "go fs client: "+format+"\n", a...)
	os.Exit(1)
}

func get(url string, headers map[string]string) (*http.Response, []byte) {
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		fail("%v", err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		fail("GET %s: %v", url, err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		fail("reading %s: %v", url, err)
	}
	return resp, body
}

func main() {
	base := os.Args[1]
	resp, body := get(base+"/a.txt", nil)
	if resp.StatusCode != 200 || string(body) != "hello, file\n" {
		fail("GET /a.txt: %d %q", resp.StatusCode, body)
	}
	etag := resp.Header.Get("ETag")
	resp, _ = get(base+"/a.txt", map[string]string{"If-None-Match": etag})
	if resp.StatusCode != 304 {
		fail("If-None-Match: %d", resp.StatusCode)
	}
	resp, body = get(base+"/big.bin", map[string]string{"Range": "bytes=10-19"})
	if resp.StatusCode != 206 || len(body) != 10 || resp.Header.Get("Content-Range") == "" {
		fail("Range: %d %d %q", resp.StatusCode, len(body), resp.Header.Get("Content-Range"))
	}
	// several ranges, read with Go's own multipart reader
	resp, body = get(base+"/a.txt", map[string]string{"Range": "bytes=0-4,7-10"})
	mt, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/byteranges" {
		fail("multipart type %q: %v", resp.Header.Get("Content-Type"), err)
	}
	r := multipart.NewReader(bytesReader(body), params["boundary"])
	want := []string{"hello", "file"}
	for i := 0; ; i++ {
		p, err := r.NextPart()
		if err == io.EOF {
			if i != 2 {
				fail("%d parts", i)
			}
			break
		}
		if err != nil {
			fail("part %d: %v", i, err)
		}
		b, _ := io.ReadAll(p)
		if string(b) != want[i] {
			fail("part %d: %q (%s)", i, b, p.Header.Get("Content-Range"))
		}
	}
	fmt.Println("ok")
}

type reader struct {
	b []byte
}

func (r *reader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}

func bytesReader(b []byte) io.Reader { return &reader{b} }
