// tlsload: TLS load tool for scripts/bench-tls.sh (Go standard library only).
//
//	tlsload close [flags] ADDR   handshakes: each of -c goroutines loops dial, TLS handshake,
//	                             `GET /` with `Connection: close`, read the whole response, close;
//	                             -resume keeps one session cache per goroutine, so every handshake
//	                             after its first offers a ticket (TLS 1.3 PSK / TLS 1.2 ticket);
//	                             prints one JSON line with handshakes, resumed ones, errors, rate
//	                             and the tool's own CPU time.
//	tlsload idle [flags] ADDR N  memory: opens N TLS keep-alive connections, -p at a time,
//	                             one `GET /` answered on each, prints `READY <ok> <failed>`, then
//	                             holds them idle for -hold seconds or until SIGINT/SIGTERM.
//
// With -pids, close also reports the utime+stime clock ticks those processes used during the
// measured window (warm-up excluded), read from /proc.
//
// Certificates are not verified (InsecureSkipVerify: the benchmark's cert is self-signed), but
// the handshake signature is, as always in crypto/tls. ALPN offers http/1.1.
package main

import (
	"bufio"
	"crypto/tls"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func config(tls12 bool, resume bool) *tls.Config {
	c := &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"http/1.1"}, ServerName: "localhost"}
	if tls12 {
		c.MaxVersion = tls.VersionTLS12
	}
	if resume {
		c.ClientSessionCache = tls.NewLRUClientSessionCache(4)
	}
	return c
}

// get sends one GET / and reads the whole response; true if it was 200 with a 13-byte body.
func get(conn *tls.Conn, br *bufio.Reader, close bool) error {
	req := "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"
	if close {
		req = "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
	}
	if _, err := io.WriteString(conn, req); err != nil {
		return err
	}
	rsp, err := http.ReadResponse(br, nil)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(rsp.Body)
	rsp.Body.Close()
	if err != nil {
		return err
	}
	if rsp.StatusCode != 200 || string(body) != "Hello, World!" {
		return fmt.Errorf("unexpected answer %d %q", rsp.StatusCode, body)
	}
	return nil
}

func cpuSecs() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// procTicks sums utime+stime (clock ticks) of the given /proc pids; -1 if one cannot be read.
func procTicks(pids []string) int64 {
	var t int64
	for _, p := range pids {
		b, err := os.ReadFile("/proc/" + p + "/stat")
		if err != nil {
			return -1
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
		u, _ := strconv.ParseInt(f[11], 10, 64)
		k, _ := strconv.ParseInt(f[12], 10, 64)
		t += u + k
	}
	return t
}

func runClose(args []string) {
	fs := flag.NewFlagSet("close", flag.ExitOnError)
	conns := fs.Int("c", 32, "concurrent connections (goroutines)")
	secs := fs.Float64("d", 5, "measured seconds")
	warm := fs.Float64("w", 1, "warm-up seconds (not counted)")
	resume := fs.Bool("resume", false, "offer the last session ticket (per goroutine)")
	tls12 := fs.Bool("tls12", false, "TLS 1.2 at most")
	pidList := fs.String("pids", "", "server pids (comma-separated) whose CPU ticks over the measured window are reported")
	fs.Parse(args)
	var pids []string
	if *pidList != "" {
		pids = strings.Split(*pidList, ",")
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: tlsload close [-c N] [-d SECS] [-w SECS] [-resume] [-tls12] ADDR")
		os.Exit(2)
	}
	addr := fs.Arg(0)
	var measuring, stop atomic.Bool
	var hs, resumed, errs, tls13 atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	for i := 0; i < *conns; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cfg := config(*tls12, *resume)
			for !stop.Load() {
				conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, cfg)
				if err == nil {
					conn.SetDeadline(time.Now().Add(5 * time.Second))
					err = get(conn, bufio.NewReader(conn), true)
				}
				m := measuring.Load()
				if err != nil {
					if m {
						errs.Add(1)
						firstErr.CompareAndSwap(nil, err.Error())
					}
				} else if m {
					hs.Add(1)
					st := conn.ConnectionState()
					if st.DidResume {
						resumed.Add(1)
					}
					if st.Version == tls.VersionTLS13 {
						tls13.Add(1)
					}
				}
				if conn != nil {
					conn.Close()
				}
			}
		}()
	}
	time.Sleep(time.Duration(*warm * float64(time.Second)))
	cpu0, t0, ticks0 := cpuSecs(), time.Now(), procTicks(pids)
	measuring.Store(true)
	time.Sleep(time.Duration(*secs * float64(time.Second)))
	measuring.Store(false)
	el, cpu, ticks1 := time.Since(t0).Seconds(), cpuSecs()-cpu0, procTicks(pids)
	stop.Store(true)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
	}
	n := hs.Load()
	out := map[string]any{
		"handshakes": n, "resumed": resumed.Load(), "tls13": tls13.Load(), "errors": errs.Load(),
		"secs": el, "per_sec": float64(n) / el, "client_cpu_secs": cpu,
	}
	if len(pids) > 0 && ticks0 >= 0 && ticks1 >= 0 {
		out["server_ticks"] = ticks1 - ticks0
	}
	if e := firstErr.Load(); e != nil {
		out["first_error"] = e
	}
	b, _ := json.Marshal(out)
	fmt.Println(string(b))
}

func runIdle(args []string) {
	fs := flag.NewFlagSet("idle", flag.ExitOnError)
	hold := fs.Float64("hold", 600, "seconds to hold the connections")
	tls12 := fs.Bool("tls12", false, "TLS 1.2 at most")
	par := fs.Int("p", 8, "connections opened in parallel")
	fs.Parse(args)
	if fs.NArg() != 2 {
		fmt.Fprintln(os.Stderr, "usage: tlsload idle [-hold SECS] [-p N] [-tls12] ADDR N")
		os.Exit(2)
	}
	addr := fs.Arg(0)
	n, err := strconv.Atoi(fs.Arg(1))
	if err != nil {
		fmt.Fprintln(os.Stderr, "tlsload: bad N:", err)
		os.Exit(2)
	}
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) == nil {
		lim.Cur = lim.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	cfg := config(*tls12, false)
	held := make([]*tls.Conn, 0, n)
	failed := 0
	var mu sync.Mutex
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < *par; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1) - 1; i < int64(n); i = next.Add(1) - 1 {
				conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, cfg)
				if err == nil {
					conn.SetDeadline(time.Now().Add(10 * time.Second))
					// A one-request reader: nothing more arrives on a keep-alive connection.
					err = get(conn, bufio.NewReaderSize(conn, 512), false)
					conn.SetDeadline(time.Time{})
				}
				mu.Lock()
				if err != nil {
					failed++
					if failed <= 5 {
						fmt.Fprintf(os.Stderr, "tlsload: connection %d failed: %v\n", i, err)
					}
					if conn != nil {
						conn.Close()
					}
				} else {
					held = append(held, conn)
				}
				if done := len(held) + failed; done%1000 == 0 {
					fmt.Fprintf(os.Stderr, "tlsload: %d / %d answered (%d failed)\n", len(held), n, failed)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	fmt.Printf("READY %d %d\n", len(held), failed)
	select {
	case <-sig:
	case <-time.After(time.Duration(*hold * float64(time.Second))):
	}
	for _, c := range held {
		c.Close()
	}
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: tlsload close|idle ...")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "close":
		runClose(os.Args[2:])
	case "idle":
		runIdle(os.Args[2:])
	default:
		fmt.Fprintln(os.Stderr, "tlsload: unknown mode", os.Args[1])
		os.Exit(2)
	}
}
