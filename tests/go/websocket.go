// Go's golang.org/x/net/websocket client against examples/websocket.rs (tests/websocket.rs
// runs this with `go run`, GO111MODULE=off). Usage: websocket WS_URL. Prints "ok", or exits
// non-zero with a message on the first wrong answer.
package main

import (
	"bytes"
	"fmt"
	"os"
	"time"

	"golang.org/x/net/websocket"
)

func fail(format string, a ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", a...)
	os.Exit(1)
}

func main() {
	url := os.Args[1]
	ws, err := websocket.Dial(url, "", "http://localhost/")
	if err != nil {
		fail("dial %s: %v", url, err)
	}
	defer ws.Close()
	ws.SetDeadline(time.Now().Add(10 * time.Second))
	if err := websocket.Message.Send(ws, "hello from go"); err != nil {
		fail("send text: %v", err)
	}
	var text string
	if err := websocket.Message.Receive(ws, &text); err != nil || text != "hello from go" {
		fail("text echo: %q, %v", text, err)
	}
	data := bytes.Repeat([]byte{0, 1, 2, 250, 255}, 20000)
	if err := websocket.Message.Send(ws, data); err != nil {
		fail("send binary: %v", err)
	}
	var got []byte
	if err := websocket.Message.Receive(ws, &got); err != nil || !bytes.Equal(got, data) {
		fail("binary echo: %d bytes, %v", len(got), err)
	}
	fmt.Println("ok")
}
