// Client benchmark load tool: fasthttp's own client (scripts/bench-client.sh).
// Usage: fasthttp-client URL THREADS DURATION_SECS WARMUP_SECS [POST_BYTES]
// One fasthttp.Client{MaxConnsPerHost: THREADS}; THREADS goroutines, each with one Request and
// one Response (AcquireRequest/AcquireResponse) reused across client.Do calls; POST_BYTES > 0:
// POST with a body of that many 'x' built once (req.SetBodyRaw). GOMAXPROCS 1, like the Rust
// tools' single pinned CPU. A request counts as an error unless it returns no error, status 200
// and the 13-byte hello body. After WARMUP_SECS, counts over DURATION_SECS: successful requests,
// errors, CPU (getrusage, utime+stime) and runtime.MemStats Mallocs/TotalAlloc deltas, and
// prints one JSON line.
package main

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"
)

const expectBodyLen = len("Hello, World!")

const (
	warming int32 = iota
	measuring
	stopped
)

func usage() {
	fmt.Fprintln(os.Stderr, "usage: fasthttp-client URL THREADS DURATION_SECS WARMUP_SECS [POST_BYTES]")
	os.Exit(2)
}

func secs(s string) time.Duration {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 {
		usage()
	}
	return time.Duration(v * float64(time.Second))
}

func cpuUs() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Sec*1e6 + ru.Utime.Usec + ru.Stime.Sec*1e6 + ru.Stime.Usec
}

func main() {
	a := os.Args[1:]
	if len(a) < 4 || len(a) > 5 {
		usage()
	}
	url := a[0]
	threads, err := strconv.Atoi(a[1])
	if err != nil || threads < 1 {
		usage()
	}
	duration, warmup := secs(a[2]), secs(a[3])
	if duration <= 0 {
		usage()
	}
	postBytes := 0
	if len(a) == 5 {
		if postBytes, err = strconv.Atoi(a[4]); err != nil || postBytes < 0 {
			usage()
		}
	}
	// one CPU like every other client, unless GOMAXPROCS is set (the shared, default-config run)
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}

	var body []byte
	if postBytes > 0 {
		body = make([]byte, postBytes)
		for i := range body {
			body[i] = 'x'
		}
	}
	client := &fasthttp.Client{MaxConnsPerHost: threads}
	var phase int32
	var requests, errors int64
	var wg sync.WaitGroup
	for i := 0; i < threads; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req := fasthttp.AcquireRequest()
			resp := fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(resp)
			req.SetRequestURI(url)
			if body != nil {
				req.Header.SetMethod("POST")
				req.SetBodyRaw(body)
			}
			var ok, bad int64
			for {
				e := client.Do(req, resp)
				good := e == nil && resp.StatusCode() == 200 && len(resp.Body()) == expectBodyLen
				p := atomic.LoadInt32(&phase)
				if p == stopped {
					break
				}
				if p == measuring {
					if good {
						ok++
					} else {
						bad++
					}
				}
			}
			atomic.AddInt64(&requests, ok)
			atomic.AddInt64(&errors, bad)
		}()
	}

	time.Sleep(warmup)
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	c0 := cpuUs()
	t0 := time.Now()
	atomic.StoreInt32(&phase, measuring)
	time.Sleep(duration)
	atomic.StoreInt32(&phase, stopped)
	elapsed := time.Since(t0).Seconds()
	c1 := cpuUs()
	runtime.ReadMemStats(&m1)
	wg.Wait()

	n := atomic.LoadInt64(&requests)
	per := func(v float64) float64 {
		if n == 0 {
			return 0
		}
		return v / float64(n)
	}
	fmt.Printf("{\"client\":\"fasthttp\",\"threads\":%d,\"requests\":%d,\"errors\":%d,\"secs\":%.3f,"+
		"\"rps\":%.1f,\"cpu_us_per_req\":%.3f,\"allocs_per_req\":%.2f,\"bytes_per_req\":%.1f}\n",
		threads, n, atomic.LoadInt64(&errors), elapsed, float64(n)/elapsed,
		per(float64(c1-c0)), per(float64(m1.Mallocs-m0.Mallocs)), per(float64(m1.TotalAlloc-m0.TotalAlloc)))
}
