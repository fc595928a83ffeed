//! The PROXY protocol (v1 and v2) and trusted forwarding headers, as raw bytes over real
//! sockets: what the handler sees (`remote_addr`, `peer_addr`, `proxy()`, `client_ip`), and
//! that every way a connection can break the protocol closes it without an answer.
//! Real HAProxy and nginx in front are in tests/proxy_peers.rs.

mod common;

use common::{start, Client};
use shockwave::{Builder, Network, Request, Response, Server, ServerHandle};
use std::net::Ipv6Addr;
use std::time::Duration;

const V2_SIG: &[u8] = b"\r\n\r\n\x00\r\nQUIT\n";
const GET: &[u8] = b"GET / HTTP/1.1\r\nHost: t\r\n\r\n";

/// What the handler saw: `remote peer_ip proxy-summary`.
fn who(req: &Request, resp: &mut Response) {
    let p = req.proxy().map_or("none".to_string(), |p| {
        let s = |v: Option<&[u8]>| v.map_or("-".into(), |v| String::from_utf8_lossy(v).into_owned());
        format!(
            "v{} alpn={} authority={} id={} crc={} tlvs={}",
            p.version(),
            s(p.alpn()),
            p.authority().unwrap_or("-"),
            s(p.unique_id()),
            p.tlv(0x03).map_or(0, |v| v.len()),
            p.tlvs().count()
        )
    });
    resp.write_body(format!("{} {} {} {p}", req.remote_addr(), req.peer_addr().ip(), req.client_ip()));
}

fn proxy_server() -> ServerHandle {
    start(Server::builder().pollers(1).workers(2).proxy_protocol(true), who)
}

/// A v2 header: command (0 LOCAL, 1 PROXY), family/protocol byte, address + TLV bytes.
fn v2(cmd: u8, fam: u8, body: &[u8]) -> Vec<u8> {
    let mut h = V2_SIG.to_vec();
    h.extend_from_slice(&[0x20 | cmd, fam]);
    h.extend_from_slice(&(body.len() as u16).to_be_bytes());
    h.extend_from_slice(body);
    h
}

fn v4_addrs() -> Vec<u8> {
    vec![203, 0, 113, 7, 192, 0, 2, 1, 0xa0, 0x28, 0x01, 0xbb] // 203.0.113.7:41000 -> 192.0.2.1:443
}

fn v6_addrs() -> Vec<u8> {
    let mut a = "2001:db8::7".parse::<Ipv6Addr>().unwrap().octets().to_vec();
    a.extend_from_slice(&"2001:db8::1".parse::<Ipv6Addr>().unwrap().octets());
    a.extend_from_slice(&[0xa0, 0x28, 0x01, 0xbb]);
    a
}

fn tlv(kind: u8, value: &[u8]) -> Vec<u8> {
    let mut t = vec![kind];
    t.extend_from_slice(&(value.len() as u16).to_be_bytes());
    t.extend_from_slice(value);
    t
}

/// Sends `raw` in one write and reads one answer.
fn answer(h: &ServerHandle, raw: &[u8]) -> String {
    let mut c = Client::connect(h.local_addr());
    c.send(raw);
    let r = c.read_response();
    assert_eq!(r.status, 200, "{}", r.text());
    r.text()
}

/// The server closes the connection without sending a byte, and counts it as rejected.
fn refused(c: &mut Client, what: &str) {
    assert!(c.closed_within(Duration::from_secs(10)), "{what}: not closed");
    assert!(c.pending().is_empty(), "{what}: answered {:?}", String::from_utf8_lossy(c.pending()));
}

fn refuses(h: &ServerHandle, raw: &[u8], what: &str) {
    let before = h.stats().rejected_invalid;
    let mut c = Client::connect(h.local_addr());
    let _ = c.try_send(raw);
    refused(&mut c, what);
    common::wait_until(|| h.stats().rejected_invalid > before);
}

