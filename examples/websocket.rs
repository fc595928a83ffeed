//! A WebSocket echo server: every path accepts a WebSocket handshake (RFC 6455) and sends
//! each text and binary message back; a plain HTTP request gets `426 Upgrade Required`.
//! Address: first argument, else `ADDR`, else 127.0.0.1:8080. With `SHOCKWAVE_TLS_CERT` and
//! `SHOCKWAVE_TLS_KEY` (PEM files; built with `--features tls`) it serves `wss://`.
//!
//! Shockwave does the handshake (`shockwave::websocket::upgrade`) and hands over the socket,
//! bytes already read included; the tungstenite crate runs the protocol on it, one thread per
//! connection. Try it with `python3 -m websockets ws://127.0.0.1:8080/` or a browser's
//! `new WebSocket("ws://127.0.0.1:8080/")`.

use shockwave::upgrade::Upgraded;
use shockwave::{Request, Response, Server};
use std::time::Duration;
use tungstenite::protocol::{Role, WebSocket};
use tungstenite::{Error, Message};

#[path = "support/https.rs"]
mod https;

/// A connection that sends nothing, not even a ping, for this long is closed.
const IDLE: Duration = Duration::from_secs(300);

fn main() -> std::io::Result<()> {
    let addr =
        std::env::args().nth(1).or_else(|| std::env::var("ADDR").ok()).unwrap_or_else(|| "127.0.0.1:8080".into());
    let (server, scheme) = https::bind(Server::builder(), &addr)?;
    let ws = if scheme == "https" { "wss" } else { "ws" };
    println!("websocket echo server on {scheme}://{}/ ({ws}://)", server.local_addr());
    server.start(handler)?.join();
    Ok(())
}

/// Accepts the handshake on any path; a bad one has its 400/426 answer set by `upgrade`.
pub fn handler(req: &Request, resp: &mut Response) {
    if let Err(e) = shockwave::websocket::upgrade(req, resp, echo) {
        log::debug!("refused a WebSocket handshake: {e}");
    }
}

/// Runs on the connection's own thread: echoes text and binary messages until the client
/// closes (tungstenite answers pings and the close handshake itself).
pub fn echo(stream: Upgraded) {
    if stream.set_read_timeout(Some(IDLE)).is_err() {
        return;
    }
    let mut ws = WebSocket::from_raw_socket(stream, Role::Server, None);
    loop {
        match ws.read() {
            Ok(msg @ (Message::Text(_) | Message::Binary(_))) => {
                if ws.send(msg).is_err() {
                    return;
                }
            }
            Ok(_) => {} // ping, pong, close: tungstenite has queued the answer; the next read sends it
            Err(Error::ConnectionClosed | Error::AlreadyClosed) => return,
            Err(e) => {
                log::debug!("websocket connection ended: {e}");
                return;
            }
        }
    }
}
