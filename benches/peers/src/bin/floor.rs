//! The "floor server": the kernel-path limit (epoll + read + write), no HTTP.
//!
//! One thread, one mio poll loop. For every readable connection it drains the
//! socket (a short read means drained), counts `\r\n\r\n` terminators
//! (carrying the last 3 bytes so a terminator split across reads is still
//! seen) and answers each one with the
//! same canned response, all responses of one drain coalesced into one write.
//! The only "parsing" is a substring check: if a read contains
//! `Connection: close`, the canned answers say `Connection: close` and the
//! connection is closed once they are written (so wrk's close scenario really
//! reconnects, as it does against every other server).

use std::io::{ErrorKind, Read, Write};

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};

const KEEP: &[u8] = b"HTTP/1.1 200 OK\r\nServer: F\r\nContent-Type: text/plain\r\nContent-Length: 13\r\nDate: Thu, 01 Jan 2026 00:00:00 GMT\r\n\r\nHello, World!";
const CLOSE: &[u8] = b"HTTP/1.1 200 OK\r\nServer: F\r\nContent-Type: text/plain\r\nContent-Length: 13\r\nDate: Thu, 01 Jan 2026 00:00:00 GMT\r\nConnection: close\r\n\r\nHello, World!";
const LISTENER: Token = Token(usize::MAX);

struct Conn { sock: TcpStream, tail: [u8; 3], tail_len: usize, out: Vec<u8>, close: bool, answered: bool, want_write: bool }

fn main() {
    let addr = shockwave_peers::addr();
    let mut poll = Poll::new().expect("poll");
    let mut listener = TcpListener::bind(addr).expect("bind");
    poll.registry().register(&mut listener, LISTENER, Interest::READABLE).expect("register");
    eprintln!("floor listening on {addr}");
    let (mut conns, mut free): (Vec<Option<Conn>>, Vec<usize>) = (Vec::new(), Vec::new());
    let mut events = Events::with_capacity(1024);
    let mut buf = vec![0u8; 3 + 64 * 1024]; // 3 bytes of room for the carried tail
    loop {
        if let Err(e) = poll.poll(&mut events, None) {
            if e.kind() == ErrorKind::Interrupted { continue; }
            panic!("poll: {e}");
        }
        for ev in events.iter() {
            if ev.token() == LISTENER {
                while let Ok((mut sock, _)) = listener.accept() {
                    let _ = sock.set_nodelay(true);
                    let id = free.pop().unwrap_or_else(|| { conns.push(None); conns.len() - 1 });
                    if poll.registry().register(&mut sock, Token(id), Interest::READABLE).is_ok() {
                        conns[id] = Some(Conn { sock, tail: [0; 3], tail_len: 0, out: Vec::new(), close: false, answered: false, want_write: false });
                    } else { free.push(id); }
                }
                continue;
            }
            let id = ev.token().0;
            let Some(c) = conns.get_mut(id).and_then(Option::as_mut) else { continue };
            let mut dead = false;
            let mut n_resp = 0usize;
            if ev.is_readable() || ev.is_read_closed() {
                loop {
                    match c.sock.read(&mut buf[3..]) {
                        Ok(0) => { dead = true; break; }
                        Ok(n) => {
                            let short = n < buf.len() - 3; // drained: edge-triggered epoll reports any later data
                            let start = 3 - c.tail_len; // place the carried tail right before the new bytes
                            buf[start..3].copy_from_slice(&c.tail[..c.tail_len]);
                            let data = &buf[start..3 + n];
                            n_resp += data.windows(4).filter(|w| *w == b"\r\n\r\n").count();
                            c.close |= buf[3..3 + n].windows(17).any(|w| w == b"Connection: close");
                            c.tail_len = data.len().min(3);
                            c.tail[..c.tail_len].copy_from_slice(&data[data.len() - c.tail_len..]);
                            if short { break; }
                        }
                        Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                        Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                        Err(_) => { dead = true; break; }
                    }
                }
            }
            let canned = if c.close { CLOSE } else { KEEP };
            for _ in 0..n_resp { c.out.extend_from_slice(canned); }
            c.answered |= n_resp > 0;
            while !c.out.is_empty() && !dead { // one write for everything this event produced
                match c.sock.write(&c.out) {
                    Ok(n) => { c.out.drain(..n); }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                    Err(_) => dead = true,
                }
            }
            // Ask for WRITABLE only while output is pending (no wakeup per ACK otherwise).
            if !dead && c.want_write != !c.out.is_empty() {
                c.want_write = !c.out.is_empty();
                let i = if c.want_write { Interest::READABLE | Interest::WRITABLE } else { Interest::READABLE };
                dead = poll.registry().reregister(&mut c.sock, Token(id), i).is_err();
            }
            if dead || (c.close && c.answered && c.out.is_empty()) {
                let mut c = conns[id].take().unwrap();
                let _ = poll.registry().deregister(&mut c.sock);
                free.push(id);
            }
        }
    }
}