#[test]
fn every_header_form_gives_the_handler_the_right_addresses() {
    let h = proxy_server();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "v1 TCP4",
            b"PROXY TCP4 203.0.113.7 192.0.2.1 41000 443\r\n".to_vec(),
            "203.0.113.7:41000 127.0.0.1 203.0.113.7 v1",
        ),
        (
            "v1 TCP6",
            b"PROXY TCP6 2001:db8::7 2001:db8::1 41000 443\r\n".to_vec(),
            "[2001:db8::7]:41000 127.0.0.1 2001:db8::7 v1",
        ),
        ("v1 UNKNOWN", b"PROXY UNKNOWN\r\n".to_vec(), "127.0.0.1"),
        ("v2 PROXY IPv4", v2(1, 0x11, &v4_addrs()), "203.0.113.7:41000 127.0.0.1 203.0.113.7 v2"),
        ("v2 PROXY IPv6", v2(1, 0x21, &v6_addrs()), "[2001:db8::7]:41000 127.0.0.1 2001:db8::7 v2"),
        ("v2 LOCAL", v2(0, 0x00, b""), "127.0.0.1"),
        ("v2 LOCAL with addresses", v2(0, 0x11, &v4_addrs()), "127.0.0.1"),
    ];
    for (what, header, want) in cases {
        let raw = [header, GET.to_vec()].concat();
        let got = answer(&h, &raw);
        assert!(got.starts_with(want), "{what}: {got}");
        if want == "127.0.0.1" {
            // the socket's peer stands for the client: remote and peer are the same
            let mut w = got.split(' ');
            let (remote, peer) = (w.next().unwrap(), w.next().unwrap());
            assert_eq!(remote.rsplit_once(':').unwrap().0, peer, "{what}: {got}");
        }
    }
    h.shutdown();
}

#[test]
fn v2_tlvs_are_readable_and_unknown_ones_ignored() {
    let h = proxy_server();
    let mut body = v4_addrs();
    body.extend(tlv(0x03, &[0xde, 0xad, 0xbe, 0xef])); // CRC32C: kept, not checked
    body.extend(tlv(0x01, b"h2"));
    body.extend(tlv(0x02, b"api.example.com"));
    body.extend(tlv(0x04, &[0; 7])); // NOOP
    body.extend(tlv(0x05, b"conn-42"));
    body.extend(tlv(0xEE, b"custom"));
    let got = answer(&h, &[v2(1, 0x11, &body), GET.to_vec()].concat());
    assert_eq!(got.split_once(" v2 ").unwrap().1, "alpn=h2 authority=api.example.com id=conn-42 crc=4 tlvs=6", "{got}");
    h.shutdown();
}

#[test]
fn a_header_written_one_byte_at_a_time_is_read() {
    let h = proxy_server();
    for header in [b"PROXY TCP4 203.0.113.7 192.0.2.1 41000 443\r\n".to_vec(), v2(1, 0x21, &v6_addrs())] {
        let mut c = Client::connect(h.local_addr());
        for b in header.iter().chain(GET) {
            c.send(std::slice::from_ref(b));
        }
        let r = c.read_response();
        assert!(r.text().contains(":41000 127.0.0.1 "), "{}", r.text());
    }
    h.shutdown();
}

#[test]
fn pipelined_requests_after_the_header_in_one_write_are_all_answered() {
    let h = proxy_server();
    let mut c = Client::connect(h.local_addr());
    let mut raw = b"PROXY TCP4 203.0.113.7 192.0.2.1 41000 443\r\n".to_vec();
    for i in 0..5 {
        raw.extend_from_slice(format!("GET /{i} HTTP/1.1\r\nHost: t\r\n\r\n").as_bytes());
    }
    c.send(&raw);
    for _ in 0..5 {
        assert!(c.read_response().text().starts_with("203.0.113.7:41000 "));
    }
    h.shutdown();
}

#[test]
fn keep_alive_keeps_the_proxy_address_for_every_request() {
    let h = proxy_server();
    let mut c = Client::connect(h.local_addr());
    c.send(&v2(1, 0x11, &v4_addrs()));
    for _ in 0..5 {
        c.send(GET);
        assert!(c.read_response().text().starts_with("203.0.113.7:41000 127.0.0.1 203.0.113.7 v2"));
    }
    h.shutdown();
}

#[test]
fn broken_headers_close_the_connection_without_an_answer() {
    let h = proxy_server();
    let mut long_v1 = b"PROXY UNKNOWN ".to_vec();
    long_v1.resize(200, b'x'); // no CRLF within 107 bytes
    let mut huge_v2 = V2_SIG.to_vec();
    huge_v2.extend_from_slice(&[0x21, 0x11, 0xff, 0xff]); // 65535 bytes announced
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("plain HTTP", GET.to_vec()),
        ("v1 over 107 bytes", [long_v1, b"\r\n".to_vec(), GET.to_vec()].concat()),
        ("v2 over the limit", [huge_v2, vec![0; 5000]].concat()),
        ("wrong v2 signature", [b"\r\n\r\n\x00\r\nQUIX\n\x21\x11\x00\x0c".to_vec(), v4_addrs(), GET.to_vec()].concat()),
        ("wrong v1 prefix", b"PROXX TCP4 1.2.3.4 5.6.7.8 1 2\r\n".to_vec()),
        ("v1 bad address", b"PROXY TCP4 1.2.3 5.6.7.8 1 2\r\nGET / HTTP/1.1\r\n\r\n".to_vec()),
        ("v2 bad command", [v2(2, 0x11, &v4_addrs()), GET.to_vec()].concat()),
        ("v2 truncated TLV", [v2(1, 0x11, &[v4_addrs(), vec![1, 0, 9, b'h']].concat()), GET.to_vec()].concat()),
    ];
    for (what, raw) in cases {
        refuses(&h, &raw, what);
    }
    h.shutdown();
}

#[test]
fn a_header_cut_short_by_the_peer_closing_is_refused() {
    let h = proxy_server();
    for part in [&b"PROXY TCP4 203.0.113.7 19"[..], &v2(1, 0x11, &v4_addrs())[..20]] {
        let before = h.stats().rejected_invalid;
        let mut c = Client::connect(h.local_addr());
        c.send(part);
        c.stream.shutdown(std::net::Shutdown::Write).unwrap();
        refused(&mut c, "truncated");
        common::wait_until(|| h.stats().rejected_invalid > before);
    }
    h.shutdown();
}

#[test]
fn a_proxy_header_on_a_plain_listener_is_a_bad_request() {
    let h = start(Server::builder().pollers(1).workers(2), who);
    for header in [b"PROXY TCP4 203.0.113.7 192.0.2.1 41000 443\r\n".to_vec(), v2(1, 0x11, &v4_addrs())] {
        let mut c = Client::connect(h.local_addr());
        c.send(&[header, GET.to_vec()].concat());
        assert_eq!(c.read_response().status, 400);
    }
    h.shutdown();
}

fn nets(list: &[&str]) -> Vec<Network> {
    list.iter().map(|n| n.parse().unwrap()).collect()
}

#[test]
fn proxy_protocol_from_refuses_other_peers_header_or_not() {
    let from = |list: &[&str]| start(Builder::default().pollers(1).workers(2).proxy_protocol_from(nets(list)), who);
    let h = from(&["10.0.0.0/8", "::1"]);
    refuses(&h, &[b"PROXY TCP4 203.0.113.7 192.0.2.1 41000 443\r\n".to_vec(), GET.to_vec()].concat(), "with a header");
    refuses(&h, GET, "plain HTTP");
    h.shutdown();
    let h = from(&["127.0.0.0/8"]);
    let got = answer(&h, &[b"PROXY TCP4 203.0.113.7 192.0.2.1 41000 443\r\n".to_vec(), GET.to_vec()].concat());
    assert!(got.starts_with("203.0.113.7:41000 127.0.0.1 "), "{got}");
    h.shutdown();
}

#[test]
fn forwarding_headers_are_believed_only_from_trusted_peers() {
    let req = b"GET / HTTP/1.1\r\nHost: t\r\nX-Forwarded-For: 1.1.1.1, 198.51.100.4\r\n\r\n";
    let trusting = start(Server::builder().pollers(1).workers(2).trust_forwarded_from(nets(&["127.0.0.1"])), who);
    assert!(answer(&trusting, req).contains(" 127.0.0.1 198.51.100.4 "), "the rightmost untrusted hop");
    trusting.shutdown();
    let other = start(Server::builder().pollers(1).workers(2).trust_forwarded_from(nets(&["10.0.0.0/8"])), who);
    assert!(answer(&other, req).contains(" 127.0.0.1 127.0.0.1 "), "the peer, not the header");
    other.shutdown();
    let default = start(Server::builder().pollers(1).workers(2), who);
    assert!(answer(&default, req).contains(" 127.0.0.1 127.0.0.1 "), "never by default");
    default.shutdown();
}

#[test]
fn behind_proxy_protocol_the_header_source_is_the_peer_that_must_be_trusted() {
    let b = Server::builder().pollers(1).workers(2).proxy_protocol(true).trust_forwarded_from(nets(&["10.0.0.0/8"]));
    let h = start(b, who);
    let fwd = b"GET / HTTP/1.1\r\nHost: t\r\nForwarded: for=198.51.100.4;proto=https\r\n\r\n";
    let trusted = answer(&h, &[b"PROXY TCP4 10.1.1.1 10.0.0.1 41000 443\r\n".to_vec(), fwd.to_vec()].concat());
    assert!(trusted.starts_with("10.1.1.1:41000 127.0.0.1 198.51.100.4 "), "{trusted}");
    let untrusted = answer(&h, &[b"PROXY TCP4 203.0.113.7 10.0.0.1 41000 443\r\n".to_vec(), fwd.to_vec()].concat());
    assert!(untrusted.starts_with("203.0.113.7:41000 127.0.0.1 203.0.113.7 "), "{untrusted}");
    h.shutdown();
}

/// `SHOCKWAVE_PROXY_PROTOCOL=1` makes examples/echo and examples/hello require the header,
/// and echo's `"remote"` is the client the header names.
#[test]
fn the_examples_take_proxy_protocol_from_the_environment() {
    use std::io::BufRead;
    for (name, want) in [("echo", "\"remote\": \"203.0.113.7:41000\"}"), ("hello", "Hello, World!")] {
        let mut child = common::KillOnDrop(
            std::process::Command::new(common::example(name))
                .arg("127.0.0.1:0")
                .env("SHOCKWAVE_PROXY_PROTOCOL", "1")
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap(),
        );
        let mut line = String::new();
        std::io::BufReader::new(child.0.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let addr: std::net::SocketAddr =
            line.split("http://").nth(1).and_then(|r| r.split('/').next()).unwrap().parse().unwrap();
        let mut c = Client::connect(addr);
        c.send(&[b"PROXY TCP4 203.0.113.7 192.0.2.1 41000 443\r\n".to_vec(), GET.to_vec()].concat());
        let text = c.read_response().text();
        assert!(text.trim_end().ends_with(want), "{name}: {text}");
        let mut plain = Client::connect(addr);
        let _ = plain.try_send(GET);
        refused(&mut plain, name);
    }
}

#[test]
fn a_header_that_never_ends_times_out_without_an_http_answer() {
    let h = start(
        Server::builder().pollers(1).workers(2).proxy_protocol(true).read_header_timeout(Duration::from_millis(200)),
        who,
    );
    for part in [&b"PROXY TCP4 203.0.113.7"[..], &V2_SIG[..5], &b""[..]] {
        let before = h.stats().timeouts;
        let mut c = Client::connect(h.local_addr());
        c.send(part);
        refused(&mut c, "a header that never ends");
        common::wait_until(|| h.stats().timeouts > before);
    }
    h.shutdown();
}
